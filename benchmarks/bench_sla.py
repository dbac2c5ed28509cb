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

``--json`` prints ``{"sla_us_per_ticket": ..., "metrics_s_100k": ...,
"metrics_s_100k_sqlite": ..., "metrics_s_100k_pg": ...}``.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sqlite3
import statistics
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import psycopg
from bench_postgres import _array, _copy_field, scratch_databases

from ticketflow import Actor, Contact, Helpdesk, ManualClock, MetricsReport
from ticketflow.rules import PriorityIs
from ticketflow.sla import Calendar, SLAPolicy
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
    return desk


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


def measure(total: int, *, postgres: bool = True) -> dict[str, float]:
    """Populate; time ``sla`` per ticket, and ``metrics`` over all from histories and stored."""
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
    stored = stored_metrics(desk, report, postgres=postgres)
    return {
        "sla_us_per_ticket": per_ticket,
        "metrics_s_100k": metrics_s,
        **{key: seconds * (100_000 / total) for key, seconds in stored.items()},
    }


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
        f"metrics_s_100k    {figures['metrics_s_100k']:>10.2f}\n"
        f"metrics_s_100k_sqlite {figures['metrics_s_100k_sqlite']:>6.3f}\n"
        f"metrics_s_100k_pg     {figures['metrics_s_100k_pg']:>6.3f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
