"""The Store protocol: what a host's storage must do for a Helpdesk."""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from ticketflow._errors import InvalidInput

if TYPE_CHECKING:
    from ticketflow._history import HistoryEvent
    from ticketflow._ticket import Ticket
    from ticketflow.storage._figures import Figures, FigureTotals, Period
    from ticketflow.storage._ledger import LedgerEntry
    from ticketflow.storage._query import TicketQuery
    from ticketflow.storage._schedule import Schedule
    from ticketflow.storage._search import SearchQuery
    from ticketflow.storage._sla import StoredSLA


@runtime_checkable
class Store(Protocol):
    """Where tickets and their histories live.  Hosts may supply their own.

    A store keeps, for each ticket, its current state and its history, and
    changes both together or not at all.  It never interprets statuses or
    checks permissions: that is the Helpdesk's job.  Every method is safe to
    call from several threads.
    """

    def new_id(self) -> str:
        """Return a ticket id never returned before, even after a purge."""
        ...

    def get(self, ticket_id: str) -> Ticket:
        """Return the ticket as last committed.

        Raises:
            TicketNotFound: no ticket has this id (never created, or purged).
        """
        ...

    def create(
        self,
        ticket: Ticket,
        event: HistoryEvent,
        *,
        schedule: Schedule = ...,
        sla: StoredSLA = ...,
        figures: Figures | None = None,
    ) -> None:
        """Store a new ticket (version 1), first event, schedule, SLA record, figures, atomically.

        ``schedule`` defaults to ``UNSCHEDULED`` (no due instant, no rule set),
        ``sla`` (its kept SLA clocks) to ``NO_SLA``, ``figures`` to None (none
        computed).

        Raises:
            ConcurrencyConflict: a ticket with this id exists (expected version 0).
            InvalidInput: the ticket and event are not version and seq 1 of one
                ticket (a caller's bug, see :func:`check_follows`); nothing was written.
        """
        ...

    def commit(
        self,
        ticket: Ticket,
        event: HistoryEvent,
        expected_version: int,
        ledger: Iterable[LedgerEntry] = (),
        *,
        schedule: Schedule = ...,
        sla: StoredSLA = ...,
        figures: Figures | None = None,
    ) -> None:
        """Replace the ticket, its schedule, SLA record and figures, append ``event``, atomically.

        Compare-and-set: the write happens only if the stored version equals
        ``expected_version``; ``ticket.version`` and ``event.seq`` are then
        ``expected_version + 1``.  The ``ledger`` entries, if any, are recorded
        for this ticket in the same step.  ``figures`` replace the stored ones
        (None: the ticket has none until they are computed again).

        Raises:
            ConcurrencyConflict: the stored version is not ``expected_version``,
                the ticket is gone, or it already holds one of the ledger
                entries (the rule already acted); nothing was written.
            InvalidInput: the ticket and event do not follow on from
                ``expected_version`` (a caller's bug, see :func:`check_follows`);
                nothing was written.
        """
        ...

    def schedule(self, ticket_id: str) -> Schedule:
        """Return the ticket's schedule as last committed.

        Raises:
            TicketNotFound: no ticket has this id.
        """
        ...

    def due(
        self,
        now: datetime,
        *,
        limit: int,
        after: tuple[datetime, str] | None = None,
        claim: bool = False,
    ) -> list[tuple[datetime, Ticket]]:
        """Return up to ``limit`` tickets whose next due instant is at or before ``now``.

        Each with that instant, ordered by it and then by id, starting past
        ``after`` (an instant and an id, as the last pair of the previous
        page), so a sweep pages through them; served by an index, so its cost
        follows the due tickets, not all of them.  With ``claim=True``, inside
        :meth:`batch`, the tickets returned are claimed until the batch ends:
        no other batch's claim returns them meanwhile (it skips them, it does
        not wait), so sweepers in several processes share the due tickets.
        """
        ...

    def batch(self) -> AbstractContextManager[None]:
        """Run the calls made inside the block in one transaction, committed when it ends.

        A write inside that raises (a conflict) undoes only itself, and the
        block carries on: each runs in its own savepoint, or (a store may do
        so for the tickets the block claimed, which no one else can move) is
        checked before it keeps anything and written with the block's others
        when the block ends or before a read that could see it.  An error
        leaving the block rolls every write of the block back.  Claims
        (``due(claim=True)``) last until the block ends, so a process that
        dies leaves nothing claimed.  A batch inside a batch is a savepoint
        of it: an error undoes the inner one alone.
        """
        ...

    def count_due(self, now: datetime) -> int:
        """How many tickets have a next due instant at or before ``now``."""
        ...

    def stale(self, rules: str, *, limit: int) -> list[Ticket]:
        """Up to ``limit`` tickets whose schedule was not computed by rule set ``rules``.

        Those whose schedule names another rule set or none, in id order;
        served by an index, so asking for one answers at once however many
        tickets there are.
        """
        ...

    def count_stale(self, rules: str) -> int:
        """How many tickets have a schedule not computed by rule set ``rules``."""
        ...

    def reschedule(self, ticket_id: str, expected_version: int, schedule: Schedule) -> bool:
        """Replace the ticket's schedule alone, if its version is as expected.

        Returns False, changing nothing, if the ticket moved on or is gone
        (whoever moved it stored a schedule with its commit).
        """
        ...

    # -- kept SLA clocks (see StoredSLA) --

    def sla(self, ticket_id: str) -> StoredSLA:
        """Return the ticket's SLA record as last committed.

        Raises:
            TicketNotFound: no ticket has this id.
        """
        ...

    def sla_queue(
        self,
        query: TicketQuery,
        *,
        limit: int,
        after: tuple[datetime, str] | None = None,
    ) -> list[tuple[StoredSLA, Ticket]]:
        """Return up to ``limit`` tickets ``query`` selects whose SLA record has a due instant.

        Each with its record, ordered by the due instant and then by id,
        starting past ``after`` (the due instant and id of the last ticket of
        the previous page);
        only the query's filters count, not its order or limit.  Served by an
        index on the due instant, so the first page costs what it returns.
        """
        ...

    def sla_untimed(
        self, query: TicketQuery, *, limit: int, after: str | None = None
    ) -> list[tuple[StoredSLA, Ticket]]:
        """Return up to ``limit`` tickets ``query`` selects whose SLA record has no due instant.

        Each with its record, in id order, starting past ``after`` (the id of
        the last ticket of the previous page); only the query's filters
        count, not its order or limit.  What an SLA queue lists after the
        tickets :meth:`sla_queue` gives, a page at a time.
        """
        ...

    def sla_stale(self, policies: str, *, limit: int) -> list[Ticket]:
        """Up to ``limit`` tickets whose SLA record was not kept under ``policies``, in id order.

        Served by an index, as :meth:`stale` is.
        """
        ...

    def count_sla_stale(self, policies: str) -> int:
        """How many tickets have an SLA record not kept under ``policies``."""
        ...

    def restate_sla(self, ticket_id: str, expected_version: int, sla: StoredSLA) -> bool:
        """Replace the ticket's SLA record alone, if its version is as expected.

        Returns False, changing nothing, if the ticket moved on or is gone
        (whoever moved it stored a record with its commit).
        """
        ...

    # -- stored figures (see Figures) --

    def figures(self, ticket_id: str) -> Figures | None:
        """Return the ticket's figures as last committed (None: none computed).

        Raises:
            TicketNotFound: no ticket has this id.
        """
        ...

    def refigure(self, ticket_id: str, expected_version: int, figures: Figures) -> bool:
        """Replace the ticket's figures alone, if its version is as expected.

        Returns False, changing nothing, if the ticket moved on or is gone
        (whoever moved it stored figures with its commit).
        """
        ...

    def unfigured(self, key: str, *, limit: int) -> list[Ticket]:
        """Up to ``limit`` tickets whose figures were not computed under ``key``, in id order.

        Those whose figures name another key or none; served by an index.
        """
        ...

    def count_unfigured(self, key: str) -> int:
        """How many tickets have figures not computed under ``key`` (or none)."""
        ...

    def aggregate(
        self,
        query: TicketQuery,
        *,
        now: datetime,
        created: Period | None = None,
        resolved: Period | None = None,
    ) -> FigureTotals:
        """Add up the stored figures of the tickets ``query`` selects, overall and per breakdown.

        The tickets are those :meth:`query` returns (filters, order and
        limit), less those not created in ``created`` or whose standing
        resolution (creation plus ``Figures.resolution``) is not in
        ``resolved``.  An SLA target's clock counts as decided if it was met
        or breached at its last commit, or runs and breaches at or before
        ``now``.  Groups are the breakdowns of ``ticketflow.storage``'s
        figures (department, priority, assignee, tag, status), in name order.
        Tickets without figures count as tickets with none of them: callers
        check :meth:`count_unfigured` first.
        """
        ...

    def fired(self, rule: str, ticket_id: str, episode: datetime) -> bool:
        """Whether the ledger holds an entry of ``rule`` for the ticket and episode."""
        ...

    def history(self, ticket_id: str) -> list[HistoryEvent]:
        """Return the ticket's events in order, oldest first.

        Raises:
            TicketNotFound: no ticket has this id.
        """
        ...

    def query(self, query: TicketQuery) -> list[Ticket]:
        """Return the tickets that match ``query``, ordered and limited as it says.

        With ``query.after``, only those past that position of the order
        (keyset paging: served by a range of the order, never an offset).
        """
        ...

    def search(self, search: SearchQuery) -> list[tuple[float, Ticket]]:
        """Return the tickets whose text holds every word sought, with their scores.

        A ticket's text is its subject, description and the bodies of its
        events named in ``SEARCHED_EVENTS``, indexed in the transaction of
        each create and commit.  Only tickets that pass ``search.filters``;
        best score first, ties by id; past ``search.after`` (a score and an
        id); at most ``search.limit``.  A ticket's score depends on its own
        text and the words alone, never on other tickets, so creating
        tickets never moves the others in the list.  The host's text is
        never read as query syntax.

        Raises:
            InvalidInput: ``search`` is not a SearchQuery.
        """
        ...

    def purge(self, ticket_id: str, expected_version: int) -> None:
        """Remove the ticket, its history and its ledger entries, if its version is as expected.

        Raises:
            TicketNotFound: no ticket has this id.
            ConcurrencyConflict: the stored version is not ``expected_version``.
        """
        ...


def check_follows(ticket: Ticket, event: HistoryEvent, expected_version: int) -> None:
    """Raise InvalidInput unless ``ticket`` and ``event`` follow on from ``expected_version``.

    The precondition of ``Store.create`` (expected version 0) and ``Store.commit``:
    stores call it before writing, so a caller's bug never reaches storage.
    """
    if event.ticket_id != ticket.id:
        raise InvalidInput("event.ticket_id", event.ticket_id, f"the ticket's id {ticket.id!r}")
    if ticket.version != expected_version + 1 or event.seq != ticket.version:
        raise InvalidInput(
            "ticket.version/event.seq",
            (ticket.version, event.seq),
            f"both {expected_version + 1}, one past the expected version {expected_version}",
        )
