"""Conditions on a ticket's satisfaction rating, for rules that act on what customers say.

The rating is kept on the ticket (its reserved fields), so these conditions
read the ticket alone: they hold always or never whatever the time, as the
other conditions on fields do, and a desk schedules them exactly (a rating
is a commit, which stores the ticket's next due instant).  Their episode is
the instant of the rating, so a rule acts once per rating: a new rating in
the window may make it act again.

    Rated("bad") & InCategory("solved")     a bad rating while still resolved
    RatingAtMost(2)                         1 or 2 on a desk that rates 1-5
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import attrs

from ticketflow._errors import InvalidInput
from ticketflow._satisfaction import RatingScale, Score, is_score, rated_at, score_of
from ticketflow.rules._conditions import _Static
from ticketflow.rules._context import Context


def _scores(value: Iterable[object]) -> frozenset[Score]:
    scores: set[Score] = set()
    for score in value:
        if not isinstance(score, (int, str)) or not is_score(score):
            raise InvalidInput("Rated", score, "'good', 'bad', or a whole number from 1 to 5")
        scores.add(score)
    return frozenset(scores)


@attrs.frozen(init=False)
class Rated(_Static):
    """The ticket's current rating is one of ``scores`` (any rating, if none are given).

    >>> Rated("bad").scores
    frozenset({'bad'})
    """

    scores: frozenset[Score]

    def __init__(self, *scores: Score) -> None:
        self.__attrs_init__(_scores(scores))

    def holds(self, context: Context) -> bool:
        """Whether the ticket is rated, with one of the scores if any were given."""
        score = score_of(context.ticket)
        return score is not None and (not self.scores or score in self.scores)

    def anchor(self, context: Context) -> datetime | None:
        """The rating's instant: a rule acts once per rating."""
        return rated_at(context.ticket)


def _most(value: object) -> int:
    if not isinstance(value, int) or not is_score(value, RatingScale.ONE_TO_FIVE):
        raise InvalidInput("RatingAtMost", value, "a whole number from 1 to 5")
    return value


@attrs.frozen
class RatingAtMost(_Static):
    """The ticket's current rating is a score of ``most`` or less (on a 1-5 desk).

    A good/bad rating never satisfies it: use ``Rated("bad")`` there.

    >>> RatingAtMost(2).most
    2
    """

    most: int = attrs.field(converter=_most)

    def holds(self, context: Context) -> bool:
        """Whether the rating is a score no higher than ``most``."""
        score = score_of(context.ticket)
        return isinstance(score, int) and score <= self.most

    def anchor(self, context: Context) -> datetime | None:
        """The rating's instant: a rule acts once per rating."""
        return rated_at(context.ticket)
