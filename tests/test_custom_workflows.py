"""Custom workflows in code: extending the default lifecycle, drawing, and the graph command."""

from __future__ import annotations

import json
import subprocess
import sys
import unicodedata
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from ticketflow import (
    Actor,
    Category,
    Contact,
    DefaultLifecycle,
    InvalidWorkflow,
    TicketState,
    Transition,
    Workflow,
)
from ticketflow._status import is_name
from ticketflow.cli import main

WORKFLOWS = Path(__file__).resolve().parent.parent / "examples" / "workflows"
PRISTINE = Workflow.default().to_dict()


def test_extending_the_default_lifecycle_leaves_the_default_workflow_as_it_was() -> None:
    class Escalating(DefaultLifecycle):
        escalated = TicketState(Category.OPEN, label="Escalated")
        escalate = DefaultLifecycle.open.to(escalated)
        de_escalate = escalated.to(DefaultLifecycle.open)
        escalated.to(DefaultLifecycle.resolved, event="resolve")

    class Parked(DefaultLifecycle):
        parked = TicketState(Category.ON_HOLD, sla_paused=True)
        park = DefaultLifecycle.open.to(parked)
        unpark = parked.to(DefaultLifecycle.open)

    escalating = Workflow.from_statemachine(Escalating)
    parked = Workflow.from_statemachine(Parked)
    assert Workflow.default().to_dict() == PRISTINE
    assert {"escalate", "de_escalate"} <= escalating.events
    assert "park" not in escalating.events
    assert "escalated" not in parked.statuses
    at = datetime(2026, 1, 5, 9, tzinfo=UTC)
    ticket, _ = escalating.create(
        "T-1", Actor.system(), at, subject="s", description="d", requester=ANA
    )
    for event in ("agent_reply", "customer_reply", "escalate"):
        ticket, _ = escalating.apply(ticket, event, Actor.system(), at, body="b")
    assert ticket.status == "escalated"
    assert {"de_escalate", "resolve"} <= set(escalating.allowed(ticket, Actor.system(), at))
    assert escalating.apply(ticket, "resolve", Actor.system(), at)[0].status == "resolved"


ANA = Contact(name="Ana", email="ana@example.com")


def test_dot_marks_solved_closed_removed_and_sla_paused_statuses() -> None:
    dot = Workflow.from_file(WORKFLOWS / "it_service_desk.toml").to_dot()
    assert dot.startswith('digraph "it_service_desk" {\n')
    assert dot.endswith("}\n")
    assert '"resolved" [label="Resolved\\n(solved)", shape=doubleoctagon];' in dot
    assert '"closed" [label="Closed\\n(closed)", shape=doublecircle];' in dot
    assert '"spam" [label="Spam\\n(removed)", shape=box];' in dot
    assert '"waiting_on_vendor" [label="Waiting on vendor\\n(on_hold)", style=dashed];' in dot
    assert '"resolved" -> "open" [label="customer_reply [reply_reopens], reopen"];' in dot
    assert '"[*]" -> "new";' in dot


def test_dot_escapes_quotes_in_labels() -> None:
    data = Workflow.from_file(WORKFLOWS / "minimal.json").to_dict()
    data["statuses"][0]["label"] = 'The "inbox"'
    assert '"todo" [label="The \\"inbox\\"\\n(new)"];' in Workflow.from_dict(data).to_dot()


@pytest.mark.parametrize(
    ("fmt", "method"), [("mermaid", "to_mermaid"), ("dot", "to_dot"), ("markdown", "to_markdown")]
)
def test_graph_draws_the_default_workflow_in_each_format(
    fmt: str, method: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["graph", "--format", fmt]) == 0
    assert capsys.readouterr().out == getattr(Workflow.default(), method)()


def test_graph_draws_a_workflow_file_mermaid_by_default(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["graph", str(WORKFLOWS / "minimal.json")]) == 0
    assert capsys.readouterr().out == Workflow.from_file(WORKFLOWS / "minimal.json").to_mermaid()


def test_graph_draws_host_guards_by_name_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = Workflow.from_file(WORKFLOWS / "minimal.json").to_dict()
    data["transitions"][2]["cond"] = ["manager_signed"]
    path = tmp_path / "signed.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert main(["graph", "--format", "markdown", str(path)]) == 0
    out, err = capsys.readouterr()
    assert "| `close` | fixed → done if manager_signed |" in out
    assert err == "note: guards manager_signed are not built in; drawn by name only\n"


def test_graph_reports_a_bad_file_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text('name = "x"\ninitial = \n', encoding="utf-8")
    assert main(["graph", str(broken)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("ticketflow graph: workflow 'broken.toml' is invalid (1 problem): ")
    assert err.count("\n") == 1
    assert main(["graph", str(tmp_path / "missing.json")]) == 2
    assert "path must be an existing .toml or .json file" in capsys.readouterr().err


def test_graph_runs_as_a_module_from_the_command_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ticketflow", "graph", "--format", "dot"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == Workflow.default().to_dot()


def test_sibling_extensions_may_name_their_own_states_alike() -> None:
    def extension() -> type[DefaultLifecycle]:
        class Vendor(DefaultLifecycle):
            waiting_on_vendor = TicketState(Category.ON_HOLD, sla_paused=True)
            wait_for_vendor = DefaultLifecycle.open.to(waiting_on_vendor)
            vendor_replied = waiting_on_vendor.to(DefaultLifecycle.open)

        return Vendor

    first, second = extension(), extension()
    for machine in (first, second):
        workflow = Workflow.from_statemachine(machine)
        rows = [row for row in workflow.transitions if row.event == "wait_for_vendor"]
        assert len(rows) == 1
    assert Workflow.default().to_dict() == PRISTINE


def test_event_names_declared_in_code_follow_the_rule_of_status_names() -> None:
    class Shouting(DefaultLifecycle):
        escalated = TicketState(Category.OPEN)
        Escalate = DefaultLifecycle.open.to(escalated)
        escalated.to(DefaultLifecycle.resolved, event="resolve!")

    with pytest.raises(InvalidWorkflow) as refused:
        Workflow.from_statemachine(Shouting)
    assert refused.value.problems == (
        "transition 'Escalate' from 'open' to 'escalated': the event name must be "
        "a lower-case identifier such as 'waiting_on_vendor', got 'Escalate'",
        "transition 'resolve!' from 'escalated' to 'resolved': the event name must be "
        "a lower-case identifier such as 'waiting_on_vendor', got 'resolve!'",
    )


def test_the_workflow_constructor_checks_event_names_with_the_same_rule() -> None:
    minimal = Workflow.from_file(WORKFLOWS / "minimal.json")
    rows = [*minimal.transitions, Transition("Fast Close", "todo", "fixed")]
    with pytest.raises(InvalidWorkflow, match="the event name must be a lower-case identifier"):
        Workflow("m", minimal.statuses.values(), minimal.initial, rows, final=minimal.final)
    assert is_name("fast_close")
    assert not is_name("Fast Close")


def test_mermaid_escapes_what_would_end_a_label() -> None:
    data = Workflow.from_file(WORKFLOWS / "minimal.json").to_dict()
    data["statuses"][0]["label"] = 'The "inbox"; #1: new\nline'
    data["transitions"][0]["cond"] = ["signed: yes; #quot;"]
    drawn = Workflow.from_dict(data, guards={"signed: yes; #quot;": _always}).to_mermaid()
    assert '    state "The #quot;inbox#quot;#59; #1#58; new#10;line (new)" as todo\n' in drawn
    assert "    todo --> fixed : resolve [signed#58; yes#59; #quot#59;]\n" in drawn
    plain = Workflow.from_dict(_plain(data)).to_mermaid()
    assert len(drawn.splitlines()) == len(plain.splitlines())


def _always(_ticket: object, _actor: object, _payload: object) -> bool:
    return True


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    data = json.loads(json.dumps(data))
    data["statuses"][0]["label"] = "Plain"
    del data["transitions"][0]["cond"]
    return data


@given(label=st.text(), guard=st.text(min_size=1))
@example(label='a\u2028b\x85c"d;e:f#g', guard="x\u2029y|z\n")
def test_every_drawing_keeps_any_label_and_guard_name_on_its_own_line(
    label: str, guard: str
) -> None:
    minimal = Workflow.from_file(WORKFLOWS / "minimal.json")
    statuses = [attrs.evolve(minimal.statuses["todo"], label=label), *minimal.statuses.values()]
    rows = [attrs.evolve(minimal.transitions[0], guards=((guard, True),)), *minimal.transitions]
    drawn = Workflow(
        "m",
        statuses[:1] + statuses[2:],
        "todo",
        rows[:1] + rows[2:],
        guards={guard: _always},
        final=minimal.final,
    )
    for draw in ("to_mermaid", "to_dot", "to_markdown"):
        text = getattr(drawn, draw)()
        assert len(text.splitlines()) == len(getattr(minimal, draw)().splitlines())
        assert not any(unicodedata.category(char) == "Cc" for char in text.replace("\n", ""))
