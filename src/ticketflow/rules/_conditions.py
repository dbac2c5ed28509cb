"""Automation rules: conditions on tickets, one action each, fired at most once per episode.

A :class:`Rule` pairs a condition with an action.  Conditions are built from
parts and composed with ``&``, ``|`` and ``~``::

    InStatus("resolved") & Since("resolved_at", after=timedelta(days=7))

A rule fires on a ticket when its condition holds at the sweep's "now".  The
*episode* is the instant its time parts count from (the latest of the fields
they name: the customer's last reply, the resolution): a rule acts at most
once per ticket and episode, and the record of it (a ledger entry) is
committed in the same transaction as the action.  Anything that moves the
instant - a customer reply, a new answer - starts a new episode.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

import attrs

from ticketflow._errors import InvalidInput
from ticketflow._status import Category
from ticketflow._ticket import Channel, Priority, Ticket
from ticketflow._validate import enum_value, tag_set, text
from ticketflow.storage._query import ORDER_FIELDS, TicketQuery


class Condition:
    """Something a ticket satisfies at an instant; compose with ``&``, ``|`` and ``~``."""

    def holds(self, ticket: Ticket, now: datetime) -> bool:
        """Whether ``ticket`` satisfies the condition at ``now``."""
        raise NotImplementedError

    def when(self, ticket: Ticket) -> datetime | None:
        """The earliest instant at which it holds if the ticket does not change; None: never.

        Parts that do not depend on time answer ``datetime.min`` (always) or None.
        """
        raise NotImplementedError

    def fields(self) -> tuple[str, ...]:
        """The time fields the condition counts from (they define the episode)."""
        return ()

    def anchor(self, ticket: Ticket, now: datetime) -> datetime | None:
        """An instant, besides the time fields, that starts the episode (an SLA clock's start)."""
        return None

    def narrow(self, query: TicketQuery, now: datetime) -> TicketQuery | None:
        """Return ``query`` narrowed to a superset of the tickets that hold at ``now``.

        None means this part cannot narrow (the sweep then filters in Python).
        """
        return None

    def __and__(self, other: Condition) -> Condition:
        return AllOf((self, other))

    def __or__(self, other: Condition) -> Condition:
        return AnyOf((self, other))

    def __invert__(self) -> Condition:
        return Not(self)


_ALWAYS = datetime.min.replace(tzinfo=UTC)


def _static(holds: bool) -> datetime | None:
    return _ALWAYS if holds else None


def _names(value: str | Iterable[str], field: str) -> frozenset[str]:
    items = (value,) if isinstance(value, str) else tuple(value)
    if not items:
        raise InvalidInput(field, value, "at least one name")
    return frozenset(text(item, field) for item in items)


def _status_names(value: str | Iterable[str]) -> frozenset[str]:
    return _names(value, "InStatus")


def _categories(value: Category | str | Iterable[Category | str]) -> frozenset[Category]:
    items = (value,) if isinstance(value, (str, Category)) else tuple(value)
    return frozenset(enum_value(Category, item, "InCategory") for item in items)


def _priorities(value: Priority | str | Iterable[Priority | str]) -> frozenset[Priority]:
    items = (value,) if isinstance(value, (str, Priority)) else tuple(value)
    return frozenset(enum_value(Priority, item, "PriorityIs") for item in items)


def _department(value: object) -> str:
    return text(value, "InDepartment")


def _tags(value: object) -> frozenset[str]:
    return tag_set({value} if isinstance(value, str) else value, "Tagged")


def _rule_name(value: object) -> str:
    return text(value, "Rule.name")


@attrs.frozen
class InStatus(Condition):
    """The ticket's status is one of ``names``."""

    names: frozenset[str] = attrs.field(converter=_status_names)

    def holds(self, ticket: Ticket, now: datetime) -> bool:
        """Whether the status is one of the names."""
        return ticket.status in self.names

    def when(self, ticket: Ticket) -> datetime | None:
        """Always, or never."""
        return _static(ticket.status in self.names)

    def narrow(self, query: TicketQuery, now: datetime) -> TicketQuery:
        """Ask the store for these statuses only."""
        statuses = self.names if query.statuses is None else query.statuses & self.names
        return attrs.evolve(query, statuses=statuses)


@attrs.frozen
class InCategory(Condition):
    """The ticket's status has one of ``categories``; needs the workflow to know which."""

    categories: frozenset[Category] = attrs.field(converter=_categories)
    statuses: frozenset[str] = frozenset()
    """Filled by :meth:`Rule.bind` from the workflow."""

    def holds(self, ticket: Ticket, now: datetime) -> bool:
        """Whether the status is one of the bound statuses."""
        return ticket.status in self.statuses

    def when(self, ticket: Ticket) -> datetime | None:
        """Always, or never."""
        return _static(ticket.status in self.statuses)

    def narrow(self, query: TicketQuery, now: datetime) -> TicketQuery:
        """Ask the store for the statuses of these categories only."""
        statuses = self.statuses if query.statuses is None else query.statuses & self.statuses
        return attrs.evolve(query, statuses=statuses)


@attrs.frozen
class PriorityIs(Condition):
    """The ticket's priority is one of ``priorities``."""

    priorities: frozenset[Priority] = attrs.field(converter=_priorities)

    def holds(self, ticket: Ticket, now: datetime) -> bool:
        """Whether the priority is one of these."""
        return ticket.priority in self.priorities

    def when(self, ticket: Ticket) -> datetime | None:
        """Always, or never."""
        return _static(ticket.priority in self.priorities)


def _channels(value: Channel | str | Iterable[Channel | str]) -> frozenset[Channel]:
    items = (value,) if isinstance(value, (str, Channel)) else tuple(value)
    return frozenset(enum_value(Channel, item, "ChannelIs") for item in items)


@attrs.frozen
class ChannelIs(Condition):
    """The ticket came in through one of ``channels``."""

    channels: frozenset[Channel] = attrs.field(converter=_channels)

    def holds(self, ticket: Ticket, now: datetime) -> bool:
        """Whether the channel is one of these."""
        return ticket.channel in self.channels

    def when(self, ticket: Ticket) -> datetime | None:
        """Always, or never."""
        return _static(ticket.channel in self.channels)


@attrs.frozen
class InDepartment(Condition):
    """The ticket belongs to ``department``."""

    department: str = attrs.field(converter=_department)

    def holds(self, ticket: Ticket, now: datetime) -> bool:
        """Whether the department matches."""
        return ticket.department == self.department

    def when(self, ticket: Ticket) -> datetime | None:
        """Always, or never."""
        return _static(ticket.department == self.department)

    def narrow(self, query: TicketQuery, now: datetime) -> TicketQuery:
        """Ask the store for this department only."""
        return attrs.evolve(query, department=self.department)


@attrs.frozen
class Tagged(Condition):
    """The ticket has every one of ``tags``."""

    tags: frozenset[str] = attrs.field(converter=_tags)

    def holds(self, ticket: Ticket, now: datetime) -> bool:
        """Whether every tag is present."""
        return self.tags <= ticket.tags

    def when(self, ticket: Ticket) -> datetime | None:
        """Always, or never."""
        return _static(self.tags <= ticket.tags)

    def narrow(self, query: TicketQuery, now: datetime) -> TicketQuery:
        """Ask the store for tickets with these tags."""
        return attrs.evolve(query, tags=query.tags | self.tags)


Durations = timedelta | Mapping[Priority, timedelta]


def _durations(value: object, field: str = "after") -> Mapping[Priority, timedelta]:
    """One duration for every priority, from one duration or a mapping keyed by priority."""
    if isinstance(value, timedelta):
        value = dict.fromkeys(Priority, value)
    expected = "a positive timedelta, or a mapping of each priority ('low' to 'urgent') to one"
    if not isinstance(value, Mapping):
        raise InvalidInput(field, value, expected)
    by_priority = {enum_value(Priority, key, field): duration for key, duration in value.items()}
    if set(by_priority) != set(Priority):
        raise InvalidInput(field, value, expected)
    for duration in by_priority.values():
        if not isinstance(duration, timedelta) or duration <= timedelta(0):
            raise InvalidInput(field, duration, "a positive timedelta")
    return MappingProxyType(by_priority)


def _time_fields(value: Sequence[str]) -> tuple[str, ...]:
    fields = tuple(value)
    if not fields or any(field not in ORDER_FIELDS for field in fields):
        raise InvalidInput("Since", fields, f"time fields among {', '.join(ORDER_FIELDS)}")
    return fields


@attrs.frozen(init=False)
class Since(Condition):
    """The first of ``fields`` is set, and ``after`` has passed since the latest of them.

    ``after`` is one duration, or one per priority (urgent tickets move
    faster).  The first field is the one the store's index is asked about, so
    the sweep reads only the tickets it makes due; the others only push the
    start later (a customer who wrote after the resolution delays the close).
    With ``postponed_until`` alone the duration may be zero:
    ``Since("postponed_until", after=timedelta(0))`` holds once that time comes.

    >>> from datetime import timedelta
    >>> Since("resolved_at", "last_customer_activity_at", after=timedelta(days=7)).fields()
    ('resolved_at', 'last_customer_activity_at')
    """

    time_fields: tuple[str, ...]
    after: Mapping[Priority, timedelta]

    def __init__(self, *fields: str, after: Durations) -> None:
        zero_ok = fields == ("postponed_until",) and after == timedelta(0)
        durations = (
            MappingProxyType(dict.fromkeys(Priority, timedelta(0)))
            if zero_ok
            else _durations(after)
        )
        self.__attrs_init__(_time_fields(fields), durations)

    def start(self, ticket: Ticket) -> datetime | None:
        """The instant counted from: the latest of the fields, if the first is set."""
        values: list[datetime | None] = [getattr(ticket, field) for field in self.time_fields]
        if values[0] is None:
            return None
        return max(value for value in values if value is not None)

    def holds(self, ticket: Ticket, now: datetime) -> bool:
        """Whether long enough has passed."""
        start = self.start(ticket)
        return start is not None and now - start >= self.after[ticket.priority]

    def when(self, ticket: Ticket) -> datetime | None:
        """When long enough will have passed."""
        start = self.start(ticket)
        return None if start is None else start + self.after[ticket.priority]

    def fields(self) -> tuple[str, ...]:
        """The fields counted from."""
        return self.time_fields

    def narrow(self, query: TicketQuery, now: datetime) -> TicketQuery | None:
        """Ask for tickets whose first field is old enough for the shortest duration."""
        if query.due is not None:
            return None  # one time filter per query; the sweep checks the rest
        return attrs.evolve(query, due=(self.time_fields[0], now - min(self.after.values())))


@attrs.frozen
class Predicate(Condition):
    """A host's own test, ``test(ticket, now) -> bool``, named for reports."""

    name: str
    test: Callable[[Ticket, datetime], bool] = attrs.field(eq=False)

    def holds(self, ticket: Ticket, now: datetime) -> bool:
        """Whatever the host's test says."""
        return bool(self.test(ticket, now))

    def when(self, ticket: Ticket) -> datetime | None:
        """Unknown ahead of time: never predicted."""
        return None


@attrs.frozen
class AllOf(Condition):
    """Every part holds."""

    parts: tuple[Condition, ...]

    def holds(self, ticket: Ticket, now: datetime) -> bool:
        """Whether every part holds."""
        return all(part.holds(ticket, now) for part in self.parts)

    def when(self, ticket: Ticket) -> datetime | None:
        """When the last part comes to hold."""
        times = [part.when(ticket) for part in self.parts]
        present = [time for time in times if time is not None]
        return max(present) if len(present) == len(times) else None

    def fields(self) -> tuple[str, ...]:
        """The fields of every part."""
        return tuple(field for part in self.parts for field in part.fields())

    def anchor(self, ticket: Ticket, now: datetime) -> datetime | None:
        """The latest anchor of the parts."""
        return _latest(part.anchor(ticket, now) for part in self.parts)

    def narrow(self, query: TicketQuery, now: datetime) -> TicketQuery | None:
        """Narrow by each part that can."""
        narrowed: TicketQuery | None = None
        for part in self.parts:
            result = part.narrow(narrowed or query, now)
            if result is not None:
                narrowed = result
        return narrowed

    def __and__(self, other: Condition) -> Condition:
        return AllOf((*self.parts, other))


@attrs.frozen
class AnyOf(Condition):
    """At least one part holds."""

    parts: tuple[Condition, ...]

    def holds(self, ticket: Ticket, now: datetime) -> bool:
        """Whether a part holds."""
        return any(part.holds(ticket, now) for part in self.parts)

    def when(self, ticket: Ticket) -> datetime | None:
        """When the first part comes to hold."""
        times = [time for time in (part.when(ticket) for part in self.parts) if time is not None]
        return min(times) if times else None

    def fields(self) -> tuple[str, ...]:
        """The fields of every part."""
        return tuple(field for part in self.parts for field in part.fields())

    def anchor(self, ticket: Ticket, now: datetime) -> datetime | None:
        """The latest anchor of the parts."""
        return _latest(part.anchor(ticket, now) for part in self.parts)


def _latest(values: Iterable[datetime | None]) -> datetime | None:
    present = [value for value in values if value is not None]
    return max(present) if present else None


@attrs.frozen
class Not(Condition):
    """The part does not hold."""

    part: Condition

    def holds(self, ticket: Ticket, now: datetime) -> bool:
        """Whether the part does not hold."""
        return not self.part.holds(ticket, now)

    def when(self, ticket: Ticket) -> datetime | None:
        """For a part that does not depend on time, the opposite; otherwise never predicted."""
        time = self.part.when(ticket)
        if self.part.fields():
            return None
        return _ALWAYS if time is None else None
