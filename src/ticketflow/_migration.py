"""Moving tickets from one workflow to another, status by status.

A :class:`WorkflowChange` pairs two workflows with a status map and checks,
when it is built, that every status of the old workflow has a place in the new
one and that no ticket would break a law by moving: a locked (closed) ticket
stays locked, an open one does not become closed without being resolved, and a
removed one stays out of the queues.  ``Helpdesk.change_workflow`` runs it over
the stored tickets (:func:`migrate`), recording a ``migrate`` event for each
ticket that moves.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType

import attrs

from ticketflow._actor import Actor
from ticketflow._errors import HookFailed, InvalidInput, InvalidWorkflow
from ticketflow._history import HistoryEvent, next_version
from ticketflow._names import MIGRATE
from ticketflow._policy import Policy
from ticketflow._status import Category
from ticketflow._ticket import Ticket
from ticketflow._unit import Change, UnitOfWork
from ticketflow._validate import to_utc
from ticketflow._workflow import Workflow
from ticketflow.storage import TicketQuery

_KEPT = (Category.CLOSED, Category.REMOVED)
"""Categories a ticket can neither leave nor enter by a migration."""


def _status_map(value: object) -> Mapping[str, str]:
    if not isinstance(value, Mapping) or not all(
        isinstance(key, str) and isinstance(item, str) for key, item in value.items()
    ):
        raise InvalidInput("status_map", value, "a mapping of old status names to new ones")
    return MappingProxyType(dict(value))


@attrs.frozen
class WorkflowChange:
    """A move of tickets from ``old`` to ``new``, with where each old status goes.

    Args:
        old: the workflow the stored tickets follow now.
        new: the workflow they will follow.
        status_map: old status name -> new status name.  A status of ``old``
            that ``new`` also has and the map does not name keeps its name.

    >>> from ticketflow import Workflow
    >>> old = Workflow.default()
    >>> new = Workflow.from_dict({**old.to_dict(), "name": "renamed"})
    >>> dict(WorkflowChange(old, new, {"answered": "open"}).moves)
    {'answered': 'open'}
    >>> WorkflowChange(old, new, {"open": "opened", "snoozed": "new"})
    Traceback (most recent call last):
    ...
    ticketflow._errors.InvalidWorkflow: workflow 'default -> renamed' is invalid (2 problems):
      - 'snoozed' is mapped, but it is not a status of 'default'
      - status 'open' is mapped to 'opened', which is not a status of 'renamed'

    Raises:
        InvalidWorkflow: listing every old status without a place in ``new``,
            every name the map gets wrong, and every move that breaks a law.
    """

    old: Workflow
    new: Workflow
    status_map: Mapping[str, str] = attrs.field(
        factory=dict, converter=_status_map, eq=False, repr=False
    )
    moves: Mapping[str, str] = attrs.field(init=False, eq=False)
    """Only the old statuses whose name changes, and their new names."""

    def __attrs_post_init__(self) -> None:
        problems: list[str] = []
        old, new = self.old.statuses, self.new.statuses
        problems.extend(
            f"{name!r} is mapped, but it is not a status of {self.old.name!r}"
            for name in self.status_map
            if name not in old
        )
        target_of: dict[str, str] = {}
        for name in old:
            if self.old.purges(name) and name not in self.status_map:
                continue  # no ticket rests in a status that purges it
            target = self.status_map.get(name, name if name in new else None)
            if target is None:
                problems.append(
                    f"status {name!r} of {self.old.name!r} has no place in {self.new.name!r}: "
                    f"map it to one of {', '.join(new)}"
                )
            elif target not in new:
                problems.append(
                    f"status {name!r} is mapped to {target!r}, "
                    f"which is not a status of {self.new.name!r}"
                )
            else:
                problems.extend(self._law_problems(name, target))
                target_of[name] = target
        if problems:
            raise InvalidWorkflow(f"{self.old.name} -> {self.new.name}", problems)
        moves = {name: target for name, target in target_of.items() if name != target}
        object.__setattr__(self, "moves", MappingProxyType(moves))

    def _law_problems(self, name: str, target: str) -> list[str]:
        source = self.old.statuses[name].category
        into = self.new.statuses[target].category
        if self.new.purges(target):
            return [
                f"status {name!r} is mapped to {target!r}, which purges tickets: map it to "
                "a status they can rest in"
            ]
        if source is into or (source not in _KEPT and into not in _KEPT):
            return []
        return [
            f"status {name!r} ({source.value}) cannot become {target!r} ({into.value}): "
            "a workflow change never closes, removes or reopens a ticket"
        ]

    def apply(
        self, ticket: Ticket, actor: Actor, at: datetime
    ) -> tuple[Ticket, HistoryEvent] | None:
        """Return the moved ticket and its ``migrate`` event, or None if it stays as it is.

        Raises:
            InvalidInput: the ticket's status is not one of ``old``'s, or ``at``
                is naive or earlier than the ticket's last update.
        """
        if ticket.status not in self.old.statuses:
            raise InvalidInput(
                "ticket.status", ticket.status, f"a status of workflow {self.old.name!r}"
            )
        target = self.moves.get(ticket.status)
        if target is None:
            return None
        when = to_utc(at, "at")
        if when < ticket.updated_at:
            raise InvalidInput(
                "at", at, f"not earlier than the ticket's last update, {ticket.updated_at}"
            )
        body = f"workflow {self.old.name!r} -> {self.new.name!r}"
        return next_version(ticket, MIGRATE, actor, when, {"status": target}, body=body)


def migrate(
    unit: UnitOfWork,
    policy: Policy,
    change: WorkflowChange,
    actor: Actor,
    failed: list[HookFailed] | None = None,
) -> list[Ticket]:
    """Move every stored ticket ``change`` moves, each with a ``migrate`` event.

    Every permission is checked first, so a refusal moves nothing; each step
    checks it again on the ticket as it then stands (a retry after a
    concurrent change re-checks like a command).  Given ``failed``, hook
    failures are collected there and every ticket still moves.

    Returns:
        The moved tickets, as committed, in creation order.

    Raises:
        PermissionDenied: ``actor`` may not migrate one of the tickets.
    """
    query = TicketQuery(statuses=frozenset(change.moves), limit=None)
    due = unit.store.query(query) if change.moves else []
    for ticket in due:
        policy.check(ticket, actor, MIGRATE, change.old.category(ticket.status))

    def step(ticket: Ticket) -> Change | None:
        policy.check(ticket, actor, MIGRATE, change.old.category(ticket.status))
        moved = change.apply(ticket, actor, unit.now(ticket))
        return None if moved is None else Change(*moved)  # a change never purges

    moved = [unit.run(ticket.id, step, read=ticket, failed=failed) for ticket in due]
    return [done.ticket for done in moved if done is not None]
