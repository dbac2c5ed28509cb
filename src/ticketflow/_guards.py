"""Guards: the conditions on transitions, and the ones every workflow can name.

A guard is a pure function ``guard(ticket, actor, payload) -> bool``; a
transition names it (``cond="never_answered"``) and the workflow resolves the
name when it is built.  The built-in guards below are available by name to
every workflow; a host's own guards of the same name take their place.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from ticketflow._actor import Actor
from ticketflow._errors import InvalidInput
from ticketflow._ticket import Ticket

Guard = Callable[[Ticket, Actor, Mapping[str, Any]], bool]
"""A condition on a transition: ``guard(ticket, actor, payload) -> bool``.

``payload`` holds the command's checked keyword arguments and ``"at"``, the
time of the command.  Guards must be pure: no clock, no store, no side effects.
"""


def builtin_guards(
    *, reopen_on_customer_reply: bool = True, reopen_window: timedelta | None = None
) -> Mapping[str, Guard]:
    """Return the built-in guards, configured; every workflow can name them.

    ``never_answered``
        staff never replied to the ticket (wake and restore use it to return
        to ``new`` rather than ``open``).
    ``reply_reopens``
        a customer reply reopens a solved ticket: ``reopen_on_customer_reply``.
    ``within_reopen_window``
        the ticket was closed no longer than ``reopen_window`` ago (never, if
        the window is None).

    >>> sorted(builtin_guards())
    ['never_answered', 'reply_reopens', 'within_reopen_window']

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
