"""The timeline of a history: spans, waits, resolutions, and where each SLA clock runs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support import ADMIN, AGENT, ANA, CUSTOMER, START

from ticketflow import Actor, Category, HistoryEvent, InvalidInput, Workflow
from ticketflow._timeline import Runs, Span, Timeline, Wait, waits
from ticketflow.testing._strategies import clock_jumps, histories

HOUR = timedelta(hours=1)
WORKFLOW = Workflow.default()


def at(hours: float) -> datetime:
    return START + timedelta(hours=hours)


def life(*steps: tuple[float, str, Actor, dict[str, Any]]) -> list[HistoryEvent]:
    """A ticket opened at START, then each ``(hours after START, event, actor, payload)``."""
    ticket, event = WORKFLOW.create(
        "T-1", CUSTOMER, START, subject="VPN", description="d", requester=ANA
    )
    history = [event]
    for hours, name, actor, payload in steps:
        ticket, event = WORKFLOW.apply(ticket, name, actor, at(hours), **payload)
        history.append(event)
    return history


REPLY: dict[str, Any] = {"body": "Hello."}
ANSWERED_AND_RESOLVED = life(
    (1, "agent_reply", AGENT, REPLY),
    (3, "customer_reply", CUSTOMER, REPLY),
    (4, "note", AGENT, REPLY),
    (5, "postpone", AGENT, {"until": at(20)}),
    (8, "wake", AGENT, {}),
    (9, "agent_reply", AGENT, REPLY),
    (10, "resolve", ADMIN, {}),
)


def test_spans_run_from_creation_to_now_one_per_stay_in_a_status() -> None:
    timeline = Timeline.of(WORKFLOW, ANSWERED_AND_RESOLVED, at(12))
    assert timeline.spans == (
        Span(at(0), at(1), "new"),
        Span(at(1), at(3), "answered"),
        Span(at(3), at(5), "open"),  # the note left the status alone: one span
        Span(at(5), at(8), "postponed"),
        Span(at(8), at(9), "open"),
        Span(at(9), at(10), "answered"),
        Span(at(10), at(12), "resolved"),
    )


def test_a_status_passed_through_in_an_instant_is_a_span_of_no_length() -> None:
    history = life((1, "agent_reply", AGENT, REPLY), (1, "resolve", ADMIN, {}))
    timeline = Timeline.of(WORKFLOW, history, at(1))
    assert [span.status for span in timeline.spans] == ["new", "answered", "resolved"]
    assert timeline.spans[-1] == Span(at(1), at(1), "resolved")


def test_time_in_status_adds_up_every_stay() -> None:
    timeline = Timeline.of(WORKFLOW, ANSWERED_AND_RESOLVED, at(12))
    assert timeline.time_in_status() == {
        "new": HOUR,
        "answered": 3 * HOUR,
        "open": 3 * HOUR,
        "postponed": 3 * HOUR,
        "resolved": 2 * HOUR,
    }


def test_a_wait_runs_from_a_customer_message_to_the_next_staff_reply() -> None:
    assert waits(ANSWERED_AND_RESOLVED) == (Wait(at(0), at(1)), Wait(at(3), at(9)))


def test_a_second_customer_message_does_not_restart_a_wait() -> None:
    history = life((1, "customer_reply", CUSTOMER, REPLY), (2, "agent_reply", AGENT, REPLY))
    assert waits(history) == (Wait(at(0), at(2)),)


def test_the_latest_wait_is_unanswered_until_a_staff_reply() -> None:
    history = life((1, "agent_reply", AGENT, REPLY), (2, "customer_reply", CUSTOMER, REPLY))
    assert waits(history)[-1] == Wait(at(2), None)


def test_the_first_reply_ends_the_first_wait() -> None:
    timeline = Timeline.of(WORKFLOW, ANSWERED_AND_RESOLVED, at(12))
    assert timeline.first_reply == at(1)


def test_the_latest_resolution_stands_while_the_ticket_is_solved_or_closed() -> None:
    history = life((1, "resolve", ADMIN, {}), (2, "close", CUSTOMER, {}))
    timeline = Timeline.of(WORKFLOW, history, at(3))
    assert (timeline.resolved_at, timeline.resolution_stands, timeline.closed_at) == (
        at(1),
        True,
        at(2),
    )


def test_a_reopen_undoes_the_resolution() -> None:
    history = life((1, "resolve", ADMIN, {}), (2, "reopen", ADMIN, {}))
    timeline = Timeline.of(WORKFLOW, history, at(3))
    assert (timeline.resolved_at, timeline.resolution_stands) == (at(1), False)


def test_a_close_after_a_reopen_does_not_make_the_undone_resolution_stand() -> None:
    # A merge closes a ticket from any open status: reopened, it was never solved again.
    history = life(
        (1, "resolve", ADMIN, {}), (2, "reopen", ADMIN, {}), (3, "merge", ADMIN, {"into": "T-9"})
    )
    timeline = Timeline.of(WORKFLOW, history, at(4))
    assert (timeline.resolved_at, timeline.resolution_stands, timeline.closed_at) == (
        at(1),
        False,
        at(3),
    )
    runs = timeline.resolution()
    assert (runs.stopped, runs.intervals, runs.running) == (
        None,
        ((at(0), at(1)), (at(2), at(3))),
        False,
    )


def test_paused_and_pending_time_are_the_stays_in_those_statuses() -> None:
    timeline = Timeline.of(WORKFLOW, ANSWERED_AND_RESOLVED, at(12))
    assert timeline.paused() == ((at(5), at(8)),)
    assert timeline.waiting_on_customer() == ((at(1), at(3)), (at(9), at(10)))


def test_the_first_response_clock_runs_until_the_first_reply() -> None:
    runs = Timeline.of(WORKFLOW, ANSWERED_AND_RESOLVED, at(12)).first_response()
    assert (runs.started, runs.stopped, runs.intervals, runs.running) == (
        at(0),
        at(1),
        ((at(0), at(1)),),
        False,
    )


def test_the_next_response_clock_skips_the_paused_hours_of_the_latest_wait() -> None:
    runs = Timeline.of(WORKFLOW, ANSWERED_AND_RESOLVED, at(12)).next_response()
    assert runs.intervals == ((at(3), at(5)), (at(8), at(9)))


def test_the_resolution_clock_counts_pending_time_but_not_paused_time() -> None:
    runs = Timeline.of(WORKFLOW, ANSWERED_AND_RESOLVED, at(12)).resolution()
    assert (runs.stopped, runs.intervals) == (at(10), ((at(0), at(5)), (at(8), at(10))))


def test_the_close_within_clock_has_not_started_before_a_resolution() -> None:
    runs = Timeline.of(WORKFLOW, life(), at(2)).close_within()
    assert (runs.started, runs.intervals, runs.running) == (None, (), False)


def test_the_close_within_clock_runs_from_the_resolution_while_solved() -> None:
    runs = Timeline.of(WORKFLOW, ANSWERED_AND_RESOLVED, at(12)).close_within()
    assert (runs.started, runs.intervals, runs.running) == (at(10), ((at(10), at(12)),), True)


def test_response_clocks_do_not_run_while_resolved() -> None:
    keeps_resolved = Workflow.default(reopen_on_customer_reply=False)
    ticket, created = keeps_resolved.create(
        "T-1", CUSTOMER, START, subject="VPN", description="d", requester=ANA
    )
    history = [created]
    for hours, name, actor, payload in [
        (1, "agent_reply", AGENT, REPLY),
        (2, "resolve", ADMIN, {}),
        (3, "customer_reply", CUSTOMER, {"body": "Thanks!"}),
    ]:
        ticket, event = keeps_resolved.apply(ticket, name, actor, at(hours), **payload)
        history.append(event)
    runs = Timeline.of(keeps_resolved, history, at(100)).next_response()
    assert (runs.started, runs.intervals, runs.running) == (at(3), (), False)


def test_a_now_before_the_last_event_is_read_as_the_last_event() -> None:
    timeline = Timeline.of(WORKFLOW, ANSWERED_AND_RESOLVED, at(9))
    assert (timeline.now, timeline.spans[-1]) == (at(10), Span(at(10), at(10), "resolved"))


def test_an_empty_history_has_no_timeline() -> None:
    with pytest.raises(InvalidInput, match="history must be at least the 'create' event"):
        Timeline.of(WORKFLOW, [], START)


def test_a_history_that_does_not_start_with_create_is_refused() -> None:
    with pytest.raises(InvalidInput, match="history must be a history that starts with 'create'"):
        Timeline.of(WORKFLOW, ANSWERED_AND_RESOLVED[1:], at(12))


def test_a_naive_now_is_refused() -> None:
    with pytest.raises(InvalidInput, match="now must be an aware datetime"):
        Timeline.of(WORKFLOW, ANSWERED_AND_RESOLVED, datetime(2026, 1, 5, 12))  # noqa: DTZ001


# -- the laws, on random lives of random workflows ----------------------------------------

WORKFLOWS = (
    WORKFLOW,
    Workflow.default(reopen_on_customer_reply=False),
    Workflow.from_file(Path(__file__).parent.parent / "examples/workflows/it_service_desk.toml"),
)


@st.composite
def timelines(draw: st.DrawFn) -> tuple[Workflow, list[HistoryEvent], Timeline]:
    workflow = draw(st.sampled_from(WORKFLOWS))
    history = [event for _ticket, event in draw(histories(workflow))]
    now = history[-1].at + draw(clock_jumps())
    return workflow, history, Timeline.of(workflow, history, now)


def counts_in(workflow: Workflow, clock: str) -> Callable[[str], bool]:
    """Where a clock counts, restated from the rules in words (docs/sla.md)."""
    paused = workflow.sla_paused
    working = workflow.statuses_in(Category.NEW, Category.OPEN, Category.ON_HOLD) - paused
    if clock in ("first_response", "next_response"):
        return working.__contains__
    if clock == "resolution":
        return (working | workflow.statuses_in(Category.PENDING) - paused).__contains__
    return (workflow.statuses_in(Category.SOLVED) - paused).__contains__


CLOCKS: dict[str, Callable[[Timeline], Runs]] = {
    "first_response": Timeline.first_response,
    "next_response": Timeline.next_response,
    "resolution": Timeline.resolution,
    "close_within": Timeline.close_within,
}


@given(timelines())
def test_spans_cover_the_time_from_creation_to_now_without_gaps(
    drawn: tuple[Workflow, list[HistoryEvent], Timeline],
) -> None:
    _workflow, history, timeline = drawn
    spans = timeline.spans
    assert (spans[0].start, spans[-1].end) == (history[0].at, timeline.now)
    assert all(a.end == b.start and a.status != b.status for a, b in pairwise(spans))
    assert spans[-1].status == history[-1].to_status == timeline.status


@given(timelines(), st.sampled_from(sorted(CLOCKS)))
def test_a_clock_counts_only_between_its_start_and_stop_in_statuses_it_counts_in(
    drawn: tuple[Workflow, list[HistoryEvent], Timeline], clock: str
) -> None:
    workflow, _history, timeline = drawn
    runs = CLOCKS[clock](timeline)
    counts = counts_in(workflow, clock)
    end = timeline.now if runs.stopped is None else runs.stopped
    for low, high in runs.intervals:
        assert runs.started is not None
        assert runs.started <= low < high <= end
        overlapping = [span for span in timeline.spans if span.start < high and low < span.end]
        assert all(counts(span.status) for span in overlapping)
    assert all(a[1] < b[0] for a, b in pairwise(runs.intervals))


@given(timelines(), st.sampled_from(sorted(CLOCKS)))
def test_a_clock_runs_now_only_if_not_stopped_and_the_status_counts(
    drawn: tuple[Workflow, list[HistoryEvent], Timeline], clock: str
) -> None:
    workflow, _history, timeline = drawn
    runs = CLOCKS[clock](timeline)
    expected = (
        runs.started is not None
        and runs.stopped is None
        and counts_in(workflow, clock)(timeline.status)
    )
    assert runs.running == expected


@given(timelines(), st.sampled_from(sorted(CLOCKS)))
def test_a_clock_counts_all_the_time_in_those_statuses_between_its_start_and_stop(
    drawn: tuple[Workflow, list[HistoryEvent], Timeline], clock: str
) -> None:
    workflow, _history, timeline = drawn
    runs = CLOCKS[clock](timeline)
    if runs.started is None:
        return
    end = timeline.now if runs.stopped is None else runs.stopped
    counts = counts_in(workflow, clock)
    expected = sum(
        (
            min(span.end, end) - max(span.start, runs.started)
            for span in timeline.spans
            if counts(span.status) and span.start < end and runs.started < span.end
        ),
        timedelta(0),
    )
    assert sum((high - low for low, high in runs.intervals), timedelta(0)) == expected
