"""Quickstart: one support ticket from first message to follow-up, with its history.

Run it from a clone with ``python examples/quickstart.py [DATABASE]``.  The
tickets go to a SQLite file: DATABASE if given (new or empty; look at it
afterwards with ``python -m ticketflow list --db DATABASE``), else a temporary
one.  It uses a ManualClock, so it prints the same story every time; a host
would leave the clock at its default, the system clock.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ticketflow import (
    Actor,
    Contact,
    Helpdesk,
    HistoryEvent,
    IllegalTransition,
    ManualClock,
    PermissionDenied,
    Priority,
    Ticket,
    replay,
)
from ticketflow.storage import SQLiteStore


def show(ticket: Ticket) -> None:
    """Print one line about a ticket's state."""
    print(
        f"  {ticket.id}: {ticket.status:<9} priority={ticket.priority.value:<6} "
        f"assignee={ticket.assignee} v{ticket.version}"
    )


def print_history(desk: Helpdesk, ticket_id: str) -> None:
    """Print a ticket's history, one event a line, and check that it replays."""
    print(f"The history of {ticket_id}:")
    for event in desk.history(ticket_id):
        moved = f"{event.from_status} -> {event.to_status}"
        when = f"{event.at:%Y-%m-%d %H:%M}"
        print(f"  #{event.seq} {when} {event.name:<14} {moved:<20} {event.actor.id}")
    rebuilt = replay(desk.history(ticket_id))
    print(f"Replaying the history gives back the stored ticket: {rebuilt == desk.get(ticket_id)}")


def print_queues(desk: Helpdesk) -> None:
    """Print what is closed and what still waits for an answer."""
    closed = [t.id for t in desk.find(category="closed")]
    waiting = [t.id for t in desk.find(status="new")]
    print(f"Closed tickets: {closed}; new tickets waiting for an answer: {waiting}")


def close_rate_and_review(desk: Helpdesk, ticket_id: str, customer: Actor, agent: Actor) -> None:
    """The customer closes the ticket and rates the help; the agent reviews what was learned."""
    show(desk.close(ticket_id, customer, body="Got it, thanks!"))
    print("The customer rates the help, and the agent records what was learned:")
    desk.rate(ticket_id, customer, "good", comment="Quick and friendly.")
    show(
        desk.review(
            ticket_id,
            agent,
            solution="Refunded the second charge.",
            lessons="The payment provider retries on timeouts: look for a duplicate first.",
        )
    )


def main(database: Path) -> None:
    """Walk one ticket through its life, kept in ``database``, and print what happens."""
    clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    notified: list[str] = []

    def notify(ticket: Ticket, event: HistoryEvent) -> None:
        # A host would send an e-mail or a websocket message here; hooks run
        # after the commit, so they only ever see what really happened.
        notified.append(f"{ticket.id}:{event.name}")

    store = SQLiteStore(database)
    desk = Helpdesk(store=store, clock=clock, hooks=[notify])

    ana = Contact(id="c-1", name="Ana Ozola", email="ana@example.com")
    customer = Actor.customer("c-1")
    agent = Actor.agent("a-1", department="billing")
    lead = Actor.admin("lead-1")

    print("A customer writes in:")
    ticket = desk.open(
        subject="Invoice charged twice",
        description="My January invoice was charged twice.",
        requester=ana,
        priority=Priority.HIGH,
        channel="email",
        tags={"billing"},
    )
    show(ticket)

    clock.advance(timedelta(minutes=20))
    print("The lead assigns it and raises its priority:")
    desk.assign(ticket.id, lead, to="a-1")
    show(desk.set_priority(ticket.id, lead, Priority.URGENT))

    clock.advance(timedelta(minutes=10))
    print("The agent answers, leaves a note, and the customer replies:")
    desk.reply(ticket.id, agent, "Sorry about that! Which invoice number?")
    desk.note(ticket.id, agent, "Looks like the payment provider retried.")
    clock.advance(timedelta(hours=2))
    show(desk.reply(ticket.id, customer, "It is INV-2026-0042."))

    print("Closing before resolving is refused, and changes nothing:")
    try:
        desk.close(ticket.id, customer)
    except IllegalTransition as refused:
        print(f"  refused: {refused}")
    print("So is a stranger touching someone else's ticket:")
    try:
        desk.reply(ticket.id, Actor.customer("c-2"), "Me too!")
    except PermissionDenied as refused:
        print(f"  refused: {refused}")

    clock.advance(timedelta(hours=1))
    print("The agent resolves it, and the customer closes it:")
    desk.resolve(ticket.id, agent, body="Refunded the second charge.")
    clock.advance(timedelta(days=1))
    close_rate_and_review(desk, ticket.id, customer, agent)

    clock.advance(timedelta(days=30))
    print("A month later the customer writes to the closed ticket; a follow-up opens:")
    follow_up = desk.reply(ticket.id, customer, "February was charged twice too.")
    show(follow_up)
    print(f"  {follow_up.id} follows up {follow_up.parent_id}")

    print(f"What the agent may do on {follow_up.id} now:")
    print("  " + ", ".join(desk.allowed_events(follow_up.id, agent)))

    print_history(desk, ticket.id)

    print_queues(desk)
    print(f"The hook was told of {len(notified)} changes: {', '.join(notified)}")
    store.close()


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(Path(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as folder:
            main(Path(folder) / "quickstart.sqlite3")
