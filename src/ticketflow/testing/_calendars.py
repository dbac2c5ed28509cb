"""A Hypothesis strategy for random business calendars: what the calendar laws are tried on."""

from __future__ import annotations

from datetime import date, time, timedelta

from hypothesis import strategies as st

from ticketflow.sla._calendar import Calendar, YearlyHoliday

ZONES = (
    "UTC",
    "Europe/Riga",
    "America/New_York",
    "Australia/Sydney",
    "Asia/Kolkata",
    "America/Santiago",
    "Pacific/Chatham",
)
"""No daylight saving (UTC, Kolkata's half hour), northern and southern
changes at 02:00-04:00 (Riga, New York, Sydney), a change at midnight
(Santiago), and a change at 02:45 in a zone 12:45 ahead (Chatham)."""

CHANGES = (
    date(2026, 3, 8),  # New York springs forward
    date(2026, 3, 29),  # Riga springs forward
    date(2026, 4, 5),  # Sydney, Chatham and Santiago fall back
    date(2026, 9, 6),  # Santiago springs forward, at midnight
    date(2026, 9, 27),  # Chatham springs forward
    date(2026, 10, 4),  # Sydney springs forward
    date(2026, 10, 25),  # Riga falls back
    date(2026, 11, 1),  # New York falls back
)
"""Dates of 2026 on which the clocks of :data:`ZONES` change: shifts, holidays
and dates worked are drawn on and around them."""

FIRST_DAY, LAST_DAY = date(2025, 12, 15), date(2027, 1, 20)
"""The dates holidays and dates worked are drawn from."""

_times = st.builds(
    time, st.integers(0, 23), st.sampled_from((0, 15, 30, 45))
)  # a grid, so shifts meet and overlap often
_shift = st.tuples(_times, _times)  # an end not after the start runs past midnight
_day = st.one_of(
    st.dates(FIRST_DAY, LAST_DAY),
    st.builds(
        lambda change, offset: change + timedelta(days=offset),
        st.sampled_from(CHANGES),
        st.integers(-1, 1),
    ),
)


@st.composite
def business_calendars(draw: st.DrawFn) -> Calendar:
    """Random business calendars: split and night shifts, holidays, half days, days worked.

    Weekly hours of up to three shifts a day on a quarter-hour grid (so
    shifts meet, overlap, and run past midnight), in a zone with or without
    daylight saving; holidays on single dates and every year; dates with
    hours of their own (a half day, a Saturday worked); dates drawn on and
    around the 2026 daylight-saving changes of :data:`ZONES`.
    """
    zone = draw(st.sampled_from(ZONES))
    week = draw(
        st.dictionaries(st.integers(0, 6), st.lists(_shift, min_size=1, max_size=3), min_size=1)
    )
    holidays = draw(st.frozensets(_day, max_size=6))
    yearly = draw(
        st.frozensets(st.builds(YearlyHoliday, st.integers(1, 12), st.integers(1, 28)), max_size=3)
    )
    worked = draw(
        st.dictionaries(
            _day.filter(lambda day: day not in holidays),
            st.lists(_shift, min_size=1, max_size=2),
            max_size=4,
        )
    )
    return Calendar.business(
        zone, week, holidays=[*holidays, *yearly], dates=worked, name="random"
    )
