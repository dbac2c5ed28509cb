"""Benchmark: SQLiteStore commits against raw sqlite3, and the due query at scale.

Two measurements, in one run:

``desk_commit_us`` / ``raw_commit_us``
    Microseconds per command.  ``desk`` runs ``Helpdesk.note`` on a
    SQLiteStore: load the ticket, check, apply, and commit the changed columns
    and the event in one ``BEGIN IMMEDIATE`` transaction.  ``raw`` executes
    the same statements on the same schema in the same transaction shape
    (the ticket's SELECT, then BEGIN IMMEDIATE, the UPDATE guarded by the
    version, the event's INSERT, COMMIT), with every parameter computed
    beforehand: the physical limit of SQLite on this machine.
``due_query_ms_100k`` / ``due_query_ms_1m``
    Milliseconds for the query a rule sweep asks, ``TicketQuery(statuses=
    {"resolved"}, due=("resolved_at", cutoff))``, answered through
    ``SQLiteStore.query`` (tickets decoded), in a database of 100,000 and of
    1,000,000 tickets of which the same 10,000 are due.  The cost must follow
    the due tickets, not the total.

``--json`` prints one JSON object with those four keys; ``--quick`` runs at a
hundredth of the sizes (1k and 10k tickets, 100 due) for a smoke test.  The
script exits 0 whatever the figures: it measures, it does not judge.
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing
import platform
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

from ticketflow import Actor, Contact, Helpdesk, ManualClock, Workflow
from ticketflow.storage import SQLiteStore, Store, TicketQuery
from ticketflow.storage._codec import (
    COLUMNS,
    EVENT_COLUMNS,
    changed_columns,
    event_row,
    ticket_row,
    time_in,
)

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
AGENT = Actor.agent("a-1", department="it")
ANA = Contact(name="Ana Ozola", email="ana@example.com")
TICKETS = 20
"""How many tickets the commit benchmark spreads its notes over."""

GOALS = (
    ("desk_commit_us", "raw_commit_us", 2.0),
    ("due_query_ms_1m", "due_query_ms_100k", 1.5),
)
"""``(figure, reference, most)``: the goal is ``figure / reference <= most``."""


# -- commits -----------------------------------------------------------------


def _desk(folder: Path) -> tuple[Helpdesk, list[str], ManualClock]:
    clock = ManualClock(START)
    desk = Helpdesk(store=SQLiteStore(folder / "desk.sqlite3"), clock=clock)
    ids = [
        desk.open(subject=f"VPN {n}", description="It drops.", requester=ANA).id
        for n in range(TICKETS)
    ]
    return desk, ids, clock


def time_desk(folder: Path, commands: int) -> float:
    """Return microseconds per ``Helpdesk.note`` on a SQLiteStore."""
    desk, ids, clock = _desk(folder)
    step = timedelta(seconds=1)
    gc.collect()
    gc.disable()
    started = time.perf_counter()
    for number in range(commands):
        clock.advance(step)
        desk.note(ids[number % TICKETS], AGENT, "Checked the logs again.")
    elapsed = time.perf_counter() - started
    gc.enable()
    desk.store.close()  # type: ignore[attr-defined]
    return elapsed / commands * 1e6


def _raw_plan(folder: Path, commands: int) -> tuple[sqlite3.Connection, list[tuple[Any, ...]]]:
    """Open a database of the same schema and compute every statement's parameters."""
    path = folder / "raw.sqlite3"
    store = SQLiteStore(path)
    workflow = Workflow.default()
    tickets = {}
    for number in range(TICKETS):
        ticket, event = workflow.create(
            store.new_id(), Actor.customer(ANA.id), START, subject=f"VPN {number}",
            description="It drops.", requester=ANA,
        )  # fmt: skip
        store.create(ticket, event)
        tickets[ticket.id] = ticket
    store.close()
    plan = []
    ids = list(tickets)
    at = START
    for number in range(commands):
        at += timedelta(seconds=1)
        ticket = tickets[ids[number % TICKETS]]
        new, event = workflow.apply(ticket, "note", AGENT, at, body="Checked the logs again.")
        columns = changed_columns(event.changes)
        columns["version"] = new.version
        update = (
            f"UPDATE tickets SET {', '.join(f'{name} = ?' for name in columns)} "  # noqa: S608
            "WHERE id = ? AND version = ?"
        )
        plan.append((ticket.id, update, (*columns.values(), ticket.id, ticket.version),
                     event_row(event)))  # fmt: skip
        tickets[ticket.id] = new
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA foreign_keys = ON")
    connection.execute("PRAGMA synchronous = NORMAL")
    return connection, plan


def time_raw(folder: Path, commands: int) -> float:
    """Return microseconds per command of the same statements, precomputed, in raw sqlite3."""
    connection, plan = _raw_plan(folder, commands)
    select = f"SELECT {', '.join(COLUMNS)} FROM tickets WHERE id = ?"  # noqa: S608
    insert = (
        "INSERT INTO events (ticket_id, seq, at, actor, name, from_status, to_status, body, "
        "changes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    execute = connection.execute
    gc.collect()
    gc.disable()
    started = time.perf_counter()
    for ticket_id, update, parameters, event in plan:
        execute(select, (ticket_id,)).fetchone()
        execute("BEGIN IMMEDIATE")
        if execute(update, parameters).rowcount != 1:
            raise RuntimeError("the raw plan lost its versions")
        execute(insert, event)
        execute("COMMIT")
    elapsed = time.perf_counter() - started
    gc.enable()
    connection.close()
    return elapsed / len(plan) * 1e6


# -- processes started together ------------------------------------------------------


def run_together(
    target: Callable[..., None], arguments: Sequence[tuple[Any, ...]], wait: float
) -> list[Any]:
    """Run ``target(*args, start, results)`` in a spawned process per ``args``; what each put.

    The processes start, wait at the barrier ``start`` until all are ready,
    and each puts one outcome on the queue ``results``; they are waited for
    ``wait`` seconds each, and any left running is terminated.  Spawned: no
    pool threads or sockets are inherited.
    """
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(len(arguments) + 1)
    results = context.Queue()
    workers = [context.Process(target=target, args=(*args, start, results)) for args in arguments]
    for worker in workers:
        worker.start()
    try:
        start.wait(timeout=120)
        outcomes = [results.get(timeout=wait) for _ in workers]
        for worker in workers:
            worker.join(timeout=30)
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
                worker.join()
    return outcomes


# -- the due query at scale ---------------------------------------------------


CUTOFF = START + timedelta(days=30)
"""The due query's cutoff: the due tickets were resolved before it, the others after."""


def bulk_rows(total: int, due: int) -> Iterator[list[Any]]:
    """Yield ``total`` ticket rows in :data:`COLUMNS` order, ``due`` of them resolved long ago.

    The others are resolved recently, closed, or still open, so that the
    indexes hold many entries besides the due ones.  Each is one ticket
    ``T-1`` ... ``T-total`` as the codec writes it, which a store can read.
    """
    template, _ = Workflow.default().create(
        "T-0", Actor.customer(ANA.id), START, subject="Bulk", description="Bulk.",
        requester=ANA,
    )  # fmt: skip
    base = list(ticket_row(template))
    position = {name: index for index, name in enumerate(COLUMNS)}
    long_ago, recently = time_in(START + timedelta(days=1)), time_in(START + timedelta(days=60))
    for number in range(total):
        row = base.copy()
        row[position["id"]] = f"T-{number + 1}"
        kind = number % 3 if number >= due else -1
        if kind in (-1, 0):  # resolved: long ago (due) or recently (not due)
            row[position["status"]] = "resolved"
            row[position["resolved_at"]] = long_ago if kind == -1 else recently
        elif kind == 1:
            row[position["status"]] = "closed"
            row[position["resolved_at"]] = row[position["closed_at"]] = long_ago
        else:
            row[position["status"]] = "open"
        yield row


_WEEK = 7 * 24 * 3600 * 1_000_000
"""The default ``auto_close`` period, in the codec's microseconds."""
_AT = {name: index for index, name in enumerate(COLUMNS)}


def scheduled(row: list[Any], rules: str | None) -> list[Any]:
    """``row`` with the schedule the default rules give it: a resolved ticket is due a week on."""
    resolved = row[_AT["resolved_at"]]
    due_at = resolved + _WEEK if row[_AT["status"]] == "resolved" else None
    return [*row, due_at if rules is not None else None, rules]


def build(path: Path, total: int, due: int, rules: str | None = None) -> datetime:
    """Fill a database with the tickets of :func:`bulk_rows`; return the cutoff.

    Given ``rules`` (the fingerprint of the default rules), each ticket is
    stored with the schedule those rules give it.
    """
    insert(path, (scheduled(row, rules) for row in bulk_rows(total, due)), total)
    return CUTOFF


def insert(
    path: Path, tickets: Iterable[Sequence[Any]], total: int, events: Iterable[Sequence[Any]] = ()
) -> None:
    """Make the store's schema at ``path`` and insert rows in one transaction, then ANALYZE.

    ``tickets`` are rows in :data:`COLUMNS` order followed by ``next_due_at``
    and ``schedule``; ``events`` rows in ``EVENT_COLUMNS`` order.  ``total``
    is the number of tickets, for the id counter.
    """
    SQLiteStore(path).close()  # the schema and its indexes
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("BEGIN")
    connection.executemany(
        f"INSERT INTO tickets ({', '.join(COLUMNS)}, next_due_at, schedule) "  # noqa: S608
        f"VALUES ({', '.join('?' * (len(COLUMNS) + 2))})",
        tickets,
    )
    connection.executemany(
        f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) "  # noqa: S608
        f"VALUES ({', '.join('?' * len(EVENT_COLUMNS))})",
        events,
    )
    connection.execute("UPDATE counters SET value = ? WHERE name = 'ticket'", (total,))
    connection.execute("COMMIT")
    connection.execute("ANALYZE")
    connection.close()


def time_due_once(store: Store, query: TicketQuery, due: int) -> float:
    """Return the milliseconds of one due query, checking it finds ``due`` tickets."""
    gc.collect()
    gc.disable()
    try:
        started = time.perf_counter()
        found = store.query(query)
        elapsed = (time.perf_counter() - started) * 1e3
    finally:
        gc.enable()
    if len(found) != due:
        raise RuntimeError(f"the due query found {len(found)} tickets, not {due}")
    return elapsed


def time_due(paths: dict[str, Path], cutoff: datetime, due: int, repeats: int) -> dict[str, float]:
    """Return, per database, the median milliseconds of the due query.

    The databases take turns, query by query, so a slow spell of a shared
    machine falls on both alike.
    """
    query = TicketQuery(statuses={"resolved"}, due=("resolved_at", cutoff))
    stores = {key: SQLiteStore(path) for key, path in paths.items()}
    samples: dict[str, list[float]] = {key: [] for key in paths}
    for _ in range(repeats):
        for key, store in stores.items():
            samples[key].append(time_due_once(store, query, due))
    for store in stores.values():
        store.close()
    return {key: statistics.median(values) for key, values in samples.items()}


# -- running -------------------------------------------------------------------


def measure(scale: float, repeats: int) -> dict[str, float]:
    """Take every figure at ``scale`` times the nominal sizes."""
    commands = max(200, round(5000 * scale**0.5))
    small, large, due = round(100_000 * scale), round(1_000_000 * scale), round(10_000 * scale)
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="ticketflow-bench-") as name:
        folder = Path(name)
        desk_samples, raw_samples = [], []
        for round_ in range(repeats):
            inner = folder / f"round-{round_}"
            inner.mkdir()
            desk_samples.append(time_desk(inner, commands))
            raw_samples.append(time_raw(inner, commands))
        figures["desk_commit_us"] = statistics.median(desk_samples)
        figures["raw_commit_us"] = statistics.median(raw_samples)
        paths = {"due_query_ms_100k": folder / "due-small.sqlite3"}
        paths["due_query_ms_1m"] = folder / "due-large.sqlite3"
        cutoff = build(paths["due_query_ms_100k"], small, due)
        build(paths["due_query_ms_1m"], large, due)
        figures.update(time_due(paths, cutoff, due, repeats=max(5, 3 * repeats)))
    return figures


def report(figures: dict[str, float], scale: float, repeats: int) -> str:
    """Return the readable table and the goals."""
    sizes = "" if scale == 1 else f" (sizes scaled by {scale:g}: a smoke test, not a figure)"
    lines = [
        f"ticketflow {version('ticketflow')}, SQLite {sqlite3.sqlite_version}, "
        f"Python {platform.python_version()}{sizes}",
        f"median of {repeats} repeats",
        "",
        *(f"{name:<20} {value:>10.2f}" for name, value in figures.items()),
        "",
        "goals:",
    ]
    for figure, reference, most in GOALS:
        ratio = figures[figure] / figures[reference]
        verdict = "met" if ratio <= most else "NOT met"
        lines.append(f"  {figure} <= {most:g} x {reference}: ratio {ratio:.2f} -> {verdict}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Measure and print; return 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true", help="print one JSON object only")
    parser.add_argument("--quick", action="store_true", help="a smoke run at 1/100 of the sizes")
    parser.add_argument("--repeats", type=int, default=None, help="repeats (default 5, quick 1)")
    args = parser.parse_args(argv)
    scale = 0.01 if args.quick else 1.0
    repeats = args.repeats or (1 if args.quick else 5)
    figures = measure(scale, repeats)
    if args.json:
        print(json.dumps({name: round(value, 3) for name, value in figures.items()}))
    else:
        print(report(figures, scale, repeats))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
