"""Benchmark: rules sweeps at 100k and 1M tickets with the same 10k due, and firings a second.

Figures, all from one run:

``sweep_s_100k`` / ``sweep_s_1m``
    Each SQLite database holds resolved tickets, closed ones and open ones;
    10,000 of the resolved tickets were resolved long enough ago for the
    default ``auto_close`` rule.  ``Helpdesk.run_rules()`` then closes exactly
    those, each with its note and its ledger entry.  The figure is the wall
    time of the whole sweep, the median over repeats, each on a fresh copy of
    the database; the two sizes take turns.  ``sweep_1m_over_100k`` is their
    ratio: the sweep must cost in proportion to the due tickets, not to all
    the tickets stored.
``fires_per_s_sqlite``
    Firings a second of that one sweeper on 10,000 due tickets: ``fired`` over
    ``sweep_s_100k``.
``fires_per_s_pg_1`` / ``fires_per_s_pg_4``
    1 and 4 worker processes, each with its own ``PostgresStore`` on the same
    tenant, run ``Helpdesk.run_rules()`` at once on the same 10,000 due
    tickets (among 30,000, loaded with ``COPY`` as ``bench_postgres.py`` does,
    scheduled by the default rules): firings a second of wall time from the
    first worker's start to the last one's finish.  ``fires_pg_4_over_1`` is
    their ratio.  Every due ticket must be fired exactly once.
``sla_sweep_s_100k`` / ``sla_sweep_s_1m``
    The same sweep with ``sla_rules()`` and one 24x7 policy (resolution in 32
    days) over open tickets, each with its ``create`` event and the schedule
    the desk's own scheduler gives it: 10,000 were opened long enough ago
    for ``sla_warning``, the others later.  ``sla_sweep_1m_over_100k`` is the
    ratio.

``--json`` prints one JSON object with those keys and ``fired``; ``--quick``
runs at a hundredth of the sizes; ``--only-postgres`` measures the PostgreSQL
figures alone (their keys only).  The PostgreSQL figures need the server at
``bench_postgres.SERVER`` and run in scratch databases dropped at the end.
The script exits 0 whatever the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

from bench_storage import ANA, START, build, insert, run_together

from ticketflow import Helpdesk, ManualClock
from ticketflow.sla import SLAPolicy, sla_rules
from ticketflow.storage import MemoryStore, PostgresStore, SQLiteStore, Store
from ticketflow.storage._codec import COLUMNS, event_row, ticket_row, time_in

SWEEP_AT = START + timedelta(days=30)
"""The sweep's now: the due tickets were resolved 29 days before, the others will be later."""

SLA_POLICY = SLAPolicy("standard", resolution=timedelta(days=32))
"""24x7, resolution within 32 days: ``sla_warning`` (at 75 %) comes 24 days after opening."""

LATE = START + timedelta(days=10)
"""When the SLA sweep's tickets that are not due were opened (their warning after ``SWEEP_AT``)."""

GOALS = (
    ("sweep_1m_over_100k", "at most", 1.5),
    ("sla_sweep_1m_over_100k", "at most", 1.5),
    ("fires_per_s_sqlite", "at least", 5000.0),
    ("fires_per_s_pg_4", "at least", 4000.0),
    ("fires_pg_4_over_1", "at least", 1.0),
)
"""``(figure, bound, limit)``."""

KEYS = (
    "sweep_s_100k",
    "sweep_s_1m",
    "fired",
    "sweep_1m_over_100k",
    "fires_per_s_sqlite",
    "fires_per_s_pg_1",
    "fires_per_s_pg_4",
    "fires_pg_4_over_1",
    "sla_sweep_s_100k",
    "sla_sweep_s_1m",
    "sla_sweep_1m_over_100k",
)
"""The figures, in the order ``--json`` prints them."""


def default_desk(store: Store) -> Helpdesk:
    """The desk of the default sweeps: default rules, no SLA policy."""
    return Helpdesk(store=store, clock=ManualClock(SWEEP_AT))


def sla_desk(store: Store, at: datetime = SWEEP_AT) -> Helpdesk:
    """The desk of the SLA sweeps: ``sla_rules()`` under :data:`SLA_POLICY`."""
    return Helpdesk(
        store=store, clock=ManualClock(at), rules=sla_rules(), sla_policies=[SLA_POLICY]
    )


def sweep(path: Path, make: Callable[[Store], Helpdesk] = default_desk) -> tuple[float, int]:
    """Run the desk's rules once on ``path``; return the seconds and how many fired."""
    store = SQLiteStore(path, timeout=30)
    desk = make(store)
    started = time.perf_counter()
    report = desk.run_rules()
    elapsed = time.perf_counter() - started
    store.close()
    if report.skipped:
        raise RuntimeError(f"the sweep skipped {len(report.skipped)} firings")
    return elapsed, len(report.fired)


# -- the SLA databases ------------------------------------------------------------------


def sla_rows(total: int, due: int) -> Iterator[tuple[list[Any], tuple[Any, ...]]]:
    """Yield ``(ticket row with its schedule, create event row)`` for ``T-1`` ... ``T-total``.

    The first ``due`` tickets were opened at ``START``, the others over 100
    minutes from :data:`LATE`.  Each distinct opening is a ticket opened
    through :func:`sla_desk` on a MemoryStore, so its row, its event and its
    schedule are exactly what the desk commits; only the id differs.
    """
    templates = {}
    for minutes in (None, *range(100)):
        at = START if minutes is None else LATE + timedelta(minutes=minutes)
        desk = sla_desk(MemoryStore(), at)
        ticket = desk.open(subject="Bulk", description="Bulk.", requester=ANA)
        (event,) = desk.store.history(ticket.id)
        planned = desk.store.schedule(ticket.id)
        if planned.rules != desk.rules_fingerprint:
            raise RuntimeError("the template was not scheduled by the SLA desk's rules")
        next_due = None if planned.next_due_at is None else time_in(planned.next_due_at)
        templates[minutes] = ([*ticket_row(ticket), next_due, planned.rules], event_row(event))
    where = COLUMNS.index("id")
    for number in range(total):
        row, event = templates[None if number < due else number % 100]
        ticket_id = f"T-{number + 1}"
        row = row.copy()
        row[where] = ticket_id
        yield row, (ticket_id, *event[1:])


def build_sla(path: Path, total: int, due: int) -> None:
    """Fill a database with the tickets and create events of :func:`sla_rows`."""
    rows = list(sla_rows(total, due))
    insert(path, (row for row, _ in rows), total, (event for _, event in rows))
    check_sla(path, total, due)


def check_sla(path: Path, total: int, due: int) -> None:
    """Read a few tickets back: their stored schedule is what the scheduler recomputes.

    The recomputation is from scratch (the ticket, its history, the ledger)
    at the instant of the ticket's last event, as its commit did; the due
    ones must be due at ``SWEEP_AT``, the others not.
    """
    with SQLiteStore(path) as store:
        desk = sla_desk(store)
        sweeper = desk._sweep  # private: the benchmark asks the scheduler directly
        for number in sorted({1, due, due + 1, due + 57, total}):
            ticket = store.get(f"T-{number}")
            stored = store.schedule(ticket.id)

            def fired(rule: str, episode: datetime, ticket_id: str = ticket.id) -> bool:
                return store.fired(rule, ticket_id, episode)

            again = sweeper.scheduler.schedule(sweeper.context(ticket, ticket.updated_at), fired)
            if stored != again:
                raise RuntimeError(f"{ticket.id} is stored as {stored}, recomputed as {again}")
            is_due = stored.next_due_at is not None and stored.next_due_at <= SWEEP_AT
            if is_due != (number <= due):
                raise RuntimeError(f"{ticket.id} is {'' if is_due else 'not '}due: {stored}")
        if store.count_due(SWEEP_AT) != due:
            raise RuntimeError(f"{store.count_due(SWEEP_AT)} tickets are due, not {due}")


# -- SQLite sweeps ----------------------------------------------------------------------


def settle() -> None:
    """Write out what earlier steps left in the page cache, so it is not written during a timing.

    A copied 1M database or a bulk load leaves hundreds of MB for the kernel
    to write back; timed meanwhile, a sweep (its own commits wait on the disk)
    measured up to a third slower than alone.
    """
    os.sync()


def time_sweeps(
    built: dict[str, Path], make: Callable[[Store], Helpdesk], due: int, repeats: int
) -> dict[str, float]:
    """Sweep fresh copies of each database in turn; return the median seconds of each."""
    samples: dict[str, list[float]] = {key: [] for key in built}
    for _ in range(repeats):
        for key, source in built.items():
            copy = source.with_name("sweep.sqlite3")
            shutil.copyfile(source, copy)
            settle()
            try:
                elapsed, count = sweep(copy, make)
            finally:
                for leftover in (copy, *copy.parent.glob("sweep.sqlite3-*")):
                    leftover.unlink(missing_ok=True)
            if count != due:
                raise RuntimeError(f"a sweep of {key} fired {count} times, not {due}")
            samples[key].append(elapsed)
    return {key: statistics.median(values) for key, values in samples.items()}


def measure_sqlite(scale: float, repeats: int) -> dict[str, float]:
    """The SQLite figures: default and SLA sweeps at both sizes, and firings a second."""
    due = round(10_000 * scale)
    small, large = round(100_000 * scale), round(1_000_000 * scale)
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="ticketflow-rules-") as name:
        folder = Path(name)
        plain = {"sweep_s_100k": folder / "100k.sqlite3", "sweep_s_1m": folder / "1m.sqlite3"}
        rules = Helpdesk().rules_fingerprint
        for key, total in zip(plain, (small, large), strict=True):
            build(plain[key], total, due, rules)
        figures.update(time_sweeps(plain, default_desk, due, repeats))
        for path in plain.values():
            path.unlink()
        sla = {"sla_sweep_s_100k": folder / "sla-100k.sqlite3"}
        sla["sla_sweep_s_1m"] = folder / "sla-1m.sqlite3"
        for key, total in zip(sla, (small, large), strict=True):
            build_sla(sla[key], total, due)
        figures.update(time_sweeps(sla, sla_desk, due, repeats))
    figures["fired"] = due
    figures["sweep_1m_over_100k"] = figures["sweep_s_1m"] / figures["sweep_s_100k"]
    figures["fires_per_s_sqlite"] = due / figures["sweep_s_100k"]
    figures["sla_sweep_1m_over_100k"] = figures["sla_sweep_s_1m"] / figures["sla_sweep_s_100k"]
    return figures


# -- PostgreSQL workers -----------------------------------------------------------------


def sweeper(dsn: str, tenant: str, start: Any, results: Any) -> None:
    """Sweep ``tenant`` once when ``start`` opens; put (started, ended, fired, skipped)."""
    try:
        store = PostgresStore(dsn, tenant=tenant)
        desk = default_desk(store)
        store.count_due(SWEEP_AT)  # warm: the pool's connection, the schema check
        start.wait(timeout=120)
        started = time.monotonic()  # one clock for every process of this host
        report = desk.run_rules()
        ended = time.monotonic()
        store.close()
        results.put((started, ended, len(report.fired), len(report.skipped)))
    except BaseException as error:
        start.abort()
        results.put(f"{type(error).__name__}: {error}")
        raise


def fires_per_second(dsn: str, tenant: str, processes: int, due: int) -> float:
    """Run ``processes`` sweepers at once on ``tenant``; return firings a second of wall time.

    Every due ticket must have fired exactly once: as many ledger rows and
    close events as due tickets, and none left due.
    """
    import psycopg  # noqa: PLC0415 - only the PostgreSQL figures need it

    outcomes = run_together(sweeper, [(dsn, tenant)] * processes, wait=600)
    failed = [outcome for outcome in outcomes if not isinstance(outcome, tuple)]
    if failed:
        raise RuntimeError(f"sweepers failed: {failed}")
    fired = sum(outcome[2] for outcome in outcomes)
    skipped = sum(outcome[3] for outcome in outcomes)
    with psycopg.connect(dsn) as connection:
        ledger, closes = (
            connection.execute(
                f"SELECT count(*) FROM {table} WHERE tenant = %s",  # noqa: S608 - our own names
                (tenant,),
            ).fetchone()
            or (0,)
            for table in ("ticketflow_ledger", "ticketflow_events")
        )
    with PostgresStore(dsn, tenant=tenant) as store:
        left = store.count_due(SWEEP_AT)
    if (fired, skipped, ledger[0], closes[0], left) != (due, 0, due, due, 0):
        raise RuntimeError(
            f"{processes} sweepers fired {fired} (skipped {skipped}); ledger rows {ledger[0]}, "
            f"events {closes[0]}, still due {left}; expected {due} firings, each once"
        )
    return fired / (max(outcome[1] for outcome in outcomes) - min(o[0] for o in outcomes))


def measure_postgres(scale: float, repeats: int) -> dict[str, float]:
    """The PostgreSQL figures: 1 and 4 sweepers on fresh copies of the same due tickets."""
    from bench_postgres import load, scratch_databases  # noqa: PLC0415 - needs psycopg

    due = round(10_000 * scale)
    rules = Helpdesk().rules_fingerprint
    samples: dict[int, list[float]] = {1: [], 4: []}
    with scratch_databases("sweep") as dsns:
        for round_ in range(repeats):
            for processes, values in samples.items():
                tenant = f"sweep-{processes}-{round_}"
                load(dsns["sweep"], tenant, 3 * due, due, rules)
                settle()
                values.append(fires_per_second(dsns["sweep"], tenant, processes, due))
    figures = {f"fires_per_s_pg_{n}": statistics.median(values) for n, values in samples.items()}
    figures["fires_pg_4_over_1"] = figures["fires_per_s_pg_4"] / figures["fires_per_s_pg_1"]
    return figures


# -- running ----------------------------------------------------------------------------


def measure(scale: float, repeats: int, *, only_postgres: bool = False) -> dict[str, float]:
    """Every figure, in the order of :data:`KEYS` (only PostgreSQL's: those it gave)."""
    figures = {} if only_postgres else measure_sqlite(scale, repeats)
    figures.update(measure_postgres(scale, repeats))
    return {key: figures[key] for key in KEYS if key in figures}


def goal_lines(figures: dict[str, float]) -> list[str]:
    """One line a goal: the figure, the bound, and met or not."""
    lines = []
    for figure, bound, limit in GOALS:
        if figure not in figures:
            continue
        value = figures[figure]
        met = value <= limit if bound == "at most" else value >= limit
        lines.append(f"  {figure} {bound} {limit:g}: {value:.2f} -> {'met' if met else 'NOT met'}")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Measure and print; return 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true", help="print one JSON object only")
    parser.add_argument("--quick", action="store_true", help="a smoke run at 1/100 of the sizes")
    parser.add_argument("--repeats", type=int, default=None, help="repeats (default 3, quick 1)")
    parser.add_argument(
        "--only-postgres", action="store_true", help="the PostgreSQL figures alone (fires_*_pg_*)"
    )
    args = parser.parse_args(argv)
    scale = 0.01 if args.quick else 1.0
    repeats = args.repeats or (1 if args.quick else 3)
    figures = measure(scale, repeats, only_postgres=args.only_postgres)
    if args.json:
        print(json.dumps({key: round(value, 4) for key, value in figures.items()}))
        return 0
    sizes = "" if scale == 1 else f" (sizes scaled by {scale:g}: a smoke test, not a figure)"
    print(
        "\n".join(
            [
                f"ticketflow {version('ticketflow')}, SQLite {sqlite3.sqlite_version}, "
                f"Python {platform.python_version()}{sizes}",
                f"median of {repeats} repeats; each sweep fired "
                f"{int(figures.get('fired', 10_000 * scale))} times",
                "",
                *(f"{key:<24} {value:>10.2f}" for key, value in figures.items()),
                "",
                "goals:",
                *goal_lines(figures),
            ]
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
