"""Reviews after closing: recorded on closed tickets only, changing nothing else, read back."""

from __future__ import annotations

import attrs
import pytest
from support import ADMIN, AGENT, ANA, CUSTOMER, START

from ticketflow import (
    Helpdesk,
    HistoryEvent,
    IllegalTransition,
    InvalidInput,
    InvalidWorkflow,
    ManualClock,
    PermissionDenied,
    Review,
    Ticket,
    Workflow,
    replay,
)
from ticketflow.storage import Store


def closed(desk: Helpdesk) -> Ticket:
    ticket = desk.open(subject="VPN", description="It drops.", requester=ANA)
    desk.resolve(ticket.id, ADMIN)
    return desk.close(ticket.id, CUSTOMER)


def test_staff_review_a_closed_ticket_and_nothing_else_changes(desk: Helpdesk) -> None:
    ticket = closed(desk)
    reviewed = desk.review(ticket.id, AGENT, solution="New client.", lessons="Pin versions.")
    assert attrs.evolve(reviewed, version=ticket.version, updated_at=ticket.updated_at) == ticket
    event = desk.history(ticket.id)[-1]
    assert event.name == "closing_review"
    assert (event.from_status, event.to_status) == ("closed", "closed")
    assert event.body == "Solution:\nNew client.\n\nLessons learned:\nPin versions."
    assert replay(desk.history(ticket.id)) == desk.get(ticket.id)


def test_reviews_read_back_in_order_with_their_author(desk: Helpdesk) -> None:
    ticket = closed(desk)
    desk.review(ticket.id, AGENT, solution="First take.")
    desk.review(ticket.id, ADMIN, solution="Second take.", lessons="Line one.\n\nLine two.")
    first, second = desk.reviews(ticket.id)
    assert (first.solution, first.lessons, first.actor) == ("First take.", None, AGENT)
    assert (second.solution, second.lessons, second.actor) == (
        "Second take.",
        "Line one.\n\nLine two.",
        ADMIN,
    )
    assert Review.from_event(desk.history(ticket.id)[-1]) == second


@pytest.mark.parametrize("lessons", [None, "Check the firmware.", "Lessons learned:\nnested"])
def test_a_review_body_reads_back_into_the_same_review(lessons: str | None) -> None:
    review = Review("Replaced the router.", lessons)
    parsed = Review.from_event(_event_with(review.body))
    assert (parsed.solution, parsed.lessons) == (review.solution, review.lessons)


def _event_with(body: str) -> HistoryEvent:
    return HistoryEvent("T-1", 2, START, AGENT, "closing_review", "closed", "closed", body)


def test_a_solution_that_holds_the_separator_is_refused() -> None:
    with pytest.raises(InvalidInput, match="solution"):
        Review("Fixed.\n\nLessons learned:\nsneaky")
    with pytest.raises(InvalidInput, match="solution"):
        Review("  ")


def test_only_a_closed_ticket_is_reviewed(desk: Helpdesk, ticket: Ticket) -> None:
    with pytest.raises(IllegalTransition, match="only a closed ticket is reviewed"):
        desk.review(ticket.id, ADMIN, solution="Too early.")
    desk.resolve(ticket.id, ADMIN)
    with pytest.raises(IllegalTransition, match="only a closed ticket is reviewed"):
        desk.review(ticket.id, ADMIN, solution="Still too early.")
    assert [event.name for event in desk.history(ticket.id)] == ["create", "resolve"]


def test_customers_may_not_review(desk: Helpdesk) -> None:
    ticket = closed(desk)
    with pytest.raises(PermissionDenied, match="closing_review"):
        desk.review(ticket.id, CUSTOMER, solution="I fixed it myself.")


def test_a_merged_ticket_is_reviewed_on_its_target(desk: Helpdesk, ticket: Ticket) -> None:
    duplicate = desk.open(subject="VPN", description="Same.", requester=ANA)
    desk.merge(duplicate.id, AGENT, into=ticket.id)
    with pytest.raises(IllegalTransition, match="merged into 'T-1'; review that ticket"):
        desk.review(duplicate.id, ADMIN, solution="Nothing to say.")


def test_a_review_event_is_refused_by_workflows_as_a_declared_name() -> None:
    data = Workflow.default().to_dict()
    data["transitions"].append({"event": "closing_review", "from": "closed", "to": "closed"})
    with pytest.raises(InvalidWorkflow, match="'closing_review' is reserved"):
        Workflow.from_dict(data)


def test_reading_a_non_review_event_as_a_review_is_refused(desk: Helpdesk) -> None:
    ticket = closed(desk)
    for wrong in (desk.history(ticket.id)[-1], "Solution:\nx", None):
        with pytest.raises(InvalidInput, match="closing_review"):
            Review.from_event(wrong)  # type: ignore[arg-type]


def test_a_review_is_searched_with_the_conversation(any_store: Store) -> None:
    desk = Helpdesk(store=any_store, clock=ManualClock(START))
    ticket = closed(desk)
    assert desk.search("quokka") == []
    desk.review(ticket.id, AGENT, solution="Quokka firmware.", lessons="Pin the walrus.")
    assert [found.id for found in desk.search("quokka walrus")] == [ticket.id]
