"""Property-test any workflow: Hypothesis strategies and a ready stateful test.

Point the stateful test at your own workflow (and, if you like, your own policy
and store) and pytest runs it like any test::

    from ticketflow import Workflow
    from ticketflow.testing import workflow_laws

    TestMyWorkflow = workflow_laws(Workflow.from_file("workflow.toml")).TestCase

It opens tickets and fires random events by random actors, mostly ones that
are allowed at that moment (so walks reach resolved, closed and removed
statuses) and sometimes anything at all (so refusals are tried too), with
random clock jumps in between.  After every step it checks the laws that hold
for every workflow:

- a closed-category status is entered only from a solved-category one;
- every ticket's history starts with ``create``, has no gaps, chains each
  event's ``from_status`` to the previous ``to_status``, ends in the stored
  status, and never goes back in time;
- each event's ``changes`` hold exactly the fields that changed, and
  replaying the history gives back the stored ticket;
- an accepted command raises the ticket's version by exactly one; a refused
  one changes nothing at all, in any ticket;
- a purged ticket is gone, with its history.

The strategies are here for tests of your own.  This module needs Hypothesis
(``pip install "ticketflow[testing]"``); the rest of ticketflow does not.
"""

from __future__ import annotations

try:
    import hypothesis  # noqa: F401 - fail early, with the fix in the message
except ImportError as missing:  # pragma: no cover - depends on the environment
    msg = 'ticketflow.testing needs Hypothesis: pip install "ticketflow[testing]"'
    raise ImportError(msg) from missing

from ticketflow.testing._calendars import business_calendars
from ticketflow.testing._laws import WorkflowLaws, check_history, workflow_laws
from ticketflow.testing._stores import StoreContract
from ticketflow.testing._strategies import (
    START,
    actors,
    bodies,
    calendars,
    clock_jumps,
    contacts,
    event_names,
    event_sequences,
    histories,
    payloads,
    tickets,
)

__all__ = [
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
