"""Merging: the source leaves the queues, the target records it, both or neither, no chains."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pgserver import new_tenant, scratch_database
from support import ADMIN, AGENT, ANA, CUSTOMER, START

from ticketflow import (
    Actor,
    Contact,
    Helpdesk,
    HistoryEvent,
    HookFailed,
    IllegalTransition,
    InvalidInput,
    InvalidWorkflow,
    ManualClock,
    MergeRefused,
    PermissionDenied,
    Policy,
    Scope,
    Ticket,
    Workflow,
    replay,
)
from ticketflow.rules import Action, InStatus, Rule
from ticketflow.storage import MemoryStore, PostgresStore, Store
from ticketflow.testing import check_history

BO = Contact(name="Bo Berg", email="bo@example.com")


def two(desk: Helpdesk) -> tuple[Ticket, Ticket]:
    target = desk.open(subject="Mail is slow", description="Since Monday.", requester=ANA)
    source = desk.open(subject="Slow mail", description="Takes minutes.", requester=BO)
    return source, target


def test_the_source_is_merged_and_the_target_records_what_came_in(any_store: Store) -> None:
    desk = Helpdesk(any_store, ManualClock(START))
    source, target = two(desk)
    after = desk.merge(source.id, AGENT, into=target.id, body="Same outage.")
    merged = desk.get(source.id)
    assert (merged.status, merged.fields["ticketflow:merged_into"]) == ("merged", target.id)
    assert merged.closed_at == START
    last = desk.history(source.id)[-1]
    assert (last.name, last.from_status, last.body) == ("merge", "new", "Same outage.")
    assert after == desk.get(target.id)
    assert (after.status, after.version) == ("new", target.version + 1)
    assert after.fields["ticketflow:merged_from"] == (source.id,)
    assert after.fields["ticketflow:requesters"] == (BO.id,)
    taken = desk.history(target.id)[-1]
    assert taken.name == "merge_in"
    assert taken.body == (
        "Merged T-2 from Bo Berg <bo@example.com> (bo@example.com): Slow mail\n\nTakes minutes."
    )
    for ticket_id in (source.id, target.id):
        assert replay(desk.history(ticket_id)) == desk.get(ticket_id)
        check_history(desk.workflow, desk.get(ticket_id), desk.history(ticket_id))


def test_a_merged_ticket_leaves_every_queue(desk: Helpdesk) -> None:
    source, target = two(desk)
    desk.merge(source.id, AGENT, into=target.id)
    assert [t.id for t in desk.find(category=["new", "open", "pending", "on_hold"])] == [target.id]
    assert [entry.ticket.id for entry in desk.queue()] == [target.id]
    assert [t.id for t in desk.find(category="closed")] == [source.id]
    assert desk.allowed_events(source.id, ADMIN) == []


def test_several_tickets_merge_into_one_and_each_requester_is_linked_once(
    desk: Helpdesk,
) -> None:
    source, target = two(desk)
    again = desk.open(subject="Slow", description="Me too.", requester=BO)
    own = desk.open(subject="Slow", description="And me.", requester=ANA)
    for ticket in (source, again, own):
        desk.merge(ticket.id, AGENT, into=target.id)
    taken = desk.get(target.id)
    assert taken.fields["ticketflow:merged_from"] == (source.id, again.id, own.id)
    assert taken.fields["ticketflow:requesters"] == (BO.id,)


def test_the_merged_requester_shares_the_target_and_replies_reach_it(desk: Helpdesk) -> None:
    source, target = two(desk)
    desk.merge(source.id, AGENT, into=target.id)
    bo = Actor.customer(BO.id)
    desk.reply(target.id, AGENT, "Looking into it.")
    assert desk.reply(source.id, bo, "Any news?").id == target.id
    assert desk.history(target.id)[-1].actor == bo
    assert desk.reply(target.id, bo, "Thanks.").status == "open"
    with pytest.raises(PermissionDenied):
        desk.reply(target.id, Actor.customer("carl@example.com"), "Me?")


@pytest.mark.parametrize("gone", ["closed", "purged"])
def test_a_reply_to_a_merged_ticket_whose_target_is_closed_or_gone_opens_a_follow_up(
    desk: Helpdesk, gone: str
) -> None:
    source, target = two(desk)
    desk.merge(source.id, AGENT, into=target.id)
    retire(desk, target.id, gone)
    follow_up = desk.reply(source.id, Actor.customer(BO.id), "It is slow again.")
    assert (follow_up.parent_id, follow_up.requester) == (source.id, BO)
    assert "ticketflow:merged_into" not in follow_up.fields


def test_a_resolved_ticket_can_be_merged(desk: Helpdesk) -> None:
    source, target = two(desk)
    desk.resolve(source.id, ADMIN)
    desk.merge(source.id, ADMIN, into=target.id)
    assert desk.get(source.id).status == "merged"
    check_history(desk.workflow, desk.get(source.id), desk.history(source.id))


def test_a_ticket_cannot_be_merged_into_itself(desk: Helpdesk, ticket: Ticket) -> None:
    with pytest.raises(MergeRefused, match="into itself") as refused:
        desk.merge(ticket.id, AGENT, into=ticket.id)
    assert (refused.value.source, refused.value.target) == (ticket.id, ticket.id)
    assert isinstance(refused.value, ValueError)


def test_a_merged_ticket_cannot_be_merged_into_and_cycles_are_refused(desk: Helpdesk) -> None:
    source, target = two(desk)
    third = desk.open(subject="Slow", description="Also.", requester=ANA)
    desk.merge(source.id, AGENT, into=target.id)
    with pytest.raises(MergeRefused, match="T-2 was itself merged into T-1"):
        desk.merge(third.id, AGENT, into=source.id)
    with pytest.raises(MergeRefused, match="T-2 was itself merged into T-1"):
        desk.merge(target.id, AGENT, into=source.id)  # the cycle back
    assert desk.get(third.id).status == "new"


def test_a_ticket_others_were_merged_into_cannot_be_merged_so_merges_never_chain(
    desk: Helpdesk,
) -> None:
    source, target = two(desk)
    third = desk.open(subject="Slow", description="Also.", requester=ANA)
    desk.merge(source.id, AGENT, into=target.id)
    before = desk.get(third.id), desk.get(target.id)
    with pytest.raises(MergeRefused, match=r"T-1 has tickets merged into it \(T-2\)"):
        desk.merge(target.id, AGENT, into=third.id)
    assert (desk.get(third.id), desk.get(target.id)) == before


def test_a_purged_target_is_refused(desk: Helpdesk) -> None:
    source, target = two(desk)
    retire(desk, target.id, "purged")
    with pytest.raises(MergeRefused, match="no such ticket to merge into"):
        desk.merge(source.id, AGENT, into=target.id)
    with pytest.raises(MergeRefused, match="no such ticket"):
        desk.merge(source.id, AGENT, into="T-99")
    assert desk.get(source.id).status == "new"


def retire(desk: Helpdesk, ticket_id: str, how: str) -> None:
    """Take the ticket out of the work: ``closed``, ``spam``, ``deleted`` or ``purged``."""
    if how == "closed":
        desk.resolve(ticket_id, ADMIN)
        desk.close(ticket_id, ADMIN)
    elif how == "spam":
        desk.mark_spam(ticket_id, ADMIN)
    else:
        desk.delete(ticket_id, ADMIN)
        if how == "purged":
            desk.purge(ticket_id, ADMIN)


@pytest.mark.parametrize("how", ["spam", "closed"])
def test_a_removed_or_closed_target_takes_nothing_in(desk: Helpdesk, how: str) -> None:
    source, target = two(desk)
    retire(desk, target.id, how)
    with pytest.raises(MergeRefused, match="it takes nothing in"):
        desk.merge(source.id, ADMIN, into=target.id)
    assert len(desk.history(source.id)) == 1


@pytest.mark.parametrize("how", ["closed", "deleted"])
def test_the_workflow_refuses_a_closed_or_removed_source(desk: Helpdesk, how: str) -> None:
    source, target = two(desk)
    retire(desk, source.id, how)
    with pytest.raises(IllegalTransition) as refused:
        desk.merge(source.id, ADMIN, into=target.id)
    assert refused.value.event == "merge"
    assert len(desk.history(target.id)) == 1


def test_customers_may_not_merge(desk: Helpdesk) -> None:
    source, target = two(desk)
    with pytest.raises(PermissionDenied, match="'merge'"):
        desk.merge(target.id, CUSTOMER, into=source.id)


def own_scope(store: Store) -> tuple[Helpdesk, Ticket, Ticket]:
    """A desk whose agents merge only their own tickets; AGENT has the source, not the target."""
    policy = Policy.default().grant("agent", "merge", Scope.OWN)
    desk = Helpdesk(store, ManualClock(START), policy=policy)
    source, target = two(desk)
    desk.assign(source.id, ADMIN, to=AGENT.id)
    return desk, source, target


def test_the_merge_grant_is_needed_on_both_and_a_refusal_on_the_target_undoes_the_source(
    any_store: Store,
) -> None:
    desk, source, target = own_scope(any_store)
    before = {t: (desk.get(t), desk.history(t)) for t in (source.id, target.id)}
    with pytest.raises(PermissionDenied, match="granted only on tickets assigned to them"):
        desk.merge(source.id, AGENT, into=target.id)
    assert {t: (desk.get(t), desk.history(t)) for t in before} == before
    desk.assign(target.id, ADMIN, to=AGENT.id)
    assert desk.merge(source.id, AGENT, into=target.id).version == before[target.id][0].version + 2


def test_firing_merge_directly_is_refused_since_the_target_would_not_know(
    desk: Helpdesk,
) -> None:
    source, target = two(desk)
    with pytest.raises(InvalidInput, match=r"Helpdesk\.merge"):
        desk.fire(source.id, "merge", ADMIN, into=target.id)
    assert desk.get(source.id).status == "new"


def test_a_rule_may_not_merge_since_the_target_would_not_know() -> None:
    rule = Rule("fold", InStatus("new"), Action("merge", {"into": "T-1"}))
    with pytest.raises(InvalidInput, match=r"only Helpdesk\.merge makes"):
        Helpdesk(rules=[rule])


@pytest.mark.parametrize("bad", [["T-1"], 1, None, b"T-1"])
def test_every_command_after_the_work_names_a_ticket_id_that_is_not_a_string(
    desk: Helpdesk, bad: object
) -> None:
    desk.open(subject="VPN", description="d", requester=ANA)
    calls = [
        lambda: desk.rate(bad, CUSTOMER, "good"),  # type: ignore[arg-type]
        lambda: desk.rating(bad),  # type: ignore[arg-type]
        lambda: desk.review(bad, AGENT, solution="x"),  # type: ignore[arg-type]
        lambda: desk.reviews(bad),  # type: ignore[arg-type]
        lambda: desk.merge(bad, AGENT, into="T-1"),  # type: ignore[arg-type]
    ]
    for call in calls:
        with pytest.raises(InvalidInput, match="ticket_id must be a ticket id"):
            call()
    with pytest.raises(InvalidInput, match="into must be a ticket id"):
        desk.merge("T-1", AGENT, into=bad)  # type: ignore[arg-type]


def test_merge_checks_its_arguments(desk: Helpdesk) -> None:
    source, target = two(desk)
    with pytest.raises(InvalidInput, match="into"):
        desk.merge(source.id, AGENT, into=7)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="actor"):
        desk.merge(source.id, "a-1", into=target.id)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="body"):
        desk.merge(source.id, AGENT, into=target.id, body="")


def test_hooks_see_both_commits_after_the_transaction(desk: Helpdesk) -> None:
    seen: list[tuple[str, str]] = []

    def hook(ticket: Ticket, event: HistoryEvent) -> None:
        seen.append((ticket.id, event.name))
        if event.name == "merge_in":
            raise RuntimeError("mail server down")

    desk.subscribe(hook)
    source, target = two(desk)
    with pytest.raises(HookFailed, match="mail server down") as failed:
        desk.merge(source.id, AGENT, into=target.id)
    assert seen[-2:] == [(source.id, "merge"), (target.id, "merge_in")]
    assert failed.value.result == desk.get(target.id)
    assert desk.get(source.id).status == "merged"


def test_a_merged_ticket_cannot_be_rated(desk: Helpdesk) -> None:
    source, target = two(desk)
    desk.resolve(source.id, ADMIN)
    desk.merge(source.id, ADMIN, into=target.id)
    with pytest.raises(IllegalTransition, match="merged into 'T-1'; rate that ticket"):
        desk.rate(source.id, Actor.customer(BO.id), "good")


def test_a_workflow_without_merge_refuses_merges() -> None:
    data = Workflow.default().to_dict()
    data["transitions"] = [row for row in data["transitions"] if row["event"] != "merge"]
    data["statuses"] = [status for status in data["statuses"] if status["name"] != "merged"]
    data["final"] = ["purged"]
    desk = Helpdesk(workflow=Workflow.from_dict({**data, "name": "no_merge"}))
    source, target = two(desk)
    with pytest.raises(IllegalTransition, match="has no such event"):
        desk.merge(source.id, ADMIN, into=target.id)


def custom(merge_to: str = "folded", final: tuple[str, ...] = ("folded",)) -> dict[str, Any]:
    """A workflow of its own whose ``merge`` leads to ``merge_to``."""
    exits = [] if "folded" in final else [{"event": "reopen", "from": "folded", "to": "todo"}]
    return {
        "name": "custom",
        "initial": "todo",
        "final": list(final),
        "statuses": [
            {"name": "todo", "category": "new"},
            {"name": "done", "category": "solved"},
            {"name": "archived", "category": "closed"},
            {"name": "folded", "category": "closed"},
        ],
        "transitions": [
            {"event": "resolve", "from": "todo", "to": "done"},
            {"event": "close", "from": "done", "to": "archived"},
            {"event": "reopen", "from": ["done", "archived"], "to": "todo"},
            {"event": "merge", "from": ["todo", "done"], "to": merge_to},
            *exits,
        ],
    }


@pytest.mark.parametrize(
    ("merge_to", "final", "problem"),
    [
        ("folded", (), "'folded' is 'closed' and not final"),
        ("done", ("folded",), "'done' is 'solved'"),
    ],
)
def test_a_merge_must_lead_to_a_final_closed_status(
    merge_to: str, final: tuple[str, ...], problem: str
) -> None:
    with pytest.raises(InvalidWorkflow, match=problem):
        Workflow.from_dict(custom(merge_to, final))


def test_a_custom_workflow_with_its_own_merged_status_merges() -> None:
    desk = Helpdesk(workflow=Workflow.from_dict(custom()))
    source, target = two(desk)
    desk.merge(source.id, ADMIN, into=target.id)
    assert desk.get(source.id).status == "folded"
    check_history(desk.workflow, desk.get(source.id), desk.history(source.id))


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresStore]:
    with scratch_database() as dsn, PostgresStore(dsn, tenant=new_tenant()) as store:
        store.migrate()
        yield store


def test_on_postgresql_a_merge_commits_both_or_neither_and_ratings_round_trip(
    postgres: PostgresStore,
) -> None:
    desk, source, target = own_scope(postgres)
    with pytest.raises(PermissionDenied):
        desk.merge(source.id, AGENT, into=target.id)
    assert [len(desk.history(t.id)) for t in (source, target)] == [2, 1]
    taken = desk.merge(source.id, ADMIN, into=target.id)
    assert desk.get(target.id) == taken
    assert taken.fields["ticketflow:merged_from"] == (source.id,)
    desk.resolve(target.id, ADMIN)
    desk.rate(target.id, Actor.customer(BO.id), "bad", comment="Slow fix.")
    for ticket_id in (source.id, target.id):
        assert replay(desk.history(ticket_id)) == desk.get(ticket_id)
    rating = desk.rating(target.id)
    assert rating is not None
    assert (rating.score, rating.comment) == ("bad", "Slow fix.")


@given(
    merges=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=1, max_size=8),
    resolved=st.sets(st.integers(0, 3)),
)
def test_any_sequence_of_merges_keeps_the_laws_never_chains_and_replays_exactly(
    merges: list[tuple[int, int]], resolved: set[int]
) -> None:
    desk = Helpdesk(MemoryStore(), ManualClock(START), rules=())
    ids = [
        desk.open(subject=f"Issue {n}", description="Help.", requester=ANA if n % 2 else BO).id
        for n in range(4)
    ]
    for n in resolved:
        desk.resolve(ids[n], ADMIN)
    for source, target in merges:
        before = {ticket_id: desk.history(ticket_id) for ticket_id in ids}
        try:
            desk.merge(ids[source], ADMIN, into=ids[target])
        except (MergeRefused, IllegalTransition):
            assert {ticket_id: desk.history(ticket_id) for ticket_id in ids} == before
            continue
        assert len(desk.history(ids[source])) == len(before[ids[source]]) + 1
        assert len(desk.history(ids[target])) == len(before[ids[target]]) + 1
    for ticket_id in ids:
        ticket, history = desk.get(ticket_id), desk.history(ticket_id)
        check_history(desk.workflow, ticket, history)
        into = ticket.fields.get("ticketflow:merged_into")
        if into is not None:
            target = desk.get(str(into))
            assert "ticketflow:merged_into" not in target.fields  # one step, never a chain
            assert ticket_id in target.fields["ticketflow:merged_from"]
            assert "ticketflow:merged_from" not in ticket.fields
