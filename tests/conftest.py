"""Shared fixtures and the Hypothesis profiles.

Profiles: ``dev`` (the default, quick) and ``ci`` (more examples), chosen with
the ``HYPOTHESIS_PROFILE`` environment variable.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, settings

from ticketflow import Actor, Contact, Helpdesk, ManualClock, Ticket
from ticketflow.storage import MemoryStore

settings.register_profile("dev", max_examples=60, deadline=None)
settings.register_profile(
    "ci", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ANA = Contact(name="Ana Ozola", email="ana@example.com")
CUSTOMER = Actor.customer("ana@example.com")
STRANGER = Actor.customer("bruno@example.com")
AGENT = Actor.agent("a-1", department="billing")
OTHER_AGENT = Actor.agent("a-2", department="it")
ADMIN = Actor.admin("ad-1")
OWNER = Actor.owner("ow-1")
SYSTEM = Actor.system()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


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
