"""The stored schedule: each ticket's next due instant, kept by every commit.

The laws, over random commands, clock jumps, rule-set changes and sweeps, on
the memory store, SQLite and PostgreSQL:

- a ticket on which, evaluated from scratch (its history, the ledger and the
  desk's rules, now), a rule holds for an episode the ledger has not seen is
  stored as due: no firing is ever missed;
- a stored instant still to come equals the one computed from scratch;
- a sweep acts on exactly the tickets due from scratch, and after it every
  stored schedule equals the one computed from scratch (an instant passed
  reads as now).  Between sweeps a ticket may stay stored as due after its
  rule stopped holding (at risk, then breached, with no sweep in between):
  the next sweep visits it, fires nothing and stores its schedule again.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import datetime, time, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory

import pytest
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
)
from pgserver import migrated_pool, run_laws_on_postgres
from psycopg_pool import ConnectionPool
from support import AGENT, ANA, CUSTOMER, START

from ticketflow import (
    Actor,
    Helpdesk,
    IllegalTransition,
    InvalidInput,
    ManualClock,
    PermissionDenied,
    ScheduleOutOfDate,
    TicketNotFound,
)
from ticketflow.rules import (
    Action,
    InCategory,
    InStatus,
    Predicate,
    Rated,
    Rule,
    Since,
    default_rules,
)
from ticketflow.sla import Calendar, SLAPolicy, SLAState, sla_rules
from ticketflow.storage import (
    UNSCHEDULED,
    MemoryStore,
    Schedule,
    SQLiteStore,
    Store,
)
from ticketflow.testing import bodies

HOUR, DAY = timedelta(hours=1), timedelta(days=1)

OFFICE = Calendar.business("Europe/Riga", {day: [(time(9), time(17))] for day in range(5)})

RULE_SETS: dict[str, Callable[[], tuple[tuple[Rule, ...], tuple[SLAPolicy, ...]]]] = {
    "default": lambda: (default_rules(), ()),
    "quick": lambda: (
        (
            *default_rules(remind_after=HOUR, escalate_after=2 * HOUR, close_after=3 * HOUR),
            Rule(
                "reopen_bad_rating",
                Rated("bad") & InCategory("solved"),
                Action.fire("reopen", "Sorry: we are on it again."),
            ),
        ),
        (),
    ),
    "sla 24x7": lambda: (
        (*default_rules(), *sla_rules(warn_at=(0.5, 0.9))),
        (SLAPolicy("p", first_response=4 * HOUR, next_response=6 * HOUR, resolution=2 * DAY),),
    ),
    "sla office": lambda: (
        (*default_rules(), *sla_rules()),
        (
            SLAPolicy(
                "office",
                first_response=3 * HOUR,
                resolution=DAY,
                close_within=2 * DAY,
                calendar=OFFICE,
            ),
        ),
    ),
}


def from_scratch(desk: Helpdesk, ticket_id: str) -> Schedule:
    """The ticket's schedule computed now from its history and the ledger."""
    store = desk.store
    scheduler = desk._sweep.scheduler  # private: the oracle asks the rules directly
    return scheduler.schedule(
        desk.context(ticket_id), lambda rule, episode: store.fired(rule, ticket_id, episode)
    )


def from_now(schedule: Schedule, now: datetime) -> datetime | None:
    """The schedule's instant, or ``now`` if it has passed."""
    return None if schedule.next_due_at is None else max(schedule.next_due_at, now)


def due_now(desk: Helpdesk, ticket_id: str) -> list[str]:
    """The rules that hold on the ticket now for an episode they have not acted on."""
    context = desk.context(ticket_id)
    found = []
    for candidate in desk.rules:
        if not candidate.enabled or not candidate.when.holds(context):
            continue
        episode = candidate.episode(context) or context.ticket.created_at
        if not desk.store.fired(candidate.name, ticket_id, episode):
            found.append(candidate.name)
    return found


class ScheduleLaws(RuleBasedStateMachine):
    """Commands, clock jumps, rule-set changes and sweeps; the schedule never drifts."""

    def __init__(self) -> None:
        super().__init__()
        self.folder = TemporaryDirectory(prefix="ticketflow-schedule-")
        self.clock = ManualClock(START)
        self.rule_set = "default"
        self.desk = Helpdesk(store=self.make_store(), clock=self.clock)
        self.ids: list[str] = []
        self.settled_by_next_sweep: set[str] = set()

    def make_store(self) -> Store:
        """A new empty store for one run."""
        return MemoryStore()

    def teardown(self) -> None:
        close = getattr(self.desk.store, "close", None)
        if close is not None:
            close()
        self.folder.cleanup()

    def _desk(self, name: str) -> Helpdesk:
        rules, policies = RULE_SETS[name]()
        return Helpdesk(
            store=self.desk.store, clock=self.clock, rules=rules, sla_policies=policies
        )

    @initialize(name=st.sampled_from(sorted(RULE_SETS)))
    def start_under(self, name: str) -> None:
        """Start under any rule set (those of tickets already open are rescheduled)."""
        self.desk, self.rule_set = self._desk(name), name
        self.desk.reschedule()

    @initialize(count=st.integers(1, 4))
    def open_tickets(self, count: int) -> None:
        for number in range(count):
            ticket = self.desk.open(subject=f"S{number}", description="d", requester=ANA)
            self.ids.append(ticket.id)

    @rule()
    def another_ticket(self) -> None:
        ticket = self.desk.open(subject="more", description="d", requester=ANA)
        self.ids.append(ticket.id)

    @rule(jump=st.sampled_from([HOUR / 2, HOUR, 3 * HOUR, 9 * HOUR, DAY, 3 * DAY, 8 * DAY]))
    def time_passes(self, jump: timedelta) -> None:
        self.clock.advance(jump)

    @rule(index=st.integers(0, 20), who=st.sampled_from([AGENT, CUSTOMER]), data=st.data())
    def a_human_acts(self, index: int, who: Actor, data: st.DataObject) -> None:
        ticket_id = self.ids[index % len(self.ids)]
        try:
            allowed = self.desk.allowed_events(ticket_id, who)
        except TicketNotFound:  # purged
            return
        allowed = [name for name in allowed if name not in ("set_fields", "purge")]
        if not allowed:
            return
        event = data.draw(st.sampled_from(allowed))
        payload: dict[str, object] = {}
        if event in ("agent_reply", "customer_reply", "note", "remind"):
            payload["body"] = data.draw(bodies())
        elif event == "postpone":
            payload["until"] = self.clock.now() + data.draw(st.sampled_from([HOUR, DAY, 2 * DAY]))
        elif event == "assign":
            payload["to"] = AGENT.id
        elif event == "set_priority":
            payload["priority"] = data.draw(st.sampled_from(["low", "high", "urgent"]))
        elif event == "set_department":
            payload["department"] = "it"
        elif event == "update_tags":
            payload["add"] = {"vip"}
        with contextlib.suppress(IllegalTransition, PermissionDenied, InvalidInput):
            self.desk.fire(ticket_id, event, who, **payload)  # type: ignore[arg-type]

    @rule(index=st.integers(0, 20), score=st.sampled_from(["good", "bad"]), resolve=st.booleans())
    def a_customer_rates(self, index: int, score: str, resolve: bool) -> None:
        """The customer rates (having resolved the ticket first, sometimes)."""
        ticket_id = self.ids[index % len(self.ids)]
        with contextlib.suppress(IllegalTransition, TicketNotFound):
            if resolve and self.desk.workflow.category(self.desk.get(ticket_id).status).is_active:
                self.desk.resolve(ticket_id, CUSTOMER)
            self.desk.rate(ticket_id, CUSTOMER, score)
            event(f"rated {score} under the {self.rule_set} rules")

    @rule(name=st.sampled_from(sorted(RULE_SETS)))
    def the_rules_change(self, name: str) -> None:
        desk = self._desk(name)
        if desk.rules_fingerprint != self.desk.rules_fingerprint:
            with pytest.raises(ScheduleOutOfDate):
                desk.run_rules()
        progress: list[tuple[str, int, int]] = []
        desk.reschedule(batch=2, progress=lambda *step: progress.append(step))
        assert all(done <= total for _, done, total in progress)
        self.desk, self.rule_set = desk, name

    @rule()
    def sweep(self) -> None:
        expected = {ticket_id for ticket_id in self._alive() if due_now(self.desk, ticket_id)}
        report = self.desk.run_rules()
        acted = {firing.ticket_id for firing in report.fired} | {
            skip.ticket_id for skip in report.skipped
        }
        assert acted == expected, f"the sweep acted on {acted}, from scratch {expected} are due"
        self.settled_by_next_sweep.clear()
        self._agrees_exactly()
        for ticket_id in self._alive():
            assert not due_now(self.desk, ticket_id) or ticket_id in {
                skip.ticket_id for skip in report.skipped
            }, f"{ticket_id} is still due after the sweep"

    @rule()
    def dry_run_agrees(self) -> None:
        expected = {ticket_id for ticket_id in self._alive() if due_now(self.desk, ticket_id)}
        report = self.desk.run_rules(dry_run=True)
        acted = {firing.ticket_id for firing in report.fired} | {
            skip.ticket_id for skip in report.skipped
        }
        assert acted == expected

    def _alive(self) -> Iterator[str]:
        for ticket_id in self.ids:
            with contextlib.suppress(TicketNotFound):
                self.desk.get(ticket_id)
                yield ticket_id

    @invariant()
    def the_stored_schedule_agrees_with_a_recomputation(self) -> None:
        now = self.clock.now()
        for ticket_id in self._alive():
            stored = self.desk.store.schedule(ticket_id)
            again = from_scratch(self.desk, ticket_id)
            assert stored.rules == again.rules, ticket_id
            due = bool(due_now(self.desk, ticket_id))
            # Never a missed firing: what is due from scratch is due as stored.
            assert not due or from_now(stored, now) == now, f"{ticket_id} is due, stored {stored}"
            if from_now(stored, now) != now:
                assert stored == again, ticket_id
            # Stored as due and due no more: a rule that held for a while (at risk,
            # then breached) and no sweep came; the next sweep stores it again.
            elif not due:
                self.settled_by_next_sweep.add(ticket_id)

    def _agrees_exactly(self) -> None:
        now = self.clock.now()
        for ticket_id in self._alive():
            stored = from_now(self.desk.store.schedule(ticket_id), now)
            assert stored == from_now(from_scratch(self.desk, ticket_id), now), ticket_id


TestScheduleLawsInMemory = ScheduleLaws.TestCase
TestScheduleLawsInMemory.settings = settings(
    max_examples=100, stateful_step_count=40, deadline=None
)


class ScheduleLawsOnSQLite(ScheduleLaws):
    def make_store(self) -> Store:
        return SQLiteStore(Path(self.folder.name) / "tickets.sqlite3")


TestScheduleLawsOnSQLite = ScheduleLawsOnSQLite.TestCase
TestScheduleLawsOnSQLite.settings = settings(
    max_examples=20, stateful_step_count=25, deadline=None
)


@pytest.fixture(scope="module")
def postgres_pool() -> Iterator[ConnectionPool]:
    with migrated_pool() as pool:
        yield pool


def test_the_schedule_laws_hold_on_postgres(postgres_pool: ConnectionPool) -> None:
    run_laws_on_postgres(ScheduleLaws, postgres_pool, max_examples=6)


# -- examples ---------------------------------------------------------------------


def test_a_waiting_ticket_is_scheduled_for_its_reminder_and_then_its_escalation() -> None:
    clock = ManualClock(START)
    desk = Helpdesk(clock=clock)
    ticket = desk.open(subject="VPN", description="It drops.", requester=ANA)
    assert desk.store.schedule(ticket.id) == Schedule(None, desk.rules_fingerprint)
    desk.reply(ticket.id, AGENT, "Which client?")
    assert desk.store.schedule(ticket.id).next_due_at == START + 2 * DAY
    clock.advance(2 * DAY)
    assert [firing.rule for firing in desk.run_rules().fired] == ["remind_customer"]
    assert desk.store.schedule(ticket.id).next_due_at == START + 4 * DAY  # the escalation


def test_an_sla_rule_is_scheduled_for_the_instant_its_clock_passes_the_threshold() -> None:
    clock = ManualClock(START)  # a Monday, 09:00 UTC = 11:00 in Riga
    policy = SLAPolicy("office", first_response=8 * HOUR, calendar=OFFICE)
    desk = Helpdesk(clock=clock, sla_policies=[policy])
    ticket = desk.open(subject="VPN", description="It drops.", requester=ANA)
    due = desk.next_due(ticket.id)
    assert due is not None
    assert due.rule == "sla_warning"
    # 6 office hours of 8: 11:00 to 17:00 in Riga, 15:00 UTC.
    assert due.at == START + 6 * HOUR
    assert desk.store.schedule(ticket.id).next_due_at == due.at
    clock.set(due.at)
    assert [firing.rule for firing in desk.run_rules().fired] == ["sla_warning"]
    breach = desk.next_due(ticket.id)
    assert breach is not None
    assert breach.rule == "sla_breach"
    # The two office hours left run on Tuesday from 09:00 in Riga (07:00 UTC) to 11:00
    # (09:00 UTC); breached one microsecond of office time after.
    assert breach.at == START + DAY + timedelta(microseconds=1)
    clock.set(breach.at - timedelta(microseconds=1))
    assert desk.run_rules().fired == ()
    clock.set(breach.at)
    assert [firing.rule for firing in desk.run_rules().fired] == ["sla_breach"]
    states: tuple[SLAState, ...] = desk.sla(ticket.id)
    assert states[0].breached


def test_a_sweep_reads_only_the_due_tickets() -> None:
    clock = ManualClock(START)
    store = MemoryStore()
    desk = Helpdesk(store=store, clock=clock)
    waiting = [desk.open(subject=f"S{n}", description="d", requester=ANA) for n in range(5)]
    for ticket in waiting[:2]:
        desk.reply(ticket.id, AGENT, "Which client?")
    clock.advance(2 * DAY)
    assert store.count_due(clock.now()) == 2
    assert {firing.ticket_id for firing in desk.run_rules().fired} == {t.id for t in waiting[:2]}
    assert store.count_due(clock.now()) == 0


def test_rules_whose_conditions_do_not_predict_are_checked_at_every_sweep() -> None:
    clock = ManualClock(START)
    vip = Rule(
        "vip_first",
        Predicate("vip", lambda ticket, _now: "vip" in ticket.tags),
        Action.tag(add={"seen"}),
    )
    desk = Helpdesk(clock=clock, rules=[vip])
    ticket = desk.open(subject="VPN", description="d", requester=ANA, tags={"vip"})
    assert desk.store.schedule(ticket.id).next_due_at is None
    assert [firing.rule for firing in desk.run_rules().fired] == ["vip_first"]
    assert desk.run_rules().fired == ()


def test_a_desk_with_other_rules_refuses_to_sweep_until_it_reschedules() -> None:
    clock = ManualClock(START)
    first = Helpdesk(clock=clock)
    ticket = first.open(subject="VPN", description="d", requester=ANA)
    first.reply(ticket.id, AGENT, "Which client?")
    quicker = Helpdesk(store=first.store, clock=clock, rules=default_rules(remind_after=HOUR))
    clock.advance(2 * HOUR)
    with pytest.raises(ScheduleOutOfDate) as refused:
        quicker.run_rules()
    assert refused.value.ticket_id == ticket.id
    assert refused.value.found == first.rules_fingerprint
    assert refused.value.expected == quicker.rules_fingerprint
    assert first.store.count_due(clock.now()) == 0  # under the old rules: due in 2 days
    steps: list[tuple[str, int, int]] = []
    assert quicker.reschedule(progress=lambda *step: steps.append(step)) == 1
    assert steps == [("reschedule", 1, 1)]
    assert quicker.reschedule() == 0  # done: resumable, nothing left
    assert [firing.rule for firing in quicker.run_rules().fired] == ["remind_customer"]


def test_a_store_written_before_schedules_is_rescheduled_once() -> None:
    clock = ManualClock(START)
    store = MemoryStore()
    desk = Helpdesk(store=store, clock=clock)
    ticket = desk.open(subject="VPN", description="d", requester=ANA)
    desk.reply(ticket.id, AGENT, "Which client?")
    assert store.reschedule(ticket.id, 2, UNSCHEDULED)  # as an old store holds it
    with pytest.raises(ScheduleOutOfDate, match="was never scheduled"):
        desk.run_rules()
    assert desk.reschedule() == 1
    assert store.schedule(ticket.id).next_due_at == START + 2 * DAY


def test_the_fingerprint_is_the_same_in_every_desk_with_the_same_rules() -> None:
    assert Helpdesk().rules_fingerprint == Helpdesk().rules_fingerprint
    assert Helpdesk().rules_fingerprint != Helpdesk(rules=()).rules_fingerprint
    policy = SLAPolicy("p", first_response=HOUR)
    with_sla = Helpdesk(sla_policies=[policy]).rules_fingerprint
    assert with_sla == Helpdesk(sla_policies=[policy]).rules_fingerprint
    longer = SLAPolicy("p", first_response=2 * HOUR)
    assert with_sla != Helpdesk(sla_policies=[longer]).rules_fingerprint
    # An action's wording does not change when a rule acts.
    reworded = Rule("close", InStatus("resolved") & Since("resolved_at", after=DAY),
                    Action.fire("close", "Bye."))  # fmt: skip
    plain = Rule("close", InStatus("resolved") & Since("resolved_at", after=DAY),
                 Action.fire("close", "Closed."))  # fmt: skip
    assert (
        Helpdesk(rules=[reworded]).rules_fingerprint == Helpdesk(rules=[plain]).rules_fingerprint
    )


def test_reschedule_refuses_a_malformed_batch_or_progress() -> None:
    desk = Helpdesk()
    with pytest.raises(InvalidInput, match="batch"):
        desk.reschedule(batch=0)
    with pytest.raises(InvalidInput, match="progress"):
        desk.reschedule(progress="dots")  # type: ignore[arg-type]


def test_a_workflow_change_reschedules_every_ticket() -> None:
    from ticketflow import Workflow  # noqa: PLC0415

    clock = ManualClock(START)
    desk = Helpdesk(clock=clock)
    ticket = desk.open(subject="VPN", description="d", requester=ANA)
    desk.reply(ticket.id, AGENT, "Which client?")
    renamed = Workflow.from_dict({**Workflow.default().to_dict(), "name": "renamed"})
    desk.change_workflow(renamed)
    assert desk.store.schedule(ticket.id).rules == desk.rules_fingerprint
    assert desk.store.schedule(ticket.id).next_due_at == START + 2 * DAY


def test_the_fingerprint_sees_into_a_hosts_own_conditions_and_functions() -> None:
    import dataclasses  # noqa: PLC0415

    from ticketflow.rules import Condition, Context, InCategory  # noqa: PLC0415

    class OpenFor(Condition):
        predicts = True

        def __init__(self, after: timedelta) -> None:
            self.after = after

        def holds(self, context: Context) -> bool:
            return context.now - context.ticket.created_at >= self.after

    @dataclasses.dataclass(frozen=True)
    class Frozen(OpenFor):
        after: timedelta

    def nudge(condition: Condition) -> Helpdesk:
        return Helpdesk(rules=[Rule("n", InCategory("new") & condition, Action.fire("close"))])

    for kind in (OpenFor, Frozen):
        hour, days = nudge(kind(HOUR)), nudge(kind(2 * DAY))
        assert hour.rules_fingerprint != days.rules_fingerprint
        assert hour.rules_fingerprint == nudge(kind(HOUR)).rules_fingerprint

    def covering(tag: str) -> Helpdesk:
        vip = Predicate("vip", lambda ticket, _now: tag in ticket.tags)
        return Helpdesk(sla_policies=[SLAPolicy("p", applies_to=vip, first_response=HOUR)])

    assert covering("vip").rules_fingerprint == covering("vip").rules_fingerprint
    assert covering("vip").rules_fingerprint != covering("gold").rules_fingerprint


def test_the_fingerprint_ignores_what_does_not_change_when_rules_act() -> None:
    rules = default_rules()
    assert Helpdesk(rules=rules).rules_fingerprint == Helpdesk(rules=rules[::-1]).rules_fingerprint


def test_a_period_past_the_end_of_time_schedules_never_and_blocks_no_command() -> None:
    forever = Rule(
        "forever",
        InStatus("resolved") & Since("resolved_at", after=timedelta(days=3_000_000)),
        Action.fire("close"),
    )
    desk = Helpdesk(clock=ManualClock(START), rules=[forever])
    ticket = desk.open(subject="VPN", description="d", requester=ANA)
    resolved = desk.resolve(ticket.id, Actor.admin("ad-1"))
    assert resolved.status == "resolved"
    assert desk.store.schedule(ticket.id).next_due_at is None
