"""Shared values of the tests: the start of time and the actors who act in them."""

from __future__ import annotations

from datetime import UTC, datetime

from ticketflow import Actor, Contact

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ANA = Contact(name="Ana Ozola", email="ana@example.com")
CUSTOMER = Actor.customer("ana@example.com")
STRANGER = Actor.customer("bruno@example.com")
AGENT = Actor.agent("a-1", department="billing")
OTHER_AGENT = Actor.agent("a-2", department="it")
ADMIN = Actor.admin("ad-1")
OWNER = Actor.owner("ow-1")
SYSTEM = Actor.system()
