"""SLA policies: which tickets a policy covers and what it promises them."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from types import MappingProxyType

import attrs

from ticketflow._errors import InvalidInput
from ticketflow._validate import text
from ticketflow.rules._conditions import Condition
from ticketflow.rules._context import Context
from ticketflow.sla._calendar import Calendar
from ticketflow.sla._targets import BusinessDays, EndOfWorkingDay, TargetTime, budget


class Target(enum.Enum):
    """What an SLA promises."""

    # Members are singletons: hash them by identity (in C), not by name (in
    # Python); they key the clocks and the metrics of every ticket.
    __hash__ = object.__hash__

    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"
    RESOLUTION = "resolution"
    CLOSE_WITHIN = "close_within"


_CENTURY = timedelta(days=36525)
"""The longest target: 100 years of a calendar's open time.  Longer is a typo
(days for hours) or a sentinel meant as "no target", for which None is the
way; and its due instant could not be represented."""


def _target_time(value: object) -> TargetTime | None:
    if value is None or isinstance(value, BusinessDays | EndOfWorkingDay):
        return value
    if not isinstance(value, timedelta) or not timedelta(0) < value <= _CENTURY:
        raise InvalidInput(
            "SLA target",
            value,
            "a positive timedelta, at most 100 years (36525 days), BusinessDays(n),"
            " EndOfWorkingDay(n), or None for no target",
        )
    return value


def _a_calendar(_policy: object, _attribute: object, calendar: object) -> None:
    if not isinstance(calendar, Calendar):
        raise InvalidInput("SLAPolicy.calendar", calendar, "a Calendar, such as Calendar.always()")


def _calendars(value: object) -> Mapping[Target, Calendar]:
    """The per-target calendars of ``calendars=``: targets (or their names) to calendars."""
    expected = (
        "a mapping of targets (such as Target.FIRST_RESPONSE or 'first_response') to Calendars"
    )
    if not isinstance(value, Mapping):
        raise InvalidInput("SLAPolicy.calendars", value, expected)
    by_target: dict[Target, Calendar] = {}
    for key, calendar in value.items():
        try:
            target = key if isinstance(key, Target) else Target(key)
        except ValueError:
            raise InvalidInput("SLAPolicy.calendars", key, expected) from None
        if not isinstance(calendar, Calendar):
            raise InvalidInput(f"SLAPolicy.calendars[{target.value!r}]", calendar, "a Calendar")
        by_target[target] = calendar
    return MappingProxyType(by_target)


def _within_a_century(policy: SLAPolicy) -> None:
    """Refuse targets their calendar would not reach in 100 years."""
    for target in Target:
        promised = policy.target(target)
        calendar = policy.calendar_for(target)
        if isinstance(promised, BusinessDays | EndOfWorkingDay):
            most = calendar.working_days_per_week * _CENTURY.days // 7
            if promised.days > most:
                raise InvalidInput(
                    f"SLAPolicy.{target.value}",
                    promised,
                    f"at most {most} working days, those calendar {calendar.name!r} has in"
                    f" 100 years ({calendar.working_days_per_week} a week), or None for no"
                    " target",
                )
            continue
        longest = calendar.open_per_week * _CENTURY.days // 7
        if promised is not None and promised > longest:
            raise InvalidInput(
                f"SLAPolicy.{target.value}",
                promised,
                f"at most {longest}, the open time calendar {calendar.name!r} counts in"
                f" 100 years ({calendar.open_per_week} a week), or None for no target",
            )


def _condition(_policy: object, _attribute: object, value: Condition | None) -> None:
    if value is not None and not isinstance(value, Condition):
        raise InvalidInput(
            "SLAPolicy.applies_to", value, "None or a Condition, such as PriorityIs('urgent')"
        )
    if value is not None and value.reads_sla:
        raise InvalidInput(
            "SLAPolicy.applies_to",
            value,
            "a condition that does not look at SLA clocks (they depend on the policy)",
        )


def _terms_of(policy: SLAPolicy) -> Mapping[Target, tuple[TargetTime | None, Calendar]]:
    """Each target's promise and the calendar it counts on."""
    return MappingProxyType(
        {
            target: (getattr(policy, target.value), policy.calendars.get(target, policy.calendar))
            for target in Target
        }
    )


def _policy_name(value: object) -> str:
    return text(value, "SLAPolicy.name")


@attrs.frozen
class SLAPolicy:
    """How fast tickets it covers must be answered and resolved.

    Args:
        name: for reports.
        applies_to: which tickets (a :class:`~ticketflow.rules.Condition`,
            such as ``PriorityIs("urgent") & InDepartment("it")``); None: all.
        first_response, next_response, resolution, close_within: the targets,
            in business time of their calendar (a timedelta), or in working
            days of it (:class:`BusinessDays`, :class:`EndOfWorkingDay`);
            None for no target.
        calendar: when the clocks run (24x7 by default).
        calendars: a calendar for some targets instead of ``calendar``
            (first response 24x7, resolution in office hours), keyed by
            :class:`Target` or its name.

    Raises:
        InvalidInput: a target that is not a positive timedelta or a day
            target, or longer than the open time ``calendar`` counts in 100
            years (100 years when always open: 36525 days), or more working
            days than it has in 100 years, or a ``calendar`` that is not a
            :class:`Calendar`.

    Policies are tried in order and the first that applies covers a ticket
    (:func:`policy_for`).
    """

    name: str = attrs.field(converter=_policy_name)
    applies_to: Condition | None = attrs.field(default=None, validator=_condition)
    first_response: TargetTime | None = attrs.field(default=None, converter=_target_time)
    next_response: TargetTime | None = attrs.field(default=None, converter=_target_time)
    resolution: TargetTime | None = attrs.field(default=None, converter=_target_time)
    close_within: TargetTime | None = attrs.field(default=None, converter=_target_time)
    calendar: Calendar = attrs.field(factory=Calendar.always, validator=_a_calendar)
    calendars: Mapping[Target, Calendar] = attrs.field(
        factory=lambda: MappingProxyType({}), converter=_calendars, hash=False
    )
    _terms: Mapping[Target, tuple[TargetTime | None, Calendar]] = attrs.field(
        init=False,
        eq=False,
        hash=False,
        repr=False,
        default=attrs.Factory(_terms_of, takes_self=True),
    )
    """Each target's promise and calendar, looked up once: the SLA clocks ask at every commit."""

    def __attrs_post_init__(self) -> None:
        _within_a_century(self)

    def _term(self, which: Target) -> tuple[TargetTime | None, Calendar]:
        found = self._terms.get(which)
        if found is None:
            choices = ", ".join(repr(target.value) for target in Target)
            raise InvalidInput("target", which, f"a Target: one of {choices}")
        return found

    # The look-ups below ask the table first and call _term() only for the
    # error: the clocks, verdicts and SLA conditions ask a dozen times a commit.

    def calendar_for(self, which: Target) -> Calendar:
        """The calendar ``which`` counts on: its own in ``calendars``, else ``calendar``."""
        found = self._terms.get(which)
        return (found or self._term(which))[1]

    def target(self, which: Target) -> TargetTime | None:
        """What is promised for ``which``, if anything: business time, or working days."""
        found = self._terms.get(which)
        return (found or self._term(which))[0]

    def measure(self, which: Target, started: datetime) -> tuple[timedelta | None, Calendar]:
        """:meth:`budget` and :meth:`calendar_for` in one look-up: the clocks ask both."""
        promised, calendar = self._terms.get(which) or self._term(which)
        if promised is None or type(promised) is timedelta:
            return promised, calendar
        return budget(promised, calendar, started), calendar

    def budget(self, which: Target, started: datetime) -> timedelta | None:
        """The business time the clock of ``which``, started at ``started``, may count.

        The target itself when it is a timedelta; for a day target, the
        business time from ``started`` to its due instant on the target's
        calendar (:func:`~ticketflow.sla._targets.budget`).  None: no target.

        Raises:
            InvalidInput: ``started`` is not an aware datetime the calendar
                can place, or the target falls due after the last instant it can.
        """
        return self.measure(which, started)[0]

    def covers(self, context: Context) -> bool:
        """Whether the policy applies to the context's ticket."""
        return self.applies_to is None or self.applies_to.holds(context)


def policy_for(policies: Sequence[SLAPolicy], context: Context) -> SLAPolicy | None:
    """The first policy that covers the context's ticket, or None."""
    return next((policy for policy in policies if policy.covers(context)), None)
