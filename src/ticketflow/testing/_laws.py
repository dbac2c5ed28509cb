"""The stateful test of the laws every workflow keeps, for any workflow, policy and store."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import ClassVar

import attrs
from hypothesis import event as hypothesis_event
from hypothesis import note, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule

from ticketflow._actor import Actor
from ticketflow._clock import ManualClock
from ticketflow._desk import Helpdesk
from ticketflow._errors import (
    IllegalTransition,
    InvalidInput,
    MergeRefused,
    PermissionDenied,
    TicketNotFound,
)
from ticketflow._events import UPDATE_SPECS
from ticketflow._history import HistoryEvent, replay
from ticketflow._names import CREATE, MERGE
from ticketflow._policy import Policy
from ticketflow._reserved import MERGED_FROM, MERGED_INTO
from ticketflow._status import Category
from ticketflow._ticket import Contact, Ticket
from ticketflow._workflow import Workflow
from ticketflow.storage import MemoryStore, Store
from ticketflow.testing._strategies import (
    START,
    actors,
    bodies,
    clock_jumps,
    contacts,
    event_names,
    payloads,
)

REFUSALS = (IllegalTransition, PermissionDenied, InvalidInput, TicketNotFound, MergeRefused)
"""The errors a refused command raises; any other error fails the test."""


def check_history(workflow: Workflow, ticket: Ticket, history: Sequence[HistoryEvent]) -> None:
    """Assert every law of one stored ticket and its history (see the module's list)."""
    law([step.seq for step in history] == list(range(1, ticket.version + 1)), "history gaps")
    law(history[0].name == CREATE, f"a history starts with {CREATE}")
    law(history[-1].to_status == ticket.status, "the last event ends in the stored status")
    law(replay(history) == ticket, "replaying the history gives back the stored ticket")
    law(_rebuilt(ticket) == ticket, "the ticket holds only checked, normalised values")
    before = replay(history[:1])
    for index, (earlier, later) in enumerate(itertools.pairwise(history), start=2):
        law(earlier.at <= later.at, f"event {later.seq} goes back in time")
        law(later.from_status == earlier.to_status, f"event {later.seq} breaks the chain")
        if later.moved and workflow.category(later.to_status) is Category.CLOSED:
            source = workflow.category(later.from_status or "")
            law(
                source is Category.SOLVED
                or (later.name == MERGE and later.to_status in workflow.final),
                f"event {later.seq} closes a {source.value} ticket, and is no merge into "
                "a final status",
            )
        after = replay(history[:index])
        changed = {
            field.name
            for field in attrs.fields(Ticket)
            if getattr(before, field.name) != getattr(after, field.name)
        }
        law(set(later.changes) == changed, f"event {later.seq} misreports its changes")
        before = after


def law(holds: bool, statement: str) -> None:
    """Fail the test with ``statement`` unless it holds (an assert that survives ``python -O``)."""
    if not holds:
        raise AssertionError(statement)


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

    def teardown(self) -> None:
        """Close the store after a run, if it is one that closes (a SQLiteStore does)."""
        close = getattr(self.store, "close", None)
        if callable(close):
            close()

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
        law(
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
        # A merge is made by Helpdesk.merge (the merge rule below), never fired alone.
        moves = [name for name in allowed if name not in UPDATE_SPECS and name != MERGE]
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
        """Someone replies; to a closed ticket, a customer's reply opens a follow-up.

        A customer's reply to a merged ticket goes to the ticket it was merged
        into, while that one takes replies.
        """

        def command() -> Ticket:
            result = self.desk.reply(ticket_id, actor, body)
            if result.id == self.store.get(ticket_id).fields.get(MERGED_INTO):
                return result  # the target's laws are checked with the rest
            if result.id != ticket_id:
                law(result.parent_id == ticket_id, "a follow-up links to the ticket replied to")
                closed = self.workflow.category(self.store.get(ticket_id).status)
                law(closed is Category.CLOSED, "only a closed ticket gets a follow-up")
                self.known.add(result.id)
            return result

        self.attempt(ticket_id, actor, command)

    @rule(ticket_id=tickets, actor=actors(), score=st.sampled_from(["good", "bad", 1, 3, 5]))
    def rate(self, ticket_id: str, actor: Actor, score: str | int) -> None:
        """Someone rates a ticket; accepted, the status stays where it was."""

        def command() -> Ticket:
            before = self.store.get(ticket_id)
            result = self.desk.rate(ticket_id, actor, score)
            law(result.status == before.status, "a rating moves no status")
            return result

        self.attempt(ticket_id, actor, command)

    @rule(ticket_id=tickets, actor=actors(), solution=bodies())
    def review(self, ticket_id: str, actor: Actor, solution: str) -> None:
        """Someone reviews a ticket; accepted, nothing but the version and time changes."""

        def command() -> Ticket:
            before = self.store.get(ticket_id)
            result = self.desk.review(ticket_id, actor, solution=solution)
            same = attrs.evolve(result, version=before.version, updated_at=before.updated_at)
            law(same == before, "a review changes nothing else about the ticket")
            return result

        self.attempt(ticket_id, actor, command)

    @rule(source_id=tickets, target_id=tickets, actor=actors())
    def merge(self, source_id: str, target_id: str, actor: Actor) -> None:
        """Someone merges a ticket into another: both change, or neither."""

        def command() -> Ticket:
            result = self.desk.merge(source_id, actor, into=target_id)
            merged = self.store.get(source_id)
            law(
                merged.status in self.workflow.final
                and self.workflow.category(merged.status) is Category.CLOSED,
                "a merged ticket rests in a final closed status",
            )
            law(merged.fields.get(MERGED_INTO) == target_id, "a merged ticket names its target")
            merged_from = result.fields.get(MERGED_FROM)
            law(
                isinstance(merged_from, tuple) and source_id in merged_from,
                "the target names what was merged in",
            )
            return result

        self.attempt(target_id, actor, command)

    def attempt(self, ticket_id: str, actor: Actor, command: Callable[[], Ticket]) -> None:
        """Run ``command``; a refusal must change nothing, an acceptance one version."""
        before = self.snapshot()
        try:
            result = command()
        except REFUSALS:
            law(self.snapshot() == before, "a refused command changed the store")
            return
        if result.id != ticket_id:
            return
        note(f"{actor.role.value} {actor.id}: {ticket_id} -> {result.status}")
        law(
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
    def merges_never_chain(self) -> None:
        """A merged ticket's target is live, not merged itself, and lists it."""
        for ticket_id in self.known - self.purged:
            target = self.store.get(ticket_id).fields.get(MERGED_INTO)
            if isinstance(target, str) and target not in self.purged:  # a target may go later
                into = self.store.get(target)
                law(MERGED_INTO not in into.fields, f"{ticket_id} merged into a merged ticket")
                merged_from = into.fields.get(MERGED_FROM)
                law(
                    isinstance(merged_from, tuple) and ticket_id in merged_from,
                    f"{target} does not list {ticket_id}",
                )

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
