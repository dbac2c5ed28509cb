"""The history of a ticket: one event per accepted command, and its replay.

History is the source of truth.  Each event records who did what and when,
the status before and after, the message, and the new value of every ticket
field the command changed, so folding a ticket's events in order rebuilds the
ticket exactly (:func:`replay`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

import attrs

from ticketflow._actor import Actor
from ticketflow._errors import InvalidInput
from ticketflow._names import CREATE
from ticketflow._ticket import TICKET_FIELDS, Ticket
from ticketflow._validate import to_utc

_new = object.__new__


def _event_time(value: object) -> datetime:
    return to_utc(value, "HistoryEvent.at")


def _read_only(value: Mapping[str, Any]) -> Mapping[str, Any]:
    unknown = set(value) - set(TICKET_FIELDS)
    if unknown:
        raise InvalidInput("HistoryEvent.changes", sorted(unknown), "names of Ticket fields")
    return MappingProxyType(dict(value))


@attrs.frozen(slots=False)
class HistoryEvent:
    """One accepted command on one ticket.

    Attributes:
        ticket_id: the ticket it happened to.
        seq: its position in the ticket's history, from 1, without gaps.
        at: when it happened (aware UTC, from the Helpdesk's clock).
        actor: who did it.
        name: the event, such as ``"resolve"``; the first is always ``"create"``.
        from_status: the status before (None for ``"create"``).
        to_status: the status after; equal to ``from_status`` when it did not move.
        body: the message, reply or note that came with it, if any.
        changes: the new value of every ticket field the command changed.
    """

    ticket_id: str
    seq: int
    at: datetime = attrs.field(converter=_event_time)
    actor: Actor
    name: str
    from_status: str | None
    to_status: str
    body: str | None = None
    changes: Mapping[str, Any] = attrs.field(
        factory=lambda: MappingProxyType({}), converter=_read_only, hash=False
    )

    @property
    def moved(self) -> bool:
        """Whether the event changed the ticket's status."""
        return self.from_status != self.to_status


def next_version(
    ticket: Ticket,
    name: str,
    actor: Actor,
    at: datetime,
    changes: dict[str, Any],
    *,
    body: str | None = None,
) -> tuple[Ticket, HistoryEvent]:
    """Return ``ticket`` after one more event, and the event that records it.

    The one place where a command's outcome becomes history: the new ticket
    takes ``changes`` plus ``updated_at`` and the next ``version``; the event,
    numbered with that version, goes from the ticket's status to the new
    ticket's (``changes["status"]`` if the event moves it) and records only the
    fields whose value really changed (an update may set a field to what it was).

    It trusts its arguments, which the callers (``Workflow.apply``,
    ``WorkflowChange.apply``) have checked, and skips the constructors' checks:
    ``at`` is aware UTC and not before ``ticket.updated_at``, and ``changes`` is
    a fresh dict of checked values of ticket fields, which it takes over (it
    adds ``updated_at`` and ``version``) rather than copies.
    """
    changes["updated_at"] = at
    changes["version"] = version = ticket.version + 1
    before = ticket.__dict__
    delta = {}
    for field, value in changes.items():
        old = before[field]
        # Identity and None first: they settle most fields without a full comparison.
        if old is not value and (old is None or value is None or old != value):
            delta[field] = value
    status = ticket.status
    event = _new(HistoryEvent)
    event.__dict__.update(
        ticket_id=ticket.id,
        seq=version,
        at=at,
        actor=actor,
        name=name,
        from_status=status,
        to_status=changes.get("status", status),
        body=body,
        changes=MappingProxyType(delta),
    )
    moved = _new(Ticket)  # a copy with the changes, without the converters' checks
    fields = moved.__dict__
    fields.update(before)
    fields.update(changes)
    return moved, event


def replay(events: Iterable[HistoryEvent]) -> Ticket:
    """Rebuild a ticket from its history.

    Args:
        events: every event of one ticket, in order, starting with ``"create"``.

    Returns:
        The ticket exactly as it stood after the last event.

    Raises:
        InvalidInput: the events are empty, out of order, have gaps, start with
            anything but ``"create"``, or belong to more than one ticket.

    >>> from datetime import UTC, datetime
    >>> from ticketflow import Helpdesk, ManualClock, Contact, Actor
    >>> desk = Helpdesk(clock=ManualClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC)))
    >>> ticket = desk.open(subject="VPN", description="It drops.",
    ...                    requester=Contact(name="Ana", email="ana@example.com"))
    >>> ticket = desk.reply(ticket.id, Actor.agent("a-1"), "Try the new client.")
    >>> replay(desk.history(ticket.id)) == desk.get(ticket.id)
    True
    """
    ticket: Ticket | None = None
    for event in events:
        if ticket is None:
            if event.name != CREATE or event.seq != 1:
                raise InvalidInput(
                    "events", event, f"a history that starts with {CREATE!r} at seq 1"
                )
            ticket = Ticket(**event.changes)
            continue
        if event.ticket_id != ticket.id:
            raise InvalidInput("events", event, f"events of ticket {ticket.id!r} only")
        if event.seq != ticket.version + 1:
            raise InvalidInput("events", event, f"the event with seq {ticket.version + 1} next")
        ticket = attrs.evolve(ticket, **event.changes)
    if ticket is None:
        raise InvalidInput("events", [], "at least the 'create' event")
    return ticket
