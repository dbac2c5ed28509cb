"""Values no store can keep are refused at the boundary, by both stores alike.

Text with a lone surrogate (``"x\\ud800"``) cannot be written as UTF-8, and
custom-field integers beyond 64 bits fit no database integer (a SQLiteStore
once crashed on both with ``UnicodeEncodeError`` and ``ValueError`` while a
MemoryStore kept them).  The checkers refuse them with ``InvalidInput``
naming the field, before anything is stored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import pytest
from support import AGENT, ANA, START

from ticketflow import Actor, Contact, Helpdesk, InvalidInput, ManualClock
from ticketflow.storage import SQLiteStore, Store, TicketQuery

LONE = "x\ud800"


@pytest.fixture
def desk(any_store: Store) -> Helpdesk:
    return Helpdesk(store=any_store, clock=ManualClock(START))


def _open(desk: Helpdesk, **changes: Any) -> None:
    arguments: dict[str, Any] = {"subject": "VPN", "description": "It drops.", "requester": ANA}
    desk.open(**{**arguments, **changes})


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"subject": LONE}, "subject"),
        ({"description": LONE}, "description"),
        ({"tags": {LONE}}, "tags"),
        ({"fields": {LONE: "pro"}}, "fields name"),
        ({"fields": {"plan": LONE}}, "fields['plan']"),
        ({"fields": {"modules": ["vpn", LONE]}}, "fields['modules']"),
    ],
    ids=["subject", "description", "tag", "field name", "field value", "multi-select item"],
)
def test_text_with_a_lone_surrogate_is_refused_naming_the_field_and_nothing_is_stored(
    desk: Helpdesk, changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput, match="without lone surrogates") as refused:
        _open(desk, **changes)
    assert refused.value.field == field
    assert desk.find() == []


@pytest.mark.parametrize(
    "seats", [2**63, -(2**63) - 1, 10**5000], ids=["2**63", "-2**63 - 1", "10**5000"]
)
def test_a_custom_field_integer_beyond_64_bits_is_refused_and_nothing_is_stored(
    desk: Helpdesk, seats: int
) -> None:
    with pytest.raises(InvalidInput, match=r"an integer from -2\*\*63 to 2\*\*63 - 1") as refused:
        _open(desk, fields={"seats": seats})
    assert refused.value.field == "fields['seats']"
    assert refused.value.value == seats
    assert desk.find() == []


@pytest.mark.parametrize("seats", [2**63 - 1, -(2**63)])
def test_custom_field_integers_at_the_64_bit_limits_are_kept(desk: Helpdesk, seats: int) -> None:
    _open(desk, fields={"seats": seats})
    assert desk.get("T-1").fields["seats"] == seats


def test_an_integer_too_long_to_print_is_shown_by_its_size_in_the_refusal(desk: Helpdesk) -> None:
    with pytest.raises(InvalidInput, match=r"got <an integer of 16610 bits>"):
        _open(desk, fields={"seats": 10**5000})


def test_a_reply_with_a_lone_surrogate_is_refused_and_the_ticket_is_unchanged(
    desk: Helpdesk,
) -> None:
    _open(desk)
    before, history = desk.get("T-1"), desk.history("T-1")
    with pytest.raises(InvalidInput, match="body must be a non-empty string without lone"):
        desk.reply("T-1", AGENT, f"Fixed {LONE}")
    assert desk.get("T-1") == before
    assert desk.history("T-1") == history


def test_setting_a_custom_field_beyond_64_bits_is_refused_and_the_ticket_is_unchanged(
    desk: Helpdesk,
) -> None:
    _open(desk, fields={"seats": 12})
    before = desk.get("T-1")
    with pytest.raises(InvalidInput, match=r"fields\['seats'\] must be an integer from"):
        desk.set_fields("T-1", Actor.admin("ad-1"), {"seats": 2**64})
    assert desk.get("T-1") == before


def test_a_contact_whose_name_holds_a_lone_surrogate_is_refused() -> None:
    with pytest.raises(InvalidInput, match=r"Contact\.name must be a non-empty string without"):
        Contact(name=LONE, email="ana@example.com")


def test_a_sqlite_store_refuses_an_event_built_around_the_checks_naming_its_column(
    tmp_path: Path,
) -> None:
    store = SQLiteStore(tmp_path / "tickets.sqlite3")
    desk = Helpdesk(store=store, clock=ManualClock(START))
    _open(desk)
    ticket, created = desk.get("T-1"), desk.history("T-1")
    replied, event = desk.workflow.apply(ticket, "note", AGENT, START, body="Fine.")
    with pytest.raises(
        InvalidInput, match=r"body must be text without lone surrogates"
    ) as refused:
        store.commit(replied, attrs.evolve(event, body=LONE), ticket.version)
    assert refused.value.value == LONE
    assert (desk.get("T-1"), desk.history("T-1")) == (ticket, created)
    store.close()


@pytest.mark.parametrize("field", ["assignee", "department", "requester", "statuses"])
def test_a_query_naming_text_with_a_lone_surrogate_is_refused_by_both_stores_alike(
    desk: Helpdesk, field: str
) -> None:
    _open(desk)
    with pytest.raises(InvalidInput, match="without lone surrogates") as refused:
        desk.store.query(TicketQuery(**{field: LONE}))
    assert refused.value.field == field


@pytest.mark.parametrize("field", ["assignee", "department", "requester", "statuses"])
def test_a_query_naming_something_that_is_not_a_name_is_refused(field: str) -> None:
    with pytest.raises(InvalidInput, match=f"{field} must be"):
        TicketQuery(**{field: 5})
