"""The module layout is the architecture: no module imports a higher layer at run time.

values -> core (workflow, policy, timeline) -> storage -> unit of work ->
features (rules, then sla, then the rest) -> Helpdesk -> the shells (CLI, demo,
testing).  Imports only a type checker sees (under ``TYPE_CHECKING``) do not
count; imports inside functions do.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "ticketflow"

LAYERS: list[tuple[str, set[str]]] = [
    (
        "values",
        {
            "_errors",
            "_validate",
            "_names",
            "_version",
            "_status",
            "_ticket",
            "_actor",
            "_history",
            "_clock",
            "_display",
            "_reserved",
            "_satisfaction",
            "_review",
            "_paging",
        },
    ),
    (
        "core",
        {
            "_workflow",
            "_lifecycle",
            "_definition",
            "_guards",
            "_events",
            "_policy",
            "_render",
            "_svg",
            "_timeline",
            "_selection",
        },
    ),
    ("storage", {"storage"}),
    ("unit of work", {"_unit"}),
    ("rules", {"rules"}),
    ("sla", {"sla"}),
    (
        "features",
        {
            "_commands",
            "_metrics",
            "_figures",
            "_migration",
            "_merge",
            "_listing",
            "_outbox",
            "_webhooks",
        },
    ),
    ("facade", {"_desk", "__init__", "_html_report"}),
    ("shells", {"cli", "_cli_store", "_demo", "__main__", "testing"}),
]
RANK = {name: rank for rank, (_layer, names) in enumerate(LAYERS) for name in names}


def _unit_of(relative: Path) -> str:
    """The layer key of a module: its package (rules, sla, ...) or its own name."""
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def _runtime_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.ImportFrom) and node.module == "ticketflow":
            # `from ticketflow import _render` imports a module; a public name, the root
            found.update(
                f"ticketflow.{alias.name}" if alias.name.startswith("_") else "ticketflow"
                for alias in node.names
            )
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return {name.split(".")[1] for name in found if name.startswith("ticketflow.")} | (
        {"__init__"} if "ticketflow" in found else set()
    )


MODULES = sorted(path.relative_to(SRC) for path in SRC.rglob("*.py"))


def test_every_module_has_a_layer() -> None:
    assert {_unit_of(module) for module in MODULES} <= set(RANK), "add new modules to LAYERS"


@pytest.mark.parametrize("module", MODULES, ids=str)
def test_no_module_imports_a_higher_layer_at_run_time(module: Path) -> None:
    own = RANK[_unit_of(module)]
    higher = sorted(name for name in _runtime_imports(SRC / module) if RANK.get(name, -1) > own)
    assert higher == [], f"{module} ({LAYERS[own][0]}) imports {higher} at run time"
