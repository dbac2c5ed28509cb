"""The names of the events ticketflow itself knows, defined once.

The history, the workflow, the rules, the SLA clocks and the metrics all
recognise events by name; they import the names from here rather than
spelling them, so a typo is an import error, not a silent mismatch.
"""

from __future__ import annotations

from typing import Final

CREATE: Final = "create"
"""The first event of every ticket, which holds all its fields."""
MIGRATE: Final = "migrate"
"""Recorded on each ticket a workflow change moves."""

AGENT_REPLY: Final = "agent_reply"
CUSTOMER_REPLY: Final = "customer_reply"
RESOLVE: Final = "resolve"
CLOSE: Final = "close"
REOPEN: Final = "reopen"
POSTPONE: Final = "postpone"
WAKE: Final = "wake"
PURGE: Final = "purge"
MARK_SPAM: Final = "mark_spam"
DELETE: Final = "delete"
RESTORE: Final = "restore"

NOTE: Final = "note"
REMIND: Final = "remind"
SLA_WARNING: Final = "sla_warning"
SLA_BREACH: Final = "sla_breach"
ASSIGN: Final = "assign"
SET_PRIORITY: Final = "set_priority"
SET_DEPARTMENT: Final = "set_department"
UPDATE_TAGS: Final = "update_tags"
SET_FIELDS: Final = "set_fields"

# After the work: satisfaction ratings, reviews of closed tickets, merging.
RATE: Final = "rate"
"""The requester rates a solved or closed ticket (``Helpdesk.rate``)."""
REVIEW: Final = "closing_review"
"""Staff record the solution and the lessons learned on a closed ticket."""
MERGE: Final = "merge"
"""A workflow event: the ticket is merged into another and leaves the queues."""
MERGE_IN: Final = "merge_in"
"""Recorded on the ticket another was merged into."""
