"""Batched firing: due tickets claimed and fired a batch at a time; a fault stays its own."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from contextlib import AbstractContextManager
from datetime import timedelta
from pathlib import Path

import pytest
from support import AGENT, ANA, START

from ticketflow import (
    Actor,
    Helpdesk,
    HistoryEvent,
    InvalidInput,
    ManualClock,
    StorageError,
    Ticket,
)
from ticketflow.rules import default_rules
from ticketflow.storage import (
    NO_SLA,
    UNSCHEDULED,
    Figures,
    LedgerEntry,
    MemoryStore,
    Schedule,
    SQLiteStore,
    Store,
    StoredSLA,
)

DAY = timedelta(days=2)


def waiting(desk: Helpdesk, count: int) -> list[str]:
    """``count`` tickets waiting on the customer: each due for a reminder in 2 days."""
    ids = []
    for number in range(count):
        ticket = desk.open(subject=f"S{number}", description="d", requester=ANA)
        desk.reply(ticket.id, AGENT, "Which client?")
        ids.append(ticket.id)
    return ids


def reminders(store: Store, ticket_id: str) -> int:
    return sum(event.name == "remind" for event in store.history(ticket_id))


class Counting:
    """Counts the batches a store opens."""

    def __init__(self) -> None:
        self.batches = 0


def counting(store_class: type[MemoryStore] | type[SQLiteStore]) -> type:
    class CountingStore(store_class):  # type: ignore[misc, valid-type]
        opened = 0

        def batch(self) -> AbstractContextManager[None]:
            type(self).opened += 1
            return super().batch()  # type: ignore[no-any-return]

    return CountingStore


def faulty(store_class: type[MemoryStore] | type[SQLiteStore], bad: set[str]) -> type:
    """A store whose commits of the tickets in ``bad`` fail as a broken disk would."""

    class FaultyStore(store_class):  # type: ignore[misc, valid-type]
        def commit(
            self,
            ticket: Ticket,
            event: HistoryEvent,
            expected_version: int,
            ledger: Iterable[LedgerEntry] = (),
            *,
            schedule: Schedule = UNSCHEDULED,
            sla: StoredSLA = NO_SLA,
            figures: Figures | None = None,
        ) -> None:
            if ticket.id in bad:
                raise StorageError("faulty", f"cannot write {ticket.id}")
            super().commit(
                ticket,
                event,
                expected_version,
                ledger,
                schedule=schedule,
                sla=sla,
                figures=figures,
            )

    return FaultyStore


@pytest.fixture(params=["memory", "sqlite"])
def kind(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, Path]:
    return request.param, tmp_path / "tickets.sqlite3"


def make(kind: tuple[str, Path], store_class: type) -> Store:
    name, path = kind
    return store_class() if name == "memory" else store_class(path)  # type: ignore[no-any-return]


def test_due_tickets_are_fired_a_batch_to_a_transaction(kind: tuple[str, Path]) -> None:
    store_class = counting(MemoryStore if kind[0] == "memory" else SQLiteStore)
    clock = ManualClock(START)
    desk = Helpdesk(store=make(kind, store_class), clock=clock)
    ids = waiting(desk, 7)
    clock.advance(DAY)
    store_class.opened = 0
    report = desk.run_rules(batch=3)
    assert sorted(firing.ticket_id for firing in report.fired) == sorted(ids)
    assert store_class.opened == 4  # 3 + 3 + 1, then one that finds none due


def test_a_ticket_that_fails_rolls_back_its_batch_and_alone_is_a_skip(
    kind: tuple[str, Path],
) -> None:
    clock = ManualClock(START)
    healthy = MemoryStore if kind[0] == "memory" else SQLiteStore
    bad: set[str] = set()
    store = make(kind, faulty(healthy, bad))
    seen: list[tuple[str, str]] = []
    desk = Helpdesk(store=store, clock=clock, hooks=[lambda t, e: seen.append((t.id, e.name))])
    ids = waiting(desk, 5)
    seen.clear()
    bad.add(ids[2])
    clock.advance(DAY)
    report = desk.run_rules(batch=5)
    fired = sorted(firing.ticket_id for firing in report.fired)
    assert fired == sorted(set(ids) - {ids[2]})
    assert [(skip.rule, skip.ticket_id) for skip in report.skipped] == [("*", ids[2])]
    assert "cannot write" in report.skipped[0].reason
    for ticket_id in ids:  # once each, though the first batch fired some before it failed
        assert reminders(store, ticket_id) == (0 if ticket_id == ids[2] else 1)
    # Hooks ran once for each kept firing, none for the batch that rolled back.
    assert sorted(seen) == sorted((ticket_id, "remind") for ticket_id in fired)
    bad.clear()
    assert [firing.ticket_id for firing in desk.run_rules().fired] == [ids[2]]


def test_a_store_failing_every_ticket_raises_after_trying_each_alone(
    kind: tuple[str, Path],
) -> None:
    clock = ManualClock(START)
    bad: set[str] = set()
    store = make(kind, faulty(MemoryStore if kind[0] == "memory" else SQLiteStore, bad))
    desk = Helpdesk(store=store, clock=clock)
    ids = waiting(desk, 3)
    bad.update(ids)
    clock.advance(DAY)
    with pytest.raises(StorageError, match="cannot write"):
        desk.run_rules()
    assert all(reminders(store, ticket_id) == 0 for ticket_id in ids)


def test_stop_ends_the_sweep_between_batches() -> None:
    clock = ManualClock(START)
    desk = Helpdesk(clock=clock)
    waiting(desk, 5)
    clock.advance(DAY)
    asked: list[int] = []

    def stop() -> bool:
        asked.append(1)
        return len(asked) > 1  # after the first batch

    assert len(desk.run_rules(batch=2, stop=stop).fired) == 2
    assert len(desk.run_rules().fired) == 3


def test_batch_and_stop_are_checked() -> None:
    desk = Helpdesk()
    with pytest.raises(InvalidInput, match="batch must be"):
        desk.run_rules(batch=0)
    with pytest.raises(InvalidInput, match="stop must be None or a function"):
        desk.run_rules(stop=True)  # type: ignore[arg-type]


def test_a_memory_batch_that_fails_leaves_the_store_as_it_was() -> None:
    store = MemoryStore()
    desk = Helpdesk(store=store, clock=ManualClock(START), rules=default_rules())
    (ticket_id,) = waiting(desk, 1)
    before = (store.get(ticket_id), store.history(ticket_id), store.schedule(ticket_id))
    admin = Actor.admin("ad-1")

    def note_delete_purge_then_fail() -> None:
        with store.batch():
            desk.note(ticket_id, AGENT, "inside")
            desk.delete(ticket_id, admin)
            desk.purge(ticket_id, admin)
            raise RuntimeError

    with pytest.raises(RuntimeError):
        note_delete_purge_then_fail()
    assert (store.get(ticket_id), store.history(ticket_id), store.schedule(ticket_id)) == before


def test_two_threads_sweeping_one_sqlite_file_fire_each_ticket_once(tmp_path: Path) -> None:
    path = tmp_path / "tickets.sqlite3"
    clock = ManualClock(START)
    desk = Helpdesk(store=SQLiteStore(path), clock=clock)
    ids = waiting(desk, 40)
    clock.advance(DAY)
    reports = []

    def sweep() -> None:
        store = SQLiteStore(path, timeout=30)
        reports.append(Helpdesk(store=store, clock=clock).run_rules(batch=5))
        store.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    fired = [firing.ticket_id for report in reports for firing in report.fired]
    assert sorted(fired) == sorted(ids)
    assert all(reminders(desk.store, ticket_id) == 1 for ticket_id in ids)


# -- found in review ------------------------------------------------------------------


def poison(ticket: Ticket, _history: object) -> dict[str, object]:
    """A host's action that fails on tickets tagged 'poison'."""
    if "poison" in ticket.tags:
        raise RuntimeError(f"cannot remind about {ticket.id}")
    return {"body": "Any news?"}


def poisoned_desk(store: Store, clock: ManualClock) -> Helpdesk:
    from ticketflow.rules import Action, InCategory, Rule, Since  # noqa: PLC0415

    remind = Rule(
        "remind",
        InCategory("pending") & Since("last_agent_activity_at", after=DAY),
        Action("remind", poison),
    )
    return Helpdesk(store=store, clock=clock, rules=[remind])


@pytest.mark.parametrize("batch", [1, 2, 100])
def test_a_ticket_whose_action_fails_is_a_skip_even_alone_in_its_batch(
    kind: tuple[str, Path], batch: int
) -> None:
    clock = ManualClock(START)
    store = make(kind, MemoryStore if kind[0] == "memory" else SQLiteStore)
    desk = poisoned_desk(store, clock)
    ids = waiting(desk, 4)
    desk.update_tags(ids[0], Actor.admin("ad-1"), add={"poison"})
    clock.advance(DAY)
    report = desk.run_rules(batch=batch)
    assert sorted(firing.ticket_id for firing in report.fired) == sorted(ids[1:])
    assert [(skip.rule, skip.ticket_id) for skip in report.skipped] == [("*", ids[0])]
    assert "RuntimeError: cannot remind about" in report.skipped[0].reason


def test_a_sweep_inside_a_batch_reports_and_notifies_what_it_kept(kind: tuple[str, Path]) -> None:
    clock = ManualClock(START)
    store = make(kind, MemoryStore if kind[0] == "memory" else SQLiteStore)
    seen: list[str] = []
    desk = poisoned_desk(store, clock)
    desk.subscribe(lambda ticket, event: seen.append(ticket.id))
    ids = waiting(desk, 3)
    desk.update_tags(ids[1], Actor.admin("ad-1"), add={"poison"})
    seen.clear()
    clock.advance(DAY)
    with store.batch():  # the host's own transaction around the sweep
        report = desk.run_rules()
    fired = sorted(firing.ticket_id for firing in report.fired)
    assert fired == sorted([ids[0], ids[2]])
    assert sorted(seen) == fired  # every kept firing notified, once
    assert [reminders(store, ticket_id) for ticket_id in ids] == [1, 0, 1]


def test_a_firing_undone_with_its_batch_leaves_no_ledger_entry(kind: tuple[str, Path]) -> None:
    store = make(kind, MemoryStore if kind[0] == "memory" else SQLiteStore)
    clock = ManualClock(START)
    desk = Helpdesk(store=store, clock=clock)
    (ticket_id,) = waiting(desk, 1)
    clock.advance(DAY)
    admin = Actor.admin("ad-1")

    def fire_delete_purge_then_fail() -> None:
        with store.batch():
            desk.run_rules()
            desk.delete(ticket_id, admin)
            desk.purge(ticket_id, admin)
            raise RuntimeError

    with pytest.raises(RuntimeError):
        fire_delete_purge_then_fail()
    episode = store.get(ticket_id).last_agent_activity_at
    assert episode is not None
    assert not store.fired("remind_customer", ticket_id, episode)
    assert [firing.rule for firing in desk.run_rules().fired] == ["remind_customer"]
