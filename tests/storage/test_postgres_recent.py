"""PostgresStore remembers the tickets it committed, so a command needs one round trip.

A remembered copy is only a starting point: the compare-and-set of the commit
and a second look at the stored row before any refusal keep every command as
correct as if it had read the row.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from pgserver import new_tenant, scratch_database
from psycopg_pool import ConnectionPool

from ticketflow import Actor, Contact, Helpdesk, ManualClock, Ticket
from ticketflow.storage import PostgresStore

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ANA = Contact(name="Ana", email="ana@example.com")
AGENT = Actor.agent("a-1")
ADMIN = Actor.admin("ad-1")


@pytest.fixture(scope="module")
def pool() -> Iterator[ConnectionPool]:
    with scratch_database() as dsn, ConnectionPool(dsn, min_size=1, max_size=4) as shared:
        with PostgresStore(pool=shared) as store:
            store.migrate()
        yield shared


class Reads(PostgresStore):
    """Counts the rows read by id."""

    reads = 0

    def get(self, ticket_id: str) -> Ticket:
        type(self).reads += 1
        return super().get(ticket_id)


def test_a_second_command_on_a_ticket_starts_from_the_remembered_commit(
    pool: ConnectionPool,
) -> None:
    store = Reads(pool=pool, tenant=new_tenant())
    desk = Helpdesk(store=store, clock=ManualClock(START))
    ticket = desk.open(subject="VPN", description="d", requester=ANA)
    Reads.reads = 0
    noted = desk.note(ticket.id, AGENT, "one")
    noted = desk.note(ticket.id, AGENT, "two")
    assert Reads.reads == 0
    assert store.recent(ticket.id) == noted == store.get(ticket.id)


def test_a_ticket_another_process_moved_is_read_again_and_nothing_is_lost(
    pool: ConnectionPool,
) -> None:
    tenant = new_tenant()
    clock = ManualClock(START)
    ours = Helpdesk(store=PostgresStore(pool=pool, tenant=tenant), clock=clock)
    theirs = Helpdesk(store=PostgresStore(pool=pool, tenant=tenant), clock=clock)
    ticket = ours.open(subject="VPN", description="d", requester=ANA)
    theirs.set_priority(ticket.id, ADMIN, "urgent")  # our store remembers version 1
    noted = ours.note(ticket.id, AGENT, "mine")
    assert noted.version == 3
    assert noted.priority.value == "urgent"
    assert [event.name for event in ours.history(ticket.id)] == ["create", "set_priority", "note"]


def test_a_refusal_on_a_remembered_copy_is_decided_on_the_stored_row(
    pool: ConnectionPool,
) -> None:
    tenant = new_tenant()
    clock = ManualClock(START)
    ours = Helpdesk(store=PostgresStore(pool=pool, tenant=tenant), clock=clock)
    theirs = Helpdesk(store=PostgresStore(pool=pool, tenant=tenant), clock=clock)
    ticket = ours.open(subject="VPN", description="d", requester=ANA)
    ours.resolve(ticket.id, ADMIN)  # remembered: resolved, where resolving again is illegal
    theirs.reopen(ticket.id, ADMIN)
    resolved = ours.resolve(ticket.id, ADMIN)  # legal on the stored row: open
    assert resolved.status == "resolved"
    assert resolved.version == 4


def test_nothing_committed_inside_a_host_transaction_is_remembered(
    pool: ConnectionPool,
) -> None:
    store = PostgresStore(pool=pool, tenant=new_tenant())
    desk = Helpdesk(store=store, clock=ManualClock(START))
    ticket = desk.open(subject="VPN", description="d", requester=ANA)
    with pool.connection() as connection:
        with store.using(connection):
            desk.note(ticket.id, AGENT, "may be rolled back")
        assert store.recent(ticket.id) is None
        connection.rollback()
    assert desk.note(ticket.id, AGENT, "kept").version == 2


def test_a_remembered_copy_that_moved_on_costs_no_retry(pool: ConnectionPool) -> None:
    tenant = new_tenant()
    clock = ManualClock(START)
    ours = Helpdesk(store=PostgresStore(pool=pool, tenant=tenant), clock=clock, retries=0)
    theirs = Helpdesk(store=PostgresStore(pool=pool, tenant=tenant), clock=clock)
    ticket = ours.open(subject="VPN", description="d", requester=ANA)
    theirs.note(ticket.id, AGENT, "theirs")
    assert ours.note(ticket.id, AGENT, "ours").version == 3  # no writer raced: no conflict
