"""Statuses and the categories that give them meaning to the lifecycle's laws."""

from __future__ import annotations

import enum
import re

import attrs

from ticketflow._errors import InvalidInput
from ticketflow._validate import enum_value

_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")

NAME_RULE = "a lower-case identifier such as 'waiting_on_vendor'"
"""What a status or event name must be, in words, for error messages."""


def is_name(value: object) -> bool:
    """Whether ``value`` may name a status or an event: a lower-case identifier.

    Status names and event names follow the same rule, in code and in data, so
    they are safe in stored history, diagrams and the command line.

    >>> is_name("wait_for_vendor"), is_name("Resolve It!")
    (True, False)
    """
    return isinstance(value, str) and _NAME.match(value) is not None


class Category(enum.Enum):
    """What a status means to the lifecycle, whatever a team calls it.

    The laws are written against categories, so they hold for custom statuses:
    a ``CLOSED`` status can be entered only from a ``SOLVED`` one.
    """

    # Members are singletons compared by identity; hash them by identity too
    # (in C) rather than by name (in Python): they key lookups on every command.
    __hash__ = object.__hash__

    NEW = "new"
    """Logged, nobody has answered yet."""
    OPEN = "open"
    """The support team is working on it."""
    PENDING = "pending"
    """Waiting for the customer."""
    ON_HOLD = "on_hold"
    """Set aside until later, or waiting on a third party."""
    SOLVED = "solved"
    """Fixed, open for the customer's follow-up."""
    CLOSED = "closed"
    """Final for the customer; locked against further actions."""
    REMOVED = "removed"
    """Spam, deleted or purged: out of every queue."""

    @property
    def is_active(self) -> bool:
        """Whether work is still expected in this category: see :data:`ACTIVE_CATEGORIES`."""
        return self in ACTIVE_CATEGORIES


ACTIVE_CATEGORIES: frozenset[Category] = frozenset(
    {Category.NEW, Category.OPEN, Category.PENDING, Category.ON_HOLD}
)
"""The categories in which work is still expected: new, open, pending and on hold.

Solved tickets wait only for the customer's follow-up, closed ones are locked,
removed ones are out of every queue.  Queues, SLA clocks and updates build on
this set rather than spelling it; test one category with :attr:`Category.is_active`.
"""


def _check_name(_instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not is_name(value):
        raise InvalidInput(f"Status.{attribute.name}", value, NAME_RULE)


def _category(value: object) -> Category:
    return enum_value(Category, value, "Status.category")


def _default_label(status: Status) -> str:
    return status.name.replace("_", " ").capitalize()


@attrs.frozen
class Status:
    """A status a ticket can be in.

    Args:
        name: the identifier stored on tickets, such as ``"resolved"``.
        category: what the status means to the lifecycle.
        label: the name people read; defaults to the name, capitalised.
        sla_paused: whether SLA clocks stop while a ticket sits in this status.

    >>> Status("waiting_on_vendor", Category.ON_HOLD, sla_paused=True).label
    'Waiting on vendor'
    """

    name: str = attrs.field(validator=_check_name)
    category: Category = attrs.field(converter=_category)
    label: str = attrs.field(default=attrs.Factory(_default_label, takes_self=True), kw_only=True)
    sla_paused: bool = attrs.field(default=False, kw_only=True)
