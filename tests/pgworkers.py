"""Worker processes for the proofs on shared stores (tests/storage/test_postgres_proofs.py,
tests/rules/test_sweep_workers.py).

Run as a script, one process each::

    python pgworkers.py write DSN TENANT ACKS SECONDS SEED WRITER T-1,T-2,...
    python pgworkers.py migrate DSN START
    python pgworkers.py sweep DB TENANT ACKS NOW BATCH

``write`` fires random legal commands at the given tickets for ``SECONDS``
(``0``: until killed) and appends one line to the file ``ACKS`` for each
command that returned normally, flushed and fsynced before the next command,
so a line in the file means the command was acknowledged.  Every command
carries a unique token in its body, by which the history shows it.  About
one command in four commits through the store directly with a ledger entry
named by its token, as a rule's firing does, so the ledger can be checked
against the history too.  It prints ``ready`` once its store answers.

``migrate`` sleeps until the instant ``START`` (seconds since the epoch), so
that several processes migrate at once, then prints what ``migrate()``
returns.

``sweep`` runs ``Helpdesk.run_rules(batch=BATCH)`` with the clock stopped at
the ISO instant ``NOW``, on a SQLite file or (given a ``postgresql://`` DSN)
the tenant's tickets, again and again until no ticket is due.  It prints
``ready`` once its store answers and waits for a line on its standard input
before its first sweep, so that every worker starts at once.  A hook notes
each firing, and after each batch (once its transaction has committed and
its hooks have run) the batch's firings are appended to ``ACKS``, one line
``id event`` each: a line there means the firing was kept.  Anything a sweep
skips is printed on standard error.
"""

from __future__ import annotations

import os
import random
import sys
import time
from datetime import UTC, datetime

from ticketflow import (
    Actor,
    ConcurrencyConflict,
    Helpdesk,
    HistoryEvent,
    IllegalTransition,
    ManualClock,
    PermissionDenied,
    Ticket,
    Workflow,
)
from ticketflow.storage import LedgerEntry, PostgresStore, SQLiteStore

EVENTS = (
    "note",
    "assign",
    "set_priority",
    "agent_reply",
    "resolve",
    "close",
    "reopen",
    "mark_spam",
    "delete",
    "restore",
)
"""The events a writer fires: notes, assignments, and status changes both ways (never purge)."""

LEDGER_PREFIX = "L"
"""Tokens of commands committed with a ledger entry begin with it."""


def write(
    dsn: str, tenant: str, acks: str, *, seconds: float, seed: int, writer: str, ids: str
) -> None:
    """Fire commands until the time is up; log each acknowledged one as ``id version token``."""
    rng = random.Random(seed)  # noqa: S311 - which command to fire, not a secret
    tickets = ids.split(",")
    admin = Actor.admin(f"w-{writer}")
    with PostgresStore(dsn, tenant=tenant, max_connections=1) as store:
        desk = Helpdesk(store=store, rules=())
        workflow = Workflow.default()
        store.get(tickets[0])
        print("ready", flush=True)
        log = os.open(acks, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        end = time.monotonic() + seconds if seconds else float("inf")
        count = 0
        while time.monotonic() < end:
            count += 1
            ticket_id = rng.choice(tickets)
            ledger = rng.random() < 0.25
            token = f"{LEDGER_PREFIX if ledger else 'C'}{writer}.{count}"
            # A conflict wrote nothing: fire the same token again, so that a
            # conflict that wrote after all would show as a duplicate.
            while True:
                try:
                    if ledger:
                        version = _commit_with_ledger(store, workflow, ticket_id, admin, token)
                    else:
                        version = _fire(desk, rng, ticket_id, admin, token)
                except ConcurrencyConflict:
                    continue
                except (IllegalTransition, PermissionDenied):
                    version = None  # the ticket moved to a status that does not allow it
                break
            if version is not None:
                os.write(log, f"{ticket_id} {version} {token}\n".encode())
                os.fsync(log)
        os.close(log)


def _fire(
    desk: Helpdesk, rng: random.Random, ticket_id: str, actor: Actor, token: str
) -> int | None:
    """Fire one of :data:`EVENTS` that the ticket allows now; None if it allows none."""
    allowed = set(desk.allowed_events(ticket_id, actor)) & set(EVENTS)
    if not allowed:
        return None
    event = rng.choice(sorted(allowed))
    payload: dict[str, object] = {}
    if event == "assign":
        payload["to"] = rng.choice(["a-1", "a-2", None])
    elif event == "set_priority":
        payload["priority"] = rng.choice(["low", "normal", "high", "urgent"])
    return desk.fire(ticket_id, event, actor, body=token, **payload).version


def _commit_with_ledger(
    store: PostgresStore, workflow: Workflow, ticket_id: str, actor: Actor, token: str
) -> int:
    """Commit a note with a ledger entry named by its token, as a rule's firing commits."""
    ticket = store.get(ticket_id)
    at = max(datetime.now(UTC), ticket.updated_at)
    new, event = workflow.apply(ticket, "note", actor, at, body=token)
    store.commit(new, event, ticket.version, [LedgerEntry(token, at, at)])
    return new.version


def migrate(dsn: str, start: float) -> None:
    """Migrate the database at the instant ``start``, as other processes do at the same one."""
    store = PostgresStore(dsn)
    time.sleep(max(0.0, start - time.time()))
    print(store.migrate(), flush=True)
    store.close()


def sweep(db: str, tenant: str, acks: str, *, now: datetime, batch: int) -> None:
    """Sweep at ``now`` until nothing is due, logging each batch's firings once they are kept."""
    store: SQLiteStore | PostgresStore = (
        PostgresStore(db, tenant=tenant, max_connections=1)
        if db.startswith("postgresql://")
        # Three others queue for the write lock too: a batch may wait for theirs.
        else SQLiteStore(db, timeout=120)
    )
    kept: list[str] = []

    def note(ticket: Ticket, event: HistoryEvent) -> None:
        kept.append(f"{ticket.id} {event.name}\n")

    log = os.open(acks, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def flush(_what: str = "", _done: int = 0, _total: int = 0) -> None:
        if kept:
            os.write(log, "".join(kept).encode())
            kept.clear()

    desk = Helpdesk(store=store, clock=ManualClock(now), hooks=[note])
    store.count_due(now)
    print("ready", flush=True)
    sys.stdin.readline()
    while True:
        report = desk.run_rules(batch=batch, progress=flush)
        flush()
        for skip in report.skipped:
            print(f"skipped {skip.rule} on {skip.ticket_id}: {skip.reason}", file=sys.stderr)
        # Tickets another worker holds (or held when it was killed, its batch
        # rolled back) are due still: sweep again until none is.
        if store.count_due(now) == 0:
            break
        if not report.fired:
            time.sleep(0.02)
    os.close(log)
    store.close()


if __name__ == "__main__":
    command, *arguments = sys.argv[1:]
    if command == "write":
        dsn, tenant, acks, seconds, seed, writer, ids = arguments
        write(dsn, tenant, acks, seconds=float(seconds), seed=int(seed), writer=writer, ids=ids)
    elif command == "migrate":
        dsn, start = arguments
        migrate(dsn, float(start))
    elif command == "sweep":
        db, tenant, acks, now, batch = arguments
        sweep(db, tenant, acks, now=datetime.fromisoformat(now), batch=int(batch))
    else:
        sys.exit(f"unknown command {command!r}")
