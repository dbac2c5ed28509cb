"""The outbox through the desk: records with commits, drains, backoff, dead records, pruning."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ticketflow import (
    Actor,
    Backoff,
    Contact,
    DeliveryFailed,
    HeldRecord,
    Helpdesk,
    InvalidInput,
    ManualClock,
    OutboxRecord,
    PermissionDenied,
)
from ticketflow.storage import MemoryStore, OutboxStore, SQLiteStore, Store

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ANA = Contact(name="Ana", email="ana@example.com")
ADMIN = Actor.admin("ad-1")
FAST = Backoff(first=timedelta(seconds=1), factor=2, jitter=0)


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "memory":
        yield MemoryStore()
        return
    sqlite = SQLiteStore(tmp_path / "desk.sqlite3")
    yield sqlite
    sqlite.close()


def desk_on(store: Store, outbox: object = True) -> Helpdesk:
    return Helpdesk(store, ManualClock(START), outbox=outbox)  # type: ignore[arg-type]


def opened(desk: Helpdesk, subject: str = "Invoice") -> str:
    return desk.open(subject=subject, description="Charged twice.", requester=ANA).id


def advance(desk: Helpdesk, seconds: float) -> None:
    clock = desk.clock
    assert isinstance(clock, ManualClock)
    clock.advance(timedelta(seconds=seconds))


class Flaky:
    """A handler that fails on the records it is told to, and keeps what it took."""

    def __init__(self) -> None:
        self.failing: set[str] = set()
        self.taken: list[str] = []

    def __call__(self, record: OutboxRecord) -> None:
        if record.id in self.failing or record.ticket_id in self.failing:
            raise ConnectionError(f"cannot send {record.id}")
        self.taken.append(record.id)


def test_a_desk_without_outbox_writes_no_records_but_can_read_them(store: Store) -> None:
    desk = desk_on(store, outbox=False)
    opened(desk)
    assert desk.outbox.read() == []
    assert desk.outbox.events is None


def test_every_event_gets_a_record_and_the_selection_only_its_own(store: Store) -> None:
    desk = desk_on(store, outbox={"create", "resolve"})
    ticket_id = opened(desk)
    desk.note(ticket_id, ADMIN, "Checked.")
    desk.resolve(ticket_id, ADMIN)
    assert [(r.id, r.event) for r in desk.outbox.read()] == [
        (f"{ticket_id}#1", "create"),
        (f"{ticket_id}#3", "resolve"),
    ]
    assert desk.outbox.events == frozenset({"create", "resolve"})


def test_a_refused_command_writes_no_record(store: Store) -> None:
    desk = desk_on(store)
    ticket_id = opened(desk)
    with pytest.raises(PermissionDenied):
        desk.resolve(ticket_id, Actor.agent("a-2"))
    assert [r.event for r in desk.outbox.read()] == ["create"]


def test_a_handler_that_never_returns_leaves_the_cursor_where_it_was(store: Store) -> None:
    desk = desk_on(store)
    opened(desk)

    def crash(record: OutboxRecord) -> None:
        raise KeyboardInterrupt  # the process stops between handing over and the cursor

    with pytest.raises(KeyboardInterrupt):
        desk.outbox.drain(crash, consumer="mail")
    handler = Flaky()
    assert desk.outbox.drain(handler, consumer="mail").delivered == 1
    assert handler.taken == ["T-1#1"]


def test_a_failing_record_is_retried_after_its_backoff_and_others_flow_on(store: Store) -> None:
    desk = desk_on(store)
    first, second = opened(desk), opened(desk, "Login")
    desk.note(first, ADMIN, "Checked.")
    handler = Flaky()
    handler.failing = {first}
    report = desk.outbox.drain(handler, consumer="mail", backoff=FAST)
    assert (report.delivered, report.failed, report.waiting) == (1, 1, 1)
    assert handler.taken == [f"{second}#1"]
    handler.failing = set()
    assert desk.outbox.drain(handler, consumer="mail", backoff=FAST).handled == 0
    advance(desk, 1)
    assert desk.outbox.drain(handler, consumer="mail", backoff=FAST).delivered == 2
    assert handler.taken == [f"{second}#1", f"{first}#1", f"{first}#2"]


def test_the_backoff_grows_and_the_record_dies_after_its_last_try(store: Store) -> None:
    desk = desk_on(store)
    ticket_id = opened(desk)
    handler = Flaky()
    handler.failing = {ticket_id}
    waits = []
    for _ in range(3):
        report = desk.outbox.drain(handler, consumer="mail", tries=3, backoff=FAST)
        (held,) = _held(desk)
        waits.append((held.next_at - desk.clock.now()).total_seconds())
        advance(desk, 10)
    assert waits[:2] == [1.0, 2.0]
    assert report.dead == 1
    (dead,) = desk.outbox.dead("mail")
    assert (dead.attempts, dead.error) == (3, f"ConnectionError: cannot send {ticket_id}#1")


def _held(desk: Helpdesk, consumer: str = "mail") -> list[HeldRecord]:
    """Every record the consumer holds, dead or alive."""
    store = desk.store
    assert isinstance(store, OutboxStore)
    with store.outbox_claim(consumer, at=desk.clock.now(), lease=timedelta(minutes=1)) as claim:
        assert claim is not None
        return [*claim.held(), *desk.outbox.dead(consumer)]


def test_delivery_failed_without_retry_is_dead_at_once_and_retry_brings_it_back(
    store: Store,
) -> None:
    desk = desk_on(store)
    ticket_id = opened(desk)
    desk.note(ticket_id, ADMIN, "Checked.")
    calls: list[str] = []

    def gone(record: OutboxRecord) -> None:
        calls.append(record.id)
        if record.seq == 1:
            raise DeliveryFailed(record.id, "410 Gone", retry=False)

    report = desk.outbox.drain(gone, consumer="hook")
    assert (report.dead, report.delivered) == (1, 1)  # the next of its ticket flows on
    assert calls == [f"{ticket_id}#1", f"{ticket_id}#2"]
    assert desk.outbox.retry("hook", [999]) == 0
    assert desk.outbox.retry("hook") == 1
    assert desk.outbox.dead("hook") == []
    assert desk.outbox.drain(Flaky(), consumer="hook").delivered == 1


def test_retry_after_is_honoured_when_longer_than_the_backoff(store: Store) -> None:
    desk = desk_on(store)
    opened(desk)

    def busy(record: OutboxRecord) -> None:
        raise DeliveryFailed(record.id, "429", after=120)

    desk.outbox.drain(busy, consumer="hook", backoff=FAST)
    (held,) = _held(desk, "hook")
    assert held.next_at == START + timedelta(seconds=120)


def test_two_consumers_keep_their_own_cursors(store: Store) -> None:
    desk = desk_on(store)
    opened(desk)
    mail, chat = Flaky(), Flaky()
    desk.outbox.drain(mail, consumer="mail")
    opened(desk)
    desk.outbox.drain(chat, consumer="chat")
    desk.outbox.drain(mail, consumer="mail")
    assert mail.taken == chat.taken == ["T-1#1", "T-2#1"]
    assert [(c.name, c.position) for c in desk.outbox.consumers()] == [("chat", 2), ("mail", 2)]


def test_a_batch_limits_what_one_drain_hands_over(store: Store) -> None:
    desk = desk_on(store)
    for _ in range(5):
        opened(desk)
    handler = Flaky()
    assert desk.outbox.drain(handler, consumer="mail", batch=2).position == 2
    assert desk.outbox.drain(handler, consumer="mail", batch=10).delivered == 3


def test_prune_keeps_what_a_consumer_still_needs(store: Store) -> None:
    desk = desk_on(store)
    opened(desk)
    opened(desk)
    desk.outbox.drain(Flaky(), consumer="mail", batch=1)
    advance(desk, 86_400 * 8)
    assert desk.outbox.prune(timedelta(days=7)) == 1
    assert [r.id for r in desk.outbox.read()] == ["T-2#1"]


def test_a_handler_commits_on_sqlite_in_the_drains_transaction(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "desk.sqlite3")
    desk = desk_on(store, outbox={"create"})
    ticket_id = opened(desk)

    def acknowledge(record: OutboxRecord) -> None:
        desk.note(record.ticket_id, ADMIN, f"Mailed {record.id}.")

    desk.outbox.drain(acknowledge, consumer="mail")
    assert desk.history(ticket_id)[-1].body == f"Mailed {ticket_id}#1."
    store.close()


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda d: d.outbox.read(after=-1), "after"),
        (lambda d: d.outbox.read(limit=0), "limit"),
        (lambda d: d.outbox.drain("mail", consumer="mail"), "handler"),
        (lambda d: d.outbox.drain(print, consumer=""), "consumer"),
        (lambda d: d.outbox.drain(print, consumer="m", batch=0), "batch"),
        (lambda d: d.outbox.drain(print, consumer="m", tries=0), "tries"),
        (lambda d: d.outbox.drain(print, consumer="m", backoff=5), "backoff"),
        (lambda d: d.outbox.retry("m", "1"), "positions"),
        (lambda d: d.outbox.retry("m", [-1]), "positions"),
        (lambda d: d.outbox.prune(7), "retention"),
        (lambda d: Backoff(first=timedelta(seconds=-1)), "first"),
        (lambda d: Backoff(factor=0.5), "factor"),
        (lambda d: Backoff(jitter=2), "jitter"),
        (lambda d: Helpdesk(outbox="resolve"), "outbox"),
    ],
)
def test_bad_arguments_are_refused_by_name_and_change_nothing(
    store: Store, call: object, field: str
) -> None:
    desk = desk_on(store)
    opened(desk)
    with pytest.raises(InvalidInput) as refused:
        call(desk)  # type: ignore[operator]
    assert refused.value.field == field
    assert desk.outbox.consumers() == []
    assert len(desk.outbox.read()) == 1


def test_a_store_without_an_outbox_is_refused_when_the_outbox_is_asked_for() -> None:
    class Plain:
        """A Store that keeps no outbox: every Store method, delegated."""

        def __init__(self) -> None:
            self._inner = MemoryStore()

        def __getattr__(self, name: str) -> object:
            if name.startswith("outbox"):
                raise AttributeError(name)
            return getattr(self._inner, name)

    plain = Plain()
    with pytest.raises(InvalidInput, match="keeps an outbox"):
        Helpdesk(plain, outbox=True)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="keeps an outbox"):
        _ = Helpdesk(plain).outbox  # type: ignore[arg-type]


def test_the_jitter_shortens_a_wait_by_at_most_its_share() -> None:
    backoff = Backoff(first=timedelta(seconds=10), jitter=0.5)
    rng = random.Random(7)  # noqa: S311 - jitter, not a secret
    waits = [backoff.delay(1, rng).total_seconds() for _ in range(200)]
    assert all(5 <= wait <= 10 for wait in waits)
    assert len(set(waits)) > 100
    assert Backoff(most=timedelta(seconds=30), jitter=0).delay(60, rng).total_seconds() == 30


def test_a_sqlite_file_from_before_the_outbox_gets_it_when_opened(tmp_path: Path) -> None:
    from ticketflow.storage import _sqlite  # noqa: PLC0415 - its migrations, by name

    path = tmp_path / "older.sqlite3"
    before = _sqlite.MIGRATIONS.index(_sqlite._OUTBOX)
    older = sqlite3.connect(path)
    older.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    older.execute("INSERT INTO schema_version (version) VALUES (?)", (before,))
    for step in _sqlite.MIGRATIONS[:before]:
        for statement in step:
            older.execute(statement)
    older.commit()
    older.close()
    with SQLiteStore(path) as store:
        assert store.schema_version == _sqlite.SCHEMA_VERSION
        desk = desk_on(store)
        opened(desk)
        assert [record.id for record in desk.outbox.read()] == ["T-1#1"]
