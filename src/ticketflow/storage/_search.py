"""Full-text search over tickets: which text is indexed, what a search asks, how it ranks.

Every store indexes the same text of each ticket, in the same transaction
as each commit: its subject, its description, and the bodies of the events
named in :data:`SEARCHED_EVENTS` (its conversation).  A search finds the
tickets that hold every word of the host's text, somewhere in that text.

Ranking depends on the ticket alone, never on the other tickets, so a
ticket's place in a ranked list does not move when others are created, and
a walk through the list with a cursor (keyset on score, then id) neither
repeats nor skips a ticket.  That is why the SQLite store does not rank by
FTS5's ``bm25()``: its scores depend on every other row (how rare a word is,
the average length), so each new ticket would reshuffle the tickets
already listed.  The memory and SQLite stores score a ticket by
:func:`score` (each occurrence of a searched word counts 4 in the subject,
2 in the description, 1 in the conversation); PostgreSQL by ``ts_rank_cd``
with the subject weighted A, the description B and the conversation C,
which also reads the ticket alone.  The stores agree on *which* tickets
match a search of plain words; their scores, and so the order of tickets
of different scores, differ between PostgreSQL and the others.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Final

import attrs

from ticketflow._errors import InvalidInput
from ticketflow._history import HistoryEvent
from ticketflow._names import AGENT_REPLY, CUSTOMER_REPLY, NOTE, REVIEW
from ticketflow._validate import text, whole_number
from ticketflow.storage._query import TicketQuery

SEARCHED_EVENTS: Final[tuple[str, ...]] = (AGENT_REPLY, CUSTOMER_REPLY, NOTE, REVIEW)
"""The events whose body joins the ticket's searchable conversation, in history order.

The replies, the notes and the reviews after closing (``closing_review``).
One more name here is all it takes for a new kind of event to be searched;
tickets stored before that are indexed again by re-running their migration's
indexing, see docs/search.md.
"""

WEIGHTS: Final[tuple[int, int, int]] = (4, 2, 1)
"""What one occurrence of a searched word scores in the subject, description, conversation."""

_WORD = re.compile(r"[^\W_]+")


def words(value: str) -> tuple[str, ...]:
    """The words of ``value`` as search compares them: case and accents folded, each once.

    A word is a run of letters and digits (anything else separates words),
    as SQLite's ``unicode61`` tokenizer reads text.

    >>> words("Le café, THE Cafe!")
    ('le', 'cafe', 'the')
    """
    return tuple(dict.fromkeys(tokens(value)))


def tokens(value: str) -> list[str]:
    """Every word of ``value`` in order, repeats kept, folded as :func:`words` folds them."""
    folded = unicodedata.normalize("NFKD", value.casefold())
    plain = "".join(char for char in folded if not unicodedata.combining(char))
    return _WORD.findall(plain)


def conversation(events: Iterable[HistoryEvent]) -> list[str]:
    """The bodies of the searched events among ``events``, in order."""
    return [
        event.body for event in events if event.name in SEARCHED_EVENTS and event.body is not None
    ]


def searched_body(event: HistoryEvent) -> str | None:
    """The text ``event`` adds to its ticket's conversation, or None if it adds none."""
    return event.body if event.name in SEARCHED_EVENTS else None


def score(sought: Iterable[str], subject: str, description: str, bodies: Iterable[str]) -> int:
    """How well a ticket's text answers a search for the words ``sought`` (0: it does not).

    Every word sought must occur somewhere; then each occurrence of one
    counts by :data:`WEIGHTS`.  What the memory store ranks by, and what the
    SQLite store computes in SQL.

    >>> score(["vpn"], "VPN drops", "The vpn drops.", ["Restart the VPN", "ok"])
    7
    >>> score(["vpn", "printer"], "VPN drops", "", [])
    0
    """
    wanted = set(sought)
    fields = (tokens(subject), tokens(description), tokens("\n".join(bodies)))
    present = {word for field in fields for word in field}
    if not wanted or not wanted <= present:
        return 0
    return sum(
        weight * sum(word in wanted for word in field)
        for weight, field in zip(WEIGHTS, fields, strict=True)
    )


def fts5_match(sought: Iterable[str]) -> str:
    """An FTS5 MATCH expression asking for every word: each quoted, so none is syntax.

    >>> fts5_match(["vpn", 'say"hi'])
    '"vpn" "say""hi"'
    """
    return " ".join('"' + word.replace('"', '""') + '"' for word in sought)


def _search_text(_instance: object, _attribute: object, value: str) -> None:
    if not words(text(value, "text")):
        raise InvalidInput(
            "text", value, "words to search for: at least one run of letters or digits"
        )


def _filters(_instance: object, _attribute: object, value: TicketQuery) -> None:
    if not isinstance(value, TicketQuery):
        raise InvalidInput("filters", value, "a TicketQuery of filters")
    if value != attrs.evolve(
        value, order_by="created_at", descending=False, limit=None, after=None
    ):
        raise InvalidInput(
            "filters",
            value,
            "a TicketQuery of filters only: a search orders by score, its limit and cursor "
            "are the SearchQuery's",
        )


def _limit(_instance: object, _attribute: object, value: int | None) -> None:
    whole_number(value, "limit", optional=True)


def _after(value: object) -> tuple[float, str] | None:
    if value is None:
        return None
    if (
        isinstance(value, tuple)
        and len(value) == 2
        and isinstance(value[0], (int, float))
        and not isinstance(value[0], bool)
        and value[0] == value[0]  # not NaN
        and isinstance(value[1], str)
    ):
        return float(value[0]), value[1]
    raise InvalidInput("after", value, "None or (score, ticket id) of the last ticket read")


@attrs.frozen
class SearchQuery:
    """A search a store answers: the words, the filters, a page of the ranked list.

    Tickets come best score first, ties by id; ``after`` starts past the
    ticket of that score and id (the last of the page before).

    Attributes:
        text: the host's text (user input: it is never SQL or query syntax).
        filters: a :class:`TicketQuery` whose filters must hold too (its
            order, limit and ``after`` stay at their defaults).
        limit: at most this many tickets.
        after: ``(score, id)`` of the last ticket of the page before.
        sought: the words of ``text``, folded (see :func:`words`).

    >>> SearchQuery("VPN drops, vpn!").sought
    ('vpn', 'drops')
    """

    text: str = attrs.field(validator=_search_text)
    filters: TicketQuery = attrs.field(factory=TicketQuery, validator=_filters)
    limit: int | None = attrs.field(default=None, validator=_limit)
    after: tuple[float, str] | None = attrs.field(default=None, converter=_after)
    sought: tuple[str, ...] = attrs.field(init=False)

    @sought.default
    def _sought(self) -> tuple[str, ...]:
        return words(self.text)

    def page(self, scored: Iterable[tuple[float, str]]) -> list[tuple[float, str]]:
        """Order ``(score, id)`` pairs as a search lists them, keep those past ``after``, limit."""
        ordered = sorted(scored, key=lambda pair: (-pair[0], pair[1]))
        if self.after is not None:
            last_score, last_id = self.after
            ordered = [
                pair
                for pair in ordered
                if pair[0] < last_score or (pair[0] == last_score and pair[1] > last_id)
            ]
        return ordered if self.limit is None else ordered[: self.limit]
