"""The context conditions are evaluated on: lazy, read-once history and SLA clocks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from support import AGENT, ANA, START

from ticketflow import Helpdesk, InvalidInput, ManualClock, Workflow
from ticketflow.rules import Condition, Context, InCategory, Predicate
from ticketflow.sla import SLAPolicy

HOUR = timedelta(hours=1)


@pytest.fixture
def opened(desk: Helpdesk) -> str:
    return desk.open(subject="VPN", description="It drops.", requester=ANA).id


def test_the_history_is_read_only_when_asked_and_then_only_once(
    desk: Helpdesk, opened: str
) -> None:
    reads: list[str] = []

    def read() -> list:  # type: ignore[type-arg]
        reads.append(opened)
        return desk.history(opened)

    context = Context(desk.get(opened), START, desk.workflow, history=read)
    assert InCategory("new").holds(context)
    assert reads == []
    assert not context.history_read
    assert [event.name for event in context.history()] == ["create"]
    assert [event.name for event in context.history()] == ["create"]
    assert reads == [opened]


def test_a_context_given_the_history_never_reads(desk: Helpdesk, opened: str) -> None:
    context = Context(desk.get(opened), START, desk.workflow, history=desk.history(opened))
    assert context.history_read
    assert len(context.history()) == 1


def test_after_a_change_the_context_extends_the_history_it_read(
    desk: Helpdesk, opened: str
) -> None:
    context = Context(desk.get(opened), START, desk.workflow, history=desk.history(opened))
    replied = desk.reply(opened, AGENT, "Which client?")
    following = context.after(replied, desk.history(opened)[-1])
    assert following.ticket is replied
    assert [event.name for event in following.history()] == ["create", "agent_reply"]


def test_the_clocks_are_measured_once(clock: ManualClock) -> None:
    desk = Helpdesk(clock=clock, sla_policies=[SLAPolicy("p", first_response=HOUR)])
    ticket = desk.open(subject="VPN", description="d", requester=ANA)
    context = desk.context(ticket.id)
    assert context.sla() is context.sla()
    assert context.sla_policy() is not None
    assert context.sla_policy().name == "p"  # type: ignore[union-attr]


def test_a_context_refuses_what_is_not_a_ticket_or_a_workflow(desk: Helpdesk, opened: str) -> None:
    with pytest.raises(InvalidInput, match="ticket must be a Ticket"):
        Context("T-1", START, desk.workflow)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="workflow must be a Workflow"):
        Context(desk.get(opened), START, "default")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="now must be an aware datetime"):
        Context(desk.get(opened), START.replace(tzinfo=None), Workflow.default())


class Unassigned(Condition):
    """A host's own condition: it only implements holds."""

    def holds(self, context: Context) -> bool:
        return context.ticket.assignee is None


def test_a_hosts_own_condition_composes_and_is_never_predicted(
    desk: Helpdesk, opened: str
) -> None:
    context = desk.context(opened)
    assert (Unassigned() & InCategory("new")).holds(context)
    assert not (~Unassigned()).holds(context)
    assert Unassigned().when(context) is None
    assert (~Unassigned()).when(context) is None  # not predicted, so its opposite is not either
    assert (~InCategory("open")).when(context) is not None
    assert (Unassigned() | Predicate("never", lambda _t, _n: False)).holds(context)
