"""The demo shows the product: its story's claims are checked against the stored data."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest

from ticketflow import HistoryEvent, ManualClock, Role
from ticketflow._demo import START, DemoReport, compliance, demo_desk, run_demo
from ticketflow.rules import Firing
from ticketflow.sla import Target
from ticketflow.storage import MemoryStore

DAYS = 14


@pytest.fixture(scope="module")
def told() -> tuple[DemoReport, MemoryStore, str]:
    store, out = MemoryStore(), io.StringIO()
    report = run_demo(seed=7, days=DAYS, out=out, store=store)
    return report, store, out.getvalue()


def _firings(report: DemoReport, rule: str) -> list[Firing]:
    return [firing for firing in report.fired if firing.rule == rule]


def _event_of(report: DemoReport, firing: Firing) -> HistoryEvent:
    (event,) = [
        event
        for event in report.histories[firing.ticket_id]
        if event.name == firing.event and event.at == firing.at
    ]
    return event


def test_the_7_day_rule_really_closed_tickets_a_week_after_the_customer_last_heard(
    told: tuple[DemoReport, MemoryStore, str],
) -> None:
    report, store, output = told
    closes = _firings(report, "auto_close")
    assert closes
    for firing in closes:
        event = _event_of(report, firing)
        assert (event.from_status, event.to_status) == ("resolved", "closed")
        assert event.actor.role is Role.SYSTEM
        before = [e for e in report.histories[firing.ticket_id] if e.seq < event.seq]
        resolved = max(e.at for e in before if e.to_status == "resolved" and e.moved)
        heard = [e.at for e in before if e.actor.role is Role.CUSTOMER]
        assert event.at - max(resolved, *heard) >= timedelta(days=7)
        assert store.fired("auto_close", firing.ticket_id, firing.episode), "in the ledger"
        assert f"{firing.ticket_id:<5} resolved -> closed     closed by the 7-day rule" in output


def test_a_silent_customer_gets_a_reminder_then_an_escalation_then_a_resolution_with_attempts(
    told: tuple[DemoReport, MemoryStore, str],
) -> None:
    report, _store, _output = told
    chain = ("remind_customer", "escalate_silence", "resolve_silence")
    chains = sorted({firing.ticket_id for firing in _firings(report, "resolve_silence")})
    for ticket_id in chains:
        fired = [f.rule for f in report.fired if f.ticket_id == ticket_id and f.rule in chain]
        assert tuple(fired[-3:]) == chain
    assert chains
    for ticket_id in chains:
        history = report.histories[ticket_id]
        (resolved,) = [
            _event_of(report, firing)
            for firing in _firings(report, "resolve_silence")
            if firing.ticket_id == ticket_id
        ]
        reminded = [e for e in history if e.name == "remind" and e.seq < resolved.seq]
        escalated = [
            e
            for e in history
            if e.name == "update_tags" and "escalated" in e.changes.get("tags", ())
        ]
        assert reminded
        assert escalated
        assert reminded[-1].seq < escalated[-1].seq < resolved.seq
        contacts = [e for e in history[: resolved.seq - 1] if e.name in ("agent_reply", "remind")]
        assert f"We wrote to you {len(contacts)} time" in (resolved.body or "")
        assert all(f"{e.at:%Y-%m-%d %H:%M}" in (resolved.body or "") for e in contacts)
    closed_after_silence = {f.ticket_id for f in _firings(report, "auto_close")} & set(chains)
    assert closed_after_silence, (
        "a silent customer's ticket goes on to be closed by the 7-day rule"
    )


def test_the_desk_keeps_business_hours_sla_policies_per_priority_and_they_are_breached(
    told: tuple[DemoReport, MemoryStore, str],
) -> None:
    report, store, _output = told
    desk = demo_desk(store, ManualClock(START + timedelta(days=DAYS)))
    assert [policy.name for policy in desk.sla_policies] == [
        "urgent priority",
        "high priority",
        "normal priority",
        "low priority",
    ]
    assert not any(policy.calendar.is_always for policy in desk.sla_policies)
    breaches = _firings(report, "sla_breach")
    assert breaches
    breached = {firing.ticket_id for firing in breaches}
    assert any(state.breached for ticket_id in breached for state in desk.sla(ticket_id)), (
        "the clocks, measured again from history, agree that the targets were missed"
    )


def test_the_summary_ends_with_sla_compliance_from_the_metrics_and_the_breakdowns(
    told: tuple[DemoReport, MemoryStore, str],
) -> None:
    report, store, output = told
    metrics = demo_desk(store, ManualClock(START + timedelta(days=DAYS))).metrics()
    shares = metrics.overall.compliance
    assert 0 < shares[Target.FIRST_RESPONSE] < 1, "some first responses met, some missed"
    lines = compliance(metrics)
    assert "\n".join(lines) in output
    expected = f"first_response {shares[Target.FIRST_RESPONSE]:.0%}"
    assert lines[1].startswith("  all ")
    assert expected in lines[1]
    assert [line.split()[0] for line in lines[2:]] == ["urgent", "high", "normal", "low"]
    tail = output.split("\n".join(lines))[1]
    assert "by priority\n" in tail
    assert "by department\n" in tail
    counts = output.split("rules fired:")[1].splitlines()[0]
    for rule in ("auto_close", "remind_customer", "escalate_silence", "resolve_silence"):
        assert f"{rule} {len(_firings(report, rule))}" in counts
