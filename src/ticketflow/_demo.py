"""A deterministic simulated help desk, to watch the lifecycle at work.

Customers write in, agents answer, customers reply, resolve and close; some
tickets are postponed, some are spam, some are reopened, and some closed ones
get a follow-up.  Time is a ManualClock and chance is a seeded Random, so the
same seed prints the same story on every machine.

The desk runs the product as a host would: business-hours SLA policies per
priority (:func:`demo_sla_policies`) and, every simulated hour, a sweep of the
default rules and the SLA rules.  Some customers never write back after an
answer (the reminder, the escalation and the resolution that records every
contact attempt fire in turn) and some never confirm a resolution (the 7-day
rule closes their tickets); the story names the rule behind each such step.

After the work, the product's other half: some customers rate the tickets
they closed or that the 7-day rule closed for them, a day or two later, good
or bad (bad more often when the ticket was reopened, escalated or breached
its SLA), and the agent reviews each ticket rated bad, lessons learned on
record; now and then a customer writes the same request again, and the
agent merges the duplicate into the original; the summary ends with a search
of the desk's tickets, walked a page at a time, then SLA compliance,
satisfaction and the breakdowns.

Each simulated hour is a list of steps (``_Simulation.steps``), and the story
grows one small step at a time.

Each simulated hour looks only at the tickets still in play (active, resolved,
spam waiting to be purged), and whether a closed ticket will get a follow-up
is decided once, when it closes: the work per day stays flat, so the time
and the ticket count grow in proportion to the days (a year: some 1,400
tickets, about 17 seconds of processor time on SQLite).
"""

from __future__ import annotations

import heapq
import random
import statistics
import tempfile
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import TextIO

import attrs

from ticketflow._actor import Actor
from ticketflow._clock import Clock, ManualClock
from ticketflow._desk import Helpdesk
from ticketflow._display import printable
from ticketflow._errors import IllegalTransition, InvalidInput, PermissionDenied
from ticketflow._history import HistoryEvent, replay
from ticketflow._metrics import MetricsReport, Summary, satisfaction_words
from ticketflow._names import AGENT_REPLY, MERGE, MERGE_IN, RATE, REMIND, REVIEW
from ticketflow._reserved import MERGED_FROM, MERGED_INTO
from ticketflow._satisfaction import BAD, GOOD, score_of
from ticketflow._status import ACTIVE_CATEGORIES
from ticketflow._ticket import Contact, Priority, Ticket
from ticketflow.rules import Firing, PriorityIs
from ticketflow.sla import Calendar, SLAPolicy, Target
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
_LESSONS = {
    "billing": "Check the payment log before the first answer.",
    "accounts": "Send the reset link with the first answer.",
    "it": "Ask for the client version at once.",
    "product": "Reproduce on the customer's data before replying.",
}
"""What an agent learns from a ticket rated bad, by department."""

FOLLOW_UP_CHANCE = 0.15
"""The share of closed tickets (follow-ups aside) whose customer writes again."""
FOLLOW_UP_DELAY = (12, 120)
"""How many hours after the close the customer writes again: half a day to five days."""
SILENT_CHANCE = 0.12
"""The share of customers who never write back once an agent has answered them."""
UNCONFIRMED_CHANCE = 0.3
"""The share of customers who never confirm a resolution: the 7-day rule closes their tickets."""
RATING_CHANCE = 0.45
"""The share of closed tickets whose customer rates them."""
RATING_DELAY = (2, 48)
"""How many hours after the close the customer rates: two hours to two days."""
BAD_CHANCE = (0.1, 0.6)
"""The chance that a rating is bad: of a smooth ticket, and of a troubled one
(reopened, escalated, or past an SLA target)."""
DUPLICATE_CHANCE = 0.015
"""The chance, each office hour, that a customer writes an open request again."""
SEARCH_TEXT = "vpn drops"
"""What the summary's search looks for."""
_COMMENTS = {
    GOOD: ("Quick and friendly, thanks.", "Solved for good, thank you.", None),
    BAD: ("Took far too long.", "I had to ask twice.", None),
}

SLA_TARGETS: Mapping[Priority, tuple[timedelta, timedelta]] = MappingProxyType(
    {
        Priority.URGENT: (timedelta(hours=1), timedelta(hours=8)),
        Priority.HIGH: (timedelta(hours=2), timedelta(hours=20)),
        Priority.NORMAL: (timedelta(hours=4), timedelta(hours=30)),
        Priority.LOW: (timedelta(hours=8), timedelta(hours=50)),
    }
)
"""The demo's promises by priority: first response and resolution, in office hours."""


def demo_sla_policies() -> tuple[SLAPolicy, ...]:
    """The demo desk's SLA policies: one per priority, counted in office hours.

    Office hours are 08:00 to 18:00, Monday to Friday, London time; the
    targets are :data:`SLA_TARGETS`.
    """
    office = Calendar.business("Europe/London", weekdays=("08:00", "18:00"), name="office hours")
    return tuple(
        SLAPolicy(
            f"{priority.value} priority",
            applies_to=PriorityIs(priority),
            first_response=first,
            resolution=resolution,
            calendar=office,
        )
        for priority, (first, resolution) in SLA_TARGETS.items()
    )


def demo_desk(store: Store, clock: Clock) -> Helpdesk:
    """A desk configured as the demo's: the default rules, the SLA rules, the demo's SLA policies.

    The command line uses it for a database whose tickets this configuration
    scheduled (one the demo filled), so that ``sweep`` and ``report`` see
    the same rules and SLA policies as the story did.
    """
    return Helpdesk(store=store, clock=clock, sla_policies=demo_sla_policies())


RULE_STORIES: Mapping[str, str] = MappingProxyType(
    {
        "remind_customer": "a reminder to the silent customer",
        "escalate_silence": "escalated: the customer is still silent",
        "resolve_silence": "resolved after the contact attempts, each on record",
        "auto_close": "closed by the 7-day rule",
        "wake_postponed": "woken: its postponement ran out",
        "sla_warning": "SLA warning: 75% of a target used",
        "sla_breach": "SLA breached",
    }
)
"""What the story says when a rule of the demo desk acts."""


@attrs.define
class DemoReport:
    """What the simulation did, for the summary and for tests.

    Attributes:
        tickets: every ticket kept, as it ends.
        histories: each kept ticket's history, by id.
        refused: the refusals of illegal shortcuts, as messages.
        purged: how many spam tickets were purged.
        lines: how many events the story told (or would have, when quiet).
        fired: every rule firing of the hourly sweeps, in order.
    """

    tickets: list[Ticket]
    histories: dict[str, list[HistoryEvent]]
    refused: list[str]
    purged: int
    lines: int
    fired: list[Firing] = attrs.Factory(list)


class _Simulation:
    def __init__(self, seed: int, out: Callable[[str], None], store: Store) -> None:
        self.rng = random.Random(seed)
        # Returning customers and customers' habits draw from their own
        # streams, so that one of them does not reshuffle the rest of the story.
        self.returns = random.Random(f"follow-ups {seed}")
        self.habits = random.Random(f"habits {seed}")
        self.clock = ManualClock(START)
        self.desk = demo_desk(store, self.clock)
        self.out = out
        self.pending: list[str | tuple[Ticket, HistoryEvent]] = []
        """What happened this hour: refusals, and events as committed, told at its end."""
        self.lines = 0
        self.refused: list[str] = []
        self.purged = 0
        self.fired: list[Firing] = []
        self.by_rule: dict[tuple[str, str, datetime], str] = {}
        """(ticket id, event, instant) -> the rule that fired it."""
        self.silent: set[str] = set()
        """Tickets whose customer never writes back once answered."""
        self.unconfirmed: set[str] = set()
        """Tickets whose customer never confirms a resolution."""
        self.customers = [
            Contact(name=name, email=f"{name.split()[0].lower()}@example.com") for name in _NAMES
        ]
        self.admin = Actor.admin("admin-1")
        self.system = Actor.system()
        self.follow_ups: list[tuple[datetime, str]] = []
        """A heap of (when, closed ticket id): the customers who will write again."""
        # Ratings and duplicates draw from streams of their own too.
        self.opinions = random.Random(f"ratings {seed}")
        self.copies = random.Random(f"duplicates {seed}")
        self.ratings: list[tuple[datetime, str, str]] = []
        """A heap of (when, closed ticket id, score): the customers who will rate."""
        self.steps: tuple[Callable[[], None], ...] = (
            self._arrivals,
            self._duplicates,
            self._work_active,
            self._settle_resolved,
            self._purge_removed,
            self._follow_ups_due,
            self._ratings_due,
            self._sweep,
        )
        """What each simulated hour does, in order; a new part of the story is one more step."""
        self.desk.subscribe(self._collect)

    def _collect(self, ticket: Ticket, event: HistoryEvent) -> None:
        # Hooks only collect: output happens outside the commit path, so a
        # closed pipe cannot be mistaken for a failed hook.
        self.pending.append((ticket, event))

    def _told(self, ticket: Ticket, event: HistoryEvent) -> str | None:
        """The story's line for one committed event: a move, or a rule acting; None for others."""
        rule = self.by_rule.get((ticket.id, event.name, event.at))
        if rule is None and not event.moved and event.name not in (RATE, MERGE_IN, REVIEW):
            return None
        if event.from_status is None:
            start = "new"
        elif event.moved:
            start = f"{event.from_status} -> {event.to_status}"
        else:
            start = f"({event.to_status})"
        told = f"{event.at:%a %d %b %H:%M}  {ticket.id:<5} {start:<22} "
        if rule is not None:
            story = RULE_STORIES.get(rule, f"{event.name} by the rule")
            if rule == "resolve_silence":
                attempts = sum(
                    earlier.name in (AGENT_REPLY, REMIND)
                    for earlier in self.desk.history(ticket.id)
                )
                story = f"resolved after {attempts} contact attempts, each on record"
            elif rule in ("sla_warning", "sla_breach"):
                story = self._sla_story(ticket, breached=rule == "sla_breach") or story
            return f"{told}{story} ({rule})"
        if event.name == RATE:
            comment = f": {event.body!r}" if event.body else ""
            return f"{told}rated {score_of(ticket)} by {event.actor.id}{comment}"
        if event.name == REVIEW:
            return f"{told}reviewed by {event.actor.id}, the lessons learned on record"
        if event.name == MERGE_IN:
            merged = ticket.fields[MERGED_FROM]
            assert isinstance(merged, tuple)  # noqa: S101 - the merge writes a tuple of ids
            return f"{told}{merged[-1]} merged into it, a duplicate ({event.actor.id})"
        opened = event.from_status is None
        follows = f", follow-up of {ticket.parent_id}" if opened and ticket.parent_id else ""
        into = f" into {ticket.fields[MERGED_INTO]}" if event.name == MERGE else ""
        return f"{told}{event.name} by {event.actor.role.value} {event.actor.id}{into}{follows}"

    def _sla_story(self, ticket: Ticket, *, breached: bool) -> str | None:
        """Which targets of which policy are breached, or at risk, now (None if none is)."""
        states = [
            state
            for state in self.desk.sla(ticket.id)
            if state.running
            and state.breached == breached
            and (breached or state.fraction >= 0.75)
        ]
        if not states:
            return None
        targets = " and ".join(state.target.value.replace("_", " ") for state in states)
        what = "breached" if breached else "75% used"
        return f"SLA {targets} {what} under the {states[0].policy} policy"

    def _tell(self) -> None:
        for item in self.pending:
            line = item if isinstance(item, str) else self._told(*item)
            if line is not None:
                self.lines += not isinstance(item, str)
                self.out(printable(line))
        self.pending.clear()

    def run(self, days: int) -> DemoReport:
        for _hour in range(days * 24):
            self.clock.advance(timedelta(hours=1))
            for step in self.steps:
                step()
            self._tell()
        tickets = self.desk.find()
        histories = {ticket.id: self.desk.history(ticket.id) for ticket in tickets}
        return DemoReport(tickets, histories, self.refused, self.purged, self.lines, self.fired)

    def _arrivals(self) -> None:
        if not 8 <= self.clock.now().hour < 18 or self.rng.random() >= 0.35:
            return
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
        habit = self.habits.random()
        if habit < SILENT_CHANCE:
            self.silent.add(ticket.id)
        elif habit < SILENT_CHANCE + UNCONFIRMED_CHANCE:
            self.unconfirmed.add(ticket.id)
        if spam:
            self.desk.mark_spam(ticket.id, Actor.agent(_AGENTS[department]))

    def _duplicates(self) -> None:
        """Now and then a customer writes an open request again; its agent merges the copy."""
        if not 8 <= self.clock.now().hour < 18 or self.copies.random() >= DUPLICATE_CHANCE:
            return
        originals = self.desk.find(status=["new", "open", "answered"])
        if not originals:
            return
        original = self.copies.choice(originals)
        copy = self.desk.open(
            subject=original.subject,
            description=f"{original.subject}. Writing again, in case my first message was lost.",
            requester=original.requester,
            priority=original.priority,
            channel=self.copies.choice(["email", "chat", "portal"]),
            department=original.department,
            tags=original.tags - {"escalated"},
        )
        department = original.department or "it"
        agent = Actor.agent(_AGENTS[department], department=department)
        self.desk.merge(copy.id, agent, into=original.id, body=f"A duplicate of {original.id}.")

    def _work_active(self) -> None:
        for ticket in self.desk.find(category=ACTIVE_CATEGORIES):
            self._work(ticket)

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
        elif ticket.status == "answered" and roll < 0.2 and ticket.id not in self.silent:
            if self.rng.random() < 0.6:
                self.desk.reply(ticket.id, customer, "That did not help, sorry.")
            else:
                self.desk.resolve(ticket.id, customer, body="Works now, thank you!")
        if ticket.status == "answered" and roll > 0.995:
            self._try_illegal_close(ticket, agent)

    def _try_illegal_close(self, ticket: Ticket, agent: Actor) -> None:
        # Resolve-before-close is a law: the demo shows it refusing a shortcut.
        try:
            self.desk.close(ticket.id, agent)
        except (IllegalTransition, PermissionDenied) as refused:
            self.refused.append(str(refused))
            self.pending.append(f"{self.clock.now():%a %d %b %H:%M}  refused: {refused}")

    def _settle_resolved(self) -> None:
        for ticket in self.desk.find(status="resolved"):
            if ticket.id in self.silent or ticket.id in self.unconfirmed:
                continue  # the 7-day rule will close it
            customer = Actor.customer(ticket.requester.id)
            roll = self.rng.random()
            if roll < 0.04:
                self._closed(self.desk.close(ticket.id, customer, body="Confirmed, thanks."))
            elif roll < 0.05:
                self.desk.reply(ticket.id, customer, "It broke again.")

    def _purge_removed(self) -> None:
        for ticket in self.desk.find(status=["spam", "deleted"]):
            if self.clock.now() - ticket.status_changed_at >= timedelta(days=3):
                self.desk.purge(ticket.id, self.admin)
                self.purged += 1

    def _sweep(self) -> None:
        """Run the desk's rules, as a host's worker would, every hour."""
        for firing in self.desk.run_rules().fired:
            self.fired.append(firing)
            self.by_rule[(firing.ticket_id, firing.event, firing.at)] = firing.rule
            if firing.to_status == "closed":
                self._closed(self.desk.get(firing.ticket_id))

    def _closed(self, ticket: Ticket) -> None:
        # Decided once, at the close: rolling for every closed ticket every
        # hour made a year quadratic, and follow-ups of follow-ups exponential.
        if ticket.parent_id is None and self.returns.random() < FOLLOW_UP_CHANCE:
            delay = timedelta(hours=self.returns.randint(*FOLLOW_UP_DELAY))
            heapq.heappush(self.follow_ups, (self.clock.now() + delay, ticket.id))
        if self.opinions.random() < RATING_CHANCE:
            troubled = (
                ticket.reopen_count > 0
                or "escalated" in ticket.tags
                or any(state.breached for state in self.desk.sla(ticket.id))
            )
            score = BAD if self.opinions.random() < BAD_CHANCE[troubled] else GOOD
            when = self.clock.now() + timedelta(hours=self.opinions.randint(*RATING_DELAY))
            if ticket.resolved_at is not None:  # ratings are taken within a window
                when = min(when, ticket.resolved_at + self.desk.satisfaction.window)
            heapq.heappush(self.ratings, (when, ticket.id, score))

    def _ratings_due(self) -> None:
        while self.ratings and self.ratings[0][0] <= self.clock.now():
            _when, ticket_id, score = heapq.heappop(self.ratings)
            customer = Actor.customer(self.desk.get(ticket_id).requester.id)
            comment = self.opinions.choice(_COMMENTS[score])
            ticket = self.desk.rate(ticket_id, customer, score, comment=comment)
            if score == BAD:  # the agent looks back at what went wrong
                department = ticket.department or "it"
                self.desk.review(
                    ticket.id,
                    Actor.agent(ticket.assignee or _AGENTS[department], department=department),
                    solution=f"{ticket.subject}: fixed on our side.",
                    lessons=_LESSONS[department],
                )

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
    fired = Counter(firing.rule for firing in report.fired)
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
        "rules fired:            "
        + (", ".join(f"{rule} {count}" for rule, count in sorted(fired.items())) or "none"),
    ]


def _by_priority(metrics: MetricsReport) -> dict[str, Summary]:
    """The report's figures overall, then by priority, most urgent first."""
    by_priority = metrics.breakdowns.get("priority", {})
    groups: dict[str, Summary] = {"all": metrics.overall}
    groups.update(
        (priority.value, by_priority[priority.value])
        for priority in reversed(Priority)
        if priority.value in by_priority
    )
    return groups


def compliance(metrics: MetricsReport) -> list[str]:
    """Return the SLA compliance of a report, overall and by priority, as lines.

    Each share is of the decided clocks of a target (met in time, or
    breached) that met it, as :attr:`Summary.compliance` counts them.
    """
    lines = ["SLA compliance (decided clocks that met their target)"]
    for group, figures in _by_priority(metrics).items():
        shares = ", ".join(
            f"{target.value} {figures.compliance[target]:.0%}"
            for target in Target
            if target in figures.compliance
        )
        lines.append(f"  {printable(group):<10} {shares or 'no clock decided yet'}")
    return lines


def satisfaction(metrics: MetricsReport) -> list[str]:
    """Return the customers' satisfaction in a report, overall and by priority, as lines.

    The share of ratings that are satisfied (``"good"``, or 4 and 5 of 5)
    and the response rate, as :class:`Summary` counts them.
    """
    lines = ["Satisfaction (ratings of resolved and closed tickets)"]
    for group, figures in _by_priority(metrics).items():
        words = satisfaction_words(figures) if figures.ratings else "no rating yet"
        lines.append(f"  {printable(group):<10} {words}")
    return lines


def search(desk: Helpdesk, text: str = SEARCH_TEXT, *, page: int = 3) -> list[str]:
    """Return a search of the desk's tickets, walked ``page`` at a time, as lines.

    The first line says how many tickets hold every word of ``text`` and
    over how many pages the cursor walked; the best ``page`` follow.
    """
    found = desk.search(text, limit=page)
    best, pages, total = list(found), 1, len(found)
    while found.next is not None:
        found = desk.search(text, limit=page, after=found.next)
        pages, total = pages + 1, total + len(found)
    if not total:
        return [f'Search for "{printable(text)}": no ticket holds these words yet']
    lines = [
        f'Search for "{printable(text)}": {total} tickets, '
        f"{pages} page{'s' if pages != 1 else ''} of {page}; the best first"
    ]
    lines.extend(
        f"  {ticket.id:<7} {ticket.status:<10} {printable(ticket.subject)}" for ticket in best
    )
    return lines


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
    desk = demo_desk(store, ManualClock(START + timedelta(days=days)))
    metrics = desk.metrics()
    for section in (search(desk), compliance(metrics), satisfaction(metrics)):
        print("\n" + "\n".join(section), file=out)
    print("\n" + without_repeats(metrics).table(), file=out)
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
