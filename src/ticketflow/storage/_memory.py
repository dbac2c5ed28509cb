"""MemoryStore: the store that keeps everything in the process's memory."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime

from ticketflow._errors import ConcurrencyConflict, TicketNotFound
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
from ticketflow.storage._protocol import check_follows
from ticketflow.storage._query import TicketQuery
from ticketflow.storage._schedule import UNSCHEDULED, Schedule, check_page, check_schedule


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
        self._figures: dict[str, Figures | None] = {}
        self._ids = itertools.count(1)
        self._undo: _Undo | None = None  # the open batch's, touched under the lock only

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
        figures: Figures | None = None,
    ) -> None:
        """Store a new ticket, its first event, its schedule and its figures."""
        check_follows(ticket, event, 0)
        check_schedule(schedule)
        check_figures(figures)
        with self._lock:
            existing = self._tickets.get(ticket.id)
            if existing is not None:
                raise ConcurrencyConflict(ticket.id, 0, existing.version)
            self._before(ticket.id)
            self._tickets[ticket.id] = ticket
            self._history[ticket.id] = [event]
            self._schedules[ticket.id] = schedule
            self._figures[ticket.id] = figures

    def commit(
        self,
        ticket: Ticket,
        event: HistoryEvent,
        expected_version: int,
        ledger: Iterable[LedgerEntry] = (),
        *,
        schedule: Schedule = UNSCHEDULED,
        figures: Figures | None = None,
    ) -> None:
        """Replace the ticket, schedule and figures, append its event and ledger, if it holds."""
        check_follows(ticket, event, expected_version)
        check_schedule(schedule)
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
            self._figures[ticket.id] = figures
            if keys:
                self._ledger |= keys
                if self._undo is not None:
                    self._undo.keep(keys)

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
            self._undo = undo = _Undo()
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
            self._figures.pop(ticket_id, None)
            kept = {key for key in self._ledger if key[1] != ticket_id}
            if self._undo is not None:
                self._undo.forget(self._ledger - kept)
            self._ledger = kept

    def __len__(self) -> int:
        return len(self._tickets)

    def __repr__(self) -> str:
        return f"<MemoryStore: {len(self._tickets)} tickets>"


_NONE = Figures("")
"""What a ticket without figures adds to totals: nothing but itself."""


class _Undo:
    """What a batch changed: each ticket's state before its first write, and the ledger."""

    __slots__ = ("added", "figures", "removed", "tickets")

    def __init__(self) -> None:
        self.figures: dict[str, Figures | None] = {}
        self.tickets: dict[str, tuple[Ticket | None, list[HistoryEvent], Schedule | None]] = {}
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
        for ticket_id, (ticket, history, schedule) in self.tickets.items():
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
        store._ledger = (store._ledger - self.added) | self.removed
