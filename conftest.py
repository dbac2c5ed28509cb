"""Run every test and doc example from the repository's root.

The docs and examples name files by their path from the root
(``examples/workflows/minimal.json``), as a reader typing them would.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent


@pytest.fixture(autouse=True)
def _from_the_repository_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
