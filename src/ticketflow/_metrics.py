"""Metrics from history: per ticket, and aggregated with breakdowns.

Everything here is computed from the events, so the figures can be recomputed
at any time, for any past ticket, under any calendar.  Durations are
calendar time unless a business calendar is given, in which case the
``business_`` figures count only its open hours.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from types import MappingProxyType

import attrs

from ticketflow._history import HistoryEvent
from ticketflow._status import Category
from ticketflow._ticket import Ticket
from ticketflow._workflow import Workflow
from ticketflow.sla._calendar import Calendar
from ticketflow.sla._clocks import SLAState
from ticketflow.sla._policy import Target


@attrs.frozen
class TicketMetrics:
    """One ticket's figures.

    Attributes:
        ticket: the ticket as it stands.
        first_response: creation to the first staff reply (None: not yet).
        resolution: creation to the latest entry into a solved status, while
            it is solved or closed (None: not resolved).
        business_first_response, business_resolution: the same, counting only
            the calendar's open hours.
        replies: staff replies.
        customer_replies: customer replies after the first message.
        reopens: the ticket's reopen count.
        time_in_status: how long it sat in each status, up to now.
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


def ticket_metrics(
    ticket: Ticket,
    history: Sequence[HistoryEvent],
    workflow: Workflow,
    now: datetime,
    calendar: Calendar | None = None,
) -> TicketMetrics:
    """Compute one ticket's figures from its history at ``now``."""
    hours = calendar or Calendar.always()
    created = history[0].at
    replied = next((event.at for event in history if event.name == "agent_reply"), None)
    solved = [
        event.at
        for event in history
        if event.moved and workflow.category(event.to_status) is Category.SOLVED
    ]
    finished = workflow.category(ticket.status) in (Category.SOLVED, Category.CLOSED)
    resolved = solved[-1] if solved and finished else None
    spent: dict[str, timedelta] = {}
    for event, following in zip(history, [*history[1:], None], strict=True):
        end = now if following is None else following.at
        spent[event.to_status] = spent.get(event.to_status, timedelta(0)) + max(
            end - event.at, timedelta(0)
        )
    return TicketMetrics(
        ticket=ticket,
        first_response=None if replied is None else replied - created,
        resolution=None if resolved is None else resolved - created,
        business_first_response=None if replied is None else hours.elapsed(created, replied),
        business_resolution=None if resolved is None else hours.elapsed(created, resolved),
        replies=sum(event.name == "agent_reply" for event in history),
        customer_replies=sum(event.name == "customer_reply" for event in history),
        reopens=ticket.reopen_count,
        time_in_status=MappingProxyType(spent),
    )


def _median(values: Iterable[timedelta | None]) -> timedelta | None:
    present = sorted(value for value in values if value is not None)
    if not present:
        return None
    seconds = statistics.median(value.total_seconds() for value in present)
    return timedelta(seconds=seconds)


@attrs.frozen
class Summary:
    """Figures over a group of tickets.

    Attributes:
        tickets: how many.
        median_first_response, median_resolution: over those that have one.
        mean_replies: staff replies per ticket.
        reopened: how many were reopened at least once.
        compliance: per SLA target, the share of finished clocks that met it
            (targets with no finished clock are left out).
    """

    tickets: int
    median_first_response: timedelta | None
    median_resolution: timedelta | None
    mean_replies: float
    reopened: int
    compliance: Mapping[Target, float]


def summarise(
    metrics: Sequence[TicketMetrics], slas: Mapping[str, Sequence[SLAState]] | None = None
) -> Summary:
    """Aggregate ticket figures (and their SLA states, by ticket id, if given)."""
    finished: dict[Target, list[bool]] = {}
    for states in (slas or {}).values():
        for state in states:
            if state.met or state.breached:
                finished.setdefault(state.target, []).append(state.met)
    return Summary(
        tickets=len(metrics),
        median_first_response=_median(m.first_response for m in metrics),
        median_resolution=_median(m.resolution for m in metrics),
        mean_replies=statistics.fmean(m.replies for m in metrics) if metrics else 0.0,
        reopened=sum(m.reopens > 0 for m in metrics),
        compliance=MappingProxyType(
            {target: sum(met) / len(met) for target, met in finished.items()}
        ),
    )


BREAKDOWNS: Mapping[str, Callable[[Ticket], Iterable[str]]] = MappingProxyType(
    {
        "department": lambda ticket: [ticket.department or "(none)"],
        "priority": lambda ticket: [ticket.priority.value],
        "assignee": lambda ticket: [ticket.assignee or "(unassigned)"],
        "tag": lambda ticket: sorted(ticket.tags) or ["(untagged)"],
        "status": lambda ticket: [ticket.status],
    }
)
"""How tickets are grouped for breakdowns; a ticket with several tags counts in each."""


@attrs.frozen
class MetricsReport:
    """Figures over a set of tickets, with breakdowns by department, priority, agent and tag."""

    at: datetime
    overall: Summary
    breakdowns: Mapping[str, Mapping[str, Summary]]
    tickets: tuple[TicketMetrics, ...]

    def table(self) -> str:
        """The report as a plain-text table, as ``ticketflow report`` prints it."""
        lines = [f"metrics at {self.at:%Y-%m-%d %H:%M} UTC", ""]
        lines.append(
            f"{'':<22} {'tickets':>7} {'1st resp':>9} {'resolve':>9} "
            f"{'replies':>7} {'reopened':>8}"
        )
        lines.append(_row("all", self.overall))
        for name, groups in self.breakdowns.items():
            lines.append(f"by {name}")
            lines.extend(_row(f"  {group}", summary) for group, summary in groups.items())
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


def _hours(value: timedelta | None) -> str:
    return "-" if value is None else f"{value.total_seconds() / 3600:.1f} h"


def _row(label: str, summary: Summary) -> str:
    return (
        f"{label[:22]:<22} {summary.tickets:>7} {_hours(summary.median_first_response):>9} "
        f"{_hours(summary.median_resolution):>9} {summary.mean_replies:>7.1f} "
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
