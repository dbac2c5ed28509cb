"""The outbox, as stores keep it: records, held records, and what a store must do for them.

A commit with ``outbox=True`` also writes one :class:`OutboxRecord` for its
history event, in the same transaction.  Consumers read the records by
position, in commit order, each from its own cursor; a record a consumer
failed to handle is *held* for that consumer (retried later, or set aside as
dead), together with the later records of the same ticket, so every consumer
sees each ticket's records in history order.  The drain's logic lives in
``ticketflow._outbox``; a store only keeps the rows and claims the cursors.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import attrs

from ticketflow._errors import InvalidInput
from ticketflow._validate import to_utc
from ticketflow.storage._codec import time_in, time_out
from ticketflow.storage._protocol import Store

if TYPE_CHECKING:
    from collections.abc import Iterable

    from ticketflow._actor import Actor
    from ticketflow._history import HistoryEvent
    from ticketflow._ticket import Ticket
    from ticketflow.storage._figures import Figures
    from ticketflow.storage._ledger import LedgerEntry
    from ticketflow.storage._schedule import Schedule
    from ticketflow.storage._sla import StoredSLA

SCHEMA = 1
"""The version of the JSON an outbox record carries (:attr:`OutboxRecord.data`)."""

_ERROR_LENGTH = 2000
"""How much of a handler's error a held record keeps."""

_SHORTEST_LEASE = timedelta(seconds=1)
_LONGEST_LEASE = timedelta(days=1)
"""The range of a claim's lease: long enough to renew, short enough to end in a day."""


def record_id(ticket_id: str, seq: int) -> str:
    """The id of the outbox record of a ticket's event: unique, and the same on every store.

    Ticket ids are never reused (not even after a purge), and a ticket's
    events are numbered without gaps, so ``"T-7#3"`` names one event for good:
    consumers use it as their idempotency key.
    """
    return f"{ticket_id}#{seq}"


def record_data(event: HistoryEvent) -> str:
    """The JSON of an outbox record: the history event, in the documented schema 1.

    ``{"schema": 1, "id", "ticket_id", "seq", "event", "at", "actor": {"id",
    "role", "department", "grants"}, "from_status", "to_status", "body",
    "changes"}``: times as ISO 8601 text in UTC, the changed fields as JSON
    values (times as ISO text, priority and channel as their values, tags as
    a sorted list, the requester as an object).
    """
    return _ENCODER.encode(
        {
            "schema": SCHEMA,
            "id": record_id(event.ticket_id, event.seq),
            "ticket_id": event.ticket_id,
            "seq": event.seq,
            "event": event.name,
            "at": event.at.isoformat(),
            "actor": _actor(event.actor),
            "from_status": event.from_status,
            "to_status": event.to_status,
            "body": event.body,
            "changes": {name: _plain(value) for name, value in event.changes.items()},
        }
    )


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
"""One encoder for every record (``json.dumps`` with options builds one a call)."""


@functools.lru_cache(maxsize=1024)
def _actor(actor: Actor) -> dict[str, Any]:
    """An actor as a record shows it: the same few actors write most events, so it is kept.

    Shared by the records that name the actor: only read, by the encoder.
    """
    return {
        "id": actor.id,
        "role": actor.role.value,
        "department": actor.department,
        "grants": sorted(actor.grants),
    }


def _plain(value: Any) -> Any:
    """A changed field's value as JSON can hold it."""
    if value is None or type(value) in _AS_IS:
        return value
    if isinstance(value, datetime):
        value = value.isoformat()
    elif isinstance(value, (frozenset, set)):
        value = sorted(value)
    elif isinstance(value, tuple):
        value = [_plain(item) for item in value]
    elif isinstance(value, Mapping):
        value = {key: _plain(item) for key, item in value.items()}
    elif isinstance(getattr(value, "value", None), str):  # Priority, Channel
        value = value.value
    elif attrs.has(type(value)):  # Contact
        value = {key: _plain(item) for key, item in attrs.asdict(value).items()}
    return value


@attrs.frozen
class OutboxRecord:
    """One history event as the outbox keeps it for consumers.

    Attributes:
        position: where it stands in commit order; positions only grow.
        id: ``"<ticket id>#<seq>"``, unique for good: the idempotency key.
        ticket_id: the ticket.
        seq: the event's number in the ticket's history.
        event: the event's name, such as ``"resolve"``.
        actor: the id of who did it.
        at: when it happened (aware UTC).
        data: the history event as JSON text (schema :data:`SCHEMA`; see
            ``docs/notifications.md``).
    """

    position: int
    id: str
    ticket_id: str
    seq: int
    event: str
    actor: str
    at: datetime
    data: str

    @property
    def payload(self) -> dict[str, Any]:
        """The JSON of :attr:`data`, parsed."""
        parsed: dict[str, Any] = json.loads(self.data)
        return parsed


@attrs.frozen
class HeldRecord:
    """A record a consumer has not handled yet although its cursor passed it.

    Either it failed and waits for its next try (``next_at``), or it waits
    behind an earlier record of the same ticket that failed, or it is dead:
    set aside after its last try, until the host retries it.

    Attributes:
        consumer: whose.
        record: the record.
        attempts: how many times the handler failed on it.
        next_at: the earliest instant of its next try.
        error: the handler's last error, in words (None if it was never tried).
        dead: whether it was set aside.
    """

    consumer: str
    record: OutboxRecord
    attempts: int
    next_at: datetime
    error: str | None
    dead: bool


@attrs.frozen
class Settlement:
    """What a claim writes as it ends well: its new position, its held and released records."""

    position: int
    held: tuple[HeldRecord, ...]
    released: tuple[int, ...]


class LeasedClaim:
    """What a claim held by a lease keeps: whose cursor, its holder and lease, its settlement.

    SQLite's and the memory store's claims build on it; they write the
    settlement as the claim ends, if the lease is still theirs.
    """

    __slots__ = ("consumer", "holder", "lease", "position", "settled")

    def __init__(self, consumer: str, position: int, holder: object, lease: timedelta) -> None:
        self.consumer = consumer
        self.position = position
        self.holder = holder
        self.lease = lease
        self.settled: Settlement | None = None

    def settle(self, position: int, held: Sequence[HeldRecord], released: Sequence[int]) -> None:
        """Keep what to write as the claim ends well."""
        self.settled = Settlement(position, tuple(held), tuple(released))


@attrs.frozen
class ConsumerState:
    """Where a consumer stands.

    Attributes:
        name: the consumer's name.
        position: its cursor: every record up to here was handled or is held.
        held: how many records it holds to try again (not dead).
        dead: how many it set aside as dead.
    """

    name: str
    position: int
    held: int
    dead: int


def held_error(error: str | None) -> str | None:
    """An error as a held record keeps it: cut to a readable length."""
    if error is None or len(error) <= _ERROR_LENGTH:
        return error
    return error[: _ERROR_LENGTH - 3] + "..."


_AS_IS = frozenset({str, int, float, bool})
"""The types of values JSON holds as they are."""


def check_consumer(consumer: object) -> str:
    """Return ``consumer`` if it is a consumer's name, else raise InvalidInput."""
    if (
        not isinstance(consumer, str)
        or not consumer.strip()
        or len(consumer) > 200
        or "\x00" in consumer
        or not consumer.isprintable()
    ):
        raise InvalidInput(
            "consumer", consumer, "a consumer's name: printable text of 1 to 200 characters"
        )
    return consumer


def check_position(position: object, name: str = "after") -> int:
    """Return ``position`` if it is a position (a whole number from 0), else raise."""
    if not isinstance(position, int) or isinstance(position, bool) or position < 0:
        raise InvalidInput(name, position, "a position: a whole number from 0")
    return position


def check_limit(limit: object, name: str = "limit") -> int:
    """Return ``limit`` if it is a page size (1 to 10,000), else raise InvalidInput."""
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 10_000:
        raise InvalidInput(name, limit, "a whole number from 1 to 10000")
    return limit


def check_instant(at: object, name: str) -> datetime:
    """An aware instant, in UTC."""
    return to_utc(at, name)


def check_lease(lease: object) -> timedelta:
    """Return ``lease`` if it is a claim's lease (1 second to 1 day), else raise InvalidInput."""
    if not isinstance(lease, timedelta) or not _SHORTEST_LEASE <= lease <= _LONGEST_LEASE:
        raise InvalidInput("lease", lease, "a timedelta from 1 second to 1 day")
    return lease


class OutboxClaim(Protocol):
    """A consumer's cursor, claimed: its drain's reads, and its one write when it ends well.

    Nobody else claims the same consumer's cursor until the claim ends or
    its lease runs out (on SQLite and in memory; on PostgreSQL a row lock
    holds it until the claim ends, and a process that dies ends it).
    """

    @property
    def position(self) -> int:
        """The cursor as claimed: every record up to it was handled or is held."""
        ...

    def held(self) -> list[HeldRecord]:
        """The consumer's held records that are not dead, in position order."""
        ...

    def read(self, limit: int) -> list[OutboxRecord]:
        """Up to ``limit`` records past the cursor, in position order."""
        ...

    def settle(self, position: int, held: Sequence[HeldRecord], released: Sequence[int]) -> None:
        """Move the cursor to ``position``, keep ``held`` (new or changed), forget ``released``.

        Written when the claim ends well, all together, and only if the claim
        is still this one's (else :class:`~ticketflow.ClaimExpired` is raised
        as the block ends); not written if the block ends with an error.
        """
        ...

    def renew(self, at: datetime) -> None:
        """Keep the claim for another lease from ``at``.

        Raises:
            ClaimExpired: the lease ran out and another claim took the
                cursor; this claim will write nothing.
        """
        ...


@runtime_checkable
class OutboxStore(Store, Protocol):
    """A Store that also keeps an outbox: records written in the commit, consumers' cursors.

    ``MemoryStore``, ``SQLiteStore`` and ``PostgresStore`` are; a host's own
    store may be, and then ``StoreContract`` checks it (``outbox = True``).
    """

    def create(
        self,
        ticket: Ticket,
        event: HistoryEvent,
        *,
        schedule: Schedule = ...,
        sla: StoredSLA = ...,
        figures: Figures | None = None,
        outbox: bool = False,
    ) -> None:
        """``Store.create``; with ``outbox=True`` the event's outbox record too, atomically."""
        ...

    def commit(
        self,
        ticket: Ticket,
        event: HistoryEvent,
        expected_version: int,
        ledger: Iterable[LedgerEntry] = (),
        *,
        schedule: Schedule = ...,
        sla: StoredSLA = ...,
        figures: Figures | None = None,
        outbox: bool = False,
    ) -> None:
        """``Store.commit``; with ``outbox=True`` the event's outbox record too, atomically.

        The record is written only if the commit is, in its transaction: a
        conflict, or a batch that rolls back, leaves none.
        """
        ...

    def outbox_read(self, after: int, limit: int) -> list[OutboxRecord]:
        """Up to ``limit`` records whose position is past ``after``, in position order.

        Only committed records, and never one that a later reader could find
        before a position already returned: a reader that moves on from the
        last position it read never skips a record.
        """
        ...

    def outbox_claim(
        self, consumer: str, *, at: datetime, lease: timedelta
    ) -> AbstractContextManager[OutboxClaim | None]:
        """Claim the consumer's cursor for the block, or give None at once if another holds it.

        A new consumer starts at position 0.  The claim lasts until the
        block ends, or until its lease (``lease`` from ``at``, extended by
        :meth:`OutboxClaim.renew`) runs out and another claim takes it,
        whichever comes first; a process that dies leaves it for no longer
        than its lease.  No transaction stays open while the block runs, so
        the store's commands go on meanwhile (PostgreSQL may keep its claim's
        row locked instead: that stops no command either).  An error leaving
        the block writes nothing of what :meth:`OutboxClaim.settle` was given.
        """
        ...

    def outbox_dead(self, consumer: str) -> list[HeldRecord]:
        """The consumer's dead records, in position order."""
        ...

    def outbox_retry(self, consumer: str, positions: Sequence[int] | None, at: datetime) -> int:
        """Bring dead records back to life: tried again from ``at``, with no attempts counted.

        Those at ``positions`` (all of them if None); returns how many.
        """
        ...

    def outbox_prune(self, before: datetime) -> int:
        """Delete the records made before ``before`` that every consumer has passed.

        Passed: the cursor is at or past it and the consumer does not hold
        it.  Returns how many were deleted.
        """
        ...

    def outbox_consumers(self) -> list[ConsumerState]:
        """Every consumer that has drained, by name."""
        ...


def new_record(position: int, event: HistoryEvent) -> OutboxRecord:
    """The outbox record of ``event`` at ``position``."""
    return OutboxRecord(
        position=position,
        id=record_id(event.ticket_id, event.seq),
        ticket_id=event.ticket_id,
        seq=event.seq,
        event=event.name,
        actor=event.actor.id,
        at=event.at,
        data=record_data(event),
    )


RECORD_COLUMNS = ("position", "id", "ticket_id", "seq", "event", "actor", "at", "data")
"""The columns of an outbox record's row, in order (SQLite and PostgreSQL)."""


def record_values(event: HistoryEvent) -> tuple[Any, ...]:
    """The row of ``event``'s outbox record, without its position (the store assigns it)."""
    return (
        record_id(event.ticket_id, event.seq),
        event.ticket_id,
        event.seq,
        event.name,
        event.actor.id,
        time_in(event.at),
        record_data(event),
    )


def record_from_row(row: Sequence[Any]) -> OutboxRecord:
    """An outbox record from its row, in :data:`RECORD_COLUMNS` order."""
    position, rid, ticket_id, seq, event, actor, at, data = row
    instant = time_out(at, "outbox.at")
    assert instant is not None  # noqa: S101 - the column is NOT NULL
    return OutboxRecord(int(position), rid, ticket_id, int(seq), event, actor, instant, data)


def held_from_row(consumer: str, row: Sequence[Any]) -> HeldRecord:
    """A held record from its row: the record's columns, then attempts, next_at, error, dead."""
    record = record_from_row(row[: len(RECORD_COLUMNS)])
    attempts, next_at, error, dead = row[len(RECORD_COLUMNS) :]
    instant = time_out(next_at, "outbox_held.next_at")
    assert instant is not None  # noqa: S101 - the column is NOT NULL
    return HeldRecord(consumer, record, int(attempts), instant, error, bool(dead))


def held_values(held: HeldRecord) -> tuple[Any, ...]:
    """The row of a held record: consumer, position, ticket id, attempts, next_at, error, dead."""
    return (
        held.consumer,
        held.record.position,
        held.record.ticket_id,
        held.attempts,
        time_in(held.next_at),
        held.error,
        held.dead,
    )
