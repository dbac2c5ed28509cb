"""Merging: a duplicate ticket leaves the queues into the ticket it duplicates.

``Helpdesk.merge(source, actor, into=target)`` commits two tickets in one
store transaction (both or neither):

* the **source** fires the workflow's ``merge`` event, which leads to a final
  status of category ``closed`` (``merged`` in the default lifecycle) and
  records the target's id in its reserved field ``ticketflow:merged_into``;
* the **target** gets a ``merge_in`` event whose body says what came in (the
  source's id, subject, requester and description) and whose changes add the
  source to ``ticketflow:merged_from`` and the source's requester to
  ``ticketflow:requesters``, the requesters who own the target with its own.

Both events replay like any other.  A customer's reply to the merged ticket
goes to the target.  Refused with :class:`MergeRefused`: a ticket merged into
itself, a target that is merged, purged, removed or closed, and a source
that others were merged into (merges never chain, so they never cycle).
The actor needs the ``merge`` grant on both tickets.
"""

from __future__ import annotations

import attrs

from ticketflow._actor import Actor
from ticketflow._commands import actor_of, ticket_id_of
from ticketflow._errors import (
    HookFailed,
    IllegalTransition,
    InvalidInput,
    MergeRefused,
    TicketNotFound,
)
from ticketflow._events import UPDATABLE
from ticketflow._history import next_version
from ticketflow._names import MERGE, MERGE_IN
from ticketflow._policy import Policy
from ticketflow._reserved import MERGED_FROM, MERGED_INTO, REQUESTERS, with_fields
from ticketflow._status import Category
from ticketflow._ticket import Ticket
from ticketflow._unit import Change, UnitOfWork
from ticketflow._validate import optional_text
from ticketflow._workflow import Workflow


def summary(source: Ticket) -> str:
    """The body of the target's ``merge_in`` event: what the source brings in."""
    requester = source.requester
    contact = requester.name + (f" <{requester.email}>" if requester.email else "")
    return (
        f"Merged {source.id} from {contact} ({requester.id}): {source.subject}\n\n"
        f"{source.description}"
    )


@attrs.frozen
class Merger:
    """Runs merges through a unit of work, under one workflow and one policy."""

    unit: UnitOfWork
    workflow: Workflow
    policy: Policy

    def merge(self, source_id: str, into: str, actor: Actor, body: object) -> Ticket:
        """Merge ``source_id`` into ``into``; return the target as committed.

        Raises:
            MergeRefused: the merge makes no sense for these two tickets.
            TicketNotFound: no source ticket.
            PermissionDenied: ``actor`` may not merge one of them.
            IllegalTransition: the workflow has no ``merge`` from the source's status.
            HookFailed: both were committed, but hooks raised.
        """
        source_id = ticket_id_of(source_id)
        if not isinstance(into, str):
            raise InvalidInput("into", into, "a ticket id (a string), such as 'T-1'")
        target_id = ticket_id_of(into)
        actor_of(actor)
        note = optional_text(body, "body")
        if source_id == target_id:
            raise MergeRefused(source_id, target_id, "a ticket cannot be merged into itself")
        failed: list[HookFailed] = []
        with self.unit.batch(failed):
            try:
                target = self.unit.store.get(target_id)
            except TicketNotFound:
                raise MergeRefused(
                    source_id, target_id, "no such ticket to merge into (purged, or never opened)"
                ) from None
            self._check_target(source_id, target)  # first: what the target is decides most
            change = self.unit.run(source_id, self._leave, target_id, actor, note)
            assert change is not None  # noqa: S101 - the step always returns a change
            merged = self.unit.run(target_id, self._take, change.ticket, actor)
            assert merged is not None  # noqa: S101 - the step always returns a change
        if failed:
            raise HookFailed.of(failed, merged.ticket)
        return merged.ticket

    def _leave(self, source: Ticket, target_id: str, actor: Actor, note: str | None) -> Change:
        """The source's step: no chain, the policy, then the workflow's ``merge``."""
        workflow = self.workflow
        self.policy.check(source, actor, MERGE, workflow.category(source.status))
        if MERGED_FROM in source.fields:
            raise MergeRefused(
                source.id,
                target_id,
                f"{source.id} has tickets merged into it "
                f"({', '.join(_names(source.fields[MERGED_FROM]))}); merges do not chain",
            )
        payload = {"into": target_id} if note is None else {"into": target_id, "body": note}
        try:
            ticket, event = workflow.apply(source, MERGE, actor, self.unit.now(source), **payload)
        except IllegalTransition as illegal:
            mine = [
                event
                for event in illegal.allowed
                if self.policy.denial(source, actor, event, workflow.category(source.status))
                is None
            ]
            raise IllegalTransition(
                source.id, source.status, MERGE, mine, illegal.reason
            ) from None
        return Change(ticket, event)

    def _take(self, target: Ticket, source: Ticket, actor: Actor) -> Change:
        """The target's step: it can take a ticket in, and the actor may merge it."""
        category = self._check_target(source.id, target)
        self.policy.check(target, actor, MERGE, category)
        merged_from = (*_names(target.fields.get(MERGED_FROM)), source.id)
        requesters = _names(target.fields.get(REQUESTERS))
        if source.requester.id != target.requester.id and source.requester.id not in requesters:
            requesters = (*requesters, source.requester.id)
        values = {MERGED_FROM: merged_from}
        if requesters:
            values[REQUESTERS] = requesters
        fields = with_fields(target.fields, values)
        at = self.unit.now(target)
        ticket, event = next_version(
            target, MERGE_IN, actor, at, {"fields": fields}, body=summary(source)
        )
        return Change(ticket, event)

    def _check_target(self, source_id: str, target: Ticket) -> Category:
        """Refuse a target that is merged, closed or removed; return its category."""
        category = self.workflow.category(target.status)
        reason = None
        if MERGED_INTO in target.fields:
            reason = f"{target.id} was itself merged into {target.fields[MERGED_INTO]}"
        elif category not in UPDATABLE:
            reason = f"{target.id} is {category.value} ({target.status}); it takes nothing in"
        if reason is not None:
            raise MergeRefused(source_id, target.id, reason)
        return category


def _names(value: object) -> tuple[str, ...]:
    return tuple(value) if isinstance(value, tuple) else ()
