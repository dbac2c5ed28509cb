"""The unit of work: read, step, compare-and-set commit with retry, purge, hooks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from support import ANA, START

from ticketflow import (
    Actor,
    ConcurrencyConflict,
    HistoryEvent,
    HookFailed,
    InvalidInput,
    ManualClock,
    Ticket,
    TicketNotFound,
    Workflow,
)
from ticketflow._unit import Change, UnitOfWork
from ticketflow.storage import (
    NO_SLA,
    UNSCHEDULED,
    Figures,
    LedgerEntry,
    MemoryStore,
    Schedule,
    StoredSLA,
)

WORKFLOW = Workflow.default()
AGENT = Actor.agent("a-1")


def unit_with(store: MemoryStore | None = None, retries: int = 3) -> UnitOfWork:
    return UnitOfWork(MemoryStore() if store is None else store, ManualClock(START), [], retries)


def opened(unit: UnitOfWork) -> Ticket:
    ticket, event = WORKFLOW.create(
        unit.store.new_id(), Actor.customer(ANA.id), unit.now(),
        subject="VPN", description="d", requester=ANA,
    )  # fmt: skip
    return unit.create(ticket, event)


def note(text: str) -> object:
    def step(ticket: Ticket) -> Change:
        return Change(*WORKFLOW.apply(ticket, "note", AGENT, START, body=text))

    return step


def test_a_step_that_returns_nothing_commits_nothing() -> None:
    unit = unit_with()
    ticket = opened(unit)
    assert unit.run(ticket.id, lambda _ticket: None) is None
    assert unit.store.get(ticket.id).version == 1


def test_a_change_is_committed_with_its_ledger_entries_and_hooks_see_it() -> None:
    unit = unit_with()
    seen: list[tuple[str, str]] = []
    unit.hooks.append(lambda t, e: seen.append((t.id, e.name)))
    ticket = opened(unit)

    def step(current: Ticket) -> Change:
        new, event = WORKFLOW.apply(current, "note", AGENT, START, body="x")
        return Change(new, event, (LedgerEntry("r", START, START),))

    change = unit.run(ticket.id, step)
    assert change is not None
    assert unit.store.get(ticket.id).version == 2
    assert unit.store.fired("r", ticket.id, START)
    assert seen == [(ticket.id, "create"), (ticket.id, "note")]


class Racy(MemoryStore):
    """A store where another writer commits first, ``races`` times."""

    def __init__(self, races: int) -> None:
        super().__init__()
        self.races = races
        self.steps = 0

    def commit(
        self,
        ticket: Ticket,
        event: HistoryEvent,
        expected_version: int,
        ledger: object = (),
        *,
        schedule: Schedule = UNSCHEDULED,
        sla: StoredSLA = NO_SLA,
        figures: Figures | None = None,
    ) -> None:
        if self.races:
            self.races -= 1
            current = self.get(ticket.id)
            super().commit(*WORKFLOW.apply(current, "note", AGENT, START, body="first"),
                           current.version)  # fmt: skip
        super().commit(ticket, event, expected_version, ledger, schedule=schedule, sla=sla,  # type: ignore[arg-type]
                       figures=figures)  # fmt: skip


def test_a_conflict_reruns_the_step_on_a_fresh_read() -> None:
    store = Racy(races=2)
    unit = unit_with(store)
    ticket = opened(unit)
    reads: list[int] = []

    def step(current: Ticket) -> Change:
        reads.append(current.version)
        return Change(*WORKFLOW.apply(current, "note", AGENT, START, body="mine"))

    change = unit.run(ticket.id, step)
    assert change is not None
    assert reads == [1, 2, 3]
    assert [e.body for e in store.history(ticket.id)][1:] == ["first", "first", "mine"]


def test_a_conflict_beyond_the_retries_is_raised_and_the_step_wrote_nothing() -> None:
    store = Racy(races=2)
    unit = unit_with(store, retries=1)
    ticket = opened(unit)
    with pytest.raises(ConcurrencyConflict):
        unit.run(ticket.id, lambda t: Change(*WORKFLOW.apply(t, "note", AGENT, START, body="m")))
    assert [e.body for e in store.history(ticket.id)][1:] == ["first", "first"]


def test_a_stale_first_read_costs_one_retry() -> None:
    unit = unit_with()
    ticket = opened(unit)
    unit.run(ticket.id, lambda t: Change(*WORKFLOW.apply(t, "note", AGENT, START, body="a")))
    reads: list[int] = []

    def step(current: Ticket) -> Change:
        reads.append(current.version)
        return Change(*WORKFLOW.apply(current, "note", AGENT, START, body="b"))

    unit.run(ticket.id, step, read=ticket)  # ticket is version 1; the store has 2
    assert reads == [1, 2]
    assert unit.store.get(ticket.id).version == 3


def test_a_purging_change_removes_the_ticket() -> None:
    unit = unit_with()
    ticket = opened(unit)
    spam = Change(*WORKFLOW.apply(ticket, "mark_spam", Actor.admin("ad"), START))
    unit.run(ticket.id, lambda _t: spam)
    purge = WORKFLOW.apply(unit.store.get(ticket.id), "purge", Actor.admin("ad"), START)
    unit.run(ticket.id, lambda _t: Change(*purge, purge=True))
    with pytest.raises(TicketNotFound):
        unit.store.get(ticket.id)


def test_failing_hooks_all_run_and_are_reported_after_the_commit() -> None:
    unit = unit_with()
    ran: list[str] = []

    def broken(_ticket: Ticket, _event: HistoryEvent) -> None:
        ran.append("broken")
        raise RuntimeError("mail down")

    unit.hooks.extend([broken, lambda _t, _e: ran.append("fine")])
    with pytest.raises(HookFailed, match="mail down"):
        opened(unit)
    assert ran == ["broken", "fine"]
    assert unit.store.get("T-1").version == 1


def test_now_never_goes_before_the_tickets_last_update() -> None:
    unit = unit_with()
    ticket = opened(unit)
    later = Ticket(**{**ticket.__dict__, "updated_at": START + timedelta(hours=1)})
    assert unit.now(later) == START + timedelta(hours=1)
    assert unit.now() == START


@pytest.mark.parametrize("retries", [-1, 1.5, True, "3"])
def test_retries_must_be_a_whole_number(retries: object) -> None:
    with pytest.raises(InvalidInput, match="retries must be a whole number"):
        UnitOfWork(MemoryStore(), ManualClock(START), [], retries)  # type: ignore[arg-type]
