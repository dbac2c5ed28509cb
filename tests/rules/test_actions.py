"""Actions: the command a rule fires, as the system actor."""

from __future__ import annotations

from datetime import timedelta

import pytest
from support import ANA

from ticketflow import Helpdesk, InvalidInput, ManualClock, Priority
from ticketflow.rules import Action, InCategory, Rule, Since


@pytest.mark.parametrize(
    ("given", "raised"),
    [("low", "normal"), ("normal", "high"), ("high", "urgent"), ("urgent", "urgent")],
)
def test_escalate_raises_the_priority_one_step_and_says_why(
    clock: ManualClock, given: str, raised: str
) -> None:
    rule = Rule(
        "escalate_new",
        InCategory("new") & Since("created_at", after=timedelta(hours=1)),
        Action.escalate(),
    )
    desk = Helpdesk(clock=clock, rules=[rule])
    ticket = desk.open(subject="VPN", description="d", requester=ANA, priority=given)
    clock.advance(timedelta(hours=1))
    assert [f.rule for f in desk.run_rules().fired] == ["escalate_new"]
    assert desk.get(ticket.id).priority is Priority(raised)
    assert desk.history(ticket.id)[-1].body == "Escalated: no reply from the customer."


def test_set_priority_refuses_an_unknown_priority_when_built() -> None:
    with pytest.raises(InvalidInput, match="priority must be one of"):
        Action.set_priority("asap")


def test_an_action_with_a_payload_function_gets_the_ticket_and_its_history(
    desk: Helpdesk,
) -> None:
    ticket = desk.open(subject="VPN", description="d", requester=ANA)
    action = Action("note", lambda t, history: {"body": f"{t.id}: {len(history)} events"})
    assert action.arguments(ticket, desk.history(ticket.id)) == {"body": "T-1: 1 events"}
