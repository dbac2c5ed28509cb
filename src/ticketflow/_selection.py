"""Which statuses a filter by status names and categories selects, under a workflow."""

from __future__ import annotations

from collections.abc import Iterable

from ticketflow._status import Category
from ticketflow._validate import enum_value, several
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
        names = frozenset(several(status, str, "status", "a status name, or several"))
        for name in names:
            workflow.category(name)  # raises InvalidInput for an unknown status
    if category is not None:
        wanted = several(category, (str, Category), "category", "a category, or several")
        kinds = {enum_value(Category, kind, "category") for kind in wanted}
        in_kinds = workflow.statuses_in(*kinds)
        names = in_kinds if names is None else names & in_kinds
    return names
