"""MemoryStore: compare-and-set commits, atomic creates, queries and purge."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from support import ADMIN, ANA, START

from ticketflow import ConcurrencyConflict, InvalidInput, Ticket, TicketNotFound, Workflow
from ticketflow.storage import MemoryStore, Store, TicketQuery

WORKFLOW = Workflow.default()


def created(store: MemoryStore) -> Ticket:
    ticket, event = WORKFLOW.create(
        store.new_id(), ADMIN, START, subject="s", description="d", requester=ANA
    )
    store.create(ticket, event)
    return ticket


def test_memory_store_meets_the_store_protocol() -> None:
    assert isinstance(MemoryStore(), Store)


def test_a_commit_with_a_stale_version_raises_and_writes_nothing() -> None:
    store = MemoryStore()
    ticket = created(store)
    first = WORKFLOW.apply(ticket, "resolve", ADMIN, START)
    second = WORKFLOW.apply(ticket, "agent_reply", ADMIN, START, body="hi")
    store.commit(*first, expected_version=1)
    with pytest.raises(ConcurrencyConflict, match="expected version 1, found 2") as conflict:
        store.commit(*second, expected_version=1)
    assert (
        conflict.value.ticket_id,
        conflict.value.expected_version,
        conflict.value.actual_version,
    ) == (
        ticket.id,
        1,
        2,
    )
    assert store.get(ticket.id) == first[0]
    assert [e.name for e in store.history(ticket.id)] == ["create", "resolve"]


def test_a_commit_that_does_not_follow_on_is_refused_as_a_bug() -> None:
    store = MemoryStore()
    ticket = created(store)
    new, event = WORKFLOW.apply(ticket, "resolve", ADMIN, START)
    with pytest.raises(InvalidInput, match="both 3, one past the expected version 2"):
        store.commit(new, event, expected_version=2)
    assert store.get(ticket.id) == ticket


def test_creating_an_existing_id_is_a_conflict() -> None:
    store = MemoryStore()
    ticket = created(store)
    with pytest.raises(ConcurrencyConflict, match="expected version 0, found 1"):
        store.create(ticket, store.history(ticket.id)[0])


def test_a_commit_to_a_purged_ticket_is_a_conflict_with_the_ticket_gone() -> None:
    store = MemoryStore()
    ticket = created(store)
    new, event = WORKFLOW.apply(ticket, "mark_spam", ADMIN, START)
    store.purge(ticket.id, expected_version=1)
    with pytest.raises(ConcurrencyConflict, match="it is gone"):
        store.commit(new, event, expected_version=1)


def test_purge_checks_the_version_and_the_id() -> None:
    store = MemoryStore()
    ticket = created(store)
    with pytest.raises(ConcurrencyConflict):
        store.purge(ticket.id, expected_version=7)
    with pytest.raises(TicketNotFound):
        store.purge("T-404", expected_version=1)
    store.purge(ticket.id, expected_version=1)
    assert len(store) == 0


def test_concurrent_writers_never_lose_an_update() -> None:
    store = MemoryStore()
    ticket = created(store)
    accepted: list[int] = []

    def writer() -> None:
        for _ in range(200):
            stored = store.get(ticket.id)
            new, event = WORKFLOW.apply(stored, "note", ADMIN, START, body="n")
            try:
                store.commit(new, event, stored.version)
            except ConcurrencyConflict:
                continue
            accepted.append(new.version)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(accepted) == list(range(2, 2 + len(accepted)))
    assert len(store.history(ticket.id)) == 1 + len(accepted) == store.get(ticket.id).version


def test_a_query_orders_by_a_time_field_with_missing_values_last_and_ties_by_id() -> None:
    store = MemoryStore()
    tickets = [created(store) for _ in range(3)]
    resolved, event = WORKFLOW.apply(tickets[2], "resolve", ADMIN, START + timedelta(hours=1))
    store.commit(resolved, event, 1)
    found = store.query(TicketQuery(order_by="resolved_at"))
    assert [t.id for t in found] == ["T-3", "T-1", "T-2"]
    assert [t.id for t in store.query(TicketQuery(descending=True))] == ["T-3", "T-2", "T-1"]
    assert store.query(TicketQuery(limit=0)) == []


def test_a_query_accepts_one_status_as_a_string() -> None:
    assert TicketQuery(statuses="new").statuses == {"new"}
