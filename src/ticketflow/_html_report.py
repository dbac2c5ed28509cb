"""A report people look at: one self-contained HTML page of charts, from a desk.

:func:`html_report` reads a desk through its public API only
(``metrics(per_ticket=True)``, ``history()``, ``sla()`` and ``workflow``) and draws, as inline SVG
(:mod:`ticketflow._svg`): tickets created and resolved per day, the backlog,
SLA compliance per week and per priority, the time to first response, the
flow between statuses, and the customers' satisfaction per week and per
priority.  Every chart has a data table under it, for screen
readers and for copying.  The page needs nothing outside itself: no script,
no font, no image, no link, and a Content-Security-Policy that forbids them.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from html import escape

import attrs

from ticketflow._desk import Helpdesk
from ticketflow._errors import InvalidInput
from ticketflow._history import HistoryEvent
from ticketflow._metrics import MetricsReport, Summary, TicketMetrics
from ticketflow._satisfaction import rated_at, satisfied
from ticketflow._status import ACTIVE_CATEGORIES, Category
from ticketflow._svg import Plot, Series, bar_chart, line_chart, matrix
from ticketflow._ticket import Priority
from ticketflow._validate import text
from ticketflow._version import __version__
from ticketflow.sla import Target

FIRST_RESPONSE_BUCKETS: tuple[tuple[str, timedelta | None], ...] = (
    ("< 1 h", timedelta(hours=1)),
    ("1-2 h", timedelta(hours=2)),
    ("2-4 h", timedelta(hours=4)),
    ("4-8 h", timedelta(hours=8)),
    ("8-24 h", timedelta(hours=24)),
    ("1-2 d", timedelta(days=2)),
    ("2 d +", None),
)
"""The bars of the first-response chart: a label and the (exclusive) upper bound."""

_OPENED = "(opened)"
"""The row of the flow matrix for tickets as they are created."""


@attrs.frozen
class Chart:
    """One chart of the page: its SVG and its data table.

    Attributes:
        ident: the chart's id in the page.
        title: its heading.
        note: one sentence on how to read it.
        svg: the drawing (empty when there is nothing to draw yet).
        head: the column headings of its table.
        rows: the rows of its table, as text.
    """

    ident: str
    title: str
    note: str
    svg: str
    head: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def html_report(desk: Helpdesk, *, title: str = "Help desk report") -> str:
    """Return a self-contained HTML page of charts over every ticket of ``desk``, at its now.

    The page holds inline SVG charts (tickets created and resolved per day,
    the backlog at the end of each day, SLA compliance per week opened and
    per priority, the time to first response, the flow between statuses,
    the satisfaction ratings and their response rate per week and per
    priority), each with a table of its figures, then the headline figures
    and the breakdowns of :meth:`Helpdesk.metrics`.  It loads nothing: no script, no
    font, no image.  Figures come from history, as ``metrics(per_ticket=True)``
    computes them (the charts need each ticket's figures); SLA compliance is
    of the clocks decided by now (met in time, or breached), under the desk's
    SLA policies.

    Args:
        desk: the desk to report on.
        title: the page's title and heading.

    Raises:
        InvalidInput: ``desk`` is not a Helpdesk, or ``title`` is not text.

    >>> from datetime import UTC, datetime, timedelta
    >>> from ticketflow import Actor, Contact, Helpdesk, ManualClock, html_report
    >>> clock = ManualClock(datetime(2026, 1, 5, 9, tzinfo=UTC))
    >>> desk = Helpdesk(clock=clock)
    >>> ticket = desk.open(subject="VPN drops", description="Every hour.",
    ...                    requester=Contact(name="Ana", email="ana@example.com"))
    >>> _ = clock.advance(timedelta(hours=2))
    >>> _ = desk.reply(ticket.id, Actor.agent("a-1"), "Try the new profile.")
    >>> page = html_report(desk, title="January")
    >>> page.startswith("<!DOCTYPE html>"), "<script" in page
    (True, False)

    Without SLA policies or ratings, the two SLA charts and the two
    satisfaction charts say "No data yet."; the other four are drawn:

    >>> page.count("<svg"), page.count("No data yet.")
    (4, 4)
    """
    if not isinstance(desk, Helpdesk):
        raise InvalidInput("desk", desk, "a Helpdesk, such as Helpdesk(store=SQLiteStore(path))")
    heading = text(title, "title")
    metrics = desk.metrics(per_ticket=True)  # the charts read every ticket's figures
    histories = {item.ticket.id: desk.history(item.ticket.id) for item in metrics.tickets}
    days = _days(histories.values(), metrics.at)
    charts = [
        _created_and_resolved(desk, histories, days),
        _backlog(desk, histories, days),
        _compliance_by_week(desk, metrics),
        _compliance_by_priority(metrics),
        _first_response(metrics),
        _flow(desk, histories),
        _satisfaction_by_week(metrics),
        _satisfaction_by_priority(metrics),
    ]
    return _page(heading, metrics, days, charts)


# -- the figures --------------------------------------------------------------------


def _days(histories: Iterable[Sequence[HistoryEvent]], now: datetime) -> list[date]:
    """Every day from the first event to the last (UTC), or today alone with no tickets."""
    instants = [event.at for history in histories for event in history]
    first = min(instants, default=now).date()
    last = max(instants, default=now).date()
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


def _label(day: date) -> str:
    return f"{day:%d %b}"


def _solved(desk: Helpdesk, status: str) -> bool:
    found = desk.workflow.statuses.get(status)
    return found is not None and found.category is Category.SOLVED


LONGEST_DAILY = 92
"""Longer than this many days, tickets created and resolved are counted per week."""


def _created_and_resolved(
    desk: Helpdesk, histories: dict[str, list[HistoryEvent]], days: list[date]
) -> Chart:
    weekly = len(days) > LONGEST_DAILY
    periods = sorted({_week(day) for day in days}) if weekly else days

    def period(instant: datetime) -> date:
        return _week(instant.date()) if weekly else instant.date()

    created: Counter[date] = Counter()
    resolved: Counter[date] = Counter()
    for history in histories.values():
        for event in history:
            if event.from_status is None:
                created[period(event.at)] += 1
            elif event.moved and _solved(desk, event.to_status):
                resolved[period(event.at)] += 1
    series = [
        Series("created", [created[when] for when in periods]),
        Series("resolved", [resolved[when] for when in periods]),
    ]
    unit = "week" if weekly else "day"
    title = f"Tickets created and resolved per {unit}"
    return Chart(
        "created-resolved",
        title,
        "Each resolution counts, a ticket resolved again after a reopen too "
        + ("(weeks from Monday, UTC)." if weekly else "(UTC days)."),
        line_chart(
            Plot(
                "created-resolved",
                title,
                f"{sum(created.values())} created and {sum(resolved.values())} resolutions "
                f"over {len(days)} days",
                [_label(when) for when in periods],
                series,
                x_label="week from Monday (UTC)" if weekly else "day (UTC)",
                y_label="tickets",
            )
        ),
        ("week from" if weekly else "day", "created", "resolved"),
        tuple(
            (f"{when:%Y-%m-%d}", str(created[when]), str(resolved[when]))
            for when in periods
            if created[when] or resolved[when]
        ),
    )


def _week(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


def _backlog(desk: Helpdesk, histories: dict[str, list[HistoryEvent]], days: list[date]) -> Chart:
    """How many tickets were active (new, open, pending, on hold) at the end of each day."""
    ends = [datetime.combine(day + timedelta(days=1), time(), UTC) for day in days]
    change = [0] * (len(days) + 1)
    for history in histories.values():
        since: datetime | None = None
        for event in history:
            status = desk.workflow.statuses.get(event.to_status)
            active = status is not None and status.category in ACTIVE_CATEGORIES
            if active and since is None:
                since = event.at
            elif not active and since is not None:
                change[bisect.bisect_right(ends, since)] += 1
                change[bisect.bisect_right(ends, event.at)] -= 1
                since = None
        if since is not None:
            change[bisect.bisect_right(ends, since)] += 1
    backlog, running = [], 0
    for index in range(len(days)):
        running += change[index]
        backlog.append(running)
    title = "Backlog at the end of each day"
    return Chart(
        "backlog",
        title,
        "Tickets new, open, waiting on the customer or postponed when the day ended (UTC).",
        line_chart(
            Plot(
                "backlog",
                title,
                f"from {backlog[0]} to {backlog[-1]} active tickets, at most {max(backlog)}",
                [_label(day) for day in days],
                [Series("active tickets", backlog)],
                x_label="day (UTC)",
                y_label="active tickets",
            )
        ),
        ("day", "active tickets"),
        tuple((f"{day:%Y-%m-%d}", str(count)) for day, count in zip(days, backlog, strict=True)),
    )


def _targets(found: Iterable[Target]) -> list[Target]:
    present = set(found)
    return [target for target in Target if target in present]


def _named(target: Target) -> str:
    """A target as the page names it: ``first response`` for ``first_response``."""
    return target.value.replace("_", " ")


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _compliance_by_week(desk: Helpdesk, metrics: MetricsReport) -> Chart:
    decided: dict[date, dict[Target, list[bool]]] = {}
    for item in metrics.tickets:
        week = _week(item.ticket.created_at.date())
        for state in desk.sla(item.ticket.id):
            if state.met or state.breached:
                decided.setdefault(week, {}).setdefault(state.target, []).append(state.met)
    weeks = sorted(decided)
    targets = _targets(target for by_target in decided.values() for target in by_target)

    def share(week: date, target: Target) -> float | None:
        met = decided[week].get(target)
        return sum(met) / len(met) if met else None

    title = "SLA compliance per week"
    note = "Share of the decided SLA clocks (met, or breached) that met their target, by the "
    note += "week (from Monday) the ticket was opened."
    svg = ""
    if weeks:
        svg = bar_chart(
            Plot(
                "compliance-week",
                title,
                "; ".join(
                    f"week of {week:%d %b}: "
                    + ", ".join(f"{_named(t)} {_share(share(week, t))}" for t in targets)
                    for week in weeks
                ),
                [_label(week) for week in weeks],
                [
                    Series(_named(target), [share(week, target) for week in weeks])
                    for target in targets
                ],
                x_label="week the tickets were opened (from Monday)",
                y_label="targets met",
                percent=True,
            )
        )
    return Chart(
        "compliance-week",
        title,
        note,
        svg,
        ("week", *(_named(target) for target in targets)),
        tuple(
            (f"{week:%Y-%m-%d}", *(_share(share(week, target)) for target in targets))
            for week in weeks
        ),
    )


def _compliance_by_priority(metrics: MetricsReport) -> Chart:
    groups = metrics.breakdowns.get("priority", {})
    priorities = [
        priority.value
        for priority in reversed(Priority)
        if priority.value in groups and groups[priority.value].compliance
    ]
    targets = _targets(target for name in priorities for target in groups[name].compliance)
    title = "SLA compliance per priority"
    svg = ""
    if priorities:
        svg = bar_chart(
            Plot(
                "compliance-priority",
                title,
                "; ".join(
                    f"{name}: "
                    + ", ".join(
                        f"{_named(t)} {_share(groups[name].compliance.get(t))}" for t in targets
                    )
                    for name in priorities
                ),
                priorities,
                [
                    Series(
                        _named(target),
                        [groups[name].compliance.get(target) for name in priorities],
                    )
                    for target in targets
                ],
                x_label="priority",
                y_label="targets met",
                percent=True,
            )
        )
    return Chart(
        "compliance-priority",
        title,
        "Share of the decided SLA clocks that met their target, by the ticket's priority.",
        svg,
        ("priority", *(_named(target) for target in targets)),
        tuple(
            (name, *(_share(groups[name].compliance.get(target)) for target in targets))
            for name in priorities
        ),
    )


def _first_response(metrics: MetricsReport) -> Chart:
    counts = [0] * len(FIRST_RESPONSE_BUCKETS)
    for item in metrics.tickets:
        if item.first_response is None:
            continue
        counts[
            next(
                index
                for index, (_label, bound) in enumerate(FIRST_RESPONSE_BUCKETS)
                if bound is None or item.first_response < bound
            )
        ] += 1
    waiting = sum(item.first_response is None for item in metrics.tickets)
    labels = [label for label, _bound in FIRST_RESPONSE_BUCKETS]
    title = "Time to first response"
    svg = ""
    if any(counts):
        svg = bar_chart(
            Plot(
                "first-response",
                title,
                ", ".join(
                    f"{label}: {count}" for label, count in zip(labels, counts, strict=True)
                ),
                labels,
                [Series("tickets", counts)],
                x_label="time from creation to the first staff reply (every hour counted)",
                y_label="tickets",
            )
        )
    return Chart(
        "first-response",
        title,
        f"Tickets by the time their first staff reply took; {waiting} not answered yet "
        "are left out.",
        svg,
        ("time to first response", "tickets"),
        tuple((label, str(count)) for label, count in zip(labels, counts, strict=True)),
    )


def _flow(desk: Helpdesk, histories: dict[str, list[HistoryEvent]]) -> Chart:
    moves: Counter[tuple[str, str]] = Counter()
    for history in histories.values():
        for event in history:
            if event.from_status is None:
                moves[_OPENED, event.to_status] += 1
            elif event.moved:
                moves[event.from_status, event.to_status] += 1
    order = list(desk.workflow.statuses)

    def ranked(names: set[str]) -> list[str]:
        return sorted(
            names, key=lambda name: (order.index(name) if name in order else len(order), name)
        )

    sources = {source for source, _target in moves}
    rows = ([_OPENED] if _OPENED in sources else []) + ranked(sources - {_OPENED})
    columns = ranked({target for _source, target in moves})
    title = "Flow between statuses"
    svg = ""
    if moves:
        svg = matrix(
            "flow",
            title,
            "; ".join(
                f"{source} to {target}: {count}" for (source, target), count in moves.most_common()
            ),
            rows,
            columns,
            cells=dict(moves),
            row_label="from",
            column_label="to",
        )
    return Chart(
        "flow",
        title,
        "How many times tickets moved from one status (row) to another (column); darker is more.",
        svg,
        ("from", "to", "moves"),
        tuple((source, target, str(count)) for (source, target), count in moves.most_common()),
    )


class _Rated:
    """Ratings of a group of tickets: how many, how many satisfied, how many could rate."""

    def __init__(self) -> None:
        self.ratings = self.satisfied = self.asked = 0

    def add(self, item: TicketMetrics) -> None:
        if item.rating is not None:
            self.ratings += 1
            self.satisfied += satisfied(item.rating)
        self.asked += item.rating is not None or item.rateable

    @property
    def share(self) -> float | None:
        return self.satisfied / self.ratings if self.ratings else None

    @property
    def response_rate(self) -> float | None:
        return self.ratings / self.asked if self.asked else None


_SATISFACTION_NOTE = (
    "Satisfied: the share of ratings that are good (or 4 and 5 of 5). Response rate: "
    "rated tickets over the resolved and closed tickets that could be rated."
)


def _satisfaction_chart(
    ident: str,
    title: str,
    note: str,
    groups: dict[str, tuple[int, float | None, float | None]],
    *,
    x_label: str,
    first: str,
    axis: Sequence[str] | None = None,
) -> Chart:
    """Bars of the satisfied share and the response rate per group, and their table.

    ``groups`` maps a group's label to its ratings, satisfied share and
    response rate; ``axis`` labels the groups on the chart, if not so.
    """
    labels = list(groups)
    svg = ""
    if any(ratings for ratings, _share, _rate in groups.values()):
        svg = bar_chart(
            Plot(
                ident,
                title,
                "; ".join(
                    f"{label}: {_share(share)} satisfied of {ratings} ratings, "
                    f"response rate {_share(rate)}"
                    for label, (ratings, share, rate) in groups.items()
                ),
                list(axis or labels),
                [
                    Series("satisfied", [groups[label][1] for label in labels]),
                    Series("response rate", [groups[label][2] for label in labels]),
                ],
                x_label=x_label,
                y_label="share",
                percent=True,
            )
        )
    return Chart(
        ident,
        title,
        f"{note} {_SATISFACTION_NOTE}",
        svg,
        (first, "ratings", "satisfied", "response rate"),
        tuple(
            (label, str(ratings), _share(share), _share(rate))
            for label, (ratings, share, rate) in groups.items()
        ),
    )


def _satisfaction_by_week(metrics: MetricsReport) -> Chart:
    weeks: dict[date, _Rated] = {}
    for item in metrics.tickets:
        if item.rating is None and not item.rateable:
            continue
        when = item.ticket.resolved_at or rated_at(item.ticket)
        if when is not None:
            weeks.setdefault(_week(when.date()), _Rated()).add(item)
    return _satisfaction_chart(
        "satisfaction-week",
        "Satisfaction per week",
        "By the week (from Monday) the ticket was resolved.",
        {
            f"{week:%Y-%m-%d}": (rated.ratings, rated.share, rated.response_rate)
            for week, rated in sorted(weeks.items())
        },
        x_label="week the tickets were resolved (from Monday)",
        first="week",
        axis=[_label(week) for week in sorted(weeks)],
    )


def _satisfaction_by_priority(metrics: MetricsReport) -> Chart:
    groups = metrics.breakdowns.get("priority", {})
    return _satisfaction_chart(
        "satisfaction-priority",
        "Satisfaction per priority",
        "By the ticket's priority.",
        {
            priority.value: (summary.ratings, summary.satisfaction, summary.response_rate)
            for priority in reversed(Priority)
            if (summary := groups.get(priority.value)) is not None
            and summary.response_rate is not None
        },
        x_label="priority",
        first="priority",
    )


# -- the page -----------------------------------------------------------------------


def _hours(value: timedelta | None) -> str:
    return "-" if value is None else f"{value.total_seconds() / 3600:.1f} h"


_STYLE = """
:root { color-scheme: light; --ink: #1a1a1a; --soft: #555; --line: #d0d4da; --card: #ffffff; }
* { box-sizing: border-box; }
body { margin: 0; background: #f4f5f7; color: var(--ink); font: 15px/1.5 system-ui,
  -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
header, main, footer { max-width: 1180px; margin: 0 auto; padding: 0 20px; }
header { padding-top: 28px; }
h1 { font-size: 1.8rem; margin: 0 0 4px; }
h2 { font-size: 1.1rem; margin: 0; }
.sub { color: var(--soft); margin: 0 0 20px; }
.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 12px;
  margin: 0 0 20px; padding: 0; list-style: none; }
.kpis li { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
  padding: 12px 14px; }
.kpis .figure { display: block; font-size: 1.5rem; font-weight: 650; }
.kpis .what { color: var(--soft); font-size: .85rem; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 16px; }
figure { margin: 0; background: var(--card); border: 1px solid var(--line); border-radius: 8px;
  padding: 14px 16px; }
figcaption p { color: var(--soft); margin: 2px 0 8px; font-size: .9rem; }
.chart-svg { width: 100%; height: auto; display: block; }
.chart-svg text { font-family: inherit; fill: var(--ink); }
.chart-svg .tick { font-size: 11px; fill: #444; }
.chart-svg .label { font-size: 12px; font-weight: 600; }
.chart-svg .legend { font-size: 12px; }
.chart-svg .value { font-size: 11px; }
.chart-svg text.on-dark { fill: #ffffff; }
.chart-svg .grid { stroke: #e3e6ea; stroke-width: 1; }
.chart-svg .axis { stroke: #767676; stroke-width: 1.2; }
.chart-svg .empty { fill: #f6f7f9; }
.nodata { color: var(--soft); font-style: italic; }
details { margin-top: 8px; font-size: .9rem; }
summary { cursor: pointer; color: #0b5cad; }
table { border-collapse: collapse; margin: 8px 0; font-size: .88rem; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 10px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.breakdowns { margin-top: 20px; background: var(--card); border: 1px solid var(--line);
  border-radius: 8px; padding: 14px 16px; }
.breakdowns h3 { font-size: 1rem; margin: 14px 0 0; }
footer { color: var(--soft); font-size: .85rem; padding: 20px; }
"""


def _table(head: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    cells = "".join(f'<th scope="col">{escape(name)}</th>' for name in head)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(value)}</td>" for value in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>"


def _figure(chart: Chart) -> str:
    drawing = chart.svg or '<p class="nodata">No data yet.</p>'
    return (
        f'<figure class="chart" id="{chart.ident}">'
        f"<figcaption><h2>{escape(chart.title)}</h2><p>{escape(chart.note)}</p></figcaption>"
        f"{drawing}<details><summary>Data table: {escape(chart.title)}</summary>"
        f"{_table(chart.head, chart.rows)}</details></figure>"
    )


def _kpis(metrics: MetricsReport) -> str:
    overall = metrics.overall
    items = [
        (str(overall.tickets), "tickets"),
        (_hours(overall.median_first_response), "median first response"),
        (_hours(overall.median_resolution), "median resolution"),
        (str(overall.reopened), "reopened"),
    ]
    items.extend(
        (f"{overall.compliance[target]:.0%}", f"SLA {_named(target)} met")
        for target in _targets(overall.compliance)
    )
    if overall.ratings:
        items.append((_share(overall.satisfaction), f"satisfied, of {overall.ratings} ratings"))
        items.append((_share(overall.response_rate), "rating response rate"))
    return (
        '<ul class="kpis">'
        + "".join(
            f'<li><span class="figure">{escape(figure)}</span>'
            f'<span class="what">{escape(what)}</span></li>'
            for figure, what in items
        )
        + "</ul>"
    )


def _breakdowns(metrics: MetricsReport) -> str:
    targets = _targets(
        target
        for groups in metrics.breakdowns.values()
        for summary in groups.values()
        for target in summary.compliance
    )
    rated = metrics.overall.ratings > 0
    head = (
        "group",
        "tickets",
        "median first response",
        "median resolution",
        "replies per ticket",
        "reopened",
        *(f"SLA {_named(target)} met" for target in targets),
        *(("satisfied", "response rate") if rated else ()),
    )

    def row(name: str, summary: Summary) -> tuple[str, ...]:
        return (
            name,
            str(summary.tickets),
            _hours(summary.median_first_response),
            _hours(summary.median_resolution),
            f"{summary.mean_replies:.1f}",
            str(summary.reopened),
            *(_share(summary.compliance.get(target)) for target in targets),
            *((_share(summary.satisfaction), _share(summary.response_rate)) if rated else ()),
        )

    parts = ['<section class="breakdowns"><h2>Breakdowns</h2>']
    for name in ("priority", "department", "assignee", "status"):
        groups = dict(metrics.breakdowns.get(name, {}))
        if name == "priority":  # most urgent first, as the charts have it
            ranks = {priority.value: rank for rank, priority in enumerate(reversed(Priority))}
            groups = dict(sorted(groups.items(), key=lambda item: ranks.get(item[0], len(ranks))))
        if groups:
            parts.append(f"<h3>By {escape(name)}</h3>")
            parts.append(_table(head, [row(group, summary) for group, summary in groups.items()]))
    parts.append("</section>")
    return "".join(parts)


def _page(title: str, metrics: MetricsReport, days: list[date], charts: list[Chart]) -> str:
    span = f"{days[0]:%d %b %Y} to {days[-1]:%d %b %Y}"
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            # Nothing may load: the page is whole as it is, and stays private.
            '<meta http-equiv="Content-Security-Policy" '
            "content=\"default-src 'none'; style-src 'unsafe-inline'\">",
            f"<title>{escape(title)}</title>",
            f"<style>{_STYLE}</style>",
            "</head>",
            "<body>",
            f"<header><h1>{escape(title)}</h1>",
            f'<p class="sub">{metrics.overall.tickets} tickets, activity from {span}; '
            f"figures at {metrics.at:%Y-%m-%d %H:%M} UTC</p>",
            _kpis(metrics),
            "</header>",
            "<main>",
            '<div class="charts">',
            *(_figure(chart) for chart in charts),
            "</div>",
            _breakdowns(metrics),
            "</main>",
            f"<footer>Made by ticketflow {escape(__version__)} from the tickets' history."
            "</footer>",
            "</body>",
            "</html>",
            "",
        ]
    )
