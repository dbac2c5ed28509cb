"""The ticket and the values it holds: contact, priority, channel, custom fields."""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType

import attrs

from ticketflow._errors import InvalidInput
from ticketflow._validate import (
    FieldValue,
    field_map,
    optional_text,
    text,
    to_utc,
    valid_unicode,
)

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+\Z")


class Priority(enum.Enum):
    """How urgent a ticket is; SLAs and queues read it."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"

    @property
    def rank(self) -> int:
        """0 for LOW up to 3 for URGENT, for sorting."""
        return _RANKS[self]

    @property
    def raised(self) -> Priority:
        """The next priority up, for escalations; URGENT stays URGENT.

        >>> Priority.NORMAL.raised
        <Priority.HIGH: 'high'>
        >>> Priority.URGENT.raised
        <Priority.URGENT: 'urgent'>
        """
        return _RAISED[self]


_ORDER = (Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT)
"""The priorities from the lowest up: rank and raised both read it."""
_RANKS = {priority: rank for rank, priority in enumerate(_ORDER)}
_RAISED = dict(zip(_ORDER, (*_ORDER[1:], _ORDER[-1]), strict=True))  # the top stays the top


class Channel(enum.Enum):
    """How the request reached the help desk."""

    EMAIL = "email"
    PHONE = "phone"
    CHAT = "chat"
    PORTAL = "portal"
    API = "api"


def _utc_or_none(value: object) -> datetime | None:
    return None if value is None else to_utc(value, "timestamp")


def _utc(value: object) -> datetime:
    return to_utc(value, "timestamp")


def _email(value: object) -> str | None:
    # A converter, not a validator: it runs before the id defaults to the email.
    if value is not None and (
        not isinstance(value, str) or not valid_unicode(value) or not _EMAIL.match(value)
    ):
        raise InvalidInput("Contact.email", value, "an email address such as 'ana@example.com'")
    return value


def _contact_name(value: object) -> str:
    return text(value, "Contact.name")


def _contact_phone(value: object) -> str | None:
    return optional_text(value, "Contact.phone")


def _contact_given_id(value: object) -> str:
    return text(value, "Contact.id")


def _contact_id(contact: Contact) -> str:
    if contact.email is None:
        raise InvalidInput("Contact.id", None, "given, or an email to default to")
    return contact.email


@attrs.frozen
class Contact:
    """The customer who asked for help.

    Args:
        name: their full name.
        email: their email address.
        phone: their phone number, as they gave it.
        id: the host's customer id; defaults to the email.  The customer actor
            whose id equals it owns the ticket.

    >>> Contact(name="Ana Ozola", email="ana@example.com").id
    'ana@example.com'
    """

    name: str = attrs.field(converter=_contact_name)
    email: str | None = attrs.field(default=None, converter=_email)
    phone: str | None = attrs.field(default=None, converter=_contact_phone)
    id: str = attrs.field(
        default=attrs.Factory(_contact_id, takes_self=True),
        converter=_contact_given_id,
        kw_only=True,
    )


@attrs.frozen(slots=False)
class Ticket:
    """One support request and its current state; history holds how it got here.

    Tickets are values: every change makes a new one.  Hosts get them from a
    ``Helpdesk`` and never build them by hand, but they compare, copy and
    serialise like any attrs class.

    The class keeps its fields in a ``__dict__`` rather than slots so that
    ``_history.next_version`` can derive the next ticket with one dict merge,
    without the converters: that copy is on the path of every command.
    """

    id: str
    subject: str
    description: str
    requester: Contact
    status: str
    created_at: datetime = attrs.field(converter=_utc)
    updated_at: datetime = attrs.field(converter=_utc)
    status_changed_at: datetime = attrs.field(converter=_utc)
    priority: Priority = Priority.NORMAL
    channel: Channel = Channel.EMAIL
    assignee: str | None = None
    department: str | None = None
    tags: frozenset[str] = frozenset()
    fields: Mapping[str, FieldValue] = attrs.field(
        factory=lambda: MappingProxyType({}), converter=field_map, hash=False
    )
    first_response_at: datetime | None = attrs.field(default=None, converter=_utc_or_none)
    last_customer_activity_at: datetime | None = attrs.field(default=None, converter=_utc_or_none)
    last_agent_activity_at: datetime | None = attrs.field(default=None, converter=_utc_or_none)
    resolved_at: datetime | None = attrs.field(default=None, converter=_utc_or_none)
    closed_at: datetime | None = attrs.field(default=None, converter=_utc_or_none)
    postponed_until: datetime | None = attrs.field(default=None, converter=_utc_or_none)
    reopen_count: int = 0
    parent_id: str | None = None
    version: int = 1

    @property
    def answered(self) -> bool:
        """Whether staff ever replied to the customer."""
        return self.first_response_at is not None


TICKET_FIELDS: tuple[str, ...] = tuple(field.name for field in attrs.fields(Ticket))
"""The names of a ticket's fields, in declaration order."""
