"""The outbox part of the store contract: run for every store that keeps an outbox.

A store that is not an :class:`~ticketflow.storage._outbox.OutboxStore` skips
these tests (``unittest.SkipTest``, which pytest reports as skipped).
"""

from __future__ import annotations

import json
import threading
import unittest
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime, timedelta

from ticketflow._actor import Actor
from ticketflow._errors import ClaimExpired, ConcurrencyConflict, InvalidInput
from ticketflow._history import HistoryEvent
from ticketflow._ticket import Contact, Ticket
from ticketflow._workflow import Workflow
from ticketflow.storage import Store
from ticketflow.storage._outbox import HeldRecord, OutboxClaim, OutboxStore
from ticketflow.testing._laws import law
from ticketflow.testing._strategies import CUSTOMER_IDS, START

_WORKFLOW = Workflow.default()
_LEASE = timedelta(minutes=1)


class _Abandoned(Exception):
    """Raised inside a block to leave it with an error."""


def _create(store: OutboxStore, *, outbox: bool = True) -> tuple[Ticket, HistoryEvent]:
    ticket, event = _WORKFLOW.create(
        store.new_id(),
        Actor.customer(CUSTOMER_IDS[0]),
        START,
        subject="Mail bounces",
        description="Since Monday.",
        requester=Contact(name="Ana", email=CUSTOMER_IDS[0]),
    )
    store.create(ticket, event, outbox=outbox)
    return ticket, event


def _reply(
    store: OutboxStore, ticket: Ticket, *, outbox: bool = True, minutes: int = 5
) -> tuple[Ticket, HistoryEvent]:
    at = ticket.updated_at + timedelta(minutes=minutes)
    after, event = _WORKFLOW.apply(ticket, "agent_reply", Actor.agent("a-1"), at, body="On it.")
    store.commit(after, event, ticket.version, outbox=outbox)
    return after, event


@contextmanager
def _claimed(store: OutboxStore, consumer: str) -> Iterator[OutboxClaim]:
    """The consumer's claim, which nobody else holds in these tests."""
    with store.outbox_claim(consumer, at=START, lease=_LEASE) as claim:
        if claim is None:
            raise AssertionError("a claim nobody else holds was refused")
        yield claim


class OutboxContract:
    """What a store that keeps an outbox must do (mixed into ``StoreContract``)."""

    def fresh(self) -> AbstractContextManager[Store]:
        """A new store for the length of a ``with`` block (``StoreContract`` defines it)."""
        raise NotImplementedError

    @contextmanager
    def fresh_outbox(self) -> Iterator[OutboxStore]:
        """A new store, if it keeps an outbox; else the test is skipped."""
        with self.fresh() as store:
            if not isinstance(store, OutboxStore):
                raise unittest.SkipTest(f"{type(store).__name__} keeps no outbox")
            yield store

    def test_outbox_records_are_written_with_their_commits_in_commit_order(self) -> None:
        with self.fresh_outbox() as store:
            law(store.outbox_read(0, 10) == [], "a new store's outbox is empty")
            first, created = _create(store)
            _create(store, outbox=False)
            replied, reply = _reply(store, first)
            records = store.outbox_read(0, 10)
            law([record.id for record in records] == [f"{first.id}#1", f"{first.id}#2"], "ids")
            law(
                [record.position for record in records]
                == sorted({record.position for record in records}),
                "positions grow in commit order",
            )
            record = records[1]
            law(
                (record.ticket_id, record.seq, record.event, record.actor, record.at)
                == (first.id, 2, "agent_reply", "a-1", reply.at),
                "a record names its ticket, event, actor and instant",
            )
            data = json.loads(record.data)
            law(data["schema"] == 1 and data["id"] == record.id, "its JSON is schema 1")
            law(data["body"] == "On it." and data["to_status"] == replied.status, "the event")
            law(data["at"] == reply.at.isoformat(), "times as ISO 8601 text")
            law(records[0].payload["event"] == created.name, "payload parses data")
            law(store.outbox_read(records[0].position, 10) == records[1:], "read after")
            law(store.outbox_read(0, 1) == records[:1], "read at most limit")

    def test_a_refused_or_rolled_back_commit_writes_no_outbox_record(self) -> None:
        with self.fresh_outbox() as store:
            ticket, _ = _create(store)
            _reply(store, ticket)
            try:
                _reply(store, ticket)  # stale: the stored version moved
            except ConcurrencyConflict:
                pass
            else:
                raise AssertionError("a stale commit was accepted")
            law(len(store.outbox_read(0, 10)) == 2, "a conflict writes no record")
            try:
                with store.batch():
                    _create(store)
                    raise _Abandoned
            except _Abandoned:
                pass
            law(len(store.outbox_read(0, 10)) == 2, "a rolled back batch writes none")
            with store.batch():
                _create(store)
            law(len(store.outbox_read(0, 10)) == 3, "a batch that ends well keeps its own")

    def test_a_claimed_cursor_moves_only_when_its_claim_ends_well(self) -> None:
        with self.fresh_outbox() as store:
            ticket, _ = _create(store)
            _reply(store, ticket)
            records = store.outbox_read(0, 10)
            try:
                with _claimed(store, "mail") as claim:
                    law(claim.position == 0, "a new consumer starts at 0")
                    law(claim.read(10) == records, "it reads past its cursor")
                    claim.settle(records[-1].position, [], [])
                    raise _Abandoned
            except _Abandoned:
                pass
            with _claimed(store, "mail") as claim:
                law(claim.position == 0, "an error leaving the claim undoes its settlement")
                held = HeldRecord("mail", records[0], 2, START, "OSError: down", dead=False)
                claim.settle(records[-1].position, [held], [])
            with _claimed(store, "mail") as claim:
                law(claim.position == records[-1].position, "a settlement that ends well stays")
                law(claim.held() == [held], "with the records it holds")
                law(claim.read(10) == [], "nothing past the cursor")
                dead = HeldRecord("mail", records[0], 3, START, "OSError: down", dead=True)
                claim.settle(claim.position, [dead], [])
            law(store.outbox_dead("mail") == [dead], "dead records are listed")
            states = store.outbox_consumers()
            law(
                [(s.name, s.position, s.held, s.dead) for s in states]
                == [("mail", records[-1].position, 0, 1)],
                "consumers list their cursor and counts",
            )
            law(store.outbox_retry("mail", None, START) == 1, "retry brings back the dead")
            with _claimed(store, "mail") as claim:
                (alive,) = claim.held()
                law((alive.attempts, alive.dead) == (0, False), "tried anew")
                claim.settle(claim.position, [], [alive.record.position])
                law(store.outbox_dead("mail") == [], "nothing is dead")

    def test_a_claim_elsewhere_is_skipped_not_waited_for(self) -> None:
        with self.fresh_outbox() as store:
            ticket, _ = _create(store)
            with _claimed(store, "mail") as claim:
                later = START + _LEASE / 2
                law(_elsewhere(store, "mail", later) == [None], "a live claim is skipped at once")
                law(_elsewhere(store, "chat", later) == ["claimed"], "other consumers go on")
                _reply(store, ticket)  # the store's commands go on meanwhile
                claim.settle(1, [], [])
            law(_elsewhere(store, "mail", START) == ["claimed"], "an ended claim is free at once")
            law(store.outbox_consumers()[1].position == 1, "and its settlement was written")

    def test_a_lease_is_renewed_and_one_that_ran_out_is_taken_over_or_held(self) -> None:
        with self.fresh_outbox() as store:
            _create(store)
            _create(store)
            expired = renewed = False
            try:
                with _claimed(store, "mail") as claim:
                    claim.renew(START + _LEASE * 0.9)
                    law(
                        _elsewhere(store, "mail", START + _LEASE * 1.5) == [None],
                        "a renewed lease lives a lease from its renewal",
                    )
                    taken = _elsewhere(store, "mail", START + _LEASE * 2, settle=2)
                    law(taken in ([None], ["claimed"]), "a lease that ran out is taken, or held")
                    try:
                        claim.renew(START + _LEASE * 2)
                        renewed = True
                    except ClaimExpired:
                        pass
                    claim.settle(1, [], [])
            except ClaimExpired:
                expired = True
            (state,) = store.outbox_consumers()
            if taken == ["claimed"]:  # a lease: SQLite, memory
                law(not renewed, "a claim taken over is not renewed")
                law(expired, "a claim taken over writes nothing, and says so as it ends")
                law(state.position == 2, "the claim that took over wrote its own")
            else:  # a lock held for the claim's length: PostgreSQL
                law(renewed and not expired, "a claim held past its lease goes on")
                law(state.position == 1, "and settles")

    def test_pruning_keeps_what_a_consumer_has_not_passed_or_still_holds(self) -> None:
        with self.fresh_outbox() as store:
            ticket, _ = _create(store)
            ticket, _ = _reply(store, ticket)
            _reply(store, ticket)
            first, second, third = store.outbox_read(0, 10)
            with _claimed(store, "mail") as claim:
                held = HeldRecord("mail", first, 1, START, "ValueError: no", dead=False)
                claim.settle(second.position, [held], [])
            with _claimed(store, "chat") as claim:
                claim.settle(third.position, [], [])
            law(store.outbox_prune(START) == 0, "nothing is older than the start")
            later = START + timedelta(days=30)
            law(store.outbox_prune(later) == 1, "the one passed by all and not held")
            law(store.outbox_read(0, 10) == [first, third], "held and unpassed records stay")

    def test_an_outbox_refuses_bad_arguments_and_changes_nothing(self) -> None:
        with self.fresh_outbox() as store:
            _create(store)
            for after, limit in ((-1, 10), (0, 0), ("0", 10), (0, 10_001), (True, 10)):
                try:
                    store.outbox_read(after, limit)  # type: ignore[arg-type]
                except InvalidInput:
                    continue
                raise AssertionError(f"read(after={after!r}, limit={limit!r}) was accepted")
            for consumer in ("", " ", "a\x00b", 7):
                try:
                    with store.outbox_claim(consumer, at=START, lease=_LEASE):  # type: ignore[arg-type]
                        pass
                except InvalidInput:
                    continue
                raise AssertionError(f"consumer {consumer!r} was accepted")
            for at, lease in (
                (START.replace(tzinfo=None), _LEASE),
                (START, timedelta(0)),
                (START, 60),
            ):
                try:
                    with store.outbox_claim("mail", at=at, lease=lease):  # type: ignore[arg-type]
                        pass
                except InvalidInput:
                    continue
                raise AssertionError(f"a claim at {at!r} for {lease!r} was accepted")
            law(store.outbox_consumers() == [], "a refused claim made no consumer")


def _elsewhere(
    store: OutboxStore, consumer: str, at: datetime, *, settle: int | None = None
) -> list[object]:
    """Claim the consumer's cursor in another thread, as another drain would: what it got.

    ``["claimed"]`` (settled at ``settle`` if given), ``[None]`` when it was
    refused, or the error it raised.
    """
    got: list[object] = []

    def other() -> None:
        try:
            with store.outbox_claim(consumer, at=at, lease=_LEASE) as claim:
                got.append(None if claim is None else "claimed")
                if claim is not None and settle is not None:
                    claim.settle(settle, [], [])
        except Exception as error:  # noqa: BLE001 - what the other drain saw
            got.append(error)

    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
    return got
