"""A desk's kept SLA clocks in its store: folded at each commit, read, recomputed.

Every commit through the unit of work asks :meth:`SLAKeeping.measure` for
the ticket's record: the record of the version before (from the store) with
the new event folded in.  A record kept under other policies, or missing,
is rebuilt from the history first, so a commit always stores a record true
to this desk's policies.  Reads (:meth:`SLAKeeping.states`, the SLA queue)
refuse records kept under other policies with :class:`SLAOutOfDate` until
:meth:`SLAKeeping.recompute` has replayed the histories.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from ticketflow._errors import InvalidInput, SLAOutOfDate, TicketNotFound
from ticketflow._history import HistoryEvent
from ticketflow._ticket import Ticket
from ticketflow._unit import Measured
from ticketflow._validate import whole_number
from ticketflow._workflow import Workflow
from ticketflow.rules._context import Context
from ticketflow.sla._clocks import SLAState
from ticketflow.sla._policy import SLAPolicy
from ticketflow.sla._state import Clock, Kept, SLAKeeper, encode, kept_from
from ticketflow.storage import Store, StoredSLA

_KNOWN = 4096
"""How many tickets' last kept records a desk remembers, to skip decoding them again."""

Progress = Callable[[str, int, int], None]
"""Called as ``progress("recompute_sla", done, total)`` while recomputing."""


class KeptClocks:
    """The clocks of one kept record, measured at whatever instant a context asks.

    Each instant is measured once: a commit's schedule asks about the same
    instants for several rules.
    """

    __slots__ = ("keeper", "kept", "measured")

    def __init__(self, keeper: SLAKeeper, kept: Kept) -> None:
        self.keeper = keeper
        self.kept = kept
        self.measured: dict[datetime, tuple[SLAPolicy | None, tuple[SLAState, ...]]] = {}

    def at(self, now: datetime) -> tuple[SLAPolicy | None, tuple[SLAState, ...]]:
        """The policy in force and its targets' states at ``now``."""
        found = self.measured.get(now)
        if found is None:
            found = self.measured[now] = self.keeper.states(self.kept, now)
        return found

    def __call__(self, context: Context) -> tuple[SLAPolicy | None, tuple[SLAState, ...]]:
        return self.at(context.now)

    def due_at(self) -> datetime | None:
        """The nearest due instant of the running clocks at the record's last event."""
        try:
            _policy, states = self.at(self.kept.at)
        except InvalidInput:  # one falls due past the end of time: the others may not
            return self.keeper.due_at(self.kept)
        nearest = None
        for state in states:
            due = state.due_at
            if state.running and due is not None and (nearest is None or due < nearest):
                nearest = due
        return nearest


class SLAKeeping:
    """A desk's SLA policies and workflow, keeping each ticket's clocks in ``store``.

    Args:
        policies: the desk's SLA policies, in order.
        workflow: the desk's workflow.
        store: where the records are kept.
    """

    __slots__ = ("keeper", "known", "store", "texts")

    def __init__(self, policies: Iterable[SLAPolicy], workflow: Workflow, store: Store) -> None:
        self.keeper = SLAKeeper(policies, workflow)
        self.store = store
        self.known: dict[str, tuple[str, Kept]] = {}
        """The record last kept for each ticket, with its text: the same text needs no decoding."""
        self.texts: dict[Clock, str] = {}
        """The text of clocks encoded before: most stand as they were, commit to commit."""

    def decoded(self, ticket_id: str, found: StoredSLA, seq: int | None = None) -> Kept | None:
        """``found``'s record if kept under these policies (and of version ``seq``, if given).

        A record decoded before (or kept by this desk) is not decoded again.
        """
        if found.policies != self.fingerprint:
            return None
        known = self.known.get(ticket_id)
        if known is not None and known[0] == found.state:
            kept: Kept | None = known[1]
        else:
            kept = kept_from(found.state)
            if kept is not None:
                self._know(ticket_id, found.state, kept)
        return kept if kept is None or seq is None or kept.seq == seq else None

    def _know(self, ticket_id: str, text: str, kept: Kept) -> None:
        if len(self.known) >= _KNOWN:
            self.known.clear()
        self.known[ticket_id] = (text, kept)

    @property
    def fingerprint(self) -> str:
        """The fingerprint of the policies and workflow the records are kept under."""
        return self.keeper.fingerprint

    def stored(self, kept: Kept | None, clocks: KeptClocks | None = None) -> StoredSLA:
        """The record to store for ``kept`` (None: no policy, nothing kept)."""
        if kept is None:
            return StoredSLA(None, self.fingerprint, "")
        due = (clocks or KeptClocks(self.keeper, kept)).due_at()
        return StoredSLA(due, self.fingerprint, encode(kept, self.texts))

    def measure(
        self, ticket: Ticket, event: HistoryEvent, before: Sequence[HistoryEvent] | None
    ) -> Measured:
        """The record to commit with ``ticket`` and its new ``event``, and its clocks.

        ``before``, if the caller has it, is the history before ``event``;
        it is read only when the stored record cannot be folded on (kept
        under other policies, of another version, or never kept).
        """
        if not self.keeper.policies:
            return Measured(self.stored(None), None)
        previous: Kept | None = None
        if event.seq > 1:
            store = self.store
            # A store may remember the record it committed last (recent_sla, optional):
            # the record of the version it names, which saves reading it.
            recent = getattr(store, "recent_sla", None)
            found = recent(ticket.id) if recent is not None else None
            if found is not None:
                previous = self.decoded(ticket.id, found, event.seq - 1)
            if previous is None:
                previous = self.decoded(ticket.id, store.sla(ticket.id), event.seq - 1)
            if previous is None:
                history = before
                if history is None:
                    history = [old for old in store.history(ticket.id) if old.seq < event.seq]
                previous = self.keeper.replay(history)
        kept = self.keeper.step(previous, ticket, event)
        clocks = KeptClocks(self.keeper, kept)
        stored = self.stored(kept, clocks)
        self._know(ticket.id, stored.state, kept)
        return Measured(stored, clocks)

    def read(self, ticket_id: str) -> Kept | None:
        """The ticket's kept record (None: no policy covers anything).

        Raises:
            TicketNotFound: no such ticket.
            SLAOutOfDate: the record was kept under other policies (or never).
        """
        found = self.store.sla(ticket_id)
        if not self.keeper.policies:
            return None
        if found.policies != self.fingerprint:
            raise SLAOutOfDate(ticket_id, found.policies, self.fingerprint)
        kept = self.decoded(ticket_id, found)
        if kept is None:
            raise SLAOutOfDate(ticket_id, None, self.fingerprint)
        return kept

    def clocks(self, ticket_id: str) -> KeptClocks | None:
        """The ticket's kept clocks, to measure at any instant; None without a fresh record."""
        if not self.keeper.policies:
            return None
        kept = self.decoded(ticket_id, self.store.sla(ticket_id))
        return None if kept is None else KeptClocks(self.keeper, kept)

    def states(self, kept: Kept | None, now: datetime) -> tuple[SLAState, ...]:
        """The states of the record's targets at ``now`` (none without a record)."""
        return () if kept is None else self.keeper.states(kept, now)[1]

    def check(self) -> None:
        """Raise :class:`SLAOutOfDate` if a stored record was kept under other policies."""
        if not self.keeper.policies:
            return
        stale = self.store.sla_stale(self.fingerprint, limit=1)
        if stale:
            found = self.store.sla(stale[0].id).policies
            raise SLAOutOfDate(stale[0].id, found, self.fingerprint)

    def recompute(
        self, *, batch: int = 500, progress: Progress | None = None, retries: int = 3
    ) -> int:
        """Replay the history of every ticket kept under other policies; return how many.

        ``batch`` tickets at a time, each page in one store transaction;
        interrupted, it resumes where it stopped, since the tickets done are
        no longer stale.  A ticket that moves meanwhile is kept by its own
        commit (under whichever policies its writer runs).
        """
        if whole_number(batch, "batch") == 0:
            raise InvalidInput("batch", batch, "a whole number of at least 1")
        if progress is not None and not callable(progress):
            raise InvalidInput("progress", progress, "None or a function (what, done, total)")
        store = self.store
        fingerprint = self.fingerprint
        total = store.count_sla_stale(fingerprint) if progress is not None else 0
        done = 0
        tried: set[str] = set()
        while True:
            page = store.sla_stale(fingerprint, limit=batch)
            fresh = [ticket for ticket in page if ticket.id not in tried]
            if not fresh:  # none left, or only those another writer keeps moving
                return done
            with store.batch():
                for ticket in fresh:
                    tried.add(ticket.id)
                    self._restate(ticket, retries)
                    done += 1
                    if progress is not None:
                        progress("recompute_sla", done, max(total, done))

    def _restate(self, ticket: Ticket, retries: int) -> None:
        """Store the record replayed from ``ticket``'s history, retrying if it moves."""
        store = self.store
        current = ticket
        for _attempt in range(retries + 1):
            try:
                history = store.history(current.id)
            except TicketNotFound:
                return
            if history[-1].seq == current.version:
                kept = self.keeper.replay(history) if self.keeper.policies else None
                if store.restate_sla(current.id, current.version, self.stored(kept)):
                    return
            try:
                current = store.get(current.id)
            except TicketNotFound:
                return
