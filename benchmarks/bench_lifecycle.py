"""Benchmark: one lifecycle, five ways of applying its events.

The same cyclic sequence of events runs on the same lifecycle (ticketflow's
default workflow) through five paths:

``core``
    ticketflow's pure core, ``Workflow.apply(ticket, event, actor, at, **payload)``,
    which returns the new ticket and its history event.
``desk``
    ``Helpdesk.fire(ticket_id, event, actor, **payload)`` over a ``MemoryStore``
    and a ``ManualClock``: load, policy check, ``Workflow.apply``, commit.
``python_statemachine``
    python-statemachine 3.x: ``sm.send(event)`` on ``ticketflow.DefaultLifecycle``
    (the declaration ``Workflow.default()`` is compiled from), bound to a model.
``transitions``
    the ``transitions`` library: a ``Machine`` built from the same table rows,
    fired through the model's trigger methods (``model.agent_reply()``).
``dict``
    a bare ``{(status, event): rows}`` dict plus one guard call per event: the
    floor any Python implementation pays.

Each path is timed on batches of whole cycles (the garbage collector off during
a batch, as ``timeit`` does); each batch starts from a fresh ticket or model,
warmed up by one untimed cycle, and the paths take turns batch by batch.  The
figure reported is the median, over the repeats, of batch time divided by the
number of events, in microseconds.

Run ``python benchmarks/bench_lifecycle.py`` for a table and the goals,
``--json`` for one JSON object, ``--quick`` for a smoke run of a few seconds.
The script exits 0 whatever the figures: it measures, it does not judge.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from importlib.metadata import version
from typing import Any, Protocol

from transitions import Machine

from ticketflow import Actor, Contact, DefaultLifecycle, Helpdesk, ManualClock, Workflow
from ticketflow.storage import MemoryStore

Step = tuple[str, Mapping[str, Any]]
"""One event of the schedule and its payload (only ticketflow reads payloads)."""

CYCLE: tuple[str, ...] = (
    "agent_reply",  # new/open -> answered
    "customer_reply",  # answered -> open
    "agent_reply",  # open -> answered
    "resolve",  # answered -> resolved
    "reopen",  # resolved -> open
    "agent_reply",  # open -> answered
    "resolve",  # answered -> resolved
    "customer_reply",  # resolved -> open, guarded by reply_reopens
    "resolve",  # open -> resolved
    "close",  # resolved -> closed
    "reopen",  # closed -> open
)
"""The events of one cycle.  It runs from ``new`` or ``open`` and ends in ``open``."""

EXPECTED: tuple[str, ...] = (
    "answered",
    "open",
    "answered",
    "resolved",
    "open",
    "answered",
    "resolved",
    "open",
    "resolved",
    "closed",
    "open",
)
"""The status after each event of :data:`CYCLE`; every path must follow it."""

BODY = "Thanks, looking into it."
PAYLOADS: Mapping[str, Mapping[str, Any]] = {
    "agent_reply": {"body": BODY},
    "customer_reply": {"body": BODY},
}
SCHEDULE: tuple[Step, ...] = tuple((event, PAYLOADS.get(event, {})) for event in CYCLE)

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ACTOR = Actor.admin("ad-1")
REQUESTER = Contact(name="Ana Ozola", email="ana@example.com")
WORKFLOW = Workflow.default()

NAMES: tuple[str, ...] = ("core", "desk", "python_statemachine", "transitions", "dict")

GOALS: tuple[tuple[str, str, float], ...] = (
    ("core", "transitions", 1 / 2),
    ("core", "python_statemachine", 1 / 20),
    ("desk", "transitions", 1.0),
)
"""``(path, reference, most)``: the goal is ``path / reference <= most``."""


class Path(Protocol):
    """One way of applying events, set up on a fresh ticket or model in ``new``."""

    def run(self, schedule: Sequence[Step]) -> None:
        """Apply every event of ``schedule`` in order."""

    @property
    def status(self) -> str:
        """The current status."""


class GuardModel:
    """The model the state-machine libraries act on; its methods are the guards.

    They answer as the default configuration does: customer replies reopen
    resolved tickets, closed tickets have no reopen window.  Of the three, only
    ``reply_reopens`` is evaluated by :data:`CYCLE`.
    """

    def __init__(self) -> None:
        self.state = WORKFLOW.initial
        self.answered = False

    def never_answered(self) -> bool:
        """Whether staff never replied (guards wake and restore)."""
        return not self.answered

    def reply_reopens(self) -> bool:
        """Whether a customer reply reopens a resolved ticket."""
        return True

    def within_reopen_window(self) -> bool:
        """Whether a closed ticket is still young enough to reopen by reply."""
        return False


class CorePath:
    """``Workflow.apply``, threading the immutable ticket through the events."""

    def __init__(self) -> None:
        self.ticket, _ = WORKFLOW.create(
            "T-1", ACTOR, START, subject="VPN drops", description="Hourly.", requester=REQUESTER
        )

    def run(self, schedule: Sequence[Step]) -> None:
        """Apply each event at the fixed time ``START``."""
        apply, ticket, actor, at = WORKFLOW.apply, self.ticket, ACTOR, START
        for event, payload in schedule:
            ticket, _record = apply(ticket, event, actor, at, **payload)
        self.ticket = ticket

    @property
    def status(self) -> str:
        """The ticket's status."""
        return self.ticket.status


class DeskPath:
    """``Helpdesk.fire`` over a ``MemoryStore`` and a ``ManualClock`` that stands still."""

    def __init__(self) -> None:
        self.desk = Helpdesk(store=MemoryStore(), clock=ManualClock(START), workflow=WORKFLOW)
        self.ticket_id = self.desk.open(
            subject="VPN drops", description="Hourly.", requester=REQUESTER
        ).id

    def run(self, schedule: Sequence[Step]) -> None:
        """Fire each event as an admin, who may do everything."""
        fire, ticket_id, actor = self.desk.fire, self.ticket_id, ACTOR
        for event, payload in schedule:
            fire(ticket_id, event, actor, **payload)

    @property
    def status(self) -> str:
        """The stored ticket's status."""
        return self.desk.get(self.ticket_id).status


class StateMachinePath:
    """python-statemachine: ``send`` on ``DefaultLifecycle`` bound to a model."""

    def __init__(self) -> None:
        self.model = GuardModel()
        self.machine = DefaultLifecycle(model=self.model)

    def run(self, schedule: Sequence[Step]) -> None:
        """Send each event; the machine writes the status to ``model.state``."""
        send = self.machine.send
        for event, _payload in schedule:
            send(event)

    @property
    def status(self) -> str:
        """The model's state."""
        return str(self.model.state)


def transitions_rows() -> list[dict[str, Any]]:
    """Return the default workflow's table rows as ``transitions`` transition dicts."""
    renamed = {"event": "trigger", "from": "source", "to": "dest", "cond": "conditions"}
    return [
        {renamed.get(key, key): value for key, value in row.items()}
        for row in WORKFLOW.to_dict()["transitions"]
    ]


class TransitionsPath:
    """The ``transitions`` library: a ``Machine`` on a model, fired by its triggers."""

    def __init__(self) -> None:
        self.model = GuardModel()
        self.machine = Machine(
            model=self.model,
            states=list(WORKFLOW.statuses),
            transitions=transitions_rows(),
            initial=WORKFLOW.initial,
            auto_transitions=False,
        )

    def run(self, schedule: Sequence[Step]) -> None:
        """Call each event's trigger, as in ``model.agent_reply()``."""
        model = self.model
        for event, _payload in schedule:
            getattr(model, event)()

    @property
    def status(self) -> str:
        """The model's state."""
        return str(self.model.state)


def _always() -> bool:
    return True


class IllegalEventError(Exception):
    """No row of the dict table takes the event from the current status."""


class DictPath:
    """A bare dict ``{(status, event): ((target, guard), ...)}``: the first open row wins.

    Unguarded rows get a guard that returns True, so every event of
    :data:`CYCLE` makes exactly one lookup and one guard call.
    """

    def __init__(self) -> None:
        self.model = GuardModel()
        table: dict[tuple[str, str], list[tuple[str, Callable[[], bool]]]] = {}
        for row in WORKFLOW.transitions:
            if len(row.guards) > 1 or any(not expected for _name, expected in row.guards):
                raise NotImplementedError(f"the dict path takes one positive guard: {row}")
            guard = getattr(self.model, row.guards[0][0]) if row.guards else _always
            table.setdefault((row.source, row.event), []).append((row.target, guard))
        self.table = {key: tuple(rows) for key, rows in table.items()}

    def run(self, schedule: Sequence[Step]) -> None:
        """Look up each event's rows and move to the first whose guard holds."""
        model, table = self.model, self.table
        for event, _payload in schedule:
            for target, guard in table[model.state, event]:
                if guard():
                    model.state = target
                    break
            else:
                raise IllegalEventError(f"{event!r} from {model.state!r}")

    @property
    def status(self) -> str:
        """The model's state."""
        return self.model.state


PATHS: Mapping[str, Callable[[], Path]] = {
    "core": CorePath,
    "desk": DeskPath,
    "python_statemachine": StateMachinePath,
    "transitions": TransitionsPath,
    "dict": DictPath,
}


class DivergenceError(Exception):
    """A path did not follow the statuses of :data:`EXPECTED`: its figures would mean nothing."""


def check_equivalent(cycles: int = 2) -> None:
    """Run ``cycles`` cycles one event at a time on every path and compare the statuses.

    Raises:
        DivergenceError: a path reached a status other than the expected one.
    """
    for name, factory in PATHS.items():
        path = factory()
        for index, step in enumerate(SCHEDULE * cycles):
            path.run((step,))
            expected = EXPECTED[index % len(EXPECTED)]
            if path.status != expected:
                raise DivergenceError(
                    f"{name}: after event {index} ({step[0]}) the status is "
                    f"{path.status!r}, expected {expected!r}"
                )


def time_batch(factory: Callable[[], Path], cycles: int) -> float:
    """Return the seconds ``cycles`` cycles take on a fresh, warmed-up path."""
    path = factory()
    path.run(SCHEDULE)  # warm-up: from new to open, untimed
    schedule = SCHEDULE * cycles
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        path.run(schedule)
        elapsed = time.perf_counter() - start
    finally:
        if was_enabled:
            gc.enable()
    if path.status != EXPECTED[-1]:
        raise DivergenceError(f"the batch ended in {path.status!r}, not {EXPECTED[-1]!r}")
    return elapsed


def calibrate(factory: Callable[[], Path], batch_seconds: float) -> int:
    """Return how many cycles make a batch of about ``batch_seconds``."""
    cycles = 1
    while True:
        elapsed = time_batch(factory, cycles)
        if elapsed >= batch_seconds / 5 or cycles >= 1 << 20:
            return max(1, round(cycles * batch_seconds / elapsed))
        cycles *= 2


def measure(batch_seconds: float, repeats: int) -> dict[str, tuple[int, list[float]]]:
    """Return, per path, the cycles per batch and each repeat's microseconds per event.

    The repeats are interleaved: each round times every path once, starting
    with a different one each round, so that a slow spell of a shared machine
    falls on all paths alike rather than on whichever ran then.
    """
    cycles = {name: calibrate(PATHS[name], batch_seconds) for name in NAMES}
    samples: dict[str, list[float]] = {name: [] for name in NAMES}
    for round_ in range(repeats):
        shift = round_ % len(NAMES)
        for name in NAMES[shift:] + NAMES[:shift]:
            events = cycles[name] * len(SCHEDULE)
            samples[name].append(time_batch(PATHS[name], cycles[name]) / events * 1e6)
    return {name: (cycles[name], samples[name]) for name in NAMES}


def goal_lines(medians: Mapping[str, float]) -> list[str]:
    """Return one line per goal: the ratio, the bound, and whether it is met."""
    lines = []
    for path, reference, most in GOALS:
        ratio = medians[path] / medians[reference]
        verdict = "met" if ratio <= most else "NOT met"
        bound = f"1/{round(1 / most)} of " if most != 1 else ""
        lines.append(
            f"  {path} <= {bound}{reference}: {path}/{reference} = {ratio:.3f} "
            f"(goal <= {most:.3f}; needs {path} <= {medians[reference] * most:.2f} us)"
            f" -> {verdict}"
        )
    return lines


def report(
    medians: Mapping[str, float], runs: Mapping[str, tuple[int, list[float]]], repeats: int
) -> str:
    """Return the readable table, the settings and the goals."""
    lines = [
        f"ticketflow {version('ticketflow')}, python-statemachine "
        f"{version('python-statemachine')}, transitions {version('transitions')}, "
        f"Python {platform.python_version()}",
        f"cycle of {len(CYCLE)} events: {' '.join(CYCLE)}",
        f"median of {repeats} repeats; microseconds per event (lower is better)",
        "",
        f"{'path':<20} {'median us':>10} {'min us':>10} {'max us':>10} "
        f"{'events/s':>10} {'x core':>8} {'events/batch':>13}",
    ]
    for name in NAMES:
        cycles, samples = runs[name]
        lines.append(
            f"{name:<20} {medians[name]:>10.2f} {min(samples):>10.2f} {max(samples):>10.2f} "
            f"{1e6 / medians[name]:>10.0f} {medians[name] / medians['core']:>8.2f} "
            f"{cycles * len(CYCLE):>13}"
        )
    lines += ["", "goals:", *goal_lines(medians)]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true", help="print one JSON object only")
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run of a few seconds (noisy figures)"
    )
    parser.add_argument("--repeats", type=int, help="batches per path (default 15, quick 3)")
    parser.add_argument(
        "--batch-seconds",
        type=float,
        help="about how long each timed batch runs (default 0.25, quick 0.02)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Check the paths agree, time them, print the figures; return 0."""
    args = parse_args(argv)
    repeats = args.repeats or (3 if args.quick else 15)
    batch_seconds = args.batch_seconds or (0.02 if args.quick else 0.25)
    check_equivalent()
    runs = measure(batch_seconds, repeats)
    medians = {name: statistics.median(samples) for name, (_cycles, samples) in runs.items()}
    if args.json:
        print(json.dumps({name: round(medians[name], 4) for name in NAMES}))
    else:
        print(report(medians, runs, repeats))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
