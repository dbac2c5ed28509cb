"""Each ticket's figures, kept as it changes: what a commit stores for the metrics report.

A desk computes the :class:`~ticketflow.storage.Figures` of each ticket it
commits (:meth:`FigureKeeper.plan`), and ``Store.aggregate`` adds them up, so
``Helpdesk.metrics()`` reads no history.  The figures equal those of
:func:`~ticketflow._metrics.ticket_metrics` at the commit's instant (the
tests prove it after every command):

* without SLA policies they are *folded*: the figures stored before the
  commit, the ticket as it was read and the new event give the new figures
  (a reply counts, a first reply fixes the first response, a solved status
  fixes the resolution, the time since the previous event adds to the
  resolution clock unless the ticket sat in a status that pauses it); no
  history is read, and a new ticket's figures fold on none;
* under SLA policies they are folded too, from the ticket's kept SLA
  clocks at the commit (the record the same commit stores, see
  :mod:`ticketflow.sla._keeping`): the covering policy and each target's
  state give the verdicts and the resolution clock, and the business
  figures are counted on the policy's calendars, for the time since the
  previous event or, when a figure first becomes known, for its stretch;
  only a commit whose covering policy changed (its calendars may count the
  past differently) measures the ticket from its history;
* a ticket whose stored figures were computed under other SLA policies or
  another workflow (their :attr:`FigureKeeper.key` differs), or none, is
  computed from its history: :meth:`FigureKeeper.recompute` does it for all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING

from ticketflow._errors import InvalidInput, TicketNotFound
from ticketflow._history import HistoryEvent
from ticketflow._metrics import ticket_metrics
from ticketflow._names import AGENT_REPLY, CREATE, CUSTOMER_REPLY
from ticketflow._reserved import MERGED_INTO
from ticketflow._satisfaction import score_of
from ticketflow._status import Category
from ticketflow._ticket import Ticket
from ticketflow._workflow import Workflow
from ticketflow.rules._context import Context
from ticketflow.rules._schedule import canonical
from ticketflow.sla._calendar import Calendar
from ticketflow.sla._clocks import SLAState, business_time
from ticketflow.sla._keeping import KeptClocks
from ticketflow.sla._measure import SLAClocks
from ticketflow.sla._policy import SLAPolicy, Target, policy_for
from ticketflow.storage import Figures, Store, Verdict
from ticketflow.storage._figures import shared_verdicts

if TYPE_CHECKING:
    from ticketflow.rules._context import Clocks

Progress = Callable[[str, int, int], None]
"""Called as ``progress("figures", done, total)`` while figures are recomputed."""

_RECIPE = "f2"
"""The version of the figures' recipe: a new recipe changes every key."""


def figures_key(workflow: Workflow, policies: Sequence[SLAPolicy]) -> str:
    """The key of what figures depend on: the SLA policies and the workflow's statuses.

    Only what changes a figure counts: the statuses' categories and which
    pause SLA clocks, and the policies (names, conditions, targets, calendars).
    """
    described = canonical(
        (
            sorted(
                (name, workflow.category(name).value, name in workflow.sla_paused)
                for name in workflow.statuses
            ),
            tuple(policies),
        )
    )
    return f"{_RECIPE}-{hashlib.sha256(described.encode()).hexdigest()[:24]}"


_NAMES = {target: target.value for target in Target}
"""Each target's name, as the figures key their verdicts (an enum's ``value`` is slow)."""


def verdicts(
    states: Sequence[SLAState], policy: SLAPolicy | None, now: datetime
) -> Mapping[str, Verdict]:
    """Each target's verdict from its clock's state at ``now`` (the commit's instant).

    A running clock not yet breached is breached from the first instant its
    calendar has counted one microsecond past the target.  Equal verdicts
    are one shared mapping (:func:`~ticketflow.storage._figures.shared_verdicts`).
    """
    if policy is None:
        return _NO_VERDICTS
    flat: list[object] = []
    for state in states:
        breaches_at = None
        if state.running and not state.breached:
            try:
                breaches_at = state.breaches_at(policy.calendar_for(state.target), now)
            except InvalidInput:  # past the last instant the calendar can place: never
                breaches_at = None
        flat += (_NAMES[state.target], state.met, state.breached, breaches_at)
    return shared_verdicts(tuple(flat))


_NO_VERDICTS: Mapping[str, Verdict] = MappingProxyType({})


def measured(
    ticket: Ticket,
    history: Sequence[HistoryEvent],
    workflow: Workflow,
    clocks: SLAClocks,
    *,
    key: str,
    at: datetime | None = None,
    kept: Clocks | None = None,
) -> Figures:
    """The ticket's figures from its whole history, at ``at`` (default: its last event).

    ``kept``, the ticket's kept SLA clocks if the caller has them, spares
    measuring the clocks from the history.
    """
    context = Context(
        ticket, at or history[-1].at, workflow, history=history, clocks=kept or clocks or None
    )
    try:
        policy, states = context.sla_policy(), context.sla()
    except InvalidInput:
        # A clock due after the last instant its calendar can place (the year
        # 9999): the figures are kept without SLA verdicts, not the commit refused.
        policy, states = policy_for(clocks.policies, context), ()
    metrics = ticket_metrics(
        ticket,
        context.history(),
        workflow,
        context.now,
        None if policy is None else policy.calendar,
        timeline=context.timeline(),
        states=states,
        calendars=None if policy is None else policy.calendars,
    )
    return Figures(
        key=key,
        first_response=metrics.first_response,
        resolution=metrics.resolution,
        business_first_response=metrics.business_first_response,
        business_resolution=metrics.business_resolution,
        resolution_clock=metrics.sla_elapsed[Target.RESOLUTION],
        resolved_at=context.timeline().resolved_at,
        replies=metrics.replies,
        customer_replies=metrics.customer_replies,
        policy=None if policy is None else policy.name,
        sla=verdicts(states, policy, context.now),
        rating=metrics.rating,
        rateable=metrics.rateable,
    )


def _counted(
    policy: SLAPolicy | None, target: Target, start: datetime, end: datetime
) -> timedelta:
    """The business time from ``start`` to ``end`` on ``target``'s calendar (no policy: wall)."""
    if policy is None:
        return end - start
    calendar: Calendar = policy.calendar_for(target)
    return business_time(calendar, [(start, end)])


class FigureKeeper:
    """Computes the figures each commit stores, under a desk's workflow and SLA policies.

    Args:
        store: where the figures before a commit are read.
        workflow: the desk's workflow.
        clocks: the desk's SLA policies, as it measures them.
    """

    __slots__ = ("_idle", "_solved", "_standing", "clocks", "key", "store", "workflow")

    def __init__(self, store: Store, workflow: Workflow, clocks: SLAClocks) -> None:
        self.store = store
        self.workflow = workflow
        self.clocks = clocks
        self.key = figures_key(workflow, clocks.policies)
        self._solved = workflow.statuses_in(Category.SOLVED)
        self._standing = self._solved | workflow.statuses_in(Category.CLOSED)
        # Where the resolution clock does not count (see ticketflow._timeline).
        self._idle = workflow.sla_paused | self._standing | workflow.statuses_in(Category.REMOVED)

    def plan(
        self,
        read: Ticket | None,
        ticket: Ticket,
        event: HistoryEvent,
        before: Sequence[HistoryEvent] | None,
        clocks: Clocks | None = None,
    ) -> Figures | None:
        """The figures to commit with ``ticket`` and its new ``event`` (None: none known).

        Args:
            read: the ticket the commit replaces (None: a new ticket).
            ticket: the ticket after the event.
            event: the new event.
            before: the events before ``event``, if the caller has them.
            clocks: the ticket's SLA clocks as this commit keeps them (under
                SLA policies; without them the figures are measured from the
                history).
        """
        # A new ticket's figures fold on none at all (its create event may solve it).
        previous = Figures(self.key) if read is None else self.store.figures(ticket.id)
        if previous is not None and previous.key == self.key:
            if not self.clocks:
                return self._fold(previous, read, ticket, event, policy=None, states=())
            if clocks is not None:
                folded = self._fold_kept(previous, read, ticket, event, clocks)
                if folded is not None:
                    return folded
        if read is None:
            history: Sequence[HistoryEvent] = [event]
        elif before is not None:
            history = [*before, event]
        else:
            try:
                earlier = self.store.history(ticket.id)
            except TicketNotFound:  # gone: the commit will say so
                return None
            history = [*(old for old in earlier if old.seq < event.seq), event]
        if history[0].name != CREATE:  # stored without its events (a bulk load): none
            return None
        return measured(ticket, history, self.workflow, self.clocks, key=self.key, kept=clocks)

    def _fold_kept(
        self,
        previous: Figures,
        read: Ticket | None,
        ticket: Ticket,
        event: HistoryEvent,
        clocks: Clocks,
    ) -> Figures | None:
        """The figures after ``event`` under the policy its kept clocks name (None: re-measure).

        The figures before were counted on the calendars of the policy named
        in them; if another covers the ticket now, its calendars may count
        the past differently, and the ticket is measured from its history.
        """
        try:
            if isinstance(clocks, KeptClocks):  # the commit's own: no context to build
                policy, states = clocks.at(event.at)
            else:
                policy, states = clocks(Context(ticket, event.at, self.workflow, clocks=clocks))
        except InvalidInput:  # a clock due past the end of time: measured, without verdicts
            return None
        if read is not None and (None if policy is None else policy.name) != previous.policy:
            return None
        return self._fold(previous, read, ticket, event, policy=policy, states=states)

    def _fold(
        self,
        previous: Figures,
        read: Ticket | None,
        ticket: Ticket,
        event: HistoryEvent,
        *,
        policy: SLAPolicy | None,
        states: Sequence[SLAState],
    ) -> Figures:
        """The figures after ``event``, from those before it, under ``policy`` (as before it).

        Without a policy business time is wall time; with one, each stretch
        is counted on the calendar of the target it matches, as
        :func:`~ticketflow._metrics.ticket_metrics` counts it.
        """
        first_response = previous.first_response
        if first_response is None and event.name == AGENT_REPLY:
            first_response = event.at - ticket.created_at
        resolved_at = previous.resolved_at
        solved_now = event.to_status in self._solved and (
            read is None or event.to_status != read.status
        )
        if solved_now:
            resolved_at = event.at
        resolution = None
        # A resolution stands while the ticket stays solved or closed since it
        # (see ticketflow._timeline): a close after a reopen does not revive it.
        stood = previous.resolution is not None
        if resolved_at is not None and (solved_now or (stood and ticket.status in self._standing)):
            resolution = resolved_at - ticket.created_at
        counted = {state.target: state for state in states}
        resolution_state = counted.get(Target.RESOLUTION)
        if resolution_state is not None:
            clock = resolution_state.elapsed
        else:
            clock = previous.resolution_clock
            if read is not None and read.status not in self._idle:  # the time since, in it
                clock += _counted(policy, Target.RESOLUTION, read.updated_at, event.at)
        business_first_response = previous.business_first_response
        if first_response is None:
            business_first_response = None
        elif business_first_response is None:
            business_first_response = _counted(
                policy,
                Target.FIRST_RESPONSE,
                ticket.created_at,
                ticket.created_at + first_response,
            )
        business_resolution = previous.business_resolution
        if resolution is None or resolved_at is None:
            business_resolution = None
        elif business_resolution is None or resolved_at != previous.resolved_at:
            business_resolution = _counted(
                policy, Target.RESOLUTION, ticket.created_at, resolved_at
            )
        return Figures(
            key=self.key,
            first_response=first_response,
            resolution=resolution,
            business_first_response=business_first_response,
            business_resolution=business_resolution,
            resolution_clock=clock,
            resolved_at=resolved_at,
            replies=previous.replies + (event.name == AGENT_REPLY),
            customer_replies=previous.customer_replies + (event.name == CUSTOMER_REPLY),
            policy=None if policy is None else policy.name,
            sla=verdicts(states, policy, event.at),
            rating=score_of(ticket),
            rateable=resolution is not None and MERGED_INTO not in ticket.fields,
        )

    def recompute(self, *, batch: int, progress: Progress | None) -> int:
        """Store the figures of every ticket computed under another key (or none); how many.

        Reads those tickets ``batch`` at a time, each one's history once;
        interrupted, it resumes where it stopped, since the tickets done no
        longer show.  A ticket that moves meanwhile has its figures stored
        by its own commit.
        """
        store = self.store
        total = store.count_unfigured(self.key) if progress is not None else 0
        done = 0
        seen: set[tuple[str, int]] = set()
        while True:
            page = [
                ticket
                for ticket in store.unfigured(self.key, limit=batch)
                if (ticket.id, ticket.version) not in seen
            ]
            if not page:
                return done
            for ticket in page:
                seen.add((ticket.id, ticket.version))  # a process on other policies may rewrite it
                try:
                    history = store.history(ticket.id)
                except TicketNotFound:  # purged meanwhile, or stored without its events
                    continue
                if not history or history[0].name != CREATE:
                    continue
                figures = measured(ticket, history, self.workflow, self.clocks, key=self.key)
                store.refigure(ticket.id, ticket.version, figures)
                done += 1
                if progress is not None:
                    progress("figures", done, max(total, done))
