"""The context a condition is evaluated on: one ticket, at one instant, under one workflow.

A condition never reaches for a store, a clock or a desk: it is handed a
:class:`Context`, which holds the ticket, the instant and the workflow, and
reads the ticket's history and its SLA clocks only when a condition asks, at
most once.  A sweep keeps one context per ticket, so however many rules look
at a ticket, its history is read once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from ticketflow._errors import InvalidInput
from ticketflow._history import HistoryEvent
from ticketflow._ticket import Ticket
from ticketflow._timeline import Timeline
from ticketflow._validate import to_utc
from ticketflow._workflow import Workflow

if TYPE_CHECKING:  # the SLA package builds on this one; it supplies the clocks at run time
    from ticketflow.sla import SLAPolicy, SLAState

    Clocks = Callable[["Context"], tuple[SLAPolicy | None, tuple[SLAState, ...]]]
    """Measures a context's SLA clocks: the policy covering it and each target's state."""


class Context:
    """One ticket at one instant, as conditions see it.

    Args:
        ticket: the ticket as it stands.
        now: the instant the conditions are asked about (aware).
        workflow: the workflow the ticket follows (conditions on categories
            ask it which statuses those are).
        history: the ticket's history, or a function that reads it; called at
            most once, the first time a condition needs it.  None: no history
            is at hand (conditions that need one see none, and measuring the
            timeline or the SLA clocks raises :class:`InvalidInput`).
        clocks: measures the SLA clocks (a Helpdesk passes its SLA policies);
            None: no SLA policy covers anything.

    >>> from datetime import UTC, datetime
    >>> from ticketflow import Helpdesk, ManualClock, Contact, Workflow
    >>> from ticketflow.rules import InCategory
    >>> desk = Helpdesk(clock=ManualClock(datetime(2026, 1, 5, 9, tzinfo=UTC)))
    >>> ticket = desk.open(subject="VPN", description="It drops.",
    ...                    requester=Contact(name="Ana", email="ana@example.com"))
    >>> context = Context(ticket, desk.clock.now(), desk.workflow,
    ...                   history=lambda: desk.history(ticket.id))
    >>> InCategory("new").holds(context)
    True
    >>> [event.name for event in context.history()]
    ['create']
    """

    __slots__ = (
        "_clocks",
        "_history",
        "_measuring",
        "_read",
        "_sla",
        "_timeline",
        "now",
        "ticket",
        "workflow",
    )

    def __init__(
        self,
        ticket: Ticket,
        now: datetime,
        workflow: Workflow,
        *,
        history: Sequence[HistoryEvent] | Callable[[], Sequence[HistoryEvent]] | None = None,
        clocks: Clocks | None = None,
    ) -> None:
        if not isinstance(ticket, Ticket):
            raise InvalidInput("ticket", ticket, "a Ticket")
        if not isinstance(workflow, Workflow):
            raise InvalidInput("workflow", workflow, "a Workflow")
        self.ticket = ticket
        self.now = to_utc(now, "now")
        self.workflow = workflow
        if history is not None and not callable(history) and not isinstance(history, Sequence):
            raise InvalidInput("history", history, "None, the events, or a function reading them")
        if clocks is not None and not callable(clocks):
            raise InvalidInput("clocks", clocks, "None or a function measuring a context's clocks")
        self._read: Callable[[], Sequence[HistoryEvent]] | None = None
        self._history: Sequence[HistoryEvent] | None = None
        if callable(history):
            self._read = history
        else:
            self._history = () if history is None else tuple(history)
        self._clocks = clocks
        self._sla: tuple[SLAPolicy | None, tuple[SLAState, ...]] | None = None
        self._measuring = False
        self._timeline: Timeline | None = None

    def history(self) -> Sequence[HistoryEvent]:
        """The ticket's history, oldest first; read the first time it is asked for."""
        if self._history is None:
            assert self._read is not None  # noqa: S101 - one of the two is always set
            self._history = tuple(self._read())
        return self._history

    def timeline(self) -> Timeline:
        """What the history says up to ``now`` (spans, waits, resolutions); built once."""
        if self._timeline is None:
            self._timeline = Timeline.of(self.workflow, self.history(), self.now)
        return self._timeline

    @property
    def history_read(self) -> bool:
        """Whether the history has been read (or was given)."""
        return self._history is not None

    def sla_policy(self) -> SLAPolicy | None:
        """The SLA policy that covers the ticket, if any (measured with :meth:`sla`)."""
        return self._measure()[0]

    def sla_clocks(self) -> tuple[SLAPolicy | None, tuple[SLAState, ...]]:
        """:meth:`sla_policy` and :meth:`sla` together, in one call (measured once)."""
        return self._measure()

    def sla(self) -> tuple[SLAState, ...]:
        """The state of each SLA target on the ticket at ``now``; measured once.

        Empty when no policy covers the ticket.

        Raises:
            InvalidInput: a policy's ``applies_to`` looks at SLA clocks itself,
                which would need the clocks to choose the clocks.
        """
        return self._measure()[1]

    def _measure(self) -> tuple[SLAPolicy | None, tuple[SLAState, ...]]:
        if self._sla is None:
            if self._clocks is None:
                self._sla = (None, ())
            else:
                if self._measuring:
                    raise InvalidInput(
                        "SLAPolicy.applies_to",
                        "a condition on SLA clocks",
                        "a condition that does not look at SLA clocks (they depend on the policy)",
                    )
                self._measuring = True
                try:
                    self._sla = self._clocks(self)
                finally:
                    self._measuring = False
        return self._sla

    def after(self, ticket: Ticket, event: HistoryEvent) -> Context:
        """The context once ``event`` made ``ticket``: the history read so far, extended.

        What a sweep keeps after a rule acted, so later rules neither read the
        history again nor see it stale.
        """
        history = self._read if self._history is None else (*self._history, event)
        return Context(ticket, self.now, self.workflow, history=history, clocks=self._clocks)

    def __repr__(self) -> str:
        return f"<Context {self.ticket.id!r} ({self.ticket.status}) at {self.now.isoformat()}>"
