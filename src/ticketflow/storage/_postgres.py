r"""PostgresStore: tickets of many tenants in one PostgreSQL database (psycopg 3).

A command is one round trip: a commit is a single SQL statement whose
versioned ``UPDATE`` feeds the history and ledger inserts, so a conflict
shows as zero rows and nothing else is written.  Every table and every key
begins with the tenant, and every statement names the store's tenant.  The
schema lives in versioned SQL files shipped beside this module, applied by
:meth:`PostgresStore.migrate` under an advisory lock.

PostgreSQL text cannot hold NUL, which ticket text may: text is stored with
NUL written as ``\x01\x01`` and ``\x01`` as ``\x01\x02``.  The escape keeps
equality and code-point order, so filters and ``ORDER BY id`` (``COLLATE
"C"``) answer as they would on the text itself.
"""

from __future__ import annotations

import re
import select
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager, nullcontext, suppress
from contextvars import ContextVar
from datetime import datetime, timedelta
from importlib import resources
from types import MappingProxyType
from typing import Any

from ticketflow._errors import (
    ConcurrencyConflict,
    InvalidInput,
    StorageError,
    TicketflowError,
    TicketNotFound,
    short_repr,
)
from ticketflow._history import HistoryEvent
from ticketflow._ticket import Ticket
from ticketflow._validate import text, to_utc, valid_unicode
from ticketflow.storage._codec import (
    ALWAYS_SET,
    COLUMNS,
    EVENT_COLUMNS,
    UNDECODABLE,
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
from ticketflow.storage._search import SEARCHED_EVENTS, SearchQuery, searched_body
from ticketflow.storage._sla import (
    NO_SLA,
    StoredSLA,
    check_sla_page,
    check_untimed_page,
    sla_page_sql,
)

try:
    import psycopg
    from psycopg import errors as pg_errors
    from psycopg.conninfo import conninfo_to_dict
    from psycopg.pq import TransactionStatus
    from psycopg_pool import ConnectionPool, PoolTimeout
except ImportError as missing:  # ticketflow works without the extra; only this store needs it
    _MISSING: ImportError | None = missing
else:
    _MISSING = None

_INSTALL = 'pip install "ticketflow[postgres]"'

_MIGRATIONS = (
    "001_schema.sql",
    "002_row_level_security.sql",
    "003_schedule.sql",
    "004_sla_state.sql",
    "005_figures.sql",
    "006_outbox.sql",
    "007_search.sql",
    "008_labels_statistics.sql",
)
"""The schema, as forward migrations: file n takes schema version n - 1 to n."""

_FRESH = "schema.sql"
"""The whole current schema, which a new database gets in one step.

A test proves that it equals what replaying every migration gives.
"""

SCHEMA_VERSION = len(_MIGRATIONS)
"""The schema version this ticketflow writes."""

_SET_TENANT = "SELECT set_config('ticketflow.tenant', %s, %s)"
"""Name the tenant to the row-level security policies (for the session, or the transaction)."""

_BOUND: ContextVar[Mapping[int, psycopg.Connection[Any]]] = ContextVar(
    "ticketflow_postgres_bound", default=MappingProxyType({})
)
"""The host connection each store runs on in this context (:meth:`PostgresStore.using`)."""

_REMEMBERED = 4096
"""How many tickets a store remembers having committed (see :meth:`PostgresStore.recent`)."""

_OWN_BATCH: ContextVar[Mapping[int, psycopg.Connection[Any]]] = ContextVar(
    "ticketflow_postgres_own_batch", default=MappingProxyType({})
)
"""The connection of each store's own :meth:`PostgresStore.batch` in this context.

The store opened that transaction and named the tenant in it, so its calls
need not name it again, and its reads need no savepoint: a read that fails
fails the batch, which the sweep rolls back and retries ticket by ticket.
"""

_CLAIMS: ContextVar[Mapping[int, _Claims]] = ContextVar(
    "ticketflow_postgres_claims", default=MappingProxyType({})
)
"""What each store's own batch knows of the tickets it claimed (see :class:`_Claims`)."""

_LOCK_KEY = 0x7469636B6574666C  # "ticketfl": the advisory lock that serialises migrations


_SELECT_TICKET = f"SELECT {', '.join(COLUMNS)} FROM ticketflow_tickets"  # noqa: S608 - our own names
_EVENT_TYPES = ("text", "bigint", "bigint", "text", "text", "text", "text", "text", "text")
"""The SQL type of each of :data:`EVENT_COLUMNS`, for the parameters of ``INSERT ... SELECT``."""
_EVENT_VALUES = ", ".join(f"%s::{kind}" for kind in _EVENT_TYPES)
_EVENT_NAMES = ", ".join(EVENT_COLUMNS)

_HEAD = (
    "setweight(to_tsvector(%s::regconfig, %s::text), 'A') "
    "|| setweight(to_tsvector(%s::regconfig, %s::text), 'B')"
)
"""A ticket's subject and description as the head of its search document (language, text)."""

_FIGURE_TYPES = {"fig_key": "text", "fig_policy": "text"}
"""The SQL type of the figure columns that are not bigint."""
_FIGURE_VALUES = ", ".join(f"%s::{_FIGURE_TYPES.get(name, 'bigint')}" for name in FIGURE_COLUMNS)
_SET_FIGURES = [f"{name} = %s::{_FIGURE_TYPES.get(name, 'bigint')}" for name in FIGURE_COLUMNS]

_CREATE = (
    f"WITH created AS ("  # noqa: S608 - our own names; every value is a parameter
    f"INSERT INTO ticketflow_tickets (tenant, {', '.join(COLUMNS)}, tag_list, "
    "next_due_at, schedule, sla_due_at, sla_policies, sla_state, "
    f"{', '.join(FIGURE_COLUMNS)}) "
    f"VALUES (%s, {', '.join(['%s'] * len(COLUMNS))}, %s::text[], %s::bigint, %s::text, "
    f"%s::bigint, %s::text, %s::text, {_FIGURE_VALUES}) "
    "ON CONFLICT (tenant, id) DO NOTHING RETURNING id), "
    f"event AS (INSERT INTO ticketflow_events (tenant, {_EVENT_NAMES}) "
    f"SELECT %s, {_EVENT_VALUES} FROM created), "
    "searched AS (INSERT INTO ticketflow_search (tenant, ticket_id, document) "
    f"SELECT %s, id, {_HEAD} FROM created) "
    "SELECT count(*) FROM created"
)

_SEARCHED_NAMES = ", ".join(f"'{name}'" for name in SEARCHED_EVENTS)  # our own names

_REINDEX = (
    # Our own names; every value is a parameter.
    "UPDATE ticketflow_search AS search SET document = "  # noqa: S608
    "setweight(to_tsvector(%s::regconfig, tickets.subject), 'A') "
    "|| setweight(to_tsvector(%s::regconfig, tickets.description), 'B') "
    "|| setweight(to_tsvector(%s::regconfig, coalesce(("
    "SELECT string_agg(events.body, E'\\n' ORDER BY events.seq) "
    "FROM ticketflow_events AS events "
    "WHERE events.tenant = tickets.tenant AND events.ticket_id = tickets.id "
    f"AND events.name IN ({_SEARCHED_NAMES}) AND events.body IS NOT NULL), '')), 'C') "
    "FROM ticketflow_tickets AS tickets "
    "WHERE search.tenant = %s AND tickets.tenant = search.tenant "
    "AND tickets.id = search.ticket_id"
)
"""Write every search document of a tenant again, from its ticket and history."""
_OUTBOX_INSERT = (
    "INSERT INTO ticketflow_outbox (tenant, id, ticket_id, seq, event, actor, at, data) "
    "SELECT %s, %s, %s, %s::bigint, %s, %s, %s::bigint, %s FROM "
)
"""Insert the outbox record of a ticket's event, for each row of the CTE named after it."""

_CREATE_WITH_OUTBOX = _CREATE.replace(
    "SELECT count(*) FROM created",
    f", outbox AS ({_OUTBOX_INSERT}created) SELECT count(*) FROM created",  # noqa: S608
)

_RECORD = ", ".join(f"o.{name}" for name in RECORD_COLUMNS)
_SELECT_RECORDS = (
    f"SELECT {_RECORD} FROM ticketflow_outbox AS o "  # noqa: S608 - our own names
    "WHERE o.tenant = %s AND o.position IS NOT NULL AND o.position > %s "
    "ORDER BY o.position LIMIT %s"
)
_SELECT_HELD = (
    f"SELECT {_RECORD}, h.attempts, h.next_at, h.error, h.dead "  # noqa: S608 - our own names
    "FROM ticketflow_outbox_held AS h JOIN ticketflow_outbox AS o "
    "ON o.tenant = h.tenant AND o.position = h.position "
    "WHERE h.tenant = %s AND h.consumer = %s AND h.dead = %s ORDER BY h.position"
)
_POSITION_RECORDS = (
    # The committed records without a position, in the order they were drawn,
    # get the next positions; run under the lock of the tenant's head row,
    # taken by the statement before (so this one's snapshot sees every
    # position given before it).
    "WITH fresh AS (SELECT serial, row_number() OVER (ORDER BY serial) AS n "
    "FROM ticketflow_outbox WHERE tenant = %(tenant)s AND position IS NULL "
    "ORDER BY serial LIMIT 10000), "
    "numbered AS (UPDATE ticketflow_outbox AS o SET position = %(head)s + fresh.n FROM fresh "
    "WHERE o.tenant = %(tenant)s AND o.serial = fresh.serial), "
    "moved AS (UPDATE ticketflow_outbox_head "
    "SET position = %(head)s + (SELECT count(*) FROM fresh) WHERE tenant = %(tenant)s) "
    "SELECT count(*) FROM fresh"
)

_ESCAPED = re.compile("\x01(.)", re.DOTALL)


def _escape(value: Any) -> Any:
    r"""Write text so that PostgreSQL can hold it: NUL and \\x01 become two-character codes."""
    if isinstance(value, str) and ("\x00" in value or "\x01" in value):
        return value.replace("\x01", "\x01\x02").replace("\x00", "\x01\x01")
    return value


def _unescape(value: Any) -> Any:
    if isinstance(value, str) and "\x01" in value:
        return _ESCAPED.sub(lambda code: "\x00" if code[1] == "\x01" else "\x01", value)
    return value


def _stored(row: Sequence[Any]) -> tuple[Any, ...]:
    return tuple(_unescape(value) for value in row)


def _check_text(names: Sequence[str], values: Sequence[Any]) -> None:
    """Refuse text that UTF-8 cannot encode (a lone surrogate), naming its column."""
    refused = unencodable(zip(names, values, strict=True))
    if refused is not None:
        raise refused


def _readable(value: str) -> bool:
    """Whether ``value`` could name something stored (valid Unicode): else nothing has it."""
    return isinstance(value, str) and valid_unicode(value)


class PostgresStore:
    """A Store in a PostgreSQL database, shared by processes and hosts, one tenant at a time.

    The tables are created by :meth:`migrate`, which a deployment runs once
    (it is safe to run again, and from several processes at once).  A store
    reads and writes only its tenant's rows: another tenant's ticket is not
    found, even by its id.

    Args:
        dsn: a libpq connection string or URL (``postgresql://user@host/db``);
            the store opens its own connection pool, closed by :meth:`close`.
        pool: instead of ``dsn``, a host's ``psycopg_pool.ConnectionPool``;
            the host opens and closes it.
        tenant: whose tickets these are.
        timeout: how many seconds to wait for a connection (and for the
            server to answer a connection attempt) before :class:`StorageError`.
        max_connections: the largest size of the pool the store opens.
        search_language: the text search configuration that indexes and
            searches ticket text (``"simple"``: words as written, lower
            case; ``"english"``: stemmed, stop words left out; any in
            ``pg_ts_config``).  Every store of one database must be given the
            same: it is the database's choice; to change it, run
            :meth:`reindex_search` with the new one.

    Raises:
        StorageError: psycopg is not installed (install ``ticketflow[postgres]``).
            Every method raises :class:`StorageError` likewise for a fault of
            the server or the connection, never a raw psycopg error, and never
            showing the DSN's password.
        InvalidInput: the arguments are not as described.
    """

    def __init__(
        self,
        dsn: str | None = None,
        *,
        pool: ConnectionPool | None = None,
        tenant: str = "default",
        timeout: float = 10.0,
        max_connections: int = 8,
        search_language: str = "simple",
    ) -> None:
        if _MISSING is not None:
            raise StorageError(
                "PostgresStore", f"psycopg and psycopg_pool are not installed; {_INSTALL}"
            )
        self._tenant = text(tenant, "tenant")
        if "\x00" in self._tenant:
            raise InvalidInput("tenant", tenant, "a name without NUL characters")
        if (
            not isinstance(timeout, (int, float))
            or isinstance(timeout, bool)
            or not 0 < timeout <= 3600  # NaN too
        ):
            raise InvalidInput("timeout", timeout, "a number of seconds above 0, at most 3600")
        if (
            not isinstance(max_connections, int)
            or isinstance(max_connections, bool)
            or max_connections < 1
        ):
            raise InvalidInput("max_connections", max_connections, "a whole number from 1")
        self._timeout = float(timeout)
        self._language = text(search_language, "search_language")
        if "\x00" in self._language:
            raise InvalidInput(
                "search_language", search_language, "a text search configuration's name"
            )
        self._schema_checked = False
        self._recent: dict[str, Ticket] = {}
        self._recent_sla: dict[str, StoredSLA] = {}
        self._marks = RecentMarks()  # the ledger of tickets this object wrote, by version
        if (dsn is None) == (pool is None):
            raise InvalidInput("dsn", dsn, "a connection string, or else pool=, not both")
        if pool is not None:
            if not isinstance(pool, ConnectionPool):
                raise InvalidInput("pool", pool, "a psycopg_pool.ConnectionPool")
            self._pool, self._owned = pool, False
            self._opening: threading.Lock | None = None
            conninfo = pool.conninfo  # a str, or a function that gives one
            self._name = describe_dsn(conninfo) if isinstance(conninfo, str) else "PostgreSQL"
            self._secret = _password(conninfo) if isinstance(conninfo, str) else None
            return
        if not isinstance(dsn, str):
            raise InvalidInput("dsn", dsn, "a connection string such as 'postgresql://host/db'")
        try:
            self._name = describe_dsn(dsn)
        except psycopg.ProgrammingError:
            raise InvalidInput(
                "dsn", hide_password(dsn), "a valid libpq connection string"
            ) from None
        self._secret = _password(dsn)
        self._pool = ConnectionPool(
            dsn,
            min_size=1,
            max_size=max_connections,
            kwargs={
                # A command is one statement, so it is its own transaction: no
                # BEGIN and COMMIT round trips around it.
                "autocommit": True,
                "connect_timeout": max(2, round(self._timeout)),
                # A lock another session holds too long fails the statement
                # instead of hanging it (a host's own pool sets its own).
                "options": f"-c lock_timeout={round(self._timeout * 1000)}",
            },
            configure=self._configure,
            timeout=self._timeout,
            open=False,
            name=f"ticketflow {self._name}",
        )
        self._owned = True
        self._opening = threading.Lock()

    def _open(self) -> None:
        """Open the store's own pool on first use, and wait for its first connection.

        Building a store does no I/O.  Waiting here makes the pool's worker
        threads connect now rather than at some later moment (they use the
        global ``random``, which Hypothesis watches while it draws examples).
        """
        opening = self._opening
        if opening is None:
            return
        with opening:
            if self._opening is None:
                return
            self._opening = None
            self._pool.open(wait=True, timeout=self._timeout)

    def _configure(self, connection: psycopg.Connection[Any]) -> None:
        """Name the tenant once on each new connection of the store's own pool."""
        connection.execute(_SET_TENANT, (self._tenant, False))

    @property
    def tenant(self) -> str:
        """The tenant whose tickets this store reads and writes."""
        return self._tenant

    def close(self) -> None:
        """Close the pool this store opened (a host's pool stays open)."""
        if self._owned:
            self._opening = None
            self._pool.close()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<PostgresStore {self._name!r} tenant={self._tenant!r}>"

    # -- connections and errors ------------------------------------------

    @contextmanager
    def using(self, connection: Any) -> Iterator[PostgresStore]:
        """Run this store's reads and writes on the host's connection, in the host's transaction.

        Inside the block, every call of this store (and of a ``Helpdesk``
        built on it) runs on ``connection``, in the transaction the host has
        open there or opens with it, and never commits it: the host's writes
        and the ticket's land together when the host commits, or not at all.
        Each call runs in a savepoint, so a refused command (a conflict, a
        rule that already acted) undoes only its own writes and leaves the
        host's transaction usable.  The binding is local to the thread or
        task (a context variable); other threads keep using the pool.

        Args:
            connection: a ``psycopg.Connection``, or a SQLAlchemy
                ``Connection`` on the psycopg driver (its DBAPI connection
                is used).  Not in autocommit mode, unless inside
                ``with connection.transaction():``.

        Raises:
            InvalidInput: ``connection`` is not a psycopg connection.

        Example::

            with psycopg.connect(dsn) as connection:   # commits at the end
                connection.execute("INSERT INTO refunds ...")
                with store.using(connection):
                    desk.resolve(ticket_id, agent, body="Refunded.")
        """
        bound = _host_connection(connection)
        token = _BOUND.set(MappingProxyType({**_BOUND.get(), id(self): bound}))
        try:
            yield self
        finally:
            _BOUND.reset(token)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """One transaction for the block, each call in a savepoint; claims last until its end.

        On the store's own pool a connection is taken for the block; on a
        host's pool, likewise; inside :meth:`using` (or another batch) the
        block is a savepoint of the transaction already bound, so an error
        undoes the block alone.

        In the store's own batch, the tickets ``due(claim=True)`` returns are
        known (:class:`_Claims`): their reads need no round trip, and their
        commits are sent ahead, in pipeline mode; a conflict is still raised
        by the commit itself, while a fault of the server is raised by the
        batch's next statement or at its end, and fails the whole batch.
        """
        if id(self) in _BOUND.get():
            claims = self._claims()
            if claims is not None:
                claims.nested += 1  # its writes wait for their outcome: it may roll back alone
            try:
                with self._transaction():  # a savepoint of the transaction bound
                    yield
            except BaseException:
                if claims is not None:
                    claims.forget()  # what it knew may include writes just undone
                raise
            finally:
                if claims is not None:
                    claims.nested -= 1
            return
        with self._transaction(several=True) as connection, self.using(connection):
            token = _OWN_BATCH.set(MappingProxyType({**_OWN_BATCH.get(), id(self): connection}))
            claims = _Claims()
            known = _CLAIMS.set(MappingProxyType({**_CLAIMS.get(), id(self): claims}))
            try:
                yield
                self._check_sent(claims)  # before the batch commits
            except BaseException:
                claims.abandon()
                raise
            finally:
                _CLAIMS.reset(known)
                _OWN_BATCH.reset(token)

    def _claims(self) -> _Claims | None:
        """What this store's own batch knows of the tickets it claimed, if one is under way."""
        return _CLAIMS.get().get(id(self))

    def _send_ahead(
        self, claims: _Claims, ticket_id: str, statement: str, parameters: Sequence[Any]
    ) -> None:
        """Send a write of a claimed ticket in pipeline mode, without waiting for it.

        ``statement`` returns one row if it applied, none if not.  Writes of
        one statement are queued and go together (``executemany``, far less
        work for the client than a statement at a time), a few at a time so
        that the server works on them while the batch goes on.
        """
        if claims.failed is not None:
            raise claims.failed
        if claims.queued and (statement != claims.statement or len(claims.queued) >= _AHEAD):
            self._send_queued(claims)
        claims.statement = statement
        claims.queued.append(parameters)
        claims.queued_ids.append(ticket_id)

    def _send_queued(self, claims: _Claims) -> None:
        """Send the writes queued, in pipeline mode (:meth:`_check_sent` reads their outcome)."""
        statement, queued, ids = claims.statement, claims.queued, claims.queued_ids
        claims.queued, claims.queued_ids = [], []
        connection = _OWN_BATCH.get()[id(self)]
        try:
            if claims.pipeline is None:
                stack = ExitStack()
                stack.enter_context(connection.pipeline())
                claims.pipeline = stack
            cursor = connection.cursor()
            cursor.executemany(statement, queued)
        except psycopg.Error as error:  # a write sent before failed: the batch with it
            raise self._failed_ahead(claims, error) from None
        claims.pending.append((cursor, ids))

    def _failed_ahead(self, claims: _Claims, error: psycopg.Error) -> StorageError:
        """Keep and return the batch's failure: ``error`` came from a write sent ahead."""
        translated = self._translate(error)
        claims.failed = (
            translated
            if isinstance(translated, StorageError) and _lost(error)
            else StorageError(
                self._name,
                f"a write {_SENT_AHEAD} in this batch failed "
                f"({self._scrub(str(error).strip())}); the batch is rolled back",
            )
        )
        return claims.failed

    def _check_sent(self, claims: _Claims) -> None:
        """Read the outcome of the writes the batch sent ahead; if one did not apply, fail it.

        One round trip for all of them.  The failure is kept: the batch
        cannot commit even if the caller goes on.
        """
        if claims.failed is not None:
            raise claims.failed
        if claims.queued:
            self._send_queued(claims)
        pipeline, pending = claims.pipeline, claims.pending
        if pipeline is None:
            return
        claims.pipeline, claims.pending = None, []
        try:
            pipeline.close()  # leaves pipeline mode: a Sync, then every result is read
        except psycopg.Error as error:
            raise self._failed_ahead(claims, error) from None
        for cursor, ids in pending:
            if cursor.rowcount != len(ids):  # one row each that applied
                claims.failed = StorageError(
                    self._name,
                    f"a write of one of the tickets {', '.join(map(repr, ids))} {_SENT_AHEAD} "
                    "in this batch found its claimed row changed; the batch is rolled back",
                )
                raise claims.failed

    @contextmanager
    def _transaction(
        self, *, checked: bool = True, several: bool = False, atomic: bool = False
    ) -> Iterator[psycopg.Connection[Any]]:
        """A connection whose statements commit together when the block ends, else roll back.

        A statement alone is its own transaction on the store's own pool
        (autocommit); ``several=True`` wraps the block in one.  A host's
        pool gets a transaction that names the tenant; a host's connection
        (:meth:`using`) a savepoint in the host's transaction.  The first
        block also checks the schema's version (once per store), so an older
        ticketflow never reads or writes a newer schema it does not know;
        ``checked=False`` is for :meth:`migrate`, which checks itself.
        ``atomic=True`` marks a block that needs no savepoint of its own in
        the store's own :meth:`batch`: it only reads, or its one statement
        writes all or nothing and meets a conflict without an error (an
        error there fails the batch, which the sweep retries ticket by
        ticket).
        """
        try:
            with self._connection(several=several, atomic=atomic) as connection:
                if checked and not self._schema_checked:
                    self._check_schema(connection)
                yield connection
        except TicketflowError:
            raise
        except psycopg.Error as error:
            raise self._translate(error) from None

    @contextmanager
    def _connection(
        self, *, several: bool = False, atomic: bool = False
    ) -> Iterator[psycopg.Connection[Any]]:
        bound = _BOUND.get().get(id(self))
        if bound is not None and _OWN_BATCH.get().get(id(self)) is bound:
            # The store's own batch: the tenant is named in its transaction
            # already, and an atomic block has nothing to undo.  (Two round
            # trips less a call: each firing of a sweep reads, then commits.)
            # What the batch sent ahead is checked first, so that a failure
            # there is the batch's, not this call's.
            claims = self._claims()
            if claims is not None:
                self._check_sent(claims)
            with nullcontext() if atomic else bound.transaction():
                yield bound
            return
        if bound is not None:
            self._join(bound)
            with bound.transaction():  # a savepoint inside the host's transaction
                yield bound
            return
        if self._owned:
            self._open()
            with (
                self._pooled() as connection,
                connection.transaction() if several else nullcontext(),
            ):
                yield connection
            return
        # A host's pool: its own settings (check=, max_idle=) decide how it
        # treats connections the server has closed.
        with (
            self._pool.connection(timeout=self._timeout) as connection,
            connection.transaction(),
        ):
            connection.execute(_SET_TENANT, (self._tenant, True))
            yield connection

    @contextmanager
    def _pooled(self) -> Iterator[psycopg.Connection[Any]]:
        """A connection of the store's own pool that the server has not closed while it sat idle.

        A restart of the server, or an idle timeout, ends the pool's idle
        connections without the pool noticing.  Each connection is looked at
        before use (:func:`_hung_up`, no round trip for a sound one); one the
        server has closed is closed here too, which makes the pool discard it
        and open another, and the next one is taken at once.  (The pool's own
        ``check=`` would also find them, but it waits a growing delay after
        each one: with a few of them the command would time out.)
        """
        for _attempt in range(self._pool.max_size):
            with self._pool.connection(timeout=self._timeout) as connection:
                if not _hung_up(connection):
                    yield connection
                    return
                connection.close()
        with self._pool.connection(timeout=self._timeout) as connection:
            yield connection

    def _join(self, connection: psycopg.Connection[Any]) -> None:
        """Enter the host's transaction on ``connection`` and name the tenant in it."""
        if connection.closed:
            raise StorageError(self._name, "the host's connection is closed")
        status = connection.info.transaction_status
        if status == TransactionStatus.INERROR:
            raise StorageError(
                self._name,
                "the host's transaction has already failed; roll it back before using the store",
            )
        if status == TransactionStatus.IDLE and connection.autocommit:
            raise InvalidInput(
                "connection",
                "a connection in autocommit mode, outside a transaction",
                "a connection in a transaction (with connection.transaction(): ...), "
                "so the ticket's writes land with the host's",
            )
        if status not in (TransactionStatus.IDLE, TransactionStatus.INTRANS):
            raise StorageError(self._name, "the host's connection is busy with another query")
        # Opens the host's transaction if it has not begun yet (psycopg begins
        # one before the first statement of a connection not in autocommit).
        connection.execute(_SET_TENANT, (self._tenant, True))

    def _check_schema(self, connection: psycopg.Connection[Any]) -> None:
        version = _schema_version(connection)
        if version > SCHEMA_VERSION:
            raise self._newer(version)
        if version == 0:
            raise _unmigrated(self._name)
        if version < SCHEMA_VERSION:
            raise StorageError(
                self._name,
                f"its ticketflow schema is version {version}, this ticketflow needs "
                f"{SCHEMA_VERSION}; run PostgresStore.migrate() (on the command line, ticketflow "
                "migrate) first",
            )
        self._check_language(connection)
        self._schema_checked = True

    def _check_language(self, connection: psycopg.Connection[Any]) -> None:
        """Refuse a search language the database does not know, before any text is indexed."""
        try:
            with connection.transaction():  # a savepoint, if a transaction is open
                connection.execute("SELECT %s::regconfig", (self._language,))
        except (pg_errors.UndefinedObject, pg_errors.InvalidParameterValue):
            raise InvalidInput(
                "search_language",
                self._language,
                "a text search configuration of this database, such as 'simple' or 'english'",
            ) from None

    @property
    def search_language(self) -> str:
        """The text search configuration this store indexes and searches ticket text in."""
        return self._language

    def _newer(self, version: int) -> StorageError:
        return StorageError(
            self._name,
            f"it holds a newer ticketflow schema ({version}; this ticketflow knows up "
            f"to {SCHEMA_VERSION}); upgrade ticketflow to use it",
        )

    def _translate(self, error: psycopg.Error) -> TicketflowError:
        """Say what a psycopg error means for this store, as a :class:`TicketflowError`."""
        message = self._scrub(str(error).strip())
        if isinstance(error, PoolTimeout):
            return StorageError(
                self._name,
                f"no connection to the server within {self._timeout:g} s ({self._why()}); "
                "check that PostgreSQL is running there and has this database and user",
            )
        if isinstance(error, pg_errors.UndefinedTable):
            missing = error.diag.message_primary or message
            return StorageError(
                self._name,
                f"{self._scrub(missing)}: a ticketflow table is missing although the schema "
                "version says it was migrated (was it dropped?); restore it, or migrate "
                "a new database with PostgresStore.migrate()",
            )
        if isinstance(error, pg_errors.LockNotAvailable):
            return StorageError(
                self._name,
                f"another session held a lock it needed for more than {self._timeout:g} s "
                "(lock_timeout); nothing was written, try again",
            )
        if _lost(error):
            then = (
                "the store reconnects by itself"
                if self._owned and id(self) not in _BOUND.get()
                else "the host's connection is lost"
                if self._owned
                else "the host's pool decides how to reconnect"
            )
            return StorageError(
                self._name,
                f"lost its connection to the server ({message}); a command in flight may "
                f"or may not have been committed, so read the ticket before trying again; {then}",
            )
        if isinstance(error, pg_errors.DataError):
            return InvalidInput("value", message, "a value PostgreSQL can store")
        return StorageError(self._name, f"PostgreSQL refused: {message}")

    def _why(self) -> str:
        """Why the pool has no connection: what one attempt of our own hears from the server.

        The pool retries in the background and only says it waited too long;
        the server's answer (refused, no such database, no such user) is the
        reason worth reading.
        """
        conninfo, kwargs = self._pool.conninfo, self._pool.kwargs
        if not isinstance(conninfo, str) or not isinstance(kwargs, dict):
            return "the pool gave none"
        options = {**kwargs, "connect_timeout": max(2, round(self._timeout))}
        try:
            psycopg.connect(conninfo, **options).close()
        except psycopg.Error as error:
            lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
            said = "; ".join(lines).removeprefix("connection failed: ")
            return self._scrub(said or type(error).__name__)
        return "the server answers now; the pool may be exhausted"

    def _scrub(self, message: str) -> str:
        return message.replace(self._secret, "***") if self._secret else message

    # -- schema ----------------------------------------------------------

    def migrate(self) -> int:
        """Create or bring the schema forward to this ticketflow's version; return it.

        Runs in one transaction under an advisory lock, so processes that
        migrate at once apply each step once; a database already current is
        left as it is.  A new database gets the whole schema in one step; an
        older one replays the migrations it lacks, which give the same schema.
        Inside :meth:`using`, it runs in the host's transaction: this is how
        an Alembic or Django migration applies it.

        Raises:
            StorageError: the database holds a newer schema than this
                ticketflow knows, or the server refused.
        """
        with self._transaction(checked=False, several=True) as connection:
            connection.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
            connection.execute(
                "CREATE TABLE IF NOT EXISTS ticketflow_schema_version (version integer NOT NULL)"
            )
            version = _schema_version(connection)
            if version > SCHEMA_VERSION:
                raise self._newer(version)
            steps = (_FRESH,) if version == 0 else _MIGRATIONS[version:]
            for name in steps:
                connection.execute(_sql(name))
            if version < SCHEMA_VERSION:
                connection.execute("DELETE FROM ticketflow_schema_version")
                connection.execute(
                    "INSERT INTO ticketflow_schema_version (version) VALUES (%s)",
                    (SCHEMA_VERSION,),
                )
            self._check_language(connection)
        self._schema_checked = True
        return SCHEMA_VERSION

    # -- the Store protocol ----------------------------------------------

    def new_id(self) -> str:
        """Return ``T-n`` for the tenant's next n, unique across processes."""
        with self._transaction() as connection:
            row = connection.execute(
                "INSERT INTO ticketflow_counters AS c (tenant, name, value) "
                "VALUES (%s, 'ticket', 1) "
                "ON CONFLICT (tenant, name) DO UPDATE SET value = c.value + 1 RETURNING value",
                (self._tenant,),
            ).fetchone()
        assert row is not None  # noqa: S101 - RETURNING of an upsert always gives its row
        return f"T-{row[0]}"

    def get(self, ticket_id: str) -> Ticket:
        """Return the stored ticket of this tenant."""
        if not _readable(ticket_id):
            raise TicketNotFound(ticket_id)
        with self._transaction(atomic=True) as connection:
            row = connection.execute(
                f"{_SELECT_TICKET} WHERE tenant = %s AND id = %s",
                (self._tenant, _escape(ticket_id)),
            ).fetchone()
        if row is None:
            raise TicketNotFound(ticket_id)
        return self._decode(row)

    def _decode(self, row: Sequence[Any]) -> Ticket:
        try:
            return ticket_from_row(_stored(row))
        except UNDECODABLE as error:
            raise damaged_row(self._name, _unescape(row[0]), error) from None

    def _version(self, connection: psycopg.Connection[Any], ticket_id: str) -> int | None:
        row = connection.execute(
            "SELECT version FROM ticketflow_tickets WHERE tenant = %s AND id = %s",
            (self._tenant, _escape(ticket_id)),
        ).fetchone()
        return None if row is None else int(row[0])

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
        """Store a ticket, first event, schedule, SLA record, figures (outbox): one statement."""
        check_follows(ticket, event, 0)
        planned = [*_schedule_in(schedule), *sla_in(sla)]
        figured = _figures_in(figures)
        ticket_values, event_values = ticket_row(ticket), event_row(event)
        _check_text(COLUMNS, ticket_values)
        _check_text(EVENT_COLUMNS, event_values)
        parameters = (
            self._tenant,
            *(_escape(value) for value in ticket_values),
            [_escape(tag) for tag in sorted(ticket.tags)],
            *planned,
            *figured,
            self._tenant,
            *(_escape(value) for value in event_values),
            self._tenant,
            self._language,
            _escape(ticket.subject),
            self._language,
            _escape(ticket.description),
            *(self._outbox_parameters(event) if outbox else ()),
        )
        with self._remembering(ticket, sla), self._transaction() as connection:
            row = connection.execute(
                _CREATE_WITH_OUTBOX if outbox else _CREATE, parameters
            ).fetchone()
            if row is None or row[0] != 1:
                stored = self._version(connection, ticket.id)
                raise ConcurrencyConflict(ticket.id, 0, stored)

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
        """Update the columns, schedule, SLA record, figures; append the event, ledger, outbox.

        All in one statement.
        """
        check_follows(ticket, event, expected_version)
        planned = [*_schedule_in(schedule), *sla_in(sla)]
        figured = _figures_in(figures)
        columns = changed_columns(event.changes)
        columns["version"] = ticket.version
        event_values = event_row(event)
        _check_text(list(columns), list(columns.values()))
        _check_text(EVENT_COLUMNS, event_values)
        entries = list(ledger)
        _check_text(["LedgerEntry.rule"] * len(entries), [entry.rule for entry in entries])
        assignments = [f"{name} = %s" for name in columns]
        values: list[Any] = [_escape(value) for value in columns.values()]
        if "tags" in event.changes:
            assignments.append("tag_list = %s::text[]")
            values.append(_text_array([_escape(tag) for tag in sorted(ticket.tags)]))
        assignments += [
            "next_due_at = %s::bigint",
            "schedule = %s::text",
            "sla_due_at = %s::bigint",
            "sla_policies = %s::text",
            "sla_state = %s::text",
            *_SET_FIGURES,
        ]
        values += [*planned, *figured]
        search, searched = self._search_change(ticket, event)
        spent = [(entry.rule, time_in(entry.episode)) for entry in entries]
        statement = (
            # Our own names; every value is a parameter.  The update happens only
            # if no ledger entry of this commit is kept already (the ticket's row
            # lock orders the commits of one ticket), so a rule that already acted
            # shows as zero rows, like a moved version, never as an error.
            "WITH entry AS (SELECT * FROM "  # noqa: S608
            "unnest(%s::text[], %s::bigint[], %s::bigint[]) AS entry (rule, episode, fired_at)), "
            f"updated AS (UPDATE ticketflow_tickets SET {', '.join(assignments)} "
            "WHERE tenant = %s AND id = %s AND version = %s AND NOT EXISTS ("
            "SELECT 1 FROM ticketflow_ledger AS kept JOIN entry "
            "ON kept.rule = entry.rule AND kept.episode = entry.episode "
            "WHERE kept.tenant = %s AND kept.ticket_id = %s) RETURNING id), "
            f"event AS (INSERT INTO ticketflow_events (tenant, {_EVENT_NAMES}) "
            f"SELECT %s, {_EVENT_VALUES} FROM updated), "
            "ledger AS (INSERT INTO ticketflow_ledger "
            "(tenant, rule, ticket_id, episode, fired_at) "
            "SELECT %s, entry.rule, updated.id, entry.episode, entry.fired_at "
            "FROM updated, entry)"
            + search
            + (f", outbox AS ({_OUTBOX_INSERT}updated)" if outbox else "")
            + _COUNT_UPDATED
        )
        parameters = (
            _text_array([_escape(rule) for rule, _ in spent]),
            _bigint_array([episode for _, episode in spent]),
            _bigint_array([time_in(entry.fired_at) for entry in entries]),
            *values,
            self._tenant,
            _escape(ticket.id),
            expected_version,
            self._tenant,
            _escape(ticket.id),
            self._tenant,
            *(_escape(value) for value in event_values),
            self._tenant,
            *searched,
            *(self._outbox_parameters(event) if outbox else ()),
        )
        claims = self._claims()
        known = None if claims is None else claims.ahead(ticket.id)
        if claims is not None and known is not None:
            # Claimed: its row is locked and known, so the conflict the statement
            # would find is found here, and the statement is sent without waiting.
            if (
                known != expected_version
                or len(set(spent)) < len(spent)
                or not claims.ledger[ticket.id].isdisjoint(spent)
            ):
                raise ConcurrencyConflict(ticket.id, expected_version, known)
            with self._remembering(ticket, sla, expected_version, entries):
                applied = statement.replace(_COUNT_UPDATED, " SELECT id FROM updated")
                self._send_ahead(claims, ticket.id, applied, parameters)
            claims.committed(ticket, event, spent, figured, planned[2:])
            return
        with (
            self._remembering(ticket, sla, expected_version, entries),
            self._transaction(atomic=True) as connection,
        ):
            try:
                row = connection.execute(statement, parameters).fetchone()
            except pg_errors.UniqueViolation as error:
                if error.diag.constraint_name != "ticketflow_ledger_pkey":
                    raise
                # The rule already acted on this episode: the statement wrote nothing,
                # and leaving the block with this error rolls the transaction back.
                raise ConcurrencyConflict(ticket.id, expected_version, expected_version) from None
            if row is None or row[0] != 1:
                # A moved version, a ticket gone, or (at the expected version) a
                # ledger entry kept already: the rule acted for this episode.
                stored = self._version(connection, ticket.id)
                raise ConcurrencyConflict(ticket.id, expected_version, stored)
        if claims is not None and claims.knows(ticket.id):
            claims.committed(ticket, event, spent, figured, planned[2:])

    def _search_change(self, ticket: Ticket, event: HistoryEvent) -> tuple[str, list[Any]]:
        """The part of a commit's statement that keeps the ticket's search document in step.

        A searched event's body joins the conversation (weight C); a new
        subject or description replaces the head and keeps the conversation.
        """
        body = searched_body(event)
        head = "subject" in event.changes or "description" in event.changes
        if body is None and not head:
            return "", []
        document, parameters = "document", []
        if head:
            document = f"{_HEAD} || ts_filter(document, '{{c}}')"
            parameters += [
                self._language,
                _escape(ticket.subject),
                self._language,
                _escape(ticket.description),
            ]
        if body is not None:
            document += " || setweight(to_tsvector(%s::regconfig, %s::text), 'C')"
            parameters += [self._language, _escape(body)]
        statement = (
            f", searched AS (UPDATE ticketflow_search SET document = {document} "  # noqa: S608
            "WHERE tenant = %s AND ticket_id IN (SELECT id FROM updated))"
        )
        return statement, [*parameters, self._tenant]

    def search(self, search: SearchQuery) -> list[tuple[float, Ticket]]:
        """The tickets holding every word sought, best first (``ts_rank_cd``), by the GIN index.

        The host's text goes to ``plainto_tsquery``, which reads it as words,
        never as query syntax.
        """
        if not isinstance(search, SearchQuery):
            raise InvalidInput("search", search, "a SearchQuery")
        if search.after is not None and not _readable(search.after[1]):
            raise InvalidInput("after", search.after, "a position a search returned")
        statement, parameters = search_sql(search, self._tenant, self._language)
        with self._transaction() as connection:
            rows = connection.execute(statement, parameters).fetchall()
        return [(float(row[0]), self._decode(row[1:])) for row in rows]

    def reindex_search(self) -> int:
        """Write every search document of the tenant again, in this store's language.

        For a database whose tickets were indexed in another language (the
        migration indexes those it finds in ``'simple'``).  One statement,
        one transaction; returns how many tickets it indexed.
        """
        with self._transaction() as connection:
            cursor = connection.execute(
                _REINDEX, (self._language, self._language, self._language, self._tenant)
            )
            return int(cursor.rowcount)

    def recent(self, ticket_id: str) -> Ticket | None:
        """The ticket as this store object last committed it itself, if it remembers it.

        Kept only for commits this store made in a transaction of its own
        (never inside :meth:`using` or :meth:`batch`, whose transaction the
        host may still roll back), so the ticket was stored; another process
        may have moved it since.  The unit of work starts a command from it
        instead of reading the row (one round trip instead of two): a moved
        ticket makes the commit a conflict, and the command is run again on
        the row; a refusal is checked again on the row before it is raised.
        """
        return self._recent.get(ticket_id)

    def recent_sla(self, ticket_id: str) -> StoredSLA | None:
        """The SLA record this store object last committed itself with the ticket, if remembered.

        Kept as :meth:`recent` keeps the ticket: the record stored at that
        ticket's version, which a commit folds its event into (the version
        it names says which it is) instead of reading it: one round trip less.
        """
        return self._recent_sla.get(ticket_id)

    def recent_ledger(self, ticket_id: str, version: int) -> frozenset[Mark] | None:
        """The ``(rule, episode)`` of the ticket's ledger rows at ``version``, if remembered.

        Remembered as :meth:`recent` remembers the ticket (see
        :class:`RecentMarks`): a commit's schedule asks which rules already
        acted without a round trip to the ledger.
        """
        return self._marks.at(ticket_id, version)

    @contextmanager
    def _remembering(
        self,
        ticket: Ticket,
        sla: StoredSLA = NO_SLA,
        expected: int = 0,
        entries: Sequence[LedgerEntry] = (),
    ) -> Iterator[None]:
        """Remember ``ticket`` (its SLA record, its ledger) once the block committed them alone.

        ``expected`` is the version the commit replaced (0: the block creates
        the ticket), ``entries`` the ledger entries it wrote.
        """
        self._recent.pop(ticket.id, None)
        self._recent_sla.pop(ticket.id, None)
        yield  # a block that fails wrote nothing: the marks known stay true
        if id(self) in _BOUND.get():  # the host's or a batch's transaction may roll back
            self._marks.forget(ticket.id)
            return
        if len(self._recent) >= _REMEMBERED:
            self._recent.clear()
            self._recent_sla.clear()
        self._recent[ticket.id] = ticket
        self._recent_sla[ticket.id] = sla
        if expected == 0:
            self._marks.created(ticket.id)
        else:
            self._marks.committed(ticket.id, expected, ticket.version, entries)

    def schedule(self, ticket_id: str) -> Schedule:
        """Return the ticket's stored schedule."""
        if not _readable(ticket_id):
            raise TicketNotFound(ticket_id)
        with self._transaction(atomic=True) as connection:
            row = connection.execute(
                "SELECT next_due_at, schedule FROM ticketflow_tickets "
                "WHERE tenant = %s AND id = %s",
                (self._tenant, _escape(ticket_id)),
            ).fetchone()
        if row is None:
            raise TicketNotFound(ticket_id)
        return schedule_from_row(self._name, ticket_id, *row)

    def due(
        self,
        now: datetime,
        *,
        limit: int,
        after: tuple[datetime, str] | None = None,
        claim: bool = False,
    ) -> list[tuple[datetime, Ticket]]:
        """The due tickets, in (next due instant, id) order, read through their index.

        ``claim=True`` locks their rows (``FOR UPDATE SKIP LOCKED``) until the
        :meth:`batch` ends: another batch's claim skips them rather than wait.
        """
        instant, start = check_page(now, limit, after)
        if start is not None and not _readable(start[1]):
            raise InvalidInput("after", start, "the (instant, id) of the last due ticket read")
        statement, parameters = due_sql(self._tenant, instant, limit, start, claim=claim)
        claims = self._claims() if claim else None
        with self._transaction(atomic=True) as connection:
            rows = connection.execute(statement, parameters).fetchall()
            if claims is not None and rows:
                self._read_ledger(connection, [row[1] for row in rows], claims.ledger)
        found = []
        end = 1 + len(COLUMNS)
        for row in rows:
            ticket = self._decode(row[1:end])
            at = schedule_from_row(self._name, ticket.id, row[0]).next_due_at
            assert at is not None  # noqa: S101 - the query asks for set instants
            found.append((at, ticket))
            if claims is not None:
                figures = end + len(FIGURE_COLUMNS)
                claims.claimed(ticket, row[end:figures], row[figures:])
        return found

    def _read_ledger(
        self,
        connection: psycopg.Connection[Any],
        ids: list[str],
        into: dict[str, set[tuple[str, int | None]]],
    ) -> None:
        """Read the ledger of the (escaped) ``ids`` just claimed, in one statement."""
        for ticket_id in ids:
            into[_unescape(ticket_id)] = set()
        rows = connection.execute(
            "SELECT ticket_id, rule, episode FROM ticketflow_ledger "
            "WHERE tenant = %s AND ticket_id = ANY(%s::text[])",
            (self._tenant, ids),
        ).fetchall()
        for ticket_id, rule, episode in rows:
            into[_unescape(ticket_id)].add((_unescape(rule), int(episode)))

    def count_due(self, now: datetime) -> int:
        """How many of the tenant's tickets are due at ``now``, counted on the index."""
        instant, _ = check_page(now, 1, None)
        with self._transaction() as connection:
            row = connection.execute(
                "SELECT count(*) FROM ticketflow_tickets "
                "WHERE tenant = %s AND next_due_at IS NOT NULL AND next_due_at <= %s",
                (self._tenant, time_in(instant)),
            ).fetchone()
        return 0 if row is None else int(row[0])

    def stale(self, rules: str, *, limit: int) -> list[Ticket]:
        """The tickets another rule set (or none) scheduled: three index ranges, in id order."""
        check_page(None, limit, None, rules=rules)
        if not _readable(rules):
            raise InvalidInput("rules", rules, "a rule set's fingerprint (ASCII text)")
        statement, parameters = stale_sql(self._tenant, rules, limit)
        with self._transaction() as connection:
            rows = connection.execute(statement, parameters).fetchall()
        return [self._decode(row) for row in rows]

    def count_stale(self, rules: str) -> int:
        """How many of the tenant's tickets another rule set (or none) scheduled."""
        check_page(None, 1, None, rules=rules)
        if not _readable(rules):
            raise InvalidInput("rules", rules, "a rule set's fingerprint (ASCII text)")
        with self._transaction() as connection:
            row = connection.execute(
                "SELECT count(*) FROM ticketflow_tickets "
                "WHERE tenant = %s AND (schedule IS NULL OR schedule <> %s)",
                (self._tenant, rules),
            ).fetchone()
        return 0 if row is None else int(row[0])

    def reschedule(self, ticket_id: str, expected_version: int, schedule: Schedule) -> bool:
        """Set the schedule alone, if the ticket is still at ``expected_version``."""
        planned = _schedule_in(schedule)
        if not _readable(ticket_id):
            return False
        statement = (
            "UPDATE ticketflow_tickets SET next_due_at = %s, schedule = %s "
            "WHERE tenant = %s AND id = %s AND version = %s RETURNING id"
        )
        parameters = (*planned, self._tenant, _escape(ticket_id), expected_version)
        claims = self._claims()
        known = None if claims is None else claims.ahead(ticket_id)
        if claims is not None and known is not None:  # claimed: its version is known
            if known != expected_version:
                return False
            self._send_ahead(claims, ticket_id, statement, parameters)
            return True
        with self._transaction() as connection:
            row = connection.execute(statement, parameters).fetchone()
        return row is not None

    def _columns(
        self, ticket_id: str, columns: str, claimed: Mapping[str, Sequence[Any]] | None
    ) -> Sequence[Any] | None:
        """The ticket's ``columns`` as stored: as claimed, if its batch claimed it; else read."""
        if claimed and ticket_id in claimed:
            return claimed[ticket_id]
        with self._transaction(atomic=True) as connection:
            return connection.execute(
                f"SELECT {columns} FROM ticketflow_tickets "  # noqa: S608 - our own names
                "WHERE tenant = %s AND id = %s",
                (self._tenant, _escape(ticket_id)),
            ).fetchone()

    def sla(self, ticket_id: str) -> StoredSLA:
        """Return the ticket's stored SLA record."""
        if not _readable(ticket_id):
            raise TicketNotFound(ticket_id)
        claims = self._claims()
        claimed = None if claims is None else claims.sla
        row = self._columns(ticket_id, "sla_due_at, sla_policies, sla_state", claimed)
        if row is None:
            raise TicketNotFound(ticket_id)
        return sla_from_row(self._name, ticket_id, *row)

    def sla_queue(
        self,
        query: TicketQuery,
        *,
        limit: int,
        after: tuple[datetime, str] | None = None,
    ) -> list[tuple[StoredSLA, Ticket]]:
        """The tickets with an SLA due instant, in (instant, id) order, read through its index."""
        query, start = check_sla_page(query, limit, after)
        if start is not None and not _readable(start[1]):
            raise InvalidInput("after", start, "the (instant, id) of the last ticket read")
        return self._sla_rows(*sla_queue_sql(self._tenant, query, limit, start))

    def sla_untimed(
        self, query: TicketQuery, *, limit: int, after: str | None = None
    ) -> list[tuple[StoredSLA, Ticket]]:
        """The tickets with no SLA due instant, in id order: a range of the primary key."""
        query = check_untimed_page(query, limit, after)
        if after is not None and not _readable(after):
            raise InvalidInput("after", after, "the id of the last ticket read")
        return self._sla_rows(*sla_untimed_sql(self._tenant, query, limit, after))

    def _sla_rows(self, statement: str, parameters: list[Any]) -> list[tuple[StoredSLA, Ticket]]:
        """The tickets (and their SLA records) a statement of :func:`sla_page_sql` reads."""
        with self._transaction() as connection:
            rows = connection.execute(statement, parameters).fetchall()
        found = []
        for row in rows:
            ticket = self._decode(row[3:])
            found.append((sla_from_row(self._name, ticket.id, *row[:3]), ticket))
        return found

    def sla_stale(self, policies: str, *, limit: int) -> list[Ticket]:
        """The tickets other policies (or none) kept SLA records for, in id order."""
        check_page(None, limit, None, rules=policies)
        if not _readable(policies):
            raise InvalidInput("policies", policies, "a fingerprint (ASCII text)")
        statement, parameters = stale_sql(self._tenant, policies, limit, column="sla_policies")
        with self._transaction() as connection:
            rows = connection.execute(statement, parameters).fetchall()
        return [self._decode(row) for row in rows]

    def count_sla_stale(self, policies: str) -> int:
        """How many of the tenant's tickets other policies (or none) kept SLA records for."""
        check_page(None, 1, None, rules=policies)
        if not _readable(policies):
            raise InvalidInput("policies", policies, "a fingerprint (ASCII text)")
        with self._transaction() as connection:
            row = connection.execute(*count_other_sql(self._tenant, policies, "sla_policies"))
            found = row.fetchone()
        return 0 if found is None else int(found[0])

    def restate_sla(self, ticket_id: str, expected_version: int, sla: StoredSLA) -> bool:
        """Set the SLA record alone, if the ticket is still at ``expected_version``."""
        kept = sla_in(sla)
        if not _readable(ticket_id):
            return False
        claims = self._claims()
        if claims is not None:
            claims.forget(ticket_id)  # read from the row from now on
        with self._transaction() as connection:
            row = connection.execute(
                "UPDATE ticketflow_tickets SET sla_due_at = %s, sla_policies = %s, sla_state = %s "
                "WHERE tenant = %s AND id = %s AND version = %s RETURNING id",
                (*kept, self._tenant, _escape(ticket_id), expected_version),
            ).fetchone()
        return row is not None

    def figures(self, ticket_id: str) -> Figures | None:
        """Return the ticket's stored figures."""
        if not _readable(ticket_id):
            raise TicketNotFound(ticket_id)
        claims = self._claims()
        claimed = None if claims is None else claims.figures
        row = self._columns(ticket_id, ", ".join(FIGURE_COLUMNS), claimed)
        if row is None:
            raise TicketNotFound(ticket_id)
        try:
            return figures_from_row(_stored(row))
        except UNDECODABLE as error:
            raise damaged_row(self._name, ticket_id, error) from None

    def refigure(self, ticket_id: str, expected_version: int, figures: Figures) -> bool:
        """Set the figures alone, if the ticket is still at ``expected_version``."""
        check_figures(figures, optional=False)
        figured = _figures_in(figures)
        if not _readable(ticket_id):
            return False
        claims = self._claims()
        if claims is not None:
            claims.forget(ticket_id)  # read from the row from now on
        with self._transaction() as connection:
            row = connection.execute(
                f"UPDATE ticketflow_tickets SET {', '.join(_SET_FIGURES)} "  # noqa: S608
                "WHERE tenant = %s AND id = %s AND version = %s RETURNING id",
                (*figured, self._tenant, _escape(ticket_id), expected_version),
            ).fetchone()
        return row is not None

    def unfigured(self, key: str, *, limit: int) -> list[Ticket]:
        """The tickets whose figures another key (or none) computed: three index ranges."""
        check_page(None, limit, None, rules=key)
        if not _readable(key):
            raise InvalidInput("key", key, "the figures' key (ASCII text)")
        statement, parameters = stale_sql(self._tenant, key, limit, column="fig_key")
        with self._transaction() as connection:
            rows = connection.execute(statement, parameters).fetchall()
        return [self._decode(row) for row in rows]

    def count_unfigured(self, key: str) -> int:
        """How many of the tenant's tickets have figures another key (or none) computed."""
        check_page(None, 1, None, rules=key)
        if not _readable(key):
            raise InvalidInput("key", key, "the figures' key (ASCII text)")
        with self._transaction() as connection:
            row = connection.execute(*count_other_sql(self._tenant, key, "fig_key"))
            found = row.fetchone()
        return 0 if found is None else int(found[0])

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
        window, bounds = window_sql(within, solved, "%s")
        picked, parameters = query_sql(
            query, self._tenant, columns=", ".join((*PICKED, "tag_list")), ordered=False
        )
        selection = f"SELECT * FROM ({picked}) AS picked WHERE {window}"  # noqa: S608
        by_labels, by_tag = aggregate_sql(
            selection,
            "CROSS JOIN LATERAL unnest(base.tag_list) AS tags (tag)",
            "base.tag_list = '{}'",
            "%s",
            # Unordered: a GROUP BY may then hash instead of sorting every row;
            # each list is sorted in Python, and the sorted lists merged.
            lambda value: f"string_agg(({value})::text, ',')",
        )
        selected = [*parameters, *bounds, *[time_in(instant)] * len(TARGETS)]
        with self._transaction(atomic=True) as connection:
            labelled = connection.execute(by_labels, selected).fetchall()
            tagged = connection.execute(by_tag, selected).fetchall()
        return totals_from_rows(labelled, tagged, _unescape)

    def fired(self, rule: str, ticket_id: str, episode: datetime) -> bool:
        """Whether ``rule`` already acted on the ticket for ``episode``."""
        instant = time_in(to_utc(episode, "episode"))
        if not (_readable(rule) and _readable(ticket_id)):
            return False
        claims = self._claims()
        if claims is not None and claims.knows(ticket_id):
            return (rule, instant) in claims.ledger[ticket_id]
        with self._transaction(atomic=True) as connection:
            found = connection.execute(
                "SELECT 1 FROM ticketflow_ledger "
                "WHERE tenant = %s AND rule = %s AND ticket_id = %s AND episode = %s",
                (self._tenant, _escape(rule), _escape(ticket_id), instant),
            ).fetchone()
        return found is not None

    def history(self, ticket_id: str) -> list[HistoryEvent]:
        """Return the ticket's events, oldest first."""
        if not _readable(ticket_id):
            raise TicketNotFound(ticket_id)
        claims = self._claims()
        if claims is not None and claims.knows(ticket_id):
            return self._claimed_history(claims, ticket_id)
        with self._transaction(atomic=True) as connection:
            rows = connection.execute(
                f"SELECT {_EVENT_NAMES} FROM ticketflow_events "  # noqa: S608 - our own names
                "WHERE tenant = %s AND ticket_id = %s ORDER BY seq",
                (self._tenant, _escape(ticket_id)),
            ).fetchall()
        if not rows:
            raise TicketNotFound(ticket_id)
        try:
            return [event_from_row(_stored(row)) for row in rows]
        except UNDECODABLE as error:
            raise damaged_row(self._name, ticket_id, error) from None

    def _claimed_history(self, claims: _Claims, ticket_id: str) -> list[HistoryEvent]:
        """A claimed ticket's history, read with those of every claimed ticket not read yet.

        Asked for one, the others are likely to be asked for too (the same
        rules, figures or SLA clocks look at each): one statement for all.
        """
        if ticket_id not in claims.histories:
            unread = [known for known in claims.versions if known not in claims.histories]
            with self._transaction(atomic=True) as connection:
                rows = connection.execute(
                    f"SELECT {_EVENT_NAMES} FROM ticketflow_events "  # noqa: S608 - our own names
                    "WHERE tenant = %s AND ticket_id = ANY(%s::text[]) ORDER BY ticket_id, seq",
                    (self._tenant, [_escape(known) for known in unread]),
                ).fetchall()
            read: dict[str, list[Any]] = {known: [] for known in unread}
            for row in rows:
                read[_unescape(row[0])].append(row)
            for known, events in read.items():
                try:
                    claims.histories[known] = [event_from_row(_stored(row)) for row in events]
                except UNDECODABLE as error:
                    claims.histories[known] = damaged_row(self._name, known, error)
        history = claims.histories[ticket_id]
        if isinstance(history, StorageError):
            raise history
        if not history:
            raise TicketNotFound(ticket_id)
        return list(history)

    def query(self, query: TicketQuery) -> list[Ticket]:
        """Filter, order and limit in SQL, served by the indexes."""
        statement, parameters = query_sql(query, self._tenant)
        with self._transaction() as connection:
            rows = connection.execute(statement, parameters).fetchall()
        return [self._decode(row) for row in rows]

    def purge(self, ticket_id: str, expected_version: int) -> None:
        """Delete the ticket; its history and ledger rows go with it."""
        if not _readable(ticket_id):
            raise TicketNotFound(ticket_id)
        self._recent.pop(ticket_id, None)
        self._recent_sla.pop(ticket_id, None)
        claims = self._claims()
        if claims is not None:
            claims.forget(ticket_id)
        try:
            with self._transaction() as connection:
                deleted = connection.execute(
                    "DELETE FROM ticketflow_tickets WHERE tenant = %s AND id = %s "
                    "AND version = %s RETURNING id",
                    (self._tenant, _escape(ticket_id), expected_version),
                ).fetchone()
                if deleted is None:
                    stored = self._version(connection, ticket_id)
                    if stored is None:
                        raise TicketNotFound(ticket_id)
                    raise ConcurrencyConflict(ticket_id, expected_version, stored)
        finally:  # after the delete: a commit of another thread may remember it meanwhile
            self._marks.forget(ticket_id)

    # -- the outbox ------------------------------------------------------

    @contextmanager
    def _translated(self) -> Iterator[None]:
        """Raise the driver's errors in the block as what they mean for this store."""
        try:
            yield
        except psycopg.Error as error:
            raise self._translate(error) from None

    def _outbox_parameters(self, event: HistoryEvent) -> list[Any]:
        return [self._tenant, *(_escape(value) for value in record_values(event))]

    def _position_records(self) -> None:
        """Give positions to the committed records that have none yet (a short transaction).

        The head row's lock makes positioners take turns, so each gives the
        next positions to what it sees committed; writers never wait.  It
        runs on a connection of the pool even inside :meth:`using` or
        :meth:`batch`: in the host's transaction the lock would be held until
        the host commits, and records not yet committed would get positions.
        """
        bound = _BOUND.get()
        token = _BOUND.set(MappingProxyType({k: v for k, v in bound.items() if k != id(self)}))
        try:
            self._give_positions()
        finally:
            _BOUND.reset(token)

    def _give_positions(self) -> None:
        with self._transaction(several=True) as connection:
            row = connection.execute(
                "SELECT position FROM ticketflow_outbox_head WHERE tenant = %s FOR UPDATE",
                (self._tenant,),
            ).fetchone()
            if row is None:
                connection.execute(
                    "INSERT INTO ticketflow_outbox_head (tenant, position) VALUES (%s, 0) "
                    "ON CONFLICT (tenant) DO NOTHING",
                    (self._tenant,),
                )
                row = connection.execute(
                    "SELECT position FROM ticketflow_outbox_head WHERE tenant = %s FOR UPDATE",
                    (self._tenant,),
                ).fetchone()
            assert row is not None  # noqa: S101 - inserted just before, if it was missing
            connection.execute(_POSITION_RECORDS, {"tenant": self._tenant, "head": row[0]})

    def outbox_read(self, after: int, limit: int) -> list[OutboxRecord]:
        """The positioned records past ``after``, after positioning those newly committed."""
        check_position(after)
        check_limit(limit)
        self._position_records()
        with self._transaction(atomic=True) as connection:
            rows = connection.execute(_SELECT_RECORDS, (self._tenant, after, limit)).fetchall()
        return [record_from_row(_stored(row)) for row in rows]

    @contextmanager
    def outbox_claim(
        self, consumer: str, *, at: datetime, lease: timedelta
    ) -> Iterator[_PostgresClaim | None]:
        """Claim the cursor's row with ``FOR UPDATE SKIP LOCKED``, for one transaction.

        A drain of the same consumer elsewhere holds it: None at once, no wait.
        A process that dies ends its transaction, and the claim with it, so
        the lease is checked and kept only: the row lock never runs out (and
        stops no command but another claim of the same consumer).
        """
        check_consumer(consumer)
        check_instant(at, "at")
        check_lease(lease)
        if not _readable(consumer):
            raise InvalidInput("consumer", consumer, "text UTF-8 can encode")
        name = _escape(consumer)
        self._position_records()
        with self._transaction() as connection:
            connection.execute(
                "INSERT INTO ticketflow_outbox_consumers (tenant, consumer, position) "
                "VALUES (%s, %s, 0) ON CONFLICT (tenant, consumer) DO NOTHING",
                (self._tenant, name),
            )
        with self._transaction(several=True) as connection:
            row = connection.execute(
                "SELECT position FROM ticketflow_outbox_consumers "
                "WHERE tenant = %s AND consumer = %s FOR UPDATE SKIP LOCKED",
                (self._tenant, name),
            ).fetchone()
            yield None if row is None else _PostgresClaim(self, connection, consumer, int(row[0]))

    def outbox_dead(self, consumer: str) -> list[HeldRecord]:
        """The consumer's dead records, with their records."""
        check_consumer(consumer)
        if not _readable(consumer):
            return []
        with self._transaction(atomic=True) as connection:
            rows = connection.execute(
                _SELECT_HELD, (self._tenant, _escape(consumer), True)
            ).fetchall()
        return [held_from_row(consumer, _stored(row)) for row in rows]

    def outbox_retry(self, consumer: str, positions: Sequence[int] | None, at: datetime) -> int:
        """Set dead records alive again, tried from ``at``."""
        check_consumer(consumer)
        instant = time_in(check_instant(at, "at"))
        if not _readable(consumer):
            return 0
        with self._transaction() as connection:
            rows = connection.execute(
                "UPDATE ticketflow_outbox_held SET dead = false, attempts = 0, next_at = %s "
                "WHERE tenant = %s AND consumer = %s AND dead "
                "AND (%s::bigint[] IS NULL OR position = ANY(%s::bigint[])) RETURNING position",
                (
                    instant,
                    self._tenant,
                    _escape(consumer),
                    None if positions is None else list(positions),
                    None if positions is None else list(positions),
                ),
            ).fetchall()
        return len(rows)

    def outbox_prune(self, before: datetime) -> int:
        """Delete the records before ``before`` up to the lowest cursor, but those held."""
        instant = time_in(check_instant(before, "before"))
        with self._transaction() as connection:
            rows = connection.execute(
                "DELETE FROM ticketflow_outbox AS o WHERE o.tenant = %s "
                "AND o.position IS NOT NULL AND o.position <= coalesce((SELECT min(position) "
                "FROM ticketflow_outbox_consumers WHERE tenant = %s), 9223372036854775807) "
                "AND o.at < %s AND NOT EXISTS (SELECT 1 FROM ticketflow_outbox_held AS h "
                "WHERE h.tenant = o.tenant AND h.position = o.position) RETURNING o.position",
                (self._tenant, self._tenant, instant),
            ).fetchall()
        return len(rows)

    def outbox_consumers(self) -> list[ConsumerState]:
        """Every consumer's cursor, and how many records it holds."""
        with self._transaction() as connection:
            rows = connection.execute(
                "SELECT c.consumer, c.position, "
                "count(h.position) FILTER (WHERE NOT h.dead), "
                "count(h.position) FILTER (WHERE h.dead) "
                "FROM ticketflow_outbox_consumers AS c LEFT JOIN ticketflow_outbox_held AS h "
                "ON h.tenant = c.tenant AND h.consumer = c.consumer "
                "WHERE c.tenant = %s GROUP BY c.consumer, c.position ORDER BY c.consumer",
                (self._tenant,),
            ).fetchall()
        return [
            ConsumerState(_unescape(name), int(position), int(held), int(dead))
            for name, position, held, dead in rows
        ]

    def __len__(self) -> int:
        with self._transaction() as connection:
            row = connection.execute(
                "SELECT count(*) FROM ticketflow_tickets WHERE tenant = %s", (self._tenant,)
            ).fetchone()
        return 0 if row is None else int(row[0])


class _PostgresClaim:
    """A consumer's cursor, its row locked by the transaction of ``connection``."""

    __slots__ = ("_connection", "_consumer", "_store", "position")

    def __init__(
        self,
        store: PostgresStore,
        connection: psycopg.Connection[Any],
        consumer: str,
        position: int,
    ) -> None:
        self._store = store
        self._connection = connection
        self._consumer = consumer
        self.position = position

    def held(self) -> list[HeldRecord]:
        store = self._store
        with store._translated():
            rows = self._connection.execute(
                _SELECT_HELD, (store.tenant, _escape(self._consumer), False)
            ).fetchall()
        return [held_from_row(self._consumer, _stored(row)) for row in rows]

    def read(self, limit: int) -> list[OutboxRecord]:
        store = self._store
        with store._translated():
            rows = self._connection.execute(
                _SELECT_RECORDS, (store.tenant, self.position, limit)
            ).fetchall()
        return [record_from_row(_stored(row)) for row in rows]

    def renew(self, at: datetime) -> None:
        """Nothing to do: the row stays locked until the claim's transaction ends."""
        check_instant(at, "at")

    def settle(self, position: int, held: Sequence[HeldRecord], released: Sequence[int]) -> None:
        store = self._store
        name = _escape(self._consumer)
        with store._translated(), self._connection.cursor() as cursor:
            if released:
                cursor.execute(
                    "DELETE FROM ticketflow_outbox_held "
                    "WHERE tenant = %s AND consumer = %s AND position = ANY(%s::bigint[])",
                    (store.tenant, name, list(released)),
                )
            if held:
                cursor.executemany(
                    "INSERT INTO ticketflow_outbox_held (tenant, consumer, position, ticket_id, "
                    "attempts, next_at, error, dead) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
                    "ON CONFLICT (tenant, consumer, position) DO UPDATE SET "
                    "attempts = excluded.attempts, next_at = excluded.next_at, "
                    "error = excluded.error, dead = excluded.dead",
                    [
                        (store.tenant, *(_escape(value) for value in held_values(record)))
                        for record in held
                    ],
                )
            cursor.execute(
                "UPDATE ticketflow_outbox_consumers SET position = %s "
                "WHERE tenant = %s AND consumer = %s",
                (position, store.tenant, name),
            )


_SENT_AHEAD = "sent ahead"
"""How a batch's report of a failed write sent in pipeline mode begins."""

_AHEAD = 20
"""How many writes of one statement a batch queues before it sends them."""

_COUNT_UPDATED = " SELECT count(*) FROM updated"
"""The end of a commit's statement: how many rows it updated (one, or none)."""


class _Claims:
    """What a store's own batch knows of the tickets it claimed, and the writes it sent ahead.

    A claimed ticket's row stays locked (``FOR UPDATE``) until the batch
    ends, and only a commit of that ticket changes its version, ledger,
    figures, SLA record or history; so the claim reads them (the ledger in
    a second statement, the histories on the first ask, of every claimed
    ticket at once) and the batch's own commits keep them current.  Reads of
    them need no round trip, and a commit's conflict (a moved version, a
    rule that already acted) is found here, before anything is sent.

    The commits (and schedules) of claimed tickets are then sent in pipeline
    mode without waiting: their outcome is read before the batch's next
    other statement and before it commits, one round trip for all of them,
    and one that did not apply fails the batch.
    """

    __slots__ = (
        "failed",
        "figures",
        "histories",
        "ledger",
        "nested",
        "pending",
        "pipeline",
        "queued",
        "queued_ids",
        "sla",
        "statement",
        "versions",
    )

    def __init__(self) -> None:
        self.versions: dict[str, int] = {}
        """The version of each claimed ticket (its key: the ticket is claimed and known)."""
        self.ledger: dict[str, set[tuple[str, int | None]]] = {}
        """Each claimed ticket's ledger: (rule, episode)."""
        self.figures: dict[str, Sequence[Any]] = {}
        """Each claimed ticket's figure columns, as stored (escaped)."""
        self.sla: dict[str, Sequence[Any]] = {}
        """Each claimed ticket's SLA columns, as stored."""
        self.histories: dict[str, list[HistoryEvent] | StorageError] = {}
        """The history of each claimed ticket read so far (all of them on the first ask)."""
        self.statement = ""
        """The statement of the writes queued."""
        self.queued: list[Sequence[Any]] = []
        """The parameters of the writes queued, not sent yet."""
        self.queued_ids: list[str] = []
        """The ticket of each write queued."""
        self.pending: list[tuple[psycopg.Cursor[Any], list[str]]] = []
        """The writes sent ahead: (their cursor, the ticket of each)."""
        self.pipeline: ExitStack | None = None
        """Open while writes were sent ahead and their outcome not read yet."""
        self.failed: StorageError | None = None
        """Why the batch cannot commit: a write sent ahead did not apply."""
        self.nested = 0
        """How many batches inside this one are open (their writes are not sent ahead)."""

    def knows(self, ticket_id: str) -> bool:
        """Whether ``ticket_id`` was claimed and its rows are known."""
        return ticket_id in self.versions

    def ahead(self, ticket_id: str) -> int | None:
        """The claimed ticket's version, if a write of it may be sent ahead; else None."""
        return None if self.nested else self.versions.get(ticket_id)

    def claimed(self, ticket: Ticket, figures: Sequence[Any], sla: Sequence[Any]) -> None:
        """Know a ticket just claimed, with its stored figure and SLA columns."""
        self.versions[ticket.id] = ticket.version
        self.figures[ticket.id] = figures
        self.sla[ticket.id] = sla

    def committed(
        self,
        ticket: Ticket,
        event: HistoryEvent,
        spent: Iterable[tuple[str, int | None]],
        figures: Sequence[Any],
        sla: Sequence[Any],
    ) -> None:
        """Follow a commit of a claimed ticket: its columns as stored, its event."""
        self.versions[ticket.id] = ticket.version
        self.ledger[ticket.id] |= set(spent)
        self.figures[ticket.id] = figures
        self.sla[ticket.id] = sla
        history = self.histories.get(ticket.id)
        if isinstance(history, list):
            history.append(event)

    def forget(self, ticket_id: str | None = None) -> None:
        """Stop answering for ``ticket_id`` (None: every ticket): it is read from the server."""
        known = (self.versions, self.ledger, self.figures, self.sla, self.histories)
        for table in known:
            if ticket_id is None:
                table.clear()
            else:
                table.pop(ticket_id, None)

    def abandon(self) -> None:
        """Leave pipeline mode for a batch that rolls back: what was sent no longer matters."""
        pipeline, self.pipeline = self.pipeline, None
        self.pending.clear()
        self.queued, self.queued_ids = [], []
        if pipeline is not None:
            # The batch is rolled back (or its connection lost) whatever they said.
            with suppress(psycopg.Error):
                pipeline.close()


def due_sql(
    tenant: str,
    now: datetime,
    limit: int,
    after: tuple[datetime, str] | None = None,
    *,
    claim: bool = False,
) -> tuple[str, list[Any]]:
    """The statement and parameters of ``PostgresStore.due``: a range of its index."""
    where = "next_due_at <= %s"
    parameters: list[Any] = [tenant, time_in(now)]
    if after is not None:
        where += " AND (next_due_at, id) > (%s, %s)"
        parameters += [time_in(after[0]), _escape(after[1])]
    # A claim also reads what the batch then answers for the locked rows (_Claims).
    claimed = ", ".join(("", *FIGURE_COLUMNS, "sla_due_at", "sla_policies", "sla_state"))
    statement = (
        f"SELECT next_due_at, {', '.join(COLUMNS)}{claimed if claim else ''} "  # noqa: S608
        f"FROM ticketflow_tickets WHERE tenant = %s AND next_due_at IS NOT NULL AND {where} "
        "ORDER BY next_due_at, id LIMIT %s" + (" FOR UPDATE SKIP LOCKED" if claim else "")
    )
    return statement, [*parameters, limit]


def stale_sql(
    tenant: str, rules: str, limit: int, *, column: str = "schedule"
) -> tuple[str, list[Any]]:
    """The statement and parameters of ``PostgresStore.stale``: three ranges of its index.

    ``column`` is the fingerprint's (``sla_policies`` for ``sla_stale``,
    ``fig_key`` for ``unfigured``).
    """
    part = f"(SELECT {', '.join(COLUMNS)} FROM ticketflow_tickets WHERE tenant = %s AND "  # noqa: S608
    statement = (
        f"SELECT * FROM ({part}{column} IS NULL ORDER BY id LIMIT %s) "  # noqa: S608
        f"UNION ALL {part}{column} < %s ORDER BY {column}, id LIMIT %s) "
        f"UNION ALL {part}{column} > %s ORDER BY {column}, id LIMIT %s)) AS stale "
        "ORDER BY id LIMIT %s"
    )
    return statement, [tenant, limit, tenant, rules, limit, tenant, rules, limit, limit]


def count_other_sql(tenant: str, fingerprint: str, column: str) -> tuple[str, list[Any]]:
    """How many tickets have ``column`` other than ``fingerprint``, or none: three index ranges.

    ``column IS NULL OR column <> %s`` reads every ticket of the tenant (a
    sequential scan: 136 ms at 100,000 tickets, at every ``metrics()``);
    the three ranges of the column's index, none of them holding a ticket
    when all are up to date, take a fraction of a millisecond.
    """
    part = f"(SELECT count(*) FROM ticketflow_tickets WHERE tenant = %s AND {column}"  # noqa: S608
    statement = f"SELECT {part} IS NULL) + {part} < %s) + {part} > %s)"
    return statement, [tenant, tenant, fingerprint, tenant, fingerprint]


def _text_array(values: Sequence[str]) -> str:
    """A text array as a PostgreSQL literal: psycopg dumps a list element by element in Python."""
    quoted = (value.replace("\\", "\\\\").replace('"', '\\"') for value in values)
    return "{" + ",".join(f'"{value}"' for value in quoted) + "}"


def _bigint_array(values: Sequence[int | None]) -> str:
    """A bigint array as a PostgreSQL literal (see :func:`_text_array`)."""
    return "{" + ",".join("NULL" if value is None else str(int(value)) for value in values) + "}"


def _figures_in(figures: Figures | None) -> list[Any]:
    check_figures(figures)
    if figures is None:
        return [None] * len(FIGURE_COLUMNS)
    values = [_escape(value) for value in figures_row(figures)]
    _check_text(FIGURE_COLUMNS, values)
    return values


def _schedule_in(schedule: Schedule) -> list[Any]:
    check_schedule(schedule)
    return [time_in(schedule.next_due_at), schedule.rules]


def migrate_postgres(connection: Any) -> int:
    """Create or bring forward the ticketflow schema on a host's connection; return its version.

    For a host's own migration tool: it runs in the transaction open on
    ``connection`` (Alembic's ``op.get_bind()``, Django's
    ``schema_editor.connection.connection``), under the advisory lock, and
    commits with it.  It is :meth:`PostgresStore.migrate` inside
    :meth:`PostgresStore.using`, without a store to build.

    Raises:
        InvalidInput: ``connection`` is not a psycopg connection (or a
            SQLAlchemy ``Connection`` on psycopg), or it is in autocommit
            mode outside a transaction.
        StorageError: the database holds a newer schema, the connection is
            closed or its transaction failed, or the server refused.
    """
    if _MISSING is not None:
        raise StorageError("migrate_postgres", f"psycopg is not installed; {_INSTALL}")
    bound = _host_connection(connection)
    if bound.closed:
        raise StorageError("migrate_postgres", "the host's connection is closed")
    # The connection's parameters, which never include its password.
    with PostgresStore(bound.info.dsn) as store, store.using(bound):
        return store.migrate()


def _host_connection(connection: Any) -> psycopg.Connection[Any]:
    """The psycopg connection of a host: given as it is, or under a SQLAlchemy ``Connection``."""
    if isinstance(connection, psycopg.Connection):
        return connection
    try:  # SQLAlchemy: Connection.connection is the pool's proxy of the driver's connection
        driver = connection.connection.driver_connection
    except Exception:  # noqa: BLE001 - anything else is simply not a connection we can use
        driver = None
    if isinstance(driver, psycopg.Connection):
        return driver
    raise InvalidInput(
        "connection",
        short_repr(connection),
        "a psycopg.Connection, or a SQLAlchemy Connection on the psycopg driver",
    )


def _hung_up(connection: psycopg.Connection[Any]) -> bool:
    """Whether the server has closed ``connection`` while it sat idle in the pool.

    An idle connection has nothing to hear: if its socket has something to
    read, the server has hung up (or, rarely, spoken out of turn), and an
    empty query tells which.  A sound connection costs no round trip.
    """
    if connection.closed:
        return True
    try:
        descriptor = connection.fileno()
        if hasattr(select, "poll"):  # poll takes any descriptor; select only those below 1024
            poller = select.poll()
            poller.register(descriptor, select.POLLIN)
            heard = bool(poller.poll(0))
        else:  # pragma: no cover - Windows
            heard = bool(select.select([descriptor], [], [], 0)[0])
        if heard:
            connection.execute("")
    except (OSError, ValueError, psycopg.Error):
        return True
    return False


def _lost(error: psycopg.Error) -> bool:
    """Whether ``error`` says the connection to the server broke (not that a statement failed).

    The driver's own errors of a broken connection carry no SQLSTATE; the
    server's carry class 08 (connection exception) or 57P (it is shutting
    down, or crashed).
    """
    if not isinstance(error, psycopg.OperationalError):
        return False
    state = error.sqlstate
    return state is None or state.startswith(("08", "57P"))


def _unmigrated(name: str) -> StorageError:
    return StorageError(
        name,
        "the ticketflow tables are missing from this database; run PostgresStore.migrate() "
        "(on the command line, ticketflow migrate) first",
    )


def _schema_version(connection: psycopg.Connection[Any]) -> int:
    """The version of the ticketflow schema in the database: 0 if it has none."""
    exists = connection.execute(
        "SELECT to_regclass('ticketflow_schema_version') IS NOT NULL"
    ).fetchone()
    if exists is None or not exists[0]:
        return 0
    row = connection.execute("SELECT max(version) FROM ticketflow_schema_version").fetchone()
    return 0 if row is None or row[0] is None else int(row[0])


def _sql(name: str) -> bytes:
    """One of the SQL files shipped in the package."""
    return resources.files("ticketflow.storage").joinpath("sql", "postgres", name).read_bytes()


def sla_queue_sql(
    tenant: str, query: TicketQuery, limit: int, after: tuple[datetime, str] | None = None
) -> tuple[str, list[Any]]:
    """The statement and parameters of ``PostgresStore.sla_queue``: its index, in order."""
    past = (
        None
        if after is None
        else ("(sla_due_at, id) > (%s, %s)", [time_in(after[0]), _escape(after[1])])
    )
    return sla_page_sql(
        COLUMNS,
        "ticketflow_tickets",
        "sla_due_at IS NOT NULL",
        filters_sql(query, tenant),
        past,
        order="sla_due_at, id",
        limit=("%s", limit),
    )


def sla_untimed_sql(
    tenant: str, query: TicketQuery, limit: int, after: str | None = None
) -> tuple[str, list[Any]]:
    """The statement and parameters of ``PostgresStore.sla_untimed``, in id order."""
    past = None if after is None else ("id > %s", [_escape(after)])
    filters = filters_sql(query, tenant)
    table, which = "ticketflow_tickets", "sla_due_at IS NULL"
    return sla_page_sql(COLUMNS, table, which, filters, past, order="id", limit=("%s", limit))


def filters_sql(query: TicketQuery, tenant: str) -> tuple[list[str], list[Any]]:
    """The conditions (and their parameters) of ``query``'s filters for ``tenant``."""
    where = ["tenant = %s"]
    parameters: list[Any] = [tenant]
    if query.statuses is not None:
        where.append("status = ANY(%s::text[])")
        parameters.append([_escape(status) for status in sorted(query.statuses)])
    for column, value in (
        ("assignee", query.assignee),
        ("department", query.department),
        ("requester_id", query.requester),
    ):
        if value is not None:
            where.append(f"{column} = %s")
            parameters.append(_escape(value))
    if query.tags:
        where.append("tag_list @> %s::text[]")
        parameters.append([_escape(tag) for tag in sorted(query.tags)])
    if query.due is not None:
        field, instant = query.due
        where.append(f"{field} IS NOT NULL AND {field} <= %s")
        parameters.append(time_in(instant))
    return where, parameters


def query_sql(
    query: TicketQuery, tenant: str, *, columns: str | None = None, ordered: bool = True
) -> tuple[str, list[Any]]:
    """Return the SQL and parameters that answer ``query`` for ``tenant``.

    Tickets where the order field is None come last; ties are broken by id.
    ``columns`` selects other columns than a ticket's (what totals read);
    ``ordered=False`` leaves the order out when there is no limit (totals do
    not need it).
    """
    where, parameters = filters_sql(query, tenant)
    if query.after is not None:
        past, values = after_sql(query, "%s", _escape(query.after[1]))
        where.append(past)
        parameters += values
    direction = "DESC" if query.descending else "ASC"
    order = query.order_by
    select = (
        _SELECT_TICKET if columns is None else f"SELECT {columns} FROM ticketflow_tickets"  # noqa: S608
    )
    statement = f"{select} WHERE {' AND '.join(where)}"
    if ordered or query.limit is not None:
        # Unset values last; a field every ticket has needs no such rule, so its index serves.
        unset_last = "" if order in ALWAYS_SET else " NULLS LAST"
        statement += f" ORDER BY {order} {direction}{unset_last}, id {direction}"
    if query.limit is not None:
        statement += " LIMIT %s"
        parameters.append(query.limit)
    return statement, parameters


def search_sql(search: SearchQuery, tenant: str, language: str) -> tuple[str, list[Any]]:
    """The statement and parameters of ``PostgresStore.search``.

    The filters hold on the tenant's tickets; the GIN index finds the
    documents that hold every word; ``ts_rank_cd`` (a ``real``) ranks them.
    """
    where, parameters = filters_sql(search.filters, tenant)
    statement = (
        f"SELECT rank, {', '.join(COLUMNS)} FROM ("  # noqa: S608 - our own names
        "SELECT ts_rank_cd(search.document, sought) AS rank, found.* "
        f"FROM ({_SELECT_TICKET} WHERE {' AND '.join(where)}) AS found "
        "JOIN ticketflow_search AS search ON search.ticket_id = found.id, "
        "plainto_tsquery(%s::regconfig, %s) AS sought "
        "WHERE search.tenant = %s AND search.document @@ sought) AS ranked"
    )
    parameters += [language, _escape(search.text), tenant]
    if search.after is not None:
        statement += " WHERE rank < %s::real OR (rank = %s::real AND id > %s)"
        parameters += [search.after[0], search.after[0], _escape(search.after[1])]
    statement += " ORDER BY rank DESC, id"
    if search.limit is not None:
        statement += " LIMIT %s"
        parameters.append(search.limit)
    return statement, parameters


def describe_dsn(conninfo: str) -> str:
    """Name a database as ``postgresql://user@host:port/dbname``, never with its password.

    Raises:
        psycopg.ProgrammingError: ``conninfo`` does not parse.
    """
    parts = conninfo_to_dict(conninfo)
    user = parts.get("user")
    host = parts.get("host") or parts.get("hostaddr") or "localhost"
    port = parts.get("port")
    where = f"{host}:{port}" if port else f"{host}"
    return f"postgresql://{f'{user}@' if user else ''}{where}/{parts.get('dbname') or ''}"


_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>.*)@", re.DOTALL)
"""A URL's scheme and its user information, up to the last ``@`` (a password may hold ``@``)."""
_PASSWORD_KEY = re.compile(r"(password\s*=\s*)(?:'(?:[^'\\]|\\.)*'?|\S*)", re.IGNORECASE)
"""A ``password=`` keyword or URL parameter and its value, quoted or not."""


def hide_password(dsn: str) -> str:
    """A connection string as given, with any password in it written as ``***``.

    For one that may not parse (so :func:`describe_dsn` cannot name it), or
    that is not for PostgreSQL at all: the password after ``user:`` in a
    URL, and the value of a ``password=`` keyword or URL parameter, are
    hidden; what is left shows the caller what they wrote.
    """

    def userinfo(found: re.Match[str]) -> str:
        user, colon, _password = found["userinfo"].partition(":")
        return f"{found['scheme']}{user}{':***' if colon else ''}@"

    return _PASSWORD_KEY.sub(r"\1***", _USERINFO.sub(userinfo, dsn, count=1))


def _password(dsn: str) -> str | None:
    value = conninfo_to_dict(dsn).get("password")
    return str(value) if value else None
