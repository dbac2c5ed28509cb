"""Service levels: business-hours calendars, SLA policies, their clocks, and work queues.

An :class:`SLAPolicy` promises response and resolution times on a
:class:`Calendar`; the clocks are computed from a ticket's history
(``Helpdesk.sla``), the SLA conditions let rules act on them, and
``Helpdesk.queue`` orders open work by them.
"""

from ticketflow.sla._calendar import Calendar, Shift, Weekday, YearlyHoliday, country_holidays
from ticketflow.sla._clocks import SLAState
from ticketflow.sla._conditions import SLAAtRisk, SLABreached, SLADueWithin, sla_rules
from ticketflow.sla._policy import SLAPolicy, Target
from ticketflow.sla._queue import QueueEntry
from ticketflow.sla._targets import BusinessDays, EndOfWorkingDay

__all__ = [
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
