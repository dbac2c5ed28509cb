"""SQLiteStore's batch: the commits of claimed tickets checked at once, written together."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import attrs
import pytest
from support import AGENT, ANA, START

from ticketflow import (
    ConcurrencyConflict,
    Helpdesk,
    HistoryEvent,
    InvalidInput,
    ManualClock,
    StorageError,
    Ticket,
    Workflow,
)
from ticketflow.storage import (
    LedgerEntry,
    Schedule,
    SearchQuery,
    SQLiteStore,
    StoredSLA,
    TicketQuery,
)

LATER = START + timedelta(days=3)
WORKFLOW = Workflow.default()


class Abandoned(Exception):
    """Raised to leave a batch with an error."""


def due_store(path: Path, count: int = 3) -> SQLiteStore:
    """A store with ``count`` tickets waiting on the customer, due for a reminder by LATER."""
    store = SQLiteStore(path)
    desk = Helpdesk(store=store, clock=ManualClock(START))
    for number in range(count):
        ticket = desk.open(subject=f"S{number}", description="d", requester=ANA)
        desk.reply(ticket.id, AGENT, "Which client?")
    return store


def noted(ticket: Ticket, body: str = "Still waiting.") -> tuple[Ticket, HistoryEvent]:
    return WORKFLOW.apply(ticket, "note", AGENT, LATER, body=body)


def entry(ticket: Ticket) -> LedgerEntry:
    return LedgerEntry("remind", ticket.updated_at, LATER)


def note_each(store: SQLiteStore, bodies: list[str], then: type[Exception] | None = None) -> None:
    """In one batch, claim the due tickets and note each with its body (then raise ``then``)."""
    with store.batch():
        claimed = store.due(LATER, limit=10, claim=True)
        for body, (_at, ticket) in zip(bodies, claimed, strict=True):
            new, event = noted(ticket, body)
            store.commit(new, event, ticket.version, [entry(ticket)])
        if then is not None:
            raise then


def refuse_booms(store: SQLiteStore) -> None:
    """Make the file refuse an event whose body is 'Boom.', as a host's trigger might."""
    connection = sqlite3.connect(store.path)
    connection.execute(
        "CREATE TRIGGER refuse BEFORE INSERT ON events WHEN new.body = 'Boom.' "
        "BEGIN SELECT RAISE(ABORT, 'refused by the host'); END"
    )
    connection.close()


@pytest.fixture
def store(tmp_path: Path) -> SQLiteStore:
    return due_store(tmp_path / "tickets.sqlite3")


def test_a_batch_reads_what_its_claimed_tickets_commits_wrote(store: SQLiteStore) -> None:
    with store.batch():
        page = store.due(LATER, limit=10, claim=True)
        assert len(page) == 3
        written = []
        for _at, ticket in page:
            new, event = noted(ticket, f"Quokka {ticket.id}.")
            store.commit(new, event, ticket.version, [entry(ticket)], schedule=Schedule(None, "r"))
            written.append(new)
            assert store.fired("remind", ticket.id, ticket.updated_at)
            assert store.schedule(ticket.id) == Schedule(None, "r")
        for new in written:
            assert store.get(new.id) == new
            assert store.history(new.id)[-1].body == f"Quokka {new.id}."
        assert len(store.search(SearchQuery("quokka"))) == 3
        assert store.count_due(LATER) == 0
    for new in written:
        assert store.get(new.id) == new
        assert len(store.history(new.id)) == 3
    connection = sqlite3.connect(store.path)
    assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert connection.execute("SELECT count(*) FROM ledger").fetchone() == (3,)
    connection.close()


def test_a_stale_or_repeated_commit_of_a_claimed_ticket_is_refused_and_keeps_nothing(
    store: SQLiteStore,
) -> None:
    with store.batch():
        (_at, ticket), *_ = store.due(LATER, limit=10, claim=True)
        new, event = noted(ticket)
        store.commit(new, event, ticket.version, [entry(ticket)])
        stale, stale_event = noted(ticket, "Stale.")
        with pytest.raises(ConcurrencyConflict):
            store.commit(stale, stale_event, ticket.version)
        again, again_event = noted(new, "Again.")
        with pytest.raises(ConcurrencyConflict):
            store.commit(again, again_event, new.version, [entry(ticket)])
        twice = LedgerEntry("twice", LATER, LATER)
        with pytest.raises(ConcurrencyConflict):
            store.commit(again, again_event, new.version, [twice, twice])
        store.commit(again, again_event, new.version)
    assert store.get(ticket.id) == again
    assert [event.body for event in store.history(ticket.id)[2:]] == ["Still waiting.", "Again."]


def test_text_utf8_cannot_encode_is_refused_naming_its_column_and_the_batch_goes_on(
    store: SQLiteStore,
) -> None:
    with store.batch():
        (_at, first), (_at2, second), *_ = store.due(LATER, limit=10, claim=True)
        bad, bad_event = noted(first)
        with pytest.raises(InvalidInput, match=r"body must be text without lone surrogates"):
            store.commit(bad, attrs.evolve(bad_event, body="x\ud800"), first.version)
        new, event = noted(second)
        store.commit(new, event, second.version)
    assert len(store.history(first.id)) == 2
    assert store.get(second.id) == new


def test_a_fault_writing_the_batch_out_rolls_all_of_it_back(store: SQLiteStore) -> None:
    refuse_booms(store)
    page = store.due(LATER, limit=10)
    with pytest.raises(StorageError, match="refused by the host"):
        note_each(store, ["Fine.", "Boom.", "Fine."])
    for _at, ticket in page:
        assert store.get(ticket.id) == ticket
        assert len(store.history(ticket.id)) == 2
        assert not store.fired("remind", ticket.id, ticket.updated_at)
    assert store.count_due(LATER) == 3


def test_a_fault_seen_by_a_read_inside_the_batch_still_rolls_it_back(store: SQLiteStore) -> None:
    refuse_booms(store)
    page = store.due(LATER, limit=10)

    def swallowing() -> None:
        with store.batch():
            (_at, ticket), (_at2, other), *_ = store.due(LATER, limit=10, claim=True)
            new, event = noted(ticket, "Boom.")
            store.commit(new, event, ticket.version)
            with pytest.raises(StorageError, match="refused by the host"):
                store.count_due(LATER)  # a read that writes the batch out first
            fine, fine_event = noted(other)
            store.commit(fine, fine_event, other.version)

    with pytest.raises(StorageError, match="rolled back"):
        swallowing()
    assert [store.get(ticket.id) for _at, ticket in page] == [ticket for _at, ticket in page]


def test_a_batch_inside_a_batch_undoes_its_own_writes_alone(store: SQLiteStore) -> None:
    with store.batch():
        (_at, first), (_at2, second), *_ = store.due(LATER, limit=10, claim=True)
        kept, kept_event = noted(first)
        store.commit(kept, kept_event, first.version, [entry(first)])
        try:
            with store.batch():
                undone, undone_event = noted(second)
                store.commit(undone, undone_event, second.version, [entry(second)])
                assert store.get(second.id) == undone
                raise Abandoned
        except Abandoned:
            pass
        assert store.get(second.id) == second
        assert not store.fired("remind", second.id, second.updated_at)
        after, after_event = noted(kept, "After.")
        store.commit(after, after_event, kept.version)
    assert store.get(first.id) == after
    assert store.get(second.id) == second


def test_an_error_leaving_the_batch_undoes_the_kept_commits(store: SQLiteStore) -> None:
    page = store.due(LATER, limit=10)
    with pytest.raises(Abandoned):
        note_each(store, ["Fine."] * 3, then=Abandoned)
    for _at, ticket in page:
        assert store.get(ticket.id) == ticket
        assert not store.fired("remind", ticket.id, ticket.updated_at)


def test_the_schedule_sla_and_figures_are_stored_whether_they_changed_or_not(
    store: SQLiteStore,
) -> None:
    (_at, ticket), *_ = store.due(LATER, limit=10)
    before = store.schedule(ticket.id), store.sla(ticket.id), store.figures(ticket.id)
    sla = StoredSLA(LATER, "s1-x", "[1]")
    with store.batch():
        store.due(LATER, limit=10, claim=True)
        new, event = noted(ticket)
        store.commit(new, event, ticket.version, schedule=before[0], sla=sla, figures=before[2])
        assert store.sla(ticket.id) == sla
        newer, newer_event = noted(new, "Again.")
        store.commit(newer, newer_event, new.version, schedule=Schedule(LATER, "r2"), sla=sla)
    assert store.schedule(ticket.id) == Schedule(LATER, "r2")
    assert store.sla(ticket.id) == sla
    assert store.figures(ticket.id) is None
    assert store.sla_queue(TicketQuery(), limit=5)[0][1] == newer
    assert newer in [due for _at, due in store.due(LATER, limit=10)]
