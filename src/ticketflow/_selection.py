"""Which statuses a filter by status names and categories selects, under a workflow."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import Any

from ticketflow._errors import InvalidInput
from ticketflow._status import Category
from ticketflow._validate import enum_value
from ticketflow._workflow import Workflow


def selected_statuses(
    workflow: Workflow,
    status: str | Iterable[str] | None,
    category: Category | str | Iterable[Category | str] | None,
) -> frozenset[str] | None:
    """The statuses named, of the categories named (both: those in both); None: no filter.

    Raises:
        InvalidInput: an unknown status or category.
    """
    names: frozenset[str] | None = None
    if status is not None:
        names = frozenset(_several(status, str, "status", "a status name, or several"))
        for name in names:
            workflow.category(name)  # raises InvalidInput for an unknown status
    if category is not None:
        wanted = _several(category, (str, Category), "category", "a category, or several")
        kinds = {enum_value(Category, kind, "category") for kind in wanted}
        in_kinds = workflow.statuses_in(*kinds)
        names = in_kinds if names is None else names & in_kinds
    return names


def _several(value: object, kind: type | tuple[type, ...], field: str, expected: str) -> list[Any]:
    """``value`` as a list: one item of ``kind``, or an iterable of hashable items."""
    if isinstance(value, kind):
        return [value]
    if not isinstance(value, Iterable) or isinstance(value, (bytes, Mapping)):
        raise InvalidInput(field, value, expected)
    items = list(value)
    if not all(isinstance(item, Hashable) for item in items):
        raise InvalidInput(field, value, expected)
    return items
