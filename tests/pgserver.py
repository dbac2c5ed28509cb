"""The PostgreSQL server the tests use: scratch databases, made and dropped per run.

Without a server the tests that need one skip with one clear reason, unless
``CI=true``: there they fail, so CI cannot pass by skipping them.

The shared server is never stopped or restarted (others use it at the same
time): a test that restarts a server makes its own, :func:`private_server`.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from hypothesis import settings
from hypothesis.stateful import RuleBasedStateMachine, run_state_machine_as_test
from psycopg_pool import ConnectionPool

from ticketflow.storage import PostgresStore, Store

SERVER = "postgresql://postgres@127.0.0.1:5432"
"""The server, without a database: append ``/name``."""

BIN = Path("/usr/lib/postgresql/15/bin")
"""The PostgreSQL 15 programs: initdb, pg_ctl, pg_dump."""


def server_problem() -> str | None:
    """None if the server answers, else why not."""
    try:
        with psycopg.connect(f"{SERVER}/test", connect_timeout=3):
            return None
    except psycopg.Error as error:
        return str(error).strip()


def require_server() -> None:
    """Skip the test (fail it in CI) when the server does not answer."""
    problem = server_problem()
    if problem is not None:
        _unavailable(f"PostgreSQL does not answer at {SERVER}/test: {problem}")


def _unavailable(message: str) -> None:
    """Skip the test with ``message``; fail it in CI, which must run every test."""
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@contextmanager
def scratch_database(template: str | None = None) -> Iterator[str]:
    """A new database, ``tf_test_<hex>``: its DSN, dropped at the end.

    Empty, or given the DSN of another scratch database (to which nobody may
    be connected), a copy of it: PostgreSQL copies its files, which is much
    faster than loading the rows again.
    """
    require_server()
    name = f"tf_test_{uuid.uuid4().hex[:12]}"
    copied = "" if template is None else f' TEMPLATE "{template.rsplit("/", 1)[1]}"'
    with psycopg.connect(f"{SERVER}/test", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"{copied}')
    try:
        yield f"{SERVER}/{name}"
    finally:
        with psycopg.connect(f"{SERVER}/test", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def new_tenant() -> str:
    """A tenant no other test uses: a store of it starts as empty as a new database."""
    return f"t-{uuid.uuid4().hex}"


@contextmanager
def migrated_pool() -> Iterator[ConnectionPool]:
    """A small pool on a new scratch database, migrated: each tenant of it is an empty store."""
    with scratch_database() as dsn, ConnectionPool(dsn, min_size=1, max_size=2) as pool:
        with PostgresStore(pool=pool) as store:
            store.migrate()
        yield pool


def run_laws_on_postgres(
    machine: type[RuleBasedStateMachine], pool: ConnectionPool, *, max_examples: int = 5
) -> None:
    """Run a stateful proof whose every run stores its tickets in a new tenant of ``pool``.

    ``machine`` makes its store with ``make_store()``.  Fewer runs than in
    memory: the laws are proven there; here they check the store.
    """

    class OnPostgres(machine):  # type: ignore[valid-type, misc]
        def make_store(self) -> Store:
            return PostgresStore(pool=pool, tenant=new_tenant())

    OnPostgres.__name__ = OnPostgres.__qualname__ = f"{machine.__name__}OnPostgres"
    run_state_machine_as_test(
        OnPostgres,
        settings=settings(max_examples=max_examples, stateful_step_count=15, deadline=None),
    )


def schema_of(dsn: str) -> str:
    """The database's schema as ``pg_dump`` prints it, without comments and owners."""
    dumped = subprocess.run(
        [BIN / "pg_dump", "--schema-only", "--no-owner", "--no-privileges", dsn],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    return "\n".join(
        line for line in dumped.splitlines() if line and not line.startswith(("--", "\\"))
    )


@contextmanager
def private_server() -> Iterator[tuple[str, Callable[[str], None]]]:
    """A throwaway PostgreSQL cluster of this test's own, which it may restart at will.

    Yields the DSN of its ``postgres`` database and ``restart(mode)``, which
    restarts the server with ``pg_ctl restart -m mode`` (``fast`` ends the
    sessions; ``immediate`` crashes it, so it recovers from its WAL) and
    returns once it accepts connections again.  The cluster lives in a
    temporary folder (its data, its log, its socket), on a free port, and is
    stopped and removed at the end.  As root, the programs run as the
    ``postgres`` user, since PostgreSQL refuses to run as root.
    """
    initdb, pg_ctl = BIN / "initdb", BIN / "pg_ctl"
    if not (initdb.exists() and pg_ctl.exists()):
        _unavailable(f"no PostgreSQL 15 programs to make a private server with in {BIN}")
    as_postgres: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="tf_pg_"))
    if os.geteuid() == 0:
        runuser = shutil.which("runuser")
        if runuser is None:
            shutil.rmtree(folder)
            _unavailable("running as root, and no runuser to start PostgreSQL as postgres")
        as_postgres = [str(runuser), "-u", "postgres", "--"]
        shutil.chown(folder, "postgres", "postgres")
    data, log = folder / "data", folder / "server.log"
    port = _free_port()
    options = f"-k {folder} -p {port} -c listen_addresses=127.0.0.1"

    def run(*arguments: str | Path) -> None:
        done = subprocess.run(
            [*as_postgres, *map(str, arguments)],
            check=False,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            said = log.read_text() if log.exists() else ""
            raise RuntimeError(f"{arguments[:2]} failed: {done.stdout}{done.stderr}{said}")

    def restart(mode: str) -> None:
        run(pg_ctl, "restart", "-w", "-D", data, "-l", log, "-m", mode, "-o", options)

    try:
        run(initdb, "-D", data, "-A", "trust", "-U", "postgres", "--no-sync")
        run(pg_ctl, "start", "-w", "-D", data, "-l", log, "-o", options)
        try:
            yield f"postgresql://postgres@127.0.0.1:{port}/postgres", restart
        finally:
            run(pg_ctl, "stop", "-D", data, "-m", "immediate")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _free_port() -> int:
    """A TCP port nobody listens on now (the server binds it a moment later)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
