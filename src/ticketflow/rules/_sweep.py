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


def _check_arguments(dry_run: object, limit: object, progress: object) -> None:
    if not isinstance(dry_run, bool):
        raise InvalidInput("dry_run", dry_run, "True or False")
    whole_number(limit, "limit", optional=True)
    if progress is not None and not callable(progress):
        raise InvalidInput("progress", progress, "None or a function (rule, done, total)")


@attrs.frozen
class Sweep:
    """The rules of a desk, applied through its unit of work under its workflow and policy."""

    unit: UnitOfWork
    workflow: Workflow
    policy: Policy
    rules: tuple[Rule, ...]
    clocks: Clocks | None = None

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

    def run(
        self, *, dry_run: bool = False, limit: int | None = None, progress: Progress | None = None
    ) -> RuleReport:
        """Apply every enabled rule at the clock's now; return what fired (see ``run_rules``)."""
        _check_arguments(dry_run, limit, progress)
        now = self.unit.now()
        fired: list[Firing] = []
        skipped: list[Skip] = []
        failed: list[HookFailed] = []
        contexts: dict[str, Context] = {}
        for rule in self.rules:
            if limit is not None and len(fired) >= limit:
                break
            if not rule.enabled:
                continue
            candidates = self.unit.store.query(rule.candidates(now, self.workflow))
            for done, candidate in enumerate(candidates, start=1):
                if limit is not None and len(fired) >= limit:
                    break
                known = contexts.get(candidate.id)
                if known is None or known.ticket.version != candidate.version:
                    known = contexts[candidate.id] = self.context(candidate, now)
                try:
                    firing = self._one(rule, known, contexts, failed, dry_run=dry_run)
                except (
                    IllegalTransition,
                    PermissionDenied,
                    InvalidInput,
                    ConcurrencyConflict,
                ) as refused:
                    skipped.append(Skip(rule.name, candidate.id, str(refused)))
                    firing = None
                except TicketNotFound:
                    firing = None  # purged since the query
                if firing is not None:
                    fired.append(firing)
                if progress is not None:
                    progress(rule.name, done, len(candidates))
        report = RuleReport(now, dry_run, tuple(fired), tuple(skipped))
        if failed:
            raise HookFailed.of(failed, report)
        return report

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
            context = known if ticket is known.ticket else self.context(ticket, now)
            contexts[ticket.id] = context
            if not rule.when.holds(context):
                return None
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

    def next_due(self, ticket_id: str) -> Due | None:
        """The rule that will act next on the ticket and when, if nothing changes first."""
        ticket = self.unit.store.get(ticket_id)
        context = self.context(ticket, self.unit.now(ticket))
        best: Due | None = None
        for rule in self.rules:
            when = rule.when.when(context) if rule.enabled else None
            if when is None:
                continue
            episode = rule.episode(context) or ticket.created_at
            if self.unit.store.fired(rule.name, ticket.id, episode):
                continue
            at = max(when, ticket.created_at)
            if best is None or at < best.at:
                best = Due(rule.name, at)
        return best
