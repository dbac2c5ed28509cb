"""The once-only ledger: which rule already acted on which ticket, for which episode."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import attrs

from ticketflow._validate import text, to_utc


def _rule(value: object) -> str:
    return text(value, "LedgerEntry.rule")


def _instant(value: object) -> datetime:
    return to_utc(value, "LedgerEntry time")


@attrs.frozen
class LedgerEntry:
    """A record that ``rule`` acted on a ticket for one episode, kept with that action's commit.

    An automation rule acts at most once per episode: the episode is the
    instant that made the ticket due (say, the customer's last reply before a
    reminder).  A store writes the entries of a commit in the same transaction
    as the ticket and its event, and refuses a commit whose entry it already
    holds, so that no sweep, however many run at once, acts twice.

    Attributes:
        rule: the rule's name.
        episode: the instant that made the ticket due (aware UTC).
        fired_at: when the rule acted.

    >>> from datetime import UTC, datetime, timedelta, timezone
    >>> replied = datetime(2026, 1, 5, 10, 0, tzinfo=timezone(timedelta(hours=1)))
    >>> entry = LedgerEntry("remind", replied, datetime(2026, 1, 8, tzinfo=UTC))
    >>> entry.rule, entry.episode.isoformat()
    ('remind', '2026-01-05T09:00:00+00:00')
    """

    rule: str = attrs.field(converter=_rule)
    episode: datetime = attrs.field(converter=_instant)
    fired_at: datetime = attrs.field(converter=_instant)


Mark = tuple[str, datetime]
"""A ledger entry's key: the rule and the episode it acted for."""

_KNOWN_TICKETS = 4096
"""How many tickets' marks a store object remembers."""


class RecentMarks:
    """The ledger marks of the tickets a store object wrote itself, each as of a version.

    Ledger entries are written only with a commit of their ticket (which
    moves its version on) and deleted only with the ticket, so the marks of
    a version known here are the ledger rows of that version, wherever read:
    a commit's schedule asks them of the version it replaces instead of
    reading the ledger.  A store keeps them for writes in a transaction of
    their own (a batch may still roll back: it forgets what it writes).
    """

    __slots__ = ("_known",)

    def __init__(self) -> None:
        self._known: dict[str, tuple[int, frozenset[Mark]]] = {}

    def created(self, ticket_id: str) -> None:
        """A ticket was created: version 1, nothing in its ledger."""
        self._keep(ticket_id, 1, frozenset())

    def committed(
        self, ticket_id: str, expected: int, version: int, entries: Iterable[LedgerEntry]
    ) -> None:
        """A commit moved the ticket from ``expected`` to ``version``, writing ``entries``.

        Known after it only if the marks of ``expected`` were.
        """
        before = self._known.pop(ticket_id, None)
        if before is not None and before[0] == expected:
            added = {(entry.rule, entry.episode) for entry in entries}
            self._keep(ticket_id, version, before[1] | added if added else before[1])

    def forget(self, ticket_id: str) -> None:
        """Know nothing of the ticket's ledger (written in a batch, or purged)."""
        self._known.pop(ticket_id, None)

    def at(self, ticket_id: str, version: int) -> frozenset[Mark] | None:
        """The ticket's marks as of ``version``, if known."""
        found = self._known.get(ticket_id)
        return found[1] if found is not None and found[0] == version else None

    def _keep(self, ticket_id: str, version: int, marks: frozenset[Mark]) -> None:
        if len(self._known) >= _KNOWN_TICKETS:
            self._known.clear()
        self._known[ticket_id] = (version, marks)
