"""Work queues: open tickets in the order to take them, by SLA urgency or by wait."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from types import MappingProxyType

import attrs

from ticketflow._errors import InvalidInput
from ticketflow._paging import Page, decode_cursor, encode_cursor
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
    after: str | None = None,
) -> Page[QueueEntry]:
    """Open work in the order to take it (the arguments as ``Helpdesk.queue``).

    Each ticket's history is read once, for its clocks and its wait together.
    A page starts past the sort key its cursor holds (the order's key:
    its group, its instant, the id), so a walk through the pages is stable
    while tickets are created.
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
    question = _question(order, department, assignee, wanted, statuses)
    start = None if after is None else _queue_key(decode_cursor(after, "queue", question), after)
    tickets = store.query(TicketQuery(statuses=statuses, department=department, assignee=assignee))
    entries = []
    for ticket in tickets:
        if wanted is not None and ticket.priority is not wanted:
            continue
        context = contexts(ticket)
        entries.append(queue_entry(ticket, context.sla(), context.timeline().waits[-1]))
    entries.sort(key=key)
    if start is not None:
        entries = [entry for entry in entries if key(entry) > start]
    if limit is None or len(entries) <= limit or limit == 0:
        return Page(entries[:limit])
    group, instant, last_id = key(entries[limit - 1])
    cursor = encode_cursor("queue", question, [group, instant.isoformat(), last_id])
    return Page(entries[:limit], next=cursor)


def _queue_key(key: list[object], cursor: str) -> tuple[int, datetime, str]:
    """The sort key a queue cursor holds: (group, instant, id), as :data:`ORDERS` give."""
    if len(key) == 3 and isinstance(key[0], int) and isinstance(key[2], str):
        try:
            instant = datetime.fromisoformat(str(key[1]))
        except ValueError:
            instant = None
        if instant is not None and instant.tzinfo is not None:
            return key[0], instant, key[2]
    raise InvalidInput("after", cursor, "a cursor from the 'next' of a page, as it was given")


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
    after: str | None = None,
) -> Page[QueueEntry]:
    """Open work by SLA urgency, read from the kept clocks (the arguments as ``Helpdesk.queue``).

    The tickets with a running clock come from the store's index on their
    nearest due instant (:meth:`Store.sla_queue`), page by page until
    ``limit``; only if fewer are found do the tickets without a running clock
    follow, in id order, page by page too (:meth:`Store.sla_untimed`).  No
    history is read.  A cursor holds the place of
    the last entry (in the index: its kept due instant and id; past it: its
    id), so a walk through the pages is stable while tickets are created.

    Raises:
        SLAOutOfDate: stored clocks were kept under other policies.
        InvalidInput: a cursor that is damaged or continues another queue.
    """
    whole_number(limit, "limit", optional=True)
    wanted = enum_value(Priority, priority, "priority") if priority is not None else None
    statuses = selected_statuses(
        workflow, None, ACTIVE_CATEGORIES if category is None else category
    )
    question = _question("sla", department, assignee, wanted, statuses)
    start = None if after is None else _queue_key(decode_cursor(after, "queue", question), after)
    keeping.check()
    query = TicketQuery(statuses=statuses, department=department, assignee=assignee)
    wanted_count = None if limit is None else limit + 1  # one more tells whether a page follows
    size = _PAGE if wanted_count is None else wanted_count
    found: list[tuple[tuple[int, datetime, str], QueueEntry]] = []
    if start is None or start[0] < _UNTIMED:
        index_after = None if start is None else (start[1], start[2])
        while wanted_count is None or len(found) < wanted_count:
            page = store.sla_queue(query, limit=size, after=index_after)
            for stored, ticket in page:
                assert stored.due_at is not None  # noqa: S101 - the index holds set instants
                if wanted is None or ticket.priority is wanted:
                    key = (_TIMED, stored.due_at, ticket.id)
                    found.append((key, _kept_entry(keeping, ticket, stored, now)))
            if len(page) < size:
                break
            index_after = (page[-1][0].due_at or _LAST, page[-1][1].id)
    past = start[2] if start is not None and start[0] == _UNTIMED else None
    while wanted_count is None or len(found) < wanted_count:
        untimed = store.sla_untimed(query, limit=size, after=past)
        for stored, ticket in untimed:
            if wanted is None or ticket.priority is wanted:
                key = (_UNTIMED, _LAST, ticket.id)
                found.append((key, _kept_entry(keeping, ticket, stored, now)))
        if len(untimed) < size:
            break
        past = untimed[-1][1].id
    entries = [entry for _key, entry in found]
    if limit is None or len(found) <= limit or limit == 0:
        return Page(entries[:limit])
    group, instant, last_id = found[limit - 1][0]
    return Page(
        entries[:limit],
        next=encode_cursor("queue", question, [group, instant.isoformat(), last_id]),
    )


_TIMED, _UNTIMED = 0, 2
"""The groups of a kept queue's cursor: in the index of due instants, and past it."""


def _question(
    order: str,
    department: str | None,
    assignee: str | None,
    wanted: Priority | None,
    statuses: Iterable[str] | None,
) -> dict[str, object]:
    """What a queue was asked, which its cursors carry."""
    return {
        "order": order,
        "department": department,
        "assignee": assignee,
        "priority": None if wanted is None else wanted.value,
        "statuses": sorted(statuses) if statuses is not None else None,
    }


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
