"""The Helpdesk: the shell that runs commands against a store, a clock and a policy.

Every command takes the same path: load the ticket, read the clock, check the
policy, apply the workflow (pure), commit the new ticket and its history event
in one compare-and-set step, then run the hooks.  A command refused at any
step before the commit changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

import attrs

from ticketflow._actor import Actor, Role
from ticketflow._clock import Clock, SystemClock
from ticketflow._errors import (
    ConcurrencyConflict,
    HookFailed,
    IllegalTransition,
    InvalidInput,
    PermissionDenied,
    TicketNotFound,
)
from ticketflow._history import HistoryEvent
from ticketflow._metrics import MetricsReport, report, ticket_metrics
from ticketflow._migration import WorkflowChange
from ticketflow._names import AGENT_REPLY, CUSTOMER_REPLY, MIGRATE
from ticketflow._policy import Policy
from ticketflow._status import Category
from ticketflow._ticket import Channel, Contact, Priority, Ticket
from ticketflow._validate import enum_value, tag_set, to_utc
from ticketflow._workflow import Workflow
from ticketflow.rules import Due, Firing, Rule, RuleReport, Skip, default_rules
from ticketflow.sla._clocks import SLAState, sla_states
from ticketflow.sla._conditions import bind, sla_rules
from ticketflow.sla._policy import SLAPolicy, policy_for
from ticketflow.sla._queue import QueueEntry, by_urgency, by_wait, queue_entry
from ticketflow.storage import LedgerEntry, MemoryStore, Store, TicketQuery

Hook = Callable[[Ticket, HistoryEvent], None]
"""Called after each commit with the committed ticket and its new history event."""


class Helpdesk:
    """Runs the ticket lifecycle for a host: the one object a host talks to.

    Args:
        store: where tickets live; defaults to a new ``MemoryStore``.
        clock: where time comes from; defaults to ``SystemClock``.
        workflow: the statuses and transitions; defaults to ``Workflow.default()``.
        policy: who may do what; defaults to ``Policy.default()``.
        hooks: called after every commit, in order (see :meth:`subscribe`).
        retries: how many times a command is re-run from a fresh read when a
            concurrent writer moved the ticket first.  Each retry re-checks the
            policy and the workflow against the ticket as it now stands.
        rules: the automation :meth:`run_rules` applies; defaults to
            ``default_rules()``, and ``sla_rules()`` too when ``sla_policies``
            are given; ``()`` for none.
        sla_policies: the SLA policies, in order; the first that covers a
            ticket applies (see :meth:`sla`).

    >>> from datetime import UTC, datetime
    >>> from ticketflow import Helpdesk, ManualClock, Contact, Actor
    >>> desk = Helpdesk(clock=ManualClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC)))
    >>> ticket = desk.open(subject="Invoice", description="Charged twice.",
    ...                    requester=Contact(name="Ana", email="ana@example.com"))
    >>> ticket.status
    'new'
    >>> desk.reply(ticket.id, Actor.agent("a-1"), "Refunded.").status
    'answered'
    """

    def __init__(
        self,
        store: Store | None = None,
        clock: Clock | None = None,
        workflow: Workflow | None = None,
        policy: Policy | None = None,
        *,
        hooks: Iterable[Hook] = (),
        retries: int = 3,
        rules: Iterable[Rule] | None = None,
        sla_policies: Iterable[SLAPolicy] = (),
    ) -> None:
        if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
            raise InvalidInput("retries", retries, "a whole number, zero or more")
        self._store: Store = store if store is not None else MemoryStore()
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._workflow = workflow if workflow is not None else Workflow.default()
        self._policy = policy if policy is not None else Policy.default()
        self._hooks: list[Hook] = list(hooks)
        self._retries = retries
        self._sla_policies = tuple(sla_policies)
        if rules is None:
            rules = (*default_rules(), *(sla_rules() if self._sla_policies else ()))
        self._given_rules = _unique(rules)
        self._rules = self._bound(self._given_rules)
        for given in self._sla_policies:
            if not isinstance(given, SLAPolicy):
                raise InvalidInput("sla_policies", given, "SLAPolicy objects")

    @property
    def store(self) -> Store:
        """The store the desk reads and writes."""
        return self._store

    @property
    def clock(self) -> Clock:
        """The clock every timestamp comes from."""
        return self._clock

    @property
    def workflow(self) -> Workflow:
        """The workflow commands are applied with."""
        return self._workflow

    @property
    def rules(self) -> tuple[Rule, ...]:
        """The automation rules, as given (see :meth:`run_rules`)."""
        return self._given_rules

    @property
    def policy(self) -> Policy:
        """The permissions commands are checked against."""
        return self._policy

    def subscribe(self, hook: Hook) -> Callable[[], None]:
        """Call ``hook(ticket, event)`` after every commit; return a function that stops it.

        Hooks run after the commit, so they see only what really happened.  If
        hooks raise, the others still run and :class:`HookFailed` is raised
        afterwards; the command has taken effect either way.
        """
        self._hooks.append(hook)
        return lambda: self._hooks.remove(hook)

    # -- reading ---------------------------------------------------------

    def get(self, ticket_id: str) -> Ticket:
        """Return the ticket as stored.

        Raises:
            TicketNotFound: no such ticket.
        """
        return self._store.get(ticket_id)

    def history(self, ticket_id: str) -> list[HistoryEvent]:
        """Return the ticket's history, oldest first."""
        return self._store.history(ticket_id)

    def allowed_events(self, ticket_id: str, actor: Actor) -> list[str]:
        """Return the events ``actor`` may fire on the ticket now: legal and permitted."""
        _actor(actor)
        ticket = self._store.get(ticket_id)
        return self._permitted(
            ticket, actor, self._workflow.allowed(ticket, actor, self._now(ticket))
        )

    def _permitted(self, ticket: Ticket, actor: Actor, events: Iterable[str]) -> list[str]:
        category = self._workflow.category(ticket.status)
        return [
            event
            for event in events
            if self._policy.denial(ticket, actor, event, category) is None
        ]

    def find(
        self,
        *,
        status: str | Iterable[str] | None = None,
        category: Category | str | Iterable[Category | str] | None = None,
        assignee: str | None = None,
        department: str | None = None,
        requester: str | None = None,
        tags: Iterable[str] = frozenset(),
        order_by: str = "created_at",
        descending: bool = False,
        limit: int | None = None,
    ) -> list[Ticket]:
        """List tickets matching every filter given.

        Args:
            status: a status name, or several.
            category: a category, or several; combined with ``status`` by *and*.
            assignee: actor id the ticket is assigned to.
            department: the ticket's department.
            requester: the requester's contact id.
            tags: tags the ticket must all have.
            order_by: a time field, such as ``"created_at"`` or ``"resolved_at"``.
            descending: newest first.
            limit: at most this many.

        Raises:
            InvalidInput: an unknown status, category or order field.
        """
        statuses = self._statuses(status, category)
        return self._store.query(
            TicketQuery(
                statuses=statuses,
                assignee=assignee,
                department=department,
                requester=requester,
                tags=tag_set(tags),
                order_by=order_by,
                descending=descending,
                limit=limit,
            )
        )

    def _statuses(
        self,
        status: str | Iterable[str] | None,
        category: Category | str | Iterable[Category | str] | None,
    ) -> frozenset[str] | None:
        names: frozenset[str] | None = None
        if status is not None:
            names = frozenset({status} if isinstance(status, str) else status)
            for name in names:
                self._workflow.category(name)  # raises InvalidInput for an unknown status
        if category is not None:
            wanted = {category} if isinstance(category, (str, Category)) else set(category)
            kinds = {enum_value(Category, kind, "category") for kind in wanted}
            in_kinds = self._workflow.statuses_in(*kinds)
            names = in_kinds if names is None else names & in_kinds
        return names

    # -- commands ----------------------------------------------------------

    def open(
        self,
        *,
        subject: str,
        description: str,
        requester: Contact,
        priority: Priority | str = Priority.NORMAL,
        channel: Channel | str = Channel.EMAIL,
        tags: Iterable[str] = frozenset(),
        assignee: str | None = None,
        department: str | None = None,
        fields: Mapping[str, Any] | None = None,
        actor: Actor | None = None,
    ) -> Ticket:
        """Open a new ticket in the workflow's initial status.

        Args:
            subject: a one-line summary.
            description: the problem, as the customer described it.
            requester: the customer who asked.
            priority: how urgent it is.
            channel: how it came in (email, phone, chat, portal, api).
            tags: labels for filtering and reports.
            assignee: the agent it goes to, if known.
            department: the department it goes to, if known.
            fields: custom fields.
            actor: who opens it; defaults to the requester, as a customer.

        Raises:
            InvalidInput: an argument is missing or malformed; it is named.
            PermissionDenied: ``actor`` may not open tickets (for this requester).
        """
        return self._create(
            _actor(actor) if actor is not None else Actor.customer(_contact(requester).id),
            subject=subject,
            description=description,
            requester=requester,
            priority=priority,
            channel=channel,
            tags=tags,
            assignee=assignee,
            department=department,
            fields=fields,
        )

    def fire(self, ticket_id: str, event: str, actor: Actor, **payload: Any) -> Ticket:
        """Fire any workflow event on a ticket, as ``actor``; return the ticket after it.

        The named commands below are shorthands for this.  If the event enters a
        status that is final and of category ``removed``, the ticket and its
        history are purged from the store, and the returned ticket is the last
        state it had.

        Raises:
            TicketNotFound: no such ticket.
            PermissionDenied: the policy does not let ``actor`` do it.
            IllegalTransition: the workflow does not allow it now.
            InvalidInput: the payload is wrong for the event.
            ConcurrencyConflict: other writers kept moving the ticket, more
                than ``retries`` times.
        """
        return self._run(ticket_id, event, actor, payload)

    def reply(self, ticket_id: str, actor: Actor, body: str) -> Ticket:
        """Add a reply: ``customer_reply`` from a customer, ``agent_reply`` from anyone else.

        A customer reply to a closed ticket, where the workflow does not reopen
        it, opens a new follow-up ticket whose ``parent_id`` is the closed one,
        and returns that.
        """
        if _actor(actor).role is not Role.CUSTOMER:
            return self._run(ticket_id, AGENT_REPLY, actor, {"body": body})
        ticket = self._store.get(ticket_id)
        category = self._workflow.category(ticket.status)
        if category is Category.CLOSED and CUSTOMER_REPLY not in self._workflow.allowed(
            ticket, actor, self._now(ticket)
        ):
            self._policy.check(ticket, actor, CUSTOMER_REPLY, category)
            return self._create(
                actor,
                subject=ticket.subject,
                description=body,
                requester=ticket.requester,
                priority=ticket.priority,
                channel=ticket.channel,
                tags=ticket.tags,
                assignee=ticket.assignee,
                department=ticket.department,
                fields=ticket.fields,
                parent_id=ticket.id,
            )
        return self._run(ticket_id, CUSTOMER_REPLY, actor, {"body": body})

    def note(self, ticket_id: str, actor: Actor, body: str) -> Ticket:
        """Add an internal note, which the customer does not see."""
        return self._run(ticket_id, "note", actor, {"body": body})

    def assign(
        self, ticket_id: str, actor: Actor, to: str | None, *, body: str | None = None
    ) -> Ticket:
        """Assign the ticket to the agent with id ``to`` (None: unassign)."""
        return self._run(ticket_id, "assign", actor, _with_body({"to": to}, body))

    def set_priority(
        self, ticket_id: str, actor: Actor, priority: Priority | str, *, body: str | None = None
    ) -> Ticket:
        """Change the ticket's priority."""
        return self._run(
            ticket_id, "set_priority", actor, _with_body({"priority": priority}, body)
        )

    def set_department(
        self, ticket_id: str, actor: Actor, department: str | None, *, body: str | None = None
    ) -> Ticket:
        """Move the ticket to ``department`` (None: no department)."""
        return self._run(
            ticket_id, "set_department", actor, _with_body({"department": department}, body)
        )

    def update_tags(
        self,
        ticket_id: str,
        actor: Actor,
        *,
        add: Iterable[str] = frozenset(),
        remove: Iterable[str] = frozenset(),
    ) -> Ticket:
        """Add and remove tags in one step."""
        return self._run(ticket_id, "update_tags", actor, {"add": add, "remove": remove})

    def set_fields(
        self,
        ticket_id: str,
        actor: Actor,
        fields: Mapping[str, Any] | None = None,
        *,
        remove: Iterable[str] = frozenset(),
    ) -> Ticket:
        """Set custom fields (merged into the existing ones) and remove others."""
        return self._run(
            ticket_id, "set_fields", actor, {"fields": fields or {}, "remove": frozenset(remove)}
        )

    def postpone(
        self, ticket_id: str, actor: Actor, until: datetime, *, body: str | None = None
    ) -> Ticket:
        """Set the ticket aside until ``until`` (aware, in the future)."""
        return self._run(ticket_id, "postpone", actor, _with_body({"until": until}, body))

    def wake(self, ticket_id: str, actor: Actor, *, body: str | None = None) -> Ticket:
        """Bring a postponed ticket back: to open, or to new if it was never answered."""
        return self._run(ticket_id, "wake", actor, _with_body({}, body))

    def resolve(self, ticket_id: str, actor: Actor, *, body: str | None = None) -> Ticket:
        """Mark the problem fixed; the ticket stays open to the customer's follow-up."""
        return self._run(ticket_id, "resolve", actor, _with_body({}, body))

    def close(self, ticket_id: str, actor: Actor, *, body: str | None = None) -> Ticket:
        """Close a resolved ticket; closing is refused from any other status."""
        return self._run(ticket_id, "close", actor, _with_body({}, body))

    def reopen(self, ticket_id: str, actor: Actor, *, body: str | None = None) -> Ticket:
        """Reopen a resolved or closed ticket; staff who reopen it become its assignee."""
        return self._run(ticket_id, "reopen", actor, _with_body({}, body))

    def mark_spam(self, ticket_id: str, actor: Actor, *, body: str | None = None) -> Ticket:
        """Mark the ticket as spam."""
        return self._run(ticket_id, "mark_spam", actor, _with_body({}, body))

    def delete(self, ticket_id: str, actor: Actor, *, body: str | None = None) -> Ticket:
        """Delete the ticket (it can still be restored until it is purged)."""
        return self._run(ticket_id, "delete", actor, _with_body({}, body))

    def restore(self, ticket_id: str, actor: Actor, *, body: str | None = None) -> Ticket:
        """Bring back a spam or deleted ticket: to open, or to new if never answered."""
        return self._run(ticket_id, "restore", actor, _with_body({}, body))

    def purge(self, ticket_id: str, actor: Actor) -> Ticket:
        """Remove a spam or deleted ticket and its history for good; return its last state."""
        return self._run(ticket_id, "purge", actor, {})

    # -- the path every command takes ---------------------------------------

    def _now(self, ticket: Ticket | None = None) -> datetime:
        now = to_utc(self._clock.now(), "clock.now()")
        # Clocks of several hosts can disagree by a little; history must not go backwards.
        if ticket is not None and now < ticket.updated_at:
            return ticket.updated_at
        return now

    def _create(self, actor: Actor, **arguments: Any) -> Ticket:
        ticket, event = self._workflow.create(
            self._store.new_id(), actor, self._now(), **arguments
        )
        self._policy.check(ticket, actor, "create", self._workflow.category(ticket.status))
        self._store.create(ticket, event)
        self._notify(ticket, event)
        return ticket

    def _run(self, ticket_id: str, event: str, actor: Actor, payload: Mapping[str, Any]) -> Ticket:
        _actor(actor)

        def step(ticket: Ticket) -> _Change:
            category = self._workflow.category(ticket.status)
            self._policy.check(ticket, actor, event, category)
            try:
                return _Change(
                    *self._workflow.apply(ticket, event, actor, self._now(ticket), **payload)
                )
            except IllegalTransition as illegal:
                # Tell the actor what *they* may do now, not what anyone could.
                permitted = self._permitted(ticket, actor, illegal.allowed)
                raise IllegalTransition(
                    ticket.id, ticket.status, event, permitted, illegal.reason
                ) from None

        new = self._commit(ticket_id, step, self._workflow.purges)
        assert new is not None  # noqa: S101 - step never returns None
        return new

    def _commit(
        self,
        ticket_id: str,
        step: Callable[[Ticket], _Change | None],
        purges: Callable[[str], bool],
    ) -> Ticket | None:
        """Read the ticket, run ``step`` on it, commit what it returns, run the hooks.

        On a conflict the ticket is read again and ``step`` re-run (so every
        check sees the ticket as it now stands), up to ``retries`` times.  A
        result entering a status that ``purges`` removes the ticket instead.
        """
        attempt = 0
        while True:
            ticket = self._store.get(ticket_id)
            result = step(ticket)
            if result is None:
                return None
            new, record, ledger = result
            try:
                if purges(new.status):
                    self._store.purge(ticket.id, ticket.version)
                elif ledger:
                    self._store.commit(new, record, ticket.version, ledger)
                else:  # as stores written before the ledger existed are called
                    self._store.commit(new, record, ticket.version)
            except ConcurrencyConflict:
                attempt += 1
                if attempt > self._retries:
                    raise
                continue
            if self._hooks:
                self._notify(new, record)
            return new

    def change_workflow(
        self,
        workflow: Workflow,
        status_map: Mapping[str, str] | None = None,
        *,
        actor: Actor | None = None,
    ) -> list[Ticket]:
        """Move every stored ticket to ``workflow`` and use it from now on.

        Each ticket whose status gets a new name is committed with a
        ``migrate`` history event (from the old name to the new one); the
        others are left as they are.  Hooks run for each moved ticket.

        Args:
            workflow: the workflow to use from now on.
            status_map: old status name -> new status name; statuses that
                ``workflow`` also has keep their names unless mapped.
            actor: who makes the change (default: the system actor); the
                policy must grant them ``migrate`` on every ticket that moves.

        Returns:
            The moved tickets, as committed, in creation order.

        Raises:
            InvalidWorkflow: the map leaves a status without a place, names
                statuses that do not exist, or would break a law (see
                :class:`WorkflowChange`).  Nothing is moved.
            PermissionDenied: ``actor`` may not migrate one of the tickets.
                Nothing is moved.
        """
        who = Actor.system() if actor is None else _actor(actor)
        change = WorkflowChange(self._workflow, workflow, status_map or {})
        query = TicketQuery(statuses=frozenset(change.moves), limit=None)
        due = self._store.query(query) if change.moves else []
        for ticket in due:  # every permission first, so a refusal moves nothing
            self._policy.check(ticket, who, MIGRATE, self._workflow.category(ticket.status))
        moved = [self._migrate(change, ticket.id, who) for ticket in due]
        self._workflow = workflow
        self._rules = self._bound(self._given_rules)
        return [ticket for ticket in moved if ticket is not None]

    def _migrate(self, change: WorkflowChange, ticket_id: str, actor: Actor) -> Ticket | None:
        def step(ticket: Ticket) -> _Change | None:
            moved = change.apply(ticket, actor, self._now(ticket))
            return None if moved is None else _Change(*moved)

        # A change never purges: WorkflowChange refuses maps into purging statuses.
        return self._commit(ticket_id, step, lambda _status: False)

    # -- automation -------------------------------------------------------

    def _bound(self, rules: tuple[Rule, ...]) -> tuple[Rule, ...]:
        workflow = self._workflow

        def of(categories: frozenset[Category]) -> frozenset[str]:
            return workflow.statuses_in(*categories)

        def clocks(ticket: Ticket, now: datetime) -> Sequence[SLAState]:
            return self._clocks(ticket, None, now)[1]

        return tuple(attrs.evolve(rule, when=bind(rule.when, of, clocks)) for rule in rules)

    def _clocks(
        self, ticket: Ticket, history: Sequence[HistoryEvent] | None, now: datetime
    ) -> tuple[SLAPolicy | None, tuple[SLAState, ...]]:
        """The policy covering ``ticket`` and its clocks at ``now`` (history read if not given)."""
        policy = policy_for(self._sla_policies, ticket, now)
        if policy is None:
            return None, ()
        events = self._store.history(ticket.id) if history is None else history
        return policy, tuple(sla_states(policy, self._workflow, events, now))

    def run_rules(
        self,
        *,
        dry_run: bool = False,
        limit: int | None = None,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> RuleReport:
        """Apply the automation rules at the clock's now; return what fired.

        Each enabled rule asks the store for its candidates (an indexed query,
        so a sweep costs in proportion to the tickets that are due), checks
        its condition on each, and acts as the system actor, through the
        policy and the workflow like any command.  A rule acts at most once
        per ticket and episode: the ledger entry is committed with the action,
        so sweeping again, later, or from another process at the same time
        never repeats it.

        Args:
            dry_run: compute what would fire, commit nothing.
            limit: stop after this many firings.
            progress: called as ``progress(rule, done, candidates)`` while sweeping.

        Returns:
            The firings, and the firings the workflow or the policy refused.
        """
        if limit is not None and (not isinstance(limit, int) or limit < 0):
            raise InvalidInput("limit", limit, "None or a whole number, zero or more")
        now = self._now()
        fired: list[Firing] = []
        skipped: list[Skip] = []
        for rule in self._rules:
            if not rule.enabled:
                continue
            candidates = self._store.query(rule.candidates(now))
            for done, candidate in enumerate(candidates, start=1):
                if limit is not None and len(fired) >= limit:
                    break
                try:
                    firing = self._sweep_one(rule, candidate.id, now, dry_run=dry_run)
                except (IllegalTransition, PermissionDenied, InvalidInput) as refused:
                    skipped.append(Skip(rule.name, candidate.id, str(refused)))
                    firing = None
                except TicketNotFound:
                    firing = None  # purged since the query
                if firing is not None:
                    fired.append(firing)
                if progress is not None:
                    progress(rule.name, done, len(candidates))
        return RuleReport(now, dry_run, tuple(fired), tuple(skipped))

    def _sweep_one(
        self, rule: Rule, ticket_id: str, now: datetime, *, dry_run: bool
    ) -> Firing | None:
        found: list[Firing] = []

        def step(ticket: Ticket) -> _Change | None:
            found.clear()
            if not rule.when.holds(ticket, now):
                return None
            episode = rule.episode(ticket, now) or ticket.created_at
            if self._store.fired(rule.name, ticket.id, episode):
                return None
            action = rule.action
            history = self._store.history(ticket.id) if callable(action.payload) else []
            at = max(now, ticket.updated_at)
            self._policy.check(
                ticket, _SYSTEM, action.event, self._workflow.category(ticket.status)
            )
            new, record = self._workflow.apply(
                ticket, action.event, _SYSTEM, at, **action.arguments(ticket, history)
            )
            found.append(
                Firing(rule.name, ticket.id, episode, action.event, ticket.status, new.status, at)
            )
            return (
                None if dry_run else _Change(new, record, (LedgerEntry(rule.name, episode, at),))
            )

        self._commit(ticket_id, step, self._workflow.purges)
        return found[0] if found else None

    def next_due(self, ticket_id: str) -> Due | None:
        """Return the rule that will act next on the ticket and when, if nothing changes first.

        None if no enabled rule will (or each has already acted for the
        current episode).  A time in the past means due now.

        Raises:
            TicketNotFound: no such ticket.
        """
        ticket = self._store.get(ticket_id)
        best: Due | None = None
        for rule in self._rules:
            when = rule.when.when(ticket) if rule.enabled else None
            if when is None:
                continue
            episode = rule.episode(ticket, self._now(ticket)) or ticket.created_at
            if self._store.fired(rule.name, ticket.id, episode):
                continue
            at = max(when, ticket.created_at)
            if best is None or at < best.at:
                best = Due(rule.name, at)
        return best

    # -- SLAs -------------------------------------------------------------

    def sla(self, ticket_id: str) -> tuple[SLAState, ...]:
        """Return the state of each SLA target on the ticket at the clock's now.

        Computed from the ticket's history under the first of ``sla_policies``
        that covers it; empty if none does.

        Raises:
            TicketNotFound: no such ticket.
        """
        ticket = self._store.get(ticket_id)
        return self._clocks(ticket, None, self._now(ticket))[1]

    def queue(
        self,
        *,
        order: str = "sla",
        department: str | None = None,
        assignee: str | None = None,
        priority: Priority | str | None = None,
        category: Category | str | Iterable[Category | str] | None = None,
        limit: int | None = None,
    ) -> list[QueueEntry]:
        """Return open work in the order to take it.

        Args:
            order: ``"sla"``: breached first, then the nearest SLA due time,
                then tickets without a running clock; ``"waiting"``: the
                longest wait for an answer first.
            department: only tickets of this department.
            assignee: only tickets assigned to this actor id.
            priority: only tickets of this priority.
            category: only these categories; by default the active ones
                (new, open, pending, on hold).
            limit: at most this many.

        Raises:
            InvalidInput: an unknown order, priority or category.
        """
        keys = {"sla": by_urgency, "waiting": by_wait}
        if order not in keys:
            raise InvalidInput("order", order, "'sla' or 'waiting'")
        wanted = enum_value(Priority, priority, "priority") if priority is not None else None
        if category is None:
            category = [c for c in Category if c.is_active]
        statuses = self._statuses(None, category)
        tickets = self._store.query(
            TicketQuery(statuses=statuses, department=department, assignee=assignee)
        )
        entries = []
        for ticket in tickets:
            if wanted is not None and ticket.priority is not wanted:
                continue
            history = self._store.history(ticket.id)
            _policy, states = self._clocks(ticket, history, self._now(ticket))
            entries.append(queue_entry(ticket, states, history))
        entries.sort(key=keys[order])
        return entries if limit is None else entries[:limit]

    # -- metrics ------------------------------------------------------------

    def metrics(self, query: TicketQuery | None = None) -> MetricsReport:
        """Return figures over the tickets ``query`` selects (all by default), from history.

        First response and resolution times (medians), replies, reopens, time
        in each status, SLA compliance per target, and the same broken down by
        department, priority, assignee, tag and status.  Business-time figures
        use the calendar of the SLA policy that covers each ticket.
        """
        now = self._now()
        figures, slas = [], {}
        for ticket in self._store.query(query or TicketQuery()):
            history = self._store.history(ticket.id)
            at = max(now, ticket.updated_at)
            policy, states = self._clocks(ticket, history, at)
            calendar = None if policy is None else policy.calendar
            figures.append(ticket_metrics(ticket, history, self._workflow, at, calendar))
            if policy is not None:
                slas[ticket.id] = states
        return report(figures, slas, now)

    def _notify(self, ticket: Ticket, event: HistoryEvent) -> None:
        errors: list[BaseException] = []
        for hook in list(self._hooks):
            try:
                hook(ticket, event)
            except Exception as error:  # noqa: BLE001 - every hook runs; all failures are reported together
                errors.append(error)
        if errors:
            raise HookFailed(ticket, errors)

    def __repr__(self) -> str:
        return f"<Helpdesk {self._workflow.name!r} on {self._store!r}>"


def _with_body(payload: dict[str, Any], body: str | None) -> dict[str, Any]:
    if body is not None:
        payload["body"] = body
    return payload


class _Change(NamedTuple):
    """What a command step produced: the new ticket, its event, and ledger entries to keep."""

    ticket: Ticket
    event: HistoryEvent
    ledger: Sequence[LedgerEntry] = ()


_SYSTEM = Actor.system()


def _unique(rules: Iterable[Rule]) -> tuple[Rule, ...]:
    given = tuple(rules)
    for rule in given:
        if not isinstance(rule, Rule):
            raise InvalidInput("rules", rule, "Rule objects, such as those of default_rules()")
    names = [rule.name for rule in given]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise InvalidInput("rules", twice, "rules with unique names")
    return given


def _actor(actor: object) -> Actor:
    if not isinstance(actor, Actor):
        raise InvalidInput("actor", actor, "an Actor, such as Actor.agent('a-1')")
    return actor


def _contact(requester: object) -> Contact:
    if not isinstance(requester, Contact):
        raise InvalidInput(
            "requester", requester, "a Contact, such as Contact(name=..., email=...)"
        )
    return requester
