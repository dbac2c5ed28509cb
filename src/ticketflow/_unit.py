"""The unit of work: the one piece of code that commits a ticket's change.

Every change to a stored ticket takes the same path: read the ticket, run a
pure *step* on it (which checks whatever it must and returns what changes, or
nothing), commit the new ticket, its history event and its ledger entries in
one compare-and-set write (or purge the ticket), then run the hooks.  When a
concurrent writer moved the ticket first, the ticket is read again and the
step re-run, so every check sees the ticket as it now stands.  Commands, the
rules sweep and workflow migrations all commit through here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple, Protocol, TypeVarTuple

from ticketflow._clock import Clock
from ticketflow._errors import ConcurrencyConflict, HookFailed, TicketflowError
from ticketflow._history import HistoryEvent
from ticketflow._ticket import Ticket
from ticketflow._validate import to_utc, whole_number
from ticketflow.storage import (
    NO_SLA,
    UNSCHEDULED,
    Figures,
    LedgerEntry,
    Schedule,
    Store,
    StoredSLA,
)
from ticketflow.storage._outbox import OutboxStore

if TYPE_CHECKING:  # the rules build on this layer; a desk hands their types in at run time
    from ticketflow.rules._context import Clocks

Hook = Callable[[Ticket, HistoryEvent], None]
"""Called after each commit with the committed ticket and its new history event."""


class Plan(Protocol):
    """Computes the schedule committed with a ticket, its new event, its ledger entries.

    The last positional argument is the history before the event, when the
    caller has it; ``clocks``, the ticket's SLA clocks as just kept (see
    :class:`Measure`), so the schedule need not measure them from the history.
    """

    def __call__(
        self,
        ticket: Ticket,
        event: HistoryEvent,
        ledger: Sequence[LedgerEntry],
        history: Sequence[HistoryEvent] | None,
        /,
        *,
        clocks: Clocks | None = None,
    ) -> Schedule: ...


class Figuring(Protocol):
    """Computes the figures committed with a ticket.

    From the ticket read (None: a new one), the ticket after the change, its
    new event, the history before the event if at hand, and the ticket's SLA
    clocks as the same commit keeps them (see :class:`Measure`).
    """

    def __call__(
        self,
        read: Ticket | None,
        ticket: Ticket,
        event: HistoryEvent,
        history: Sequence[HistoryEvent] | None,
        clocks: Clocks | None = None,
        /,
    ) -> Figures | None: ...


def _no_figures(
    _read: Ticket | None,
    _ticket: Ticket,
    _event: HistoryEvent,
    _history: Sequence[HistoryEvent] | None,
    _clocks: Clocks | None = None,
    /,
) -> Figures | None:
    return None


def _unscheduled(
    _ticket: Ticket,
    _event: HistoryEvent,
    _ledger: Sequence[LedgerEntry],
    _history: Sequence[HistoryEvent] | None,
    /,
    *,
    clocks: Clocks | None = None,
) -> Schedule:
    return UNSCHEDULED


class Measured(NamedTuple):
    """A ticket's SLA clocks kept for a commit: the record to store, and the clocks to read."""

    sla: StoredSLA
    clocks: Clocks | None


Measure = Callable[[Ticket, HistoryEvent, Sequence[HistoryEvent] | None], Measured]
"""Folds a new event (which made the ticket) into the ticket's kept SLA clocks.

The last argument is the history before the event, when the caller has it.
"""


def _unmeasured(
    _ticket: Ticket, _event: HistoryEvent, _history: Sequence[HistoryEvent] | None
) -> Measured:
    return Measured(NO_SLA, None)


class Change(NamedTuple):
    """What a step produced: the new ticket and its event, and what else to commit with them.

    Attributes:
        ticket: the ticket after the change.
        event: the history event recording it.
        ledger: once-only entries of the rules that acted, kept in the same commit.
        purge: remove the ticket and its history instead of storing ``ticket``.
        history: the ticket's events before ``event``, if the step read them
            already (the schedule then needs no second read).
    """

    ticket: Ticket
    event: HistoryEvent
    ledger: Sequence[LedgerEntry] = ()
    purge: bool = False
    history: Sequence[HistoryEvent] | None = None


Ts = TypeVarTuple("Ts")
"""The arguments a step takes after the ticket."""


class UnitOfWork:
    """Reads, steps, commits with compare-and-set and retry, then runs the hooks.

    Args:
        store: where tickets live.
        clock: where time comes from.
        hooks: called after every commit, in order; the list is shared with
            the owner, who may add and remove hooks.
        retries: how many times a step is re-run from a fresh read after a
            conflict before the conflict is raised.
    """

    __slots__ = (
        "_local",
        "clock",
        "figure",
        "hooks",
        "measure",
        "outbox",
        "outbox_events",
        "plan",
        "retries",
        "store",
    )

    def __init__(self, store: Store, clock: Clock, hooks: list[Hook], retries: int) -> None:
        whole_number(retries, "retries")
        self.store = store
        self.clock = clock
        self.hooks = hooks
        self.retries = retries
        self.plan: Plan = _unscheduled
        """Computes each commit's schedule; the owner sets it from its rules."""
        self.measure: Measure = _unmeasured
        """Keeps each commit's SLA clocks; the owner sets it from its SLA policies."""
        self.figure: Figuring = _no_figures
        """Computes each commit's figures; the owner sets it (None: the store keeps none)."""
        self._local = threading.local()  # the batch this thread runs, if any
        self.outbox: OutboxStore | None = None
        """The store, when commits write outbox records too (the owner sets it); else None."""
        self.outbox_events: frozenset[str] | None = None
        """The event names that get an outbox record; None for every event."""

    @contextmanager
    def batch(self, failed: list[HookFailed]) -> Iterator[None]:
        """Commit everything run inside in one store transaction; then run the hooks.

        Each commit inside is its own savepoint of the batch (``Store.batch``),
        so a conflict undoes only itself and is retried as ever.  The hooks of
        the commits run once the batch has committed, in order, their failures
        added to ``failed``; a batch that rolls back (an error leaves the
        block) runs none, since nothing it did was kept.  A batch inside a
        batch is a savepoint of it: an error undoes only the inner one's
        writes, and the hooks of its commits wait for the outer one.
        """
        outer: list[tuple[Ticket, HistoryEvent]] | None = getattr(self._local, "deferred", None)
        deferred: list[tuple[Ticket, HistoryEvent]] = []
        self._local.deferred = deferred
        try:
            with self.store.batch():
                yield
        finally:
            self._local.deferred = outer
        if outer is not None:  # inside another batch: its hooks wait for that one
            outer.extend(deferred)
            return
        for ticket, event in deferred:
            try:
                self.notify(ticket, event)
            except HookFailed as failure:
                failed.append(failure)

    def now(self, ticket: Ticket | None = None) -> datetime:
        """The clock's time, never earlier than ``ticket``'s last update.

        Clocks of several hosts can disagree by a little; a ticket's history
        must not go backwards.
        """
        now = to_utc(self.clock.now(), "clock.now()")
        if ticket is not None and now < ticket.updated_at:
            return ticket.updated_at
        return now

    def create(self, ticket: Ticket, event: HistoryEvent) -> Ticket:
        """Store a new ticket with its ``create`` event, then run the hooks."""
        sla, clocks = self.measure(ticket, event, ())
        schedule = self.plan(ticket, event, (), (), clocks=clocks)
        figures = self.figure(None, ticket, event, (), clocks)
        if self.outbox is None:
            self.store.create(ticket, event, schedule=schedule, sla=sla, figures=figures)
        else:
            self.outbox.create(
                ticket,
                event,
                schedule=schedule,
                sla=sla,
                figures=figures,
                outbox=self._records(event),
            )
        self.notify(ticket, event)
        return ticket

    def run(
        self,
        ticket_id: str,
        step: Callable[[Ticket, *Ts], Change | None],
        *args: *Ts,
        read: Ticket | None = None,
        failed: list[HookFailed] | None = None,
    ) -> Change | None:
        """Read the ticket, run ``step(ticket, *args)``, commit what it returns, run the hooks.

        Args:
            ticket_id: the ticket.
            step: the pure check-and-change; re-run after each conflict.
            args: passed to ``step`` after the ticket (so that a command's
                step is a plain method, not a closure made for each command).
            read: the ticket as the caller already read it, used for the first
                attempt instead of reading it again (a stale copy only costs a
                conflict and a retry).  Without it, a store that remembers
                the tickets it committed (``store.recent(ticket_id)``, as
                ``PostgresStore`` does) saves the read: a remembered copy
                that moved on costs a conflict, and a refusal or a step that
                does nothing on it is decided again on the stored row.
            failed: where a batch collects hook failures: given, a failing
                hook's :class:`HookFailed` is added to it instead of raised.

        Returns:
            The committed change, or None if the step left the ticket alone.

        Raises:
            ConcurrencyConflict: other writers kept moving the ticket, more than
                ``retries`` times.
            HookFailed: the change was committed, but hooks raised (unless
                ``failed`` collects it).
        """
        attempt = 0
        recent = getattr(self.store, "recent", None) if read is None else None
        while True:
            remembered = None if attempt or recent is None else recent(ticket_id)
            if attempt == 0 and read is not None:
                ticket = read
            else:
                ticket = self.store.get(ticket_id) if remembered is None else remembered
            try:
                change = step(ticket, *args)
            except TicketflowError:
                if remembered is None:
                    raise
                recent = None  # refused on a remembered copy: decide on the stored row
                continue
            if change is None:
                if remembered is None:
                    return None
                recent = None  # nothing to do on a remembered copy: ask the stored row
                continue
            try:
                self._commit(ticket, change)
            except ConcurrencyConflict:
                if remembered is not None:
                    recent = None  # the remembered copy moved on: not a retry, a first read
                    continue
                attempt += 1
                if attempt > self.retries:
                    raise
                continue
            self._after(change, failed)
            return change

    def _commit(self, read: Ticket, change: Change) -> None:
        """Write ``change`` over ``read``: a purge, or a commit with all it derives."""
        if change.purge:
            self.store.purge(read.id, read.version)
            return
        # The history is read only where something cannot be folded on what is
        # stored (each reader reads it itself), unless the change has it.
        before = change.history
        sla, clocks = self.measure(change.ticket, change.event, before)
        schedule = self.plan(change.ticket, change.event, change.ledger, before, clocks=clocks)
        figures = self.figure(read, change.ticket, change.event, before, clocks)
        if self.outbox is None:
            self.store.commit(
                change.ticket,
                change.event,
                read.version,
                change.ledger,
                schedule=schedule,
                sla=sla,
                figures=figures,
            )
            return
        self.outbox.commit(
            change.ticket,
            change.event,
            read.version,
            change.ledger,
            schedule=schedule,
            sla=sla,
            figures=figures,
            outbox=self._records(change.event),
        )

    def _records(self, event: HistoryEvent) -> bool:
        """Whether ``event`` gets an outbox record."""
        return self.outbox_events is None or event.name in self.outbox_events

    def _after(self, change: Change, failed: list[HookFailed] | None) -> None:
        """Run the hooks of a committed change, or keep them for the end of the batch."""
        deferred = getattr(self._local, "deferred", None)
        if deferred is not None:
            deferred.append((change.ticket, change.event))
        elif self.hooks:
            try:
                self.notify(change.ticket, change.event)
            except HookFailed as failure:
                if failed is None:
                    raise
                failed.append(failure)

    def notify(self, ticket: Ticket, event: HistoryEvent) -> None:
        """Run every hook; if some raise, raise :class:`HookFailed` with them all after."""
        errors: list[BaseException] = []
        for hook in list(self.hooks):
            try:
                hook(ticket, event)
            except Exception as error:  # noqa: BLE001 - every hook runs; all failures are reported together
                errors.append(error)
        if errors:
            raise HookFailed(ticket, errors)
