"""A host's own transaction around ticketflow commands, on plain psycopg.

Run it from a clone with ``python examples/postgres/host_transaction.py [DSN]``
(default ``postgresql://postgres@127.0.0.1:5432/test``; it needs
``pip install "ticketflow[postgres]"``).  It migrates the ticketflow schema
into that database, makes a table of its own, ``example_refunds``, and uses a
tenant of its own, whose rows it removes at the end.

The host refunds a customer and resolves the ticket in one transaction:
``store.using(connection)`` runs the desk's reads and writes on the host's
connection, so the refund row and the ticket's commit land together, or, when
the host's transaction fails, neither does.
"""

from __future__ import annotations

import sys
import uuid

import psycopg

from ticketflow import Actor, Contact, Helpdesk, TicketflowError
from ticketflow.storage import PostgresStore, TicketQuery

DSN = sys.argv[1] if len(sys.argv) > 1 else "postgresql://postgres@127.0.0.1:5432/test"
AGENT = Actor.agent("a-1", department="billing")


def refund(desk: Helpdesk, store: PostgresStore, ticket_id: str, cents: int) -> None:
    """Record the refund and resolve the ticket, all or nothing."""
    with psycopg.connect(DSN) as connection:  # commits when the block ends, rolls back on error
        connection.execute(
            "INSERT INTO example_refunds (tenant, ticket_id, cents) VALUES (%s, %s, %s)",
            (store.tenant, ticket_id, cents),
        )
        with store.using(connection):
            desk.resolve(ticket_id, AGENT, body=f"Refunded {cents / 100:.2f} EUR.")


def refunds(store: PostgresStore) -> int:
    with psycopg.connect(DSN) as connection:
        row = connection.execute(
            "SELECT count(*) FROM example_refunds WHERE tenant = %s", (store.tenant,)
        ).fetchone()
    return 0 if row is None else int(row[0])


def main() -> None:
    with psycopg.connect(DSN) as connection:
        connection.execute(
            "CREATE TABLE IF NOT EXISTS example_refunds "
            "(tenant text, ticket_id text, cents integer, PRIMARY KEY (tenant, ticket_id))"
        )
    with PostgresStore(DSN, tenant=f"example-{uuid.uuid4().hex[:8]}") as store:
        store.migrate()
        desk = Helpdesk(store=store)
        try:
            ana = Contact(name="Ana", email="ana@example.com")
            ticket = desk.open(
                subject="Charged twice", description="January.", requester=ana, assignee="a-1"
            )
            refund(desk, store, ticket.id, 1999)
            print(f"{ticket.id}: {desk.get(ticket.id).status}, refunds recorded: {refunds(store)}")

            other = desk.open(
                subject="Charged twice again", description="Feb.", requester=ana, assignee="a-1"
            )
            desk.resolve(other.id, AGENT, body="Explained the charges.")
            try:  # resolving a resolved ticket is refused: the refund row goes too
                refund(desk, store, other.id, 500)
            except TicketflowError as error:
                print(f"refused: {error}")
            print(f"{other.id}: {desk.get(other.id).status}, refunds recorded: {refunds(store)}")
        finally:
            for done in store.query(TicketQuery()):
                store.purge(done.id, done.version)
            with psycopg.connect(DSN) as connection:
                connection.execute(
                    "DELETE FROM example_refunds WHERE tenant = %s", (store.tenant,)
                )


if __name__ == "__main__":
    main()
