"""A deterministic simulated help desk, to watch the lifecycle at work.

Customers write in, agents answer, customers reply, resolve and close; some
tickets are postponed, some are spam, some are reopened, and some closed ones
get a follow-up.  Time is a ManualClock and chance is a seeded Random, so the
same seed prints the same story on every machine.

Each simulated hour looks only at the tickets still in play (active, resolved,
spam waiting to be purged), and whether a closed ticket will get a follow-up
is decided once, when it closes: the work per day stays flat, so a year runs
in seconds and the ticket count grows in proportion to the days.
"""

from __future__ import annotations

import heapq
import random
import statistics
import tempfile
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import TextIO

import attrs

from ticketflow._actor import Actor
from ticketflow._clock import ManualClock
from ticketflow._desk import Helpdesk
from ticketflow._display import printable
from ticketflow._errors import IllegalTransition, InvalidInput, PermissionDenied
from ticketflow._history import HistoryEvent, replay
from ticketflow._metrics import MetricsReport
from ticketflow._status import ACTIVE_CATEGORIES
from ticketflow._ticket import Contact, Priority, Ticket
from ticketflow.storage import SQLiteStore, Store, TicketQuery

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
"""The demo's first Monday morning."""

_NAMES = (
    "Ana Ozola", "Bruno Costa", "Chen Wei", "Dina Haddad", "Emil Berg", "Farah Khan",
    "Gustav Lind", "Hana Novak", "Ivo Petrov", "Jule Meyer", "Kofi Mensah", "Lea Roux",
)  # fmt: skip
_PROBLEMS = (
    ("Invoice charged twice", "billing"),
    ("Cannot reset my password", "accounts"),
    ("VPN drops every hour", "it"),
    ("Refund not received", "billing"),
    ("Export to CSV fails", "product"),
    ("Two-factor code never arrives", "accounts"),
    ("Dashboard is very slow", "product"),
)
_AGENTS = {"billing": "a-ana", "accounts": "a-ben", "it": "a-cai", "product": "a-dev"}

FOLLOW_UP_CHANCE = 0.15
"""The share of closed tickets (follow-ups aside) whose customer writes again."""
FOLLOW_UP_DELAY = (12, 120)
"""How many hours after the close the customer writes again: half a day to five days."""


@attrs.define
class DemoReport:
    """What the simulation did, for the summary and for tests."""

    tickets: list[Ticket]
    histories: dict[str, list[HistoryEvent]]
    refused: list[str]
    purged: int
    lines: int


class _Simulation:
    def __init__(self, seed: int, out: Callable[[str], None], store: Store) -> None:
        self.rng = random.Random(seed)
        # Returning customers draw from their own stream, so that whether one
        # comes back does not reshuffle the rest of the story.
        self.returns = random.Random(f"follow-ups {seed}")
        self.clock = ManualClock(START)
        self.desk = Helpdesk(store=store, clock=self.clock)
        self.out = out
        self.pending: list[str] = []
        self.lines = 0
        self.refused: list[str] = []
        self.purged = 0
        self.customers = [
            Contact(name=name, email=f"{name.split()[0].lower()}@example.com") for name in _NAMES
        ]
        self.admin = Actor.admin("admin-1")
        self.system = Actor.system()
        self.follow_ups: list[tuple[datetime, str]] = []
        """A heap of (when, closed ticket id): the customers who will write again."""
        self.desk.subscribe(self._print_move)

    def _print_move(self, ticket: Ticket, event: HistoryEvent) -> None:
        if not event.moved:
            return
        # Hooks only collect: output happens outside the commit path, so a
        # closed pipe cannot be mistaken for a failed hook.
        self.lines += 1
        start = "new" if event.from_status is None else f"{event.from_status} -> {event.to_status}"
        opened = event.from_status is None
        follows = f", follow-up of {ticket.parent_id}" if opened and ticket.parent_id else ""
        self.pending.append(
            f"{event.at:%a %d %b %H:%M}  {ticket.id:<5} {start:<22} "
            f"{event.name} by {event.actor.role.value} {event.actor.id}{follows}"
        )

    def run(self, days: int) -> DemoReport:
        for _hour in range(days * 24):
            self.clock.advance(timedelta(hours=1))
            if 8 <= self.clock.now().hour < 18:
                self._arrivals()
            for ticket in self.desk.find(category=ACTIVE_CATEGORIES):
                self._work(ticket)
            for ticket in self.desk.find(status="resolved"):
                self._settle(ticket)
            for ticket in self.desk.find(status=["spam", "deleted"]):
                self._purge_old(ticket)
            self._follow_ups_due()
            for line in self.pending:
                self.out(printable(line))
            self.pending.clear()
        tickets = self.desk.find()
        histories = {ticket.id: self.desk.history(ticket.id) for ticket in tickets}
        return DemoReport(tickets, histories, self.refused, self.purged, self.lines)

    def _arrivals(self) -> None:
        if self.rng.random() < 0.35:
            subject, department = self.rng.choice(_PROBLEMS)
            customer = self.rng.choice(self.customers)
            spam = self.rng.random() < 0.08
            ticket = self.desk.open(
                subject="You won a prize!!!" if spam else subject,
                description="Click here." if spam else f"{subject}. Please help.",
                requester=customer,
                priority=self.rng.choice(list(Priority)),
                channel=self.rng.choice(["email", "chat", "portal", "phone"]),
                department=department,
                tags={department},
            )
            if spam:
                self.desk.mark_spam(ticket.id, Actor.agent(_AGENTS[department]))

    def _work(self, ticket: Ticket) -> None:
        agent = Actor.agent(_AGENTS[ticket.department or "it"], department=ticket.department)
        customer = Actor.customer(ticket.requester.id)
        roll = self.rng.random()
        if ticket.status in ("new", "open") and roll < 0.3:
            if ticket.assignee is None:
                self.desk.assign(ticket.id, agent, to=agent.id)
            if self.rng.random() < 0.75:
                self.desk.reply(ticket.id, agent, "Thanks, we are looking into it.")
            elif self.rng.random() < 0.5:
                self.desk.resolve(ticket.id, agent, body="Fixed on our side.")
            else:
                self.desk.postpone(
                    ticket.id, agent, until=self.clock.now() + timedelta(days=2),
                    body="Waiting for the next release.",
                )  # fmt: skip
        elif ticket.status == "answered" and roll < 0.2:
            if self.rng.random() < 0.6:
                self.desk.reply(ticket.id, customer, "That did not help, sorry.")
            else:
                self.desk.resolve(ticket.id, customer, body="Works now, thank you!")
        elif (
            ticket.status == "postponed"
            and ticket.postponed_until is not None
            and ticket.postponed_until <= self.clock.now()
        ):
            self.desk.wake(ticket.id, self.system)
        if ticket.status == "answered" and roll > 0.995:
            self._try_illegal_close(ticket, agent)

    def _try_illegal_close(self, ticket: Ticket, agent: Actor) -> None:
        # Resolve-before-close is a law: the demo shows it refusing a shortcut.
        try:
            self.desk.close(ticket.id, agent)
        except (IllegalTransition, PermissionDenied) as refused:
            self.refused.append(str(refused))
            self.pending.append(f"{self.clock.now():%a %d %b %H:%M}  refused: {refused}")

    def _settle(self, ticket: Ticket) -> None:
        customer = Actor.customer(ticket.requester.id)
        roll = self.rng.random()
        if roll < 0.04:
            self._closed(self.desk.close(ticket.id, customer, body="Confirmed, thanks."))
        elif roll < 0.05:
            self.desk.reply(ticket.id, customer, "It broke again.")
        elif ticket.last_customer_activity_at is not None and (
            self.clock.now() - max(ticket.last_customer_activity_at, ticket.status_changed_at)
            >= timedelta(days=7)
        ):
            self._closed(
                self.desk.close(
                    ticket.id, self.system, body="Closed after 7 days without a reply from you."
                )
            )

    def _purge_old(self, ticket: Ticket) -> None:
        if self.clock.now() - ticket.status_changed_at >= timedelta(days=3):
            self.desk.purge(ticket.id, self.admin)
            self.purged += 1

    def _closed(self, ticket: Ticket) -> None:
        # Decided once, at the close: rolling for every closed ticket every
        # hour made a year quadratic, and follow-ups of follow-ups exponential.
        if ticket.parent_id is None and self.returns.random() < FOLLOW_UP_CHANCE:
            delay = timedelta(hours=self.returns.randint(*FOLLOW_UP_DELAY))
            heapq.heappush(self.follow_ups, (self.clock.now() + delay, ticket.id))

    def _follow_ups_due(self) -> None:
        while self.follow_ups and self.follow_ups[0][0] <= self.clock.now():
            _when, ticket_id = heapq.heappop(self.follow_ups)
            requester = self.desk.get(ticket_id).requester
            # A reply to a closed ticket opens a follow-up linked to it.
            self.desk.reply(ticket_id, Actor.customer(requester.id), "Same problem again, sadly.")


def _median_hours(values: list[timedelta]) -> str:
    if not values:
        return "n/a"
    hours = statistics.median(value.total_seconds() for value in values) / 3600
    return f"{hours:.1f} h"


def summary(report: DemoReport) -> list[str]:
    """Return the closing summary of a demo run, as lines."""
    statuses = Counter(ticket.status for ticket in report.tickets)
    first_response = [
        ticket.first_response_at - ticket.created_at
        for ticket in report.tickets
        if ticket.first_response_at is not None
    ]
    resolution = [
        ticket.resolved_at - ticket.created_at
        for ticket in report.tickets
        if ticket.resolved_at is not None
    ]
    events = sum(len(history) for history in report.histories.values())
    replayed = sum(replay(report.histories[ticket.id]) == ticket for ticket in report.tickets)
    return [
        f"tickets kept:           {len(report.tickets)} (and {report.purged} spam purged)",
        "by status:              "
        + ", ".join(f"{status} {count}" for status, count in sorted(statuses.items())),
        f"history events:         {events}",
        f"reopened tickets:       {sum(1 for t in report.tickets if t.reopen_count)}",
        f"follow-up tickets:      {sum(1 for t in report.tickets if t.parent_id)}",
        f"median first response:  {_median_hours(first_response)}",
        f"median resolution:      {_median_hours(resolution)}",
        f"refused shortcuts:      {len(report.refused)}",
        f"replay equals stored:   {replayed} of {len(report.tickets)}",
    ]


def run_demo(
    *,
    seed: int = 7,
    days: int = 14,
    quiet: bool = False,
    out: TextIO,
    store: Store | None = None,
) -> DemoReport:
    """Run the simulation, print the moves (unless quiet) and the summary.

    Args:
        seed: chooses the story; the same seed tells the same one.
        days: how many simulated days to run.
        quiet: print only the summary.
        out: where to print.
        store: an empty store to keep the tickets in; by default a SQLite
            file in a temporary folder, removed afterwards.

    Raises:
        InvalidInput: ``store`` already holds tickets.
    """
    if store is None:
        with (
            tempfile.TemporaryDirectory(prefix="ticketflow-demo-") as folder,
            SQLiteStore(Path(folder) / "demo.sqlite3") as temporary,
        ):
            return run_demo(seed=seed, days=days, quiet=quiet, out=out, store=temporary)
    if store.query(TicketQuery(limit=1)):
        raise InvalidInput("store", store, "an empty store: the demo tells its story from day one")

    def emit(line: str) -> None:
        if not quiet:
            print(line, file=out)

    print(
        f"ticketflow demo: {days} simulated days from {START:%a %d %b %Y}, seed {seed}", file=out
    )
    report = _Simulation(seed, emit, store).run(days)
    print("\nsummary", file=out)
    for line in summary(report):
        print(f"  {line}", file=out)
    desk = Helpdesk(store=store, clock=ManualClock(START + timedelta(days=days)))
    print("\n" + without_repeats(desk.metrics()).table(), file=out)
    return report


def without_repeats(report: MetricsReport) -> MetricsReport:
    """Leave out the "by tag" breakdown when it repeats "by department" exactly.

    The demo tags each ticket with its department, so the two tables are the
    same; in general they differ, and both are kept.
    """
    tags = report.breakdowns.get("tag")
    if tags is None or tags != report.breakdowns.get("department"):
        return report
    kept = {name: groups for name, groups in report.breakdowns.items() if name != "tag"}
    return attrs.evolve(report, breakdowns=MappingProxyType(kept))
