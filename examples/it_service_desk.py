"""An IT service desk: the default lifecycle extended with two statuses, declared in code.

"Waiting on vendor" (SLA clocks paused while a supplier works) and "pending
approval" (a change waits for a manager).  The same workflow is also kept as
data in ``examples/workflows/it_service_desk.toml``; this script checks that
both declarations compile to the same table, then runs one ticket through it.

Run it from a clone with ``python examples/it_service_desk.py [DATABASE]``; the tickets go
to the SQLite file DATABASE if given, else to a temporary one.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ticketflow import (
    Actor,
    Category,
    Contact,
    DefaultLifecycle,
    Helpdesk,
    ManualClock,
    Policy,
    TicketState,
    Workflow,
)
from ticketflow.storage import SQLiteStore

HERE = Path(__file__).resolve().parent


class ITServiceDesk(DefaultLifecycle):
    """The default lifecycle, plus a vendor wait and a manager's approval."""

    waiting_on_vendor = TicketState(Category.ON_HOLD, label="Waiting on vendor", sla_paused=True)
    pending_approval = TicketState(Category.PENDING, label="Pending approval")

    # New events: the attribute name is the event's name.
    wait_for_vendor = DefaultLifecycle.open.to(waiting_on_vendor) | DefaultLifecycle.answered.to(
        waiting_on_vendor
    )
    vendor_replied = waiting_on_vendor.to(DefaultLifecycle.open)
    request_approval = DefaultLifecycle.new.to(pending_approval) | DefaultLifecycle.open.to(
        pending_approval
    )
    approve = pending_approval.to(DefaultLifecycle.open)
    reject = pending_approval.to(DefaultLifecycle.resolved)

    # More rows for events the default lifecycle already has: name the event.
    waiting_on_vendor.to(DefaultLifecycle.resolved, event="resolve")
    pending_approval.to(DefaultLifecycle.resolved, event="resolve")
    waiting_on_vendor.to(DefaultLifecycle.deleted, event="delete")
    pending_approval.to(DefaultLifecycle.deleted, event="delete")


def build() -> Workflow:
    """Compile the declaration in code; it must equal the one kept as data."""
    in_code = Workflow.from_statemachine(ITServiceDesk, name="it_service_desk")
    as_data = Workflow.from_file(HERE / "workflows" / "it_service_desk.toml")
    same = (
        in_code.statuses == as_data.statuses
        and set(in_code.transitions) == set(as_data.transitions)
        and (in_code.initial, in_code.final) == (as_data.initial, as_data.final)
    )
    if not same:
        msg = "the code and the TOML declarations of the IT service desk differ"
        raise SystemExit(msg)
    return in_code


def main(database: Path) -> None:
    """Run one request through approval and a vendor wait, and print its history."""
    workflow = build()
    print(f"{workflow!r}; statuses: {', '.join(workflow.statuses)}")
    paused = [s.name for s in workflow.statuses.values() if s.sla_paused]
    print(f"SLA clocks pause in: {', '.join(paused)}")

    # Agents may ask for approval and wait on vendors; only admins approve.
    policy = (
        Policy.default()
        .grant("agent", "request_approval")
        .grant("agent", "wait_for_vendor")
        .grant("agent", "vendor_replied")
    )
    clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    store = SQLiteStore(database)
    desk = Helpdesk(store=store, clock=clock, workflow=workflow, policy=policy)
    agent, manager = Actor.agent("a-7", department="it"), Actor.admin("mgr-1")
    requester = Contact(name="Kofi Mensah", email="kofi@example.com")

    ticket = desk.open(
        subject="New laptop for the design team",
        description="Three laptops with 32 GB of memory.",
        requester=requester,
        department="it",
    )
    desk.assign(ticket.id, manager, to=agent.id)
    clock.advance(timedelta(minutes=15))
    desk.fire(ticket.id, "request_approval", agent, body="Budget: 6,000 EUR.")
    clock.advance(timedelta(hours=3))
    desk.fire(ticket.id, "approve", manager, body="Approved.")
    clock.advance(timedelta(hours=1))
    desk.fire(ticket.id, "wait_for_vendor", agent, body="Ordered; delivery in 5 days.")
    clock.advance(timedelta(days=5))
    desk.fire(ticket.id, "vendor_replied", agent, body="Delivered.")
    desk.resolve(ticket.id, agent, body="Laptops handed over.")
    for event in desk.history(ticket.id):
        moved = f"{event.from_status} -> {event.to_status}"
        print(f"  {event.at:%a %d %b %H:%M}  {event.name:<16} {moved:<30} {event.actor.id}")

    store.close()


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(Path(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as folder:
            main(Path(folder) / "it_service_desk.sqlite3")
