"""SLA clocks: when each one runs, as the ticket's timeline tells it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from support import ADMIN, AGENT, ANA, CUSTOMER, START

from ticketflow import Helpdesk, InvalidInput, ManualClock, Workflow
from ticketflow.sla import SLAPolicy, SLAState, Target
from ticketflow.sla._clocks import _built, sla_states

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
EVERY_TARGET = SLAPolicy(
    "every_target",
    first_response=4 * HOUR,
    next_response=8 * HOUR,
    resolution=48 * HOUR,
    close_within=7 * DAY,
)


def states(desk: Helpdesk, ticket_id: str) -> dict[Target, SLAState]:
    return {state.target: state for state in desk.sla(ticket_id)}


@pytest.fixture
def desk(clock: ManualClock) -> Helpdesk:
    return Helpdesk(clock=clock, sla_policies=[EVERY_TARGET], rules=())


@pytest.fixture
def keeps_resolved(clock: ManualClock) -> Helpdesk:
    """A desk whose customer replies leave a resolved ticket resolved."""
    return Helpdesk(
        workflow=Workflow.default(reopen_on_customer_reply=False),
        clock=clock,
        sla_policies=[EVERY_TARGET],
        rules=(),
    )


def test_a_customers_thanks_on_a_resolved_ticket_starts_no_running_response_clock(
    keeps_resolved: Helpdesk, clock: ManualClock
) -> None:
    ticket = keeps_resolved.open(subject="VPN", description="d", requester=ANA)
    keeps_resolved.reply(ticket.id, AGENT, "Fixed.")
    keeps_resolved.resolve(ticket.id, ADMIN)
    clock.advance(HOUR)
    thanks = keeps_resolved.reply(ticket.id, CUSTOMER, "Thanks!")
    assert thanks.status == "resolved"
    clock.advance(3 * DAY)
    wait = states(keeps_resolved, ticket.id)[Target.NEXT_RESPONSE]
    assert (wait.running, wait.elapsed, wait.breached, wait.due_at) == (
        False,
        timedelta(0),
        False,
        None,
    )


def test_a_rule_on_breached_clocks_never_fires_for_a_thanks_on_a_resolved_ticket(
    clock: ManualClock,
) -> None:
    from ticketflow.rules import Action, Rule  # noqa: PLC0415
    from ticketflow.sla import SLABreached  # noqa: PLC0415

    late = Rule("late", SLABreached(Target.NEXT_RESPONSE), Action.tag(add={"late"}))
    desk = Helpdesk(
        workflow=Workflow.default(reopen_on_customer_reply=False),
        clock=clock,
        sla_policies=[SLAPolicy("responses", next_response=4 * HOUR)],
        rules=[late],
    )
    ticket = desk.open(subject="VPN", description="d", requester=ANA)
    desk.reply(ticket.id, AGENT, "Fixed.")
    desk.resolve(ticket.id, ADMIN)
    desk.reply(ticket.id, CUSTOMER, "Thanks!")
    clock.advance(DAY)
    assert desk.run_rules().fired == ()


def test_a_reopen_lets_the_unanswered_message_of_a_resolved_ticket_count(
    keeps_resolved: Helpdesk, clock: ManualClock
) -> None:
    ticket = keeps_resolved.open(subject="VPN", description="d", requester=ANA)
    keeps_resolved.reply(ticket.id, AGENT, "Fixed.")
    keeps_resolved.resolve(ticket.id, ADMIN)
    keeps_resolved.reply(ticket.id, CUSTOMER, "It is back.")
    clock.advance(DAY)
    keeps_resolved.reopen(ticket.id, ADMIN)
    clock.advance(2 * HOUR)
    wait = states(keeps_resolved, ticket.id)[Target.NEXT_RESPONSE]
    assert (wait.running, wait.elapsed) == (True, 2 * HOUR)


def test_the_first_response_clock_stands_while_a_ticket_nobody_answered_is_resolved(
    desk: Helpdesk, clock: ManualClock
) -> None:
    ticket = desk.open(subject="VPN", description="d", requester=ANA)
    clock.advance(HOUR)
    desk.resolve(ticket.id, CUSTOMER)  # the customer found the answer alone
    clock.advance(DAY)
    first = states(desk, ticket.id)[Target.FIRST_RESPONSE]
    assert (first.running, first.elapsed, first.met, first.breached) == (
        False,
        HOUR,
        False,
        False,
    )


def test_no_clock_runs_on_a_ticket_marked_as_spam(desk: Helpdesk, clock: ManualClock) -> None:
    ticket = desk.open(subject="Cheap pills", description="d", requester=ANA)
    clock.advance(HOUR)
    desk.mark_spam(ticket.id, ADMIN)
    clock.advance(10 * DAY)
    running = {target: state.running for target, state in states(desk, ticket.id).items()}
    assert running == dict.fromkeys(Target, False)
    assert states(desk, ticket.id)[Target.RESOLUTION].elapsed == HOUR


def test_a_resolved_ticket_marked_as_spam_does_not_resume_its_resolution_clock(
    desk: Helpdesk, clock: ManualClock
) -> None:
    ticket = desk.open(subject="Cheap pills", description="d", requester=ANA)
    clock.advance(HOUR)
    desk.resolve(ticket.id, ADMIN)
    desk.mark_spam(ticket.id, ADMIN)
    clock.advance(10 * DAY)
    resolution = states(desk, ticket.id)[Target.RESOLUTION]
    assert (resolution.running, resolution.elapsed, resolution.breached) == (False, HOUR, False)


def test_the_close_within_clock_stands_while_a_reopened_ticket_is_worked_on(
    desk: Helpdesk, clock: ManualClock
) -> None:
    ticket = desk.open(subject="VPN", description="d", requester=ANA)
    desk.resolve(ticket.id, ADMIN)
    clock.advance(DAY)
    desk.reopen(ticket.id, ADMIN)
    clock.advance(10 * DAY)
    close = states(desk, ticket.id)[Target.CLOSE_WITHIN]
    assert (close.running, close.elapsed, close.breached) == (False, DAY, False)


def test_a_new_resolution_starts_the_close_within_clock_again(
    desk: Helpdesk, clock: ManualClock
) -> None:
    ticket = desk.open(subject="VPN", description="d", requester=ANA)
    desk.resolve(ticket.id, ADMIN)
    clock.advance(DAY)
    desk.reopen(ticket.id, ADMIN)
    clock.advance(DAY)
    resolved = desk.resolve(ticket.id, ADMIN)
    clock.advance(HOUR)
    close = states(desk, ticket.id)[Target.CLOSE_WITHIN]
    assert (close.started_at, close.elapsed, close.running) == (resolved.updated_at, HOUR, True)


def test_each_state_names_the_policy_it_was_measured_against(
    desk: Helpdesk, clock: ManualClock
) -> None:
    ticket = desk.open(subject="VPN", description="d", requester=ANA)
    clock.advance(HOUR)
    assert {state.policy for state in desk.sla(ticket.id)} == {"every_target"}


def test_a_clock_that_has_not_started_names_its_policy_too(desk: Helpdesk) -> None:
    ticket = desk.open(subject="VPN", description="d", requester=ANA)
    close = states(desk, ticket.id)[Target.CLOSE_WITHIN]
    assert (close.started_at, close.policy) == (None, "every_target")


def test_an_empty_history_is_refused_with_what_was_expected() -> None:
    with pytest.raises(InvalidInput, match="history must be at least the 'create' event"):
        sla_states(EVERY_TARGET, Workflow.default(), [], START)


def test_a_clock_at_exactly_its_target_is_due_now_not_yet_breached(clock: ManualClock) -> None:
    policy = SLAPolicy("p", first_response=HOUR)
    desk = Helpdesk(clock=clock, sla_policies=[policy], rules=())
    ticket = desk.open(subject="VPN", description="d", requester=ANA)
    clock.advance(HOUR)
    (first,) = desk.sla(ticket.id)
    assert (first.running, first.breached, first.due_at) == (True, False, clock.now())
    assert desk.queue()[0].due_at == clock.now()


_INSTANTS = st.none() | st.datetimes(
    min_value=datetime(2000, 1, 1),  # noqa: DTZ001 - Hypothesis takes naive bounds
    max_value=datetime(2100, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)
_SPANS = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400))


@given(
    target=st.sampled_from(Target),
    instants=st.tuples(_INSTANTS, _INSTANTS, _INSTANTS, _INSTANTS),
    spans=st.tuples(_SPANS, _SPANS, _SPANS),
    flags=st.tuples(st.booleans(), st.booleans(), st.booleans()),
    with_run=st.booleans(),
)
def test_the_readings_builder_makes_what_the_constructor_makes(
    target: Target,
    instants: tuple[datetime | None, ...],
    spans: tuple[timedelta, ...],
    flags: tuple[bool, bool, bool],
    with_run: bool,
) -> None:
    started, due, breached_at, breach = instants
    run = (START, spans[2]) if with_run else None
    values = (target, started, due, spans[0], spans[1], *flags, breached_at, "p")
    built = _built(*values, run, breach)
    made = SLAState(*values, run=run, breach=breach)
    assert type(built) is SLAState
    assert built == made
    assert hash(built) == hash(made)
    assert repr(built) == repr(made)
    assert (built._run, built._breach) == (made._run, made._breach)
    assert attrs.asdict(built) == attrs.asdict(made)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        built.elapsed = timedelta(0)  # type: ignore[misc]
