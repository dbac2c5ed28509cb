"""Satisfaction ratings: who rates what, when, on which scale, and what the metrics make of it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support import ADMIN, AGENT, ANA, CUSTOMER, START, STRANGER, SYSTEM

from ticketflow import (
    Actor,
    Contact,
    Helpdesk,
    IllegalTransition,
    InvalidInput,
    ManualClock,
    PermissionDenied,
    Rating,
    RatingScale,
    Satisfaction,
    Ticket,
    replay,
)
from ticketflow.storage import MemoryStore, TicketQuery


def resolved(desk: Helpdesk, requester: Contact = ANA, **extra: Any) -> Ticket:
    ticket = desk.open(subject="VPN", description="It drops.", requester=requester, **extra)
    return desk.resolve(ticket.id, ADMIN)


def test_the_requester_rates_a_resolved_ticket_and_its_status_stays(desk: Helpdesk) -> None:
    ticket = resolved(desk)
    rated = desk.rate(ticket.id, CUSTOMER, "good", comment="Thanks!")
    assert rated.status == "resolved"
    assert rated.fields["ticketflow:rating"] == "good"
    event = desk.history(ticket.id)[-1]
    assert (event.name, event.body, event.from_status, event.to_status) == (
        "rate",
        "Thanks!",
        "resolved",
        "resolved",
    )
    assert desk.rating(ticket.id) == Rating("good", START, "Thanks!", CUSTOMER)


def test_a_rating_is_no_activity_so_no_rule_period_starts_again(desk: Helpdesk) -> None:
    ticket = resolved(desk)
    rated = desk.rate(ticket.id, CUSTOMER, "bad")
    assert rated.last_customer_activity_at == ticket.last_customer_activity_at
    assert set(desk.history(ticket.id)[-1].changes) <= {"fields", "updated_at", "version"}


def test_a_closed_ticket_can_be_rated_and_stays_closed_and_locked(desk: Helpdesk) -> None:
    ticket = resolved(desk)
    desk.close(ticket.id, CUSTOMER)
    assert desk.rate(ticket.id, CUSTOMER, "bad").status == "closed"
    with pytest.raises(PermissionDenied, match="closed and locked"):
        desk.note(ticket.id, AGENT, "still locked")


def test_a_new_rating_in_the_window_replaces_the_old_one(
    desk: Helpdesk, clock: ManualClock
) -> None:
    ticket = resolved(desk)
    desk.rate(ticket.id, CUSTOMER, "bad", comment="Not fixed.")
    clock.advance(timedelta(days=3))
    desk.rate(ticket.id, CUSTOMER, "good")
    rating = desk.rating(ticket.id)
    assert rating is not None
    assert (rating.score, rating.comment, rating.at) == ("good", None, START + timedelta(days=3))
    assert [event.name for event in desk.history(ticket.id)].count("rate") == 2
    assert replay(desk.history(ticket.id)) == desk.get(ticket.id)


def test_a_ticket_never_rated_has_no_rating(desk: Helpdesk, ticket: Ticket) -> None:
    assert desk.rating(ticket.id) is None


@pytest.mark.parametrize("status", ["new", "answered", "open"])
def test_only_a_resolved_or_closed_ticket_is_rated(desk: Helpdesk, status: str) -> None:
    ticket = desk.open(subject="VPN", description="It drops.", requester=ANA)
    if status != "new":
        desk.reply(ticket.id, AGENT, "Try again?")
    if status == "open":
        desk.reply(ticket.id, CUSTOMER, "No luck.")
    with pytest.raises(IllegalTransition, match="only a resolved or closed ticket") as refused:
        desk.rate(ticket.id, CUSTOMER, "good")
    assert refused.value.status == status
    assert desk.get(ticket.id).version == len(desk.history(ticket.id))


def test_a_reopened_ticket_cannot_be_rated_until_resolved_again(desk: Helpdesk) -> None:
    ticket = resolved(desk)
    desk.reply(ticket.id, CUSTOMER, "It broke again.")
    with pytest.raises(IllegalTransition):
        desk.rate(ticket.id, CUSTOMER, "bad")


def test_the_score_must_be_of_the_desks_scale() -> None:
    five = Helpdesk(satisfaction=Satisfaction(RatingScale.ONE_TO_FIVE))
    ticket = resolved(five)
    with pytest.raises(InvalidInput, match="a whole number from 1 to 5"):
        five.rate(ticket.id, CUSTOMER, "good")
    for wrong in (0, 6, True, 2.5, "5"):
        with pytest.raises(InvalidInput):
            five.rate(ticket.id, CUSTOMER, wrong)  # type: ignore[arg-type]
    assert five.rate(ticket.id, CUSTOMER, 5).fields["ticketflow:rating"] == 5


def test_good_bad_desks_refuse_numbers_and_other_words(desk: Helpdesk) -> None:
    ticket = resolved(desk)
    for wrong in (5, "great", "Good", None):
        with pytest.raises(InvalidInput, match="'good' or 'bad'"):
            desk.rate(ticket.id, CUSTOMER, wrong)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="comment"):
        desk.rate(ticket.id, CUSTOMER, "good", comment="   ")


def test_the_satisfaction_configuration_is_checked() -> None:
    with pytest.raises(InvalidInput, match=r"Satisfaction\.scale"):
        Satisfaction("stars")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match=r"Satisfaction\.window"):
        Satisfaction(window=timedelta(0))
    with pytest.raises(InvalidInput, match="satisfaction"):
        Helpdesk(satisfaction="good_bad")  # type: ignore[arg-type]


def test_who_may_rate_by_default(desk: Helpdesk) -> None:
    ticket = resolved(desk)
    for refused in (AGENT, STRANGER):
        with pytest.raises(PermissionDenied):
            desk.rate(ticket.id, refused, "good")
    assert desk.rate(ticket.id, SYSTEM, "good").version == ticket.version + 1  # on their behalf
    assert desk.rate(ticket.id, ADMIN, "bad").version == ticket.version + 2


@given(days=st.integers(min_value=0, max_value=60), hours=st.integers(min_value=0, max_value=23))
def test_ratings_are_taken_only_within_the_window_after_the_resolution(
    days: int, hours: int
) -> None:
    clock = ManualClock(START)
    window = timedelta(days=10)
    desk = Helpdesk(MemoryStore(), clock, satisfaction=Satisfaction(window=window), rules=())
    ticket = resolved(desk)
    clock.advance(timedelta(days=days, hours=hours))
    late = timedelta(days=days, hours=hours) > window
    if late:
        with pytest.raises(IllegalTransition, match="ratings are taken for 10 days") as refused:
            desk.rate(ticket.id, CUSTOMER, "good")
        assert refused.value.event == "rate"
        assert desk.get(ticket.id) == ticket
        assert desk.rating(ticket.id) is None
    else:
        assert desk.rate(ticket.id, CUSTOMER, "good").fields["ticketflow:rating"] == "good"


def test_the_window_counts_from_the_latest_resolution(desk: Helpdesk, clock: ManualClock) -> None:
    ticket = resolved(desk)
    clock.advance(timedelta(days=20))
    desk.reopen(ticket.id, ADMIN)
    desk.resolve(ticket.id, ADMIN)
    assert desk.rate(ticket.id, CUSTOMER, "good").status == "resolved"


def test_hosts_cannot_write_the_reserved_rating_fields(desk: Helpdesk, ticket: Ticket) -> None:
    with pytest.raises(InvalidInput, match="ticketflow:"):
        desk.set_fields(ticket.id, AGENT, {"ticketflow:rating": "good"})
    with pytest.raises(InvalidInput, match="ticketflow:"):
        desk.open(
            subject="x", description="y", requester=ANA, fields={"ticketflow:rating": "good"}
        )
    rated = resolved(desk)
    desk.rate(rated.id, CUSTOMER, "good")
    with pytest.raises(InvalidInput, match="ticketflow:"):
        desk.set_fields(rated.id, ADMIN, remove={"ticketflow:rating"})


def test_a_follow_up_does_not_copy_the_rating(desk: Helpdesk) -> None:
    ticket = resolved(desk, fields={"plan": "pro"})
    desk.rate(ticket.id, CUSTOMER, "good")
    desk.close(ticket.id, CUSTOMER)
    follow_up = desk.reply(ticket.id, CUSTOMER, "A new question.")
    assert follow_up.parent_id == ticket.id
    assert dict(follow_up.fields) == {"plan": "pro"}


def test_metrics_report_satisfaction_and_response_rate_in_every_breakdown(
    desk: Helpdesk,
) -> None:
    people = [Contact(name=name, email=f"{name}@example.com") for name in "abcd"]
    scores = ["good", "bad", None, "good"]
    for index, (person, score) in enumerate(zip(people, scores, strict=True)):
        ticket = resolved(desk, person, department="it" if index % 2 else "hr")
        if score is not None:
            desk.rate(ticket.id, Actor.customer(person.id), score)
    desk.open(subject="Open still", description="Not yet resolved.", requester=ANA)
    report = desk.metrics()
    overall = report.overall
    assert (overall.ratings, overall.satisfaction, overall.mean_score) == (3, 2 / 3, None)
    assert overall.response_rate == 3 / 4  # the open ticket could not be rated yet
    hr, it = report.breakdowns["department"]["hr"], report.breakdowns["department"]["it"]
    assert (hr.ratings, hr.satisfaction, hr.response_rate) == (1, 1.0, 0.5)
    assert (it.ratings, it.satisfaction, it.response_rate) == (2, 0.5, 1.0)
    from_histories = desk.metrics(per_ticket=True)  # with each ticket's figures
    assert (from_histories.overall, from_histories.breakdowns) == (overall, report.breakdowns)
    assert [m.rating for m in from_histories.tickets] == ["good", "bad", None, "good", None]
    assert "satisfaction: 67% satisfied of 3 ratings, response rate 75%" in report.table()


def test_metrics_give_the_mean_score_of_five_point_ratings() -> None:
    desk = Helpdesk(satisfaction=Satisfaction("one_to_five"))
    for score in (5, 4, 1):
        ticket = resolved(desk)
        desk.rate(ticket.id, CUSTOMER, score)
    summary = desk.metrics(TicketQuery()).overall
    assert (summary.ratings, summary.satisfaction, summary.mean_score) == (3, 2 / 3, 10 / 3)
    assert "mean score 3.3 of 5" in desk.metrics().table()


def test_metrics_without_ratings_say_nothing_of_satisfaction(desk: Helpdesk) -> None:
    resolved(desk)
    report = desk.metrics()
    assert (report.overall.ratings, report.overall.satisfaction) == (0, None)
    assert report.overall.response_rate == 0.0
    assert "satisfaction" not in report.table()
