"""A process that commits tickets and delivers their outbox records until it is killed.

Run as a script, ``python outbox_child.py``, it reads lines ``DB TENANT
DELIVERED SEED`` on its standard input and forks a process for each (so
that ticketflow is imported once, not once a process: on a loaded machine a
start costs seconds).  Each works on a SQLite file or (given a
``postgresql://`` DSN) the tenant's tickets of a PostgreSQL database, prints
``ready PID`` once its store answers (``failed PID ERROR`` if it cannot),
then, again and again: opens a ticket, notes it, replies to it, and drains the outbox
(consumer ``proof``, a random batch) to a handler that appends the record's
id to the file ``DELIVERED``, one line each, written before the handler
returns: a line there means the record was handed over.  A kill can come at
any moment: between a commit and the drain that delivers it, inside a drain
before its cursor moves, or after.
"""

from __future__ import annotations

import os
import random
import signal
import sys

from ticketflow import Actor, Contact, Helpdesk, OutboxRecord
from ticketflow.storage import PostgresStore, SQLiteStore, Store


def run(database: str, tenant: str, delivered: str, seed: int) -> None:
    store: Store = (
        PostgresStore(database, tenant=tenant, max_connections=2)
        if database.startswith("postgresql://")
        else SQLiteStore(database)
    )
    desk = Helpdesk(store, outbox=True)
    rng = random.Random(seed)  # noqa: S311 - the shape of a run, not a secret
    out = os.open(delivered, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def deliver(record: OutboxRecord) -> None:
        os.write(out, f"{record.id}\n".encode())  # one write: a whole line or none

    ana = Contact(name="Ana", email="ana@example.com")
    admin = Actor.admin("ad-1")
    desk.outbox.read(limit=1)  # the store answers
    os.write(1, f"ready {os.getpid()}\n".encode())  # one write: children share the pipe
    while True:
        ticket = desk.open(subject="Proof", description="Kill me.", requester=ana)
        desk.note(ticket.id, admin, "Noted.")
        desk.reply(ticket.id, admin, "Replied.")
        if rng.random() < 0.7:
            desk.outbox.drain(deliver, consumer="proof", batch=rng.randint(1, 10))


def drain_all(database: str, tenant: str, delivered: str, seed: int) -> None:
    """Drain consumer ``shared`` with others at once until its cursor is at the end."""
    store: Store = (
        PostgresStore(database, tenant=tenant, max_connections=2)
        if database.startswith("postgresql://")
        else SQLiteStore(database)
    )
    desk = Helpdesk(store)
    rng = random.Random(seed)  # noqa: S311 - batch sizes, not secrets
    out = os.open(delivered, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def deliver(record: OutboxRecord) -> None:
        os.write(out, f"{record.id}\n".encode())

    while True:
        report = desk.outbox.drain(deliver, consumer="shared", batch=rng.randint(1, 20))
        if report.claimed and not report.handled:
            break
    os.write(1, f"done {os.getpid()}\n".encode())


def serve() -> None:
    """Fork a process for each line read; children killed or not, none is left a zombie.

    A line ``drain DSN TENANT DELIVERED SEED`` forks :func:`drain_all` instead.
    """
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps them
    for line in sys.stdin:
        *mode, database, tenant, delivered, seed = line.split()
        job = drain_all if mode == ["drain"] else run
        if os.fork() == 0:
            try:
                job(database, tenant, delivered, int(seed))
            except BaseException as error:  # noqa: BLE001 - told to the test, then gone
                os.write(1, f"failed {os.getpid()} {error!r}\n".encode())
            finally:
                os._exit(1)


if __name__ == "__main__":
    serve()
