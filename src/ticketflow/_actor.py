"""Who acts on a ticket: customers, agents, admins, the owner, and the system."""

from __future__ import annotations

import enum
from collections.abc import Iterable

import attrs

from ticketflow._validate import enum_value, optional_text, tag_set, text


class Role(enum.Enum):
    """The role an actor acts in; the policy grants permissions per role."""

    # Members are singletons compared by identity; hash them by identity too
    # (in C) rather than by name (in Python): they key lookups on every command.
    __hash__ = object.__hash__

    CUSTOMER = "customer"
    AGENT = "agent"
    ADMIN = "admin"
    OWNER = "owner"
    SYSTEM = "system"

    @property
    def is_staff(self) -> bool:
        """Whether the role works tickets (agents, admins, the owner): see :data:`STAFF_ROLES`."""
        return self in STAFF_ROLES


STAFF_ROLES: frozenset[Role] = frozenset({Role.AGENT, Role.ADMIN, Role.OWNER})
"""The roles that work tickets: agents, admins and the owner (not customers, not the system).

Their events count as agent activity; test a role with :attr:`Role.is_staff`
or, on a hot path, with ``role in STAFF_ROLES``.
"""


def _check_id(_instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    text(value, f"Actor.{attribute.name}")


def _grant_set(value: Iterable[str]) -> frozenset[str]:
    return tag_set(value, "Actor.grants")


def _role(value: object) -> Role:
    return enum_value(Role, value, "Actor.role")


def _department(value: object) -> str | None:
    return optional_text(value, "Actor.department")


@attrs.frozen
class Actor:
    """Someone (or something) that fires events on tickets.

    Build actors with the constructors, which read as the role they give:

    >>> Actor.agent("a-7", department="billing", grants={"reopen"})
    Actor(id='a-7', role=<Role.AGENT: 'agent'>, department='billing', grants=frozenset({'reopen'}))
    >>> Actor.system().id
    'system'

    Args:
        id: the host's id for this person; for a customer, the requester's contact id.
        role: the role they act in.
        department: the department an agent belongs to, if any.
        grants: events this actor may fire beyond what their role allows
            (for example ``{"reopen"}`` for an agent trusted to reopen).
    """

    id: str = attrs.field(validator=_check_id)
    role: Role = attrs.field(converter=_role)
    department: str | None = attrs.field(default=None, converter=_department, kw_only=True)
    grants: frozenset[str] = attrs.field(default=frozenset(), converter=_grant_set, kw_only=True)

    @classmethod
    def customer(cls, id: str) -> Actor:  # noqa: A002 - the issue promises this keyword
        """A customer; they own the tickets whose requester has this id."""
        return cls(id, Role.CUSTOMER)

    @classmethod
    def agent(
        cls,
        id: str,  # noqa: A002 - the issue promises this keyword
        department: str | None = None,
        *,
        grants: Iterable[str] = frozenset(),
    ) -> Actor:
        """A support agent, optionally of a department and with extra grants."""
        return cls(id, Role.AGENT, department=department, grants=_grant_set(grants))

    @classmethod
    def admin(cls, id: str) -> Actor:  # noqa: A002 - the issue promises this keyword
        """An administrator: may do everything the workflow allows."""
        return cls(id, Role.ADMIN)

    @classmethod
    def owner(cls, id: str) -> Actor:  # noqa: A002 - the issue promises this keyword
        """The account owner: may do everything the workflow allows."""
        return cls(id, Role.OWNER)

    @classmethod
    def system(cls, id: str = "system") -> Actor:  # noqa: A002 - mirrors the other constructors
        """The system itself, for automation rules."""
        return cls(id, Role.SYSTEM)
