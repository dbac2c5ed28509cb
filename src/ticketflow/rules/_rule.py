"""Rules: a named condition and its action; the default rule set."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

import attrs

from ticketflow._errors import InvalidInput
from ticketflow._history import HistoryEvent
from ticketflow._names import AGENT_REPLY, CLOSE, MERGE, REMIND, RESOLVE, UPDATE_TAGS, WAKE
from ticketflow._status import Category
from ticketflow._ticket import Priority, Ticket
from ticketflow._validate import text
from ticketflow._workflow import Workflow
from ticketflow.rules._actions import Action
from ticketflow.rules._conditions import (
    Condition,
    Durations,
    InCategory,
    Since,
    _durations,
)
from ticketflow.rules._context import Context
from ticketflow.storage._query import TicketQuery


def _rule_name(value: object) -> str:
    return text(value, "Rule.name")


def _condition(_rule: object, _attribute: object, value: Condition) -> None:
    if not isinstance(value, Condition):
        raise InvalidInput("Rule.when", value, "a Condition, such as InCategory('pending')")


def _action(_rule: object, _attribute: object, value: Action) -> None:
    if not isinstance(value, Action):
        raise InvalidInput("Rule.action", value, "an Action, such as Action.fire('close')")


def _flag(_rule: object, _attribute: object, value: bool) -> None:
    if not isinstance(value, bool):
        raise InvalidInput("Rule.enabled", value, "True or False")


@attrs.frozen
class Rule:
    """A named condition and the one action it takes, at most once per ticket and episode.

    Args:
        name: unique among a desk's rules; ledger entries are keyed by it.
        when: the condition.
        action: what it does when the condition holds.
        enabled: switched off rules are kept but never fire.

    >>> from datetime import timedelta
    >>> from ticketflow.rules import InStatus, Since
    >>> week = Since("resolved_at", after=timedelta(days=7))
    >>> rule = Rule("auto_close", InStatus("resolved") & week,
    ...             Action.fire("close", "Closed after a week without news."))
    >>> rule.when.fields()
    ('resolved_at',)
    """

    name: str = attrs.field(converter=_rule_name)
    when: Condition = attrs.field(validator=_condition)
    action: Action = attrs.field(validator=_action)
    enabled: bool = attrs.field(default=True, validator=_flag)

    def problems(self, workflow: Workflow) -> tuple[str, ...]:
        """What in the rule cannot fit ``workflow``: its condition's problems, an unknown event."""
        found = list(self.when.problems(workflow))
        if self.action.event == MERGE:  # the target would not know: Helpdesk.merge records both
            found.append("its action fires 'merge', which only Helpdesk.merge makes")
        elif self.action.event not in workflow.events:
            found.append(
                f"its action fires {self.action.event!r}, not an event of workflow "
                f"{workflow.name!r}"
            )
        return tuple(found)

    def episode(self, context: Context) -> datetime | None:
        """The instant the rule's time parts count from on the context's ticket (None without one).

        The latest of the time fields its conditions name and of the starts of
        the SLA clocks they look at.
        """
        return self.episode_from(context.ticket, self.when.anchor(context))

    def episode_from(self, ticket: Ticket, anchor: datetime | None) -> datetime | None:
        """The episode on ``ticket`` given its conditions' ``anchor`` (see :meth:`episode`)."""
        found = anchor
        for field in self.when.fields():  # a loop: asked of every due ticket, rule by rule
            value: datetime | None = getattr(ticket, field)
            if value is not None and (found is None or value > found):
                found = value
        return found

    def candidates(self, now: datetime, workflow: Workflow) -> TicketQuery:
        """The store query whose answer includes every ticket the rule may fire on at ``now``."""
        return self.when.narrow(TicketQuery(), now, workflow) or TicketQuery()


# -- the default rule set -----------------------------------------------------------

_HOUR, _DAY = timedelta(hours=1), timedelta(days=1)

REMIND_AFTER: Mapping[Priority, timedelta] = MappingProxyType(
    {
        Priority.URGENT: 4 * _HOUR,
        Priority.HIGH: _DAY,
        Priority.NORMAL: 2 * _DAY,
        Priority.LOW: 3 * _DAY,
    }
)
"""How long a ticket waits on the customer before the reminder, by priority."""

ESCALATE_AFTER: Mapping[Priority, timedelta] = MappingProxyType(
    {
        Priority.URGENT: 8 * _HOUR,
        Priority.HIGH: 2 * _DAY,
        Priority.NORMAL: 4 * _DAY,
        Priority.LOW: 6 * _DAY,
    }
)
"""How long before the silence is escalated (priority raised one step), by priority."""

RESOLVE_AFTER: Mapping[Priority, timedelta] = MappingProxyType(
    {
        Priority.URGENT: _DAY,
        Priority.HIGH: 4 * _DAY,
        Priority.NORMAL: 7 * _DAY,
        Priority.LOW: 10 * _DAY,
    }
)
"""How long before a ticket that never got its reply is resolved, by priority."""

CLOSE_AFTER = timedelta(days=7)
"""How long a solved ticket stays open for the customer before it is closed."""


def _attempts(ticket: Ticket, history: Sequence[HistoryEvent]) -> dict[str, Any]:
    contacts = [
        f"{event.at:%Y-%m-%d %H:%M} ({'reply' if event.name == AGENT_REPLY else 'reminder'})"
        for event in history
        if event.name in (AGENT_REPLY, REMIND)
    ]
    listed = "; ".join(contacts) or "none recorded"
    return {
        "body": f"We resolved ticket {ticket.id} because we have not heard back from you. "
        f"We wrote to you {len(contacts)} time{'s' if len(contacts) != 1 else ''}: {listed}. "
        "Reply at any time to reopen it."
    }


def default_rules(
    *,
    remind_after: Durations = REMIND_AFTER,
    escalate_after: Durations = ESCALATE_AFTER,
    resolve_after: Durations = RESOLVE_AFTER,
    close_after: Durations = CLOSE_AFTER,
) -> tuple[Rule, ...]:
    """The default automation, each rule switchable off with ``attrs.evolve(rule, enabled=False)``.

    - ``remind_customer``, ``escalate_silence``, ``resolve_silence``: a ticket
      waiting on the customer (a ``pending`` status, such as ``answered``) gets
      a reminder, then the tag ``escalated`` (for the host to route to a lead),
      then is resolved with a note listing every contact attempt; the periods
      count from the staff's last activity and depend on the priority.
    - ``auto_close``: a solved ticket is closed, with a note saying why, once
      ``close_after`` has passed since it was resolved or the customer last
      wrote, whichever is later.
    - ``wake_postponed``: an ``on_hold`` ticket wakes when its
      ``postponed_until`` comes.

    A customer reply ends the silence: the ticket leaves the status, and when
    it returns the periods count from the new answer.
    """
    remind_after = _durations(remind_after, "remind_after")
    escalate_after = _durations(escalate_after, "escalate_after")
    resolve_after = _durations(resolve_after, "resolve_after")
    close_after = _durations(close_after, "close_after")
    waiting = InCategory(Category.PENDING)
    answered = ("last_agent_activity_at",)
    return (
        Rule(
            "remind_customer",
            waiting & Since(*answered, after=remind_after),
            Action.remind(
                "We are waiting for your reply to continue with this ticket. "
                "If the problem is solved, there is nothing more to do."
            ),
        ),
        Rule(
            "escalate_silence",
            waiting & Since(*answered, after=escalate_after),
            # A tag, not a higher priority: the periods depend on the priority,
            # and raising it would hurry the resolution of the same silence.
            Action(
                UPDATE_TAGS,
                {"add": frozenset({"escalated"}), "body": "Escalated: the customer is silent."},
            ),
        ),
        Rule(
            "resolve_silence",
            waiting & Since(*answered, after=resolve_after),
            Action(RESOLVE, _attempts),
        ),
        Rule(
            "auto_close",
            InCategory(Category.SOLVED)
            & Since("resolved_at", "last_customer_activity_at", after=close_after),
            Action.fire(
                CLOSE,
                "We closed this ticket because it was resolved and we heard nothing more. "
                "Write to us again to open a follow-up.",
            ),
        ),
        Rule(
            "wake_postponed",
            InCategory(Category.ON_HOLD) & Since("postponed_until", after=timedelta(0)),
            Action.fire(WAKE, "The time this ticket was postponed to has come."),
        ),
    )
