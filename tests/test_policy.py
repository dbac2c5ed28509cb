"""The default permission matrix, cell by cell, and how hosts change it."""

from __future__ import annotations

import attrs
import pytest
from support import ADMIN, ANA, START

from ticketflow import (
    Actor,
    Category,
    Contact,
    InvalidInput,
    PermissionDenied,
    Policy,
    Role,
    Scope,
    Ticket,
    Workflow,
)

POLICY = Policy.default()
EVENTS = (
    "create", "agent_reply", "customer_reply", "note", "assign", "set_priority",
    "set_department", "update_tags", "set_fields", "postpone", "wake", "resolve",
    "close", "reopen", "mark_spam", "delete", "restore", "purge",
)  # fmt: skip

# Written by hand from the issue: what each role may do on a ticket that is its own.
MAY: dict[Role, set[str]] = {
    Role.CUSTOMER: {"create", "customer_reply", "resolve", "close"},
    Role.AGENT: set(EVENTS) - {"customer_reply", "reopen", "purge"},
    Role.ADMIN: set(EVENTS),
    Role.OWNER: set(EVENTS),
    Role.SYSTEM: set(EVENTS),
}
ONLY_OWN = {(Role.AGENT, "resolve"), (Role.AGENT, "close")} | {
    (Role.CUSTOMER, event) for event in MAY[Role.CUSTOMER]
}
ACTORS = {
    Role.CUSTOMER: Actor.customer("ana@example.com"),
    Role.AGENT: Actor.agent("a-1"),
    Role.ADMIN: Actor.admin("ad-1"),
    Role.OWNER: Actor.owner("ow-1"),
    Role.SYSTEM: Actor.system(),
}


def a_ticket(**changes: object) -> Ticket:
    ticket, _ = Workflow.default().create(
        "T-1", ADMIN, START, subject="s", description="d", requester=ANA
    )
    return attrs.evolve(ticket, **changes)


def owned_by(actor: Actor) -> Ticket:
    return a_ticket(assignee=actor.id) if actor.role is not Role.CUSTOMER else a_ticket()


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("event", EVENTS)
def test_each_role_may_fire_exactly_the_events_of_the_default_matrix(
    role: Role, event: str
) -> None:
    actor = ACTORS[role]
    reason = POLICY.denial(owned_by(actor), actor, event, Category.OPEN)
    if event in MAY[role]:
        assert reason is None
    else:
        assert reason == f"the {role.value} role has no grant for {event!r}"


@pytest.mark.parametrize(("role", "event"), sorted(ONLY_OWN, key=str))
def test_own_scoped_grants_refuse_tickets_that_are_not_the_actors(role: Role, event: str) -> None:
    actor = ACTORS[role]
    not_theirs = a_ticket(assignee="a-2", requester=attrs.evolve(ANA, id="someone-else"))
    reason = POLICY.denial(not_theirs, actor, event, Category.OPEN)
    assert reason is not None
    assert ("they requested" if role is Role.CUSTOMER else "assigned to them") in reason


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.AGENT])
def test_on_a_closed_ticket_only_admins_the_owner_and_the_system_go_beyond_reopening(
    role: Role,
) -> None:
    actor = Actor(ACTORS[role].id, role, grants={"delete"})
    reason = POLICY.denial(owned_by(actor), actor, "delete", Category.CLOSED)
    assert reason is not None
    assert "closed and locked" in reason


@pytest.mark.parametrize("role", [Role.ADMIN, Role.OWNER, Role.SYSTEM])
def test_admins_the_owner_and_the_system_may_delete_a_closed_ticket(role: Role) -> None:
    assert POLICY.denial(a_ticket(), ACTORS[role], "delete", Category.CLOSED) is None


def test_an_agent_granted_reopen_may_reopen_a_closed_ticket() -> None:
    trusted = Actor.agent("a-1", grants={"reopen"})
    assert POLICY.denial(a_ticket(), trusted, "reopen", Category.CLOSED) is None
    assert POLICY.denial(a_ticket(), Actor.agent("a-1"), "reopen", Category.CLOSED) is not None


def test_a_customer_may_reply_to_their_closed_ticket_for_the_follow_up() -> None:
    assert (
        POLICY.denial(a_ticket(), ACTORS[Role.CUSTOMER], "customer_reply", Category.CLOSED) is None
    )


def test_a_customer_grant_never_reaches_beyond_their_own_tickets() -> None:
    bold = Actor("bruno@example.com", Role.CUSTOMER, grants={"reopen"})
    assert POLICY.scope(bold, "reopen") is Scope.OWN
    assert POLICY.denial(a_ticket(), bold, "reopen", Category.SOLVED) == (
        "customers act only on tickets they requested"
    )


def test_granting_a_role_returns_a_new_policy_and_leaves_the_old_one_alone() -> None:
    wider = POLICY.grant(Role.AGENT, "reopen")
    assert wider.denial(a_ticket(), Actor.agent("a-1"), "reopen", Category.SOLVED) is None
    assert POLICY.denial(a_ticket(), Actor.agent("a-1"), "reopen", Category.SOLVED) is not None


def test_revoking_a_grant_takes_it_away() -> None:
    narrower = POLICY.revoke("agent", "mark_spam")
    assert narrower.denial(a_ticket(), Actor.agent("a-1"), "mark_spam", Category.OPEN) is not None


def test_revoking_a_grant_the_role_does_not_have_names_the_grants_it_has() -> None:
    with pytest.raises(InvalidInput, match="one of the customer role's grants"):
        POLICY.revoke(Role.CUSTOMER, "purge")


def test_the_owner_keeps_every_permission() -> None:
    with pytest.raises(InvalidInput, match="the owner, who keeps every permission"):
        POLICY.revoke(Role.OWNER, "*")


def test_a_department_scope_covers_the_agents_department_and_their_own_tickets() -> None:
    policy = POLICY.grant(Role.AGENT, "resolve", Scope.DEPARTMENT)
    billing_agent = Actor.agent("a-1", department="billing")
    assert (
        policy.denial(a_ticket(department="billing"), billing_agent, "resolve", Category.OPEN)
        is None
    )
    assert policy.denial(a_ticket(assignee="a-1"), billing_agent, "resolve", Category.OPEN) is None
    reason = policy.denial(a_ticket(department="it"), billing_agent, "resolve", Category.OPEN)
    assert reason == "'resolve' is granted only in department 'billing' (the ticket is in 'it')"


def test_an_unknown_role_or_scope_is_refused_with_the_choices() -> None:
    with pytest.raises(InvalidInput, match="role must be one of 'customer'"):
        POLICY.grant("janitor", "purge")
    with pytest.raises(InvalidInput, match="scope must be one of 'all', 'department', 'own'"):
        POLICY.grant(Role.AGENT, "purge", "mine")


def test_the_matrix_renders_as_a_markdown_table() -> None:
    table = POLICY.to_markdown(["resolve", "purge"])
    assert "| `resolve` | own | own | all | all | all |" in table
    assert "| `purge` | — | — | all | all | all |" in table


def test_lock_override_and_unlocking_take_names_and_refuse_a_bare_string() -> None:
    policy = Policy(lock_override={"owner"}, unlocking=["reopen"])
    assert policy.lock_override == {Role.OWNER}
    assert policy.unlocking == {"reopen"}
    with pytest.raises(InvalidInput, match="lock_override must be one of"):
        Policy(lock_override={"boss"})
    with pytest.raises(InvalidInput, match="unlocking must be a set of event names"):
        Policy(unlocking="reopen")


def test_a_customer_granted_an_event_everywhere_still_acts_only_on_their_own_tickets() -> None:
    policy = Policy.default().grant("customer", "reopen", "all")
    others = a_ticket(requester=Contact(name="Bruno", email="bruno@example.com"))
    with pytest.raises(PermissionDenied, match="customers act only on tickets they requested"):
        policy.check(others, Actor.customer(ANA.id), "reopen", Category.SOLVED)
    policy.check(a_ticket(), Actor.customer(ANA.id), "reopen", Category.SOLVED)
