"""The sweep on its own: a unit of work, a workflow, a policy and rules; no Helpdesk."""

from __future__ import annotations

from datetime import timedelta

import pytest
from support import ANA, START

from ticketflow import Actor, InvalidInput, ManualClock, Policy, Workflow
from ticketflow._unit import UnitOfWork
from ticketflow.rules import Action, InCategory, InStatus, Rule, Since, default_rules
from ticketflow.rules._sweep import Sweep, unique_rules
from ticketflow.storage import MemoryStore

AGENT = Actor.agent("a-1")


def sweep_over(rules: tuple[Rule, ...]) -> tuple[Sweep, UnitOfWork, ManualClock]:
    clock = ManualClock(START)
    unit = UnitOfWork(MemoryStore(), clock, [], retries=3)
    return Sweep(unit, Workflow.default(), Policy.default(), rules), unit, clock


def opened(unit: UnitOfWork) -> str:
    workflow = Workflow.default()
    ticket, event = workflow.create(
        unit.store.new_id(), Actor.customer(ANA.id), unit.now(),
        subject="VPN", description="It drops.", requester=ANA,
    )  # fmt: skip
    return unit.create(ticket, event).id


def test_a_sweep_fires_a_rule_once_per_episode_without_a_desk() -> None:
    close = Rule(
        "close_new",
        InStatus("new") & Since("created_at", after=timedelta(days=1)),
        Action.fire("resolve", "Nothing more to do."),
    )
    sweep, unit, clock = sweep_over((close,))
    ticket_id = opened(unit)
    assert sweep.run().fired == ()
    clock.advance(timedelta(days=1))
    report = sweep.run()
    assert [(f.rule, f.ticket_id, f.to_status) for f in report.fired] == [
        ("close_new", ticket_id, "resolved")
    ]
    assert unit.store.fired("close_new", ticket_id, START)
    assert sweep.run().fired == ()


def test_a_later_rule_in_the_same_sweep_sees_the_ticket_an_earlier_rule_changed() -> None:
    first = Rule("tag", InCategory("new"), Action.tag(add={"seen"}))
    second = Rule("resolve_tagged", InCategory("new"), Action.fire("resolve"))
    sweep, unit, _clock = sweep_over((first, second))
    ticket_id = opened(unit)
    report = sweep.run()
    assert [f.rule for f in report.fired] == ["tag", "resolve_tagged"]
    history = unit.store.history(ticket_id)
    assert [e.name for e in history] == ["create", "update_tags", "resolve"]
    assert unit.store.get(ticket_id).tags == {"seen"}


def test_next_due_names_the_first_rule_to_act_without_a_desk() -> None:
    sweep, unit, _clock = sweep_over(default_rules())
    ticket_id = opened(unit)
    assert sweep.next_due(ticket_id) is None  # nothing waits on the customer yet


def test_a_sweep_refuses_a_malformed_limit_or_progress() -> None:
    sweep, _unit, _clock = sweep_over(())
    with pytest.raises(InvalidInput, match="limit must be None or a whole number"):
        sweep.run(limit=-1)
    with pytest.raises(InvalidInput, match="limit must be None or a whole number"):
        sweep.run(limit=True)
    with pytest.raises(InvalidInput, match="progress must be None or a function"):
        sweep.run(progress="dots")  # type: ignore[arg-type]


def test_rules_must_be_rules_with_distinct_names() -> None:
    rule = Rule("a", InCategory("new"), Action.fire("resolve"))
    assert unique_rules([rule]) == (rule,)
    with pytest.raises(InvalidInput, match="rules with unique names"):
        unique_rules([rule, rule])
    with pytest.raises(InvalidInput, match="Rule objects"):
        unique_rules(["a"])  # type: ignore[list-item]
