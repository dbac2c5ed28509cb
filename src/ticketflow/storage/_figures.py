"""Stored figures: each ticket's final metric figures, and their totals over groups of tickets.

A desk computes a ticket's :class:`Figures` with each commit (how long the
first response and the resolution took, replies, and the verdict of each SLA
target) and the store keeps them beside the ticket.  ``Store.aggregate``
then adds them up over the tickets a query selects, overall and in each
breakdown, without reading a history: SQL ``GROUP BY`` on SQLite and
PostgreSQL, a pass over the stored figures in memory.

Medians and 90th percentiles are *continuous* percentiles (PostgreSQL's
``percentile_cont``, the median of :mod:`statistics`): the value at rank
``(n - 1) * q`` of the sorted values, interpolated between its two
neighbours.  SQL stores read, per figure, the selected tickets in the order
of its value (one ordered query); the values are dealt to each group in that
order, so every group's values come sorted and the two neighbours are read
at their ranks; they are interpolated here, in whole microseconds, so all
stores agree to the microsecond.  (An ordered window query,
``ROW_NUMBER() OVER (PARTITION BY ... ORDER BY ...)``, sorted about fifteen
rows a ticket and took three to six times as long.)

The figures are columns of their own, one a figure: another figure is one
more field here and one more column.  The satisfaction rating is one column,
``fig_rating``: the score (1-5; 6 for "bad", 7 for "good"), negated if the
requester could not rate the ticket now (reopened, or merged, since); 0 for a
ticket not rated whose requester could rate, NULL for one that could not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from fractions import Fraction
from types import MappingProxyType
from typing import Any

import attrs

from ticketflow._errors import InvalidInput
from ticketflow._ticket import Ticket
from ticketflow._validate import to_utc
from ticketflow.storage._codec import time_in, time_out
from ticketflow.storage._query import TicketQuery

TARGETS: tuple[str, ...] = ("first_response", "next_response", "resolution", "close_within")
"""The SLA targets a verdict is kept for, by name (the values of ``ticketflow.sla.Target``)."""

QUANTILES: tuple[tuple[int, int], ...] = ((1, 2), (9, 10))
"""The percentiles kept per breakdown, as fractions: the median (p50) and p90."""

GROUPS: Mapping[str, Callable[[Ticket], Iterable[str]]] = MappingProxyType(
    {
        "department": lambda ticket: [ticket.department or "(none)"],
        "priority": lambda ticket: [ticket.priority.value],
        "assignee": lambda ticket: [ticket.assignee or "(unassigned)"],
        "tag": lambda ticket: sorted(ticket.tags) or ["(untagged)"],
        "status": lambda ticket: [ticket.status],
    }
)
"""How tickets are grouped for breakdowns; a ticket with several tags counts in each."""

_MICROSECOND = timedelta(microseconds=1)


def _duration(value: object) -> timedelta | None:
    if value is not None and (not isinstance(value, timedelta) or value < timedelta(0)):
        raise InvalidInput("Figures", value, "None or a timedelta, zero or more")
    return value


def _count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput("Figures", value, "a whole number, zero or more")
    return value


def _instant(value: object) -> datetime | None:
    return None if value is None else to_utc(value, "Figures")


def _rating(value: object) -> int | str | None:
    if value is None or (isinstance(value, str) and value in _WORDS):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 5:
        return value
    raise InvalidInput("Figures.rating", value, 'None, "good", "bad", or a whole number 1-5')


_WORDS: Mapping[str, int] = MappingProxyType({"bad": 6, "good": 7})
"""The column value of a word rating (scores 1-5 are stored as they are)."""

_SATISFIED = (4, 5, 7)
"""The column values of a satisfied rating: 4 and 5 of 5, and "good" (as ``satisfied`` says)."""


@attrs.frozen
class Verdict:
    """How one SLA target stands on a ticket, as of its last commit.

    Attributes:
        met: the clock stopped in time.
        breached: the clock counted more than the target.
        breaches_at: for a clock that runs and is not breached yet: the
            instant from which it is (if nothing else happens first); None
            otherwise.  A report at a later instant counts the clock as
            breached from then on, without a commit.

    >>> Verdict(met=True).decided(None)
    True
    """

    met: bool = False
    breached: bool = False
    breaches_at: datetime | None = attrs.field(default=None, converter=_instant)

    def decided(self, now: datetime | None) -> bool:
        """Whether the target is met or breached at ``now`` (None: as of the last commit)."""
        return (
            self.met
            or self.breached
            or (now is not None and self.breaches_at is not None and self.breaches_at <= now)
        )


def _verdicts(value: object) -> Mapping[str, Verdict]:
    if not isinstance(value, Mapping) or not all(
        name in TARGETS and isinstance(verdict, Verdict) for name, verdict in value.items()
    ):
        raise InvalidInput("Figures.sla", value, f"a mapping of {', '.join(TARGETS)} to Verdicts")
    return MappingProxyType({name: value[name] for name in TARGETS if name in value})


@attrs.frozen
class Figures:
    """One ticket's figures, as they stood at its last commit.

    What the report adds up (see :class:`~ticketflow.TicketMetrics`, whose
    figures of the same names these equal) and what they are folded from.

    Attributes:
        key: what they were computed under (the SLA policies and the workflow's
            statuses, see ``Helpdesk.figures_key``); figures under another
            key are recomputed by ``Helpdesk.recompute_figures``.
        first_response: creation to the first staff reply (None: not yet).
        resolution: creation to the resolution, while it stands.
        business_first_response, business_resolution: the same, in the
            covering SLA policy's business hours.
        resolution_clock: the business time the SLA resolution clock counted
            (left out of reports unless the resolution stands).
        resolved_at: the latest entry into a solved status (None: never),
            whether or not it stands.
        replies: staff replies.
        customer_replies: customer replies after the first message.
        policy: the SLA policy that covered the ticket (None: none).
        sla: each target of that policy and its :class:`Verdict`.
        rating: the ticket's current satisfaction rating (None: not rated),
            as ``TicketMetrics.rating``.
        rateable: whether its requester could rate it (its resolution
            stands and it was not merged), as ``TicketMetrics.rateable``.

    >>> Figures("f1-0", replies=2).replies
    2
    """

    key: str
    first_response: timedelta | None = attrs.field(default=None, converter=_duration)
    resolution: timedelta | None = attrs.field(default=None, converter=_duration)
    business_first_response: timedelta | None = attrs.field(default=None, converter=_duration)
    business_resolution: timedelta | None = attrs.field(default=None, converter=_duration)
    resolution_clock: timedelta = attrs.field(default=timedelta(0), converter=_duration)
    resolved_at: datetime | None = attrs.field(default=None, converter=_instant)
    replies: int = attrs.field(default=0, converter=_count)
    customer_replies: int = attrs.field(default=0, converter=_count)
    policy: str | None = None
    sla: Mapping[str, Verdict] = attrs.field(
        factory=lambda: MappingProxyType({}), converter=_verdicts, hash=False
    )
    rating: int | str | None = attrs.field(default=None, converter=_rating)
    rateable: bool = attrs.field(default=False, converter=bool)

    @property
    def sla_resolution(self) -> timedelta | None:
        """The resolution clock's business time, if the resolution stands."""
        return None if self.resolution is None else self.resolution_clock


def check_figures(figures: object, *, optional: bool = True) -> Figures | None:
    """Refuse anything but :class:`Figures` (or None, if ``optional``) before a store sees it."""
    if (figures is None and optional) or isinstance(figures, Figures):
        return figures
    raise InvalidInput("figures", figures, "a Figures" + (" or None" if optional else ""))


# -- storing: one column a figure ------------------------------------------------

FIGURE_COLUMNS: tuple[str, ...] = (
    "fig_key",
    "fig_first_response",
    "fig_resolution",
    "fig_business_first_response",
    "fig_business_resolution",
    "fig_resolution_clock",
    "fig_resolved_at",
    "fig_replies",
    "fig_customer_replies",
    "fig_policy",
    *(f"fig_sla_{name}{part}" for name in TARGETS for part in ("", "_at")),
    "fig_rating",
)
"""The columns that hold a ticket's figures (``fig_sla_<target>``: 1 met, 0 breached, 2 open).

``fig_rating``: see the module's docstring.
"""

_MET, _BREACHED, _OPEN = 1, 0, 2


def _micros(value: timedelta | None) -> int | None:
    return None if value is None else value // _MICROSECOND


def _span(value: Any) -> timedelta | None:
    return None if value is None else timedelta(microseconds=int(value))


def figures_row(figures: Figures) -> tuple[Any, ...]:
    """The column values of ``figures``, in the order of :data:`FIGURE_COLUMNS`."""
    verdicts: list[Any] = []
    for name in TARGETS:
        verdict = figures.sla.get(name)
        if verdict is None:
            verdicts += [None, None]
        else:
            state = _MET if verdict.met else _BREACHED if verdict.breached else _OPEN
            verdicts += [state, time_in(verdict.breaches_at)]
    return (
        figures.key,
        _micros(figures.first_response),
        _micros(figures.resolution),
        _micros(figures.business_first_response),
        _micros(figures.business_resolution),
        _micros(figures.resolution_clock),
        time_in(figures.resolved_at),
        figures.replies,
        figures.customer_replies,
        figures.policy,
        *verdicts,
        _rating_in(figures),
    )


def _rating_in(figures: Figures) -> int | None:
    """The ``fig_rating`` value of ``figures``."""
    rating = figures.rating
    if rating is None:
        return 0 if figures.rateable else None
    code = _WORDS[rating] if isinstance(rating, str) else rating
    return code if figures.rateable else -code


def _rating_out(value: Any) -> tuple[int | str | None, bool]:
    """The rating and whether the ticket was rateable, from a ``fig_rating`` value."""
    if value is None:
        return None, False
    number = abs(int(value))
    words: dict[int, int | str] = {code: word for word, code in _WORDS.items()}
    return (words.get(number, number) if number else None), int(value) >= 0


def figures_from_row(row: Sequence[Any]) -> Figures | None:
    """The figures held in ``row`` (:data:`FIGURE_COLUMNS`), None if none were stored."""
    if row[0] is None:
        return None
    sla = {}
    for index, name in enumerate(TARGETS):
        state, at = row[10 + 2 * index], row[11 + 2 * index]
        if state is not None:
            sla[name] = Verdict(state == _MET, state == _BREACHED, time_out(at))
    rating, rateable = _rating_out(row[10 + 2 * len(TARGETS)])
    return Figures(
        key=row[0],
        first_response=_span(row[1]),
        resolution=_span(row[2]),
        business_first_response=_span(row[3]),
        business_resolution=_span(row[4]),
        resolution_clock=_span(row[5]) or timedelta(0),
        resolved_at=time_out(row[6]),
        replies=int(row[7]),
        customer_replies=int(row[8]),
        policy=row[9],
        sla=sla,
        rating=rating,
        rateable=rateable,
    )


# -- totals -----------------------------------------------------------------------


def ranks(count: int, quantile: tuple[int, int]) -> tuple[int, int]:
    """The 1-based ranks of the two values a percentile of ``count`` sorted values lies between."""
    numerator, denominator = quantile
    low = (count - 1) * numerator // denominator
    high = ((count - 1) * numerator + denominator - 1) // denominator
    return low + 1, high + 1


def interpolate(
    count: int, quantile: tuple[int, int], low: timedelta, high: timedelta
) -> timedelta:
    """The percentile between the values at :func:`ranks`, to the microsecond (half to even)."""
    numerator, denominator = quantile
    position = Fraction((count - 1) * numerator, denominator)
    share = position - (position.numerator // position.denominator)
    low_us, high_us = low // _MICROSECOND, high // _MICROSECOND
    return timedelta(microseconds=round(low_us + (high_us - low_us) * share))


def percentile(values: Iterable[timedelta | None], quantile: tuple[int, int]) -> timedelta | None:
    """The percentile of the values that are not None (None if there are none)."""
    present = sorted(value for value in values if value is not None)
    if not present:
        return None
    low, high = ranks(len(present), quantile)
    return interpolate(len(present), quantile, present[low - 1], present[high - 1])


@attrs.frozen
class Spread:
    """One figure over a group: how many tickets have it, its median and 90th percentile."""

    count: int = 0
    p50: timedelta | None = None
    p90: timedelta | None = None

    @classmethod
    def of(cls, values: Iterable[timedelta | None]) -> Spread:
        """The spread of the values that are not None."""
        present = [value for value in values if value is not None]
        p50, p90 = (percentile(present, quantile) for quantile in QUANTILES)
        return cls(len(present), p50, p90)


SPREADS: tuple[str, ...] = ("first_response", "resolution", "sla_resolution")
"""The figures each group reports the spread of."""


@attrs.frozen
class GroupFigures:
    """The figures of a group of tickets added up.

    Attributes:
        tickets: how many.
        replies: staff replies, in all.
        reopened: how many were reopened at least once.
        spreads: per figure of :data:`SPREADS`, its :class:`Spread`.
        met: per SLA target, how many clocks met it.
        decided: per SLA target, how many clocks are met or breached (targets
            no clock decided are left out).
        rated: how many are rated.
        satisfied: how many ratings are satisfied ("good", 4 or 5 of 5).
        points, scored: the sum of the 1-5 scores, and how many there are.
        asked: how many are rated or could be (see ``Figures.rateable``).
    """

    tickets: int
    replies: int
    reopened: int
    spreads: Mapping[str, Spread]
    met: Mapping[str, int]
    decided: Mapping[str, int]
    rated: int = 0
    satisfied: int = 0
    points: int = 0
    scored: int = 0
    asked: int = 0


@attrs.frozen
class FigureTotals:
    """What ``Store.aggregate`` answers: figures overall and per group of each breakdown."""

    overall: GroupFigures
    breakdowns: Mapping[str, Mapping[str, GroupFigures]]


def group_figures(items: Sequence[tuple[Ticket, Figures]], now: datetime | None) -> GroupFigures:
    """Add up the figures of ``items`` (what a store without SQL does)."""
    met: dict[str, int] = {}
    decided: dict[str, int] = {}
    for _ticket, figures in items:
        for name, verdict in figures.sla.items():
            if verdict.decided(now):
                decided[name] = decided.get(name, 0) + 1
                met[name] = met.get(name, 0) + verdict.met
    return GroupFigures(
        tickets=len(items),
        replies=sum(figures.replies for _ticket, figures in items),
        reopened=sum(ticket.reopen_count > 0 for ticket, _figures in items),
        spreads=MappingProxyType(
            {name: Spread.of(getattr(figures, name) for _t, figures in items) for name in SPREADS}
        ),
        met=MappingProxyType({name: met[name] for name in TARGETS if name in decided}),
        decided=MappingProxyType({name: decided[name] for name in TARGETS if name in decided}),
        **_ratings([figures for _ticket, figures in items]),
    )


def _ratings(figures: Sequence[Figures]) -> dict[str, int]:
    """The rating counts of :class:`GroupFigures` over ``figures``."""
    scores = [found.rating for found in figures if found.rating is not None]
    points = [score for score in scores if isinstance(score, int)]
    return {
        "rated": len(scores),
        "satisfied": sum(score in ("good", 4, 5) for score in scores),
        "points": sum(points),
        "scored": len(points),
        "asked": sum(found.rating is not None or found.rateable for found in figures),
    }


def totals(items: Sequence[tuple[Ticket, Figures]], now: datetime | None) -> FigureTotals:
    """Figures overall and in every breakdown of :data:`GROUPS`, groups in name order."""
    breakdowns: dict[str, Mapping[str, GroupFigures]] = {}
    for name, groups_of in GROUPS.items():
        groups: dict[str, list[tuple[Ticket, Figures]]] = {}
        for item in items:
            for group in groups_of(item[0]):
                groups.setdefault(group, []).append(item)
        breakdowns[name] = MappingProxyType(
            {group: group_figures(members, now) for group, members in sorted(groups.items())}
        )
    return FigureTotals(group_figures(items, now), MappingProxyType(breakdowns))


# -- the time window --------------------------------------------------------------


@attrs.frozen
class Period:
    """From ``start`` (included) to ``end`` (excluded); None leaves that side open.

    >>> from datetime import UTC, datetime
    >>> january = Period(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC))
    >>> january.holds(datetime(2026, 1, 31, 23, tzinfo=UTC))
    True
    """

    start: datetime | None = attrs.field(default=None, converter=_instant)
    end: datetime | None = attrs.field(default=None, converter=_instant)

    def __attrs_post_init__(self) -> None:
        if self.start is not None and self.end is not None and self.end < self.start:
            raise InvalidInput("Period", (self.start, self.end), "an end not before the start")

    def holds(self, instant: datetime | None) -> bool:
        """Whether ``instant`` is set and inside the period."""
        return (
            instant is not None
            and (self.start is None or self.start <= instant)
            and (self.end is None or instant < self.end)
        )


def check_period(value: object, name: str) -> Period | None:
    """A :class:`Period` from None, a Period or a ``(start, end)`` pair; refuse anything else."""
    if value is None or isinstance(value, Period):
        return value
    if isinstance(value, tuple) and len(value) == 2:
        return Period(*value)
    raise InvalidInput(name, value, "None, a Period, or a (start, end) pair of aware datetimes")


def check_totals(
    query: object, now: object, created: object, resolved: object
) -> tuple[datetime, Period | None, Period | None]:
    """Check the arguments of ``Store.aggregate``; return ``now`` and the two periods."""
    instant = to_utc(now, "now")
    if not isinstance(query, TicketQuery):
        raise InvalidInput("query", query, "a TicketQuery")
    return instant, check_period(created, "created"), check_period(resolved, "resolved")


def in_window(
    ticket: Ticket, figures: Figures, created: Period | None, resolved: Period | None
) -> bool:
    """Whether the ticket was created in ``created`` and resolved (standing) in ``resolved``."""
    if created is not None and not created.holds(ticket.created_at):
        return False
    if resolved is None:
        return True
    return figures.resolution is not None and resolved.holds(
        ticket.created_at + figures.resolution
    )


# -- the same totals in SQL (SQLite and PostgreSQL) ---------------------------------

PICKED: tuple[str, ...] = (
    "id",
    "department",
    "priority",
    "assignee",
    "status",
    "reopen_count",
    "created_at",
    *FIGURE_COLUMNS,
)
"""The ticket columns the totals read (a store selects them, plus its tags)."""

_LABELS: tuple[tuple[str, str], ...] = (
    ("department", "COALESCE(department, '(none)')"),
    ("priority", "priority"),
    ("assignee", "COALESCE(assignee, '(unassigned)')"),
    ("tag", "COALESCE(tags.tag, '(untagged)')"),
    ("status", "status"),
)
"""Each breakdown of :data:`GROUPS` as a SQL expression (``tags``: the store's tag join)."""

_SPREAD_OF = {
    "first_response": ("fig_first_response", "fig_first_response"),
    "resolution": ("fig_resolution", "fig_resolution"),
    "sla_resolution": ("fig_resolution_clock", "fig_resolution"),
}
"""Each spread's column, and the column that must be set for the ticket to count."""


def window_sql(
    created: Period | None, resolved: Period | None, mark: str
) -> tuple[str, list[Any]]:
    """A SQL condition (``TRUE`` if none) for :func:`in_window`, and its parameters."""
    where: list[str] = []
    parameters: list[Any] = []
    for column, period in (
        ("created_at", created),
        ("created_at + fig_resolution", resolved),
    ):
        if period is None:
            continue
        if period is resolved:
            where.append("fig_resolution IS NOT NULL")
        if period.start is not None:
            where.append(f"{column} >= {mark}")
            parameters.append(time_in(period.start))
        if period.end is not None:
            where.append(f"{column} < {mark}")
            parameters.append(time_in(period.end))
    return (" AND ".join(where) or "1 = 1"), parameters


def aggregate_sql(
    selection: str, tag_join: str, mark: str, tags: str = ""
) -> tuple[str, tuple[str, ...]]:
    """The statements of ``Store.aggregate``: the sums per group, then one per spread.

    ``selection`` selects the tickets (the columns of :data:`PICKED`);
    ``tag_join`` joins each to its tags as ``tags.tag`` (a row with NULL for
    none); ``mark`` is the driver's parameter mark; ``tags`` the column of
    a ticket's tags, if the store keeps them in its row (``, tag_list``).
    The first statement takes ``now`` once per SLA target after the
    selection's parameters and groups by the breakdown (``kind``, its index
    in :data:`KINDS`) and the group.  The others, one per figure of
    :data:`SPREADS`, list the tickets that have it in the order of its value
    (value, id, department, priority, assignee, status, and the tags if
    asked), for :func:`spreads_of_ordered`.
    """
    verdicts = [f"fig_sla_{name}{part}" for name in TARGETS for part in ("", "_at")]
    summed = ", ".join(("reopen_count", "fig_replies", *verdicts, "fig_rating"))
    grouped = " UNION ALL ".join(
        f"SELECT {kind} AS kind, {label} AS grp, {summed} FROM base{join}"  # noqa: S608
        for kind, label, join in _kinds(tag_join)
    )
    counted = "".join(
        f", SUM(CASE WHEN fig_sla_{name} = {_MET} THEN 1 ELSE 0 END)"
        f", SUM(CASE WHEN fig_sla_{name} IN ({_MET}, {_BREACHED}) OR "
        f"(fig_sla_{name} = {_OPEN} AND fig_sla_{name}_at <= {mark}) THEN 1 ELSE 0 END)"
        for name in TARGETS
    )
    # The ratings (see the module's docstring): a negative value is a rating
    # of a ticket its requester could not rate now.
    scored = "ABS(fig_rating) BETWEEN 1 AND 5"
    rated = (
        ", SUM(CASE WHEN fig_rating <> 0 THEN 1 ELSE 0 END)"
        f", SUM(CASE WHEN ABS(fig_rating) IN {_SATISFIED} THEN 1 ELSE 0 END)"
        f", SUM(CASE WHEN {scored} THEN ABS(fig_rating) ELSE 0 END)"
        f", SUM(CASE WHEN {scored} THEN 1 ELSE 0 END)"
        ", SUM(CASE WHEN fig_rating IS NOT NULL THEN 1 ELSE 0 END)"
    )
    sums = (
        f"WITH base AS ({selection}), grouped AS ({grouped}) "  # noqa: S608
        "SELECT kind, grp, COUNT(*), COALESCE(SUM(fig_replies), 0), "
        f"SUM(CASE WHEN reopen_count > 0 THEN 1 ELSE 0 END){counted}{rated} "
        "FROM grouped GROUP BY kind, grp"
    )
    # Percentiles: per figure, the tickets that have it, in the order of its
    # value; the values are dealt to their groups in that order, so each
    # group's list comes sorted and its percentiles are picked by rank.
    spreads = tuple(
        f"SELECT {column}, id, COALESCE(department, '(none)'), priority, "  # noqa: S608
        f"COALESCE(assignee, '(unassigned)'), status{tags} FROM ({selection}) AS base "
        f"WHERE {present} IS NOT NULL ORDER BY {column}"
        for column, present in (_SPREAD_OF[name] for name in SPREADS)
    )
    return sums, spreads


KINDS: tuple[str, ...] = ("", *GROUPS)
"""All tickets (``""``) and the breakdowns, as SQL numbers them (0, 1, ...)."""


def _kinds(tag_join: str) -> list[tuple[str, str, str]]:
    """Each of :data:`KINDS` as SQL: its number, its group, its join."""
    return [("0", "''", "")] + [
        (f"{KINDS.index(kind)}", label, f" {tag_join}" if kind == "tag" else "")
        for kind, label in _LABELS
    ]


Ordered = Iterable[tuple[int, str, str, str, str, Sequence[str]]]
"""Tickets in the order of one figure's value: (value in microseconds, department,
priority, assignee, status, tags), labels as the breakdowns name them."""


def spreads_of_ordered(ordered: Mapping[str, Ordered]) -> dict[tuple[str, str, str], Spread]:
    """Each figure's spread per (figure, breakdown, group), from its tickets in value order.

    Every value is dealt to each group its ticket is in, so each group's
    values come sorted, and its percentiles are read at their ranks.
    """
    found: dict[tuple[str, str, str], Spread] = {}
    for figure, rows in ordered.items():
        dealt: dict[tuple[str, str], list[int]] = {}
        for value, department, priority, assignee, status, tags in rows:
            for key in (
                ("", ""),
                ("department", department),
                ("priority", priority),
                ("assignee", assignee),
                ("status", status),
                *(("tag", tag) for tag in (tags or ("(untagged)",))),
            ):
                held = dealt.get(key)
                if held is None:
                    dealt[key] = [value]
                else:
                    held.append(value)
        for (kind, group), values in dealt.items():
            found[figure, kind, group] = _spread(values)
    return found


def totals_from_rows(
    sums: Iterable[Sequence[Any]],
    picked: Mapping[tuple[str, str, str], Spread],
    text: Callable[[Any], Any] = lambda value: value,
) -> FigureTotals:
    """The :class:`FigureTotals` of the sums of :func:`aggregate_sql` and the spreads picked.

    ``text`` decodes group names as the store wrote them.
    """
    found: dict[str, dict[str, GroupFigures]] = {"": {}, **{name: {} for name in GROUPS}}
    for row in sums:
        kind, group = KINDS[row[0]], text(row[1])
        met: dict[str, int] = {}
        decided: dict[str, int] = {}
        for index, name in enumerate(TARGETS):
            done = int(row[6 + 2 * index])
            if done:
                met[name], decided[name] = int(row[5 + 2 * index]), done
        found[kind][group] = GroupFigures(
            tickets=int(row[2]),
            replies=int(row[3]),
            reopened=int(row[4]),
            spreads=MappingProxyType(
                {name: picked.get((name, kind, group)) or Spread() for name in SPREADS}
            ),
            met=MappingProxyType(met),
            decided=MappingProxyType(decided),
            **dict(zip(_RATED, map(int, row[5 + 2 * len(TARGETS) :]), strict=True)),
        )
    overall = found[""].get("") or _EMPTY
    return FigureTotals(
        overall,
        MappingProxyType(
            {name: MappingProxyType(dict(sorted(found[name].items()))) for name in GROUPS}
        ),
    )


_RATED = ("rated", "satisfied", "points", "scored", "asked")
"""The rating counts of :class:`GroupFigures`, in the order :func:`aggregate_sql` sums them."""


def _spread(values: Sequence[int]) -> Spread:
    """The spread of values in microseconds, sorted."""
    count = len(values)
    figures = []
    for quantile in QUANTILES:
        low, high = ranks(count, quantile)
        figures.append(
            interpolate(
                count,
                quantile,
                timedelta(microseconds=values[low - 1]),
                timedelta(microseconds=values[high - 1]),
            )
        )
    return Spread(count, *figures)


_EMPTY = GroupFigures(
    tickets=0,
    replies=0,
    reopened=0,
    spreads=MappingProxyType(dict.fromkeys(SPREADS, Spread())),
    met=MappingProxyType({}),
    decided=MappingProxyType({}),
)
