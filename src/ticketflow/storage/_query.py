"""The questions a Helpdesk asks a store about its tickets."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Literal, get_args

import attrs

from ticketflow._errors import InvalidInput
from ticketflow._ticket import Ticket
from ticketflow._validate import optional_text, several, tag_set, text, to_utc, whole_number

OrderField = Literal[
    "created_at",
    "updated_at",
    "status_changed_at",
    "first_response_at",
    "last_customer_activity_at",
    "last_agent_activity_at",
    "resolved_at",
    "closed_at",
    "postponed_until",
]
ORDER_FIELDS: tuple[str, ...] = get_args(OrderField)
"""The fields a query can be ordered by: the ticket's time fields."""


def _statuses(value: Iterable[str] | str | None) -> frozenset[str] | None:
    if value is None:
        return None
    names = several(value, str, "statuses", "None, a status name, or several")
    return frozenset(text(name, "statuses") for name in names)


def _optional_text(
    _instance: object, attribute: attrs.Attribute[str | None], value: object
) -> None:
    optional_text(value, attribute.name)


def _flag(_instance: object, attribute: attrs.Attribute[bool], value: object) -> None:
    if not isinstance(value, bool):
        raise InvalidInput(attribute.name, value, "True or False")


def _order(_instance: object, _attribute: object, value: str) -> None:
    if not isinstance(value, str) or value not in ORDER_FIELDS:
        raise InvalidInput("order_by", value, f"one of {', '.join(ORDER_FIELDS)}")


def _limit(_instance: object, _attribute: object, value: int | None) -> None:
    whole_number(value, "limit", optional=True)


def _due(value: object) -> tuple[str, datetime] | None:
    if value is None:
        return None
    if (
        not isinstance(value, tuple)
        or len(value) != 2
        or not isinstance(value[0], str)
        or value[0] not in ORDER_FIELDS
    ):
        raise InvalidInput(
            "due",
            value,
            f"None or (time field, aware datetime), the field one of {', '.join(ORDER_FIELDS)}",
        )
    return value[0], to_utc(value[1], "due")


def _after(value: object) -> tuple[datetime | None, str] | None:
    if value is None:
        return None
    if not isinstance(value, tuple) or len(value) != 2 or not isinstance(value[1], str):
        raise InvalidInput(
            "after",
            value,
            "None or (the order field's value, or None; ticket id) of the last ticket read",
        )
    return (None if value[0] is None else to_utc(value[0], "after")), value[1]


def _is_due(ticket: Ticket, field: str, instant: datetime) -> bool:
    value: datetime | None = getattr(ticket, field)
    return value is not None and value <= instant


@attrs.frozen
class TicketQuery:
    """Which tickets to list, in which order, and how many.

    Every filter given must hold (they combine with *and*); a filter left at
    None does not filter.  Names are checked as a ticket's are (non-empty,
    valid Unicode), so a query that no ticket could answer is refused with
    :class:`InvalidInput` rather than sent to the store.  Ties in the order
    are broken by ticket id, so the same query over the same tickets always
    gives the same list.

    Attributes:
        statuses: the ticket's status is one of these.
        assignee: the ticket is assigned to this actor id.
        department: the ticket belongs to this department.
        requester: the ticket's requester has this contact id.
        tags: the ticket has every one of these tags.
        order_by: a time field; tickets where it is None come last.
        descending: newest first instead of oldest first.
        limit: at most this many tickets.
        due: ``(time field, instant)``: the field is set and at or before the
            instant, as in "resolved more than seven days ago"; what rule
            sweeps ask.  Stores serve it from an index.
        after: ``(value, id)``: the order field's value (None if unset) and
            the id of the last ticket of the page before; the list starts
            past it (keyset paging: a ticket stored meanwhile never shifts
            the tickets of later pages).  ``Helpdesk.find`` hands out these
            positions as opaque cursors.

    >>> from datetime import UTC, datetime
    >>> week_ago = datetime(2026, 1, 5, tzinfo=UTC)
    >>> TicketQuery(statuses="resolved", due=("resolved_at", week_ago)).due[0]
    'resolved_at'
    """

    statuses: frozenset[str] | None = attrs.field(default=None, converter=_statuses)
    assignee: str | None = attrs.field(default=None, validator=_optional_text)
    department: str | None = attrs.field(default=None, validator=_optional_text)
    requester: str | None = attrs.field(default=None, validator=_optional_text)
    tags: frozenset[str] = attrs.field(default=frozenset(), converter=tag_set)
    order_by: str = attrs.field(default="created_at", validator=_order)
    descending: bool = attrs.field(default=False, validator=_flag)
    limit: int | None = attrs.field(default=None, validator=_limit)
    due: tuple[str, datetime] | None = attrs.field(default=None, converter=_due)
    after: tuple[datetime | None, str] | None = attrs.field(default=None, converter=_after)

    def matches(self, ticket: Ticket) -> bool:
        """Whether ``ticket`` passes every filter (ordering and limit aside)."""
        return (
            (self.statuses is None or ticket.status in self.statuses)
            and (self.assignee is None or ticket.assignee == self.assignee)
            and (self.department is None or ticket.department == self.department)
            and (self.requester is None or ticket.requester.id == self.requester)
            and self.tags <= ticket.tags
            and (self.due is None or _is_due(ticket, *self.due))
        )

    def select(self, tickets: Iterable[Ticket]) -> list[Ticket]:
        """Apply the whole query to ``tickets`` in memory: filter, order, limit."""
        found = [ticket for ticket in tickets if self.matches(ticket)]
        found.sort(key=lambda ticket: ticket.id, reverse=self.descending)
        present = [ticket for ticket in found if getattr(ticket, self.order_by) is not None]
        absent = [ticket for ticket in found if getattr(ticket, self.order_by) is None]
        present.sort(key=lambda ticket: getattr(ticket, self.order_by), reverse=self.descending)
        ordered = present + absent
        if self.after is not None:
            ordered = [ticket for ticket in ordered if self.past(ticket)]
        return ordered if self.limit is None else ordered[: self.limit]

    def past(self, ticket: Ticket) -> bool:
        """Whether ``ticket`` comes after the position ``after`` in this query's order."""
        if self.after is None:
            return True
        last, last_id = self.after
        value: datetime | None = getattr(ticket, self.order_by)
        if (value is None) != (last is None):
            return value is None  # unset values come last, either way
        if value is not None and value != last:
            return value < last if self.descending else value > last  # type: ignore[operator]
        return ticket.id < last_id if self.descending else ticket.id > last_id

    def position(self, ticket: Ticket) -> tuple[datetime | None, str]:
        """The ``after`` that starts a page past ``ticket``."""
        return getattr(ticket, self.order_by), ticket.id
