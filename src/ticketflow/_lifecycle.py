"""The default ticket lifecycle, declared with python-statemachine.

This class is the one place the default statuses and transitions are written;
``Workflow.default()`` compiles it, and the diagrams in ``docs/`` are drawn from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from statemachine import StateMachine

from ticketflow._actor import Actor
from ticketflow._errors import InvalidInput
from ticketflow._status import Category
from ticketflow._ticket import Ticket
from ticketflow._workflow import Guard, TicketState


class DefaultLifecycle(StateMachine):
    """New -> answered/open -> resolved -> closed, with postpone, spam, delete and purge."""

    new = TicketState(Category.NEW, initial=True)
    open = TicketState(Category.OPEN)
    answered = TicketState(Category.PENDING)
    postponed = TicketState(Category.ON_HOLD, sla_paused=True)
    resolved = TicketState(Category.SOLVED)
    closed = TicketState(Category.CLOSED)
    spam = TicketState(Category.REMOVED)
    deleted = TicketState(Category.REMOVED)
    purged = TicketState(Category.REMOVED, final=True)

    agent_reply = (
        new.to(answered) | open.to(answered) | answered.to(answered) | postponed.to(answered)
    )
    customer_reply = (
        new.to(new)
        | open.to(open)
        | answered.to(open)
        | postponed.to(open)
        | resolved.to(open, cond="reply_reopens")
        | resolved.to(resolved)
        | closed.to(open, cond="within_reopen_window")
    )
    postpone = new.to(postponed) | open.to(postponed) | answered.to(postponed)
    wake = postponed.to(new, cond="never_answered") | postponed.to(open)
    resolve = new.to(resolved) | open.to(resolved) | answered.to(resolved) | postponed.to(resolved)
    close = resolved.to(closed)
    reopen = resolved.to(open) | closed.to(open)
    mark_spam = (
        new.to(spam) | open.to(spam) | answered.to(spam) | postponed.to(spam) | resolved.to(spam)
    )
    delete = (
        new.to(deleted)
        | open.to(deleted)
        | answered.to(deleted)
        | postponed.to(deleted)
        | resolved.to(deleted)
        | closed.to(deleted)
        | spam.to(deleted)
    )
    restore = (
        spam.to(new, cond="never_answered")
        | spam.to(open)
        | deleted.to(new, cond="never_answered")
        | deleted.to(open)
    )
    purge = spam.to(purged) | deleted.to(purged)


def default_guards(
    *, reopen_on_customer_reply: bool = True, reopen_window: timedelta | None = None
) -> Mapping[str, Guard]:
    """Return the guards the default lifecycle names, configured.

    Raises:
        InvalidInput: ``reopen_window`` is not a positive timedelta or None.
    """
    if reopen_window is not None and (
        not isinstance(reopen_window, timedelta) or reopen_window <= timedelta(0)
    ):
        raise InvalidInput("reopen_window", reopen_window, "a positive timedelta, or None")

    def never_answered(ticket: Ticket, _actor: Actor, _payload: Mapping[str, Any]) -> bool:
        return ticket.first_response_at is None

    def reply_reopens(_ticket: Ticket, _actor: Actor, _payload: Mapping[str, Any]) -> bool:
        return reopen_on_customer_reply

    def within_reopen_window(ticket: Ticket, _actor: Actor, payload: Mapping[str, Any]) -> bool:
        if reopen_window is None or ticket.closed_at is None:
            return False
        elapsed: timedelta = payload["at"] - ticket.closed_at
        return elapsed <= reopen_window

    return {
        "never_answered": never_answered,
        "reply_reopens": reply_reopens,
        "within_reopen_window": within_reopen_window,
    }
