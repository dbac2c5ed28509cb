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

import dataclasses
import enum
import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta, tzinfo
from types import CodeType, FunctionType, ModuleType
from typing import TYPE_CHECKING

import attrs

from ticketflow._history import HistoryEvent
from ticketflow._ticket import Ticket
from ticketflow._validate import to_utc
from ticketflow._workflow import Workflow
from ticketflow.rules._context import Context
from ticketflow.rules._report import Due
from ticketflow.rules._rule import Rule
from ticketflow.storage import LedgerEntry, Schedule, Store

if TYPE_CHECKING:
    from ticketflow.rules._context import Clocks

Fired = Callable[[str, datetime], bool]
"""Asks whether a rule (by name) already acted on the ticket for an episode."""

_DEEPEST = 12
"""How deep :func:`canonical` looks into nested values (a condition holding a desk stops)."""

_SCHEME = "r1"
"""The version of the fingerprint's recipe: a new recipe changes every fingerprint."""


_PLAIN = (str, int, float, bool, datetime, date, time, timedelta, type(None))


def canonical(value: object, depth: int = 0) -> str:
    """A description of ``value`` that is equal exactly when the values are, in every process.

    Built from attrs and dataclass fields, the attributes of other objects,
    mappings, collections and plain values; a function by its name, its code
    and what its closure holds (never by its address, which changes from run
    to run).  Past ``_DEEPEST`` levels an object is named by its type alone.
    """
    if depth > _DEEPEST:
        return f"<{type(value).__module__}.{type(value).__qualname__}>"
    deeper = depth + 1
    if attrs.has(type(value)):
        # Fields derived after construction and left out of equality (a
        # calendar's memo of the days it walked) are no part of the value:
        # described, they would change its description as it is used.
        fields = ", ".join(
            f"{field.name}={canonical(getattr(value, field.name), deeper)}"
            for field in attrs.fields(type(value))  # type: ignore[arg-type]
            if field.eq or field.init
        )
        described = f"{type(value).__qualname__}({fields})"
    elif isinstance(value, enum.Enum):
        described = f"{type(value).__qualname__}.{value.name}"
    elif isinstance(value, _PLAIN):
        described = repr(value)
    elif isinstance(value, tzinfo):
        described = f"tz({getattr(value, 'key', None) or value.tzname(None)})"
    elif isinstance(value, Mapping):
        items = sorted(
            f"{canonical(key, deeper)}: {canonical(item, deeper)}" for key, item in value.items()
        )
        described = "{" + ", ".join(items) + "}"
    elif isinstance(value, (set, frozenset)):
        described = "{" + ", ".join(sorted(canonical(item, deeper) for item in value)) + "}"
    elif isinstance(value, (list, tuple)):
        described = "(" + ", ".join(canonical(item, deeper) for item in value) + ")"
    elif isinstance(value, FunctionType):
        described = _function(value, deeper)
    elif dataclasses.is_dataclass(value):
        fields = ", ".join(
            f"{field.name}={canonical(getattr(value, field.name), deeper)}"
            for field in dataclasses.fields(value)
        )
        described = f"{type(value).__qualname__}({fields})"
    elif hasattr(value, "__dict__") and not isinstance(value, (type, ModuleType)):
        # A host's own condition class: what it holds.
        held = ", ".join(
            f"{key}={canonical(item, deeper)}" for key, item in sorted(vars(value).items())
        )
        described = f"{type(value).__module__}.{type(value).__qualname__}({held})"
    else:  # a builtin function, or an object without fields: named by its type
        module = getattr(value, "__module__", None) or type(value).__module__
        name = getattr(value, "__qualname__", None) or type(value).__qualname__
        described = f"<{module}.{name}>"
    return described


def _function(function: FunctionType, depth: int) -> str:
    """A function by its name, its code and what its closure holds: two tests differ."""
    digest = hashlib.sha256(_code(function.__code__).encode()).hexdigest()[:12]
    cells = tuple(
        "<itself>" if cell.cell_contents is function else canonical(cell.cell_contents, depth)
        for cell in function.__closure__ or ()
    )
    return f"<{function.__module__}.{function.__qualname__} {digest} {canonical(cells, depth)}>"


def _code(code: CodeType) -> str:
    """What a code object does, nested code (a lambda) included, without addresses."""
    consts = ", ".join(
        _code(const) if isinstance(const, CodeType) else repr(const) for const in code.co_consts
    )
    return f"{code.co_code.hex()} ({consts}) {code.co_names}"


def fingerprint(rules: Sequence[Rule], workflow: Workflow, *more: object) -> str:
    """The fingerprint of a rule set, with what else its schedule depends on.

    ``more`` is everything else the conditions read (a desk passes its SLA
    policies).  Only what changes *when* a rule acts counts: the rules'
    names and conditions (in any order), the statuses' categories and which
    pause SLA clocks; not an action, nor a status's label.
    """
    described = canonical(
        (
            sorted((rule.name, rule.enabled, canonical(rule.when)) for rule in rules),
            sorted(
                (name, workflow.category(name).value, name in workflow.sla_paused)
                for name in workflow.statuses
            ),
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

    __slots__ = (
        "clocks",
        "fingerprint",
        "rules",
        "scheduled",
        "settles",
        "store",
        "unscheduled",
        "workflow",
    )

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
        self.settles = True
        """Whether conditions may answer for later instants from the context at hand
        (:meth:`~ticketflow.rules.Condition.settled`); the tests compare both ways."""

    def next_due(
        self, context: Context, fired: Fired | None = None, *, clocks: Clocks | None = None
    ) -> Due | None:
        """The scheduled rule that will act next on the context's ticket, and when.

        Each rule's instants are tried in order; the first at which it holds
        for an episode it has not acted on (``fired`` says; by default the
        store's ledger) is its time.  A time before the context's ``now``
        means due now.  ``clocks`` measures the SLA clocks at the later
        instants tried (the scheduler's own by default).
        """
        ticket = context.ticket
        if fired is None:
            fired = self._ledger(ticket.id)
        at_instant: dict[datetime, Context] = {context.now: context}
        best: Due | None = None
        for rule in self.scheduled:
            for instant in rule.when.instants(context):
                moment = max(instant, ticket.created_at)
                if best is not None and moment >= best.at:
                    break
                at = max(instant, context.now)
                # A condition that can tell its answer at a later instant from
                # the context at hand spares measuring the clocks there.
                settled = (
                    rule.when.settled(context, at) if self.settles and at > context.now else None
                )
                if settled is None:
                    later = self._at(context, at, at_instant, clocks)
                    if not rule.when.holds(later):
                        continue
                    episode = rule.episode(later)
                else:
                    if not settled[0]:
                        continue
                    episode = rule.episode_from(ticket, settled[1])
                if fired(rule.name, episode or ticket.created_at):
                    continue
                best = Due(rule.name, moment)
                break
        return best

    def _at(
        self,
        context: Context,
        instant: datetime,
        known: dict[datetime, Context],
        clocks: Clocks | None,
    ) -> Context:
        found = known.get(instant)
        if found is None:
            found = known[instant] = Context(
                context.ticket,
                instant,
                context.workflow,
                history=context.history,
                clocks=self.clocks if clocks is None else clocks,
            )
        return found

    def schedule(
        self, context: Context, fired: Fired | None = None, *, clocks: Clocks | None = None
    ) -> Schedule:
        """The schedule to store for the context's ticket (``fired`` as for :meth:`next_due`).

        ``clocks`` measures the SLA clocks of the later instants tried (the
        scheduler's own by default).
        """
        due = self.next_due(context, fired, clocks=clocks)
        return Schedule(None if due is None else due.at, self.fingerprint)

    def plan(
        self,
        ticket: Ticket,
        event: HistoryEvent,
        ledger: Sequence[LedgerEntry],
        before: Sequence[HistoryEvent] | None = None,
        /,
        *,
        clocks: Clocks | None = None,
    ) -> Schedule:
        """The schedule to commit with ``ticket`` and its new ``event`` (and ``ledger``).

        The history is read only if a condition asks, unless the caller has it
        (``before``: the events before ``event``); ``clocks``, the ticket's SLA
        clocks as just kept, spare measuring them from the history.
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

        measured = self.clocks if clocks is None else clocks
        context = Context(ticket, event.at, self.workflow, history=history, clocks=measured)
        fired = self._ledger(ticket.id, ledger, event.seq - 1)
        return self.schedule(context, fired, clocks=measured)

    def _ledger(
        self, ticket_id: str, spent: Sequence[LedgerEntry] = (), version: int | None = None
    ) -> Fired:
        """Asks whether a rule acted on the ticket for an episode: ``spent``, then the store.

        ``version``, the version of the ticket a commit replaces (0: it creates
        the ticket), lets the ledger as of it come from what the store
        remembers (``store.recent_ledger(ticket_id, version)``, optional): a
        ticket's ledger rows are written with its commits only, and a new
        ticket has none.
        """
        store = self.store
        kept = {(entry.rule, entry.episode) for entry in spent}
        known: frozenset[tuple[str, datetime]] | None = None
        if version == 0:
            known = frozenset()
        elif version is not None:
            recent = getattr(store, "recent_ledger", None)
            known = None if recent is None else recent(ticket_id, version)
        if known is not None:
            kept.update(known)

            def marked(rule: str, episode: datetime) -> bool:
                return (rule, to_utc(episode, "episode")) in kept  # refused as the store would

            return marked

        def fired(rule: str, episode: datetime) -> bool:
            return (rule, episode) in kept or store.fired(rule, ticket_id, episode)

        return fired
