"""SQLiteStore: tickets and their histories in one SQLite file (stdlib ``sqlite3``).

Write-ahead logging lets readers go on while one writer commits; every write
runs in a ``BEGIN IMMEDIATE`` transaction, so a command takes the write lock
before it reads what it compares (the version) and either all of it lands or
none of it.  Each thread gets its own connection.  The schema carries a
version and is migrated forward when a file is opened.
"""

from __future__ import annotations

import functools
import itertools
import operator
import os
import secrets
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime, timedelta
from os import PathLike
from pathlib import Path
from typing import Any, NamedTuple

from ticketflow._errors import (
    ClaimExpired,
    ConcurrencyConflict,
    InvalidInput,
    StorageError,
    TicketflowError,
    TicketNotFound,
)
from ticketflow._history import HistoryEvent
from ticketflow._ticket import Ticket
from ticketflow._validate import to_utc
from ticketflow.storage._codec import (
    ALWAYS_SET,
    COLUMNS,
    EVENT_COLUMNS,
    TIME_FIELDS,
    UNDECODABLE,
    VALID_UNICODE,
    after_sql,
    changed_columns,
    damaged_row,
    event_from_row,
    event_row,
    schedule_from_row,
    sla_from_row,
    sla_in,
    ticket_from_row,
    ticket_row,
    time_in,
    time_out,
    unencodable,
)
from ticketflow.storage._figures import (
    FIGURE_COLUMNS,
    PICKED,
    TARGETS,
    Figures,
    FigureTotals,
    Period,
    aggregate_sql,
    check_figures,
    check_totals,
    figures_from_row,
    figures_row,
    totals_from_rows,
    window_sql,
)
from ticketflow.storage._ledger import LedgerEntry, Mark, RecentMarks
from ticketflow.storage._outbox import (
    RECORD_COLUMNS,
    ConsumerState,
    HeldRecord,
    LeasedClaim,
    OutboxRecord,
    check_consumer,
    check_instant,
    check_lease,
    check_limit,
    check_position,
    held_from_row,
    held_values,
    record_from_row,
    record_values,
)
from ticketflow.storage._protocol import check_follows
from ticketflow.storage._query import TicketQuery
from ticketflow.storage._schedule import UNSCHEDULED, Schedule, check_page, check_schedule
from ticketflow.storage._search import SEARCHED_EVENTS, WEIGHTS, SearchQuery, fts5_match
from ticketflow.storage._sla import (
    NO_SLA,
    StoredSLA,
    check_sla_page,
    check_untimed_page,
    sla_page_sql,
)

_NULLABLE_TIMES = [name for name in TIME_FIELDS if name not in ("created_at", "updated_at")]
_REQUIRED_TIMES = ("created_at", "updated_at", "status_changed_at")


def _schema_1() -> tuple[str, ...]:
    times = ",\n    ".join(
        f"{name} INTEGER" + (" NOT NULL" if name in _REQUIRED_TIMES else "")
        for name in TIME_FIELDS
    )
    time_indexes = [
        statement
        for name in _NULLABLE_TIMES
        for statement in (
            f"CREATE INDEX tickets_by_status_{name} ON tickets (status, {name}) "
            f"WHERE {name} IS NOT NULL",
            f"CREATE INDEX tickets_by_{name} ON tickets ({name}) WHERE {name} IS NOT NULL",
        )
    ]
    return (
        f"""CREATE TABLE tickets (
    id TEXT PRIMARY KEY,
    version INTEGER NOT NULL CHECK (version >= 1),
    status TEXT NOT NULL,
    subject TEXT NOT NULL,
    description TEXT NOT NULL,
    requester_id TEXT NOT NULL,
    requester_name TEXT NOT NULL,
    requester_email TEXT,
    requester_phone TEXT,
    priority TEXT NOT NULL,
    channel TEXT NOT NULL,
    assignee TEXT,
    department TEXT,
    tags TEXT NOT NULL,
    fields TEXT NOT NULL,
    {times},
    reopen_count INTEGER NOT NULL,
    parent_id TEXT
)""",
        """CREATE TABLE ticket_tags (
    tag TEXT NOT NULL,
    ticket_id TEXT NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    PRIMARY KEY (tag, ticket_id)
) WITHOUT ROWID""",
        "CREATE INDEX ticket_tags_by_ticket ON ticket_tags (ticket_id)",
        """CREATE TABLE events (
    ticket_id TEXT NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    name TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    body TEXT,
    changes TEXT NOT NULL,
    PRIMARY KEY (ticket_id, seq)
) WITHOUT ROWID""",
        """CREATE TABLE ledger (
    rule TEXT NOT NULL,
    ticket_id TEXT NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    episode INTEGER NOT NULL,
    fired_at INTEGER NOT NULL,
    PRIMARY KEY (rule, ticket_id, episode)
) WITHOUT ROWID""",
        "CREATE INDEX ledger_by_ticket ON ledger (ticket_id)",
        "CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID",
        "INSERT INTO counters (name, value) VALUES ('ticket', 0)",
        "CREATE INDEX tickets_by_status ON tickets (status, created_at)",
        "CREATE INDEX tickets_by_assignee ON tickets (assignee, status)",
        "CREATE INDEX tickets_by_department ON tickets (department, status)",
        "CREATE INDEX tickets_by_requester ON tickets (requester_id, created_at)",
        "CREATE INDEX tickets_by_updated_at ON tickets (updated_at)",
        *time_indexes,
    )


_SCHEDULE = (
    "ALTER TABLE tickets ADD COLUMN next_due_at INTEGER",
    "ALTER TABLE tickets ADD COLUMN schedule TEXT",
    "CREATE INDEX tickets_by_next_due_at ON tickets (next_due_at, id) "
    "WHERE next_due_at IS NOT NULL",
    "CREATE INDEX tickets_by_schedule ON tickets (schedule, id)",
)
"""Version 2: each ticket's stored schedule, indexed for the sweep and for rescheduling."""

_SEARCHED_NAMES = ", ".join(f"'{name}'" for name in SEARCHED_EVENTS)  # our own names

_SEARCH = (
    # The FTS5 row of a ticket is found by an integer key of its own: a
    # ticket's rowid may change (VACUUM), and an FTS5 column cannot be indexed.
    "CREATE TABLE search_keys (docid INTEGER PRIMARY KEY, "
    "ticket_id TEXT NOT NULL UNIQUE REFERENCES tickets (id) ON DELETE CASCADE)",
    "CREATE VIRTUAL TABLE search USING fts5 "
    "(subject, description, conversation, tokenize = 'unicode61 remove_diacritics 2')",
    # A purge deletes the key by cascade; the text goes with it.
    "CREATE TRIGGER search_keys_gone AFTER DELETE ON search_keys "
    "BEGIN DELETE FROM search WHERE rowid = old.docid; END",
    # A walk through every ticket in creation order (find's default) reads an index.
    "CREATE INDEX tickets_by_created_at_id ON tickets (created_at, id)",
    "INSERT INTO search_keys (ticket_id) SELECT id FROM tickets ORDER BY id",
    "INSERT INTO search (rowid, subject, description, conversation) "  # noqa: S608
    "SELECT keys.docid, tickets.subject, tickets.description, coalesce(("
    "SELECT group_concat(body, char(10)) FROM (SELECT body FROM events "
    f"WHERE events.ticket_id = tickets.id AND name IN ({_SEARCHED_NAMES}) "
    "AND body IS NOT NULL ORDER BY seq)), '') "
    "FROM search_keys AS keys JOIN tickets ON tickets.id = keys.ticket_id",
)
"""Version 3 (schema 6 of the plan, see CHANGELOG): the text of each ticket, for search.

Kept in step by the store's create and commit, in their transaction; the
migration indexes the tickets already stored.
"""

_INDEX_ALL = 4
"""Where the statements of :data:`_SEARCH` that index every stored ticket begin."""

_OUTBOX = (
    # AUTOINCREMENT: a position is never given twice, even after the records
    # past every cursor were pruned.  One writer at a time commits, so
    # positions follow commit order.
    """CREATE TABLE outbox (
    position INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL,
    ticket_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    event TEXT NOT NULL,
    actor TEXT NOT NULL,
    at INTEGER NOT NULL,
    data TEXT NOT NULL
)""",
    # holder, lease_until: the drain that claimed the cursor, and until when
    # (a short write claims it; the handler runs with no transaction open).
    """CREATE TABLE outbox_consumers (
    consumer TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    holder TEXT,
    lease_until INTEGER
) WITHOUT ROWID""",
    """CREATE TABLE outbox_held (
    consumer TEXT NOT NULL,
    position INTEGER NOT NULL,
    ticket_id TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_at INTEGER NOT NULL,
    error TEXT,
    dead INTEGER NOT NULL,
    PRIMARY KEY (consumer, position)
) WITHOUT ROWID""",
    "CREATE INDEX outbox_held_by_position ON outbox_held (position)",
)
"""Version 5: the outbox, its consumers' cursors and the records they hold."""


_SLA_STATE = (
    "ALTER TABLE tickets ADD COLUMN sla_due_at INTEGER",
    "ALTER TABLE tickets ADD COLUMN sla_policies TEXT",
    "ALTER TABLE tickets ADD COLUMN sla_state TEXT NOT NULL DEFAULT ''",
    "CREATE INDEX tickets_by_sla_due_at ON tickets (sla_due_at, id) WHERE sla_due_at IS NOT NULL",
    "CREATE INDEX tickets_by_sla_policies ON tickets (sla_policies, id)",
)
"""Version 3: each ticket's kept SLA clocks, indexed for SLA queues and for recomputing."""

_FIGURES = (
    *(
        f"ALTER TABLE tickets ADD COLUMN {name} "
        + ("TEXT" if name in ("fig_key", "fig_policy") else "INTEGER")
        for name in FIGURE_COLUMNS
    ),
    "CREATE INDEX tickets_by_figures ON tickets (fig_key, id)",
)
"""Version 4: each ticket's figures, one column a figure, and the index of their key."""

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    _schema_1(),
    _SCHEDULE,
    _SLA_STATE,
    _FIGURES,
    _OUTBOX,
    _SEARCH,
)
"""The schema, as forward migrations: ``MIGRATIONS[n]`` takes version n to n + 1."""

SCHEMA_VERSION = len(MIGRATIONS)
"""The schema version this ticketflow writes."""

_SELECT_TICKET = f"SELECT {', '.join(COLUMNS)} FROM tickets"  # noqa: S608 - our own names
_INSERT_TICKET = (
    f"INSERT INTO tickets ({', '.join(COLUMNS)}, next_due_at, schedule, "  # noqa: S608
    f"sla_due_at, sla_policies, sla_state, {', '.join(FIGURE_COLUMNS)}) "
    f"VALUES ({', '.join('?' * (len(COLUMNS) + 5 + len(FIGURE_COLUMNS)))})"
)
_SET_FIGURES = ", ".join(f"{name} = ?" for name in FIGURE_COLUMNS)
_NO_FIGURES = (None,) * len(FIGURE_COLUMNS)
_INSERT_EVENT = (
    f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) "  # noqa: S608 - our own names
    f"VALUES ({', '.join('?' * len(EVENT_COLUMNS))})"
)
_INSERT_OUTBOX = (
    f"INSERT INTO outbox ({', '.join(RECORD_COLUMNS[1:])}) "  # noqa: S608 - our own names
    f"VALUES ({', '.join('?' * (len(RECORD_COLUMNS) - 1))})"
)
_RECORD = ", ".join(f"o.{name}" for name in RECORD_COLUMNS)
_SELECT_HELD = (
    f"SELECT {_RECORD}, h.attempts, h.next_at, h.error, h.dead "  # noqa: S608 - our own names
    "FROM outbox_held AS h JOIN outbox AS o ON o.position = h.position "
    "WHERE h.consumer = ? AND h.dead = ? ORDER BY h.position"
)
_SELECT_EVENTS = f"SELECT {', '.join(EVENT_COLUMNS)} FROM events WHERE ticket_id = ? ORDER BY seq"  # noqa: S608


"""What decoding a damaged row can raise (JSON of the wrong shape, a value of the wrong type)."""

_MEANINGS = {
    sqlite3.SQLITE_BUSY: "the database stayed locked longer than {timeout:g} s",
    sqlite3.SQLITE_LOCKED: "the database stayed locked longer than {timeout:g} s",
    sqlite3.SQLITE_FULL: "the database or its disk is full, so nothing was written; free some "
    "space (or raise the database's max_page_count) and try again",
    sqlite3.SQLITE_IOERR: "the file could not be read or written ({message}); check its disk",
    sqlite3.SQLITE_CANTOPEN: "the file could not be opened ({message}); check that it and its "
    "folder can be read",
}
"""What SQLite's primary error codes mean for a store, as the end of a StorageError's sentence."""

_MOST_TIMEOUT = 2**31 // 1000
"""The longest wait, in seconds, for a lock: SQLite counts it in milliseconds, in a C int."""

_SQLITE_HEADER = b"SQLite format 3\x00"
"""The first bytes of every SQLite database file."""

_REMEMBERED = 4096
"""How many written tickets a store keeps to skip decoding rows it wrote itself."""


_POSITION = {name: index for index, name in enumerate(COLUMNS)}
"""Where each column sits in a ``tickets`` row."""

_KEPT = ("next_due_at", "schedule", "sla_due_at", "sla_policies", "sla_state", *FIGURE_COLUMNS)
"""The columns a commit writes besides the ticket's: its schedule, SLA record and figures."""

_FIGURES_AT = _KEPT.index(FIGURE_COLUMNS[0])

_INSERT_LEDGER = "INSERT INTO ledger (rule, ticket_id, episode, fired_at) VALUES (?, ?, ?, ?)"


class _Held:
    """What a batch knows of a ticket it claimed: its version, kept columns and ledger.

    A batch holds the database's one write lock, so what it read of a
    ticket changes only by its own writes, which keep this up to date.
    """

    __slots__ = ("kept", "ledger", "version")

    def __init__(self, version: int, kept: Sequence[Any], ledger: set[tuple[str, int]]) -> None:
        self.version = version
        self.kept = kept  # the values of _KEPT, as stored
        self.ledger = ledger  # (rule, episode) of every ledger row of the ticket


class _Writes:
    """The writes of a batch's commits on tickets it holds, kept to be written together.

    Each commit is checked when it is made (its version and ledger entries
    against what the batch holds, its text as UTF-8) and written out, a
    statement a table for the whole batch, when the batch ends or before
    anything is read that they could change.  A fault while writing them
    out (nothing a commit's checks could foresee: a full disk) marks the
    batch ``failed``: it can only roll back.
    """

    __slots__ = ("events", "failed", "held", "ids", "ledger", "others", "shared", "updates")

    def __init__(self) -> None:
        self.held: dict[str, _Held] = {}
        self.shared = False  # a batch inside the batch began: every write is made at once
        self.failed = False
        self.ids: set[str] = set()  # the tickets with writes not yet made
        self.updates: list[tuple[str, tuple[Any, ...]]] = []
        self.events: list[tuple[Any, ...]] = []
        self.ledger: list[tuple[Any, ...]] = []
        self.others: list[tuple[str, tuple[Any, ...]]] = []  # tags, search, outbox, in order

    def forget(self, ticket_id: str | None) -> None:
        """Stop holding ``ticket_id`` (None: every ticket), written to by other means."""
        if ticket_id is None:
            self.held.clear()
        else:
            self.held.pop(ticket_id, None)

    def keep(self, held: _Held, change: _Commit) -> None:
        """Check a commit of a ticket the batch holds against what it holds, and keep it.

        Refused as the database would refuse it (a stale version, a ledger
        entry already there, text UTF-8 cannot encode), it keeps nothing.
        """
        ticket_id, expected = change.ticket_id, change.expected_version
        if held.version != expected:
            raise ConcurrencyConflict(ticket_id, expected, held.version)
        spent = [(rule, episode) for rule, _, episode, _ in change.ledger]
        if len(set(spent)) < len(spent) or not held.ledger.isdisjoint(spent):
            raise ConcurrencyConflict(ticket_id, expected, expected)
        statement, values = _update_sql(change.columns, change.kept, held.kept)
        values += (ticket_id, expected)
        _encode(values, change.event, *change.ledger, *(row for _, row in change.more))
        self.updates.append((statement, tuple(values)))
        self.events.append(change.event)
        self.ledger += change.ledger
        self.others += change.more
        self.ids.add(ticket_id)
        held.version = change.columns["version"]
        held.kept = change.kept
        held.ledger.update(spent)

    def write(self, connection: sqlite3.Connection) -> None:
        """Make the kept writes: the updates in commit order, then a statement a table."""
        if not self.ids:
            return
        updates, events, ledger, others = self.updates, self.events, self.ledger, self.others
        self.ids, self.updates, self.events, self.ledger, self.others = set(), [], [], [], []
        failed, self.failed = self.failed, True  # until every statement has run
        for statement, group in itertools.groupby(updates, key=operator.itemgetter(0)):
            values = [row for _, row in group]
            if connection.executemany(statement, values).rowcount != len(values):
                raise sqlite3.IntegrityError("a ticket the batch held moved under it")
        connection.executemany(_INSERT_EVENT, events)
        if ledger:
            connection.executemany(_INSERT_LEDGER, ledger)
        for statement, row in others:
            connection.execute(statement, row)
        self.failed = failed


class SQLiteStore:
    """A Store in one SQLite file: durable, safe for threads and processes.

    Opening a file of the current schema only reads it, so it opens while
    another process holds the write lock.  A file that cannot be written
    (no write permission, as ``chmod a-w`` leaves it, or in a folder that
    cannot be written) opens read-only: reads work, and every write raises
    :class:`StorageError` saying so.

    Args:
        path: the database file; created, with its schema, if it does not
            exist.  Its folder must exist.  ``":memory:"`` keeps a private
            in-memory database (one connection, for tests).
        timeout: how many seconds a write waits for another writer's lock
            before giving up with :class:`StorageError`.

    Raises:
        InvalidInput: the folder does not exist, or the file is not a SQLite
            database.
        StorageError: the file is damaged (or cut short), the database was
            written by a newer ticketflow, it stayed locked longer than
            ``timeout`` while its schema was created or migrated, or it is
            read-only and needs that.  Every method raises
            :class:`StorageError` likewise for a fault of the file, never a
            raw ``sqlite3`` error.

    >>> store = SQLiteStore(":memory:")
    >>> store.new_id(), store.schema_version
    ('T-1', 6)
    """

    def __init__(self, path: str | PathLike[str], *, timeout: float = 5.0) -> None:
        if (
            not isinstance(timeout, (int, float))
            or isinstance(timeout, bool)
            or not 0 <= timeout <= _MOST_TIMEOUT  # NaN too
        ):
            raise InvalidInput(
                "timeout",
                timeout,
                f"a number of seconds from 0 to {_MOST_TIMEOUT}",
            )
        try:
            name = os.fspath(path)
        except TypeError:
            name = None
        if not isinstance(name, str):
            raise InvalidInput("path", path, "a file path (a str or os.PathLike), or ':memory:'")
        self._memory = name == ":memory:"
        self._path = name if self._memory else str(Path(name))
        if not self._memory and not Path(self._path).parent.is_dir():
            raise InvalidInput("path", self._path, "a file in an existing folder")
        if not self._memory and Path(self._path).is_dir():
            raise InvalidInput("path", self._path, "a file, not a folder")
        self._timeout = float(timeout)
        self._uri = None if self._memory else self._read_only_uri(Path(self._path))
        self._local = threading.local()
        self._lock = threading.RLock()  # serialises the one connection of ":memory:"
        self._connections: list[sqlite3.Connection] = []
        self._written: dict[str, tuple[tuple[Any, ...], Ticket]] = {}
        self._recent_sla: dict[str, StoredSLA] = {}
        self._marks = RecentMarks()  # the ledger of tickets this object wrote, by version
        try:
            self.schema_version = self._migrate()
        except BaseException:
            self.close()  # a refused file is not kept open
            raise

    @property
    def path(self) -> str:
        """The database file (or ``":memory:"``)."""
        return self._path

    @property
    def read_only(self) -> bool:
        """Whether the file was opened read-only, because it or its folder cannot be written."""
        return self._uri is not None

    def _read_only_uri(self, path: Path) -> str | None:
        """The URI that opens ``path`` read-only if it cannot be written, else None.

        Write permission counts as the file's mode bits show it, not only as
        the operating system would grant it: a file made read-only with
        ``chmod a-w`` stays unwritten even by a superuser.  In a folder that
        cannot be written, SQLite could not create the write-ahead log and
        its index beside the file; with no log there, every committed change
        is in the file itself and it is read as immutable.
        """
        folder = _writable(path.parent)
        if not path.exists():
            if not folder:
                raise StorageError(
                    self._path,
                    "its folder is read-only, so a new database cannot be created there",
                )
            return None
        if folder and _writable(path):
            return None
        immutable = not folder and not Path(f"{path}-wal").exists()
        return f"{path.absolute().as_uri()}?mode=ro{'&immutable=1' if immutable else ''}"

    # -- connections and transactions ------------------------------------

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            if self._memory and self._connections:
                connection = self._connections[0]
            else:
                connection = self._connect()
                self._connections.append(connection)
            self._local.connection = connection
        return connection

    def _connect(self) -> sqlite3.Connection:
        try:
            connection = sqlite3.connect(
                self._path if self._uri is None else self._uri,
                timeout=self._timeout,
                isolation_level=None,
                check_same_thread=False,
                uri=self._uri is not None,
            )
            connection.execute("PRAGMA foreign_keys = ON")
            connection.execute("PRAGMA synchronous = NORMAL")
            # A batch runs each write in a savepoint, whose journal (the pages
            # as they were) SQLite spills to a temporary file once past 64 KiB:
            # tens of writes a firing.  Kept in memory instead; it lives only as
            # long as the savepoint.
            connection.execute("PRAGMA temp_store = MEMORY")
        except sqlite3.Error as error:
            raise self._translate(error) from None
        except (ValueError, UnicodeEncodeError):  # a NUL, or a surrogate no file name has
            raise InvalidInput("path", self._path, "a file path that SQLite can open") from None
        return connection

    def _translate(self, error: sqlite3.Error) -> TicketflowError:
        """Say what a ``sqlite3`` error means for this store, as a :class:`TicketflowError`."""
        code = getattr(error, "sqlite_errorcode", None)
        primary = code & 0xFF if isinstance(code, int) else -1  # extended codes keep it low
        message = str(error)
        if primary == sqlite3.SQLITE_NOTADB and not self._has_sqlite_header():
            return InvalidInput("path", self._path, "a SQLite database, or a path for a new one")
        if primary in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB) or message.startswith(
            "Could not decode"  # text that is not UTF-8, from sqlite3 itself
        ):
            return self._damaged_file(message)
        if primary == sqlite3.SQLITE_READONLY:
            return self._read_only_error()
        meaning = _MEANINGS.get(primary, "{message}")
        return StorageError(self._path, meaning.format(message=message, timeout=self._timeout))

    def _read_only_error(self, needs: str = "") -> StorageError:
        return StorageError(
            self._path,
            "the database is read-only (the file or its folder cannot be written), so nothing "
            f"was written; it can be read, not changed{needs}",
        )

    def _damaged_file(self, what: str) -> StorageError:
        return StorageError(
            self._path,
            f"the database file is damaged ({what}); check it with "
            "PRAGMA integrity_check, and restore it from a backup",
        )

    def _has_sqlite_header(self) -> bool:
        """Whether the file begins as every SQLite database does: then it is ours, damaged."""
        if self._memory:
            return True
        try:
            with Path(self._path).open("rb") as file:
                return file.read(len(_SQLITE_HEADER)) == _SQLITE_HEADER
        except OSError:
            return False

    @contextmanager
    def batch(self) -> Iterator[None]:
        """One write transaction for the block (the write lock held).

        The commits of tickets the block claimed (``due(claim=True)``) are
        checked at once and written together when the block ends, or before a
        read they could change (:class:`_Writes`): a commit that raises wrote
        nothing.  Every other write runs in a savepoint.  Inside another
        batch, a savepoint of it: an error undoes the block alone (the outer
        batch then writes each commit at once, in a savepoint of its own).
        """
        writes: _Writes | None = getattr(self._local, "writes", None)
        if writes is not None:  # inside a batch: a savepoint of it
            with self._lock if self._memory else _NO_LOCK:
                self._write_out(self._connection(), writes)
                writes.shared = True
                writes.forget(None)
                with self._savepoint(self._connection()):
                    yield
            return
        with self._write() as connection:
            writes = self._local.writes = _Writes()
            self._local.batch = True
            try:
                yield
                self._write_out(connection, writes)
            finally:
                self._local.batch = False
                self._local.writes = None
            if writes.failed:
                raise StorageError(
                    self._path,
                    "writing the batch's commits out failed, so the whole batch was rolled back",
                )

    def _write_out(self, connection: sqlite3.Connection, writes: _Writes | None) -> None:
        """Make the batch's kept writes now (a read or another write is about to see them)."""
        if writes is None or not writes.ids:
            return
        try:
            writes.write(connection)
        except sqlite3.Error as error:
            raise self._translate(error) from None
        except UnicodeEncodeError as error:  # each commit checked its text: not expected
            raise StorageError(self._path, f"a batch's commit held {error.object!r}") from None

    def _writes(self) -> _Writes | None:
        """The kept writes of the batch this thread runs, unless it writes each at once."""
        writes: _Writes | None = getattr(self._local, "writes", None)
        return None if writes is None or writes.shared else writes

    def _held(self, ticket_id: str) -> _Held | None:
        """What the batch this thread runs holds of ``ticket_id``, if it claimed it."""
        writes: _Writes | None = getattr(self._local, "writes", None)
        return None if writes is None else writes.held.get(ticket_id)

    @contextmanager
    def _write(self, ticket_id: str | None = None) -> Iterator[sqlite3.Connection]:
        """A write transaction: the write lock first, then all or nothing.

        Inside :meth:`batch`, a savepoint in the batch's transaction instead,
        after the batch's kept writes; the batch stops holding ``ticket_id``
        (None: any ticket), which the write may change.
        """
        connection = self._connection()
        with self._lock if self._memory else _NO_LOCK:
            if getattr(self._local, "batch", False):
                writes: _Writes | None = getattr(self._local, "writes", None)
                if writes is not None:
                    self._write_out(connection, writes)
                    writes.forget(ticket_id)
                with self._savepoint(connection):
                    yield connection
                return
            try:
                connection.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as error:
                raise self._translate(error) from None
            try:
                yield connection
                connection.execute("COMMIT")
            except sqlite3.Error as error:
                _roll_back(connection)
                raise self._translate(error) from None
            except BaseException:
                _roll_back(connection)
                raise

    @contextmanager
    def _savepoint(self, connection: sqlite3.Connection) -> Iterator[None]:
        try:
            connection.execute("SAVEPOINT ticketflow_write")
        except sqlite3.Error as error:
            raise self._translate(error) from None
        try:
            yield
            connection.execute("RELEASE ticketflow_write")
        except sqlite3.Error as error:
            _roll_back_to(connection)
            raise self._translate(error) from None
        except BaseException:
            _roll_back_to(connection)
            raise

    @contextmanager
    def _read(self, ticket_id: str | None = None) -> Iterator[sqlite3.Connection]:
        """A read; in a batch, after the kept writes it could see (of ``ticket_id``, if given)."""
        connection = self._connection()
        with self._lock if self._memory else _NO_LOCK:
            writes: _Writes | None = getattr(self._local, "writes", None)
            if writes is not None and (ticket_id is None or ticket_id in writes.ids):
                self._write_out(connection, writes)
            try:
                yield connection
            except sqlite3.Error as error:
                raise self._translate(error) from None

    def _migrate(self) -> int:
        """Check the file is ours and not newer, then create or migrate its schema if it must.

        A file of the current schema is only read, so opening it takes no
        lock and writes nothing (it may be read-only, or another process may
        be writing).  The checks only read, so a file that is refused is left
        exactly as it was.
        """
        with self._read() as connection:
            version = self._schema_of(connection)
            if version == SCHEMA_VERSION:
                if not self._memory and self._uri is None:
                    (mode,) = connection.execute("PRAGMA journal_mode").fetchone()
                    if mode != "wal":  # switched by another tool: WAL again, as promised
                        connection.execute("PRAGMA journal_mode = WAL")
                return SCHEMA_VERSION
        if self._uri is not None:
            needed = "created" if version is None else f"migrated from version {version}"
            raise self._read_only_error(
                f"; its schema must be {needed} first, where the file can be written"
            )
        if not self._memory:
            with self._read() as connection:
                connection.execute("PRAGMA journal_mode = WAL")
        with self._write() as connection:
            version = self._schema_of(connection)  # again: another process may have begun
            if version is None:
                connection.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
                connection.execute("INSERT INTO schema_version (version) VALUES (0)")
                version = 0
            for step in MIGRATIONS[version:]:
                for statement in step:
                    connection.execute(statement)
            connection.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))
        return SCHEMA_VERSION

    def _schema_of(self, connection: sqlite3.Connection) -> int | None:
        """Return the file's schema version (None if new), refusing foreign or newer files."""
        listed = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        tables = {row[0] for row in listed}
        if "schema_version" not in tables:
            if tables:
                raise InvalidInput(
                    "path", self._path, "a ticketflow database, or a path for a new one"
                )
            return None
        row = connection.execute("SELECT version FROM schema_version").fetchone()
        version = row[0] if row is not None else None
        if not isinstance(version, int) or version < 0:
            raise self._damaged_file(f"its schema version is {version!r}")
        if version > SCHEMA_VERSION:
            raise StorageError(
                self._path,
                f"it was written by a newer ticketflow (schema {version}; "
                f"this one knows up to {SCHEMA_VERSION}); upgrade ticketflow to open it",
            )
        return int(version)

    def close(self) -> None:
        """Close every connection this store opened; it must not be used afterwards."""
        with self._lock:
            for connection in self._connections:
                connection.close()
            self._connections.clear()
        self._local = threading.local()

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- the Store protocol ----------------------------------------------

    def new_id(self) -> str:
        """Return ``T-n`` for the next n, unique across threads and processes."""
        with self._write() as connection:
            (value,) = connection.execute(
                "UPDATE counters SET value = value + 1 WHERE name = 'ticket' RETURNING value"
            ).fetchone()
        return f"T-{value}"

    def get(self, ticket_id: str) -> Ticket:
        """Return the stored ticket."""
        try:
            with self._read(ticket_id) as connection:
                row = connection.execute(f"{_SELECT_TICKET} WHERE id = ?", (ticket_id,)).fetchone()
        except UnicodeEncodeError:  # not valid Unicode: no stored ticket has that id
            row = None
        if row is None:
            raise TicketNotFound(ticket_id)
        return self._decode(row)

    def _decode(self, row: tuple[Any, ...]) -> Ticket:
        """Decode a row, or return the ticket this store wrote it from if the row is that one.

        Tickets are immutable, so when the row read back equals, value for
        value, the row this store object last wrote for the ticket, the ticket
        it wrote is the answer and decoding it again would only cost time.
        Any other row (written by another process, or edited) is decoded and
        checked; one that does not decode raises :class:`StorageError`.
        """
        written = self._written.get(row[0])
        if written is not None and written[0] == row:
            return written[1]
        try:
            return ticket_from_row(row)
        except UNDECODABLE as error:
            raise damaged_row(self._path, row[0], error) from None

    def _remember(self, ticket: Ticket, row: tuple[Any, ...]) -> None:
        if len(self._written) >= _REMEMBERED:
            self._written.clear()
        self._written[ticket.id] = (row, ticket)

    def create(
        self,
        ticket: Ticket,
        event: HistoryEvent,
        *,
        schedule: Schedule = UNSCHEDULED,
        sla: StoredSLA = NO_SLA,
        figures: Figures | None = None,
        outbox: bool = False,
    ) -> None:
        """Store a new ticket, its tags, first event, schedule, SLA record and figures, at once.

        With ``outbox=True``, the event's outbox record in it too.
        """
        check_follows(ticket, event, 0)
        planned = (*_schedule_in(schedule), *sla_in(sla))
        figured = _figures_in(figures)
        ticket_values, event_values = ticket_row(ticket), event_row(event)
        try:
            with self._write(ticket.id) as connection:
                existing = connection.execute(
                    "SELECT version FROM tickets WHERE id = ?", (ticket.id,)
                ).fetchone()
                if existing is not None:
                    raise ConcurrencyConflict(ticket.id, 0, existing[0])
                connection.execute(_INSERT_TICKET, (*ticket_values, *planned, *figured))
                _write_tags(connection, ticket)
                connection.execute(_INSERT_EVENT, event_values)
                _index(connection, ticket)
                if outbox:
                    connection.execute(_INSERT_OUTBOX, record_values(event))
        except UnicodeEncodeError as error:  # rolled back: a value slipped past the checks
            rows = (dict(zip(COLUMNS, ticket_values, strict=True)), _event_columns(event_values))
            raise _unstorable(error, *rows) from None
        self._remember(ticket, ticket_values)
        self._remember_kept(ticket, sla)

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
        outbox: bool = False,
    ) -> None:
        """Update the changed columns, schedule, SLA record, figures; append the event and ledger.

        All of it in one transaction, and only if the version holds; with
        ``outbox=True``, the event's outbox record too.
        """
        check_follows(ticket, event, expected_version)
        ledger = tuple(ledger)  # read twice: written, and remembered
        planned = (*_schedule_in(schedule), *sla_in(sla))
        figured = _figures_in(figures)
        columns = changed_columns(event.changes)
        columns["version"] = ticket.version
        event_values = event_row(event)
        more = _change_statements(ticket, event)
        if outbox:
            more.append((_INSERT_OUTBOX, record_values(event)))
        change = _Commit(
            ticket.id,
            expected_version,
            columns,
            (*planned, *figured),
            event_values,
            [
                (entry.rule, ticket.id, time_in(entry.episode), time_in(entry.fired_at))
                for entry in ledger
            ],
            more,
        )
        writes = self._writes()
        held = None if writes is None else writes.held.get(ticket.id)
        try:
            if writes is not None and held is not None:
                writes.keep(held, change)
            else:
                with self._write(ticket.id) as connection:
                    _commit_now(connection, change)
        except UnicodeEncodeError as error:  # rolled back: a value slipped past the checks
            raise _unstorable(error, columns, _event_columns(event_values)) from None
        self._remember(ticket, self._row_after(ticket, expected_version, columns))
        self._remember_kept(ticket, sla, expected_version, ledger)

    def _row_after(
        self, ticket: Ticket, expected_version: int, columns: Mapping[str, Any]
    ) -> tuple[Any, ...]:
        """The row just written: the one remembered for the version before, with ``columns`` set.

        Encoding only what changed keeps a commit from re-encoding the whole
        ticket; without the row before, the ticket is encoded in full.
        """
        written = self._written.get(ticket.id)
        if written is None or written[1].version != expected_version:
            return ticket_row(ticket)
        row = list(written[0])
        for name, value in columns.items():
            row[_POSITION[name]] = value
        return tuple(row)

    def schedule(self, ticket_id: str) -> Schedule:
        """Return the ticket's stored schedule."""
        held = self._held(ticket_id)
        if held is not None:
            return schedule_from_row(self._path, ticket_id, *held.kept[:2])
        try:
            with self._read(ticket_id) as connection:
                row = connection.execute(
                    "SELECT next_due_at, schedule FROM tickets WHERE id = ?", (ticket_id,)
                ).fetchone()
        except UnicodeEncodeError:  # not valid Unicode: no stored ticket has that id
            row = None
        if row is None:
            raise TicketNotFound(ticket_id)
        return schedule_from_row(self._path, ticket_id, *row)

    def due(
        self,
        now: datetime,
        *,
        limit: int,
        after: tuple[datetime, str] | None = None,
        claim: bool = False,
    ) -> list[tuple[datetime, Ticket]]:
        """The due tickets, in (next due instant, id) order, read through their index.

        A claim needs nothing more: a batch holds the database's one write
        lock, so no other batch reads the due tickets until it ends.  The
        batch then holds what it read of them, and their ledger rows, so that
        their commits are checked without reading them again and written
        together (see :meth:`batch`).
        """
        instant, start = check_page(now, limit, after)
        writes = self._writes() if claim else None
        spent: list[tuple[str, str, int]] = []
        statement, parameters = due_sql(instant, limit, start, kept=writes is not None)
        try:
            with self._read() as connection:
                rows = connection.execute(statement, parameters).fetchall()
                if writes is not None and rows:
                    spent = connection.execute(
                        "SELECT ticket_id, rule, episode FROM ledger "  # noqa: S608 - marks only
                        f"WHERE ticket_id IN ({', '.join('?' * len(rows))})",
                        [row[1] for row in rows],
                    ).fetchall()
        except UnicodeEncodeError:  # an id no ticket can have: nothing comes after it but ids
            rows, spent = [], []
        width = len(COLUMNS) + 1
        found = []
        for row in rows:
            ticket = self._decode(row[1:width])
            self._remember(
                ticket, row[1:width]
            )  # a firing's commit then encodes what changed only
            try:
                at = time_out(row[0], "next_due_at")
            except UNDECODABLE as error:
                raise damaged_row(self._path, ticket.id, error) from None
            assert at is not None  # noqa: S101 - the query asks for set instants
            found.append((at, ticket))
        if writes is not None:
            ledgers: dict[str, set[tuple[str, int]]] = {ticket.id: set() for _, ticket in found}
            for ticket_id, rule, episode in spent:
                ledgers[ticket_id].add((rule, episode))
            for row, (_, ticket) in zip(rows, found, strict=True):
                kept = (row[0], *row[width:])
                writes.held[ticket.id] = _Held(ticket.version, kept, ledgers[ticket.id])
        return found

    def count_due(self, now: datetime) -> int:
        """How many tickets are due at ``now``, counted on the index."""
        instant, _ = check_page(now, 1, None)
        with self._read() as connection:
            (count,) = connection.execute(
                "SELECT COUNT(*) FROM tickets INDEXED BY tickets_by_next_due_at "
                "WHERE next_due_at IS NOT NULL AND next_due_at <= ?",
                (time_in(instant),),
            ).fetchone()
        return int(count)

    def stale(self, rules: str, *, limit: int) -> list[Ticket]:
        """The tickets another rule set (or none) scheduled: three index ranges, in id order."""
        check_page(None, limit, None, rules=rules)
        statement, parameters = stale_sql(rules, limit)
        try:
            with self._read() as connection:
                rows = connection.execute(statement, parameters).fetchall()
        except UnicodeEncodeError:  # not valid Unicode: every ticket's rule set differs
            raise InvalidInput("rules", rules, "a rule set's fingerprint (ASCII text)") from None
        return [self._decode(row) for row in rows]

    def count_stale(self, rules: str) -> int:
        """How many tickets another rule set (or none) scheduled."""
        check_page(None, 1, None, rules=rules)
        return self._count_other(
            "schedule", rules, "rules", "a rule set's fingerprint (ASCII text)"
        )

    def reschedule(self, ticket_id: str, expected_version: int, schedule: Schedule) -> bool:
        """Set the schedule alone, if the ticket is still at ``expected_version``."""
        return self._set_alone(
            "next_due_at = ?, schedule = ?", _schedule_in(schedule), ticket_id, expected_version
        )

    def _count_other(self, column: str, fingerprint: str, field: str, expected: str) -> int:
        """How many tickets have ``column`` other than ``fingerprint`` (or none).

        The count of ``count_stale``, ``count_sla_stale`` and ``count_unfigured``;
        a fingerprint that is not valid Unicode is refused as ``field``.
        """
        try:
            with self._read() as connection:
                (count,) = connection.execute(
                    f"SELECT COUNT(*) FROM tickets WHERE {column} IS NULL OR {column} <> ?",  # noqa: S608
                    (fingerprint,),
                ).fetchone()
        except UnicodeEncodeError:  # not valid Unicode: no fingerprint is
            raise InvalidInput(field, fingerprint, expected) from None
        return int(count)

    def _set_alone(
        self, assignments: str, values: Sequence[Any], ticket_id: str, expected_version: int
    ) -> bool:
        """Set ``assignments`` alone, if the ticket is still at ``expected_version``.

        What ``reschedule``, ``restate_sla`` and ``refigure`` write; False if
        the ticket moved on or is gone.
        """
        try:
            with self._write(ticket_id) as connection:
                updated = connection.execute(
                    f"UPDATE tickets SET {assignments} WHERE id = ? AND version = ?",  # noqa: S608
                    (*values, ticket_id, expected_version),
                ).rowcount
        except UnicodeEncodeError:  # not valid Unicode: no stored ticket has that id
            return False
        return bool(updated == 1)

    def _remember_kept(
        self,
        ticket: Ticket,
        sla: StoredSLA,
        expected: int = 0,
        entries: Sequence[LedgerEntry] = (),
    ) -> None:
        """Remember the SLA record and ledger just committed, unless a batch holds them.

        ``expected`` is the version the commit replaced (0: it created the
        ticket), ``entries`` the ledger entries it wrote.  A batch may still
        roll back: what it writes is forgotten.
        """
        if getattr(self._local, "batch", False):
            self._recent_sla.pop(ticket.id, None)
            self._marks.forget(ticket.id)
            return
        if len(self._recent_sla) >= _REMEMBERED:
            self._recent_sla.clear()
        self._recent_sla[ticket.id] = sla
        if expected == 0:
            self._marks.created(ticket.id)
        else:
            self._marks.committed(ticket.id, expected, ticket.version, entries)

    def recent_sla(self, ticket_id: str) -> StoredSLA | None:
        """The SLA record this store object last committed with the ticket, if it remembers it.

        Kept only for commits in a transaction of their own (never inside
        :meth:`batch`, which may still roll back), so it is the record stored
        at that ticket's version; a commit folds its event into it (the
        version it names says which it is) instead of reading it.
        """
        return self._recent_sla.get(ticket_id)

    def recent_ledger(self, ticket_id: str, version: int) -> frozenset[Mark] | None:
        """The ``(rule, episode)`` of the ticket's ledger rows at ``version``, if remembered.

        Remembered for the tickets this store object created and committed
        in transactions of their own (see :class:`RecentMarks`): a commit's
        schedule asks which rules already acted without reading the ledger.
        """
        return self._marks.at(ticket_id, version)

    def sla(self, ticket_id: str) -> StoredSLA:
        """Return the ticket's stored SLA record."""
        held = self._held(ticket_id)
        if held is not None:
            return sla_from_row(self._path, ticket_id, *held.kept[2:_FIGURES_AT])
        try:
            with self._read(ticket_id) as connection:
                row = connection.execute(
                    "SELECT sla_due_at, sla_policies, sla_state FROM tickets WHERE id = ?",
                    (ticket_id,),
                ).fetchone()
        except UnicodeEncodeError:  # not valid Unicode: no stored ticket has that id
            row = None
        if row is None:
            raise TicketNotFound(ticket_id)
        return sla_from_row(self._path, ticket_id, *row)

    def sla_queue(
        self,
        query: TicketQuery,
        *,
        limit: int,
        after: tuple[datetime, str] | None = None,
    ) -> list[tuple[StoredSLA, Ticket]]:
        """The tickets with an SLA due instant, in (instant, id) order, read through its index."""
        query, start = check_sla_page(query, limit, after)
        return self._sla_rows(*sla_queue_sql(query, limit, start))

    def sla_untimed(
        self, query: TicketQuery, *, limit: int, after: str | None = None
    ) -> list[tuple[StoredSLA, Ticket]]:
        """The tickets with no SLA due instant, in id order: a range of the primary key."""
        query = check_untimed_page(query, limit, after)
        return self._sla_rows(*sla_untimed_sql(query, limit, after))

    def _sla_rows(self, statement: str, parameters: list[Any]) -> list[tuple[StoredSLA, Ticket]]:
        """The tickets (and their SLA records) a statement of :func:`sla_page_sql` reads."""
        try:
            with self._read() as connection:
                rows = connection.execute(statement, parameters).fetchall()
        except UnicodeEncodeError:  # an id no ticket can have: nothing comes after it but ids
            rows = []
        return [
            (sla_from_row(self._path, row[3], *row[:3]), self._decode(row[3:])) for row in rows
        ]

    def sla_stale(self, policies: str, *, limit: int) -> list[Ticket]:
        """The tickets other policies (or none) kept SLA records for, in id order."""
        check_page(None, limit, None, rules=policies)
        statement, parameters = stale_sql(policies, limit, column="sla_policies")
        try:
            with self._read() as connection:
                rows = connection.execute(statement, parameters).fetchall()
        except UnicodeEncodeError:  # not valid Unicode: every ticket's policies differ
            raise InvalidInput("policies", policies, "a fingerprint (ASCII text)") from None
        return [self._decode(row) for row in rows]

    def count_sla_stale(self, policies: str) -> int:
        """How many tickets other policies (or none) kept SLA records for."""
        check_page(None, 1, None, rules=policies)
        return self._count_other(
            "sla_policies", policies, "policies", "a fingerprint (ASCII text)"
        )

    def restate_sla(self, ticket_id: str, expected_version: int, sla: StoredSLA) -> bool:
        """Set the SLA record alone, if the ticket is still at ``expected_version``."""
        return self._set_alone(
            "sla_due_at = ?, sla_policies = ?, sla_state = ?",
            sla_in(sla),
            ticket_id,
            expected_version,
        )

    def figures(self, ticket_id: str) -> Figures | None:
        """Return the ticket's stored figures."""
        held = self._held(ticket_id)
        try:
            if held is not None:
                row = held.kept[_FIGURES_AT:]
            else:
                with self._read(ticket_id) as connection:
                    row = connection.execute(
                        f"SELECT {', '.join(FIGURE_COLUMNS)} FROM tickets WHERE id = ?",  # noqa: S608
                        (ticket_id,),
                    ).fetchone()
        except UnicodeEncodeError:  # not valid Unicode: no stored ticket has that id
            row = None
        if row is None:
            raise TicketNotFound(ticket_id)
        try:
            return figures_from_row(row)
        except UNDECODABLE as error:
            raise damaged_row(self._path, ticket_id, error) from None

    def refigure(self, ticket_id: str, expected_version: int, figures: Figures) -> bool:
        """Set the figures alone, if the ticket is still at ``expected_version``."""
        check_figures(figures, optional=False)
        return self._set_alone(_SET_FIGURES, _figures_in(figures), ticket_id, expected_version)

    def unfigured(self, key: str, *, limit: int) -> list[Ticket]:
        """The tickets whose figures another key (or none) computed: three index ranges."""
        check_page(None, limit, None, rules=key)
        statement, parameters = stale_sql(key, limit, column="fig_key")
        try:
            with self._read() as connection:
                rows = connection.execute(statement, parameters).fetchall()
        except UnicodeEncodeError:  # not valid Unicode: no figures were computed under it
            raise InvalidInput("key", key, "the figures' key (ASCII text)") from None
        return [self._decode(row) for row in rows]

    def count_unfigured(self, key: str) -> int:
        """How many tickets have figures another key (or none) computed."""
        check_page(None, 1, None, rules=key)
        return self._count_other("fig_key", key, "key", "the figures' key (ASCII text)")

    def aggregate(
        self,
        query: TicketQuery,
        *,
        now: datetime,
        created: Period | None = None,
        resolved: Period | None = None,
    ) -> FigureTotals:
        """Add up the selected tickets' figures: one GROUP BY over their labels, one over tags."""
        instant, within, solved = check_totals(query, now, created, resolved)
        window, bounds = window_sql(within, solved, "?")
        picked, parameters = query_sql(query, columns=", ".join((*PICKED, "tags")), ordered=False)
        selection = f"SELECT * FROM ({picked}) WHERE {window}"  # noqa: S608 - our own names
        by_labels, by_tag = aggregate_sql(
            selection,
            "JOIN ticket_tags AS tags ON tags.ticket_id = base.id",
            "base.tags = '[]'",  # the codec's JSON of no tags
            "?",
            lambda value: f"group_concat({value})",
        )
        selected = [*parameters, *bounds, *[time_in(instant)] * len(TARGETS)]
        with self._read() as connection:
            labelled = connection.execute(by_labels, selected).fetchall()
            tagged = connection.execute(by_tag, selected).fetchall()
        return totals_from_rows(labelled, tagged)

    def fired(self, rule: str, ticket_id: str, episode: datetime) -> bool:
        """Whether ``rule`` already acted on the ticket for ``episode``."""
        instant = time_in(to_utc(episode, "episode"))
        held = self._held(ticket_id)
        if held is not None:
            return (rule, instant) in held.ledger
        try:
            with self._read(ticket_id) as connection:
                found = connection.execute(
                    "SELECT 1 FROM ledger WHERE rule = ? AND ticket_id = ? AND episode = ?",
                    (rule, ticket_id, instant),
                ).fetchone()
        except UnicodeEncodeError:  # not valid Unicode: no rule or ticket has that name
            return False
        return found is not None

    def history(self, ticket_id: str) -> list[HistoryEvent]:
        """Return the ticket's events, oldest first."""
        try:
            with self._read(ticket_id) as connection:
                rows = connection.execute(_SELECT_EVENTS, (ticket_id,)).fetchall()
        except UnicodeEncodeError:  # not valid Unicode: no stored ticket has that id
            rows = []
        if not rows:
            raise TicketNotFound(ticket_id)
        try:
            return [event_from_row(row) for row in rows]
        except UNDECODABLE as error:
            raise damaged_row(self._path, ticket_id, error) from None

    def query(self, query: TicketQuery) -> list[Ticket]:
        """Filter, order and limit in SQL, served by the indexes."""
        statement, parameters = query_sql(query)
        with self._read() as connection:
            rows = connection.execute(statement, parameters).fetchall()
        return [self._decode(row) for row in rows]

    def search(self, search: SearchQuery) -> list[tuple[float, Ticket]]:
        """The tickets holding every word sought, best first: FTS5 finds, SQL ranks and pages."""
        if not isinstance(search, SearchQuery):
            raise InvalidInput("search", search, "a SearchQuery")
        statement, parameters = search_sql(search)
        try:
            with self._read() as connection:
                rows = connection.execute(statement, parameters).fetchall()
        except UnicodeEncodeError:  # not valid Unicode: no ticket holds that id
            raise InvalidInput("after", search.after, "a position a search returned") from None
        return [(float(row[0]), self._decode(row[1:])) for row in rows]

    def reindex_search(self) -> int:
        """Index every ticket's text again, from its row and its history; return how many.

        What the migration that brought search did, for a list of searched
        events that has grown since (``SEARCHED_EVENTS``).  One transaction.
        """
        with self._write() as connection:
            connection.execute("DELETE FROM search_keys")  # its trigger empties search
            for statement in _SEARCH[_INDEX_ALL:]:
                connection.execute(statement)
            (count,) = connection.execute("SELECT count(*) FROM search_keys").fetchone()
        return int(count)

    def purge(self, ticket_id: str, expected_version: int) -> None:
        """Delete the ticket; its history, tags and ledger rows go with it."""
        try:
            with self._write(ticket_id) as connection:
                stored = connection.execute(
                    "SELECT version FROM tickets WHERE id = ?", (ticket_id,)
                ).fetchone()
                if stored is None:
                    raise TicketNotFound(ticket_id)
                if stored[0] != expected_version:
                    raise ConcurrencyConflict(ticket_id, expected_version, stored[0])
                connection.execute("DELETE FROM tickets WHERE id = ?", (ticket_id,))
        except UnicodeEncodeError:  # not valid Unicode: no stored ticket has that id
            raise TicketNotFound(ticket_id) from None
        finally:  # after the delete: a commit of another thread may remember it meanwhile
            self._marks.forget(ticket_id)

    # -- the outbox ------------------------------------------------------

    def outbox_read(self, after: int, limit: int) -> list[OutboxRecord]:
        """The records past ``after``: a range of the table's key, in commit order."""
        check_position(after)
        check_limit(limit)
        with self._read() as connection:
            return _read_records(connection, after, limit)

    @contextmanager
    def outbox_claim(
        self, consumer: str, *, at: datetime, lease: timedelta
    ) -> Iterator[_SQLiteClaim | None]:
        """Claim the cursor with a lease: a short write names the holder and the lease's end.

        A live lease of another drain gives None at once.  The block runs
        with no transaction open (the store's commands go on meanwhile);
        its settlement is written as it ends, in a second short write, only
        if the lease is still this claim's.
        """
        check_consumer(consumer)
        instant = time_in(check_instant(at, "at"))
        check_lease(lease)
        holder = secrets.token_hex(16)
        until = time_in(at + lease)
        try:
            with self._write() as connection:
                connection.execute(
                    "INSERT OR IGNORE INTO outbox_consumers (consumer, position) VALUES (?, 0)",
                    (consumer,),
                )
                row = connection.execute(
                    "UPDATE outbox_consumers SET holder = ?, lease_until = ? "
                    "WHERE consumer = ? AND (holder IS NULL OR lease_until <= ?) "
                    "RETURNING position",
                    (holder, until, consumer, instant),
                ).fetchone()
        except UnicodeEncodeError:
            raise InvalidInput("consumer", consumer, "text UTF-8 can encode") from None
        if row is None:
            yield None
            return
        claim = _SQLiteClaim(self, consumer, int(row[0]), holder, lease)
        try:
            yield claim
        except BaseException:
            with suppress(TicketflowError):  # else the lease runs out by itself
                claim.release()
            raise
        claim.write()

    def outbox_dead(self, consumer: str) -> list[HeldRecord]:
        """The consumer's dead records, with their records."""
        check_consumer(consumer)
        try:
            with self._read() as connection:
                rows = connection.execute(_SELECT_HELD, (consumer, True)).fetchall()
        except UnicodeEncodeError:
            return []
        return [held_from_row(consumer, row) for row in rows]

    def outbox_retry(self, consumer: str, positions: Sequence[int] | None, at: datetime) -> int:
        """Set dead records alive again, tried from ``at``."""
        check_consumer(consumer)
        instant = time_in(check_instant(at, "at"))
        statement = (
            "UPDATE outbox_held SET dead = 0, attempts = 0, next_at = ? "
            "WHERE consumer = ? AND dead = 1"
        )
        try:
            with self._write() as connection:
                if positions is None:
                    return int(connection.execute(statement, (instant, consumer)).rowcount)
                return sum(
                    connection.execute(
                        f"{statement} AND position = ?", (instant, consumer, position)
                    ).rowcount
                    for position in positions
                )
        except UnicodeEncodeError:
            return 0

    def outbox_prune(self, before: datetime) -> int:
        """Delete the records before ``before`` up to the lowest cursor, but those held."""
        instant = time_in(check_instant(before, "before"))
        with self._write() as connection:
            return int(
                connection.execute(
                    "DELETE FROM outbox WHERE position <= coalesce("
                    "(SELECT min(position) FROM outbox_consumers), 9223372036854775807) "
                    "AND at < ? AND position NOT IN (SELECT position FROM outbox_held)",
                    (instant,),
                ).rowcount
            )

    def outbox_consumers(self) -> list[ConsumerState]:
        """Every consumer's cursor, and how many records it holds."""
        with self._read() as connection:
            rows = connection.execute(
                "SELECT c.consumer, c.position, "
                "(SELECT count(*) FROM outbox_held AS h WHERE h.consumer = c.consumer "
                "AND h.dead = 0), "
                "(SELECT count(*) FROM outbox_held AS h WHERE h.consumer = c.consumer "
                "AND h.dead = 1) "
                "FROM outbox_consumers AS c ORDER BY c.consumer"
            ).fetchall()
        return [ConsumerState(name, position, held, dead) for name, position, held, dead in rows]

    def __len__(self) -> int:
        with self._read() as connection:
            (count,) = connection.execute("SELECT COUNT(*) FROM tickets").fetchone()
        return int(count)

    def __repr__(self) -> str:
        return f"<SQLiteStore {self._path!r}>"


def _read_records(connection: sqlite3.Connection, after: int, limit: int) -> list[OutboxRecord]:
    rows = connection.execute(
        f"SELECT {', '.join(RECORD_COLUMNS)} FROM outbox "  # noqa: S608 - our own names
        "WHERE position > ? ORDER BY position LIMIT ?",
        (after, limit),
    ).fetchall()
    return [record_from_row(row) for row in rows]


class _SQLiteClaim(LeasedClaim):
    """A consumer's cursor, claimed by a lease in its row; settled in a write of its own."""

    __slots__ = ("_store",)

    def __init__(
        self, store: SQLiteStore, consumer: str, position: int, holder: str, lease: timedelta
    ) -> None:
        super().__init__(consumer, position, holder, lease)
        self._store = store

    def held(self) -> list[HeldRecord]:
        with self._store._read() as connection:
            rows = connection.execute(_SELECT_HELD, (self.consumer, False)).fetchall()
        return [held_from_row(self.consumer, row) for row in rows]

    def read(self, limit: int) -> list[OutboxRecord]:
        with self._store._read() as connection:
            return _read_records(connection, self.position, limit)

    def renew(self, at: datetime) -> None:
        until = time_in(check_instant(at, "at") + self.lease)
        with self._store._write() as connection:
            self._own(connection, "lease_until = ?", (until,))

    def release(self) -> None:
        """Give the cursor up, writing nothing else (if it is still this claim's)."""
        with self._store._write() as connection:
            connection.execute(
                "UPDATE outbox_consumers SET holder = NULL, lease_until = NULL "
                "WHERE consumer = ? AND holder = ?",
                (self.consumer, self.holder),
            )

    def write(self) -> None:
        """Write the settlement and give the cursor up; raise ClaimExpired if it was taken."""
        settled = self.settled
        if settled is None:
            self.release()
            return
        with self._store._write() as connection:
            self._own(
                connection,
                "position = ?, holder = NULL, lease_until = NULL",
                (settled.position,),
            )
            connection.executemany(
                "DELETE FROM outbox_held WHERE consumer = ? AND position = ?",
                [(self.consumer, gone) for gone in settled.released],
            )
            connection.executemany(
                "INSERT OR REPLACE INTO outbox_held "
                "(consumer, position, ticket_id, attempts, next_at, error, dead) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [held_values(record) for record in settled.held],
            )

    def _own(
        self, connection: sqlite3.Connection, assignments: str, values: tuple[Any, ...]
    ) -> None:
        """Update the cursor's row if this claim still holds it, else raise ClaimExpired."""
        updated = connection.execute(
            f"UPDATE outbox_consumers SET {assignments} "  # noqa: S608 - our own names
            "WHERE consumer = ? AND holder = ?",
            (*values, self.consumer, self.holder),
        ).rowcount
        if updated != 1:
            raise ClaimExpired(self._store.path, self.consumer)


def _schedule_in(schedule: Schedule) -> tuple[int | None, str | None]:
    check_schedule(schedule)
    return time_in(schedule.next_due_at), schedule.rules


def _figures_in(figures: Figures | None) -> tuple[Any, ...]:
    check_figures(figures)
    return _NO_FIGURES if figures is None else figures_row(figures)


def _writable(path: Path) -> bool:
    """Whether ``path`` may be written: its mode grants it to someone, and the system to us."""
    try:
        return bool(path.stat().st_mode & 0o222) and os.access(path, os.W_OK)
    except OSError:
        return False


def _roll_back_to(connection: sqlite3.Connection) -> None:
    """Undo the writes since the savepoint; the batch's transaction goes on."""
    with suppress(sqlite3.Error):
        connection.execute("ROLLBACK TO ticketflow_write")
        connection.execute("RELEASE ticketflow_write")


def _roll_back(connection: sqlite3.Connection) -> None:
    """Undo the open transaction, if SQLite has not undone it already.

    SQLite rolls a transaction back by itself after some errors (a full disk,
    an I/O error); rolling back again would raise "cannot rollback - no
    transaction is active" and hide the error that matters.
    """
    if connection.in_transaction:
        with suppress(sqlite3.Error):  # the error being raised is the one to report
            connection.execute("ROLLBACK")


class _NoLock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *_exc: object) -> None:
        return None


_NO_LOCK = _NoLock()


def _unstorable(error: UnicodeEncodeError, *rows: Mapping[str, Any]) -> InvalidInput:
    """Refuse a write that holds text UTF-8 cannot encode, naming its column.

    The checkers refuse such text at the boundary; a ticket or event built
    around them (by a host's own code) gets here, its write rolled back whole.
    """
    found = unencodable(itertools.chain.from_iterable(row.items() for row in rows))
    return found or InvalidInput("text", error.object, VALID_UNICODE)


def _event_columns(values: tuple[Any, ...]) -> dict[str, Any]:
    return dict(zip(EVENT_COLUMNS, values, strict=True))


def _index(connection: sqlite3.Connection, ticket: Ticket) -> None:
    """Index a new ticket's subject and description for search."""
    (docid,) = connection.execute(
        "INSERT INTO search_keys (ticket_id) VALUES (?) RETURNING docid", (ticket.id,)
    ).fetchone()
    connection.execute(
        "INSERT INTO search (rowid, subject, description, conversation) VALUES (?, ?, ?, '')",
        (docid, ticket.subject, ticket.description),
    )


_DOCID = "(SELECT docid FROM search_keys WHERE ticket_id = ?)"


def _change_statements(ticket: Ticket, event: HistoryEvent) -> list[tuple[str, tuple[Any, ...]]]:
    """What else a commit writes: the tags if they changed, the searchable text of ``event``."""
    statements: list[tuple[str, tuple[Any, ...]]] = []
    if "tags" in event.changes:
        statements.append(("DELETE FROM ticket_tags WHERE ticket_id = ?", (ticket.id,)))
        statements += [(_INSERT_TAG, (tag, ticket.id)) for tag in sorted(ticket.tags)]
    if event.name in SEARCHED_EVENTS and event.body is not None:
        statements.append(
            (
                "UPDATE search SET conversation = CASE conversation WHEN '' THEN ? "  # noqa: S608
                f"ELSE conversation || char(10) || ? END WHERE rowid = {_DOCID}",
                (event.body, event.body, ticket.id),
            )
        )
    if "subject" in event.changes or "description" in event.changes:
        statements.append(
            (
                f"UPDATE search SET subject = ?, description = ? WHERE rowid = {_DOCID}",  # noqa: S608
                (ticket.subject, ticket.description, ticket.id),
            )
        )
    return statements


class _Commit(NamedTuple):
    """A commit's rows, encoded: what it writes, now or with its batch."""

    ticket_id: str
    expected_version: int
    columns: dict[str, Any]  # the ticket's changed columns
    kept: tuple[Any, ...]  # the values of _KEPT
    event: tuple[Any, ...]
    ledger: list[tuple[Any, ...]]
    more: list[tuple[str, tuple[Any, ...]]]  # tags, search, outbox


def _commit_now(connection: sqlite3.Connection, change: _Commit) -> None:
    """Write ``change`` at once, in the open transaction; a stale version or ledger conflicts."""
    ticket_id, expected = change.ticket_id, change.expected_version
    statement, values = _update_sql(change.columns, change.kept, None)
    if connection.execute(statement, (*values, ticket_id, expected)).rowcount != 1:
        stored = connection.execute(
            "SELECT version FROM tickets WHERE id = ?", (ticket_id,)
        ).fetchone()
        raise ConcurrencyConflict(ticket_id, expected, None if stored is None else stored[0])
    connection.execute(_INSERT_EVENT, change.event)
    for statement, row in change.more:
        connection.execute(statement, row)
    if change.ledger:
        try:
            connection.executemany(_INSERT_LEDGER, change.ledger)
        except sqlite3.IntegrityError:  # the rule already acted: all of it rolls back
            raise ConcurrencyConflict(ticket_id, expected, expected) from None


def _update_sql(
    columns: Mapping[str, Any], kept: Sequence[Any], stored: Sequence[Any] | None
) -> tuple[str, list[Any]]:
    """A commit's ``UPDATE`` (less its ``id`` and ``version``) and its values.

    It sets the ticket's changed ``columns``, and those of ``kept`` (the
    values of :data:`_KEPT`) that differ from ``stored``; all of them if what
    is stored is not known.  Each index on a column set is rewritten, even
    if its value did not change.
    """
    names = list(columns)
    values = list(columns.values())
    if stored is None:
        names += _KEPT
        values += kept
    else:
        # The figures, most of the columns, often stand as they were: one comparison.
        width = len(_KEPT) if stored[_FIGURES_AT:] != kept[_FIGURES_AT:] else _FIGURES_AT
        for name, old, new in zip(_KEPT[:width], stored[:width], kept[:width], strict=True):
            if old != new:
                names.append(name)
                values.append(new)
    return _update_statement(tuple(names)), values


@functools.lru_cache(maxsize=256)
def _update_statement(names: tuple[str, ...]) -> str:
    assignments = ", ".join(f"{name} = ?" for name in names)
    return f"UPDATE tickets SET {assignments} WHERE id = ? AND version = ?"  # noqa: S608


def _encode(*rows: Sequence[Any]) -> None:
    """Raise :class:`UnicodeEncodeError` if a text of ``rows`` is one sqlite3 cannot bind."""
    "".join([value for row in rows for value in row if isinstance(value, str)]).encode()


_INSERT_TAG = "INSERT INTO ticket_tags (tag, ticket_id) VALUES (?, ?)"


def _write_tags(connection: sqlite3.Connection, ticket: Ticket) -> None:
    connection.executemany(
        _INSERT_TAG,
        [(tag, ticket.id) for tag in sorted(ticket.tags)],
    )


def due_sql(
    now: datetime, limit: int, after: tuple[datetime, str] | None = None, *, kept: bool = False
) -> tuple[str, list[Any]]:
    """The statement and parameters of ``SQLiteStore.due``: a range of its index.

    ``kept``: each row ends with the rest of :data:`_KEPT` (a batch's claim).
    """
    where = "next_due_at <= ?"
    parameters: list[Any] = [time_in(now)]
    if after is not None:
        where += " AND (next_due_at, id) > (?, ?)"
        parameters += [time_in(after[0]), after[1]]
    more = "".join(f", {name}" for name in _KEPT[1:]) if kept else ""
    statement = (
        f"SELECT next_due_at, {', '.join(COLUMNS)}{more} FROM tickets "  # noqa: S608 - our own names
        f"INDEXED BY tickets_by_next_due_at WHERE next_due_at IS NOT NULL AND {where} "
        "ORDER BY next_due_at, id LIMIT ?"
    )
    return statement, [*parameters, limit]


def stale_sql(rules: str, limit: int, *, column: str = "schedule") -> tuple[str, list[Any]]:
    """The statement and parameters of ``SQLiteStore.stale``: three ranges of its index.

    ``column`` is the fingerprint's (``sla_policies`` for ``sla_stale``,
    ``fig_key`` for ``unfigured``).
    """
    statement = (
        f"SELECT {', '.join(COLUMNS)} FROM ("  # noqa: S608 - our own names
        f"SELECT * FROM (SELECT * FROM tickets WHERE {column} IS NULL ORDER BY id LIMIT ?) "
        f"UNION ALL SELECT * FROM (SELECT * FROM tickets WHERE {column} < ? "
        f"ORDER BY {column}, id LIMIT ?) "
        f"UNION ALL SELECT * FROM (SELECT * FROM tickets WHERE {column} > ? "
        f"ORDER BY {column}, id LIMIT ?)"
        ") ORDER BY id LIMIT ?"
    )
    return statement, [limit, rules, limit, rules, limit, limit]


def sla_queue_sql(
    query: TicketQuery, limit: int, after: tuple[datetime, str] | None = None
) -> tuple[str, list[Any]]:
    """The statement and parameters of ``SQLiteStore.sla_queue``: its index, in order."""
    past = None if after is None else ("(sla_due_at, id) > (?, ?)", [time_in(after[0]), after[1]])
    return sla_page_sql(
        COLUMNS,
        "tickets INDEXED BY tickets_by_sla_due_at",
        "sla_due_at IS NOT NULL",
        filters_sql(query),
        past,
        order="sla_due_at, id",
        limit=("?", limit),
    )


def sla_untimed_sql(
    query: TicketQuery, limit: int, after: str | None = None
) -> tuple[str, list[Any]]:
    """The statement and parameters of ``SQLiteStore.sla_untimed``, in id order."""
    past = None if after is None else ("id > ?", [after])
    return sla_page_sql(
        COLUMNS,
        "tickets",
        "sla_due_at IS NULL",
        filters_sql(query),
        past,
        order="id",
        limit=("?", limit),
    )


def filters_sql(query: TicketQuery) -> tuple[list[str], list[Any]]:
    """The conditions (and their parameters) of ``query``'s filters, on ``tickets``."""
    where: list[str] = []
    parameters: list[Any] = []
    if query.statuses is not None:
        statuses = sorted(query.statuses)
        where.append(f"status IN ({', '.join('?' * len(statuses))})")
        parameters += statuses
    for column, value in (
        ("assignee", query.assignee),
        ("department", query.department),
        ("requester_id", query.requester),
    ):
        if value is not None:
            where.append(f"{column} = ?")
            parameters.append(value)
    for tag in sorted(query.tags):
        where.append("id IN (SELECT ticket_id FROM ticket_tags WHERE tag = ?)")
        parameters.append(tag)
    if query.due is not None:
        field, instant = query.due
        where.append(f"{field} IS NOT NULL AND {field} <= ?")
        parameters.append(time_in(instant))
    return where, parameters


def query_sql(
    query: TicketQuery, *, columns: str | None = None, ordered: bool = True
) -> tuple[str, list[Any]]:
    """Return the SQL and parameters that answer ``query`` (its semantics, in SQL).

    Tickets where the order field is None come last; ties are broken by id.
    ``columns`` selects other columns than a ticket's (what totals read);
    ``ordered=False`` leaves the order out when there is no limit (totals do
    not need it).
    """
    where, parameters = filters_sql(query)
    if query.after is not None:
        past, values = after_sql(query, "?", query.after[1])
        where.append(past)
        parameters += values
    direction = "DESC" if query.descending else "ASC"
    order = query.order_by
    statement = _SELECT_TICKET if columns is None else f"SELECT {columns} FROM tickets"  # noqa: S608
    if where:
        statement += " WHERE " + " AND ".join(where)
    if ordered or query.limit is not None:
        # Unset values last.  A field every ticket has needs no such term, and
        # without it the field's index serves the order (a page of a walk); a
        # sweep's due filter keeps it, so that its own index, not the order's, is read.
        unset_last = "" if order in ALWAYS_SET and query.due is None else f"{order} IS NULL, "
        statement += f" ORDER BY {unset_last}{order} {direction}, id {direction}"
    if query.limit is not None:
        statement += " LIMIT ?"
        parameters.append(query.limit)
    return statement, parameters


_HITS = "(length(highlight(search, {column}, char(1), '')) - length(search.{name}))"
"""How many searched words the column holds: highlight() puts one mark before each."""

_SCORE = " + ".join(
    f"{weight} * {_HITS.format(column=column, name=name)}"
    for column, (weight, name) in enumerate(
        zip(WEIGHTS, ("subject", "description", "conversation"), strict=True)
    )
)
"""The score of :func:`ticketflow.storage._search.score`, computed by FTS5 on the matched row."""


def search_sql(search: SearchQuery) -> tuple[str, list[Any]]:
    """The statement and parameters of ``SQLiteStore.search``.

    FTS5 finds the tickets holding every word (each quoted, so the host's
    text is never query syntax); the filters hold on ``tickets``.
    """
    where, parameters = filters_sql(search.filters)
    filtered = _SELECT_TICKET + (" WHERE " + " AND ".join(where) if where else "")
    statement = (
        f"SELECT score, {', '.join(COLUMNS)} FROM ("  # noqa: S608 - our own names
        f"SELECT {_SCORE} AS score, found.* FROM search "
        "JOIN search_keys AS keys ON keys.docid = search.rowid "
        f"JOIN ({filtered}) AS found ON found.id = keys.ticket_id "
        "WHERE search MATCH ?)"
    )
    parameters.append(fts5_match(search.sought))
    if search.after is not None:
        statement += " WHERE score < ? OR (score = ? AND id > ?)"
        parameters += [search.after[0], search.after[0], search.after[1]]
    statement += " ORDER BY score DESC, id"
    if search.limit is not None:
        statement += " LIMIT ?"
        parameters.append(search.limit)
    return statement, parameters
