"""Workflows as data: read them from a dict, TOML or JSON, and write them back.

For hosts that keep their statuses in configuration or a database.  The
schema (``docs/workflows.md`` has it in full, with an example)::

    name = "it_service_desk"          # required
    extends = "default"               # optional: start from the default lifecycle
    initial = "new"                   # required unless extending
    final = ["purged"]                # optional

    [[statuses]]
    name = "waiting_on_vendor"        # required, a lower-case identifier
    category = "on_hold"              # required: a Category value, such as "pending"
    label = "Waiting on vendor"       # optional
    sla_paused = true                 # optional, false by default

    [[transitions]]
    event = "wait_for_vendor"         # required, a lower-case identifier
    from = ["open", "answered"]       # required: a status, or a list of them
    to = "waiting_on_vendor"          # required
    cond = ["approved"]               # optional: guard names that must hold
    unless = ["vip"]                  # optional: guard names that must not hold

Reading checks the shape first and reports every problem with the key it is
at (``transitions[2].to``), or the line and column of a syntax error; then the
workflow's own laws are checked as for any workflow.  Both raise
:class:`InvalidWorkflow` with the whole list.  Text nested deeper than
:data:`MAX_DEPTH` and JSON objects with a key twice are refused before they
are parsed into data.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ticketflow._errors import InvalidInput, InvalidWorkflow, short_repr
from ticketflow._guards import Guard
from ticketflow._status import NAME_RULE, Category, Status, is_name
from ticketflow._workflow import Transition, Workflow

SCHEMA_KEYS = ("name", "extends", "initial", "final", "statuses", "transitions")
"""The top-level keys a workflow definition may have."""

STATUS_KEYS = ("name", "category", "label", "sla_paused")
"""The keys of one entry of ``statuses``."""

TRANSITION_KEYS = ("event", "from", "to", "cond", "unless")
"""The keys of one entry of ``transitions``."""

EXTENDABLE = ("default",)
"""What ``extends`` may name."""

MAX_DEPTH = 16
"""How deeply the text of a definition may nest arrays and tables.

A definition needs four levels (the top table, ``transitions``, one
transition, its ``from`` list); the bound keeps the parsers, which recurse,
far from Python's recursion limit.
"""


class _Reader:
    """Walks a definition, collecting every problem with the key it is at."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def problem(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def keys(self, where: str, entry: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
        for key in entry:
            if key not in allowed:
                expected = ", ".join(allowed)
                self.problem(where, f"unknown key {short_repr(key)}; expected among {expected}")

    def text(self, where: str, value: object, *, required: bool = True) -> str | None:
        if value is None:
            if required:
                self.problem(where, "missing; expected a non-empty string")
            return None
        if not isinstance(value, str) or not value.strip():
            self.problem(where, f"expected a non-empty string, got {short_repr(value)}")
            return None
        return value

    def names(self, where: str, value: object) -> list[str]:
        """Read a string or a list of strings."""
        if value is None:
            return []
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(
            isinstance(item, str) and item.strip() for item in items
        ):
            self.problem(where, f"expected a name or a list of names, got {short_repr(value)}")
            return []
        return items

    def table(self, where: str, value: object) -> list[Mapping[str, Any]]:
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
            self.problem(where, f"expected a list of tables, got {short_repr(value)}")
            return []
        return value

    def status(self, where: str, entry: Mapping[str, Any]) -> Status | None:
        self.keys(where, entry, STATUS_KEYS)
        name = self.text(f"{where}.name", entry.get("name"))
        category = entry.get("category")
        if not isinstance(category, str) or category not in {m.value for m in Category}:
            choices = ", ".join(member.value for member in Category)
            self.problem(
                f"{where}.category", f"expected one of {choices}, got {short_repr(category)}"
            )
            category = None
        label = self.text(f"{where}.label", entry.get("label"), required=False)
        paused = entry.get("sla_paused", False)
        if not isinstance(paused, bool):
            self.problem(
                f"{where}.sla_paused", f"expected true or false, got {short_repr(paused)}"
            )
        if name is None or category is None or not isinstance(paused, bool):
            return None
        try:
            if label is None:
                return Status(name, category, sla_paused=paused)
            return Status(name, category, label=label, sla_paused=paused)
        except InvalidInput as error:
            self.problem(f"{where}.name", f"expected {error.expected}, got {short_repr(name)}")
            return None

    def transitions(self, where: str, entry: Mapping[str, Any]) -> list[Transition]:
        self.keys(where, entry, TRANSITION_KEYS)
        event = self.text(f"{where}.event", entry.get("event"))
        if event is not None and not is_name(event):
            # The same rule as for status names; the workflow checks it again
            # for every declaration, this names the key.
            self.problem(f"{where}.event", f"expected {NAME_RULE}, got {short_repr(event)}")
            event = None
        sources = self.names(f"{where}.from", entry.get("from"))
        if entry.get("from") in (None, []):
            self.problem(f"{where}.from", "missing; expected a status or a list of them")
        target = self.text(f"{where}.to", entry.get("to"))
        guards = [(name, True) for name in self.names(f"{where}.cond", entry.get("cond"))]
        guards += [(name, False) for name in self.names(f"{where}.unless", entry.get("unless"))]
        if event is None or target is None:
            return []
        return [Transition(event, source, target, tuple(guards)) for source in sources]


def workflow_from_dict(
    data: object, *, guards: Mapping[str, Guard] | None = None, source: str = "<data>"
) -> Workflow:
    """Build a workflow from its definition as plain data (see the module's schema).

    Raises:
        InvalidWorkflow: every problem of shape, then every broken law.
    """
    if not isinstance(data, Mapping):
        raise InvalidWorkflow(source, [f"expected a table of {', '.join(SCHEMA_KEYS)}"])
    read = _Reader()
    read.keys("workflow", data, SCHEMA_KEYS)
    name = read.text("name", data.get("name")) or source
    statuses: list[Status] = []
    rows: list[Transition] = []
    initial = data.get("initial")
    final = read.names("final", data.get("final"))
    extends = data.get("extends")
    if extends is not None:
        if extends not in EXTENDABLE:
            choices = ", ".join(EXTENDABLE)
            read.problem("extends", f"expected one of {choices}, got {short_repr(extends)}")
        else:
            base = Workflow.default()
            statuses += base.statuses.values()
            rows += base.transitions
            initial = initial or base.initial
            final = sorted(base.final) + [name for name in final if name not in base.final]
    initial = read.text("initial", initial)
    for index, entry in enumerate(read.table("statuses", data.get("statuses"))):
        status = read.status(f"statuses[{index}]", entry)
        if status is not None:
            statuses.append(status)
    for index, entry in enumerate(read.table("transitions", data.get("transitions"))):
        rows += read.transitions(f"transitions[{index}]", entry)
    if read.problems:
        raise InvalidWorkflow(name, read.problems)
    return Workflow(name, statuses, initial or "", rows, guards=guards, final=final)


_TOKENS = {
    # What can hold a bracket without nesting anything: strings (and TOML's
    # comments), matched whole so that the brackets inside them are skipped.
    "json": re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL),
    "toml": re.compile(
        r"'''.*?'''|\"\"\"(?:[^\\]|\\.)*?\"\"\"|'[^'\n]*'"
        r'|"(?:[^"\\\n]|\\.)*"|#[^\n]*|[\[\]{}]',
        re.DOTALL,
    ),
}


def _too_deep(text: str, kind: str) -> str | None:
    """Return where ``text`` first nests deeper than :data:`MAX_DEPTH`, or None."""
    depth = 0
    for token in _TOKENS[kind].finditer(text):
        bracket = token.group()
        if bracket in ("[", "{"):
            depth += 1
            if depth > MAX_DEPTH:
                at = token.start()
                line = text.count("\n", 0, at) + 1
                column = at - text.rfind("\n", 0, at)
                return f"line {line}, column {column}"
        elif bracket in ("]", "}"):
            depth = max(depth - 1, 0)
    return None


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Build a JSON object, refusing a key that comes twice (``json`` keeps the last)."""
    table: dict[str, Any] = {}
    for key, value in pairs:
        if key in table:
            raise _DuplicateKey(key)
        table[key] = value
    return table


def parse_text(text: str, kind: str, *, source: str = "<text>") -> object:
    """Parse ``text`` as ``kind`` (``"toml"`` or ``"json"``) into plain data.

    Raises:
        InvalidWorkflow: a syntax error, with its line and column; text nested
            deeper than :data:`MAX_DEPTH`; a JSON object with a key twice.
        InvalidInput: ``kind`` is neither, or ``text`` is not a string.
    """
    if kind not in ("toml", "json"):
        raise InvalidInput("kind", kind, "'toml' or 'json'")
    if not isinstance(text, str):
        raise InvalidInput("text", text, f"a str of {kind.upper()}")
    name = kind.upper()
    where = _too_deep(text, kind)
    if where is not None:
        raise InvalidWorkflow(
            source,
            [
                f"{name} nested more than {MAX_DEPTH} levels deep at {where}; "
                "a workflow definition needs four at most"
            ],
        )
    try:
        if kind == "toml":
            return tomllib.loads(text)
        return json.loads(text, object_pairs_hook=_unique_keys)
    except tomllib.TOMLDecodeError as error:
        raise InvalidWorkflow(source, [f"not valid TOML: {error}"]) from None
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}"
        raise InvalidWorkflow(source, [f"not valid JSON at {where}: {error.msg}"]) from None
    except _DuplicateKey as error:
        raise InvalidWorkflow(
            source, [f"not valid JSON: the key {error.key!r} appears twice in one object"]
        ) from None
    except ValueError as error:  # such as a number of more digits than int() reads
        raise InvalidWorkflow(source, [f"not valid {name}: {error}"]) from None


def workflow_from_text(
    text: str, kind: str, *, guards: Mapping[str, Guard] | None = None, source: str = "<text>"
) -> Workflow:
    """Parse ``text`` as ``kind`` (``"toml"`` or ``"json"``), then build the workflow.

    Raises:
        InvalidWorkflow: a syntax error (with its line and column), or any
            problem :func:`workflow_from_dict` finds.
        InvalidInput: ``kind`` is neither.
    """
    data = parse_text(text, kind, source=source)
    return workflow_from_dict(data, guards=guards, source=source)


def read_file(path: str | os.PathLike[str]) -> object:
    """Read and parse a ``.toml`` or ``.json`` definition file into plain data.

    Raises:
        InvalidInput: the file is missing, unreadable, or not ``.toml``/``.json``.
        InvalidWorkflow: a syntax error, with its line and column.
    """
    try:
        file = Path(path)
    except TypeError:
        raise InvalidInput("path", path, "a path to a .toml or .json file") from None
    kind = file.suffix.lower().lstrip(".")
    if kind not in ("toml", "json"):
        raise InvalidInput("path", str(path), "a file whose name ends in .toml or .json")
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput("path", str(path), "an existing .toml or .json file") from None
    except IsADirectoryError:
        raise InvalidInput("path", str(path), "a .toml or .json file, not a directory") from None
    except (OSError, UnicodeDecodeError) as error:
        reason = (error.strerror or str(error)) if isinstance(error, OSError) else "not UTF-8"
        raise InvalidInput("path", str(path), f"a readable UTF-8 file ({reason})") from None
    except ValueError:  # a NUL in the path
        raise InvalidInput("path", str(path), "a path without NUL characters") from None
    return parse_text(text, kind, source=file.name)


def workflow_from_file(
    path: str | os.PathLike[str], *, guards: Mapping[str, Guard] | None = None
) -> Workflow:
    """Read a ``.toml`` or ``.json`` workflow definition file and build the workflow.

    Raises:
        InvalidInput: as :func:`read_file`.
        InvalidWorkflow: as :func:`workflow_from_text`.
    """
    return workflow_from_dict(read_file(path), guards=guards, source=Path(path).name)


def guard_names(data: object) -> set[str]:
    """Return the guard names the transitions of a definition mention (for tools)."""
    names: set[str] = set()
    if isinstance(data, Mapping) and isinstance(data.get("transitions"), list):
        for entry in data["transitions"]:
            if isinstance(entry, Mapping):
                for key in ("cond", "unless"):
                    value = entry.get(key)
                    names.update([value] if isinstance(value, str) else value or [])
    return {name for name in names if isinstance(name, str)}


def workflow_to_dict(workflow: Workflow) -> dict[str, Any]:
    """Return the definition of ``workflow`` as plain data, one transition a row.

    ``workflow_from_dict`` reads it back into an equal workflow, given the same
    guards; ``json.dumps`` and a TOML writer can store it.
    """
    transitions = []
    for row in workflow.transitions:
        entry: dict[str, Any] = {"event": row.event, "from": row.source, "to": row.target}
        cond = [name for name, expected in row.guards if expected]
        unless = [name for name, expected in row.guards if not expected]
        if cond:
            entry["cond"] = cond
        if unless:
            entry["unless"] = unless
        transitions.append(entry)
    return {
        "name": workflow.name,
        "initial": workflow.initial,
        "final": sorted(workflow.final),
        "statuses": [
            {
                "name": status.name,
                "category": status.category.value,
                "label": status.label,
                "sla_paused": status.sla_paused,
            }
            for status in workflow.statuses.values()
        ],
        "transitions": transitions,
    }
