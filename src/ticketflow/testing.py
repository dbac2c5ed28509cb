"""Property-test any workflow: Hypothesis strategies and a ready stateful test.

Point the stateful test at your own workflow (and, if you like, your own policy
and store) and pytest runs it like any test::

    from ticketflow import Workflow
    from ticketflow.testing import workflow_laws

    TestMyWorkflow = workflow_laws(Workflow.from_file("workflow.toml")).TestCase

It opens tickets and fires random events by random actors, mostly ones that
are allowed at that moment (so walks reach resolved, closed and removed
statuses) and sometimes anything at all (so refusals are tried too), with
random clock jumps in between.  After every step it checks the laws that hold
for every workflow:

- a closed-category status is entered only from a solved-category one;
- every ticket's history starts with ``create``, has no gaps, chains each
  event's ``from_status`` to the previous ``to_status``, ends in the stored
  status, and never goes back in time;
- each event's ``changes`` hold exactly the fields that changed, and
  replaying the history gives back the stored ticket;
- an accepted command raises the ticket's version by exactly one; a refused
  one changes nothing at all, in any ticket;
- a purged ticket is gone, with its history.

The strategies are here for tests of your own.  This module needs Hypothesis
(``pip install "ticketflow[testing]"``); the rest of ticketflow does not.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import attrs

try:
    from hypothesis import event as hypothesis_event
    from hypothesis import note, settings
    from hypothesis import strategies as st
    from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule
except ImportError as missing:  # pragma: no cover - depends on the environment
    msg = 'ticketflow.testing needs Hypothesis: pip install "ticketflow[testing]"'
    raise ImportError(msg) from missing

from ticketflow._actor import Actor
from ticketflow._clock import ManualClock
from ticketflow._desk import Helpdesk
from ticketflow._errors import IllegalTransition, InvalidInput, PermissionDenied, TicketNotFound
from ticketflow._events import POSTPONE, UPDATE_SPECS
from ticketflow._history import HistoryEvent, replay
from ticketflow._policy import Policy
from ticketflow._status import Category
from ticketflow._ticket import Contact, Priority, Ticket
from ticketflow._workflow import Workflow
from ticketflow.storage import MemoryStore, Store

__all__ = [
    "START",
    "WorkflowLaws",
    "actors",
    "bodies",
    "check_history",
    "clock_jumps",
    "contacts",
    "event_names",
    "event_sequences",
    "payloads",
    "tickets",
    "workflow_laws",
]

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
"""When the stateful test's clock starts: a Monday morning."""

REFUSALS = (IllegalTransition, PermissionDenied, InvalidInput, TicketNotFound)
"""The errors a refused command raises; any other error fails the test."""

CUSTOMER_IDS = ("ana@example.com", "bruno@example.com")
AGENT_IDS = ("a-1", "a-2")
_DEPARTMENTS = ("billing", "it")
_TAGS = ("billing", "vpn", "urgent", "vip")


def contacts() -> st.SearchStrategy[Contact]:
    """Requesters: two customers, so that tickets have owners and strangers."""
    return st.sampled_from(
        [Contact(name="Ana", email=CUSTOMER_IDS[0]), Contact(name="Bruno", email=CUSTOMER_IDS[1])]
    )


def actors() -> st.SearchStrategy[Actor]:
    """Every role: the two customers, two agents (one granted ``reopen``), admin, owner, system."""
    return st.sampled_from(
        [
            *(Actor.customer(customer) for customer in CUSTOMER_IDS),
            Actor.agent(AGENT_IDS[0], department=_DEPARTMENTS[0]),
            Actor.agent(AGENT_IDS[1], department=_DEPARTMENTS[1], grants={"reopen"}),
            Actor.admin("ad-1"),
            Actor.owner("ow-1"),
            Actor.system(),
        ]
    )


def bodies() -> st.SearchStrategy[str]:
    """Short non-blank messages."""
    return st.text(alphabet="abc xyz.!", min_size=1, max_size=20).filter(str.strip)


def clock_jumps() -> st.SearchStrategy[timedelta]:
    """How far the clock moves between steps: often not at all, up to ten days."""
    return st.one_of(
        st.just(timedelta(0)),
        st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=10)),
    )


def event_names(workflow: Workflow) -> st.SearchStrategy[str]:
    """Any event of ``workflow``: its declared events and the updates every workflow has."""
    return st.sampled_from(sorted(workflow.events))


@st.composite
def payloads(draw: st.DrawFn, event: str, now: datetime = START) -> dict[str, Any]:
    """A payload that fits ``event``, so that refusals come from the lifecycle, not typos.

    ``now`` is the time the command will run at: ``postpone`` gets an ``until``
    from an hour to five days after it.
    """
    body = draw(bodies())
    if event == POSTPONE:
        return {"until": now + draw(st.timedeltas(timedelta(hours=1), timedelta(days=5)))}
    if event in ("agent_reply", "customer_reply", "note"):
        return {"body": body}
    if event in UPDATE_SPECS:
        return draw(_update_payloads(event))
    return draw(st.sampled_from([{}, {"body": body}]))


def _update_payloads(event: str) -> st.SearchStrategy[dict[str, Any]]:
    if event == "assign":
        return st.builds(dict, to=st.sampled_from([None, *AGENT_IDS]))
    if event == "set_priority":
        return st.builds(dict, priority=st.sampled_from(list(Priority)))
    if event == "set_department":
        return st.builds(dict, department=st.sampled_from([None, *_DEPARTMENTS]))
    if event == "update_tags":
        return st.builds(dict, add=st.frozensets(st.sampled_from(_TAGS), min_size=1))
    return st.builds(
        dict, fields=st.fixed_dictionaries({"plan": st.sampled_from(["free", "pro"])})
    )


def event_sequences(
    workflow: Workflow, *, max_size: int = 20, now: datetime = START
) -> st.SearchStrategy[list[tuple[str, dict[str, Any]]]]:
    """Lists of ``(event, payload)`` for ``workflow``, legal or not, to fire in order."""
    step = event_names(workflow).flatmap(
        lambda name: payloads(name, now).map(lambda payload: (name, payload))
    )
    return st.lists(step, max_size=max_size)


@st.composite
def tickets(
    draw: st.DrawFn, workflow: Workflow, *, max_steps: int = 12, start: datetime = START
) -> Ticket:
    """Tickets of ``workflow`` in any reachable state: created, then walked by allowed events.

    The walk runs on the pure core as the system actor, an hour per step, so
    every ticket drawn is one the workflow could really have produced.
    """
    requester = draw(contacts())
    ticket, _created = workflow.create(
        "T-1",
        Actor.customer(requester.id),
        start,
        subject=draw(bodies()),
        description=draw(bodies()),
        requester=requester,
    )
    system = Actor.system()
    for step in range(draw(st.integers(0, max_steps))):
        at = start + timedelta(hours=step + 1)
        allowed = [
            name for name in workflow.allowed(ticket, system, at) if name not in UPDATE_SPECS
        ]
        if not allowed or workflow.purges(ticket.status):
            break
        name = draw(st.sampled_from(allowed))
        try:
            ticket, _record = workflow.apply(ticket, name, system, at, **draw(payloads(name, at)))
        except IllegalTransition:
            continue  # a guard that reads the payload said no
        if workflow.purges(ticket.status):
            break
    return ticket


def check_history(workflow: Workflow, ticket: Ticket, history: Sequence[HistoryEvent]) -> None:
    """Assert every law of one stored ticket and its history (see the module's list)."""
    _law([step.seq for step in history] == list(range(1, ticket.version + 1)), "history gaps")
    _law(history[0].name == "create", "a history starts with create")
    _law(history[-1].to_status == ticket.status, "the last event ends in the stored status")
    _law(replay(history) == ticket, "replaying the history gives back the stored ticket")
    _law(_rebuilt(ticket) == ticket, "the ticket holds only checked, normalised values")
    before = replay(history[:1])
    for index, (earlier, later) in enumerate(itertools.pairwise(history), start=2):
        _law(earlier.at <= later.at, f"event {later.seq} goes back in time")
        _law(later.from_status == earlier.to_status, f"event {later.seq} breaks the chain")
        if later.moved and workflow.category(later.to_status) is Category.CLOSED:
            source = workflow.category(later.from_status or "")
            _law(source is Category.SOLVED, f"event {later.seq} closes a {source.value} ticket")
        after = replay(history[:index])
        changed = {
            field.name
            for field in attrs.fields(Ticket)
            if getattr(before, field.name) != getattr(after, field.name)
        }
        _law(set(later.changes) == changed, f"event {later.seq} misreports its changes")
        before = after


def _law(holds: bool, law: str) -> None:
    """Fail the test with ``law`` unless it holds (an assert that survives ``python -O``)."""
    if not holds:
        raise AssertionError(law)


def _rebuilt(ticket: Ticket) -> Ticket:
    return Ticket(**{field.name: getattr(ticket, field.name) for field in attrs.fields(Ticket)})


class WorkflowLaws(RuleBasedStateMachine):
    """The stateful test behind :func:`workflow_laws`; subclass it to add rules of your own.

    Class attributes (``workflow_laws`` sets them): ``workflow``, ``policy``,
    ``make_store`` (a function returning an empty store) and ``start``.
    """

    workflow: ClassVar[Workflow] = Workflow.default()
    policy: ClassVar[Policy] = Policy.default()
    make_store: ClassVar[Callable[[], Store]] = MemoryStore
    start: ClassVar[datetime] = START

    tickets = Bundle("tickets")

    def __init__(self) -> None:
        super().__init__()
        self.clock = ManualClock(self.start)
        self.store = type(self).make_store()
        self.desk = Helpdesk(
            store=self.store, clock=self.clock, workflow=self.workflow, policy=self.policy
        )
        self.known: set[str] = set()
        self.purged: set[str] = set()

    def snapshot(self) -> dict[str, tuple[Ticket, list[HistoryEvent]]]:
        """Every live ticket and its history, to compare before and after a refusal."""
        return {
            ticket_id: (self.store.get(ticket_id), self.store.history(ticket_id))
            for ticket_id in sorted(self.known - self.purged)
        }

    @initialize(target=tickets, requester=contacts(), subject=bodies())
    def open_first_ticket(self, requester: Contact, subject: str) -> str:
        """Every run starts with a ticket."""
        return self._open(requester, subject)

    @rule(target=tickets, requester=contacts(), subject=bodies())
    def open_ticket(self, requester: Contact, subject: str) -> str:
        """A customer writes in."""
        return self._open(requester, subject)

    def _open(self, requester: Contact, subject: str) -> str:
        ticket = self.desk.open(subject=subject, description="help", requester=requester)
        _law(
            (ticket.status, ticket.version) == (self.workflow.initial, 1),
            "(ticket.status, ticket.version) == (self.workflow.initial, 1)",
        )
        self.known.add(ticket.id)
        return ticket.id

    @rule(jump=clock_jumps())
    def time_passes(self, jump: timedelta) -> None:
        """The clock moves on."""
        self.clock.advance(jump)

    @rule(ticket_id=tickets, actor=actors(), data=st.data())
    def fire_an_event(self, ticket_id: str, actor: Actor, data: st.DataObject) -> None:
        """Mostly a move this actor may make now; sometimes anything, to try refusals."""
        allowed = [] if ticket_id in self.purged else self.desk.allowed_events(ticket_id, actor)
        moves = [name for name in allowed if name not in UPDATE_SPECS]
        mode = data.draw(st.integers(0, 4), label="mode")
        if mode < 3 and moves:
            name = data.draw(st.sampled_from(moves), label="event")
        elif mode == 3 and allowed:
            name = data.draw(st.sampled_from(allowed), label="event")
        else:
            name = data.draw(event_names(self.workflow), label="event")
        payload = data.draw(payloads(name, self.clock.now()), label="payload")
        self.attempt(ticket_id, actor, lambda: self.desk.fire(ticket_id, name, actor, **payload))

    @rule(ticket_id=tickets, actor=actors(), body=bodies())
    def reply(self, ticket_id: str, actor: Actor, body: str) -> None:
        """Someone replies; to a closed ticket, a customer's reply opens a follow-up."""

        def command() -> Ticket:
            result = self.desk.reply(ticket_id, actor, body)
            if result.id != ticket_id:
                _law(result.parent_id == ticket_id, "a follow-up links to the ticket replied to")
                closed = self.workflow.category(self.store.get(ticket_id).status)
                _law(closed is Category.CLOSED, "only a closed ticket gets a follow-up")
                self.known.add(result.id)
            return result

        self.attempt(ticket_id, actor, command)

    def attempt(self, ticket_id: str, actor: Actor, command: Callable[[], Ticket]) -> None:
        """Run ``command``; a refusal must change nothing, an acceptance one version."""
        before = self.snapshot()
        try:
            result = command()
        except REFUSALS:
            _law(self.snapshot() == before, "a refused command changed the store")
            return
        if result.id != ticket_id:
            return
        note(f"{actor.role.value} {actor.id}: {ticket_id} -> {result.status}")
        _law(
            result.version == before[ticket_id][0].version + 1,
            "result.version == before[ticket_id][0].version + 1",
        )
        if self.workflow.purges(result.status):
            self.purged.add(ticket_id)
        hypothesis_event(f"reached {result.status}")

    @invariant()
    def every_stored_ticket_keeps_the_laws(self) -> None:
        """Check every law of every live ticket."""
        for ticket_id in self.known - self.purged:
            check_history(self.workflow, self.store.get(ticket_id), self.store.history(ticket_id))

    @invariant()
    def purged_tickets_are_gone(self) -> None:
        """A purged ticket is not stored, and neither is its history."""
        for ticket_id in self.purged:
            for read in (self.store.get, self.store.history):
                try:
                    read(ticket_id)
                except TicketNotFound:
                    continue
                raise AssertionError(f"{ticket_id} was purged but {read.__name__} finds it")


def workflow_laws(
    workflow: Workflow,
    *,
    policy: Policy | None = None,
    store: Callable[[], Store] = MemoryStore,
    start: datetime = START,
    steps: int = 50,
) -> type[WorkflowLaws]:
    """Return the stateful test of the universal laws, pointed at ``workflow``.

    Args:
        workflow: the workflow under test.
        policy: the permissions to run with (default: ``Policy.default()``,
            under which admins, the owner and the system may fire any event).
        store: makes an empty store for each run (default: ``MemoryStore``).
        start: when the clock starts.
        steps: the most steps a run takes.

    Use its ``TestCase`` as a test: ``TestMine = workflow_laws(mine).TestCase``.
    """

    class Laws(WorkflowLaws):
        pass

    Laws.__name__ = Laws.__qualname__ = f"{workflow.name.title().replace('_', '')}Laws"
    Laws.workflow = workflow
    Laws.policy = policy or Policy.default()
    Laws.make_store = staticmethod(store)
    Laws.start = start
    Laws.TestCase.settings = settings(Laws.TestCase.settings, stateful_step_count=steps)
    return Laws
