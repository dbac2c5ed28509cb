"""A Helpdesk driven by random actors, events and clock jumps keeps every law.

After every step, for every stored ticket:
- a closed status is entered only from a solved one (resolve before close);
- every status change has its history event, and the events chain;
- replaying the history equals the stored ticket;
- history times never go backwards, and sequence numbers have no gaps;
- each event's changes hold exactly the fields that changed;
- tickets and events built on the workflow's fast path equal what the checking
  constructors build from the same values;
and for every command: an accepted one raises the version by exactly one, a
refused one changes nothing at all.
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any, TypeVar

import attrs
from conftest import START
from hypothesis import event, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule
from strategies import EVENTS, UPDATES, actors, bodies, clock_jumps, contacts, payloads, tags

from ticketflow import (
    Actor,
    Category,
    Contact,
    Helpdesk,
    HistoryEvent,
    IllegalTransition,
    InvalidInput,
    ManualClock,
    PermissionDenied,
    Ticket,
    TicketNotFound,
    replay,
)
from ticketflow.storage import MemoryStore

T = TypeVar("T", Ticket, HistoryEvent)


def rebuilt(kind: type[T], value: T) -> T:
    """Build ``value`` again through its class's checking constructor."""
    return kind(**{field.name: getattr(value, field.name) for field in attrs.fields(kind)})


REFUSALS = (IllegalTransition, PermissionDenied, InvalidInput, TicketNotFound)


class HelpdeskLaws(RuleBasedStateMachine):
    tickets = Bundle("tickets")

    def __init__(self) -> None:
        super().__init__()
        self.clock = ManualClock(START)
        self.store = MemoryStore()
        self.desk = Helpdesk(store=self.store, clock=self.clock)
        self.workflow = self.desk.workflow
        self.purged: set[str] = set()
        self.known: set[str] = set()

    def snapshot(self) -> dict[str, tuple[Ticket, list[HistoryEvent]]]:
        return {
            ticket_id: (self.store.get(ticket_id), self.store.history(ticket_id))
            for ticket_id in sorted(self.known - self.purged)
        }

    @initialize(target=tickets, requester=contacts, subject=bodies, labels=tags)
    def open_first_ticket(self, requester: Contact, subject: str, labels: frozenset[str]) -> str:
        return self.open_ticket(requester, subject, labels)

    @rule(target=tickets, requester=contacts, subject=bodies, labels=tags)
    def open_ticket(self, requester: Contact, subject: str, labels: frozenset[str]) -> str:
        ticket = self.desk.open(
            subject=subject, description="help", requester=requester, tags=labels
        )
        assert (ticket.status, ticket.version) == (self.workflow.initial, 1)
        self.known.add(ticket.id)
        return ticket.id

    @rule(jump=clock_jumps)
    def time_passes(self, jump: timedelta) -> None:
        self.clock.advance(jump)

    @rule(ticket_id=tickets, actor=actors, data=st.data())
    def fire_an_event(self, ticket_id: str, actor: Actor, data: st.DataObject) -> None:
        # Mostly what this actor may do now, so walks get deep (resolve, close,
        # reopen, purge); sometimes anything, so refusals are exercised too.
        allowed = (
            self.desk.allowed_events(ticket_id, actor) if ticket_id not in self.purged else []
        )
        moves = [name for name in allowed if name not in UPDATES]
        mode = data.draw(st.integers(0, 4), label="mode")
        choices = moves if mode < 3 and moves else allowed if mode == 3 and allowed else EVENTS
        event = data.draw(st.sampled_from(choices), label="event")
        payload: dict[str, Any] = data.draw(payloads(event), label="payload")
        if "until" in payload:
            payload["until"] = self.clock.now() + payload["until"]
        self.attempt(ticket_id, actor, lambda: self.desk.fire(ticket_id, event, actor, **payload))

    @rule(ticket_id=tickets, actor=actors, body=bodies)
    def reply(self, ticket_id: str, actor: Actor, body: str) -> None:
        def command() -> Ticket:
            result = self.desk.reply(ticket_id, actor, body)
            if result.id != ticket_id:  # a follow-up to a closed ticket
                assert result.parent_id == ticket_id
                assert self.workflow.category(self.store.get(ticket_id).status) is Category.CLOSED
                self.known.add(result.id)
            return result

        self.attempt(ticket_id, actor, command)

    def attempt(self, ticket_id: str, actor: Actor, command: Any) -> None:
        before = self.snapshot()
        old = before.get(ticket_id)
        try:
            result: Ticket = command()
        except REFUSALS:
            assert self.snapshot() == before, "a refused command changed the store"
            return
        if result.id != ticket_id:
            return
        note(f"accepted: {result.status}")
        assert old is not None
        assert result.version == old[0].version + 1
        if self.workflow.purges(result.status):
            self.purged.add(ticket_id)
            assert actor.role.value in ("admin", "owner", "system")
        event(f"reached {result.status}")

    @invariant()
    def every_stored_ticket_keeps_the_laws(self) -> None:
        for ticket_id in self.known - self.purged:
            ticket = self.store.get(ticket_id)
            history = self.store.history(ticket_id)
            assert [event.seq for event in history] == list(range(1, ticket.version + 1))
            assert replay(history) == ticket
            assert history[-1].to_status == ticket.status
            assert rebuilt(Ticket, ticket) == ticket
            for earlier, later in itertools.pairwise(history):
                assert earlier.at <= later.at
                assert later.from_status == earlier.to_status
                if later.moved and self.workflow.category(later.to_status) is Category.CLOSED:
                    assert self.workflow.category(later.from_status or "") is Category.SOLVED
            before = replay(history[:1])
            for index, step in enumerate(history[1:], start=2):
                assert rebuilt(HistoryEvent, step) == step
                assert all(getattr(before, name) != value for name, value in step.changes.items())
                after = replay(history[:index])
                assert set(step.changes) == {
                    field.name
                    for field in attrs.fields(Ticket)
                    if getattr(before, field.name) != getattr(after, field.name)
                }
                before = after

    @invariant()
    def purged_tickets_are_gone(self) -> None:
        for ticket_id in self.purged:
            try:
                self.store.get(ticket_id)
            except TicketNotFound:
                continue
            raise AssertionError(f"{ticket_id} was purged but is still stored")


TestHelpdeskLaws = HelpdeskLaws.TestCase
TestHelpdeskLaws.settings = settings(stateful_step_count=60)
