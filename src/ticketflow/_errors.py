"""Every error ticketflow raises, under one base class.

The hierarchy::

    TicketflowError
    ├── InvalidInput (ValueError)            a value the caller passed is not acceptable
    ├── InvalidWorkflow (ValueError)         a workflow declaration breaks the rules
    ├── TicketNotFound (LookupError)         no ticket with that id in the store
    ├── IllegalTransition                    the workflow does not allow that event now
    ├── MergeRefused (ValueError)            these two tickets cannot be merged
    ├── PermissionDenied (PermissionError)   the policy does not allow that actor to do it
    ├── ConcurrencyConflict                  the stored ticket moved since it was read
    ├── StorageError                         the store could not do what was asked
    │   └── ClaimExpired                     a drain's lease on its consumer ran out
    ├── ScheduleOutOfDate                    stored tickets were scheduled by other rules
    ├── SLAOutOfDate                         stored SLA clocks were kept under other policies
    ├── FiguresOutOfDate                     stored figures were computed under other policies
    ├── HookFailed                           the command was committed, but a hook raised
    ├── DeliveryFailed                       a consumer could not deliver an outbox record
    └── MissingDependency (ImportError)      an optional part needs an extra not installed

Each error carries its context as attributes and reads as a sentence.  A command
that raises any of them, except ``HookFailed``, has changed nothing.
"""

from __future__ import annotations

import itertools
import reprlib
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ticketflow._actor import Actor
    from ticketflow._ticket import Ticket


class TicketflowError(Exception):
    """The base of every error ticketflow raises."""


class _Short(reprlib.Repr):
    """``repr``, cut short for a huge or deeply nested value; dicts in their own order."""

    def __init__(self) -> None:
        super().__init__()
        self.maxlevel = 4
        self.maxstring = self.maxother = 200
        self.maxlong = 40
        self.maxlist = self.maxtuple = self.maxdict = self.maxset = 10

    def repr_int(self, x: int, level: int) -> str:
        try:
            return super().repr_int(x, level)
        except ValueError:  # Python refuses to print an integer past 4300 digits
            return f"<an integer of {x.bit_length()} bits>"

    def repr_dict(self, x: dict[object, object], level: int) -> str:
        if not x:
            return "{}"
        if level <= 0:
            return "{...}"
        pieces = [
            f"{self.repr1(key, level - 1)}: {self.repr1(value, level - 1)}"
            for key, value in itertools.islice(x.items(), self.maxdict)
        ]
        more = ", ..." if len(x) > self.maxdict else ""
        return "{" + ", ".join(pieces) + more + "}"


_SHORT = _Short()


def short_repr(value: object) -> str:
    """``repr(value)``, cut short for a huge or nested value: an error must stay readable."""
    return _SHORT.repr(value)


class InvalidInput(TicketflowError, ValueError):
    """A value passed to ticketflow is not acceptable.

    Attributes:
        field: the name of the argument or field at fault.
        value: the value that was refused.
        expected: what would have been accepted, in words.
    """

    def __init__(self, field: str, value: object, expected: str) -> None:
        self.field = field
        self.value = value
        self.expected = expected
        super().__init__(f"{field} must be {expected}, got {short_repr(value)}")


class InvalidWorkflow(TicketflowError, ValueError):
    """A workflow declaration breaks one or more rules; every problem is listed.

    Attributes:
        workflow: the name of the workflow.
        problems: one sentence per problem, each naming the status or transition at fault.
    """

    def __init__(self, workflow: str, problems: Iterable[str]) -> None:
        self.workflow = workflow
        self.problems = tuple(problems)
        listing = "\n".join(f"  - {problem}" for problem in self.problems)
        count = len(self.problems)
        super().__init__(
            f"workflow {workflow!r} is invalid ({count} problem{'s' if count != 1 else ''}):"
            f"\n{listing}"
        )


class TicketNotFound(TicketflowError, LookupError):
    """No ticket with this id is stored (it never existed, or it was purged).

    Attributes:
        ticket_id: the id that was looked up.
    """

    def __init__(self, ticket_id: str) -> None:
        self.ticket_id = ticket_id
        super().__init__(f"no ticket with id {ticket_id!r}")


class IllegalTransition(TicketflowError):
    """The workflow does not allow this event on the ticket in its current status.

    Attributes:
        ticket_id: the ticket the event was fired on.
        status: the ticket's status when the event was refused.
        event: the event that was refused.
        allowed: the events the workflow allows in that status, sorted.
        reason: why it was refused, when there is more to say than the status.
    """

    def __init__(
        self,
        ticket_id: str,
        status: str,
        event: str,
        allowed: Sequence[str],
        reason: str | None = None,
    ) -> None:
        self.ticket_id = ticket_id
        self.status = status
        self.event = event
        self.allowed = tuple(sorted(allowed))
        self.reason = reason
        why = f": {reason}" if reason else ""
        allowed_text = ", ".join(self.allowed) if self.allowed else "none"
        super().__init__(
            f"cannot {event!r} ticket {ticket_id!r} in status {status!r}{why}; "
            f"allowed now: {allowed_text}"
        )


class MergeRefused(TicketflowError, ValueError):
    """Merging one ticket into the other makes no sense; nothing was changed.

    Refused: a ticket into itself, into a merged, purged, removed or closed
    ticket, and a ticket that others were merged into (merges never chain).

    Attributes:
        source: the ticket that was to be merged.
        target: the ticket it was to be merged into.
        reason: why not, in words.
    """

    def __init__(self, source: str, target: str, reason: str) -> None:
        self.source = source
        self.target = target
        self.reason = reason
        super().__init__(f"cannot merge ticket {source!r} into {target!r}: {reason}")


class PermissionDenied(TicketflowError, PermissionError):
    """The policy does not let this actor fire this event on this ticket.

    Attributes:
        actor: the actor who was refused.
        event: the event they tried.
        ticket_id: the ticket concerned; None for a ticket refused before it
            existed (an ``open``), which never got an id.
        reason: why, in words.
    """

    def __init__(self, actor: Actor, event: str, ticket_id: str | None, reason: str) -> None:
        self.actor = actor
        self.event = event
        self.ticket_id = ticket_id
        self.reason = reason
        which = "a new ticket" if ticket_id is None else f"ticket {ticket_id!r}"
        super().__init__(f"{actor.role.value} {actor.id!r} may not {event!r} {which}: {reason}")


class ConcurrencyConflict(TicketflowError):
    """The stored ticket's version moved since the caller read it; nothing was written.

    Attributes:
        ticket_id: the ticket concerned.
        expected_version: the version the writer read.
        actual_version: the version found in the store (None if the ticket is gone).
    """

    def __init__(self, ticket_id: str, expected_version: int, actual_version: int | None) -> None:
        self.ticket_id = ticket_id
        self.expected_version = expected_version
        self.actual_version = actual_version
        found = "it is gone" if actual_version is None else f"found {actual_version}"
        super().__init__(
            f"ticket {ticket_id!r} changed concurrently: expected version "
            f"{expected_version}, {found}"
        )


class StorageError(TicketflowError):
    """The store could not do what was asked (locked, too new, broken); nothing was written.

    One exception, which its message states: when the connection to a
    database server is lost while a command is in flight, the server may
    have committed it just before; read the ticket before trying again.

    Attributes:
        store: which store: its path or name.
        reason: what went wrong, in words.
    """

    def __init__(self, store: str, reason: str) -> None:
        self.store = store
        self.reason = reason
        super().__init__(f"store {store!r}: {reason}")


class ClaimExpired(StorageError):
    """A drain's lease on its consumer's cursor ran out, and another drain took it over.

    The drain stopped handing records over and wrote nothing: the records it
    handed over are handed over again by a later drain (at least once).  A
    drain whose handler is this slow needs a longer ``lease=``.

    Attributes:
        store: which store: its path or name.
        consumer: the consumer whose cursor was claimed.
        reason: what went wrong, in words.
    """

    def __init__(self, store: str, consumer: str) -> None:
        self.consumer = consumer
        super().__init__(
            store,
            f"the drain's lease on consumer {consumer!r} ran out and another drain took it "
            "over, so this one wrote nothing and its records will be handed over again; "
            "expected each handler call to end within half the lease: drain with a longer "
            "lease=",
        )


class ScheduleOutOfDate(TicketflowError):
    """Stored tickets were scheduled by another rule set; a sweep would miss their firings.

    Each commit stores the ticket's next due instant as the desk's rules,
    SLA policies and workflow say (their fingerprint is stored with it).  A
    desk whose fingerprint differs refuses to sweep until the tickets are
    rescheduled: ``desk.reschedule()`` or ``ticketflow reschedule``.  Nothing
    was fired.

    Attributes:
        ticket_id: a ticket scheduled otherwise.
        found: the fingerprint stored on it (None: never scheduled).
        expected: the desk's fingerprint.
    """

    def __init__(self, ticket_id: str, found: str | None, expected: str) -> None:
        self.ticket_id = ticket_id
        self.found = found
        self.expected = expected
        by = "was never scheduled" if found is None else f"was scheduled by rule set {found}"
        super().__init__(
            f"ticket {ticket_id!r} {by}, not by this desk's rules, SLA policies and workflow "
            f"({expected}); run desk.reschedule() (or `ticketflow reschedule`) once every "
            "process runs the same rules, then sweep"
        )


class SLAOutOfDate(TicketflowError):
    """Stored SLA clocks were kept under other SLA policies (or none); reading them would lie.

    Each commit keeps the ticket's SLA clocks as the desk's SLA policies and
    workflow say, with their fingerprint (``Helpdesk.sla_fingerprint``).  A
    desk whose fingerprint differs refuses to read them (``sla()``,
    ``queue(order="sla")``) until they are recomputed from the histories:
    ``desk.recompute_sla()`` or ``ticketflow recompute-sla``.

    Attributes:
        ticket_id: a ticket whose clocks were kept otherwise.
        found: the fingerprint stored on it (None: never kept).
        expected: the desk's fingerprint.
    """

    def __init__(self, ticket_id: str, found: str | None, expected: str) -> None:
        self.ticket_id = ticket_id
        self.found = found
        self.expected = expected
        by = "were never kept" if found is None else f"were kept under SLA policies {found}"
        super().__init__(
            f"the SLA clocks of ticket {ticket_id!r} {by}, not under this desk's SLA "
            f"policies and workflow ({expected}); run desk.recompute_sla() (or "
            "`ticketflow recompute-sla`) once every process runs the same policies"
        )


class FiguresOutOfDate(TicketflowError):
    """Stored tickets hold figures computed under other SLA policies or another workflow, or none.

    Each commit stores the ticket's figures as the desk's SLA policies and
    workflow measure them (their key is stored with them).  A report added
    up from figures of another key would mix two measures, so a desk
    refuses it until the figures are recomputed: ``desk.recompute_figures()``
    or ``ticketflow refigure``.

    Attributes:
        count: how many tickets hold other figures (or none).
        expected: the desk's key (``Helpdesk.figures_key``).
    """

    def __init__(self, count: int, expected: str) -> None:
        self.count = count
        self.expected = expected
        super().__init__(
            f"{count} stored ticket(s) hold figures computed under other SLA policies or "
            f"another workflow, or none, not under this desk's ({expected}); run "
            "desk.recompute_figures() (or `ticketflow refigure`) once every process runs "
            "the same policies, then ask for the metrics again"
        )


class HookFailed(TicketflowError):
    """A hook raised after the command was committed; the command itself took effect.

    A sweep or a workflow change that commits many tickets carries on past a
    failing hook and raises once, at the end, with every error and what it
    did (``result``).

    Attributes:
        ticket: the ticket as committed (the first whose hooks failed).
        errors: the exceptions the hooks raised, in the order the hooks ran.
        result: for a sweep, its ``RuleReport``; for a workflow change, the
            moved tickets; None for a single command.
    """

    def __init__(
        self, ticket: Ticket, errors: Sequence[BaseException], result: object = None
    ) -> None:
        self.ticket = ticket
        self.errors = tuple(errors)
        self.result = result
        kinds = ", ".join(f"{type(error).__name__}: {error}" for error in self.errors)
        super().__init__(
            f"ticket {ticket.id!r} was committed at version {ticket.version}, "
            f"but {len(self.errors)} hook(s) failed: {kinds}"
        )

    @classmethod
    def of(cls, failures: Sequence[HookFailed], result: object) -> HookFailed:
        """One error for the hook failures of a batch, with the batch's result."""
        errors = [error for failure in failures for error in failure.errors]
        return cls(failures[0].ticket, errors, result)


class DeliveryFailed(TicketflowError):
    """A consumer of the outbox could not deliver a record; raised by handlers, kept by drains.

    Any exception a handler raises counts as a failure to try again later;
    this one says more: whether trying again can help, and how long to wait
    at least (a server's ``Retry-After``).

    Attributes:
        record_id: the record's id.
        reason: what went wrong, in words.
        retry: whether a later try may succeed (False: set aside as dead at once).
        after: the least number of seconds to wait before the next try, if known.
    """

    def __init__(
        self, record_id: str, reason: str, *, retry: bool = True, after: float | None = None
    ) -> None:
        self.record_id = record_id
        self.reason = reason
        self.retry = retry
        self.after = after
        then = "it will be tried again" if retry else "trying again cannot help"
        wait = f" in {after:g} s at the earliest" if retry and after is not None else ""
        super().__init__(f"record {record_id!r} was not delivered: {reason}; {then}{wait}")


class MissingDependency(TicketflowError, ImportError):
    """An optional part of ticketflow needs a package that is not installed.

    Attributes:
        package: the package missing.
        extra: the ticketflow extra that installs it.
    """

    def __init__(self, package: str, extra: str) -> None:
        self.package = package
        self.extra = extra
        super().__init__(
            f"{package} is not installed; install the {extra!r} extra: "
            f'pip install "ticketflow[{extra}]"'
        )
