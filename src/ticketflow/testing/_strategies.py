"""Hypothesis strategies for tickets, actors, events and payloads of any workflow."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from hypothesis import strategies as st

from ticketflow._actor import Actor
from ticketflow._errors import IllegalTransition, InvalidInput
from ticketflow._events import UPDATE_SPECS
from ticketflow._history import HistoryEvent
from ticketflow._names import (
    AGENT_REPLY,
    ASSIGN,
    CUSTOMER_REPLY,
    POSTPONE,
    REOPEN,
    SET_DEPARTMENT,
    SET_PRIORITY,
    UPDATE_TAGS,
)
from ticketflow._reserved import NAMESPACE
from ticketflow._ticket import Channel, Contact, Priority, Ticket
from ticketflow._workflow import Workflow
from ticketflow.sla._calendar import Calendar, YearlyHoliday

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
"""When the stateful test's clock starts: a Monday morning."""

CUSTOMER_IDS = ("ana@example.com", "bruno@example.com")
AGENT_IDS = ("a-1", "a-2")
_DEPARTMENTS = ("billing", "it")
_TAGS = ("billing", "vpn", "urgent", "vip")


def contacts() -> st.SearchStrategy[Contact]:
    """Requesters: two customers, so that tickets have owners and strangers."""
    return st.sampled_from(
        [Contact(name="Ana", email=CUSTOMER_IDS[0]), Contact(name="Bruno", email=CUSTOMER_IDS[1])]
    )


def actors() -> st.SearchStrategy[Actor]:
    """Every role: the two customers, two agents (one granted ``reopen``), admin, owner, system."""
    return st.sampled_from(
        [
            *(Actor.customer(customer) for customer in CUSTOMER_IDS),
            Actor.agent(AGENT_IDS[0], department=_DEPARTMENTS[0]),
            Actor.agent(AGENT_IDS[1], department=_DEPARTMENTS[1], grants={REOPEN}),
            Actor.admin("ad-1"),
            Actor.owner("ow-1"),
            Actor.system(),
        ]
    )


def bodies() -> st.SearchStrategy[str]:
    """Short non-blank messages."""
    return st.text(alphabet="abc xyz.!", min_size=1, max_size=20).filter(str.strip)


def clock_jumps() -> st.SearchStrategy[timedelta]:
    """How far the clock moves between steps: often not at all, up to ten days."""
    return st.one_of(
        st.just(timedelta(0)),
        st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=10)),
    )


def event_names(workflow: Workflow) -> st.SearchStrategy[str]:
    """Any event of ``workflow``: its declared events and the updates every workflow has."""
    return st.sampled_from(sorted(workflow.events))


@st.composite
def payloads(draw: st.DrawFn, event: str, now: datetime = START) -> dict[str, Any]:
    """A payload that fits ``event``, so that refusals come from the lifecycle, not typos.

    ``now`` is the time the command will run at: ``postpone`` gets an ``until``
    from an hour to five days after it.
    """
    body = draw(bodies())
    if event == POSTPONE:
        return {"until": now + draw(st.timedeltas(timedelta(hours=1), timedelta(days=5)))}
    if event in (AGENT_REPLY, CUSTOMER_REPLY) or (
        event in UPDATE_SPECS and set(UPDATE_SPECS[event].required) == {"body"}
    ):
        return {"body": body}  # replies, notes, reminders and SLA notices take a body only
    if event in UPDATE_SPECS:
        return draw(_update_payloads(event))
    return draw(st.sampled_from([{}, {"body": body}]))


def _update_payloads(event: str) -> st.SearchStrategy[dict[str, Any]]:
    if event == ASSIGN:
        return st.builds(dict, to=st.sampled_from([None, *AGENT_IDS]))
    if event == SET_PRIORITY:
        return st.builds(dict, priority=st.sampled_from(list(Priority)))
    if event == SET_DEPARTMENT:
        return st.builds(dict, department=st.sampled_from([None, *_DEPARTMENTS]))
    if event == UPDATE_TAGS:
        return st.builds(dict, add=st.frozensets(st.sampled_from(_TAGS), min_size=1))
    return st.builds(
        dict, fields=st.fixed_dictionaries({"plan": st.sampled_from(["free", "pro"])})
    )


def event_sequences(
    workflow: Workflow, *, max_size: int = 20, now: datetime = START
) -> st.SearchStrategy[list[tuple[str, dict[str, Any]]]]:
    """Lists of ``(event, payload)`` for ``workflow``, legal or not, to fire in order."""
    step = event_names(workflow).flatmap(
        lambda name: payloads(name, now).map(lambda payload: (name, payload))
    )
    return st.lists(step, max_size=max_size)


_TEXT = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
    min_size=1,
    max_size=30,
).filter(lambda text: not text.isspace())

_FIELD_NAMES = _TEXT.filter(lambda name: not name.startswith(NAMESPACE))
"""A host's field names: ticketflow keeps the ``ticketflow:`` namespace for itself."""

_FIELD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    _TEXT,
    st.lists(_TEXT, max_size=3).map(tuple),
)


@st.composite
def histories(
    draw: st.DrawFn,
    workflow: Workflow,
    ticket_id: str = "T-1",
    *,
    max_steps: int = 12,
    start: datetime = START,
) -> list[tuple[Ticket, HistoryEvent]]:
    """Whole lives of a ticket of ``workflow``: each state with the event that made it.

    The ticket is opened with every field drawn (unicode text, a phone or
    none, custom fields of every kind, tags, any priority and channel), then
    walked by random actors through events the workflow allows, updates
    included, on the pure core, at drawn times that never go back.  Every
    life drawn is one the workflow could really have produced; stores'
    round-trip tests are built on it.
    """
    requester = Contact(
        name=draw(_TEXT),
        email=draw(st.sampled_from(CUSTOMER_IDS)),
        phone=draw(st.none() | _TEXT),
    )
    at = start
    life = [
        workflow.create(
            ticket_id,
            draw(actors()),
            at,
            subject=draw(_TEXT),
            description=draw(_TEXT),
            requester=requester,
            priority=draw(st.sampled_from(list(Priority))),
            channel=draw(st.sampled_from(list(Channel))),
            tags=draw(st.frozensets(st.sampled_from(_TAGS), max_size=3)),
            assignee=draw(st.none() | st.sampled_from(AGENT_IDS)),
            department=draw(st.none() | st.sampled_from(_DEPARTMENTS)),
            fields=draw(st.dictionaries(_FIELD_NAMES, _FIELD_VALUES, max_size=3)),
        )
    ]
    for _step in range(draw(st.integers(0, max_steps))):
        ticket = life[-1][0]
        if workflow.purges(ticket.status):
            break
        at += draw(st.timedeltas(timedelta(0), timedelta(days=3)))
        actor = draw(actors())
        allowed = workflow.allowed(ticket, actor, at)
        if not allowed:
            continue
        name = draw(st.sampled_from(allowed))
        try:
            life.append(workflow.apply(ticket, name, actor, at, **draw(payloads(name, at))))
        except (IllegalTransition, InvalidInput):
            continue  # a guard that reads the payload, or a payload the ticket refuses
    return life


@st.composite
def tickets(
    draw: st.DrawFn, workflow: Workflow, *, max_steps: int = 12, start: datetime = START
) -> Ticket:
    """Tickets of ``workflow`` in any reachable state: created, then walked by allowed events.

    The walk runs on the pure core as the system actor, an hour per step, so
    every ticket drawn is one the workflow could really have produced.
    """
    requester = draw(contacts())
    ticket, _created = workflow.create(
        "T-1",
        Actor.customer(requester.id),
        start,
        subject=draw(bodies()),
        description=draw(bodies()),
        requester=requester,
    )
    system = Actor.system()
    for step in range(draw(st.integers(0, max_steps))):
        at = start + timedelta(hours=step + 1)
        allowed = [
            name for name in workflow.allowed(ticket, system, at) if name not in UPDATE_SPECS
        ]
        if not allowed or workflow.purges(ticket.status):
            break
        name = draw(st.sampled_from(allowed))
        try:
            ticket, _record = workflow.apply(ticket, name, system, at, **draw(payloads(name, at)))
        except IllegalTransition:
            continue  # a guard that reads the payload said no
        if workflow.purges(ticket.status):
            break
    return ticket


def calendars() -> st.SearchStrategy[Calendar]:
    """SLA calendars: 24x7, and business hours in zones that test what hours can do.

    Riga office hours (a European daylight-saving change); New York split
    shifts with a night shift past midnight, six days a week, and a
    holiday; Kolkata from 09:00 to midnight (``"24:00"``, a zone without
    daylight saving and a half-hour offset); Sydney office hours (southern
    daylight saving, which ends in April); a Riga contract with a night
    shift, holidays every year, a half day and a Saturday worked around
    :data:`START`.  For random calendars, see :func:`business_calendars`.
    """
    return st.sampled_from(
        [
            Calendar.always(),
            Calendar.business("Europe/Riga", weekdays=("09:00", "17:00")),
            Calendar.business(
                "America/New_York",
                {
                    day: [(time(8), time(12)), (time(13), time(17)), (time(22), time(6))]
                    for day in range(6)
                },
                holidays={date(2026, 1, 19)},
            ),
            Calendar.business("Asia/Kolkata", weekdays=("09:00", "24:00")),
            Calendar.business("Australia/Sydney", weekdays=("08:30", "17:30")),
            Calendar.business(
                "Europe/Riga",
                {day: [(time(9), time(18)), (time(22), time(2))] for day in range(5)},
                holidays=[YearlyHoliday(1, 6), YearlyHoliday(1, 8), date(2026, 1, 12)],
                dates={
                    date(2026, 1, 7): [(time(9), time(13))],
                    date(2026, 1, 10): [(time(10), time(14))],
                },
                name="Riga contract",
            ),
        ]
    )
