"""The public names: exactly these, sorted, each documented."""

from __future__ import annotations

import inspect

import ticketflow
import ticketflow.rules
import ticketflow.sla
import ticketflow.storage
import ticketflow.testing

PUBLIC = [
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


RULES = [
    "ALWAYS",
    "Action",
    "AllOf",
    "AnyOf",
    "ChannelIs",
    "Condition",
    "Context",
    "Due",
    "Firing",
    "InCategory",
    "InDepartment",
    "InStatus",
    "Not",
    "Predicate",
    "PriorityIs",
    "Rated",
    "RatingAtMost",
    "Rule",
    "RuleReport",
    "Since",
    "Skip",
    "Tagged",
    "default_rules",
]

SLA = [
    "BusinessDays",
    "Calendar",
    "EndOfWorkingDay",
    "QueueEntry",
    "SLAAtRisk",
    "SLABreached",
    "SLADueWithin",
    "SLAPolicy",
    "SLAState",
    "Shift",
    "Target",
    "Weekday",
    "YearlyHoliday",
    "country_holidays",
    "sla_rules",
]

TESTING = [
    "START",
    "StoreContract",
    "WorkflowLaws",
    "actors",
    "bodies",
    "business_calendars",
    "calendars",
    "check_history",
    "clock_jumps",
    "contacts",
    "event_names",
    "event_sequences",
    "histories",
    "payloads",
    "tickets",
    "workflow_laws",
]

MODULES = {
    ticketflow: PUBLIC,
    ticketflow.rules: RULES,
    ticketflow.sla: SLA,
    ticketflow.storage: [
        "NO_SLA",
        "ORDER_FIELDS",
        "SEARCHED_EVENTS",
        "UNSCHEDULED",
        "FigureTotals",
        "Figures",
        "GroupFigures",
        "LedgerEntry",
        "MemoryStore",
        "OutboxStore",
        "Period",
        "PostgresStore",
        "SQLiteStore",
        "Schedule",
        "SearchQuery",
        "Spread",
        "Store",
        "StoredSLA",
        "TicketQuery",
        "Verdict",
        "migrate_postgres",
    ],
    ticketflow.testing: TESTING,
}


def test_each_public_module_exports_exactly_its_names() -> None:
    # Their order is ruff's (RUF022): constants, then classes, then functions.
    for module, names in MODULES.items():
        assert module.__all__ == names, module.__name__


def test_no_name_is_exported_from_two_public_modules() -> None:
    seen: dict[str, str] = {}
    for module, names in MODULES.items():
        for name in names:
            assert name not in seen, f"{name} is in {seen.get(name)} and {module.__name__}"
            seen[name] = module.__name__


def test_the_package_exports_exactly_the_public_names_sorted() -> None:
    assert ticketflow.__all__ == PUBLIC
    assert ticketflow.__all__ == sorted(ticketflow.__all__)


def test_every_public_name_is_importable_and_documented() -> None:
    for module, names in MODULES.items():
        for name in names:
            value = getattr(module, name)
            if inspect.isclass(value) or inspect.isfunction(value):
                assert value.__doc__, f"{module.__name__}.{name} has no docstring"


def test_every_error_derives_from_the_one_base() -> None:
    values = [getattr(ticketflow, name) for name in ticketflow.__all__]
    errors = [value for value in values if inspect.isclass(value) and issubclass(value, Exception)]
    assert len(errors) == 16
    assert issubclass(ticketflow.MergeRefused, ValueError)
    assert all(issubclass(error, ticketflow.TicketflowError) for error in errors)
    assert issubclass(ticketflow.TicketNotFound, LookupError)
    assert issubclass(ticketflow.PermissionDenied, PermissionError)
    assert issubclass(ticketflow.InvalidInput, ValueError)
    assert issubclass(ticketflow.ClaimExpired, ticketflow.StorageError)


def test_the_storage_module_exports_the_store_protocol_and_the_three_stores() -> None:
    assert ticketflow.storage.__all__ == [
        "NO_SLA",
        "ORDER_FIELDS",
        "SEARCHED_EVENTS",
        "UNSCHEDULED",
        "FigureTotals",
        "Figures",
        "GroupFigures",
        "LedgerEntry",
        "MemoryStore",
        "OutboxStore",
        "Period",
        "PostgresStore",
        "SQLiteStore",
        "Schedule",
        "SearchQuery",
        "Spread",
        "Store",
        "StoredSLA",
        "TicketQuery",
        "Verdict",
        "migrate_postgres",
    ]
