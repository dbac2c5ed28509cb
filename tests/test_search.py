"""Search and paging: walks through pages while tickets are created, three stores that agree.

The store-level behaviour (what is searched, filters, ranking by score then
id, text that is never syntax) is in ``ticketflow.testing.StoreContract``;
this file proves the walks of ``Helpdesk.find``, ``search`` and ``queue``,
the agreement of the stores, the cursors' refusals, the migrations and the
command line.
"""

from __future__ import annotations

import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pgserver import new_tenant, require_server, scratch_database
from psycopg_pool import ConnectionPool
from support import ADMIN, AGENT, ANA, START

from ticketflow import Helpdesk, InvalidInput, ManualClock, Page, Ticket
from ticketflow.cli import main
from ticketflow.sla import QueueEntry, SLAPolicy
from ticketflow.storage import (
    SEARCHED_EVENTS,
    MemoryStore,
    PostgresStore,
    SearchQuery,
    SQLiteStore,
    Store,
    TicketQuery,
    _postgres,
    _sqlite,
)
from ticketflow.storage._search import score

WORDS = ("vpn", "printer", "mail", "drops", "slow", "café", "hour")
"""The vocabulary the drawn tickets are written in (one accented word)."""

_SETTINGS = settings(max_examples=25, deadline=None)


@pytest.fixture(scope="module")
def pool() -> Iterator[ConnectionPool]:
    """A migrated scratch database for this module; each test's stores use new tenants."""
    require_server()
    with (
        scratch_database() as dsn,
        ConnectionPool(dsn, min_size=1, max_size=2, open=True) as shared,
    ):
        with PostgresStore(pool=shared) as store:
            store.migrate()
        yield shared


def _sqlite_store() -> SQLiteStore:
    folder = Path(tempfile.mkdtemp(prefix="ticketflow-search-"))
    return SQLiteStore(folder / "tickets.sqlite3")


_LOCAL_STORES: dict[str, Callable[[], Store]] = {"memory": MemoryStore, "sqlite": _sqlite_store}

_texts = st.lists(st.sampled_from(WORDS), min_size=1, max_size=4).map(" ".join)
_tickets = st.tuples(_texts, _texts, st.lists(_texts, max_size=2))
"""A ticket to open: its subject, its description, its replies."""


def _open(desk: Helpdesk, clock: ManualClock, drawn: tuple[str, str, list[str]]) -> Ticket:
    subject, description, replies = drawn
    clock.advance(timedelta(minutes=1))
    ticket = desk.open(subject=subject, description=description, requester=ANA)
    for body in replies:
        ticket = desk.reply(ticket.id, AGENT, body)
    return ticket


def _tickets_of(entries: Page[QueueEntry]) -> Page[Ticket]:
    return Page([entry.ticket for entry in entries], next=entries.next)


Walk = Callable[[Helpdesk, int, str | None], Page[Ticket]]

_WALKS: dict[str, Walk] = {
    "find by creation": lambda desk, size, after: desk.find(limit=size, after=after),
    "find newest first by update": lambda desk, size, after: desk.find(
        order_by="updated_at", descending=True, limit=size, after=after
    ),
    "search": lambda desk, size, after: desk.search("vpn", limit=size, after=after),
    "waiting queue": lambda desk, size, after: _tickets_of(
        desk.queue(order="waiting", limit=size, after=after)
    ),
}


@pytest.mark.parametrize("kind", list(_LOCAL_STORES))
@pytest.mark.parametrize("walk", list(_WALKS))
@given(
    before=st.lists(_tickets, max_size=8),
    during=st.lists(st.lists(_tickets, max_size=2), max_size=8),
    size=st.integers(1, 3),
)
@_SETTINGS
def test_a_walk_through_the_pages_shows_each_ticket_once_while_tickets_are_created(
    kind: str,
    walk: str,
    before: list[tuple[str, str, list[str]]],
    during: list[list[tuple[str, str, list[str]]]],
    size: int,
) -> None:
    clock = ManualClock(START)
    desk = Helpdesk(store=_LOCAL_STORES[kind](), clock=clock, rules=())
    for drawn in before:
        _open(desk, clock, drawn)
    listing = _WALKS[walk]
    whole = [ticket.id for ticket in listing(desk, 10**6, None)]
    walked: list[str] = []
    page, created = listing(desk, size, None), iter(during)
    while True:
        assert len(page) <= size
        walked += [ticket.id for ticket in page]
        for drawn in next(created, []):
            _open(desk, clock, drawn)
        if page.next is None:
            break
        page = listing(desk, size, page.next)
    assert len(walked) == len(set(walked)), "no ticket is shown twice"
    assert [ticket_id for ticket_id in walked if ticket_id in whole] == whole, (
        "every ticket there when the walk began is shown, in order"
    )
    final = [ticket.id for ticket in listing(desk, 10**6, None)]
    assert walked == [ticket_id for ticket_id in final if ticket_id in walked], (
        "the walk shows its tickets in the list's order"
    )


@pytest.mark.parametrize("kind", list(_LOCAL_STORES))
@given(tickets=st.lists(_tickets, max_size=8), size=st.integers(1, 4), text=_texts)
@_SETTINGS
def test_pages_without_inserts_are_exactly_the_unpaged_answer(
    kind: str, tickets: list[tuple[str, str, list[str]]], size: int, text: str
) -> None:
    clock = ManualClock(START)
    desk = Helpdesk(store=_LOCAL_STORES[kind](), clock=clock, rules=())
    for drawn in tickets:
        _open(desk, clock, drawn)
    whole = desk.search(text)
    assert whole.next is None
    walked: list[Ticket] = []
    page = desk.search(text, limit=size)
    while True:
        walked += page
        if page.next is None:
            break
        page = desk.search(text, limit=size, after=page.next)
    assert walked == whole


@given(tickets=st.lists(_tickets, max_size=6), texts=st.lists(_texts, min_size=1, max_size=3))
@_SETTINGS
def test_memory_and_sqlite_agree_on_the_tickets_found_their_scores_and_order(
    tickets: list[tuple[str, str, list[str]]], texts: list[str]
) -> None:
    clock = ManualClock(START)
    desks = [Helpdesk(store=make(), clock=clock, rules=()) for make in _LOCAL_STORES.values()]
    for drawn in tickets:
        for desk in desks:
            _open(desk, clock, drawn)
    for text in texts:
        answers = [desk.store.search(SearchQuery(text)) for desk in desks]
        assert [[(found, t.id) for found, t in answer] for answer in answers[1:]] == [
            [(found, t.id) for found, t in answers[0]]
        ] * (len(desks) - 1)
        for found, ticket in answers[0]:
            bodies = [event.body or "" for event in desks[0].history(ticket.id)[1:]]
            assert found == score(
                SearchQuery(text).sought, ticket.subject, ticket.description, bodies
            )


_ascii_texts = _texts.filter(lambda text: "café" not in text)


@given(
    tickets=st.lists(_tickets, max_size=5), texts=st.lists(_ascii_texts, min_size=1, max_size=3)
)
@settings(_SETTINGS, max_examples=15)
def test_the_three_stores_agree_on_which_tickets_match(
    pool: ConnectionPool, tickets: list[tuple[str, str, list[str]]], texts: list[str]
) -> None:
    clock = ManualClock(START)
    postgres = PostgresStore(pool=pool, tenant=new_tenant())
    desks = [
        Helpdesk(store=store, clock=clock, rules=())
        for store in (MemoryStore(), _sqlite_store(), postgres)
    ]
    for drawn in tickets:
        for desk in desks:
            _open(desk, clock, drawn)
    for text in texts:
        found = [sorted(ticket.id for ticket in desk.search(text)) for desk in desks]
        assert found[1:] == [found[0]] * 2, f"{text!r} finds the same tickets on every store"
        # Paging on PostgreSQL's own ranking gives its whole answer too.
        walked, page = [], desks[2].search(text, limit=2)
        while True:
            walked += page
            if page.next is None:
                break
            page = desks[2].search(text, limit=2, after=page.next)
        assert walked == desks[2].search(text)


@pytest.mark.parametrize("kind", ["memory", "sqlite", "postgres"])
@given(text=st.text(max_size=30))
@settings(_SETTINGS, max_examples=40)
def test_any_text_is_searched_as_words_or_refused_never_a_database_error(
    request: pytest.FixtureRequest, kind: str, text: str
) -> None:
    if kind == "postgres":
        store: Store = PostgresStore(pool=request.getfixturevalue("pool"), tenant="search-fuzz")
    else:
        store = _LOCAL_STORES[kind]()
    desk = Helpdesk(store=store, clock=ManualClock(START), rules=())
    if not desk.find(limit=1):
        desk.open(subject="VPN drops", description="Every hour.", requester=ANA)
    found: list[Ticket] = []
    refused: InvalidInput | None = None
    try:
        found = desk.search(text)
    except InvalidInput as error:
        refused = error
    assert refused is None or refused.field == "text"
    assert all(isinstance(ticket, Ticket) for ticket in found)


# -- cursors ------------------------------------------------------------


@pytest.fixture
def paged() -> Helpdesk:
    clock = ManualClock(START)
    desk = Helpdesk(clock=clock, rules=())
    for subject in ("VPN drops", "VPN slow", "Printer"):
        clock.advance(timedelta(minutes=1))
        desk.open(subject=subject, description="Broken vpn.", requester=ANA)
    return desk


def test_a_cursor_of_another_question_is_refused(paged: Helpdesk) -> None:
    found, searched = paged.find(limit=1), paged.search("vpn", limit=1)
    queued = paged.queue(order="waiting", limit=1)
    assert found.next
    assert searched.next
    assert queued.next
    refusals = [
        lambda: paged.search("vpn", limit=1, after=found.next),
        lambda: paged.search("drops", limit=1, after=searched.next),
        lambda: paged.search("vpn", status="new", after=searched.next),
        lambda: paged.find(limit=1, descending=True, after=found.next),
        lambda: paged.find(assignee="a-1", after=found.next),
        lambda: paged.queue(order="sla", after=queued.next),
        lambda: paged.find(after=queued.next),
    ]
    for refused in refusals:
        with pytest.raises(InvalidInput, match="continues another") as caught:
            refused()
        assert caught.value.field == "after"


@pytest.mark.parametrize(
    "cursor", ["", "not a cursor", "eyJ2IjoyfQ", "e30", "W10", "🙂", 7, b"abc", ["x"]]
)
def test_a_damaged_cursor_is_refused_with_invalid_input(paged: Helpdesk, cursor: object) -> None:
    for listing in (paged.find, lambda **kw: paged.search("vpn", **kw), paged.queue):
        with pytest.raises(InvalidInput) as caught:
            listing(after=cursor)
        assert caught.value.field == "after"


def test_a_forged_key_in_a_cursor_of_the_right_question_is_refused(paged: Helpdesk) -> None:
    from ticketflow._paging import encode_cursor  # noqa: PLC0415 - forging needs the private codec

    question = paged.find(limit=1).next
    assert question is not None
    good = {
        "statuses": None,
        "assignee": None,
        "department": None,
        "requester": None,
        "tags": [],
        "due": None,
        "order_by": "created_at",
        "descending": False,
    }
    for key in ([1, "T-1"], ["yesterday", "T-1"], ["2026-01-05T09:00:00", "T-1"], [None]):
        with pytest.raises(InvalidInput, match="as it was given"):
            paged.find(after=encode_cursor("find", good, key))


def test_the_last_page_has_no_next_and_a_zero_limit_gives_an_empty_page(paged: Helpdesk) -> None:
    assert paged.find(limit=3).next is None
    assert paged.find(limit=0) == []
    assert paged.find(limit=0).next is None
    assert paged.search("vpn", limit=0) == []
    assert paged.find() == paged.find(limit=10)


# -- migrations ---------------------------------------------------------


def test_opening_an_older_sqlite_file_indexes_the_tickets_it_holds(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    clock = ManualClock(START)
    with SQLiteStore(path) as store:
        desk = Helpdesk(store=store, clock=clock, rules=())
        ticket = desk.open(subject="VPN drops", description="Every hour.", requester=ANA)
        desk.note(ticket.id, AGENT, "Quokka firmware suspected.")
        desk.resolve(ticket.id, ADMIN, body="Walrus.")
    # The file as the schema version before search left it: no search tables.
    before_search = _sqlite.MIGRATIONS.index(_sqlite._SEARCH)
    with sqlite3.connect(path) as older:
        older.execute("DROP TABLE search")
        older.execute("DROP TABLE search_keys")
        older.execute("DROP INDEX tickets_by_created_at_id")
        older.execute("UPDATE schema_version SET version = ?", (before_search,))
    with SQLiteStore(path) as store:
        assert store.schema_version == _sqlite.SCHEMA_VERSION
        assert [t.id for _, t in store.search(SearchQuery("quokka hour"))] == [ticket.id]
        assert store.search(SearchQuery("walrus")) == []
        assert store.reindex_search() == 1
        assert [t.id for _, t in store.search(SearchQuery("vpn"))] == [ticket.id]


def test_the_migrations_index_the_searched_events_and_reindexing_reads_the_list_now() -> None:
    # SQLite's migration and both stores' reindex_search read SEARCHED_EVENTS
    # itself; PostgreSQL's migration file names them: none it names is unknown.
    listed = ", ".join(f"'{name}'" for name in SEARCHED_EVENTS)
    assert f"name IN ({listed})" in " ".join(_sqlite.MIGRATIONS[-1])
    assert f"events.name IN ({listed})" in _postgres._REINDEX
    migration = _postgres._sql("007_search.sql").decode()
    named = migration.split("events.name IN (", 1)[1].split(")", 1)[0]
    assert {name.strip(" '") for name in named.split(",")} <= set(SEARCHED_EVENTS)


def test_postgres_migration_indexes_the_tickets_already_stored(pool: ConnectionPool) -> None:
    with scratch_database() as dsn:
        with PostgresStore(dsn, tenant="acme") as store:
            store.migrate()
            desk = Helpdesk(store=store, clock=ManualClock(START), rules=())
            ticket = desk.open(subject="VPN drops", description="Every hour.", requester=ANA)
            desk.reply(ticket.id, AGENT, "Update the client.")
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute("DROP TABLE ticketflow_search")
            connection.execute(
                "UPDATE ticketflow_schema_version SET version = %s",
                (_postgres._MIGRATIONS.index("007_search.sql"),),
            )
        with PostgresStore(dsn, tenant="acme") as store:
            assert store.migrate() == _postgres.SCHEMA_VERSION
            assert [t.id for _, t in store.search(SearchQuery("client hour"))] == [ticket.id]


def test_postgres_search_language_stems_and_an_unknown_one_is_refused(
    pool: ConnectionPool,
) -> None:
    tenant = new_tenant()
    english = PostgresStore(pool=pool, tenant=tenant, search_language="english")
    desk = Helpdesk(store=english, clock=ManualClock(START), rules=())
    ticket = desk.open(subject="Replies bounce", description="Mails bounced.", requester=ANA)
    assert [t.id for t in desk.search("reply")] == [ticket.id]
    simple = PostgresStore(pool=pool, tenant=tenant)
    assert simple.search_language == "simple"
    assert simple.reindex_search() == 1
    assert simple.search(SearchQuery("reply")) == []
    assert [t.id for _, t in simple.search(SearchQuery("replies"))] == [ticket.id]
    with pytest.raises(InvalidInput, match="search_language"):
        PostgresStore(pool=pool, tenant=tenant, search_language="klingon").get(ticket.id)
    with pytest.raises(InvalidInput, match="search_language"):
        PostgresStore(pool=pool, search_language="")


# -- the command line ---------------------------------------------------


def test_ticketflow_search_prints_the_tickets_found_and_the_next_page(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "desk.sqlite3"
    with SQLiteStore(path) as store:
        desk = Helpdesk(store=store, clock=ManualClock(START), rules=())
        for subject in ("VPN drops", "Printer jam", "VPN slow"):
            desk.open(subject=subject, description="Help.", requester=ANA)
    assert main(["search", "--db", str(path), "VPN", "--limit", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].startswith("T-1 ")
    assert lines[-1] == "1 ticket"
    cursor = lines[-2].removeprefix("next page: --after ")
    assert main(["search", "--db", str(path), "VPN", "--after", cursor]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].startswith("T-3 ")
    assert lines[-1] == "1 ticket"
    assert main(["search", "--db", str(path), "?!"]) == 2
    assert "text must be words to search for" in capsys.readouterr().err
    assert main(["list", "--db", str(path), "--after", cursor]) == 2
    assert "continues another" in capsys.readouterr().err


# -- plans: a page is a range of an index, never a scan of every ticket --


def test_sqlite_reads_a_page_of_a_walk_and_a_search_through_indexes(tmp_path: Path) -> None:
    path = tmp_path / "plans.sqlite3"
    SQLiteStore(path).close()
    connection = sqlite3.connect(path)
    connection.execute("ANALYZE")
    position = (START, "T-9")
    plans = {}
    for name, (statement, parameters) in {
        "find": _sqlite.query_sql(TicketQuery(limit=50, after=position)),
        "find newest first": _sqlite.query_sql(
            TicketQuery(limit=50, descending=True, after=position)
        ),
        "search": _sqlite.search_sql(SearchQuery("vpn drops", limit=50, after=(4.0, "T-9"))),
    }.items():
        plans[name] = [
            row[3] for row in connection.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)
        ]
    connection.close()
    assert plans["find"] == ["SEARCH tickets USING INDEX tickets_by_created_at_id (created_at>?)"]
    assert plans["find newest first"] == [
        "SEARCH tickets USING INDEX tickets_by_created_at_id (created_at<?)"
    ]
    assert plans["search"][0].startswith("SCAN search VIRTUAL TABLE INDEX")  # FTS5's own index
    assert not [step for step in plans["search"] if step.startswith("SCAN tickets")]


def test_postgres_reads_a_page_of_a_walk_and_a_search_through_indexes() -> None:
    require_server()
    with scratch_database() as dsn:
        with PostgresStore(dsn) as store:
            store.migrate()
        with psycopg.connect(dsn, autocommit=True) as connection:
            # 20,000 tickets written straight in SQL (quick), each with its search document.
            connection.execute(
                "INSERT INTO ticketflow_tickets (tenant, id, version, status, subject, "
                "description, requester_id, requester_name, priority, channel, tags, "
                "tag_list, fields, created_at, updated_at, status_changed_at, reopen_count) "
                "SELECT 'acme', 'T-' || n, 1, 'new', 'VPN ' || (n % 1000), 'Drops.', 'ana', "
                "'Ana', 'normal', 'email', '[]', '{}', '{}', n, n, n, 0 "
                "FROM generate_series(1, 20000) AS n"
            )
            connection.execute(
                "INSERT INTO ticketflow_search (tenant, ticket_id, document) "
                "SELECT tenant, id, to_tsvector('simple', subject) FROM ticketflow_tickets"
            )
            connection.execute("VACUUM ANALYZE")
            plans = {}
            for name, (statement, parameters) in {
                "find": _postgres.query_sql(TicketQuery(limit=50, after=(START, "T-9")), "acme"),
                "search": _postgres.search_sql(SearchQuery("vpn 42", limit=50), "acme", "simple"),
            }.items():
                rows = connection.execute(f"EXPLAIN {statement}", parameters)
                plans[name] = "\n".join(row[0] for row in rows)
    assert "Index Scan using ticketflow_tickets_by_created_at" in plans["find"], plans["find"]
    assert "Bitmap Index Scan on ticketflow_search_by_document" in plans["search"], plans["search"]
    assert "Seq Scan" not in plans["search"], plans["search"]


# -- another process's writers, at the same time ------------------------


def _walk_while_another_writer_creates(make: Callable[[], Store]) -> None:
    """Walk find and search pages on one store while a thread creates tickets on another."""
    clock = ManualClock(START)
    reader = Helpdesk(store=make(), clock=clock, rules=())
    for number in range(40):
        clock.advance(timedelta(minutes=1))
        reader.open(subject=f"VPN {number}", description="Drops.", requester=ANA)
    writer_clock = ManualClock(START + timedelta(days=1))
    writer = Helpdesk(store=make(), clock=writer_clock, rules=())
    stop = threading.Event()

    def create() -> None:
        while not stop.is_set():
            writer_clock.advance(timedelta(seconds=1))
            writer.open(subject="VPN too", description="Also drops.", requester=ANA)

    for listing in (
        lambda after: reader.find(limit=7, descending=True, after=after),  # new ones first
        lambda after: reader.search("vpn", limit=7, after=after),
    ):
        before = [ticket.id for ticket in reader.find() if ticket.subject != "VPN too"]
        stop.clear()
        thread = threading.Thread(target=create)
        thread.start()
        try:
            walked: list[str] = []
            page = listing(None)
            while True:
                walked += [ticket.id for ticket in page]
                if page.next is None:
                    break
                page = listing(page.next)
        finally:
            stop.set()
            thread.join()
        assert len(walked) == len(set(walked)), "no ticket twice"
        assert sorted(set(before) - set(walked)) == [], "no ticket there at the start is skipped"


def test_a_walk_on_sqlite_is_stable_while_another_connection_creates_tickets(
    tmp_path: Path,
) -> None:
    path = tmp_path / "busy.sqlite3"
    _walk_while_another_writer_creates(lambda: SQLiteStore(path))


def test_a_walk_on_postgres_is_stable_while_another_connection_creates_tickets(
    pool: ConnectionPool,
) -> None:
    tenant = new_tenant()
    _walk_while_another_writer_creates(lambda: PostgresStore(pool=pool, tenant=tenant))


def test_ticketflow_search_reads_a_postgresql_tenant(
    pool: ConnectionPool, capsys: pytest.CaptureFixture[str]
) -> None:
    tenant = new_tenant()
    desk = Helpdesk(store=PostgresStore(pool=pool, tenant=tenant), clock=ManualClock(START))
    for subject in ("VPN drops", "Printer jam", "VPN slow"):
        desk.open(subject=subject, description="Help.", requester=ANA)
    dsn = pool.conninfo
    assert isinstance(dsn, str)
    assert main(["search", "--db", dsn, "--tenant", tenant, "vpn", "--limit", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].startswith("T-1 ")
    cursor = lines[-2].removeprefix("next page: --after ")
    assert main(["search", "--db", dsn, "--tenant", tenant, "vpn", "--after", cursor]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[1:-1]] == ["T-3"]


@pytest.mark.parametrize("order", ["sla", "waiting"])
def test_the_queue_pages_by_its_own_key_breached_first_then_due_then_the_rest(
    order: str,
) -> None:
    hour = timedelta(hours=1)
    clock = ManualClock(START)
    desk = Helpdesk(clock=clock, rules=(), sla_policies=[SLAPolicy("p", first_response=8 * hour)])
    for step in range(9):
        clock.advance(hour)
        ticket = desk.open(subject=f"VPN {step}", description="Drops.", requester=ANA)
        if step % 3 == 0:
            desk.reply(ticket.id, AGENT, "On it.")  # answered: no clock, not waiting
    clock.advance(3 * hour)  # the first ones are breached, the others due
    whole = desk.queue(order=order)
    assert {entry.breached for entry in whole} == {True, False}
    walked: list[QueueEntry] = []
    page = desk.queue(order=order, limit=2)
    while True:
        walked += page
        if page.next is None:
            break
        page = desk.queue(order=order, limit=2, after=page.next)
    assert walked == whole
