"""MemoryStore: the store that keeps everything in the process's memory."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable
from datetime import datetime

from ticketflow._errors import ConcurrencyConflict, TicketNotFound
from ticketflow._history import HistoryEvent
from ticketflow._ticket import Ticket
from ticketflow._validate import to_utc
from ticketflow.storage._ledger import LedgerEntry
from ticketflow.storage._protocol import check_follows
from ticketflow.storage._query import TicketQuery


class MemoryStore:
    """A Store in memory: fast, thread-safe, gone when the process ends.

    For tests, demos and hosts that persist elsewhere.  Ids are ``T-1``,
    ``T-2``, ... in creation order.

    >>> store = MemoryStore()
    >>> store.new_id(), store.new_id()
    ('T-1', 'T-2')
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tickets: dict[str, Ticket] = {}
        self._history: dict[str, list[HistoryEvent]] = {}
        self._ledger: set[tuple[str, str, datetime]] = set()
        self._ids = itertools.count(1)

    def new_id(self) -> str:
        """Return ``T-n`` for the next n."""
        with self._lock:
            return f"T-{next(self._ids)}"

    def get(self, ticket_id: str) -> Ticket:
        """Return the stored ticket."""
        try:
            return self._tickets[ticket_id]
        except KeyError:
            raise TicketNotFound(ticket_id) from None

    def create(self, ticket: Ticket, event: HistoryEvent) -> None:
        """Store a new ticket and its first event."""
        check_follows(ticket, event, 0)
        with self._lock:
            existing = self._tickets.get(ticket.id)
            if existing is not None:
                raise ConcurrencyConflict(ticket.id, 0, existing.version)
            self._tickets[ticket.id] = ticket
            self._history[ticket.id] = [event]

    def commit(
        self,
        ticket: Ticket,
        event: HistoryEvent,
        expected_version: int,
        ledger: Iterable[LedgerEntry] = (),
    ) -> None:
        """Replace the ticket, append its event and record its ledger, if the version holds."""
        check_follows(ticket, event, expected_version)
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
            self._tickets[ticket.id] = ticket
            self._history[ticket.id].append(event)
            if keys:
                self._ledger |= keys

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
            del self._tickets[ticket_id]
            del self._history[ticket_id]
            self._ledger = {key for key in self._ledger if key[1] != ticket_id}

    def __len__(self) -> int:
        return len(self._tickets)

    def __repr__(self) -> str:
        return f"<MemoryStore: {len(self._tickets)} tickets>"
