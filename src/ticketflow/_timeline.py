"""What a ticket's history says, read once: status spans, waits, resolutions, clock runs.

The SLA clocks, the queues and the metrics all need the same projections of
a history; they read them from one :class:`Timeline`, so they cannot
disagree about when a ticket waited for a reply, sat paused or was resolved.
Everything here is wall-clock time, intervals ``[start, end)`` of aware UTC
instants; business hours are the callers' concern: they hand each interval
to a calendar, whose elapsed time is additive.

The projections, in words:

* a **span**: the ticket sat in one status from the event that put it there
  to the next event that moved it (or to ``now``);
* a **wait** for a reply: a customer message (``create`` or
  ``customer_reply``) with none waiting already starts one, the next staff
  reply (``agent_reply``) ends it; the first wait ends with the first reply;
* the **resolution**: the latest entry into a ``solved`` status; it
  *stands* while the ticket stays solved or closed, and a reopen undoes it
  (a ticket reopened and then closed without being solved again, as a
  merge closes it, has no resolution that stands);
* the **runs** of a clock: the intervals in which an SLA clock counts.

The SLA clocks start and stop at these:

* **first response**: from creation (the first wait) to the first staff reply;
* **next response**: the latest wait, to the staff reply that ends it;
* **resolution**: from creation to the resolution, if it stands;
* **close within**: from the latest resolution to entering a ``closed`` status.

Between its start and its stop a clock counts only in some statuses.  None
counts in a status flagged ``sla_paused`` (postponed, by default) or in a
``removed`` one (spam, deleted).  The two response clocks count only while
someone on the staff owes a reply: not while the ticket waits on the
customer (``pending``), nor while it is ``solved`` or ``closed``, so a
customer's "thanks" on a resolved ticket starts a wait that runs only if the
ticket is reopened.  The resolution clock never counts time spent solved or
closed: a reopen resumes it.  The close-within clock counts only while the
ticket is solved.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime, timedelta
from typing import NamedTuple

import attrs

from ticketflow._errors import InvalidInput
from ticketflow._history import HistoryEvent
from ticketflow._names import AGENT_REPLY, CREATE, CUSTOMER_REPLY
from ticketflow._status import Category
from ticketflow._validate import to_utc
from ticketflow._workflow import Workflow

Interval = tuple[datetime, datetime]
"""From the first instant (included) to the second (excluded)."""

# The records below are NamedTuples rather than attrs classes: a timeline is
# built for every ticket of a sweep, a queue or a report, and tuples are the
# cheapest values to build and unpack.


class Span(NamedTuple):
    """The ticket sat in ``status`` from ``start`` to ``end``."""

    start: datetime
    end: datetime
    status: str


class Wait(NamedTuple):
    """A customer waited for a staff reply from ``start`` to ``stop`` (None: still waits)."""

    start: datetime
    stop: datetime | None


class Runs(NamedTuple):
    """When one SLA clock ran, as a history tells it.

    Attributes:
        started: when the clock started; None if it has not (close within,
            before any resolution).
        stopped: when it stopped for good; None while it may still run.
        intervals: where it counted, in order, disjoint and never touching.
        running: whether it counts at the timeline's ``now``.
    """

    started: datetime | None
    stopped: datetime | None
    intervals: tuple[Interval, ...]
    running: bool


_NOT_STARTED = Runs(None, None, (), running=False)
_STARTS_A_WAIT = frozenset({CREATE, CUSTOMER_REPLY})


def waits(history: Sequence[HistoryEvent]) -> tuple[Wait, ...]:
    """Every wait for a staff reply in ``history``, in order; the last may be unanswered.

    There is always one: the ticket's creation starts the first.

    Raises:
        InvalidInput: the history is empty or does not start with ``create``.
    """
    if not history:
        raise InvalidInput("history", [], f"at least the {CREATE!r} event")
    if history[0].name != CREATE:
        raise InvalidInput("history", history[0], f"a history that starts with {CREATE!r}")
    found: list[Wait] = []
    since: datetime | None = None
    for event in history:
        name = event.name
        if name == AGENT_REPLY:
            if since is not None:
                found.append(Wait(since, event.at))
                since = None
        elif since is None and name in _STARTS_A_WAIT:
            since = event.at
    if since is not None:
        found.append(Wait(since, None))
    return tuple(found)


class _Rooms(NamedTuple):
    """A workflow's statuses, grouped as the clocks need them."""

    paused: frozenset[str]
    pending: frozenset[str]
    solved: frozenset[str]
    closed: frozenset[str]
    responses_idle: frozenset[str]
    resolution_idle: frozenset[str]
    may_run: frozenset[str]
    """Where some clock can count: the resolution and response clocks outside
    ``resolution_idle``, the close-within clock in solved statuses not paused."""

    @staticmethod
    @functools.lru_cache(maxsize=16)
    def of(workflow: Workflow) -> _Rooms:
        """Group ``workflow``'s statuses; kept, as every ticket of a sweep asks again."""
        paused = workflow.sla_paused
        pending = workflow.statuses_in(Category.PENDING)
        solved = workflow.statuses_in(Category.SOLVED)
        closed = workflow.statuses_in(Category.CLOSED)
        never = paused | solved | closed | workflow.statuses_in(Category.REMOVED)
        may_run = (frozenset(workflow.statuses) - never) | (solved - paused)
        return _Rooms(paused, pending, solved, closed, never | pending, never, may_run)


def clock_statuses(workflow: Workflow) -> frozenset[str]:
    """The statuses of ``workflow`` in which some SLA clock can run (none runs elsewhere)."""
    return _Rooms.of(workflow).may_run


@attrs.frozen
class Timeline:
    """The projections of one ticket's history up to ``now``; build it with :meth:`of`.

    Attributes:
        created: when the ticket was created (its first event).
        now: the instant the timeline is read at (never before the last event).
        status: the ticket's status at ``now``.
        spans: the statuses it sat in, in order, from ``created`` to ``now``
            without gaps; consecutive events that left the status alone make
            one span, and a status passed through in an instant is a span of
            no length.  The last span is the current status.
        waits: every wait for a staff reply, in order (see :func:`waits`).
        resolved_at: the latest entry into a solved status (None: never resolved).
        resolution_stands: whether the ticket has stayed solved or closed
            since ``resolved_at``, so that it is its resolution.
        closed_at: the first entry into a closed status after ``resolved_at``.
    """

    created: datetime
    now: datetime
    status: str
    spans: tuple[Span, ...]
    waits: tuple[Wait, ...]
    resolved_at: datetime | None
    resolution_stands: bool
    closed_at: datetime | None
    _rooms: _Rooms = attrs.field(repr=False)

    @classmethod
    def of(cls, workflow: Workflow, history: Sequence[HistoryEvent], now: datetime) -> Timeline:
        """Read ``history`` (a ticket's events, in order) with ``workflow``'s statuses at ``now``.

        A ``now`` earlier than the last event (clocks of several hosts may
        disagree a little) is read as the instant of the last event.

        Raises:
            InvalidInput: the history is empty or does not start with ``create``,
                or ``now`` is not an aware datetime.
        """
        if not history:
            raise InvalidInput("history", [], f"at least the {CREATE!r} event")
        rooms = _Rooms.of(workflow)
        solved, closed = rooms.solved, rooms.closed
        first = history[0]
        since, status = first.at, first.to_status
        resolved_at = since if status in solved else None
        stands = resolved_at is not None  # solved or closed ever since the resolution
        closed_at = None
        spans: list[Span] = []
        for event in history:
            entered = event.to_status
            if entered == status:
                continue
            spans.append(Span(since, event.at, status))
            since, status = event.at, entered
            if entered in solved:
                resolved_at, closed_at, stands = since, None, True
            elif entered in closed:
                if closed_at is None and resolved_at is not None:
                    closed_at = since
            else:
                stands = False  # reopened: the resolution is undone
        end = max(to_utc(now, "now"), history[-1].at)
        spans.append(Span(since, end, status))
        return cls(
            created=first.at,
            now=end,
            status=status,
            spans=tuple(spans),
            waits=waits(history),
            resolved_at=resolved_at,
            resolution_stands=stands,
            closed_at=closed_at,
            rooms=rooms,
        )

    @property
    def first_reply(self) -> datetime | None:
        """The first staff reply (None: not yet); it ends the first wait."""
        return self.waits[0].stop

    def within(self, statuses: Collection[str]) -> tuple[Interval, ...]:
        """The intervals the ticket spent in any of ``statuses``, joined where they touch."""
        return _joined((span.start, span.end) for span in self.spans if span.status in statuses)

    def time_in_status(self) -> dict[str, timedelta]:
        """Each status the ticket was in and the time it spent there, in order of first visit."""
        spent: dict[str, timedelta] = {}
        for start, end, status in self.spans:
            spent[status] = spent.get(status, timedelta(0)) + (end - start)
        return spent

    def paused(self) -> tuple[Interval, ...]:
        """The intervals spent in statuses that pause SLA clocks (``sla_paused``)."""
        return self.within(self._rooms.paused)

    def waiting_on_customer(self) -> tuple[Interval, ...]:
        """The intervals spent in ``pending`` statuses, waiting on the customer."""
        return self.within(self._rooms.pending)

    # -- the runs of each SLA clock (see the module's docstring for the rules) --

    def first_response(self) -> Runs:
        """The first-response clock: the first wait, in working statuses."""
        start, stop = self.waits[0]
        return self._runs(start, stop, self._rooms.responses_idle)

    def next_response(self) -> Runs:
        """The next-response clock: the latest wait, in working statuses."""
        start, stop = self.waits[-1]
        return self._runs(start, stop, self._rooms.responses_idle)

    def resolution(self) -> Runs:
        """The resolution clock: creation to the resolution that stands, never while solved."""
        stop = self.resolved_at if self.resolution_stands else None
        return self._runs(self.created, stop, self._rooms.resolution_idle)

    def close_within(self) -> Runs:
        """The close-within clock: the latest resolution to a close, while solved."""
        if self.resolved_at is None:
            return _NOT_STARTED
        rooms = self._rooms
        return self._runs(self.resolved_at, self.closed_at, rooms.paused, only=rooms.solved)

    def _runs(
        self,
        start: datetime,
        stop: datetime | None,
        idle: frozenset[str],
        *,
        only: frozenset[str] | None = None,
    ) -> Runs:
        """A clock from ``start`` to ``stop`` (or now): it counts outside ``idle``, in ``only``."""
        end = self.now if stop is None else stop
        intervals: list[Interval] = []
        for low, high, status in self.spans:
            if high <= start or status in idle or (only is not None and status not in only):
                continue
            if low >= end:
                break
            begin = max(low, start)
            finish = min(high, end)
            if begin >= finish:
                continue
            if intervals and intervals[-1][1] == begin:
                intervals[-1] = (intervals[-1][0], finish)
            else:
                intervals.append((begin, finish))
        status = self.status
        running = stop is None and status not in idle and (only is None or status in only)
        return Runs(start, stop, tuple(intervals), running)


def _joined(intervals: Iterable[Interval]) -> tuple[Interval, ...]:
    """Join intervals that touch; they come in order and never overlap."""
    joined: list[Interval] = []
    for low, high in intervals:
        if low >= high:
            continue
        if joined and joined[-1][1] == low:
            joined[-1] = (joined[-1][0], high)
        else:
            joined.append((low, high))
    return tuple(joined)
