"""ticketflow: the lifecycle of support tickets, embeddable.

Legal transitions only (resolve before close), who may do what, an exact
timestamped history, pluggable clock and storage.  Start with
:class:`Helpdesk`; ``docs/`` has the guide.
"""

from ticketflow._actor import Actor, Role
from ticketflow._clock import Clock, ManualClock, SystemClock
from ticketflow._desk import Helpdesk, Hook
from ticketflow._errors import (
    ClaimExpired,
    ConcurrencyConflict,
    DeliveryFailed,
    FiguresOutOfDate,
    HookFailed,
    IllegalTransition,
    InvalidInput,
    InvalidWorkflow,
    MergeRefused,
    MissingDependency,
    PermissionDenied,
    ScheduleOutOfDate,
    SLAOutOfDate,
    StorageError,
    TicketflowError,
    TicketNotFound,
)
from ticketflow._guards import Guard, builtin_guards
from ticketflow._history import HistoryEvent, replay
from ticketflow._html_report import html_report
from ticketflow._lifecycle import DefaultLifecycle
from ticketflow._metrics import MetricsReport, Summary, TicketMetrics
from ticketflow._migration import WorkflowChange
from ticketflow._outbox import Backoff, DrainReport, Outbox
from ticketflow._paging import Page
from ticketflow._policy import Policy, Scope
from ticketflow._review import Review
from ticketflow._satisfaction import Rating, RatingScale, Satisfaction
from ticketflow._status import Category, Status
from ticketflow._ticket import Channel, Contact, Priority, Ticket
from ticketflow._version import __version__
from ticketflow._webhooks import Webhook
from ticketflow._workflow import TicketState, Transition, Workflow
from ticketflow.storage._outbox import ConsumerState, HeldRecord, OutboxRecord

__all__ = [
    "Actor",
    "Backoff",
    "Category",
    "Channel",
    "ClaimExpired",
    "Clock",
    "ConcurrencyConflict",
    "ConsumerState",
    "Contact",
    "DefaultLifecycle",
    "DeliveryFailed",
    "DrainReport",
    "FiguresOutOfDate",
    "Guard",
    "HeldRecord",
    "Helpdesk",
    "HistoryEvent",
    "Hook",
    "HookFailed",
    "IllegalTransition",
    "InvalidInput",
    "InvalidWorkflow",
    "ManualClock",
    "MergeRefused",
    "MetricsReport",
    "MissingDependency",
    "Outbox",
    "OutboxRecord",
    "Page",
    "PermissionDenied",
    "Policy",
    "Priority",
    "Rating",
    "RatingScale",
    "Review",
    "Role",
    "SLAOutOfDate",
    "Satisfaction",
    "ScheduleOutOfDate",
    "Scope",
    "Status",
    "StorageError",
    "Summary",
    "SystemClock",
    "Ticket",
    "TicketMetrics",
    "TicketNotFound",
    "TicketState",
    "TicketflowError",
    "Transition",
    "Webhook",
    "Workflow",
    "WorkflowChange",
    "__version__",
    "builtin_guards",
    "html_report",
    "replay",
]
