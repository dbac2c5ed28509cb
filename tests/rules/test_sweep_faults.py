"""A sweep and a workflow change carry on past failing hooks and exhausted conflicts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from support import AGENT, ANA, renamed_workflow

from ticketflow import (
    Helpdesk,
    HistoryEvent,
    HookFailed,
    ManualClock,
    Ticket,
)
from ticketflow.rules import Action, InCategory, Rule
from ticketflow.storage import MemoryStore


def failing_on(ticket_id: str) -> object:
    def hook(ticket: Ticket, event: HistoryEvent) -> None:
        if ticket.id == ticket_id and event.name != "create":
            raise RuntimeError(f"mail server down for {ticket.id}")

    return hook


def test_a_failing_hook_does_not_stop_the_sweep_and_the_report_is_kept(
    clock: ManualClock,
) -> None:
    rule = Rule("tag_new", InCategory("new"), Action.tag(add={"seen"}))
    desk = Helpdesk(clock=clock, rules=[rule])
    tickets = [desk.open(subject=f"VPN {n}", description="d", requester=ANA) for n in range(3)]
    desk.subscribe(failing_on(tickets[0].id))  # type: ignore[arg-type]
    with pytest.raises(HookFailed, match="mail server down for T-1") as failed:
        desk.run_rules()
    report = failed.value.result
    assert [firing.ticket_id for firing in report.fired] == [t.id for t in tickets]  # type: ignore[attr-defined]
    assert all("seen" in desk.get(t.id).tags for t in tickets)


class AlwaysRacing(MemoryStore):
    """A store on which another writer always commits first."""

    def commit(self, ticket: Ticket, event: HistoryEvent, expected_version: int,
               ledger: object = (), *, schedule: object = None,
               sla: object = None, figures: object = None) -> None:  # fmt: skip
        from ticketflow import ConcurrencyConflict  # noqa: PLC0415

        raise ConcurrencyConflict(ticket.id, expected_version, expected_version + 1)


def test_a_conflict_beyond_the_retries_is_a_skip_and_the_sweep_goes_on(
    clock: ManualClock,
) -> None:
    rule = Rule("tag_new", InCategory("new"), Action.tag(add={"seen"}))
    desk = Helpdesk(store=AlwaysRacing(), clock=clock, rules=[rule], retries=1)
    first = desk.open(subject="VPN", description="d", requester=ANA)
    second = desk.open(subject="Mail", description="d", requester=ANA)
    report = desk.run_rules()
    assert report.fired == ()
    assert [(skip.rule, skip.ticket_id) for skip in report.skipped] == [
        ("tag_new", first.id),
        ("tag_new", second.id),
    ]
    assert "changed concurrently" in report.skipped[0].reason


def test_a_limit_stops_the_whole_sweep(clock: ManualClock) -> None:
    rules = [
        Rule("first", InCategory("new"), Action.tag(add={"a"})),
        Rule("second", InCategory("new"), Action.tag(add={"b"})),
    ]
    desk = Helpdesk(clock=clock, rules=rules)
    for n in range(3):
        desk.open(subject=f"VPN {n}", description="d", requester=ANA)
    report = desk.run_rules(limit=2)
    # Ticket by ticket, each against the rules in order; two firings, then it stops.
    assert [(f.rule, f.ticket_id) for f in report.fired] == [("first", "T-1"), ("second", "T-1")]
    assert len(desk.run_rules()) == 4  # the rest, on the next sweep


def test_a_failing_hook_during_a_workflow_change_moves_every_ticket_all_the_same(
    clock: ManualClock,
) -> None:
    desk = Helpdesk(clock=clock)
    tickets = [desk.open(subject=f"VPN {n}", description="d", requester=ANA) for n in range(3)]
    for ticket in tickets:
        desk.reply(ticket.id, AGENT, "Which client?")
    clock.advance(timedelta(hours=1))
    desk.subscribe(failing_on(tickets[0].id))  # type: ignore[arg-type]
    renamed = renamed_workflow(answered="waiting")
    with pytest.raises(HookFailed) as failed:
        desk.change_workflow(renamed, {"answered": "waiting"})
    assert [t.status for t in failed.value.result] == ["waiting"] * 3  # type: ignore[attr-defined]
    assert [desk.get(t.id).status for t in tickets] == ["waiting"] * 3
    assert desk.workflow is renamed
