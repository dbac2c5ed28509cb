"""Workflows: declared with python-statemachine, compiled to a table, applied purely.

A workflow is declared as a ``statemachine.StateMachine`` subclass whose states
are :class:`TicketState` (a state that knows its ticketflow category).  Reading
the class once gives the statuses and transitions; they are checked against
the lifecycle's laws and compiled to a dict keyed by ``(status, event)``.
:meth:`Workflow.apply` then works on that dict alone: it never builds a
state machine, reads a clock or touches a store.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

import attrs
from statemachine import State, StateMachine

from ticketflow import _render
from ticketflow._actor import Actor
from ticketflow._errors import IllegalTransition, InvalidInput, InvalidWorkflow
from ticketflow._events import (
    TRANSITION,
    TRANSITION_SPECS,
    UPDATABLE,
    UPDATE_SPECS,
    EventSpec,
    StatusMove,
    record_activity,
)
from ticketflow._guards import Guard, builtin_guards
from ticketflow._history import HistoryEvent, next_version
from ticketflow._names import CREATE, MERGE, MERGE_IN, MIGRATE, RATE, REVIEW
from ticketflow._reserved import host_fields
from ticketflow._status import NAME_RULE, Category, Status, is_name
from ticketflow._ticket import Channel, Contact, Priority, Ticket
from ticketflow._validate import enum_value, field_map, optional_text, tag_set, text, to_utc

RESERVED = frozenset({CREATE, MIGRATE, RATE, REVIEW, MERGE_IN})
"""Event names no workflow may declare: the history uses them."""

UPDATES: frozenset[str] = frozenset(UPDATE_SPECS)
"""The events every workflow has that change fields but not the status."""


class TicketState(State):
    """A python-statemachine state that is also a ticketflow status.

    Use it for every state of a workflow declaration:

    >>> from statemachine import StateMachine
    >>> class Tiny(StateMachine):
    ...     new = TicketState(Category.NEW, initial=True)
    ...     done = TicketState(Category.SOLVED)
    ...     archived = TicketState(Category.CLOSED)
    ...     resolve = new.to(done)
    ...     close = done.to(archived)
    ...     reopen = done.to(new) | archived.to(new)
    >>> Workflow.from_statemachine(Tiny).statuses["done"].category
    <Category.SOLVED: 'solved'>

    Args:
        category: what the status means to the lifecycle's laws.
        label: the name people read; defaults to the state's name, capitalised.
        sla_paused: whether SLA clocks stop while a ticket is in this status.
        initial: whether tickets start here (exactly one state is initial).
        final: whether the status is terminal; entering a final ``removed``
            status purges the ticket.
    """

    def __init__(
        self,
        category: Category | str,
        *,
        label: str = "",
        sla_paused: bool = False,
        initial: bool = False,
        final: bool = False,
    ) -> None:
        super().__init__(name=label, initial=initial, final=final)
        self.category = enum_value(Category, category, "TicketState.category")
        self.sla_paused = sla_paused


@attrs.frozen
class Transition:
    """One row of a workflow's table: ``event`` moves ``source`` to ``target``.

    Attributes:
        event: the event name.
        source: the status it starts from.
        target: the status it leads to.
        guards: ``(guard name, expected result)`` pairs; all must hold.
    """

    event: str
    source: str
    target: str
    guards: tuple[tuple[str, bool], ...] = ()

    @property
    def moves(self) -> bool:
        """Whether the row changes the status (``False`` for rows that stay)."""
        return self.source != self.target

    def describe(self) -> str:
        """Return the guards as text, such as ``"never_answered"`` or ``"not reopens"``."""
        return " and ".join(name if expected else f"not {name}" for name, expected in self.guards)


_Row = tuple[tuple[tuple[Guard, bool], ...], StatusMove | None]
"""A compiled row: its guard checks, and the move to its target (None if it stays)."""

_Step = tuple[EventSpec, tuple[_Row, ...]]
"""What a ``(status, event)`` pair compiles to: the payload spec and the rows in order."""


class Workflow:
    """A compiled, validated workflow: the statuses, their transitions, and ``apply``.

    Build one with :meth:`default`, :meth:`from_statemachine`, or the constructor.
    Building checks every law and raises :class:`InvalidWorkflow` listing every
    problem at once.

    Args:
        name: a name for messages and diagrams.
        statuses: every status, in the order to show them.
        initial: the status tickets start in; its category must be ``new``.
        transitions: the table rows, in priority order (the first row of a
            ``(status, event)`` pair whose guards hold wins).
        guards: the functions the transitions' guard names resolve to, besides
            the built-in ones (:func:`builtin_guards`); a name given here
            takes the built-in guard's place.
        final: the statuses with no way out.
    """

    def __init__(
        self,
        name: str,
        statuses: Iterable[Status],
        initial: str,
        transitions: Iterable[Transition],
        *,
        guards: Mapping[str, Guard] | None = None,
        final: Iterable[str] = (),
    ) -> None:
        status_list = list(statuses)
        self._name = name
        self._statuses: Mapping[str, Status] = MappingProxyType(
            {status.name: status for status in status_list}
        )
        self._initial = initial
        self._transitions = tuple(transitions)
        self._guards: Mapping[str, Guard] = MappingProxyType(
            {**builtin_guards(), **(guards or {})}
        )
        self._final = frozenset(final)
        problems = _problems(
            status_list, initial, self._transitions, guards=self._guards, final=self._final
        )
        if problems:
            raise InvalidWorkflow(name, problems)
        self._categories = {name: status.category for name, status in self._statuses.items()}
        """Each status's category, in a plain dict: the desk asks on every command."""
        self._table = self._compile()
        self._by_category = {
            category: frozenset(
                name for name, status in self._statuses.items() if status.category is category
            )
            for category in Category
        }
        self._paused = frozenset(
            name for name, status in self._statuses.items() if status.sla_paused
        )
        self._purging = self._final & self._by_category[Category.REMOVED]
        self._events = frozenset(row.event for row in self._transitions)

    def _compile(self) -> dict[str, dict[str, _Step]]:
        """Turn the rows into a lookup table, status then event, resolving guards and moves.

        Plain dicts, private to the workflow and never changed after this: the
        lookup is on the path of every command.
        """
        table: dict[str, dict[str, list[_Row]]] = {name: {} for name in self._statuses}
        for row in self._transitions:
            checks = tuple((self._guards[guard], expected) for guard, expected in row.guards)
            move = None
            if row.target != row.source:
                move = StatusMove.between(
                    self.category(row.source), self.category(row.target), row.target
                )
            table[row.source].setdefault(row.event, []).append((checks, move))
        return {
            status: {
                event: (TRANSITION_SPECS.get(event, TRANSITION), tuple(rows))
                for event, rows in events.items()
            }
            for status, events in table.items()
        }

    @classmethod
    def from_statemachine(
        cls,
        machine: type[StateMachine],
        *,
        guards: Mapping[str, Guard] | None = None,
        name: str | None = None,
    ) -> Workflow:
        """Read a python-statemachine declaration and compile it.

        Args:
            machine: a ``StateMachine`` subclass whose states are ``TicketState``.
            guards: what the ``cond=``/``unless=`` names of its transitions
                mean, besides the built-in guards.
            name: the workflow's name; defaults to the class name.

        Raises:
            InvalidWorkflow: listing every problem, each naming its state or transition.
        """
        title = name or machine.__name__
        problems: list[str] = []
        statuses: list[Status] = []
        final: list[str] = []
        initial = ""
        rows: list[Transition] = []
        # python-statemachine shares State objects with subclasses, so a subclass
        # that adds `open.to(waiting)` adds the row to its parent's `open` too.
        # Rows that lead out of this machine's states belong to another class.
        own = {id(state) for state in machine.states}  # by identity: siblings reuse names
        for state in machine.states:
            if not isinstance(state, TicketState):
                problems.append(
                    f"state {state.id!r} is a plain State: declare it as TicketState(category)"
                )
                continue
            statuses.append(
                Status(state.id, state.category, label=state.name, sla_paused=state.sla_paused)
            )
            if state.initial:
                initial = state.id
            if state.final:
                final.append(state.id)
            for transition in state.transitions:
                if transition.target is None or id(transition.target) in own:
                    rows.extend(_rows_of(transition, state.id, problems))
        if problems:
            raise InvalidWorkflow(title, problems)
        return cls(title, statuses, initial, rows, guards=guards, final=final)

    @classmethod
    def from_dict(cls, data: object, *, guards: Mapping[str, Guard] | None = None) -> Workflow:
        """Build a workflow from plain data (schema in ``docs/workflows.md``).

        >>> tiny = Workflow.from_dict({
        ...     "name": "tiny",
        ...     "initial": "new",
        ...     "statuses": [{"name": "new", "category": "new"},
        ...                  {"name": "done", "category": "solved"},
        ...                  {"name": "archived", "category": "closed"}],
        ...     "transitions": [{"event": "resolve", "from": "new", "to": "done"},
        ...                     {"event": "close", "from": "done", "to": "archived"},
        ...                     {"event": "reopen", "from": ["done", "archived"], "to": "new"}],
        ... })
        >>> tiny
        <Workflow 'tiny': 3 statuses, 4 transitions>

        Raises:
            InvalidWorkflow: every problem, each with the key it is at
                (``transitions[2].to``), then every broken law.
        """
        from ticketflow._definition import workflow_from_dict  # noqa: PLC0415 - imports us

        return workflow_from_dict(data, guards=guards)

    @classmethod
    def from_toml(cls, text: str, *, guards: Mapping[str, Guard] | None = None) -> Workflow:
        """Build a workflow from a TOML definition; as :meth:`from_dict`.

        Raises:
            InvalidWorkflow: a syntax error, with its line and column, or as
                :meth:`from_dict`.
        """
        from ticketflow._definition import workflow_from_text  # noqa: PLC0415 - imports us

        return workflow_from_text(text, "toml", guards=guards)

    @classmethod
    def from_json(cls, text: str, *, guards: Mapping[str, Guard] | None = None) -> Workflow:
        """Build a workflow from a JSON definition; as :meth:`from_toml`."""
        from ticketflow._definition import workflow_from_text  # noqa: PLC0415 - imports us

        return workflow_from_text(text, "json", guards=guards)

    @classmethod
    def from_file(
        cls, path: str | os.PathLike[str], *, guards: Mapping[str, Guard] | None = None
    ) -> Workflow:
        """Read a ``.toml`` or ``.json`` definition file; as :meth:`from_toml`.

        Raises:
            InvalidInput: the file is missing, unreadable, or named otherwise.
            InvalidWorkflow: as :meth:`from_toml`.
        """
        from ticketflow._definition import workflow_from_file  # noqa: PLC0415 - imports us

        return workflow_from_file(path, guards=guards)

    def to_dict(self) -> dict[str, Any]:
        """Return this workflow's definition as plain data, which :meth:`from_dict` reads back.

        >>> data = Workflow.default().to_dict()
        >>> data["initial"], data["transitions"][0]
        ('new', {'event': 'agent_reply', 'from': 'new', 'to': 'answered'})
        """
        from ticketflow._definition import workflow_to_dict  # noqa: PLC0415 - imports us

        return workflow_to_dict(self)

    @classmethod
    def default(
        cls, *, reopen_on_customer_reply: bool = True, reopen_window: Any = None
    ) -> Workflow:
        """The default lifecycle (see ``docs/lifecycle.md``).

        Args:
            reopen_on_customer_reply: whether a customer reply to a resolved
                ticket reopens it (and counts as a reopen); if False the reply
                is recorded and the ticket stays resolved.
            reopen_window: a ``timedelta``; a customer reply to a ticket closed
                less than this long ago reopens it.  None (the default): such a
                reply opens a new follow-up ticket linked to the closed one.
        """
        from ticketflow._lifecycle import DefaultLifecycle  # noqa: PLC0415

        return cls.from_statemachine(
            DefaultLifecycle,
            guards=builtin_guards(
                reopen_on_customer_reply=reopen_on_customer_reply, reopen_window=reopen_window
            ),
            name="default",
        )

    @property
    def name(self) -> str:
        """The workflow's name."""
        return self._name

    @property
    def statuses(self) -> Mapping[str, Status]:
        """Every status by name, in declaration order."""
        return self._statuses

    @property
    def initial(self) -> str:
        """The status new tickets start in."""
        return self._initial

    @property
    def final(self) -> frozenset[str]:
        """The statuses with no way out."""
        return self._final

    @property
    def transitions(self) -> tuple[Transition, ...]:
        """Every row of the table, in priority order."""
        return self._transitions

    @property
    def events(self) -> frozenset[str]:
        """Every event the workflow knows: its declared events and the updates."""
        return self._events | UPDATES

    def to_mermaid(self) -> str:
        """Return a Mermaid state diagram of this workflow (see ``docs/lifecycle.md``)."""
        return _render.mermaid(self)

    def to_dot(self) -> str:
        r"""Return a Graphviz DOT digraph of this workflow.

        Solved statuses are double octagons, closed ones double circles,
        removed ones boxes; statuses that pause SLA clocks are dashed.

        >>> minimal = Workflow.from_json('''{"name": "minimal", "initial": "todo",
        ...   "final": ["done"],
        ...   "statuses": [{"name": "todo", "category": "new", "label": "To do"},
        ...                {"name": "fixed", "category": "solved"},
        ...                {"name": "done", "category": "closed"}],
        ...   "transitions": [{"event": "resolve", "from": "todo", "to": "fixed"},
        ...                   {"event": "reopen", "from": "fixed", "to": "todo"},
        ...                   {"event": "close", "from": "fixed", "to": "done"}]}''')
        >>> print(minimal.to_dot(), end="")
        digraph "minimal" {
            rankdir=LR;
            node [shape=ellipse, fontname="Helvetica"];
            edge [fontname="Helvetica", fontsize=10];
            "[*]" [shape=point];
            "todo" [label="To do\n(new)"];
            "fixed" [label="Fixed\n(solved)", shape=doubleoctagon];
            "done" [label="Done\n(closed)", shape=doublecircle];
            "[*]" -> "todo";
            "todo" -> "fixed" [label="resolve"];
            "fixed" -> "todo" [label="reopen"];
            "fixed" -> "done" [label="close"];
        }
        """
        return _render.dot(self)

    def to_markdown(self) -> str:
        """Return a Markdown table of this workflow's transitions, one row per event."""
        return _render.markdown_table(self)

    def category(self, status: str) -> Category:
        """Return the category of ``status``."""
        category = self._categories.get(status)
        if category is None:
            return self._status(status).category  # raises: not a status of this workflow
        return category

    def statuses_in(self, *categories: Category) -> frozenset[str]:
        """The names of the statuses of these categories.

        >>> sorted(Workflow.default().statuses_in(Category.REMOVED))
        ['deleted', 'purged', 'spam']
        """
        found: frozenset[str] = frozenset()
        for category in categories:
            found |= self._by_category[category]
        return found

    @property
    def sla_paused(self) -> frozenset[str]:
        """The names of the statuses in which SLA clocks stop."""
        return self._paused

    def purges(self, status: str) -> bool:
        """Whether entering ``status`` removes the ticket for good (final and removed)."""
        if status in self._purging:
            return True
        if status not in self._categories:
            self._status(status)  # raises: a status of another workflow
        return False

    def _status(self, name: str) -> Status:
        try:
            return self._statuses[name]
        except KeyError:
            raise InvalidInput(
                "status", name, f"a status of workflow {self._name!r}: {', '.join(self._statuses)}"
            ) from None

    def create(
        self,
        ticket_id: str,
        actor: Actor,
        at: datetime,
        *,
        subject: str,
        description: str,
        requester: Contact,
        priority: Priority | str = Priority.NORMAL,
        channel: Channel | str = Channel.EMAIL,
        assignee: str | None = None,
        department: str | None = None,
        tags: Iterable[str] = frozenset(),
        fields: Mapping[str, Any] | None = None,
        parent_id: str | None = None,
    ) -> tuple[Ticket, HistoryEvent]:
        """Return a new ticket in the initial status, and its ``"create"`` event.

        Every argument is checked here, at the boundary; a bad one raises
        :class:`InvalidInput` naming it.
        """
        when = to_utc(at, "at")
        if not isinstance(requester, Contact):
            raise InvalidInput("requester", requester, "a Contact")
        checked_fields = field_map(fields if fields is not None else {})
        host_fields(checked_fields)
        ticket = Ticket(
            id=text(ticket_id, "id"),
            subject=text(subject, "subject"),
            description=text(description, "description"),
            requester=requester,
            status=self._initial,
            created_at=when,
            updated_at=when,
            status_changed_at=when,
            priority=enum_value(Priority, priority, "priority"),
            channel=enum_value(Channel, channel, "channel"),
            assignee=optional_text(assignee, "assignee"),
            department=optional_text(department, "department"),
            tags=tag_set(tags),
            fields=checked_fields,
            last_customer_activity_at=when,
            parent_id=optional_text(parent_id, "parent_id"),
        )
        changes = {name: getattr(ticket, name) for name in attrs.fields_dict(Ticket)}
        event = HistoryEvent(
            ticket_id=ticket.id,
            seq=1,
            at=when,
            actor=actor,
            name=CREATE,
            from_status=None,
            to_status=ticket.status,
            changes=changes,
        )
        return ticket, event

    def allowed(self, ticket: Ticket, actor: Actor, at: datetime) -> list[str]:
        """Return the events the workflow allows on ``ticket`` now, sorted.

        Guards see ``actor`` and ``{"at": at}``; the policy is not consulted.
        """
        guard_payload = MappingProxyType({"at": at})
        category = self.category(ticket.status)  # refuses a status of another workflow
        found = {
            event
            for event, (_spec, rows) in self._table[ticket.status].items()
            if _first_open(rows, ticket, actor, guard_payload) is not None
        }
        if category in UPDATABLE:
            found |= UPDATES
        return sorted(found)

    def apply(
        self, ticket: Ticket, event: str, actor: Actor, at: datetime, **payload: Any
    ) -> tuple[Ticket, HistoryEvent]:
        """Fire ``event`` on ``ticket``: return the new ticket and its history event.

        Pure: the same arguments give the same result, and nothing is stored.

        Raises:
            IllegalTransition: the workflow does not allow ``event`` now.
            InvalidInput: ``at`` is naive or earlier than the ticket's last
                update, or the payload is wrong for the event.
        """
        when = at if at.__class__ is datetime and at.tzinfo is UTC else to_utc(at, "at")
        if when < ticket.updated_at:
            raise InvalidInput(
                "at",
                at,
                f"not earlier than the ticket's last update, {ticket.updated_at.isoformat()}",
            )
        events = self._table.get(ticket.status)
        step = None if events is None else events.get(event)
        if step is not None:
            spec, rows = step
            checked = spec.check(event, payload, when)
            row = rows[0]
            if row[0]:  # guarded: the first row whose checks hold wins
                guard_payload = MappingProxyType({**checked, "at": when})
                found = _first_open(rows, ticket, actor, guard_payload)
                if found is None:
                    raise self._illegal(ticket, event, actor, when, "its conditions do not hold")
                row = found
            effect = spec.effect
            changes = {} if effect is None else effect(ticket, checked)
            record_activity(changes, ticket, event, actor, when)
            move = row[1]  # sets the status, unless the row stays
            if move is not None:
                move.record(changes, ticket, when)
        elif event in UPDATES:
            category = self.category(ticket.status)
            if category not in UPDATABLE:
                raise self._illegal(
                    ticket, event, actor, when, f"{category.value} tickets are locked"
                )
            spec = UPDATE_SPECS[event]
            checked = spec.check(event, payload, when)
            changes = {} if spec.effect is None else spec.effect(ticket, checked)
            record_activity(changes, ticket, event, actor, when)
        else:
            self._status(ticket.status)  # a status from another workflow: say so
            # An event of this workflow, just not from this status, needs no reason.
            reason = (
                None if event in self._events else f"workflow {self._name!r} has no such event"
            )
            raise self._illegal(ticket, event, actor, when, reason)
        return next_version(ticket, event, actor, when, changes, body=checked.get("body"))

    def _illegal(
        self, ticket: Ticket, event: str, actor: Actor, at: datetime, reason: str | None
    ) -> IllegalTransition:
        return IllegalTransition(
            ticket.id, ticket.status, event, self.allowed(ticket, actor, at), reason
        )

    def __repr__(self) -> str:
        size = f"{len(self._statuses)} statuses, {len(self._transitions)} transitions"
        return f"<Workflow {self._name!r}: {size}>"


def _first_open(
    rows: Sequence[_Row], ticket: Ticket, actor: Actor, payload: Mapping[str, Any]
) -> _Row | None:
    """Return the first row whose guards all give their expected answer, or None."""
    for row in rows:
        if all(bool(guard(ticket, actor, payload)) is expected for guard, expected in row[0]):
            return row
    return None


def _rows_of(transition: Any, source: str, problems: list[str]) -> Iterable[Transition]:
    guards: list[tuple[str, bool]] = []
    for spec in transition.cond:
        if not isinstance(spec.func, str):
            problems.append(
                f"a transition from {source!r} has guard {spec.func!r}: "
                "give guards as names, resolved through Workflow guards="
            )
            continue
        guards.append((spec.func, bool(spec.expected_value)))
    target = transition.target
    if target is None:
        problems.append(f"a transition from {source!r} has no target status")
        return []
    return [
        Transition(str(event), source, target.id, tuple(guards)) for event in transition.events
    ]


def _problems(
    statuses: Sequence[Status],
    initial: str,
    transitions: Sequence[Transition],
    *,
    guards: Mapping[str, Guard],
    final: frozenset[str],
) -> list[str]:
    """Return every way the declaration breaks the lifecycle's laws, as sentences."""
    problems: list[str] = []
    by_name: dict[str, Status] = {}
    for status in statuses:
        if status.name in by_name:
            problems.append(f"status {status.name!r} is declared twice")
        by_name[status.name] = status
    if initial not in by_name:
        problems.append(
            f"the initial status {initial!r} is not declared"
            if initial
            else "no status is initial"
        )
    elif by_name[initial].category is not Category.NEW:
        problems.append(
            f"the initial status {initial!r} has category {by_name[initial].category.value!r}; "
            "expected 'new'"
        )
    problems.extend(
        f"the final status {name!r} is not declared" for name in sorted(final - set(by_name))
    )
    seen: set[Transition] = set()
    for row in transitions:
        if row in seen:  # its other problems are listed once, with its first declaration
            problems.append(
                f"transition {row.event!r} from {row.source!r} to {row.target!r} is declared twice"
            )
            continue
        seen.add(row)
        problems.extend(_row_problems(row, by_name, guards, final))
    if initial in by_name:
        problems.extend(_graph_problems(by_name, initial, transitions, final))
    return problems


def _row_problems(
    row: Transition,
    statuses: Mapping[str, Status],
    guards: Mapping[str, Guard],
    final: frozenset[str],
) -> list[str]:
    where = f"transition {row.event!r} from {row.source!r} to {row.target!r}"
    problems: list[str] = []
    if not is_name(row.event):
        problems.append(f"{where}: the event name must be {NAME_RULE}, got {row.event!r}")
    elif row.event in UPDATES or row.event in RESERVED:
        problems.append(f"{where}: the event name {row.event!r} is reserved")
    problems.extend(
        f"{where}: status {end!r} is not declared"
        for end in (row.source, row.target)
        if end not in statuses
    )
    if row.source in final:
        problems.append(f"{where}: it leaves the final status {row.source!r}")
    problems.extend(
        f"{where}: guard {guard!r} is not among the guards given"
        for guard, _expected in row.guards
        if guard not in guards
    )
    if row.source in statuses and row.target in statuses:
        source, target = statuses[row.source].category, statuses[row.target].category
        if row.event == MERGE:
            # A merge is the one way into a closed status that skips solved:
            # into a final closed status, which nothing leaves (docs/after-closing.md).
            if target is not Category.CLOSED or row.target not in final:
                problems.append(
                    f"{where}: a merge must lead to a final status of category 'closed', "
                    f"but {row.target!r} is {target.value!r}"
                    + ("" if row.target in final else " and not final")
                )
        elif target is Category.CLOSED and source is not Category.SOLVED and row.moves:
            problems.append(
                f"{where}: a closed status can be entered only from a solved one "
                f"(resolve before close), but {row.source!r} is {source.value!r}"
            )
    return problems


def _graph_problems(
    statuses: Mapping[str, Status],
    initial: str,
    transitions: Sequence[Transition],
    final: frozenset[str],
) -> list[str]:
    edges: dict[str, set[str]] = {status: set() for status in statuses}
    for row in transitions:
        if row.source in edges and row.target in statuses:
            edges[row.source].add(row.target)
    reached = {initial}
    todo = deque([initial])
    while todo:
        for nxt in edges[todo.popleft()] - reached:
            reached.add(nxt)
            todo.append(nxt)
    problems = [
        f"status {status!r} cannot be reached from the initial status {initial!r}"
        for status in statuses
        if status not in reached
    ]
    problems += [
        f"status {status!r} is not final but has no transition out of it"
        for status, targets in edges.items()
        if status not in final and not targets - {status}
    ]
    if not any(statuses[status].category is Category.CLOSED for status in reached):
        problems.append(f"no closed status can be reached from the initial status {initial!r}")
    return problems
