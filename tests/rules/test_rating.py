"""Conditions on ratings: what they hold on, how they are scheduled, once per rating."""

from __future__ import annotations

from datetime import timedelta

import attrs
import pytest
from support import ADMIN, ANA, CUSTOMER, START

from ticketflow import Helpdesk, InvalidInput, ManualClock, Satisfaction, Ticket
from ticketflow.rules import (
    ALWAYS,
    Action,
    Context,
    InCategory,
    Rated,
    RatingAtMost,
    Rule,
    Tagged,
)
from ticketflow.storage import MemoryStore

REOPEN_BAD = Rule(
    "reopen_bad_rating",
    Rated("bad") & InCategory("solved"),
    Action.fire("reopen", "Sorry to hear it: we are on it again."),
)


def resolved(desk: Helpdesk) -> Ticket:
    ticket = desk.open(subject="VPN", description="It drops.", requester=ANA)
    return desk.resolve(ticket.id, ADMIN)


def test_rated_holds_on_the_scores_given_or_on_any_rating(desk: Helpdesk) -> None:
    ticket = resolved(desk)
    assert not Rated().holds(desk.context(ticket.id))
    desk.rate(ticket.id, CUSTOMER, "bad")
    context = desk.context(ticket.id)
    assert Rated().holds(context)
    assert Rated("bad").holds(context)
    assert Rated("bad", "good").holds(context)
    assert not Rated("good").holds(context)
    assert not RatingAtMost(5).holds(context)  # a good/bad rating has no score


def test_rating_at_most_holds_on_low_scores_of_a_five_point_desk() -> None:
    desk = Helpdesk(satisfaction=Satisfaction("one_to_five"))
    ticket = resolved(desk)
    desk.rate(ticket.id, CUSTOMER, 2)
    context = desk.context(ticket.id)
    assert RatingAtMost(2).holds(context)
    assert Rated(1, 2).holds(context)
    assert not RatingAtMost(1).holds(context)


def test_rating_conditions_predict_exactly_and_compose(desk: Helpdesk) -> None:
    ticket = resolved(desk)
    condition = Rated("bad") & InCategory("solved") & ~Tagged("vip")
    assert condition.predicts
    assert condition.when(desk.context(ticket.id)) is None
    desk.rate(ticket.id, CUSTOMER, "bad")
    assert condition.when(desk.context(ticket.id)) == ALWAYS
    assert Rated("bad").anchor(desk.context(ticket.id)) == START


def test_rating_conditions_check_their_scores() -> None:
    for wrong in ("great", 0, 6, True, ["bad"], None):
        with pytest.raises(InvalidInput, match="Rated"):
            Rated(wrong)  # type: ignore[arg-type]
    for wrong in (0, 6, "2", True):
        with pytest.raises(InvalidInput, match="RatingAtMost"):
            RatingAtMost(wrong)  # type: ignore[arg-type]


def test_a_bad_rating_on_a_resolved_ticket_is_due_at_once_and_fires_once() -> None:
    clock = ManualClock(START)
    desk = Helpdesk(MemoryStore(), clock, rules=[REOPEN_BAD])
    ticket = resolved(desk)
    assert desk.next_due(ticket.id) is None
    desk.rate(ticket.id, CUSTOMER, "bad")
    due = desk.next_due(ticket.id)
    assert due is not None
    assert due.rule == "reopen_bad_rating"
    assert due.at <= clock.now()
    report = desk.run_rules()
    assert [(firing.ticket_id, firing.to_status) for firing in report.fired] == [
        (ticket.id, "open")
    ]
    assert desk.run_rules().fired == ()
    assert desk.next_due(ticket.id) is None


def test_a_new_bad_rating_after_the_next_resolution_fires_again() -> None:
    clock = ManualClock(START)
    desk = Helpdesk(MemoryStore(), clock, rules=[REOPEN_BAD])
    ticket = resolved(desk)
    desk.rate(ticket.id, CUSTOMER, "bad")
    desk.run_rules()
    clock.advance(timedelta(hours=2))
    desk.resolve(ticket.id, ADMIN)
    assert desk.run_rules().fired == ()  # the old rating's episode is spent
    desk.rate(ticket.id, CUSTOMER, "bad", comment="Still broken.")
    assert [firing.rule for firing in desk.run_rules().fired] == ["reopen_bad_rating"]


def test_a_good_rating_or_a_closed_ticket_does_not_fire() -> None:
    desk = Helpdesk(rules=[REOPEN_BAD])
    good = resolved(desk)
    desk.rate(good.id, CUSTOMER, "good")
    closed = resolved(desk)
    desk.close(closed.id, CUSTOMER)
    desk.rate(closed.id, CUSTOMER, "bad")
    assert desk.run_rules().fired == ()
    assert desk.next_due(good.id) is None
    assert desk.next_due(closed.id) is None


def test_a_rating_without_a_readable_instant_has_no_episode_of_its_own(
    desk: Helpdesk,
) -> None:
    ticket = resolved(desk)
    rated = desk.rate(ticket.id, CUSTOMER, "bad")
    fields = {**rated.fields, "ticketflow:rated_at": "not a time"}
    broken = Ticket(**{**attrs.asdict(rated, recurse=False), "fields": fields})
    context = Context(broken, START, desk.workflow)
    assert Rated("bad").holds(context)
    assert Rated("bad").anchor(context) is None
    assert REOPEN_BAD.episode(context) is None  # the sweep then counts from created_at
