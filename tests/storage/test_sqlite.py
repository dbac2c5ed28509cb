"""SQLiteStore: indexes, clear refusals, threads, processes and kill -9."""

from __future__ import annotations

import itertools
import multiprocessing
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support import ADMIN, AGENT, ANA, CUSTOMER

from ticketflow import (
    Actor,
    Contact,
    Helpdesk,
    HistoryEvent,
    InvalidInput,
    ManualClock,
    PermissionDenied,
    StorageError,
    SystemClock,
    Ticket,
    Workflow,
    replay,
)
from ticketflow.storage import (
    NO_SLA,
    ORDER_FIELDS,
    UNSCHEDULED,
    Figures,
    LedgerEntry,
    Schedule,
    SQLiteStore,
    StoredSLA,
    TicketQuery,
)
from ticketflow.storage._sqlite import (
    SCHEMA_VERSION,
    due_sql,
    query_sql,
    sla_queue_sql,
    stale_sql,
)
from ticketflow.testing import check_history, workflow_laws

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "tickets.sqlite3"


# -- indexes -------------------------------------------------------------

QUERIES = {
    "status": TicketQuery(statuses={"new"}),
    "statuses": TicketQuery(statuses={"new", "open", "answered"}),
    "assignee": TicketQuery(assignee="a-1"),
    "department": TicketQuery(department="billing"),
    "requester": TicketQuery(requester="ana@example.com"),
    "tag": TicketQuery(tags={"vip"}),
    "tags": TicketQuery(tags={"vip", "billing"}),
    "status and order": TicketQuery(statuses={"resolved"}, order_by="resolved_at"),
    **{
        f"due {field}": TicketQuery(due=(field, START))
        for field in ORDER_FIELDS
        if field != "created_at"
    },
    **{
        f"status and due {field}": TicketQuery(statuses={"resolved"}, due=(field, START))
        for field in ORDER_FIELDS
    },
    "assignee, status, limit": TicketQuery(assignee="a-1", statuses={"open"}, limit=10),
}


@pytest.mark.parametrize("query", list(QUERIES.values()), ids=list(QUERIES))
def test_no_query_the_desk_or_a_sweep_asks_scans_the_whole_tickets_table(
    path: Path, query: TicketQuery
) -> None:
    store = SQLiteStore(path)
    connection = sqlite3.connect(path)
    connection.execute("ANALYZE")  # as a real database would have statistics
    statement, parameters = query_sql(query)
    plan = [row[3] for row in connection.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)]
    connection.close()
    store.close()
    scans = [step for step in plan if step.startswith("SCAN") and "tickets" in step]
    assert not scans, f"{query} scans the tickets table: {plan}"


SCHEDULE_QUERIES = {
    "due": due_sql(START, 100),
    "due, a page on": due_sql(START, 100, (START, "T-9")),
    "due, claimed by a batch": due_sql(START, 100, kept=True),
    "stale": stale_sql("r1-now", 1),
    "stale, a batch": stale_sql("r1-now", 500),
    "sla queue": sla_queue_sql(TicketQuery(statuses={"new", "open"}), 50),
    "sla queue, a page on": sla_queue_sql(TicketQuery(department="it"), 50, (START, "T-9")),
    "sla stale": stale_sql("s1-now", 1, column="sla_policies"),
}


@pytest.mark.parametrize("query", list(SCHEDULE_QUERIES.values()), ids=list(SCHEDULE_QUERIES))
def test_the_schedule_queries_read_their_indexes(
    path: Path, query: tuple[str, list[object]]
) -> None:
    SQLiteStore(path).close()
    connection = sqlite3.connect(path)
    connection.execute("ANALYZE")
    statement, parameters = query
    plan = [row[3] for row in connection.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)]
    connection.close()
    assert not [step for step in plan if step.startswith("SCAN") and "tickets" in step], plan
    indexes = ("tickets_by_next_due_at", "tickets_by_schedule", "tickets_by_sla_")
    assert any(index in step for step in plan for index in indexes), plan


# -- refusals that touch nothing ------------------------------------------


def test_a_path_in_a_missing_folder_is_refused_and_nothing_is_created(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="path must be a file in an existing folder"):
        SQLiteStore(tmp_path / "missing" / "tickets.sqlite3")
    assert list(tmp_path.iterdir()) == []


def test_a_sqlite_database_of_another_application_is_refused_and_left_as_it_was(
    path: Path,
) -> None:
    other = sqlite3.connect(path)
    other.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    other.commit()
    other.close()
    before = path.read_bytes()
    with pytest.raises(InvalidInput, match="a ticketflow database, or a path for a new one"):
        SQLiteStore(path)
    assert path.read_bytes() == before


def test_an_older_schema_is_migrated_forward_on_open(path: Path) -> None:
    empty = sqlite3.connect(path)
    empty.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    empty.execute("INSERT INTO schema_version (version) VALUES (0)")
    empty.commit()
    empty.close()
    store = SQLiteStore(path)
    assert store.schema_version == SCHEMA_VERSION
    assert store.new_id() == "T-1"
    store.close()


def test_a_database_locked_longer_than_the_timeout_is_reported_and_nothing_is_written(
    path: Path,
) -> None:
    store = SQLiteStore(path, timeout=0.2)
    desk = Helpdesk(store=store, clock=ManualClock(START))
    ticket = desk.open(subject="VPN", description="It drops.", requester=ANA)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        with pytest.raises(StorageError, match=r"stayed locked longer than 0\.2 s"):
            desk.reply(ticket.id, AGENT, "Hello?")
        assert time.monotonic() - started < 5
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert desk.get(ticket.id) == ticket
    assert len(desk.history(ticket.id)) == 1
    store.close()


@pytest.mark.parametrize(
    "timeout",
    [-1, float("nan"), float("inf"), 2**31, 10**5000, "5", True],
    ids=["negative", "NaN", "infinity", "2**31", "10**5000", "text", "True"],
)
def test_a_timeout_that_is_not_a_number_of_seconds_sqlite_can_wait_is_refused(
    path: Path, timeout: object
) -> None:
    with pytest.raises(
        InvalidInput, match=r"timeout must be a number of seconds from 0 to 2147483"
    ):
        SQLiteStore(path, timeout=timeout)  # type: ignore[arg-type]
    assert not path.exists()


@pytest.mark.parametrize("given", [None, 5, b"tickets.sqlite3", ["tickets.sqlite3"]])
def test_a_path_that_is_not_a_file_path_is_refused_and_nothing_is_created(
    given: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InvalidInput, match=r"path must be a file path \(a str or os\.PathLike\)"):
        SQLiteStore(given)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "name", ["tickets\x00.sqlite3", "tickets\ud800.sqlite3"], ids=["NUL", "surrogate"]
)
def test_a_file_name_sqlite_cannot_open_is_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(InvalidInput, match="path must be a file path that SQLite can open"):
        SQLiteStore(tmp_path / name)


# -- the laws, through SQLite ---------------------------------------------

_LAW_FILES = tempfile.TemporaryDirectory(prefix="ticketflow-laws-")
_law_file_numbers = itertools.count()


def _law_store() -> SQLiteStore:
    """A new SQLite file per run of the stateful test: the real path, WAL and all."""
    return SQLiteStore(Path(_LAW_FILES.name) / f"laws-{next(_law_file_numbers)}.sqlite3")


TestDefaultWorkflowLawsOnSQLite = workflow_laws(Workflow.default(), store=_law_store).TestCase


def test_a_memory_database_serves_several_threads_through_one_connection() -> None:
    store = SQLiteStore(":memory:")
    ids: list[str] = []
    threads = [threading.Thread(target=lambda: ids.append(store.new_id())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(ids, key=lambda ticket_id: int(ticket_id[2:])) == [f"T-{n}" for n in range(1, 9)]


# -- concurrency: threads and processes on one file ------------------------

WRITERS = 4
TICKETS = 3
NOTES = 15


def _write_notes(path: str, writer: int, ticket_ids: list[str]) -> int:
    """Add NOTES notes to each ticket as agent ``writer``; return how many were accepted."""
    store = SQLiteStore(path, timeout=30)
    desk = Helpdesk(store=store, clock=SystemClock(), retries=1000)
    accepted = 0
    for number in range(NOTES):
        for ticket_id in ticket_ids:
            desk.note(ticket_id, Actor.agent(f"w-{writer}"), f"writer {writer} note {number}")
            accepted += 1
    store.close()
    return accepted


def _open_tickets(path: Path) -> list[str]:
    store = SQLiteStore(path)
    desk = Helpdesk(store=store)
    ids = [
        desk.open(subject=f"Shared {n}", description="Everyone writes here.", requester=ANA).id
        for n in range(TICKETS)
    ]
    store.close()
    return ids


def _check_every_note_landed_once(path: Path, ids: list[str], writers: int) -> None:
    store = SQLiteStore(path)
    workflow = Workflow.default()
    for ticket_id in ids:
        ticket, history = store.get(ticket_id), store.history(ticket_id)
        check_history(workflow, ticket, history)
        bodies = [event.body for event in history if event.name == "note"]
        expected = {
            f"writer {writer} note {number}"
            for writer in range(writers)
            for number in range(NOTES)
        }
        assert len(bodies) == len(expected), "a note was lost or written twice"
        assert set(bodies) == expected
        assert ticket.version == 1 + len(expected)
    store.close()


def test_threads_writing_the_same_tickets_lose_nothing_and_duplicate_nothing(path: Path) -> None:
    ids = _open_tickets(path)
    results: list[int] = []
    threads = [
        threading.Thread(target=lambda w=w: results.append(_write_notes(str(path), w, ids)))
        for w in range(WRITERS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [NOTES * TICKETS] * WRITERS
    _check_every_note_landed_once(path, ids, WRITERS)


def test_processes_writing_the_same_tickets_lose_nothing_and_duplicate_nothing(
    path: Path,
) -> None:
    ids = _open_tickets(path)
    context = multiprocessing.get_context("spawn")
    with context.Pool(WRITERS) as pool:
        results = pool.starmap(_write_notes, [(str(path), w, ids) for w in range(WRITERS)])
    assert results == [NOTES * TICKETS] * WRITERS
    _check_every_note_landed_once(path, ids, WRITERS)


class RacingStore(SQLiteStore):
    """Lets another writer in just before its next commit, as a real race would."""

    meanwhile: Callable[[], object] | None = None

    def commit(
        self,
        ticket: Ticket,
        event: HistoryEvent,
        expected_version: int,
        ledger: Iterable[LedgerEntry] = (),
        *,
        schedule: Schedule = UNSCHEDULED,
        sla: StoredSLA = NO_SLA,
        figures: Figures | None = None,
    ) -> None:
        if self.meanwhile is not None:
            other, self.meanwhile = self.meanwhile, None
            other()
        super().commit(
            ticket,
            event,
            expected_version,
            ledger,
            schedule=schedule,
            sla=sla,
            figures=figures,
        )


def test_a_conflict_is_retried_after_reloading_and_rechecking_the_command(path: Path) -> None:
    racing = RacingStore(path)
    desk = Helpdesk(store=racing, clock=ManualClock(START))
    other = Helpdesk(store=SQLiteStore(path), clock=ManualClock(START))
    ticket = desk.open(subject="VPN", description="It drops.", requester=ANA)

    racing.meanwhile = lambda: other.note(ticket.id, ADMIN, "Meanwhile: known issue.")
    assert desk.reply(ticket.id, AGENT, "Looking into it.").version == 3
    assert [e.name for e in desk.history(ticket.id)] == ["create", "note", "agent_reply"]

    def resolve_and_close() -> None:
        other.resolve(ticket.id, ADMIN)
        other.close(ticket.id, CUSTOMER)

    racing.meanwhile = resolve_and_close
    with pytest.raises(PermissionDenied, match="the ticket is closed and locked"):
        desk.note(ticket.id, AGENT, "One more thing")  # re-checked on the closed ticket
    assert [e.name for e in desk.history(ticket.id)][-2:] == ["resolve", "close"]


# -- crashes: kill -9 in the middle of commits ------------------------------

CHILD = """
import sys
from ticketflow import Actor, Contact, Helpdesk
from ticketflow.storage import SQLiteStore

store = SQLiteStore(sys.argv[1], timeout=30)
desk = Helpdesk(store=store)
ana = Contact(name="Ana", email="ana@example.com")
agent, admin, customer = Actor.agent("a-1"), Actor.admin("ad-1"), Actor.customer(ana.id)
print("ready", flush=True)
n = 0
while True:
    ticket = desk.open(subject=f"crash {n}", description="streaming", requester=ana,
                       tags={"vip"} if n % 2 else set())
    desk.reply(ticket.id, agent, "looking")
    desk.update_tags(ticket.id, agent, add={"crash"})
    desk.reply(ticket.id, customer, "thanks")
    desk.resolve(ticket.id, admin)
    desk.close(ticket.id, customer)
    if n % 3 == 0:
        desk.delete(ticket.id, admin)
        desk.purge(ticket.id, admin)
    n += 1
"""


def test_killing_a_writer_at_random_points_never_corrupts_the_database(path: Path) -> None:
    rng = random.Random(4)  # noqa: S311 - when to kill, not a secret
    script = path.parent / "child.py"
    script.write_text(CHILD, encoding="utf-8")
    for _round in range(5):
        with subprocess.Popen(
            [sys.executable, str(script), str(path)], stdout=subprocess.PIPE, text=True
        ) as child:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "ready"
            time.sleep(rng.uniform(0.05, 0.4))
            os.kill(child.pid, signal.SIGKILL)
            child.wait()
    connection = sqlite3.connect(path)
    assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
    connection.close()
    store = SQLiteStore(path)
    workflow = Workflow.default()
    tickets = store.query(TicketQuery())
    assert tickets, "the writer never committed anything"
    for ticket in tickets:
        history = store.history(ticket.id)
        check_history(workflow, ticket, history)
        assert replay(history) == ticket
        tagged = {t.id for t in store.query(TicketQuery(tags={"crash"}))}
        assert ("crash" in ticket.tags) == (ticket.id in tagged)
    store.close()


def test_contacts_with_unicode_and_no_email_round_trip(path: Path) -> None:
    store = SQLiteStore(path)
    desk = Helpdesk(store=store, clock=ManualClock(START))
    zoe = Contact(name="Zoë Ångström 🛠", phone="+46 70 123 45 67", id="crm-42")
    ticket = desk.open(subject="Ünïcode ✓", description="naïve café", requester=zoe)
    store.close()
    assert SQLiteStore(path).get(ticket.id) == ticket


@pytest.mark.parametrize(
    ("column", "value", "says"),
    [
        ("priority", "critical", "priority must be one of 'low'"),
        ("channel", "pigeon", "channel must be one of 'email'"),
        ("tags", "not json", "Expecting value"),
        ("created_at", "yesterday", "created_at must be integer microseconds"),
        ("subject", "", "subject must be a non-empty string"),
    ],
)
def test_a_row_damaged_by_hand_is_refused_naming_the_ticket_and_the_field(
    path: Path, column: str, value: str, says: str
) -> None:
    store = SQLiteStore(path)
    ticket = Helpdesk(store=store, clock=ManualClock(START)).open(
        subject="VPN", description="d", requester=ANA
    )
    store.close()
    hand = sqlite3.connect(path)
    hand.execute(f"UPDATE tickets SET {column} = ? WHERE id = ?", (value, ticket.id))  # noqa: S608
    hand.commit()
    hand.close()
    reader = SQLiteStore(path)
    with pytest.raises(StorageError, match=f"ticket 'T-1' is damaged: .*{says}"):
        reader.get(ticket.id)
    with pytest.raises(StorageError, match="is damaged"):
        reader.query(TicketQuery())
    reader.close()
