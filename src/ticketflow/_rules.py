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
from typing import Any

import attrs

from ticketflow._errors import InvalidInput
from ticketflow._history import HistoryEvent
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


SLAStates = Callable[[Ticket, datetime], Sequence[Any]]
"""Gives a ticket's SLA states at an instant; a Helpdesk binds it (see :func:`bind`)."""


def _no_states(_ticket: Ticket, _now: datetime) -> Sequence[Any]:
    return ()


class _SLACondition(Condition):
    """What the SLA conditions share: they look at the running clocks the desk binds."""

    target: Any
    states: SLAStates

    def _matches(self, state: Any, now: datetime) -> bool:
        raise NotImplementedError

    def _matching(self, ticket: Ticket, now: datetime) -> list[Any]:
        return [
            state
            for state in self.states(ticket, now)
            if state.running
            and (self.target is None or state.target == self.target)
            and self._matches(state, now)
        ]

    def holds(self, ticket: Ticket, now: datetime) -> bool:
        """Whether some running clock matches."""
        return bool(self._matching(ticket, now))

    def when(self, ticket: Ticket) -> datetime | None:
        """Not predicted: it depends on the SLA clocks."""
        return None

    def anchor(self, ticket: Ticket, now: datetime) -> datetime | None:
        """The start of the matching clock: a rule on it acts once per run of a clock."""
        return _latest(state.started_at for state in self._matching(ticket, now))


@attrs.frozen
class SLAAtRisk(_SLACondition):
    """A running SLA clock has used at least ``fraction`` of its target, and is not yet breached.

    ``target`` (an SLA ``Target``) narrows it to one promise.  A Helpdesk
    binds the clocks from its SLA policies; unbound, it never holds.
    """

    fraction: float = 0.75
    target: Any = None
    states: SLAStates = attrs.field(default=_no_states, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if not 0 < self.fraction < 1:
            raise InvalidInput("fraction", self.fraction, "a number between 0 and 1")

    def _matches(self, state: Any, now: datetime) -> bool:
        return not state.breached and state.fraction >= self.fraction


@attrs.frozen
class SLABreached(_SLACondition):
    """A running SLA clock (of ``target``, if given) has passed its target."""

    target: Any = None
    states: SLAStates = attrs.field(default=_no_states, eq=False, repr=False)

    def _matches(self, state: Any, now: datetime) -> bool:
        return bool(state.breached)


@attrs.frozen
class SLADueWithin(_SLACondition):
    """A running SLA clock (of ``target``, if given) falls due within ``within`` of now."""

    within: timedelta
    target: Any = None
    states: SLAStates = attrs.field(default=_no_states, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.within, timedelta) or self.within <= timedelta(0):
            raise InvalidInput("within", self.within, "a positive timedelta")

    def _matches(self, state: Any, now: datetime) -> bool:
        return (
            not state.breached and state.due_at is not None and state.due_at - now <= self.within
        )


# -- actions ---------------------------------------------------------------------


@attrs.frozen
class Action:
    """What a rule does: one command, as the system actor.

    Attributes:
        event: the workflow event or update to fire.
        payload: its payload, or a function of the ticket and its history that
            returns it (to write a note that lists what happened).
    """

    event: str
    payload: Mapping[str, Any] | Callable[[Ticket, Sequence[HistoryEvent]], Mapping[str, Any]] = (
        attrs.field(factory=dict, eq=False)
    )

    def arguments(self, ticket: Ticket, history: Sequence[HistoryEvent]) -> dict[str, Any]:
        """The payload for ``ticket``."""
        payload = self.payload
        return dict(payload(ticket, history) if callable(payload) else payload)

    @classmethod
    def fire(cls, event: str, note: str | None = None) -> Action:
        """Fire a workflow event, with a note to the customer as its body."""
        return cls(event, {} if note is None else {"body": note})

    @classmethod
    def assign(cls, to: str | None) -> Action:
        """Assign (or unassign, with None) the ticket."""
        return cls("assign", {"to": to})

    @classmethod
    def set_priority(cls, priority: Priority | str) -> Action:
        """Set the priority."""
        return cls("set_priority", {"priority": enum_value(Priority, priority, "priority")})

    @classmethod
    def escalate(cls) -> Action:
        """Raise the priority one step (urgent stays urgent)."""
        order = list(Priority)
        return cls(
            "set_priority",
            lambda ticket, _history: {
                "priority": order[min(order.index(ticket.priority) + 1, len(order) - 1)],
                "body": "Escalated: no reply from the customer.",
            },
        )

    @classmethod
    def tag(cls, add: Iterable[str] = (), remove: Iterable[str] = ()) -> Action:
        """Add and remove tags."""
        return cls("update_tags", {"add": frozenset(add), "remove": frozenset(remove)})

    @classmethod
    def remind(cls, message: str) -> Action:
        """Send the customer a reminder: a ``remind`` event the host's hooks deliver."""
        return cls("remind", {"body": message})


@attrs.frozen
class Rule:
    """A named condition and the one action it takes, at most once per ticket and episode.

    Args:
        name: unique among a desk's rules; ledger entries are keyed by it.
        when: the condition.
        action: what it does when the condition holds.
        enabled: switched off rules are kept but never fire.

    >>> from datetime import timedelta
    >>> week = Since("resolved_at", after=timedelta(days=7))
    >>> rule = Rule("auto_close", InStatus("resolved") & week,
    ...             Action.fire("close", "Closed after a week without news."))
    >>> rule.when.fields()
    ('resolved_at',)
    """

    name: str = attrs.field(converter=_rule_name)
    when: Condition
    action: Action
    enabled: bool = True

    def episode(self, ticket: Ticket, now: datetime | None = None) -> datetime | None:
        """The instant the rule's time parts count from on ``ticket`` (None without one).

        The latest of the time fields its conditions name and, given ``now``,
        of the starts of the SLA clocks they look at.
        """
        values = [getattr(ticket, field) for field in self.when.fields()]
        if now is not None:
            values.append(self.when.anchor(ticket, now))
        return _latest(values)

    def candidates(self, now: datetime) -> TicketQuery:
        """The store query whose answer includes every ticket the rule may fire on at ``now``."""
        return self.when.narrow(TicketQuery(), now) or TicketQuery()


def bind(
    condition: Condition,
    categories: Callable[[frozenset[Category]], frozenset[str]],
    states: SLAStates | None = None,
) -> Condition:
    """Fill the category parts' statuses from a workflow, and the SLA parts' clocks."""
    if isinstance(condition, InCategory):
        return attrs.evolve(condition, statuses=categories(condition.categories))
    if isinstance(condition, _SLACondition) and states is not None:
        sla_part: Any = condition  # each concrete SLA condition is an attrs class
        bound: Condition = attrs.evolve(sla_part, states=states)
        return bound
    if isinstance(condition, AllOf | AnyOf):
        parts = tuple(bind(part, categories, states) for part in condition.parts)
        return attrs.evolve(condition, parts=parts)
    if isinstance(condition, Not):
        return Not(bind(condition.part, categories, states))
    return condition


# -- the default rule set -----------------------------------------------------------

_HOUR, _DAY = timedelta(hours=1), timedelta(days=1)

REMIND_AFTER: Mapping[Priority, timedelta] = MappingProxyType(
    {
        Priority.URGENT: 4 * _HOUR,
        Priority.HIGH: _DAY,
        Priority.NORMAL: 2 * _DAY,
        Priority.LOW: 3 * _DAY,
    }
)
"""How long a ticket waits on the customer before the reminder, by priority."""

ESCALATE_AFTER: Mapping[Priority, timedelta] = MappingProxyType(
    {
        Priority.URGENT: 8 * _HOUR,
        Priority.HIGH: 2 * _DAY,
        Priority.NORMAL: 4 * _DAY,
        Priority.LOW: 6 * _DAY,
    }
)
"""How long before the silence is escalated (priority raised one step), by priority."""

RESOLVE_AFTER: Mapping[Priority, timedelta] = MappingProxyType(
    {
        Priority.URGENT: _DAY,
        Priority.HIGH: 4 * _DAY,
        Priority.NORMAL: 7 * _DAY,
        Priority.LOW: 10 * _DAY,
    }
)
"""How long before a ticket that never got its reply is resolved, by priority."""

CLOSE_AFTER = timedelta(days=7)
"""How long a solved ticket stays open for the customer before it is closed."""


def _attempts(ticket: Ticket, history: Sequence[HistoryEvent]) -> dict[str, Any]:
    contacts = [
        f"{event.at:%Y-%m-%d %H:%M} ({'reply' if event.name == 'agent_reply' else 'reminder'})"
        for event in history
        if event.name in ("agent_reply", "remind")
    ]
    listed = "; ".join(contacts) or "none recorded"
    return {
        "body": f"We resolved ticket {ticket.id} because we have not heard back from you. "
        f"We wrote to you {len(contacts)} time{'s' if len(contacts) != 1 else ''}: {listed}. "
        "Reply at any time to reopen it."
    }


def default_rules(
    *,
    remind_after: Durations = REMIND_AFTER,
    escalate_after: Durations = ESCALATE_AFTER,
    resolve_after: Durations = RESOLVE_AFTER,
    close_after: Durations = CLOSE_AFTER,
) -> tuple[Rule, ...]:
    """The default automation, each rule switchable off with ``attrs.evolve(rule, enabled=False)``.

    - ``remind_customer``, ``escalate_silence``, ``resolve_silence``: a ticket
      waiting on the customer (a ``pending`` status, such as ``answered``) gets
      a reminder, then the tag ``escalated`` (for the host to route to a lead),
      then is resolved with a note listing every contact attempt; the periods
      count from the staff's last activity and depend on the priority.
    - ``auto_close``: a solved ticket is closed, with a note saying why, once
      ``close_after`` has passed since it was resolved or the customer last
      wrote, whichever is later.
    - ``wake_postponed``: an ``on_hold`` ticket wakes when its
      ``postponed_until`` comes.

    A customer reply ends the silence: the ticket leaves the status, and when
    it returns the periods count from the new answer.
    """
    remind_after = _durations(remind_after, "remind_after")
    escalate_after = _durations(escalate_after, "escalate_after")
    resolve_after = _durations(resolve_after, "resolve_after")
    close_after = _durations(close_after, "close_after")
    waiting = InCategory(Category.PENDING)
    answered = ("last_agent_activity_at",)
    return (
        Rule(
            "remind_customer",
            waiting & Since(*answered, after=remind_after),
            Action.remind(
                "We are waiting for your reply to continue with this ticket. "
                "If the problem is solved, there is nothing more to do."
            ),
        ),
        Rule(
            "escalate_silence",
            waiting & Since(*answered, after=escalate_after),
            # A tag, not a higher priority: the periods depend on the priority,
            # and raising it would hurry the resolution of the same silence.
            Action(
                "update_tags",
                {"add": frozenset({"escalated"}), "body": "Escalated: the customer is silent."},
            ),
        ),
        Rule(
            "resolve_silence",
            waiting & Since(*answered, after=resolve_after),
            Action("resolve", _attempts),
        ),
        Rule(
            "auto_close",
            InCategory(Category.SOLVED)
            & Since("resolved_at", "last_customer_activity_at", after=close_after),
            Action.fire(
                "close",
                "We closed this ticket because it was resolved and we heard nothing more. "
                "Write to us again to open a follow-up.",
            ),
        ),
        Rule(
            "wake_postponed",
            InCategory(Category.ON_HOLD) & Since("postponed_until", after=timedelta(0)),
            Action.fire("wake", "The time this ticket was postponed to has come."),
        ),
    )


# -- what a sweep reports ---------------------------------------------------------------


@attrs.frozen
class Firing:
    """One rule acting (or, in a dry run, about to act) on one ticket.

    Attributes:
        rule: the rule's name.
        ticket_id: the ticket.
        episode: the instant the rule counted from; with the rule and the
            ticket, the key that makes it act only once.
        event: the event it fired.
        from_status: the status before.
        to_status: the status after.
        at: when.
    """

    rule: str
    ticket_id: str
    episode: datetime
    event: str
    from_status: str
    to_status: str
    at: datetime


@attrs.frozen
class Skip:
    """A rule whose condition held but whose action was refused (by the workflow or the policy)."""

    rule: str
    ticket_id: str
    reason: str


@attrs.frozen
class RuleReport:
    """What a sweep did, or in a dry run would do.

    Attributes:
        at: the sweep's "now".
        dry_run: True if nothing was committed.
        fired: every firing, in the order of the rules, then of the tickets.
        skipped: firings the workflow or the policy refused.
    """

    at: datetime
    dry_run: bool
    fired: tuple[Firing, ...] = ()
    skipped: tuple[Skip, ...] = ()

    def by_rule(self) -> dict[str, int]:
        """How many times each rule fired, for rules that fired."""
        counts: dict[str, int] = {}
        for firing in self.fired:
            counts[firing.rule] = counts.get(firing.rule, 0) + 1
        return counts

    def __len__(self) -> int:
        return len(self.fired)


@attrs.frozen
class Due:
    """The next rule that will act on a ticket, and when, if nothing else happens first."""

    rule: str
    at: datetime


def sla_rules(*, warn_at: float | Sequence[float] = 0.75) -> tuple[Rule, ...]:
    """The SLA notices, each fired once per run of a clock.

    ``sla_warning`` when a running clock passes ``warn_at`` of its target,
    ``sla_breach`` when it passes the target.  Several fractions make one
    warning rule each, named ``sla_warning_50``, ``sla_warning_90`` and so on.
    They record ``sla_warning`` and ``sla_breach`` events in the history, which
    the host's hooks turn into alerts.  A Helpdesk given SLA policies and no
    ``rules=`` runs them beside :func:`default_rules`.
    """
    fractions = (warn_at,) if isinstance(warn_at, (int, float)) else tuple(warn_at)
    active = InCategory([Category.NEW, Category.OPEN, Category.PENDING, Category.ON_HOLD])
    warnings = tuple(
        Rule(
            "sla_warning" if len(fractions) == 1 else f"sla_warning_{round(fraction * 100)}",
            active & SLAAtRisk(fraction),
            Action("sla_warning", _notice(f"at {fraction:.0%} of its target")),
        )
        for fraction in fractions
    )
    breach = Rule("sla_breach", active & SLABreached(), Action("sla_breach", _notice("breached")))
    return (*warnings, breach)


def _notice(
    what: str,
) -> Callable[[Ticket, Sequence[HistoryEvent]], Mapping[str, Any]]:
    def payload(ticket: Ticket, _history: Sequence[HistoryEvent]) -> Mapping[str, Any]:
        return {"body": f"SLA {what} on ticket {ticket.id}."}

    return payload
