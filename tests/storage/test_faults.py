"""File faults: each surfaces as a TicketflowError that says what is wrong and touches nothing.

A store's file can be something else, damaged, cut short, written by a newer
ticketflow, read-only, locked by another writer or full.  None of these may
end in a raw ``sqlite3`` traceback: each raises the ``TicketflowError``
subclass and message below, and where the fault is a refusal the file's bytes
are the same afterwards.
"""

from __future__ import annotations

import hashlib
import random
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest
from support import AGENT, ANA, START

from ticketflow import (
    Contact,
    Helpdesk,
    HistoryEvent,
    InvalidInput,
    ManualClock,
    StorageError,
    Ticket,
    Workflow,
)
from ticketflow.storage import LedgerEntry, SQLiteStore, TicketQuery
from ticketflow.storage._sqlite import SCHEMA_VERSION

TICKETS = 200
DAMAGED = r"the database file is damaged \(.*\); check it with PRAGMA integrity_check"


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "tickets.sqlite3"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A database of TICKETS tickets with a reply each, closed cleanly (no -wal left)."""
    path = tmp_path_factory.mktemp("template") / "tickets.sqlite3"
    store = SQLiteStore(path)
    clock = ManualClock(START)
    desk = Helpdesk(store=store, clock=clock)
    for number in range(TICKETS):
        ticket = desk.open(subject=f"VPN {number}", description="It drops. " * 30, requester=ANA)
        clock.advance(timedelta(minutes=1))
        desk.reply(ticket.id, AGENT, "Which client version? " * 10)
    store.close()
    return path.read_bytes()


@pytest.fixture
def filled(path: Path, template: bytes) -> Path:
    path.write_bytes(template)
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def overwrite(path: Path, offset: int, size: int, seed: int = 11) -> None:
    """Overwrite ``size`` bytes at ``offset`` with random ones, as a failing disk might."""
    with path.open("r+b") as file:
        file.seek(offset)
        file.write(random.Random(seed).randbytes(size))  # noqa: S311 - damage, not a secret


def pages(path: Path) -> tuple[int, dict[str, int]]:
    """The page size, and the root page of every table and index."""
    connection = sqlite3.connect(path)
    (size,) = connection.execute("PRAGMA page_size").fetchone()
    roots = dict(connection.execute("SELECT name, rootpage FROM sqlite_master WHERE rootpage > 0"))
    connection.close()
    return size, roots


def integrity(path: Path) -> str:
    """What ``PRAGMA integrity_check`` says of the file: "ok", or what it found."""
    with closing(sqlite3.connect(path)) as connection:
        try:
            return str(connection.execute("PRAGMA integrity_check").fetchone()[0])
        except sqlite3.DatabaseError as error:
            return str(error)


# -- not a database, empty ------------------------------------------------------


def test_a_file_that_is_not_a_database_is_refused_and_left_as_it_was(path: Path) -> None:
    path.write_bytes(b"just some notes\n" * 300)
    before = digest(path)
    with pytest.raises(InvalidInput, match="path must be a SQLite database, or a path for a new"):
        SQLiteStore(path)
    assert digest(path) == before


def test_an_empty_file_is_taken_for_a_new_database_as_sqlite_takes_it(path: Path) -> None:
    path.touch()  # as tempfile.mkstemp() leaves one
    store = SQLiteStore(path)
    assert (store.new_id(), len(store)) == ("T-1", 0)
    store.close()


def test_a_folder_is_refused_as_a_path(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="path must be a file, not a folder"):
        SQLiteStore(tmp_path)


def test_a_file_that_cannot_be_read_is_reported_as_such(filled: Path) -> None:
    store = SQLiteStore(filled)
    filled.unlink()
    filled.mkdir()  # a new connection, as another thread opens, finds a folder there
    raised: list[BaseException] = []

    def read() -> None:
        try:
            store.get("T-1")
        except BaseException as error:  # noqa: BLE001 - whatever it is, the test looks at it
            raised.append(error)

    reader = threading.Thread(target=read)
    reader.start()
    reader.join()
    store.close()
    assert len(raised) == 1
    assert isinstance(raised[0], StorageError)
    assert "the file could not be opened (unable to open database file)" in str(raised[0])


# -- truncated, damaged -----------------------------------------------------------


def test_a_truncated_file_is_reported_as_damaged_and_left_as_it_was(filled: Path) -> None:
    with filled.open("r+b") as file:
        file.truncate(filled.stat().st_size // 2)
    before = digest(filled)
    with pytest.raises(StorageError, match=DAMAGED):
        SQLiteStore(filled)
    assert digest(filled) == before


def test_a_file_whose_first_page_is_damaged_is_reported_as_damaged_on_opening(
    filled: Path,
) -> None:
    size, _ = pages(filled)
    overwrite(filled, 100, size - 100)  # the SQLite header stays, the schema after it does not
    before = digest(filled)
    with pytest.raises(StorageError, match=DAMAGED):
        SQLiteStore(filled)
    assert digest(filled) == before


def test_a_damaged_schema_version_is_reported_as_damaged_on_opening(filled: Path) -> None:
    size, roots = pages(filled)
    overwrite(filled, (roots["schema_version"] - 1) * size, size)
    before = digest(filled)
    with pytest.raises(StorageError, match=DAMAGED):
        SQLiteStore(filled)
    assert digest(filled) == before


def test_random_bytes_over_the_middle_of_the_file_surface_only_as_storage_errors(
    filled: Path,
) -> None:
    """The issue's case: 4 KiB of random bytes halfway through, then listing and reading."""
    overwrite(filled, filled.stat().st_size // 2, 4096)
    assert integrity(filled) != "ok", "the file is really damaged"
    outcomes: list[str] = []
    try:
        store = SQLiteStore(filled)
    except StorageError as error:
        outcomes.append(str(error))
    else:
        reads: list[Callable[[], object]] = [lambda: store.query(TicketQuery()), store.__len__]
        reads += [lambda n=n: store.history(f"T-{n}") for n in range(1, TICKETS + 1)]
        reads += [lambda n=n: store.get(f"T-{n}") for n in range(1, TICKETS + 1)]
        for read in reads:
            try:
                read()
            except StorageError as error:
                outcomes.append(str(error))
        store.close()
    assert outcomes, "some read must meet the damaged page"
    for outcome in outcomes:
        assert "PRAGMA integrity_check" in outcome or "is damaged" in outcome


def test_text_that_is_not_utf_8_in_a_row_is_reported_as_damaged(filled: Path) -> None:
    with closing(sqlite3.connect(filled)) as hand:
        hand.execute("UPDATE tickets SET subject = CAST(x'ff41' AS TEXT) WHERE id = 'T-1'")
        hand.commit()
    store = SQLiteStore(filled)
    with pytest.raises(
        StorageError, match=r"damaged \(Could not decode to UTF-8 column 'subject'"
    ):
        store.get("T-1")
    store.close()


@pytest.fixture
def damaged_store(filled: Path) -> Iterator[tuple[SQLiteStore, Helpdesk]]:
    """A store opened on a file whose tables (all but the schema version) lost their root page."""
    store = SQLiteStore(filled)
    desk = Helpdesk(store=store, clock=ManualClock(START + timedelta(days=1)))
    size, roots = pages(filled)
    store.close()
    for number, (name, root) in enumerate(sorted(roots.items())):
        if name != "schema_version":
            overwrite(filled, (root - 1) * size, size, seed=number)
    damaged = SQLiteStore(filled)
    yield damaged, desk
    damaged.close()


WORKFLOW = Workflow.default()
METHODS: dict[str, Callable[[SQLiteStore], object]] = {
    "new_id": lambda store: store.new_id(),
    "get": lambda store: store.get("T-1"),
    "history": lambda store: store.history("T-1"),
    "query": lambda store: store.query(TicketQuery(statuses={"answered"})),
    "len": len,
    "fired": lambda store: store.fired("remind", "T-1", START),
    "create": lambda store: store.create(
        *WORKFLOW.create(
            "T-999",
            AGENT,
            START,
            subject="New",
            description="New.",
            requester=Contact(name="Bo", email="bo@example.com"),
        )
    ),
    "purge": lambda store: store.purge("T-1", 2),
}


@pytest.mark.parametrize("method", list(METHODS.values()), ids=list(METHODS))
def test_every_store_method_reports_a_damaged_file_as_damaged(
    damaged_store: tuple[SQLiteStore, Helpdesk], method: Callable[[SQLiteStore], object]
) -> None:
    store, _ = damaged_store
    before = digest(Path(store.path))
    with pytest.raises(StorageError, match=DAMAGED):
        method(store)
    store.close()
    assert digest(Path(store.path)) == before


def test_a_commit_reports_a_damaged_file_as_damaged(
    damaged_store: tuple[SQLiteStore, Helpdesk],
) -> None:
    store, desk = damaged_store
    with pytest.raises(StorageError, match=DAMAGED):
        desk.note("T-1", AGENT, "Still there?")  # loads T-1, which meets the damage first
    ticket = WORKFLOW.create(
        "T-1", AGENT, START, subject="VPN", description="It drops.", requester=ANA
    )[0]
    noted, event = WORKFLOW.apply(ticket, "note", AGENT, START, body="Still there?")
    with pytest.raises(StorageError, match=DAMAGED):
        store.commit(noted, event, ticket.version)
    store.close()


# -- full ---------------------------------------------------------------------------

FULL = r"the database or its disk is full, so nothing was written; free some space"


def _fill_up(store: SQLiteStore) -> None:
    """Let the database grow by no page: a full disk, as SQLite sees it, without a small disk."""
    connection = store._connection()  # private: the limit is per connection
    (count,) = connection.execute("PRAGMA page_count").fetchone()
    connection.execute(f"PRAGMA max_page_count = {count}")


@pytest.fixture
def full(path: Path) -> Iterator[tuple[SQLiteStore, Helpdesk]]:
    """A store with one ticket, whose database cannot grow by a page."""
    store = SQLiteStore(path)
    desk = Helpdesk(store=store, clock=ManualClock(START))
    desk.open(subject="VPN", description="It drops.", requester=ANA)
    _fill_up(store)
    yield store, desk
    store.close()


def _noted(store: SQLiteStore) -> tuple[Ticket, HistoryEvent, LedgerEntry]:
    ticket = store.get("T-1")
    noted, event = WORKFLOW.apply(ticket, "note", AGENT, START, body="Log excerpt. " * 2000)
    return noted, event, LedgerEntry("remind", START, START)


def test_a_commit_into_a_full_database_is_reported_as_full_and_changes_nothing(
    full: tuple[SQLiteStore, Helpdesk],
) -> None:
    store, _ = full
    ticket, history = store.get("T-1"), store.history("T-1")
    noted, event, entry = _noted(store)
    with pytest.raises(StorageError, match=FULL):
        store.commit(noted, event, ticket.version, [entry])
    assert store.get("T-1") == ticket
    assert store.history("T-1") == history
    assert not store.fired("remind", "T-1", START)


def test_the_same_commit_goes_through_once_the_database_has_room_again(
    full: tuple[SQLiteStore, Helpdesk],
) -> None:
    store, _ = full
    noted, event, entry = _noted(store)
    with pytest.raises(StorageError, match=FULL):
        store.commit(noted, event, noted.version - 1, [entry])
    store._connection().execute("PRAGMA max_page_count = 1000000")  # room again
    store.commit(noted, event, noted.version - 1, [entry])
    assert store.get("T-1") == noted
    assert store.fired("remind", "T-1", START)


def test_a_command_on_a_full_database_is_reported_as_full(
    full: tuple[SQLiteStore, Helpdesk],
) -> None:
    _, desk = full
    with pytest.raises(StorageError, match=FULL):
        desk.open(subject="Printer", description="Out of toner. " * 2000, requester=ANA)
    with pytest.raises(StorageError, match=FULL):
        desk.note("T-1", AGENT, "Log excerpt. " * 2000)
    assert [ticket.id for ticket in desk.find()] == ["T-1"]


# -- newer schema ---------------------------------------------------------------------


def test_a_database_of_a_newer_schema_is_refused_and_left_as_it_was(filled: Path) -> None:
    with closing(sqlite3.connect(filled)) as newer:
        newer.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
        newer.commit()
    before = digest(filled)
    with pytest.raises(
        StorageError,
        match=rf"written by a newer ticketflow \(schema {SCHEMA_VERSION + 1}; this one",
    ):
        SQLiteStore(filled)
    assert digest(filled) == before


# -- opening writes nothing; read-only ------------------------------------------------


def test_opening_a_database_of_the_current_schema_changes_no_row(filled: Path) -> None:
    store = SQLiteStore(filled)
    assert store._connection().total_changes == 0  # private: the connection that opened it
    store.close()


@pytest.fixture
def read_only_file(filled: Path) -> Iterator[Path]:
    filled.chmod(0o444)
    yield filled
    filled.chmod(0o644)


def test_a_read_only_file_opens_and_reads_and_is_left_as_it_was(read_only_file: Path) -> None:
    before = digest(read_only_file)
    store = SQLiteStore(read_only_file)
    assert store.read_only
    assert len(store.query(TicketQuery(statuses={"answered"}))) == TICKETS
    assert [event.name for event in store.history("T-1")] == ["create", "agent_reply"]
    assert not store.fired("remind", "T-1", START)
    store.close()
    assert digest(read_only_file) == before


READ_ONLY = r"the database is read-only \(the file or its folder cannot be written\), so nothing"


def test_every_write_to_a_read_only_file_is_refused_as_read_only(read_only_file: Path) -> None:
    before = digest(read_only_file)
    store = SQLiteStore(read_only_file)
    desk = Helpdesk(store=store, clock=ManualClock(START + timedelta(days=1)))
    for write in (
        store.new_id,
        lambda: desk.note("T-1", AGENT, "Still there?"),
        lambda: store.purge("T-1", 2),
        lambda: METHODS["create"](store),
    ):
        with pytest.raises(StorageError, match=READ_ONLY):
            write()
    store.close()
    assert digest(read_only_file) == before


def test_a_read_only_file_that_needs_a_migration_is_refused_and_left_as_it_was(
    path: Path,
) -> None:
    with closing(sqlite3.connect(path)) as older:
        older.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        older.execute("INSERT INTO schema_version (version) VALUES (0)")
        older.commit()
    path.chmod(0o444)
    before = digest(path)
    try:
        with pytest.raises(StorageError, match=r"read-only .* migrated from version 0 first"):
            SQLiteStore(path)
    finally:
        path.chmod(0o644)
    assert digest(path) == before


@pytest.fixture
def read_only_folder(filled: Path) -> Iterator[Path]:
    filled.parent.chmod(0o555)
    yield filled
    filled.parent.chmod(0o755)


def test_a_database_in_a_read_only_folder_opens_and_reads_and_adds_no_file(
    read_only_folder: Path,
) -> None:
    listing, before = sorted(read_only_folder.parent.iterdir()), digest(read_only_folder)
    store = SQLiteStore(read_only_folder)
    assert store.read_only
    assert store.get("T-1").subject == "VPN 0"
    with pytest.raises(StorageError, match=READ_ONLY):
        store.new_id()
    store.close()
    assert sorted(read_only_folder.parent.iterdir()) == listing
    assert digest(read_only_folder) == before


@pytest.fixture
def empty_read_only_folder(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "shelf"
    folder.mkdir(mode=0o555)
    yield folder
    folder.chmod(0o755)


def test_a_new_database_in_a_read_only_folder_is_refused_and_nothing_is_created(
    empty_read_only_folder: Path,
) -> None:
    with pytest.raises(StorageError, match="its folder is read-only, so a new database cannot"):
        SQLiteStore(empty_read_only_folder / "tickets.sqlite3")
    assert list(empty_read_only_folder.iterdir()) == []


# -- locked by another writer ---------------------------------------------------------

HOLDER = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN IMMEDIATE")
connection.execute("UPDATE counters SET value = value + 1")  # written, not committed
print("holding", flush=True)
sys.stdin.readline()
connection.execute("ROLLBACK")
connection.close()
"""


@pytest.fixture
def locked(filled: Path) -> Iterator[Path]:
    """The database while another process holds its write lock, in an open transaction."""
    with subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(filled)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as holder:
        assert holder.stdout is not None
        assert holder.stdin is not None
        assert holder.stdout.readline().strip() == "holding"
        yield filled
        holder.stdin.write("done\n")
        holder.stdin.flush()
        assert holder.wait() == 0


def test_a_database_another_process_is_writing_opens_and_reads(locked: Path) -> None:
    store = SQLiteStore(locked, timeout=0.1)
    assert not store.read_only
    assert len(store) == TICKETS
    assert store.history("T-2")[-1].name == "agent_reply"
    store.close()


def test_a_write_waits_for_another_writer_then_reports_the_lock_and_writes_nothing(
    locked: Path,
) -> None:
    before = digest(locked)
    store = SQLiteStore(locked, timeout=0.1)
    desk = Helpdesk(store=store, clock=ManualClock(START + timedelta(days=1)))
    ticket = store.get("T-1")
    with pytest.raises(StorageError, match=r"the database stayed locked longer than 0\.1 s"):
        desk.note("T-1", AGENT, "Still there?")
    assert store.get("T-1") == ticket
    store.close()
    assert digest(locked) == before
