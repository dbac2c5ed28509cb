"""What a sweep reports: firings, skips, and the next due rule."""

from __future__ import annotations

from datetime import datetime

import attrs

# -- what a sweep reports ---------------------------------------------------------------


@attrs.frozen
class Firing:
    """One rule acting (or, in a dry run, about to act) on one ticket.

    Attributes:
        rule: the rule's name.
        ticket_id: the ticket.
        episode: the instant the rule counted from; with the rule and the
            ticket, the key that makes it act only once.
        event: the event it fired.
        from_status: the status before.
        to_status: the status after.
        at: when.
    """

    rule: str
    ticket_id: str
    episode: datetime
    event: str
    from_status: str
    to_status: str
    at: datetime


@attrs.frozen
class Skip:
    """A rule whose condition held but whose action was refused (by the workflow or the policy)."""

    rule: str
    ticket_id: str
    reason: str


@attrs.frozen
class RuleReport:
    """What a sweep did, or in a dry run would do.

    Attributes:
        at: the sweep's "now".
        dry_run: True if nothing was committed.
        fired: every firing, in the order made: the due tickets by their due
            instant, each against the rules in order, then the rules whose
            conditions do not predict, each over its candidates.
        skipped: firings the workflow or the policy refused.
    """

    at: datetime
    dry_run: bool
    fired: tuple[Firing, ...] = ()
    skipped: tuple[Skip, ...] = ()

    def by_rule(self) -> dict[str, int]:
        """How many times each rule fired, for rules that fired."""
        counts: dict[str, int] = {}
        for firing in self.fired:
            counts[firing.rule] = counts.get(firing.rule, 0) + 1
        return counts

    def __len__(self) -> int:
        return len(self.fired)


@attrs.frozen
class Due:
    """The next rule that will act on a ticket, and when, if nothing else happens first."""

    rule: str
    at: datetime
