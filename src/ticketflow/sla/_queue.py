"""Work queues: open tickets in the order to take them, by SLA urgency or by wait."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import attrs

from ticketflow._history import HistoryEvent
from ticketflow._ticket import Ticket
from ticketflow._timeline import latest_wait
from ticketflow.sla._clocks import SLAState


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


def queue_entry(
    ticket: Ticket, states: Sequence[SLAState], history: Sequence[HistoryEvent]
) -> QueueEntry:
    """Summarise a ticket's clocks and its wait for a queue."""
    running = [state for state in states if state.running and state.due_at is not None]
    due = min((state.due_at for state in running if state.due_at is not None), default=None)
    start, stop = latest_wait(history)
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
