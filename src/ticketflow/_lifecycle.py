"""The default ticket lifecycle, declared with python-statemachine.

This class is the one place the default statuses and transitions are written;
``Workflow.default()`` compiles it, and the diagrams in ``docs/`` are drawn from it.
"""

from __future__ import annotations

from statemachine import StateMachine

from ticketflow._status import Category
from ticketflow._workflow import TicketState


class DefaultLifecycle(StateMachine):
    """New -> answered/open -> resolved -> closed, with postpone, spam, delete, purge and merge."""

    new = TicketState(Category.NEW, initial=True)
    open = TicketState(Category.OPEN)
    answered = TicketState(Category.PENDING)
    postponed = TicketState(Category.ON_HOLD, sla_paused=True)
    resolved = TicketState(Category.SOLVED)
    closed = TicketState(Category.CLOSED)
    spam = TicketState(Category.REMOVED)
    deleted = TicketState(Category.REMOVED)
    purged = TicketState(Category.REMOVED, final=True)
    merged = TicketState(Category.CLOSED, final=True)

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
    # A duplicate leaves the queues into the target (Helpdesk.merge): the one
    # way into a closed status that skips resolved, into a final one.
    merge = (
        new.to(merged)
        | open.to(merged)
        | answered.to(merged)
        | postponed.to(merged)
        | resolved.to(merged)
    )
