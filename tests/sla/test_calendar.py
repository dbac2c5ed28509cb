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
CALENDARS = [RIGA, NIGHTS, ALWAYS]


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


def test_a_holiday_cancels_the_shifts_that_start_on_it() -> None:
    from zoneinfo import ZoneInfo  # noqa: PLC0415

    ny = ZoneInfo("America/New_York")
    wednesday_night = datetime(2026, 11, 25, 22, 0, tzinfo=ny)  # the night shift runs on
    thanksgiving_end = datetime(2026, 11, 27, 0, 0, tzinfo=ny)
    assert NIGHTS.elapsed(wednesday_night, thanksgiving_end) == timedelta(hours=8)


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


# -- the laws ------------------------------------------------------------------------

EARLIEST = datetime(2025, 12, 20)  # noqa: DTZ001 - hypothesis takes naive bounds
LATEST = datetime(2027, 1, 10)  # noqa: DTZ001 - and applies the time zone given
instants = st.datetimes(EARLIEST, LATEST, timezones=st.just(UTC))
durations = st.timedeltas(timedelta(0), timedelta(days=20))
calendars = st.sampled_from(CALENDARS)


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
