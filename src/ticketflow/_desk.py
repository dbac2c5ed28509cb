"""The Helpdesk: the one object a host holds, a facade over the rooms that do the work.

It keeps the configuration (store, clock, workflow, policy, hooks, rules, SLA
policies), answers reads, and hands everything else to the room named for it:
commands to :mod:`ticketflow._commands`, the sweep to ``ticketflow.rules``,
clocks and queues to ``ticketflow.sla``, reports to :mod:`ticketflow._metrics`
and workflow changes to :mod:`ticketflow._migration`, each committing through
the one unit of work (:mod:`ticketflow._unit`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

import attrs

from ticketflow import _listing as listing
from ticketflow._actor import Actor
from ticketflow._clock import Clock, SystemClock
from ticketflow._commands import Commands, actor_of, contact_of, ticket_id_of
from ticketflow._errors import FiguresOutOfDate, HookFailed, InvalidInput
from ticketflow._figures import FigureKeeper
from ticketflow._history import HistoryEvent
from ticketflow._merge import Merger
from ticketflow._metrics import MetricsReport, measure, report_of
from ticketflow._migration import WorkflowChange, migrate
from ticketflow._names import (
    ASSIGN,
    CLOSE,
    DELETE,
    MARK_SPAM,
    NOTE,
    POSTPONE,
    PURGE,
    REOPEN,
    RESOLVE,
    RESTORE,
    REVIEW,
    SET_DEPARTMENT,
    SET_FIELDS,
    SET_PRIORITY,
    UPDATE_TAGS,
    WAKE,
)
from ticketflow._outbox import Outbox
from ticketflow._paging import Page
from ticketflow._policy import Policy
from ticketflow._review import Review
from ticketflow._satisfaction import Rating, Satisfaction, Score, rating_of
from ticketflow._selection import selected_statuses
from ticketflow._status import Category
from ticketflow._ticket import Channel, Contact, Priority, Ticket
from ticketflow._unit import Hook, UnitOfWork
from ticketflow._validate import tag_set
from ticketflow._workflow import Workflow
from ticketflow.rules import Due, Rule, RuleReport, default_rules
from ticketflow.rules._context import Context
from ticketflow.rules._sweep import BATCH, Progress, Sweep, unique_rules
from ticketflow.sla import QueueEntry, SLAPolicy, SLAState, sla_rules
from ticketflow.sla._keeping import Progress as SLAProgress
from ticketflow.sla._keeping import SLAKeeping
from ticketflow.sla._measure import SLAClocks
from ticketflow.sla._queue import kept_queue, work_queue
from ticketflow.storage import MemoryStore, Period, Store, TicketQuery
from ticketflow.storage._figures import check_period
from ticketflow.storage._outbox import OutboxStore

__all__ = ["Helpdesk", "Hook"]


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
            are given (those whose events the workflow lacks are left out);
            ``()`` for none.  Rules given must fit the workflow: a status or
            an event it does not have is refused.
        sla_policies: the SLA policies, in order; the first that covers a
            ticket applies (see :meth:`sla`).
        satisfaction: how requesters rate tickets (see :meth:`rate`):
            good/bad by default, within 14 days of the resolution.
        outbox: ``True`` to write an outbox record with every commit (in its
            transaction), or the event names that get one (such as
            ``{"resolve", "close"}``); ``False`` for none.  The store must
            keep an outbox (every store ticketflow ships does).  See
            :attr:`outbox` and ``docs/notifications.md``.

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
        satisfaction: Satisfaction | None = None,
        outbox: bool | Iterable[str] = False,
    ) -> None:
        if store is not None and not isinstance(store, Store):
            raise InvalidInput(
                "store", store, "a Store, such as MemoryStore() or SQLiteStore(path)"
            )
        if clock is not None and (not isinstance(clock, Clock) or isinstance(clock, datetime)):
            raise InvalidInput(
                "clock", clock, "a Clock, such as SystemClock() or ManualClock(start)"
            )
        if satisfaction is not None and not isinstance(satisfaction, Satisfaction):
            raise InvalidInput(
                "satisfaction", satisfaction, "a Satisfaction, such as Satisfaction('one_to_five')"
            )
        self._satisfaction = satisfaction if satisfaction is not None else Satisfaction()
        self._hooks: list[Hook] = _hooks(hooks)
        self._unit = UnitOfWork(
            store if store is not None else MemoryStore(),
            clock if clock is not None else SystemClock(),
            self._hooks,
            retries,
        )
        self._outbox = _outbox(self._unit, outbox)
        self._clocks = SLAClocks(sla_policies)
        # The default rules adapt to the workflow (those it has no event for
        # are left out); rules the host gives must all fit it.
        self._given = None if rules is None else unique_rules(rules)
        self._rules: tuple[Rule, ...] = ()
        self._use(
            workflow if workflow is not None else Workflow.default(),
            policy if policy is not None else Policy.default(),
        )

    def _use(self, workflow: Workflow, policy: Policy) -> None:
        """Take ``workflow`` and ``policy`` (checked) from now on, for every room."""
        if not isinstance(workflow, Workflow):
            raise InvalidInput("workflow", workflow, "a Workflow, such as Workflow.default()")
        if not isinstance(policy, Policy):
            raise InvalidInput("policy", policy, "a Policy, such as Policy.default()")
        rules = self._rules_for(workflow)
        self._check_fits(workflow, rules)  # before anything is taken: a refusal keeps all
        self._rules = rules
        self._workflow = workflow
        self._policy = policy
        self._commands = Commands(self._unit, workflow, policy, self._satisfaction)
        self._merger = Merger(self._unit, workflow, policy)
        self._keeping = SLAKeeping(self._clocks.policies, workflow, self._unit.store)
        self._unit.measure = self._keeping.measure
        self._sweep = Sweep(
            self._unit,
            workflow,
            policy,
            self._rules,
            self._clocks or None,
            covers=(self._clocks.policies,),
        )
        self._figures = FigureKeeper(self._unit.store, workflow, self._clocks)
        self._unit.figure = self._figures.plan

    def _rules_for(self, workflow: Workflow) -> tuple[Rule, ...]:
        """The rules given, or the default rules that ``workflow`` has the events for."""
        if self._given is not None:
            return self._given
        defaults = (*default_rules(), *(sla_rules() if self._clocks else ()))
        return tuple(rule for rule in defaults if not rule.problems(workflow))

    def _check_fits(self, workflow: Workflow, rules: tuple[Rule, ...]) -> None:
        """Refuse a workflow the rules or the SLA policies' conditions cannot fit."""
        problems = [
            f"rule {rule.name!r}: {problem}"
            for rule in rules
            for problem in rule.problems(workflow)
        ] + [
            f"SLA policy {sla.name!r}: {problem}"
            for sla in self._clocks.policies
            if sla.applies_to is not None
            for problem in sla.applies_to.problems(workflow)
        ]
        if problems:
            raise InvalidInput(
                "rules/sla_policies",
                problems,
                f"conditions and events of workflow {workflow.name!r}",
            )

    @property
    def store(self) -> Store:
        """The store the desk reads and writes."""
        return self._unit.store

    @property
    def clock(self) -> Clock:
        """The clock every timestamp comes from."""
        return self._unit.clock

    @property
    def workflow(self) -> Workflow:
        """The workflow commands are applied with."""
        return self._workflow

    @property
    def rules(self) -> tuple[Rule, ...]:
        """The automation rules (see :meth:`run_rules`)."""
        return self._rules

    @property
    def sla_policies(self) -> tuple[SLAPolicy, ...]:
        """The SLA policies, in the order they are tried (see :meth:`sla`)."""
        return self._clocks.policies

    @property
    def policy(self) -> Policy:
        """The permissions commands are checked against."""
        return self._policy

    @property
    def satisfaction(self) -> Satisfaction:
        """How requesters rate tickets: the scale and the window (see :meth:`rate`)."""
        return self._satisfaction

    def subscribe(self, hook: Hook) -> Callable[[], None]:
        """Call ``hook(ticket, event)`` after every commit; return a function that stops it.

        Hooks run after the commit, so they see only what really happened.  If
        hooks raise, the others still run and :class:`HookFailed` is raised
        afterwards; the command has taken effect either way.

        Raises:
            InvalidInput: ``hook`` is not callable.
        """
        if not callable(hook):
            raise InvalidInput("hook", hook, "a function hook(ticket, event)")
        self._hooks.append(hook)
        return lambda: self._hooks.remove(hook) if hook in self._hooks else None

    @property
    def outbox(self) -> Outbox:
        """The outbox: records of the commits, read by position and drained to consumers.

        Readable on any store that keeps one, whether or not this desk
        writes records (``Helpdesk(outbox=...)``): a reader may be another
        process than the writers.

        Raises:
            InvalidInput: the store keeps no outbox.
        """
        if self._outbox is None:
            raise InvalidInput(
                "store", self._unit.store, "a store that keeps an outbox (an OutboxStore)"
            )
        return self._outbox

    # -- reading ---------------------------------------------------------

    def get(self, ticket_id: str) -> Ticket:
        """Return the ticket as stored.

        Raises:
            TicketNotFound: no such ticket.
        """
        return self._unit.store.get(ticket_id_of(ticket_id))

    def history(self, ticket_id: str) -> list[HistoryEvent]:
        """Return the ticket's history, oldest first.

        Raises:
            TicketNotFound: no such ticket.
        """
        return self._unit.store.history(ticket_id_of(ticket_id))

    def allowed_events(self, ticket_id: str, actor: Actor) -> list[str]:
        """Return the events ``actor`` may fire on the ticket now: legal and permitted."""
        actor_of(actor)
        return self._commands.allowed(self._unit.store.get(ticket_id_of(ticket_id)), actor)

    def context(self, ticket_id: str) -> Context:
        """Return the ticket as conditions see it now: its history and SLA clocks read on demand.

        For trying a condition (a rule's, or an SLA policy's ``applies_to``)
        on a stored ticket: ``condition.holds(desk.context(ticket_id))``.

        Raises:
            TicketNotFound: no such ticket.
        """
        ticket = self._unit.store.get(ticket_id_of(ticket_id))
        return self._context(ticket)

    def _context(self, ticket: Ticket, at: datetime | None = None) -> Context:
        return self._sweep.context(ticket, self._unit.now(ticket) if at is None else at)

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
        after: str | None = None,
    ) -> Page[Ticket]:
        """List tickets matching every filter given, a page at a time if ``limit`` is given.

        Args:
            status: a status name, or several.
            category: a category, or several; combined with ``status`` by *and*.
            assignee: actor id the ticket is assigned to.
            department: the ticket's department.
            requester: the requester's contact id.
            tags: tags the ticket must all have.
            order_by: a time field, such as ``"created_at"`` or ``"resolved_at"``.
            descending: newest first.
            limit: at most this many: the size of a page.
            after: the ``next`` cursor of the page before (same filters and
                order), to continue the list past it.

        Returns:
            A :class:`Page` (a list of tickets) whose ``next`` cursor, when
            more tickets follow, continues the list.  Paging is by key (the
            order field's value and the id of the last ticket shown), so
            tickets created during a walk never make it show a ticket twice
            or skip one; a ticket whose order field changes meanwhile may
            move.

        Raises:
            InvalidInput: an unknown status, category or order field, or a
                cursor that is damaged or continues another list.
        """
        query = attrs.evolve(
            self._filters(
                status=status,
                category=category,
                assignee=assignee,
                department=department,
                requester=requester,
                tags=tags,
            ),
            order_by=order_by,
            descending=descending,
            limit=limit,
        )
        return listing.find(self._unit.store, query, after)

    def _filters(
        self,
        *,
        status: str | Iterable[str] | None,
        category: Category | str | Iterable[Category | str] | None,
        assignee: str | None,
        department: str | None,
        requester: str | None,
        tags: Iterable[str],
    ) -> TicketQuery:
        """The query of the filters :meth:`find` and :meth:`search` take."""
        return TicketQuery(
            statuses=selected_statuses(self._workflow, status, category),
            assignee=assignee,
            department=department,
            requester=requester,
            tags=tag_set(tags),
        )

    def search(
        self,
        text: str,
        *,
        status: str | Iterable[str] | None = None,
        category: Category | str | Iterable[Category | str] | None = None,
        assignee: str | None = None,
        department: str | None = None,
        requester: str | None = None,
        tags: Iterable[str] = frozenset(),
        limit: int | None = None,
        after: str | None = None,
    ) -> Page[Ticket]:
        """Find the tickets whose text holds every word of ``text``, best match first.

        A ticket's text is its subject, description, and the bodies of its
        replies and notes (``ticketflow.storage.SEARCHED_EVENTS``).  Words
        are compared without case or accents; ``text`` is read as plain
        words, never as query syntax.  Filters as :meth:`find` takes them.

        Args:
            text: what to look for: one word or several (all must occur).
            status: a status name, or several.
            category: a category, or several; combined with ``status`` by *and*.
            assignee: actor id the ticket is assigned to.
            department: the ticket's department.
            requester: the requester's contact id.
            tags: tags the ticket must all have.
            limit: at most this many: the size of a page.
            after: the ``next`` cursor of the page before (same text and
                filters), to continue the list past it.

        Returns:
            A :class:`Page` of tickets, best score first, ties by id; its
            ``next`` continues the list.  A ticket's score depends on its
            own text alone, so tickets created during a walk never make it
            show a ticket twice or skip one (docs/search.md).

        Raises:
            InvalidInput: ``text`` has no word, a filter is unknown, or the
                cursor is damaged or continues another search.
        """
        filters = self._filters(
            status=status,
            category=category,
            assignee=assignee,
            department=department,
            requester=requester,
            tags=tags,
        )
        return listing.search(self._unit.store, text, filters, limit, after)

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
        return self._commands.create(
            actor_of(actor) if actor is not None else Actor.customer(contact_of(requester).id),
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
        return self._commands.fire(ticket_id, event, actor, payload)

    def _fire(
        self, ticket_id: str, event: str, actor: Actor, payload: Mapping[str, Any]
    ) -> Ticket:
        return self._commands.fire(ticket_id, event, actor, payload)

    def reply(self, ticket_id: str, actor: Actor, body: str) -> Ticket:
        """Add a reply: ``customer_reply`` from a customer, ``agent_reply`` from anyone else.

        A customer reply to a closed ticket, where the workflow does not reopen
        it, opens a new follow-up ticket whose ``parent_id`` is the closed one,
        and returns that.
        """
        return self._commands.reply(ticket_id, actor, body)

    def note(self, ticket_id: str, actor: Actor, body: str) -> Ticket:
        """Add an internal note, which the customer does not see."""
        return self._commands.fire(ticket_id, NOTE, actor, {"body": body})

    def assign(
        self, ticket_id: str, actor: Actor, to: str | None, *, body: str | None = None
    ) -> Ticket:
        """Assign the ticket to the agent with id ``to`` (None: unassign)."""
        return self._commands.fire(ticket_id, ASSIGN, actor, _with_body({"to": to}, body))

    def set_priority(
        self, ticket_id: str, actor: Actor, priority: Priority | str, *, body: str | None = None
    ) -> Ticket:
        """Change the ticket's priority."""
        return self._commands.fire(
            ticket_id, SET_PRIORITY, actor, _with_body({"priority": priority}, body)
        )

    def set_department(
        self, ticket_id: str, actor: Actor, department: str | None, *, body: str | None = None
    ) -> Ticket:
        """Move the ticket to ``department`` (None: no department)."""
        return self._commands.fire(
            ticket_id, SET_DEPARTMENT, actor, _with_body({"department": department}, body)
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
        return self._commands.fire(ticket_id, UPDATE_TAGS, actor, {"add": add, "remove": remove})

    def set_fields(
        self,
        ticket_id: str,
        actor: Actor,
        fields: Mapping[str, Any] | None = None,
        *,
        remove: Iterable[str] = frozenset(),
    ) -> Ticket:
        """Set custom fields (merged into the existing ones) and remove others."""
        return self._commands.fire(
            ticket_id,
            SET_FIELDS,
            actor,
            {"fields": {} if fields is None else fields, "remove": remove},
        )

    def postpone(
        self, ticket_id: str, actor: Actor, until: datetime, *, body: str | None = None
    ) -> Ticket:
        """Set the ticket aside until ``until`` (aware, in the future)."""
        return self._commands.fire(ticket_id, POSTPONE, actor, _with_body({"until": until}, body))

    def wake(self, ticket_id: str, actor: Actor, *, body: str | None = None) -> Ticket:
        """Bring a postponed ticket back: to open, or to new if it was never answered."""
        return self._commands.fire(ticket_id, WAKE, actor, _with_body({}, body))

    def resolve(self, ticket_id: str, actor: Actor, *, body: str | None = None) -> Ticket:
        """Mark the problem fixed; the ticket stays open to the customer's follow-up."""
        return self._commands.fire(ticket_id, RESOLVE, actor, _with_body({}, body))

    def close(self, ticket_id: str, actor: Actor, *, body: str | None = None) -> Ticket:
        """Close a resolved ticket; closing is refused from any other status."""
        return self._commands.fire(ticket_id, CLOSE, actor, _with_body({}, body))

    def reopen(self, ticket_id: str, actor: Actor, *, body: str | None = None) -> Ticket:
        """Reopen a resolved or closed ticket; staff who reopen it become its assignee."""
        return self._commands.fire(ticket_id, REOPEN, actor, _with_body({}, body))

    def mark_spam(self, ticket_id: str, actor: Actor, *, body: str | None = None) -> Ticket:
        """Mark the ticket as spam."""
        return self._commands.fire(ticket_id, MARK_SPAM, actor, _with_body({}, body))

    def delete(self, ticket_id: str, actor: Actor, *, body: str | None = None) -> Ticket:
        """Delete the ticket (it can still be restored until it is purged)."""
        return self._commands.fire(ticket_id, DELETE, actor, _with_body({}, body))

    def restore(self, ticket_id: str, actor: Actor, *, body: str | None = None) -> Ticket:
        """Bring back a spam or deleted ticket: to open, or to new if never answered."""
        return self._commands.fire(ticket_id, RESTORE, actor, _with_body({}, body))

    def purge(self, ticket_id: str, actor: Actor) -> Ticket:
        """Remove a spam or deleted ticket and its history for good; return its last state."""
        return self._commands.fire(ticket_id, PURGE, actor, {})

    # -- after the work: ratings, reviews, merges ------------------------------

    def rate(
        self, ticket_id: str, actor: Actor, score: Score, *, comment: str | None = None
    ) -> Ticket:
        """Rate a resolved or closed ticket: ``"good"``/``"bad"`` or 1-5, as the desk rates.

        Within :attr:`Satisfaction.window` of the resolution (14 days by
        default); a new rating in the window takes the old one's place.  The
        rating is a ``rate`` event (the comment is its body); the status stays
        and a closed ticket stays locked.  By default the requester may rate
        their own tickets, and the host's system actor anyone's.

        Raises:
            InvalidInput: the score is not of the desk's scale, or the comment
                is not text.
            IllegalTransition: the ticket is not resolved or closed, was
                merged, or the window has passed.
            PermissionDenied: ``actor`` may not rate it.
        """
        return self._commands.rate(ticket_id, actor, score, comment)

    def rating(self, ticket_id: str) -> Rating | None:
        """Return the ticket's current rating (None if never rated).

        Raises:
            TicketNotFound: no such ticket.
        """
        ticket = self.get(ticket_id)
        return rating_of(ticket, self._unit.store.history(ticket.id))

    def review(
        self, ticket_id: str, actor: Actor, *, solution: str, lessons: str | None = None
    ) -> Ticket:
        """Record the solution and the lessons learned on a closed ticket.

        A ``closing_review`` event the closed lock allows, whose body holds both in
        the shape :class:`Review` documents; nothing else about the ticket
        changes.  By default agents, admins and the owner may review.

        Raises:
            InvalidInput: the solution or the lessons are not text.
            IllegalTransition: the ticket is not closed, or was merged.
            PermissionDenied: ``actor`` may not review it.
        """
        return self._commands.review(ticket_id, actor, Review(solution, lessons))

    def reviews(self, ticket_id: str) -> list[Review]:
        """Return the ticket's reviews, oldest first.

        Raises:
            TicketNotFound: no such ticket.
        """
        return [
            Review.from_event(event) for event in self.history(ticket_id) if event.name == REVIEW
        ]

    def merge(self, source_id: str, actor: Actor, *, into: str, body: str | None = None) -> Ticket:
        """Merge the ticket ``source_id`` into ``into``; return the target as committed.

        The source fires the workflow's ``merge`` event into a final closed
        status (``merged``) and leaves every queue; the target records what
        came in with a ``merge_in`` event, and the source's requester shares
        it.  Both are committed together, or neither.  See ``docs/after-closing.md``.

        Raises:
            MergeRefused: into itself, into a merged, purged, removed or
                closed ticket, or a source others were merged into.
            TicketNotFound: no source ticket.
            PermissionDenied: ``actor`` may not ``merge`` one of the two.
            IllegalTransition: the workflow has no ``merge`` from the source's status.
        """
        return self._merger.merge(source_id, into, actor, body)

    # -- workflow changes ---------------------------------------------------

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
            HookFailed: hooks raised; every ticket moved all the same, the
                desk uses ``workflow``, and ``result`` holds the moved tickets.
        """
        if not isinstance(workflow, Workflow):
            raise InvalidInput("workflow", workflow, "a Workflow, such as Workflow.default()")
        who = Actor.system() if actor is None else actor_of(actor)
        change = WorkflowChange(self._workflow, workflow, status_map or {})
        self._check_fits(workflow, self._rules_for(workflow))  # before anything moves
        failed: list[HookFailed] = []
        old = self._workflow
        # The moved tickets are scheduled under the new workflow as they are
        # committed; the others are rescheduled after, since the schedule's
        # fingerprint covers the workflow.
        self._use(workflow, self._policy)
        try:
            moved = migrate(self._unit, self._policy, change, who, failed)
        except BaseException:
            self._use(old, self._policy)
            raise
        self._sweep.reschedule()
        self._keeping.recompute()  # the kept clocks' fingerprint covers the workflow too
        self._figures.recompute(batch=500, progress=None)
        if failed:  # every ticket moved and the desk follows the new workflow
            raise HookFailed.of(failed, moved)
        return moved

    # -- automation -------------------------------------------------------

    def run_rules(
        self,
        *,
        dry_run: bool = False,
        limit: int | None = None,
        progress: Progress | None = None,
        batch: int = BATCH,
        stop: Callable[[], bool] | None = None,
    ) -> RuleReport:
        """Apply the automation rules at the clock's now; return what fired.

        Reads only the tickets whose stored next due instant has come (an
        indexed query, so a sweep costs what is due, not what is stored),
        ``batch`` at a time: each batch is claimed and fired on in one store
        transaction, each firing in its own savepoint, and the hooks run once
        the batch has committed.  Any number of processes may sweep at once:
        each due ticket is claimed by one of them (``FOR UPDATE SKIP LOCKED``
        on PostgreSQL, the write lock on SQLite), and a killed one leaves
        nothing claimed.  A batch that fails rolls back whole and its tickets
        are fired one to a transaction, a ticket that fails alone reported as
        a skip.  Each rule acts as the system actor, through the policy and
        the workflow like any command, at most once per ticket and episode:
        the ledger entry is committed with the action.  Rules whose
        conditions do not predict are checked on their candidates after.

        Args:
            dry_run: compute what would fire, commit nothing (each rule is
                tried on the tickets as stored, so a firing that an earlier
                rule's action would prevent is listed too).
            limit: stop after this many firings.
            progress: called as ``progress(what, done, total)`` while sweeping.
            batch: how many due tickets to claim and fire on in one transaction.
            stop: asked before each batch; the sweep ends when it returns True
                (what ``ticketflow worker`` does on SIGTERM).

        Returns:
            The firings, and the firings the workflow or the policy refused.

        Raises:
            InvalidInput: ``limit``, ``progress``, ``batch`` or ``stop`` is malformed.
            ScheduleOutOfDate: stored tickets were scheduled by other rules
                (run :meth:`reschedule`); nothing was fired.
        """
        return self._sweep.run(
            dry_run=dry_run, limit=limit, progress=progress, batch=batch, stop=stop
        )

    def reschedule(self, *, batch: int = 500, progress: Progress | None = None) -> int:
        """Store every ticket's next due instant under this desk's rules; return how many.

        Needed once after the rules, the SLA policies or the workflow change
        (:meth:`run_rules` raises :class:`ScheduleOutOfDate` until then), and
        after upgrading a store written before schedules were stored.  Works
        ``batch`` tickets at a time; interrupted, it resumes where it stopped.
        Run it once every process uses the new rules: a process still on the
        old ones stores old schedules with its commits.

        Args:
            batch: how many tickets to read at a time.
            progress: called as ``progress("reschedule", done, total)``.

        Raises:
            InvalidInput: ``batch`` or ``progress`` is malformed.
        """
        return self._sweep.reschedule(batch=batch, progress=progress)

    @property
    def rules_fingerprint(self) -> str:
        """The fingerprint of what the stored schedule depends on: rules, SLA policies, workflow.

        Stored with each ticket's next due instant; equal in every process
        that runs the same rules.
        """
        return self._sweep.scheduler.fingerprint

    def next_due(self, ticket_id: str) -> Due | None:
        """Return the rule that will act next on the ticket and when, if nothing changes first.

        None if no enabled rule will (or each has already acted for the
        current episode).  A time in the past means due now.

        Raises:
            TicketNotFound: no such ticket.
        """
        ticket_id = ticket_id_of(ticket_id)
        return self._sweep.next_due(ticket_id, clocks=self._keeping.clocks(ticket_id))

    # -- SLAs -------------------------------------------------------------

    def sla(self, ticket_id: str) -> tuple[SLAState, ...]:
        """Return the state of each SLA target on the ticket at the clock's now.

        Read from the clocks kept with the ticket at its last commit, plus the
        calendar's business time from then to now; no history is read.  They
        are measured against the policy in force: the first of
        ``sla_policies`` that covered the ticket when it was created, chosen
        again at each change of its priority or department (see
        ``docs/sla.md``).  Empty if no policy covers it.

        Raises:
            TicketNotFound: no such ticket.
            SLAOutOfDate: the ticket's clocks were kept under other SLA
                policies or another workflow (run :meth:`recompute_sla`).
        """
        ticket_id = ticket_id_of(ticket_id)
        kept = self._keeping.read(ticket_id)
        return self._keeping.states(kept, self._unit.now())

    def recompute_sla(self, *, batch: int = 500, progress: SLAProgress | None = None) -> int:
        """Recompute the kept SLA clocks of every ticket kept otherwise; return how many.

        Needed once after the SLA policies, their calendars or the workflow
        change (:meth:`sla` and ``queue(order="sla")`` raise
        :class:`SLAOutOfDate` until then), and after upgrading a store written
        before SLA clocks were kept: each ticket's history is replayed under
        this desk's policies, as if they had always applied.  Works ``batch``
        tickets at a time, each batch in one store transaction; interrupted,
        it resumes where it stopped.  Run it once every process uses the new
        policies: a process still on the old ones keeps old clocks with its
        commits.

        The stored metric figures depend on the same policies (their key,
        :attr:`figures_key`, covers them): those computed otherwise are
        recomputed too, after the clocks, as :meth:`recompute_figures` does.

        Args:
            batch: how many tickets to recompute in one transaction.
            progress: called as ``progress("recompute_sla", done, total)``,
                then ``progress("figures", done, total)``.

        Raises:
            InvalidInput: ``batch`` or ``progress`` is malformed.
        """
        done = self._keeping.recompute(batch=batch, progress=progress, retries=self._unit.retries)
        self._figures.recompute(batch=batch, progress=progress)
        return done

    @property
    def sla_fingerprint(self) -> str:
        """The fingerprint of what kept SLA clocks depend on: the SLA policies and the workflow.

        Stored with each ticket's clocks; equal in every process that runs the
        same policies.
        """
        return self._keeping.fingerprint

    def queue(
        self,
        *,
        order: str = "sla",
        department: str | None = None,
        assignee: str | None = None,
        priority: Priority | str | None = None,
        category: Category | str | Iterable[Category | str] | None = None,
        limit: int | None = None,
        after: str | None = None,
    ) -> Page[QueueEntry]:
        """Return open work in the order to take it, a page at a time if ``limit`` is given.

        ``order="sla"`` reads the store's index of kept SLA due instants, so
        its cost follows ``limit``, not the number of open tickets.

        Args:
            order: ``"sla"``: the nearest SLA due instant first (a breached
                clock's is the instant it was breached, so breached tickets
                come first), then tickets without a running clock, by id;
                ``"waiting"``: the longest wait for an answer first.
            department: only tickets of this department.
            assignee: only tickets assigned to this actor id.
            priority: only tickets of this priority.
            category: only these categories; by default the active ones
                (new, open, pending, on hold).
            limit: at most this many: the size of a page.
            after: the ``next`` cursor of the page before (same order and
                filters), to continue the queue past it.

        Returns:
            A :class:`Page` of entries (a list) whose ``next`` continues it.

        Raises:
            InvalidInput: an unknown order, priority or category, or a
                cursor that is damaged or continues another queue.
            SLAOutOfDate: ``order="sla"`` while stored SLA clocks were kept
                under other policies (run :meth:`recompute_sla`).
        """
        if order == "sla":
            return kept_queue(
                self._unit.store,
                self._keeping,
                self._workflow,
                self._unit.now(),
                department=department,
                assignee=assignee,
                priority=priority,
                category=category,
                limit=limit,
                after=after,
            )
        return work_queue(
            self._unit.store,
            self._context,
            self._workflow,
            order=order,
            department=department,
            assignee=assignee,
            priority=priority,
            category=category,
            limit=limit,
            after=after,
        )

    # -- metrics ------------------------------------------------------------

    def metrics(
        self,
        query: TicketQuery | None = None,
        *,
        created: Period | tuple[datetime | None, datetime | None] | None = None,
        resolved: Period | tuple[datetime | None, datetime | None] | None = None,
        per_ticket: bool = False,
    ) -> MetricsReport:
        """Return figures over the tickets ``query`` selects (all by default).

        First response and resolution times (medians and 90th percentiles),
        replies, reopens, SLA compliance per target, and the same broken down
        by department, priority, assignee, tag and status.  Business-time
        figures use the calendar of the SLA policy that covers each ticket.

        By default the store adds up the figures each commit stored with its
        ticket (SQL ``GROUP BY`` on SQLite and PostgreSQL), reading no
        history, and the report's ``tickets`` is empty; an SLA clock that
        runs counts as breached once its breach instant has passed.
        ``per_ticket=True`` computes every figure from the histories instead
        (slower, in proportion to the tickets), with each ticket's
        :class:`TicketMetrics` (time in each status, time on hold) in
        ``tickets``; both give the same summaries.

        Args:
            query: which tickets (its filters, order and limit).
            created: only tickets created in this period: a :class:`Period`
                or a ``(start, end)`` pair, start included, end excluded,
                either None for open.
            resolved: only tickets whose resolution stands and fell in this
                period.
            per_ticket: compute from the histories, with per-ticket figures.

        Raises:
            InvalidInput: ``query`` is not a TicketQuery, or a period is malformed.
            FiguresOutOfDate: stored tickets hold figures computed under other
                SLA policies or another workflow (run :meth:`recompute_figures`).
        """
        if query is not None and not isinstance(query, TicketQuery):
            raise InvalidInput("query", query, "None or a TicketQuery")
        if not isinstance(per_ticket, bool):
            raise InvalidInput("per_ticket", per_ticket, "True or False")
        within, solved = check_period(created, "created"), check_period(resolved, "resolved")
        store, now = self._unit.store, self._unit.now()
        if per_ticket:
            tickets = store.query(query or TicketQuery())
            return measure(tickets, self._context, now, created=within, resolved=solved)
        stale = store.count_unfigured(self._figures.key)
        if stale:
            raise FiguresOutOfDate(stale, self._figures.key)
        totals = store.aggregate(query or TicketQuery(), now=now, created=within, resolved=solved)
        return report_of(totals, now)

    def recompute_figures(self, *, batch: int = 500, progress: Progress | None = None) -> int:
        """Store every ticket's figures under this desk's SLA policies; return how many.

        Needed once after the SLA policies or the workflow's statuses change
        (:meth:`metrics` raises :class:`FiguresOutOfDate` until then), and
        after upgrading a store written before figures were stored.  Works
        ``batch`` tickets at a time, each one's history read once;
        interrupted, it resumes where it stopped.  Run it once every process
        uses the new policies: a process still on the old ones stores old
        figures with its commits.

        Args:
            batch: how many tickets to read at a time.
            progress: called as ``progress("figures", done, total)``.

        Raises:
            InvalidInput: ``batch`` or ``progress`` is malformed.
        """
        if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
            raise InvalidInput("batch", batch, "a whole number of at least 1")
        if progress is not None and not callable(progress):
            raise InvalidInput("progress", progress, "None or a function (what, done, total)")
        return self._figures.recompute(batch=batch, progress=progress)

    @property
    def figures_key(self) -> str:
        """The key of what stored figures depend on: the SLA policies and the workflow's statuses.

        Stored with each ticket's figures; equal in every process that runs
        the same policies.
        """
        return self._figures.key

    def __repr__(self) -> str:
        return f"<Helpdesk {self._workflow.name!r} on {self._unit.store!r}>"


def _hooks(hooks: object) -> list[Hook]:
    given = None if isinstance(hooks, (str, bytes)) else _listed(hooks)
    if given is None or not all(callable(hook) for hook in given):
        raise InvalidInput("hooks", hooks, "functions hook(ticket, event), in a list")
    return given


def _outbox(unit: UnitOfWork, outbox: object) -> Outbox | None:
    """Set up the unit's outbox writes as ``outbox`` asks; return the desk's Outbox, if any."""
    store = unit.store if isinstance(unit.store, OutboxStore) else None
    if outbox is False:
        return None if store is None else Outbox(unit, store)
    names = None if outbox is True else _listed(outbox)
    if outbox is not True and (
        isinstance(outbox, (str, bytes))
        or names is None
        or not all(isinstance(name, str) and name for name in names)
    ):
        raise InvalidInput("outbox", outbox, "True, False, or event names such as {'resolve'}")
    if store is None:
        raise InvalidInput("store", unit.store, "a store that keeps an outbox (an OutboxStore)")
    unit.outbox = store
    unit.outbox_events = None if names is None else frozenset(names)
    return Outbox(unit, store)


def _listed(values: object) -> list[Any] | None:
    return list(values) if isinstance(values, Iterable) else None


def _with_body(payload: dict[str, Any], body: str | None) -> dict[str, Any]:
    if body is not None:
        payload["body"] = body
    return payload
