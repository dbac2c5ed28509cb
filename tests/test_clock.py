"""Clocks: aware UTC only, and a manual clock that never goes backwards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from support import START

from ticketflow import Clock, InvalidInput, ManualClock, SystemClock


def test_a_manual_clock_shows_its_start_in_utc() -> None:
    riga = timezone(timedelta(hours=2))
    clock = ManualClock(datetime(2026, 1, 5, 11, 0, tzinfo=riga))
    assert clock.now() == START
    assert clock.now().tzinfo is UTC


def test_a_manual_clock_moves_forward_by_advance_and_set() -> None:
    clock = ManualClock(START)
    assert clock.advance(timedelta(hours=2)) == START + timedelta(hours=2)
    assert clock.advance(timedelta(0)) == START + timedelta(hours=2)
    assert clock.set(START + timedelta(days=1)) == clock.now() == START + timedelta(days=1)


def test_a_manual_clock_refuses_to_go_backwards() -> None:
    clock = ManualClock(START)
    with pytest.raises(InvalidInput, match="never goes backwards"):
        clock.advance(timedelta(seconds=-1))
    with pytest.raises(InvalidInput, match="at or after 2026-01-05T09:00:00"):
        clock.set(START - timedelta(microseconds=1))
    assert clock.now() == START


def test_a_manual_clock_refuses_naive_times() -> None:
    with pytest.raises(InvalidInput, match="start must be an aware datetime"):
        ManualClock(datetime(2026, 1, 5))  # noqa: DTZ001 - the point of the test
    with pytest.raises(InvalidInput, match="when must be an aware datetime"):
        ManualClock(START).set(datetime(2026, 1, 6))  # noqa: DTZ001 - the point of the test


def test_advance_refuses_what_is_not_a_timedelta() -> None:
    with pytest.raises(InvalidInput, match="delta"):
        ManualClock(START).advance(3600)  # type: ignore[arg-type]


END_OF_TIME = datetime.max.replace(tzinfo=UTC)


def test_a_manual_clock_refuses_to_pass_the_end_of_datetime_and_stays_where_it_was() -> None:
    clock = ManualClock(START)
    with pytest.raises(InvalidInput, match="delta must be at most 2912438 days") as refused:
        clock.advance(timedelta.max)
    assert "cannot pass 9999-12-31T23:59:59.999999+00:00" in refused.value.expected
    assert clock.now() == START
    assert clock.advance(END_OF_TIME - START) == END_OF_TIME
    with pytest.raises(InvalidInput, match="delta must be at most 0:00:00"):
        clock.advance(timedelta(microseconds=1))
    assert clock.advance(timedelta(0)) == END_OF_TIME


def test_a_time_that_utc_cannot_represent_is_refused_as_input() -> None:
    new_york = timezone(timedelta(hours=-5))
    beyond = datetime.max.replace(tzinfo=new_york)  # 10000-01-01 04:59 UTC
    clock = ManualClock(START)
    with pytest.raises(InvalidInput, match="when must be an aware datetime that UTC can"):
        clock.set(beyond)
    assert clock.now() == START
    with pytest.raises(InvalidInput, match="start must be an aware datetime that UTC can"):
        ManualClock(beyond)
    before = datetime.min.replace(tzinfo=timezone(timedelta(hours=5)))  # 0000-12-31 19:00 UTC
    with pytest.raises(InvalidInput, match="start must be an aware datetime that UTC can"):
        ManualClock(before)


def test_the_system_clock_is_aware_utc_and_both_clocks_meet_the_protocol() -> None:
    now = SystemClock().now()
    assert now.tzinfo is UTC
    assert isinstance(SystemClock(), Clock)
    assert isinstance(ManualClock(START), Clock)
