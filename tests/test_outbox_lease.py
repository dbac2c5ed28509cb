"""The drain's lease: a slow handler holds up no command, a second drain skips, a dead one expires.

On SQLite and in memory a drain claims its consumer's cursor with a lease
written in a short transaction; the handler runs with no transaction open.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ticketflow import (
    Actor,
    ClaimExpired,
    Contact,
    Helpdesk,
    InvalidInput,
    ManualClock,
    OutboxRecord,
    StorageError,
)
from ticketflow.storage import MemoryStore, OutboxStore, SQLiteStore, Store

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ANA = Contact(name="Ana", email="ana@example.com")
ADMIN = Actor.admin("ad-1")
LEASE = timedelta(minutes=1)
WAIT = 30.0
"""The longest a test waits for another thread before it fails (never reached when it passes)."""


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A memory store, or a SQLite file (as the outbox's other tests)."""
    if request.param == "memory":
        yield MemoryStore()
        return
    with SQLiteStore(tmp_path / "desk.sqlite3") as sqlite:
        yield sqlite


def opened(desk: Helpdesk, subject: str = "Invoice") -> str:
    return desk.open(subject=subject, description="Charged twice.", requester=ANA).id


def other_drainer(store: Store, clock: ManualClock) -> tuple[Helpdesk, Store | None]:
    """Another process's desk on the same data: its own SQLiteStore on the file, or the store."""
    if isinstance(store, SQLiteStore):
        other = SQLiteStore(store.path, timeout=0)
        return Helpdesk(other, clock, outbox=True), other
    return Helpdesk(store, clock, outbox=True), None


def test_a_blocked_handler_holds_up_no_command_on_the_same_sqlite_file(tmp_path: Path) -> None:
    # timeout=0: a command that met a held write lock would fail at once.
    clock = ManualClock(START)
    desk = Helpdesk(SQLiteStore(tmp_path / "desk.sqlite3", timeout=0), clock, outbox=True)
    first = opened(desk)
    entered, release = threading.Event(), threading.Event()
    reports = []

    def blocked(record: OutboxRecord) -> None:
        entered.set()
        assert release.wait(WAIT), "the test never released the handler"

    def drain() -> None:
        reports.append(desk.outbox.drain(blocked, consumer="webhook"))

    drainer = threading.Thread(target=drain)
    drainer.start()
    try:
        assert entered.wait(WAIT), "the drain never called its handler"
        other, other_store = other_drainer(desk.store, clock)
        opened(other, "Login")  # another process commits...
        other.note(first, ADMIN, "Checked.")
        desk.note(first, ADMIN, "Checked again.")  # ...and so does this one, on another thread
        assert other.outbox.drain(print, consumer="webhook").claimed is False
        assert other.outbox.drain(lambda record: None, consumer="chat").delivered == 4
        assert other_store is not None
        other_store.close()
    finally:
        release.set()
        drainer.join()
    (report,) = reports
    assert (report.claimed, report.delivered, report.position) == (True, 1, 1)
    taken: list[str] = []
    assert desk.outbox.drain(lambda record: taken.append(record.id), consumer="webhook").claimed
    assert taken == ["T-2#1", "T-1#2", "T-1#3"]


def test_a_second_drain_skips_while_the_lease_lives_and_takes_over_after(store: Store) -> None:
    clock = ManualClock(START)
    desk = Helpdesk(store, clock, outbox=True)
    for _ in range(3):
        opened(desk)
    other, other_store = other_drainer(store, clock)
    first: list[str] = []
    second: list[str] = []
    skipped = []

    def slow(record: OutboxRecord) -> None:
        first.append(record.id)
        skipped.append(other.outbox.drain(second.append, consumer="mail", lease=LEASE).claimed)
        clock.advance(LEASE + timedelta(seconds=1))  # hung past its lease
        report = other.outbox.drain(lambda record: second.append(record.id), consumer="mail")
        assert report.claimed, "a lease that ran out was not taken over"

    with pytest.raises(ClaimExpired) as raised:
        desk.outbox.drain(slow, consumer="mail", lease=LEASE)
    assert raised.value.consumer == "mail"
    assert isinstance(raised.value, StorageError)
    assert skipped == [False]
    assert first == ["T-1#1"]  # it stopped at its next record
    assert second == ["T-1#1", "T-2#1", "T-3#1"]  # handed over again: at least once
    (state,) = desk.outbox.consumers()
    assert (state.position, state.held) == (3, 0)  # the drain taken over wrote nothing
    if other_store is not None:
        other_store.close()


def test_a_lease_that_ran_out_with_nobody_taking_over_still_settles(store: Store) -> None:
    clock = ManualClock(START)
    desk = Helpdesk(store, clock, outbox=True)
    opened(desk)

    def hung(record: OutboxRecord) -> None:
        clock.advance(LEASE * 3)

    report = desk.outbox.drain(hung, consumer="mail", lease=LEASE)
    assert (report.delivered, report.position) == (1, 1)


def test_the_drain_renews_its_lease_so_calls_within_half_of_it_keep_the_cursor(
    store: Store,
) -> None:
    clock = ManualClock(START)
    desk = Helpdesk(store, clock, outbox=True)
    for _ in range(5):
        opened(desk)
    other, other_store = other_drainer(store, clock)
    skipped = []

    def steady(record: OutboxRecord) -> None:
        clock.advance(LEASE / 2 - timedelta(seconds=1))  # 5 calls: far past one lease
        skipped.append(other.outbox.drain(print, consumer="mail").claimed)

    report = desk.outbox.drain(steady, consumer="mail", lease=LEASE)
    assert (report.delivered, report.position) == (5, 5)
    assert skipped == [False] * 5
    if other_store is not None:
        other_store.close()


_CLAIM_AND_HANG = """
import sys, time
from datetime import datetime, timedelta
from ticketflow.storage import SQLiteStore
store = SQLiteStore(sys.argv[1])
at = datetime.fromisoformat(sys.argv[2])
with store.outbox_claim("mail", at=at, lease=timedelta(minutes=1)) as claim:
    assert claim is not None
    print("claimed", flush=True)
    time.sleep(600)
"""


def test_a_drain_killed_with_sigkill_holds_the_cursor_until_its_lease_runs_out(
    tmp_path: Path,
) -> None:
    clock = ManualClock(START)
    path = tmp_path / "desk.sqlite3"
    with SQLiteStore(path) as store:
        desk = Helpdesk(store, clock, outbox=True)
        opened(desk)
        child = subprocess.Popen(
            [sys.executable, "-c", _CLAIM_AND_HANG, str(path), START.isoformat()],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert child.stdout is not None
            assert child.stdout.readline() == "claimed\n"
        finally:
            child.kill()  # SIGKILL: its claim never ends, only its lease
            child.wait()
            if child.stdout is not None:
                child.stdout.close()
        assert desk.outbox.drain(print, consumer="mail").claimed is False
        clock.advance(LEASE)
        taken: list[str] = []
        report = desk.outbox.drain(lambda record: taken.append(record.id), consumer="mail")
        assert (report.claimed, report.delivered, taken) == (True, 1, ["T-1#1"])


@pytest.mark.parametrize(
    "lease", [timedelta(0), timedelta(milliseconds=999), timedelta(days=2), 60]
)
def test_a_drain_refuses_a_bad_lease_and_changes_nothing(store: Store, lease: object) -> None:
    desk = Helpdesk(store, ManualClock(START), outbox=True)
    opened(desk)
    with pytest.raises(InvalidInput, match="lease"):
        desk.outbox.drain(print, consumer="mail", lease=lease)  # type: ignore[arg-type]
    assert desk.outbox.consumers() == []


def test_a_drain_that_fails_gives_the_cursor_up_at_once(store: Store) -> None:
    desk = Helpdesk(store, ManualClock(START), outbox=True)
    opened(desk)

    def crash(record: OutboxRecord) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        desk.outbox.drain(crash, consumer="mail")
    assert isinstance(store, OutboxStore)
    with store.outbox_claim("mail", at=START, lease=LEASE) as claim:
        assert claim is not None, "a failed drain kept its lease"
        assert claim.position == 0
