"""ticketflow: the lifecycle of support tickets, embeddable.

Legal transitions only (resolve before close), who may do what, an exact
timestamped history, pluggable clock and storage.  Start with
:class:`Helpdesk`; ``docs/`` has the guide.
"""

from ticketflow._actor import Actor, Role
from ticketflow._calendar import Calendar, Shift, Weekday, country_holidays
from ticketflow._clock import Clock, ManualClock, SystemClock
from ticketflow._desk import Helpdesk, Hook
from ticketflow._errors import (
    ConcurrencyConflict,
    HookFailed,
    IllegalTransition,
    InvalidInput,
    InvalidWorkflow,
    PermissionDenied,
    StorageError,
    TicketflowError,
    TicketNotFound,
)
from ticketflow._guards import Guard, builtin_guards
from ticketflow._history import HistoryEvent, replay
from ticketflow._lifecycle import DefaultLifecycle
from ticketflow._metrics import MetricsReport, Summary, TicketMetrics
from ticketflow._migration import WorkflowChange
from ticketflow._policy import Policy, Scope
from ticketflow._rules import (
    Action,
    AllOf,
    AnyOf,
    ChannelIs,
    Condition,
    Due,
    Firing,
    InCategory,
    InDepartment,
    InStatus,
    Not,
    Predicate,
    PriorityIs,
    Rule,
    RuleReport,
    Since,
    Skip,
    SLAAtRisk,
    SLABreached,
    SLADueWithin,
    Tagged,
    default_rules,
    sla_rules,
)
from ticketflow._sla import QueueEntry, SLAPolicy, SLAState, Target
from ticketflow._status import Category, Status
from ticketflow._ticket import Channel, Contact, Priority, Ticket
from ticketflow._version import __version__
from ticketflow._workflow import TicketState, Transition, Workflow

__all__ = [
    "Action",
    "Actor",
    "AllOf",
    "AnyOf",
    "Calendar",
    "Category",
    "Channel",
    "ChannelIs",
    "Clock",
    "ConcurrencyConflict",
    "Condition",
    "Contact",
    "DefaultLifecycle",
    "Due",
    "Firing",
    "Guard",
    "Helpdesk",
    "HistoryEvent",
    "Hook",
    "HookFailed",
    "IllegalTransition",
    "InCategory",
    "InDepartment",
    "InStatus",
    "InvalidInput",
    "InvalidWorkflow",
    "ManualClock",
    "MetricsReport",
    "Not",
    "PermissionDenied",
    "Policy",
    "Predicate",
    "Priority",
    "PriorityIs",
    "QueueEntry",
    "Role",
    "Rule",
    "RuleReport",
    "SLAAtRisk",
    "SLABreached",
    "SLADueWithin",
    "SLAPolicy",
    "SLAState",
    "Scope",
    "Shift",
    "Since",
    "Skip",
    "Status",
    "StorageError",
    "Summary",
    "SystemClock",
    "Tagged",
    "Target",
    "Ticket",
    "TicketMetrics",
    "TicketNotFound",
    "TicketState",
    "TicketflowError",
    "Transition",
    "Weekday",
    "Workflow",
    "WorkflowChange",
    "__version__",
    "builtin_guards",
    "country_holidays",
    "default_rules",
    "replay",
    "sla_rules",
]
