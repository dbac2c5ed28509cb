"""The default workflow's table, cell by cell, and the laws every workflow obeys."""

from __future__ import annotations

import itertools
from datetime import timedelta

import attrs
import pytest
from statemachine import State, StateMachine
from support import ADMIN, ANA, START, SYSTEM

from ticketflow import (
    Category,
    IllegalTransition,
    InvalidInput,
    InvalidWorkflow,
    Status,
    Ticket,
    TicketState,
    Transition,
    Workflow,
)

WORKFLOW = Workflow.default()
STATUSES = (
    "new",
    "open",
    "answered",
    "postponed",
    "resolved",
    "closed",
    "spam",
    "deleted",
    "purged",
)
ACTIVE = ("new", "open", "answered", "postponed")

# The table, written out by hand: (event, status) -> target, for an
# answered ticket ("new" where a never-answered ticket goes elsewhere is below).
EXPECTED: dict[tuple[str, str], str] = {
    **{("agent_reply", s): "answered" for s in ACTIVE},
    ("customer_reply", "new"): "new",
    ("customer_reply", "open"): "open",
    ("customer_reply", "answered"): "open",
    ("customer_reply", "postponed"): "open",
    ("customer_reply", "resolved"): "open",
    **{("postpone", s): "postponed" for s in ("new", "open", "answered")},
    ("wake", "postponed"): "open",
    **{("resolve", s): "resolved" for s in ACTIVE},
    ("close", "resolved"): "closed",
    ("reopen", "resolved"): "open",
    ("reopen", "closed"): "open",
    **{("mark_spam", s): "spam" for s in (*ACTIVE, "resolved")},
    **{("delete", s): "deleted" for s in (*ACTIVE, "resolved", "closed", "spam")},
    ("restore", "spam"): "open",
    ("restore", "deleted"): "open",
    ("purge", "spam"): "purged",
    ("purge", "deleted"): "purged",
}
NEVER_ANSWERED = {
    ("wake", "postponed"): "new",
    ("restore", "spam"): "new",
    ("restore", "deleted"): "new",
}
TRANSITION_EVENTS = sorted({event for event, _ in EXPECTED})
UPDATES = ("note", "assign", "set_priority", "set_department", "update_tags", "set_fields")


def ticket_in(status: str, *, answered: bool = True) -> Ticket:
    ticket, _ = WORKFLOW.create("T-1", ADMIN, START, subject="s", description="d", requester=ANA)
    return attrs.evolve(
        ticket,
        status=status,
        first_response_at=START if answered else None,
        postponed_until=START + timedelta(days=1) if status == "postponed" else None,
        resolved_at=START if status in ("resolved", "closed") else None,
        closed_at=START if status == "closed" else None,
    )


def payload_for(event: str) -> dict[str, object]:
    if event in ("agent_reply", "customer_reply"):
        return {"body": "hello"}
    if event == "postpone":
        return {"until": START + timedelta(days=2)}
    return {}


@pytest.mark.parametrize(("event", "status"), list(itertools.product(TRANSITION_EVENTS, STATUSES)))
def test_every_event_in_every_status_is_legal_exactly_as_the_table_says(
    event: str, status: str
) -> None:
    ticket = ticket_in(status)
    expected = EXPECTED.get((event, status))
    if expected is None:
        with pytest.raises(IllegalTransition) as refused:
            WORKFLOW.apply(ticket, event, ADMIN, START, **payload_for(event))
        assert refused.value.event == event
        assert refused.value.status == status
        assert event not in refused.value.allowed
    else:
        new, record = WORKFLOW.apply(ticket, event, ADMIN, START, **payload_for(event))
        assert new.status == expected
        assert (record.from_status, record.to_status) == (status, expected)


@pytest.mark.parametrize(("event", "status"), sorted(NEVER_ANSWERED))
def test_a_never_answered_ticket_returns_to_new_on_wake_and_restore(
    event: str, status: str
) -> None:
    new, _ = WORKFLOW.apply(ticket_in(status, answered=False), event, ADMIN, START)
    assert new.status == NEVER_ANSWERED[event, status]


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("event", UPDATES)
def test_updates_are_accepted_until_a_ticket_is_closed_or_removed(event: str, status: str) -> None:
    payloads = {
        "note": {"body": "internal"},
        "assign": {"to": "a-9"},
        "set_priority": {"priority": "urgent"},
        "set_department": {"department": "it"},
        "update_tags": {"add": {"vip"}},
        "set_fields": {"fields": {"plan": "pro"}},
    }
    ticket = ticket_in(status)
    if status in ("closed", "spam", "deleted", "purged"):
        with pytest.raises(IllegalTransition, match="locked"):
            WORKFLOW.apply(ticket, event, ADMIN, START, **payloads[event])
    else:
        new, record = WORKFLOW.apply(ticket, event, ADMIN, START, **payloads[event])
        assert new.status == status
        assert not record.moved


def test_a_customer_reply_to_a_resolved_ticket_stays_resolved_when_hosts_turn_reopening_off() -> (
    None
):
    quiet = Workflow.default(reopen_on_customer_reply=False)
    new, _ = quiet.apply(ticket_in("resolved"), "customer_reply", ADMIN, START, body="thanks")
    assert new.status == "resolved"
    assert new.reopen_count == 0


def test_a_customer_reply_reopens_a_closed_ticket_within_the_reopen_window_only() -> None:
    windowed = Workflow.default(reopen_window=timedelta(days=3))
    closed = ticket_in("closed")
    inside, _ = windowed.apply(
        closed, "customer_reply", ADMIN, START + timedelta(days=3), body="again"
    )
    assert inside.status == "open"
    with pytest.raises(IllegalTransition, match="conditions do not hold"):
        windowed.apply(
            closed, "customer_reply", ADMIN, START + timedelta(days=3, seconds=1), body="x"
        )


def test_a_reopen_window_must_be_a_positive_timedelta() -> None:
    with pytest.raises(InvalidInput, match="reopen_window"):
        Workflow.default(reopen_window=timedelta(0))


def test_apply_is_pure_and_gives_the_same_result_twice() -> None:
    ticket = ticket_in("answered")
    first = WORKFLOW.apply(ticket, "resolve", ADMIN, START)
    second = WORKFLOW.apply(ticket, "resolve", ADMIN, START)
    assert first == second
    assert ticket == ticket_in("answered")


def test_apply_refuses_a_time_before_the_last_update() -> None:
    with pytest.raises(InvalidInput, match="not earlier than the ticket's last update"):
        WORKFLOW.apply(ticket_in("open"), "resolve", ADMIN, START - timedelta(seconds=1))


def test_an_unknown_event_is_refused_with_what_is_allowed() -> None:
    with pytest.raises(IllegalTransition, match="has no such event") as refused:
        WORKFLOW.apply(ticket_in("open"), "escalate", ADMIN, START)
    assert "resolve" in refused.value.allowed


def test_a_wrong_payload_key_is_named_with_the_keys_expected() -> None:
    with pytest.raises(
        InvalidInput, match=r"resolve payload must be among its keys: body, got \['reason'\]"
    ):
        WORKFLOW.apply(ticket_in("open"), "resolve", ADMIN, START, reason="done")


def test_a_missing_payload_key_is_named() -> None:
    with pytest.raises(InvalidInput, match="until"):
        WORKFLOW.apply(ticket_in("open"), "postpone", ADMIN, START)


def test_postponing_into_the_past_is_refused() -> None:
    with pytest.raises(InvalidInput, match="later than the time of the command"):
        WORKFLOW.apply(ticket_in("open"), "postpone", ADMIN, START, until=START)


def test_resolving_and_closing_stamp_their_times_and_reopening_clears_them() -> None:
    t1, t2, t3 = (START + timedelta(hours=h) for h in (1, 2, 3))
    resolved, _ = WORKFLOW.apply(ticket_in("open"), "resolve", ADMIN, t1)
    closed, _ = WORKFLOW.apply(resolved, "close", ADMIN, t2)
    reopened, _ = WORKFLOW.apply(closed, "reopen", ADMIN, t3)
    assert (resolved.resolved_at, closed.closed_at) == (t1, t2)
    assert (reopened.resolved_at, reopened.closed_at, reopened.reopen_count) == (None, None, 1)
    assert reopened.status_changed_at == t3


def test_staff_who_reopen_a_ticket_become_its_assignee_but_the_system_does_not() -> None:
    by_admin, _ = WORKFLOW.apply(ticket_in("closed"), "reopen", ADMIN, START)
    by_system, _ = WORKFLOW.apply(ticket_in("closed"), "reopen", SYSTEM, START)
    assert by_admin.assignee == ADMIN.id
    assert by_system.assignee is None


def test_waking_clears_the_postponed_until_time() -> None:
    woken, record = WORKFLOW.apply(ticket_in("postponed"), "wake", SYSTEM, START)
    assert woken.postponed_until is None
    assert record.changes["postponed_until"] is None


def test_the_first_staff_reply_sets_first_response_once() -> None:
    fresh = ticket_in("new", answered=False)
    t1, t2 = START + timedelta(hours=1), START + timedelta(hours=2)
    first, _ = WORKFLOW.apply(fresh, "agent_reply", ADMIN, t1, body="hi")
    again, _ = WORKFLOW.apply(first, "agent_reply", ADMIN, t2, body="hi again")
    assert (first.first_response_at, again.first_response_at) == (t1, t1)
    assert again.last_agent_activity_at == t2


def test_a_system_reply_is_not_a_first_response() -> None:
    replied, _ = WORKFLOW.apply(
        ticket_in("new", answered=False), "agent_reply", SYSTEM, START, body="auto"
    )
    assert replied.first_response_at is None


def test_update_tags_adds_and_removes_in_one_step() -> None:
    tagged = attrs.evolve(ticket_in("open"), tags=frozenset({"a", "b"}))
    new, _ = WORKFLOW.apply(tagged, "update_tags", ADMIN, START, add={"c"}, remove={"a"})
    assert new.tags == {"b", "c"}


def test_update_tags_refuses_a_tag_both_added_and_removed() -> None:
    with pytest.raises(InvalidInput, match="not both added and removed"):
        WORKFLOW.apply(ticket_in("open"), "update_tags", ADMIN, START, add={"a"}, remove={"a"})


def test_set_fields_merges_and_removes_custom_fields() -> None:
    first, _ = WORKFLOW.apply(
        ticket_in("open"), "set_fields", ADMIN, START, fields={"plan": "pro", "seats": 5}
    )
    second, _ = WORKFLOW.apply(
        first, "set_fields", ADMIN, START, fields={"seats": 6}, remove={"plan"}
    )
    assert dict(second.fields) == {"seats": 6}


def test_set_fields_refuses_values_that_do_not_round_trip() -> None:
    with pytest.raises(InvalidInput, match=r"fields\['when'\]"):
        WORKFLOW.apply(ticket_in("open"), "set_fields", ADMIN, START, fields={"when": object()})


def test_the_default_workflow_has_the_statuses_and_categories_of_the_lifecycle() -> None:
    categories = {name: status.category for name, status in WORKFLOW.statuses.items()}
    assert categories == {
        "new": Category.NEW,
        "open": Category.OPEN,
        "answered": Category.PENDING,
        "postponed": Category.ON_HOLD,
        "resolved": Category.SOLVED,
        "closed": Category.CLOSED,
        "spam": Category.REMOVED,
        "deleted": Category.REMOVED,
        "purged": Category.REMOVED,
        "merged": Category.CLOSED,
    }
    assert WORKFLOW.statuses["postponed"].sla_paused
    assert WORKFLOW.initial == "new"
    assert WORKFLOW.final == {"purged", "merged"}


# -- building workflows: every law is checked, every problem listed ------------


def statuses(*pairs: tuple[str, Category]) -> list[Status]:
    return [Status(name, category) for name, category in pairs]


def test_entering_closed_from_anything_but_solved_is_rejected_at_build_time() -> None:
    with pytest.raises(InvalidWorkflow, match="resolve before close") as rejected:
        Workflow(
            "shortcut",
            statuses(
                ("new", Category.NEW), ("done", Category.SOLVED), ("closed", Category.CLOSED)
            ),
            "new",
            [
                Transition("resolve", "new", "done"),
                Transition("close", "done", "closed"),
                Transition("close", "new", "closed"),
                Transition("reopen", "closed", "new"),
            ],
        )
    assert len(rejected.value.problems) == 1
    assert "'close' from 'new'" in rejected.value.problems[0]


def test_every_problem_of_a_declaration_is_listed_at_once() -> None:
    with pytest.raises(InvalidWorkflow) as rejected:
        Workflow(
            "broken",
            statuses(
                ("start", Category.OPEN),
                ("start", Category.OPEN),
                ("island", Category.OPEN),
                ("stuck", Category.PENDING),
            ),
            "start",
            [
                Transition("go", "start", "stuck", guards=(("missing", True),)),
                Transition("note", "start", "nowhere"),
            ],
        )
    problems = "\n".join(rejected.value.problems)
    for expected in (
        "status 'start' is declared twice",
        "initial status 'start' has category 'open'; expected 'new'",
        "guard 'missing' is not among the guards given",
        "the event name 'note' is reserved",
        "status 'nowhere' is not declared",
        "status 'island' cannot be reached",
        "status 'stuck' is not final but has no transition out of it",
        "no closed status can be reached",
    ):
        assert expected in problems


def test_a_statemachine_with_plain_states_is_rejected_with_the_state_named() -> None:
    class Plain(StateMachine):
        new = State(initial=True)
        done = State(final=True)
        finish = new.to(done)

    with pytest.raises(InvalidWorkflow, match="state 'new' is a plain State"):
        Workflow.from_statemachine(Plain)


def test_a_custom_statemachine_compiles_with_its_guards() -> None:
    class Small(StateMachine):
        new = TicketState(Category.NEW, initial=True)
        solved = TicketState(Category.SOLVED, label="Sorted")
        closed = TicketState(Category.CLOSED)
        resolve = new.to(solved, cond="has_subject")
        close = solved.to(closed)
        reopen = closed.to(new)

    small = Workflow.from_statemachine(
        Small, guards={"has_subject": lambda t, _a, _p: bool(t.subject)}
    )
    assert small.statuses["solved"].label == "Sorted"
    ticket, _ = small.create("T-1", ADMIN, START, subject="s", description="d", requester=ANA)
    resolved, _ = small.apply(ticket, "resolve", ADMIN, START)
    assert resolved.status == "solved"


def test_a_callable_guard_is_rejected_in_favour_of_a_name() -> None:
    class Inline(StateMachine):
        new = TicketState(Category.NEW, initial=True)
        solved = TicketState(Category.SOLVED)
        closed = TicketState(Category.CLOSED)
        resolve = new.to(solved, cond=lambda: True)
        close = solved.to(closed)
        reopen = closed.to(new)

    with pytest.raises(InvalidWorkflow, match="give guards as names"):
        Workflow.from_statemachine(Inline)


def test_an_unknown_status_name_is_refused_with_the_statuses_listed() -> None:
    with pytest.raises(InvalidInput, match="a status of workflow 'default'"):
        WORKFLOW.category("archived")


def test_the_diagram_and_table_show_every_transition() -> None:
    diagram, table = WORKFLOW.to_mermaid(), WORKFLOW.to_markdown()
    for row in WORKFLOW.transitions:
        assert f"{row.source} --> {row.target} :" in diagram
        assert f"`{row.event}`" in table
    assert "postponed --> new : wake [never_answered]" in diagram


def test_purges_and_category_refuse_a_status_the_workflow_does_not_have() -> None:
    workflow = Workflow.default()
    for ask in (workflow.purges, workflow.category):
        with pytest.raises(InvalidInput, match="status must be a status of workflow 'default'"):
            ask("bogus")


def test_a_status_with_an_unknown_category_is_refused_with_the_choices() -> None:
    with pytest.raises(InvalidInput, match=r"Status\.category must be one of 'new', 'open'"):
        Status("limbo", "limbo")
