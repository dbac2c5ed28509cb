"""MemoryStore: the store that keeps everything in the process's memory."""

from __future__ import annotations

import bisect
import itertools
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta

from ticketflow._errors import ClaimExpired, ConcurrencyConflict, InvalidInput, TicketNotFound
from ticketflow._history import HistoryEvent
from ticketflow._ticket import Ticket
from ticketflow._validate import to_utc
from ticketflow.storage._figures import (
    Figures,
    FigureTotals,
    Period,
    check_figures,
    check_totals,
    in_window,
    totals,
)
from ticketflow.storage._ledger import LedgerEntry
from ticketflow.storage._outbox import (
    ConsumerState,
    HeldRecord,
    LeasedClaim,
    OutboxRecord,
    check_consumer,
    check_instant,
    check_lease,
    check_limit,
    check_position,
    new_record,
)
from ticketflow.storage._protocol import check_follows
from ticketflow.storage._query import TicketQuery
from ticketflow.storage._schedule import UNSCHEDULED, Schedule, check_page, check_schedule
from ticketflow.storage._search import SearchQuery, conversation, score
from ticketflow.storage._sla import (
    NO_SLA,
    StoredSLA,
    check_sla,
    check_sla_page,
    check_untimed_page,
)


class MemoryStore:
    """A Store in memory: fast, thread-safe, gone when the process ends.

    For tests, demos and hosts that persist elsewhere.  Ids are ``T-1``,
    ``T-2``, ... in creation order.

    >>> store = MemoryStore()
    >>> store.new_id(), store.new_id()
    ('T-1', 'T-2')
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._tickets: dict[str, Ticket] = {}
        self._history: dict[str, list[HistoryEvent]] = {}
        self._ledger: set[tuple[str, str, datetime]] = set()
        self._schedules: dict[str, Schedule] = {}
        self._slas: dict[str, StoredSLA] = {}
        self._sla_order: list[tuple[datetime, str]] = []  # (due_at, id), sorted: the index
        self._untimed: list[str] = []  # the ids of the records without due_at, sorted
        self._figures: dict[str, Figures | None] = {}
        self._ids = itertools.count(1)
        self._undo: _Undo | None = None  # the open batch's, touched under the lock only
        # The outbox: records in position order, each consumer's cursor and
        # held records, and the lease of the drain that claimed it: who, until when.
        self._outbox: list[OutboxRecord] = []
        self._positions = itertools.count(1)
        self._cursors: dict[str, int] = {}
        self._held: dict[str, dict[int, HeldRecord]] = {}
        self._claims: dict[str, tuple[object, datetime]] = {}

    def new_id(self) -> str:
        """Return ``T-n`` for the next n."""
        with self._lock:
            return f"T-{next(self._ids)}"

    def get(self, ticket_id: str) -> Ticket:
        """Return the stored ticket (as committed: a batch under way is waited for)."""
        with self._lock:
            found = self._tickets.get(ticket_id)
        if found is None:
            raise TicketNotFound(ticket_id)
        return found

    def create(
        self,
        ticket: Ticket,
        event: HistoryEvent,
        *,
        schedule: Schedule = UNSCHEDULED,
        sla: StoredSLA = NO_SLA,
        figures: Figures | None = None,
        outbox: bool = False,
    ) -> None:
        """Store a new ticket, its first event, schedule, SLA record, figures (outbox record)."""
        check_follows(ticket, event, 0)
        check_schedule(schedule)
        check_sla(sla)
        check_figures(figures)
        with self._lock:
            existing = self._tickets.get(ticket.id)
            if existing is not None:
                raise ConcurrencyConflict(ticket.id, 0, existing.version)
            self._before(ticket.id)
            self._tickets[ticket.id] = ticket
            self._history[ticket.id] = [event]
            self._schedules[ticket.id] = schedule
            if outbox:
                self._outbox.append(new_record(next(self._positions), event))
            self._keep_sla(ticket.id, sla)
            self._figures[ticket.id] = figures

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
        outbox: bool = False,
    ) -> None:
        """Replace the ticket, schedule, SLA record and figures, append its event and ledger.

        Only if the version holds.  With ``outbox=True``, the event's outbox record too.
        """
        check_follows(ticket, event, expected_version)
        check_schedule(schedule)
        check_sla(sla)
        check_figures(figures)
        keys = {(entry.rule, ticket.id, entry.episode) for entry in ledger} if ledger else None
        with self._lock:
            stored = self._tickets.get(ticket.id)
            if (
                stored is None
                or stored.version != expected_version
                or (keys and keys & self._ledger)
            ):
                raise ConcurrencyConflict(
                    ticket.id, expected_version, None if stored is None else stored.version
                )
            self._before(ticket.id)
            self._tickets[ticket.id] = ticket
            self._history[ticket.id].append(event)
            self._schedules[ticket.id] = schedule
            self._keep_sla(ticket.id, sla)
            self._figures[ticket.id] = figures
            if keys:
                self._ledger |= keys
                if self._undo is not None:
                    self._undo.keep(keys)
            if outbox:
                self._outbox.append(new_record(next(self._positions), event))

    def schedule(self, ticket_id: str) -> Schedule:
        """Return the ticket's schedule."""
        with self._lock:
            found = self._schedules.get(ticket_id)
        if found is None:
            raise TicketNotFound(ticket_id)
        return found

    def _due(self, now: datetime) -> list[tuple[datetime, str]]:
        with self._lock:
            return sorted(
                (schedule.next_due_at, ticket_id)
                for ticket_id, schedule in self._schedules.items()
                if schedule.next_due_at is not None and schedule.next_due_at <= now
            )

    def due(
        self,
        now: datetime,
        *,
        limit: int,
        after: tuple[datetime, str] | None = None,
        claim: bool = False,
    ) -> list[tuple[datetime, Ticket]]:
        """The due tickets, found by a scan: a memory store is small.

        A claim needs nothing more: batches, which claim, run one at a time.
        """
        now, after = check_page(now, limit, after)
        keys = [key for key in self._due(now) if after is None or key > after][:limit]
        with self._lock:
            return [
                (at, self._tickets[ticket_id])
                for at, ticket_id in keys
                if ticket_id in self._tickets
            ]

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Hold the store for the block; an error leaving it undoes every write made inside.

        Other threads wait until the batch ends, as they wait for SQLite's
        write lock.  A batch inside a batch undoes only its own writes.
        """
        with self._lock:
            outer = self._undo
            self._undo = undo = _Undo(len(self._outbox))
            try:
                yield
            except BaseException:
                undo.restore(self)
                raise
            else:
                if outer is not None:  # inside a batch: its undo covers this one's writes
                    outer.absorb(undo)
            finally:
                self._undo = outer

    def _before(self, ticket_id: str) -> None:
        """Inside a batch, keep the ticket's state before its first write, to undo it."""
        if self._undo is not None and ticket_id not in self._undo.tickets:
            self._undo.tickets[ticket_id] = (
                self._tickets.get(ticket_id),
                list(self._history.get(ticket_id, ())),
                self._schedules.get(ticket_id),
                self._slas.get(ticket_id),
            )
            self._undo.figures[ticket_id] = self._figures.get(ticket_id)

    def count_due(self, now: datetime) -> int:
        """How many tickets are due at ``now``."""
        return len(self._due(check_page(now, 1, None)[0]))

    def stale(self, rules: str, *, limit: int) -> list[Ticket]:
        """The tickets whose schedule another rule set (or none) computed, in id order."""
        check_page(None, limit, None, rules=rules)
        with self._lock:
            found = sorted(
                ticket_id
                for ticket_id, schedule in self._schedules.items()
                if schedule.rules != rules
            )
            return [self._tickets[ticket_id] for ticket_id in found[:limit]]

    def count_stale(self, rules: str) -> int:
        """How many tickets another rule set (or none) scheduled."""
        check_page(None, 1, None, rules=rules)
        with self._lock:
            return sum(schedule.rules != rules for schedule in self._schedules.values())

    def reschedule(self, ticket_id: str, expected_version: int, schedule: Schedule) -> bool:
        """Replace the schedule if the ticket is still at ``expected_version``."""
        check_schedule(schedule)
        with self._lock:
            stored = self._tickets.get(ticket_id)
            if stored is None or stored.version != expected_version:
                return False
            self._before(ticket_id)
            self._schedules[ticket_id] = schedule
            return True

    def _keep_sla(self, ticket_id: str, sla: StoredSLA | None) -> None:
        """Set (None: forget) the ticket's SLA record, and its place in the sorted indexes."""
        old = self._slas.get(ticket_id)
        if old is not None and old.due_at is not None:
            index = bisect.bisect_left(self._sla_order, (old.due_at, ticket_id))
            del self._sla_order[index]
        elif old is not None:
            del self._untimed[bisect.bisect_left(self._untimed, ticket_id)]
        if sla is None:
            self._slas.pop(ticket_id, None)
            return
        self._slas[ticket_id] = sla
        if sla.due_at is not None:
            bisect.insort(self._sla_order, (sla.due_at, ticket_id))
        else:
            bisect.insort(self._untimed, ticket_id)

    def sla(self, ticket_id: str) -> StoredSLA:
        """Return the ticket's SLA record."""
        with self._lock:
            found = self._slas.get(ticket_id)
        if found is None:
            raise TicketNotFound(ticket_id)
        return found

    def sla_queue(
        self,
        query: TicketQuery,
        *,
        limit: int,
        after: tuple[datetime, str] | None = None,
    ) -> list[tuple[StoredSLA, Ticket]]:
        """Walk the sorted index from ``after``, keeping the tickets ``query`` selects."""
        query, start = check_sla_page(query, limit, after)
        found: list[tuple[StoredSLA, Ticket]] = []
        with self._lock:
            order = self._sla_order
            index = 0 if start is None else bisect.bisect_right(order, start)
            while index < len(order) and len(found) < limit:
                ticket = self._tickets[order[index][1]]
                if query.matches(ticket):
                    found.append((self._slas[ticket.id], ticket))
                index += 1
        return found

    def sla_untimed(
        self, query: TicketQuery, *, limit: int, after: str | None = None
    ) -> list[tuple[StoredSLA, Ticket]]:
        """Walk the sorted ids of the records without a due instant from ``after``."""
        query = check_untimed_page(query, limit, after)
        found: list[tuple[StoredSLA, Ticket]] = []
        with self._lock:
            untimed = self._untimed
            index = 0 if after is None else bisect.bisect_right(untimed, after)
            while index < len(untimed) and len(found) < limit:
                ticket = self._tickets[untimed[index]]
                if query.matches(ticket):
                    found.append((self._slas[ticket.id], ticket))
                index += 1
        return found

    def sla_stale(self, policies: str, *, limit: int) -> list[Ticket]:
        """The tickets whose SLA record other policies (or none) kept, in id order."""
        check_page(None, limit, None, rules=policies)
        with self._lock:
            found = sorted(
                ticket_id for ticket_id, sla in self._slas.items() if sla.policies != policies
            )
            return [self._tickets[ticket_id] for ticket_id in found[:limit]]

    def count_sla_stale(self, policies: str) -> int:
        """How many tickets other policies (or none) kept SLA records for."""
        check_page(None, 1, None, rules=policies)
        with self._lock:
            return sum(sla.policies != policies for sla in self._slas.values())

    def restate_sla(self, ticket_id: str, expected_version: int, sla: StoredSLA) -> bool:
        """Replace the SLA record if the ticket is still at ``expected_version``."""
        check_sla(sla)
        with self._lock:
            stored = self._tickets.get(ticket_id)
            if stored is None or stored.version != expected_version:
                return False
            self._before(ticket_id)
            self._keep_sla(ticket_id, sla)
            return True

    def figures(self, ticket_id: str) -> Figures | None:
        """Return the ticket's figures."""
        with self._lock:
            if ticket_id not in self._tickets:
                raise TicketNotFound(ticket_id)
            return self._figures.get(ticket_id)

    def refigure(self, ticket_id: str, expected_version: int, figures: Figures) -> bool:
        """Replace the figures if the ticket is still at ``expected_version``."""
        check_figures(figures, optional=False)
        with self._lock:
            stored = self._tickets.get(ticket_id)
            if stored is None or stored.version != expected_version:
                return False
            self._before(ticket_id)
            self._figures[ticket_id] = figures
            return True

    def _unfigured(self, key: str) -> list[str]:
        check_page(None, 1, None, rules=key)
        with self._lock:
            return sorted(
                ticket_id
                for ticket_id in self._tickets
                if (found := self._figures.get(ticket_id)) is None or found.key != key
            )

    def unfigured(self, key: str, *, limit: int) -> list[Ticket]:
        """The tickets whose figures were computed under another key (or none), in id order."""
        check_page(None, limit, None, rules=key)
        found = self._unfigured(key)[:limit]
        with self._lock:
            return [self._tickets[ticket_id] for ticket_id in found if ticket_id in self._tickets]

    def count_unfigured(self, key: str) -> int:
        """How many tickets have figures computed under another key (or none)."""
        return len(self._unfigured(key))

    def aggregate(
        self,
        query: TicketQuery,
        *,
        now: datetime,
        created: Period | None = None,
        resolved: Period | None = None,
    ) -> FigureTotals:
        """Add up the stored figures of the selected tickets, in one pass over them."""
        instant, within, solved = check_totals(query, now, created, resolved)
        with self._lock:
            tickets = query.select(self._tickets.values())
            items = [(ticket, self._figures.get(ticket.id) or _NONE) for ticket in tickets]
        chosen = [item for item in items if in_window(*item, within, solved)]
        return totals(chosen, instant)

    def fired(self, rule: str, ticket_id: str, episode: datetime) -> bool:
        """Whether ``rule`` already acted on the ticket for ``episode``."""
        with self._lock:
            return (rule, ticket_id, to_utc(episode, "episode")) in self._ledger

    def history(self, ticket_id: str) -> list[HistoryEvent]:
        """Return a copy of the ticket's events, oldest first."""
        with self._lock:
            try:
                return list(self._history[ticket_id])
            except KeyError:
                raise TicketNotFound(ticket_id) from None

    def query(self, query: TicketQuery) -> list[Ticket]:
        """Filter, order and limit the stored tickets."""
        with self._lock:
            tickets = list(self._tickets.values())
        return query.select(tickets)

    def search(self, search: SearchQuery) -> list[tuple[float, Ticket]]:
        """The tickets holding every word sought, best first: a scan of every ticket's text.

        Each ticket's score is :func:`ticketflow.storage._search.score` of
        its subject, description and conversation, as the SQLite store's.
        """
        if not isinstance(search, SearchQuery):
            raise InvalidInput("search", search, "a SearchQuery")
        with self._lock:
            candidates = [
                (ticket, conversation(self._history[ticket.id]))
                for ticket in self._tickets.values()
                if search.filters.matches(ticket)
            ]
        scored = {}
        for ticket, bodies in candidates:
            found = score(search.sought, ticket.subject, ticket.description, bodies)
            if found:
                scored[ticket.id] = (float(found), ticket)
        page = search.page((found, ticket_id) for ticket_id, (found, _) in scored.items())
        return [scored[ticket_id] for _, ticket_id in page]

    def purge(self, ticket_id: str, expected_version: int) -> None:
        """Forget the ticket and its history."""
        with self._lock:
            stored = self._tickets.get(ticket_id)
            if stored is None:
                raise TicketNotFound(ticket_id)
            if stored.version != expected_version:
                raise ConcurrencyConflict(ticket_id, expected_version, stored.version)
            self._before(ticket_id)
            del self._tickets[ticket_id]
            del self._history[ticket_id]
            del self._schedules[ticket_id]
            self._keep_sla(ticket_id, None)
            self._figures.pop(ticket_id, None)
            kept = {key for key in self._ledger if key[1] != ticket_id}
            if self._undo is not None:
                self._undo.forget(self._ledger - kept)
            self._ledger = kept

    # -- the outbox ------------------------------------------------------

    def outbox_read(self, after: int, limit: int) -> list[OutboxRecord]:
        """The records past ``after``, found by bisection."""
        check_position(after)
        check_limit(limit)
        with self._lock:
            start = bisect.bisect_right(self._outbox, after, key=_position)
            return self._outbox[start : start + limit]

    @contextmanager
    def outbox_claim(
        self, consumer: str, *, at: datetime, lease: timedelta
    ) -> Iterator[_MemoryClaim | None]:
        """Claim the consumer's cursor with a lease, unless another drain's lease is live."""
        check_consumer(consumer)
        instant = check_instant(at, "at")
        check_lease(lease)
        holder = object()
        with self._lock:
            taken = self._claims.get(consumer)
            if taken is not None and taken[1] > instant:
                claim = None
            else:
                self._claims[consumer] = (holder, instant + lease)
                claim = _MemoryClaim(self, consumer, self._cursors.get(consumer, 0), holder, lease)
        if claim is None:
            yield None
            return
        try:
            yield claim
        except BaseException:
            with self._lock:
                if claim.own():
                    del self._claims[consumer]
            raise
        with self._lock:
            if claim.own():
                del self._claims[consumer]
                claim.write()
            elif claim.settled is not None:
                raise ClaimExpired("memory", consumer)

    def outbox_dead(self, consumer: str) -> list[HeldRecord]:
        """The consumer's dead records."""
        check_consumer(consumer)
        with self._lock:
            held = self._held.get(consumer, {})
            return [held[position] for position in sorted(held) if held[position].dead]

    def outbox_retry(self, consumer: str, positions: Sequence[int] | None, at: datetime) -> int:
        """Dead records held alive again, tried from ``at``."""
        check_consumer(consumer)
        at = check_instant(at, "at")
        with self._lock:
            held = self._held.get(consumer, {})
            chosen = held if positions is None else {p for p in positions if p in held}
            revived = 0
            for position in chosen:
                if held[position].dead:
                    held[position] = _revived(held[position], at)
                    revived += 1
            return revived

    def outbox_prune(self, before: datetime) -> int:
        """Forget the records before ``before`` that every consumer passed."""
        before = check_instant(before, "before")
        with self._lock:
            passed = min(self._cursors.values(), default=None)
            kept_held = {position for held in self._held.values() for position in held}
            kept = [
                record
                for record in self._outbox
                if record.at >= before
                or (passed is not None and record.position > passed)
                or record.position in kept_held
            ]
            pruned = len(self._outbox) - len(kept)
            self._outbox = kept
            return pruned

    def outbox_consumers(self) -> list[ConsumerState]:
        """Every consumer's cursor and how many records it holds."""
        with self._lock:
            states = []
            for name in sorted(self._cursors):
                held = self._held.get(name, {}).values()
                dead = sum(record.dead for record in held)
                states.append(ConsumerState(name, self._cursors[name], len(held) - dead, dead))
            return states

    def __len__(self) -> int:
        return len(self._tickets)

    def __repr__(self) -> str:
        return f"<MemoryStore: {len(self._tickets)} tickets>"


_NONE = Figures("")
"""What a ticket without figures adds to totals: nothing but itself."""


class _Undo:
    """What a batch changed: each ticket's state before its first write, and the ledger."""

    __slots__ = ("added", "figures", "outbox", "removed", "tickets")

    def __init__(self, outbox: int) -> None:
        self.outbox = outbox  # how many outbox records there were: the batch's come after
        self.figures: dict[str, Figures | None] = {}
        self.tickets: dict[
            str, tuple[Ticket | None, list[HistoryEvent], Schedule | None, StoredSLA | None]
        ] = {}
        self.added: set[tuple[str, str, datetime]] = set()
        self.removed: set[tuple[str, str, datetime]] = set()

    def keep(self, keys: set[tuple[str, str, datetime]]) -> None:
        """The batch added these ledger entries."""
        self.added |= keys

    def forget(self, keys: set[tuple[str, str, datetime]]) -> None:
        """The batch removed these ledger entries: those it added itself were not there before."""
        self.removed |= keys - self.added
        self.added -= keys

    def absorb(self, inner: _Undo) -> None:
        """Take over what an inner batch that ended well did, to undo it with this one."""
        for ticket_id, state in inner.tickets.items():
            self.tickets.setdefault(ticket_id, state)
        for ticket_id, figures in inner.figures.items():
            self.figures.setdefault(ticket_id, figures)
        self.forget(inner.removed)
        self.keep(inner.added)

    def restore(self, store: MemoryStore) -> None:
        """Put every ticket the batch wrote back as it was, and the ledger."""
        for ticket_id, (ticket, history, schedule, sla) in self.tickets.items():
            if ticket is None or schedule is None:
                store._tickets.pop(ticket_id, None)
                store._history.pop(ticket_id, None)
                store._schedules.pop(ticket_id, None)
                store._figures.pop(ticket_id, None)
            else:
                store._tickets[ticket_id] = ticket
                store._history[ticket_id] = history
                store._schedules[ticket_id] = schedule
                store._figures[ticket_id] = self.figures.get(ticket_id)
            store._keep_sla(ticket_id, None if ticket is None else sla or NO_SLA)
        store._ledger = (store._ledger - self.added) | self.removed
        del store._outbox[self.outbox :]


def _position(record: OutboxRecord) -> int:
    return record.position


def _revived(held: HeldRecord, at: datetime) -> HeldRecord:
    return HeldRecord(held.consumer, held.record, 0, at, held.error, dead=False)


class _MemoryClaim(LeasedClaim):
    """A consumer's cursor claimed in a MemoryStore; its settlement written when it ends."""

    __slots__ = ("_store",)

    def __init__(
        self, store: MemoryStore, consumer: str, position: int, holder: object, lease: timedelta
    ) -> None:
        super().__init__(consumer, position, holder, lease)
        self._store = store

    def held(self) -> list[HeldRecord]:
        with self._store._lock:
            held = self._store._held.get(self.consumer, {})
            return [held[position] for position in sorted(held) if not held[position].dead]

    def read(self, limit: int) -> list[OutboxRecord]:
        return self._store.outbox_read(self.position, limit)

    def renew(self, at: datetime) -> None:
        instant = check_instant(at, "at")
        with self._store._lock:
            if not self.own():
                raise ClaimExpired("memory", self.consumer)
            self._store._claims[self.consumer] = (self.holder, instant + self.lease)

    def own(self) -> bool:
        """Whether the consumer's lease is still this claim's (under the store's lock)."""
        taken = self._store._claims.get(self.consumer)
        return taken is not None and taken[0] is self.holder

    def write(self) -> None:
        """Write the settlement, if any, all at once (under the store's lock)."""
        store = self._store
        if self.settled is None:
            store._cursors.setdefault(self.consumer, self.position)
            return
        kept = store._held.setdefault(self.consumer, {})
        for gone in self.settled.released:
            kept.pop(gone, None)
        for record in self.settled.held:
            kept[record.record.position] = record
        store._cursors[self.consumer] = self.settled.position
