"""The work queue on its own: a store, contexts and a workflow; no Helpdesk."""

from __future__ import annotations

from datetime import timedelta

import pytest
from support import ANA, START

from ticketflow import Actor, InvalidInput, ManualClock, Ticket, Workflow
from ticketflow.rules import Context
from ticketflow.sla import SLAPolicy
from ticketflow.sla._measure import SLAClocks
from ticketflow.sla._queue import work_queue
from ticketflow.storage import MemoryStore

HOUR = timedelta(hours=1)
WORKFLOW = Workflow.default()
AGENT = Actor.agent("a-1")


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


def opened(store: MemoryStore, at: timedelta, priority: str = "normal") -> Ticket:
    ticket, event = WORKFLOW.create(
        store.new_id(), Actor.customer(ANA.id), START + at,
        subject="VPN", description="d", requester=ANA, priority=priority,
    )  # fmt: skip
    store.create(ticket, event)
    return ticket


def contexts_at(store: MemoryStore, clocks: SLAClocks) -> object:
    clock = ManualClock(START + 10 * HOUR)

    def context(ticket: Ticket) -> Context:
        return Context(
            ticket, clock.now(), WORKFLOW, history=lambda: store.history(ticket.id), clocks=clocks
        )

    return context


def test_the_queue_puts_breached_work_first_then_the_nearest_due(store: MemoryStore) -> None:
    clocks = SLAClocks([SLAPolicy("p", first_response=8 * HOUR)])
    late = opened(store, timedelta(0))
    soon = opened(store, 4 * HOUR)
    fresh = opened(store, 9 * HOUR)
    entries = work_queue(store, contexts_at(store, clocks), WORKFLOW)  # type: ignore[arg-type]
    assert [entry.ticket.id for entry in entries] == [late.id, soon.id, fresh.id]
    assert entries[0].breached
    assert entries[1].due_at == START + 12 * HOUR


def test_the_queue_by_wait_puts_the_longest_waiting_first(store: MemoryStore) -> None:
    clocks = SLAClocks([])
    second = opened(store, 2 * HOUR)
    first = opened(store, HOUR)
    entries = work_queue(store, contexts_at(store, clocks), WORKFLOW, order="waiting")  # type: ignore[arg-type]
    assert [entry.ticket.id for entry in entries] == [first.id, second.id]
    assert [entry.waiting_since for entry in entries] == [START + HOUR, START + 2 * HOUR]


def test_the_queue_filters_by_priority_and_limits(store: MemoryStore) -> None:
    opened(store, HOUR)
    urgent = opened(store, 2 * HOUR, priority="urgent")
    contexts = contexts_at(store, SLAClocks([]))
    entries = work_queue(store, contexts, WORKFLOW, priority="urgent", limit=5)  # type: ignore[arg-type]
    assert [entry.ticket.id for entry in entries] == [urgent.id]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"order": "fastest"}, "order must be 'sla' or 'waiting'"),
        ({"limit": -1}, "limit must be None or a whole number"),
        ({"priority": "asap"}, "priority must be one of"),
        ({"category": "finished"}, "category must be one of"),
    ],
)
def test_the_queue_refuses_bad_arguments_by_name(
    store: MemoryStore, arguments: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        work_queue(store, contexts_at(store, SLAClocks([])), WORKFLOW, **arguments)  # type: ignore[arg-type]


def test_sla_clocks_refuse_what_is_not_a_policy() -> None:
    with pytest.raises(InvalidInput, match="sla_policies must be SLAPolicy objects"):
        SLAClocks(["gold"])  # type: ignore[list-item]
