"""The demo shows the product: its story's claims are checked against the stored data."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest

from ticketflow import Helpdesk, HistoryEvent, ManualClock, Role, Ticket
from ticketflow._demo import (
    SEARCH_TEXT,
    START,
    DemoReport,
    compliance,
    demo_desk,
    run_demo,
    satisfaction,
    search,
)
from ticketflow.rules import Firing
from ticketflow.sla import Target
from ticketflow.storage import SEARCHED_EVENTS, MemoryStore

DAYS = 14


@pytest.fixture(scope="module")
def told() -> tuple[DemoReport, MemoryStore, str]:
    store, out = MemoryStore(), io.StringIO()
    report = run_demo(seed=7, days=DAYS, out=out, store=store)
    return report, store, out.getvalue()


def _closing_desk(store: MemoryStore) -> Helpdesk:
    return demo_desk(store, ManualClock(START + timedelta(days=DAYS)))


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


def test_customers_rate_closed_tickets_the_bad_ones_are_reviewed_and_metrics_count_them(
    told: tuple[DemoReport, MemoryStore, str],
) -> None:
    report, store, output = told
    desk = _closing_desk(store)
    rated = {t.id: desk.rating(t.id) for t in report.tickets if desk.rating(t.id) is not None}
    scores = [rating.score for rating in rated.values() if rating is not None]
    assert "good" in scores
    assert "bad" in scores
    for ticket_id, rating in rated.items():
        assert rating is not None
        ticket = desk.get(ticket_id)
        assert ticket.status == "closed", "a rating moves no status"
        assert rating.actor == desk.history(ticket_id)[0].actor, "the requester rated"
        (event,) = [e for e in report.histories[ticket_id] if e.name == "rate"]
        assert (event.at, event.body) == (rating.at, rating.comment)
        assert f"{ticket_id:<5} (closed)               rated {rating.score} by" in output
        reviews = desk.reviews(ticket_id)
        if rating.score == "bad":  # the agent looked back, after the rating
            (review,) = reviews
            assert review.actor is not None
            assert review.actor.role is Role.AGENT
            assert review.at == rating.at
            assert review.lessons
        else:
            assert reviews == []
    metrics = desk.metrics()
    assert metrics.overall.ratings == len(rated)
    assert metrics.overall.satisfaction == scores.count("good") / len(scores)
    from_histories = desk.metrics(per_ticket=True)  # with each ticket's figures
    assert from_histories.overall == metrics.overall
    rateable = [m for m in from_histories.tickets if m.rating is not None or m.rateable]
    assert metrics.overall.response_rate == len(rated) / len(rateable)
    assert 0 < len(rated) < len(rateable), "some customers rate, not all"


def test_a_duplicate_request_is_merged_into_its_original_and_the_original_records_it(
    told: tuple[DemoReport, MemoryStore, str],
) -> None:
    report, store, output = told
    desk = _closing_desk(store)
    copies = [ticket for ticket in report.tickets if ticket.status == "merged"]
    assert copies
    for copy in copies:
        target_id = copy.fields["ticketflow:merged_into"]
        assert isinstance(target_id, str)
        original = desk.get(target_id)
        assert (copy.subject, copy.requester) == (original.subject, original.requester)
        merged = report.histories[copy.id][-1]
        assert (merged.name, merged.from_status, merged.to_status) == ("merge", "new", "merged")
        assert copy.id in original.fields["ticketflow:merged_from"]  # type: ignore[operator]
        (taken,) = [
            e
            for e in desk.history(target_id)
            if e.name == "merge_in" and (e.body or "").startswith(f"Merged {copy.id} ")
        ]
        assert taken.at == merged.at
        assert f"{target_id:<5} ({taken.to_status})" in output
        assert f"{copy.id:<5} new -> merged          merge by agent" in output
        assert f"into {target_id}" in output
    queued = {entry.ticket.id for entry in desk.queue()}
    assert queued
    assert not queued & {copy.id for copy in copies}, "a merged copy leaves the queues"


def test_the_summary_search_finds_every_ticket_holding_its_words_a_page_at_a_time(
    told: tuple[DemoReport, MemoryStore, str],
) -> None:
    report, store, output = told
    desk = _closing_desk(store)
    words = SEARCH_TEXT.split()

    def text(ticket: Ticket) -> str:
        bodies = [e.body or "" for e in report.histories[ticket.id] if e.name in SEARCHED_EVENTS]
        return " ".join([ticket.subject, ticket.description, *bodies]).lower()

    expected = {t.id for t in report.tickets if all(word in text(t) for word in words)}
    lines = search(desk)
    total = int(lines[0].split(": ")[1].split()[0])
    assert total == len(expected) > 3, "more than a page of 3"
    shown = [line.split()[0] for line in lines[1:]]
    assert len(shown) == 3
    assert set(shown) <= expected
    walked, page = [], desk.search(SEARCH_TEXT, limit=2)
    walked.extend(t.id for t in page)
    while page.next is not None:
        page = desk.search(SEARCH_TEXT, limit=2, after=page.next)
        walked.extend(t.id for t in page)
    assert sorted(walked) == sorted(expected), "each ticket once, none missed"
    assert "\n".join(lines) in output


def test_the_summary_ends_with_compliance_then_satisfaction_then_the_breakdowns(
    told: tuple[DemoReport, MemoryStore, str],
) -> None:
    _report, store, output = told
    metrics = _closing_desk(store).metrics()
    lines = satisfaction(metrics)
    assert lines[1] == (
        f"  all        {metrics.overall.satisfaction:.0%} satisfied of "
        f"{metrics.overall.ratings} ratings, response rate {metrics.overall.response_rate:.0%}"
    )
    assert [line.split()[0] for line in lines[2:]] == ["urgent", "high", "normal", "low"]
    sla, ratings = "\n".join(compliance(metrics)), "\n".join(lines)
    assert output.index(sla) < output.index(ratings) < output.index("by priority\n")
