"""Calendars that contracts need: yearly holidays, half days, days worked, day targets.

Worked cases; the laws over random calendars are in ``test_calendar_laws.py``.
"""

from __future__ import annotations

import pickle
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ticketflow import Actor, Contact, Helpdesk, InvalidInput, ManualClock
from ticketflow.sla import (
    BusinessDays,
    Calendar,
    EndOfWorkingDay,
    SLADueWithin,
    SLAPolicy,
    Target,
    YearlyHoliday,
)
from ticketflow.storage import TicketQuery
from ticketflow.testing import business_calendars

RIGA = ZoneInfo("Europe/Riga")
NEW_YORK = ZoneInfo("America/New_York")
OFFICE = Calendar.business("Europe/Riga", weekdays=("09:00", "18:00"))
ANA = Contact(name="Ana Ozola", email="ana@example.com")


def riga(*args: int) -> datetime:
    return datetime(*args, tzinfo=RIGA)  # type: ignore[misc]


def new_york(*args: int) -> datetime:
    return datetime(*args, tzinfo=NEW_YORK)  # type: ignore[misc]


# -- holidays every year, half days, days worked -------------------------------------


def test_a_yearly_holiday_closes_its_date_every_year() -> None:
    christmas = Calendar.business(
        "Europe/Riga", weekdays=("09:00", "18:00"), holidays=[YearlyHoliday(12, 25)]
    )
    for year in (2026, 2030, 2041):  # a Friday, a Wednesday, a Wednesday
        assert not christmas.is_working_day(date(year, 12, 25))
        assert christmas.is_working_day(date(year, 12, 24))
    assert christmas.yearly_holidays == {YearlyHoliday(12, 25)}
    assert christmas.holidays == frozenset()


def test_a_yearly_holiday_on_february_29_falls_in_leap_years_only() -> None:
    leap = YearlyHoliday(2, 29)
    assert leap.on(2028) == date(2028, 2, 29)
    assert leap.on(2027) is None
    calendar = Calendar.business("UTC", weekdays=("09:00", "17:00"), holidays=[leap])
    assert not calendar.is_working_day(date(2028, 2, 29))  # a Tuesday
    assert calendar.is_working_day(date(2027, 3, 1))


@pytest.mark.parametrize(
    ("month", "day", "field"),
    [
        (13, 1, "YearlyHoliday.month"),
        (0, 1, "YearlyHoliday.month"),
        (2, 30, "YearlyHoliday.day"),
        (4, 31, "YearlyHoliday.day"),
        (12, 0, "YearlyHoliday.day"),
        ("12", 25, "YearlyHoliday"),
        (12, True, "YearlyHoliday"),
    ],
)
def test_a_yearly_holiday_on_a_day_no_year_has_is_refused(
    month: object, day: object, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        YearlyHoliday(month, day)  # type: ignore[arg-type]
    assert refused.value.field == field


def test_a_yearly_holiday_refuses_a_year_it_cannot_place() -> None:
    with pytest.raises(InvalidInput, match="a whole year"):
        YearlyHoliday(12, 25).on(10_000)


def test_a_half_day_has_its_own_shorter_hours() -> None:
    eve = Calendar.business(
        "Europe/Riga",
        weekdays=("09:00", "18:00"),
        dates={date(2026, 12, 24): [(time(9), time(13))]},
    )
    assert eve.elapsed(riga(2026, 12, 24, 0, 0), riga(2026, 12, 25, 0, 0)) == timedelta(hours=4)
    assert eve.due_at(riga(2026, 12, 23, 17, 0), timedelta(hours=2)) == riga(2026, 12, 24, 10, 0)
    assert not eve.is_open(riga(2026, 12, 24, 14, 0))


def test_a_saturday_worked_in_exchange_for_a_bridge_day() -> None:
    # Thanksgiving is a Thursday; the Friday after is given off, and the
    # Saturday before is worked instead.
    swapped = Calendar.business(
        "America/New_York",
        weekdays=("09:00", "17:00"),
        holidays={date(2026, 11, 26), date(2026, 11, 27)},
        dates={date(2026, 11, 21): [(time(9), time(17))]},
    )
    week = swapped.elapsed(new_york(2026, 11, 21, 0, 0), new_york(2026, 11, 28, 0, 0))
    assert week == timedelta(hours=4 * 8)  # Saturday, and Monday to Wednesday
    assert swapped.is_working_day(date(2026, 11, 21))
    assert not swapped.is_working_day(date(2026, 11, 27))
    friday_evening = new_york(2026, 11, 20, 16, 0)
    assert swapped.due_at(friday_evening, timedelta(hours=2)) == new_york(2026, 11, 21, 10, 0)


def test_a_date_worked_takes_precedence_over_a_yearly_holiday() -> None:
    # Christmas is a holiday every year, but in 2026 the office works a half day.
    calendar = Calendar.business(
        "Europe/Riga",
        weekdays=("09:00", "18:00"),
        holidays=[YearlyHoliday(12, 25)],
        dates={date(2026, 12, 25): [(time(10), time(12))]},
    )
    assert calendar.elapsed(riga(2026, 12, 25, 0, 0), riga(2026, 12, 26, 0, 0)) == timedelta(
        hours=2
    )
    assert not calendar.is_working_day(date(2029, 12, 25))


def test_a_night_shift_stops_at_the_midnight_of_a_yearly_holiday() -> None:
    nights = Calendar.business(
        "UTC", {day: [(time(22), time(6))] for day in range(7)}, holidays=[YearlyHoliday(1, 1)]
    )
    eve = datetime(2026, 12, 31, 22, 0, tzinfo=UTC)
    # New Year's Eve's shift stops at midnight, and none starts on New Year's Day.
    assert nights.elapsed(eve, datetime(2027, 1, 3, 0, 0, tzinfo=UTC)) == timedelta(hours=2 + 2)
    new_year = datetime(2027, 1, 1, 0, 0, tzinfo=UTC)
    assert nights.next_open(new_year) == datetime(2027, 1, 2, 22, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("arguments", "field", "expected"),
    [
        ({"holidays": {date(2026, 12, 24)}, "dates": {date(2026, 12, 24): [(time(9), time(13))]}},
         "dates", "worked or closed, not both"),
        ({"dates": {date(2026, 12, 24): []}}, "dates[2026-12-24]", "at least one shift"),
        ({"dates": {date(2026, 12, 24): "09:00-13:00"}}, "dates[2026-12-24]", "a list of shifts"),
        ({"dates": {date(2026, 12, 24): [("09:00", "13:00")]}}, "dates[2026-12-24]",
         "naive datetime.time"),
        ({"dates": {"2026-12-24": [(time(9), time(13))]}}, "dates", "dates (datetime.date"),
        ({"dates": [date(2026, 12, 24)]}, "dates", "a mapping of dates to shifts"),
        ({"holidays": [YearlyHoliday(12, 25), "12-25"]}, "holidays", "dates (datetime.date"),
        ({"holidays": YearlyHoliday(12, 25)}, "holidays", "a collection of dates"),
    ],
)  # fmt: skip
def test_malformed_dates_and_holidays_are_refused_naming_the_argument(
    arguments: dict[str, object], field: str, expected: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        Calendar.business("Europe/Riga", weekdays=("09:00", "18:00"), **arguments)  # type: ignore[arg-type]
    assert refused.value.field == field
    assert expected in refused.value.expected


def test_holidays_every_day_of_the_year_are_refused() -> None:
    every_day = {YearlyHoliday(day.month, day.day) for day in _days_of(2028)}
    with pytest.raises(InvalidInput, match="so that the calendar ever opens"):
        Calendar.business("UTC", weekdays=("09:00", "17:00"), holidays=every_day)


def _days_of(year: int) -> list[date]:
    first = date(year, 1, 1)
    return [first + timedelta(days=offset) for offset in range(366 if year % 4 == 0 else 365)]


def test_a_calendar_built_directly_takes_yearly_holidays_apart_from_dates() -> None:
    riga = ZoneInfo("Europe/Riga")
    week = {0: [(time(9), time(17))]}
    built = Calendar(
        riga, week, {date(2026, 1, 1)}, "office", yearly_holidays=[YearlyHoliday(6, 24)]
    )
    assert built == Calendar.business(
        riga, week, holidays=[date(2026, 1, 1), YearlyHoliday(6, 24)], name="office"
    )
    with pytest.raises(InvalidInput, match="a YearlyHoliday goes in Calendar") as refused:
        Calendar(riga, week, [YearlyHoliday(6, 24)])
    assert refused.value.field == "holidays"
    with pytest.raises(InvalidInput, match="a collection of YearlyHoliday values"):
        Calendar(riga, week, yearly_holidays=[date(2026, 6, 24)])  # type: ignore[list-item]


def test_an_always_open_calendar_has_no_days_off_or_dates_worked() -> None:
    with pytest.raises(InvalidInput, match="given with business hours only"):
        Calendar(yearly_holidays={YearlyHoliday(12, 25)})
    with pytest.raises(InvalidInput, match="given with business hours only"):
        Calendar(dates={date(2026, 12, 24): [(time(9), time(13))]})
    assert Calendar.always().is_working_day(date(2026, 12, 25))
    assert Calendar.always().working_days_per_week == 7


# -- business days and the end of a working day ----------------------------------------


def test_three_business_days_from_friday_afternoon_are_due_wednesday_at_the_same_time() -> None:
    assert OFFICE.business_days_after(riga(2026, 3, 13, 14, 0), 3) == riga(2026, 3, 18, 14, 0)


def test_business_days_from_a_closed_instant_count_from_the_next_opening() -> None:
    # Saturday: the clock starts on Monday at 09:00, and one day of it ends
    # on Tuesday at 09:00, that is at Monday's close, with no open time between.
    saturday = riga(2026, 3, 14, 11, 0)
    assert OFFICE.business_days_after(saturday, 1) == riga(2026, 3, 16, 18, 0)
    assert OFFICE.elapsed(saturday, riga(2026, 3, 16, 18, 0)) == timedelta(hours=9)


def test_business_days_ending_on_a_half_day_after_hours_end_at_its_close() -> None:
    eve = Calendar.business(
        "Europe/Riga",
        weekdays=("09:00", "18:00"),
        holidays={date(2026, 12, 25)},
        dates={date(2026, 12, 24): [(time(9), time(13))]},
    )
    start = riga(2026, 12, 23, 15, 0)
    assert eve.business_days_after(start, 1) == riga(2026, 12, 24, 13, 0)
    assert eve.business_days_after(start, 2) == riga(2026, 12, 28, 15, 0)  # Christmas skipped


def test_business_days_keep_the_local_time_across_a_daylight_saving_change() -> None:
    # Riga moves to summer time on Sunday 29 March 2026.
    assert OFFICE.business_days_after(riga(2026, 3, 27, 10, 0), 1) == riga(2026, 3, 30, 10, 0)


def test_zero_business_days_are_due_at_once_and_always_open_counts_whole_days() -> None:
    start = datetime(2026, 3, 14, 11, 0, tzinfo=UTC)
    assert OFFICE.business_days_after(start, 0) == start
    assert Calendar.always().business_days_after(start, 3) == start + timedelta(days=3)


def test_the_end_of_the_working_day_and_of_the_next() -> None:
    friday = riga(2026, 3, 13, 14, 0)
    assert OFFICE.end_of_working_day(friday) == riga(2026, 3, 13, 18, 0)
    assert OFFICE.end_of_working_day(friday, 1) == riga(2026, 3, 16, 18, 0)
    after_hours = riga(2026, 3, 13, 19, 0)  # the clock starts on Monday
    assert OFFICE.end_of_working_day(after_hours) == riga(2026, 3, 16, 18, 0)


def test_a_night_shift_belongs_to_the_working_day_it_began_on() -> None:
    nights = Calendar.business(
        "America/New_York", {day: [(time(8), time(12)), (time(22), time(6))] for day in range(5)}
    )
    tuesday_small_hours = new_york(2026, 11, 24, 2, 0)  # in Monday's night shift
    assert nights.end_of_working_day(tuesday_small_hours) == new_york(2026, 11, 24, 6, 0)
    assert nights.end_of_working_day(tuesday_small_hours, 1) == new_york(2026, 11, 25, 6, 0)


def test_the_end_of_a_working_day_when_always_open_is_utc_midnight() -> None:
    start = datetime(2026, 3, 13, 14, 0, tzinfo=UTC)
    assert Calendar.always().end_of_working_day(start, 1) == datetime(2026, 3, 15, tzinfo=UTC)


@pytest.mark.parametrize("days", [-1, True, 1.5, "3", None])
def test_a_number_of_days_that_is_not_a_whole_number_is_refused(days: object) -> None:
    start = riga(2026, 3, 13, 14, 0)
    with pytest.raises(InvalidInput, match="a whole number of working days") as refused:
        OFFICE.business_days_after(start, days)  # type: ignore[arg-type]
    assert refused.value.field == "days"
    with pytest.raises(InvalidInput, match="a whole number of working days"):
        OFFICE.end_of_working_day(start, days)  # type: ignore[arg-type]


def test_working_days_past_the_last_instant_a_calendar_can_place_are_refused() -> None:
    late = datetime(9999, 12, 20, tzinfo=UTC)
    for calendar in (OFFICE, Calendar.always()):
        with pytest.raises(InvalidInput, match="working days that end by 9999-12"):
            calendar.business_days_after(late, 30)
        with pytest.raises(InvalidInput, match="working days that end by 9999-12"):
            calendar.end_of_working_day(late, 10**9)
    with pytest.raises(InvalidInput, match=r"a datetime\.date"):
        OFFICE.is_working_day(datetime(2026, 3, 13, tzinfo=UTC))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "field"),
    [
        (lambda: BusinessDays(0), "BusinessDays.days"),
        (lambda: BusinessDays(36526), "BusinessDays.days"),
        (lambda: BusinessDays("3"), "BusinessDays.days"),
        (lambda: EndOfWorkingDay(-1), "EndOfWorkingDay.days"),
        (lambda: EndOfWorkingDay(True), "EndOfWorkingDay.days"),
    ],
)
def test_a_day_target_that_is_not_a_whole_number_of_days_in_range_is_refused(
    value: object, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        value()  # type: ignore[operator]
    assert refused.value.field == field


def test_a_day_target_longer_than_a_century_of_working_days_is_refused() -> None:
    wednesdays = Calendar.business("Europe/Riga", {2: [(time(10), time(12))]})
    assert wednesdays.working_days_per_week == 1
    SLAPolicy("ok", resolution=BusinessDays(5217), calendar=wednesdays)
    with pytest.raises(InvalidInput, match="at most 5217 working days") as refused:
        SLAPolicy("long", resolution=BusinessDays(5218), calendar=wednesdays)
    assert refused.value.field == "SLAPolicy.resolution"


# -- day targets on SLA clocks ---------------------------------------------------------


def contract() -> tuple[Helpdesk, ManualClock]:
    clock = ManualClock(riga(2026, 3, 13, 14, 0))  # a Friday
    policy = SLAPolicy(
        "contract",
        first_response=EndOfWorkingDay(1),
        resolution=BusinessDays(3),
        calendar=OFFICE,
    )
    return Helpdesk(clock=clock, sla_policies=[policy], rules=()), clock


def test_day_targets_fall_due_where_the_calendar_says() -> None:
    desk, _clock = contract()
    ticket = desk.open(subject="Invoice", description="Twice.", requester=ANA)
    first, resolution = desk.sla(ticket.id)
    assert first.due_at == riga(2026, 3, 16, 18, 0)  # the end of the next working day
    assert first.remaining == timedelta(hours=4 + 9)
    assert resolution.due_at == riga(2026, 3, 18, 14, 0)  # three working days on
    assert resolution.remaining == timedelta(hours=27)


def test_a_day_target_is_met_or_breached_like_any_other() -> None:
    desk, clock = contract()
    ticket = desk.open(subject="Invoice", description="Twice.", requester=ANA)
    clock.set(riga(2026, 3, 16, 17, 0))
    desk.reply(ticket.id, Actor.agent("a-1"), "Looking.")
    clock.set(riga(2026, 3, 18, 15, 0))
    first, resolution = desk.sla(ticket.id)
    assert first.met
    assert not first.breached
    assert resolution.breached
    assert resolution.breached_at == riga(2026, 3, 18, 14, 0)
    assert resolution.remaining == -timedelta(hours=1)


def test_time_on_hold_moves_a_day_targets_due_instant_on_by_as_much() -> None:
    desk, clock = contract()
    ticket = desk.open(subject="Invoice", description="Twice.", requester=ANA)
    clock.set(riga(2026, 3, 16, 10, 0))
    desk.postpone(ticket.id, Actor.agent("a-1"), until=riga(2026, 3, 16, 12, 0))
    clock.set(riga(2026, 3, 16, 12, 0))
    desk.wake(ticket.id, Actor.agent("a-1"))
    resolution = desk.sla(ticket.id)[-1]
    assert resolution.due_at == riga(2026, 3, 18, 16, 0)  # two business hours on hold


def test_the_budget_of_a_day_target_depends_on_when_the_clock_starts() -> None:
    policy = SLAPolicy("contract", resolution=BusinessDays(1), calendar=OFFICE)
    assert policy.budget(Target.RESOLUTION, riga(2026, 3, 13, 14, 0)) == timedelta(hours=9)
    assert policy.budget(Target.RESOLUTION, riga(2026, 3, 13, 17, 0)) == timedelta(hours=9)
    assert policy.budget(Target.FIRST_RESPONSE, riga(2026, 3, 13, 14, 0)) is None
    hours = SLAPolicy("hours", resolution=timedelta(hours=5), calendar=OFFICE)
    assert hours.budget(Target.RESOLUTION, riga(2026, 3, 13, 14, 0)) == timedelta(hours=5)


def test_sla_conditions_tell_when_a_day_target_comes_due() -> None:
    desk, _clock = contract()
    ticket = desk.open(subject="Invoice", description="Twice.", requester=ANA)
    soon = SLADueWithin(timedelta(hours=1), target=Target.RESOLUTION)
    assert soon.when(desk.context(ticket.id)) == riga(2026, 3, 18, 13, 0)


def test_metrics_count_a_day_targets_clock_and_its_compliance() -> None:
    desk, clock = contract()
    ticket = desk.open(subject="Invoice", description="Twice.", requester=ANA)
    clock.set(riga(2026, 3, 16, 11, 0))
    desk.reply(ticket.id, Actor.agent("a-1"), "Fixed.")
    desk.resolve(ticket.id, Actor.admin("ad-1"))
    report = desk.metrics(per_ticket=True)
    (figures,) = report.tickets
    assert figures.sla_elapsed[Target.RESOLUTION] == timedelta(hours=4 + 2)
    assert dict(report.overall.compliance) == {Target.FIRST_RESPONSE: 1.0, Target.RESOLUTION: 1.0}
    assert desk.metrics().overall == report.overall  # the same, from the stored figures


def test_a_calendar_with_holidays_and_dates_worked_pickles_for_worker_processes() -> None:
    calendar = Calendar.business(
        "Europe/Riga",
        weekdays=("09:00", "18:00"),
        holidays=[YearlyHoliday(12, 25)],
        dates={date(2026, 12, 24): [(time(9), time(13))]},
    )
    assert calendar.is_working_day(date(2026, 12, 24))  # a calendar keeps the days walked
    copy = pickle.loads(pickle.dumps(calendar))  # noqa: S301 - our own value
    assert copy == calendar
    assert not copy.is_working_day(date(2026, 12, 25))


TICK = timedelta(microseconds=1)
DAY_TARGETS = st.sampled_from(
    [BusinessDays(1), BusinessDays(3), EndOfWorkingDay(), EndOfWorkingDay(1)]
)


@given(
    business_calendars(),
    st.datetimes(datetime(2026, 1, 1), datetime(2026, 12, 1), timezones=st.just(UTC)),  # noqa: DTZ001
    DAY_TARGETS,
)
def test_a_day_targets_clock_falls_due_at_the_targets_instant_and_breaches_just_after(
    calendar: Calendar, opened: datetime, target: BusinessDays | EndOfWorkingDay
) -> None:
    clock = ManualClock(opened)
    policy = SLAPolicy("days", resolution=target, calendar=calendar)
    desk = Helpdesk(clock=clock, sla_policies=[policy], rules=())
    ticket = desk.open(subject="Printer", description="Jammed.", requester=ANA)
    due = target.due(calendar, opened)
    (state,) = desk.sla(ticket.id)
    assert state.due_at == due
    assert state.elapsed + state.remaining == target.budget(calendar, opened)
    clock.set(due)
    (state,) = desk.sla(ticket.id)
    assert (state.remaining, state.breached, state.due_at) == (timedelta(0), False, due)
    clock.set(calendar.due_at(due, TICK))  # the next microsecond of open time
    (state,) = desk.sla(ticket.id)
    assert state.breached
    assert state.breached_at == due


@pytest.mark.parametrize("target", [BusinessDays(10), EndOfWorkingDay(5)])
def test_a_day_target_due_past_the_end_of_time_is_refused_as_input_when_measured(
    target: BusinessDays | EndOfWorkingDay,
) -> None:
    clock = ManualClock(datetime(9999, 12, 20, tzinfo=UTC))
    policy = SLAPolicy("p", resolution=target, calendar=OFFICE)
    # Each commit keeps the ticket's clocks (and, with the SLA rules, its
    # schedule): the opening is refused, and nothing is stored.
    for desk in (
        Helpdesk(clock=clock, sla_policies=[policy], rules=()),
        Helpdesk(clock=clock, sla_policies=[policy]),
    ):
        with pytest.raises(InvalidInput, match="working days that end by 9999-12-24") as refused:
            desk.open(subject="Late", description="Very.", requester=ANA)
        assert refused.value.field == "days"
        assert desk.store.query(TicketQuery()) == []


def test_a_policy_names_each_targets_promise_and_calendar_and_refuses_what_is_no_target() -> None:
    policy = SLAPolicy(
        "office",
        first_response=timedelta(hours=4),
        resolution=BusinessDays(3),
        calendar=OFFICE,
        calendars={"first_response": Calendar.always()},
    )
    friday = datetime(2026, 3, 13, 10, tzinfo=UTC)
    assert policy.calendar_for(Target.FIRST_RESPONSE) == Calendar.always()
    assert policy.calendar_for(Target.RESOLUTION) is OFFICE
    assert policy.target(Target.RESOLUTION) == BusinessDays(3)
    assert policy.target(Target.CLOSE_WITHIN) is None
    assert policy.budget(Target.FIRST_RESPONSE, friday) == timedelta(hours=4)
    assert policy.budget(Target.RESOLUTION, friday) == timedelta(hours=27)
    assert policy.budget(Target.NEXT_RESPONSE, friday) is None
    for method in (policy.calendar_for, policy.target):
        with pytest.raises(InvalidInput, match="a Target: one of 'first_response'"):
            method("first_response")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="target"):
        policy.budget("resolution", friday)  # type: ignore[arg-type]


@given(
    start=st.datetimes(
        min_value=datetime(2026, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
        max_value=datetime(2027, 1, 1),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
    hours=st.integers(0, 200),
)
def test_a_calendar_answers_a_due_instant_it_remembers_as_it_computed_it(
    start: datetime, hours: int
) -> None:
    fresh = Calendar.business("Europe/Riga", weekdays=("09:00", "18:00"))
    first = fresh.due_at(start, timedelta(hours=hours))
    assert fresh.due_at(start, timedelta(hours=hours)) == first  # remembered
    assert fresh.due_at(start.astimezone(RIGA), timedelta(hours=hours)) == first  # same instant
    assert (
        Calendar.business("Europe/Riga", weekdays=("09:00", "18:00")).due_at(
            start, timedelta(hours=hours)
        )
        == first
    )
