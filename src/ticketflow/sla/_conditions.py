"""SLA conditions for rules, and the SLA notice rules."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import attrs

from ticketflow._errors import InvalidInput
from ticketflow._history import HistoryEvent
from ticketflow._status import Category
from ticketflow._ticket import Ticket
from ticketflow.rules._actions import Action
from ticketflow.rules._conditions import AllOf, AnyOf, Condition, InCategory, Not, _latest
from ticketflow.rules._rule import Rule

SLAStates = Callable[[Ticket, datetime], Sequence[Any]]
"""Gives a ticket's SLA states at an instant; a Helpdesk binds it (see :func:`bind`)."""


def _no_states(_ticket: Ticket, _now: datetime) -> Sequence[Any]:
    return ()


class _SLACondition(Condition):
    """What the SLA conditions share: they look at the running clocks the desk binds."""

    target: Any
    states: SLAStates

    def _matches(self, state: Any, now: datetime) -> bool:
        raise NotImplementedError

    def _matching(self, ticket: Ticket, now: datetime) -> list[Any]:
        return [
            state
            for state in self.states(ticket, now)
            if state.running
            and (self.target is None or state.target == self.target)
            and self._matches(state, now)
        ]

    def holds(self, ticket: Ticket, now: datetime) -> bool:
        """Whether some running clock matches."""
        return bool(self._matching(ticket, now))

    def when(self, ticket: Ticket) -> datetime | None:
        """Not predicted: it depends on the SLA clocks."""
        return None

    def anchor(self, ticket: Ticket, now: datetime) -> datetime | None:
        """The start of the matching clock: a rule on it acts once per run of a clock."""
        return _latest(state.started_at for state in self._matching(ticket, now))


@attrs.frozen
class SLAAtRisk(_SLACondition):
    """A running SLA clock has used at least ``fraction`` of its target, and is not yet breached.

    ``target`` (an SLA ``Target``) narrows it to one promise.  A Helpdesk
    binds the clocks from its SLA policies; unbound, it never holds.
    """

    fraction: float = 0.75
    target: Any = None
    states: SLAStates = attrs.field(default=_no_states, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if not 0 < self.fraction < 1:
            raise InvalidInput("fraction", self.fraction, "a number between 0 and 1")

    def _matches(self, state: Any, now: datetime) -> bool:
        return not state.breached and state.fraction >= self.fraction


@attrs.frozen
class SLABreached(_SLACondition):
    """A running SLA clock (of ``target``, if given) has passed its target."""

    target: Any = None
    states: SLAStates = attrs.field(default=_no_states, eq=False, repr=False)

    def _matches(self, state: Any, now: datetime) -> bool:
        return bool(state.breached)


@attrs.frozen
class SLADueWithin(_SLACondition):
    """A running SLA clock (of ``target``, if given) falls due within ``within`` of now."""

    within: timedelta
    target: Any = None
    states: SLAStates = attrs.field(default=_no_states, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.within, timedelta) or self.within <= timedelta(0):
            raise InvalidInput("within", self.within, "a positive timedelta")

    def _matches(self, state: Any, now: datetime) -> bool:
        return (
            not state.breached and state.due_at is not None and state.due_at - now <= self.within
        )


def sla_rules(*, warn_at: float | Sequence[float] = 0.75) -> tuple[Rule, ...]:
    """The SLA notices, each fired once per run of a clock.

    ``sla_warning`` when a running clock passes ``warn_at`` of its target,
    ``sla_breach`` when it passes the target.  Several fractions make one
    warning rule each, named ``sla_warning_50``, ``sla_warning_90`` and so on.
    They record ``sla_warning`` and ``sla_breach`` events in the history, which
    the host's hooks turn into alerts.  A Helpdesk given SLA policies and no
    ``rules=`` runs them beside :func:`default_rules`.
    """
    fractions = (warn_at,) if isinstance(warn_at, (int, float)) else tuple(warn_at)
    active = InCategory([Category.NEW, Category.OPEN, Category.PENDING, Category.ON_HOLD])
    warnings = tuple(
        Rule(
            "sla_warning" if len(fractions) == 1 else f"sla_warning_{round(fraction * 100)}",
            active & SLAAtRisk(fraction),
            Action("sla_warning", _notice(f"at {fraction:.0%} of its target")),
        )
        for fraction in fractions
    )
    breach = Rule("sla_breach", active & SLABreached(), Action("sla_breach", _notice("breached")))
    return (*warnings, breach)


def _notice(
    what: str,
) -> Callable[[Ticket, Sequence[HistoryEvent]], Mapping[str, Any]]:
    def payload(ticket: Ticket, _history: Sequence[HistoryEvent]) -> Mapping[str, Any]:
        return {"body": f"SLA {what} on ticket {ticket.id}."}

    return payload


def bind(
    condition: Condition,
    categories: Callable[[frozenset[Category]], frozenset[str]],
    states: SLAStates | None = None,
) -> Condition:
    """Fill the category parts' statuses from a workflow, and the SLA parts' clocks."""
    if isinstance(condition, InCategory):
        return attrs.evolve(condition, statuses=categories(condition.categories))
    if isinstance(condition, _SLACondition) and states is not None:
        sla_part: Any = condition  # each concrete SLA condition is an attrs class
        bound: Condition = attrs.evolve(sla_part, states=states)
        return bound
    if isinstance(condition, AllOf | AnyOf):
        parts = tuple(bind(part, categories, states) for part in condition.parts)
        return attrs.evolve(condition, parts=parts)
    if isinstance(condition, Not):
        return Not(bind(condition.part, categories, states))
    return condition
