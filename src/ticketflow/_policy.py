"""Who may fire which event on which ticket.

A policy is a matrix: for each role, the events it may fire and on which
tickets (its :class:`Scope`).  It is a value: :meth:`Policy.grant` and
:meth:`Policy.revoke` return a new policy.  The workflow decides whether an
event can happen at all; the policy decides whether this actor may make it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType

import attrs

from ticketflow._actor import Actor, Role
from ticketflow._errors import InvalidInput, PermissionDenied
from ticketflow._names import (
    AGENT_REPLY,
    ASSIGN,
    CLOSE,
    CREATE,
    CUSTOMER_REPLY,
    DELETE,
    MARK_SPAM,
    MERGE,
    NOTE,
    POSTPONE,
    RATE,
    REMIND,
    REOPEN,
    RESOLVE,
    RESTORE,
    REVIEW,
    SET_DEPARTMENT,
    SET_FIELDS,
    SET_PRIORITY,
    UPDATE_TAGS,
    WAKE,
)
from ticketflow._reserved import REQUESTERS
from ticketflow._status import Category
from ticketflow._ticket import Ticket
from ticketflow._validate import enum_value, text

_NO_GRANTS: dict[str, Scope] = {}

ANY_EVENT = "*"
"""Stands for every event in a role's grants."""


class Scope(enum.Enum):
    """Which tickets a grant covers."""

    # Members are singletons compared by identity; hash them by identity too
    # (in C) rather than by name (in Python): they key lookups on every command.
    __hash__ = object.__hash__

    ALL = "all"
    """Every ticket."""
    DEPARTMENT = "department"
    """Tickets of the actor's department, and tickets assigned to the actor."""
    OWN = "own"
    """For staff, tickets assigned to them; for customers, tickets they requested."""


# Reading an enum member through its class runs a descriptor on Python 3.11
# (about 80 ns): the fast path of Policy.check reads these names instead.
_ALL = Scope.ALL
_CLOSED = Category.CLOSED
_CUSTOMER = Role.CUSTOMER

_STAFF_EDITS = (
    NOTE,
    REMIND,
    ASSIGN,
    SET_PRIORITY,
    SET_DEPARTMENT,
    UPDATE_TAGS,
    SET_FIELDS,
)

DEFAULT_GRANTS: Mapping[Role, Mapping[str, Scope]] = MappingProxyType(
    {
        Role.CUSTOMER: MappingProxyType(
            {
                CREATE: Scope.OWN,
                CUSTOMER_REPLY: Scope.OWN,
                RESOLVE: Scope.OWN,
                CLOSE: Scope.OWN,
                RATE: Scope.OWN,
            }
        ),
        Role.AGENT: MappingProxyType(
            {
                CREATE: Scope.ALL,
                AGENT_REPLY: Scope.ALL,
                **dict.fromkeys(_STAFF_EDITS, Scope.ALL),
                POSTPONE: Scope.ALL,
                WAKE: Scope.ALL,
                RESOLVE: Scope.OWN,
                CLOSE: Scope.OWN,
                MARK_SPAM: Scope.ALL,
                DELETE: Scope.ALL,
                RESTORE: Scope.ALL,
                MERGE: Scope.ALL,
                REVIEW: Scope.ALL,
            }
        ),
        Role.ADMIN: MappingProxyType({ANY_EVENT: Scope.ALL}),
        Role.OWNER: MappingProxyType({ANY_EVENT: Scope.ALL}),
        Role.SYSTEM: MappingProxyType({ANY_EVENT: Scope.ALL}),
    }
)
"""The default matrix; ``docs/permissions.md`` shows it as a table."""


def _freeze(grants: Mapping[Role, Mapping[str, Scope]]) -> Mapping[Role, Mapping[str, Scope]]:
    expected = "a mapping of roles to mappings of event names to scopes"
    if not isinstance(grants, Mapping) or not all(
        isinstance(events, Mapping) for events in grants.values()
    ):
        raise InvalidInput("grants", grants, expected)
    return MappingProxyType(
        {
            enum_value(Role, role, "role"): MappingProxyType(
                {
                    text(event, "event"): enum_value(Scope, scope, f"scope of {event!r}")
                    for event, scope in events.items()
                }
            )
            for role, events in grants.items()
        }
    )


def _roles(value: Iterable[Role | str]) -> frozenset[Role]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidInput("lock_override", value, "a set of roles such as {'admin', 'owner'}")
    return frozenset(enum_value(Role, role, "lock_override") for role in value)


def _events(value: Iterable[str]) -> frozenset[str]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidInput("unlocking", value, "a set of event names such as {'reopen'}")
    return frozenset(text(event, "unlocking") for event in value)


@attrs.frozen
class Policy:
    """The permission matrix a Helpdesk checks before every command.

    Args:
        grants: for each role, the events it may fire and their scope; the
            event ``"*"`` stands for every event.
        lock_override: the roles that may act on a closed (locked) ticket
            beyond the events in ``unlocking``.
        unlocking: the events anyone granted them may fire on a closed ticket
            (by default: reopening, a customer's reply, a rating and a review,
            none of which unlocks it).

    >>> policy = Policy.default().grant(Role.AGENT, "reopen")
    >>> policy.denial(ticket=None, actor=Actor.agent("a-1"), event="purge")
    "the agent role has no grant for 'purge'"
    """

    grants: Mapping[Role, Mapping[str, Scope]] = attrs.field(
        default=DEFAULT_GRANTS, converter=_freeze
    )
    lock_override: frozenset[Role] = attrs.field(
        default=frozenset({Role.ADMIN, Role.OWNER, Role.SYSTEM}), converter=_roles
    )
    unlocking: frozenset[str] = attrs.field(
        default=frozenset({REOPEN, CUSTOMER_REPLY, RATE, REVIEW}), converter=_events
    )
    _lookup: dict[Role, dict[str, Scope]] = attrs.field(
        init=False,
        eq=False,
        repr=False,
        default=attrs.Factory(
            lambda policy: {role: dict(events) for role, events in policy.grants.items()},
            takes_self=True,
        ),
    )
    """The grants as plain dicts, for the lookup every command makes."""

    @classmethod
    def default(cls) -> Policy:
        """The default matrix (see ``docs/permissions.md``)."""
        return cls()

    def grant(self, role: Role | str, event: str, scope: Scope | str = Scope.ALL) -> Policy:
        """Return a policy in which ``role`` may also fire ``event`` within ``scope``."""
        which = enum_value(Role, role, "role")
        events = {
            **self.grants.get(which, {}),
            text(event, "event"): enum_value(Scope, scope, "scope"),
        }
        return attrs.evolve(self, grants={**self.grants, which: events})

    def revoke(self, role: Role | str, event: str) -> Policy:
        """Return a policy in which ``role`` may no longer fire ``event``.

        Raises:
            InvalidInput: ``role`` is the owner, who keeps every permission, or
                ``role`` has no explicit grant for ``event`` to revoke.
        """
        which = enum_value(Role, role, "role")
        text(event, "event")
        if which is Role.OWNER:
            raise InvalidInput(
                "role", which, "a role other than the owner, who keeps every permission"
            )
        events = dict(self.grants.get(which, {}))
        if event not in events:
            raise InvalidInput(
                "event", event, f"one of the {which.value} role's grants: {sorted(events)}"
            )
        del events[event]
        return attrs.evolve(self, grants={**self.grants, which: events})

    def scope(self, actor: Actor, event: str) -> Scope | None:
        """Return the scope in which ``actor`` may fire ``event``, or None."""
        events = self._lookup.get(actor.role, _NO_GRANTS)
        scope = events.get(event, events.get(ANY_EVENT))
        if scope is None and event in actor.grants:
            scope = Scope.ALL
        if scope is not None and actor.role is Role.CUSTOMER:
            return Scope.OWN  # customers act only on their own tickets, whatever the grant
        return scope

    def denial(
        self,
        ticket: Ticket | None,
        actor: Actor,
        event: str,
        category: Category | None = None,
    ) -> str | None:
        """Return why ``actor`` may not fire ``event`` on ``ticket``, or None if they may.

        ``ticket`` None asks about the role and grants alone; ``category`` is
        the category of the ticket's status (for the closed-ticket lock).
        """
        scope = self.scope(actor, event)
        if scope is None:
            return f"the {actor.role.value} role has no grant for {event!r}"
        if ticket is None:
            return None
        if (
            category is Category.CLOSED
            and event not in self.unlocking
            and actor.role not in self.lock_override
        ):
            allowed = ", ".join(sorted(role.value for role in self.lock_override))
            return (
                f"the ticket is closed and locked; beyond reopening, only {allowed} may act on it"
            )
        return _scope_denial(scope, actor, ticket, event)

    def check(self, ticket: Ticket, actor: Actor, event: str, category: Category) -> None:
        """Raise PermissionDenied unless ``actor`` may fire ``event`` on ``ticket``."""
        role = actor.role
        events = self._lookup.get(role, _NO_GRANTS)
        if (
            category is not _CLOSED
            and role is not _CUSTOMER  # whose grants never reach beyond their own tickets
            and events.get(event, events.get(ANY_EVENT)) is _ALL
        ):
            return  # the common case: granted everywhere, on an unlocked ticket
        reason = self.denial(ticket, actor, event, category)
        if reason is not None:
            raise PermissionDenied(actor, event, ticket.id, reason)

    def to_markdown(self, events: Iterable[str]) -> str:
        """Return the matrix as a Markdown table: a row per event, a column per role.

        >>> print(Policy.default().to_markdown(["purge"]), end="")
        | event | customer | agent | admin | owner | system |
        |---|---|---|---|---|---|
        | `purge` | — | — | all | all | all |
        """
        roles = list(Role)
        lines = [
            "| event | " + " | ".join(role.value for role in roles) + " |",
            "|---|" + "---|" * len(roles),
        ]
        for event, scopes in self.rows(list(events)):
            cells = (_scope_cell(scopes[role]) for role in roles)
            lines.append(f"| `{event}` | " + " | ".join(cells) + " |")
        return "\n".join(lines) + "\n"

    def rows(self, events: list[str]) -> Iterator[tuple[str, dict[Role, Scope | None]]]:
        """Yield ``(event, {role: scope or None})`` for each event, for tables."""
        for event in events:
            yield event, {role: self.scope(Actor("x", role), event) for role in Role}


def _scope_cell(scope: Scope | None) -> str:
    return "—" if scope is None else scope.value


def _scope_denial(scope: Scope, actor: Actor, ticket: Ticket, event: str) -> str | None:
    if scope is Scope.ALL or _owns(actor, ticket):
        return None
    if scope is Scope.OWN:
        if actor.role is Role.CUSTOMER:
            return "customers act only on tickets they requested"
        return (
            f"{event!r} is granted only on tickets assigned to them "
            f"(assignee is {ticket.assignee!r})"
        )
    if actor.department is not None and actor.department == ticket.department:
        return None
    return (
        f"{event!r} is granted only in department {actor.department!r} "
        f"(the ticket is in {ticket.department!r})"
    )


def _owns(actor: Actor, ticket: Ticket) -> bool:
    if actor.role is Role.CUSTOMER:
        # The requesters of tickets merged into this one own it too.
        if ticket.requester.id == actor.id:
            return True
        merged = ticket.fields.get(REQUESTERS)
        return isinstance(merged, tuple) and actor.id in merged
    return ticket.assignee == actor.id
