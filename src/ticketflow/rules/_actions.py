"""Actions: what a rule does, one command as the system actor."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs

from ticketflow._errors import InvalidInput
from ticketflow._history import HistoryEvent
from ticketflow._names import ASSIGN, REMIND, SET_PRIORITY, UPDATE_TAGS
from ticketflow._ticket import Priority, Ticket
from ticketflow._validate import enum_value, tag_set, text


def _event(value: object) -> str:
    return text(value, "Action.event")


def _payload(_action: object, _attribute: object, value: object) -> None:
    if not isinstance(value, Mapping) and not callable(value):
        raise InvalidInput(
            "Action.payload", value, "a mapping, or a function (ticket, history) -> mapping"
        )


@attrs.frozen
class Action:
    """What a rule does: one command, as the system actor.

    Attributes:
        event: the workflow event or update to fire.
        payload: its payload, or a function of the ticket and its history that
            returns it (to write a note that lists what happened).
    """

    event: str = attrs.field(converter=_event)
    payload: Mapping[str, Any] | Callable[[Ticket, Sequence[HistoryEvent]], Mapping[str, Any]] = (
        attrs.field(factory=dict, eq=False, validator=_payload)
    )

    def arguments(self, ticket: Ticket, history: Sequence[HistoryEvent]) -> dict[str, Any]:
        """The payload for ``ticket``."""
        payload = self.payload
        given = payload(ticket, history) if callable(payload) else payload
        if not isinstance(given, Mapping):
            raise InvalidInput(
                f"the payload of {self.event!r}", given, "a mapping of the event's arguments"
            )
        return dict(given)

    @classmethod
    def fire(cls, event: str, note: str | None = None) -> Action:
        """Fire a workflow event, with a note to the customer as its body."""
        return cls(event, {} if note is None else {"body": note})

    @classmethod
    def assign(cls, to: str | None) -> Action:
        """Assign (or unassign, with None) the ticket."""
        return cls(ASSIGN, {"to": to})

    @classmethod
    def set_priority(cls, priority: Priority | str) -> Action:
        """Set the priority."""
        return cls(SET_PRIORITY, {"priority": enum_value(Priority, priority, "priority")})

    @classmethod
    def escalate(cls) -> Action:
        """Raise the priority one step (urgent stays urgent)."""
        return cls(
            SET_PRIORITY,
            lambda ticket, _history: {
                "priority": ticket.priority.raised,
                "body": "Escalated: no reply from the customer.",
            },
        )

    @classmethod
    def tag(cls, add: Iterable[str] = (), remove: Iterable[str] = ()) -> Action:
        """Add and remove tags (each a set of tags: a bare string is refused, not split).

        Raises:
            InvalidInput: ``add`` or ``remove`` is not a set of tags.
        """
        return cls(UPDATE_TAGS, {"add": tag_set(add, "add"), "remove": tag_set(remove, "remove")})

    @classmethod
    def remind(cls, message: str) -> Action:
        """Send the customer a reminder: a ``remind`` event the host's hooks deliver."""
        return cls(REMIND, {"body": message})
