"""The issue's proofs on the real server: concurrent writers, kill -9, a restart, migrations.

The writers are separate processes (``tests/pgworkers.py``), each with its own
store, as the web servers and workers of a host are.  A writer logs a
command only once it has returned (the line fsynced before the next
command), and puts a unique token in the command's body: afterwards every
logged token must be in the history exactly once, at the version the
command returned.  The restart runs on a private cluster
(:func:`pgserver.private_server`): the shared server is never restarted.

These tests take about a minute together: they are marked ``slow`` for
``-m "not slow"`` on a laptop, and CI runs them.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import psycopg
import pytest
from pgserver import new_tenant, private_server, schema_of, scratch_database
from support import ADMIN, ANA

from ticketflow import Helpdesk, StorageError, replay
from ticketflow.storage import PostgresStore, _postgres

pytestmark = pytest.mark.slow

WORKERS = Path(__file__).parent.parent / "pgworkers.py"

TOKEN = re.compile(r"[CL][\w-]+\.\d+")
"""A command's token in its body: C for a desk command, L for a commit with a ledger entry."""

Ack = tuple[str, int, str]
"""An acknowledged command: ticket id, the version it returned, its token."""


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    """A migrated database of this module's own, dropped at the end."""
    with scratch_database() as dsn:
        with PostgresStore(dsn) as store:
            store.migrate()
        yield dsn


def _open(store: PostgresStore, count: int) -> list[str]:
    desk = Helpdesk(store=store, rules=())
    return [
        desk.open(subject=f"Shared {n}", description="Everyone writes here.", requester=ANA).id
        for n in range(count)
    ]


def _writer(
    dsn: str, tenant: str, acks: Path, *, seconds: float, seed: int, writer: str, ids: list[str]
) -> subprocess.Popen[str]:
    arguments = [dsn, tenant, str(acks), str(seconds), str(seed), writer, ",".join(ids)]
    return subprocess.Popen(
        [sys.executable, str(WORKERS), "write", *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _logged(acks: Path) -> list[Ack]:
    """The acknowledged commands in the log; a line cut short by a kill was never acknowledged."""
    logged = []
    for line in acks.read_text().splitlines():
        ticket_id, version, token = line.split(" ")
        logged.append((ticket_id, int(version), token))
    return logged


def _check(dsn: str, store: PostgresStore, ids: list[str], acks: list[Ack]) -> int:
    """Assert the proofs' laws of the tickets ``ids``; return how many events they hold.

    Every ticket's versions run 1..n without a gap and its history replays to
    the stored ticket; no token is in any history twice; every acknowledged
    token is in its ticket's history at the version it returned; and the
    ledger holds a row for exactly the events committed with one.
    """
    found: dict[str, tuple[str, int]] = {}
    tokens: Counter[str] = Counter()
    ledgered: set[tuple[str, str]] = set()
    events = 0
    for ticket_id in ids:
        stored = store.get(ticket_id)
        history = store.history(ticket_id)
        assert [event.seq for event in history] == list(range(1, stored.version + 1)), ticket_id
        assert replay(history) == stored, ticket_id
        events += len(history)
        for event in history:
            if event.body is not None and TOKEN.fullmatch(event.body):
                tokens[event.body] += 1
                found[event.body] = (ticket_id, event.seq)
                if event.body.startswith("L"):
                    ledgered.add((ticket_id, event.body))
    assert [token for token, times in tokens.items() if times > 1] == []
    missing = [(i, v, t) for i, v, t in acks if found.get(t) != (i, v)]
    assert missing == [], f"{len(missing)} acknowledged commands are not where they returned"
    with psycopg.connect(dsn) as connection:
        rows = connection.execute(
            "SELECT ticket_id, rule FROM ticketflow_ledger WHERE tenant = %s", (store.tenant,)
        ).fetchall()
    assert set(rows) == ledgered
    assert len(rows) == len(ledgered)
    return events


# -- 8 writers, 50 tickets, 20 s ----------------------------------------------


def test_eight_writers_on_the_same_fifty_tickets_lose_and_repeat_nothing(
    database: str, tmp_path: Path
) -> None:
    acks = tmp_path / "acks"
    with PostgresStore(database, tenant=new_tenant()) as store:
        ids = _open(store, 50)
        writers = [
            _writer(database, store.tenant, acks, seconds=20, seed=n, writer=f"w{n}", ids=ids)
            for n in range(8)
        ]
        for writer in writers:
            out, err = writer.communicate(timeout=120)
            assert writer.returncode == 0, err
            assert out == "ready\n"
        logged = _logged(acks)
        # Every writer got commands through, on most of the tickets.
        assert {token.split(".")[0][1:] for _, _, token in logged} == {f"w{n}" for n in range(8)}
        assert len({ticket_id for ticket_id, _, _ in logged}) > 40
        events = _check(database, store, ids, logged)
        assert events >= len(logged) + len(ids)


# -- kill -9 ------------------------------------------------------------------


def test_a_writer_killed_twenty_times_leaves_no_partial_commit_and_keeps_every_ack(
    database: str, tmp_path: Path
) -> None:
    rng = random.Random(9)  # noqa: S311 - when to kill, not a secret
    acks = tmp_path / "acks"
    with PostgresStore(database, tenant=new_tenant()) as store:
        ids = _open(store, 10)
        for round_ in range(20):
            with _writer(
                database, store.tenant, acks, seconds=0, seed=round_, writer=f"k{round_}", ids=ids
            ) as child:
                assert child.stdout is not None
                assert child.stdout.readline() == "ready\n"
                time.sleep(rng.uniform(0.2, 1.0))
                os.kill(child.pid, signal.SIGKILL)
                child.communicate(timeout=30)
                assert child.returncode == -signal.SIGKILL
        logged = _logged(acks)
        assert len({token.split(".")[0] for _, _, token in logged}) >= 15  # most rounds acked
        assert any(token.startswith("L") for _, _, token in logged)
        _check(database, store, ids, logged)


# -- a restart under load -----------------------------------------------------


class _Load:
    """Threads that add notes to tickets until told to stop, recording what each got."""

    def __init__(self, store: PostgresStore, ids: list[str], threads: int) -> None:
        self.acks: list[tuple[float, Ack]] = []
        self.failures: list[tuple[float, StorageError]] = []
        self.others: list[BaseException] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._run, args=(store, ids, f"r{n}")) for n in range(threads)
        ]
        for thread in self._threads:
            thread.start()

    def _run(self, store: PostgresStore, ids: list[str], name: str) -> None:
        desk = Helpdesk(store=store, rules=())
        count = 0
        while not self._stop.is_set():
            count += 1
            ticket_id, token = ids[count % len(ids)], f"C{name}.{count}"
            started = time.monotonic()
            try:
                version = desk.note(ticket_id, ADMIN, token).version
            except StorageError as error:
                with self._lock:
                    self.failures.append((started, error))
            except BaseException as error:  # noqa: BLE001 - any other error fails the test
                with self._lock:
                    self.others.append(error)
                return
            else:
                with self._lock:
                    self.acks.append((started, (ticket_id, version, token)))
            # A pause between commands, as between a web server's requests:
            # the pool keeps idle connections, which a restart breaks unseen.
            time.sleep(0.002)

    def acked_since(self, instant: float) -> int:
        with self._lock:
            return sum(1 for started, _ in self.acks if started > instant)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)


def _blocked_note(store: PostgresStore, ticket_id: str, outcome: list[BaseException]) -> None:
    """Add a note that waits on a row lock, and keep what it raises."""
    try:
        Helpdesk(store=store, rules=()).note(ticket_id, ADMIN, "Cblocked.1")
    except BaseException as error:  # noqa: BLE001 - the test reads what it was
        outcome.append(error)


def _wait_for_lock_waiter(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as watcher:
        for _ in range(500):
            row = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            ).fetchone()
            if row is not None and row[0] > 0:
                return
            time.sleep(0.01)
    raise AssertionError("the blocked note never waited on the lock")


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_a_server_restart_fails_commands_in_flight_with_storage_error_and_the_store_reconnects(
    mode: str,
) -> None:
    with private_server() as (dsn, restart), PostgresStore(dsn, tenant="acme") as store:
        store.migrate()
        ids = _open(store, 9)
        # One command surely in flight at the restart: waiting on a row lock.
        holder = psycopg.connect(dsn)
        holder.execute("SELECT 1 FROM ticketflow_tickets WHERE id = %s FOR UPDATE", (ids[0],))
        outcome: list[BaseException] = []
        blocked = threading.Thread(target=_blocked_note, args=(store, ids[0], outcome))
        blocked.start()
        _wait_for_lock_waiter(dsn)
        load = _Load(store, ids[1:], threads=4)
        try:
            deadline = time.monotonic() + 30
            while load.acked_since(0) < 50 and time.monotonic() < deadline:
                time.sleep(0.01)
            restart(mode)
            restarted = time.monotonic()
            blocked.join(timeout=30)
            while load.acked_since(restarted) < 200 and time.monotonic() < deadline:
                time.sleep(0.01)
        finally:
            load.stop()
            holder.close()
        assert load.others == []
        assert len(outcome) == 1
        assert isinstance(outcome[0], StorageError), repr(outcome[0])
        assert "lost its connection" in str(outcome[0])
        # Commands begun once the server was back all succeeded: the store
        # reconnected by itself, handing out no connection the restart broke.
        late = [error for started, error in load.failures if started > restarted]
        assert late == []
        assert load.acked_since(restarted) >= 200
        # At rest, the pool keeps the connections the load opened, idle: a
        # restart now ends them unseen, and the next commands must not get them.
        restart(mode)
        desk = Helpdesk(store=store, rules=())
        after = [desk.note(ticket_id, ADMIN, f"Cafter.{n}") for n, ticket_id in enumerate(ids)]
        acks = [ack for _, ack in load.acks]
        acks += [(ticket.id, ticket.version, f"Cafter.{n}") for n, ticket in enumerate(after)]
        _check(dsn, store, ids, acks)


# -- migrations at once -------------------------------------------------------


def test_four_processes_migrating_at_once_all_succeed_and_leave_the_right_schema() -> None:
    with scratch_database() as reference:
        with PostgresStore(reference) as store:
            store.migrate()
        expected = schema_of(reference)
    with ExitStack() as stack:
        for _round in range(3):
            dsn = stack.enter_context(scratch_database())
            start = time.time() + 1.5  # after every process has imported ticketflow
            children = [
                subprocess.Popen(
                    [sys.executable, str(WORKERS), "migrate", dsn, str(start)],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for _ in range(4)
            ]
            for child in children:
                out, err = child.communicate(timeout=120)
                assert child.returncode == 0, err
                assert out == f"{_postgres.SCHEMA_VERSION}\n"
            assert schema_of(dsn) == expected
            with psycopg.connect(dsn) as connection:
                versions = connection.execute(
                    "SELECT version FROM ticketflow_schema_version"
                ).fetchall()
            assert versions == [(_postgres.SCHEMA_VERSION,)]
