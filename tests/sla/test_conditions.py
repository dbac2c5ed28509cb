"""SLA conditions and SLA policy coverage, evaluated on contexts: nothing to bind."""

from __future__ import annotations

from datetime import timedelta

import pytest
from counting import CountingStore
from hypothesis import given, settings
from hypothesis import strategies as st
from support import AGENT, ANA, START

from ticketflow import Helpdesk, InvalidInput, ManualClock, Ticket
from ticketflow.rules import Action, Condition, Context, InCategory, InStatus, PriorityIs, Rule
from ticketflow.sla import (
    SLAAtRisk,
    SLABreached,
    SLADueWithin,
    SLAPolicy,
    SLAState,
    Target,
    sla_rules,
)

HOUR = timedelta(hours=1)


def test_a_policy_that_applies_to_a_category_covers_the_tickets_of_it(
    clock: ManualClock,
) -> None:
    # Regression: applies_to was never bound, so InCategory covered nothing.
    policy = SLAPolicy("new ones", applies_to=InCategory("new"), first_response=4 * HOUR)
    desk = Helpdesk(clock=clock, sla_policies=[policy], rules=())
    ticket = desk.open(subject="VPN", description="d", requester=ANA)
    clock.advance(HOUR)
    (state,) = desk.sla(ticket.id)
    assert (state.target, state.elapsed) == (Target.FIRST_RESPONSE, HOUR)
    # The policy is sticky: chosen when the clocks started, it stays when the
    # ticket leaves the category (only a priority or department change re-selects).
    desk.reply(ticket.id, AGENT, "On it.")
    (state,) = desk.sla(ticket.id)
    assert (state.policy, state.met, state.elapsed) == ("new ones", True, HOUR)


def test_a_policy_is_chosen_again_when_the_priority_changes(clock: ManualClock) -> None:
    urgent = SLAPolicy("urgent", applies_to=PriorityIs("urgent"), first_response=HOUR)
    rest = SLAPolicy("rest", first_response=4 * HOUR)
    desk = Helpdesk(clock=clock, sla_policies=[urgent, rest], rules=())
    ticket = desk.open(subject="VPN", description="d", requester=ANA)
    clock.advance(2 * HOUR)
    (state,) = desk.sla(ticket.id)
    assert (state.policy, state.breached, state.remaining) == ("rest", False, 2 * HOUR)
    desk.set_priority(ticket.id, AGENT, "urgent")  # two hours counted: past urgent's one
    (state,) = desk.sla(ticket.id)
    assert (state.policy, state.elapsed, state.breached_at) == ("urgent", 2 * HOUR, clock.now())
    desk.set_priority(ticket.id, AGENT, "normal")  # a breach once recorded stays
    (state,) = desk.sla(ticket.id)
    assert (state.policy, state.breached, state.remaining) == ("rest", True, 2 * HOUR)


class VIP(Condition):
    """A host's own condition."""

    def holds(self, context: Context) -> bool:
        return "vip" in context.ticket.tags


def test_a_policy_that_applies_to_a_hosts_composite_condition_covers_its_tickets(
    clock: ManualClock,
) -> None:
    vip = SLAPolicy("vip", applies_to=VIP() & InCategory("new"), first_response=HOUR)
    rest = SLAPolicy("rest", first_response=8 * HOUR)
    desk = Helpdesk(clock=clock, sla_policies=[vip, rest], rules=())
    gold = desk.open(subject="VPN", description="d", requester=ANA, tags={"vip"})
    plain = desk.open(subject="VPN", description="d", requester=ANA)
    assert desk.context(gold.id).sla_policy() is vip
    assert desk.context(plain.id).sla_policy() is rest
    clock.advance(2 * HOUR)
    assert [state.breached for state in desk.sla(gold.id)] == [True]
    assert [state.breached for state in desk.sla(plain.id)] == [False]


def test_a_rule_on_a_hosts_condition_and_a_clock_fires_in_a_sweep_and_in_a_dry_run(
    clock: ManualClock,
) -> None:
    rule = Rule("vip_late", VIP() & SLABreached(Target.FIRST_RESPONSE), Action.tag(add={"late"}))
    desk = Helpdesk(clock=clock, sla_policies=[SLAPolicy("p", first_response=HOUR)], rules=[rule])
    gold = desk.open(subject="VPN", description="d", requester=ANA, tags={"vip"})
    desk.open(subject="VPN", description="d", requester=ANA)
    clock.advance(2 * HOUR)
    dry = desk.run_rules(dry_run=True)
    assert [(f.rule, f.ticket_id) for f in dry.fired] == [("vip_late", gold.id)]
    assert "late" not in desk.get(gold.id).tags
    assert [(f.rule, f.ticket_id) for f in desk.run_rules().fired] == [("vip_late", gold.id)]
    assert "late" in desk.get(gold.id).tags
    assert desk.run_rules().fired == ()  # once per run of the clock


def test_a_policy_whose_coverage_looks_at_sla_clocks_is_refused_when_built() -> None:
    for circular in (SLABreached(), InCategory("new") & ~SLAAtRisk(0.5)):
        with pytest.raises(
            InvalidInput, match="applies_to must be a condition that does not look"
        ):
            SLAPolicy("circular", applies_to=circular, first_response=HOUR)


class LooksAtClocks(Condition):
    """A host's condition that reads the clocks without saying so."""

    def holds(self, context: Context) -> bool:
        return bool(context.sla())


def test_a_hosts_condition_that_reads_the_clocks_to_choose_them_is_refused_clearly(
    clock: ManualClock,
) -> None:
    circular = SLAPolicy("circular", applies_to=LooksAtClocks(), first_response=HOUR)
    desk = Helpdesk(clock=clock, sla_policies=[circular], rules=())
    # The policy is chosen as the ticket's clocks start, when it is opened.
    with pytest.raises(InvalidInput, match="applies_to must be a condition that does not look"):
        desk.open(subject="VPN", description="d", requester=ANA)
    assert len(desk.store) == 0


def test_an_applies_to_that_is_not_a_condition_is_refused() -> None:
    with pytest.raises(InvalidInput, match="applies_to must be None or a Condition"):
        SLAPolicy("p", applies_to="urgent", first_response=HOUR)  # type: ignore[arg-type]


def test_a_target_is_given_as_a_target_or_its_name() -> None:
    assert SLABreached("resolution").target is Target.RESOLUTION
    with pytest.raises(InvalidInput, match="target must be None or a Target"):
        SLAAtRisk(0.5, target="speed")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="fraction must be a number between 0 and 1"):
        SLAAtRisk("half")  # type: ignore[arg-type]


def test_sla_conditions_ask_the_store_only_for_statuses_in_which_a_clock_can_run(
    desk: Helpdesk,
) -> None:
    query = Rule("x", SLADueWithin(HOUR), Action.tag(add={"x"})).candidates(START, desk.workflow)
    assert query.statuses is not None
    assert "postponed" not in query.statuses  # clocks pause there
    assert "closed" not in query.statuses
    assert "spam" not in query.statuses
    assert {"new", "open", "answered", "resolved"} <= query.statuses


def active_tickets(desk: Helpdesk, count: int) -> list[Ticket]:
    return [desk.open(subject=f"VPN {n}", description="d", requester=ANA) for n in range(count)]


@pytest.mark.parametrize(
    ("advance", "fires"),
    [(HOUR, 0), (3 * HOUR + 30 * timedelta(minutes=1), 1)],
    ids=["nothing fires", "one rule fires on each"],
)
def test_a_sweep_with_the_sla_rules_reads_only_the_due_tickets_histories_once_each(
    clock: ManualClock, advance: timedelta, fires: int
) -> None:
    # Regression: 10 active tickets were read 20 times when nothing fired, 40 when one rule did;
    # then once each, due or not.  The stored schedule leaves the tickets not due unread, and
    # the commit of a firing schedules the ticket from the history the sweep read.
    store = CountingStore()
    desk = Helpdesk(
        store=store, clock=clock, sla_policies=[SLAPolicy("p", first_response=4 * HOUR)],
        rules=sla_rules(),
    )  # fmt: skip
    tickets = active_tickets(desk, 10)
    clock.advance(advance)
    store.reads.clear()
    report = desk.run_rules()
    assert len(report.fired) == fires * len(tickets)
    assert set(store.reads) == ({ticket.id for ticket in tickets} if fires else set())
    assert all(count == 1 for count in store.reads.values())


def test_a_sweep_reads_no_history_for_rules_that_need_none(clock: ManualClock) -> None:
    store = CountingStore()
    desk = Helpdesk(store=store, clock=clock)  # the default rules look at fields only
    ticket = desk.open(subject="VPN", description="d", requester=ANA)
    desk.reply(ticket.id, AGENT, "Which client?")
    clock.advance(timedelta(days=2))
    store.reads.clear()
    assert [f.rule for f in desk.run_rules().fired] == ["remind_customer"]
    assert store.reads == {}


def test_in_status_and_sla_conditions_compose_in_sla_rules_of_ones_own(
    clock: ManualClock,
) -> None:
    rule = Rule("late_new", InStatus("new") & SLAAtRisk(0.5), Action.tag(add={"hurry"}))
    desk = Helpdesk(clock=clock, sla_policies=[SLAPolicy("p", resolution=4 * HOUR)], rules=[rule])
    ticket = desk.open(subject="VPN", description="d", requester=ANA)
    clock.advance(2 * HOUR)
    assert [(f.rule, f.ticket_id) for f in desk.run_rules().fired] == [("late_new", ticket.id)]
    assert desk.get(ticket.id).updated_at == START + 2 * HOUR


@settings(max_examples=300, deadline=None)
@given(
    fraction=st.floats(min_value=0.001, max_value=0.999),
    promised=st.integers(min_value=0, max_value=10**12),
    elapsed=st.integers(min_value=0, max_value=10**12),
    breached=st.booleans(),
)
def test_at_risk_reads_a_clock_as_its_fraction_says(
    fraction: float, promised: int, elapsed: int, breached: bool
) -> None:
    # SLAAtRisk compares durations instead of dividing them: the same answer.
    tick = timedelta(microseconds=1)
    state = SLAState(
        Target.RESOLUTION, START, None, elapsed * tick, (promised - elapsed) * tick,
        True, False, breached, None, "p",
    )  # fmt: skip
    condition = SLAAtRisk(fraction)
    assert condition._matches(state, START) == (not breached and state.fraction >= fraction)
