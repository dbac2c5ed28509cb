"""Benchmark: SLA clocks and metrics over 100k tickets with realistic histories.

100,000 tickets (10,000 with ``--quick``) live in a MemoryStore, so that the
figures are the SLA and metrics code, not the disk.  Each was opened, answered,
often answered back and forth, sometimes postponed and woken, and resolved
and closed or left open, over days of simulated time.  Two business-hours
policies apply (urgent tickets 24x7, the rest on Riga office hours).

``sla_us_per_ticket``
    Microseconds to read every target's state of one ticket
    (``Helpdesk.sla``: the clocks kept with the ticket, plus the calendar's
    time since its last commit), the mean over all tickets.
``metrics_s_100k``
    Seconds for the report computed from every history,
    ``Helpdesk.metrics(per_ticket=True)``, over all the tickets (scaled to
    100k with ``--quick``).
``metrics_s_100k_sqlite``, ``metrics_s_100k_pg``
    Seconds for the full report with its breakdowns, ``Helpdesk.metrics()``,
    added up by the store from the figures stored with each ticket, on
    SQLite and PostgreSQL (the median of three runs; scaled to 100k with
    ``--quick``).  The same tickets, with the figures their last commit
    stores, are loaded in bulk (their events are left out: the report does
    not read them); both reports must equal the one from the histories.
    PostgreSQL runs in a scratch database on ``bench_postgres.SERVER``.
``queue_ms_100k_sqlite``, ``queue_ms_100k_pg``
    Milliseconds for ``Helpdesk.queue(order="sla", limit=50)`` over 100,000
    active tickets (10,000 with ``--quick``, not scaled: the query reads an
    index, so its time should not grow with the tickets) in a SQLite file and
    in PostgreSQL (a scratch database of ``bench_postgres.SERVER``), the
    median of 20 runs.
``commit_overhead``
    A desk's commit time with three SLA policies and ``sla_rules()``, divided
    by the same desk's without policies, on a SQLite file: each ticket
    opened, answered, answered back and forth, resolved (the median of 9
    runs of the ratio, 400 tickets each).

``--json`` prints ``{"sla_us_per_ticket": ..., "metrics_s_100k": ...,
"metrics_s_100k_sqlite": ..., "metrics_s_100k_pg": ..., ...}``.  ``--only
PART`` (repeatable) measures only some of them: ``sla`` (the first two),
``metrics`` (the stored report, which needs the report from the histories
to compare with), ``queue`` or ``commit``; ``--queue-total N`` fills the
queue's stores with N tickets instead.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import psycopg
from bench_postgres import _array, _copy_field, scratch_databases

from ticketflow import Actor, Contact, Helpdesk, ManualClock, MetricsReport
from ticketflow.rules import InDepartment, PriorityIs
from ticketflow.sla import Calendar, SLAPolicy, sla_rules
from ticketflow.storage import Figures, PostgresStore, SQLiteStore, Store
from ticketflow.storage._codec import COLUMNS, ticket_row
from ticketflow.storage._figures import FIGURE_COLUMNS, figures_row
from ticketflow.storage._postgres import _escape

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
    # Stored behind the desk's back: keep every ticket's clocks as a desk would.
    desk.recompute_sla(batch=2000)
    return desk


THREE = (
    *POLICIES[:1],
    SLAPolicy("it", applies_to=InDepartment("it"), first_response=2 * HOUR,
              resolution=24 * HOUR, calendar=POLICIES[1].calendar),
    *POLICIES[1:],
)  # fmt: skip
"""Three policies: urgent 24x7, the IT department and the rest on office hours."""


def fill(desk: Helpdesk, clock: ManualClock, total: int, seed: int = 5) -> None:
    """Open ``total`` tickets through ``desk`` (on ``clock``), a minute or so apart, in batches."""
    rng = random.Random(seed)
    priorities = ["low", "normal", "normal", "high", "urgent"]
    for first in range(0, total, 1000):
        with desk.store.batch():
            for number in range(first, min(total, first + 1000)):
                clock.advance(timedelta(seconds=rng.randint(1, 120)))
                desk.open(
                    subject="Help", description="Please.",
                    requester=Contact(name="C", email=f"c{number % 5000}@example.com"),
                    priority=rng.choice(priorities),
                    department=rng.choice(["it", "billing", None]),
                )  # fmt: skip


def time_queue(desk: Helpdesk, runs: int = 20) -> float:
    """The median milliseconds of ``queue(order="sla", limit=50)``."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        entries = desk.queue(order="sla", limit=50)
        times.append((time.perf_counter() - started) * 1000)
        if len(entries) != 50 or entries[0].due_at is None:
            raise RuntimeError(f"the queue gave {len(entries)} entries")
    return statistics.median(times)


def queue_sqlite(total: int) -> float:
    """``queue_ms`` over ``total`` active tickets in a SQLite file."""
    with tempfile.TemporaryDirectory() as folder, SQLiteStore(Path(folder) / "q.db") as store:
        clock = ManualClock(START)
        desk = Helpdesk(store=store, clock=clock, sla_policies=THREE, rules=())
        fill(desk, clock, total)
        return time_queue(desk)


def queue_postgres(total: int) -> float:
    """``queue_ms`` over ``total`` active tickets in PostgreSQL, its statistics up to date.

    The table is analyzed after the filling, as autovacuum would have done
    by then (the server here runs with ``autovacuum = off``): with no
    statistics at all, the planner takes the table for nearly empty, reads
    every active ticket through the status index and sorts them instead of
    reading the page from the index on the due instant (70 ms at 20,000
    tickets, against 1 ms).
    """
    tenant = f"q-{uuid.uuid4().hex[:8]}"
    with scratch_databases("queue") as dsns, PostgresStore(dsns["queue"], tenant=tenant) as store:
        store.migrate()
        clock = ManualClock(START)
        desk = Helpdesk(store=store, clock=clock, sla_policies=THREE, rules=())
        fill(desk, clock, total)
        with psycopg.connect(dsns["queue"], autocommit=True) as connection:
            connection.execute("ANALYZE ticketflow_tickets")
        return time_queue(desk)


def commits(make: Callable[[Store, ManualClock], Helpdesk], tickets: int) -> float:
    """Seconds for ``tickets`` lives of five commits each, on a fresh SQLite file."""
    agent, admin = Actor.agent("a-1"), Actor.admin("ad-1")
    with tempfile.TemporaryDirectory() as folder, SQLiteStore(Path(folder) / "c.db") as store:
        clock = ManualClock(START)
        desk = make(store, clock)
        started = time.perf_counter()
        for number in range(tickets):
            contact = Contact(name="C", email=f"c{number}@example.com")
            ticket = desk.open(subject="Help", description="Please.", requester=contact,
                               priority=("urgent", "normal")[number % 2])  # fmt: skip
            clock.advance(timedelta(minutes=7))
            desk.reply(ticket.id, agent, "Looking into it.")
            desk.reply(ticket.id, Actor.customer(contact.id), "Still broken.")
            clock.advance(timedelta(minutes=7))
            desk.reply(ticket.id, agent, "Fixed.")
            desk.resolve(ticket.id, admin)
        return time.perf_counter() - started


def commit_overhead(tickets: int, repeats: int = 9) -> float:
    """Commit time with three policies and ``sla_rules()`` over the same without policies.

    Short runs taking turns, the median of their ratios: on a shared machine
    the disk's commit time drifts over seconds, and one long pair measured
    anything from 1.27 to 1.68 from one run to the next.
    """
    ratios = []
    for _ in range(repeats):
        plain = commits(
            lambda store, clock: Helpdesk(store=store, clock=clock, rules=sla_rules()),
            tickets,
        )
        with_sla = commits(
            lambda store, clock: Helpdesk(
                store=store, clock=clock, rules=sla_rules(), sla_policies=THREE
            ),
            tickets,
        )
        ratios.append(with_sla / plain)
    return statistics.median(ratios)


# -- the report from stored figures, on SQLite and PostgreSQL ------------------------


def stored_rows(desk: Helpdesk) -> list[tuple[tuple[Any, ...], Figures]]:
    """Each ticket's row and the figures its last commit stores (computed from its history)."""
    desk.recompute_figures(batch=5_000)
    store = desk.store
    rows = []
    for ticket in desk.find():
        figures = store.figures(ticket.id)
        if figures is None:
            raise RuntimeError(f"{ticket.id} has no figures after recompute_figures()")
        rows.append((ticket_row(ticket), figures))
    return rows


def load_sqlite(path: Path, rows: list[tuple[tuple[Any, ...], Figures]]) -> None:
    """Make the store's schema at ``path`` and insert the tickets, tags and figures; ANALYZE."""
    SQLiteStore(path).close()
    tags = COLUMNS.index("tags")
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("BEGIN")
    connection.executemany(
        f"INSERT INTO tickets ({', '.join((*COLUMNS, *FIGURE_COLUMNS))}) "  # noqa: S608
        f"VALUES ({', '.join('?' * (len(COLUMNS) + len(FIGURE_COLUMNS)))})",
        ((*row, *figures_row(figures)) for row, figures in rows),
    )
    connection.executemany(
        "INSERT INTO ticket_tags (tag, ticket_id) VALUES (?, ?)",
        ((tag, row[0]) for row, _ in rows for tag in json.loads(row[tags])),
    )
    connection.execute("UPDATE counters SET value = ? WHERE name = 'ticket'", (len(rows),))
    connection.execute("COMMIT")
    connection.execute("ANALYZE")
    connection.close()


def load_postgres(dsn: str, tenant: str, rows: list[tuple[tuple[Any, ...], Figures]]) -> None:
    """Migrate ``dsn`` and COPY in the tickets with their tag arrays and figures; ANALYZE."""
    with PostgresStore(dsn, tenant=tenant) as store:
        store.migrate()
    tags = COLUMNS.index("tags")
    columns = ", ".join(("tenant", *COLUMNS, "tag_list", *FIGURE_COLUMNS))
    with psycopg.connect(dsn) as connection:
        with (
            connection.cursor() as cursor,
            cursor.copy(f"COPY ticketflow_tickets ({columns}) FROM STDIN") as copy,
        ):
            for start in range(0, len(rows), 10_000):
                lines = []
                for row, figures in rows[start : start + 10_000]:
                    fields = [tenant, *(_escape(value) for value in row)]
                    fields.append(_array([_escape(tag) for tag in json.loads(row[tags])]))
                    fields += [_escape(value) for value in figures_row(figures)]
                    lines.append("\t".join(map(_copy_field, fields)))
                copy.write("\n".join(lines) + "\n")
        connection.execute(
            "INSERT INTO ticketflow_counters (tenant, name, value) VALUES (%s, 'ticket', %s)",
            (tenant, len(rows)),
        )
        connection.commit()
        connection.autocommit = True
        connection.execute("VACUUM ANALYZE ticketflow_tickets")


def time_report(store: Store, clock: ManualClock, expected: MetricsReport) -> float:
    """The median seconds of three full reports on ``store``; each must equal ``expected``."""
    desk = Helpdesk(store=store, clock=clock, sla_policies=POLICIES, rules=())
    seconds = []
    for _ in range(3):
        started = time.perf_counter()
        report = desk.metrics()
        seconds.append(time.perf_counter() - started)
        if (report.overall, report.breakdowns) != (expected.overall, expected.breakdowns):
            raise RuntimeError(f"{store!r} adds up another report than the histories give")
    return statistics.median(seconds)


def stored_metrics(
    desk: Helpdesk, expected: MetricsReport, postgres: bool = True
) -> dict[str, float]:
    """Seconds of the report from stored figures, on SQLite and (if asked) PostgreSQL."""
    rows = stored_rows(desk)
    clock = ManualClock(desk.clock.now())
    found: dict[str, float] = {}
    with TemporaryDirectory(prefix="ticketflow-bench-sla-") as folder:
        path = Path(folder) / "tickets.sqlite3"
        load_sqlite(path, rows)
        with SQLiteStore(path) as store:
            found["metrics_s_100k_sqlite"] = time_report(store, clock, expected)
    if postgres:
        with scratch_databases("metrics") as dsns:
            load_postgres(dsns["metrics"], "bench", rows)
            with PostgresStore(dsns["metrics"], tenant="bench") as store:
                found["metrics_s_100k_pg"] = time_report(store, clock, expected)
    return found


PARTS = ("sla", "metrics", "queue", "commit")
"""What ``--only`` can ask for (all of them by default)."""


def measure(
    total: int,
    *,
    postgres: bool = True,
    queue_total: int = 0,
    commit_tickets: int = 0,
    parts: Sequence[str] = PARTS,
) -> dict[str, float]:
    """Populate, then time ``sla`` per ticket and ``metrics`` over all; and the queue, commits.

    The report is timed from the histories and from the stored figures (on
    PostgreSQL too if ``postgres``); ``queue_total`` active tickets for the
    queue figures and ``commit_tickets`` lives for the commit overhead; 0
    leaves the figure out.  ``parts`` (of :data:`PARTS`) leaves out the others.
    """
    figures: dict[str, float] = {}
    if "sla" in parts or "metrics" in parts:
        figures.update(_reports(total, postgres=postgres, stored="metrics" in parts))
        if "sla" not in parts:
            del figures["sla_us_per_ticket"], figures["metrics_s_100k"]
    if queue_total and "queue" in parts:
        figures["queue_ms_100k_sqlite"] = queue_sqlite(queue_total)
        figures["queue_ms_100k_pg"] = queue_postgres(queue_total)
    if commit_tickets and "commit" in parts:
        figures["commit_overhead"] = commit_overhead(commit_tickets)
    return figures


def _reports(total: int, *, postgres: bool, stored: bool) -> dict[str, float]:
    """``sla_us_per_ticket``, ``metrics_s_100k`` and (if ``stored``) the stored reports."""
    desk = populate(total)
    ids = [ticket.id for ticket in desk.find()]
    started = time.perf_counter()
    for ticket_id in ids:
        desk.sla(ticket_id)
    per_ticket = (time.perf_counter() - started) / len(ids) * 1e6
    started = time.perf_counter()
    report = desk.metrics(per_ticket=True)
    metrics_s = (time.perf_counter() - started) * (100_000 / total)
    if report.overall.tickets != total:
        raise RuntimeError(f"metrics saw {report.overall.tickets} tickets, not {total}")
    from_figures = stored_metrics(desk, report, postgres=postgres) if stored else {}
    return {
        "sla_us_per_ticket": per_ticket,
        "metrics_s_100k": metrics_s,
        **{key: seconds * (100_000 / total) for key, seconds in from_figures.items()},
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Measure and print; return 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true", help="print one JSON object only")
    parser.add_argument("--quick", action="store_true", help="10k tickets, scaled to 100k")
    parser.add_argument(
        "--only", action="append", choices=PARTS, help="measure only this part (repeatable)"
    )
    parser.add_argument("--queue-total", type=int, help="tickets for the queue (default: all)")
    args = parser.parse_args(argv)
    total = 10_000 if args.quick else 100_000
    figures = measure(
        total,
        queue_total=args.queue_total or total,
        commit_tickets=100 if args.quick else 400,
        parts=args.only or PARTS,
    )
    if args.json:
        print(json.dumps({key: round(value, 3) for key, value in figures.items()}))
        return 0
    print(
        f"ticketflow {version('ticketflow')}, Python {platform.python_version()}, "
        f"{total} tickets{' (metrics scaled to 100k)' if total != 100_000 else ''}"
    )
    for key, value in figures.items():
        print(f"{key:<22} {value:>10.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
