"""Metrics from history: hand-built histories, hand-computed figures."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from support import AGENT, ANA, CUSTOMER

from ticketflow import Helpdesk, ManualClock
from ticketflow.cli import main
from ticketflow.sla import Calendar, SLAPolicy, Target
from ticketflow.storage import TicketQuery

HOUR = timedelta(hours=1)


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
    report = desk.metrics()
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
        "replies",
        "reopened",
    ]
    assert "by priority" in out
