"""Automation rules: each default rule at its boundaries, once per episode, and sweeps at scale."""

from __future__ import annotations

import contextlib
import multiprocessing
from datetime import timedelta
from pathlib import Path

import attrs
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from support import AGENT, ANA, CUSTOMER, START

from ticketflow import (
    Actor,
    Helpdesk,
    IllegalTransition,
    InvalidInput,
    ManualClock,
    PermissionDenied,
    Priority,
    Ticket,
    TicketNotFound,
    Workflow,
)
from ticketflow.rules import (
    Action,
    InDepartment,
    InStatus,
    Predicate,
    PriorityIs,
    Rule,
    Since,
    Tagged,
    default_rules,
)
from ticketflow.storage import SQLiteStore, TicketQuery
from ticketflow.testing import check_history
from ticketflow.testing._strategies import actors, bodies

SECOND = timedelta(seconds=1)


def waiting(desk: Helpdesk, priority: Priority = Priority.NORMAL) -> Ticket:
    """A ticket the agent answered at START: now waiting on the customer."""
    ticket = desk.open(subject="VPN", description="It drops.", requester=ANA, priority=priority)
    return desk.reply(ticket.id, AGENT, "Which client version do you run?")


def fired(desk: Helpdesk) -> list[tuple[str, str]]:
    return [(firing.rule, firing.ticket_id) for firing in desk.run_rules().fired]


# -- each default rule at its boundaries ------------------------------------------


PERIODS = {
    Priority.URGENT: (timedelta(hours=4), timedelta(hours=8), timedelta(days=1)),
    Priority.HIGH: (timedelta(days=1), timedelta(days=2), timedelta(days=4)),
    Priority.NORMAL: (timedelta(days=2), timedelta(days=4), timedelta(days=7)),
    Priority.LOW: (timedelta(days=3), timedelta(days=6), timedelta(days=10)),
}


@pytest.mark.parametrize("priority", list(PERIODS))
def test_a_silent_customer_is_reminded_escalated_then_resolved_each_on_the_second(
    desk: Helpdesk, clock: ManualClock, priority: Priority
) -> None:
    remind, escalate, resolve = PERIODS[priority]
    ticket = waiting(desk, priority)
    for name, after in (
        ("remind_customer", remind),
        ("escalate_silence", escalate),
        ("resolve_silence", resolve),
    ):
        clock.set(START + after - SECOND)
        assert fired(desk) == [], f"{name} fired a second early"
        clock.set(START + after)
        assert fired(desk) == [(name, ticket.id)]
    stored = desk.get(ticket.id)
    assert stored.status == "resolved"
    assert "escalated" in stored.tags
    assert stored.priority is priority
    resolved = desk.history(ticket.id)[-1]
    assert resolved.actor.role.value == "system"
    assert "We wrote to you 2 times" in (resolved.body or "")
    assert [e.name for e in desk.history(ticket.id)][-3:] == ["remind", "update_tags", "resolve"]


def test_a_resolved_ticket_closes_seven_days_after_the_resolution_with_a_note(
    desk: Helpdesk, clock: ManualClock
) -> None:
    ticket = desk.open(subject="VPN", description="It drops.", requester=ANA)
    desk.resolve(ticket.id, CUSTOMER)
    clock.set(START + timedelta(days=7) - SECOND)
    assert fired(desk) == []
    clock.set(START + timedelta(days=7))
    assert fired(desk) == [("auto_close", ticket.id)]
    closed = desk.history(ticket.id)[-1]
    assert (closed.name, closed.to_status) == ("close", "closed")
    assert "because it was resolved and we heard nothing more" in (closed.body or "")


def test_customer_activity_after_the_resolution_pushes_the_close_back(clock: ManualClock) -> None:
    desk = Helpdesk(clock=clock, workflow=Workflow.default(reopen_on_customer_reply=False))
    ticket = desk.open(subject="VPN", description="It drops.", requester=ANA)
    desk.resolve(ticket.id, CUSTOMER)
    clock.set(START + timedelta(days=3))
    assert desk.reply(ticket.id, CUSTOMER, "Thanks, testing it.").status == "resolved"
    clock.set(START + timedelta(days=10) - SECOND)
    assert fired(desk) == []
    clock.set(START + timedelta(days=10))
    assert fired(desk) == [("auto_close", ticket.id)]


def test_a_postponed_ticket_wakes_when_its_time_comes(desk: Helpdesk, clock: ManualClock) -> None:
    ticket = waiting(desk)
    until = START + timedelta(hours=30)
    desk.postpone(ticket.id, AGENT, until=until)
    clock.set(until - SECOND)
    assert fired(desk) == []
    clock.set(until)
    assert fired(desk) == [("wake_postponed", ticket.id)]
    assert desk.get(ticket.id).status == "open"


# -- once per episode ---------------------------------------------------------------


def test_sweeping_again_now_or_later_never_repeats_an_action(
    desk: Helpdesk, clock: ManualClock
) -> None:
    ticket = waiting(desk)
    clock.set(START + timedelta(days=2))
    assert fired(desk) == [("remind_customer", ticket.id)]
    assert fired(desk) == []
    clock.set(START + timedelta(days=3))
    assert fired(desk) == []
    assert [e.name for e in desk.history(ticket.id)].count("remind") == 1


def test_a_customer_reply_ends_the_episode_and_a_new_answer_starts_another(
    desk: Helpdesk, clock: ManualClock
) -> None:
    ticket = waiting(desk)
    clock.set(START + timedelta(days=2))
    assert fired(desk) == [("remind_customer", ticket.id)]
    clock.set(START + timedelta(days=3))
    desk.reply(ticket.id, CUSTOMER, "Version 5.2.")
    clock.set(START + timedelta(days=20))
    assert fired(desk) == []  # open: the silence ended, nothing more for it
    desk.reply(ticket.id, AGENT, "Please update to 5.3.")
    clock.set(START + timedelta(days=22))
    assert fired(desk) == [("remind_customer", ticket.id)]  # a new silence, a new episode


def test_a_dry_run_reports_and_changes_nothing(desk: Helpdesk, clock: ManualClock) -> None:
    ticket = waiting(desk)
    clock.set(START + timedelta(days=8))
    before = (desk.get(ticket.id), desk.history(ticket.id))
    report = desk.run_rules(dry_run=True)
    assert report.dry_run
    chain = ["remind_customer", "escalate_silence", "resolve_silence"]
    assert [firing.rule for firing in report.fired] == chain
    assert (desk.get(ticket.id), desk.history(ticket.id)) == before
    assert desk.run_rules(dry_run=True).fired == report.fired
    assert [firing.rule for firing in desk.run_rules().fired] == chain


def test_next_due_says_which_rule_acts_next_and_when(desk: Helpdesk, clock: ManualClock) -> None:
    ticket = waiting(desk, Priority.HIGH)
    due = desk.next_due(ticket.id)
    assert due is not None
    assert (due.rule, due.at) == ("remind_customer", START + timedelta(days=1))
    clock.set(START + timedelta(days=1))
    desk.run_rules()
    due = desk.next_due(ticket.id)
    assert due is not None
    assert (due.rule, due.at) == ("escalate_silence", START + timedelta(days=2))
    desk.reply(ticket.id, CUSTOMER, "Here it is.")
    assert desk.next_due(ticket.id) is None  # open: no rule waits on it


def test_rules_obey_the_workflow_and_report_what_it_refused(
    clock: ManualClock,
) -> None:
    hasty = Rule("hasty_close", InStatus("new"), Action.fire("close", "Too early"))
    desk = Helpdesk(clock=clock, rules=[hasty])
    ticket = desk.open(subject="VPN", description="It drops.", requester=ANA)
    report = desk.run_rules()
    assert report.fired == ()
    assert [(skip.rule, skip.ticket_id) for skip in report.skipped] == [("hasty_close", ticket.id)]
    assert "cannot 'close' ticket" in report.skipped[0].reason
    assert desk.get(ticket.id).status == "new"


def test_a_disabled_rule_never_fires_and_rule_names_must_be_unique(
    desk: Helpdesk, clock: ManualClock
) -> None:
    rules = [
        attrs.evolve(rule, enabled=rule.name != "remind_customer") for rule in default_rules()
    ]
    quiet = Helpdesk(store=desk.store, clock=clock, rules=rules)
    waiting(quiet)
    clock.set(START + timedelta(days=2))
    assert fired(quiet) == []
    with pytest.raises(InvalidInput, match="rules must be rules with unique names"):
        Helpdesk(rules=[*default_rules(), default_rules()[0]])
    with pytest.raises(InvalidInput, match="after must be a positive timedelta"):
        default_rules(close_after=timedelta(0))


# -- conditions ----------------------------------------------------------------------


def test_conditions_compose_with_and_or_not(desk: Helpdesk) -> None:
    ticket = desk.open(
        subject="VPN", description="d", requester=ANA, priority="high", tags={"vip"},
        department="it",
    )  # fmt: skip
    context = desk.context(ticket.id)
    assert (InStatus("new") & PriorityIs("high")).holds(context)
    assert not (InStatus("new") & PriorityIs({"low", "normal"})).holds(context)
    assert (InStatus("closed") | Tagged({"vip"})).holds(context)
    assert (~InDepartment("billing")).holds(context)
    assert Predicate("long subject", lambda t, _now: len(t.subject) > 2).holds(context)
    assert not (~Tagged("vip")).holds(context)
    week = Since("created_at", after=timedelta(days=7))
    assert (InStatus("new") & week).when(context) == START + timedelta(days=7)
    assert (InStatus("open") & week).when(context) is None
    assert (InStatus("open") | week).when(context) == START + timedelta(days=7)


DAYS = [timedelta(days=days) for days in (4, 3, 2, 1)]


def test_a_rule_asks_the_store_only_for_its_candidates() -> None:
    rule = Rule(
        "x",
        InStatus({"resolved", "closed"})
        & Tagged("vip")
        & InDepartment("it")
        & Since(
            "resolved_at",
            after={p: timedelta(days=d) for p, d in zip(Priority, (4, 3, 2, 1), strict=True)},
        ),
        Action.tag(add={"old"}),
    )
    assert rule.candidates(START, Workflow.default()) == TicketQuery(
        statuses={"resolved", "closed"},
        tags={"vip"},
        department="it",
        due=("resolved_at", START - timedelta(days=1)),
    )


def test_category_conditions_follow_the_desks_workflow(clock: ManualClock) -> None:
    data = Workflow.default().to_dict()
    data["statuses"].append({"name": "waiting_on_customer", "category": "pending"})
    data["transitions"] += [
        {"event": "ask", "from": "open", "to": "waiting_on_customer"},
        {"event": "customer_reply", "from": "waiting_on_customer", "to": "open"},
    ]
    desk = Helpdesk(clock=clock, workflow=Workflow.from_dict(data))
    ticket = desk.open(subject="VPN", description="d", requester=ANA)
    desk.reply(ticket.id, AGENT, "On it.")
    desk.reply(ticket.id, CUSTOMER, "Thanks.")
    desk.fire(ticket.id, "ask", Actor.admin("ad-1"), body="Which version?")
    clock.set(START + timedelta(days=2))
    assert fired(desk) == [("remind_customer", ticket.id)]


def Actor_admin():  # noqa: N802 - a tiny helper for the test above
    from ticketflow import Actor  # noqa: PLC0415

    return Actor.admin("ad-1")


# -- random interleavings --------------------------------------------------------------


class SweepsAmongHumans(RuleBasedStateMachine):
    """Humans act, time jumps, sweeps run; no law breaks and no rule acts twice per episode."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = ManualClock(START)
        self.desk = Helpdesk(clock=self.clock)
        self.ids: list[str] = []
        self.seen: set[tuple[str, str, object]] = set()

    @initialize()
    def open_tickets(self) -> None:
        for number in range(3):
            ticket = self.desk.open(subject=f"S{number}", description="d", requester=ANA)
            self.ids.append(ticket.id)

    @rule(jump=st.timedeltas(timedelta(0), timedelta(days=5)))
    def time_passes(self, jump: timedelta) -> None:
        self.clock.advance(jump)

    @rule(index=st.integers(0, 2), actor=actors(), data=st.data())
    def a_human_acts(self, index: int, actor: object, data: st.DataObject) -> None:
        ticket_id = self.ids[index]
        try:
            allowed = self.desk.allowed_events(ticket_id, actor)  # type: ignore[arg-type]
        except TicketNotFound:  # purged
            return
        if not allowed:
            return
        event = data.draw(st.sampled_from(allowed))
        payload: dict[str, object] = {}
        if event in ("agent_reply", "customer_reply", "note", "remind"):
            payload["body"] = data.draw(bodies())
        elif event == "postpone":
            payload["until"] = self.clock.now() + data.draw(
                st.timedeltas(timedelta(hours=1), timedelta(days=4))
            )
        elif event in ("assign", "set_priority", "set_department", "update_tags", "set_fields"):
            return
        with contextlib.suppress(IllegalTransition, PermissionDenied, InvalidInput):
            self.desk.fire(ticket_id, event, actor, **payload)  # type: ignore[arg-type]

    @rule()
    def sweep(self) -> None:
        report = self.desk.run_rules()
        for firing in report.fired:
            key = (firing.rule, firing.ticket_id, firing.episode)
            assert key not in self.seen, f"{key} fired twice"
            self.seen.add(key)
        assert self.desk.run_rules().fired == (), "a second sweep at the same instant fired"

    @invariant()
    def every_ticket_keeps_the_laws(self) -> None:
        for ticket in self.desk.find():
            check_history(self.desk.workflow, ticket, self.desk.history(ticket.id))


TestSweepsAmongHumans = SweepsAmongHumans.TestCase
TestSweepsAmongHumans.settings = settings(max_examples=40, stateful_step_count=40, deadline=None)


# -- two processes, one file -------------------------------------------------------------


def _sweep(path: str) -> list[tuple[str, str, str]]:
    store = SQLiteStore(path, timeout=30)
    desk = Helpdesk(store=store, clock=ManualClock(START + timedelta(days=30)), retries=50)
    report = desk.run_rules()
    store.close()
    return [(firing.rule, firing.ticket_id, firing.episode.isoformat()) for firing in report.fired]


def test_two_processes_sweeping_one_file_at_once_fire_each_action_once(tmp_path: Path) -> None:
    path = tmp_path / "tickets.sqlite3"
    store = SQLiteStore(path)
    desk = Helpdesk(store=store, clock=ManualClock(START))
    for number in range(40):
        ticket = desk.open(subject=f"S{number}", description="d", requester=ANA)
        desk.reply(ticket.id, AGENT, "Answer")
        if number % 2:
            desk.resolve(ticket.id, CUSTOMER)
    store.close()
    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as pool:
        first, second = pool.map(_sweep, [str(path), str(path)])
    together = first + second
    assert len(together) == len(set(together)), "an action fired twice"
    store = SQLiteStore(path)
    for ticket in store.query(TicketQuery()):
        history = store.history(ticket.id)
        check_history(Workflow.default(), ticket, history)
        by_system = [event.name for event in history if event.actor.role.value == "system"]
        assert len(by_system) == len(set(by_system)), f"{ticket.id}: {by_system}"
    expected = 20 * 3 + 20  # remind, escalate, resolve for the waiting; close for the resolved
    assert len(together) == expected
    store.close()


def test_periods_per_priority_take_priority_names_and_errors_name_the_argument() -> None:
    names = {"urgent": timedelta(hours=1), "high": timedelta(hours=2),
             "normal": timedelta(hours=3), "low": timedelta(hours=4)}  # fmt: skip
    rules = default_rules(remind_after=names)
    assert rules[0].when.holds is not None
    with pytest.raises(InvalidInput, match="remind_after must be a positive timedelta, or a"):
        default_rules(remind_after={"urgent": timedelta(hours=1)})


def test_a_since_condition_asked_at_the_dawn_of_time_narrows_without_overflowing() -> None:
    from datetime import UTC, datetime  # noqa: PLC0415

    dawn = datetime.min.replace(tzinfo=UTC) + timedelta(days=1)
    rule = Rule("r", Since("created_at", after=timedelta(days=3)), Action.fire("resolve"))
    assert rule.candidates(dawn, Workflow.default()).due == (
        "created_at",
        datetime.min.replace(tzinfo=UTC),
    )
