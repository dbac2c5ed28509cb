"""The smallest useful workflow: to do, fixed, done; kept as JSON, drawn, and run.

Run it from a clone with ``python examples/minimal_workflow.py [DATABASE]``; the tickets go
to the SQLite file DATABASE if given, else to a temporary one.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ticketflow import Actor, Contact, Helpdesk, IllegalTransition, ManualClock, Workflow
from ticketflow.storage import SQLiteStore

DEFINITION = Path(__file__).resolve().parent / "workflows" / "minimal.json"


def main(database: Path) -> None:
    """Load the workflow, draw it, and move one ticket through it."""
    workflow = Workflow.from_file(DEFINITION)
    print(workflow.to_mermaid())

    clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    store = SQLiteStore(database)
    desk = Helpdesk(store=store, clock=clock, workflow=workflow)
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

    store.close()


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(Path(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as folder:
            main(Path(folder) / "minimal_workflow.sqlite3")
