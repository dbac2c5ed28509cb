"""Shared fixtures and the Hypothesis profiles.

Profiles: ``dev`` (the default, quick) and ``ci`` (more examples), chosen with
the ``HYPOTHESIS_PROFILE`` environment variable.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from support import ANA, START

from ticketflow import Helpdesk, ManualClock, Ticket
from ticketflow.storage import MemoryStore, SQLiteStore, Store

settings.register_profile("dev", max_examples=60, deadline=None)
settings.register_profile(
    "ci", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture(params=["memory", "sqlite"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A memory store, then a SQLite store in a temporary file (closed after)."""
    if request.param == "memory":
        yield MemoryStore()
        return
    sqlite = SQLiteStore(tmp_path / "tickets.sqlite3")
    yield sqlite
    sqlite.close()


@pytest.fixture
def desk(store: MemoryStore, clock: ManualClock) -> Helpdesk:
    return Helpdesk(store=store, clock=clock)


@pytest.fixture
def ticket(desk: Helpdesk) -> Ticket:
    return desk.open(
        subject="Invoice charged twice",
        description="I was charged twice for January.",
        requester=ANA,
        department="billing",
        tags={"billing"},
    )
