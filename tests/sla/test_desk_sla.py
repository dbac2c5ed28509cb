"""SLA clocks from history: hand-built histories, hand-computed figures."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from support import AGENT, ANA, CUSTOMER, START

from ticketflow import Helpdesk, InvalidInput, ManualClock
from ticketflow.rules import PriorityIs
from ticketflow.sla import Calendar, SLAPolicy, SLAState, Target

HOUR = timedelta(hours=1)
STANDARD = SLAPolicy(
    "standard",
    first_response=4 * HOUR,
    next_response=8 * HOUR,
    resolution=48 * HOUR,
    close_within=7 * 24 * HOUR,
)


def states(desk: Helpdesk, ticket_id: str) -> dict[Target, SLAState]:
    return {state.target: state for state in desk.sla(ticket_id)}


@pytest.fixture
def desk(clock: ManualClock) -> Helpdesk:
    return Helpdesk(clock=clock, sla_policies=[STANDARD], rules=())


def test_a_first_response_in_time_is_met_and_its_clock_stops(
    desk: Helpdesk, clock: ManualClock
) -> None:
    ticket = desk.open(subject="VPN", description="d", requester=ANA)
    clock.advance(3 * HOUR)
    first = states(desk, ticket.id)[Target.FIRST_RESPONSE]
    assert (first.elapsed, first.remaining, first.running) == (3 * HOUR, HOUR, True)
    assert first.due_at == START + 4 * HOUR
    desk.reply(ticket.id, AGENT, "Looking.")
    clock.advance(10 * HOUR)
    first = states(desk, ticket.id)[Target.FIRST_RESPONSE]
    assert (first.elapsed, first.met, first.breached, first.running) == (
        3 * HOUR,
        True,
        False,
        False,
    )
    assert first.due_at is None


def test_a_late_first_response_is_breached_at_the_instant_the_target_ran_out(
    desk: Helpdesk, clock: ManualClock
) -> None:
    ticket = desk.open(subject="VPN", description="d", requester=ANA)
    clock.advance(5 * HOUR)
    desk.reply(ticket.id, AGENT, "Sorry for the wait.")
    first = states(desk, ticket.id)[Target.FIRST_RESPONSE]
    assert (first.met, first.breached, first.breached_at) == (False, True, START + 4 * HOUR)
    assert first.remaining == -HOUR


def test_time_postponed_and_time_waiting_on_the_customer_never_count_for_responses(
    desk: Helpdesk, clock: ManualClock
) -> None:
    ticket = desk.open(subject="VPN", description="d", requester=ANA)
    clock.advance(HOUR)
    desk.postpone(ticket.id, AGENT, until=START + 30 * HOUR)
    clock.advance(20 * HOUR)  # postponed: paused
    first = states(desk, ticket.id)[Target.FIRST_RESPONSE]
    assert (first.elapsed, first.running, first.due_at) == (HOUR, False, None)
    desk.wake(ticket.id, AGENT)
    clock.advance(HOUR)
    desk.reply(ticket.id, AGENT, "Here is the fix.")
    clock.advance(30 * HOUR)  # answered: waiting on the customer, the response clock stands
    by = states(desk, ticket.id)
    assert by[Target.FIRST_RESPONSE].elapsed == 2 * HOUR
    assert by[Target.FIRST_RESPONSE].met
    # The resolution clock skips only the postponed hours: 1 + 1 + 30.
    assert by[Target.RESOLUTION].elapsed == 32 * HOUR


def test_each_customer_message_starts_a_next_response_wait(
    desk: Helpdesk, clock: ManualClock
) -> None:
    ticket = desk.open(subject="VPN", description="d", requester=ANA)
    clock.advance(HOUR)
    desk.reply(ticket.id, AGENT, "Which version?")
    clock.advance(5 * HOUR)
    desk.reply(ticket.id, CUSTOMER, "5.2")
    asked = clock.now()
    clock.advance(9 * HOUR)
    wait = states(desk, ticket.id)[Target.NEXT_RESPONSE]
    assert wait.started_at == asked
    assert (wait.elapsed, wait.breached, wait.breached_at) == (9 * HOUR, True, asked + 8 * HOUR)
    desk.reply(ticket.id, AGENT, "Update to 5.3.")
    wait = states(desk, ticket.id)[Target.NEXT_RESPONSE]
    assert (wait.running, wait.met, wait.breached) == (False, False, True)


def test_a_reopen_resumes_the_resolution_clock_without_the_time_spent_solved(
    desk: Helpdesk, clock: ManualClock
) -> None:
    ticket = desk.open(subject="VPN", description="d", requester=ANA)
    clock.advance(10 * HOUR)
    desk.resolve(ticket.id, CUSTOMER)
    clock.advance(24 * HOUR)
    resolution = states(desk, ticket.id)[Target.RESOLUTION]
    assert (resolution.elapsed, resolution.met, resolution.running) == (10 * HOUR, True, False)
    close = states(desk, ticket.id)[Target.CLOSE_WITHIN]
    assert (close.elapsed, close.running) == (24 * HOUR, True)
    desk.reply(ticket.id, CUSTOMER, "It is back.")  # reopens
    clock.advance(5 * HOUR)
    resolution = states(desk, ticket.id)[Target.RESOLUTION]
    assert (resolution.elapsed, resolution.running, resolution.met) == (15 * HOUR, True, False)
    assert resolution.due_at == clock.now() + 33 * HOUR


def test_business_hours_decide_what_counts(clock: ManualClock) -> None:
    office = Calendar.business("UTC", weekdays=("09:00", "17:00"))
    desk = Helpdesk(
        clock=clock,
        sla_policies=[SLAPolicy("office", first_response=4 * HOUR, calendar=office)],
        rules=(),
    )
    clock.set(START + timedelta(days=4, hours=6))  # Friday 15:00 UTC
    ticket = desk.open(subject="VPN", description="d", requester=ANA)
    first = states(desk, ticket.id)[Target.FIRST_RESPONSE]
    assert first.due_at == START + timedelta(days=7, hours=2)  # Monday 11:00


def test_policies_apply_in_order_and_the_first_that_covers_wins(clock: ManualClock) -> None:
    urgent = SLAPolicy("urgent", applies_to=PriorityIs("urgent"), first_response=HOUR)
    desk = Helpdesk(clock=clock, sla_policies=[urgent, STANDARD], rules=())
    fast = desk.open(subject="Down", description="d", requester=ANA, priority="urgent")
    slow = desk.open(subject="Typo", description="d", requester=ANA)
    assert states(desk, fast.id)[Target.FIRST_RESPONSE].due_at == START + HOUR
    assert states(desk, slow.id)[Target.FIRST_RESPONSE].due_at == START + 4 * HOUR
    assert Helpdesk(store=desk.store, clock=clock, rules=()).sla(fast.id) == ()


def test_a_target_must_be_positive() -> None:
    with pytest.raises(InvalidInput, match="SLA target must be a positive timedelta"):
        SLAPolicy("broken", first_response=timedelta(0))


def test_the_queue_puts_breached_work_first_then_the_nearest_due(
    desk: Helpdesk, clock: ManualClock
) -> None:
    late = desk.open(subject="Late", description="d", requester=ANA)
    clock.advance(5 * HOUR)  # late's first response is breached
    soon = desk.open(subject="Soon", description="d", requester=ANA)
    clock.advance(HOUR)
    later = desk.open(subject="Later", description="d", requester=ANA)
    answered = desk.open(subject="Answered", description="d", requester=ANA)
    desk.reply(answered.id, AGENT, "Done?")  # waiting on the customer: no clock runs for it
    queue = desk.queue()
    assert [entry.ticket.id for entry in queue] == [late.id, soon.id, later.id, answered.id]
    assert [entry.breached for entry in queue] == [True, False, False, False]
    assert queue[1].due_at == START + 9 * HOUR
    assert [e.ticket.id for e in desk.queue(order="waiting")][:3] == [late.id, soon.id, later.id]
    assert desk.queue(order="waiting")[-1].waiting_since is None
    assert [e.ticket.id for e in desk.queue(category="pending")] == [answered.id]
    with pytest.raises(InvalidInput, match="order must be 'sla' or 'waiting'"):
        desk.queue(order="fifo")


def test_sla_notices_fire_once_per_run_of_a_clock(clock: ManualClock) -> None:
    policy = SLAPolicy("responses", first_response=4 * HOUR, next_response=4 * HOUR)
    desk = Helpdesk(clock=clock, sla_policies=[policy])  # default rules and the SLA notices
    ticket = desk.open(subject="VPN", description="d", requester=ANA)
    clock.advance(3 * HOUR - timedelta(seconds=1))
    assert [f.rule for f in desk.run_rules().fired] == []
    clock.advance(timedelta(seconds=1))  # 75% of the first response
    assert [f.rule for f in desk.run_rules().fired] == ["sla_warning"]
    assert [f.rule for f in desk.run_rules().fired] == []
    clock.advance(HOUR + timedelta(seconds=1))
    assert [f.rule for f in desk.run_rules().fired] == ["sla_breach"]
    assert [f.rule for f in desk.run_rules().fired] == []
    notices = [e.name for e in desk.history(ticket.id) if e.name.startswith("sla_")]
    assert notices == ["sla_warning", "sla_breach"]
    desk.reply(ticket.id, AGENT, "Sorry.")
    desk.reply(ticket.id, CUSTOMER, "Still down.")  # a new wait for a response
    clock.advance(3 * HOUR)
    assert [f.rule for f in desk.run_rules().fired] == ["sla_warning"]


def test_sla_conditions_compose_with_other_parts_in_rules_of_ones_own(
    clock: ManualClock,
) -> None:
    from ticketflow.rules import Action, PriorityIs, Rule  # noqa: PLC0415
    from ticketflow.sla import SLABreached  # noqa: PLC0415

    page = Rule("page_lead", PriorityIs("urgent") & SLABreached(Target.FIRST_RESPONSE),
                Action.assign("lead-1"))  # fmt: skip
    desk = Helpdesk(clock=clock, sla_policies=[STANDARD], rules=[page])
    urgent = desk.open(subject="Down", description="d", requester=ANA, priority="urgent")
    normal = desk.open(subject="Slow", description="d", requester=ANA)
    clock.advance(5 * HOUR)
    assert [(f.rule, f.ticket_id) for f in desk.run_rules().fired] == [("page_lead", urgent.id)]
    assert desk.get(urgent.id).assignee == "lead-1"
    assert desk.get(normal.id).assignee is None


def test_an_at_risk_fraction_must_lie_between_zero_and_one() -> None:
    from ticketflow.sla import SLAAtRisk  # noqa: PLC0415

    with pytest.raises(InvalidInput, match="fraction must be a number between 0 and 1"):
        SLAAtRisk(1.5)


def test_several_warning_fractions_make_one_rule_each(clock: ManualClock) -> None:
    from ticketflow.sla import sla_rules  # noqa: PLC0415

    rules = sla_rules(warn_at=(0.5, 0.9))
    assert [rule.name for rule in rules] == ["sla_warning_50", "sla_warning_90", "sla_breach"]
    policy = SLAPolicy("one", first_response=10 * HOUR)
    desk = Helpdesk(clock=clock, sla_policies=[policy], rules=rules)
    desk.open(subject="VPN", description="d", requester=ANA)
    clock.advance(5 * HOUR)
    assert [f.rule for f in desk.run_rules().fired] == ["sla_warning_50"]
    clock.advance(4 * HOUR)
    assert [f.rule for f in desk.run_rules().fired] == ["sla_warning_90"]


def test_due_within_and_channel_conditions_pick_the_right_tickets(clock: ManualClock) -> None:
    from ticketflow.rules import Action, ChannelIs, Rule  # noqa: PLC0415
    from ticketflow.sla import SLADueWithin  # noqa: PLC0415

    nudge = Rule("nudge", ChannelIs("chat") & SLADueWithin(HOUR), Action.tag(add={"hurry"}))
    desk = Helpdesk(clock=clock, sla_policies=[STANDARD], rules=[nudge])
    chat = desk.open(subject="Chat", description="d", requester=ANA, channel="chat")
    mail = desk.open(subject="Mail", description="d", requester=ANA, channel="email")
    clock.advance(3 * HOUR - timedelta(seconds=1))
    assert desk.run_rules().fired == ()
    clock.advance(timedelta(seconds=1))  # first response due in one hour
    assert [(f.rule, f.ticket_id) for f in desk.run_rules().fired] == [("nudge", chat.id)]
    assert "hurry" not in desk.get(mail.id).tags
    with pytest.raises(InvalidInput, match="within must be a positive timedelta"):
        SLADueWithin(timedelta(0))


def test_a_target_with_a_calendar_of_its_own_counts_on_it_everywhere() -> None:

    office = Calendar.business("Europe/Riga", weekdays=("09:00", "18:00"))
    mixed = SLAPolicy(
        "mixed",
        first_response=timedelta(hours=2),
        resolution=timedelta(hours=8),
        calendar=office,
        calendars={"first_response": Calendar.always()},
    )
    assert mixed.calendar_for(Target.FIRST_RESPONSE) == Calendar.always()
    assert mixed.calendar_for(Target.RESOLUTION) is office
    friday_night = datetime(2026, 3, 13, 18, 0, tzinfo=UTC)  # 20:00 in Riga: office closed
    clock = ManualClock(friday_night)
    desk = Helpdesk(clock=clock, sla_policies=[mixed])
    ticket = desk.open(subject="Login", description="Fails.", requester=ANA)
    first, resolution = desk.sla(ticket.id)
    assert first.due_at == friday_night + timedelta(hours=2)
    assert resolution.due_at == datetime(2026, 3, 16, 15, 0, tzinfo=UTC)  # Monday 17:00
    due = desk.next_due(ticket.id)
    assert due is not None
    assert (due.rule, due.at) == ("sla_warning", friday_night + timedelta(minutes=90))
    clock.advance(timedelta(hours=3))
    desk.reply(ticket.id, AGENT, "On it.")
    metrics = desk.metrics(per_ticket=True).tickets[0]
    assert metrics.business_first_response == timedelta(hours=3)  # 24x7: every hour counts
    assert metrics.sla_elapsed[Target.FIRST_RESPONSE] == timedelta(hours=3)
    assert metrics.sla_elapsed[Target.RESOLUTION] == timedelta(0)  # the office was closed
    assert desk.rules_fingerprint != Helpdesk(
        sla_policies=[SLAPolicy("mixed", first_response=timedelta(hours=2),
                                resolution=timedelta(hours=8), calendar=office)]
    ).rules_fingerprint  # fmt: skip


@pytest.mark.parametrize(
    ("calendars", "message"),
    [
        ({"speed": None}, "SLAPolicy.calendars must be a mapping of targets"),
        ({"first_response": "24x7"}, r"calendars\['first_response'\] must be a Calendar"),
        ([("first_response", None)], "SLAPolicy.calendars must be a mapping"),
    ],
)
def test_calendars_must_map_targets_to_calendars(calendars: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        SLAPolicy("p", first_response=timedelta(hours=1), calendars=calendars)  # type: ignore[arg-type]


def test_a_target_longer_than_a_century_of_its_own_calendar_is_refused() -> None:
    sparse = Calendar.business("UTC", {0: [(time(9), time(10))]})  # an hour a week
    with pytest.raises(InvalidInput, match=r"SLAPolicy\.resolution must be at most"):
        SLAPolicy("p", resolution=timedelta(days=300), calendars={"resolution": sparse})
