"""Shared values of the tests: the start of time, the actors, a renamed workflow."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from ticketflow import (
    Actor,
    Contact,
    Helpdesk,
    IllegalTransition,
    InvalidInput,
    MergeRefused,
    PermissionDenied,
    TicketNotFound,
    Workflow,
)

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ANA = Contact(name="Ana Ozola", email="ana@example.com")
CUSTOMER = Actor.customer("ana@example.com")
STRANGER = Actor.customer("bruno@example.com")
AGENT = Actor.agent("a-1", department="billing")
OTHER_AGENT = Actor.agent("a-2", department="it")
ADMIN = Actor.admin("ad-1")
OWNER = Actor.owner("ow-1")
SYSTEM = Actor.system()


def renamed_workflow(**names: str) -> Workflow:
    """The default workflow, named ``renamed``, with some statuses renamed (old=new)."""
    data: dict[str, Any] = Workflow.default().to_dict()
    data["name"] = "renamed"
    data["initial"] = names.get(data["initial"], data["initial"])
    data["final"] = [names.get(name, name) for name in data["final"]]
    for status in data["statuses"]:
        status["name"] = names.get(status["name"], status["name"])
    for row in data["transitions"]:
        row["from"] = names.get(row["from"], row["from"])
        row["to"] = names.get(row["to"], row["to"])
    return Workflow.from_dict(data)


def merge_some(desk: Helpdesk, ids: Sequence[str], source: int, into: int) -> None:
    """Merge the ``source``-th ticket of ``ids`` into the ``into``-th, as an admin, if it may be.

    For the stateful proofs: a merge closes the duplicate from any open
    status (a reopened one included); a refused or impossible merge changes nothing.
    """
    source_id, target_id = (ids[n % len(ids)] for n in (source, into))
    with contextlib.suppress(
        TicketNotFound, MergeRefused, IllegalTransition, PermissionDenied, InvalidInput
    ):
        desk.merge(source_id, ADMIN, into=target_id)
