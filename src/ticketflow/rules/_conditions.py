"""Conditions: what a ticket satisfies at an instant, composed with ``&``, ``|`` and ``~``.

Conditions are small frozen values built from parts::

    InStatus("resolved") & Since("resolved_at", after=timedelta(days=7))

and evaluated on a :class:`~ticketflow.rules.Context` they are handed (the
ticket, the instant, the workflow, and the history and SLA clocks read when
asked).  Nothing is bound or patched after construction: a condition built
any way, a host's own subclass included, works the same in a ``Rule``, in an
``SLAPolicy``'s ``applies_to`` and in a dry run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

import attrs

from ticketflow._errors import InvalidInput
from ticketflow._status import Category
from ticketflow._ticket import Channel, Priority, Ticket
from ticketflow._validate import enum_set, enum_value, positive_duration, several, tag_set, text
from ticketflow._workflow import Workflow
from ticketflow.rules._context import Context
from ticketflow.storage._query import ORDER_FIELDS, TicketQuery


class Condition:
    """Something a ticket satisfies at an instant; compose with ``&``, ``|`` and ``~``.

    A host's own condition subclasses this and implements :meth:`holds` (and
    :meth:`when`, if it can tell ahead of time):

    >>> from ticketflow import Actor, Contact, Helpdesk
    >>> from ticketflow.rules import Context
    >>> class Unassigned(Condition):
    ...     def holds(self, context: Context) -> bool:
    ...         return context.ticket.assignee is None
    >>> desk = Helpdesk()
    >>> ticket = desk.open(subject="VPN", description="It drops.",
    ...                    requester=Contact(name="Ana", email="ana@example.com"))
    >>> (Unassigned() & InCategory("new")).holds(desk.context(ticket.id))
    True
    >>> ticket = desk.assign(ticket.id, Actor.admin("lead"), to="a-1")
    >>> Unassigned().holds(desk.context(ticket.id))
    False
    """

    def holds(self, context: Context) -> bool:
        """Whether the context's ticket satisfies the condition at the context's ``now``."""
        raise NotImplementedError

    def when(self, context: Context) -> datetime | None:
        """The earliest instant at which it holds if the ticket does not change.

        None means "not predicted" (the default, for conditions that cannot
        tell, such as a host's own): ``Helpdesk.next_due`` then names no time
        for a rule that has such a part.  Parts on the ticket's fields alone
        answer :data:`ALWAYS` or None (never).
        """
        return None

    predicts: bool = False
    """Whether :meth:`when` answers exactly, so None from it means "never".

    A desk stores each ticket's next due instant from the conditions that
    predict, and its sweep reads only the tickets due; a rule whose condition
    does not predict is checked on all its candidates at every sweep, as the
    store query of :meth:`narrow` finds them.  A host's own condition whose
    ``when`` is exact sets ``predicts = True``.
    """

    def instants(self, context: Context) -> tuple[datetime, ...]:
        """The instants at which the condition may start to hold if the ticket does not change.

        :meth:`when` by default; parts whose truth can change several times
        (an SLA clock at risk, then breached) list each change, so a schedule
        finds the first one at which a rule has not yet acted.
        """
        instant = self.when(context)
        return () if instant is None else (instant,)

    def fields(self) -> tuple[str, ...]:
        """The time fields the condition counts from (they define the episode)."""
        return ()

    def anchor(self, context: Context) -> datetime | None:
        """An instant, besides the time fields, that starts the episode (an SLA clock's start)."""
        return None

    def settled(self, context: Context, at: datetime) -> tuple[bool, datetime | None] | None:
        """Whether it holds at ``at``, and its :meth:`anchor` there, told from ``context``.

        For a later instant ``at`` on the same ticket, nothing happening to it
        in between: what :meth:`holds` and :meth:`anchor` would answer on a
        context at ``at``, worked out from the context at hand (a commit's
        schedule then need not measure the SLA clocks again at ``at``).  None
        (the default) when the condition cannot tell without such a context.
        """
        return None

    def narrow(self, query: TicketQuery, now: datetime, workflow: Workflow) -> TicketQuery | None:
        """Return ``query`` narrowed to a superset of the tickets that can hold at ``now``.

        None means this part cannot narrow (the sweep then filters in Python).
        """
        return None

    @property
    def reads_sla(self) -> bool:
        """Whether the condition looks at SLA clocks (an SLA policy's coverage must not)."""
        return False

    def problems(self, workflow: Workflow) -> tuple[str, ...]:
        """What in the condition cannot fit ``workflow`` (a status it does not have), as sentences.

        A desk checks its rules' and SLA policies' conditions when it is built
        and when its workflow changes, so a condition that could never hold
        is refused instead of silently never matching.
        """
        return ()

    def __and__(self, other: Condition) -> Condition:
        return AllOf((self, other))

    def __or__(self, other: Condition) -> Condition:
        return AnyOf((self, other))

    def __invert__(self) -> Condition:
        return Not(self)


ALWAYS = datetime.min.replace(tzinfo=UTC)
"""What :meth:`Condition.when` answers for a part that holds whatever the time."""


class _Static(Condition):
    """A part that looks only at the ticket's fields: it holds always, or never."""

    predicts = True

    def settled(self, context: Context, at: datetime) -> tuple[bool, datetime | None] | None:
        """The same as now: the ticket's fields do not change with time."""
        return self.holds(context), self.anchor(context)

    def when(self, context: Context) -> datetime | None:
        """Always, or never."""
        return ALWAYS if self.holds(context) else None


def _within(query: TicketQuery, statuses: frozenset[str]) -> TicketQuery:
    """``query`` asking for these statuses only (and those it already asked for)."""
    narrowed = statuses if query.statuses is None else query.statuses & statuses
    return attrs.evolve(query, statuses=narrowed)


def _names(value: str | Iterable[str], field: str) -> frozenset[str]:
    items = several(value, str, field, "a name, or several")
    if not items:
        raise InvalidInput(field, value, "at least one name")
    return frozenset(text(item, field) for item in items)


def _status_names(value: str | Iterable[str]) -> frozenset[str]:
    return _names(value, "InStatus")


def _categories(value: Category | str | Iterable[Category | str]) -> frozenset[Category]:
    return enum_set(Category, value, "InCategory")


def _priorities(value: Priority | str | Iterable[Priority | str]) -> frozenset[Priority]:
    return enum_set(Priority, value, "PriorityIs")


def _department(value: object) -> str:
    return text(value, "InDepartment")


def _tags(value: object) -> frozenset[str]:
    tags = tag_set({value} if isinstance(value, str) else value, "Tagged")
    if not tags:
        raise InvalidInput("Tagged", value, "at least one tag")
    return tags


@attrs.frozen
class InStatus(_Static):
    """The ticket's status is one of ``names``."""

    names: frozenset[str] = attrs.field(converter=_status_names)

    def holds(self, context: Context) -> bool:
        """Whether the status is one of the names."""
        return context.ticket.status in self.names

    def narrow(self, query: TicketQuery, now: datetime, workflow: Workflow) -> TicketQuery:
        """Ask the store for these statuses only."""
        return _within(query, self.names)

    def problems(self, workflow: Workflow) -> tuple[str, ...]:
        """The names that are not statuses of ``workflow``."""
        unknown = sorted(self.names - set(workflow.statuses))
        if not unknown:
            return ()
        return (
            f"InStatus names {', '.join(map(repr, unknown))}, not statuses of workflow "
            f"{workflow.name!r} ({', '.join(workflow.statuses)})",
        )


@attrs.frozen
class InCategory(_Static):
    """The ticket's status has one of ``categories`` in the context's workflow."""

    categories: frozenset[Category] = attrs.field(converter=_categories)

    def holds(self, context: Context) -> bool:
        """Whether the status's category is one of these."""
        return context.workflow.category(context.ticket.status) in self.categories

    def narrow(self, query: TicketQuery, now: datetime, workflow: Workflow) -> TicketQuery:
        """Ask the store for the statuses of these categories only."""
        return _within(query, workflow.statuses_in(*self.categories))


@attrs.frozen
class PriorityIs(_Static):
    """The ticket's priority is one of ``priorities``."""

    priorities: frozenset[Priority] = attrs.field(converter=_priorities)

    def holds(self, context: Context) -> bool:
        """Whether the priority is one of these."""
        return context.ticket.priority in self.priorities


def _channels(value: Channel | str | Iterable[Channel | str]) -> frozenset[Channel]:
    return enum_set(Channel, value, "ChannelIs")


@attrs.frozen
class ChannelIs(_Static):
    """The ticket came in through one of ``channels``."""

    channels: frozenset[Channel] = attrs.field(converter=_channels)

    def holds(self, context: Context) -> bool:
        """Whether the channel is one of these."""
        return context.ticket.channel in self.channels


@attrs.frozen
class InDepartment(_Static):
    """The ticket belongs to ``department``."""

    department: str = attrs.field(converter=_department)

    def holds(self, context: Context) -> bool:
        """Whether the department matches."""
        return context.ticket.department == self.department

    def narrow(self, query: TicketQuery, now: datetime, workflow: Workflow) -> TicketQuery:
        """Ask the store for this department only."""
        return attrs.evolve(query, department=self.department)


@attrs.frozen
class Tagged(_Static):
    """The ticket has every one of ``tags``."""

    tags: frozenset[str] = attrs.field(converter=_tags)

    def holds(self, context: Context) -> bool:
        """Whether every tag is present."""
        return self.tags <= context.ticket.tags

    def narrow(self, query: TicketQuery, now: datetime, workflow: Workflow) -> TicketQuery:
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
        positive_duration(duration, field)
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
    predicts = True

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
        first, *others = self.time_fields
        latest_time: datetime | None = getattr(ticket, first)
        if latest_time is None:
            return None
        for field in others:  # a loop, not max(): every rule asks this of every due ticket
            value: datetime | None = getattr(ticket, field)
            if value is not None and value > latest_time:
                latest_time = value
        return latest_time

    def holds(self, context: Context) -> bool:
        """Whether long enough has passed."""
        ticket = context.ticket
        start = self.start(ticket)
        return start is not None and context.now - start >= self.after[ticket.priority]

    def when(self, context: Context) -> datetime | None:
        """When long enough will have passed (None: never, or past the end of time)."""
        ticket = context.ticket
        start = self.start(ticket)
        if start is None:
            return None
        try:
            return start + self.after[ticket.priority]
        except OverflowError:  # a period that ends after 9999-12-31: never, in practice
            return None

    def fields(self) -> tuple[str, ...]:
        """The fields counted from."""
        return self.time_fields

    def narrow(self, query: TicketQuery, now: datetime, workflow: Workflow) -> TicketQuery | None:
        """Ask for tickets whose first field is old enough for the shortest duration."""
        if query.due is not None:
            return None  # one time filter per query; the sweep checks the rest
        shortest = min(self.after.values())
        cutoff = now - shortest if now - ALWAYS > shortest else ALWAYS  # never before time began
        return attrs.evolve(query, due=(self.time_fields[0], cutoff))


@attrs.frozen
class Predicate(Condition):
    """A host's own test, ``test(ticket, now) -> bool``, named for reports.

    For a test that needs the history or the SLA clocks, subclass
    :class:`Condition` instead: its ``holds`` gets the whole context.
    """

    name: str
    test: Callable[[Ticket, datetime], bool] = attrs.field(eq=False)

    def holds(self, context: Context) -> bool:
        """Whatever the host's test says."""
        return bool(self.test(context.ticket, context.now))


def _parts(value: object) -> tuple[Condition, ...]:
    parts = tuple(value) if isinstance(value, (tuple, list)) else None
    if not parts or not all(isinstance(part, Condition) for part in parts):
        raise InvalidInput("parts", value, "one or more Conditions, such as InStatus('open')")
    return parts


def _part(_condition: object, _attribute: object, value: Condition) -> None:
    if not isinstance(value, Condition):
        raise InvalidInput("part", value, "a Condition, such as InStatus('open')")


@attrs.frozen
class AllOf(Condition):
    """Every part holds."""

    parts: tuple[Condition, ...] = attrs.field(converter=_parts)
    # Derived once from the parts (no part of the value): every commit's schedule asks.
    _sla_last: tuple[Condition, ...] = attrs.field(init=False, eq=False, repr=False)
    _lasting: bool = attrs.field(init=False, eq=False, repr=False)
    _timed: tuple[Condition, ...] = attrs.field(init=False, eq=False, repr=False)

    @_sla_last.default
    def _parts_sla_last(self) -> tuple[Condition, ...]:
        return tuple(sorted(self.parts, key=lambda part: part.reads_sla))

    @_timed.default
    def _parts_timed(self) -> tuple[Condition, ...]:
        """The parts not on the ticket's fields alone: those that may list instants."""
        return tuple(part for part in self.parts if not isinstance(part, _Static))

    @_lasting.default
    def _parts_steady(self) -> bool:
        return _steady(self.parts)

    def holds(self, context: Context) -> bool:
        """Whether every part holds."""
        for part in self.parts:  # noqa: SIM110 - a loop, faster than all(): every due ticket asks
            if not part.holds(context):
                return False
        return True

    @property
    def predicts(self) -> bool:  # type: ignore[override]
        """Whether every part predicts."""
        return all(part.predicts for part in self.parts)

    def when(self, context: Context) -> datetime | None:
        """When the last part comes to hold (None as soon as one never will).

        The parts that read no SLA clock are asked first, so a ticket that
        one of them rules out is never measured.
        """
        latest_time = ALWAYS
        for part in self._sla_last:
            time = part.when(context)
            if time is None:
                return None
            latest_time = max(latest_time, time)
        return latest_time

    def instants(self, context: Context) -> tuple[datetime, ...]:
        """The instants of every part, once the parts that read no SLA clock can hold.

        Parts that each hold from their ``when`` on (none lists instants of
        its own) hold together from the latest: ``when`` alone.
        """
        if self._lasting:
            return Condition.instants(self, context)
        for part in self.parts:
            if not part.reads_sla and part.when(context) is None:
                return ()
        # The parts on the ticket's fields hold (just asked), from ALWAYS on: they
        # add no instant but "now", and a part that holds now lists one at or
        # before it (as when() does), so the others' instants tell it.
        found = _union(self._timed, context)
        if len(self._timed) < len(self.parts) and found and ALWAYS < found[0] <= context.now:
            return (ALWAYS, *found)
        return found

    def fields(self) -> tuple[str, ...]:
        """The fields of every part."""
        return tuple(field for part in self.parts for field in part.fields())

    def anchor(self, context: Context) -> datetime | None:
        """The latest anchor of the parts."""
        return _latest_anchor(self.parts, context)

    def settled(self, context: Context, at: datetime) -> tuple[bool, datetime | None] | None:
        """Every part's answer at ``at``, if each can tell: all hold, the latest anchor."""
        return _settled(self.parts, context, at, all)

    def narrow(self, query: TicketQuery, now: datetime, workflow: Workflow) -> TicketQuery | None:
        """Narrow by each part that can."""
        narrowed: TicketQuery | None = None
        for part in self.parts:
            result = part.narrow(narrowed or query, now, workflow)
            if result is not None:
                narrowed = result
        return narrowed

    @property
    def reads_sla(self) -> bool:
        """Whether a part looks at SLA clocks."""
        return any(part.reads_sla for part in self.parts)

    def problems(self, workflow: Workflow) -> tuple[str, ...]:
        """The problems of every part."""
        return _problems_of(self.parts, workflow)

    def __and__(self, other: Condition) -> Condition:
        return AllOf((*self.parts, other))


@attrs.frozen
class AnyOf(Condition):
    """At least one part holds."""

    parts: tuple[Condition, ...] = attrs.field(converter=_parts)
    _lasting: bool = attrs.field(init=False, eq=False, repr=False)  # derived, as AllOf's

    @_lasting.default
    def _parts_steady(self) -> bool:
        return _steady(self.parts)

    def holds(self, context: Context) -> bool:
        """Whether a part holds."""
        return any(part.holds(context) for part in self.parts)

    def when(self, context: Context) -> datetime | None:
        """When the first part comes to hold."""
        times = [time for time in (part.when(context) for part in self.parts) if time is not None]
        return min(times) if times else None

    @property
    def predicts(self) -> bool:  # type: ignore[override]
        """Whether every part predicts."""
        return all(part.predicts for part in self.parts)

    def instants(self, context: Context) -> tuple[datetime, ...]:
        """The instants of every part (``when`` alone for parts that hold from it on)."""
        if self._lasting:
            return Condition.instants(self, context)
        return _union(self.parts, context)

    def fields(self) -> tuple[str, ...]:
        """The fields of every part."""
        return tuple(field for part in self.parts for field in part.fields())

    def anchor(self, context: Context) -> datetime | None:
        """The latest anchor of the parts."""
        return _latest_anchor(self.parts, context)

    def settled(self, context: Context, at: datetime) -> tuple[bool, datetime | None] | None:
        """Every part's answer at ``at``, if each can tell: one holds, the latest anchor."""
        return _settled(self.parts, context, at, any)

    @property
    def reads_sla(self) -> bool:
        """Whether a part looks at SLA clocks."""
        return any(part.reads_sla for part in self.parts)

    def problems(self, workflow: Workflow) -> tuple[str, ...]:
        """The problems of every part."""
        return _problems_of(self.parts, workflow)


def _settled(
    parts: Iterable[Condition],
    context: Context,
    at: datetime,
    joined: Callable[[Iterable[bool]], bool],
) -> tuple[bool, datetime | None] | None:
    """The parts' answers at ``at`` joined (``all`` or ``any``), None if one cannot tell."""
    holds: list[bool] = []
    anchor = None
    for part in parts:
        answer = part.settled(context, at)
        if answer is None:
            return None
        holds.append(answer[0])
        if answer[1] is not None and (anchor is None or answer[1] > anchor):
            anchor = answer[1]
    return joined(holds), anchor


def _steady(parts: tuple[Condition, ...]) -> bool:
    """Whether each part, once it holds, holds until the ticket changes.

    So are the parts that list no instants of their own (their ``when`` is
    the one instant they may start to hold), and groups of such parts;
    SLA conditions, which stop holding as a clock passes on, are not.
    """
    for part in parts:
        if isinstance(part, (AllOf, AnyOf)):
            if not part._lasting:  # the same question, answered when it was built
                return False
        elif type(part).instants is not Condition.instants:
            return False
    return True


def _union(parts: Sequence[Condition], context: Context) -> tuple[datetime, ...]:
    """Every instant of every part, once each, earliest first."""
    if len(parts) == 1:  # an AllOf's one timed part, most often: its instants as they are
        found = parts[0].instants(context)
        return found if len(found) < 2 else tuple(sorted(set(found)))
    return tuple(sorted({instant for part in parts for instant in part.instants(context)}))


def _problems_of(parts: Iterable[Condition], workflow: Workflow) -> tuple[str, ...]:
    return tuple(problem for part in parts for problem in part.problems(workflow))


def _latest_anchor(parts: Iterable[Condition], context: Context) -> datetime | None:
    """The latest anchor of ``parts``, None if none has one."""
    found = None
    for part in parts:
        value = part.anchor(context)
        if value is not None and (found is None or value > found):
            found = value
    return found


def latest(values: Iterable[datetime | None]) -> datetime | None:
    """The latest of the instants given, ignoring None; None if there is none."""
    present = [value for value in values if value is not None]
    return max(present) if present else None


@attrs.frozen
class Not(Condition):
    """The part does not hold."""

    part: Condition = attrs.field(validator=_part)

    def holds(self, context: Context) -> bool:
        """Whether the part does not hold."""
        return not self.part.holds(context)

    @property
    def predicts(self) -> bool:  # type: ignore[override]
        """Whether the part looks at the ticket's fields alone (then its opposite is exact)."""
        return isinstance(self.part, _Static)

    def when(self, context: Context) -> datetime | None:
        """For a part on the ticket's fields alone, the opposite; otherwise not predicted.

        Only such a part's "never" is a real never: for any other, None means
        "not predicted", whose opposite is not "always".
        """
        if not isinstance(self.part, _Static):
            return None
        return None if self.part.holds(context) else ALWAYS

    @property
    def reads_sla(self) -> bool:
        """Whether the part looks at SLA clocks."""
        return self.part.reads_sla

    def problems(self, workflow: Workflow) -> tuple[str, ...]:
        """The part's problems."""
        return self.part.problems(workflow)
