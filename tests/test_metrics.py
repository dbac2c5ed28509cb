"""Metrics from history: hand-built histories, hand-computed figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support import ADMIN, AGENT, ANA, CUSTOMER

from ticketflow import Category, Helpdesk, HistoryEvent, ManualClock, TicketMetrics, Workflow
from ticketflow._metrics import ticket_metrics
from ticketflow.cli import main
from ticketflow.sla import Calendar, SLAPolicy, Target
from ticketflow.sla._clocks import sla_states
from ticketflow.storage import TicketQuery
from ticketflow.testing._strategies import calendars, clock_jumps, histories

HOUR = timedelta(hours=1)
WORKFLOWS = (
    Workflow.default(),
    Workflow.default(reopen_on_customer_reply=False),
    Workflow.from_file(Path(__file__).parent.parent / "examples/workflows/it_service_desk.toml"),
)


@pytest.fixture
def desk(clock: ManualClock) -> Helpdesk:
    office = Calendar.business("UTC", weekdays=("09:00", "17:00"))
    policy = SLAPolicy("office", first_response=2 * HOUR, resolution=8 * HOUR, calendar=office)
    return Helpdesk(clock=clock, sla_policies=[policy], rules=())


def test_one_tickets_figures_equal_the_hand_computed_ones(
    desk: Helpdesk, clock: ManualClock
) -> None:
    ticket = desk.open(subject="VPN", description="d", requester=ANA, department="it")
    clock.advance(3 * HOUR)  # Monday 12:00
    desk.reply(ticket.id, AGENT, "Which version?")
    clock.advance(2 * HOUR)
    desk.reply(ticket.id, CUSTOMER, "5.2")
    clock.advance(10 * HOUR)  # Tuesday 00:00
    desk.resolve(ticket.id, CUSTOMER)
    clock.advance(HOUR)
    report = desk.metrics(per_ticket=True)
    (figures,) = report.tickets
    assert figures.first_response == 3 * HOUR
    assert figures.business_first_response == 3 * HOUR
    assert figures.resolution == 15 * HOUR
    assert figures.business_resolution == 8 * HOUR  # Monday 09:00-17:00
    assert (figures.replies, figures.customer_replies, figures.reopens) == (1, 1, 0)
    assert dict(figures.time_in_status) == {
        "new": 3 * HOUR,
        "answered": 2 * HOUR,
        "open": 10 * HOUR,
        "resolved": HOUR,
    }
    assert report.overall.compliance == {Target.FIRST_RESPONSE: 0.0, Target.RESOLUTION: 1.0}


def test_aggregates_and_breakdowns_over_several_tickets(
    desk: Helpdesk, clock: ManualClock
) -> None:
    fast = desk.open(subject="A", description="d", requester=ANA, department="it", tags={"vpn"})
    slow = desk.open(subject="B", description="d", requester=ANA, department="billing")
    clock.advance(HOUR)
    desk.reply(fast.id, AGENT, "Hi")
    clock.advance(2 * HOUR)
    desk.reply(slow.id, AGENT, "Hi")
    desk.resolve(fast.id, CUSTOMER)
    desk.reply(fast.id, CUSTOMER, "Back again")  # a reopen
    report = desk.metrics()
    assert report.overall.tickets == 2
    assert report.overall.median_first_response == 2 * HOUR  # of 1 h and 3 h
    assert report.overall.reopened == 1
    assert set(report.breakdowns["department"]) == {"billing", "it"}
    assert report.breakdowns["department"]["it"].median_first_response == HOUR
    assert report.breakdowns["tag"]["vpn"].tickets == 1
    assert report.breakdowns["tag"]["(untagged)"].tickets == 1
    only_it = desk.metrics(TicketQuery(department="it"))
    assert only_it.overall.tickets == 1
    assert "by department" in report.table()


def test_ticketflow_report_prints_the_table_for_a_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "demo.sqlite3"
    assert main(["demo", "--quiet", "--days", "3", "--db", str(database)]) == 0
    capsys.readouterr()
    assert main(["report", "--db", str(database)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[2].split() == [
        "tickets",
        "1st",
        "resp",
        "resolve",
        "res",
        "clock",
        "replies",
        "reopened",
    ]
    assert "by priority" in out


def riga(hour: int, minute: int = 0) -> datetime:
    """Monday 5 January 2026 at ``hour`` in Riga, as aware UTC."""
    return datetime(2026, 1, 5, hour, minute, tzinfo=ZoneInfo("Europe/Riga")).astimezone(UTC)


@pytest.fixture
def riga_desk() -> Helpdesk:
    """A desk in Riga: the Monday 09:00 ticket is postponed 10:00-14:00 and resolved at 15:00."""
    clock = ManualClock(riga(9))
    office = Calendar.business("Europe/Riga", weekdays=("09:00", "17:00"))
    desk = Helpdesk(
        clock=clock,
        sla_policies=[SLAPolicy("std", resolution=8 * HOUR, calendar=office)],
        rules=(),
    )
    ticket = desk.open(subject="VPN", description="d", requester=ANA)
    clock.set(riga(10))
    desk.postpone(ticket.id, AGENT, until=riga(14))
    clock.set(riga(14))
    desk.wake(ticket.id, AGENT)
    clock.set(riga(15))
    desk.resolve(ticket.id, ADMIN)
    return desk


def riga_figures(desk: Helpdesk) -> TicketMetrics:
    (figures,) = desk.metrics(per_ticket=True).tickets
    return figures


def test_the_sla_resolution_figure_equals_the_resolution_clock_in_riga(
    riga_desk: Helpdesk,
) -> None:
    (clock,) = riga_desk.sla(riga_figures(riga_desk).ticket.id)
    assert clock.elapsed == 2 * HOUR
    assert riga_figures(riga_desk).sla_elapsed[Target.RESOLUTION] == clock.elapsed


def test_the_business_resolution_counts_the_postponed_hours_in_riga(
    riga_desk: Helpdesk,
) -> None:
    figures = riga_figures(riga_desk)
    assert (figures.business_resolution, figures.business_on_hold) == (6 * HOUR, 4 * HOUR)


def test_the_summary_median_of_the_sla_resolution_equals_the_clock_in_riga(
    riga_desk: Helpdesk,
) -> None:
    summary = riga_desk.metrics().overall
    assert (summary.median_resolution, summary.median_sla_resolution) == (6 * HOUR, 2 * HOUR)


def test_time_on_hold_and_waiting_on_the_customer_are_counted_apart(
    desk: Helpdesk, clock: ManualClock
) -> None:
    ticket = desk.open(subject="VPN", description="d", requester=ANA)  # Monday 09:00
    clock.advance(HOUR)
    desk.reply(ticket.id, AGENT, "Which version?")
    clock.advance(2 * HOUR)
    desk.reply(ticket.id, CUSTOMER, "5.2")
    desk.postpone(ticket.id, AGENT, until=clock.now() + 24 * HOUR)
    clock.advance(10 * HOUR)  # postponed 12:00-22:00, five of them office hours
    (figures,) = desk.metrics(per_ticket=True).tickets
    assert (figures.waiting_on_customer, figures.business_waiting_on_customer) == (
        2 * HOUR,
        2 * HOUR,
    )
    assert (figures.on_hold, figures.business_on_hold) == (10 * HOUR, 5 * HOUR)


def test_every_target_has_a_clock_figure_and_one_not_started_counts_zero(
    desk: Helpdesk, clock: ManualClock
) -> None:
    desk.open(subject="VPN", description="d", requester=ANA)
    clock.advance(HOUR)
    (figures,) = desk.metrics(per_ticket=True).tickets
    assert dict(figures.sla_elapsed) == {
        Target.FIRST_RESPONSE: HOUR,
        Target.NEXT_RESPONSE: HOUR,
        Target.RESOLUTION: HOUR,
        Target.CLOSE_WITHIN: timedelta(0),
    }


def test_the_table_has_a_column_for_the_resolution_clock_and_says_what_it_counts(
    riga_desk: Helpdesk,
) -> None:
    lines = riga_desk.metrics().table().splitlines()
    assert lines[2].split()[4:6] == ["res", "clock"]
    assert lines[3].split()[1:5] == ["1", "-", "6.0", "h"]
    assert lines[3].split()[5:7] == ["2.0", "h"]
    assert "res clock: median business time the SLA resolution clock counted" in lines


# -- the metrics agree with the clocks, by Hypothesis ------------------------------------

Life = tuple[Workflow, TicketMetrics, list[HistoryEvent], Calendar, datetime]


@st.composite
def lives(draw: st.DrawFn) -> Life:
    """A random life of a ticket, read at a random later instant on a random calendar."""
    workflow = draw(st.sampled_from(WORKFLOWS))
    life = draw(histories(workflow))
    history = [event for _ticket, event in life]
    calendar = draw(calendars())
    now = history[-1].at + draw(clock_jumps())
    figures = ticket_metrics(life[-1][0], history, workflow, now, calendar)
    return workflow, figures, history, calendar, now


@given(lives(), st.timedeltas(timedelta(minutes=1), timedelta(days=3)))
def test_every_sla_figure_equals_the_elapsed_of_that_targets_clock(
    life: Life, target: timedelta
) -> None:
    workflow, figures, history, calendar, now = life
    policy = SLAPolicy(
        "any",
        first_response=target,
        next_response=target,
        resolution=target,
        close_within=target,
        calendar=calendar,
    )
    clocks = {state.target: state.elapsed for state in sla_states(policy, workflow, history, now)}
    assert dict(figures.sla_elapsed) == clocks


@given(lives())
def test_full_business_resolution_is_the_clock_plus_time_on_hold_when_solved_only_once(
    life: Life,
) -> None:
    workflow, figures, history, _calendar, _now = life
    if figures.business_resolution is None:
        return  # not resolved
    solved = workflow.statuses_in(Category.SOLVED)
    out_of_work = solved | workflow.statuses_in(Category.CLOSED, Category.REMOVED)
    entered = [event.to_status for event in history if event.moved]
    resolution = max(index for index, status in enumerate(entered) if status in solved)
    if any(status in out_of_work for status in entered[:resolution]):
        return  # solved, closed or removed before its resolution: that time is not on hold
    assert figures.business_resolution == (
        figures.sla_elapsed[Target.RESOLUTION] + figures.business_on_hold
    )


@given(lives(), st.timedeltas(timedelta(minutes=1), timedelta(days=3)))
def test_figures_taken_from_the_clocks_equal_figures_counted_from_the_timeline(
    life: Life, target: timedelta
) -> None:
    # Helpdesk.metrics hands ticket_metrics the clocks it measured (states=)
    # rather than counting them again; both ways must give the same figures.
    workflow, figures, history, calendar, now = life
    policy = SLAPolicy("any", first_response=target, resolution=target, calendar=calendar)
    states = sla_states(policy, workflow, history, now)
    ticket = figures.ticket
    assert ticket_metrics(ticket, history, workflow, now, calendar, states=states) == figures


def test_the_report_prints_stored_group_names_escaped(desk: Helpdesk) -> None:
    desk.open(subject="VPN", description="d", requester=ANA, department="bil\nling\x1b[2J")
    table = desk.metrics().table()
    assert "\x1b" not in table
    assert (
        "  bil\\nling\\x1b[2J" in table.splitlines()[table.splitlines().index("by department") + 1]
    )
