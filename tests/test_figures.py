"""Stored figures: kept with every commit, equal to a recomputation, and added up by the store.

The proof is a stateful test over random histories, clock jumps, sweeps and
changes of the SLA policies, on every store: after every command each
ticket's stored figures equal those recomputed from its history, and the
report the store adds up equals the report computed from every history
(``metrics(per_ticket=True)``, today's computation, kept as the reference).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory

import pytest
from counting import CountingStore
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
)
from pgserver import migrated_pool, run_laws_on_postgres
from psycopg_pool import ConnectionPool
from support import ADMIN, AGENT, ANA, CUSTOMER, START, merge_some

from ticketflow import (
    Actor,
    FiguresOutOfDate,
    Helpdesk,
    IllegalTransition,
    InvalidInput,
    ManualClock,
    MetricsReport,
    PermissionDenied,
    RatingScale,
    Satisfaction,
    TicketNotFound,
)
from ticketflow._figures import measured
from ticketflow.rules import PriorityIs
from ticketflow.sla import Calendar, SLAPolicy
from ticketflow.storage import (
    Figures,
    MemoryStore,
    Period,
    SQLiteStore,
    Store,
    TicketQuery,
    Verdict,
)
from ticketflow.storage._figures import (
    _SHARED,
    figures_from_row,
    figures_row,
    interpolate,
    percentile,
    ranks,
    shared_verdicts,
)
from ticketflow.testing import bodies

HOUR, DAY = timedelta(hours=1), timedelta(days=1)

OFFICE = Calendar.business(
    "Europe/Riga",
    {day: [(time(9), time(12)), (time(13), time(17))] for day in range(5)},  # split shifts
    holidays=[date(2026, 1, 6), date(2026, 3, 30)],
)
NIGHTS = Calendar.business("America/New_York", {day: [(time(22), time(6))] for day in range(6)})
DST_WEEK = datetime(2026, 3, 27, 9, 0, tzinfo=UTC)
"""Clocks go forward in Riga on 29 March and in New York on 8 March 2026."""

POLICY_SETS: dict[str, Callable[[], tuple[SLAPolicy, ...]]] = {
    "none": lambda: (),
    "24x7": lambda: (
        SLAPolicy("p", first_response=4 * HOUR, next_response=6 * HOUR, resolution=2 * DAY),
    ),
    "office": lambda: (
        SLAPolicy(
            "office",
            first_response=3 * HOUR,
            resolution=DAY,
            close_within=2 * DAY,
            calendar=OFFICE,
        ),
    ),
    "by priority": lambda: (
        SLAPolicy(
            "urgent",
            applies_to=PriorityIs("urgent"),
            first_response=HOUR,
            resolution=8 * HOUR,
            calendars={"resolution": NIGHTS},
        ),
        SLAPolicy("rest", first_response=8 * HOUR, resolution=5 * DAY, calendar=OFFICE),
    ),
}


def summaries(report: MetricsReport) -> tuple[object, object]:
    """What a report from stored figures and one from histories must agree on."""
    return report.overall, report.breakdowns


class FigureLaws(RuleBasedStateMachine):
    """Commands, clock jumps, sweeps and policy changes; the figures never drift."""

    def __init__(self) -> None:
        super().__init__()
        self.folder = TemporaryDirectory(prefix="ticketflow-figures-")
        self.clock = ManualClock(START)
        self.desk = Helpdesk(store=self.make_store(), clock=self.clock)
        self.ids: list[str] = []
        self.satisfaction = Satisfaction()

    def make_store(self) -> Store:
        """A new empty store for one run."""
        return MemoryStore()

    def teardown(self) -> None:
        close = getattr(self.desk.store, "close", None)
        if close is not None:
            close()
        self.folder.cleanup()

    @initialize(
        count=st.integers(1, 4),
        policies=st.sampled_from(sorted(POLICY_SETS)),
        start=st.sampled_from([START, datetime(2026, 3, 6, 20, 0, tzinfo=UTC), DST_WEEK]),
        scale=st.sampled_from(list(RatingScale)),
    )
    def open_tickets(self, count: int, policies: str, start: datetime, scale: RatingScale) -> None:
        self.clock.set(start)
        self.satisfaction = Satisfaction(scale)
        self.desk = Helpdesk(
            store=self.desk.store,
            clock=self.clock,
            sla_policies=POLICY_SETS[policies](),
            satisfaction=self.satisfaction,
        )
        for number in range(count):
            self.another_ticket(number % 3)

    @rule(kind=st.integers(0, 2))
    def another_ticket(self, kind: int) -> None:
        ticket = self.desk.open(
            subject="s",
            description="d",
            requester=ANA,
            priority=("normal", "urgent", "low")[kind],
            department=(None, "it", "billing")[kind],
            tags=({"vpn"}, set(), {"vpn", "vip"})[kind],
        )
        self.ids.append(ticket.id)

    @rule(jump=st.sampled_from([HOUR / 2, HOUR, 3 * HOUR, 9 * HOUR, DAY, 3 * DAY]))
    def time_passes(self, jump: timedelta) -> None:
        self.clock.advance(jump)

    @rule(
        index=st.integers(0, 20),
        who=st.sampled_from([AGENT, CUSTOMER, ADMIN]),
        data=st.data(),
    )
    def a_human_acts(self, index: int, who: Actor, data: st.DataObject) -> None:
        ticket_id = self.ids[index % len(self.ids)]
        try:
            allowed = self.desk.allowed_events(ticket_id, who)
        except TicketNotFound:  # purged
            return
        allowed = [name for name in allowed if name not in ("set_fields",)]
        if not allowed:
            return
        event = data.draw(st.sampled_from(allowed))
        payload: dict[str, object] = {}
        if event in ("agent_reply", "customer_reply", "note", "remind"):
            payload["body"] = data.draw(bodies())
        elif event == "postpone":
            payload["until"] = self.clock.now() + data.draw(st.sampled_from([HOUR, DAY]))
        elif event == "assign":
            payload["to"] = AGENT.id
        elif event == "set_priority":
            payload["priority"] = data.draw(st.sampled_from(["low", "urgent", "normal"]))
        elif event == "set_department":
            payload["department"] = "it"
        elif event == "update_tags":
            payload["add"] = {"vip"}
        with contextlib.suppress(IllegalTransition, PermissionDenied, InvalidInput):
            self.desk.fire(ticket_id, event, who, **payload)  # type: ignore[arg-type]

    @rule(index=st.integers(0, 20), data=st.data())
    def the_requester_rates(self, index: int, data: st.DataObject) -> None:
        ticket_id = self.ids[index % len(self.ids)]
        scores: list[object] = (
            ["good", "bad"] if self.satisfaction.scale is RatingScale.GOOD_BAD else [1, 2, 3, 4, 5]
        )
        score = data.draw(st.sampled_from(scores))
        with contextlib.suppress(
            TicketNotFound, IllegalTransition, PermissionDenied, InvalidInput
        ):
            self.desk.rate(ticket_id, CUSTOMER, score)  # type: ignore[arg-type]

    @rule(source=st.integers(0, 20), into=st.integers(0, 20))
    def a_duplicate_is_merged(self, source: int, into: int) -> None:
        merge_some(self.desk, self.ids, source, into)

    @rule()
    def sweep(self) -> None:
        self.desk.run_rules()

    @rule(name=st.sampled_from(sorted(POLICY_SETS)))
    def the_policies_change(self, name: str) -> None:
        desk = Helpdesk(
            store=self.desk.store,
            clock=self.clock,
            sla_policies=POLICY_SETS[name](),
            satisfaction=self.satisfaction,
        )
        if desk.figures_key != self.desk.figures_key and any(True for _ in self._alive()):
            with pytest.raises(FiguresOutOfDate):
                desk.metrics()
        desk.reschedule()
        progress: list[tuple[str, int, int]] = []
        desk.recompute_figures(batch=2, progress=lambda *step: progress.append(step))
        assert all(what == "figures" and done <= total for what, done, total in progress)
        assert desk.store.count_unfigured(desk.figures_key) == 0
        self.desk = desk

    @rule(
        department=st.sampled_from([None, "it"]),
        statuses=st.sampled_from([None, ("resolved", "closed")]),
        created=st.sampled_from([None, (START + HOUR, None), (None, START + 2 * DAY)]),
        resolved=st.sampled_from([None, (START, START + 3 * DAY), (START + DAY, None)]),
    )
    def a_filtered_report_agrees(
        self,
        department: str | None,
        statuses: tuple[str, ...] | None,
        created: tuple[datetime | None, datetime | None] | None,
        resolved: tuple[datetime | None, datetime | None] | None,
    ) -> None:
        query = TicketQuery(department=department, statuses=statuses)
        stored = self.desk.metrics(query, created=created, resolved=resolved)
        again = self.desk.metrics(query, created=created, resolved=resolved, per_ticket=True)
        assert summaries(stored) == summaries(again)

    def _alive(self) -> Iterator[str]:
        for ticket_id in self.ids:
            with contextlib.suppress(TicketNotFound):
                self.desk.get(ticket_id)
                yield ticket_id

    @invariant()
    def the_stored_figures_equal_a_recomputation(self) -> None:
        desk = self.desk
        for ticket_id in self._alive():
            ticket, history = desk.get(ticket_id), desk.history(ticket_id)
            again = measured(
                ticket, history, desk.workflow, desk._clocks, key=desk.figures_key
            )  # private: the oracle measures the history directly
            assert desk.store.figures(ticket_id) == again, ticket_id

    @invariant()
    def the_report_from_the_store_equals_the_one_from_the_histories(self) -> None:
        assert summaries(self.desk.metrics()) == summaries(self.desk.metrics(per_ticket=True))


TestFigureLawsInMemory = FigureLaws.TestCase
TestFigureLawsInMemory.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)


class FigureLawsOnSQLite(FigureLaws):
    def make_store(self) -> Store:
        return SQLiteStore(Path(self.folder.name) / "tickets.sqlite3")


TestFigureLawsOnSQLite = FigureLawsOnSQLite.TestCase
TestFigureLawsOnSQLite.settings = settings(max_examples=15, stateful_step_count=20, deadline=None)


@pytest.fixture(scope="module")
def postgres_pool() -> Iterator[ConnectionPool]:
    with migrated_pool() as pool:
        yield pool


def test_the_figure_laws_hold_on_postgres(postgres_pool: ConnectionPool) -> None:
    run_laws_on_postgres(FigureLaws, postgres_pool)


# -- percentiles ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "median", "p90"),
    [
        ([1], 1, 1),
        ([1, 2], 1.5, 1.9),
        ([4, 1, 3, 2], 2.5, 3.7),
        ([10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110], 60, 100),
    ],
)
def test_percentiles_are_continuous_as_postgres_percentile_cont(
    values: list[int], median: float, p90: float
) -> None:
    spans = [timedelta(seconds=value) for value in values]
    assert percentile(spans, (1, 2)) == timedelta(seconds=median)
    assert percentile(spans, (9, 10)) == timedelta(seconds=p90)


@pytest.mark.parametrize("count", [1, 2, 3, 9, 10, 11, 100, 101])
def test_the_ranks_are_the_neighbours_of_the_fractional_position(count: int) -> None:
    for numerator, denominator in ((1, 2), (9, 10)):
        low, high = ranks(count, (numerator, denominator))
        position = (count - 1) * numerator / denominator
        assert low == int(position) + 1
        assert high == low + (position != int(position))


def test_an_interpolation_rounds_half_a_microsecond_to_even() -> None:
    one, two = timedelta(microseconds=1), timedelta(microseconds=2)
    assert interpolate(2, (1, 2), timedelta(0), one) == timedelta(0)
    assert interpolate(2, (1, 2), one, two) == two


def test_the_median_of_nothing_is_none() -> None:
    assert percentile([None, None], (1, 2)) is None


# -- examples ---------------------------------------------------------------------


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "memory":
        yield MemoryStore()
        return
    with SQLiteStore(tmp_path / "tickets.sqlite3") as opened:
        yield opened


def test_a_report_adds_up_the_stored_figures_with_percentiles(store: Store) -> None:
    clock = ManualClock(START)
    desk = Helpdesk(store=store, clock=clock)
    for minutes in (10, 20, 30, 40):
        ticket = desk.open(subject="s", description="d", requester=ANA, department="it")
        clock.advance(timedelta(minutes=minutes))
        desk.reply(ticket.id, AGENT, "Which client?")
    overall = desk.metrics().overall
    assert overall.tickets == 4
    assert overall.median_first_response == timedelta(minutes=25)
    assert overall.p90_first_response == timedelta(minutes=37)
    assert overall.mean_replies == 1.0
    assert desk.metrics().tickets == ()  # no history was read
    assert len(desk.metrics(per_ticket=True).tickets) == 4


def test_the_stored_figures_keep_the_ratings_for_the_satisfaction_figures(store: Store) -> None:
    clock = ManualClock(START)
    desk = Helpdesk(store=store, clock=clock, satisfaction=Satisfaction("one_to_five"))
    tickets = [desk.open(subject="s", description="d", requester=ANA) for _ in range(4)]
    for ticket, score in zip(tickets[:3], (5, 3, 4), strict=True):
        desk.resolve(ticket.id, ADMIN)
        desk.rate(ticket.id, CUSTOMER, score)
    desk.reopen(tickets[1].id, ADMIN)  # rated, and no longer rateable
    stored = desk.store.figures(tickets[1].id)
    assert stored is not None
    assert (stored.rating, stored.rateable) == (3, False)
    overall = desk.metrics().overall
    assert (overall.ratings, overall.mean_score) == (3, 4.0)
    assert (overall.satisfaction, overall.response_rate) == (2 / 3, 1.0)
    assert summaries(desk.metrics()) == summaries(desk.metrics(per_ticket=True))


def test_a_time_window_keeps_the_tickets_created_or_resolved_in_it(store: Store) -> None:
    clock = ManualClock(START)
    desk = Helpdesk(store=store, clock=clock)
    first = desk.open(subject="s", description="d", requester=ANA)
    clock.advance(DAY)
    second = desk.open(subject="s", description="d", requester=ANA)
    clock.advance(HOUR)
    desk.resolve(second.id, ADMIN)
    assert desk.metrics(created=(START + HOUR, None)).overall.tickets == 1
    assert desk.metrics(created=Period(end=START + HOUR)).overall.tickets == 1
    assert desk.metrics(resolved=(START, START + 2 * DAY)).overall.tickets == 1
    assert desk.metrics(resolved=(START + 2 * DAY, None)).overall.tickets == 0
    assert desk.store.figures(first.id) == Figures(desk.figures_key)


def test_a_running_clock_counts_as_breached_once_its_breach_instant_passes(
    store: Store,
) -> None:
    clock = ManualClock(START)
    policy = SLAPolicy("p", first_response=HOUR)
    desk = Helpdesk(store=store, clock=clock, sla_policies=[policy])
    ticket = desk.open(subject="s", description="d", requester=ANA)
    breach = START + HOUR + timedelta(microseconds=1)
    figures = desk.store.figures(ticket.id)
    assert figures is not None
    assert figures.sla == {"first_response": Verdict(breaches_at=breach)}
    clock.set(breach - timedelta(microseconds=1))
    assert desk.metrics().overall.compliance == {}
    clock.set(breach)
    (share,) = desk.metrics().overall.compliance.values()
    assert share == 0.0
    assert summaries(desk.metrics()) == summaries(desk.metrics(per_ticket=True))


def test_tickets_stored_before_figures_are_filled_by_the_backfill(tmp_path: Path) -> None:
    path = tmp_path / "tickets.sqlite3"
    clock = ManualClock(START)
    with SQLiteStore(path) as store:
        desk = Helpdesk(store=store, clock=clock)
        for _ in range(5):
            ticket = desk.open(subject="s", description="d", requester=ANA)
            desk.reply(ticket.id, AGENT, "hi")
    with contextlib.closing(sqlite3.connect(path)) as connection, connection:
        connection.execute("UPDATE tickets SET fig_key = NULL, fig_replies = NULL")
    with SQLiteStore(path) as store:
        desk = Helpdesk(store=store, clock=clock)
        with pytest.raises(FiguresOutOfDate, match="5 stored ticket"):
            desk.metrics()
        progress: list[tuple[str, int, int]] = []
        assert desk.recompute_figures(batch=2, progress=lambda *step: progress.append(step)) == 5
        assert progress[-1] == ("figures", 5, 5)
        assert desk.metrics().overall.mean_replies == 1.0
        assert desk.recompute_figures() == 0


def test_a_store_refuses_what_is_not_figures(store: Store) -> None:
    desk = Helpdesk(store=store, clock=ManualClock(START))
    ticket = desk.open(subject="s", description="d", requester=ANA)
    with pytest.raises(InvalidInput, match="figures"):
        store.refigure(ticket.id, 1, "fast")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="created"):
        desk.metrics(created="January")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="an end not before the start"):
        desk.metrics(resolved=(START, START - HOUR))
    with pytest.raises(InvalidInput, match="per_ticket"):
        desk.metrics(per_ticket="yes")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="batch"):
        desk.recompute_figures(batch=0)
    assert store.figures(ticket.id) is not None


def test_figures_are_kept_with_naive_instants_refused() -> None:
    with pytest.raises(InvalidInput):
        Period(datetime(2026, 1, 1), datetime(2026, 2, 1, tzinfo=UTC))  # noqa: DTZ001


def test_without_sla_policies_a_commit_folds_its_figures_without_reading_the_history() -> None:
    store = CountingStore()
    clock = ManualClock(START)
    desk = Helpdesk(store=store, clock=clock, rules=())
    ticket = desk.open(subject="s", description="d", requester=ANA)
    for _ in range(3):
        clock.advance(HOUR)
        desk.reply(ticket.id, CUSTOMER, "Still broken.")
        desk.reply(ticket.id, AGENT, "Try this.")
    desk.resolve(ticket.id, ADMIN)
    desk.reopen(ticket.id, ADMIN)
    desk.resolve(ticket.id, ADMIN)
    assert store.reads[ticket.id] == 0
    stored = store.figures(ticket.id)
    assert stored is not None
    assert (stored.replies, stored.customer_replies) == (3, 3)
    assert stored == measured(
        desk.get(ticket.id), desk.history(ticket.id), desk.workflow, desk._clocks,
        key=desk.figures_key,
    )  # fmt: skip


def test_under_sla_policies_figures_fold_on_the_kept_clocks_without_the_history() -> None:
    store = CountingStore()
    clock = ManualClock(START)
    desk = Helpdesk(store=store, clock=clock, sla_policies=POLICY_SETS["office"]())
    ticket = desk.open(subject="s", description="d", requester=ANA)
    for _ in range(2):
        clock.advance(5 * HOUR)
        desk.reply(ticket.id, AGENT, "Try this.")
        clock.advance(DAY)
        desk.reply(ticket.id, CUSTOMER, "Still broken.")
    desk.resolve(ticket.id, ADMIN)
    clock.advance(3 * DAY)
    desk.reopen(ticket.id, ADMIN)
    clock.advance(HOUR)
    desk.resolve(ticket.id, ADMIN)
    assert store.reads[ticket.id] == 0
    stored = store.figures(ticket.id)
    assert stored is not None
    assert stored == measured(
        desk.get(ticket.id), desk.history(ticket.id), desk.workflow, desk._clocks,
        key=desk.figures_key,
    )  # fmt: skip


def test_a_commit_under_another_covering_policy_measures_the_figures_from_the_history() -> None:
    # The figures before were counted on the old policy's calendars, which may
    # count the past differently from the new one's: the history is read once.
    store = CountingStore()
    clock = ManualClock(START)
    desk = Helpdesk(store=store, clock=clock, sla_policies=POLICY_SETS["by priority"]())
    ticket = desk.open(subject="s", description="d", requester=ANA)
    clock.advance(HOUR)
    desk.reply(ticket.id, AGENT, "Try this.")
    assert store.reads[ticket.id] == 0
    clock.advance(HOUR)
    desk.fire(ticket.id, "set_priority", ADMIN, priority="urgent")
    assert store.reads[ticket.id] == 1
    stored = store.figures(ticket.id)
    assert stored is not None
    assert stored.policy == "urgent"
    assert stored == measured(
        desk.get(ticket.id), desk.history(ticket.id), desk.workflow, desk._clocks,
        key=desk.figures_key,
    )  # fmt: skip


def test_the_key_stays_the_same_once_a_calendar_has_walked_days() -> None:
    # A calendar keeps a memo of the days it walked (no part of its value):
    # the figures' key and the SLA fingerprint describe the value only.
    policies = POLICY_SETS["office"]()
    clock = ManualClock(START)
    desk = Helpdesk(clock=clock, sla_policies=policies)
    key, fingerprint = desk.figures_key, desk.sla_fingerprint
    ticket = desk.open(subject="s", description="d", requester=ANA)
    clock.advance(3 * DAY)
    desk.reply(ticket.id, AGENT, "hi")
    again = Helpdesk(store=desk.store, clock=clock, sla_policies=policies)
    assert (again.figures_key, again.sla_fingerprint) == (key, fingerprint)
    assert again.metrics().overall.tickets == 1


def test_shared_verdicts_are_one_mapping_for_equal_values_and_read_back_equal() -> None:
    due = datetime(2026, 1, 5, 12, tzinfo=UTC)
    flat = ("first_response", True, False, None, "resolution", False, False, due)
    shared = shared_verdicts(flat)
    assert shared_verdicts(tuple(flat)) is shared
    assert dict(shared) == {
        "first_response": Verdict(met=True),
        "resolution": Verdict(breaches_at=due),
    }
    figures = Figures("k", sla=shared)
    assert figures.sla is shared  # checked once, when it was made
    row = figures_row(figures)
    assert figures_row(Figures("k", sla=dict(shared))) == row
    back = figures_from_row(row)
    assert back == figures
    assert figures_from_row(row) is not None
    assert figures_from_row(row).sla is back.sla  # type: ignore[union-attr]


def test_a_mapping_equal_to_a_shared_one_is_still_checked() -> None:
    shared = shared_verdicts(("resolution", False, True, None))
    copy = dict(shared)
    assert Figures("k", sla=copy).sla == shared
    with pytest.raises(InvalidInput, match=r"Figures\.sla"):
        Figures("k", sla={**copy, "lunch": Verdict()})
    with pytest.raises(InvalidInput, match=r"Figures\.sla"):
        shared_verdicts(("lunch", False, False, None))


def test_a_row_whose_verdict_codes_are_not_as_written_reads_the_same_each_time() -> None:
    # A code other than 0, 1 and 2 reads as an open verdict: not shared under
    # its own columns, which would write back differently.
    row = list(figures_row(Figures("k")))
    row[10] = 5
    first, second = figures_from_row(row), figures_from_row(row)
    assert first == second
    assert first is not None
    assert first.sla["first_response"] == Verdict()


def test_columns_written_from_a_shared_mapping_read_back_as_it() -> None:
    due = datetime(2026, 1, 5, 12, tzinfo=UTC)
    shared = shared_verdicts(("next_response", False, False, due, "resolution", True, False, None))
    row = figures_row(Figures("k", sla=shared))
    back = figures_from_row(row)
    assert back is not None
    assert back.sla is shared
    # Met and breached at once is written as met: read back as it reads.
    both = shared_verdicts(("resolution", True, True, None))
    read = figures_from_row(figures_row(Figures("k", sla=both)))
    assert read is not None
    assert dict(read.sla) == {"resolution": Verdict(met=True)}


def test_noted_columns_belong_to_the_very_mapping_they_were_noted_for() -> None:
    shared = shared_verdicts(("resolution", False, True, None, "close_within", False, False, None))
    row = figures_row(Figures("k", sla=shared))
    assert _SHARED.columns_of(shared) == row[10:18]
    assert _SHARED.columns_of(dict(shared)) is None  # an equal mapping is not it
