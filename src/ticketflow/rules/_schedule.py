"""The schedule: each ticket's next due instant, computed from the rules on every commit.

A desk stores, with each commit, the earliest instant at which one of its
rules would act on the ticket if nothing else happened (the conditions'
:meth:`~ticketflow.rules.Condition.instants`, less the rules that already
acted for the episode), and the fingerprint of the rule set that computed it.
A sweep then asks the store only for the tickets whose instant has come, so
its cost follows what is due, whatever the kind of rule.  The fingerprint
covers everything the instant depends on (the rules' names and conditions,
the SLA policies, the workflow's statuses); a desk whose rule set differs from
the one that scheduled the stored tickets refuses to sweep until they are
rescheduled (:meth:`Scheduler.reschedule`), rather than miss firings.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING

import attrs

from ticketflow._history import HistoryEvent
from ticketflow._ticket import Ticket
from ticketflow._workflow import Workflow
from ticketflow.rules._context import Context
from ticketflow.rules._report import Due
from ticketflow.rules._rule import Rule
from ticketflow.storage import LedgerEntry, Schedule, Store

if TYPE_CHECKING:
    from ticketflow.rules._context import Clocks

Fired = Callable[[str, datetime], bool]
"""Asks whether a rule (by name) already acted on the ticket for an episode."""

_SCHEME = "r1"
"""The version of the fingerprint's recipe: a new recipe changes every fingerprint."""


_PLAIN = (str, int, float, bool, datetime, date, time, timedelta, type(None))


def canonical(value: object) -> str:
    """A description of ``value`` that is equal exactly when the values are, in every process.

    Built from attrs fields, mappings, collections and plain values; a
    function is named by its module and qualified name (never by its
    address, which changes from run to run).
    """
    if attrs.has(type(value)):
        fields = ", ".join(
            f"{field.name}={canonical(getattr(value, field.name))}"
            for field in attrs.fields(type(value))  # type: ignore[arg-type]
        )
        described = f"{type(value).__qualname__}({fields})"
    elif isinstance(value, enum.Enum):
        described = f"{type(value).__qualname__}.{value.name}"
    elif isinstance(value, _PLAIN):
        described = repr(value)
    elif isinstance(value, tzinfo):
        described = f"tz({getattr(value, 'key', None) or value.tzname(None)})"
    elif isinstance(value, Mapping):
        items = sorted(f"{canonical(key)}: {canonical(item)}" for key, item in value.items())
        described = "{" + ", ".join(items) + "}"
    elif isinstance(value, (set, frozenset)):
        described = "{" + ", ".join(sorted(canonical(item) for item in value)) + "}"
    elif isinstance(value, (list, tuple)):
        described = "(" + ", ".join(canonical(item) for item in value) + ")"
    else:  # a function, or an object of a class we cannot see into: named by its type
        module = getattr(value, "__module__", None) or type(value).__module__
        name = getattr(value, "__qualname__", None) or type(value).__qualname__
        described = f"<{module}.{name}>"
    return described


def fingerprint(rules: Sequence[Rule], workflow: Workflow, *more: object) -> str:
    """The fingerprint of a rule set, with what else its schedule depends on.

    ``more`` is everything else the conditions read (a desk passes its SLA
    policies).  Only what changes *when* a rule acts counts: an action's
    wording does not.
    """
    described = canonical(
        (
            tuple(
                (rule.name, rule.enabled, canonical(rule.when), rule.action.event)
                for rule in rules
            ),
            workflow.to_dict(),
            more,
        )
    )
    return f"{_SCHEME}-{hashlib.sha256(described.encode()).hexdigest()[:24]}"


class Scheduler:
    """A desk's rules as a schedule.

    Args:
        rules: the desk's rules; the enabled ones whose conditions predict are
            scheduled, the others are checked at every sweep.
        workflow: the desk's workflow.
        store: where the ledger and the histories are read.
        clocks: measures SLA clocks (None: no SLA policy).
        more: what else the fingerprint covers (the SLA policies).
    """

    __slots__ = ("clocks", "fingerprint", "rules", "scheduled", "store", "unscheduled", "workflow")

    def __init__(
        self,
        rules: Sequence[Rule],
        workflow: Workflow,
        store: Store,
        clocks: Clocks | None = None,
        more: Iterable[object] = (),
    ) -> None:
        self.rules = tuple(rules)
        self.workflow = workflow
        self.store = store
        self.clocks = clocks
        enabled = [rule for rule in self.rules if rule.enabled]
        self.scheduled = tuple(rule for rule in enabled if rule.when.predicts)
        self.unscheduled = tuple(rule for rule in enabled if not rule.when.predicts)
        self.fingerprint = fingerprint(self.rules, workflow, tuple(more))

    def next_due(self, context: Context, fired: Fired) -> Due | None:
        """The scheduled rule that will act next on the context's ticket, and when.

        Each rule's instants are tried in order; the first at which it holds
        for an episode it has not acted on is its time.  A time before the
        context's ``now`` means due now.
        """
        ticket = context.ticket
        at_instant: dict[datetime, Context] = {context.now: context}
        best: Due | None = None
        for rule in self.scheduled:
            for instant in rule.when.instants(context):
                moment = max(instant, ticket.created_at)
                if best is not None and moment >= best.at:
                    break
                later = self._at(context, max(instant, context.now), at_instant)
                if not rule.when.holds(later):
                    continue
                episode = rule.episode(later) or ticket.created_at
                if fired(rule.name, episode):
                    continue
                best = Due(rule.name, moment)
                break
        return best

    def _at(self, context: Context, instant: datetime, known: dict[datetime, Context]) -> Context:
        found = known.get(instant)
        if found is None:
            found = known[instant] = Context(
                context.ticket,
                instant,
                context.workflow,
                history=context.history,
                clocks=self.clocks,
            )
        return found

    def schedule(self, context: Context, fired: Fired) -> Schedule:
        """The schedule to store for the context's ticket."""
        due = self.next_due(context, fired)
        return Schedule(None if due is None else due.at, self.fingerprint)

    def plan(
        self,
        ticket: Ticket,
        event: HistoryEvent,
        ledger: Sequence[LedgerEntry],
        before: Sequence[HistoryEvent] | None = None,
    ) -> Schedule:
        """The schedule to commit with ``ticket`` and its new ``event`` (and ``ledger``).

        The history is read only if a condition asks (an SLA clock), unless
        the caller has it (``before``: the events before ``event``).
        """
        if not self.scheduled:
            return Schedule(None, self.fingerprint)
        store = self.store

        def history() -> list[HistoryEvent]:
            if before is not None:
                return [*before, event]
            if event.seq == 1:
                return [event]
            return [*(old for old in store.history(ticket.id) if old.seq < event.seq), event]

        context = Context(ticket, event.at, self.workflow, history=history, clocks=self.clocks)
        spent = {(entry.rule, entry.episode) for entry in ledger}

        def fired(rule: str, episode: datetime) -> bool:
            return (rule, episode) in spent or store.fired(rule, ticket.id, episode)

        return self.schedule(context, fired)
