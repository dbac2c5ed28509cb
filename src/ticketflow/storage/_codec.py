"""How tickets and history events become plain values for a database, and back.

The schema of what a store writes (``docs/storage.md`` has it as a table):

* times: integer microseconds since 1970-01-01T00:00:00Z, so they sort as
  numbers and come back as the same aware UTC datetime;
* ``priority``, ``channel``: the enum's value (``"high"``, ``"email"``);
* ``requester``: four columns, or in history ``{"id", "name", "email", "phone"}``;
* ``tags``: a JSON array of strings, sorted;
* ``fields``: a JSON object; a multi-select value is an array of strings;
* an actor: ``{"id", "role", "department", "grants"}`` with grants sorted;
* an event's ``changes``: a JSON object of the changed fields, each value
  encoded as its column is.

Decoding goes through the checking constructors, so a row that a bug or a
hand edit corrupted is refused with a clear error rather than loaded.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from ticketflow._actor import Actor
from ticketflow._errors import InvalidInput, StorageError
from ticketflow._history import HistoryEvent
from ticketflow._ticket import Channel, Contact, Priority, Ticket
from ticketflow._validate import enum_value, field_map, text, valid_unicode
from ticketflow.storage._query import ORDER_FIELDS, TicketQuery
from ticketflow.storage._schedule import Schedule
from ticketflow.storage._sla import StoredSLA, check_sla

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

TIME_FIELDS = ORDER_FIELDS
"""The ticket's time fields: stored as integer microseconds since the epoch."""

COLUMNS = (
    "id",
    "version",
    "status",
    "subject",
    "description",
    "requester_id",
    "requester_name",
    "requester_email",
    "requester_phone",
    "priority",
    "channel",
    "assignee",
    "department",
    "tags",
    "fields",
    *TIME_FIELDS,
    "reopen_count",
    "parent_id",
)
"""The columns of the ``tickets`` table, in order."""

EVENT_COLUMNS = (
    "ticket_id",
    "seq",
    "at",
    "actor",
    "name",
    "from_status",
    "to_status",
    "body",
    "changes",
)
"""The columns of the ``events`` table, in order."""


def time_in(value: datetime | None) -> int | None:
    """Return an aware datetime as integer microseconds since the epoch."""
    if value is None:
        return None
    # Exact integer arithmetic on the parts: a timedelta floor-divided by a
    # microsecond converts both to microseconds first, about twice the work.
    delta = value - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def time_out(value: int | None, field: str = "time") -> datetime | None:
    """Return integer microseconds since the epoch as an aware UTC datetime."""
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidInput(field, value, "integer microseconds since 1970-01-01 UTC")
    return EPOCH + value * _MICROSECOND


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
"""One encoder for every value: ``json.dumps`` with these options builds a new one each call."""


def _json(value: object) -> str:
    return _ENCODER.encode(value)


def _tags_in(tags: frozenset[str]) -> str:
    return _json(sorted(tags))


def _fields_in(fields: Mapping[str, Any]) -> str:
    return _json(dict(fields))


def _contact_in(contact: Contact) -> dict[str, str | None]:
    return {"id": contact.id, "name": contact.name, "email": contact.email, "phone": contact.phone}


def _contact_out(value: Mapping[str, Any]) -> Contact:
    return Contact(name=value["name"], email=value["email"], phone=value["phone"], id=value["id"])


def _plain(value: Any) -> Any:
    return value


_CHANGE_IN: dict[str, Callable[[Any], Any]] = {
    **dict.fromkeys(TIME_FIELDS, time_in),
    "priority": lambda value: value.value,
    "channel": lambda value: value.value,
    "requester": _contact_in,
    "tags": sorted,
    "fields": dict,
}
_CHANGE_OUT: dict[str, Callable[[Any], Any]] = {
    **dict.fromkeys(TIME_FIELDS, time_out),
    "priority": Priority,
    "channel": Channel,
    "requester": _contact_out,
    "tags": frozenset,
}


def ticket_row(ticket: Ticket) -> tuple[Any, ...]:
    """Return the ``tickets`` row of ``ticket``, in :data:`COLUMNS` order."""
    requester = ticket.requester
    return (
        ticket.id,
        ticket.version,
        ticket.status,
        ticket.subject,
        ticket.description,
        requester.id,
        requester.name,
        requester.email,
        requester.phone,
        ticket.priority.value,
        ticket.channel.value,
        ticket.assignee,
        ticket.department,
        _tags_in(ticket.tags),
        _fields_in(ticket.fields),
        *(time_in(getattr(ticket, name)) for name in TIME_FIELDS),
        ticket.reopen_count,
        ticket.parent_id,
    )


def ticket_from_row(row: tuple[Any, ...]) -> Ticket:
    """Rebuild a ticket from its ``tickets`` row, every value checked.

    The checks are the constructors' (text, the contact, the enums, the
    custom fields, the times as :func:`time_out` reads them); the ticket is
    then filled in directly, as ``_history.next_version`` does, since its
    converters would only convert again what is already converted.
    """
    values = dict(zip(COLUMNS, row, strict=True))
    ticket = _new(Ticket)
    ticket.__dict__.update(
        id=text(values["id"], "id"),
        subject=text(values["subject"], "subject"),
        description=text(values["description"], "description"),
        requester=Contact(
            name=values["requester_name"],
            email=values["requester_email"],
            phone=values["requester_phone"],
            id=values["requester_id"],
        ),
        status=text(values["status"], "status"),
        priority=enum_value(Priority, values["priority"], "priority"),
        channel=enum_value(Channel, values["channel"], "channel"),
        assignee=values["assignee"],
        department=values["department"],
        tags=frozenset(json.loads(values["tags"])),
        fields=field_map(_fields_out(json.loads(values["fields"]))),
        reopen_count=values["reopen_count"],
        parent_id=values["parent_id"],
        version=values["version"],
    )
    for name in TIME_FIELDS:
        ticket.__dict__[name] = time_out(values[name], name)
    for name in _REQUIRED_TIMES:
        if ticket.__dict__[name] is None:
            raise InvalidInput(name, None, "an aware datetime")
    return ticket


_new = object.__new__

_REQUIRED_TIMES = ("created_at", "updated_at", "status_changed_at")
"""The times every ticket has (the constructor refuses None for them)."""


def _fields_out(value: Mapping[str, Any]) -> dict[str, Any]:
    return {name: tuple(item) if isinstance(item, list) else item for name, item in value.items()}


def changed_columns(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Return the ``tickets`` columns and values that an event's ``changes`` set."""
    columns: dict[str, Any] = {}
    for name, value in changes.items():
        if name == "requester":
            contact = _contact_in(value)
            columns.update({f"requester_{key}": item for key, item in contact.items()})
        elif name == "tags":
            columns["tags"] = _tags_in(value)
        elif name == "fields":
            columns["fields"] = _fields_in(value)
        elif name in ("priority", "channel"):
            columns[name] = value.value
        elif name in _TIME_SET:
            columns[name] = time_in(value)
        else:
            columns[name] = value
    return columns


_TIME_SET = frozenset(TIME_FIELDS)


@functools.lru_cache(maxsize=1024)
def _actor_json(actor: Actor) -> str:
    """An actor's JSON: the same few actors write most events, so it is kept."""
    return _json(
        {
            "id": actor.id,
            "role": actor.role.value,
            "department": actor.department,
            "grants": sorted(actor.grants),
        }
    )


def event_row(event: HistoryEvent) -> tuple[Any, ...]:
    """Return the ``events`` row of ``event``, in :data:`EVENT_COLUMNS` order."""
    return (
        event.ticket_id,
        event.seq,
        time_in(event.at),
        _actor_json(event.actor),
        event.name,
        event.from_status,
        event.to_status,
        event.body,
        _json(
            {name: _CHANGE_IN.get(name, _plain)(value) for name, value in event.changes.items()}
        ),
    )


def event_from_row(row: tuple[Any, ...]) -> HistoryEvent:
    """Rebuild a history event from its ``events`` row (checked by the constructors)."""
    values = dict(zip(EVENT_COLUMNS, row, strict=True))
    actor = json.loads(values["actor"])
    changes = {
        name: _change_out(name, value) for name, value in json.loads(values["changes"]).items()
    }
    return HistoryEvent(
        ticket_id=values["ticket_id"],
        seq=values["seq"],
        at=time_out(values["at"]),
        actor=Actor(
            actor["id"], actor["role"], department=actor["department"], grants=actor["grants"]
        ),
        name=values["name"],
        from_status=values["from_status"],
        to_status=values["to_status"],
        body=values["body"],
        changes=changes,
    )


def _change_out(name: str, value: Any) -> Any:
    if name == "fields":
        return _fields_out(value)
    return _CHANGE_OUT.get(name, _plain)(value)


UNDECODABLE = (ValueError, TypeError, KeyError, AttributeError, IndexError, OverflowError)
"""What decoding a damaged row can raise (JSON of the wrong shape, a value of the wrong type)."""


def damaged_row(where: str, ticket_id: object, error: Exception) -> StorageError:
    """A stored row that does not decode: name the ticket and what is wrong with it."""
    return StorageError(where, f"the stored row of ticket {ticket_id!r} is damaged: {error}")


def schedule_from_row(
    where: str, ticket_id: object, next_due_at: int | None, rules: str | None = None
) -> Schedule:
    """A ticket's stored schedule (its ``next_due_at`` and ``schedule`` columns), decoded.

    Raises:
        StorageError: the values do not decode; it names the ticket.
    """
    try:
        return Schedule(time_out(next_due_at, "next_due_at"), rules)
    except UNDECODABLE as error:
        raise damaged_row(where, ticket_id, error) from None


def sla_in(sla: StoredSLA) -> tuple[int | None, str | None, str]:
    """The columns of a ticket's SLA record: ``sla_due_at``, ``sla_policies``, ``sla_state``."""
    check_sla(sla)
    return time_in(sla.due_at), sla.policies, sla.state


def sla_from_row(
    where: str, ticket_id: object, due_at: int | None, policies: str | None, state: str | None
) -> StoredSLA:
    """A ticket's stored SLA record (its ``sla_*`` columns), decoded.

    Raises:
        StorageError: the values do not decode; it names the ticket.
    """
    try:
        return StoredSLA(time_out(due_at, "sla_due_at"), policies, state or "")
    except UNDECODABLE as error:
        raise damaged_row(where, ticket_id, error) from None


VALID_UNICODE = "text without lone surrogates such as '\\ud800' (valid Unicode)"
"""What a database can store as text: what UTF-8 can encode."""


def unencodable(columns: Iterable[tuple[str, Any]]) -> InvalidInput | None:
    """The refusal of the first ``(column, value)`` holding text UTF-8 cannot encode, if any.

    The checkers refuse such text at the boundary; a ticket or event built
    around them (by a host's own code) is refused here, naming its column.
    """
    for name, value in columns:
        if isinstance(value, str) and not valid_unicode(value):
            return InvalidInput(name, value, VALID_UNICODE)
    return None


ALWAYS_SET = ("created_at", "updated_at", "status_changed_at")
"""The time fields every ticket has: ordered by one, a query needs no rule for unset values."""


def after_sql(query: TicketQuery, mark: str, ticket_id: Any) -> tuple[str, list[Any]]:
    """The SQL condition, and its parameters, that keeps the tickets past ``query.after``.

    The order is the stores' own: the order field (unset last), then the
    id, both descending if the query is; ``mark`` is the driver's parameter
    marker and ``ticket_id`` the last id as the store writes ids.  On a
    field every ticket has, a range of the field's index: the bound on the
    field alone lets the database start the index there.
    """
    if query.after is None:
        return "1 = 1", []
    last, _ = query.after
    field = query.order_by
    beyond = "<" if query.descending else ">"
    if field in ALWAYS_SET and last is not None:
        return (
            f"({field} {beyond}= {mark} AND ({field}, id) {beyond} ({mark}, {mark}))",
            [time_in(last), time_in(last), ticket_id],
        )
    if last is None:
        return f"({field} IS NULL AND id {beyond} {mark})", [ticket_id]
    return (
        f"({field} IS NULL OR {field} {beyond} {mark} "
        f"OR ({field} = {mark} AND id {beyond} {mark}))",
        [time_in(last), time_in(last), ticket_id],
    )
