"""Where ticketflow's time comes from: the Clock protocol and its two clocks.

Every timestamp ticketflow records comes from the clock a Helpdesk was given,
so a host's tests and simulations control time completely with ``ManualClock``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

from ticketflow._errors import InvalidInput
from ticketflow._validate import to_utc

_LATEST = datetime.max.replace(tzinfo=UTC)


@runtime_checkable
class Clock(Protocol):
    """What a Helpdesk asks for the time; hosts may supply their own.

    Contract: ``now()`` returns an aware datetime, and successive calls never go
    backwards.  Any timezone is accepted; ticketflow converts to UTC.
    """

    def now(self) -> datetime:
        """Return the current time as an aware datetime."""
        ...


class SystemClock:
    """The real time, in UTC, from the operating system.

    >>> SystemClock().now().tzinfo
    datetime.timezone.utc
    """

    def now(self) -> datetime:
        """Return the current UTC time."""
        return datetime.now(UTC)

    def __repr__(self) -> str:
        return "SystemClock()"


class ManualClock:
    """A clock that moves only when told to, and only forwards.

    Args:
        start: the time the clock shows first; must be aware.

    It stops at the end of ``datetime`` (9999-12-31 23:59:59.999999 UTC): a
    move past it is refused, and the clock stays where it was.

    >>> clock = ManualClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
    >>> clock.advance(timedelta(days=7))
    datetime.datetime(2026, 1, 12, 9, 0, tzinfo=datetime.timezone.utc)
    >>> clock.advance(timedelta(seconds=-1))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ticketflow._errors.InvalidInput: delta must be zero or positive (a clock never goes ...
    """

    def __init__(self, start: datetime) -> None:
        self._now = to_utc(start, "start")

    def now(self) -> datetime:
        """Return the time the clock shows."""
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward by ``delta`` and return the new time.

        Raises:
            InvalidInput: ``delta`` is negative or not a timedelta, or would
                move the clock past the end of ``datetime``.
        """
        if not isinstance(delta, timedelta) or delta < timedelta(0):
            raise InvalidInput("delta", delta, "zero or positive (a clock never goes backwards)")
        room = _LATEST - self._now
        if delta > room:
            raise InvalidInput(
                "delta", delta, f"at most {room} (the clock cannot pass {_LATEST.isoformat()})"
            )
        self._now += delta
        return self._now

    def set(self, when: datetime) -> datetime:
        """Move the clock forward to ``when`` and return it.

        Raises:
            InvalidInput: ``when`` is naive, earlier than the time shown, or
                not representable in UTC.
        """
        target = to_utc(when, "when")
        if target < self._now:
            raise InvalidInput(
                "when", when, f"at or after {self._now.isoformat()} (a clock never goes backwards)"
            )
        self._now = target
        return self._now

    def __repr__(self) -> str:
        return f"ManualClock({self._now.isoformat()!r})"
