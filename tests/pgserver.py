"""The PostgreSQL server the tests use: scratch databases, made and dropped per run.

Without a server the tests that need one skip with one clear reason, unless
``CI=true``: there they fail, so CI cannot pass by skipping them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

SERVER = "postgresql://postgres@127.0.0.1:5432"
"""The server, without a database: append ``/name``."""


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
        message = f"PostgreSQL does not answer at {SERVER}/test: {problem}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


@contextmanager
def scratch_database() -> Iterator[str]:
    """A new empty database, ``tf_test_<hex>``: its DSN, dropped at the end."""
    require_server()
    name = f"tf_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{SERVER}/test", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{SERVER}/{name}"
    finally:
        with psycopg.connect(f"{SERVER}/test", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def new_tenant() -> str:
    """A tenant no other test uses: a store of it starts as empty as a new database."""
    return f"t-{uuid.uuid4().hex}"
