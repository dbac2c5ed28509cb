"""SLA conditions for rules, and the rules that record SLA warnings and breaches.

The conditions look at the SLA clocks of the context they are handed
(``context.sla()``), measured once per ticket however many conditions ask.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import attrs

from ticketflow._errors import InvalidInput
from ticketflow._history import HistoryEvent
from ticketflow._names import SLA_BREACH, SLA_WARNING
from ticketflow._status import ACTIVE_CATEGORIES
from ticketflow._ticket import Ticket
from ticketflow._timeline import clock_statuses
from ticketflow._validate import positive_duration, several
from ticketflow._workflow import Workflow
from ticketflow.rules._actions import Action
from ticketflow.rules._conditions import ALWAYS, Condition, InCategory, latest
from ticketflow.rules._context import Context
from ticketflow.rules._rule import Rule
from ticketflow.sla._calendar import Calendar
from ticketflow.sla._clocks import SLAState
from ticketflow.sla._policy import Target
from ticketflow.storage._query import TicketQuery


def _target(value: object) -> Target | None:
    if value is None or isinstance(value, Target):
        return value
    try:
        return Target(value)
    except ValueError:
        choices = ", ".join(repr(target.value) for target in Target)
        raise InvalidInput("target", value, f"None or a Target: one of {choices}") from None


class _SLACondition(Condition):
    """What the SLA conditions share: they look at the running clocks of the context."""

    target: Target | None
    predicts = True

    def _matches(self, state: SLAState, now: datetime) -> bool:
        raise NotImplementedError

    def _from(self, state: SLAState, calendar: Calendar, now: datetime) -> datetime | None:
        """When the clock of ``state`` comes to match if nothing changes (None: not this run)."""
        raise NotImplementedError

    def _start(self, state: SLAState, calendar: Calendar, now: datetime) -> datetime | None:
        """ALWAYS if the clock of ``state`` matches at ``now``, else :meth:`_from`.

        One call where the schedule asks both, a few a commit for each running
        clock: the conditions write it out where that saves work.
        """
        return ALWAYS if self._matches(state, now) else self._from(state, calendar, now)

    def instants(self, context: Context) -> tuple[datetime, ...]:
        """When each running clock of the target comes to match, earliest first.

        Matching holds until the ticket changes or the clock passes the next
        threshold, so these are the instants at which the condition may start
        to hold for a clock it did not hold for before.
        """
        policy, states = context.sla_clocks()
        if policy is None:
            return ()
        now, target = context.now, self.target
        found = []
        for state in states:
            if not state.running or (target is not None and state.target is not target):
                continue
            instant = self._start(state, policy.calendar_for(state.target), now)
            if instant is not None:
                found.append(instant)
        return tuple(sorted(set(found))) if len(found) > 1 else tuple(found)

    def when(self, context: Context) -> datetime | None:
        """When the first running clock of the target comes to match, if nothing changes."""
        instants = self.instants(context)
        return instants[0] if instants else None

    def _span(
        self, state: SLAState, calendar: Calendar, now: datetime
    ) -> tuple[datetime, datetime | None] | None:
        """From when until when (None: for good) the running clock of ``state`` matches.

        As long as nothing happens to the ticket; None if it does not match
        again in this run.  The instants are those :meth:`_matches` reads the
        clock at: the time it counts grows with the calendar's open time.
        """
        raise NotImplementedError

    def settled(self, context: Context, at: datetime) -> tuple[bool, datetime | None] | None:
        """Whether a running clock matches at ``at``, and the latest start of those that do.

        Told from the clocks at the context's instant: a clock at rest stays
        so until the ticket changes, and a running one matches over the span
        its calendar gives (:meth:`_span`).  None for an earlier instant, a
        clock without time to count, or one due past the calendar's end.
        """
        if at < context.now:
            return None
        policy, states = context.sla_clocks()
        if policy is None:
            return False, None
        holds, anchor = False, None
        for state in states:
            if not state.running or (self.target is not None and state.target is not self.target):
                continue
            if state.elapsed + state.remaining <= _ZERO:
                return None
            try:
                span = self._span(state, policy.calendar_for(state.target), context.now)
            except InvalidInput:
                return None
            if span is not None and span[0] <= at and (span[1] is None or at < span[1]):
                holds = True
                if state.started_at is not None and (anchor is None or state.started_at > anchor):
                    anchor = state.started_at
        return holds, anchor

    def _matching(self, context: Context) -> list[SLAState]:
        return [
            state
            for state in context.sla()
            if state.running
            and (self.target is None or state.target is self.target)
            and self._matches(state, context.now)
        ]

    @property
    def reads_sla(self) -> bool:
        """Always: it looks at the SLA clocks."""
        return True

    def holds(self, context: Context) -> bool:
        """Whether some running clock matches."""
        return bool(self._matching(context))

    def anchor(self, context: Context) -> datetime | None:
        """The start of the matching clock: a rule on it acts once per run of a clock."""
        return latest(state.started_at for state in self._matching(context))

    def narrow(self, query: TicketQuery, now: datetime, workflow: Workflow) -> TicketQuery:
        """Ask the store only for statuses in which a clock can run (as the timeline says).

        No clock runs in a status that pauses SLA clocks, nor once the ticket
        is closed or removed.
        """
        statuses = clock_statuses(workflow)
        if query.statuses is not None:
            statuses &= query.statuses
        return attrs.evolve(query, statuses=statuses)


@attrs.frozen
class SLAAtRisk(_SLACondition):
    """A running SLA clock has used at least ``fraction`` of its target, and is not yet breached.

    ``target`` (a :class:`Target`) narrows it to one promise.  The clocks are
    those of the SLA policy that covers the ticket (``Helpdesk(sla_policies=...)``);
    with none, it never holds.
    """

    fraction: float = 0.75
    target: Target | None = attrs.field(default=None, converter=_target)

    def __attrs_post_init__(self) -> None:
        if isinstance(self.fraction, bool) or not isinstance(self.fraction, (int, float)):
            raise InvalidInput("fraction", self.fraction, "a number between 0 and 1")
        if not 0 < self.fraction < 1:
            raise InvalidInput("fraction", self.fraction, "a number between 0 and 1")

    def _matches(self, state: SLAState, now: datetime) -> bool:
        # state.fraction >= self.fraction, without the division: the least
        # elapsed time whose share reaches the fraction is remembered.
        if state.breached:
            return False
        promised = state.elapsed + state.remaining
        return promised > _ZERO and state.elapsed >= _share(self.fraction, promised)

    def _from(self, state: SLAState, calendar: Calendar, now: datetime) -> datetime | None:
        if state.breached:
            return None  # past its target: no longer at risk in this run
        promised = state.elapsed + state.remaining
        # Not matching: less than the share has elapsed.
        return state.reaches(calendar, now, _share(self.fraction, promised))

    def _start(self, state: SLAState, calendar: Calendar, now: datetime) -> datetime | None:
        if state.breached:
            return None  # past its target: no longer at risk in this run
        promised = state.elapsed + state.remaining
        if promised <= _ZERO:  # no time to count: as _matches and _from say
            return self._from(state, calendar, now)
        share = _share(self.fraction, promised)
        return ALWAYS if state.elapsed >= share else state.reaches(calendar, now, share)

    def _span(
        self, state: SLAState, calendar: Calendar, now: datetime
    ) -> tuple[datetime, datetime | None] | None:
        start = self._start(state, calendar, now)
        if start is None:
            return None
        return (now if start == ALWAYS else start), state.breaches_at(calendar, now)


@attrs.frozen
class SLABreached(_SLACondition):
    """A running SLA clock (of ``target``, if given) has passed its target."""

    target: Target | None = attrs.field(default=None, converter=_target)

    def _matches(self, state: SLAState, now: datetime) -> bool:
        return state.breached

    def _from(self, state: SLAState, calendar: Calendar, now: datetime) -> datetime | None:
        return state.breaches_at(calendar, now)

    def _start(self, state: SLAState, calendar: Calendar, now: datetime) -> datetime | None:
        return ALWAYS if state.breached else state.breaches_at(calendar, now)

    def _span(
        self, state: SLAState, calendar: Calendar, now: datetime
    ) -> tuple[datetime, datetime | None] | None:
        return now if state.breached else state.breaches_at(calendar, now), None


@attrs.frozen
class SLADueWithin(_SLACondition):
    """A running SLA clock (of ``target``, if given) falls due within ``within`` of now."""

    within: timedelta
    target: Target | None = attrs.field(default=None, converter=_target)

    def __attrs_post_init__(self) -> None:
        positive_duration(self.within, "within")

    def _matches(self, state: SLAState, now: datetime) -> bool:
        return (
            not state.breached and state.due_at is not None and state.due_at - now <= self.within
        )

    def _from(self, state: SLAState, calendar: Calendar, now: datetime) -> datetime | None:
        if state.breached or state.due_at is None:
            return None
        return state.due_at - self.within

    def _span(
        self, state: SLAState, calendar: Calendar, now: datetime
    ) -> tuple[datetime, datetime | None] | None:
        start = self._from(state, calendar, now)
        return None if start is None else (max(start, now), state.breaches_at(calendar, now))


_TICK = timedelta(microseconds=1)
_ZERO = timedelta(0)


@functools.lru_cache(maxsize=1024)  # a commit's schedule asks it of each running clock, twice
def _share(fraction: float, promised: timedelta) -> timedelta:
    """The least duration whose share of ``promised`` is at least ``fraction``, as ``/`` says."""
    whole = promised // _TICK
    if whole <= 0:
        return timedelta(0)
    ticks = math.ceil(fraction * whole)
    while ticks > 0 and (ticks - 1) / whole >= fraction:
        ticks -= 1
    while ticks / whole < fraction:
        ticks += 1
    return ticks * _TICK


def sla_rules(*, warn_at: float | Sequence[float] = 0.75) -> tuple[Rule, ...]:
    """The SLA notices, each fired once per run of a clock.

    ``sla_warning`` when a running clock passes ``warn_at`` of its target,
    ``sla_breach`` when it passes the target.  Several fractions make one
    warning rule each, named ``sla_warning_50``, ``sla_warning_90`` and so on.
    They record ``sla_warning`` and ``sla_breach`` events in the history, which
    the host's hooks turn into alerts.  A Helpdesk given SLA policies and no
    ``rules=`` runs them beside :func:`default_rules`.
    """
    fractions = tuple(several(warn_at, (int, float), "warn_at", "a fraction, or several"))
    if not fractions or len(set(fractions)) != len(fractions):
        raise InvalidInput("warn_at", warn_at, "one fraction between 0 and 1, or several distinct")
    active = InCategory(ACTIVE_CATEGORIES)
    warnings = tuple(
        Rule(
            "sla_warning" if len(fractions) == 1 else f"sla_warning_{round(fraction * 100)}",
            active & SLAAtRisk(fraction),
            Action(SLA_WARNING, _notice(f"at {fraction:.0%} of its target")),
        )
        for fraction in fractions
    )
    breach = Rule("sla_breach", active & SLABreached(), Action(SLA_BREACH, _notice("breached")))
    return (*warnings, breach)


def _notice(
    what: str,
) -> Callable[[Ticket, Sequence[HistoryEvent]], Mapping[str, Any]]:
    def payload(ticket: Ticket, _history: Sequence[HistoryEvent]) -> Mapping[str, Any]:
        return {"body": f"SLA {what} on ticket {ticket.id}."}

    return payload
