"""SLA targets counted in working days, beside those in business time (a timedelta).

"Resolve within 3 business days" and "by the end of the next working day"
are due at an instant that depends on when the clock starts, not on a fixed
amount of business time: three working days from Friday 14:00 end on
Wednesday at 14:00, and a half day or a holiday in between moves them.  GLPI
(``Calendar::computeEndDate`` with ``$work_in_days`` and
``$end_of_working_day``) and Zendesk's ``biz`` library (``Biz.time(3,
:days)``) define them this way; ticketflow follows them:

* :class:`BusinessDays` ``(n)`` is due at the same local time of day ``n``
  working days after the clock starts (``Calendar.business_days_after``);
* :class:`EndOfWorkingDay` ``(n)`` is due when the working day under way
  ends, or the ``n``-th working day after it (``Calendar.end_of_working_day``).

A clock then counts business time as it does for any target: a day target
gives it a *budget*, the business time from the clock's start to that due
instant (:func:`budget`), fixed when the clock starts.  Elapsed, remaining,
breached, the SLA conditions, the metrics and the stored schedule all work
on that budget exactly as on a timedelta, and time a clock stands paused
moves its due instant on by as much, as GLPI adds waiting time to a target.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import attrs

from ticketflow._errors import InvalidInput
from ticketflow.sla._calendar import Calendar

_CENTURY_DAYS = 36525


def _count(least: int) -> Callable[[object, attrs.Attribute[int], object], None]:
    """An attrs validator: a whole number of working days from ``least`` to a century's."""

    def check(target: object, _attribute: attrs.Attribute[int], value: object) -> None:
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not least <= value <= _CENTURY_DAYS
        ):
            raise InvalidInput(
                f"{type(target).__name__}.days",
                value,
                f"a whole number of working days, {least} to {_CENTURY_DAYS}",
            )

    return check


class _DayTarget:
    """What the day targets share: a budget up to their due instant."""

    def due(self, calendar: Calendar, start: datetime) -> datetime:
        """When a clock started at ``start`` falls due on ``calendar``."""
        raise NotImplementedError

    def budget(self, calendar: Calendar, start: datetime) -> timedelta:
        """The business time a clock started at ``start`` may count: up to :meth:`due`."""
        return calendar.elapsed(start, self.due(calendar, start))


@attrs.frozen
class BusinessDays(_DayTarget):
    """A target of ``days`` working days: due at the same local time, ``days`` working days on.

    >>> from datetime import UTC, datetime
    >>> office = Calendar.business("Europe/Riga", weekdays=("09:00", "18:00"))
    >>> friday = datetime(2026, 3, 13, 12, 0, tzinfo=UTC)       # 14:00 in Riga
    >>> BusinessDays(3).due(office, friday).isoformat()          # Wednesday 14:00
    '2026-03-18T12:00:00+00:00'
    >>> BusinessDays(3).budget(office, friday)                   # three days of 9 hours
    datetime.timedelta(days=1, seconds=10800)

    Raises:
        InvalidInput: ``days`` is not a whole number from 1 to 36525.
    """

    days: int = attrs.field(validator=_count(1))

    def due(self, calendar: Calendar, start: datetime) -> datetime:
        """When a clock started at ``start`` falls due (``Calendar.business_days_after``)."""
        return calendar.business_days_after(start, self.days)


@attrs.frozen
class EndOfWorkingDay(_DayTarget):
    """A target at the end of a working day: the one under way (0), or the ``days``-th after it.

    "By the end of the next working day" is ``EndOfWorkingDay(1)``.

    >>> from datetime import UTC, datetime
    >>> office = Calendar.business("Europe/Riga", weekdays=("09:00", "18:00"))
    >>> friday = datetime(2026, 3, 13, 12, 0, tzinfo=UTC)       # 14:00 in Riga
    >>> EndOfWorkingDay(1).due(office, friday).isoformat()       # Monday 18:00
    '2026-03-16T16:00:00+00:00'
    >>> EndOfWorkingDay().budget(office, friday)                 # Friday 14:00 to 18:00
    datetime.timedelta(seconds=14400)

    Raises:
        InvalidInput: ``days`` is not a whole number from 0 to 36525.
    """

    days: int = attrs.field(default=0, validator=_count(0))

    def due(self, calendar: Calendar, start: datetime) -> datetime:
        """When a clock started at ``start`` falls due (``Calendar.end_of_working_day``)."""
        return calendar.end_of_working_day(start, self.days)


TargetTime = timedelta | BusinessDays | EndOfWorkingDay
"""What an SLA target may be: business time, or working days."""


def budget(target: TargetTime, calendar: Calendar, start: datetime) -> timedelta:
    """The business time a clock of ``target`` started at ``start`` may count on ``calendar``.

    A timedelta is its own budget; a day target's is the business time from
    ``start`` to its due instant.

    Raises:
        InvalidInput: ``start`` is not an aware datetime the calendar can
            place, or the target falls due after the last instant it can.
    """
    if isinstance(target, timedelta):
        return target
    return target.budget(calendar, start)
