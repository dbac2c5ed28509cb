"""The Helpdesk: every command's path, its refusals, and what it records."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from support import ADMIN, AGENT, ANA, CUSTOMER, OTHER_AGENT, START, STRANGER, SYSTEM

from ticketflow import (
    Actor,
    ConcurrencyConflict,
    Contact,
    Helpdesk,
    HistoryEvent,
    HookFailed,
    IllegalTransition,
    InvalidInput,
    ManualClock,
    PermissionDenied,
    Priority,
    Ticket,
    TicketNotFound,
    Workflow,
    replay,
)
from ticketflow.storage import (
    NO_SLA,
    UNSCHEDULED,
    Figures,
    LedgerEntry,
    MemoryStore,
    Schedule,
    StoredSLA,
)


def test_a_new_ticket_starts_new_with_every_field_given(desk: Helpdesk) -> None:
    ticket = desk.open(
        subject="VPN drops",
        description="Every hour.",
        requester=ANA,
        priority=Priority.HIGH,
        channel="chat",
        tags={"vpn"},
        department="it",
        fields={"plan": "pro"},
    )
    assert (ticket.status, ticket.version, ticket.priority) == ("new", 1, Priority.HIGH)
    assert (ticket.tags, ticket.department, dict(ticket.fields)) == (
        {"vpn"},
        "it",
        {"plan": "pro"},
    )
    assert ticket.created_at == ticket.last_customer_activity_at == START
    assert desk.get(ticket.id) == ticket


@pytest.mark.parametrize(
    ("argument", "value", "message"),
    [
        ("subject", "  ", "subject must be a non-empty string"),
        ("priority", "extreme", "priority must be one of 'low', 'normal', 'high', 'urgent'"),
        ("channel", "fax", "channel must be one of 'email', 'phone', 'chat', 'portal', 'api'"),
        ("tags", "billing", "tags must be a set of strings"),
        ("requester", "ana@example.com", "requester must be a Contact"),
    ],
)
def test_opening_with_a_bad_argument_names_it_and_stores_nothing(
    desk: Helpdesk, store: MemoryStore, argument: str, value: object, message: str
) -> None:
    arguments: dict[str, object] = {
        "subject": "s",
        "description": "d",
        "requester": ANA,
        argument: value,
    }
    with pytest.raises(InvalidInput, match=message):
        desk.open(**arguments)  # type: ignore[arg-type]
    assert len(store) == 0


def test_a_customer_may_not_open_a_ticket_for_someone_else(
    desk: Helpdesk, store: MemoryStore
) -> None:
    with pytest.raises(PermissionDenied, match="customers act only on tickets they requested"):
        desk.open(subject="s", description="d", requester=ANA, actor=STRANGER)
    assert len(store) == 0


def test_an_agent_may_open_a_ticket_on_a_customers_behalf(desk: Helpdesk) -> None:
    ticket = desk.open(
        subject="Phone call", description="d", requester=ANA, channel="phone", actor=AGENT
    )
    assert desk.history(ticket.id)[0].actor == AGENT


def test_a_contact_needs_an_id_or_an_email() -> None:
    with pytest.raises(
        InvalidInput, match=r"Contact\.id must be given, or an email to default to"
    ):
        Contact(name="Nobody")
    assert Contact(name="Cai", phone="+371 2000", id="crm-42").id == "crm-42"


def test_a_malformed_email_is_refused() -> None:
    with pytest.raises(InvalidInput, match=r"Contact\.email must be an email address"):
        Contact(name="Ana", email="ana-at-example")


def test_reply_is_an_agent_reply_from_staff_and_a_customer_reply_from_the_customer(
    desk: Helpdesk, ticket: Ticket
) -> None:
    answered = desk.reply(ticket.id, AGENT, "Refund issued.")
    reopened = desk.reply(ticket.id, CUSTOMER, "Not yet received.")
    assert (answered.status, reopened.status) == ("answered", "open")
    assert [event.name for event in desk.history(ticket.id)] == [
        "create",
        "agent_reply",
        "customer_reply",
    ]


def test_history_records_who_when_what_and_the_message_in_order(
    desk: Helpdesk, clock: ManualClock, ticket: Ticket
) -> None:
    clock.advance(timedelta(minutes=30))
    desk.reply(ticket.id, AGENT, "Looking into it.")
    clock.advance(timedelta(minutes=30))
    desk.note(ticket.id, AGENT, "Double charge confirmed.")
    clock.advance(timedelta(hours=1))
    desk.assign(ticket.id, ADMIN, to="a-1")
    history = desk.history(ticket.id)
    assert [(e.seq, e.name, e.from_status, e.to_status) for e in history] == [
        (1, "create", None, "new"),
        (2, "agent_reply", "new", "answered"),
        (3, "note", "answered", "answered"),
        (4, "assign", "answered", "answered"),
    ]
    assert [e.at for e in history] == [START, *(START + timedelta(hours=h) for h in (0.5, 1, 2))]
    assert [e.actor for e in history] == [CUSTOMER, AGENT, AGENT, ADMIN]
    assert history[1].body == "Looking into it."
    assert history[2].body == "Double charge confirmed."
    assert history[3].changes["assignee"] == "a-1"
    assert all(e.at.tzinfo is UTC for e in history)


def test_replaying_the_history_rebuilds_the_stored_ticket(
    desk: Helpdesk, clock: ManualClock, ticket: Ticket
) -> None:
    desk.reply(ticket.id, AGENT, "Hi")
    clock.advance(timedelta(days=1))
    desk.update_tags(ticket.id, AGENT, add={"refund"}, remove={"billing"})
    desk.set_fields(ticket.id, AGENT, {"order": "A-17"})
    desk.set_priority(ticket.id, AGENT, "urgent", body="VIP customer")
    desk.set_department(ticket.id, AGENT, "finance")
    desk.postpone(ticket.id, AGENT, until=clock.now() + timedelta(days=2))
    clock.advance(timedelta(days=2))
    desk.wake(ticket.id, SYSTEM)
    desk.resolve(ticket.id, ADMIN)
    assert replay(desk.history(ticket.id)) == desk.get(ticket.id)


def test_replay_refuses_a_history_with_a_gap(desk: Helpdesk, ticket: Ticket) -> None:
    desk.reply(ticket.id, AGENT, "a")
    desk.reply(ticket.id, AGENT, "b")
    first, _, third = desk.history(ticket.id)
    with pytest.raises(InvalidInput, match="the event with seq 2 next"):
        replay([first, third])
    with pytest.raises(InvalidInput, match="starts with 'create'"):
        replay([third])
    with pytest.raises(InvalidInput, match="at least the 'create' event"):
        replay([])


def test_closing_requires_resolving_first(desk: Helpdesk, ticket: Ticket) -> None:
    with pytest.raises(
        IllegalTransition, match="cannot 'close' ticket 'T-1' in status 'new'"
    ) as refused:
        desk.close(ticket.id, ADMIN)
    assert "resolve" in refused.value.allowed
    desk.resolve(ticket.id, ADMIN)
    assert desk.close(ticket.id, ADMIN).status == "closed"


def test_the_customer_closes_their_resolved_ticket(desk: Helpdesk, ticket: Ticket) -> None:
    desk.assign(ticket.id, AGENT, to=AGENT.id)
    desk.resolve(ticket.id, AGENT)
    closed = desk.close(ticket.id, CUSTOMER, body="Thanks!")
    assert closed.status == "closed"
    assert closed.closed_at == START


def test_a_closed_ticket_is_locked_against_everything_but_reopen_and_admin_delete(
    desk: Helpdesk, ticket: Ticket
) -> None:
    desk.resolve(ticket.id, ADMIN)
    closed = desk.close(ticket.id, ADMIN)
    for command in (
        lambda: desk.note(ticket.id, ADMIN, "late note"),
        lambda: desk.assign(ticket.id, ADMIN, to="a-2"),
        lambda: desk.resolve(ticket.id, ADMIN),
        lambda: desk.mark_spam(ticket.id, ADMIN),
    ):
        with pytest.raises(IllegalTransition):
            command()
    with pytest.raises(PermissionDenied, match="closed and locked"):
        desk.delete(ticket.id, AGENT)
    assert desk.get(ticket.id) == closed
    assert desk.allowed_events(ticket.id, ADMIN) == ["delete", "reopen"]
    assert desk.delete(ticket.id, ADMIN).status == "deleted"


def test_a_customer_reply_to_a_closed_ticket_opens_a_linked_follow_up(
    desk: Helpdesk, clock: ManualClock, ticket: Ticket
) -> None:
    desk.assign(ticket.id, ADMIN, to="a-1")
    desk.resolve(ticket.id, ADMIN)
    closed = desk.close(ticket.id, CUSTOMER)
    clock.advance(timedelta(days=10))
    follow_up = desk.reply(ticket.id, CUSTOMER, "It happened again in March.")
    assert follow_up.id != ticket.id
    assert follow_up.parent_id == ticket.id
    assert (follow_up.status, follow_up.description) == ("new", "It happened again in March.")
    assert (follow_up.requester, follow_up.assignee, follow_up.tags) == (ANA, "a-1", {"billing"})
    assert desk.get(ticket.id) == closed


def test_a_stranger_cannot_open_a_follow_up_on_someone_elses_ticket(
    desk: Helpdesk, ticket: Ticket
) -> None:
    desk.resolve(ticket.id, ADMIN)
    desk.close(ticket.id, ADMIN)
    with pytest.raises(PermissionDenied):
        desk.reply(ticket.id, STRANGER, "me too")


def test_within_the_reopen_window_a_customer_reply_reopens_the_closed_ticket(
    clock: ManualClock,
) -> None:
    desk = Helpdesk(clock=clock, workflow=Workflow.default(reopen_window=timedelta(days=3)))
    ticket = desk.open(subject="s", description="d", requester=ANA)
    desk.resolve(ticket.id, ADMIN)
    desk.close(ticket.id, ADMIN)
    clock.advance(timedelta(days=2))
    reopened = desk.reply(ticket.id, CUSTOMER, "still broken")
    assert (reopened.id, reopened.status, reopened.reopen_count) == (ticket.id, "open", 1)
    desk.resolve(ticket.id, ADMIN)
    desk.close(ticket.id, ADMIN)
    clock.advance(timedelta(days=4))
    assert desk.reply(ticket.id, CUSTOMER, "again").parent_id == ticket.id


def test_a_customer_reply_to_a_resolved_ticket_reopens_it_and_counts(
    desk: Helpdesk, ticket: Ticket
) -> None:
    desk.resolve(ticket.id, ADMIN)
    reopened = desk.reply(ticket.id, CUSTOMER, "Not fixed")
    assert (reopened.status, reopened.reopen_count, reopened.resolved_at) == ("open", 1, None)


def test_reopening_assigns_the_ticket_to_whoever_reopened_it(
    desk: Helpdesk, ticket: Ticket
) -> None:
    desk.assign(ticket.id, ADMIN, to="a-1")
    desk.resolve(ticket.id, ADMIN)
    trusted = Actor.agent("a-2", grants={"reopen"})
    reopened = desk.reopen(ticket.id, trusted, body="Customer called back")
    assert (reopened.status, reopened.assignee, reopened.reopen_count) == ("open", "a-2", 1)


def test_an_agent_without_the_grant_cannot_reopen(desk: Helpdesk, ticket: Ticket) -> None:
    desk.resolve(ticket.id, ADMIN)
    with pytest.raises(PermissionDenied, match="agent role has no grant for 'reopen'") as refused:
        desk.reopen(ticket.id, AGENT)
    assert (refused.value.actor, refused.value.event, refused.value.ticket_id) == (
        AGENT,
        "reopen",
        ticket.id,
    )


def test_an_agent_resolves_only_tickets_assigned_to_them(desk: Helpdesk, ticket: Ticket) -> None:
    desk.assign(ticket.id, ADMIN, to=OTHER_AGENT.id)
    with pytest.raises(PermissionDenied, match="assigned to them"):
        desk.resolve(ticket.id, AGENT)
    assert desk.resolve(ticket.id, OTHER_AGENT).status == "resolved"


def test_spam_can_be_restored_or_purged_for_good(desk: Helpdesk, ticket: Ticket) -> None:
    desk.mark_spam(ticket.id, AGENT)
    assert desk.restore(ticket.id, AGENT).status == "new"
    desk.delete(ticket.id, AGENT)
    with pytest.raises(PermissionDenied, match="no grant for 'purge'"):
        desk.purge(ticket.id, AGENT)
    last = desk.purge(ticket.id, ADMIN)
    assert last.status == "purged"
    with pytest.raises(TicketNotFound, match="no ticket with id 'T-1'"):
        desk.get(ticket.id)
    with pytest.raises(TicketNotFound):
        desk.history(ticket.id)


def test_a_purged_ticket_id_is_never_reused(desk: Helpdesk, ticket: Ticket) -> None:
    desk.mark_spam(ticket.id, ADMIN)
    desk.purge(ticket.id, ADMIN)
    assert desk.open(subject="s", description="d", requester=ANA).id != ticket.id


def test_commands_on_an_unknown_ticket_say_so(desk: Helpdesk) -> None:
    with pytest.raises(TicketNotFound):
        desk.resolve("T-404", ADMIN)


def test_a_command_needs_an_actor(desk: Helpdesk, ticket: Ticket) -> None:
    with pytest.raises(InvalidInput, match="actor must be an Actor"):
        desk.resolve(ticket.id, "admin")  # type: ignore[arg-type]


def test_fire_runs_any_event_with_its_payload(desk: Helpdesk, ticket: Ticket) -> None:
    until = START + timedelta(days=1)
    postponed = desk.fire(ticket.id, "postpone", AGENT, until=until, body="after the release")
    assert (postponed.status, postponed.postponed_until) == ("postponed", until)
    assert desk.history(ticket.id)[-1].body == "after the release"


def test_postponing_takes_any_aware_time_and_stores_it_in_utc(
    desk: Helpdesk, ticket: Ticket
) -> None:
    riga = timezone(timedelta(hours=2))
    postponed = desk.postpone(ticket.id, AGENT, until=datetime(2026, 1, 6, 11, 0, tzinfo=riga))
    assert postponed.postponed_until == datetime(2026, 1, 6, 9, 0, tzinfo=UTC)


def test_a_naive_time_is_refused(desk: Helpdesk, ticket: Ticket) -> None:
    with pytest.raises(InvalidInput, match="until must be an aware datetime"):
        desk.postpone(ticket.id, AGENT, until=datetime(2026, 1, 6))  # noqa: DTZ001 - the point of the test


def test_allowed_events_are_legal_and_permitted_for_that_actor(
    desk: Helpdesk, ticket: Ticket
) -> None:
    assert desk.allowed_events(ticket.id, CUSTOMER) == ["customer_reply", "resolve"]
    assert desk.allowed_events(ticket.id, STRANGER) == []
    assert "resolve" not in desk.allowed_events(ticket.id, AGENT)
    assert "purge" not in desk.allowed_events(ticket.id, ADMIN)


def test_an_illegal_transition_lists_what_this_actor_may_do_instead(
    desk: Helpdesk, ticket: Ticket
) -> None:
    with pytest.raises(IllegalTransition) as refused:
        desk.close(ticket.id, CUSTOMER)
    assert refused.value.allowed == ("customer_reply", "resolve")


def test_find_filters_by_status_category_assignee_department_requester_and_tags(
    desk: Helpdesk, clock: ManualClock
) -> None:
    bruno = Contact(name="Bruno", email="bruno@example.com")
    one = desk.open(
        subject="1", description="d", requester=ANA, tags={"vip", "billing"}, department="billing"
    )
    clock.advance(timedelta(minutes=1))
    two = desk.open(subject="2", description="d", requester=bruno, department="it")
    clock.advance(timedelta(minutes=1))
    three = desk.open(subject="3", description="d", requester=ANA, tags={"vip"})
    desk.assign(two.id, ADMIN, to="a-1")
    desk.resolve(three.id, ADMIN)
    ids = lambda tickets: [t.id for t in tickets]  # noqa: E731 - reads best inline
    assert ids(desk.find(status="new")) == [one.id, two.id]
    assert ids(desk.find(category="solved")) == [three.id]
    assert ids(desk.find(category=["new", "solved"], status="resolved")) == [three.id]
    assert ids(desk.find(assignee="a-1")) == [two.id]
    assert ids(desk.find(department="billing")) == [one.id]
    assert ids(desk.find(requester="ana@example.com")) == [one.id, three.id]
    assert ids(desk.find(tags={"vip"})) == [one.id, three.id]
    assert ids(desk.find(tags={"vip", "billing"})) == [one.id]
    assert ids(desk.find(descending=True, limit=2)) == [three.id, two.id]
    assert ids(desk.find(order_by="resolved_at")) == [three.id, one.id, two.id]


def test_find_refuses_unknown_statuses_categories_and_orders(desk: Helpdesk) -> None:
    with pytest.raises(InvalidInput, match="a status of workflow 'default'"):
        desk.find(status="archived")
    with pytest.raises(InvalidInput, match="category must be one of"):
        desk.find(category="archived")
    with pytest.raises(InvalidInput, match="order_by must be one of created_at"):
        desk.find(order_by="subject")
    with pytest.raises(InvalidInput, match="limit must be None or a whole number"):
        desk.find(limit=-1)


def test_hooks_see_every_commit_in_order(desk: Helpdesk, ticket: Ticket) -> None:
    seen: list[tuple[str, str]] = []
    stop = desk.subscribe(lambda t, e: seen.append((t.status, e.name)))
    desk.reply(ticket.id, AGENT, "hi")
    desk.resolve(ticket.id, ADMIN)
    stop()
    desk.close(ticket.id, ADMIN)
    assert seen == [("answered", "agent_reply"), ("resolved", "resolve")]


def test_a_failing_hook_does_not_undo_the_command_or_stop_the_other_hooks(
    clock: ManualClock,
) -> None:
    seen: list[str] = []

    def broken(_ticket: Ticket, _event: HistoryEvent) -> None:
        raise RuntimeError("mail server down")

    desk = Helpdesk(clock=clock, hooks=[broken, lambda t, e: seen.append(e.name)])
    with pytest.raises(HookFailed, match="committed at version 1, but 1 hook") as failed:
        desk.open(subject="s", description="d", requester=ANA)
    assert seen == ["create"]
    assert desk.get(failed.value.ticket.id).version == 1
    assert isinstance(failed.value.errors[0], RuntimeError)


def test_refused_commands_change_nothing(desk: Helpdesk, ticket: Ticket) -> None:
    before = (desk.get(ticket.id), desk.history(ticket.id))
    for command in (
        lambda: desk.close(ticket.id, ADMIN),
        lambda: desk.purge(ticket.id, ADMIN),
        lambda: desk.reopen(ticket.id, AGENT),
        lambda: desk.note(ticket.id, AGENT, "  "),
        lambda: desk.fire(ticket.id, "resolve", ADMIN, reason="x"),
        lambda: desk.reply(ticket.id, STRANGER, "hi"),
    ):
        with pytest.raises((IllegalTransition, PermissionDenied, InvalidInput)):
            command()
    assert (desk.get(ticket.id), desk.history(ticket.id)) == before


class FlakyStore(MemoryStore):
    """A store where another writer adds a note first, a set number of times."""

    def __init__(self, conflicts: int) -> None:
        super().__init__()
        self.conflicts = conflicts

    def commit(
        self,
        ticket: Ticket,
        event: HistoryEvent,
        expected_version: int,
        ledger: Iterable[LedgerEntry] = (),
        *,
        schedule: Schedule = UNSCHEDULED,
        sla: StoredSLA = NO_SLA,
        figures: Figures | None = None,
    ) -> None:
        if self.conflicts:
            self.conflicts -= 1
            stored = self.get(ticket.id)
            noted, note = Workflow.default().apply(
                stored, "note", ADMIN, stored.updated_at, body="rival"
            )
            super().commit(noted, note, stored.version)
        super().commit(
            ticket,
            event,
            expected_version,
            ledger,
            schedule=schedule,
            sla=sla,
            figures=figures,
        )


def test_a_conflicting_command_is_retried_from_a_fresh_read(clock: ManualClock) -> None:
    desk = Helpdesk(store=FlakyStore(conflicts=2), clock=clock, retries=3)
    ticket = desk.open(subject="s", description="d", requester=ANA)
    resolved = desk.resolve(ticket.id, ADMIN)
    assert [e.name for e in desk.history(ticket.id)] == ["create", "note", "note", "resolve"]
    assert resolved.version == 4


def test_a_command_gives_up_after_its_retries(clock: ManualClock) -> None:
    desk = Helpdesk(store=FlakyStore(conflicts=5), clock=clock, retries=1)
    ticket = desk.open(subject="s", description="d", requester=ANA)
    with pytest.raises(ConcurrencyConflict, match="expected version 2, found 3"):
        desk.resolve(ticket.id, ADMIN)
    assert [e.name for e in desk.history(ticket.id)] == ["create", "note", "note"]


def test_a_retried_command_is_checked_again_against_the_new_state(clock: ManualClock) -> None:
    class ResolvingRival(MemoryStore):
        def __init__(self) -> None:
            super().__init__()
            self.armed = True

        def commit(
            self,
            ticket: Ticket,
            event: HistoryEvent,
            expected_version: int,
            ledger: Iterable[LedgerEntry] = (),
            *,
            schedule: Schedule = UNSCHEDULED,
            sla: StoredSLA = NO_SLA,
            figures: Figures | None = None,
        ) -> None:
            if self.armed and event.name == "close":
                self.armed = False
                Helpdesk(store=self, clock=clock).reopen(ticket.id, ADMIN)
            super().commit(
                ticket,
                event,
                expected_version,
                ledger,
                schedule=schedule,
                sla=sla,
                figures=figures,
            )

    desk = Helpdesk(store=ResolvingRival(), clock=clock)
    ticket = desk.open(subject="s", description="d", requester=ANA)
    desk.resolve(ticket.id, ADMIN)
    with pytest.raises(IllegalTransition, match="in status 'open'"):
        desk.close(ticket.id, ADMIN)


def test_a_clock_behind_the_last_update_records_at_the_last_update(
    ticket: Ticket, store: MemoryStore
) -> None:
    class SkewedClock:
        def now(self) -> datetime:
            return START - timedelta(seconds=5)

    resolved = Helpdesk(store=store, clock=SkewedClock()).resolve(ticket.id, ADMIN)
    assert resolved.updated_at == ticket.updated_at


def test_a_clock_that_returns_a_naive_time_is_refused(store: MemoryStore) -> None:
    class NaiveClock:
        def now(self) -> datetime:
            return datetime(2026, 1, 5)  # noqa: DTZ001 - the point of the test

    with pytest.raises(InvalidInput, match=r"clock.now\(\) must be an aware datetime"):
        Helpdesk(store=store, clock=NaiveClock()).open(subject="s", description="d", requester=ANA)


def test_retries_must_be_a_whole_number() -> None:
    with pytest.raises(InvalidInput, match="retries"):
        Helpdesk(retries=-1)


@pytest.mark.parametrize(
    "command",
    [
        lambda desk, ticket_id: desk.reply(ticket_id, "a-1", "hello"),
        lambda desk, ticket_id: desk.allowed_events(ticket_id, "a-1"),
        lambda desk, ticket_id: desk.open(
            subject="s", description="d", requester=ANA, actor="a-1"
        ),
        lambda desk, ticket_id: desk.resolve(ticket_id, None),
    ],
    ids=["reply", "allowed_events", "open", "resolve"],
)
def test_every_command_refuses_an_actor_that_is_not_an_actor(
    desk: Helpdesk, ticket: Ticket, command: Any
) -> None:
    with pytest.raises(InvalidInput, match=r"actor must be an Actor, such as Actor\.agent"):
        command(desk, ticket.id)
    assert desk.get(ticket.id) == ticket


def test_tags_given_as_a_bare_string_are_refused_not_split_into_letters(
    desk: Helpdesk, ticket: Ticket
) -> None:
    with pytest.raises(InvalidInput, match="tags must be a set of strings"):
        desk.find(tags="billing")
    with pytest.raises(InvalidInput, match="add/remove must be a set of strings"):
        desk.update_tags(ticket.id, AGENT, add="vip")
    assert desk.get(ticket.id) == ticket
