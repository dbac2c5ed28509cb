"""Where tickets live: the Store protocol, its query, and the stores ticketflow ships."""

from ticketflow.storage._figures import (
    Figures,
    FigureTotals,
    GroupFigures,
    Period,
    Spread,
    Verdict,
)
from ticketflow.storage._ledger import LedgerEntry
from ticketflow.storage._memory import MemoryStore
from ticketflow.storage._outbox import OutboxStore
from ticketflow.storage._postgres import PostgresStore, migrate_postgres
from ticketflow.storage._protocol import Store
from ticketflow.storage._query import ORDER_FIELDS, TicketQuery
from ticketflow.storage._schedule import UNSCHEDULED, Schedule
from ticketflow.storage._search import SEARCHED_EVENTS, SearchQuery
from ticketflow.storage._sla import NO_SLA, StoredSLA
from ticketflow.storage._sqlite import SQLiteStore

__all__ = [
    "NO_SLA",
    "ORDER_FIELDS",
    "SEARCHED_EVENTS",
    "UNSCHEDULED",
    "FigureTotals",
    "Figures",
    "GroupFigures",
    "LedgerEntry",
    "MemoryStore",
    "OutboxStore",
    "Period",
    "PostgresStore",
    "SQLiteStore",
    "Schedule",
    "SearchQuery",
    "Spread",
    "Store",
    "StoredSLA",
    "TicketQuery",
    "Verdict",
    "migrate_postgres",
]
