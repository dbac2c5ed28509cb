"""Long targets, sparse calendars and extreme values: computed, or refused as bad input."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support import ANA, START

from ticketflow import Helpdesk, InvalidInput, ManualClock, TicketflowError
from ticketflow.sla import Calendar, SLAPolicy, Target

TWO_HOURS_A_WEEK = Calendar.business("Europe/Riga", {2: [(time(10), time(12))]})
OFFICE = Calendar.business("Europe/Riga", weekdays=("09:00", "18:00"))
GAPS = Calendar.business(
    "Europe/Riga", {6: [(time(3, 30), time(5, 0)), (time(4, 15), time(6, 0))]}
)  # their openings fall out of order when clocks go forward
CALENDARS = [Calendar.always(), OFFICE, TWO_HOURS_A_WEEK, GAPS]
CENTURY = timedelta(days=36525)


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
    (figures,) = desk.metrics(per_ticket=True).tickets
    assert figures.sla_elapsed[Target.RESOLUTION] == timedelta(hours=2)


def test_a_target_of_timedelta_max_is_refused_when_the_policy_is_built() -> None:
    with pytest.raises(InvalidInput, match="at most 100 years \\(36525 days\\)") as refused:
        SLAPolicy("forever", resolution=timedelta.max)
    assert refused.value.field == "SLA target"
    assert SLAPolicy("century", resolution=CENTURY).resolution == CENTURY
    with pytest.raises(InvalidInput, match="at most 100 years"):
        SLAPolicy("century and a day", resolution=CENTURY + timedelta(microseconds=1))


def test_a_target_is_refused_if_its_calendar_counts_less_in_a_century() -> None:
    longest = timedelta(hours=2) * 36525 // 7  # 434 days and some hours
    assert SLAPolicy("slow", close_within=longest, calendar=TWO_HOURS_A_WEEK).close_within
    with pytest.raises(InvalidInput, match="the open time calendar 'Europe/Riga' counts in 100 "):
        SLAPolicy("slower", close_within=longest * 2, calendar=TWO_HOURS_A_WEEK)
    with pytest.raises(InvalidInput) as refused:
        SLAPolicy("slower", first_response=timedelta(days=500), calendar=TWO_HOURS_A_WEEK)
    assert refused.value.field == "SLAPolicy.first_response"
    assert "(2:00:00 a week)" in refused.value.expected


def test_a_calendar_that_is_not_a_calendar_is_refused_when_the_policy_is_built() -> None:
    with pytest.raises(InvalidInput, match=r"SLAPolicy\.calendar must be a Calendar"):
        SLAPolicy("typo", resolution=timedelta(hours=8), calendar="Europe/Riga")  # type: ignore[arg-type]


def test_at_the_end_of_time_sla_reads_refuse_what_falls_due_after_it() -> None:
    clock = ManualClock(datetime(9999, 12, 20, tzinfo=UTC))
    office = SLAPolicy("office", resolution=timedelta(hours=40), calendar=OFFICE)
    desk = Helpdesk(clock=clock, sla_policies=[office], rules=())
    ticket = desk.open(subject="Y10K", description="Soon.", requester=ANA)
    with pytest.raises(InvalidInput, match="falls due by 9999-12-24T00:00:00"):
        desk.sla(ticket.id)
    with pytest.raises(InvalidInput, match="falls due by 9999-12-24T00:00:00"):
        desk.queue()


# -- only ticketflow's errors escape, at any extreme -------------------------------------

ZONES = st.sampled_from(
    [
        UTC,
        timezone(timedelta(hours=23, minutes=59)),
        timezone(-timedelta(hours=23, minutes=59)),
        ZoneInfo("Europe/Riga"),
        ZoneInfo("Pacific/Kiritimati"),  # UTC+14
        ZoneInfo("Pacific/Pago_Pago"),  # UTC-11
    ]
)
FIRST, LAST = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)
EDGES = [FIRST, FIRST + timedelta(days=7), LAST - timedelta(days=7), LAST]
instants = st.one_of(
    st.datetimes(timezones=ZONES),
    st.builds(lambda edge, zone: edge.replace(tzinfo=zone), st.sampled_from(EDGES), ZONES),
)
timedeltas = st.one_of(
    st.timedeltas(),
    st.sampled_from([timedelta.max, timedelta.min, timedelta(0), timedelta.resolution]),
)
short_durations = st.timedeltas(timedelta(0), timedelta(days=60))
not_times = st.one_of(st.none(), st.integers(), st.text(max_size=3), st.datetimes())
"""Naive datetimes, numbers, text: what a caller may pass by mistake."""


@given(st.sampled_from(CALENDARS), instants, st.one_of(short_durations, timedeltas))
def test_due_at_returns_or_raises_a_ticketflow_error(
    calendar: Calendar, start: datetime, duration: timedelta
) -> None:
    if not calendar.is_always and duration > timedelta(days=60):
        # A long walk answers exactly, in time proportional to the days walked;
        # from near the end of time it is short, and refusals come at once.
        start = max(start, datetime(9990, 1, 1, tzinfo=UTC))
    try:
        due = calendar.due_at(start, duration)
    except TicketflowError:
        return
    assert due >= start
    assert calendar.elapsed(start, due) == duration


@st.composite
def spans(draw: st.DrawFn) -> tuple[datetime, datetime]:
    """Two instants, anywhere, near enough each other for business hours to count quickly."""
    start = draw(instants)
    try:
        end = start + draw(st.timedeltas(-timedelta(days=60), timedelta(days=60)))
    except OverflowError:
        end = start
    return start, end


@given(st.sampled_from(CALENDARS), st.one_of(spans(), st.tuples(instants, not_times)))
def test_elapsed_intervals_and_is_open_return_or_raise_a_ticketflow_error(
    calendar: Calendar, span: tuple[datetime, datetime]
) -> None:
    start, end = span
    for call in (
        lambda: calendar.elapsed(start, end),
        lambda: list(calendar.intervals(start, end)),
        lambda: calendar.is_open(end),
    ):
        with contextlib.suppress(TicketflowError):
            call()


@given(instants, instants)
def test_the_always_calendar_counts_any_span_utc_can_represent(
    start: datetime, end: datetime
) -> None:
    try:
        counted = Calendar.always().elapsed(start, end)
    except TicketflowError:
        with pytest.raises(OverflowError):  # refused only if UTC cannot represent one of them
            _ = (start.astimezone(UTC), end.astimezone(UTC))
    else:
        assert counted == end.astimezone(UTC) - start.astimezone(UTC)


@given(instants, st.one_of(timedeltas, not_times), st.one_of(instants, not_times))
def test_a_manual_clock_moves_or_refuses_and_a_refusal_leaves_it_where_it_was(
    start: datetime, delta: timedelta, when: datetime
) -> None:
    try:
        clock = ManualClock(start)
    except TicketflowError:
        return
    for move in (lambda: clock.advance(delta), lambda: clock.set(when)):
        before = clock.now()
        try:
            after = move()
        except TicketflowError:
            assert clock.now() == before
        else:
            assert after == clock.now() >= before


@given(st.sampled_from(CALENDARS), st.one_of(timedeltas, not_times), st.sampled_from(Target))
def test_an_sla_target_is_accepted_within_a_century_of_open_time_or_refused(
    calendar: Calendar, target: timedelta, which: Target
) -> None:
    try:
        policy = SLAPolicy("fuzzed", calendar=calendar, **{which.value: target})
    except TicketflowError:
        return
    promised = policy.target(which)
    assert promised is None or promised <= calendar.open_per_week * 36525 // 7
