"""Kept SLA clocks: the record folded at each commit equals the clocks of the whole history.

The law, over random commands, clock jumps and policy sets (priority and
department changes re-select the policy), on the memory store, SQLite and
PostgreSQL: after every command, every ticket's stored SLA record read at now
equals the clocks computed from its history alone (the timeline's runs, cut
where the policy changed), its stored due instant equals the nearest due
instant of those clocks at its last event, and with a single policy both equal
what :func:`~ticketflow.sla._clocks.sla_states` says.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
)
from pgserver import migrated_pool, new_tenant, run_laws_on_postgres
from psycopg_pool import ConnectionPool
from support import ADMIN, AGENT, ANA, CUSTOMER, START, merge_some

from ticketflow import (
    Actor,
    Helpdesk,
    HistoryEvent,
    IllegalTransition,
    InvalidInput,
    ManualClock,
    PermissionDenied,
    SLAOutOfDate,
    Ticket,
    TicketNotFound,
)
from ticketflow._status import ACTIVE_CATEGORIES
from ticketflow.rules import Action, Context, InCategory, InDepartment, PriorityIs, Rule
from ticketflow.rules._schedule import Scheduler
from ticketflow.sla import (
    BusinessDays,
    Calendar,
    EndOfWorkingDay,
    SLAAtRisk,
    SLABreached,
    SLADueWithin,
    SLAPolicy,
    Target,
    YearlyHoliday,
    sla_rules,
)
from ticketflow.sla._clocks import sla_states
from ticketflow.sla._keeping import KeptClocks
from ticketflow.sla._state import Clock, Kept, decode, encode, history_states
from ticketflow.storage import NO_SLA, MemoryStore, PostgresStore, SQLiteStore, Store, StoredSLA
from ticketflow.testing import bodies

HOUR, DAY = timedelta(hours=1), timedelta(days=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NOTICE = Action("sla_warning")
SETTLING = (
    *sla_rules(warn_at=(0.5, 0.9)),
    Rule("soon", InCategory(ACTIVE_CATEGORIES) & SLADueWithin(2 * HOUR), _NOTICE),
    Rule("first_late", SLABreached(target=Target.FIRST_RESPONSE), _NOTICE),
    Rule("either", SLAAtRisk(0.3, target="resolution") | SLADueWithin(DAY), _NOTICE),
)
"""Rules on every SLA condition, alone, with a part on the ticket and in a choice."""
SETTLING_CONDITIONS = (
    SLAAtRisk(0.5),
    SLAAtRisk(0.9, target="next_response"),
    SLABreached(),
    SLABreached(target=Target.RESOLUTION),
    SLADueWithin(HOUR),
    SLADueWithin(DAY, target="first_response"),
    *(rule.when for rule in SETTLING),
)
TICK = timedelta(microseconds=1)

OFFICE = Calendar.business("Europe/Riga", {day: [(time(9), time(17))] for day in range(5)})
NIGHTS = Calendar.business(
    "America/New_York", {day: [(time(22), time(6))] for day in range(7)}, name="nights"
)

SPLIT = Calendar.business(
    "Asia/Tokyo",
    {day: [(time(9), time(12)), (time(13), time(18))] for day in range(6)},
    holidays={date(2026, 1, 12), date(2026, 2, 11)},
    name="split",
)

CONTRACT = Calendar.business(
    "Europe/Berlin",
    {day: [(time(8), time(12)), (time(13), time(17))] for day in range(5)},
    holidays=[YearlyHoliday(1, 6), date(2026, 1, 16)],
    dates={date(2026, 1, 9): [(time(8), time(12))], date(2026, 1, 10): [(time(9), time(13))]},
    name="contract",
)
"""Epiphany every year, a half day on Friday 9, Saturday 10 worked for the bridge day 16."""

POLICY_SETS: dict[str, Callable[[], tuple[SLAPolicy, ...]]] = {
    "none": lambda: (),
    "one 24x7": lambda: (
        SLAPolicy("all", first_response=4 * HOUR, next_response=6 * HOUR, resolution=2 * DAY),
    ),
    "by priority": lambda: (
        SLAPolicy(
            "urgent",
            applies_to=PriorityIs("urgent"),
            first_response=HOUR,
            next_response=2 * HOUR,
            resolution=8 * HOUR,
            close_within=DAY,
        ),
        SLAPolicy(
            "high",
            applies_to=PriorityIs("high"),
            first_response=3 * HOUR,
            resolution=DAY,
            calendar=OFFICE,
        ),
        SLAPolicy(
            "rest",
            first_response=8 * HOUR,
            resolution=3 * DAY,
            close_within=2 * DAY,
            calendar=OFFICE,
            calendars={"first_response": Calendar.always()},
        ),
    ),
    "by department": lambda: (
        SLAPolicy(
            "it nights",
            applies_to=InDepartment("it"),
            first_response=2 * HOUR,
            next_response=HOUR,
            resolution=10 * HOUR,
            calendar=NIGHTS,
        ),
        SLAPolicy("high only", applies_to=PriorityIs("high"), resolution=5 * HOUR),
    ),
    "working days": lambda: (
        SLAPolicy(
            "contract",
            applies_to=~PriorityIs("low"),
            first_response=EndOfWorkingDay(0),
            next_response=EndOfWorkingDay(1),
            resolution=BusinessDays(2),
            calendar=CONTRACT,
        ),
        SLAPolicy(
            "low",
            first_response=EndOfWorkingDay(1),
            resolution=BusinessDays(3),
            close_within=BusinessDays(1),
            calendar=OFFICE,
            calendars={"resolution": CONTRACT},
        ),
    ),
    "split shifts and holidays": lambda: (
        SLAPolicy(
            "tokyo",
            applies_to=~PriorityIs("low"),
            first_response=2 * HOUR,
            next_response=3 * HOUR,
            resolution=12 * HOUR,
            close_within=9 * HOUR,
            calendar=SPLIT,
            calendars={"next_response": NIGHTS},
        ),
    ),
}


CALENDARS = (Calendar.always(), OFFICE, NIGHTS, SPLIT)
TARGETS = st.one_of(
    st.none(), st.sampled_from([timedelta(minutes=20), HOUR, 3 * HOUR, 8 * HOUR, 2 * DAY])
)
COVERS = st.sampled_from(
    [None, PriorityIs("urgent"), PriorityIs({"high", "urgent"}), InDepartment("it"),
     ~PriorityIs("low"), InDepartment("billing") & PriorityIs("normal")]
)  # fmt: skip


@st.composite
def policy_sets(draw: st.DrawFn) -> tuple[SLAPolicy, ...]:
    """Up to three policies: random coverage, targets, calendars and per-target calendars."""
    policies = []
    for number in range(draw(st.integers(0, 3))):
        targets = {
            name: draw(TARGETS)
            for name in ("first_response", "next_response", "resolution", "close_within")
        }
        own = draw(st.dictionaries(st.sampled_from(sorted(targets)), st.sampled_from(CALENDARS)))
        policies.append(
            SLAPolicy(
                f"p{number}",
                applies_to=draw(COVERS),
                calendar=draw(st.sampled_from(CALENDARS)),
                calendars=own,
                **targets,
            )
        )
    return tuple(policies)


class KeptLaws(RuleBasedStateMachine):
    """Commands, clock jumps and policy changes; the kept clocks never drift from the history."""

    def __init__(self) -> None:
        super().__init__()
        self.folder = TemporaryDirectory(prefix="ticketflow-kept-")
        self.clock = ManualClock(START)
        self.policies = POLICY_SETS["by priority"]()
        self.desk = self._desk(self.make_store(), self.policies)
        self.ids: list[str] = []

    def make_store(self) -> Store:
        """A new empty store for one run."""
        return MemoryStore()

    def teardown(self) -> None:
        close = getattr(self.desk.store, "close", None)
        if close is not None:
            close()
        self.folder.cleanup()

    def _desk(self, store: Store, policies: tuple[SLAPolicy, ...]) -> Helpdesk:
        rules = (*sla_rules(),) if policies else ()
        return Helpdesk(store=store, clock=self.clock, rules=rules, sla_policies=policies)

    @initialize(count=st.integers(1, 3))
    def open_tickets(self, count: int) -> None:
        for number in range(count):
            self.another_ticket(number)

    @rule(number=st.integers(0, 3))
    def another_ticket(self, number: int) -> None:
        priority = ("low", "normal", "high", "urgent")[number]
        ticket = self.desk.open(subject="S", description="d", requester=ANA, priority=priority)
        self.ids.append(ticket.id)

    @rule(jump=st.sampled_from([timedelta(minutes=20), HOUR, 3 * HOUR, 9 * HOUR, DAY, 3 * DAY]))
    def time_passes(self, jump: timedelta) -> None:
        self.clock.advance(jump)

    @rule(index=st.integers(0, 20), who=st.sampled_from([AGENT, CUSTOMER, ADMIN]), data=st.data())
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
            payload["priority"] = data.draw(st.sampled_from(["low", "normal", "high", "urgent"]))
        elif event == "set_department":
            payload["department"] = data.draw(st.sampled_from(["it", "billing", None]))
        elif event == "update_tags":
            payload["add"] = {"vip"}
        with contextlib.suppress(IllegalTransition, PermissionDenied, InvalidInput):
            self.desk.fire(ticket_id, event, who, **payload)  # type: ignore[arg-type]

    @rule(source=st.integers(0, 20), into=st.integers(0, 20))
    def a_duplicate_is_merged(self, source: int, into: int) -> None:
        merge_some(self.desk, self.ids, source, into)

    @rule(name=st.sampled_from(sorted(POLICY_SETS)))
    def the_policies_change(self, name: str) -> None:
        self._change_to(POLICY_SETS[name]())

    @rule(policies=policy_sets())
    def random_policies_come(self, policies: tuple[SLAPolicy, ...]) -> None:
        self._change_to(policies)

    def _change_to(self, policies: tuple[SLAPolicy, ...]) -> None:
        desk = self._desk(self.desk.store, policies)
        alive = list(self._alive())
        if desk.sla_fingerprint != self.desk.sla_fingerprint and alive and policies:
            with pytest.raises(SLAOutOfDate):
                desk.queue(order="sla", limit=5)
        steps: list[tuple[str, int, int]] = []
        desk.recompute_sla(batch=2, progress=lambda *step: steps.append(step))
        assert all(done <= total for _, done, total in steps)
        assert desk.recompute_sla() == 0  # nothing left: resumable
        desk.reschedule()  # the rules' schedule covers the policies too
        self.desk, self.policies = desk, policies

    @rule()
    def a_sweep(self) -> None:
        self.desk.run_rules()

    def _alive(self) -> Iterator[str]:
        for ticket_id in self.ids:
            with contextlib.suppress(TicketNotFound):
                self.desk.get(ticket_id)
                yield ticket_id

    @invariant()
    def the_kept_clocks_equal_the_historys(self) -> None:
        now = self.clock.now()
        desk = self.desk
        policies = self.policies
        for ticket_id in self._alive():
            history = desk.store.history(ticket_id)
            kept = desk.sla(ticket_id)
            truth = history_states(policies, desk.workflow, history, now)
            assert kept == truth[1], f"{ticket_id}: kept {kept}, from history {truth[1]}"
            if len(policies) == 1 and policies[0].applies_to is None:  # one policy, always
                assert kept == tuple(sla_states(policies[0], desk.workflow, history, now))
            at_last = history_states(policies, desk.workflow, history, history[-1].at)[1]
            nearest = min(
                (s.due_at for s in at_last if s.running and s.due_at is not None), default=None
            )
            assert desk.store.sla(ticket_id).due_at == nearest, ticket_id
            # Read at several instants, as a commit's schedule reads them, the
            # clocks remember their due instants: still the history's answers.
            clocks = desk._keeping.clocks(ticket_id)
            if clocks is not None:
                for instant in (history[-1].at, now, now + 3 * HOUR, now + 2 * DAY):
                    measured = history_states(policies, desk.workflow, history, instant)[1]
                    assert clocks.at(instant)[1] == measured, (ticket_id, instant)

    @invariant()
    def the_schedule_told_from_now_is_the_schedule_measured_later(self) -> None:
        # The SLA conditions answer for a later instant from the clocks at hand
        # (Condition.settled); measuring the clocks at that instant must agree,
        # rule, instant and the episodes asked about included.
        desk = self.desk
        scheduler = Scheduler(SETTLING, desk.workflow, desk.store)
        for ticket_id in self._alive():
            clocks = desk._keeping.clocks(ticket_id)
            if clocks is None:
                continue
            ticket, history = desk.get(ticket_id), desk.store.history(ticket_id)
            for instant in (history[-1].at, self.clock.now()):
                answers = []
                for settles in (True, False):
                    asked: list[tuple[str, datetime]] = []

                    def fired(rule: str, episode: datetime, asked: list[Any] = asked) -> bool:
                        asked.append((rule, episode))
                        return len(asked) % 3 == 0  # some did, so later instants are tried

                    scheduler.settles = settles
                    context = Context(
                        ticket, instant, desk.workflow, history=history, clocks=clocks
                    )
                    answers.append((scheduler.next_due(context, fired, clocks=clocks), asked))
                assert answers[0] == answers[1], (ticket_id, instant)
            self._each_condition_settles_as_it_holds(ticket, history, clocks)

    def _each_condition_settles_as_it_holds(
        self, ticket: Ticket, history: Sequence[HistoryEvent], clocks: KeptClocks
    ) -> None:
        """Each condition's answer for later instants equals its answer on a context there.

        At the instants where some condition may start or stop to hold (and a
        microsecond either side), and some hours and days on.
        """
        workflow = self.desk.workflow
        now = Context(ticket, history[-1].at, workflow, history=history, clocks=clocks)
        found = {now.now + jump for jump in (HOUR, 5 * HOUR, DAY, 4 * DAY)}
        for condition in SETTLING_CONDITIONS:
            for instant in condition.instants(now):
                if instant > now.now:  # not ALWAYS, nor the past
                    found.update(instant + tick for tick in (-TICK, timedelta(0), TICK))
        for instant in sorted(at for at in found if at > now.now):
            there = Context(ticket, instant, workflow, history=history, clocks=clocks)
            for condition in SETTLING_CONDITIONS:
                told = condition.settled(now, instant)
                measured = (condition.holds(there), condition.anchor(there))
                assert told is None or told == measured, (ticket.id, condition, instant)

    @invariant()
    def the_queue_is_in_due_order(self) -> None:
        entries = self.desk.queue(order="sla", limit=50)
        dues = [entry.due_at for entry in entries if entry.due_at is not None]
        assert len({entry.ticket.id for entry in entries}) == len(entries)
        stored = [self.desk.store.sla(entry.ticket.id).due_at for entry in entries]
        known = [at for at in stored if at is not None]
        assert known == sorted(known)
        assert all(at is None for at in stored[len(known) :])
        assert len(dues) <= len(entries)


TestKeptLawsInMemory = KeptLaws.TestCase
TestKeptLawsInMemory.settings = settings(max_examples=60, stateful_step_count=40, deadline=None)


class KeptLawsOnSQLite(KeptLaws):
    def make_store(self) -> Store:
        return SQLiteStore(Path(self.folder.name) / "tickets.sqlite3")


TestKeptLawsOnSQLite = KeptLawsOnSQLite.TestCase
TestKeptLawsOnSQLite.settings = settings(max_examples=15, stateful_step_count=25, deadline=None)


@pytest.fixture(scope="module")
def postgres_pool() -> Iterator[ConnectionPool]:
    with migrated_pool() as pool:
        yield pool


def test_the_kept_laws_hold_on_postgres(postgres_pool: ConnectionPool) -> None:
    run_laws_on_postgres(KeptLaws, postgres_pool)


# -- examples ---------------------------------------------------------------------


def _desk(clock: ManualClock, store: Store | None = None) -> Helpdesk:
    return Helpdesk(store=store, clock=clock, rules=(), sla_policies=POLICY_SETS["by priority"]())


def test_a_store_written_before_clocks_were_kept_is_recomputed_once() -> None:
    clock = ManualClock(START)
    desk = _desk(clock)
    ticket = desk.open(subject="VPN", description="d", requester=ANA, priority="urgent")
    expected = desk.sla(ticket.id)
    assert desk.store.restate_sla(ticket.id, 1, NO_SLA)  # as an old store holds it
    with pytest.raises(SLAOutOfDate, match="were never kept") as refused:
        desk.sla(ticket.id)
    assert (refused.value.ticket_id, refused.value.found) == (ticket.id, None)
    assert refused.value.expected == desk.sla_fingerprint
    with pytest.raises(SLAOutOfDate):
        desk.queue()
    assert desk.recompute_sla() == 1
    assert desk.sla(ticket.id) == expected
    assert [entry.ticket.id for entry in desk.queue()] == [ticket.id]


def test_a_commit_on_clocks_kept_otherwise_replays_the_history_first() -> None:
    clock = ManualClock(START)
    old = Helpdesk(clock=clock, rules=(), sla_policies=POLICY_SETS["one 24x7"]())
    ticket = old.open(subject="VPN", description="d", requester=ANA, priority="high")
    clock.advance(HOUR)
    new = _desk(clock, old.store)
    new.reply(ticket.id, AGENT, "On it.")  # kept under the new policies from here on
    truth = history_states(
        POLICY_SETS["by priority"](), new.workflow, new.history(ticket.id), clock.now()
    )
    assert new.sla(ticket.id) == truth[1]
    assert new.store.sla(ticket.id).policies == new.sla_fingerprint


def test_a_reopened_ticket_merged_keeps_the_clocks_its_history_tells() -> None:
    # The resolution undone by the reopen does not stand again when the merge
    # closes the ticket: the resolution clock keeps the time counted since,
    # unmet, as a replay of the history says.
    clock = ManualClock(START)
    desk = _desk(clock)
    ticket = desk.open(subject="VPN", description="d", requester=ANA, priority="urgent")
    target = desk.open(subject="VPN too", description="d", requester=ANA)
    desk.resolve(ticket.id, ADMIN)
    desk.reply(ticket.id, CUSTOMER, "Still broken.")  # reopens it
    clock.advance(HOUR)
    desk.merge(ticket.id, ADMIN, into=target.id)
    truth = history_states(
        POLICY_SETS["by priority"](), desk.workflow, desk.history(ticket.id), clock.now()
    )
    assert desk.sla(ticket.id) == truth[1]
    resolution = next(state for state in truth[1] if state.target is Target.RESOLUTION)
    assert (resolution.met, resolution.running, resolution.elapsed) == (False, False, HOUR)


def test_the_sla_queue_pages_the_index_until_its_filters_fill_the_limit() -> None:
    clock = ManualClock(START)
    desk = _desk(clock)
    for number in range(12):
        priority = "urgent" if number % 4 == 0 else "normal"
        desk.open(subject=f"S{number}", description="d", requester=ANA, priority=priority)
        clock.advance(timedelta(minutes=5))
    urgent = desk.queue(priority="urgent", limit=2)
    assert [entry.ticket.subject for entry in urgent] == ["S0", "S4"]
    everything = desk.queue()
    assert len(everything) == 12
    dues = [entry.due_at for entry in everything]
    assert None not in dues
    assert dues == sorted(dues)  # type: ignore[type-var]


def test_recompute_sla_refuses_a_malformed_batch_or_progress() -> None:
    desk = _desk(ManualClock(START))
    with pytest.raises(InvalidInput, match="batch"):
        desk.recompute_sla(batch=0)
    with pytest.raises(InvalidInput, match="progress"):
        desk.recompute_sla(progress="dots")  # type: ignore[arg-type]


def test_a_desk_without_policies_reads_no_clocks_whoever_kept_them() -> None:
    clock = ManualClock(START)
    desk = _desk(clock)
    ticket = desk.open(subject="VPN", description="d", requester=ANA)
    plain = Helpdesk(store=desk.store, clock=clock, rules=())
    assert plain.sla(ticket.id) == ()
    assert [entry.due_at for entry in plain.queue()] == [None]


@pytest.mark.parametrize(
    "text",
    ["", "garbage", "[]", '["s0",1,5,"new",null,null,[]]', '["s1",1,"x","new",null,null,[]]',
     '["s1",1,5,"new",null,null,[[1,2,3,4,5,6]]]', '["s1",1,5,"new",7,null,[]]'],
)  # fmt: skip
def test_a_stored_record_that_does_not_decode_reads_as_out_of_date(text: str) -> None:
    clock = ManualClock(START)
    desk = _desk(clock)
    ticket = desk.open(subject="VPN", description="d", requester=ANA)
    damaged = StoredSLA(None, desk.sla_fingerprint, text)
    assert desk.store.restate_sla(ticket.id, 1, damaged)
    with pytest.raises(SLAOutOfDate):
        desk.sla(ticket.id)
    desk.reply(ticket.id, AGENT, "On it.")  # a commit replays the history instead
    assert (
        desk.sla(ticket.id)
        == history_states(
            POLICY_SETS["by priority"](), desk.workflow, desk.history(ticket.id), clock.now()
        )[1]
    )


_INSTANTS = st.none() | st.datetimes(timezones=st.just(UTC))
_CLOCKS = st.builds(
    Clock,
    _INSTANTS,
    _INSTANTS,
    st.timedeltas(min_value=-DAY * 400, max_value=DAY * 4000),
    _INSTANTS,
    _INSTANTS,
    _INSTANTS,
)


@given(
    st.builds(
        Kept,
        st.integers(min_value=1, max_value=2**40),
        st.datetimes(timezones=st.just(UTC)),
        st.text(max_size=12),
        st.none() | st.text(max_size=12),
        _INSTANTS,
        st.tuples(_CLOCKS, _CLOCKS, _CLOCKS, _CLOCKS),
    )
)
def test_a_record_is_written_as_json_would_write_it_and_reads_back_the_same(kept: Kept) -> None:
    text = encode(kept)

    def micros(value: datetime | None) -> int | None:
        return None if value is None else (value - EPOCH) // timedelta(microseconds=1)

    clocks = [
        [micros(c.started), micros(c.stopped), c.base // timedelta(microseconds=1),
         micros(c.since), micros(c.until), micros(c.breached_at)]
        for c in kept.clocks
    ]  # fmt: skip
    written = ["s2", kept.seq, micros(kept.at), kept.status, kept.policy, micros(kept.waiting)]
    assert text == json.dumps([*written, clocks], separators=(",", ":"))
    assert decode(text) == kept
    # With the clocks' texts remembered across records (and examples): the same text.
    assert encode(kept, _TEXTS) == text
    assert encode(kept, _TEXTS) == text


_TEXTS: dict[Clock, str] = {}
"""Clock texts remembered across the examples, as a desk remembers them across commits."""


def test_a_desk_without_policies_still_tells_the_wait_in_its_sla_queue() -> None:
    clock = ManualClock(START)
    desk = Helpdesk(clock=clock, rules=())
    waiting = desk.open(subject="VPN", description="d", requester=ANA)
    clock.advance(HOUR)
    answered = desk.open(subject="Mail", description="d", requester=ANA)
    desk.reply(answered.id, AGENT, "On it.")
    assert [(entry.ticket.id, entry.waiting_since) for entry in desk.queue()] == [
        (waiting.id, START),
        (answered.id, None),
    ]


@pytest.mark.parametrize("kind", ["memory", "sqlite", "postgres"])
def test_the_sla_queue_pages_on_past_the_due_tickets_to_those_without_a_clock_in_id_order(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    store: Store
    if kind == "memory":
        store = MemoryStore()
    elif kind == "sqlite":
        store = SQLiteStore(tmp_path / "tickets.sqlite3")
    else:
        pool = request.getfixturevalue("postgres_pool")
        store = PostgresStore(pool=pool, tenant=new_tenant())
    clock = ManualClock(START)
    urgent_only = (SLAPolicy("urgent", applies_to=PriorityIs("urgent"), first_response=HOUR),)
    desk = Helpdesk(store=store, clock=clock, rules=(), sla_policies=urgent_only)
    opened = []
    for number in range(11):
        priority = "urgent" if number % 4 == 0 else ("normal", "low")[number % 2]
        opened.append(desk.open(subject=f"S{number}", description="d", requester=ANA,
                                priority=priority))  # fmt: skip
        clock.advance(timedelta(minutes=5))
    closed = desk.open(subject="Done", description="d", requester=ANA)
    desk.resolve(closed.id, ADMIN)
    desk.close(closed.id, ADMIN)
    # The tail comes from the store a page at a time, never from every active ticket.
    monkeypatch.setattr(store, "query", None)
    timed = [ticket.id for ticket in opened if ticket.priority.value == "urgent"]
    untimed = sorted(ticket.id for ticket in opened if ticket.priority.value != "urgent")
    for priority, expected in ((None, timed + untimed), ("low", sorted(
        ticket.id for ticket in opened if ticket.priority.value == "low"
    ))):  # fmt: skip
        seen, after = [], None
        while True:
            page = desk.queue(priority=priority, limit=2, after=after)
            seen += [entry.ticket.id for entry in page]
            assert len(page) <= 2
            if page.next is None:
                break
            after = page.next
        assert seen == expected, priority
        assert all(entry.due_at is None for entry in desk.queue(priority="low"))
    if isinstance(store, SQLiteStore | PostgresStore):
        store.close()
