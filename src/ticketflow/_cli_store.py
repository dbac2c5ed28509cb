"""What a ``--db`` value names, opened the way the command line needs it.

A value that begins ``postgresql://`` or ``postgres://``, or a libpq
``key=value`` string (``host=... dbname=...``), is a PostgreSQL
database; any other ``scheme://`` is refused (a misspelt scheme must not
become a SQLite file of that name); everything else is a SQLite file path,
as it always was.  Output names a PostgreSQL database through the store's
own :func:`~ticketflow.storage._postgres.describe_dsn` and a refused value
through :func:`~ticketflow.storage._postgres.hide_password`, so a password
never reaches standard output or an error; the driver's log records are
kept off standard error while the store is open.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import attrs

from ticketflow._display import printable
from ticketflow._errors import InvalidInput
from ticketflow.storage import PostgresStore, SQLiteStore, Store, TicketQuery
from ticketflow.storage._postgres import describe_dsn, hide_password

_SCHEMES = ("postgresql://", "postgres://")
"""The URL schemes libpq reads."""
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_KEYWORDS = re.compile(r"(?:^|\s)(?:host|hostaddr|port|dbname|user|password|service)\s*=")
"""A libpq ``key=value`` string names where, and as whom, to connect with these.

``password=`` alone makes one too: taken for a file path, it would be echoed.
"""

EXPECTED = "a SQLite file path or a PostgreSQL DSN such as postgresql://user@host/dbname"
"""What ``--db`` takes, in words."""

TIMEOUT = 10.0
"""Seconds to wait for the PostgreSQL server before the command fails with StorageError."""

_DRIVER_LOGGERS = ("psycopg", "psycopg_pool")


@attrs.frozen
class Database:
    """A ``--db`` value, read: a SQLite file or a PostgreSQL database, and a tenant.

    Attributes:
        value: the ``--db`` value as given.
        postgres: whether it names a PostgreSQL database.
        tenant: the ``--tenant`` given (PostgreSQL only), or None for the store's default.
    """

    value: str = attrs.field(repr=lambda value: repr(hide_password(value)))
    postgres: bool
    tenant: str | None

    @classmethod
    def read(cls, value: str, tenant: str | None) -> Database:
        """Read ``--db`` and ``--tenant``.

        Raises:
            InvalidInput: ``value`` is a URL of another scheme, or a tenant
                is given with a SQLite file.
        """
        postgres = value.startswith(_SCHEMES) or _KEYWORDS.search(value) is not None
        if not postgres and _URL.match(value):
            raise InvalidInput("--db", hide_password(value), EXPECTED)
        if tenant is not None and not postgres:
            raise InvalidInput(
                "--tenant",
                tenant,
                "given only with a PostgreSQL --db: a SQLite file holds one desk's tickets",
            )
        return cls(value, postgres, tenant)

    def where(self) -> str:
        """The database as output names it: the path, or the DSN without its password.

        For PostgreSQL, only once a store has accepted the DSN (it parses).
        """
        name = describe_dsn(self.value) if self.postgres else self.value
        return printable(name)

    def options(self) -> str:
        """The ``--db`` (and ``--tenant``) options that name this database again, for a hint."""
        tenant = "" if self.tenant is None else f" --tenant {printable(self.tenant)}"
        return f"--db {self.where()}{tenant}"

    @contextmanager
    def existing(self) -> Iterator[Store]:
        """The store of a database that ticketflow has written.

        Raises:
            InvalidInput: the SQLite file is missing or empty.
            StorageError: the file or the server is not usable; the
                PostgreSQL database has not been migrated (on first use).
        """
        if self.postgres:
            with self._postgres() as store:
                yield store
            return
        with _existing_sqlite(self.value) as store:
            yield store

    @contextmanager
    def empty(self) -> Iterator[Store]:
        """The store of a new or empty database (tenant, on PostgreSQL): the demo's precondition.

        A PostgreSQL database is migrated first.

        Raises:
            InvalidInput: it already holds tickets, or the path is a folder.
        """
        if not self.postgres:
            if Path(self.value).is_dir():
                raise InvalidInput(
                    "--db", self.value, "a new or empty database file, not a directory"
                )
            with SQLiteStore(self.value) as sqlite:
                if sqlite.query(TicketQuery(limit=1)):
                    raise InvalidInput(
                        "--db",
                        self.value,
                        "a new or empty database: the demo tells its story from day one",
                    )
                yield sqlite
            return
        with self._postgres() as store:
            store.migrate()
            if store.query(TicketQuery(limit=1)):
                raise InvalidInput(
                    "--tenant",
                    store.tenant,
                    f"a tenant with no tickets in {self.where()}: the demo tells its story "
                    "from day one (name another with --tenant)",
                )
            yield store

    def migrate(self) -> str:
        """Bring the schema to this ticketflow's version; return what to print.

        Raises:
            InvalidInput: the SQLite file is missing or empty.
            StorageError: the database holds a newer schema, or cannot be used.
        """
        if self.postgres:
            with self._postgres() as store:
                version = store.migrate()
            return f"{self.where()}: ticketflow schema version {version}"
        # A SQLite file is created, and brought forward, whenever a store opens it.
        with _existing_sqlite(self.value) as sqlite:
            version = sqlite.schema_version
        return (
            f"{self.where()}: ticketflow schema version {version} (a SQLite file is "
            "migrated whenever ticketflow opens it: nothing else to do)"
        )

    @contextmanager
    def _postgres(self) -> Iterator[PostgresStore]:
        with _driver_logs_silenced():
            store = (
                PostgresStore(self.value, timeout=TIMEOUT)
                if self.tenant is None
                else PostgresStore(self.value, tenant=self.tenant, timeout=TIMEOUT)
            )
            with store:
                yield store


def _existing_sqlite(path: str) -> SQLiteStore:
    file = Path(path)
    if not file.is_file():
        raise InvalidInput("--db", path, "an existing ticketflow SQLite file")
    if file.stat().st_size == 0:
        # SQLite would take an empty file for a new database and write to it.
        raise InvalidInput("--db", path, "an existing ticketflow SQLite file, not an empty one")
    return SQLiteStore(path)


@contextmanager
def _driver_logs_silenced() -> Iterator[None]:
    """Keep psycopg's log records off standard error while a command uses the server.

    The pool logs every failed connection attempt as a warning, and with no
    logging configured Python prints warnings on standard error
    (``logging.lastResort``): an unreachable server would surround the
    command's one-line error with the pool's retries.  The command says what
    went wrong itself, through the store's StorageError.
    """
    handler = logging.NullHandler()
    loggers = [logging.getLogger(name) for name in _DRIVER_LOGGERS]
    saved = [logger.propagate for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.propagate = False
    try:
        yield
    finally:
        for logger, propagate in zip(loggers, saved, strict=True):
            logger.removeHandler(handler)
            logger.propagate = propagate
