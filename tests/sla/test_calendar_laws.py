"""The calendar laws over random calendars, against a day-by-day model of them.

The calendars (``ticketflow.testing.business_calendars``) have split and
night shifts, holidays on dates and every year, half days and days worked,
in zones with and without daylight saving, with dates drawn around the
changes.  The model below reads a calendar's fields the plain way, one local
date at a time, without the calendar's own walk: what it says the open time
is, and which days are working days, the calendar must agree with.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import attrs
from hypothesis import given
from hypothesis import strategies as st

from ticketflow.sla import Calendar
from ticketflow.testing import business_calendars

TICK = timedelta(microseconds=1)
DAY = timedelta(days=1)
EARLIEST = datetime(2025, 12, 20)  # noqa: DTZ001 - hypothesis takes naive bounds
LATEST = datetime(2027, 1, 10)  # noqa: DTZ001 - and applies the time zone given
instants = st.datetimes(EARLIEST, LATEST, timezones=st.just(UTC))
durations = st.timedeltas(timedelta(0), timedelta(days=12))
Interval = tuple[datetime, datetime]


# -- the model -------------------------------------------------------------------------


def zone_of(calendar: Calendar) -> ZoneInfo:
    assert calendar.zone is not None
    return calendar.zone


def is_holiday(calendar: Calendar, day: date) -> bool:
    """A holiday on the date or every year, unless ``dates`` works it."""
    if day in calendar.dates:
        return False
    return day in calendar.holidays or any(
        holiday.on(day.year) == day for holiday in calendar.yearly_holidays
    )


def shifts_of(calendar: Calendar, day: date) -> list[tuple[time, time]]:
    """The local shifts written for ``day``: its own, none on a holiday, else its weekday's."""
    assert calendar.hours is not None
    if day in calendar.dates:
        return [(shift.start, shift.end) for shift in calendar.dates[day]]
    if is_holiday(calendar, day):
        return []
    return [(shift.start, shift.end) for shift in calendar.hours.get(day.weekday(), ())]  # type: ignore[call-overload]


def utc(day: date, moment: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, moment, tzinfo=zone).astimezone(UTC)


def day_intervals(calendar: Calendar, day: date) -> list[Interval]:
    """The shifts that start on ``day`` in UTC; a holiday next day stops them at its midnight."""
    zone = zone_of(calendar)
    found = []
    for start, end in shifts_of(calendar, day):
        opens = utc(day, start, zone)
        closes = utc(day if end > start else day + DAY, end, zone)
        if end <= start and is_holiday(calendar, day + DAY):
            closes = min(closes, utc(day + DAY, time(0), zone))
        if opens < closes:
            found.append((opens, closes))
    return found


def open_intervals(calendar: Calendar, first: date, last: date) -> list[Interval]:
    """The open time of the shifts starting from ``first`` to ``last``, joined and in order."""
    spans = []
    day = first
    while day <= last:
        spans += day_intervals(calendar, day)
        day += DAY
    joined: list[Interval] = []
    for low, high in sorted(spans):
        if joined and low <= joined[-1][1]:
            joined[-1] = (joined[-1][0], max(joined[-1][1], high))
        else:
            joined.append((low, high))
    return joined


def local_date(calendar: Calendar, instant: datetime) -> date:
    return instant.astimezone(zone_of(calendar)).date()


def model_elapsed(calendar: Calendar, start: datetime, end: datetime) -> timedelta:
    first = local_date(calendar, start) - DAY
    last = local_date(calendar, end)
    total = timedelta(0)
    for opens, closes in open_intervals(calendar, first, last):
        low, high = max(opens, start), min(closes, end)
        if low < high:
            total += high - low
    return total


def working_day_after(calendar: Calendar, day: date, count: int) -> date:
    while count:
        day += DAY
        if day_intervals(calendar, day):
            count -= 1
    return day


def earliest_as_far(calendar: Calendar, start: datetime, target: datetime) -> datetime:
    """The earliest instant with as much open time since ``start`` as ``target``."""
    spans = open_intervals(
        calendar, local_date(calendar, start) - DAY, local_date(calendar, target)
    )
    if any(low < target <= high for low, high in spans):
        return target
    return max(high for _low, high in spans if start < high <= target)


def special_days(calendar: Calendar) -> list[date]:
    """The dates that differ from their weekday, and the days around them."""
    days = {*calendar.holidays, *calendar.dates}
    for holiday in calendar.yearly_holidays:
        days |= {found for year in (2026, 2027) if (found := holiday.on(year)) is not None}
    return sorted(day + offset * DAY for day in days for offset in (-1, 0, 1))


def near(calendar: Calendar) -> st.SearchStrategy[datetime]:
    """Instants anywhere, and, as often, on or around the calendar's special days."""
    zone = zone_of(calendar)
    days = special_days(calendar)
    if not days:
        return instants
    around = st.builds(
        lambda day, offset: datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC) + offset,
        st.sampled_from(days),
        st.timedeltas(timedelta(0), DAY),
    )
    return st.one_of(instants, around)


# -- the laws --------------------------------------------------------------------------


@given(business_calendars(), st.data(), durations)
def test_elapsed_is_the_open_time_the_day_by_day_model_counts(
    calendar: Calendar, data: st.DataObject, duration: timedelta
) -> None:
    start = data.draw(near(calendar))
    end = start + duration
    assert calendar.elapsed(start, end) == model_elapsed(calendar, start, end)


@given(business_calendars(), st.data())
def test_elapsed_is_additive_over_adjacent_intervals(
    calendar: Calendar, data: st.DataObject
) -> None:
    a, b, c = sorted(data.draw(near(calendar)) for _ in range(3))
    assert calendar.elapsed(a, c) == calendar.elapsed(a, b) + calendar.elapsed(b, c)


@given(business_calendars(), st.data(), st.timedeltas(timedelta(0), timedelta(days=3)))
def test_due_at_and_elapsed_are_inverse_and_due_at_is_the_earliest(
    calendar: Calendar, data: st.DataObject, duration: timedelta
) -> None:
    start = data.draw(near(calendar))
    due = calendar.due_at(start, duration)
    assert calendar.elapsed(start, due) == duration
    if duration:
        assert calendar.elapsed(start, due - TICK) < duration


@given(business_calendars(), st.data(), durations)
def test_due_at_one_tick_more_is_the_same_remembered_or_walked(
    calendar: Calendar, data: st.DataObject, duration: timedelta
) -> None:
    # A calendar remembers, beside a due instant, the one a microsecond more
    # falls due at when it can tell without a walk; a fresh copy walks.
    start = data.draw(near(calendar))
    calendar.due_at(start, duration)
    assert calendar.due_at(start, duration + TICK) == attrs.evolve(calendar).due_at(
        start, duration + TICK
    )


@given(business_calendars(), st.data())
def test_next_open_is_open_and_nothing_between_is(calendar: Calendar, data: st.DataObject) -> None:
    start = data.draw(near(calendar))
    opens = calendar.next_open(start)
    assert opens >= start
    assert calendar.is_open(opens)
    assert calendar.elapsed(start, opens) == timedelta(0)
    assert opens == start or not calendar.is_open(opens - TICK)


@given(business_calendars(), st.data())
def test_a_working_day_is_a_date_the_model_opens_on(
    calendar: Calendar, data: st.DataObject
) -> None:
    days = st.dates(EARLIEST.date(), LATEST.date())
    special = special_days(calendar)
    day = data.draw(st.one_of(days, st.sampled_from(special)) if special else days)
    assert calendar.is_working_day(day) == bool(day_intervals(calendar, day))


@given(business_calendars(), st.data(), st.integers(1, 5))
def test_business_days_are_due_where_the_day_by_day_model_says(
    calendar: Calendar, data: st.DataObject, days: int
) -> None:
    start = data.draw(near(calendar))
    opens = calendar.next_open(start)
    local = opens.astimezone(zone_of(calendar))
    day = working_day_after(calendar, local.date(), days)
    nominal = utc(day, local.time(), zone_of(calendar))
    due = calendar.business_days_after(start, days)
    assert due == earliest_as_far(calendar, start, nominal)
    assert calendar.elapsed(start, due) == model_elapsed(calendar, start, nominal)


@given(business_calendars(), st.data(), st.integers(0, 4))
def test_the_end_of_a_working_day_is_where_the_day_by_day_model_says(
    calendar: Calendar, data: st.DataObject, days: int
) -> None:
    start = data.draw(near(calendar))
    opens = calendar.next_open(start)
    day = local_date(calendar, opens) - DAY  # a night shift begun the day before runs on
    while not any(closes > opens for _low, closes in day_intervals(calendar, day)):
        day += DAY
    counted = [day] + [working_day_after(calendar, day, count) for count in range(1, days + 1)]
    due = calendar.end_of_working_day(start, days)
    # The end of the last day counted, unless an earlier one's shift ends later.
    assert due == max(closes for day in counted for _low, closes in day_intervals(calendar, day))
    assert calendar.elapsed(start, due) > timedelta(0)
    assert calendar.is_open(due - TICK)


@given(business_calendars(), instants, st.integers(1, 4))
def test_more_working_days_are_never_due_sooner(
    calendar: Calendar, start: datetime, days: int
) -> None:
    assert calendar.business_days_after(start, days) <= calendar.business_days_after(
        start, days + 1
    )
    # Not always later: a day's shift may end with the night shift of the day before.
    assert calendar.end_of_working_day(start, days - 1) <= calendar.end_of_working_day(start, days)


@given(business_calendars(), st.data())
def test_a_calendar_that_walked_before_answers_as_the_model_does(
    calendar: Calendar, data: st.DataObject
) -> None:
    # One calendar asked again and again, as a desk's commits ask it: what it
    # remembers (answers, the last opening it counted in) changes no answer.
    for _ in range(6):
        start = data.draw(near(calendar))
        end = start + data.draw(st.timedeltas(timedelta(0), timedelta(days=2)))
        assert calendar.elapsed(start, end) == model_elapsed(calendar, start, end)
        # ... and a later read of the same run, which often lies in that opening.
        later = end + data.draw(st.timedeltas(timedelta(0), timedelta(hours=2)))
        assert calendar.elapsed(end, later) == model_elapsed(calendar, end, later)
        duration = data.draw(st.timedeltas(timedelta(0), timedelta(hours=30)))
        assert calendar.due_at(start, duration) == attrs.evolve(calendar).due_at(start, duration)
