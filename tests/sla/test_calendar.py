"""Business-hours calendars: worked examples, and the laws by Hypothesis."""

from __future__ import annotations

import contextlib
import os
import time as clock_time
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ticketflow import InvalidInput
from ticketflow.sla import Calendar, Shift

RIGA = Calendar.business("Europe/Riga", weekdays=("09:00", "18:00"))
NIGHTS = Calendar.business(
    "America/New_York",
    {day: [(time(8, 0), time(12, 0)), (time(13, 0), time(17, 0)), (time(22, 0), time(6, 0))]
     for day in range(6)},
    holidays={date(2026, 11, 26), date(2026, 12, 25)},
)  # fmt: skip
ALWAYS = Calendar.always()
UNTIL_MIDNIGHT = Calendar.business("Asia/Kolkata", weekdays=("09:00", "24:00"))
SPRING_GAP = Calendar.business(
    "Europe/Riga",
    {6: [(time(3, 30), time(5, 0)), (time(4, 15), time(6, 0))]},
)
"""Sundays only: on 29 March 2026 Riga skips 03:00-04:00, so the first shift,
moved on to open at 04:30, opens after the second one."""
SPARSE = Calendar.business("Europe/Riga", {2: [(time(10), time(12))]})
"""Two hours a week, Wednesdays: a 20-day duration takes five years and more."""
CALENDARS = [RIGA, NIGHTS, ALWAYS, UNTIL_MIDNIGHT, SPRING_GAP, SPARSE]


def riga(*args: int) -> datetime:
    from zoneinfo import ZoneInfo  # noqa: PLC0415

    return datetime(*args, tzinfo=ZoneInfo("Europe/Riga"))  # type: ignore[misc]


# -- worked examples ---------------------------------------------------------------


def test_a_friday_1730_ticket_with_4_business_hours_is_due_monday_1230_in_riga() -> None:
    due = RIGA.due_at(riga(2026, 3, 13, 17, 30), timedelta(hours=4))
    assert due == riga(2026, 3, 16, 12, 30)


def test_business_hours_across_the_spring_forward_weekend_in_riga() -> None:
    # Riga moves to summer time on Sunday 29 March 2026; Friday's clock is +02:00,
    # Monday's +03:00: nine business hours are still Friday 09:00-18:00.
    friday, monday = riga(2026, 3, 27, 9, 0), riga(2026, 3, 30, 9, 0)
    assert RIGA.elapsed(friday, monday) == timedelta(hours=9)
    assert RIGA.due_at(riga(2026, 3, 27, 17, 0), timedelta(hours=2)) == riga(2026, 3, 30, 10, 0)


def test_a_shift_that_crosses_midnight_counts_on_both_days() -> None:
    from zoneinfo import ZoneInfo  # noqa: PLC0415

    ny = ZoneInfo("America/New_York")
    monday_night = datetime(2026, 11, 23, 21, 0, tzinfo=ny)
    tuesday_morning = datetime(2026, 11, 24, 7, 0, tzinfo=ny)
    assert NIGHTS.elapsed(monday_night, tuesday_morning) == timedelta(hours=8)
    assert NIGHTS.is_open(datetime(2026, 11, 24, 2, 0, tzinfo=ny))
    assert not NIGHTS.is_open(datetime(2026, 11, 24, 12, 30, tzinfo=ny))  # the lunch break


def test_a_holiday_closes_its_whole_local_date_even_for_the_night_shift_before_it() -> None:
    from zoneinfo import ZoneInfo  # noqa: PLC0415

    ny = ZoneInfo("America/New_York")
    wednesday_night = datetime(2026, 11, 25, 22, 0, tzinfo=ny)
    thanksgiving = datetime(2026, 11, 26, 0, 0, tzinfo=ny)
    friday_morning = datetime(2026, 11, 27, 7, 0, tzinfo=ny)
    # Wednesday's night shift stops at Thanksgiving's midnight (it used to run
    # on to 06:00), and Thanksgiving's own shifts, its night shift included, do
    # not start.
    assert NIGHTS.elapsed(wednesday_night, friday_morning) == timedelta(hours=2)
    assert NIGHTS.is_open(thanksgiving - timedelta(microseconds=1))
    assert not NIGHTS.is_open(thanksgiving)
    assert not NIGHTS.is_open(datetime(2026, 11, 27, 2, 0, tzinfo=ny))
    assert NIGHTS.next_open(thanksgiving) == datetime(2026, 11, 27, 8, 0, tzinfo=ny)
    assert NIGHTS.due_at(wednesday_night, timedelta(hours=3)) == datetime(
        2026, 11, 27, 9, 0, tzinfo=ny
    )


def test_always_counts_every_microsecond() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert ALWAYS.elapsed(start, start + timedelta(days=3, microseconds=7)) == timedelta(
        days=3, microseconds=7
    )
    assert ALWAYS.due_at(start, timedelta(hours=5)) == start + timedelta(hours=5)


def test_bad_calendars_are_refused_with_what_was_expected() -> None:
    with pytest.raises(InvalidInput, match="an IANA time zone name"):
        Calendar.business("Mars/Olympus", weekdays=("09:00", "17:00"))
    with pytest.raises(InvalidInput, match="at least one shift in the week"):
        Calendar.business("UTC", {0: []})
    with pytest.raises(InvalidInput, match="a weekday, 0 \\(Monday\\) to 6"):
        Calendar.business("UTC", {7: [(time(9), time(17))]})
    with pytest.raises(InvalidInput, match="a naive time of day"):
        Shift(time(9, tzinfo=UTC), time(17))
    with pytest.raises(InvalidInput, match="duration must be a timedelta, zero or more"):
        RIGA.due_at(riga(2026, 1, 5, 9, 0), timedelta(hours=-1))


def test_a_weekday_shift_may_end_at_2400_which_is_midnight() -> None:
    from zoneinfo import ZoneInfo  # noqa: PLC0415

    kolkata = ZoneInfo("Asia/Kolkata")
    monday, tuesday = datetime(2026, 1, 5, tzinfo=kolkata), datetime(2026, 1, 6, tzinfo=kolkata)
    assert UNTIL_MIDNIGHT.elapsed(monday, tuesday) == timedelta(hours=15)
    assert UNTIL_MIDNIGHT.is_open(tuesday - timedelta(microseconds=1))
    assert not UNTIL_MIDNIGHT.is_open(tuesday)


def test_a_weekday_shift_from_0000_to_2400_is_the_whole_day() -> None:
    whole_days = Calendar.business("UTC", weekdays=("00:00", "24:00"))
    monday = datetime(2026, 1, 5, tzinfo=UTC)
    assert whole_days.elapsed(monday, monday + timedelta(days=7)) == timedelta(days=5)


@pytest.mark.parametrize(
    ("weekdays", "field", "expected"),
    [
        (("9:00", "17:00"), "weekdays[0]", '"HH:MM", "00:00" to "23:59"'),
        (("24:00", "17:00"), "weekdays[0]", '"HH:MM", "00:00" to "23:59"'),
        (("09:00", "25:00"), "weekdays[1]", '"HH:MM", "00:00" to "24:00"'),
        (("09:00", "17:00:00"), "weekdays[1]", '"HH:MM", "00:00" to "24:00"'),
        (("09:00", "5pm"), "weekdays[1]", '"HH:MM", "00:00" to "24:00"'),
        ((9, 17), "weekdays[0]", '"HH:MM", "00:00" to "23:59"'),
        (("09:00",), "weekdays", 'a pair of local times ("HH:MM", "HH:MM")'),
        ("09:00-17:00", "weekdays", 'a pair of local times ("HH:MM", "HH:MM")'),
    ],
)
def test_a_malformed_weekday_time_is_refused_naming_the_field_and_the_format(
    weekdays: object, field: str, expected: str
) -> None:
    with pytest.raises(InvalidInput, match="must be") as refused:
        Calendar.business("UTC", weekdays=weekdays)  # type: ignore[arg-type]
    assert refused.value.field == field
    assert expected in refused.value.expected


def test_a_shift_that_is_not_a_pair_of_times_is_refused() -> None:
    with pytest.raises(InvalidInput, match=r"hours\[0\] must be a Shift or a \(start, end\) pair"):
        Calendar.business("UTC", {0: [(time(9), time(12), time(17))]})  # type: ignore[list-item]


NINE_TO_FIVE = [(time(9), time(17))]


@pytest.mark.parametrize(
    ("arguments", "field", "expected"),
    [
        ({"weekdays": ("9am", "6pm")}, "weekdays[0]", 'a local time "HH:MM"'),
        ({"weekdays": ("25:00", "18:00")}, "weekdays[0]", 'a local time "HH:MM"'),
        ({"weekdays": ("09:00",)}, "weekdays", 'a pair of local times ("HH:MM", "HH:MM")'),
        ({"weekdays": None}, "hours", "either hours= or weekdays="),
        ({"hours": {0: NINE_TO_FIVE}, "weekdays": ("09:00", "17:00")}, "hours", "either hours="),
        ({"hours": [NINE_TO_FIVE]}, "hours", "a mapping of weekdays"),
        ({"hours": {7: NINE_TO_FIVE}}, "hours", "a weekday, 0 (Monday) to 6 (Sunday)"),
        ({"hours": {-1: NINE_TO_FIVE}}, "hours", "a weekday, 0 (Monday) to 6 (Sunday)"),
        ({"hours": {"mon": NINE_TO_FIVE}}, "hours", "a weekday, 0 (Monday) to 6 (Sunday)"),
        ({"hours": {1.0: NINE_TO_FIVE}}, "hours", "a weekday, 0 (Monday) to 6 (Sunday)"),
        ({"hours": {True: NINE_TO_FIVE}}, "hours", "a weekday, 0 (Monday) to 6 (Sunday)"),
        ({"hours": {0: 5}}, "hours[0]", "a list of shifts"),
        ({"hours": {0: "09:00-17:00"}}, "hours[0]", "a list of shifts"),
        ({"hours": {0: Shift(time(9), time(17))}}, "hours[0]", "a list of shifts"),
        ({"hours": {0: [(time(9),)]}}, "hours[0]", "a (start, end) pair of naive datetime.time"),
        ({"hours": {0: [("09:00", "17:00")]}}, "hours[0]", "a (start, end) pair"),
        ({"hours": {0: [(time(9, tzinfo=UTC), time(17))]}}, "hours[0]", "naive datetime.time"),
        ({"hours": {0: []}}, "hours", "at least one shift in the week"),
        ({"weekdays": ("09:00", "17:00"), "holidays": date(2026, 12, 25)}, "holidays",
         "a collection of dates"),
        ({"weekdays": ("09:00", "17:00"), "holidays": "2026-12-25"}, "holidays",
         "a collection of dates"),
        ({"weekdays": ("09:00", "17:00"), "holidays": 20261225}, "holidays",
         "a collection of dates"),
        ({"weekdays": ("09:00", "17:00"), "holidays": ["2026-12-25"]}, "holidays",
         "dates (datetime.date, not datetime)"),
        ({"weekdays": ("09:00", "17:00"), "holidays": [datetime(2026, 12, 25, tzinfo=UTC)]},
         "holidays", "dates (datetime.date, not datetime)"),
        ({"weekdays": ("09:00", "17:00"), "holidays": [[date(2026, 12, 25)]]}, "holidays",
         "dates (datetime.date, not datetime)"),
        ({"weekdays": ("09:00", "17:00"), "name": 5}, "name", "a non-empty string"),
        ({"weekdays": ("09:00", "17:00"), "name": ""}, "name", "a non-empty string"),
    ],
)  # fmt: skip
def test_a_malformed_business_calendar_is_refused_naming_the_argument_and_its_form(
    arguments: dict[str, object], field: str, expected: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        Calendar.business("Europe/Riga", **arguments)  # type: ignore[arg-type]
    assert refused.value.field == field
    assert expected in refused.value.expected


@pytest.mark.parametrize(
    "zone", [None, 5, b"UTC", "", "Mars/Olympus", "Europe", "../UTC", "/etc/localtime", "a" * 300]
)
def test_a_zone_that_is_not_a_known_iana_name_is_refused(zone: object) -> None:
    with pytest.raises(InvalidInput, match="an IANA time zone name") as refused:
        Calendar.business(zone, weekdays=("09:00", "17:00"))  # type: ignore[arg-type]
    assert refused.value.field == "zone"


def test_a_calendar_built_directly_checks_its_fields_as_business_does() -> None:
    from zoneinfo import ZoneInfo  # noqa: PLC0415

    riga = ZoneInfo("Europe/Riga")
    built = Calendar(riga, {0: NINE_TO_FIVE}, [date(2026, 1, 1)], "office")
    assert built == Calendar.business(riga, {0: NINE_TO_FIVE}, holidays={date(2026, 1, 1)},
                                      name="office")  # fmt: skip
    assert built.hours == {0: (Shift(time(9), time(17)),)}
    with pytest.raises(InvalidInput, match="zone must be given with hours"):
        Calendar(riga)
    with pytest.raises(InvalidInput, match="zone must be given with hours"):
        Calendar(None, {0: NINE_TO_FIVE})
    with pytest.raises(InvalidInput, match="zone must be an IANA"):
        Calendar("x", {0: NINE_TO_FIVE})
    with pytest.raises(InvalidInput, match="holidays must be a collection of dates"):
        Calendar(riga, {0: NINE_TO_FIVE}, date(2026, 1, 1))  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="name must be a non-empty string"):
        Calendar(name=None)  # type: ignore[arg-type]


def test_holidays_may_be_any_collection_of_dates_such_as_a_generator() -> None:
    days = (date(2026, 12, day) for day in (24, 25))
    calendar = Calendar.business("UTC", weekdays=("09:00", "17:00"), holidays=days)
    assert calendar.holidays == {date(2026, 12, 24), date(2026, 12, 25)}


def test_shifts_that_a_daylight_saving_gap_puts_out_of_order_count_once() -> None:
    sunday = riga(2026, 3, 29, 0, 0)
    # 03:30 does not exist: the first shift opens at 04:30 (01:30 UTC), the
    # second at 04:15 (01:15 UTC); together they are open 04:15-06:00.
    assert SPRING_GAP.elapsed(sunday, sunday + timedelta(days=1)) == timedelta(minutes=105)


def test_a_30_day_duration_on_a_calendar_open_two_hours_a_week_is_computed() -> None:
    start = riga(2026, 1, 5, 9, 0)
    due = SPARSE.due_at(start, timedelta(days=30))
    # 360 Wednesdays of two hours: the last from 10:00 to 12:00 on 24 November 2032
    assert due == riga(2032, 11, 24, 12, 0)
    assert SPARSE.elapsed(start, due) == timedelta(days=30)
    assert SPARSE.elapsed(start, due - timedelta(microseconds=1)) < timedelta(days=30)


def test_holidays_push_a_long_duration_on_by_the_shifts_they_cancel() -> None:
    wednesdays = {date(2027, 1, 6) + timedelta(weeks=week) for week in range(52)}
    closed_2027 = Calendar.business("Europe/Riga", SPARSE.hours, holidays=wednesdays)
    start = riga(2026, 1, 5, 9, 0)
    due = closed_2027.due_at(start, timedelta(days=30))
    assert due == riga(2033, 11, 23, 12, 0)  # 52 Wednesdays later
    assert closed_2027.elapsed(start, due) == timedelta(days=30)


def test_due_at_finds_a_shift_that_a_daylight_saving_gap_opens_first() -> None:
    # 03:30 does not exist on 29 March 2026: that shift opens at 04:30, after
    # the 04:15 shift, which is walked second but opens first.
    sunday = riga(2026, 3, 29, 0, 0)
    assert SPRING_GAP.due_at(sunday, timedelta(minutes=10)) == riga(2026, 3, 29, 4, 25)


@pytest.mark.parametrize(
    ("calendar", "week"),
    [
        (ALWAYS, timedelta(days=7)),
        (RIGA, timedelta(hours=45)),
        (SPRING_GAP, timedelta(hours=2, minutes=30)),  # 03:30-05:00 and 04:15-06:00 overlap
        (NIGHTS, timedelta(hours=6 * 16)),
        (UNTIL_MIDNIGHT, timedelta(hours=5 * 15)),
        (Calendar.business("UTC", {6: [(time(22), time(6))], 0: [(time(5), time(7))]}),
         timedelta(hours=9)),  # Sunday night runs on into Monday's shift
        (Calendar.business("UTC", {0: [(time(9), time(9))]}), timedelta(days=1)),
    ],
)  # fmt: skip
def test_open_per_week_is_the_time_a_week_of_shifts_is_open_overlaps_counted_once(
    calendar: Calendar, week: timedelta
) -> None:
    assert calendar.open_per_week == week


FIRST = datetime(1, 1, 8, tzinfo=UTC)
LAST = datetime(9999, 12, 24, tzinfo=UTC)
BEGINNING, END = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)


def test_business_hours_are_placed_from_0001_01_08_to_9999_12_24_utc() -> None:
    assert RIGA.elapsed(FIRST, FIRST + timedelta(days=7)) == timedelta(hours=45)
    assert RIGA.elapsed(LAST - timedelta(days=7), LAST) == timedelta(hours=45)
    assert RIGA.due_at(LAST - timedelta(days=7), timedelta(hours=45)) == riga(9999, 12, 23, 18, 0)
    for outside in (BEGINNING, FIRST - timedelta(microseconds=1), LAST + timedelta(microseconds=1),
                    END):  # fmt: skip
        with pytest.raises(InvalidInput, match="from 0001-01-08 to 9999-12-24 UTC") as refused:
            RIGA.elapsed(outside, riga(2026, 1, 5, 9, 0))
        assert refused.value.field == "start"
        with pytest.raises(InvalidInput, match="instant must be an aware datetime from 0001"):
            RIGA.is_open(outside)
        with pytest.raises(InvalidInput, match="end must be an aware datetime from 0001"):
            RIGA.intervals(riga(2026, 1, 5, 9, 0), outside)
        with pytest.raises(InvalidInput, match="start must be an aware datetime from 0001"):
            RIGA.due_at(outside, timedelta(hours=1))


def test_the_always_calendar_counts_from_one_end_of_datetime_to_the_other() -> None:
    assert ALWAYS.elapsed(BEGINNING, END) == END - BEGINNING
    assert ALWAYS.elapsed(END, BEGINNING) == BEGINNING - END
    assert ALWAYS.is_open(END)
    assert list(ALWAYS.intervals(BEGINNING, END)) == [(BEGINNING, END)]
    assert ALWAYS.due_at(BEGINNING, END - BEGINNING) == END


def test_a_due_instant_past_the_last_the_calendar_can_place_is_refused_as_input() -> None:
    start = riga(2026, 1, 5, 9, 0)
    with pytest.raises(InvalidInput, match=r"falls due by 9999-12-31T23:59:59\.999999") as refused:
        ALWAYS.due_at(start, timedelta.max)
    assert refused.value.field == "duration"
    with pytest.raises(InvalidInput, match="falls due by 9999-12-24T00:00:00"):
        RIGA.due_at(start, timedelta.max)
    with pytest.raises(InvalidInput, match="falls due by 9999-12-24T00:00:00"):
        SPARSE.due_at(start, timedelta(days=10**6))  # 84 million years of Wednesdays
    last_week = LAST - timedelta(days=7)
    with pytest.raises(InvalidInput, match="falls due by 9999-12-24T00:00:00"):
        RIGA.due_at(last_week, timedelta(hours=45, microseconds=1))


def test_past_a_daylight_saving_gap_due_at_sorts_and_refuses_alike_at_the_end() -> None:
    # Riga skips 03:00-04:00 on Sunday 28 March 9999 too, so SPRING_GAP's
    # shifts open out of order that day, and due_at sorts them from there on.
    march = riga(9999, 3, 20, 0, 0)
    left = SPRING_GAP.elapsed(march, LAST)
    assert left == timedelta(days=4, hours=4, minutes=15)
    due = SPRING_GAP.due_at(march, left)
    assert SPRING_GAP.elapsed(march, due) == left
    assert due <= LAST
    with pytest.raises(InvalidInput, match="falls due by 9999-12-24T00:00:00"):
        SPRING_GAP.due_at(march, left + timedelta(microseconds=1))


def test_a_shift_of_a_day_at_an_end_of_datetime_is_refused_as_input() -> None:
    from zoneinfo import ZoneInfo  # noqa: PLC0415

    night = Shift(time(22), time(6))
    assert night.on(date(2026, 1, 5), ZoneInfo("UTC")) == (
        datetime(2026, 1, 5, 22, tzinfo=UTC),
        datetime(2026, 1, 6, 6, tzinfo=UTC),
    )
    with pytest.raises(InvalidInput, match="day must be a day whose shift UTC can represent"):
        night.on(date.max, ZoneInfo("UTC"))
    with pytest.raises(InvalidInput, match=r"day must be a datetime\.date"):
        night.on("2026-01-05", ZoneInfo("UTC"))  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match=r"zone must be a zoneinfo\.ZoneInfo"):
        night.on(date(2026, 1, 5), "UTC")  # type: ignore[arg-type]


# -- the laws ------------------------------------------------------------------------

EARLIEST = datetime(2025, 12, 20)  # noqa: DTZ001 - hypothesis takes naive bounds
LATEST = datetime(2027, 1, 10)  # noqa: DTZ001 - and applies the time zone given
instants = st.datetimes(EARLIEST, LATEST, timezones=st.just(UTC))
durations = st.timedeltas(timedelta(0), timedelta(days=20))
calendars = st.sampled_from(CALENDARS)


@given(calendars, instants, durations)
def test_business_time_is_the_length_of_the_open_intervals_joined(
    calendar: Calendar, start: datetime, duration: timedelta
) -> None:
    end = start + duration
    joined: list[tuple[datetime, datetime]] = []
    for low, high in sorted(calendar.intervals(start, end)):
        if joined and low <= joined[-1][1]:
            joined[-1] = (joined[-1][0], max(joined[-1][1], high))
        else:
            joined.append((low, high))
    assert calendar.elapsed(start, end) == sum((high - low for low, high in joined), timedelta(0))


@given(calendars, instants, instants, instants)
def test_business_time_is_additive(
    calendar: Calendar, a: datetime, b: datetime, c: datetime
) -> None:
    a, b, c = sorted((a, b, c))
    assert calendar.elapsed(a, c) == calendar.elapsed(a, b) + calendar.elapsed(b, c)
    assert calendar.elapsed(c, a) == -calendar.elapsed(a, c)


@given(calendars, instants, durations)
def test_due_at_is_the_inverse_of_elapsed_and_the_earliest_such_instant(
    calendar: Calendar, start: datetime, duration: timedelta
) -> None:
    due = calendar.due_at(start, duration)
    assert calendar.elapsed(start, due) == duration
    if duration > timedelta(0):
        assert calendar.elapsed(start, due - timedelta(microseconds=1)) < duration


@given(calendars, instants)
def test_next_open_is_the_instant_if_open_else_the_first_open_instant_after_it(
    calendar: Calendar, start: datetime
) -> None:
    opens = calendar.next_open(start)
    if calendar.is_open(start):
        assert opens == start
    else:
        assert opens > start
        assert calendar.is_open(opens)
        assert calendar.elapsed(start, opens) == timedelta(0)
        assert not calendar.is_open(opens - timedelta(microseconds=1))


def test_next_open_refuses_what_it_cannot_answer() -> None:
    riga = Calendar.business("Europe/Riga", weekdays=("09:00", "18:00"))
    with pytest.raises(InvalidInput, match="instant must be an aware datetime"):
        riga.next_open(datetime(2026, 3, 13, 17))  # noqa: DTZ001 - naive on purpose
    with pytest.raises(InvalidInput, match="opens again before 9999-12-24"):
        riga.next_open(datetime(9999, 12, 23, 20, tzinfo=UTC))
    assert Calendar.always().next_open(datetime(2026, 3, 13, 17, tzinfo=UTC)).hour == 17


@contextlib.contextmanager
def host_zone(name: str) -> Iterator[None]:
    """Run as if the host's local time zone were ``name``."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = name
    clock_time.tzset()
    try:
        yield
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        clock_time.tzset()


@given(calendars, instants, durations)
def test_results_do_not_depend_on_the_hosts_local_time_zone(
    calendar: Calendar, start: datetime, duration: timedelta
) -> None:
    answers = []
    for zone in ("UTC", "Asia/Kolkata", "America/Los_Angeles"):
        with host_zone(zone):
            due = calendar.due_at(start, duration)
            answers.append((due, calendar.elapsed(start, due), calendar.is_open(start)))
    assert answers[0] == answers[1] == answers[2]


def test_country_holidays_close_a_business_calendar_on_public_holidays() -> None:
    from ticketflow.sla import country_holidays  # noqa: PLC0415

    latvia = country_holidays("LV", [2026])
    assert date(2026, 11, 18) in latvia  # Proclamation Day
    riga_office = Calendar.business("Europe/Riga", weekdays=("09:00", "18:00"), holidays=latvia)
    assert not riga_office.is_open(riga(2026, 11, 18, 12, 0))
    assert riga_office.is_open(riga(2026, 11, 19, 12, 0))
    with pytest.raises(InvalidInput, match="an ISO country code"):
        country_holidays("Atlantis", [2026])


@pytest.mark.parametrize(
    ("arguments", "field", "expected"),
    [
        ({"country": 5, "years": [2026]}, "country", "an ISO country code (a str)"),
        ({"country": "Atlantis", "years": [2026]}, "country", "an ISO country code the"),
        ({"country": "LV", "years": 2026}, "years", "a collection of years"),
        ({"country": "LV", "years": "2026"}, "years", "a collection of years"),
        ({"country": "LV", "years": None}, "years", "a collection of years"),
        ({"country": "LV", "years": ["2026"]}, "years", "whole years (int) from 1 to 9999"),
        ({"country": "LV", "years": [2026.5]}, "years", "whole years (int) from 1 to 9999"),
        ({"country": "LV", "years": [True]}, "years", "whole years (int) from 1 to 9999"),
        ({"country": "LV", "years": [10_000]}, "years", "whole years (int) from 1 to 9999"),
        ({"country": "US", "years": [2026], "subdivision": 5}, "subdivision", "None or a"),
        ({"country": "US", "years": [2026], "subdivision": "ZZ"}, "subdivision",
         "a subdivision of 'US' the holidays package knows, such as 'AK'"),
        ({"country": "LV", "years": [2026], "subdivision": "ZZ"}, "subdivision",
         "(it knows none here: None)"),
    ],
)  # fmt: skip
def test_country_holidays_refuses_malformed_arguments_naming_each(
    arguments: dict[str, object], field: str, expected: str
) -> None:
    from ticketflow.sla import country_holidays  # noqa: PLC0415

    with pytest.raises(InvalidInput) as refused:
        country_holidays(**arguments)  # type: ignore[arg-type]
    assert refused.value.field == field
    assert expected in refused.value.expected
