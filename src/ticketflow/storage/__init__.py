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
from ticketflow.storage._postgres import PostgresStore, migrate_postgres
from ticketflow.storage._protocol import Store
from ticketflow.storage._query import ORDER_FIELDS, TicketQuery
from ticketflow.storage._schedule import UNSCHEDULED, Schedule
from ticketflow.storage._sqlite import SQLiteStore

__all__ = [
    "ORDER_FIELDS",
    "UNSCHEDULED",
    "FigureTotals",
    "Figures",
    "GroupFigures",
    "LedgerEntry",
    "MemoryStore",
    "Period",
    "PostgresStore",
    "SQLiteStore",
    "Schedule",
    "Spread",
    "Store",
    "TicketQuery",
    "Verdict",
    "migrate_postgres",
]
