"""Automation rules: conditions on a ticket, one action each, fired once per episode.

A :class:`Rule` pairs a :class:`Condition` with an :class:`Action`; a sweep
(``Helpdesk.run_rules``) fires each rule at most once per ticket and episode.
"""

from ticketflow.rules._actions import Action
from ticketflow.rules._conditions import (
    AllOf,
    AnyOf,
    ChannelIs,
    Condition,
    InCategory,
    InDepartment,
    InStatus,
    Not,
    Predicate,
    PriorityIs,
    Since,
    Tagged,
)
from ticketflow.rules._report import Due, Firing, RuleReport, Skip
from ticketflow.rules._rule import Rule, default_rules

__all__ = [
    "Action",
    "AllOf",
    "AnyOf",
    "ChannelIs",
    "Condition",
    "Due",
    "Firing",
    "InCategory",
    "InDepartment",
    "InStatus",
    "Not",
    "Predicate",
    "PriorityIs",
    "Rule",
    "RuleReport",
    "Since",
    "Skip",
    "Tagged",
    "default_rules",
]
