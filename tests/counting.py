"""A store that counts how often each ticket's history is read, for tests of read budgets."""

from __future__ import annotations

from collections import Counter

from ticketflow import HistoryEvent
from ticketflow.storage import MemoryStore


class CountingStore(MemoryStore):
    """A MemoryStore that counts ``history`` reads per ticket."""

    def __init__(self) -> None:
        super().__init__()
        self.reads: Counter[str] = Counter()

    def history(self, ticket_id: str) -> list[HistoryEvent]:
        self.reads[ticket_id] += 1
        return super().history(ticket_id)
