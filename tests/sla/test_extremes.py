"""Long targets, sparse calendars and extreme values: computed, or refused as bad input."""

from __future__ import annotations

from datetime import time, timedelta

from support import ANA, START

from ticketflow import Helpdesk, ManualClock
from ticketflow.sla import Calendar, SLAPolicy, Target

TWO_HOURS_A_WEEK = Calendar.business("Europe/Riga", {2: [(time(10), time(12))]})


def test_a_30_day_target_on_a_calendar_open_two_hours_a_week_is_measured() -> None:
    clock = ManualClock(START)
    slow = SLAPolicy("slow", resolution=timedelta(days=30), calendar=TWO_HOURS_A_WEEK)
    desk = Helpdesk(clock=clock, sla_policies=[slow], rules=())
    ticket = desk.open(subject="Archive", description="Someday.", requester=ANA)
    clock.advance(timedelta(days=8))  # one Wednesday, two hours, has passed
    (resolution,) = desk.sla(ticket.id)
    assert resolution.target is Target.RESOLUTION
    assert resolution.elapsed == timedelta(hours=2)
    assert resolution.due_at == TWO_HOURS_A_WEEK.due_at(START, timedelta(days=30))
    (entry,) = desk.queue()
    assert entry.due_at == resolution.due_at
    (figures,) = desk.metrics().tickets
    assert figures.sla_elapsed[Target.RESOLUTION] == timedelta(hours=2)
