"""A store remembers the ledger marks of the tickets it wrote, as of a version.

A commit's schedule asks which rules already acted on the ticket; a store
that wrote the ticket's last version itself answers from memory
(``recent_ledger``), and only while what it remembers is certainly what is
stored: a write inside a batch or a host's transaction (which may roll
back), a purge, or a version it did not write leaves it knowing nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pgserver import migrated_pool, new_tenant
from psycopg_pool import ConnectionPool

from ticketflow import (
    Actor,
    ConcurrencyConflict,
    Contact,
    HistoryEvent,
    Ticket,
    Workflow,
)
from ticketflow.storage import LedgerEntry, PostgresStore, SQLiteStore

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
WORKFLOW = Workflow.default()
AGENT = Actor.agent("a-1")

Remembering = SQLiteStore | PostgresStore


@pytest.fixture(scope="module")
def pool() -> Iterator[ConnectionPool]:
    with migrated_pool() as shared:
        yield shared


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Remembering]:
    if request.param == "sqlite":
        with SQLiteStore(tmp_path / "t.db") as sqlite:
            yield sqlite
    else:
        shared = request.getfixturevalue("pool")
        yield PostgresStore(pool=shared, tenant=new_tenant())


def _opened(store: Remembering) -> Ticket:
    ticket, event = WORKFLOW.create(
        store.new_id(),
        Actor.customer("ana@example.com"),
        START,
        subject="VPN drops",
        description="Every hour.",
        requester=Contact(name="Ana", email="ana@example.com"),
    )
    store.create(ticket, event)
    return ticket


def _replied(ticket: Ticket, minutes: int) -> tuple[Ticket, HistoryEvent]:
    at = START + timedelta(minutes=minutes)
    return WORKFLOW.apply(ticket, "agent_reply", AGENT, at, body=f"at {minutes}")


def test_the_marks_follow_each_commit_the_store_writes_alone(store: Remembering) -> None:
    ticket = _opened(store)
    assert store.recent_ledger(ticket.id, 1) == frozenset()
    first, event = _replied(ticket, 5)
    entry = LedgerEntry("remind", START, START + timedelta(minutes=5))
    store.commit(first, event, 1, (entry for _ in range(1)))  # any iterable, read once
    assert store.recent_ledger(ticket.id, 2) == {("remind", START)}
    assert store.recent_ledger(ticket.id, 1) is None  # only the version it holds
    second, event = _replied(first, 6)
    store.commit(second, event, 2)
    assert store.recent_ledger(ticket.id, 3) == {("remind", START)}
    assert store.fired("remind", ticket.id, START)


def test_a_refused_commit_leaves_the_marks_of_the_stored_version(store: Remembering) -> None:
    ticket = _opened(store)
    first, event = _replied(ticket, 5)
    store.commit(first, event, 1)
    late, late_event = _replied(ticket, 6)
    with pytest.raises(ConcurrencyConflict):
        store.commit(late, late_event, 1, [LedgerEntry("remind", START, START)])
    assert store.recent_ledger(ticket.id, 2) == frozenset()
    assert not store.fired("remind", ticket.id, START)


def test_writes_in_a_batch_are_not_remembered_even_once_it_commits(store: Remembering) -> None:
    ticket = _opened(store)
    first, event = _replied(ticket, 5)
    with store.batch():
        store.commit(first, event, 1, [LedgerEntry("remind", START, START)])
    assert store.recent_ledger(ticket.id, 2) is None
    with store.batch():
        created = _opened(store)
    assert store.recent_ledger(created.id, 1) is None


def test_a_batch_that_rolls_back_leaves_nothing_remembered_of_it(store: Remembering) -> None:
    ticket = _opened(store)
    first, event = _replied(ticket, 5)

    def give_up() -> None:
        with store.batch():
            store.commit(first, event, 1, [LedgerEntry("remind", START, START)])
            raise RuntimeError("the host gives up")

    with pytest.raises(RuntimeError):
        give_up()
    assert store.recent_ledger(ticket.id, 2) is None
    assert store.recent_ledger(ticket.id, 1) is None  # forgotten by the write, undone since
    assert not store.fired("remind", ticket.id, START)


def test_a_purged_ticket_is_forgotten(store: Remembering) -> None:
    ticket = _opened(store)
    store.purge(ticket.id, 1)
    assert store.recent_ledger(ticket.id, 1) is None
