"""Moving stored tickets to another workflow: checked maps, one history event per moved ticket."""

from __future__ import annotations

from datetime import timedelta

import pytest
from support import ADMIN, AGENT, ANA, CUSTOMER, START, SYSTEM, renamed_workflow

from ticketflow import (
    Helpdesk,
    HistoryEvent,
    IllegalTransition,
    InvalidWorkflow,
    ManualClock,
    PermissionDenied,
    Ticket,
    Workflow,
    WorkflowChange,
    replay,
)

DEFAULT = Workflow.default()


def open_ticket(desk: Helpdesk) -> Ticket:
    return desk.open(subject="VPN", description="It drops.", requester=ANA, department="billing")


def test_tickets_move_with_one_migrate_event_each_and_the_desk_uses_the_new_workflow(
    desk: Helpdesk, clock: ManualClock
) -> None:
    waiting = open_ticket(desk)
    answered = open_ticket(desk)
    desk.reply(answered.id, AGENT, "Try again.")
    clock.advance(timedelta(hours=1))
    seen: list[tuple[str, str]] = []
    desk.subscribe(lambda ticket, event: seen.append((ticket.id, event.name)))

    target = renamed_workflow(new="triage", answered="waiting_on_customer")
    moved = desk.change_workflow(target, {"new": "triage", "answered": "waiting_on_customer"})

    assert [(ticket.id, ticket.status) for ticket in moved] == [
        (waiting.id, "triage"),
        (answered.id, "waiting_on_customer"),
    ]
    assert desk.workflow is target
    assert seen == [(waiting.id, "migrate"), (answered.id, "migrate")]
    last: HistoryEvent = desk.history(answered.id)[-1]
    assert (last.name, last.from_status, last.to_status, last.actor) == (
        "migrate",
        "answered",
        "waiting_on_customer",
        SYSTEM,
    )
    assert last.at == clock.now()
    assert last.body == "workflow 'default' -> 'renamed'"
    assert dict(last.changes) == {
        "status": "waiting_on_customer",
        "updated_at": clock.now(),
        "version": 3,
    }
    assert replay(desk.history(answered.id)) == desk.get(answered.id)
    # The new workflow is in force: the renamed status moves on as its old self did.
    assert desk.reply(answered.id, CUSTOMER, "Still broken.").status == "open"


def test_statuses_the_new_workflow_shares_keep_their_name_and_their_tickets_are_untouched(
    desk: Helpdesk,
) -> None:
    ticket = open_ticket(desk)
    desk.reply(ticket.id, AGENT, "On it.")
    moved = desk.change_workflow(renamed_workflow(new="triage"), {"new": "triage"})
    assert moved == []
    assert [event.name for event in desk.history(ticket.id)] == ["create", "agent_reply"]


def test_an_incomplete_map_is_refused_listing_every_unplaced_status(desk: Helpdesk) -> None:
    ticket = open_ticket(desk)
    target = renamed_workflow(new="triage", answered="waiting_on_customer", spam="junk")
    with pytest.raises(InvalidWorkflow) as refused:
        desk.change_workflow(target, {"new": "triage"})
    assert refused.value.problems == (
        "status 'answered' of 'default' has no place in 'renamed': map it to one of triage, "
        "open, waiting_on_customer, postponed, resolved, closed, junk, deleted, purged, merged",
        "status 'spam' of 'default' has no place in 'renamed': map it to one of triage, "
        "open, waiting_on_customer, postponed, resolved, closed, junk, deleted, purged, merged",
    )
    assert desk.workflow is not target
    assert desk.get(ticket.id).status == "new"
    assert len(desk.history(ticket.id)) == 1


def test_maps_that_name_unknown_statuses_or_break_a_law_are_refused() -> None:
    with pytest.raises(InvalidWorkflow) as refused:
        WorkflowChange(
            DEFAULT,
            renamed_workflow(),
            {"snoozed": "new", "open": "limbo", "resolved": "closed", "closed": "open"},
        )
    assert refused.value.workflow == "default -> renamed"
    assert refused.value.problems == (
        "'snoozed' is mapped, but it is not a status of 'default'",
        "status 'open' is mapped to 'limbo', which is not a status of 'renamed'",
        "status 'resolved' (solved) cannot become 'closed' (closed): a workflow change "
        "never closes, removes or reopens a ticket",
        "status 'closed' (closed) cannot become 'open' (open): a workflow change never "
        "closes, removes or reopens a ticket",
    )


def test_a_status_that_purges_needs_no_place_since_no_ticket_rests_in_it() -> None:
    data = renamed_workflow().to_dict()
    data["name"] = "no_purge"
    data["statuses"] = [s for s in data["statuses"] if s["name"] != "purged"]
    data["transitions"] = [row for row in data["transitions"] if row["event"] != "purge"]
    data["final"] = ["merged"]
    target = Workflow.from_dict(data)
    assert dict(WorkflowChange(DEFAULT, target).moves) == {}


def test_an_actor_without_the_migrate_grant_moves_nothing(desk: Helpdesk) -> None:
    first, second = open_ticket(desk), open_ticket(desk)
    with pytest.raises(PermissionDenied, match="agent 'a-1' may not 'migrate' ticket 'T-1'"):
        desk.change_workflow(renamed_workflow(new="triage"), {"new": "triage"}, actor=AGENT)
    assert [desk.get(t.id).status for t in (first, second)] == ["new", "new"]
    assert desk.workflow.name == "default"


def test_an_admin_may_migrate_and_is_recorded_as_the_actor(desk: Helpdesk) -> None:
    ticket = open_ticket(desk)
    desk.change_workflow(renamed_workflow(new="triage"), {"new": "triage"}, actor=ADMIN)
    assert desk.history(ticket.id)[-1].actor == ADMIN


def test_migrate_is_reserved_and_cannot_be_fired(desk: Helpdesk) -> None:
    ticket = open_ticket(desk)
    with pytest.raises(IllegalTransition, match="workflow 'default' has no such event"):
        desk.fire(ticket.id, "migrate", ADMIN)
    data = DEFAULT.to_dict()
    data["transitions"].append({"event": "migrate", "from": "new", "to": "open"})
    with pytest.raises(InvalidWorkflow, match="the event name 'migrate' is reserved"):
        Workflow.from_dict(data)


def test_a_map_into_a_status_that_purges_is_refused() -> None:
    with pytest.raises(InvalidWorkflow, match="mapped to 'purged', which purges tickets"):
        WorkflowChange(DEFAULT, renamed_workflow(), {"deleted": "purged"})


def test_a_migration_runs_on_a_unit_of_work_without_a_desk() -> None:
    from ticketflow import Actor, Policy  # noqa: PLC0415
    from ticketflow._migration import migrate  # noqa: PLC0415
    from ticketflow._unit import UnitOfWork  # noqa: PLC0415
    from ticketflow.storage import MemoryStore  # noqa: PLC0415

    unit = UnitOfWork(MemoryStore(), ManualClock(START), [], retries=3)
    ticket, event = DEFAULT.create(
        unit.store.new_id(), Actor.customer(ANA.id), START,
        subject="VPN", description="d", requester=ANA,
    )  # fmt: skip
    unit.create(ticket, event)
    change = WorkflowChange(DEFAULT, renamed_workflow(new="triage"), {"new": "triage"})
    (moved,) = migrate(unit, Policy.default(), change, SYSTEM)
    assert (moved.id, moved.status, moved.version) == (ticket.id, "triage", 2)
    assert [e.name for e in unit.store.history(ticket.id)] == ["create", "migrate"]
    with pytest.raises(PermissionDenied):
        migrate(unit, Policy.default(), WorkflowChange(renamed_workflow(new="triage"), DEFAULT,
                {"triage": "new"}), CUSTOMER)  # fmt: skip
    assert unit.store.get(ticket.id).status == "triage"
