"""Benchmark: a rules sweep over 100k and 1M stored tickets with the same 10k due.

Each database holds resolved tickets, closed ones and open ones; 10,000 of
the resolved tickets were resolved long enough ago for the default
``auto_close`` rule.  ``Helpdesk.run_rules()`` then closes exactly those, each
with its note and its ledger entry committed together.  The figure is the
wall time of the whole sweep, the median over repeats, each on a fresh copy
of the database; the two sizes take turns.  The sweep must cost in
proportion to the due tickets, not to all the tickets stored.

``--json`` prints ``{"sweep_s_100k": ..., "sweep_s_1m": ..., "fired": ...}``;
``--quick`` runs at a hundredth of the sizes.  Goal: ``sweep_s_1m`` at most
1.5 x ``sweep_s_100k``.  The script exits 0 whatever the figures.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Sequence
from datetime import timedelta
from importlib.metadata import version
from pathlib import Path

from bench_storage import START, build

from ticketflow import Helpdesk, ManualClock
from ticketflow.storage import SQLiteStore

SWEEP_AT = START + timedelta(days=30)
"""The sweep's now: the due tickets were resolved 29 days before, the others will be later."""


def sweep(path: Path) -> tuple[float, int]:
    """Run the default rules once on ``path``; return the seconds and how many fired."""
    store = SQLiteStore(path, timeout=30)
    desk = Helpdesk(store=store, clock=ManualClock(SWEEP_AT))
    started = time.perf_counter()
    report = desk.run_rules()
    elapsed = time.perf_counter() - started
    store.close()
    if report.skipped:
        raise RuntimeError(f"the sweep skipped {len(report.skipped)} firings")
    return elapsed, len(report.fired)


def measure(scale: float, repeats: int) -> dict[str, float]:
    """Build both databases, then sweep fresh copies of each in turn."""
    due = round(10_000 * scale)
    sizes = {"sweep_s_100k": round(100_000 * scale), "sweep_s_1m": round(1_000_000 * scale)}
    samples: dict[str, list[float]] = {key: [] for key in sizes}
    fired: set[int] = set()
    with tempfile.TemporaryDirectory(prefix="ticketflow-rules-") as name:
        folder = Path(name)
        built = {}
        for key, total in sizes.items():
            built[key] = folder / f"{key}.sqlite3"
            build(built[key], total, due, Helpdesk().rules_fingerprint)
        for _ in range(repeats):
            for key, source in built.items():
                copy = folder / "sweep.sqlite3"
                shutil.copyfile(source, copy)
                elapsed, count = sweep(copy)
                copy.unlink()
                for leftover in folder.glob("sweep.sqlite3-*"):
                    leftover.unlink()
                samples[key].append(elapsed)
                fired.add(count)
    if fired != {due}:
        raise RuntimeError(f"the sweeps fired {sorted(fired)} times, not {due}")
    figures = {key: statistics.median(values) for key, values in samples.items()}
    figures["fired"] = due
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    """Measure and print; return 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true", help="print one JSON object only")
    parser.add_argument("--quick", action="store_true", help="a smoke run at 1/100 of the sizes")
    parser.add_argument("--repeats", type=int, default=None, help="repeats (default 3, quick 1)")
    args = parser.parse_args(argv)
    scale = 0.01 if args.quick else 1.0
    repeats = args.repeats or (1 if args.quick else 3)
    figures = measure(scale, repeats)
    if args.json:
        print(json.dumps({key: round(value, 4) for key, value in figures.items()}))
        return 0
    sizes = "" if scale == 1 else f" (sizes scaled by {scale:g}: a smoke test, not a figure)"
    ratio = figures["sweep_s_1m"] / figures["sweep_s_100k"]
    print(
        f"ticketflow {version('ticketflow')}, SQLite {sqlite3.sqlite_version}, "
        f"Python {platform.python_version()}{sizes}\n"
        f"median of {repeats} repeats; each sweep closed {int(figures['fired'])} tickets\n\n"
        f"sweep_s_100k {figures['sweep_s_100k']:>8.2f}\n"
        f"sweep_s_1m   {figures['sweep_s_1m']:>8.2f}\n\n"
        f"goal: sweep_s_1m <= 1.5 x sweep_s_100k: ratio {ratio:.2f} -> "
        f"{'met' if ratio <= 1.5 else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
