"""The stored schedule: when a ticket next needs the rules, and which rule set said so."""

from __future__ import annotations

from datetime import UTC, datetime

import attrs

from ticketflow._errors import InvalidInput
from ticketflow._validate import to_utc


def _instant(value: object) -> datetime | None:
    return None if value is None else to_utc(value, "Schedule.next_due_at")


def _fingerprint(value: object) -> str | None:
    if value is not None and (not isinstance(value, str) or not value.isascii() or not value):
        raise InvalidInput(
            "Schedule.rules", value, "None or a rule set's fingerprint (ASCII text)"
        )
    return value


@attrs.frozen
class Schedule:
    """What a store keeps beside each ticket so that a sweep reads only the due ones.

    A desk computes it on every commit from its rules (``Helpdesk`` does; a
    store only keeps it and answers :meth:`Store.due` from an index).

    Attributes:
        next_due_at: the earliest instant at which one of the rules would act
            on the ticket if nothing else happened, or None (none would).
        rules: the fingerprint of the rule set that computed it (see
            ``Helpdesk.rules_fingerprint``); None: never computed, as for a
            ticket stored before schedules existed.

    >>> from datetime import UTC, datetime
    >>> Schedule(datetime(2026, 1, 5, 9, tzinfo=UTC), "r1-0a1b").rules
    'r1-0a1b'
    """

    next_due_at: datetime | None = attrs.field(default=None, converter=_instant)
    rules: str | None = attrs.field(default=None, converter=_fingerprint)


UNSCHEDULED = Schedule()
"""The schedule of a ticket no rule set has looked at."""


def check_schedule(schedule: object) -> Schedule:
    """Refuse anything but a :class:`Schedule` before it reaches a store."""
    if not isinstance(schedule, Schedule):
        raise InvalidInput(
            "schedule", schedule, "a Schedule, such as Schedule(next_due_at, rules)"
        )
    return schedule


def check_page(
    now: object, limit: object, after: object, *, rules: object = None
) -> tuple[datetime, tuple[datetime, str] | None]:
    """Check the arguments of ``Store.due``/``stale``; return ``now`` and ``after`` normalised.

    ``now`` None is accepted (and returned as the earliest instant) for the
    questions that take no instant.
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise InvalidInput("limit", limit, "a whole number of at least 1")
    if rules is not None and (not isinstance(rules, str) or not rules):
        raise InvalidInput("rules", rules, "a rule set's fingerprint (text)")
    instant = datetime.min.replace(tzinfo=UTC) if now is None else to_utc(now, "now")
    if after is None:
        return instant, None
    if not isinstance(after, tuple) or len(after) != 2 or not isinstance(after[1], str):
        raise InvalidInput(
            "after", after, "None, or the (instant, id) of the last due ticket read"
        )
    return instant, (to_utc(after[0], "after"), after[1])
