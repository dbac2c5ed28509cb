"""The custom fields ticketflow keeps on a ticket for itself, and their names.

Ratings and merges are stored in the ticket's ``fields`` (which every store
keeps as one JSON value), under names in the ``ticketflow:`` namespace, so
they need no column of their own, replay like any field, and a condition can
read them from the ticket alone.  Hosts may read them; they cannot write
them: opening a ticket or ``set_fields`` with such a name is refused.

========================== ================================================
field                      value
========================== ================================================
``ticketflow:rating``      the latest rating: ``"good"``/``"bad"`` or 1-5
``ticketflow:rated_at``    when it was given, ISO 8601 in UTC
``ticketflow:merged_into`` on a merged ticket: the id of its target
``ticketflow:merged_from`` on a target: the ids merged into it, in order
``ticketflow:requesters``  on a target: the merged tickets' requester ids
========================== ================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from ticketflow._errors import InvalidInput
from ticketflow._validate import FieldValue

NAMESPACE: Final = "ticketflow:"
"""The prefix of every field name ticketflow keeps for itself."""

RATING: Final = "ticketflow:rating"
RATED_AT: Final = "ticketflow:rated_at"
MERGED_INTO: Final = "ticketflow:merged_into"
MERGED_FROM: Final = "ticketflow:merged_from"
REQUESTERS: Final = "ticketflow:requesters"


def host_fields(fields: Mapping[str, FieldValue], field: str = "fields") -> None:
    """Refuse custom fields that use ticketflow's own names (checked values, by name only).

    Raises:
        InvalidInput: a name starts with ``ticketflow:``.
    """
    for name in fields:
        if name.startswith(NAMESPACE):
            raise InvalidInput(
                f"{field} name",
                name,
                f"a name outside the {NAMESPACE!r} namespace, which ticketflow keeps "
                "for ratings and merges",
            )


def without_reserved(fields: Mapping[str, FieldValue]) -> Mapping[str, FieldValue]:
    """``fields`` without ticketflow's own (a follow-up ticket copies only the host's)."""
    return MappingProxyType(
        {name: value for name, value in fields.items() if not name.startswith(NAMESPACE)}
    )


def with_fields(
    fields: Mapping[str, FieldValue], values: Mapping[str, FieldValue]
) -> Mapping[str, FieldValue]:
    """``fields`` with some of ticketflow's own set to ``values`` (a new mapping)."""
    return MappingProxyType({**fields, **values})
