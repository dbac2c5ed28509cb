"""Benchmark: SLA clocks and metrics over 100k tickets with realistic histories.

100,000 tickets (10,000 with ``--quick``) live in a MemoryStore, so that the
figures are the SLA and metrics code, not the disk.  Each was opened, answered,
often answered back and forth, sometimes postponed and woken, and resolved
and closed or left open, over days of simulated time.  Two business-hours
policies apply (urgent tickets 24x7, the rest on Riga office hours).

``sla_us_per_ticket``
    Microseconds to compute every target's state of one ticket from its
    history (``Helpdesk.sla``), the median over all tickets' batch time.
``metrics_s_100k``
    Seconds for ``Helpdesk.metrics()`` over all the tickets (scaled to 100k
    with ``--quick``).

``--json`` prints ``{"sla_us_per_ticket": ..., "metrics_s_100k": ...}``.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from importlib.metadata import version

from ticketflow import Actor, Contact, Helpdesk, ManualClock
from ticketflow.rules import PriorityIs
from ticketflow.sla import Calendar, SLAPolicy

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
POLICIES = (
    SLAPolicy("urgent", applies_to=PriorityIs("urgent"), first_response=HOUR,
              next_response=2 * HOUR, resolution=8 * HOUR),
    SLAPolicy("office", first_response=4 * HOUR, next_response=8 * HOUR,
              resolution=40 * HOUR, close_within=7 * 24 * HOUR,
              calendar=Calendar.business("Europe/Riga", weekdays=("09:00", "18:00"))),
)  # fmt: skip


def populate(total: int, seed: int = 11) -> Helpdesk:
    """Store ``total`` tickets with varied, realistic lives, opened over 30 days.

    Lives are built on the pure core (``Workflow.apply``), each on its own
    timeline, and stored in a MemoryStore; the desk's clock then stands two
    days after the last opening.
    """
    rng = random.Random(seed)
    end = START + timedelta(days=32)
    desk = Helpdesk(clock=ManualClock(end), sla_policies=POLICIES, rules=())
    workflow, store = desk.workflow, desk.store
    agent, admin = Actor.agent("a-1"), Actor.admin("ad-1")
    priorities = ["low", "normal", "normal", "high", "urgent"]
    for number in range(total):
        contact = Contact(name="Customer", email=f"c{number % 5000}@example.com")
        customer = Actor.customer(contact.id)
        at = START + timedelta(minutes=rng.randint(0, 30 * 24 * 60))
        ticket, event = workflow.create(
            store.new_id(), customer, at, subject="Help", description="Please.",
            requester=contact, priority=rng.choice(priorities),
        )  # fmt: skip
        store.create(ticket, event)
        steps: list[tuple[str, Actor, dict[str, object]]] = [
            ("agent_reply", agent, {"body": "Looking into it."})
        ]
        for _ in range(rng.randint(0, 3)):
            steps += [
                ("customer_reply", customer, {"body": "More details."}),
                ("agent_reply", agent, {"body": "Try this."}),
            ]
        if rng.random() < 0.2:
            steps += [("postpone", agent, {"hours": rng.randint(2, 48)}), ("wake", agent, {})]
        if rng.random() < 0.8:
            steps.append(("resolve", admin, {}))
            if rng.random() < 0.7:
                steps.append(("close", customer, {}))
        for name, actor, payload in steps:
            at += timedelta(minutes=rng.randint(5, 600))
            if at > end:
                break
            arguments = dict(payload)
            if name == "postpone":
                arguments = {"until": at + timedelta(hours=int(payload["hours"]))}  # type: ignore[call-overload]
            before = ticket
            ticket, event = workflow.apply(ticket, name, actor, at, **arguments)
            store.commit(ticket, event, before.version)
    return desk


def measure(total: int) -> dict[str, float]:
    """Populate, then time ``sla`` per ticket and ``metrics`` over all."""
    desk = populate(total)
    ids = [ticket.id for ticket in desk.find()]
    started = time.perf_counter()
    for ticket_id in ids:
        desk.sla(ticket_id)
    per_ticket = (time.perf_counter() - started) / len(ids) * 1e6
    started = time.perf_counter()
    report = desk.metrics()
    metrics_s = (time.perf_counter() - started) * (100_000 / total)
    if report.overall.tickets != total:
        raise RuntimeError(f"metrics saw {report.overall.tickets} tickets, not {total}")
    return {"sla_us_per_ticket": per_ticket, "metrics_s_100k": metrics_s}


def main(argv: Sequence[str] | None = None) -> int:
    """Measure and print; return 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true", help="print one JSON object only")
    parser.add_argument("--quick", action="store_true", help="10k tickets, scaled to 100k")
    args = parser.parse_args(argv)
    total = 10_000 if args.quick else 100_000
    figures = measure(total)
    if args.json:
        print(json.dumps({key: round(value, 3) for key, value in figures.items()}))
        return 0
    print(
        f"ticketflow {version('ticketflow')}, Python {platform.python_version()}, "
        f"{total} tickets{' (metrics scaled to 100k)' if total != 100_000 else ''}\n"
        f"sla_us_per_ticket {figures['sla_us_per_ticket']:>10.1f}\n"
        f"metrics_s_100k    {figures['metrics_s_100k']:>10.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
