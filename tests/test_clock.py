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


def test_the_system_clock_is_aware_utc_and_both_clocks_meet_the_protocol() -> None:
    now = SystemClock().now()
    assert now.tzinfo is UTC
    assert isinstance(SystemClock(), Clock)
    assert isinstance(ManualClock(START), Clock)
