"""Automation rules: conditions on a ticket, one action each, fired once per episode.

A :class:`Rule` pairs a :class:`Condition` with an :class:`Action`; a sweep
(``Helpdesk.run_rules``) fires each rule at most once per ticket and episode.
Conditions are evaluated on a :class:`Context`: the ticket, the instant, the
workflow, and the history and SLA clocks read when a condition asks.
"""

from ticketflow.rules._actions import Action
from ticketflow.rules._conditions import (
    ALWAYS,
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
from ticketflow.rules._context import Context
from ticketflow.rules._rating import Rated, RatingAtMost
from ticketflow.rules._report import Due, Firing, RuleReport, Skip
from ticketflow.rules._rule import Rule, default_rules

__all__ = [
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
