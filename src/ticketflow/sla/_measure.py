"""Measuring a ticket's SLA clocks under a desk's policies, for a context."""

from __future__ import annotations

from collections.abc import Iterable

from ticketflow._errors import InvalidInput
from ticketflow.rules._context import Context
from ticketflow.sla._clocks import SLAState, sla_states
from ticketflow.sla._policy import SLAPolicy, policy_for


class SLAClocks:
    """The clocks of the first of ``policies`` that covers a ticket, as a context asks for them.

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
        policy = policy_for(self.policies, context)
        if policy is None:
            return None, ()
        states = sla_states(
            policy, context.workflow, context.history(), context.now, timeline=context.timeline()
        )
        return policy, tuple(states)

    def __bool__(self) -> bool:
        return bool(self.policies)
