"""The issue's proof of many sweepers: worker processes share the due tickets, one is killed.

Every run starts from a copy of one set of resolved tickets, each due for
``auto_close`` and for nothing else at :data:`SWEEP_AT`; 4 worker processes on
a SQLite file, or 8 on PostgreSQL, sweep them at once (``tests/pgworkers.py
sweep``, the clock stopped at :data:`SWEEP_AT`), and one of them, chosen at
random, is killed with SIGKILL at a random moment once it has kept some
firings.  The others go on until nothing is due.  Then every ticket was
closed exactly once: one ``close`` event and one ledger row each, as many
ledger rows as firings as ``close`` events, no ticket due, every history
gap-free and replaying to the stored ticket, and no worker reported a ticket
another one fired, or anything skipped.

The tickets are made once, by a desk on a MemoryStore (so they are real:
their histories replay to them, their schedules are the desk's), and written
with the store's codec into a SQLite file and a PostgreSQL database that each
run copies (``CREATE DATABASE ... TEMPLATE`` on the server).

Marked ``slow``; CI runs them, at a reduced size (:data:`SQLITE_TICKETS`,
:data:`POSTGRES_TICKETS`).  At the issue's size (``TICKETFLOW_FULL_PROOFS=1``,
20,000 due tickets, 10 runs each) both passed on the 2-core machine of
2026-12-02: SQLite in 2 min 7 s (7 to 20 s a run), PostgreSQL in 8 min 40 s
(30 to 104 s a run, the server shared with other work); and again on
2026-12-03, after the sweeps' batches were written together and pipelined:
both in 3 min 31 s, PostgreSQL 9 to 15 s a run.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import psycopg
import pytest
from pgserver import scratch_database
from support import AGENT, ANA

from ticketflow import Helpdesk, ManualClock, Role, replay
from ticketflow.storage import MemoryStore, PostgresStore, SQLiteStore, Store, _postgres, _sqlite
from ticketflow.storage._codec import COLUMNS, EVENT_COLUMNS, event_row, ticket_row, time_in

pytestmark = pytest.mark.slow

WORKERS = Path(__file__).parent.parent / "pgworkers.py"

FULL = os.environ.get("TICKETFLOW_FULL_PROOFS") == "1"
"""Run at the issue's size (20,000 due tickets) rather than the suite's."""

SQLITE_TICKETS = 20_000 if FULL else 5_000
POSTGRES_TICKETS = 20_000 if FULL else 2_000
"""How many tickets are due in every run: the issue's 20,000 with ``TICKETFLOW_FULL_PROOFS=1``.

The suite runs fewer, to stay within its time: PostgreSQL sweeps about 200
tickets a second here (8 workers on 2 cores), SQLite about 1,000.
"""

RUNS = 10
BATCH = 100

CREATED = datetime(2026, 11, 2, 9, tzinfo=UTC)
RESOLVED = CREATED + timedelta(hours=1)
SWEEP_AT = RESOLVED + timedelta(days=7, hours=1)
"""An hour after ``auto_close`` became due (7 days after resolving): no other rule is due."""

TENANT = "acme"


class Made(NamedTuple):
    """The due tickets as a desk made them, and their rows as the stores' codec writes them."""

    store: MemoryStore
    ids: list[str]
    tickets: list[tuple[Any, ...]]
    """Rows of :data:`COLUMNS`, then ``next_due_at`` and ``schedule``."""
    events: list[list[tuple[Any, ...]]]
    """Each ticket's event rows."""


@pytest.fixture(scope="module")
def made() -> Made:
    clock = ManualClock(CREATED)
    store = MemoryStore()
    desk = Helpdesk(store=store, clock=clock)
    ids = [
        desk.open(subject=f"VPN {n}", description="It drops.", requester=ANA, assignee=AGENT.id).id
        for n in range(max(SQLITE_TICKETS, POSTGRES_TICKETS))
    ]
    clock.advance(RESOLVED - CREATED)
    for ticket_id in ids:
        desk.resolve(ticket_id, AGENT, body="Restarted the gateway.")
    assert store.count_due(SWEEP_AT) == len(ids)
    assert store.count_due(SWEEP_AT - timedelta(hours=1, microseconds=1)) == 0
    tickets, events = [], []
    for ticket_id in ids:
        ticket, schedule = store.get(ticket_id), store.schedule(ticket_id)
        assert ticket.tags == frozenset()  # no ticket_tags rows to write
        assert schedule.rules == desk.rules_fingerprint
        tickets.append((*ticket_row(ticket), time_in(schedule.next_due_at), schedule.rules))
        events.append([event_row(event) for event in store.history(ticket_id)])
    return Made(store, ids, tickets, events)


def _same_as_made(store: Store, made: Made, count: int) -> None:
    """The first ``count`` tickets, copied, read back as the desk made them (a sample in full)."""
    assert store.count_due(SWEEP_AT) == len(store) == count
    for ticket_id in random.Random(0).sample(made.ids[:count], 50):  # noqa: S311 - a sample
        stored = store.get(ticket_id)
        assert stored == made.store.get(ticket_id)
        assert store.history(ticket_id) == made.store.history(ticket_id)
        assert replay(store.history(ticket_id)) == stored
        assert store.schedule(ticket_id) == made.store.schedule(ticket_id)


@pytest.fixture(scope="module")
def sqlite_template(made: Made, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sweepers") / "template.sqlite3"
    SQLiteStore(path).close()  # the schema
    with sqlite3.connect(path) as connection:
        connection.executemany(
            f"INSERT INTO tickets ({', '.join(COLUMNS)}, next_due_at, schedule) "  # noqa: S608
            f"VALUES ({', '.join('?' * (len(COLUMNS) + 2))})",
            made.tickets[:SQLITE_TICKETS],
        )
        for events in made.events[:SQLITE_TICKETS]:
            connection.executemany(_sqlite._INSERT_EVENT, events)
        connection.execute(
            "UPDATE counters SET value = ? WHERE name = 'ticket'", (SQLITE_TICKETS,)
        )
    connection.close()
    with SQLiteStore(path) as store:
        _same_as_made(store, made, SQLITE_TICKETS)
    return path


@pytest.fixture(scope="module")
def postgres_template(made: Made) -> Iterator[str]:
    with scratch_database() as dsn:
        with PostgresStore(dsn) as store:
            store.migrate()
        escape = _postgres._escape
        with psycopg.connect(dsn) as connection, connection.cursor() as cursor:
            names = ", ".join(COLUMNS)
            with cursor.copy(
                f"COPY ticketflow_tickets (tenant, {names}, tag_list, next_due_at, schedule) "
                "FROM STDIN"
            ) as copy:
                for row in made.tickets[:POSTGRES_TICKETS]:
                    *ticket, due_at, rules = row
                    copy.write_row((TENANT, *map(escape, ticket), [], due_at, rules))
            with cursor.copy(
                f"COPY ticketflow_events (tenant, {', '.join(EVENT_COLUMNS)}) FROM STDIN"
            ) as copy:
                for events in made.events[:POSTGRES_TICKETS]:
                    for event in events:
                        copy.write_row((TENANT, *map(escape, event)))
            cursor.execute(
                "INSERT INTO ticketflow_counters (tenant, name, value) VALUES (%s, 'ticket', %s)",
                (TENANT, POSTGRES_TICKETS),
            )
        with PostgresStore(dsn, tenant=TENANT) as store:
            _same_as_made(store, made, POSTGRES_TICKETS)
        yield dsn


# -- one run --------------------------------------------------------------------


class Run(NamedTuple):
    """What one run's workers did: who was killed when, and the firings each logged."""

    victim: int
    killed_after: int
    acks: list[list[str]]
    seconds: float


def _lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def _sweep(db: str, workers: int, count: int, rng: random.Random, folder: Path) -> Run:
    """Start the workers together, kill one at a random moment, wait for the others."""
    acks = [folder / f"acks-{n}" for n in range(workers)]
    command = [sys.executable, str(WORKERS), "sweep", db, TENANT]
    started = time.monotonic()
    children = [
        subprocess.Popen(
            [*command, str(ack), SWEEP_AT.isoformat(), str(BATCH)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for ack in acks
    ]
    try:
        for child in children:
            assert child.stdout is not None
            assert child.stdout.readline() == "ready\n"
        for child in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        # The moment: once the workers together have kept a random share of
        # the firings, while all still sweep; the victim, one of those that
        # kept some (SQLite's lock is not fair: a worker may have had none).
        threshold = rng.randint(count // 10, count * 7 // 10)
        while sum(map(_lines, acks)) < threshold:
            time.sleep(0.002)
        kept = [number for number, ack in enumerate(acks) if _lines(ack) > 0]
        victim = rng.choice(kept)
        killed_after = sum(map(_lines, acks))
        assert children[victim].poll() is None, "the victim finished before it was killed"
        os.kill(children[victim].pid, signal.SIGKILL)
        for number, child in enumerate(children):
            out, err = child.communicate(timeout=600)
            if number == victim:
                assert child.returncode == -signal.SIGKILL
            else:
                assert (child.returncode, out, err) == (0, "", "")
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    seconds = time.monotonic() - started
    logged = [ack.read_text().splitlines() if ack.exists() else [] for ack in acks]
    return Run(victim, killed_after, logged, seconds)


def _check(
    store: Store,
    made: Made,
    run: Run,
    count: int,
    rows: Callable[[str], Sequence[tuple[Any, ...]]],
) -> None:
    """Assert the proof's laws on the store after a run over its ``count`` tickets.

    ``rows(sql)`` answers a query on the store's database, its tables named
    ``tickets``, ``events`` and ``ledger`` (the caller maps the names).
    """
    # Every ticket closed, once: versions 1..3 without a gap (the key makes
    # (ticket, seq) unique), one close event among them.
    shapes = rows(
        "SELECT t.status, t.version, count(*), min(e.seq), max(e.seq), "
        "sum(CASE WHEN e.name = 'close' THEN 1 ELSE 0 END) "
        "FROM tickets t JOIN events e ON e.ticket_id = t.id GROUP BY t.id, t.status, t.version"
    )
    assert len(shapes) == count
    assert {tuple(shape) for shape in shapes} == {("closed", 3, 3, 1, 3, 1)}
    # Exactly one ledger row per ticket, for auto_close, for its resolution,
    # at the sweep's instant: ledger rows = close events = tickets.
    ledger = rows(
        "SELECT rule, episode, fired_at, count(*), count(DISTINCT ticket_id) FROM ledger "
        "GROUP BY rule, episode, fired_at"
    )
    assert [tuple(row) for row in ledger] == [
        ("auto_close", time_in(RESOLVED), time_in(SWEEP_AT), count, count)
    ]
    closes = rows(
        "SELECT count(*), count(DISTINCT e.ticket_id) FROM events e JOIN ledger l "
        "ON l.ticket_id = e.ticket_id WHERE e.name = 'close' AND e.at = l.fired_at"
    )
    assert tuple(closes[0]) == (count, count)
    # Each firing was kept by one worker: none logged a ticket twice or one
    # another logged; only the victim's last batch can be kept but unlogged.
    logged = [line for ack in run.acks for line in ack]
    assert len(logged) == len(set(logged))
    assert {line.split(" ")[1] for line in logged} <= {"close"}
    assert count - BATCH <= len(logged) <= count
    assert run.acks[run.victim] != []
    # Nothing left due, and one more sweep finds nothing to do.
    assert store.count_due(SWEEP_AT) == 0
    assert Helpdesk(store=store, clock=ManualClock(SWEEP_AT)).run_rules().fired == ()
    for ticket_id in random.Random(run.killed_after).sample(made.ids[:count], 100):  # noqa: S311
        stored, history = store.get(ticket_id), store.history(ticket_id)
        assert replay(history) == stored
        assert history[:2] == made.store.history(ticket_id)
        close = history[2]
        assert (close.name, close.actor.role, close.at) == ("close", Role.SYSTEM, SWEEP_AT)
        assert store.schedule(ticket_id).next_due_at is None


# -- the proofs -------------------------------------------------------------------


def test_four_sqlite_workers_one_killed_fire_every_due_ticket_exactly_once(
    made: Made, sqlite_template: Path, tmp_path: Path
) -> None:
    rng = random.Random(4)  # noqa: S311 - whom to kill and when, not a secret
    for number in range(RUNS):
        folder = tmp_path / f"run-{number}"
        folder.mkdir()
        path = folder / "tickets.sqlite3"
        shutil.copyfile(sqlite_template, path)
        run = _sweep(str(path), 4, SQLITE_TICKETS, rng, folder)
        with SQLiteStore(path) as store, sqlite3.connect(path) as connection:
            _check(
                store, made, run, SQLITE_TICKETS, lambda sql: connection.execute(sql).fetchall()
            )
        connection.close()
        print(f"sqlite run {number}: {run.seconds:.1f} s, killed worker {run.victim}")


def test_eight_postgres_workers_one_killed_fire_every_due_ticket_exactly_once(
    made: Made, postgres_template: str, tmp_path: Path
) -> None:
    rng = random.Random(8)  # noqa: S311 - whom to kill and when, not a secret

    def named(sql: str) -> str:
        for table in ("tickets", "events", "ledger"):
            sql = sql.replace(f"FROM {table} ", f"FROM ticketflow_{table} ")
            sql = sql.replace(f"JOIN {table} ", f"JOIN ticketflow_{table} ")
        return sql

    for number in range(RUNS):
        folder = tmp_path / f"run-{number}"
        folder.mkdir()
        with scratch_database(postgres_template) as dsn:
            run = _sweep(dsn, 8, POSTGRES_TICKETS, rng, folder)
            with PostgresStore(dsn, tenant=TENANT) as store, psycopg.connect(dsn) as connection:
                _check(
                    store,
                    made,
                    run,
                    POSTGRES_TICKETS,
                    lambda sql: connection.execute(named(sql)).fetchall(),
                )
        print(f"postgres run {number}: {run.seconds:.1f} s, killed worker {run.victim}")
