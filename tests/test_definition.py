"""Workflows as data: dicts, TOML and JSON files, every problem reported with where it is."""

from __future__ import annotations

import json
import re
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
from ticketflow._definition import MAX_DEPTH

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
    assert workflow.final == {"purged", "merged"}


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


@pytest.mark.parametrize(
    ("load", "text"),
    [
        (Workflow.from_json, "[" * 100_000 + "]" * 100_000),
        (Workflow.from_json, '{"name": ' + "{" * 17 + "}" * 17 + "}"),
        (Workflow.from_toml, "name = " + "[" * 100_000 + "]" * 100_000),
        (Workflow.from_toml, "name = " + "{a = " * 17 + "}" * 17),
    ],
    ids=["json-deep", "json-17", "toml-deep", "toml-17"],
)
def test_text_nested_deeper_than_a_definition_needs_is_refused_before_parsing(
    load: Any, text: str
) -> None:
    with pytest.raises(InvalidWorkflow) as rejected:
        load(text)
    assert rejected.value.workflow == "<text>"
    (problem,) = rejected.value.problems
    assert f"nested more than {MAX_DEPTH} levels deep at line 1, column " in problem


def test_a_deeply_nested_file_is_refused_naming_the_file_and_where(tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("\n  " + "[" * 50_000 + "]" * 50_000, encoding="utf-8")
    with pytest.raises(InvalidWorkflow) as rejected:
        Workflow.from_file(deep)
    assert rejected.value.workflow == "deep.json"
    assert rejected.value.problems == (
        f"JSON nested more than {MAX_DEPTH} levels deep at line 2, column 19; "
        "a workflow definition needs four at most",
    )


def test_brackets_inside_strings_and_comments_do_not_count_as_nesting() -> None:
    label = "[" * 40 + "{" * 40
    data = tiny()
    data["statuses"][0]["label"] = label
    assert Workflow.from_json(json.dumps(data)).statuses["new"].label == label
    toml = (
        f'name = "tiny"  # {label}\ninitial = "new"\n'
        f'[[statuses]]\nname = "new"\ncategory = "new"\nlabel = \'{label}\'\n'
        f'[[statuses]]\nname = "done"\ncategory = "solved"\nlabel = """{label}\n{label}"""\n'
        '[[statuses]]\nname = "archived"\ncategory = "closed"\n'
        '[[transitions]]\nevent = "resolve"\nfrom = "new"\nto = "done"\n'
        '[[transitions]]\nevent = "close"\nfrom = "done"\nto = "archived"\n'
        '[[transitions]]\nevent = "reopen"\nfrom = ["done", "archived"]\nto = "new"\n'
    )
    assert Workflow.from_toml(toml).statuses["done"].label == f"{label}\n{label}"


def test_a_json_key_given_twice_is_refused_naming_the_key() -> None:
    text = json.dumps(tiny())
    with pytest.raises(InvalidWorkflow) as rejected:
        Workflow.from_json(text.replace('"initial": "new"', '"initial": "new", "initial": "x"'))
    assert rejected.value.problems == (
        "not valid JSON: the key 'initial' appears twice in one object",
    )
    with pytest.raises(InvalidWorkflow, match="the key 'category' appears twice"):
        Workflow.from_json(text.replace('"category": "new"', '"category": "new", "category": "x"'))


def test_a_number_too_long_to_read_is_a_workflow_problem_not_a_value_error() -> None:
    long = "1" * 5000
    for load, text in ((Workflow.from_json, long), (Workflow.from_toml, f"a = {long}")):
        with pytest.raises(InvalidWorkflow, match=r"not valid (JSON|TOML): Exceeds the limit"):
            load(text)


def test_text_that_is_not_a_string_is_refused() -> None:
    with pytest.raises(InvalidInput, match=re.escape("text must be a str of JSON, got b'{}'")):
        Workflow.from_json(b"{}")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "event", ["Resolve It!", "resolve-now", "Resolve", "2nd_look", " resolve"]
)
def test_event_names_follow_the_rule_of_status_names(event: str) -> None:
    data = tiny()
    data["transitions"][0]["event"] = event
    assert problems_of(data) == [
        f"transitions[0].event: expected a lower-case identifier such as 'waiting_on_vendor', "
        f"got {event!r}"
    ]


def test_a_refused_value_is_quoted_short_however_large_or_deep() -> None:
    nested: list[Any] = []
    for _ in range(10_000):
        nested = [nested]
    problems = problems_of(tiny(final=nested, extends="x" * 100_000))
    assert all(len(problem) < 300 for problem in problems), problems
    assert problems[0].startswith("final: expected a name or a list of names, got [[[[")


def test_values_of_the_wrong_type_anywhere_are_problems_not_crashes() -> None:
    data = tiny()
    data["statuses"][0]["category"] = ["new"]
    data["transitions"][0]["event"] = {"resolve": 1}
    data[("a", "tuple")] = 1  # type: ignore[index]
    problems = problems_of(data)
    assert (
        "statuses[0].category: expected one of new, open, pending, on_hold, solved, "
        in (problems[1])
    )
    assert problems[0].startswith("workflow: unknown key ('a', 'tuple')")
    assert "transitions[0].event: expected a non-empty string, got {'resolve': 1}" in problems


@pytest.mark.parametrize(
    "path",
    ["", "dir.json", "bad.json", "nul\0.json"],
    ids=["empty", "directory", "not-utf8", "nul"],
)
def test_an_unreadable_file_is_refused_with_its_path(tmp_path: Path, path: str) -> None:
    (tmp_path / "dir.json").mkdir()
    (tmp_path / "bad.json").write_bytes(b"\xff\xfe{}")
    with pytest.raises(InvalidInput, match=r"^path must be"):
        Workflow.from_file(tmp_path / path if path else path)
