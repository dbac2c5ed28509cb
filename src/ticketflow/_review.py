"""Reviews: what staff learned from a closed ticket, recorded after closing.

After closing, a review records the solution and the lessons learned.  It is
a ``closing_review`` history event that the closed lock allows and that changes
nothing else about the ticket (its version and ``updated_at`` move, as for
every event).  Its text is the event's body, in one documented shape that
:meth:`Review.from_event` reads back and a search indexes as plain text::

    Solution:
    <the solution>

    Lessons learned:
    <the lessons learned>

The second part is left out when there are no lessons to record.
"""

from __future__ import annotations

from datetime import datetime

import attrs

from ticketflow._actor import Actor
from ticketflow._errors import InvalidInput
from ticketflow._history import HistoryEvent, next_version
from ticketflow._names import REVIEW
from ticketflow._ticket import Ticket
from ticketflow._validate import optional_text, text

SOLUTION = "Solution:\n"
"""The first line of a review's body."""
LESSONS = "\n\nLessons learned:\n"
"""What separates the solution from the lessons learned in a review's body."""


def _solution(value: object) -> str:
    return text(value, "solution")


def _lessons(value: object) -> str | None:
    return optional_text(value, "lessons")


@attrs.frozen
class Review:
    """A review of a closed ticket.

    Attributes:
        solution: how the problem was solved.
        lessons: the lessons learned, if any.
        at: when it was recorded (None for one not yet recorded).
        actor: who recorded it (None for one not yet recorded).

    >>> review = Review("Replaced the router.", "Check the firmware first.")
    >>> print(review.body)
    Solution:
    Replaced the router.
    <BLANKLINE>
    Lessons learned:
    Check the firmware first.
    """

    solution: str = attrs.field(converter=_solution)
    lessons: str | None = attrs.field(default=None, converter=_lessons)
    at: datetime | None = attrs.field(default=None, kw_only=True)
    actor: Actor | None = attrs.field(default=None, kw_only=True)

    def __attrs_post_init__(self) -> None:
        if LESSONS in self.solution:
            raise InvalidInput(
                "solution", self.solution, f"text without the line break and {LESSONS.strip()!r}"
            )

    @property
    def body(self) -> str:
        """The review as the text of its history event (the module's shape)."""
        if self.lessons is None:
            return SOLUTION + self.solution
        return SOLUTION + self.solution + LESSONS + self.lessons

    @classmethod
    def from_event(cls, event: HistoryEvent) -> Review:
        """Read a ``closing_review`` event back into a review.

        Raises:
            InvalidInput: the event is not a review, or its body has another shape.
        """
        body = event.body if isinstance(event, HistoryEvent) else None
        if body is None or event.name != REVIEW or not body.startswith(SOLUTION):
            raise InvalidInput(
                "event", event, "a 'closing_review' event whose body starts 'Solution:'"
            )
        solution, _sep, lessons = body.removeprefix(SOLUTION).partition(LESSONS)
        return cls(solution, lessons or None, at=event.at, actor=event.actor)

    def record(self, ticket: Ticket, actor: Actor, at: datetime) -> tuple[Ticket, HistoryEvent]:
        """Return ``ticket`` reviewed and its ``closing_review`` event; nothing else changes."""
        return next_version(ticket, REVIEW, actor, at, {}, body=self.body)
