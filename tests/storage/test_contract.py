"""Both stores ticketflow ships meet the store contract of ticketflow.testing."""

from __future__ import annotations

import tempfile
from pathlib import Path

from ticketflow.storage import MemoryStore, SQLiteStore, Store
from ticketflow.testing import StoreContract


class TestMemoryStoreContract(StoreContract):
    def make_store(self) -> Store:
        return MemoryStore()


class TestSQLiteStoreContract(StoreContract):
    def make_store(self) -> Store:
        folder = Path(tempfile.mkdtemp(prefix="ticketflow-contract-"))
        return SQLiteStore(folder / "tickets.sqlite3")

    def dispose_store(self, store: Store) -> None:
        assert isinstance(store, SQLiteStore)
        store.close()
        path = Path(store.path)
        for leftover in path.parent.iterdir():
            leftover.unlink()
        path.parent.rmdir()
