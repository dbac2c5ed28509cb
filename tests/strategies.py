"""Hypothesis strategies for ticketflow's values and commands, in one place."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import strategies as st

from ticketflow import Actor, Contact, Priority

CUSTOMER_IDS = ("ana@example.com", "bruno@example.com")
AGENT_IDS = ("a-1", "a-2")

contacts = st.sampled_from(
    [Contact(name="Ana", email=CUSTOMER_IDS[0]), Contact(name="Bruno", email=CUSTOMER_IDS[1])]
)

actors = st.one_of(
    st.sampled_from([Actor.customer(cid) for cid in CUSTOMER_IDS]),
    st.sampled_from(
        [
            Actor.agent("a-1", department="billing"),
            Actor.agent("a-2", department="it", grants={"reopen"}),
        ]
    ),
    st.sampled_from([Actor.admin("ad-1"), Actor.owner("ow-1"), Actor.system()]),
)

bodies = st.text(alphabet="abc xyz.!", min_size=1, max_size=20).filter(str.strip)
tags = st.frozensets(st.sampled_from(["billing", "vpn", "urgent", "vip"]), max_size=3)
clock_jumps = st.one_of(
    st.just(timedelta(0)),
    st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=10)),
)

EVENTS = (
    "agent_reply", "customer_reply", "postpone", "wake", "resolve", "close", "reopen",
    "mark_spam", "delete", "restore", "purge",
    "note", "assign", "set_priority", "set_department", "update_tags", "set_fields",
)  # fmt: skip


UPDATES = frozenset(
    {"note", "assign", "set_priority", "set_department", "update_tags", "set_fields"}
)


@st.composite
def payloads(draw: st.DrawFn, event: str) -> dict[str, Any]:  # noqa: PLR0911 - one return per event kind
    """A payload that fits ``event`` (so refusals come from the lifecycle, not typos)."""
    body = draw(bodies)
    if event in ("agent_reply", "customer_reply", "note"):
        return {"body": body}
    if event == "postpone":
        return {
            "until": draw(st.timedeltas(min_value=timedelta(hours=1), max_value=timedelta(days=5)))
        }
    if event == "assign":
        return {"to": draw(st.sampled_from([None, *AGENT_IDS]))}
    if event == "set_priority":
        return {"priority": draw(st.sampled_from(list(Priority)))}
    if event == "set_department":
        return {"department": draw(st.sampled_from([None, "billing", "it"]))}
    if event == "update_tags":
        return {"add": draw(tags.filter(bool))}
    if event == "set_fields":
        return {"fields": {"plan": draw(st.sampled_from(["free", "pro"]))}}
    return draw(st.sampled_from([{}, {"body": body}]))
