"""Benchmark: PostgresStore against plain psycopg and pgbench, and the due query at scale.

Every figure comes from one run on one server (``SERVER``), in scratch
databases ``tf_bench_<hex>_<purpose>`` made for the run and dropped at its
end, also on an error or Ctrl-C:

``desk_commit_us`` / ``raw_commit_us``
    Microseconds per command.  ``desk`` runs ``Helpdesk.note`` on a
    PostgresStore (its own pool, autocommit): read the ticket, check, apply,
    and commit it with its event in one statement.  ``raw`` sends the very
    statements the store sent for the same notes (recorded from the store,
    parameters and all, inside a transaction rolled back afterwards) through
    one plain psycopg connection in autocommit: one round trip a command,
    what the server and the driver cost.  ``desk_over_raw`` is their ratio.
``commits_per_s_1`` / ``commits_per_s_8``
    Notes acknowledged per second by 1 and by 8 writer processes, each with
    its own store and its own tickets, over a fixed window.
``pgbench_tps_8``
    ``pgbench -N -c 8 -j 2`` on the same server over the same window: the
    server's own ceiling for small write transactions.
    ``commits_8_over_pgbench`` is ``commits_per_s_8`` over it.
``due_query_ms_100k`` / ``due_query_ms_1m``
    Milliseconds of the sweep's question, ``TicketQuery(statuses={"resolved"},
    due=("resolved_at", cutoff))``, through ``PostgresStore.query`` (tickets
    decoded), on tables of 100,000 and 1,000,000 tickets of which the same
    10,000 are due, loaded with ``COPY`` from the rows ``bench_storage.py``
    builds.  ``due_1m_over_100k`` is their ratio.

``--json`` prints one JSON object with those keys; ``--quick`` runs at small
sizes and short windows for a smoke test.  The script exits 0 whatever the
figures: it measures, it does not judge.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import re
import statistics
import subprocess
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from importlib.metadata import version
from typing import Any

import psycopg
from bench_storage import (
    AGENT,
    ANA,
    CUTOFF,
    START,
    bulk_rows,
    run_together,
    scheduled,
    time_due_once,
)

from ticketflow import Helpdesk, ManualClock
from ticketflow.storage import PostgresStore, TicketQuery
from ticketflow.storage._codec import COLUMNS, ticket_from_row
from ticketflow.storage._postgres import _escape

SERVER = "postgresql://postgres@127.0.0.1:5432"
"""The server, without a database; ``/test`` is only used to make and drop the scratch ones."""
PGBENCH = "/usr/lib/postgresql/15/bin/pgbench"
TICKETS = 20
"""How many tickets the commit benchmark spreads its notes over."""
NOTE = "Checked the logs again."

GOALS = (
    ("desk_commit_us", "raw_commit_us", "at most", 1.3),
    ("commits_per_s_8", "pgbench_tps_8", "at least", 0.6),
    ("due_query_ms_1m", "due_query_ms_100k", "at most", 1.5),
)
"""``(figure, reference, bound, limit)``: the goal is ``figure / reference`` within ``limit``."""


# -- scratch databases -----------------------------------------------------------


@contextmanager
def scratch_databases(*purposes: str) -> Iterator[dict[str, str]]:
    """Make ``tf_bench_<hex>_<purpose>`` for each purpose; yield their DSNs; drop them all."""
    suffix = uuid.uuid4().hex[:12]
    names = {purpose: f"tf_bench_{suffix}_{purpose}" for purpose in purposes}
    made: list[str] = []
    try:
        with psycopg.connect(f"{SERVER}/test", autocommit=True) as admin:
            for name in names.values():
                admin.execute(f'CREATE DATABASE "{name}"')
                made.append(name)
        yield {purpose: f"{SERVER}/{name}" for purpose, name in names.items()}
    finally:
        with psycopg.connect(f"{SERVER}/test", autocommit=True) as admin:
            for name in made:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# -- one command, desk and raw ------------------------------------------------------


def _desk(dsn: str, tenant: str, tickets: int) -> tuple[Helpdesk, list[str], ManualClock]:
    clock = ManualClock(START)
    desk = Helpdesk(store=PostgresStore(dsn, tenant=tenant), clock=clock)
    ids = [
        desk.open(subject=f"VPN {n}", description="It drops.", requester=ANA).id
        for n in range(tickets)
    ]
    return desk, ids, clock


def _notes(desk: Helpdesk, ids: Sequence[str], clock: ManualClock, commands: int) -> None:
    step = timedelta(seconds=1)
    for number in range(commands):
        clock.advance(step)
        desk.note(ids[number % len(ids)], AGENT, NOTE)


def time_desk(dsn: str, tenant: str, commands: int, warmup: int) -> float:
    """Return microseconds per ``Helpdesk.note`` on a PostgresStore, after ``warmup`` notes."""
    desk, ids, clock = _desk(dsn, tenant, TICKETS)
    _notes(desk, ids, clock, warmup)
    gc.collect()
    gc.disable()
    started = time.perf_counter()
    _notes(desk, ids, clock, commands)
    elapsed = time.perf_counter() - started
    gc.enable()
    desk.store.close()  # type: ignore[attr-defined]
    return elapsed / commands * 1e6


class RecordingConnection(psycopg.Connection[Any]):
    """A psycopg connection that keeps every statement and parameters it executes."""

    recorded: list[tuple[Any, Any]]

    def execute(self, query: Any, params: Any = None, **options: Any) -> Any:
        self.__dict__.setdefault("recorded", []).append((query, params))
        return super().execute(query, params, **options)


def raw_plan(dsn: str, tenant: str, commands: int) -> list[tuple[Any, Any]]:
    """Return the commit statements the store sends for ``commands`` notes, with their parameters.

    The notes run on fresh tickets through the store bound to a recording
    connection (:meth:`PostgresStore.using`), in a transaction rolled back
    afterwards: the tickets stay as they were, ready for the raw path to
    make the same commits again.  The reads and the tenant settings are left
    out; what remains is exactly one commit statement a note.
    """
    desk, ids, clock = _desk(dsn, tenant, TICKETS)
    store: PostgresStore = desk.store  # type: ignore[assignment]
    with RecordingConnection.connect(dsn) as connection:
        with store.using(connection):
            connection.recorded = []
            _notes(desk, ids, clock, commands)
        connection.rollback()
    store.close()
    plan = [
        (query, params)
        for query, params in connection.recorded
        if not (isinstance(query, str) and query.lstrip().upper().startswith("SELECT"))
    ]
    if len(plan) != commands:
        raise RuntimeError(f"recorded {len(plan)} commit statements for {commands} notes")
    return plan


def time_raw(dsn: str, tenant: str, commands: int, warmup: int) -> float:
    """Return microseconds per commit statement, sent through one plain psycopg connection."""
    plan = raw_plan(dsn, tenant, warmup + commands)
    with psycopg.connect(dsn, autocommit=True) as connection:
        # As the store's pool does once per connection (the owner bypasses the policies anyway).
        connection.execute("SELECT set_config('ticketflow.tenant', %s, false)", (tenant,))
        execute = connection.execute
        for query, params in plan[:warmup]:
            execute(query, params).fetchone()
        gc.collect()
        gc.disable()
        started = time.perf_counter()
        for query, params in plan[warmup:]:
            row = execute(query, params).fetchone()
            if row is None or row[0] != 1:
                raise RuntimeError("a raw commit wrote nothing: the plan lost its versions")
        elapsed = time.perf_counter() - started
        gc.enable()
    return elapsed / commands * 1e6


# -- throughput: writer processes, and pgbench --------------------------------------


def writer(dsn: str, tenant: str, seconds: float, start: Any, results: Any) -> None:
    """Fire notes on this process's own tickets for ``seconds``; put how many were acknowledged."""
    try:
        desk, ids, clock = _desk(dsn, tenant, 4)
        _notes(desk, ids, clock, 50)  # warm: connection, prepared statements
        start.wait(timeout=120)
        step, done = timedelta(seconds=1), 0
        end = time.monotonic() + seconds
        while True:
            clock.advance(step)
            desk.note(ids[done % len(ids)], AGENT, NOTE)
            if time.monotonic() > end:
                break
            done += 1
        desk.store.close()  # type: ignore[attr-defined]
        results.put(done)
    except BaseException as error:
        start.abort()
        results.put(f"{type(error).__name__}: {error}")
        raise


def commits_per_second(dsn: str, processes: int, seconds: float) -> float:
    """Return the notes acknowledged per second by ``processes`` writers, each its own store."""
    arguments = [(dsn, f"writer-{processes}-{n}", seconds) for n in range(processes)]
    counts = run_together(writer, arguments, wait=seconds + 60)
    failed = [count for count in counts if not isinstance(count, int)]
    if failed:
        raise RuntimeError(f"writers failed: {failed}")
    return sum(counts) / seconds


def pgbench_tps(dsn: str, clients: int, seconds: float) -> float:
    """Initialise pgbench's tables in ``dsn``'s database and return the tps of ``-N``."""
    database = dsn.rsplit("/", 1)[1]
    base = [PGBENCH, "-h", "127.0.0.1", "-p", "5432", "-U", "postgres"]
    subprocess.run([*base, "-i", "-q", database], check=True, capture_output=True)  # noqa: S603
    ran = subprocess.run(  # noqa: S603 - our own arguments
        [*base, "-N", "-c", str(clients), "-j", "2", "-T", str(round(seconds)), database],
        check=True,
        capture_output=True,
        text=True,
    )
    found = re.search(r"^tps = ([0-9.]+)", ran.stdout, re.MULTILINE)
    if found is None:
        raise RuntimeError(f"no tps line in pgbench's output:\n{ran.stdout}{ran.stderr}")
    return float(found[1])


# -- the due query at scale ---------------------------------------------------------


def _copy_field(value: Any) -> str:
    r"""One field of COPY's text format: ``\N`` for NULL, backslash escapes for the rest."""
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return (
            value.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return str(value)


def _array(values: Sequence[str]) -> str:
    """A ``text[]`` literal."""
    quoted = (value.replace("\\", "\\\\").replace('"', '\\"') for value in values)
    return "{" + ",".join(f'"{value}"' for value in quoted) + "}"


def load(dsn: str, tenant: str, total: int, due: int, rules: str | None = None) -> None:
    """Migrate ``dsn`` and COPY in the tickets of ``bulk_rows(total, due)`` for ``tenant``.

    Rows are the store's own format: the codec's columns escaped as the store
    escapes them, the tenant first, then the tag array and the schedule the
    default rules give each ticket (given ``rules``, their fingerprint; else
    none).  A few are read back through the store and must equal what the
    codec makes of their row.
    """
    with PostgresStore(dsn, tenant=tenant) as store:
        store.migrate()
    tags = COLUMNS.index("tags")
    columns = ", ".join(("tenant", *COLUMNS, "tag_list", "next_due_at", "schedule"))
    samples = {1, due, due + 1, due + 2, due + 3, total}
    kept: dict[str, list[Any]] = {}
    with psycopg.connect(dsn) as connection:
        with (
            connection.cursor() as cursor,
            cursor.copy(f"COPY ticketflow_tickets ({columns}) FROM STDIN") as copy,
        ):
            chunk: list[str] = []
            for number, row in enumerate(bulk_rows(total, due), start=1):
                if number in samples:
                    kept[row[0]] = row
                fields = [tenant, *(_escape(value) for value in row)]
                fields.append(_array(json.loads(row[tags])))
                fields += scheduled(row, rules)[len(COLUMNS) :]
                chunk.append("\t".join(map(_copy_field, fields)))
                if len(chunk) == 10_000:
                    copy.write("\n".join(chunk) + "\n")
                    chunk = []
            if chunk:
                copy.write("\n".join(chunk) + "\n")
        connection.execute(
            "INSERT INTO ticketflow_counters (tenant, name, value) VALUES (%s, 'ticket', %s)",
            (tenant, total),
        )
        connection.commit()
        connection.autocommit = True
        connection.execute("VACUUM ANALYZE ticketflow_tickets")
    with PostgresStore(dsn, tenant=tenant) as store:
        for ticket_id, row in kept.items():
            if store.get(ticket_id) != ticket_from_row(tuple(row)):
                raise RuntimeError(f"{ticket_id} does not read back as the row it was loaded from")
        if len(store) != total:
            raise RuntimeError(f"the store counts {len(store)} tickets, not {total}")


def time_due(dsns: dict[str, str], tenant: str, due: int, repeats: int) -> dict[str, float]:
    """Return, per database, the median milliseconds of the due query, the two taking turns."""
    query = TicketQuery(statuses={"resolved"}, due=("resolved_at", CUTOFF))
    stores = {key: PostgresStore(dsn, tenant=tenant) for key, dsn in dsns.items()}
    samples: dict[str, list[float]] = {key: [] for key in dsns}
    try:
        for store in stores.values():
            time_due_once(store, query, due)  # warm: connection, caches
        for _ in range(repeats):
            for key, store in stores.items():
                samples[key].append(time_due_once(store, query, due))
    finally:
        for store in stores.values():
            store.close()
    return {key: statistics.median(values) for key, values in samples.items()}


# -- running ------------------------------------------------------------------------


def measure(*, quick: bool, repeats: int) -> dict[str, float]:
    """Take every figure, in scratch databases dropped at the end."""
    commands, warmup = (200, 50) if quick else (2000, 200)
    seconds = 1.0 if quick else 5.0
    scale = 0.01 if quick else 1.0
    small, large, due = round(100_000 * scale), round(1_000_000 * scale), round(10_000 * scale)
    figures: dict[str, float] = {}
    with scratch_databases("commits", "100k", "1m", "pgbench") as dsns:
        with PostgresStore(dsns["commits"]) as store:
            store.migrate()
        desk_samples, raw_samples = [], []
        for round_ in range(repeats):
            desk_samples.append(time_desk(dsns["commits"], f"desk-{round_}", commands, warmup))
            raw_samples.append(time_raw(dsns["commits"], f"raw-{round_}", commands, warmup))
        figures["desk_commit_us"] = statistics.median(desk_samples)
        figures["raw_commit_us"] = statistics.median(raw_samples)
        figures["desk_over_raw"] = figures["desk_commit_us"] / figures["raw_commit_us"]
        figures["commits_per_s_1"] = commits_per_second(dsns["commits"], 1, seconds)
        figures["commits_per_s_8"] = commits_per_second(dsns["commits"], 8, seconds)
        figures["pgbench_tps_8"] = pgbench_tps(dsns["pgbench"], 8, seconds)
        figures["commits_8_over_pgbench"] = figures["commits_per_s_8"] / figures["pgbench_tps_8"]
        load(dsns["100k"], "bulk", small, due)
        load(dsns["1m"], "bulk", large, due)
        figures.update(
            time_due(
                {"due_query_ms_100k": dsns["100k"], "due_query_ms_1m": dsns["1m"]},
                "bulk",
                due,
                repeats=max(5, 3 * repeats),
            )
        )
        figures["due_1m_over_100k"] = figures["due_query_ms_1m"] / figures["due_query_ms_100k"]
    return figures


def report(figures: dict[str, float], *, quick: bool, repeats: int) -> str:
    """Return the readable table and the goals."""
    sizes = " (quick: small sizes, a smoke test, not a figure)" if quick else ""
    with psycopg.connect(f"{SERVER}/test") as connection:
        server = connection.info.parameter_status("server_version") or "?"
    lines = [
        f"ticketflow {version('ticketflow')}, PostgreSQL {server}, psycopg {psycopg.__version__} "
        f"({psycopg.pq.__impl__}), Python {platform.python_version()}{sizes}",
        f"commit figures: median of {repeats} rounds",
        "",
        *(f"{name:<24} {value:>12.2f}" for name, value in figures.items()),
        "",
        "goals:",
    ]
    for figure, reference, bound, limit in GOALS:
        ratio = figures[figure] / figures[reference]
        met = ratio <= limit if bound == "at most" else ratio >= limit
        lines.append(
            f"  {figure} {bound} {limit:g} x {reference}: ratio {ratio:.2f} -> "
            f"{'met' if met else 'NOT met'}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Measure and print; return 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true", help="print one JSON object only")
    parser.add_argument("--quick", action="store_true", help="a smoke run at small sizes")
    parser.add_argument("--repeats", type=int, default=None, help="rounds (default 5, quick 1)")
    args = parser.parse_args(argv)
    repeats = args.repeats or (1 if args.quick else 5)
    figures = measure(quick=args.quick, repeats=repeats)
    if args.json:
        print(json.dumps({name: round(value, 3) for name, value in figures.items()}))
    else:
        print(report(figures, quick=args.quick, repeats=repeats))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
