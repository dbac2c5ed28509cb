"""PostgresStore inside the host's transaction, and row-level security between tenants.

``store.using(connection)`` runs the store's reads and writes on a connection
the host holds, in the host's transaction: the host's writes and the ticket's
land together or not at all.  The row-level security policies refuse another
tenant's rows to a role that does not own the tables, whatever SQL it runs.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta

import psycopg
import pytest
import sqlalchemy
from pgserver import SERVER, new_tenant, schema_of, scratch_database
from psycopg import sql
from psycopg_pool import ConnectionPool
from support import AGENT, ANA, START

from ticketflow import (
    ConcurrencyConflict,
    Helpdesk,
    InvalidInput,
    ManualClock,
    StorageError,
    TicketNotFound,
)
from ticketflow.storage import (
    LedgerEntry,
    PostgresStore,
    TicketQuery,
    _postgres,
    migrate_postgres,
)


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    """A migrated database with a table of the host's own: refunds."""
    with scratch_database() as dsn:
        with PostgresStore(dsn) as store:
            store.migrate()
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(
                "CREATE TABLE refunds (tenant text, ticket_id text, amount_cents integer)"
            )
        yield dsn


@pytest.fixture
def store(database: str) -> Iterator[PostgresStore]:
    with PostgresStore(database, tenant=new_tenant()) as opened:
        yield opened


def _desk(store: PostgresStore) -> tuple[Helpdesk, ManualClock]:
    clock = ManualClock(START)
    return Helpdesk(store=store, clock=clock), clock


def _rows(database: str, tenant: str) -> dict[str, int]:
    """How many rows the tenant has in each ticketflow table and in the host's refunds."""
    counts = {}
    with psycopg.connect(database) as connection:
        for table in ("ticketflow_tickets", "ticketflow_events", "ticketflow_ledger", "refunds"):
            query = sql.SQL("SELECT count(*) FROM {} WHERE tenant = %s").format(
                sql.Identifier(table)
            )
            row = connection.execute(query, (tenant,)).fetchone()
            counts[table] = 0 if row is None else int(row[0])
    return counts


# -- plain psycopg ----------------------------------------------------------


def test_a_host_transaction_that_commits_keeps_the_ticket_and_the_hosts_row(
    store: PostgresStore, database: str
) -> None:
    desk, clock = _desk(store)
    with psycopg.connect(database) as connection, store.using(connection):
        ticket = desk.open(
            subject="Charged twice", description="January.", requester=ANA, assignee=AGENT.id
        )
        connection.execute("INSERT INTO refunds VALUES (%s, %s, 1999)", (store.tenant, ticket.id))
        desk.resolve(ticket.id, AGENT, body="Refunded.")
        clock.advance(timedelta(days=8))
        assert len(desk.run_rules().fired) == 1
        # Nothing is visible outside the host's transaction before it commits.
        assert _rows(database, store.tenant) == dict.fromkeys(_rows(database, "none"), 0)
    assert _rows(database, store.tenant) == {
        "ticketflow_tickets": 1,
        "ticketflow_events": 3,
        "ticketflow_ledger": 1,
        "refunds": 1,
    }
    assert desk.get(ticket.id).status == "closed"


def test_a_host_transaction_rolled_back_leaves_no_ticket_event_or_ledger_row(
    store: PostgresStore, database: str
) -> None:
    desk, clock = _desk(store)
    with psycopg.connect(database) as connection:
        with store.using(connection):
            ticket = desk.open(
                subject="Charged twice", description="January.", requester=ANA, assignee=AGENT.id
            )
            desk.resolve(ticket.id, AGENT, body="Refunded.")
            connection.execute(
                "INSERT INTO refunds VALUES (%s, %s, 1999)", (store.tenant, ticket.id)
            )
            clock.advance(timedelta(days=8))
            assert len(desk.run_rules().fired) == 1
            assert desk.get(ticket.id).status == "closed"  # seen inside the transaction
        connection.rollback()
    assert _rows(database, store.tenant) == dict.fromkeys(_rows(database, "none"), 0)
    with pytest.raises(TicketNotFound):
        desk.get(ticket.id)
    # The tenant's ticket numbers rolled back too: the next ticket is T-1 again.
    assert desk.open(subject="Again", description="x", requester=ANA).id == "T-1"


def test_a_refused_command_undoes_only_itself_and_the_host_transaction_goes_on(
    store: PostgresStore, database: str
) -> None:
    desk, _ = _desk(store)
    with psycopg.connect(database) as connection, store.using(connection):
        ticket = desk.open(subject="Charged twice", description="January.", requester=ANA)
        stale = desk.get(ticket.id)
        desk.note(ticket.id, AGENT, "first")
        resolved, event = desk.workflow.apply(stale, "resolve", AGENT, START)
        with pytest.raises(ConcurrencyConflict):
            store.commit(resolved, event, stale.version)  # zero rows: nothing written
        # A rule that already acted: the server refuses the statement, and only
        # its savepoint is rolled back, not the host's transaction.
        entry = LedgerEntry("remind", START, START)
        current = desk.get(ticket.id)
        first, first_event = desk.workflow.apply(current, "note", AGENT, START, body="kept")
        store.commit(first, first_event, current.version, [entry])
        again, again_event = desk.workflow.apply(first, "note", AGENT, START, body="refused")
        with pytest.raises(ConcurrencyConflict):
            store.commit(again, again_event, first.version, [entry])
        connection.execute("INSERT INTO refunds VALUES (%s, %s, 5)", (store.tenant, ticket.id))
        desk.note(ticket.id, AGENT, "second")
    assert [e.body for e in desk.history(ticket.id)] == [None, "first", "kept", "second"]
    assert _rows(database, store.tenant)["refunds"] == 1


def test_the_store_joins_a_transaction_opened_with_connection_transaction(
    store: PostgresStore, database: str
) -> None:
    desk, _ = _desk(store)
    with psycopg.connect(database, autocommit=True) as connection:
        with connection.transaction(), store.using(connection):
            desk.open(subject="Charged twice", description="January.", requester=ANA)
            raise psycopg.Rollback  # leaves the block, rolling the transaction back
        with connection.transaction(), store.using(connection):
            desk.open(subject="Kept", description="January.", requester=ANA)
    assert [ticket.subject for ticket in store.query(TicketQuery())] == ["Kept"]


def test_an_autocommit_connection_outside_a_transaction_is_refused(
    store: PostgresStore, database: str
) -> None:
    desk, _ = _desk(store)
    with (
        psycopg.connect(database, autocommit=True) as connection,
        store.using(connection),
        pytest.raises(InvalidInput, match=r"connection\.transaction\(\).*autocommit"),
    ):
        desk.open(subject="Charged twice", description="January.", requester=ANA)
    assert len(store) == 0


def test_a_failed_host_transaction_is_refused_with_storage_error(
    store: PostgresStore, database: str
) -> None:
    desk, _ = _desk(store)
    with psycopg.connect(database) as connection:
        with pytest.raises(psycopg.errors.DivisionByZero):
            connection.execute("SELECT 1 / 0")
        with (
            store.using(connection),
            pytest.raises(StorageError, match="already failed; roll it back"),
        ):
            desk.open(subject="Charged twice", description="January.", requester=ANA)


def test_a_closed_host_connection_is_refused_with_storage_error(
    store: PostgresStore, database: str
) -> None:
    connection = psycopg.connect(database)
    connection.close()
    with store.using(connection), pytest.raises(StorageError, match="connection is closed"):
        store.get("T-1")


@pytest.mark.parametrize("thing", [None, "postgresql://x", object()])
def test_using_refuses_what_is_not_a_psycopg_connection(
    store: PostgresStore, thing: object
) -> None:
    with pytest.raises(InvalidInput, match=r"psycopg\.Connection"), store.using(thing):
        pass


def test_the_binding_belongs_to_its_thread_other_threads_use_the_pool(
    store: PostgresStore, database: str
) -> None:
    desk, _ = _desk(store)
    seen: list[int] = []
    with psycopg.connect(database) as connection, store.using(connection):
        desk.open(subject="Inside", description="x", requester=ANA)
        worker = threading.Thread(target=lambda: seen.append(len(store)))
        worker.start()
        worker.join(timeout=30)
        assert len(store) == 1  # this thread sees its uncommitted ticket
    assert seen == [0]  # the other thread, on the pool, did not


def test_migrate_runs_in_the_hosts_transaction_as_alembic_or_django_would() -> None:
    with scratch_database() as dsn, PostgresStore(dsn) as store:
        with psycopg.connect(dsn) as connection:
            with store.using(connection):
                assert store.migrate() == _postgres.SCHEMA_VERSION
            connection.rollback()
        with pytest.raises(StorageError, match=r"migrate\(\)"):
            store.get("T-1")
        with psycopg.connect(dsn) as connection, store.using(connection):
            store.migrate()
        assert len(store) == 0


@pytest.mark.parametrize("kind", ["psycopg", "sqlalchemy"])
def test_migrate_postgres_applies_the_schema_in_a_migration_tools_transaction(kind: str) -> None:
    with scratch_database() as dsn:
        if kind == "psycopg":
            with psycopg.connect(dsn) as connection:
                assert migrate_postgres(connection) == _postgres.SCHEMA_VERSION
                assert migrate_postgres(connection) == _postgres.SCHEMA_VERSION  # idempotent
        else:
            engine = _engine(dsn)
            try:
                with engine.begin() as connection:  # what Alembic's op.get_bind() gives
                    assert migrate_postgres(connection) == _postgres.SCHEMA_VERSION
                with pytest.raises(RuntimeError), engine.begin() as connection:
                    raise RuntimeError("a later step of the same revision fails")
            finally:
                engine.dispose()
        with PostgresStore(dsn) as store:
            assert store.new_id() == "T-1"


def test_migrate_postgres_rolls_back_with_the_hosts_transaction_and_refuses_bad_input() -> None:
    with scratch_database() as dsn:
        with psycopg.connect(dsn) as connection:
            migrate_postgres(connection)
            connection.rollback()
        with PostgresStore(dsn) as store, pytest.raises(StorageError, match=r"migrate\(\)"):
            store.get("T-1")
        with pytest.raises(InvalidInput, match="connection"):
            migrate_postgres(dsn)
        closed = psycopg.connect(dsn)
        closed.close()
        with pytest.raises(StorageError, match="closed"):
            migrate_postgres(closed)


# -- SQLAlchemy -------------------------------------------------------------


def _engine(database: str) -> sqlalchemy.Engine:
    return sqlalchemy.create_engine(database.replace("postgresql://", "postgresql+psycopg://"))


def test_a_sqlalchemy_connection_commits_the_ticket_with_the_hosts_row(
    store: PostgresStore, database: str
) -> None:
    desk, _ = _desk(store)
    engine = _engine(database)
    try:
        with engine.begin() as connection, store.using(connection):
            ticket = desk.open(subject="Charged twice", description="January.", requester=ANA)
            connection.execute(
                sqlalchemy.text("INSERT INTO refunds VALUES (:tenant, :ticket, 1999)"),
                {"tenant": store.tenant, "ticket": ticket.id},
            )
    finally:
        engine.dispose()
    assert _rows(database, store.tenant)["refunds"] == 1
    assert desk.get(ticket.id).version == 1


def test_a_sqlalchemy_transaction_rolled_back_leaves_no_row(
    store: PostgresStore, database: str
) -> None:
    desk, _ = _desk(store)
    engine = _engine(database)
    try:
        with engine.begin() as connection, store.using(connection):
            ticket = desk.open(
                subject="Charged twice", description="x", requester=ANA, assignee=AGENT.id
            )
            desk.resolve(ticket.id, AGENT, body="Refunded.")
            connection.rollback()  # as when the host's next step fails
    finally:
        engine.dispose()
    assert _rows(database, store.tenant) == dict.fromkeys(_rows(database, "none"), 0)


# -- row-level security -----------------------------------------------------


@pytest.fixture
def app_role(database: str) -> Iterator[str]:
    """A login role that may read and write the tables but does not own them."""
    role = f"tf_app_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(database, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        admin.execute(
            sql.SQL(
                "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}"
            ).format(sql.Identifier(role))
        )
    try:
        yield role
    finally:
        with psycopg.connect(database, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def _as(role: str, database: str) -> str:
    return database.replace(f"{SERVER.split('//')[1].split('@')[0]}@", f"{role}@")


def test_the_policies_hide_and_protect_other_tenants_rows_from_a_non_owner_role(
    database: str, app_role: str
) -> None:
    acme, globex = new_tenant(), new_tenant()
    with PostgresStore(_as(app_role, database), tenant=acme) as store:
        desk, _ = _desk(store)
        ticket = desk.open(subject="Acme's", description="x", requester=ANA)
    with PostgresStore(_as(app_role, database), tenant=globex) as store:
        _desk(store)[0].open(subject="Globex's", description="x", requester=ANA)
    with psycopg.connect(_as(app_role, database), autocommit=True) as connection:
        connection.execute("SELECT set_config('ticketflow.tenant', %s, false)", (globex,))
        # Raw SQL that names the other tenant sees, changes and deletes nothing.
        for statement in (
            "SELECT id FROM ticketflow_tickets WHERE tenant = %(t)s",
            "SELECT seq FROM ticketflow_events WHERE tenant = %(t)s",
            "UPDATE ticketflow_tickets SET subject = 'x' WHERE tenant = %(t)s RETURNING id",
            "DELETE FROM ticketflow_events WHERE tenant = %(t)s RETURNING seq",
        ):
            assert connection.execute(statement, {"t": acme}).fetchall() == [], statement
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            connection.execute(
                "INSERT INTO ticketflow_counters VALUES (%s, 'ticket', 99)", (acme,)
            )
        # A session that names no tenant sees no row at all.
        connection.execute("RESET ticketflow.tenant")
        assert connection.execute("SELECT count(*) FROM ticketflow_tickets").fetchone() == (0,)
    with PostgresStore(_as(app_role, database), tenant=acme) as store:
        assert store.get(ticket.id).subject == "Acme's"


def test_a_non_owner_role_runs_the_whole_desk_through_every_kind_of_connection(
    database: str, app_role: str
) -> None:
    tenant = new_tenant()
    dsn = _as(app_role, database)
    with PostgresStore(dsn, tenant=tenant) as own:
        desk, _ = _desk(own)
        ticket = desk.open(subject="Own pool", description="x", requester=ANA)
        with psycopg.connect(dsn) as connection, own.using(connection):
            desk.note(ticket.id, AGENT, "host connection")
    with ConnectionPool(dsn, min_size=1, max_size=2, open=True) as pool:
        host = PostgresStore(pool=pool, tenant=tenant)
        _desk(host)[0].note(ticket.id, AGENT, "host pool")
        assert [e.name for e in host.history(ticket.id)] == ["create", "note", "note"]


# -- schema: a fresh install equals the replayed migrations -----------------


def test_a_fresh_install_and_the_replayed_migrations_give_the_same_schema() -> None:
    with scratch_database() as fresh, scratch_database() as replayed:
        with PostgresStore(fresh) as store:
            store.migrate()
        # A database as the first ticketflow schema left it, then migrated forward.
        with psycopg.connect(replayed) as connection:
            connection.execute("CREATE TABLE ticketflow_schema_version (version integer NOT NULL)")
            connection.execute(_postgres._sql(_postgres._MIGRATIONS[0]))
            connection.execute("INSERT INTO ticketflow_schema_version VALUES (1)")
        with PostgresStore(replayed) as store:
            assert store.migrate() == _postgres.SCHEMA_VERSION
        assert "CREATE POLICY ticketflow_tenant" in schema_of(fresh)
        assert schema_of(fresh) == schema_of(replayed)
