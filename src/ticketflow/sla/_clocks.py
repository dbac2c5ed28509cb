"""The state of a policy's SLA clocks on a ticket, computed from its history.

An :class:`SLAPolicy` says which tickets it covers and how fast each target
must be met, on a :class:`~ticketflow.Calendar`.  When each clock starts,
stops and counts is read from the ticket's :class:`~ticketflow._timeline.Timeline`
(its module says the rules in words); this module lays the calendar over
those intervals, so only business time counts, and compares the total with
the target.  Everything comes from the history alone, so a changed policy or
calendar can be recomputed for any past ticket.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from types import MappingProxyType

import attrs

from ticketflow._history import HistoryEvent
from ticketflow._timeline import Interval, Runs, Timeline
from ticketflow._workflow import Workflow
from ticketflow.sla._calendar import Calendar
from ticketflow.sla._policy import SLAPolicy, Target


@attrs.frozen
class SLAState:
    """One target's clock on one ticket at an instant, under one policy.

    Attributes:
        target: which promise.
        started_at: when the clock (of the latest cycle) started; None if it
            has not (close within, before any resolution).
        due_at: when the target falls due if the clock keeps running; None
            while it is paused or stopped.
        elapsed: business time the clock counted so far, on the policy's calendar.
        remaining: the target minus ``elapsed`` (negative once breached).
        running: whether the clock runs now.
        met: whether the target was met (the clock stopped in time).
        breached: whether the target was missed, met late or not yet.
        breached_at: when it was missed.
        policy: the name of the :class:`SLAPolicy` the clock was measured
            against (``SLAPolicy.name``): its target and its calendar.
    """

    target: Target
    started_at: datetime | None
    due_at: datetime | None
    elapsed: timedelta
    remaining: timedelta
    running: bool
    met: bool
    breached: bool
    breached_at: datetime | None
    policy: str
    _run: tuple[datetime, timedelta] | None = attrs.field(
        default=None, eq=False, repr=False, kw_only=True
    )
    """For a running clock read from a kept record: its run's start and the time counted before.

    Not part of what the state says (it takes no part in equality): the
    instants a running clock reaches an amount of time are walked from the
    run's start, which stays the same at every commit of the run, so the
    calendar's memo walks them once (:meth:`reaches`).
    """

    _breach: datetime | None = attrs.field(default=None, eq=False, repr=False, kw_only=True)
    """:meth:`breaches_at`, when the reading that made the state had it at hand."""

    def reaches(self, calendar: Calendar, now: datetime, total: timedelta) -> datetime:
        """When the running clock, read at ``now``, has counted ``total`` in all.

        ``total`` must exceed :attr:`elapsed`; ``calendar`` is the clock's.
        The same instant whether walked from ``now`` or from the run's start.
        """
        run = self._run
        if run is None:
            return calendar.due_at(now, total - self.elapsed)
        since, base = run
        return calendar.due_at(since, total - base)

    def breaches_at(self, calendar: Calendar, now: datetime) -> datetime:
        """When the running clock, read at ``now`` and not breached, passes its target.

        If nothing changes: the first instant ``calendar`` has counted one
        microsecond past the target.
        """
        if self._breach is not None:
            return self._breach
        return self.reaches(calendar, now, self.elapsed + self.remaining + _TICK)

    @property
    def fraction(self) -> float:
        """Elapsed over target: 1.0 and over is breached."""
        total = self.elapsed + self.remaining
        return self.elapsed / total if total else 0.0


_TICK = timedelta(microseconds=1)

# What SLAState's attrs-made __init__ does, without its Python frame and its
# twelve bound setattr calls: each slot's own setter, called directly.  The
# SLA reading builds a few states a commit this way (_built); a test checks
# that it builds what the constructor does, field by field.
(
    _SET_TARGET, _SET_STARTED, _SET_DUE, _SET_ELAPSED, _SET_REMAINING, _SET_RUNNING,
    _SET_MET, _SET_BREACHED, _SET_BREACHED_AT, _SET_POLICY, _SET_RUN, _SET_BREACH,
) = (SLAState.__dict__[field.name].__set__ for field in attrs.fields(SLAState))  # fmt: skip
_new = object.__new__


def _built(  # noqa: PLR0917 - one argument a field, positional: the reading's hot path
    target: Target,
    started_at: datetime | None,
    due_at: datetime | None,
    elapsed: timedelta,
    remaining: timedelta,
    running: bool,
    met: bool,
    breached: bool,
    breached_at: datetime | None,
    policy: str,
    run: tuple[datetime, timedelta] | None,
    breach: datetime | None,
) -> SLAState:
    """``SLAState(..., run=run, breach=breach)``, built at half the cost."""
    state: SLAState = _new(SLAState)
    _SET_TARGET(state, target)
    _SET_STARTED(state, started_at)
    _SET_DUE(state, due_at)
    _SET_ELAPSED(state, elapsed)
    _SET_REMAINING(state, remaining)
    _SET_RUNNING(state, running)
    _SET_MET(state, met)
    _SET_BREACHED(state, breached)
    _SET_BREACHED_AT(state, breached_at)
    _SET_POLICY(state, policy)
    _SET_RUN(state, run)
    _SET_BREACH(state, breach)
    return state


RUNS_OF: Mapping[Target, Callable[[Timeline], Runs]] = MappingProxyType(
    {
        Target.FIRST_RESPONSE: Timeline.first_response,
        Target.NEXT_RESPONSE: Timeline.next_response,
        Target.RESOLUTION: Timeline.resolution,
        Target.CLOSE_WITHIN: Timeline.close_within,
    }
)
"""Where each target's clock runs, as the timeline tells it; in the order of ``Target``."""


def business_time(
    calendar: Calendar,
    intervals: Iterable[Interval],
    known: dict[Interval, timedelta] | None = None,
) -> timedelta:
    """The business time of ``calendar`` in ``intervals``, added up.

    Each interval is counted as :func:`sla_states` counts a clock's runs, so
    a figure computed with it equals the clock's ``elapsed`` exactly.
    ``known`` keeps what was counted, for callers that count the same
    intervals again (the clocks of one ticket often share them).
    """
    total = timedelta(0)
    for interval in intervals:
        if known is None:
            total += calendar.elapsed(*interval)
            continue
        piece = known.get(interval)
        if piece is None:
            piece = known[interval] = calendar.elapsed(*interval)
        total += piece
    return total


def sla_states(
    policy: SLAPolicy,
    workflow: Workflow,
    history: Sequence[HistoryEvent],
    now: datetime,
    *,
    timeline: Timeline | None = None,
) -> list[SLAState]:
    """Every target of ``policy`` on the ticket whose ``history`` is given, at ``now``.

    ``timeline``, if the caller already has it, is that history's timeline
    at ``now``; it is built otherwise.

    Raises:
        InvalidInput: the history is empty, or ``now`` is not an aware datetime.
    """
    if timeline is None:
        timeline = Timeline.of(workflow, history, now)
    states = []
    for target, runs_of in RUNS_OF.items():
        if policy.target(target) is not None:
            runs = runs_of(timeline)
            # A day target's budget depends on when its clock started (as if
            # now, for a clock not started yet).
            promised = policy.budget(target, runs.started or timeline.now)
            assert promised is not None  # noqa: S101 - the target is set
            states.append(_state(policy, target, promised, runs, timeline.now))
    return states


def _state(
    policy: SLAPolicy, target: Target, promised: timedelta, runs: Runs, now: datetime
) -> SLAState:
    if runs.started is None:
        return SLAState(
            target, None, None, timedelta(0), promised, False, False, False, None, policy.name
        )
    calendar = policy.calendar_for(target)
    elapsed = timedelta(0)
    breached_at = None
    for low, high in runs.intervals:
        piece = calendar.elapsed(low, high)
        if breached_at is None and elapsed + piece > promised:
            breached_at = calendar.due_at(low, promised - elapsed)
        elapsed += piece
    remaining = promised - elapsed
    due = None
    if runs.running:
        # At exactly the target the clock is due now, not yet breached.
        due = calendar.due_at(now, remaining) if remaining >= timedelta(0) else breached_at
    return SLAState(
        target=target,
        started_at=runs.started,
        due_at=due,
        elapsed=elapsed,
        remaining=remaining,
        running=runs.running,
        met=runs.stopped is not None and elapsed <= promised,
        breached=elapsed > promised,
        breached_at=breached_at,
        policy=policy.name,
    )
