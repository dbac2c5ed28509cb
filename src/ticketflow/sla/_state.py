"""Each ticket's SLA clocks kept as it changes: a fold of its events, equal to its history's.

A desk does not recompute a ticket's clocks from its whole history on every
commit: it keeps a small record per ticket (:class:`Kept`) and folds each new
event into it (:meth:`SLAKeeper.step`).  The record holds, per target, the
business time counted so far, the run under way (since when, and until when
once it stopped), when the clock started, stopped and was breached, and for
the ticket the policy in force.  Reading the clocks at an instant
(:meth:`SLAKeeper.states`) adds the calendar's business time from the run's
start to then, nothing more.

The same clocks are computed from a history alone by :func:`history_states`
(the timeline's runs, cut where the policy changed), which is the truth the
kept record is proven equal to.

The policy is *sticky*: it is chosen when the ticket is created (when its
clocks start) and chosen again only when an event changes the ticket's
priority or department.  At such a re-selection, at instant ``t``:

* the time already counted stays as it was counted, on the old policy's
  calendars; from ``t`` the new policy's calendars count and its targets apply;
* a clock whose counted time already exceeds its new target is breached at
  ``t`` (a breach already recorded never moves: lowering the priority does
  not undo it);
* a clock keeps running or stays paused as it was; a stopped clock's time
  does not change, but is judged against the new target.

While no policy covers the ticket, no time counts.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from json.encoder import encode_basestring_ascii as _quoted
from typing import Any, NamedTuple

from ticketflow._errors import InvalidInput
from ticketflow._history import HistoryEvent
from ticketflow._names import AGENT_REPLY, CREATE, CUSTOMER_REPLY
from ticketflow._ticket import Ticket
from ticketflow._timeline import Interval, Runs, Timeline, _Rooms
from ticketflow._workflow import Workflow
from ticketflow.rules._context import Context
from ticketflow.rules._schedule import canonical
from ticketflow.sla._calendar import Calendar
from ticketflow.sla._clocks import RUNS_OF, SLAState, _built, _state
from ticketflow.sla._policy import SLAPolicy, Target, policy_for
from ticketflow.sla._targets import budget

_ZERO = timedelta(0)
_TARGETS = tuple(RUNS_OF)
"""The targets, in the order a record keeps their clocks."""
_FIRST, _NEXT, _RESOLUTION, _CLOSE = _TARGETS

_RESELECTS = frozenset({"priority", "department"})
"""The ticket fields whose change chooses the policy again."""

_SCHEME = "s2"
"""The version of the SLA fingerprint's recipe and of the record's encoding."""


class Clock(NamedTuple):
    """One target's clock as kept: what a history says of it so far.

    Attributes:
        started: when the clock (of its latest cycle) started; None: not yet.
        stopped: when it stopped for good (for the resolution clock: while the
            resolution stands); None while it may run.
        base: business time counted before ``since``.
        since: the start of the run not yet added to ``base``; None: none.
        until: the end of that run, once the clock stopped counting; None
            while it counts.  A clock that counts again at the very instant
            it stopped carries on the same run, as the history reads it.
        breached_at: when the clock passed its target; None: not yet known to.
    """

    started: datetime | None
    stopped: datetime | None
    base: timedelta
    since: datetime | None
    until: datetime | None
    breached_at: datetime | None


_IDLE = Clock(None, None, _ZERO, None, None, None)

_made = tuple.__new__
"""``_made(Clock, values)``: a record built without the Python call its constructor makes
(half the cost); the fold builds one or two a commit."""


class Kept(NamedTuple):
    """A ticket's SLA clocks as of its latest event: what a store keeps beside the ticket.

    Attributes:
        seq: the last event folded in (the ticket's version).
        at: its instant.
        status: the ticket's status after it.
        policy: the name of the policy in force; None: none covers the ticket.
        waiting: when the customer's unanswered message came (None: nothing waits).
        clocks: one :class:`Clock` per target, in the order of :class:`Target`.
    """

    seq: int
    at: datetime
    status: str
    policy: str | None
    waiting: datetime | None
    clocks: tuple[Clock, ...]


def sla_fingerprint(policies: Sequence[SLAPolicy], workflow: Workflow) -> str:
    """The fingerprint of what kept SLA clocks depend on: the policies and the statuses.

    Stored with each ticket's record; a desk whose fingerprint differs reads
    none of it until :meth:`Helpdesk.recompute_sla` has recomputed them.
    """
    described = canonical(
        (
            tuple(policies),
            sorted(
                (name, workflow.category(name).value, name in workflow.sla_paused)
                for name in workflow.statuses
            ),
        )
    )
    return f"{_SCHEME}-{hashlib.sha256(described.encode()).hexdigest()[:24]}"


def _micros(value: datetime | None) -> int | None:
    return None if value is None else (value - _EPOCH) // _MICROSECOND


def _instant(value: int | None) -> datetime | None:
    # Not checked here: a value of the wrong type raises TypeError, and decode()
    # reads a record that does not decode as none kept.
    return None if value is None else _EPOCH + timedelta(microseconds=value)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def encode(kept: Kept, known: dict[Clock, str] | None = None) -> str:
    """The record as JSON text, as stores keep it.

    Written out by hand, the text ``json.dumps`` would write with the
    separators ``,`` and ``:``: every commit under SLA policies encodes one.
    ``known``, kept by the caller from one record to the next, holds the
    text of clocks written before: most clocks stand as they were.
    """
    if known is None:
        clocks = ",".join(_clock_text(clock) for clock in kept.clocks)
    else:
        texts = []
        for clock in kept.clocks:
            text = known.get(clock)
            if text is None:
                if len(known) >= _KNOWN_CLOCKS:
                    known.clear()
                text = known[clock] = _clock_text(clock)
            texts.append(text)
        clocks = ",".join(texts)
    policy = "null" if kept.policy is None else _quoted(kept.policy)
    return (
        f'["{_SCHEME}",{kept.seq},{_json(kept.at)},{_quoted(kept.status)},{policy},'
        f"{_json(kept.waiting)},[{clocks}]]"
    )


def _clock_text(clock: Clock) -> str:
    return (
        f"[{_json(clock.started)},{_json(clock.stopped)},{clock.base // _MICROSECOND},"
        f"{_json(clock.since)},{_json(clock.until)},{_json(clock.breached_at)}]"
    )


_KNOWN_CLOCKS = 1 << 13
"""How many clocks' text :func:`encode` remembers for a caller, at most."""


def _json(value: datetime | None) -> str:
    """An instant as :func:`encode` writes it: its microseconds since the epoch, or null.

    Remembered: the same instants come back in a ticket's records, and the
    arithmetic costs ten times the look-up.
    """
    if value is None:
        return "null"
    text = _INSTANT_TEXTS.get(value)
    if text is None:
        if len(_INSTANT_TEXTS) >= _KNOWN_INSTANTS:
            _INSTANT_TEXTS.clear()
        text = _INSTANT_TEXTS[value] = str(_micros(value))
    return text


_INSTANT_TEXTS: dict[datetime, str] = {}
_KNOWN_INSTANTS = 1 << 13


_MICROSECOND = timedelta(microseconds=1)


def decode(text: str) -> Kept | None:
    """The record that :func:`encode` wrote, or None if ``text`` is not one (of this recipe)."""
    try:
        scheme, seq, at, status, policy, waiting, clocks = json.loads(text)
        if scheme != _SCHEME or not isinstance(seq, int) or not isinstance(status, str):
            return None
        if policy is not None and not isinstance(policy, str):
            return None
        kept_at = _instant(at)
        if kept_at is None or len(clocks) != len(_TARGETS):
            return None
        return Kept(
            seq,
            kept_at,
            status,
            policy,
            _instant(waiting),
            tuple(
                Clock(
                    _instant(started),
                    _instant(stopped),
                    timedelta(microseconds=base),
                    _instant(since),
                    _instant(until),
                    _instant(breached),
                )
                for started, stopped, base, since, until, breached in clocks
            ),
        )
    except (ValueError, TypeError, OverflowError):
        return None


class SLAKeeper:
    """A desk's SLA policies and workflow, keeping each ticket's clocks as events come.

    Args:
        policies: the desk's SLA policies, in order (the first that covers a
            ticket applies).
        workflow: the desk's workflow (which statuses pause or stop clocks).
    """

    __slots__ = ("at_rest", "by_name", "fingerprint", "policies", "rooms", "workflow")

    def __init__(self, policies: Iterable[SLAPolicy], workflow: Workflow) -> None:
        self.policies = tuple(policies)
        self.workflow = workflow
        self.rooms = _Rooms.of(workflow)
        self.by_name = {policy.name: policy for policy in self.policies}
        self.fingerprint = sla_fingerprint(self.policies, workflow)
        self.at_rest: dict[tuple[str, Target, Clock], SLAState] = {}
        """The states of clocks that do not run, by policy, target and clock.

        Such a state does not depend on the instant it is read at (unless the
        clock has not started and its promise is in working days, which are
        counted from then), and a clock at rest stands as it was over the
        ticket's later commits.  A memo, cleared past ``_AT_REST``.
        """

    def select(self, ticket: Ticket, at: datetime) -> SLAPolicy | None:
        """The policy chosen for ``ticket`` as it stands at ``at`` (conditions see no history)."""
        return _chosen(self.policies, self.workflow, ticket, at)

    def replay(self, history: Sequence[HistoryEvent]) -> Kept:
        """Fold a whole history, from its ``create`` event: the record of its last event.

        Raises:
            InvalidInput: the history is empty or does not start with ``create``.
        """
        if not history or history[0].name != CREATE:
            raise InvalidInput(
                "history", list(history[:1]), f"a history that starts with {CREATE!r}"
            )
        fields: dict[str, Any] = {}
        kept: Kept | None = None
        for event in history:
            fields.update(event.changes)
            # The ticket is built only where the policy is chosen: rarely.
            kept = self._step(kept, event, lambda: Ticket(**fields))
        assert kept is not None  # noqa: S101 - the history holds at least its create event
        return kept

    def step(self, kept: Kept | None, ticket: Ticket, event: HistoryEvent) -> Kept:
        """Fold ``event`` (which made ``ticket``) into ``kept`` (None: ``event`` creates)."""
        return self._step(kept, event, lambda: ticket)

    def _step(self, kept: Kept | None, event: HistoryEvent, made: Callable[[], Ticket]) -> Kept:
        at = event.at
        rooms = self.rooms
        if kept is None:
            kept = Kept(0, at, "", None, None, (_IDLE,) * len(_TARGETS))
        status = event.to_status
        name = event.name
        waiting = kept.waiting
        moved = status != kept.status
        wait_ends = name == AGENT_REPLY and waiting is not None
        new_wait = waiting is None and (name in (CREATE, CUSTOMER_REPLY))
        if wait_ends:
            waiting = None
        elif new_wait:
            waiting = at
        resolved = moved and status in rooms.solved
        old = self.by_name.get(kept.policy) if kept.policy is not None else None
        policy = old
        if name == CREATE or not _RESELECTS.isdisjoint(event.changes):
            policy = self.select(made(), at)
        switch = (None if policy is None else policy.name) != kept.policy
        first, nxt, resolution, close = kept.clocks
        # The resolution stands while the ticket stays solved or closed since it:
        # closed after a reopen without being solved again (a merge), it does not.
        stands = status in rooms.solved or (
            status in rooms.closed and resolution.stopped is not None
        )
        idle_reply = rooms.responses_idle
        # Each clock: its new cycle, start, stop and whether it counts after the event.
        plans: list[tuple[bool, datetime | None, datetime | None, bool]] = []
        created = first.started if name != CREATE else at
        fr_stop = first.stopped if first.stopped is not None or not wait_ends else at
        plans.append(
            (name == CREATE, created, fr_stop, fr_stop is None and status not in idle_reply)
        )
        if new_wait:
            plans.append((True, at, None, status not in idle_reply))
        else:
            nr_stop = at if wait_ends and nxt.stopped is None else nxt.stopped
            plans.append(
                (False, nxt.started, nr_stop, nr_stop is None and status not in idle_reply)
            )
        resolved_at = at if resolved else close.started
        res_stop = resolved_at if stands else None
        plans.append(
            (
                name == CREATE,
                created,
                res_stop,
                res_stop is None and status not in rooms.resolution_idle,
            )
        )
        if resolved:
            plans.append((True, at, None, status not in rooms.paused))
        else:
            cw_stop = close.stopped
            if moved and close.started is not None and cw_stop is None and status in rooms.closed:
                cw_stop = at
            counts = (
                close.started is not None
                and cw_stop is None
                and status in rooms.solved
                and status not in rooms.paused
            )
            plans.append((False, close.started, cw_stop, counts))
        fold = self._clock
        clocks = (
            fold(first, _FIRST, plans[0], at, old, policy, switch),
            fold(nxt, _NEXT, plans[1], at, old, policy, switch),
            fold(resolution, _RESOLUTION, plans[2], at, old, policy, switch),
            fold(close, _CLOSE, plans[3], at, old, policy, switch),
        )
        return _made(
            Kept, (event.seq, at, status, None if policy is None else policy.name, waiting, clocks)
        )

    @staticmethod
    def _clock(  # noqa: PLR0917 - positional: four calls a commit, in the fold's hot path
        clock: Clock,
        target: Target,
        plan: tuple[bool, datetime | None, datetime | None, bool],
        at: datetime,
        old: SLAPolicy | None,
        new: SLAPolicy | None,
        switch: bool,
    ) -> Clock:
        restart, started, stopped, counts = plan
        since, until = clock.since, clock.until
        if (
            not (restart or switch)
            and (started is clock.started or started == clock.started)
            and (stopped is clock.stopped or stopped == clock.stopped)
            and (counts if since is not None and until is None else since is None and not counts)
        ):
            return clock  # runs on, or stays at rest, as it was: the same clock
        base, breached = clock.base, clock.breached_at
        if since is not None:
            # A run that stopped before this instant cannot carry on: add it up now.
            if restart or switch or (until is not None and until != at):
                if old is None:
                    base, breached = clock.base, clock.breached_at
                else:
                    promised, calendar = old.measure(target, clock.started or since)
                    base, breached = _close(
                        clock, calendar, at if until is None else until, promised
                    )
                since = until = None
            elif until is None and not counts:
                until = at  # stopped: kept open, to carry on if it counts again at this instant
            elif until is not None and counts:
                until = None  # counts again at the instant it stopped: the same run
        if restart:
            base, breached = _ZERO, None
        if switch and breached is None and started is not None and new is not None:
            promised = new.budget(target, started)
            if promised is not None and base > promised:
                breached = at
        if counts and since is None:
            since = at
        return _made(Clock, (started, stopped, base, since, until, breached))

    def states(self, kept: Kept, now: datetime) -> tuple[SLAPolicy | None, tuple[SLAState, ...]]:
        """The policy in force and its targets' states at ``now`` (not before ``kept.at``)."""
        policy = self.by_name.get(kept.policy) if kept.policy is not None else None
        if policy is None:
            return None, ()
        now = max(now, kept.at)
        states = []
        at_rest = self.at_rest
        name = policy.name
        terms = policy._terms  # each target's promise and calendar, looked up once
        for target, clock in zip(_TARGETS, kept.clocks, strict=True):
            promised, calendar = terms[target]
            if promised is None:
                continue
            # A clock at rest reads the same at any instant: started and stopped or
            # paused, or not started (its promise then counted from the instant
            # read, which for working days depends on it).
            started = clock.started
            rests = (clock.since is None or clock.until is not None) and (
                started is not None or type(promised) is timedelta
            )
            if rests:
                found = at_rest.get((name, target, clock))
                if found is not None:
                    states.append(found)
                    continue
            if type(promised) is not timedelta:  # working days: a budget from the start
                promised = budget(promised, calendar, started or now)
            state = _read(name, target, calendar, promised, clock, now)
            if rests:
                if len(at_rest) >= _AT_REST:
                    at_rest.clear()
                at_rest[name, target, clock] = state
            states.append(state)
        return policy, tuple(states)

    def due_at(self, kept: Kept) -> datetime | None:
        """The nearest due instant of the running clocks, as of the record's last event.

        A clock that would fall due past the last instant its calendar can
        place is never due (reading it raises, as :meth:`states` does).
        """
        policy = self.by_name.get(kept.policy) if kept.policy is not None else None
        if policy is None:
            return None
        nearest = None
        for target, clock in zip(_TARGETS, kept.clocks, strict=True):
            if clock.since is None or clock.until is not None:
                continue
            promised, calendar = policy.measure(target, clock.started or clock.since)
            if promised is None:
                continue
            try:
                due = _read(policy.name, target, calendar, promised, clock, kept.at).due_at
            except InvalidInput:  # past the end of the calendar's time: never
                continue
            if due is not None and (nearest is None or due < nearest):
                nearest = due
        return nearest


_AT_REST = 1 << 13
"""How many states of clocks at rest a keeper remembers, at most."""


def _chosen(
    policies: Sequence[SLAPolicy], workflow: Workflow, ticket: Ticket, at: datetime
) -> SLAPolicy | None:
    """The first policy covering ``ticket`` at ``at``; its conditions see no history."""
    return policy_for(policies, Context(ticket, at, workflow, clocks=_no_clocks))


def _no_clocks(_context: Context) -> tuple[SLAPolicy | None, tuple[SLAState, ...]]:
    """Refuse a policy's condition that reads the clocks it is choosing."""
    raise InvalidInput(
        "SLAPolicy.applies_to",
        "a condition on SLA clocks",
        "a condition that does not look at SLA clocks (they depend on the policy)",
    )


def _close(
    clock: Clock, calendar: Calendar, end: datetime, promised: timedelta | None
) -> tuple[timedelta, datetime | None]:
    """Add the run from ``clock.since`` to ``end`` to its base, noting a breach inside it.

    ``calendar`` and ``promised`` are the clock's under the policy in force
    (its calendar, and its budget from the clock's start).
    """
    if clock.since is None:
        return clock.base, clock.breached_at
    # A run that starts at the instant read (a clock started or resumed by
    # the commit being folded) has counted nothing yet: no calendar walk.
    piece = _ZERO if end == clock.since else calendar.elapsed(clock.since, end)
    breached = clock.breached_at
    if breached is None and promised is not None and clock.base + piece > promised:
        breached = calendar.due_at(clock.since, promised - clock.base)
    return clock.base + piece, breached


def _read(  # noqa: PLR0917 - positional: a few calls a commit, in the reading's hot path
    policy: str,
    target: Target,
    calendar: Calendar,
    promised: timedelta,
    clock: Clock,
    now: datetime,
) -> SLAState:
    """One target's state at ``now`` from its kept clock: the open run's time added.

    ``policy`` names the policy in force, ``calendar`` is the clock's under it.
    What :func:`_close` and :func:`_judged` do, written out: every commit
    reads each clock.
    """
    started = clock.started
    if started is None:
        return SLAState(target, None, None, _ZERO, promised, False, False, False, None, policy)
    base, since, until, breached = clock.base, clock.since, clock.until, clock.breached_at
    elapsed = base
    if since is not None:
        end = now if until is None else until
        # A run that starts at the instant read has counted nothing yet: no walk.
        if end != since:
            elapsed = base + calendar.elapsed(since, end)
        if breached is None and elapsed > promised:
            breached = calendar.due_at(since, promised - base)
    remaining = promised - elapsed
    run = breach = due = None
    if since is None or until is not None:
        running = False
    else:
        running, run = True, (since, base)
        left = promised - base
        if breached is None and left > _ZERO:
            # The due instant of a run counts from the run's start: the same key
            # at every commit of the run, so the calendar's memo walks it once.
            # Past ``now`` it is the walk from ``now`` for what remains.
            ahead = calendar.due_at(since, left)
            if ahead > now:
                due = ahead
                try:  # asked of every running clock at a commit (its verdict, the SLA rules)
                    breach = calendar.due_at(since, left + _MICROSECOND)
                except InvalidInput:  # past the calendar's last instant: asked, it says so
                    breach = None
        if remaining <= _ZERO or due is None:
            # At exactly the target the clock is due now, not yet breached.
            due = calendar.due_at(now, remaining) if remaining >= _ZERO else breached
    return _built(
        target,
        started,
        due,
        elapsed,
        remaining,
        running,
        clock.stopped is not None and breached is None,
        breached is not None,
        breached,
        policy,
        run,
        breach,
    )


def _judged(
    policy: str,
    target: Target,
    calendar: Calendar,
    promised: timedelta,
    *,
    started: datetime,
    stopped: datetime | None,
    elapsed: timedelta,
    breached: datetime | None,
    running: bool,
    now: datetime,
    due: datetime | None = None,
) -> SLAState:
    remaining = promised - elapsed
    if not running:
        due = None
    elif remaining <= _ZERO or due is None:
        # At exactly the target the clock is due now, not yet breached.
        due = calendar.due_at(now, remaining) if remaining >= _ZERO else breached
    return SLAState(
        target=target,
        started_at=started,
        due_at=due,
        elapsed=elapsed,
        remaining=remaining,
        running=running,
        met=stopped is not None and breached is None,
        breached=breached is not None,
        breached_at=breached,
        policy=policy,
    )


# -- the same from a whole history: the truth the kept record is proven equal to --


def selections(
    policies: Sequence[SLAPolicy], workflow: Workflow, history: Sequence[HistoryEvent]
) -> list[tuple[datetime, SLAPolicy | None]]:
    """When the policy in force changed, and to which, as the history tells it.

    Chosen at ``create`` and again at each event that changed the priority
    or the department, on the ticket as that event left it.
    """
    found: list[tuple[datetime, SLAPolicy | None]] = []
    fields: dict[str, Any] = {}
    current: str | None = None
    for event in history:
        fields.update(event.changes)
        if event.name == CREATE or not _RESELECTS.isdisjoint(event.changes):
            chosen = _chosen(policies, workflow, Ticket(**fields), event.at)
            name = None if chosen is None else chosen.name
            if name != current or not found:
                found.append((event.at, chosen))
                current = name
    return found


def history_states(
    policies: Sequence[SLAPolicy],
    workflow: Workflow,
    history: Sequence[HistoryEvent],
    now: datetime,
    *,
    timeline: Timeline | None = None,
) -> tuple[SLAPolicy | None, tuple[SLAState, ...]]:
    """The policy in force and its targets' states at ``now``, from the whole history.

    The timeline's runs of each clock, cut where the policy changed; each
    piece counted on the calendar of the policy in force then.  Equal to what
    the kept record says (:class:`SLAKeeper`), which is proven.
    """
    chosen = selections(policies, workflow, history)
    policy = chosen[-1][1] if chosen else None
    if policy is None:
        return None, ()
    if timeline is None:
        timeline = Timeline.of(workflow, history, now)
    states = []
    for target, runs_of in RUNS_OF.items():
        runs = runs_of(timeline)
        promised = policy.budget(target, runs.started or timeline.now)
        if promised is not None:
            states.append(
                _from_runs(policy, chosen, target, promised=promised, runs=runs, now=timeline.now)
            )
    return policy, tuple(states)


def _from_runs(
    policy: SLAPolicy,
    chosen: Sequence[tuple[datetime, SLAPolicy | None]],
    target: Target,
    *,
    promised: timedelta,
    runs: Runs,
    now: datetime,
) -> SLAState:
    if len(chosen) == 1:  # one policy all along: the clocks of the whole history
        return _state(policy, target, promised, runs, now)
    if runs.started is None:
        return SLAState(
            target, None, None, _ZERO, promised, False, False, False, None, policy.name
        )
    elapsed = _ZERO
    breached: datetime | None = None
    switches = list(chosen[1:])
    in_force = chosen[0][1]

    def switch_up_to(instant: datetime) -> None:
        """Take the re-selections made up to ``instant``, judging the clock at each."""
        nonlocal breached, in_force
        while switches and switches[0][0] <= instant:
            at, in_force = switches.pop(0)
            if breached is None and in_force is not None and runs.started is not None:
                target_now = in_force.budget(target, runs.started)
                if target_now is not None and elapsed > target_now:
                    breached = at

    for low, high in _cut(runs.intervals, [at for at, _ in chosen[1:]]):
        switch_up_to(low)
        if in_force is None:
            continue
        calendar = in_force.calendar_for(target)
        piece = calendar.elapsed(low, high)
        limit = in_force.budget(target, runs.started)
        if breached is None and limit is not None and elapsed + piece > limit:
            breached = calendar.due_at(low, limit - elapsed)
        elapsed += piece
    switch_up_to(now)
    return _judged(
        policy.name,
        target,
        policy.calendar_for(target),
        promised,
        started=runs.started,
        stopped=runs.stopped,
        elapsed=elapsed,
        breached=breached,
        running=runs.running,
        now=now,
    )


def _cut(intervals: Iterable[Interval], at: Sequence[datetime]) -> list[Interval]:
    """``intervals`` cut at each instant of ``at`` that falls strictly inside one."""
    pieces: list[Interval] = []
    for low, high in intervals:
        start = low
        for instant in sorted(set(at)):
            if start < instant < high:
                pieces.append((start, instant))
                start = instant
        pieces.append((start, high))
    return pieces


def kept_from(text: str | None, seq: int | None = None) -> Kept | None:
    """Decode stored text into a record, if it is one (and of ticket version ``seq``, if given)."""
    if not text:
        return None
    kept = decode(text)
    if kept is None or (seq is not None and kept.seq != seq):
        return None
    return kept
