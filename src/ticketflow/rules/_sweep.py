"""The sweep: apply the rules at an instant, each at most once per ticket and episode.

Each enabled rule asks the store for its candidates (an indexed query, so a
sweep costs what is due, not what exists), evaluates its condition on each
candidate's :class:`Context`, and acts as the system actor, through the policy
and the workflow like any command, committing its ledger entry with the
action.  One context is kept per ticket for the whole sweep, so a ticket's
history and SLA clocks are read at most once however many rules look at it,
and a rule that acts hands the next rules the ticket as it now stands.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING

import attrs

from ticketflow._actor import Actor
from ticketflow._errors import (
    ConcurrencyConflict,
    HookFailed,
    IllegalTransition,
    InvalidInput,
    PermissionDenied,
    ScheduleOutOfDate,
    StorageError,
    TicketNotFound,
)
from ticketflow._policy import Policy
from ticketflow._ticket import Ticket
from ticketflow._unit import Change, UnitOfWork
from ticketflow._validate import whole_number
from ticketflow._workflow import Workflow
from ticketflow.rules._context import Context
from ticketflow.rules._report import Due, Firing, RuleReport, Skip
from ticketflow.rules._rule import Rule
from ticketflow.rules._schedule import Scheduler
from ticketflow.storage import LedgerEntry

if TYPE_CHECKING:
    from ticketflow.rules._context import Clocks

Progress = Callable[[str, int, int], None]
"""Called as ``progress(rule, done, candidates)`` while a sweep works through a rule."""

_SYSTEM = Actor.system()


def unique_rules(rules: Iterable[Rule]) -> tuple[Rule, ...]:
    """Return ``rules`` as a tuple, refusing anything but rules with distinct names."""
    if not isinstance(rules, Iterable) or isinstance(rules, (str, Rule)):
        raise InvalidInput("rules", rules, "Rule objects, in a list")
    given = tuple(rules)
    for rule in given:
        if not isinstance(rule, Rule):
            raise InvalidInput("rules", rule, "Rule objects, such as those of default_rules()")
    names = [rule.name for rule in given]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise InvalidInput("rules", twice, "rules with unique names")
    return given


def _batch_size(value: object) -> None:
    """Refuse a ``batch=`` that is not a whole number of at least 1."""
    if whole_number(value, "batch") == 0:
        raise InvalidInput("batch", value, "a whole number of at least 1")


@attrs.define
class _Run:
    """What one sweep has done so far."""

    now: datetime
    dry_run: bool
    limit: int | None
    progress: Progress | None
    stop: Callable[[], bool] | None = None
    fired: list[Firing] = attrs.Factory(list)
    skipped: list[Skip] = attrs.Factory(list)
    failed: list[HookFailed] = attrs.Factory(list)
    contexts: dict[str, Context] = attrs.Factory(dict)
    done: int = 0

    @property
    def full(self) -> bool:
        """Whether the sweep fired as many as its limit allows."""
        return self.limit is not None and len(self.fired) >= self.limit

    @property
    def over(self) -> bool:
        """Whether the sweep is full or was told to stop."""
        return self.full or (self.stop is not None and bool(self.stop()))

    def marks(self) -> tuple[int, int, int]:
        """How much the sweep has reported so far, to undo a batch that rolls back."""
        return len(self.fired), len(self.skipped), len(self.failed)

    def undo(self, marks: tuple[int, int, int], page: list[tuple[datetime, Ticket]]) -> None:
        """Forget what a rolled-back batch reported, and the contexts of its tickets."""
        del self.fired[marks[0] :], self.skipped[marks[1] :], self.failed[marks[2] :]
        for _at, ticket in page:
            self.contexts.pop(ticket.id, None)


def _check_arguments(dry_run: object, limit: object, progress: object) -> None:
    if not isinstance(dry_run, bool):
        raise InvalidInput("dry_run", dry_run, "True or False")
    whole_number(limit, "limit", optional=True)
    if progress is not None and not callable(progress):
        raise InvalidInput("progress", progress, "None or a function (rule, done, total)")


BATCH = 100
"""How many due tickets a sweep claims and fires on in one transaction, by default."""

_EVERY_RULE = "*"
"""The rule a skip names when a ticket failed as a whole (its batch of one rolled back)."""


_Refused = (IllegalTransition, PermissionDenied, InvalidInput, ConcurrencyConflict)
"""What stops one rule on one ticket without stopping the sweep: it is reported as a skip."""


@attrs.frozen
class Sweep:
    """The rules of a desk, applied through its unit of work under its workflow and policy.

    Building it makes its :class:`Scheduler` the unit's planner, so every
    commit through the unit stores the ticket's next due instant under these
    rules.  ``covers`` is what else the schedule depends on (a desk passes
    its SLA policies), for the rule set's fingerprint.
    """

    unit: UnitOfWork
    workflow: Workflow
    policy: Policy
    rules: tuple[Rule, ...]
    clocks: Clocks | None = None
    covers: tuple[object, ...] = ()
    scheduler: Scheduler = attrs.field(init=False)

    @scheduler.default
    def _scheduler(self) -> Scheduler:
        return Scheduler(self.rules, self.workflow, self.unit.store, self.clocks, self.covers)

    def __attrs_post_init__(self) -> None:
        self.unit.plan = self.scheduler.plan

    def context(self, ticket: Ticket, now: datetime) -> Context:
        """A fresh context for ``ticket`` at ``now``: history and clocks read when asked."""
        store = self.unit.store
        return Context(
            ticket,
            now,
            self.workflow,
            history=lambda: store.history(ticket.id),
            clocks=self.clocks,
        )

    def check_schedule(self) -> None:
        """Raise :class:`ScheduleOutOfDate` if a stored ticket was scheduled by other rules."""
        stale = self.unit.store.stale(self.scheduler.fingerprint, limit=1)
        if stale:
            found = self.unit.store.schedule(stale[0].id).rules
            raise ScheduleOutOfDate(stale[0].id, found, self.scheduler.fingerprint)

    def run(
        self,
        *,
        dry_run: bool = False,
        limit: int | None = None,
        progress: Progress | None = None,
        batch: int = BATCH,
        stop: Callable[[], bool] | None = None,
    ) -> RuleReport:
        """Apply every enabled rule at the clock's now; return what fired (see ``run_rules``).

        The rules whose conditions predict act on the tickets the stored
        schedule says are due: ``batch`` of them at a time are claimed and
        fired in one store transaction (a refused firing undoes only itself, the
        hooks run once the batch has committed), so sweepers in several
        processes share the due tickets and a killed one leaves nothing
        claimed.  The other rules then act on the candidates their store
        queries find.  ``stop`` is asked before each batch.
        """
        _check_arguments(dry_run, limit, progress)
        _batch_size(batch)
        if stop is not None and not callable(stop):
            raise InvalidInput("stop", stop, "None or a function telling the sweep to stop")
        now = self.unit.now()
        self.check_schedule()
        run = _Run(now, dry_run, limit, progress, stop)
        if self.scheduler.scheduled:
            self._due(run, batch)
        for rule in self.scheduler.unscheduled:
            if run.over:
                break
            candidates = self.unit.store.query(rule.candidates(now, self.workflow))
            for done, candidate in enumerate(candidates, start=1):
                if run.full:
                    break
                self._try(run, rule, candidate)
                if progress is not None:
                    progress(rule.name, done, len(candidates))
        report = RuleReport(now, dry_run, tuple(run.fired), tuple(run.skipped))
        if run.failed:
            raise HookFailed.of(run.failed, report)
        return report

    def _due(self, run: _Run, size: int) -> None:
        """Try the scheduled rules on every due ticket, a batch at a time."""
        store = self.unit.store
        total = store.count_due(run.now) if run.progress is not None else 0
        after: tuple[datetime, str] | None = None
        while not run.over:
            page = self._batch(run, size, after)
            if not page:
                return
            after = (page[-1][0], page[-1][1].id)
            if run.progress is not None:
                run.done += len(page)
                run.progress("due tickets", run.done, max(total, run.done))

    def _batch(
        self, run: _Run, size: int, after: tuple[datetime, str] | None
    ) -> list[tuple[datetime, Ticket]]:
        """Claim up to ``size`` due tickets and fire on them in one transaction; return them.

        If the batch fails (a fault of one ticket, or of the store), it rolls
        back whole and its tickets are tried again one to a transaction: a
        ticket that fails alone is reported as a skip and the rest go on.
        """
        store = self.unit.store
        if run.dry_run:
            page = store.due(run.now, limit=size, after=after)
            for _at, ticket in page:
                if run.full:
                    break
                self._visit(run, ticket)
            return page
        page = []
        marks = run.marks()
        try:
            with self.unit.batch(run.failed):
                page = store.due(run.now, limit=size, after=after, claim=True)
                for _at, ticket in page:
                    if run.full:
                        break
                    self._visit(run, ticket)
        except Exception as error:
            run.undo(marks, page)
            if not page:
                raise  # the claim itself failed: the store is at fault, not a ticket
            self._one_by_one(run, page, error)
        return page

    def _one_by_one(
        self, run: _Run, page: list[tuple[datetime, Ticket]], error: Exception
    ) -> None:
        """Fire on each ticket of a failed batch in a transaction of its own."""
        store_faults = 0
        for at, ticket in page:
            if run.full:
                return
            marks = run.marks()
            try:
                with self.unit.batch(run.failed):
                    # As stored now: it may have moved since the failed batch read it.
                    self._visit(run, self.unit.store.get(ticket.id))
            except TicketNotFound:
                continue  # purged meanwhile
            except Exception as alone:  # noqa: BLE001 - reported as a skip, the rest go on
                run.undo(marks, [(at, ticket)])
                reason = f"{type(alone).__name__}: {alone}"
                run.skipped.append(Skip(_EVERY_RULE, ticket.id, reason))
                store_faults += isinstance(alone, StorageError)
        if store_faults == len(page) and isinstance(error, StorageError):
            # Every ticket failed alone with a fault of the store: the store is at
            # fault, not a ticket, and the sweep cannot go on.
            raise error

    def _visit(self, run: _Run, ticket: Ticket) -> None:
        """Try every scheduled rule on a due ticket; store its schedule if none acted."""
        acted = False
        for rule in self.scheduler.scheduled:
            if run.full:
                break
            acted = self._try(run, rule, ticket) or acted
        if not acted and not run.dry_run:
            self._settle(run, ticket.id)

    def _try(self, run: _Run, rule: Rule, ticket: Ticket) -> bool:
        """Try ``rule`` on ``ticket``; whether it fired or was refused."""
        known = run.contexts.get(ticket.id)
        if known is None or known.ticket.version < ticket.version:
            known = run.contexts[ticket.id] = self.context(ticket, run.now)
        try:
            if not rule.when.holds(known):
                return False  # as the step would find, without a unit of work's round
            firing = self._one(rule, known, run.contexts, run.failed, dry_run=run.dry_run)
        except _Refused as refused:
            run.skipped.append(Skip(rule.name, ticket.id, str(refused)))
            return True
        except TicketNotFound:
            return True  # purged since it was read
        if firing is None:
            return False
        run.fired.append(firing)
        return True

    def _settle(self, run: _Run, ticket_id: str) -> None:
        """Store the schedule of a due ticket no rule acted on (its instant was early)."""
        known = run.contexts.get(ticket_id)
        if known is None:
            return
        ticket = known.ticket
        self.unit.store.reschedule(ticket.id, ticket.version, self.scheduler.schedule(known))

    def reschedule(self, *, batch: int = 500, progress: Progress | None = None) -> int:
        """Store every ticket's schedule under these rules; return how many were rescheduled.

        Reads the tickets another rule set (or none) scheduled, ``batch`` at
        a time, and stores each one's schedule; interrupted, it resumes where
        it stopped, since the tickets done are no longer stale.  A ticket that
        moves meanwhile is scheduled by its own commit.
        """
        _batch_size(batch)
        _check_arguments(False, None, progress)
        store = self.unit.store
        fingerprint = self.scheduler.fingerprint
        total = store.count_stale(fingerprint) if progress is not None else 0
        done = 0
        while True:
            page = store.stale(fingerprint, limit=batch)
            if not page:
                return done
            for ticket in page:
                current = ticket
                for _attempt in range(self.unit.retries + 1):
                    context = self.context(current, self.unit.now(current))
                    schedule = self.scheduler.schedule(context)
                    if store.reschedule(current.id, current.version, schedule):
                        break
                    try:
                        current = store.get(current.id)
                    except TicketNotFound:
                        break
                done += 1
                if progress is not None:
                    progress("reschedule", done, max(total, done))

    def _one(
        self,
        rule: Rule,
        known: Context,
        contexts: dict[str, Context],
        failed: list[HookFailed],
        *,
        dry_run: bool,
    ) -> Firing | None:
        found: list[Firing] = []
        now = known.now

        def step(ticket: Ticket) -> Change | None:
            found.clear()
            if ticket is known.ticket:  # the sweep has just seen the rule hold on it
                context = known
            else:
                context = self.context(ticket, now)
                if not rule.when.holds(context):
                    contexts[ticket.id] = context
                    return None
            contexts[ticket.id] = context
            episode = rule.episode(context) or ticket.created_at
            if self.unit.store.fired(rule.name, ticket.id, episode):
                return None
            action = rule.action
            history = context.history() if callable(action.payload) else ()
            at = max(now, ticket.updated_at)
            self.policy.check(ticket, _SYSTEM, action.event, self.workflow.category(ticket.status))
            new, record = self.workflow.apply(
                ticket, action.event, _SYSTEM, at, **action.arguments(ticket, history)
            )
            found.append(
                Firing(rule.name, ticket.id, episode, action.event, ticket.status, new.status, at)
            )
            if dry_run:
                return None
            return Change(
                new,
                record,
                (LedgerEntry(rule.name, episode, at),),
                purge=self.workflow.purges(new.status),
                history=context.history() if context.history_read else None,
            )

        change = self.unit.run(known.ticket.id, step, read=known.ticket, failed=failed)
        if change is not None:
            if change.purge:
                contexts.pop(change.ticket.id, None)
            else:
                contexts[change.ticket.id] = contexts[change.ticket.id].after(
                    change.ticket, change.event
                )
        return found[0] if found else None

    def next_due(self, ticket_id: str, *, clocks: Clocks | None = None) -> Due | None:
        """The rule that will act next on the ticket and when, if nothing changes first.

        ``clocks`` measures the ticket's SLA clocks (its kept ones, say);
        by default they are measured from its history.
        """
        ticket = self.unit.store.get(ticket_id)
        context = self.context(ticket, self.unit.now(ticket))
        if clocks is not None:
            context = Context(
                ticket, context.now, self.workflow, history=context.history, clocks=clocks
            )
        return self.scheduler.next_due(context, clocks=clocks)
