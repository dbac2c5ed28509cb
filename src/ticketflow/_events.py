"""What each event takes as payload, and what it does to a ticket's fields.

The workflow decides *whether* an event may happen and which status follows;
this module decides *what else changes*.  Events fall in two kinds:

* transitions, declared in the workflow (``resolve``, ``close``, custom ones),
  which may move the status and accept an optional ``body``;
* updates (``note``, ``assign``, ``set_priority``, ...), which every workflow
  has, never move the status, and are refused on closed and removed tickets.

Replies are transitions with a required ``body`` and effects of their own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

import attrs

from ticketflow._actor import STAFF_ROLES, Actor, Role
from ticketflow._errors import InvalidInput
from ticketflow._names import (
    AGENT_REPLY,
    ASSIGN,
    CUSTOMER_REPLY,
    MERGE,
    NOTE,
    POSTPONE,
    REMIND,
    REOPEN,
    SET_DEPARTMENT,
    SET_FIELDS,
    SET_PRIORITY,
    SLA_BREACH,
    SLA_WARNING,
    UPDATE_TAGS,
)
from ticketflow._reserved import MERGED_INTO, host_fields, with_fields
from ticketflow._status import ACTIVE_CATEGORIES, Category
from ticketflow._ticket import Priority, Ticket
from ticketflow._validate import (
    FieldValue,
    enum_value,
    field_map,
    optional_text,
    tag_set,
    text,
    to_utc,
)

Check = Callable[[object, datetime], object]
"""Validates one payload value at the command's time, returning it normalised."""


def _body(value: object, _at: datetime) -> str:
    return text(value, "body")


def _optional_body(value: object, _at: datetime) -> str | None:
    return optional_text(value, "body")


def _until(value: object, at: datetime) -> datetime:
    until = to_utc(value, "until")
    if until <= at:
        raise InvalidInput("until", value, f"later than the time of the command, {at.isoformat()}")
    return until


def _assignee(value: object, _at: datetime) -> str | None:
    return optional_text(value, "to")


def _priority(value: object, _at: datetime) -> Priority:
    return enum_value(Priority, value, "priority")


def _department(value: object, _at: datetime) -> str | None:
    return optional_text(value, "department")


def _tags(value: object, _at: datetime) -> frozenset[str]:
    return tag_set(value, "add/remove")


def _fields(value: object, _at: datetime) -> Mapping[str, FieldValue]:
    fields = field_map(value, "fields")
    host_fields(fields)
    return fields


def _field_names(value: object, _at: datetime) -> frozenset[str]:
    names = tag_set(value, "remove")
    host_fields(dict.fromkeys(names), "remove")
    return names


def _into(value: object, _at: datetime) -> str:
    return text(value, "into")


Effect = Callable[[Ticket, Mapping[str, Any]], dict[str, Any]]
"""Returns the field changes an event makes, given the ticket and the checked payload."""


def _postpone(_ticket: Ticket, payload: Mapping[str, Any]) -> dict[str, Any]:
    return {"postponed_until": payload["until"]}


def _assign(_ticket: Ticket, payload: Mapping[str, Any]) -> dict[str, Any]:
    return {"assignee": payload["to"]}


def _set_priority(_ticket: Ticket, payload: Mapping[str, Any]) -> dict[str, Any]:
    return {"priority": payload["priority"]}


def _set_department(_ticket: Ticket, payload: Mapping[str, Any]) -> dict[str, Any]:
    return {"department": payload["department"]}


def _update_tags(ticket: Ticket, payload: Mapping[str, Any]) -> dict[str, Any]:
    add: frozenset[str] = payload.get("add", frozenset())
    remove: frozenset[str] = payload.get("remove", frozenset())
    if not add and not remove:
        raise InvalidInput("add/remove", payload, "at least one tag to add or remove")
    if add & remove:
        raise InvalidInput(
            "add/remove", sorted(add & remove), "tags that are not both added and removed"
        )
    return {"tags": (ticket.tags | add) - remove}


def _set_fields(ticket: Ticket, payload: Mapping[str, Any]) -> dict[str, Any]:
    updates: Mapping[str, FieldValue] = payload.get("fields", {})
    remove: frozenset[str] = payload.get("remove", frozenset())
    if not updates and not remove:
        raise InvalidInput("fields/remove", payload, "at least one field to set or remove")
    unknown = sorted(remove - set(ticket.fields))
    if unknown:
        raise InvalidInput(
            "remove", unknown, f"names of fields the ticket has: {sorted(ticket.fields)}"
        )
    merged = {name: value for name, value in ticket.fields.items() if name not in remove}
    merged.update(updates)
    return {"fields": MappingProxyType(merged)}


def _merged_into(ticket: Ticket, payload: Mapping[str, Any]) -> dict[str, Any]:
    return {"fields": with_fields(ticket.fields, {MERGED_INTO: payload["into"]})}


def _accepted(spec: EventSpec) -> dict[str, Check]:
    return {**spec.required, **spec.optional}


@attrs.frozen
class EventSpec:
    """The payload an event takes and the field changes it makes."""

    required: Mapping[str, Check] = attrs.field(factory=dict)
    optional: Mapping[str, Check] = attrs.field(factory=dict)
    effect: Effect | None = None
    """The field changes beyond the status and timestamps; None for none."""
    needs_one_of: bool = False
    _accepted: dict[str, Check] = attrs.field(
        init=False, default=attrs.Factory(_accepted, takes_self=True), eq=False, repr=False
    )
    """Every key the payload may have, required or optional, with its check."""

    def check(self, event: str, payload: Mapping[str, Any], at: datetime) -> dict[str, Any]:
        """Return the payload validated and normalised, or raise InvalidInput."""
        accepted = self._accepted
        checked = {}
        for key, value in payload.items():
            check = accepted.get(key)
            if check is None:
                unknown = sorted(payload.keys() - accepted.keys())
                expected = ", ".join(sorted(accepted)) or "no payload"
                raise InvalidInput(f"{event} payload", unknown, f"among its keys: {expected}")
            checked[key] = check(value, at)
        for key in self.required:
            if key not in checked:
                missing = sorted(self.required.keys() - payload.keys())
                given = ", ".join(self.required)
                raise InvalidInput(f"{event} payload", missing, f"given: {given}")
        return checked


TRANSITION = EventSpec(optional={"body": _optional_body})
"""The spec of any declared event without one of its own: an optional body."""

TRANSITION_SPECS: Mapping[str, EventSpec] = {
    AGENT_REPLY: EventSpec(required={"body": _body}),
    CUSTOMER_REPLY: EventSpec(required={"body": _body}),
    POSTPONE: EventSpec(
        required={"until": _until}, optional={"body": _optional_body}, effect=_postpone
    ),
    # The id of the ticket merged into; Helpdesk.merge records the other side.
    MERGE: EventSpec(
        required={"into": _into}, optional={"body": _optional_body}, effect=_merged_into
    ),
}
"""Declared events whose payload and effects are more than an optional body."""

UPDATE_SPECS: Mapping[str, EventSpec] = {
    NOTE: EventSpec(required={"body": _body}),
    REMIND: EventSpec(required={"body": _body}),
    SLA_WARNING: EventSpec(required={"body": _body}),
    SLA_BREACH: EventSpec(required={"body": _body}),
    ASSIGN: EventSpec(
        required={"to": _assignee}, optional={"body": _optional_body}, effect=_assign
    ),
    SET_PRIORITY: EventSpec(
        required={"priority": _priority}, optional={"body": _optional_body}, effect=_set_priority
    ),
    SET_DEPARTMENT: EventSpec(
        required={"department": _department},
        optional={"body": _optional_body},
        effect=_set_department,
    ),
    UPDATE_TAGS: EventSpec(
        optional={"add": _tags, "remove": _tags, "body": _optional_body}, effect=_update_tags
    ),
    SET_FIELDS: EventSpec(
        optional={"fields": _fields, "remove": _field_names, "body": _optional_body},
        effect=_set_fields,
    ),
}
"""Events every workflow has that change fields but never the status."""

UPDATABLE = ACTIVE_CATEGORIES | {Category.SOLVED}
"""Categories in which updates are accepted: the active ones, and solved.

Closed and removed tickets are locked."""


_CUSTOMER = Role.CUSTOMER


def record_activity(
    changes: dict[str, Any], ticket: Ticket, event: str, actor: Actor, at: datetime
) -> None:
    """Add to ``changes`` the activity timestamps an event by ``actor`` at ``at`` sets."""
    role = actor.role
    if role is _CUSTOMER:
        changes["last_customer_activity_at"] = at
    elif role in STAFF_ROLES:
        changes["last_agent_activity_at"] = at
        if event == AGENT_REPLY and ticket.first_response_at is None:
            changes["first_response_at"] = at
        elif event == REOPEN:
            changes["assignee"] = actor.id


@attrs.frozen
class StatusMove:
    """What moving a ticket from one status to another does to its fields.

    Worked out once per table row when a workflow is compiled, from the two
    statuses' categories, so that applying an event only copies values.

    Attributes:
        target: the status entered.
        stamps: the fields set to the time of the move.
        clears: the fields emptied (set to None).
        reopens: whether the move counts as a reopen (out of solved or closed
            into an active category).
    """

    target: str
    stamps: tuple[str, ...]
    clears: tuple[str, ...]
    reopens: bool
    _fixed: dict[str, Any] = attrs.field(
        init=False,
        default=attrs.Factory(
            lambda move: {"status": move.target} | dict.fromkeys(move.clears), takes_self=True
        ),
        eq=False,
        repr=False,
    )
    """The values that do not depend on the ticket or the time: the status and the clears."""

    @classmethod
    def between(cls, source: Category, target: Category, target_status: str) -> StatusMove:
        """Return the move from a status of category ``source`` into ``target_status``."""
        stamps = ["status_changed_at"]
        clears = []
        reopens = False
        if target is Category.SOLVED:
            stamps.append("resolved_at")
        elif target is Category.CLOSED:
            stamps.append("closed_at")
        elif target.is_active:
            reopens = source in (Category.SOLVED, Category.CLOSED)
            clears += ["resolved_at", "closed_at"]
        if source is Category.ON_HOLD and target is not Category.ON_HOLD:
            clears.append("postponed_until")
        return cls(target_status, tuple(stamps), tuple(clears), reopens)

    def record(self, changes: dict[str, Any], ticket: Ticket, at: datetime) -> None:
        """Add to ``changes`` the fields the move sets on ``ticket`` at ``at``."""
        changes.update(self._fixed)
        for name in self.stamps:
            changes[name] = at
        if self.reopens:
            changes["reopen_count"] = ticket.reopen_count + 1
