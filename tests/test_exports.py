"""The public names: exactly these, sorted, each documented."""

from __future__ import annotations

import inspect

import ticketflow
import ticketflow.storage

PUBLIC = [
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


def test_the_package_exports_exactly_the_public_names_sorted() -> None:
    assert ticketflow.__all__ == PUBLIC
    assert ticketflow.__all__ == sorted(ticketflow.__all__)


def test_every_public_name_is_importable_and_documented() -> None:
    for name in [*ticketflow.__all__, *ticketflow.storage.__all__]:
        module = ticketflow if name in ticketflow.__all__ else ticketflow.storage
        value = getattr(module, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert value.__doc__, f"{name} has no docstring"


def test_every_error_derives_from_the_one_base() -> None:
    values = [getattr(ticketflow, name) for name in ticketflow.__all__]
    errors = [value for value in values if inspect.isclass(value) and issubclass(value, Exception)]
    assert len(errors) == 9
    assert all(issubclass(error, ticketflow.TicketflowError) for error in errors)
    assert issubclass(ticketflow.TicketNotFound, LookupError)
    assert issubclass(ticketflow.PermissionDenied, PermissionError)
    assert issubclass(ticketflow.InvalidInput, ValueError)


def test_the_storage_module_exports_the_store_protocol_and_both_stores() -> None:
    assert ticketflow.storage.__all__ == [
        "ORDER_FIELDS",
        "LedgerEntry",
        "MemoryStore",
        "SQLiteStore",
        "Store",
        "TicketQuery",
    ]
