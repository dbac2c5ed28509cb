"""The codec: times and ticket rows come back exactly as they went in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
from hypothesis import given
from hypothesis import strategies as st

from ticketflow import Actor, Priority, Ticket, Workflow
from ticketflow.storage._codec import EPOCH, ticket_from_row, ticket_row, time_in, time_out
from ticketflow.testing import bodies, contacts

_MICROSECOND = timedelta(microseconds=1)
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@given(st.datetimes(timezones=st.just(UTC)))
def test_a_time_is_stored_as_its_exact_microseconds_since_the_epoch(instant: datetime) -> None:
    micros = time_in(instant)
    assert micros == (instant - EPOCH) // _MICROSECOND
    assert time_out(micros) == instant


def test_the_first_and_last_instants_a_datetime_holds_round_trip() -> None:
    for instant in (datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC), EPOCH):
        assert time_out(time_in(instant)) == instant
    assert time_in(EPOCH - _MICROSECOND) == -1
    assert time_in(None) is None


FIELD_VALUES = st.integers(-(2**63), 2**63 - 1) | st.text(
    st.characters(blacklist_categories=("Cs",)), min_size=1
)


@st.composite
def stored_tickets(draw: st.DrawFn) -> Ticket:
    """Tickets with every kind of field set or not, as rows hold them."""
    requester = draw(contacts())
    ticket, _ = Workflow.default().create(
        "T-1", Actor.customer(requester.id), START, subject=draw(bodies()),
        description=draw(bodies()), requester=requester,
        tags=draw(st.frozensets(st.sampled_from(["vpn", "vip", "é"]))),
        fields=draw(st.dictionaries(st.sampled_from(["plan", "seats"]), FIELD_VALUES)),
    )  # fmt: skip
    times = st.none() | st.datetimes(min_value=START.replace(tzinfo=None), timezones=st.just(UTC))
    return attrs.evolve(
        ticket,
        priority=draw(st.sampled_from(Priority)),
        assignee=draw(st.none() | st.just("a-1")),
        resolved_at=draw(times),
        closed_at=draw(times),
        reopen_count=draw(st.integers(0, 3)),
        version=draw(st.integers(1, 50)),
    )


@given(stored_tickets())
def test_a_ticket_row_decodes_to_an_equal_ticket_of_the_same_shape(ticket: Ticket) -> None:
    again = ticket_from_row(ticket_row(ticket))
    assert again == ticket
    assert vars(again) == vars(ticket)
    assert hash(again) == hash(ticket)
