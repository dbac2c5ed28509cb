"""A SQLAlchemy host's transaction around ticketflow commands.

Run it from a clone with ``python examples/postgres/sqlalchemy_transaction.py
[DSN]`` (default ``postgresql://postgres@127.0.0.1:5432/test``; it needs
``pip install "ticketflow[postgres]" sqlalchemy``).  It migrates the ticketflow
schema into that database, makes a table of its own, ``example_returns``, and
uses a tenant of its own, whose rows it removes at the end.

A shop opens a return: the return row (SQLAlchemy Core) and the support ticket
(ticketflow) must exist together.  ``store.using(connection)`` takes the
SQLAlchemy ``Connection`` and runs the desk on the psycopg connection under
it, in the transaction ``engine.begin()`` opened: both commit at the end of
the block, or neither does.
"""

from __future__ import annotations

import sys
import uuid

import sqlalchemy as sa

from ticketflow import Contact, Helpdesk
from ticketflow.storage import PostgresStore, TicketQuery

DSN = sys.argv[1] if len(sys.argv) > 1 else "postgresql://postgres@127.0.0.1:5432/test"

metadata = sa.MetaData()
returns = sa.Table(
    "example_returns",
    metadata,
    sa.Column("tenant", sa.Text, primary_key=True),
    sa.Column("order_id", sa.Text, primary_key=True),
    sa.Column("ticket_id", sa.Text, nullable=False),
)


class OutOfStock(Exception):
    """The shop's own failure, after the ticket was opened in the same transaction."""


def open_return(
    engine: sa.Engine, desk: Helpdesk, store: PostgresStore, order: str, *, fail: bool = False
) -> str:
    with engine.begin() as connection, store.using(connection):
        ticket = desk.open(
            subject=f"Return of order {order}",
            description="The shoes are too small.",
            requester=Contact(name="Ana", email="ana@example.com"),
        )
        connection.execute(
            returns.insert().values(tenant=store.tenant, order_id=order, ticket_id=ticket.id)
        )
        if fail:
            raise OutOfStock(f"no replacement in stock for order {order}")
        return ticket.id


def main() -> None:
    engine = sa.create_engine(DSN.replace("postgresql://", "postgresql+psycopg://", 1))
    metadata.create_all(engine)
    with PostgresStore(DSN, tenant=f"example-{uuid.uuid4().hex[:8]}") as store:
        store.migrate()
        desk = Helpdesk(store=store)
        try:
            kept = open_return(engine, desk, store, "O-1001")
            print(f"order O-1001: return opened as {kept} ({desk.get(kept).status})")
            try:
                open_return(engine, desk, store, "O-1002", fail=True)
            except OutOfStock as error:
                print(f"order O-1002: {error}; rolled back")
            with engine.connect() as connection:
                orders = connection.execute(
                    sa.select(returns.c.order_id).where(returns.c.tenant == store.tenant)
                ).scalars()
                print(f"returns stored: {list(orders)}")
            print(f"tickets stored: {[t.id for t in store.query(TicketQuery())]}")
        finally:
            for done in store.query(TicketQuery()):
                store.purge(done.id, done.version)
            with engine.begin() as connection:
                connection.execute(returns.delete().where(returns.c.tenant == store.tenant))
            engine.dispose()


if __name__ == "__main__":
    main()
