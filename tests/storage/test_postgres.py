"""PostgresStore on the real server: the contract, tenants, conflicts, faults, migrations.

The tests make their own database (``tf_test_<hex>``) through the ``test``
database and drop it at the end.  Without a server they skip, unless
``CI=true``: there they fail, so CI cannot pass by skipping them.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

import psycopg
import pytest
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test
from pgserver import SERVER, new_tenant, scratch_database
from psycopg.waiting import Wait
from psycopg_pool import ConnectionPool

from ticketflow import (
    Actor,
    ConcurrencyConflict,
    Contact,
    Helpdesk,
    HistoryEvent,
    InvalidInput,
    ManualClock,
    StorageError,
    Ticket,
    TicketNotFound,
    Workflow,
)
from ticketflow.storage import (
    NO_SLA,
    ORDER_FIELDS,
    Figures,
    LedgerEntry,
    PostgresStore,
    Schedule,
    Store,
    TicketQuery,
    _postgres,
)
from ticketflow.storage._codec import time_in
from ticketflow.testing import StoreContract, workflow_laws

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
WORKFLOW = Workflow.default()


@pytest.fixture(scope="session")
def database() -> Iterator[str]:
    """The DSN of a database made for this run, dropped at the end."""
    with scratch_database() as dsn:
        yield dsn


@pytest.fixture(scope="session")
def pool(database: str) -> Iterator[ConnectionPool]:
    with ConnectionPool(database, min_size=1, max_size=4, open=True) as shared:
        with PostgresStore(pool=shared) as store:
            store.migrate()
        yield shared


@pytest.fixture
def store(pool: ConnectionPool) -> PostgresStore:
    return PostgresStore(pool=pool, tenant=new_tenant())


class TestPostgresStoreContract(StoreContract):
    """Each store a new tenant in the one database: as empty as a new database, and quick."""

    pool: ConnectionPool

    @pytest.fixture(autouse=True, scope="class")
    @classmethod
    def _shared_pool(cls, pool: ConnectionPool) -> None:
        cls.pool = pool

    def make_store(self) -> Store:
        return PostgresStore(pool=self.pool, tenant=new_tenant())


class TestPostgresStoreOnItsOwnPoolContract(StoreContract):
    """The store's own pool: autocommit connections, each command its own transaction."""

    database: str

    @pytest.fixture(autouse=True, scope="class")
    @classmethod
    def _shared_database(cls, pool: ConnectionPool, database: str) -> None:
        cls.database = database  # the pool fixture has migrated it

    def make_store(self) -> Store:
        return PostgresStore(self.database, tenant=new_tenant(), max_connections=2)

    def dispose_store(self, store: Store) -> None:
        assert isinstance(store, PostgresStore)
        store.close()


def test_the_laws_of_the_default_workflow_hold_on_postgres(pool: ConnectionPool) -> None:
    laws = workflow_laws(
        WORKFLOW, store=lambda: PostgresStore(pool=pool, tenant=new_tenant()), steps=25
    )
    # Fewer runs than tests/test_stateful.py gives the memory store: the laws are
    # proven there; here they check the store under them, at a round trip a step.
    run_state_machine_as_test(laws, settings=settings(laws.TestCase.settings, max_examples=10))


def _opened(store: PostgresStore, subject: str = "VPN drops") -> tuple[Ticket, HistoryEvent]:
    ticket, event = WORKFLOW.create(
        store.new_id(),
        Actor.customer("ana@example.com"),
        START,
        subject=subject,
        description="Every hour.",
        requester=Contact(name="Ana", email="ana@example.com"),
    )
    store.create(ticket, event)
    return ticket, event


# -- tenants -------------------------------------------------------------


def test_a_tenant_never_reads_another_tenants_ticket_even_by_its_id(pool: ConnectionPool) -> None:
    acme, globex = (PostgresStore(pool=pool, tenant=name) for name in (new_tenant(), new_tenant()))
    ticket, _ = _opened(acme)
    with pytest.raises(TicketNotFound):
        globex.get(ticket.id)
    with pytest.raises(TicketNotFound):
        globex.history(ticket.id)
    assert globex.query(TicketQuery()) == []


def test_a_tenant_never_purges_or_commits_to_another_tenants_ticket(pool: ConnectionPool) -> None:
    acme, globex = (PostgresStore(pool=pool, tenant=name) for name in (new_tenant(), new_tenant()))
    ticket, created = _opened(acme)
    replied, event = WORKFLOW.apply(
        ticket,
        "agent_reply",
        Actor.agent("a-1"),
        START + timedelta(minutes=5),
        body="On it.",
    )
    with pytest.raises(TicketNotFound):
        globex.purge(replied.id, 1)
    with pytest.raises(ConcurrencyConflict):
        globex.commit(replied, event, 1)
    assert acme.get(replied.id) == ticket
    assert acme.history(replied.id) == [created]


def test_two_tenants_number_their_tickets_apart(pool: ConnectionPool) -> None:
    acme, globex = (PostgresStore(pool=pool, tenant=name) for name in (new_tenant(), new_tenant()))
    assert [acme.new_id(), acme.new_id(), globex.new_id()] == ["T-1", "T-2", "T-1"]


# -- one statement per commit ---------------------------------------------


def test_a_conflicting_commit_writes_no_event_and_no_ledger_row(store: PostgresStore) -> None:
    ticket, created = _opened(store)
    at = START + timedelta(minutes=5)
    first, first_event = WORKFLOW.apply(ticket, "agent_reply", Actor.agent("a-1"), at, body="1")
    store.commit(first, first_event, 1)
    late, late_event = WORKFLOW.apply(ticket, "agent_reply", Actor.agent("a-2"), at, body="2")
    entry = LedgerEntry("remind", START, at)
    with pytest.raises(ConcurrencyConflict):
        store.commit(late, late_event, 1, [entry])
    assert store.history(first.id) == [created, first_event]
    assert not store.fired("remind", first.id, START)


def test_a_ledger_entry_already_kept_makes_the_commit_a_conflict(store: PostgresStore) -> None:
    ticket, _ = _opened(store)
    entry = LedgerEntry("remind", START, START + timedelta(days=1))
    at = START + timedelta(minutes=5)
    first, first_event = WORKFLOW.apply(ticket, "agent_reply", Actor.agent("a-1"), at, body="1")
    store.commit(first, first_event, 1, [entry])
    again, again_event = WORKFLOW.apply(first, "agent_reply", Actor.agent("a-1"), at, body="2")
    with pytest.raises(ConcurrencyConflict) as raised:
        store.commit(again, again_event, 2, [entry])
    assert raised.value.actual_version == 2
    assert store.get(first.id) == first


def test_nul_and_its_escape_character_round_trip_in_text(store: PostgresStore) -> None:
    subject = "a\x00b\x01c\x01\x01d\x00\x00\x01\x02"
    ticket, _ = _opened(store, subject=subject)
    assert store.get(ticket.id).subject == subject


def test_a_ticket_id_holding_nul_is_found_fired_on_and_purged(store: PostgresStore) -> None:
    ticket, event = WORKFLOW.create(
        "T-\x00\x01",
        Actor.customer("ana@example.com"),
        START,
        subject="VPN drops",
        description="Every hour.",
        requester=Contact(name="Ana", email="ana@example.com"),
    )
    store.create(ticket, event)
    entry = LedgerEntry("remind", START, START + timedelta(days=1))
    replied, reply = WORKFLOW.apply(
        ticket, "agent_reply", Actor.agent("a-1"), START + timedelta(minutes=5), body="On it."
    )
    store.commit(replied, reply, 1, [entry])
    assert store.get("T-\x00\x01") == replied
    assert store.fired("remind", "T-\x00\x01", START)
    store.purge("T-\x00\x01", 2)
    assert store.query(TicketQuery()) == []


def test_quotes_and_sql_in_text_are_kept_as_text(store: PostgresStore) -> None:
    subject = "O'Brien \"; DROP TABLE ticketflow_tickets; -- $1 %s {}"
    ticket, _ = _opened(store, subject=subject)
    assert store.get(ticket.id).subject == subject
    assert store.query(TicketQuery()) == [ticket]


def _every_plane() -> str:
    """One character of each Unicode plane in use, and the awkward ones of the first."""
    planes = [0x41, 0xE9, 0x4E2D, 0xFFFD, 0x1F600, 0x20000, 0x30000, 0xE0001, 0xF0000, 0x10FFFD]
    return "".join(map(chr, planes)) + "\x00\x01\x7f\u200b\u202e\ufeff"


@pytest.mark.parametrize(
    "subject",
    [_every_plane(), "x" * 1_000_000, "'; DROP TABLE ticketflow_events; --" * 1000],
    ids=["every plane", "one megabyte", "sql, repeated"],
)
def test_hostile_text_in_every_text_field_round_trips(store: PostgresStore, subject: str) -> None:
    ticket, event = WORKFLOW.create(
        store.new_id(),
        Actor.customer("ana@example.com"),
        START,
        subject=subject,
        description=subject,
        requester=Contact(name=subject[:200], email="ana@example.com", phone=subject[:50]),
        tags={subject[:100].replace(" ", "_")},
        department=subject[:64],
        assignee=subject[:64],
        fields={"note": subject, "choices": (subject[:10], subject[-10:])},
    )
    store.create(ticket, event)
    assert store.get(ticket.id) == ticket
    assert store.history(ticket.id) == [event]
    assert store.query(TicketQuery(department=subject[:64])) == [ticket]


def test_a_lock_held_past_the_timeout_is_a_storage_error_and_writes_nothing(
    database: str, pool: ConnectionPool
) -> None:
    tenant = new_tenant()
    with PostgresStore(pool=pool, tenant=tenant) as setup:
        ticket, _event = _opened(setup)
    with PostgresStore(database, tenant=tenant, timeout=1) as store:
        new, event = WORKFLOW.apply(ticket, "note", Actor.agent("a-1"), START, body="Mine.")
        with psycopg.connect(database) as holder:
            holder.execute(
                "SELECT 1 FROM ticketflow_tickets WHERE tenant = %s AND id = %s FOR UPDATE",
                (tenant, ticket.id),
            )
            with pytest.raises(StorageError, match="lock_timeout"):
                store.commit(new, event, ticket.version)
            holder.rollback()
        assert store.get(ticket.id) == ticket
        assert len(store.history(ticket.id)) == 1


# -- schema ---------------------------------------------------------------


def test_migrating_again_changes_nothing(pool: ConnectionPool) -> None:
    assert PostgresStore(pool=pool).migrate() == _postgres.SCHEMA_VERSION


def test_a_database_with_a_newer_schema_is_refused() -> None:
    with scratch_database() as dsn:
        with PostgresStore(dsn) as store:
            store.migrate()
            with psycopg.connect(dsn) as connection:
                connection.execute("UPDATE ticketflow_schema_version SET version = 99")
            with pytest.raises(StorageError, match="newer ticketflow schema"):
                store.migrate()
        with (
            PostgresStore(dsn) as older,
            pytest.raises(StorageError, match="newer ticketflow schema"),
        ):
            older.get("T-1")  # a store that never migrates is refused on first use too


def test_a_database_without_the_tables_asks_for_a_migration() -> None:
    with (
        scratch_database() as bare,
        PostgresStore(bare, tenant=new_tenant()) as store,
        pytest.raises(StorageError, match=r"migrate\(\)"),
    ):
        store.get("T-1")


def test_a_table_dropped_after_migrating_is_named_in_a_storage_error() -> None:
    with scratch_database() as dsn, PostgresStore(dsn, timeout=1) as store:
        store.migrate()
        ticket, _event = _opened(store)
        with psycopg.connect(dsn) as connection:
            connection.execute("DROP TABLE ticketflow_ledger")
        new, event = WORKFLOW.apply(ticket, "note", Actor.agent("a-1"), START, body="Mine.")
        with pytest.raises(StorageError, match=r'"ticketflow_ledger" does not exist.*dropped'):
            store.commit(new, event, ticket.version)
        assert store.get(ticket.id) == ticket


def test_the_schema_files_ship_inside_the_package() -> None:
    folder = resources.files("ticketflow.storage").joinpath("sql", "postgres")
    assert folder.joinpath("001_schema.sql").read_text().count("CREATE TABLE") == 4


# -- indexes ----------------------------------------------------------------

_NULLABLE = [field for field in ORDER_FIELDS if field not in ("created_at", "updated_at")]

QUERIES = {
    "status": TicketQuery(statuses={"new"}),
    "statuses": TicketQuery(statuses={"new", "open", "answered"}),
    "assignee": TicketQuery(assignee="a-1"),
    "department": TicketQuery(department="billing", statuses={"open"}),
    "requester": TicketQuery(requester="c-7@example.com"),
    "tag": TicketQuery(tags={"t-7"}),
    "tags": TicketQuery(tags={"t-7", "t-8"}),
    **{f"due {field}": TicketQuery(due=(field, START)) for field in ORDER_FIELDS},
    **{
        f"status and due {field}": TicketQuery(statuses={"resolved"}, due=(field, START))
        for field in ORDER_FIELDS
    },
    "assignee, status, limit": TicketQuery(assignee="a-1", statuses={"open"}, limit=10),
}


@pytest.fixture(scope="module")
def big() -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """A database of 100,000 tickets of one tenant, most closed, as a desk of some years has."""
    with scratch_database() as dsn:
        with PostgresStore(dsn) as store:
            store.migrate()
        with psycopg.connect(dsn, autocommit=True) as connection:
            times = ", ".join(
                "%(start)s::bigint + i * 1000000::bigint"
                if field == "status_changed_at"
                else "CASE WHEN mod(i, 3) = 0 THEN %(start)s::bigint + i * 1000000::bigint END"
                for field in _NULLABLE
            )
            # Our own column names; the values are parameters.
            connection.execute(
                "INSERT INTO ticketflow_tickets (tenant, id, version, status, subject, "  # noqa: S608
                "description, requester_id, requester_name, priority, channel, assignee, "
                "department, tags, tag_list, fields, created_at, updated_at, "
                f"{', '.join(_NULLABLE)}, reopen_count, next_due_at, schedule) "
                "SELECT 'big', 'T-' || i, 1, "
                "CASE WHEN mod(i, 50) < 47 THEN 'closed' "
                "ELSE (ARRAY['new', 'open', 'answered'])[mod(i, 50) - 46] END, "
                "'s', 'd', 'c-' || mod(i, 1000) || '@example.com', 'n', 'normal', 'email', "
                "'a-' || mod(i, 100), (ARRAY['billing', 'it', 'sales', 'hr'])[mod(i, 4) + 1], "
                "'[]', ARRAY['t-' || mod(i, 200)], '{}', %(start)s::bigint + i * 1000000::bigint, "
                f"%(start)s::bigint + i * 1000000::bigint, {times}, 0, "
                # The open ones are scheduled; a few were scheduled by other rules or none.
                "CASE WHEN mod(i, 50) >= 47 THEN %(start)s::bigint + i * 1000000::bigint END, "
                "CASE WHEN mod(i, 997) = 0 THEN NULL WHEN mod(i, 499) = 0 THEN 'r0-old' "
                "ELSE 'r1-now' END "
                "FROM generate_series(1, 100000) AS i",
                {"start": time_in(START)},
            )
            connection.execute("ANALYZE")
            yield connection


@pytest.mark.parametrize("query", list(QUERIES.values()), ids=list(QUERIES))
def test_no_query_the_desk_or_a_sweep_asks_scans_the_whole_tickets_table(
    big: psycopg.Connection[tuple[object, ...]], query: TicketQuery
) -> None:
    statement, parameters = _postgres.query_sql(query, "big")
    plan = [str(row[0]) for row in big.execute(f"EXPLAIN {statement}", parameters)]
    scans = [step for step in plan if "Seq Scan" in step]
    assert not scans, f"{query} scans the tickets table: {plan}"


SCHEDULE_QUERIES = {
    "due": _postgres.due_sql("big", START + timedelta(days=1), 100),
    "due, a page on": _postgres.due_sql("big", START + timedelta(days=1), 100, (START, "T-9")),
    "due, claimed": _postgres.due_sql("big", START + timedelta(days=1), 100, claim=True),
    "stale": _postgres.stale_sql("big", "r1-now", 1),
    "stale, a batch": _postgres.stale_sql("big", "r1-now", 500),
    "sla queue": _postgres.sla_queue_sql("big", TicketQuery(statuses={"new", "open"}), 50),
    "sla queue, a page on": _postgres.sla_queue_sql(
        "big", TicketQuery(department="it"), 50, (START, "T-9")
    ),
    "sla stale": _postgres.stale_sql("big", "s1-now", 1, column="sla_policies"),
    # As count_unfigured and count_sla_stale count, on the column whose keys the table has.
    "other fingerprints, counted": _postgres.count_other_sql("big", "r1-now", "schedule"),
}


@pytest.mark.parametrize("query", list(SCHEDULE_QUERIES.values()), ids=list(SCHEDULE_QUERIES))
def test_the_schedule_queries_read_their_indexes(
    big: psycopg.Connection[tuple[object, ...]], query: tuple[str, list[object]]
) -> None:
    statement, parameters = query
    plan = [str(row[0]) for row in big.execute(f"EXPLAIN {statement}", parameters)]
    assert not [step for step in plan if "Seq Scan" in step], plan
    assert any("ticketflow_tickets_by_" in step for step in plan), plan


@pytest.mark.parametrize("after", [None, "T-900"])
def test_the_sla_queues_tail_reads_an_index_in_id_order(
    big: psycopg.Connection[tuple[object, ...]], after: str | None
) -> None:
    statement, parameters = _postgres.sla_untimed_sql(
        "big", TicketQuery(statuses={"new", "open"}), 50, after
    )
    plan = [str(row[0]) for row in big.execute(f"EXPLAIN {statement}", parameters)]
    assert not [step for step in plan if "Seq Scan" in step], plan
    assert any("Index Scan using ticketflow_tickets_" in step for step in plan), plan


@pytest.mark.parametrize("query", ["sla queue", "sla queue, a page on"])
def test_the_sla_queue_reads_the_index_of_the_due_instant(
    big: psycopg.Connection[tuple[object, ...]], query: str
) -> None:
    statement, parameters = SCHEDULE_QUERIES[query]
    plan = [str(row[0]) for row in big.execute(f"EXPLAIN {statement}", parameters)]
    assert any("ticketflow_tickets_by_sla_due_at" in step for step in plan), plan
    assert not any("Sort" in step for step in plan), plan


def test_a_lookup_by_id_reads_the_primary_key(
    big: psycopg.Connection[tuple[object, ...]],
) -> None:
    plan = [
        str(row[0])
        for row in big.execute(
            "EXPLAIN SELECT * FROM ticketflow_tickets WHERE tenant = %s AND id = %s",
            ("big", "T-7"),
        )
    ]
    assert "ticketflow_tickets_pkey" in plan[0], plan


# -- faults and secrets ---------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_repr_hides_the_password() -> None:
    with PostgresStore(
        f"postgresql://postgres:hunter2@127.0.0.1:{_closed_port()}/test", timeout=1
    ) as store:
        assert "hunter2" not in repr(store)
        assert "postgres@127.0.0.1" in repr(store)


def test_a_store_without_a_server_raises_storage_error_without_the_password() -> None:
    dsn = f"postgresql://postgres:hunter2@127.0.0.1:{_closed_port()}/test"
    with PostgresStore(dsn, timeout=1) as store, pytest.raises(StorageError) as raised:
        store.new_id()
    assert "hunter2" not in str(raised.value)
    assert "127.0.0.1" in str(raised.value)


def test_a_database_that_does_not_exist_is_named_in_a_storage_error() -> None:
    with (
        PostgresStore(f"{SERVER}/tf_no_such_database", timeout=1) as store,
        pytest.raises(StorageError, match=r"tf_no_such_database.*does not exist"),
    ):
        store.new_id()


def test_a_dsn_that_does_not_parse_is_refused_without_its_password() -> None:
    with pytest.raises(InvalidInput) as raised:
        PostgresStore("host=127.0.0.1 password=hunter2 nonsense")
    assert "hunter2" not in str(raised.value)


def test_a_url_that_does_not_parse_is_refused_without_its_password() -> None:
    with pytest.raises(InvalidInput) as raised:
        PostgresStore("postgresql://app:hunter2@127.0.0.1/test?bogus=1")
    assert "hunter2" not in str(raised.value)
    assert "postgresql://app:***@127.0.0.1/test?bogus=1" in str(raised.value)


@pytest.mark.parametrize(
    ("dsn", "shown"),
    [
        ("postgresql://app:hunter2@db/x", "postgresql://app:***@db/x"),
        ("postgresq://app:hunter2@db:5432/x", "postgresq://app:***@db:5432/x"),
        ("mysql://:hunter2@db/x", "mysql://:***@db/x"),
        ("postgresql://app:hun@ter2@db/x", "postgresql://app:***@db/x"),
        ("postgresql://app@db/x?password=hunter2", "postgresql://app@db/x?password=***"),
        ("host=db password=hunter2 dbname=x", "host=db password=*** dbname=x"),
        ("host=db password = 'hunter2 two' dbname=x", "host=db password = *** dbname=x"),
        ("postgresql://app@db/x", "postgresql://app@db/x"),
    ],
)
def test_hide_password_hides_the_password_of_any_connection_string(dsn: str, shown: str) -> None:
    assert _postgres.hide_password(dsn) == shown


def test_without_psycopg_the_store_names_the_extra_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_postgres, "_MISSING", ImportError("No module named 'psycopg'"))
    with pytest.raises(StorageError, match=r"ticketflow\[postgres\]"):
        PostgresStore("postgresql://127.0.0.1/test")


def test_a_claim_skips_the_tickets_another_batch_claimed(pool: ConnectionPool) -> None:
    tenant = new_tenant()
    first, second = (PostgresStore(pool=pool, tenant=tenant) for _ in range(2))
    ids = []
    for hours in range(6):
        ticket, event = WORKFLOW.create(
            first.new_id(), Actor.customer("ana@example.com"), START, subject="S",
            description="d", requester=Contact(name="Ana", email="ana@example.com"),
        )  # fmt: skip
        first.create(ticket, event, schedule=Schedule(START + timedelta(hours=hours), "r1-x"))
        ids.append(ticket.id)
    now = START + timedelta(days=1)
    with first.batch():
        claimed = [ticket.id for _, ticket in first.due(now, limit=4, claim=True)]
        assert claimed == ids[:4]
        with second.batch():
            others = [ticket.id for _, ticket in second.due(now, limit=10, claim=True)]
            assert others == ids[4:]  # skipped, not waited for
    with second.batch():  # the first batch ended: its claims with it
        assert len(second.due(now, limit=10, claim=True)) == len(ids)


def _waiting(desk: Helpdesk, count: int) -> list[str]:
    """``count`` tickets waiting on the customer: each due for a reminder in 2 days."""
    ids = []
    for number in range(count):
        ticket = desk.open(subject=f"S{number}", description="d",
                           requester=Contact(name="Ana", email="ana@example.com"))  # fmt: skip
        desk.reply(ticket.id, Actor.agent("a-1"), "Which client?")
        ids.append(ticket.id)
    return ids


def test_several_sweepers_on_postgres_fire_each_due_ticket_once(database: str) -> None:
    import threading  # noqa: PLC0415

    tenant = new_tenant()
    clock = ManualClock(START)
    with PostgresStore(database, tenant=tenant) as store:
        ids = _waiting(Helpdesk(store=store, clock=clock), 30)
    clock.advance(timedelta(days=2))
    fired: list[str] = []

    def sweep() -> None:
        with PostgresStore(database, tenant=tenant, max_connections=2) as own:
            report = Helpdesk(store=own, clock=clock).run_rules(batch=4)
            fired.extend(firing.ticket_id for firing in report.fired)

    threads = [threading.Thread(target=sweep) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(fired) == sorted(ids)
    with PostgresStore(database, tenant=tenant) as store:
        for ticket_id in ids:
            names = [event.name for event in store.history(ticket_id)]
            assert names.count("remind") == 1


@pytest.mark.usefixtures("pool")  # migrated
def test_inside_its_own_batch_the_store_names_the_tenant_once_and_reads_without_savepoints(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = new_tenant()
    with PostgresStore(database, tenant=tenant) as store:
        ticket, event = WORKFLOW.create(
            store.new_id(), Actor.customer("ana@example.com"), START, subject="S",
            description="d", requester=Contact(name="Ana", email="ana@example.com"),
        )  # fmt: skip
        store.create(ticket, event)
        sent: list[str] = []
        execute, command = psycopg.Connection.execute, psycopg.Connection._exec_command

        def recording(self: psycopg.Connection[object], query: object, *args: object) -> object:
            sent.append(str(query))
            return execute(self, query, *args)  # type: ignore[arg-type]

        def commanding(self: psycopg.Connection[object], query: object, *args: object) -> object:
            sent.append(str(query))  # savepoints go this way
            return command(self, query, *args)  # type: ignore[arg-type]

        monkeypatch.setattr(psycopg.Connection, "execute", recording)
        monkeypatch.setattr(psycopg.Connection, "_exec_command", commanding)
        with store.batch():
            for _ in range(3):
                assert store.get(ticket.id) == ticket
                assert not store.fired("auto_close", ticket.id, START)
                assert store.history(ticket.id) == [event]
            new, note = WORKFLOW.apply(ticket, "note", Actor.agent("a-1"), START, body="Hm.")
            store.commit(new, note, ticket.version)
            # A conflict is zero rows, not an error: the batch's transaction goes on.
            with pytest.raises(ConcurrencyConflict):
                store.commit(new, note, ticket.version)
            again = LedgerEntry("auto_close", START, START)
            later, other = WORKFLOW.apply(new, "note", Actor.agent("a-1"), START, body="Hm!")
            store.commit(later, other, new.version, [again])
            newest, last = WORKFLOW.apply(later, "note", Actor.agent("a-1"), START, body="Ho.")
            with pytest.raises(ConcurrencyConflict):  # the rule acted for this episode already
                store.commit(newest, last, later.version, [again])
            assert store.get(ticket.id) == later
        assert not [query for query in sent if "set_config" in query]
        # No savepoint: the reads have nothing to undo, and the commit's one
        # statement meets a conflict (a moved version, a ledger entry kept) as
        # zero rows, not as an error that would fail the transaction.
        assert not [query for query in sent if "SAVEPOINT" in query.upper()]
        assert store.get(ticket.id) == later  # the batch committed


def _recording(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The statements sent through ``Connection.execute`` from now on, as they are sent."""
    sent: list[str] = []
    execute = psycopg.Connection.execute

    def recording(self: psycopg.Connection[object], query: object, *args: object) -> object:
        sent.append(str(query))
        return execute(self, query, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(psycopg.Connection, "execute", recording)
    return sent


def test_a_batch_reads_the_ledger_of_the_tickets_it_claims_once(
    pool: ConnectionPool, database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = new_tenant()
    with PostgresStore(database, tenant=tenant) as store:
        tickets = []
        for _ in range(3):
            ticket, event = WORKFLOW.create(
                store.new_id(), Actor.customer("ana@example.com"), START, subject="S",
                description="d", requester=Contact(name="Ana", email="ana@example.com"),
            )  # fmt: skip
            store.create(ticket, event, schedule=Schedule(START, "r1-x"))
            tickets.append(ticket)
        kept = LedgerEntry("remind", START, START)
        first = tickets[0]
        noted, note = WORKFLOW.apply(first, "note", Actor.agent("a-1"), START, body="Hm.")
        store.commit(noted, note, first.version, [kept], schedule=Schedule(START, "r1-x"))
        sent = _recording(monkeypatch)
        with store.batch():
            claimed = store.due(START + timedelta(hours=1), limit=10, claim=True)
            assert [ticket.id for _, ticket in claimed] == [ticket.id for ticket in tickets]
            sent.clear()
            assert store.fired("remind", first.id, START)
            assert not store.fired("remind", tickets[1].id, START)
            assert not store.fired("close", first.id, START)
            assert sent == []  # answered from what the claim read
            second = tickets[1]
            later, other = WORKFLOW.apply(second, "note", Actor.agent("a-1"), START, body="!")
            store.commit(later, other, second.version, [kept])
            assert store.fired("remind", second.id, START)  # its own commit, known at once
        assert store.fired("remind", second.id, START)
        assert not store.fired("remind", tickets[2].id, START)


# -- a batch's claimed tickets: known, and their writes sent ahead ---------------


@contextmanager
def _counting_round_trips(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Count the times a connection waited for the server to answer: one a round trip.

    A statement sent in pipeline mode does not wait; the sync that reads the
    outcome of all of them does, once.
    """
    trips = [0]
    wait = psycopg.Connection.wait

    def counting(self: psycopg.Connection[object], gen: Any, *args: Any, **kwargs: Any) -> Any:
        def watched() -> Any:
            sent, waited = None, False
            while True:
                try:
                    wanted = gen.send(sent)
                except StopIteration as stop:
                    trips[0] += waited
                    return stop.value
                waited = waited or wanted == Wait.R
                sent = yield wanted

        return wait(self, watched(), *args, **kwargs)

    with monkeypatch.context() as patched:
        patched.setattr(psycopg.Connection, "wait", counting)
        yield trips


def _due_tickets(store: PostgresStore, count: int) -> list[tuple[Ticket, HistoryEvent]]:
    """``count`` new tickets, each due at START."""
    made = []
    for _ in range(count):
        ticket, event = WORKFLOW.create(
            store.new_id(), Actor.customer("ana@example.com"), START, subject="S",
            description="d", requester=Contact(name="Ana", email="ana@example.com"),
        )  # fmt: skip
        store.create(ticket, event, schedule=Schedule(START, "r1-x"), figures=Figures("f1-x"))
        made.append((ticket, event))
    return made


@pytest.mark.usefixtures("pool")  # migrated
def test_a_batch_answers_for_its_claimed_tickets_and_checks_their_commits_in_one_round_trip(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with PostgresStore(database, tenant=new_tenant()) as store:
        made = _due_tickets(store, 20)
        with _counting_round_trips(monkeypatch) as trips, store.batch():
            claimed = store.due(START + timedelta(hours=1), limit=50, claim=True)
            assert {ticket.id: ticket for _, ticket in claimed} == {t.id: t for t, _ in made}
            before = trips[0]
            committed = []
            for ticket, created in made:
                assert not store.fired("remind", ticket.id, START)
                assert store.figures(ticket.id) == Figures("f1-x")
                assert store.sla(ticket.id) == NO_SLA
                assert store.history(ticket.id) == [created]
                new, note = WORKFLOW.apply(ticket, "note", Actor.agent("a-1"), START, body="!")
                entry = LedgerEntry("remind", START, START)
                store.commit(
                    new,
                    note,
                    1,
                    [entry],
                    schedule=Schedule(START, "r1-x"),
                    figures=Figures("f1-y"),
                )
                assert store.fired("remind", ticket.id, START)  # known at once
                assert store.figures(ticket.id) == Figures("f1-y")
                assert store.history(ticket.id) == [created, note]
                committed.append((new, created, note))
            assert store.reschedule(made[0][0].id, 2, Schedule(None, "r1-x"))
            assert not store.reschedule(made[1][0].id, 1, Schedule(None, "r1-x"))  # moved on
            # Every history in one statement; the commits and the schedule sent ahead.
            assert trips[0] - before == 1
        # Leaving the batch: one round trip reads every outcome, one commits.
        assert trips[0] - before == 3
        for new, created, note in committed:
            assert store.get(new.id) == new
            assert store.history(new.id) == [created, note]
            assert store.fired("remind", new.id, START)
            assert store.figures(new.id) == Figures("f1-y")
        assert store.schedule(made[0][0].id) == Schedule(None, "r1-x")
        assert store.schedule(made[1][0].id) == Schedule(START, "r1-x")


@pytest.mark.usefixtures("pool")  # migrated
def test_a_conflict_on_a_claimed_ticket_is_raised_by_its_commit_before_anything_is_sent(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with PostgresStore(database, tenant=new_tenant()) as store:
        ((ticket, created),) = _due_tickets(store, 1)
        entry = LedgerEntry("remind", START, START)
        with store.batch():
            store.due(START, limit=1, claim=True)
            new, note = WORKFLOW.apply(ticket, "note", Actor.agent("a-1"), START, body="!")
            store.commit(new, note, ticket.version, [entry])
            sent = _recording(monkeypatch)
            with pytest.raises(ConcurrencyConflict) as stale:
                store.commit(new, note, ticket.version)
            assert (stale.value.expected_version, stale.value.actual_version) == (1, 2)
            later, other = WORKFLOW.apply(new, "note", Actor.agent("a-1"), START, body="?")
            with pytest.raises(ConcurrencyConflict) as acted:  # the rule acted already
                store.commit(later, other, new.version, [entry])
            assert acted.value.actual_version == 2
            twice = LedgerEntry("close", START, START)
            with pytest.raises(ConcurrencyConflict):  # one entry twice in one commit
                store.commit(later, other, new.version, [twice, twice])
            assert sent == []
            monkeypatch.undo()
            store.commit(later, other, new.version)  # the batch goes on
        assert store.history(ticket.id) == [created, note, other]
        assert not store.fired("close", ticket.id, START)


@contextmanager
def _failing_events(database: str, tenant: str, column: str, value: str) -> Iterator[None]:
    """Make the server refuse to store an event of ``tenant`` whose ``column`` is ``value``."""
    with psycopg.connect(database, autocommit=True) as admin:
        admin.execute(
            "CREATE OR REPLACE FUNCTION tf_test_refuse() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$"
        )
        admin.execute(
            "CREATE TRIGGER tf_test_refuse BEFORE INSERT ON ticketflow_events FOR EACH ROW "
            f"WHEN (NEW.tenant = '{tenant}' AND NEW.{column} = '{value}') "
            "EXECUTE FUNCTION tf_test_refuse()"
        )
        try:
            yield
        finally:
            admin.execute("DROP TRIGGER tf_test_refuse ON ticketflow_events")


def _noted(
    store: PostgresStore, made: list[tuple[Ticket, HistoryEvent]], bodies: list[str]
) -> None:
    """In one batch, claim the tickets ``made`` and commit a note to each, with ``bodies``."""
    with store.batch():
        store.due(START, limit=len(made), claim=True)
        for (ticket, _), body in zip(made, bodies, strict=True):
            new, note = WORKFLOW.apply(ticket, "note", Actor.agent("a-1"), START, body=body)
            store.commit(new, note, ticket.version)  # sent ahead: no error yet


@pytest.mark.usefixtures("pool")  # migrated
def test_a_commit_sent_ahead_that_fails_rolls_the_whole_batch_back(database: str) -> None:
    tenant = new_tenant()
    with (
        PostgresStore(database, tenant=tenant) as store,
        _failing_events(database, tenant, "body", "no"),
    ):
        made = _due_tickets(store, 3)
        with pytest.raises(StorageError, match="sent ahead in this batch failed") as failed:
            _noted(store, made, ["yes", "no", "yes"])
        assert "refused by the test" in str(failed.value)
        for ticket, created in made:
            assert store.get(ticket.id) == ticket
            assert store.history(ticket.id) == [created]


def _going_on(store: PostgresStore, made: list[tuple[Ticket, HistoryEvent]]) -> None:
    """Claim both, commit a refused note to the first, go on after the errors it causes."""
    (ticket, _), (other, _) = made
    with store.batch():
        store.due(START, limit=2, claim=True)
        new, note = WORKFLOW.apply(ticket, "note", Actor.agent("a-1"), START, body="no")
        store.commit(new, note, ticket.version)
        with pytest.raises(StorageError, match="sent ahead"):
            store.count_due(START)  # the next statement reads what was sent first
        newer, noted = WORKFLOW.apply(other, "note", Actor.agent("a-1"), START, body="ok")
        with pytest.raises(StorageError, match="sent ahead"):
            store.commit(newer, noted, other.version)


@pytest.mark.usefixtures("pool")  # migrated
def test_a_batch_whose_write_sent_ahead_failed_cannot_commit_even_if_the_error_is_caught(
    database: str,
) -> None:
    tenant = new_tenant()
    with (
        PostgresStore(database, tenant=tenant) as store,
        _failing_events(database, tenant, "body", "no"),
    ):
        made = _due_tickets(store, 2)
        with pytest.raises(StorageError, match="sent ahead"):
            _going_on(store, made)
        for ticket, created in made:
            assert store.get(ticket.id) == ticket
            assert store.history(ticket.id) == [created]


def _undone(store: PostgresStore, new: Ticket, note: HistoryEvent, entry: LedgerEntry) -> None:
    """Commit inside a batch inside the current one, then fail that inner batch."""
    with store.batch():
        store.commit(new, note, new.version - 1, [entry])
        assert store.history(new.id)[-1] == note
        raise ZeroDivisionError  # undoes the inner batch alone


@pytest.mark.usefixtures("pool")  # migrated
def test_a_batch_inside_a_batch_waits_for_its_commits_and_its_rollback_is_forgotten(
    database: str,
) -> None:
    with PostgresStore(database, tenant=new_tenant()) as store:
        ((ticket, created),) = _due_tickets(store, 1)
        entry = LedgerEntry("remind", START, START)
        new, note = WORKFLOW.apply(ticket, "note", Actor.agent("a-1"), START, body="!")
        with store.batch():
            store.due(START, limit=1, claim=True)
            with pytest.raises(ZeroDivisionError):
                _undone(store, new, note, entry)
            # What the outer batch knew is read again: the inner commit was undone.
            assert not store.fired("remind", ticket.id, START)
            assert store.history(ticket.id) == [created]
            store.commit(new, note, ticket.version, [entry])
        assert store.history(ticket.id) == [created, note]
        assert store.fired("remind", ticket.id, START)


def test_a_sweep_whose_batch_fails_when_its_writes_are_read_fires_the_rest_one_by_one(
    database: str,
) -> None:
    tenant = new_tenant()
    clock = ManualClock(START)
    with PostgresStore(database, tenant=tenant) as store:
        desk = Helpdesk(store=store, clock=clock)
        ids = _waiting(desk, 5)
        clock.advance(timedelta(days=2))
        with _failing_events(database, tenant, "ticket_id", ids[2]):
            report = desk.run_rules(batch=5)
        fired = sorted(firing.ticket_id for firing in report.fired)
        assert fired == sorted(set(ids) - {ids[2]})
        assert [(skip.rule, skip.ticket_id) for skip in report.skipped] == [("*", ids[2])]
        assert "refused by the test" in report.skipped[0].reason
        for ticket_id in ids:
            reminded = [event.name for event in store.history(ticket_id)].count("remind")
            assert reminded == (ticket_id != ids[2])
        with psycopg.connect(database) as connection:
            ledger = connection.execute(
                "SELECT count(*) FROM ticketflow_ledger WHERE tenant = %s", (tenant,)
            ).fetchone()
        assert ledger == (len(fired),)
        assert [firing.ticket_id for firing in desk.run_rules().fired] == [ids[2]]
