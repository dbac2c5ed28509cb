"""Satisfaction ratings: the requester's verdict on a solved or closed ticket.

A desk rates on one scale, chosen once (:class:`Satisfaction`): good or bad,
or a score from 1 to 5.  The requester (or the host on their behalf, as the
policy allows) rates a ticket while it is solved or closed, within a window
after its resolution (14 days by default); a new rating in the window takes
the old one's place.  Each rating is a ``rate`` history event whose body is
the comment; the rating itself is kept in the ticket's reserved fields
(:mod:`ticketflow._reserved`), so conditions and reports read it from the
ticket alone.  A rating moves no status and unlocks nothing: a closed ticket
stays closed.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime, timedelta

import attrs

from ticketflow._actor import Actor
from ticketflow._errors import InvalidInput
from ticketflow._history import HistoryEvent, next_version
from ticketflow._names import RATE
from ticketflow._reserved import MERGED_INTO, RATED_AT, RATING, with_fields
from ticketflow._status import Category
from ticketflow._ticket import Ticket
from ticketflow._validate import enum_value, optional_text, positive_duration

Score = int | str
"""A rating: ``"good"`` or ``"bad"``, or a whole number from 1 to 5."""

GOOD, BAD = "good", "bad"
RATED = frozenset({Category.SOLVED, Category.CLOSED})
"""The categories in which a ticket can be rated."""


class RatingScale(enum.Enum):
    """How a desk's requesters rate: good or bad, or a score from 1 to 5."""

    GOOD_BAD = "good_bad"
    ONE_TO_FIVE = "one_to_five"


def satisfied(score: Score) -> bool:
    """Whether a rating counts as satisfied: ``"good"``, or 4 and 5 of 5 (the usual CSAT).

    >>> satisfied("good"), satisfied(4), satisfied(3)
    (True, True, False)
    """
    return score == GOOD or (isinstance(score, int) and score >= 4)  # CSAT counts 4 and 5 of 5


def is_score(value: object, scale: RatingScale | None = None) -> bool:
    """Whether ``value`` is a rating of ``scale`` (of either scale, if None).

    >>> is_score("good"), is_score(5), is_score(0), is_score(True)
    (True, True, False, False)
    """
    if isinstance(value, str):
        return scale is not RatingScale.ONE_TO_FIVE and value in (GOOD, BAD)
    return (
        scale is not RatingScale.GOOD_BAD
        and isinstance(value, int)
        and not isinstance(value, bool)
        and 1 <= value <= 5
    )


def _scale(value: object) -> RatingScale:
    return enum_value(RatingScale, value, "Satisfaction.scale")


def _window(value: object) -> timedelta:
    return positive_duration(value, "Satisfaction.window")


@attrs.frozen
class Satisfaction:
    """A desk's rating scale and how long after the resolution a ticket can be rated.

    Args:
        scale: good/bad (the default) or 1-5.
        window: how long after the resolution ratings are taken.

    >>> Satisfaction(scale="one_to_five").score(4)
    4
    >>> Satisfaction().score(4)
    Traceback (most recent call last):
    ...
    ticketflow._errors.InvalidInput: score must be 'good' or 'bad' (the desk rates good/bad), got 4
    """

    scale: RatingScale = attrs.field(default=RatingScale.GOOD_BAD, converter=_scale)
    window: timedelta = attrs.field(default=timedelta(days=14), converter=_window)

    def score(self, value: object) -> Score:
        """Return ``value`` checked against the scale.

        Raises:
            InvalidInput: not a rating of this scale.
        """
        if isinstance(value, (int, str)) and is_score(value, self.scale):
            return value
        if self.scale is RatingScale.GOOD_BAD:
            raise InvalidInput("score", value, "'good' or 'bad' (the desk rates good/bad)")
        raise InvalidInput("score", value, "a whole number from 1 to 5 (the desk rates 1-5)")

    def refusal(self, ticket: Ticket, category: Category, at: datetime) -> str | None:
        """Why ``ticket`` (whose status has ``category``) cannot be rated at ``at``, or None."""
        if MERGED_INTO in ticket.fields:
            return f"it was merged into {ticket.fields[MERGED_INTO]!r}; rate that ticket"
        if category not in RATED or ticket.resolved_at is None:
            return "only a resolved or closed ticket can be rated"
        ends = ticket.resolved_at + self.window
        if at > ends:
            return (
                f"ratings are taken for {_days(self.window)} after the resolution, "
                f"until {ends.isoformat()}"
            )
        return None

    def rate(
        self, ticket: Ticket, actor: Actor, at: datetime, score: Score, comment: str | None
    ) -> tuple[Ticket, HistoryEvent]:
        """Return ``ticket`` rated and its ``rate`` event (the caller checked :meth:`refusal`).

        Only the reserved rating fields change, besides the version: a rating
        is no activity on the ticket, so no rule's period starts again.
        """
        fields = with_fields(ticket.fields, {RATING: score, RATED_AT: at.isoformat()})
        return next_version(ticket, RATE, actor, at, {"fields": fields}, body=comment)


def _days(window: timedelta) -> str:
    if window % timedelta(days=1):
        return str(window)
    days = window // timedelta(days=1)
    return f"{days} day{'s' if days != 1 else ''}"


def comment_of(value: object) -> str | None:
    """A rating's comment, checked: None or a non-empty string."""
    return optional_text(value, "comment")


@attrs.frozen
class Rating:
    """A ticket's current rating.

    Attributes:
        score: ``"good"``/``"bad"``, or 1 to 5.
        at: when it was given.
        comment: what the requester wrote with it, if anything.
        actor: who gave it.
    """

    score: Score
    at: datetime
    comment: str | None
    actor: Actor

    @property
    def satisfied(self) -> bool:
        """Whether it counts as satisfied: good, or 4 or 5 (see :func:`satisfied`)."""
        return satisfied(self.score)


def score_of(ticket: Ticket) -> Score | None:
    """The ticket's current rating score, or None if it was never rated."""
    score = ticket.fields.get(RATING)
    return score if isinstance(score, (int, str)) and not isinstance(score, bool) else None


def rated_at(ticket: Ticket) -> datetime | None:
    """When the ticket's current rating was given, or None."""
    value = ticket.fields.get(RATED_AT)
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:  # only ticketflow writes it; a hand-edited value has no instant
        return None


def rating_of(ticket: Ticket, history: Sequence[HistoryEvent]) -> Rating | None:
    """The ticket's current rating with its comment and author, read from its history."""
    score = score_of(ticket)
    if score is None:
        return None
    for event in reversed(history):
        if event.name == RATE:
            return Rating(score, event.at, event.body, event.actor)
    return None
