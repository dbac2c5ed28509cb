"""The outbox room: reading records by position, and draining them to consumers.

Every commit of a desk built with ``outbox=`` writes an outbox record in its
transaction (see :mod:`ticketflow.storage._outbox`).  :class:`Outbox`, the
desk's ``desk.outbox``, reads them, and drains them to a handler with a cursor
per consumer that moves only once the handler has returned: delivery at least
once.  A record the handler fails on is held and tried again after an
exponential backoff with jitter, and set aside as dead after its last try,
while the other tickets' records flow on; the later records of its ticket
wait behind it, so every consumer sees each ticket's records in history order.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import attrs

from ticketflow._errors import DeliveryFailed, InvalidInput
from ticketflow._unit import UnitOfWork
from ticketflow.storage._outbox import (
    ConsumerState,
    HeldRecord,
    OutboxClaim,
    OutboxRecord,
    OutboxStore,
    check_consumer,
    check_lease,
    check_limit,
    check_position,
    held_error,
)

Handler = Callable[[OutboxRecord], object]
"""Delivers one record; returns when it is delivered, raises when it is not."""

_MOST_TRIES = 1000

LEASE = timedelta(minutes=1)
"""A drain's lease on its consumer's cursor, by default: handler calls of up to 30 s."""


def _first(value: object) -> timedelta:
    return _seconds(value, "first")


def _most(value: object) -> timedelta:
    return _seconds(value, "most")


def _seconds(value: object, name: str) -> timedelta:
    if not isinstance(value, timedelta) or value < timedelta(0):
        raise InvalidInput(name, value, "a timedelta of 0 or more")
    return value


def _factor(value: object) -> float:
    if (
        not isinstance(value, (int, float))
        or isinstance(value, bool)
        or not math.isfinite(value)
        or value < 1
    ):
        raise InvalidInput("factor", value, "a finite number from 1")
    return float(value)


def _jitter(value: object) -> float:
    if (
        not isinstance(value, (int, float))
        or isinstance(value, bool)
        or not 0 <= value <= 1  # NaN too
    ):
        raise InvalidInput("jitter", value, "a fraction from 0 to 1")
    return float(value)


@attrs.frozen
class Backoff:
    """How long a consumer waits before trying a failed record again.

    The n-th failure waits ``first * factor ** (n - 1)``, at most ``most``,
    less a random part of up to ``jitter`` of it (so consumers that failed
    together do not all come back at once).

    >>> from datetime import timedelta
    >>> backoff = Backoff(first=timedelta(seconds=1), factor=2, jitter=0)
    >>> [backoff.delay(n, random.Random(0)).total_seconds() for n in (1, 2, 3)]
    [1.0, 2.0, 4.0]
    """

    first: timedelta = attrs.field(default=timedelta(seconds=5), converter=_first)
    factor: float = attrs.field(default=2.0, converter=_factor)
    most: timedelta = attrs.field(default=timedelta(hours=1), converter=_most)
    jitter: float = attrs.field(default=0.2, converter=_jitter)

    def delay(self, failures: int, rng: random.Random) -> timedelta:
        """The wait after the ``failures``-th failure in a row (from 1)."""
        most = self.most.total_seconds()
        exponent = min(failures - 1, 64)  # past that, every delay is at its most anyway
        full = min(most, self.first.total_seconds() * self.factor**exponent)
        return timedelta(seconds=full * (1 - self.jitter * rng.random()))


@attrs.frozen
class DrainReport:
    """What one drain did for a consumer.

    Attributes:
        consumer: the consumer.
        claimed: whether it got the cursor (False: another drain of the same
            consumer holds it, and this one did nothing).
        delivered: records the handler took.
        failed: records it failed on, held to try again.
        dead: records set aside as dead after their last try.
        waiting: records held behind an earlier failed record of their ticket.
        position: the consumer's cursor afterwards.
    """

    consumer: str
    claimed: bool
    delivered: int = 0
    failed: int = 0
    dead: int = 0
    waiting: int = 0
    position: int = 0

    @property
    def handled(self) -> int:
        """How many records the handler was given."""
        return self.delivered + self.failed + self.dead


class Outbox:
    """The desk's outbox: read records by position, drain them to consumers (``desk.outbox``).

    Built by the desk; hosts use it, they do not build it.  Every method
    checks its arguments and raises :class:`InvalidInput` for a bad one,
    changing nothing.

    Args:
        unit: the desk's unit of work (its store and clock).
        store: the same store, as an outbox store.
        seed: seeds the backoff's jitter (None: from the system).
    """

    def __init__(self, unit: UnitOfWork, store: OutboxStore, *, seed: int | None = None) -> None:
        self._unit = unit
        self._store = store
        self._rng = random.Random(seed)  # noqa: S311 - spreads retries, not a secret

    @property
    def events(self) -> frozenset[str] | None:
        """The event names that get a record (None: every event)."""
        return self._unit.outbox_events

    def read(self, after: int = 0, *, limit: int = 100) -> list[OutboxRecord]:
        """Up to ``limit`` records past position ``after``, in commit order.

        A reader that asks again from the last position it got never skips
        a record, even on PostgreSQL where transactions commit out of order.

        Raises:
            InvalidInput: ``after`` is not a whole number from 0, or ``limit``
                not one from 1 to 10,000.
        """
        return self._store.outbox_read(check_position(after), check_limit(limit))

    def drain(
        self,
        handler: Handler,
        *,
        consumer: str,
        batch: int = 100,
        tries: int = 10,
        backoff: Backoff | None = None,
        lease: timedelta = LEASE,
    ) -> DrainReport:
        """Hand the consumer's next records to ``handler``, then move its cursor past them.

        First the consumer's held records that are due (in position order,
        each ticket's in turn), then up to ``batch`` in all with the records
        past its cursor.  The cursor is claimed for the whole drain (another
        drain of the same consumer does nothing meanwhile) and moved only when
        every handler call has returned: if the process dies, the records are
        handed over again (at least once; ``record.id`` is the idempotency
        key).  A record the handler raises on is held and tried again after
        ``backoff``; after ``tries`` failures, or at once if the handler
        raises :class:`DeliveryFailed` with ``retry=False``, it is set aside
        as dead (see :meth:`dead`, :meth:`retry`).  The later records of its
        ticket wait behind it; other tickets' flow on.

        The claim is a lease (on SQLite and in memory; PostgreSQL locks the
        cursor's row instead): a short write names the drain and the end of
        its lease, ``lease`` from the desk's clock, and no transaction stays
        open while the handler runs, so the desk's commands go on.  Before
        each handler call the drain renews the lease if less than half of it
        is left, so one call may take up to half the lease.  A drain killed
        meanwhile holds the cursor until its lease runs out; then another
        drain takes over, and hands its records over again.

        Returns:
            What the drain did.

        Raises:
            InvalidInput: a bad argument.
            ClaimExpired: the lease ran out during a handler call and another
                drain took the cursor over; nothing was written.
            StorageError: the store failed; the cursor did not move.
        """
        if not callable(handler):
            raise InvalidInput("handler", handler, "a callable that takes an OutboxRecord")
        check_consumer(consumer)
        check_limit(batch, "batch")
        if not isinstance(tries, int) or isinstance(tries, bool) or not 1 <= tries <= _MOST_TRIES:
            raise InvalidInput("tries", tries, f"a whole number from 1 to {_MOST_TRIES}")
        if backoff is None:
            backoff = Backoff()
        elif not isinstance(backoff, Backoff):
            raise InvalidInput("backoff", backoff, "a Backoff")
        check_lease(lease)
        now = self._unit.now()
        with self._store.outbox_claim(consumer, at=now, lease=lease) as claim:
            if claim is None:
                return DrainReport(consumer, claimed=False)
            keep = _Lease(claim, self._unit.now, now, lease)
            run = _Run(handler, consumer, now, keep, tries=tries, backoff=backoff, rng=self._rng)
            held = claim.held()
            budget = run.retry(held, batch)
            fresh = claim.read(budget) if budget else []
            blocked = run.blocked(held)
            for record in fresh:
                if record.ticket_id in blocked:
                    run.wait(record)
                elif not run.deliver(record):
                    blocked.add(record.ticket_id)
            position = fresh[-1].position if fresh else claim.position
            claim.settle(position, run.changed, run.released)
        return DrainReport(
            consumer,
            claimed=True,
            delivered=run.delivered,
            failed=run.failed,
            dead=run.dead,
            waiting=run.waiting,
            position=position,
        )

    def dead(self, consumer: str) -> list[HeldRecord]:
        """The records the consumer set aside as dead, with their last error."""
        return self._store.outbox_dead(check_consumer(consumer))

    def retry(self, consumer: str, positions: Sequence[int] | None = None) -> int:
        """Try dead records again at the consumer's next drain, their tries counted anew.

        Args:
            consumer: whose.
            positions: the records' positions; None for every dead record.

        Returns:
            How many were brought back.
        """
        check_consumer(consumer)
        if positions is not None:
            if isinstance(positions, (str, bytes)) or not isinstance(positions, Sequence):
                raise InvalidInput("positions", positions, "a sequence of positions, or None")
            positions = [check_position(position, "positions") for position in positions]
        return self._store.outbox_retry(consumer, positions, self._unit.now())

    def prune(self, retention: timedelta) -> int:
        """Delete the records older than ``retention`` that every consumer has passed.

        A record a consumer still holds (to try again, or dead) is kept.
        With no consumer at all, every record older than ``retention`` goes.

        Returns:
            How many were deleted.
        """
        _seconds(retention, "retention")
        return self._store.outbox_prune(self._unit.now() - retention)

    def consumers(self) -> list[ConsumerState]:
        """Every consumer that has drained: its cursor, and what it holds."""
        return self._store.outbox_consumers()


class _Lease:
    """A drain's lease on its cursor, renewed before a handler call once half of it is gone."""

    def __init__(
        self, claim: OutboxClaim, clock: Callable[[], datetime], at: datetime, lease: timedelta
    ) -> None:
        self._claim = claim
        self._clock = clock
        self._lease = lease
        self._renew_at = at + lease / 2

    def keep(self) -> None:
        """Renew the lease if half of it is gone; raise ClaimExpired if it was taken."""
        now = self._clock()
        if now >= self._renew_at:
            self._claim.renew(now)
            self._renew_at = now + self._lease / 2


class _Run:
    """One drain's handling: what it delivered, held and released."""

    def __init__(
        self,
        handler: Handler,
        consumer: str,
        now: datetime,
        lease: _Lease,
        *,
        tries: int,
        backoff: Backoff,
        rng: random.Random,
    ) -> None:
        self.handler = handler
        self.consumer = consumer
        self.now = now
        self.lease = lease
        self.tries = tries
        self.backoff = backoff
        self.rng = rng
        self.changed: list[HeldRecord] = []
        self.released: list[int] = []
        self.delivered = self.failed = self.dead = self.waiting = 0

    def retry(self, held: list[HeldRecord], budget: int) -> int:
        """Try the held records that are due, each ticket's in order; return the budget left."""
        tickets: dict[str, list[HeldRecord]] = {}
        for record in held:
            tickets.setdefault(record.record.ticket_id, []).append(record)
        for records in tickets.values():
            for record in records:
                if budget == 0 or record.next_at > self.now:
                    break
                budget -= 1
                error = self._handle(record.record)
                if error is None:
                    self.released.append(record.record.position)
                    self.delivered += 1
                    continue
                if not self._fail(record.record, record.attempts, error):
                    break  # the rest of this ticket waits behind it
        return budget

    def blocked(self, held: list[HeldRecord]) -> set[str]:
        """The tickets whose records must wait: one of theirs is still held, alive."""
        done = set(self.released) | {
            record.record.position for record in self.changed if record.dead
        }
        return {record.record.ticket_id for record in held if record.record.position not in done}

    def wait(self, record: OutboxRecord) -> None:
        """Hold ``record`` untried, behind an earlier record of its ticket."""
        self.changed.append(HeldRecord(self.consumer, record, 0, self.now, None, dead=False))
        self.waiting += 1

    def deliver(self, record: OutboxRecord) -> bool:
        """Hand ``record`` over; False if it is now held to try again."""
        error = self._handle(record)
        if error is None:
            self.delivered += 1
            return True
        return self._fail(record, 0, error)

    def _handle(self, record: OutboxRecord) -> Exception | None:
        self.lease.keep()
        try:
            self.handler(record)
        except Exception as error:  # noqa: BLE001 - a handler's failure is kept with its record
            return error
        return None

    def _fail(self, record: OutboxRecord, attempts: int, error: Exception) -> bool:
        """Hold or bury ``record`` after a failure; True if it was set aside as dead."""
        attempts += 1
        words = held_error(f"{type(error).__name__}: {error}")
        retry = not isinstance(error, DeliveryFailed) or error.retry
        if not retry or attempts >= self.tries:
            self.changed.append(HeldRecord(self.consumer, record, attempts, self.now, words, True))
            self.dead += 1
            return True
        wait = self.backoff.delay(attempts, self.rng)
        if isinstance(error, DeliveryFailed) and error.after is not None:
            wait = max(wait, timedelta(seconds=error.after))
        held = HeldRecord(self.consumer, record, attempts, self.now + wait, words, dead=False)
        self.changed.append(held)
        self.failed += 1
        return False
