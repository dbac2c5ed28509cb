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
neighbours.  SQL stores group the selected tickets by their department,
priority, assignee and status together, one pass over their rows (see
:func:`aggregate_sql`); each group's row lists its values of each figure,
and each breakdown's group merges the lists of the groups it is made of, so
the two neighbours are read at their ranks; they are interpolated here, in
whole microseconds, so all stores agree to the microsecond.  (Earlier ways,
slower at 100,000 tickets: an ordered window query, ``ROW_NUMBER() OVER
(PARTITION BY ... ORDER BY ...)``, sorted about fifteen rows a ticket; one
read a figure in the order of its value, dealt to the groups in Python,
took three times as long as this one pass.)

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
from itertools import chain
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


def verdict_of(met: bool, breached: bool, breaches_at: datetime | None) -> Verdict:
    """The :class:`Verdict` of these values, shared: each commit writes and reads a few.

    A verdict is immutable, so equal ones may be the same object; the last
    few thousand made are kept.
    """
    key = (met, breached, breaches_at)
    found = _MADE.get(key)
    if found is None:
        if len(_MADE) >= _KEPT_VERDICTS:
            _MADE.clear()
        found = _MADE[key] = Verdict(met, breached, breaches_at)
    return found


_MADE: dict[tuple[bool, bool, datetime | None], Verdict] = {}
_KEPT_VERDICTS = 1 << 12


class _Shared:
    """Verdict mappings made once and shared, with their column values.

    A commit under SLA policies writes a mapping of verdicts and the next
    reads it back; most tickets' verdicts are like another's, or like their
    last.  A mapping made here is checked once and never again (see
    :func:`_verdicts`), and its columns are written once.  Memos, cleared
    together when they grow past ``_KEPT_VERDICTS``.
    """

    __slots__ = ("by_row", "by_values", "made")

    def __init__(self) -> None:
        self.made: dict[int, tuple[Mapping[str, Verdict], tuple[Any, ...] | None]] = {}
        """The mappings made, by identity, each with its column values once known.
        An entry keeps its mapping alive, so no other object takes its id meanwhile."""
        self.by_values: dict[tuple[Any, ...], Mapping[str, Verdict]] = {}
        """By :func:`shared_verdicts`' flat values."""
        self.by_row: dict[tuple[Any, ...], Mapping[str, Verdict]] = {}
        """By their columns' values, as a row holds them."""

    def keep(
        self, mapping: Mapping[str, Verdict], columns: tuple[Any, ...] | None = None
    ) -> Mapping[str, Verdict]:
        """Share ``mapping`` (checked already) from now on, with its ``columns`` if known."""
        if len(self.made) >= _KEPT_VERDICTS:
            self.made.clear()
            self.by_values.clear()
            self.by_row.clear()
        self.made[id(mapping)] = (mapping, columns)
        return mapping

    def known(self, value: object) -> bool:
        """Whether ``value`` is a mapping made here (and so checked)."""
        entry = self.made.get(id(value))
        return entry is not None and entry[0] is value

    def columns_of(self, mapping: Mapping[str, Verdict]) -> tuple[Any, ...] | None:
        """The column values noted for ``mapping`` (this very object), if any."""
        entry = self.made.get(id(mapping))
        return entry[1] if entry is not None and entry[0] is mapping else None


_SHARED = _Shared()


def shared_verdicts(flat: tuple[Any, ...]) -> Mapping[str, Verdict]:
    """The verdicts ``(name, met, breached, breaches_at, ...)`` as a mapping, shared.

    What :class:`Figures` keeps as ``sla``, made once for equal values.

    Raises:
        InvalidInput: a name is not a target's, or an instant is not an aware datetime.
    """
    found = _SHARED.by_values.get(flat)
    if found is None:
        made = _verdicts(
            {
                flat[index]: verdict_of(flat[index + 1], flat[index + 2], flat[index + 3])
                for index in range(0, len(flat), 4)
            }
        )
        found = _SHARED.by_values[flat] = _SHARED.keep(made)
    return found


def _verdicts(value: object) -> Mapping[str, Verdict]:
    if _SHARED.known(value):
        return value  # type: ignore[return-value] # made by shared_verdicts, checked then
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
    sla = figures.sla
    verdicts = _SHARED.columns_of(sla)
    if verdicts is None:
        verdicts = _columns(sla)
        if _SHARED.known(sla):
            _SHARED.keep(sla, verdicts)
            # The next commit reads these columns back: the same mapping, unless
            # a verdict both met and breached (read back as met) tells otherwise.
            if not any(verdict.met and verdict.breached for verdict in sla.values()):
                _SHARED.by_row[verdicts] = sla
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


def _columns(sla: Mapping[str, Verdict]) -> tuple[Any, ...]:
    """The ``fig_sla_<target>`` and ``fig_sla_<target>_at`` values of the verdicts."""
    verdicts: list[Any] = []
    for name in TARGETS:
        verdict = sla.get(name)
        if verdict is None:
            verdicts += [None, None]
        else:
            state = _MET if verdict.met else _BREACHED if verdict.breached else _OPEN
            verdicts += [state, time_in(verdict.breaches_at)]
    return tuple(verdicts)


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
    columns = tuple(row[10 : 10 + 2 * len(TARGETS)])
    sla = _SHARED.by_row.get(columns)
    if sla is None:
        sla = _verdicts_of_columns(columns)
        if columns == _columns(sla):  # a row another writer made may differ (a 2 for 1, say)
            _SHARED.by_row[columns] = _SHARED.keep(sla, columns)
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


def _verdicts_of_columns(columns: tuple[Any, ...]) -> Mapping[str, Verdict]:
    """The verdicts that the ``fig_sla_*`` columns of a row hold."""
    sla = {}
    for index, name in enumerate(TARGETS):
        state, at = columns[2 * index], columns[2 * index + 1]
        if state is not None:
            sla[name] = verdict_of(state == _MET, state == _BREACHED, time_out(at))
    return _verdicts(sla)


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

_SPREAD_OF = {
    "first_response": "fig_first_response",
    "resolution": "fig_resolution",
    "sla_resolution": "CASE WHEN fig_resolution IS NOT NULL THEN fig_resolution_clock END",
}
"""Each spread's value, NULL for a ticket that does not count in it."""


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


LABELS: tuple[str, ...] = ("department", "priority", "assignee", "status")
"""The breakdowns of :data:`GROUPS` that name one group a ticket: the sums group by them all."""


def aggregate_sql(
    selection: str, tag_join: str, untagged: str, mark: str, listed: Callable[[str], str]
) -> tuple[str, str]:
    """The two statements of ``Store.aggregate``: per set of labels, and per tag.

    ``selection`` selects the tickets (the columns of :data:`PICKED`);
    ``tag_join`` joins each to its tags as ``tags.tag`` (no row for a ticket
    without tags), and ``untagged`` is true for a ticket without tags;
    ``mark`` is the driver's parameter mark; ``listed(value)`` the aggregate
    that lists a group's values, not NULL, as decimal numbers separated by
    commas (NULL if none).  Each statement takes the selection's
    parameters, then ``now`` once per SLA target.

    The first groups the tickets by the labels of :data:`LABELS` together,
    and whether they have tags: few groups (departments x priorities x
    assignees x statuses that occur), one pass, each ticket read once; the
    breakdowns, the overall figures and the untagged group are added up from
    those groups by :func:`totals_from_rows`, and so are the values of each
    spread, listed in each group's row.  The second groups the tagged
    tickets by tag, since a ticket counts in each of its tags.
    """
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
    values = "".join(f", {listed(_SPREAD_OF[name])}" for name in SPREADS)
    measured = (
        "COUNT(*), COALESCE(SUM(fig_replies), 0), "
        f"SUM(CASE WHEN reopen_count > 0 THEN 1 ELSE 0 END){counted}{rated}{values}"
    )
    labels = ", ".join((*LABELS, f"CASE WHEN {untagged} THEN 1 ELSE 0 END"))
    # The selection comes first, so that its parameters come before ``now``.
    base = f"WITH base AS ({selection}) "
    by_labels = f"{base}SELECT {labels}, {measured} FROM base GROUP BY {labels}"  # noqa: S608
    # The tagged tickets alone: what the planner expects of the join is then
    # what its statistics say of the tags, not a guess for every ticket.
    by_tag = (
        f"{base}SELECT tags.tag, {measured} FROM base {tag_join} "  # noqa: S608
        f"WHERE NOT ({untagged}) GROUP BY tags.tag"
    )
    return by_labels, by_tag


_SUMMED = 3 + 2 * len(TARGETS) + 5
"""How many sums a row of :func:`aggregate_sql` holds before its listed values."""

_NAMELESS = {"department": "(none)", "assignee": "(unassigned)", "tag": "(untagged)"}
"""The group of a ticket with no value for the breakdown (as :data:`GROUPS` names it)."""


class _Adding:
    """A group's sums and its spreads' values, as groups of rows are added to it."""

    __slots__ = ("sums", "values")

    def __init__(self) -> None:
        self.sums = [0] * _SUMMED
        self.values: list[list[list[int]]] = [[] for _name in SPREADS]

    def add(self, sums: Sequence[Any], values: Sequence[list[int]]) -> None:
        self.sums = [mine + int(theirs) for mine, theirs in zip(self.sums, sums, strict=True)]
        for held, more in zip(self.values, values, strict=True):
            if more:
                held.append(more)

    def figures(self) -> GroupFigures:
        sums = self.sums
        met: dict[str, int] = {}
        decided: dict[str, int] = {}
        for index, name in enumerate(TARGETS):
            done = sums[4 + 2 * index]
            if done:
                met[name], decided[name] = sums[3 + 2 * index], done
        return GroupFigures(
            tickets=sums[0],
            replies=sums[1],
            reopened=sums[2],
            spreads=MappingProxyType(
                {name: _spread(runs) for name, runs in zip(SPREADS, self.values, strict=True)}
            ),
            met=MappingProxyType(met),
            decided=MappingProxyType(decided),
            **dict(zip(_RATED, sums[3 + 2 * len(TARGETS) :], strict=True)),
        )


def _numbers(listed: Any) -> list[int]:
    """The values a row lists (see :func:`aggregate_sql`), sorted."""
    if not listed:
        return []
    values = list(map(int, listed.split(",")))
    values.sort()
    return values


def totals_from_rows(
    by_labels: Iterable[Sequence[Any]],
    by_tag: Iterable[Sequence[Any]],
    text: Callable[[Any], Any] = lambda value: value,
) -> FigureTotals:
    """The :class:`FigureTotals` of the rows of the statements of :func:`aggregate_sql`.

    Each row of the first is added to the overall group and to its group in
    each breakdown of :data:`LABELS`; each row of the second is a tag's group.
    ``text`` decodes group names as the store wrote them.
    """
    overall = _Adding()
    found: dict[str, dict[str, _Adding]] = {name: {} for name in GROUPS}

    def add(kind: str, label: Any, sums: Sequence[Any], values: list[list[int]]) -> None:
        group = _NAMELESS[kind] if label is None else text(label)
        adding = found[kind].get(group)
        if adding is None:
            adding = found[kind][group] = _Adding()
        adding.add(sums, values)

    width = len(LABELS) + 1  # the labels, and whether the tickets are untagged
    for row in by_labels:
        sums, values = row[width : width + _SUMMED], [_numbers(v) for v in row[width + _SUMMED :]]
        overall.add(sums, values)
        for kind, label in zip(LABELS, row, strict=False):
            add(kind, label, sums, values)
        if row[len(LABELS)]:
            add("tag", None, sums, values)
    for row in by_tag:
        add("tag", row[0], row[1 : 1 + _SUMMED], [_numbers(v) for v in row[1 + _SUMMED :]])
    return FigureTotals(
        overall.figures() if overall.sums[0] else _EMPTY,
        MappingProxyType(
            {
                name: MappingProxyType(
                    {group: adding.figures() for group, adding in sorted(found[name].items())}
                )
                for name in GROUPS
            }
        ),
    )


_RATED = ("rated", "satisfied", "points", "scored", "asked")
"""The rating counts of :class:`GroupFigures`, in the order :func:`aggregate_sql` sums them."""


def _spread(runs: Sequence[list[int]]) -> Spread:
    """The spread of values in microseconds, given as runs each sorted."""
    # One run is read as it is; several are merged by a sort, which finds
    # the runs and merges them (in C), rather than sorting from scratch.
    values = runs[0] if len(runs) == 1 else sorted(chain.from_iterable(runs))
    count = len(values)
    if not count:
        return Spread()
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
