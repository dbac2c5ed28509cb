"""The smallest useful workflow: to do, fixed, done; kept as JSON, drawn, and run.

Run it from a clone with ``python examples/minimal_workflow.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from ticketflow import Actor, Contact, Helpdesk, IllegalTransition, ManualClock, Workflow

DEFINITION = Path(__file__).resolve().parent / "workflows" / "minimal.json"


def main() -> None:
    """Load the workflow, draw it, and move one ticket through it."""
    workflow = Workflow.from_file(DEFINITION)
    print(workflow.to_mermaid())

    clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    desk = Helpdesk(clock=clock, workflow=workflow)
    admin = Actor.admin("ad-1")
    ticket = desk.open(
        subject="Printer on floor 2 is out of toner",
        description="It prints blank pages.",
        requester=Contact(name="Lea Roux", email="lea@example.com"),
    )
    print(
        f"{ticket.id} opens in {ticket.status!r}; the admin may: "
        f"{', '.join(desk.allowed_events(ticket.id, admin))}"
    )
    try:
        desk.close(ticket.id, admin)
    except IllegalTransition as refused:
        print(f"refused: {refused}")
    desk.note(ticket.id, admin, "Toner ordered.")
    clock.advance(timedelta(hours=2))
    desk.resolve(ticket.id, admin, body="Toner replaced.")
    clock.advance(timedelta(days=1))
    done = desk.close(ticket.id, admin)
    print(
        f"{done.id} is {done.status!r} after {len(desk.history(done.id))} events: "
        f"{' -> '.join(event.to_status for event in desk.history(done.id))}"
    )


if __name__ == "__main__":
    main()
