"""Commands: a person's (or the system's) request checked by the policy and the workflow.

A command is a step for the unit of work: check the policy for the actor,
apply the workflow (pure), and hand back the change.  A refused command
raises before anything is written.  The follow-up rule lives here too: a
customer's reply to a closed ticket that the workflow does not reopen opens a
new ticket linked to it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from ticketflow._actor import Actor, Role
from ticketflow._errors import IllegalTransition, InvalidInput, PermissionDenied, TicketNotFound
from ticketflow._events import UPDATABLE
from ticketflow._history import HistoryEvent
from ticketflow._names import AGENT_REPLY, CREATE, CUSTOMER_REPLY, MERGE, RATE, REVIEW
from ticketflow._policy import Policy
from ticketflow._reserved import MERGED_INTO, without_reserved
from ticketflow._review import Review
from ticketflow._satisfaction import Satisfaction, comment_of
from ticketflow._status import Category
from ticketflow._ticket import Contact, Ticket
from ticketflow._unit import Change, UnitOfWork
from ticketflow._workflow import Workflow

_DRAFT = "(new)"
"""The id a ticket is checked under before the store gives it its own."""


def ticket_id_of(ticket_id: object) -> str:
    """Return ``ticket_id`` if it is a string; raise :class:`InvalidInput` otherwise.

    (Any string is looked up: one that names no ticket is :class:`TicketNotFound`.)
    """
    if not isinstance(ticket_id, str):
        raise InvalidInput("ticket_id", ticket_id, "a ticket id (a string), such as 'T-1'")
    if not ticket_id.isascii():
        try:
            ticket_id.encode()
        except UnicodeEncodeError:
            raise InvalidInput(
                "ticket_id", ticket_id, "a ticket id in Unicode text (no lone surrogates)"
            ) from None
    return ticket_id


def actor_of(actor: object) -> Actor:
    """Return ``actor`` if it is an :class:`Actor`; raise :class:`InvalidInput` otherwise."""
    if not isinstance(actor, Actor):
        raise InvalidInput("actor", actor, "an Actor, such as Actor.agent('a-1')")
    return actor


def contact_of(requester: object) -> Contact:
    """Return ``requester`` if it is a :class:`Contact`; raise :class:`InvalidInput` otherwise."""
    if not isinstance(requester, Contact):
        raise InvalidInput(
            "requester", requester, "a Contact, such as Contact(name=..., email=...)"
        )
    return requester


@attrs.frozen
class Commands:
    """Runs commands through a unit of work, under one workflow and one policy."""

    unit: UnitOfWork
    workflow: Workflow
    policy: Policy
    satisfaction: Satisfaction = attrs.field(factory=Satisfaction)

    def permitted(self, ticket: Ticket, actor: Actor, events: Iterable[str]) -> list[str]:
        """The ``events`` the policy lets ``actor`` fire on ``ticket``."""
        category = self.workflow.category(ticket.status)
        return [
            event for event in events if self.policy.denial(ticket, actor, event, category) is None
        ]

    def allowed(self, ticket: Ticket, actor: Actor) -> list[str]:
        """The events ``actor`` may fire on ``ticket`` now: legal and permitted."""
        return self.permitted(
            ticket, actor, self.workflow.allowed(ticket, actor, self.unit.now(ticket))
        )

    def create(self, actor: Actor, **arguments: Any) -> Ticket:
        """Open a ticket in the workflow's initial status, if the policy lets ``actor``.

        Every argument and the permission are checked before the store gives
        the ticket its id, so a refused ``open`` uses up no id and names none.
        """
        now = self.unit.now()
        draft, _event = self.workflow.create(_DRAFT, actor, now, **arguments)
        denial = self.policy.denial(draft, actor, CREATE, self.workflow.category(draft.status))
        if denial is not None:
            raise PermissionDenied(actor, CREATE, None, denial)
        ticket, event = self.workflow.create(self.unit.store.new_id(), actor, now, **arguments)
        return self.unit.create(ticket, event)

    def fire(self, ticket_id: str, event: str, actor: Actor, payload: Mapping[str, Any]) -> Ticket:
        """Fire ``event`` on the ticket as ``actor``; return the ticket after it."""
        if actor.__class__ is not Actor:
            actor_of(actor)
        if ticket_id.__class__ is not str or not ticket_id.isascii():
            ticket_id_of(ticket_id)
        if event == MERGE:  # two tickets change: the merge records both
            raise InvalidInput(
                "event", event, "another event; merge with Helpdesk.merge(source, actor, into=...)"
            )
        change = self.unit.run(ticket_id, self._step, event, actor, payload)
        assert change is not None  # noqa: S101 - the step always returns a change
        return change.ticket

    def _step(
        self, ticket: Ticket, event: str, actor: Actor, payload: Mapping[str, Any]
    ) -> Change:
        """The command as a unit-of-work step: the policy, then the workflow."""
        workflow = self.workflow
        self.policy.check(ticket, actor, event, workflow.category(ticket.status))
        try:
            new, record = workflow.apply(ticket, event, actor, self.unit.now(ticket), **payload)
        except IllegalTransition as illegal:
            # Tell the actor what *they* may do now, not what anyone could.
            mine = self.permitted(ticket, actor, illegal.allowed)
            raise IllegalTransition(
                ticket.id, ticket.status, event, mine, illegal.reason
            ) from None
        return Change(new, record, (), workflow.purges(new.status))

    def reply(self, ticket_id: str, actor: Actor, body: str) -> Ticket:
        """A reply: ``customer_reply`` from a customer, ``agent_reply`` from anyone else.

        A customer's reply to a closed ticket that the workflow does not
        reopen opens a follow-up ticket whose ``parent_id`` is the closed one;
        to a merged ticket, it goes to the ticket it was merged into.
        """
        if actor_of(actor).role is not Role.CUSTOMER:
            return self.fire(ticket_id, AGENT_REPLY, actor, {"body": body})
        ticket = self.unit.store.get(ticket_id_of(ticket_id))
        target = self._open_target(ticket)
        if target is not None:
            return self.fire(target, CUSTOMER_REPLY, actor, {"body": body})
        category = self.workflow.category(ticket.status)
        if category is Category.CLOSED and CUSTOMER_REPLY not in self.workflow.allowed(
            ticket, actor, self.unit.now(ticket)
        ):
            self.policy.check(ticket, actor, CUSTOMER_REPLY, category)
            return self.create(
                actor,
                subject=ticket.subject,
                description=body,
                requester=ticket.requester,
                priority=ticket.priority,
                channel=ticket.channel,
                tags=ticket.tags,
                assignee=ticket.assignee,
                department=ticket.department,
                fields=without_reserved(ticket.fields),
                parent_id=ticket.id,
            )
        return self.fire(ticket_id, CUSTOMER_REPLY, actor, {"body": body})

    def _open_target(self, ticket: Ticket) -> str | None:
        """The ticket ``ticket`` was merged into, if it still takes replies (active or solved).

        A target closed, removed or purged since leaves the merged ticket to
        take a follow-up of its own, as any closed ticket does.
        """
        target = ticket.fields.get(MERGED_INTO)
        if not isinstance(target, str):
            return None
        try:
            into = self.unit.store.get(target)
        except TicketNotFound:
            return None
        return target if self.workflow.category(into.status) in UPDATABLE else None

    # -- after the work: ratings and reviews ----------------------------------

    def rate(self, ticket_id: str, actor: Actor, score: object, comment: object) -> Ticket:
        """Rate a solved or closed ticket on the desk's scale (:mod:`ticketflow._satisfaction`).

        The score and the comment are checked first, so a malformed one is
        refused whatever the ticket's state.
        """
        actor_of(actor)
        checked = self.satisfaction.score(score)
        remark = comment_of(comment)
        change = self.unit.run(ticket_id_of(ticket_id), self._rate, actor, checked, remark)
        assert change is not None  # noqa: S101 - the step always returns a change
        return change.ticket

    def _rate(self, ticket: Ticket, actor: Actor, score: int | str, comment: str | None) -> Change:
        category = self.workflow.category(ticket.status)
        self.policy.check(ticket, actor, RATE, category)
        now = self.unit.now(ticket)
        reason = self.satisfaction.refusal(ticket, category, now)
        if reason is not None:
            raise IllegalTransition(
                ticket.id, ticket.status, RATE, self.allowed(ticket, actor), reason
            )
        return _change(*self.satisfaction.rate(ticket, actor, now, score, comment))

    def review(self, ticket_id: str, actor: Actor, review: Review) -> Ticket:
        """Record ``review`` on a closed ticket (see :mod:`ticketflow._review`)."""
        actor_of(actor)
        if not isinstance(review, Review):
            raise InvalidInput("review", review, "a Review(solution, lessons)")
        change = self.unit.run(ticket_id_of(ticket_id), self._review, actor, review)
        assert change is not None  # noqa: S101 - the step always returns a change
        return change.ticket

    def _review(self, ticket: Ticket, actor: Actor, review: Review) -> Change:
        category = self.workflow.category(ticket.status)
        self.policy.check(ticket, actor, REVIEW, category)
        reason = None
        if category is not Category.CLOSED:
            reason = "only a closed ticket is reviewed"
        elif MERGED_INTO in ticket.fields:
            reason = f"it was merged into {ticket.fields[MERGED_INTO]!r}; review that ticket"
        if reason is not None:
            raise IllegalTransition(
                ticket.id, ticket.status, REVIEW, self.allowed(ticket, actor), reason
            )
        return _change(*review.record(ticket, actor, self.unit.now(ticket)))


def _change(ticket: Ticket, event: HistoryEvent) -> Change:
    return Change(ticket, event)
