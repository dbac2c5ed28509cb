"""Drawing a workflow: a Mermaid state diagram and a Markdown transition table.

Both are drawn from the compiled table, so they show exactly what ``apply``
enforces, for the default workflow and for custom ones alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from ticketflow._actor import Role

if TYPE_CHECKING:
    from ticketflow._policy import Policy, Scope
    from ticketflow._workflow import Workflow


def mermaid(workflow: Workflow) -> str:
    """Return a Mermaid ``stateDiagram-v2`` of the workflow's statuses and transitions."""
    lines = ["stateDiagram-v2"]
    lines.extend(
        f'    state "{status.label} ({status.category.value})" as {status.name}'
        for status in workflow.statuses.values()
    )
    lines.append(f"    [*] --> {workflow.initial}")
    seen: dict[tuple[str, str], list[str]] = {}
    for row in workflow.transitions:
        label = row.event if not row.guards else f"{row.event} [{row.describe()}]"
        events = seen.setdefault((row.source, row.target), [])
        if label not in events:
            events.append(label)
    for (source, target), labels in seen.items():
        lines.append(f"    {source} --> {target} : {', '.join(labels)}")
    lines.extend(f"    {status} --> [*]" for status in sorted(workflow.final))
    return "\n".join(lines) + "\n"


def markdown_table(workflow: Workflow) -> str:
    """Return a Markdown table with one row per event: from which statuses, to which."""
    rows: dict[str, list[str]] = {}
    for row in workflow.transitions:
        target = row.target if row.source != row.target else "(stays)"
        when = f" if {row.describe()}" if row.guards else ""
        rows.setdefault(row.event, []).append(f"{row.source} → {target}{when}")
    lines = ["| event | from → to |", "|---|---|"]
    lines.extend(f"| `{event}` | {'<br>'.join(moves)} |" for event, moves in rows.items())
    return "\n".join(lines) + "\n"


def permissions_table(policy: Policy, events: Iterable[str]) -> str:
    """Return a Markdown table: one row per event, one column per role, cells the scope."""
    roles = list(Role)
    lines = [
        "| event | " + " | ".join(role.value for role in roles) + " |",
        "|---|" + "---|" * len(roles),
    ]
    for event, scopes in policy.rows(list(events)):
        cells = (_scope_cell(scopes[role]) for role in roles)
        lines.append(f"| `{event}` | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _scope_cell(scope: Scope | None) -> str:
    return "—" if scope is None else scope.value
