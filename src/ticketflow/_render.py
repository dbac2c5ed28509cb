"""Drawing a workflow: Mermaid, Graphviz DOT, a Markdown table.

Each is drawn from the workflow's table rows, so it shows exactly what
``apply`` enforces, for the default workflow and for custom ones alike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ticketflow._status import Category

if TYPE_CHECKING:
    from ticketflow._workflow import Workflow


_CONTROLS = (*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029, *range(0xD800, 0xE000))
"""What would break a line of a drawing, or its printing: C0, C1, DEL, separators, surrogates."""


def _edges(workflow: Workflow) -> dict[tuple[str, str], list[str]]:
    """Group the rows by (source, target); each edge lists its events, guards shown."""
    edges: dict[tuple[str, str], list[str]] = {}
    for row in workflow.transitions:
        label = row.event if not row.guards else f"{row.event} [{row.describe()}]"
        events = edges.setdefault((row.source, row.target), [])
        if label not in events:
            events.append(label)
    return edges


_MERMAID_ENTITIES = {
    # Mermaid reads #name; and #number; as entities, which is how a label
    # holds what would end it: a quote ends a state's label; a colon, a
    # semicolon or a line break ends an edge's.  Escaping every ';' also
    # keeps a '#' in the text from starting an entity of its own.
    **{code: f"#{code};" for code in _CONTROLS},
    ord('"'): "#quot;",
    ord(":"): "#58;",
    ord(";"): "#59;",
}


def _mermaid_text(text: str) -> str:
    """Escape ``text`` for a Mermaid label, state or edge, as entities."""
    return text.translate(_MERMAID_ENTITIES)


def mermaid(workflow: Workflow) -> str:
    """Return a Mermaid ``stateDiagram-v2`` of the workflow's statuses and transitions."""
    lines = ["stateDiagram-v2"]
    lines.extend(
        f'    state "{_mermaid_text(status.label)} ({status.category.value})" as {status.name}'
        for status in workflow.statuses.values()
    )
    lines.append(f"    [*] --> {workflow.initial}")
    for (source, target), labels in _edges(workflow).items():
        lines.append(f"    {source} --> {target} : {_mermaid_text(', '.join(labels))}")
    lines.extend(f"    {status} --> [*]" for status in sorted(workflow.final))
    return "\n".join(lines) + "\n"


_DOT_SHAPES = {
    Category.SOLVED: "doubleoctagon",
    Category.CLOSED: "doublecircle",
    Category.REMOVED: "box",
}


_DOT_ESCAPES = {
    # A quoted DOT string ends at '"'; a line break in a label is written \n,
    # and other control characters as entities, which Graphviz reads.
    **{code: f"&#{code};" for code in _CONTROLS},
    ord("\\"): "\\\\",
    ord('"'): '\\"',
    ord("\n"): "\\n",
}


def _dot_escape(text: str) -> str:
    return text.translate(_DOT_ESCAPES)


def _dot_text(text: str) -> str:
    return f'"{_dot_escape(text)}"'


def dot(workflow: Workflow) -> str:
    """Return a Graphviz DOT digraph: one node per status, one edge per (source, target)."""
    lines = [
        f"digraph {_dot_text(workflow.name)} {{",
        "    rankdir=LR;",
        '    node [shape=ellipse, fontname="Helvetica"];',
        '    edge [fontname="Helvetica", fontsize=10];',
        '    "[*]" [shape=point];',
    ]
    for status in workflow.statuses.values():
        # \n is DOT's line break inside a label, so it joins the escaped parts.
        label = f'"{_dot_escape(status.label)}\\n({status.category.value})"'
        attributes = [f"label={label}"]
        shape = _DOT_SHAPES.get(status.category)
        if shape:
            attributes.append(f"shape={shape}")
        if status.sla_paused:
            attributes.append("style=dashed")
        lines.append(f"    {_dot_text(status.name)} [{', '.join(attributes)}];")
    lines.append(f'    "[*]" -> {_dot_text(workflow.initial)};')
    for (source, target), labels in _edges(workflow).items():
        label = _dot_text(", ".join(labels))
        lines.append(f"    {_dot_text(source)} -> {_dot_text(target)} [label={label}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


_MARKDOWN_CELL = dict.fromkeys(_CONTROLS, " ") | {ord("|"): "\\|"}


def _markdown_text(text: str) -> str:
    """Keep ``text`` inside one cell of a Markdown table: no pipe, no line break."""
    return text.translate(_MARKDOWN_CELL)


def markdown_table(workflow: Workflow) -> str:
    """Return a Markdown table with one row per event: from which statuses, to which."""
    rows: dict[str, list[str]] = {}
    for row in workflow.transitions:
        target = row.target if row.source != row.target else "(stays)"
        # Guard names come from the host or a file: keep them inside their cell.
        when = f" if {_markdown_text(row.describe())}" if row.guards else ""
        rows.setdefault(row.event, []).append(f"{row.source} → {target}{when}")
    lines = ["| event | from → to |", "|---|---|"]
    lines.extend(f"| `{event}` | {'<br>'.join(moves)} |" for event, moves in rows.items())
    return "\n".join(lines) + "\n"
