"""The outbox on PostgreSQL: writers that commit out of order, readers that never skip.

Transactions draw numbers from a sequence in one order and commit in
another; a reader that moved past a number whose transaction had not yet
committed would never see that record.  These tests hold transactions open
on purpose, and race many writers against a reader, to show it cannot happen.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest
from pgserver import new_tenant, scratch_database

from ticketflow import Actor, Contact, Helpdesk, ManualClock, OutboxRecord
from ticketflow.storage import PostgresStore

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ANA = Contact(name="Ana", email="ana@example.com")
ADMIN = Actor.admin("ad-1")


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    with scratch_database() as dsn:
        with PostgresStore(dsn) as store:
            store.migrate()
        yield dsn


@pytest.fixture
def store(database: str) -> Iterator[PostgresStore]:
    with PostgresStore(database, tenant=new_tenant(), max_connections=4) as opened:
        yield opened


def test_a_record_that_commits_late_comes_after_those_read_before_it(
    database: str, store: PostgresStore
) -> None:
    desk = Helpdesk(store, ManualClock(START), outbox={"note"})
    early = desk.open(subject="Drawn first", description="Commits last.", requester=ANA)
    late = desk.open(subject="Drawn second", description="Commits first.", requester=ANA)
    with psycopg.connect(database) as host:  # a host transaction, held open
        with store.using(host):
            desk.note(early.id, ADMIN, "Drawn first.")
        desk.note(late.id, ADMIN, "Drawn second, committed first.")
        seen = desk.outbox.read()
        assert [record.ticket_id for record in seen] == [late.id]
        host.commit()
    after = desk.outbox.read(after=seen[-1].position)
    assert [record.ticket_id for record in after] == [early.id]
    assert after[0].position > seen[-1].position


def test_a_record_whose_transaction_rolls_back_is_never_read(
    database: str, store: PostgresStore
) -> None:
    desk = Helpdesk(store, ManualClock(START), outbox={"note"})
    ticket = desk.open(subject="Notes", description="Some kept.", requester=ANA)
    with psycopg.connect(database) as host:
        with store.using(host):
            desk.note(ticket.id, ADMIN, "Rolled back.")
        host.rollback()
    desk.note(ticket.id, ADMIN, "Kept.")
    assert [record.payload["body"] for record in desk.outbox.read()] == ["Kept."]


def test_another_drain_of_the_same_consumer_skips_rather_than_waits(
    store: PostgresStore,
) -> None:
    desk = Helpdesk(store, ManualClock(START), outbox=True)
    desk.open(subject="One", description="Record.", requester=ANA)
    inner = []

    def handler(record: OutboxRecord) -> None:
        inner.append(desk.outbox.drain(print, consumer="mail"))

    outer = desk.outbox.drain(handler, consumer="mail")
    assert outer.delivered == 1
    assert [report.claimed for report in inner] == [False]


def test_another_tenant_sees_none_of_the_records(database: str, store: PostgresStore) -> None:
    desk = Helpdesk(store, ManualClock(START), outbox=True)
    desk.open(subject="Mine", description="Only.", requester=ANA)
    with PostgresStore(database, tenant=new_tenant()) as other:
        assert Helpdesk(other).outbox.read() == []


def test_many_writers_committing_out_of_order_and_a_reader_that_never_skips(
    database: str, store: PostgresStore
) -> None:
    """Writers hold their transactions open for random spells; a reader polls all along.

    Every committed record is read exactly once, by position, and each
    ticket's records in history order.
    """
    desk = Helpdesk(store, ManualClock(START), outbox=True)
    writers, rounds = 4, 15
    committed: list[str] = []
    lock = threading.Lock()
    done = threading.Event()
    failures: list[BaseException] = []

    def write(seed: int) -> None:
        rng = random.Random(seed)  # noqa: S311 - spells of waiting, not secrets
        try:
            with psycopg.connect(database) as host:
                for _ in range(rounds):
                    ticket = desk.open(subject="Race", description="On.", requester=ANA)
                    with lock:
                        committed.append(f"{ticket.id}#1")
                    with store.using(host):
                        desk.note(ticket.id, ADMIN, "Held open.")
                        desk.note(ticket.id, ADMIN, "Still open.")
                    time.sleep(rng.random() / 50)  # committed later than others drew
                    if rng.random() < 0.2:
                        host.rollback()
                        continue
                    host.commit()
                    with lock:
                        committed.extend([f"{ticket.id}#2", f"{ticket.id}#3"])
        except BaseException as error:  # noqa: BLE001 - reported by the test's thread
            failures.append(error)

    read: list[OutboxRecord] = []

    def reader() -> None:
        position = 0
        while True:
            finished = done.is_set()
            records = desk.outbox.read(after=position, limit=7)
            read.extend(records)
            if records:
                position = records[-1].position
            elif finished:
                return

    threads = [threading.Thread(target=write, args=(seed,)) for seed in range(writers)]
    polling = threading.Thread(target=reader)
    polling.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    polling.join()
    assert failures == []
    ids = [record.id for record in read]
    assert len(ids) == len(set(ids)), "no record is read twice"
    assert sorted(ids) == sorted(committed), "every committed record is read, no other"
    positions = [record.position for record in read]
    assert positions == sorted(positions)
    seen: dict[str, int] = {}
    for record in read:
        assert seen.get(record.ticket_id, 0) == record.seq - 1, "history order per ticket"
        seen[record.ticket_id] = record.seq


def test_reading_inside_a_host_transaction_neither_blocks_others_nor_numbers_its_own_writes(
    database: str, store: PostgresStore
) -> None:
    desk = Helpdesk(store, ManualClock(START), outbox={"note"})
    ticket = desk.open(subject="Host", description="Transaction.", requester=ANA)
    with psycopg.connect(database) as host:
        with store.using(host):
            desk.note(ticket.id, ADMIN, "Not committed yet.")
            assert desk.outbox.read() == []  # its own record waits for the commit
        with PostgresStore(database, tenant=store.tenant) as other:
            assert Helpdesk(other).outbox.read() == []  # not kept waiting by the host
        host.commit()
    assert [record.payload["body"] for record in desk.outbox.read()] == ["Not committed yet."]


def test_an_older_transaction_drawing_a_later_number_skips_no_reader(
    database: str, store: PostgresStore
) -> None:
    """The case a transaction-id horizon alone gets wrong.

    A begins writing first (its transaction id is the lower) but draws its
    record's number after B; A commits while B is still open.  Reading by
    number below the horizon of running transactions would hand out A's
    record (its id is below B's) and move past B's lower number for good.
    """
    desk = Helpdesk(store, ManualClock(START), outbox={"note"})
    first, second, third = (
        desk.open(subject=name, description="Race.", requester=ANA).id
        for name in ("First", "Second", "Third")
    )
    with psycopg.connect(database) as older, psycopg.connect(database) as younger:
        with store.using(older):
            desk.reply(first, ADMIN, "A writes first: no record, but a transaction id.")
        with store.using(younger):
            desk.note(second, ADMIN, "B draws the lower number.")
        with store.using(older):
            desk.note(third, ADMIN, "A draws the higher number.")
        older.commit()
        seen = desk.outbox.read()
        assert [record.ticket_id for record in seen] == [third]
        younger.commit()
    later = desk.outbox.read(after=seen[-1].position)
    assert [record.ticket_id for record in later] == [second]
