"""The docs stay true: generated sections match the code, every public name is documented.

The transition table, the diagram and the permission table in ``docs/`` are drawn
by ticketflow itself and pasted between marker comments.  When the workflow or the
policy changes, regenerate them with::

    python tests/test_docs.py --write

The ``>>>`` examples in ``docs/*.md`` are run by pytest itself (``--doctest-glob``).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import ticketflow
import ticketflow.rules
import ticketflow.sla
import ticketflow.storage
import ticketflow.testing
from ticketflow import Policy, Workflow

DOCS = Path(__file__).resolve().parent.parent / "docs"
REGENERATE = "python tests/test_docs.py --write"

PERMISSION_EVENTS = (
    "create",
    "agent_reply",
    "customer_reply",
    "postpone",
    "wake",
    "resolve",
    "close",
    "reopen",
    "mark_spam",
    "delete",
    "restore",
    "purge",
    "merge",
    "rate",
    "closing_review",
    "note",
    "remind",
    "sla_warning",
    "sla_breach",
    "assign",
    "set_priority",
    "set_department",
    "update_tags",
    "set_fields",
)
"""The rows of the permission table: create, the workflow's events, rating and review, then the
updates."""


def _transitions() -> str:
    return Workflow.default().to_markdown()


def _diagram() -> str:
    return "```mermaid\n" + Workflow.default().to_mermaid() + "```\n"


def _permissions() -> str:
    return Policy.default().to_markdown(PERMISSION_EVENTS)


def _it_service_desk_toml() -> str:
    path = DOCS.parent / "examples" / "workflows" / "it_service_desk.toml"
    return "```toml\n" + path.read_text(encoding="utf-8") + "```\n"


SECTIONS: dict[tuple[str, str], Callable[[], str]] = {
    ("lifecycle.md", "transitions"): _transitions,
    ("lifecycle.md", "diagram"): _diagram,
    ("permissions.md", "permissions"): _permissions,
    ("workflows.md", "it-service-desk-toml"): _it_service_desk_toml,
}
"""Each generated section, by (page, marker name), and what draws it."""


def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"(<!-- BEGIN {name} -->\n)(.*?)(<!-- END {name} -->)", re.DOTALL)


def read_section(page: str, name: str) -> str:
    """Return the text between the BEGIN and END markers called ``name`` in ``page``."""
    found = _pattern(name).search((DOCS / page).read_text(encoding="utf-8"))
    if found is None:
        pytest.fail(f"docs/{page} has no <!-- BEGIN {name} --> ... <!-- END {name} --> section")
    return found.group(2)


def write_sections() -> list[str]:
    """Rewrite every generated section in place; return the sections that changed."""
    changed = []
    for (page, name), draw in SECTIONS.items():
        path = DOCS / page
        text = path.read_text(encoding="utf-8")
        new, count = _pattern(name).subn(lambda m, d=draw: m.group(1) + d() + m.group(3), text)
        if count != 1:
            raise SystemExit(f"docs/{page}: expected one {name!r} section, found {count}")
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(f"docs/{page} [{name}]")
    return changed


@pytest.mark.parametrize(("page", "name"), list(SECTIONS), ids=[n for _p, n in SECTIONS])
def test_each_generated_section_of_the_docs_equals_what_the_code_draws_now(
    page: str, name: str
) -> None:
    expected = SECTIONS[page, name]()
    assert read_section(page, name) == expected, (
        f"the {name!r} section of docs/{page} is out of date with the code; "
        f"regenerate it with `{REGENERATE}` and review the diff"
    )


def test_the_permission_table_has_a_row_for_every_event_of_the_default_workflow() -> None:
    assert len(set(PERMISSION_EVENTS)) == len(PERMISSION_EVENTS)
    assert (
        set(PERMISSION_EVENTS) == {"create", "rate", "closing_review"} | Workflow.default().events
    ), (
        "PERMISSION_EVENTS in tests/test_docs.py must list create and every event of the "
        f"default workflow; fix it, then run `{REGENERATE}`"
    )


def _api_headings() -> set[str]:
    text = (DOCS / "api.md").read_text(encoding="utf-8")
    return set(re.findall(r"^#{2,4} `([A-Za-z_][A-Za-z0-9_]*)`", text, re.MULTILINE))


@pytest.mark.parametrize("name", sorted(ticketflow.__all__))
def test_every_public_name_of_ticketflow_has_a_section_in_api_md(name: str) -> None:
    assert name in _api_headings(), f"docs/api.md needs a section headed ### `{name}`"


@pytest.mark.parametrize(
    "name",
    sorted(
        f"{module.__name__}.{name}"
        for module in (ticketflow.rules, ticketflow.sla, ticketflow.storage)
        for name in module.__all__
    ),
)
def test_every_public_name_of_the_subpackages_has_a_section_in_api_md(name: str) -> None:
    short = name.rsplit(".", 1)[1]
    assert short in _api_headings(), f"docs/api.md needs a section headed ### `{short}`"


def test_api_md_documents_no_name_that_is_not_public() -> None:
    public = {
        *ticketflow.__all__,
        *ticketflow.rules.__all__,
        *ticketflow.sla.__all__,
        *ticketflow.storage.__all__,
    }
    assert _api_headings() - public == set()


def _testing_headings() -> set[str]:
    text = (DOCS / "testing.md").read_text(encoding="utf-8")
    return set(re.findall(r"^#{2,4} `([A-Za-z_][A-Za-z0-9_]*)", text, re.MULTILINE))


@pytest.mark.parametrize("name", sorted(ticketflow.testing.__all__))
def test_every_public_name_of_ticketflow_testing_has_a_section_in_testing_md(name: str) -> None:
    assert name in _testing_headings(), f"docs/testing.md needs a section headed ### `{name}`"


@pytest.mark.parametrize("page", sorted(path.name for path in DOCS.glob("*.md")))
def test_every_docs_page_has_an_example_that_pytest_runs(page: str) -> None:
    assert "\n>>> " in (DOCS / page).read_text(encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        raise SystemExit(f"usage: {REGENERATE}")
    for line in write_sections() or ["every generated section is up to date"]:
        print(line)
