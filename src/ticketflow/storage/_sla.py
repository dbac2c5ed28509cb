"""The stored SLA clocks: each ticket's kept record, its nearest due instant, whose policies."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import attrs

from ticketflow._errors import InvalidInput
from ticketflow._validate import to_utc
from ticketflow.storage._query import TicketQuery
from ticketflow.storage._schedule import check_page


def _instant(value: object) -> datetime | None:
    return None if value is None else to_utc(value, "StoredSLA.due_at")


def _fingerprint(value: object) -> str | None:
    if value is not None and (not isinstance(value, str) or not value.isascii() or not value):
        raise InvalidInput(
            "StoredSLA.policies", value, "None or an SLA policy set's fingerprint (ASCII text)"
        )
    return value


def _state(value: object) -> str:
    if not isinstance(value, str):
        raise InvalidInput("StoredSLA.state", value, "text (the desk's encoding of its clocks)")
    return value


@attrs.frozen
class StoredSLA:
    """What a store keeps beside each ticket so that SLA queues read an index, not histories.

    A desk computes it on every commit by folding the new event into the
    ticket's previous record (``Helpdesk`` does; a store only keeps it and
    answers :meth:`Store.sla_queue` from an index on ``due_at``).

    Attributes:
        due_at: the nearest instant at which one of the ticket's running SLA
            clocks falls due (or fell due, once breached), as of its last
            commit; None: no clock runs.
        policies: the fingerprint of the SLA policies and workflow that kept
            it (see ``Helpdesk.sla_fingerprint``); None: never kept, as for a
            ticket stored before SLA clocks were kept.
        state: the clocks themselves, as text the desk wrote (JSON); a store
            keeps it as it came.

    >>> from datetime import UTC, datetime
    >>> StoredSLA(datetime(2026, 1, 5, 9, tzinfo=UTC), "s1-0a1b", "[]").policies
    's1-0a1b'
    """

    due_at: datetime | None = attrs.field(default=None, converter=_instant)
    policies: str | None = attrs.field(default=None, converter=_fingerprint)
    state: str = attrs.field(default="", converter=_state)


NO_SLA = StoredSLA()
"""The SLA record of a ticket no desk kept clocks for."""


def check_sla(sla: object) -> StoredSLA:
    """Refuse anything but a :class:`StoredSLA` before it reaches a store."""
    if not isinstance(sla, StoredSLA):
        raise InvalidInput("sla", sla, "a StoredSLA, such as StoredSLA(due_at, policies, state)")
    return sla


def check_sla_page(
    query: object, limit: object, after: object
) -> tuple[TicketQuery, tuple[datetime, str] | None]:
    """Check the arguments of ``Store.sla_queue``; return the query and ``after`` normalised."""
    _now, start = check_page(None, limit, after)
    if not isinstance(query, TicketQuery):
        raise InvalidInput("query", query, "a TicketQuery (its filters select the tickets)")
    return query, start


def check_untimed_page(query: object, limit: object, after: object) -> TicketQuery:
    """Check the arguments of ``Store.sla_untimed``; return the query."""
    check_page(None, limit, None)
    if not isinstance(query, TicketQuery):
        raise InvalidInput("query", query, "a TicketQuery (its filters select the tickets)")
    if after is not None and not isinstance(after, str):
        raise InvalidInput("after", after, "None, or the id of the last ticket read")
    return query


def sla_page_sql(
    columns: Sequence[str],
    table: str,
    which: str,
    filters: tuple[list[str], list[Any]],
    past: tuple[str, list[Any]] | None,
    *,
    order: str,
    limit: tuple[str, int],
) -> tuple[str, list[Any]]:
    """A SQL store's page of tickets with their SLA records (``sla_queue``, ``sla_untimed``).

    The SLA record, then the ticket's ``columns``, of ``which`` of the
    tickets in ``table`` (with any index hint), those the
    query's ``filters`` (conditions and parameters) select, past ``past``
    (a condition and its parameters), in ``order``; ``limit`` is the
    driver's parameter mark and the limit.
    """
    where, parameters = filters
    if past is not None:
        where = [*where, past[0]]
        parameters = [*parameters, *past[1]]
    statement = (
        f"SELECT sla_due_at, sla_policies, sla_state, {', '.join(columns)} "  # noqa: S608
        f"FROM {table} WHERE {' AND '.join((which, *where))} ORDER BY {order} LIMIT {limit[0]}"
    )
    return statement, [*parameters, limit[1]]
