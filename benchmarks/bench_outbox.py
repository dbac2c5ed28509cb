"""Benchmark: what the outbox costs a commit, and how fast a drain hands records over.

``commit_overhead_sqlite`` / ``commit_overhead_postgres``
    ``Helpdesk.note`` with the outbox on (``Helpdesk(outbox=True)``: the
    event's record written in the commit) divided by the same with it off,
    in one run: the two desks take turns, batch by batch, on their own
    SQLite files (PostgreSQL: their own tenants of one scratch database), and
    each figure is the median of its batches.  Goal: at most 1.25.
``commit_us_off_sqlite`` / ``commit_us_on_sqlite`` (and ``_postgres``)
    The microseconds per note behind those ratios.
``drain_per_s``
    Records a second through ``desk.outbox.drain(handler, consumer=...,
    batch=100)`` on SQLite with a handler that does nothing: 20,000 records
    (2,000 with ``--quick``), drained from the start by a new consumer in
    each repeat; the median.  Goal: at least 10,000.
``drain_per_s_postgres``
    The same on PostgreSQL (a tenant of the scratch database).

``--json`` prints one JSON object with those keys; ``--quick`` runs small
(a smoke test, not a figure); ``--no-postgres`` leaves PostgreSQL out.  The
script exits 0 whatever the figures: it measures, it does not judge.
PostgreSQL is the server of ``bench_postgres.SERVER``, in a scratch
database dropped at the end.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path

from bench_postgres import scratch_databases

from ticketflow import Actor, Contact, Helpdesk, ManualClock, OutboxRecord
from ticketflow.storage import PostgresStore, SQLiteStore, Store

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
AGENT = Actor.admin("ad-1")
ANA = Contact(name="Ana Ozola", email="ana@example.com")
NOTE = "Checked the logs; the tunnel drops when the laptop sleeps."
TICKETS = 20
"""How many tickets the commit benchmark spreads its notes over."""

GOALS = (
    ("commit_overhead_sqlite", "<=", 1.25),
    ("commit_overhead_postgres", "<=", 1.25),
    ("drain_per_s", ">=", 10_000.0),
)


class _Desk:
    """A desk that notes its tickets in turn, on a clock of its own."""

    def __init__(self, store: Store, *, outbox: bool) -> None:
        self.clock = ManualClock(START)
        self.desk = Helpdesk(store, self.clock, outbox=outbox, rules=())
        self.ids = [
            self.desk.open(subject=f"VPN {n}", description="It drops.", requester=ANA).id
            for n in range(TICKETS)
        ]
        self.done = 0

    def notes(self, count: int) -> float:
        """Note ``count`` times; return the microseconds per note."""
        step = timedelta(seconds=1)
        gc.collect()
        gc.disable()
        started = time.perf_counter()
        for _ in range(count):
            self.clock.advance(step)
            self.desk.note(self.ids[self.done % TICKETS], AGENT, NOTE)
            self.done += 1
        elapsed = time.perf_counter() - started
        gc.enable()
        return elapsed / count * 1e6


def commit_overhead(
    make: Callable[[str], Store], batches: int, per_batch: int
) -> dict[str, float]:
    """Median microseconds per note with the outbox off and on, taking turns; and their ratio."""
    off, on = _Desk(make("off"), outbox=False), _Desk(make("on"), outbox=True)
    off.notes(per_batch)  # warm up both
    on.notes(per_batch)
    times: dict[str, list[float]] = {"off": [], "on": []}
    for batch in range(batches):
        order = [("off", off), ("on", on)] if batch % 2 == 0 else [("on", on), ("off", off)]
        for name, desk in order:
            times[name].append(desk.notes(per_batch))
    median_off, median_on = statistics.median(times["off"]), statistics.median(times["on"])
    return {"off": median_off, "on": median_on, "overhead": median_on / median_off}


def _filled(store: Store, records: int) -> Helpdesk:
    """A desk whose outbox holds ``records`` records (tickets opened in batches of 500)."""
    desk = Helpdesk(store, ManualClock(START), outbox=True, rules=())
    for first in range(0, records, 500):
        with store.batch():
            for n in range(first, min(first + 500, records)):
                desk.open(subject=f"Ticket {n}", description="Hello.", requester=ANA)
    return desk


def drain_rate(desk: Helpdesk, records: int, repeats: int) -> float:
    """Median records a second through drains of 100 by new consumers, a no-op handler."""

    def nothing(_record: OutboxRecord) -> None:
        return None

    rates = []
    for repeat in range(repeats):
        consumer = f"bench-{repeat}"
        handed = 0
        gc.collect()
        started = time.perf_counter()
        while True:
            report = desk.outbox.drain(nothing, consumer=consumer, batch=100)
            if not report.handled:
                break
            handed += report.handled
        elapsed = time.perf_counter() - started
        assert handed == records, (handed, records)  # noqa: S101 - a benchmark that lies is worse
        rates.append(handed / elapsed)
    return statistics.median(rates)


@contextmanager
def _closing(
    open_store: Callable[[str], SQLiteStore | PostgresStore],
) -> Iterator[Callable[[str], Store]]:
    """Hand out stores made by ``open_store(name)``; close them all at the end."""
    stores: list[SQLiteStore | PostgresStore] = []

    def make(name: str) -> Store:
        stores.append(open_store(name))
        return stores[-1]

    try:
        yield make
    finally:
        for store in stores:
            store.close()


@contextmanager
def _sqlite_files() -> Iterator[Callable[[str], Store]]:
    with (
        tempfile.TemporaryDirectory(prefix="ticketflow-bench-outbox-") as folder,
        _closing(lambda name: SQLiteStore(Path(folder) / f"{name}.sqlite3")) as make,
    ):
        yield make


@contextmanager
def _postgres_tenants() -> Iterator[Callable[[str], Store]]:
    with scratch_databases("outbox") as dsns:
        dsn = dsns["outbox"]
        with PostgresStore(dsn) as migrating:
            migrating.migrate()
        with _closing(lambda name: PostgresStore(dsn, tenant=name, max_connections=2)) as make:
            yield make


def measure(*, quick: bool, repeats: int, postgres: bool) -> dict[str, float]:
    """Every figure, in the order of the module's docstring."""
    batches, per_batch = (4, 50) if quick else (2 * repeats + 1, 400)
    records = 2_000 if quick else 20_000
    figures: dict[str, float] = {}
    with _sqlite_files() as make:
        commits = commit_overhead(make, batches, per_batch)
        figures["commit_overhead_sqlite"] = commits["overhead"]
        figures["commit_us_off_sqlite"] = commits["off"]
        figures["commit_us_on_sqlite"] = commits["on"]
        figures["drain_per_s"] = drain_rate(_filled(make("drain"), records), records, repeats)
    if postgres:
        with _postgres_tenants() as make:
            commits = commit_overhead(make, batches, per_batch // 2)
            figures["commit_overhead_postgres"] = commits["overhead"]
            figures["commit_us_off_postgres"] = commits["off"]
            figures["commit_us_on_postgres"] = commits["on"]
            smaller = records // 4
            desk = _filled(make("drain"), smaller)
            figures["drain_per_s_postgres"] = drain_rate(desk, smaller, repeats)
    return figures


def report(figures: dict[str, float], *, quick: bool, repeats: int) -> str:
    """The readable table and the goals."""
    sizes = " (quick: a smoke test, not a figure)" if quick else ""
    lines = [
        f"ticketflow {version('ticketflow')}, SQLite {sqlite3.sqlite_version}, "
        f"Python {platform.python_version()}{sizes}",
        f"median of {repeats} repeats",
        "",
        *(f"{name:<26} {value:>12.2f}" for name, value in figures.items()),
        "",
        "goals:",
    ]
    for name, sense, bound in GOALS:
        if name not in figures:
            continue
        value = figures[name]
        met = value <= bound if sense == "<=" else value >= bound
        lines.append(f"  {name} {sense} {bound:g}: {value:.2f} -> {'met' if met else 'NOT met'}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Measure and print; return 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true", help="print one JSON object only")
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    parser.add_argument("--repeats", type=int, default=None, help="repeats (default 5, quick 1)")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    args = parser.parse_args(argv)
    repeats = args.repeats or (1 if args.quick else 5)
    figures = measure(quick=args.quick, repeats=repeats, postgres=not args.no_postgres)
    if args.json:
        print(json.dumps({name: round(value, 3) for name, value in figures.items()}))
    else:
        print(report(figures, quick=args.quick, repeats=repeats))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
