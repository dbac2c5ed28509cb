"""A B2B support contract around Christmas: targets in working days on a contract calendar.

The contract: office hours in Riga, 09:00-18:00 Monday to Friday; closed on
Christmas Eve afternoon (a half day), Christmas and Boxing Day every year,
and on Monday 4 January 2027, a bridge day worked in advance on Saturday
19 December. First response by the end of the next working day; resolution
within 3 business days.

Run it: ``python examples/contract_sla.py [DATABASE]`` (a SQLite file; a
temporary one if not given).
"""

from __future__ import annotations

import sys
import tempfile
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from ticketflow import Actor, Contact, Helpdesk, ManualClock
from ticketflow.sla import (
    BusinessDays,
    Calendar,
    EndOfWorkingDay,
    SLAPolicy,
    YearlyHoliday,
    sla_rules,
)
from ticketflow.storage import SQLiteStore

RIGA = ZoneInfo("Europe/Riga")

contract_hours = Calendar.business(
    "Europe/Riga",
    weekdays=("09:00", "18:00"),
    holidays=[YearlyHoliday(12, 25), YearlyHoliday(12, 26), date(2027, 1, 4)],
    dates={
        date(2026, 12, 24): [(time(9), time(13))],  # Christmas Eve: a half day
        date(2026, 12, 19): [(time(10), time(16))],  # a Saturday worked for 4 January
    },
    name="Riga contract",
)
contract = SLAPolicy(
    "contract",
    first_response=EndOfWorkingDay(1),
    resolution=BusinessDays(3),
    calendar=contract_hours,
)


def local(instant: datetime | None) -> str:
    return "-" if instant is None else instant.astimezone(RIGA).strftime("%a %d %b %H:%M")


def show(desk: Helpdesk, ticket_id: str) -> None:
    for state in desk.sla(ticket_id):
        verdict = "breached" if state.breached else "met" if state.met else "running"
        print(
            f"  {ticket_id} {state.target.value:<15} due {local(state.due_at):<16}"
            f" counted {state.elapsed!s:>8}  {verdict}"
        )


def main(database: Path) -> None:
    clock = ManualClock(datetime(2026, 12, 23, 16, 0, tzinfo=RIGA))  # Wednesday afternoon
    store = SQLiteStore(database)
    desk = Helpdesk(store=store, clock=clock, sla_policies=[contract], rules=sla_rules())
    customer = Contact(name="Ana Ozola", email="ana@example.com")
    agent = Actor.agent("a-1")

    print(f"Calendar {contract_hours.name!r}:")
    for day in (date(2026, 12, 19), date(2026, 12, 24), date(2026, 12, 25), date(2027, 1, 4)):
        midnight = datetime.combine(day, time(0), RIGA)
        hours = contract_hours.elapsed(midnight, midnight + timedelta(days=1))
        working = "working" if contract_hours.is_working_day(day) else "closed"
        print(f"  {day:%a %d %b %Y}: {working}, {hours} open")

    print("Wednesday 23 December, 16:00: a printer jams.")
    printer = desk.open(subject="Printer jams", description="Every page.", requester=customer)
    show(desk, printer.id)

    clock.set(datetime(2026, 12, 24, 12, 0, tzinfo=RIGA))
    print("Christmas Eve, 12:00: an agent answers.")
    desk.reply(printer.id, agent, "A technician comes after Christmas.")
    show(desk, printer.id)

    clock.set(datetime(2026, 12, 29, 17, 0, tzinfo=RIGA))
    print("Tuesday 29 December, 17:00: the SLA sweep runs.")
    report = desk.run_rules()
    print(f"  fired: {[firing.rule for firing in report.fired]}")
    show(desk, printer.id)

    desk.assign(printer.id, Actor.admin("ad-1"), "a-1")
    desk.resolve(printer.id, agent)
    compliance = desk.metrics().overall.compliance
    print("Resolved. Compliance:", ", ".join(f"{t.value} {s:.0%}" for t, s in compliance.items()))
    store.close()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(folder) / "contract.sqlite3")
