"""SLA policies and the state of their clocks, computed from a ticket's history.

An :class:`SLAPolicy` says which tickets it covers and how fast each target
must be met, on a :class:`~ticketflow.Calendar`.  The clocks are derived
from the history alone, so a changed policy or calendar can be recomputed for
any past ticket.  The rules, in words:

* **first response**: from the ticket's creation to the first staff reply
  (``agent_reply``).
* **next response**: from a customer message that no staff reply follows yet
  (the ticket's creation counts as the first) to the next staff reply; the
  state reported is that of the latest such wait.
* **resolution**: from creation to entering a ``solved`` status.  A reopen
  resumes the same clock: time spent solved never counts, time after the
  reopen does, until the next resolution.
* **close within**: from the latest resolution to entering a ``closed``
  status.

A clock does not run while the ticket sits in a status flagged
``sla_paused`` (postponed, by default), nor, for the two response targets,
while the ticket waits on the customer (a ``pending`` status such as
``answered``).  Time outside the calendar's hours never counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

import attrs

from ticketflow._errors import InvalidInput
from ticketflow._history import HistoryEvent
from ticketflow._status import Category
from ticketflow._workflow import Workflow
from ticketflow.sla._calendar import Calendar
from ticketflow.sla._policy import SLAPolicy, Target


@attrs.frozen
class SLAState:
    """One target's clock on one ticket at an instant.

    Attributes:
        target: which promise.
        started_at: when the clock (of the latest cycle) started; None if it
            has not (a next response with nothing to answer).
        due_at: when the target falls due if the clock keeps running; None
            while it is paused or stopped.
        elapsed: business time counted so far.
        remaining: the target minus ``elapsed`` (negative once breached).
        running: whether the clock runs now.
        met: whether the target was met (the clock stopped in time).
        breached: whether the target was missed, met late or not yet.
        breached_at: when it was missed.
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

    @property
    def fraction(self) -> float:
        """Elapsed over target: 1.0 and over is breached."""
        total = self.elapsed + self.remaining
        return self.elapsed / total if total else 0.0


_Span = tuple[datetime, datetime, str]
"""The ticket sat in ``status`` from the first instant to the second."""


def _spans(history: Sequence[HistoryEvent], now: datetime) -> list[_Span]:
    spans: list[_Span] = []
    for event, following in zip(history, [*history[1:], None], strict=True):
        end = now if following is None else following.at
        if end > event.at:
            spans.append((event.at, end, event.to_status))
    return spans


def _counted(
    spans: Iterable[_Span],
    start: datetime,
    stop: datetime,
    paused: frozenset[str],
    calendar: Calendar,
) -> list[tuple[datetime, datetime]]:
    """The intervals of ``[start, stop)`` in which the clock runs (business hours aside)."""
    running = []
    for low, high, status in spans:
        if status in paused:
            continue
        begin, end = max(low, start), min(high, stop)
        if begin < end:
            running.append((begin, end))
    return running


def _state(
    target: Target,
    promised: timedelta,
    calendar: Calendar,
    runs: list[tuple[datetime, datetime]],
    *,
    started: datetime | None,
    stopped: datetime | None,
    running_now: bool,
    now: datetime,
) -> SLAState:
    elapsed = timedelta(0)
    breached_at = None
    for low, high in runs:
        piece = calendar.elapsed(low, high)
        if breached_at is None and elapsed + piece > promised:
            breached_at = calendar.due_at(low, promised - elapsed)
        elapsed += piece
    remaining = promised - elapsed
    due = None
    if running_now:
        due = calendar.due_at(now, remaining) if remaining > timedelta(0) else breached_at
    met = stopped is not None and elapsed <= promised
    return SLAState(
        target=target,
        started_at=started,
        due_at=due,
        elapsed=elapsed,
        remaining=remaining,
        running=running_now,
        met=met,
        breached=elapsed > promised,
        breached_at=breached_at,
    )


def sla_states(
    policy: SLAPolicy,
    workflow: Workflow,
    history: Sequence[HistoryEvent],
    now: datetime,
) -> list[SLAState]:
    """Every target of ``policy`` on the ticket whose ``history`` is given, at ``now``."""
    if not history:
        raise InvalidInput("history", [], "at least the create event")
    paused_always = workflow.sla_paused
    waiting = workflow.statuses_in(Category.PENDING)
    solved = workflow.statuses_in(Category.SOLVED)
    closed = workflow.statuses_in(Category.CLOSED)
    spans = _spans(history, now)
    current = history[-1].to_status
    created = history[0].at
    states = []
    for target in Target:
        promised = policy.target(target)
        if promised is None:
            continue
        paused = paused_always | waiting if target in _RESPONSES else paused_always
        if target is Target.FIRST_RESPONSE:
            stop = next((e.at for e in history if e.name == "agent_reply"), None)
            start: datetime | None = created
            stop_excluded: frozenset[str] = frozenset()
        elif target is Target.NEXT_RESPONSE:
            start, stop = _latest_wait(history)
            stop_excluded = frozenset()
        elif target is Target.RESOLUTION:
            start = created
            entered = [e.at for e in history if e.moved and e.to_status in solved]
            stop = entered[-1] if entered and current in solved | closed else None
            stop_excluded = solved | closed  # time solved never counts; a reopen resumes
        else:
            resolved = [e.at for e in history if e.moved and e.to_status in solved]
            start = resolved[-1] if resolved else None
            stop = next(
                (e.at for e in history if start and e.at >= start and e.to_status in closed),
                None,
            )
            stop_excluded = frozenset()
        if start is None:
            states.append(
                SLAState(target, None, None, timedelta(0), promised, False, False, False, None)
            )
            continue
        end = stop if stop is not None else now
        runs = _counted(spans, start, end, paused | stop_excluded, policy.calendar)
        running_now = stop is None and current not in (paused | stop_excluded)
        states.append(
            _state(
                target,
                promised,
                policy.calendar,
                runs,
                started=start,
                stopped=stop,
                running_now=running_now,
                now=now,
            )
        )
    return states


_RESPONSES = frozenset({Target.FIRST_RESPONSE, Target.NEXT_RESPONSE})


def _latest_wait(history: Sequence[HistoryEvent]) -> tuple[datetime | None, datetime | None]:
    """The latest customer message no staff reply had answered, and the reply that did."""
    waiting_since: datetime | None = None
    start: datetime | None = None
    stop: datetime | None = None
    for event in history:
        if event.name in ("create", "customer_reply") and waiting_since is None:
            waiting_since = event.at
            start, stop = event.at, None
        elif event.name == "agent_reply" and waiting_since is not None:
            stop = event.at
            waiting_since = None
    return start, stop
