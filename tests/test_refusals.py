"""Issue 11 regressions: a refusal takes nothing (not even an id), and wrong types are named."""

from __future__ import annotations

from datetime import timedelta

import pytest
from support import ADMIN, AGENT, ANA, CUSTOMER, START, STRANGER, renamed_workflow

from ticketflow import Actor, Helpdesk, InvalidInput, ManualClock, PermissionDenied
from ticketflow.rules import Action, InStatus, Not, Rule, Since, Tagged, default_rules
from ticketflow.sla import SLAPolicy
from ticketflow.storage import MemoryStore

HOUR = timedelta(hours=1)


def test_a_refused_open_uses_up_no_id(desk: Helpdesk) -> None:
    with pytest.raises(InvalidInput, match="subject"):
        desk.open(subject="", description="d", requester=ANA)
    assert desk.open(subject="VPN", description="d", requester=ANA).id == "T-1"


def test_a_customer_refused_an_open_is_told_of_no_ticket_that_will_never_exist(
    desk: Helpdesk,
) -> None:
    with pytest.raises(PermissionDenied) as refused:
        desk.open(subject="VPN", description="d", requester=ANA, actor=STRANGER)
    assert refused.value.ticket_id is None
    assert "may not 'create' a new ticket" in str(refused.value)
    assert "T-" not in str(refused.value)
    assert desk.open(subject="VPN", description="d", requester=ANA).id == "T-1"


@pytest.mark.parametrize("bad", [["T-1"], 1, None, b"T-1"])
def test_a_ticket_id_that_is_not_a_string_is_named(desk: Helpdesk, bad: object) -> None:
    desk.open(subject="VPN", description="d", requester=ANA)
    calls = [
        lambda: desk.get(bad),  # type: ignore[arg-type]
        lambda: desk.history(bad),  # type: ignore[arg-type]
        lambda: desk.context(bad),  # type: ignore[arg-type]
        lambda: desk.sla(bad),  # type: ignore[arg-type]
        lambda: desk.next_due(bad),  # type: ignore[arg-type]
        lambda: desk.allowed_events(bad, AGENT),  # type: ignore[arg-type]
        lambda: desk.note(bad, AGENT, "x"),  # type: ignore[arg-type]
        lambda: desk.reply(bad, AGENT, "x"),  # type: ignore[arg-type]
        lambda: desk.reply(bad, CUSTOMER, "x"),  # type: ignore[arg-type]
    ]
    for call in calls:
        with pytest.raises(InvalidInput, match="ticket_id must be a ticket id"):
            call()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"store": "t.db"}, "store must be a Store"),
        ({"clock": "now"}, "clock must be a Clock"),
        ({"workflow": "default"}, "workflow must be a Workflow"),
        ({"policy": {}}, "policy must be a Policy"),
        ({"hooks": print}, "hooks must be functions"),
        ({"hooks": ["not callable"]}, "hooks must be functions"),
        ({"rules": [None]}, "rules must be Rule objects"),
        ({"sla_policies": ["gold"]}, "sla_policies must be SLAPolicy objects"),
        ({"retries": -1}, "retries must be a whole number"),
    ],
)
def test_a_desk_refuses_what_it_cannot_run_on_when_it_is_built(
    arguments: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        Helpdesk(**arguments)  # type: ignore[arg-type]


def test_a_rule_needs_a_condition_and_an_action() -> None:
    with pytest.raises(InvalidInput, match=r"Rule\.when must be a Condition"):
        Rule("r", None, Action.fire("close"))  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match=r"Rule\.action must be an Action"):
        Rule("r", InStatus("new"), "close")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="part must be a Condition"):
        Not(None)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="parts must be one or more Conditions"):
        InStatus("new") & "open"  # type: ignore[operator]


def test_a_desk_refuses_rules_that_name_statuses_or_events_its_workflow_lacks(
    clock: ManualClock,
) -> None:
    bogus = Rule("bogus", InStatus("bogus"), Action.fire("close"))
    with pytest.raises(InvalidInput, match="rule 'bogus': InStatus names 'bogus'"):
        Helpdesk(clock=clock, rules=[*default_rules(), bogus])
    typo = Rule("typo", InStatus("new"), Action.fire("clsoe"))
    with pytest.raises(InvalidInput, match="rule 'typo': its action fires 'clsoe'"):
        Helpdesk(clock=clock, rules=[typo])
    policy = SLAPolicy("p", applies_to=InStatus("waiting"), first_response=HOUR)
    with pytest.raises(InvalidInput, match="SLA policy 'p': InStatus names 'waiting'"):
        Helpdesk(clock=clock, sla_policies=[policy])


def test_a_workflow_change_the_rules_cannot_follow_is_refused_before_anything_moves(
    clock: ManualClock,
) -> None:
    rule = Rule("close_answered", InStatus("answered") & Since("created_at", after=HOUR),
                Action.fire("resolve"))  # fmt: skip
    store = MemoryStore()
    desk = Helpdesk(store=store, clock=clock, rules=[rule])
    ticket = desk.open(subject="VPN", description="d", requester=ANA)
    desk.reply(ticket.id, AGENT, "Which client?")
    renamed = renamed_workflow(answered="waiting")
    with pytest.raises(InvalidInput, match="rule 'close_answered': InStatus names 'answered'"):
        desk.change_workflow(renamed, {"answered": "waiting"})
    assert desk.get(ticket.id).status == "answered"
    assert desk.workflow.name == "default"
    with pytest.raises(InvalidInput, match="workflow must be a Workflow"):
        desk.change_workflow("renamed")  # type: ignore[arg-type]


def test_an_action_payload_function_must_give_a_mapping(clock: ManualClock) -> None:
    with pytest.raises(InvalidInput, match=r"Action\.payload must be a mapping"):
        Action("note", "hello")  # type: ignore[arg-type]
    rule = Rule("odd", InStatus("new"), Action("note", lambda _t, _h: "hello"))  # type: ignore[arg-type, return-value]
    desk = Helpdesk(clock=clock, rules=[rule])
    ticket = desk.open(subject="VPN", description="d", requester=ANA)
    report = desk.run_rules()
    assert report.fired == ()
    assert [(skip.rule, skip.ticket_id) for skip in report.skipped] == [("odd", ticket.id)]
    assert "the payload of 'note' must be a mapping" in report.skipped[0].reason
    assert len(desk.history(ticket.id)) == 1


def test_subscribe_refuses_what_is_not_a_function(desk: Helpdesk) -> None:
    with pytest.raises(InvalidInput, match="hook must be a function"):
        desk.subscribe("print")  # type: ignore[arg-type]
    stop = desk.subscribe(lambda _t, _e: None)
    stop()
    stop()  # stopping twice is harmless


def test_the_admin_can_still_open_for_a_customer(desk: Helpdesk) -> None:
    assert desk.open(subject="VPN", description="d", requester=ANA, actor=ADMIN).id == "T-1"


def test_a_tag_action_refuses_a_bare_string_instead_of_splitting_it() -> None:
    with pytest.raises(InvalidInput, match="add must be a set of strings"):
        Action.tag(add="vip2")  # type: ignore[arg-type]
    assert Action.tag(add={"vip2"}).payload == {"add": {"vip2"}, "remove": frozenset()}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"sla_policies": SLAPolicy("p", first_response=HOUR)}, "sla_policies must be SLAPolicy"),
        ({"sla_policies": None}, "sla_policies must be SLAPolicy objects, in a list"),
        ({"rules": Rule("r", InStatus("new"), Action.fire("resolve"))}, "rules must be Rule"),
        (
            {"sla_policies": [SLAPolicy("p", first_response=HOUR)] * 2},
            "SLA policies with distinct names",
        ),
        ({"clock": START}, "clock must be a Clock"),
    ],
)
def test_one_object_where_a_list_is_expected_is_named(
    arguments: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        Helpdesk(**arguments)  # type: ignore[arg-type]


def test_an_sla_policy_needs_a_calendar() -> None:
    with pytest.raises(InvalidInput, match=r"SLAPolicy\.calendar must be a Calendar"):
        SLAPolicy("p", first_response=HOUR, calendar="Europe/Riga")  # type: ignore[arg-type]


def test_a_rule_is_enabled_by_a_boolean_only() -> None:
    with pytest.raises(InvalidInput, match=r"Rule\.enabled must be True or False"):
        Rule("r", InStatus("new"), Action.fire("resolve"), enabled="no")  # type: ignore[arg-type]


def test_an_error_about_a_huge_value_stays_short() -> None:
    deep: list[object] = []
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(InvalidInput) as refused:
        InStatus(deep)  # type: ignore[arg-type]
    assert len(str(refused.value)) < 500
    with pytest.raises(InvalidInput) as refused:
        Tagged([" " + "x" * 10_000])
    assert len(str(refused.value)) < 500


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Actor("x", "wizard"), r"Actor\.role must be one of"),
        (lambda: Actor.agent("a", grants=None), r"Actor\.grants must be a set"),
        (lambda: Actor.agent("a", grants="reopen"), r"Actor\.grants must be a set"),
        (lambda: Actor.agent("a", department=1), r"Actor\.department must be a non-empty"),
    ],
)
def test_an_actor_names_what_is_wrong_with_it(build: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        build()  # type: ignore[operator]
