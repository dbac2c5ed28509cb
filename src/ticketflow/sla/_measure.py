"""Measuring a ticket's SLA clocks under a desk's policies, for a context."""

from __future__ import annotations

from collections.abc import Iterable

from ticketflow._errors import InvalidInput
from ticketflow.rules._context import Context
from ticketflow.sla._clocks import SLAState
from ticketflow.sla._policy import SLAPolicy
from ticketflow.sla._state import history_states


class SLAClocks:
    """A ticket's clocks under ``policies``, measured from its history, as a context asks.

    The policy is sticky (see :mod:`ticketflow.sla._state`): chosen at
    creation and again at each change of priority or department.

    Handed to each :class:`~ticketflow.rules.Context` a desk builds; the
    context calls it at most once, the first time a condition, the queue or a
    report asks for the clocks.

    Raises:
        InvalidInput: one of ``policies`` is not an :class:`SLAPolicy`.
    """

    __slots__ = ("policies",)

    def __init__(self, policies: Iterable[SLAPolicy]) -> None:
        if not isinstance(policies, Iterable) or isinstance(policies, (str, SLAPolicy)):
            raise InvalidInput("sla_policies", policies, "SLAPolicy objects, in a list")
        self.policies = tuple(policies)
        for given in self.policies:
            if not isinstance(given, SLAPolicy):
                raise InvalidInput("sla_policies", given, "SLAPolicy objects")
        names = [policy.name for policy in self.policies]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise InvalidInput("sla_policies", twice, "SLA policies with distinct names")

    def __call__(self, context: Context) -> tuple[SLAPolicy | None, tuple[SLAState, ...]]:
        if not self.policies:
            return None, ()
        return history_states(
            self.policies,
            context.workflow,
            context.history(),
            context.now,
            timeline=context.timeline(),
        )

    def __bool__(self) -> bool:
        return bool(self.policies)
