"""Metrics from history: per ticket, and aggregated with breakdowns.

Everything here is computed from the events, through the same
:class:`~ticketflow._timeline.Timeline` as the SLA clocks, so the figures can
be recomputed at any time, for any past ticket, under any calendar, and they
agree with the clocks.  Each figure is named for what it counts:

* ``first_response`` and ``resolution`` are calendar time from creation,
  counting everything in between (postponed time, and time spent solved
  before a reopen): the "full" times of help-desk reports;
* the ``business_`` figures count only the calendar's open hours of the same
  stretch of time (the covering SLA policy's calendar; 24x7 if none covers);
* ``sla_elapsed`` is, per SLA target, the business time that target's clock
  counted: exactly what :class:`~ticketflow.sla.SLAState` reports as
  ``elapsed`` under the same calendar;
* ``on_hold`` and ``waiting_on_customer`` are the time spent in statuses
  that pause SLA clocks and in pending statuses, which explain most of the
  difference between the two.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import NamedTuple

import attrs

from ticketflow._display import printable
from ticketflow._history import HistoryEvent
from ticketflow._names import AGENT_REPLY, CUSTOMER_REPLY
from ticketflow._reserved import MERGED_INTO
from ticketflow._satisfaction import Score, satisfied, score_of
from ticketflow._ticket import Ticket
from ticketflow._timeline import Interval, Timeline
from ticketflow._workflow import Workflow
from ticketflow.rules._context import Context
from ticketflow.sla._calendar import Calendar
from ticketflow.sla._clocks import RUNS_OF, SLAState, business_time
from ticketflow.sla._policy import Target
from ticketflow.storage._figures import (
    GROUPS,
    QUANTILES,
    FigureTotals,
    GroupFigures,
    Period,
    percentile,
)


@attrs.frozen
class TicketMetrics:
    """One ticket's figures.

    Attributes:
        ticket: the ticket as it stands.
        first_response: calendar time from creation to the first staff reply
            (None: not yet).
        resolution: calendar time from creation to the latest entry into a
            solved status, while the ticket is solved or closed (None: not
            resolved); it counts everything in between, postponed time and
            time solved before a reopen included (full resolution time).
        business_first_response, business_resolution: the same stretches of
            time, counting only the calendar's open hours.
        replies: staff replies.
        customer_replies: customer replies after the first message.
        reopens: the ticket's reopen count.
        time_in_status: how long it sat in each status, up to now.
        on_hold: calendar time spent in statuses that pause SLA clocks
            (``sla_paused``: postponed, by default), up to now.
        waiting_on_customer: calendar time spent in ``pending`` statuses
            (answered, by default), up to now.
        business_on_hold, business_waiting_on_customer: the same, counting
            only the calendar's open hours.
        sla_elapsed: per SLA target, the business time that target's clock
            counted up to now, by the rules of the SLA clocks: equal to the
            ``elapsed`` of the target's :class:`~ticketflow.sla.SLAState`
            under the same calendar (zero for a clock not started).  For
            ``Target.RESOLUTION`` it leaves out paused time and time solved,
            closed or removed.
        rating: the ticket's current satisfaction rating (None: not rated).
        rateable: whether its requester could be asked for a rating: its
            resolution stands (solved or closed) and it was not merged.
    """

    ticket: Ticket
    first_response: timedelta | None
    resolution: timedelta | None
    business_first_response: timedelta | None
    business_resolution: timedelta | None
    replies: int
    customer_replies: int
    reopens: int
    time_in_status: Mapping[str, timedelta]
    on_hold: timedelta
    waiting_on_customer: timedelta
    business_on_hold: timedelta
    business_waiting_on_customer: timedelta
    sla_elapsed: Mapping[Target, timedelta]
    rating: Score | None = None
    rateable: bool = False


def ticket_metrics(
    ticket: Ticket,
    history: Sequence[HistoryEvent],
    workflow: Workflow,
    now: datetime,
    calendar: Calendar | None = None,
    *,
    timeline: Timeline | None = None,
    states: Iterable[SLAState] = (),
    calendars: Mapping[Target, Calendar] | None = None,
) -> TicketMetrics:
    """Compute one ticket's figures from its history at ``now``.

    Business figures count the open hours of ``calendar`` (24x7 if None):
    pass the calendar of the SLA policy that covers the ticket, so that
    ``sla_elapsed`` equals its clocks' ``elapsed``.  ``timeline``, if the
    caller already has it, is the history's timeline at ``now``; ``states``,
    the ticket's SLA clocks measured on ``calendar`` from that timeline, whose
    ``elapsed`` is then taken rather than counted again.  ``calendars``
    gives some targets a calendar of their own (``SLAPolicy.calendars``):
    their clock's figure, and the business first response or resolution that
    matches it, count on that one.

    Raises:
        InvalidInput: the history is empty, or ``now`` is not an aware datetime.
    """
    hours = calendar or Calendar.always()
    own = calendars or {}
    first_hours = own.get(Target.FIRST_RESPONSE, hours)
    resolution_hours = own.get(Target.RESOLUTION, hours)
    if timeline is None:
        timeline = Timeline.of(workflow, history, now)
    created = timeline.created
    replied = timeline.first_reply
    resolved = timeline.resolved_at if timeline.resolution_stands else None
    on_hold = timeline.paused()
    waiting = timeline.waiting_on_customer()
    replies = customer_replies = 0
    for event in history:
        if event.name == AGENT_REPLY:
            replies += 1
        elif event.name == CUSTOMER_REPLY:
            customer_replies += 1
    known: dict[Interval, timedelta] = {}  # the clocks of a ticket often share intervals
    counted = {state.target: state.elapsed for state in states}
    return TicketMetrics(
        ticket=ticket,
        first_response=None if replied is None else replied - created,
        resolution=None if resolved is None else resolved - created,
        business_first_response=(
            None
            if replied is None
            else business_time(
                first_hours, [(created, replied)], _shared(first_hours, hours, known)
            )
        ),
        business_resolution=(
            None
            if resolved is None
            else business_time(
                resolution_hours, [(created, resolved)], _shared(resolution_hours, hours, known)
            )
        ),
        replies=replies,
        customer_replies=customer_replies,
        reopens=ticket.reopen_count,
        time_in_status=MappingProxyType(timeline.time_in_status()),
        on_hold=_length(on_hold),
        waiting_on_customer=_length(waiting),
        business_on_hold=business_time(hours, on_hold, known),
        business_waiting_on_customer=business_time(hours, waiting, known),
        sla_elapsed=MappingProxyType(
            {
                target: counted[target]
                if target in counted
                else business_time(
                    own.get(target, hours),
                    runs_of(timeline).intervals,
                    _shared(own.get(target, hours), hours, known),
                )
                for target, runs_of in RUNS_OF.items()
            }
        ),
        rating=score_of(ticket),
        rateable=resolved is not None and MERGED_INTO not in ticket.fields,
    )


def _shared(
    calendar: Calendar, hours: Calendar, known: dict[Interval, timedelta]
) -> dict[Interval, timedelta] | None:
    """The intervals counted on ``hours``, to count again on ``calendar`` if it is the same."""
    return known if calendar is hours else None


def _length(intervals: Iterable[Interval]) -> timedelta:
    return sum((high - low for low, high in intervals), timedelta(0))


def _median(values: Iterable[timedelta | None]) -> timedelta | None:
    return percentile(values, QUANTILES[0])


def _p90(values: Iterable[timedelta | None]) -> timedelta | None:
    return percentile(values, QUANTILES[1])


@attrs.frozen
class Summary:
    """Figures over a group of tickets.

    Attributes:
        tickets: how many.
        median_first_response, median_resolution: of the tickets'
            ``first_response`` and ``resolution`` (calendar time, everything
            counted), over those that have one.
        mean_replies: staff replies per ticket.
        reopened: how many were reopened at least once.
        compliance: per SLA target, the share of decided clocks that met it:
            a clock is decided once it stopped in time, or once it is
            breached, even while it still runs (targets with no decided
            clock are left out).
        median_sla_resolution: over the resolved tickets, the median business
            time their resolution clock counted (``sla_elapsed`` of
            ``Target.RESOLUTION``): what the SLA resolution target is measured
            on, without paused time or time solved before a reopen.
        p90_first_response, p90_resolution, p90_sla_resolution: the 90th
            percentiles of the same figures.
        ratings: how many of the tickets are rated.
        satisfaction: the share of those ratings that are satisfied ("good",
            or 4 and 5 of 5): the CSAT score (None without ratings).
        mean_score: the mean of the 1-5 ratings (None without any).
        response_rate: rated tickets over the tickets whose requester could
            rate: rated, or resolved or closed and not merged (None if none).

    Medians and percentiles are continuous (PostgreSQL's ``percentile_cont``):
    the value at rank ``(n - 1) * q`` of the sorted figures, interpolated
    between its neighbours, to the microsecond.
    """

    tickets: int
    median_first_response: timedelta | None
    median_resolution: timedelta | None
    mean_replies: float
    reopened: int
    compliance: Mapping[Target, float]
    median_sla_resolution: timedelta | None
    p90_first_response: timedelta | None = None
    p90_resolution: timedelta | None = None
    p90_sla_resolution: timedelta | None = None
    ratings: int = 0
    satisfaction: float | None = None
    mean_score: float | None = None
    response_rate: float | None = None


def summarise(
    metrics: Sequence[TicketMetrics], slas: Mapping[str, Sequence[SLAState]] | None = None
) -> Summary:
    """Aggregate ticket figures (and their SLA states, by ticket id, if given)."""
    finished: dict[Target, list[bool]] = {}
    for states in (slas or {}).values():
        for state in states:
            if state.met or state.breached:
                finished.setdefault(state.target, []).append(state.met)
    sla_resolution = [
        m.sla_elapsed[Target.RESOLUTION] for m in metrics if m.resolution is not None
    ]
    return Summary(
        tickets=len(metrics),
        median_first_response=_median(m.first_response for m in metrics),
        median_resolution=_median(m.resolution for m in metrics),
        mean_replies=_mean(sum(m.replies for m in metrics), len(metrics)),
        reopened=sum(m.reopens > 0 for m in metrics),
        compliance=MappingProxyType(
            {target: sum(met) / len(met) for target, met in sorted(finished.items(), key=_order)}
        ),
        median_sla_resolution=_median(sla_resolution),
        p90_first_response=_p90(m.first_response for m in metrics),
        p90_resolution=_p90(m.resolution for m in metrics),
        p90_sla_resolution=_p90(sla_resolution),
        **_satisfaction(metrics)._asdict(),
    )


class _Ratings(NamedTuple):
    ratings: int
    satisfaction: float | None
    mean_score: float | None
    response_rate: float | None


def _satisfaction(metrics: Sequence[TicketMetrics]) -> _Ratings:
    """The satisfaction figures of :class:`Summary`, from the tickets' current ratings."""
    scores = [m.rating for m in metrics if m.rating is not None]
    asked = sum(m.rating is not None or m.rateable for m in metrics)
    points = [score for score in scores if isinstance(score, int)]
    return _Ratings(
        ratings=len(scores),
        satisfaction=sum(map(satisfied, scores)) / len(scores) if scores else None,
        mean_score=statistics.fmean(points) if points else None,
        response_rate=len(scores) / asked if asked else None,
    )


def _mean(total: int, count: int) -> float:
    return total / count if count else 0.0


def _order(item: tuple[Target, object]) -> int:
    return list(Target).index(item[0])


def summary_of(group: GroupFigures) -> Summary:
    """The :class:`Summary` of a group's stored figures, as a store added them up."""
    first, resolution, clock = (
        group.spreads[name] for name in ("first_response", "resolution", "sla_resolution")
    )
    return Summary(
        tickets=group.tickets,
        median_first_response=first.p50,
        median_resolution=resolution.p50,
        mean_replies=_mean(group.replies, group.tickets),
        reopened=group.reopened,
        compliance=MappingProxyType(
            {Target(name): group.met[name] / decided for name, decided in group.decided.items()}
        ),
        median_sla_resolution=clock.p50,
        p90_first_response=first.p90,
        p90_resolution=resolution.p90,
        p90_sla_resolution=clock.p90,
        ratings=group.rated,
        satisfaction=group.satisfied / group.rated if group.rated else None,
        mean_score=group.points / group.scored if group.scored else None,
        response_rate=group.rated / group.asked if group.asked else None,
    )


def report_of(totals: FigureTotals, at: datetime) -> MetricsReport:
    """The report of the figures a store added up (``tickets`` is empty: none was read)."""
    return MetricsReport(
        at=at,
        overall=summary_of(totals.overall),
        breakdowns=MappingProxyType(
            {
                name: MappingProxyType(
                    {group: summary_of(figures) for group, figures in groups.items()}
                )
                for name, groups in totals.breakdowns.items()
            }
        ),
        tickets=(),
    )


BREAKDOWNS: Mapping[str, Callable[[Ticket], Iterable[str]]] = GROUPS
"""How tickets are grouped for breakdowns; a ticket with several tags counts in each."""


@attrs.frozen
class MetricsReport:
    """Figures over a set of tickets, with breakdowns by department, priority, agent and tag.

    Attributes:
        at: the instant the figures are measured at.
        overall: over all the tickets.
        breakdowns: per breakdown (department, priority, assignee, tag,
            status), per group in name order, its :class:`Summary`.
        tickets: each ticket's :class:`TicketMetrics`, when the report was
            computed from the histories (``Helpdesk.metrics(per_ticket=True)``);
            empty when it was added up from the stored figures.
    """

    at: datetime
    overall: Summary
    breakdowns: Mapping[str, Mapping[str, Summary]]
    tickets: tuple[TicketMetrics, ...]

    def table(self) -> str:
        """The report as a plain-text table, as ``ticketflow report`` prints it.

        Its columns are medians of the :class:`Summary` figures, in hours:
        ``1st resp`` and ``resolve`` of the full times from creation,
        ``res clock`` of the business time the SLA resolution clock counted;
        a line under the table says so.
        """
        lines = [f"metrics at {self.at:%Y-%m-%d %H:%M} UTC", ""]
        lines.append(
            f"{'':<22} {'tickets':>7} {'1st resp':>9} {'resolve':>9} {'res clock':>9} "
            f"{'replies':>7} {'reopened':>8}"
        )
        lines.append(_row("all", self.overall))
        for name, groups in self.breakdowns.items():
            lines.append(f"by {name}")
            # Group names are stored text (departments, tags): printed escaped.
            lines.extend(
                _row(f"  {printable(group)}", summary) for group, summary in groups.items()
            )
        lines.append("")
        lines.append("1st resp, resolve: median time from creation, every hour counted")
        lines.append("res clock: median business time the SLA resolution clock counted")
        if self.overall.ratings:
            lines.append("")
            lines.append(_satisfaction_line(self.overall))
        if self.overall.compliance:
            lines.append("")
            lines.append(
                "SLA met: "
                + ", ".join(
                    f"{target.value} {share:.0%}"
                    for target, share in sorted(
                        self.overall.compliance.items(), key=lambda item: item[0].value
                    )
                )
            )
        return "\n".join(lines)


def _satisfaction_line(summary: Summary) -> str:
    """The ratings in words, on one line of the table."""
    return f"satisfaction: {satisfaction_words(summary)}"


def satisfaction_words(summary: Summary) -> str:
    """The ratings in words: satisfied share, mean score, response rate."""
    line = f"{summary.satisfaction or 0:.0%} satisfied of {summary.ratings} ratings"
    if summary.mean_score is not None:
        line += f", mean score {summary.mean_score:.1f} of 5"
    if summary.response_rate is not None:
        line += f", response rate {summary.response_rate:.0%}"
    return line


def _hours(value: timedelta | None) -> str:
    return "-" if value is None else f"{value.total_seconds() / 3600:.1f} h"


def _row(label: str, summary: Summary) -> str:
    return (
        f"{label[:22]:<22} {summary.tickets:>7} {_hours(summary.median_first_response):>9} "
        f"{_hours(summary.median_resolution):>9} {_hours(summary.median_sla_resolution):>9} "
        f"{summary.mean_replies:>7.1f} "
        f"{summary.reopened:>8}"
    )


def report(
    metrics: Sequence[TicketMetrics],
    slas: Mapping[str, Sequence[SLAState]],
    at: datetime,
) -> MetricsReport:
    """Aggregate ``metrics`` overall and in every breakdown of :data:`BREAKDOWNS`."""
    breakdowns: dict[str, Mapping[str, Summary]] = {}
    for name, groups_of in BREAKDOWNS.items():
        groups: dict[str, list[TicketMetrics]] = {}
        for item in metrics:
            for group in groups_of(item.ticket):
                groups.setdefault(group, []).append(item)
        breakdowns[name] = MappingProxyType(
            {
                group: summarise(items, {m.ticket.id: slas.get(m.ticket.id, ()) for m in items})
                for group, items in sorted(groups.items())
            }
        )
    return MetricsReport(
        at=at,
        overall=summarise(metrics, slas),
        breakdowns=MappingProxyType(breakdowns),
        tickets=tuple(metrics),
    )


def measure(
    tickets: Iterable[Ticket],
    context_at: Callable[[Ticket, datetime], Context],
    now: datetime,
    *,
    created: Period | None = None,
    resolved: Period | None = None,
) -> MetricsReport:
    """Figures over ``tickets`` at ``now``, each from its context (history read once).

    Business figures use the calendar of the SLA policy that covers each
    ticket; a ticket updated after ``now`` (clocks of several hosts differ a
    little) is measured at its last update.  Only tickets created in
    ``created`` and whose standing resolution fell in ``resolved`` count.
    """
    figures, slas = [], {}
    for ticket in tickets:
        if created is not None and not created.holds(ticket.created_at):
            continue
        context = context_at(ticket, max(now, ticket.updated_at))
        policy = context.sla_policy()
        measured = ticket_metrics(
            ticket,
            context.history(),
            context.workflow,
            context.now,
            None if policy is None else policy.calendar,
            timeline=context.timeline(),
            states=context.sla(),
            calendars=None if policy is None else policy.calendars,
        )
        if resolved is not None and not (
            measured.resolution is not None
            and resolved.holds(ticket.created_at + measured.resolution)
        ):
            continue
        figures.append(measured)
        if policy is not None:
            slas[ticket.id] = context.sla()
    return report(figures, slas, now)
