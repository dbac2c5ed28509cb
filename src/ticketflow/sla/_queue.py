"""Work queues: open tickets in the order to take them, by SLA urgency or by wait."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from types import MappingProxyType

import attrs

from ticketflow._errors import InvalidInput
from ticketflow._selection import selected_statuses
from ticketflow._status import ACTIVE_CATEGORIES, Category
from ticketflow._ticket import Priority, Ticket
from ticketflow._timeline import Wait, waits
from ticketflow._validate import enum_value, whole_number
from ticketflow._workflow import Workflow
from ticketflow.rules._context import Context
from ticketflow.sla._clocks import SLAState
from ticketflow.sla._keeping import SLAKeeping
from ticketflow.storage import Store, StoredSLA, TicketQuery


@attrs.frozen
class QueueEntry:
    """One ticket of a work queue and why it sits where it does.

    Attributes:
        ticket: the ticket.
        due_at: the nearest due instant of its running SLA clocks (None if none runs).
        breached: whether a running clock is already breached.
        waiting_since: when the customer's latest unanswered message came (None
            if nothing waits for an answer).
    """

    ticket: Ticket
    due_at: datetime | None
    breached: bool
    waiting_since: datetime | None


def queue_entry(ticket: Ticket, states: Sequence[SLAState], wait: Wait) -> QueueEntry:
    """Summarise a ticket's clocks and its latest wait for a staff reply, for a queue."""
    running = [state for state in states if state.running and state.due_at is not None]
    due = min((state.due_at for state in running if state.due_at is not None), default=None)
    start, stop = wait
    return QueueEntry(
        ticket=ticket,
        due_at=due,
        breached=any(state.breached for state in running),
        waiting_since=start if stop is None else None,
    )


_LAST = datetime.max.replace(tzinfo=UTC)


def by_urgency(entry: QueueEntry) -> tuple[int, datetime, str]:
    """Sort key: breached first, then the nearest due, then those without a clock."""
    return (
        0 if entry.breached else 1 if entry.due_at else 2,
        entry.due_at or _LAST,
        entry.ticket.id,
    )


def by_wait(entry: QueueEntry) -> tuple[int, datetime, str]:
    """Sort key: longest waiting for an answer first, then those not waiting."""
    return (0 if entry.waiting_since else 1, entry.waiting_since or _LAST, entry.ticket.id)


ORDERS: Mapping[str, Callable[[QueueEntry], tuple[int, datetime, str]]] = MappingProxyType(
    {"sla": by_urgency, "waiting": by_wait}
)
"""The queue orders, by name."""


def work_queue(
    store: Store,
    contexts: Callable[[Ticket], Context],
    workflow: Workflow,
    *,
    order: str = "sla",
    department: str | None = None,
    assignee: str | None = None,
    priority: Priority | str | None = None,
    category: Category | str | Iterable[Category | str] | None = None,
    limit: int | None = None,
) -> list[QueueEntry]:
    """Open work in the order to take it (the arguments as ``Helpdesk.queue``).

    Each ticket's history is read once, for its clocks and its wait together.
    """
    key = ORDERS.get(order) if isinstance(order, str) else None
    if key is None:
        raise InvalidInput("order", order, "'sla' or 'waiting'")
    whole_number(limit, "limit", optional=True)
    wanted = enum_value(Priority, priority, "priority") if priority is not None else None
    statuses = selected_statuses(
        workflow,
        None,
        ACTIVE_CATEGORIES if category is None else category,
    )
    tickets = store.query(TicketQuery(statuses=statuses, department=department, assignee=assignee))
    entries = []
    for ticket in tickets:
        if wanted is not None and ticket.priority is not wanted:
            continue
        context = contexts(ticket)
        entries.append(queue_entry(ticket, context.sla(), context.timeline().waits[-1]))
    entries.sort(key=key)
    return entries if limit is None else entries[:limit]


def kept_queue(
    store: Store,
    keeping: SLAKeeping,
    workflow: Workflow,
    now: datetime,
    *,
    department: str | None = None,
    assignee: str | None = None,
    priority: Priority | str | None = None,
    category: Category | str | Iterable[Category | str] | None = None,
    limit: int | None = None,
) -> list[QueueEntry]:
    """Open work by SLA urgency, read from the kept clocks (the arguments as ``Helpdesk.queue``).

    The tickets with a running clock come from the store's index on their
    nearest due instant (:meth:`Store.sla_queue`), page by page until
    ``limit``; only if fewer are found do the tickets without a running clock
    follow, in id order.  No history is read.

    Raises:
        SLAOutOfDate: stored clocks were kept under other policies.
    """
    whole_number(limit, "limit", optional=True)
    wanted = enum_value(Priority, priority, "priority") if priority is not None else None
    statuses = selected_statuses(
        workflow, None, ACTIVE_CATEGORIES if category is None else category
    )
    keeping.check()
    query = TicketQuery(statuses=statuses, department=department, assignee=assignee)
    size = _PAGE if limit is None else max(limit, 1)
    entries: list[QueueEntry] = []
    seen: set[str] = set()
    after: tuple[datetime, str] | None = None
    while limit is None or len(entries) < limit:
        page = store.sla_queue(query, limit=size, after=after)
        for stored, ticket in page:
            seen.add(ticket.id)
            if wanted is None or ticket.priority is wanted:
                entries.append(_kept_entry(keeping, ticket, stored, now))
        if len(page) < size or not page:
            break
        last_sla, last_ticket = page[-1]
        assert last_sla.due_at is not None  # noqa: S101 - the index holds set instants
        after = (last_sla.due_at, last_ticket.id)
    if limit is not None and len(entries) >= limit:
        return entries[:limit]
    for ticket in sorted(store.query(query), key=lambda ticket: ticket.id):
        if ticket.id in seen or (wanted is not None and ticket.priority is not wanted):
            continue
        entries.append(_kept_entry(keeping, ticket, store.sla(ticket.id), now))
        if limit is not None and len(entries) >= limit:
            break
    return entries


_PAGE = 500
"""How many tickets an unlimited SLA queue reads from the index at a time."""


def _kept_entry(
    keeping: SLAKeeping, ticket: Ticket, stored: StoredSLA, now: datetime
) -> QueueEntry:
    """A queue entry from a ticket's stored record, read at ``now``."""
    kept = keeping.decoded(ticket.id, stored)
    if kept is None:  # no policy keeps clocks: the wait, from the history
        start, stop = waits(keeping.store.history(ticket.id))[-1]
        return QueueEntry(
            ticket, None, breached=False, waiting_since=start if stop is None else None
        )
    states = keeping.states(kept, now)
    running = [state for state in states if state.running and state.due_at is not None]
    return QueueEntry(
        ticket=ticket,
        due_at=min((state.due_at for state in running if state.due_at is not None), default=None),
        breached=any(state.breached for state in running),
        waiting_since=kept.waiting,
    )
