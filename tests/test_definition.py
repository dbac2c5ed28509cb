"""Workflows as data: dicts, TOML and JSON files, every problem reported with where it is."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ticketflow import (
    Actor,
    InvalidInput,
    InvalidWorkflow,
    Status,
    Ticket,
    Transition,
    Workflow,
    builtin_guards,
)

WORKFLOWS = Path(__file__).resolve().parent.parent / "examples" / "workflows"


def tiny(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "tiny",
        "initial": "new",
        "statuses": [
            {"name": "new", "category": "new"},
            {"name": "done", "category": "solved", "label": "Done!"},
            {"name": "archived", "category": "closed"},
        ],
        "transitions": [
            {"event": "resolve", "from": "new", "to": "done"},
            {"event": "close", "from": "done", "to": "archived"},
            {"event": "reopen", "from": ["done", "archived"], "to": "new"},
        ],
    }
    data.update(changes)
    return data


def problems_of(data: object, **options: Any) -> list[str]:
    with pytest.raises(InvalidWorkflow) as rejected:
        Workflow.from_dict(data, **options)
    return list(rejected.value.problems)


def test_a_dict_builds_the_workflow_it_describes() -> None:
    workflow = Workflow.from_dict(tiny())
    assert workflow.name == "tiny"
    assert workflow.initial == "new"
    assert workflow.statuses["done"] == Status("done", "solved", label="Done!")
    assert workflow.statuses["archived"].label == "Archived"
    assert workflow.transitions == (
        Transition("resolve", "new", "done"),
        Transition("close", "done", "archived"),
        Transition("reopen", "done", "new"),
        Transition("reopen", "archived", "new"),
    )


@pytest.mark.parametrize(
    "workflow",
    [
        Workflow.default(),
        Workflow.from_file(WORKFLOWS / "it_service_desk.toml"),
        Workflow.from_file(WORKFLOWS / "minimal.json"),
    ],
    ids=lambda workflow: workflow.name,
)
def test_to_dict_reads_back_into_the_same_workflow_even_through_json(workflow: Workflow) -> None:
    again = Workflow.from_dict(json.loads(json.dumps(workflow.to_dict())))
    assert again.statuses == workflow.statuses
    assert again.transitions == workflow.transitions
    assert (again.name, again.initial, again.final) == (
        workflow.name,
        workflow.initial,
        workflow.final,
    )


def test_guards_are_written_as_cond_and_unless_names() -> None:
    data = tiny()
    data["transitions"][0] = {
        "event": "resolve",
        "from": "new",
        "to": "done",
        "cond": "never_answered",
        "unless": ["reply_reopens"],
    }
    workflow = Workflow.from_dict(data)
    assert workflow.transitions[0].guards == (("never_answered", True), ("reply_reopens", False))
    assert workflow.to_dict()["transitions"][0] == {
        "event": "resolve",
        "from": "new",
        "to": "done",
        "cond": ["never_answered"],
        "unless": ["reply_reopens"],
    }


def test_host_guards_are_resolved_by_name_and_replace_built_in_ones() -> None:
    def vip(ticket: Ticket, _actor: Actor, _payload: object) -> bool:
        return "vip" in ticket.tags

    data = tiny()
    data["transitions"][1]["cond"] = ["vip"]
    assert "guard 'vip' is not among the guards given" in problems_of(data)[0]
    assert Workflow.from_dict(data, guards={"vip": vip}).transitions[1].guards == (("vip", True),)
    assert set(builtin_guards()) == {"never_answered", "reply_reopens", "within_reopen_window"}


def test_extends_default_starts_from_the_default_lifecycle() -> None:
    workflow = Workflow.from_file(WORKFLOWS / "it_service_desk.toml")
    default = Workflow.default()
    assert list(workflow.statuses)[: len(default.statuses)] == list(default.statuses)
    assert workflow.transitions[: len(default.transitions)] == default.transitions
    assert workflow.statuses["waiting_on_vendor"].sla_paused
    assert workflow.initial == "new"
    assert workflow.final == {"purged"}


def test_every_shape_problem_is_listed_with_the_key_it_is_at() -> None:
    data = tiny(extends="jira", colour="blue")
    data["statuses"] = [
        {"name": "new", "category": "fresh"},
        {"name": "Done Now", "category": "solved", "sla_paused": "yes", "label": ""},
        "archived",
    ]
    data["transitions"] = [{"event": "resolve", "form": "new", "to": ""}, {"from": []}]
    problems = problems_of(data)
    assert problems == [
        "workflow: unknown key 'colour'; expected among name, extends, initial, final, "
        "statuses, transitions",
        "extends: expected one of default, got 'jira'",
        "statuses: expected a list of tables, got "
        "[{'name': 'new', 'category': 'fresh'}, {'name': 'Done Now', 'category': 'solved', "
        "'sla_paused': 'yes', 'label': ''}, 'archived']",
        "transitions[0]: unknown key 'form'; expected among event, from, to, cond, unless",
        "transitions[0].from: missing; expected a status or a list of them",
        "transitions[0].to: expected a non-empty string, got ''",
        "transitions[1].event: missing; expected a non-empty string",
        "transitions[1].from: missing; expected a status or a list of them",
        "transitions[1].to: missing; expected a non-empty string",
    ]


def test_each_status_entry_is_checked_field_by_field() -> None:
    data = tiny()
    data["statuses"] = [
        {"name": "new", "category": "fresh"},
        {"name": "Done Now", "category": "solved"},
        {"name": "archived", "category": "closed", "sla_paused": "yes", "label": 3},
    ]
    assert problems_of(data) == [
        "statuses[0].category: expected one of new, open, pending, on_hold, solved, closed, "
        "removed, got 'fresh'",
        "statuses[1].name: expected a lower-case identifier such as 'waiting_on_vendor', "
        "got 'Done Now'",
        "statuses[2].label: expected a non-empty string, got 3",
        "statuses[2].sla_paused: expected true or false, got 'yes'",
    ]


def test_the_laws_are_checked_after_the_shape_naming_the_status_or_transition() -> None:
    data = tiny(initial="done")
    data["statuses"].append({"name": "done", "category": "open"})
    data["transitions"] += [
        {"event": "close", "from": "new", "to": "archived"},
        {"event": "resolve", "from": "new", "to": "done"},
        {"event": "create", "from": "new", "to": "done"},
    ]
    problems = "\n".join(problems_of(data))
    for expected in (
        "status 'done' is declared twice",
        "the initial status 'done' has category 'open'; expected 'new'",
        "transition 'close' from 'new' to 'archived': a closed status can be entered only "
        "from a solved one",
        "transition 'resolve' from 'new' to 'done' is declared twice",
        "the event name 'create' is reserved",
    ):
        assert expected in problems


def test_entering_a_closed_status_from_another_closed_one_is_refused() -> None:
    data = tiny()
    data["statuses"].append({"name": "archived_forever", "category": "closed"})
    data["transitions"].append({"event": "archive", "from": "archived", "to": "archived_forever"})
    data["final"] = ["archived_forever"]
    assert problems_of(data) == [
        "transition 'archive' from 'archived' to 'archived_forever': a closed status can be "
        "entered only from a solved one (resolve before close), but 'archived' is 'closed'"
    ]


def test_a_toml_syntax_error_names_its_line_and_column() -> None:
    with pytest.raises(InvalidWorkflow) as rejected:
        Workflow.from_toml('name = "x"\n[[statuses]\nname = "new"\n')
    assert rejected.value.problems == (
        "not valid TOML: Expected ']]' at the end of an array declaration (at line 2, column 11)",
    )


def test_a_json_syntax_error_names_its_line_and_column() -> None:
    with pytest.raises(InvalidWorkflow) as rejected:
        Workflow.from_json('{"name": "x",\n "initial": }')
    assert rejected.value.problems == ("not valid JSON at line 2, column 13: Expecting value",)


def test_a_definition_that_is_not_a_table_is_refused() -> None:
    assert problems_of(["name", "tiny"]) == [
        "expected a table of name, extends, initial, final, statuses, transitions"
    ]


def test_files_are_read_by_their_suffix(tmp_path: Path) -> None:
    toml = tmp_path / "tiny.toml"
    toml.write_text(
        'name = "tiny"\ninitial = "new"\n'
        + "".join(
            f'[[statuses]]\nname = "{status["name"]}"\ncategory = "{status["category"]}"\n'
            for status in tiny()["statuses"]
        )
        + "".join(
            f'[[transitions]]\nevent = "{row["event"]}"\nfrom = {json.dumps(row["from"])}\n'
            f'to = "{row["to"]}"\n'
            for row in tiny()["transitions"]
        ),
        encoding="utf-8",
    )
    as_json = tmp_path / "tiny.JSON"
    as_json.write_text(json.dumps(tiny()), encoding="utf-8")
    assert Workflow.from_file(toml).transitions == Workflow.from_file(as_json).transitions


def test_a_missing_or_misnamed_file_is_refused_with_its_path(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"path must be an existing \.toml or \.json file"):
        Workflow.from_file(tmp_path / "nope.toml")
    (tmp_path / "workflow.yaml").write_text("name: x", encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"a file whose name ends in \.toml or \.json"):
        Workflow.from_file(tmp_path / "workflow.yaml")


def test_a_syntax_error_in_a_file_names_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    with pytest.raises(InvalidWorkflow, match=r"workflow 'broken\.json' is invalid"):
        Workflow.from_file(broken)
