"""The once-only ledger: which rule already acted on which ticket, for which episode."""

from __future__ import annotations

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
