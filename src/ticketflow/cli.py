"""The ``ticketflow`` command line: a thin shell over the library.

Whatever goes wrong with what it is given (an argument, a file, a database, a ticket id),
it says so in one line on standard error and exits with status 2; stored
text is printed through :func:`~ticketflow._display.printable`.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

from ticketflow._actor import Actor, Role
from ticketflow._cli_store import Database
from ticketflow._clock import Clock, ManualClock, SystemClock
from ticketflow._definition import guard_names, read_file, workflow_from_dict
from ticketflow._demo import START, demo_desk, run_demo, without_repeats
from ticketflow._desk import Helpdesk
from ticketflow._display import printable
from ticketflow._errors import (
    HookFailed,
    InvalidInput,
    InvalidWorkflow,
    ScheduleOutOfDate,
    StorageError,
    TicketflowError,
)
from ticketflow._guards import builtin_guards
from ticketflow._history import HistoryEvent
from ticketflow._html_report import html_report
from ticketflow._names import MERGE, RATE
from ticketflow._paging import Page
from ticketflow._reserved import MERGED_INTO, RATING
from ticketflow._satisfaction import RatingScale, Satisfaction
from ticketflow._ticket import Ticket
from ticketflow._version import __version__
from ticketflow._webhooks import Webhook
from ticketflow._workflow import Workflow
from ticketflow.rules import RuleReport
from ticketflow.storage import Store, TicketQuery


def _whole(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        msg = f"expected a whole number, got {value!r}"
        raise argparse.ArgumentTypeError(msg) from None


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        msg = f"expected a whole number of 1 or more, got {value!r}"
        raise argparse.ArgumentTypeError(msg)
    return number


MAX_DAYS = 3660
"""The longest demo, ten years: long enough to watch, short enough to finish."""


def _days(value: str) -> int:
    number = _positive(value)
    if number > MAX_DAYS:
        msg = f"expected a number of days from 1 to {MAX_DAYS}, got {value!r}"
        raise argparse.ArgumentTypeError(msg)
    return number


_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_LONGEST_INTERVAL = 86_400.0
"""The longest pause between two sweeps of ``ticketflow worker``: a day."""


def _interval(value: str) -> float:
    """Read ``--interval``: seconds, or a number with ms, s, m or h (``30s``, ``5m``)."""
    expected = f"expected a pause such as 30s, 5m or 500ms, up to {_LONGEST_INTERVAL:.0f}s"
    text = value.strip().lower()
    unit = next((unit for unit in ("ms", "s", "m", "h") if text.endswith(unit)), "")
    try:
        seconds = float(text[: len(text) - len(unit)]) * _UNITS.get(unit, 1.0)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= _LONGEST_INTERVAL:  # NaN too
        msg = f"{expected}, got {value!r}"
        raise argparse.ArgumentTypeError(msg)
    return seconds


_EARLIEST_YEAR = 1000
"""The earliest year ``--now`` may name."""


def _instant(value: str) -> datetime:
    """Read ``--now``: an ISO 8601 instant with its zone, returned in UTC."""
    expected = "expected an ISO instant with a zone, such as 2026-01-19T09:00+00:00"
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        msg = f"{expected}, got {value!r}"
        raise argparse.ArgumentTypeError(msg) from None
    if instant.utcoffset() is None:
        msg = f"{expected}, got {value!r}, which has no zone"
        raise argparse.ArgumentTypeError(msg)
    try:
        utc: datetime | None = instant.astimezone(UTC)
    except OverflowError:
        utc = None
    # The rules count back from now: the first centuries leave them no room.
    if utc is None or utc.year < _EARLIEST_YEAR:
        msg = f"{expected}, got {value!r}, which is out of range"
        raise argparse.ArgumentTypeError(msg)
    return utc


class _Parser(argparse.ArgumentParser):
    """An argument parser that reports a bad argument in one line, with exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {printable(message)} (see {self.prog} --help)\n")


_DB_HELP = (
    "the database: a SQLite file path, or a PostgreSQL DSN such as "
    "postgresql://user@host/dbname (or a libpq string such as 'host=... dbname=...')"
)


def _database_options(
    command: argparse.ArgumentParser, help_text: str = _DB_HELP, *, required: bool = True
) -> None:
    """Add ``--db`` and ``--tenant``, which every command on a database takes."""
    command.add_argument("--db", metavar="PATH_OR_DSN", required=required, help=help_text)
    command.add_argument(
        "--tenant",
        metavar="NAME",
        help="the tenant whose tickets to use, on PostgreSQL only (default: the store's default)",
    )


def _upkeep_parsers(commands: Any) -> None:
    """Add the commands that store again what a desk derives from histories."""
    rescheduling = commands.add_parser(
        "reschedule",
        help="store every ticket's next due instant under the default rules",
        description="Store every ticket's next due instant under the default automation "
        "rules, a batch at a time: needed once after the rules change and after upgrading a "
        "database written before schedules were stored (sweep says so).  Interrupted, it "
        "resumes where it stopped.",
    )
    _database_options(rescheduling)
    rescheduling.add_argument(
        "--batch", type=_positive, default=500, help="tickets read at a time (default 500)"
    )
    recomputing = commands.add_parser(
        "recompute-sla",
        help="recompute every ticket's kept SLA clocks from its history",
        description="Recompute the SLA clocks kept with each ticket from its history, under "
        "the command line's SLA policies (none: the clocks of a desk without policies), a "
        "batch at a time: needed once after the SLA policies, their calendars or the workflow "
        "change, and after upgrading a database written before SLA clocks were kept.  "
        "Interrupted, it resumes where it stopped.",
    )
    _database_options(recomputing)
    recomputing.add_argument(
        "--batch",
        type=_positive,
        default=500,
        help="tickets recomputed per transaction (default 500)",
    )
    refiguring = commands.add_parser(
        "refigure",
        help="store every ticket's metric figures again from its history",
        description="Compute every ticket's metric figures from its history and store them, "
        "a batch at a time: needed once after upgrading a database written before figures "
        "were stored, or after the SLA policies change (report says so).  Interrupted, it "
        "resumes where it stopped.",
    )
    _database_options(refiguring)
    refiguring.add_argument(
        "--batch", type=_positive, default=500, help="tickets read at a time (default 500)"
    )


def _deliver_parser(commands: Any) -> None:
    """Add the ``deliver`` command: the outbox drained to a signed webhook."""
    delivering = commands.add_parser(
        "deliver",
        help="send the outbox's records to a webhook until stopped (SIGTERM or Ctrl-C)",
        description="Drain the database's outbox to --webhook, signed with the secret in the "
        "environment variable --secret-env, as one consumer (its cursor kept in the "
        "database), until SIGTERM or SIGINT: the batch under way is finished, then it exits "
        "0.  Records are delivered at least once (the Ticketflow-Id header is the "
        "idempotency key); failures are tried again with backoff and set aside as dead "
        "after --tries.  While it posts it holds nothing the database's commands wait for, "
        "so a slow webhook holds up none of them.  Another deliver of the same consumer "
        "skips its turn meanwhile, and takes over once the lease (--lease) of one that was "
        "killed has run out.",
    )
    _database_options(delivering)
    delivering.add_argument("--webhook", metavar="URL", required=True, help="where to POST")
    delivering.add_argument(
        "--secret-env",
        metavar="NAME",
        required=True,
        help="the environment variable that holds the signing secret (never on the "
        "command line, where other users could read it)",
    )
    delivering.add_argument(
        "--consumer", default="webhook", help="the consumer's name (default webhook)"
    )
    delivering.add_argument(
        "--interval",
        type=_interval,
        default=5.0,
        metavar="PAUSE",
        help="the pause when nothing is left to send: 5s (the default), 500ms, 1m",
    )
    delivering.add_argument(
        "--batch", type=_positive, default=100, help="records a drain hands over (default 100)"
    )
    delivering.add_argument(
        "--tries", type=_positive, default=10, help="tries before a record is dead (default 10)"
    )
    delivering.add_argument(
        "--timeout",
        type=_interval,
        default=10.0,
        metavar="PAUSE",
        help="how long to wait for the webhook's answer (default 10s)",
    )
    delivering.add_argument(
        "--lease",
        type=_interval,
        default=None,
        metavar="PAUSE",
        help="how long a deliver that was killed keeps the consumer before another takes "
        "over; each post must end within half of it (default: six times --timeout, at least "
        "1m; from 1s to 1 day)",
    )


def _listing_parsers(commands: Any) -> None:
    """Add the ``list`` and ``search`` commands: tickets a page at a time."""
    listing = commands.add_parser("list", help="list the tickets of a database")
    _database_options(listing)
    listing.add_argument("--status", action="append", help="only this status (repeatable)")
    listing.add_argument("--assignee", help="only tickets assigned to this actor id")
    listing.add_argument("--limit", type=_positive, help="at most this many: a page")
    listing.add_argument(
        "--after", metavar="CURSOR", help="continue past the page whose 'next page' said this"
    )
    searching = commands.add_parser(
        "search",
        help="find the tickets of a database whose text holds every word given, best first",
        description="Search the subject, description, replies and notes of the tickets of a "
        "database for every word of TEXT (case and accents aside), best match first.  TEXT "
        "is read as plain words.  With --limit, a 'next page' line gives the --after that "
        "continues the list.",
    )
    _database_options(searching)
    searching.add_argument("text", metavar="TEXT", help="the words to look for")
    searching.add_argument("--status", action="append", help="only this status (repeatable)")
    searching.add_argument("--assignee", help="only tickets assigned to this actor id")
    searching.add_argument("--limit", type=_positive, help="at most this many: a page")
    searching.add_argument(
        "--after", metavar="CURSOR", help="continue past the page whose 'next page' said this"
    )


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``ticketflow`` command."""
    parser = _Parser(prog="ticketflow", description="The lifecycle of support tickets.")
    parser.add_argument("--version", action="version", version=f"ticketflow {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo = commands.add_parser(
        "demo", help="run a deterministic simulated help desk and print what happens"
    )
    demo.add_argument("--seed", type=_whole, default=7, help="the simulation's seed (default 7)")
    demo.add_argument(
        "--days",
        type=_days,
        default=14,
        help=f"simulated days to run (default 14, at most {MAX_DAYS})",
    )
    demo.add_argument("--quiet", action="store_true", help="print only the summary")
    _database_options(
        demo,
        "keep the tickets in this SQLite file (new or empty), or in "
        "this PostgreSQL database (migrated first; the tenant must have no tickets); by "
        "default a temporary SQLite file",
        required=False,
    )
    _listing_parsers(commands)
    sweep = commands.add_parser(
        "sweep", help="apply the default automation rules to a database, now or at --now"
    )
    _database_options(sweep)
    sweep.add_argument(
        "--now",
        type=_instant,
        metavar="INSTANT",
        help="sweep as if it were this instant, ISO 8601 with a zone, such as "
        "2026-01-19T09:00+00:00 (default: the system clock)",
    )
    sweep.add_argument(
        "--dry-run", action="store_true", help="print what would fire; change nothing"
    )
    sweep.add_argument("--limit", type=_positive, help="stop after this many firings")
    working = commands.add_parser(
        "worker",
        help="sweep the default rules again and again until stopped (SIGTERM or Ctrl-C)",
        description="Run the default automation rules every --interval, claiming due "
        "tickets --batch at a time, until SIGTERM or SIGINT: the batch under way is "
        "finished, then the worker exits 0.  Any number of workers may run against one "
        "database; each due ticket is fired once.  A sweep that fails (the database is "
        "away) is reported and tried again at the next interval.",
    )
    _database_options(working)
    working.add_argument(
        "--interval",
        type=_interval,
        default=30.0,
        metavar="PAUSE",
        help="the pause between sweeps: 30s (the default), 5m, 500ms",
    )
    working.add_argument(
        "--batch", type=_positive, default=100, help="due tickets fired per transaction"
    )
    _deliver_parser(commands)
    _upkeep_parsers(commands)
    reporting = commands.add_parser(
        "report",
        help="print metrics of a database: response, resolution, reopens; or write an HTML page",
        description="Print the metrics of a database's tickets as a table, or with --html "
        "write one self-contained HTML page of charts (no script, no font, nothing loaded "
        "from the network): tickets created and resolved per day, the backlog, SLA "
        "compliance per week and per priority, the time to first response and the flow "
        "between statuses, each with its data table.",
    )
    _database_options(reporting)
    reporting.add_argument(
        "--html", metavar="FILE", help="write the report as an HTML page to FILE instead"
    )
    reporting.add_argument(
        "--now",
        type=_instant,
        metavar="INSTANT",
        help="measure as if it were this instant, ISO 8601 with a zone (default: the "
        "system clock); the demo's tickets live in January 2026",
    )
    history = commands.add_parser("history", help="print one ticket's history from a database")
    _database_options(history)
    history.add_argument("ticket_id", metavar="TICKET_ID")
    _after_work_commands(commands)
    migrating = commands.add_parser(
        "migrate",
        help="create or bring forward the ticketflow schema of a database; print its version",
        description="Create or bring forward the ticketflow tables of a PostgreSQL database, "
        "under an advisory lock (safe to run again, and from several processes at once), and "
        "print the schema version.  A SQLite file is migrated whenever ticketflow opens it: "
        "given one, migrate opens it and prints its version.",
    )
    _database_options(migrating)
    graph = commands.add_parser(
        "graph",
        help="draw a workflow: the default one, or one from a .toml or .json file",
        description="Draw a workflow as a Mermaid diagram, a Graphviz DOT graph or a "
        "Markdown table.  Guards that a file names but that are not built in are drawn "
        "by name (the host supplies them in code).",
    )
    graph.add_argument(
        "--format", choices=FORMATS, default="mermaid", help="what to draw (default mermaid)"
    )
    graph.add_argument(
        "workflow_file",
        nargs="?",
        metavar="WORKFLOW_FILE",
        help="a workflow definition, .toml or .json (default: the default workflow)",
    )
    return parser


def _actor(value: str) -> Actor:
    """Read ``--as``: ``system``, or a role and an id such as ``agent:a-1``."""
    role, _sep, actor_id = value.partition(":")
    if value == "system":
        return Actor.system()
    roles = ", ".join(role.value for role in Role if role is not Role.SYSTEM)
    try:
        return Actor(actor_id, Role(role))
    except (ValueError, TicketflowError):
        msg = f"expected system, or ROLE:ID with ROLE one of {roles}, got {value!r}"
        raise argparse.ArgumentTypeError(msg) from None


def _score(value: str) -> int | str:
    """Read a rating: a whole number (a 1-5 scale) or a word (good, bad)."""
    return int(value) if value.isdecimal() else value


def _after_work_commands(commands: Any) -> None:
    """Add ``rate``, ``review`` and ``merge``: commands on tickets after the work."""
    acting = {
        "type": _actor,
        "default": Actor.system(),
        "dest": "actor",
        "metavar": "ACTOR",
        "help": "who does it: system (the default: the host on someone's behalf), or "
        "ROLE:ID such as customer:ana@example.com or agent:a-1",
    }
    rating = commands.add_parser(
        "rate",
        help="rate a resolved or closed ticket (good/bad, or 1-5 with --scale one_to_five)",
    )
    _database_options(rating)
    rating.add_argument("ticket_id", metavar="TICKET_ID")
    rating.add_argument("score", type=_score, metavar="SCORE", help="good or bad, or 1 to 5")
    rating.add_argument("--comment", help="what the requester said with it")
    rating.add_argument("--as", **acting)
    rating.add_argument(
        "--scale",
        choices=[scale.value for scale in RatingScale],
        default=RatingScale.GOOD_BAD.value,
        help="the desk's rating scale (default good_bad)",
    )
    rating.add_argument(
        "--window-days",
        type=_positive,
        default=14,
        help="how many days after the resolution ratings are taken (default 14)",
    )
    reviewing = commands.add_parser(
        "review", help="record the solution and the lessons learned on a closed ticket"
    )
    _database_options(reviewing)
    reviewing.add_argument("ticket_id", metavar="TICKET_ID")
    reviewing.add_argument("--solution", required=True, help="how the problem was solved")
    reviewing.add_argument("--lessons", help="the lessons learned")
    reviewing.add_argument("--as", **acting)
    merging = commands.add_parser(
        "merge", help="merge a duplicate ticket into the ticket it duplicates"
    )
    _database_options(merging)
    merging.add_argument("ticket_id", metavar="SOURCE_ID", help="the duplicate")
    merging.add_argument("--into", required=True, metavar="TARGET_ID", help="the ticket kept")
    merging.add_argument("--body", help="a note on the merged ticket")
    merging.add_argument("--as", **acting)


def _after_work(args: argparse.Namespace) -> None:
    """Run ``rate``, ``review`` or ``merge`` and print the ticket it leaves."""
    with _database(args).existing() as store:
        if args.command == "rate":
            window = timedelta(days=args.window_days)
            desk = Helpdesk(store=store, satisfaction=Satisfaction(args.scale, window))
            ticket = desk.rate(args.ticket_id, args.actor, args.score, comment=args.comment)
            done = f"rated {args.score}"
        elif args.command == "review":
            desk = Helpdesk(store=store)
            ticket = desk.review(
                args.ticket_id, args.actor, solution=args.solution, lessons=args.lessons
            )
            done = "reviewed"
        else:
            desk = Helpdesk(store=store)
            ticket = desk.merge(args.ticket_id, args.actor, into=args.into, body=args.body)
            done = f"took in {printable(args.ticket_id)}"
    print(f"{printable(ticket.id)} {done}: {printable(ticket.status)}, version {ticket.version}")


FORMATS = ("mermaid", "dot", "markdown")
"""What ``ticketflow graph --format`` draws."""


def _drawable(path: str | None) -> Workflow:
    """Load the workflow to draw; guards the file names beyond the built-in ones draw by name."""
    if path is None:
        return Workflow.default()
    data = read_file(path)
    missing = sorted(guard_names(data) - set(builtin_guards()))
    if missing:
        print(
            f"note: guards {printable(', '.join(missing))} are not built in; drawn by name only",
            file=sys.stderr,
        )
    return workflow_from_dict(
        data, guards=dict.fromkeys(missing, _drawing_only), source=Path(path).name
    )


def _drawing_only(_ticket: Ticket, _actor: Actor, _payload: Mapping[str, Any]) -> bool:
    msg = "this workflow was loaded to be drawn; its host's guards were not given"
    raise NotImplementedError(msg)


def _demo(args: argparse.Namespace) -> None:
    if args.db is None:
        if args.tenant is not None:
            raise InvalidInput(
                "--tenant", args.tenant, "given only with a PostgreSQL --db to keep the tickets in"
            )
        run_demo(seed=args.seed, days=args.days, quiet=args.quiet, out=sys.stdout)
        return
    database = _database(args)
    with database.empty() as store:
        run_demo(seed=args.seed, days=args.days, quiet=args.quiet, out=sys.stdout, store=store)
    # The demo's tickets live in its own January: sweep them a week after it ends.
    later = (START + timedelta(days=args.days + 7)).isoformat(timespec="minutes")
    print(f"\nthe tickets are in {database.where()}; try: ticketflow list {database.options()}")
    print(f"or: ticketflow sweep {database.options()} --dry-run --now {later}")
    ended = (START + timedelta(days=args.days)).isoformat(timespec="minutes")
    print(f"and: ticketflow report {database.options()} --html report.html --now {ended}")


def _database(args: argparse.Namespace) -> Database:
    return Database.read(args.db, args.tenant)


def _desk(store: Store, clock: Clock | None = None) -> Helpdesk:
    """The desk for a database: the demo's if the demo scheduled its tickets, or the default.

    The command line has no configuration of its own to read: a database the
    demo filled is swept and reported with the demo's SLA policies and rules
    (every ticket scheduled under their fingerprint says so), any other with
    the default rules and no SLA policies.
    """
    demo = demo_desk(store, clock or SystemClock())
    if store.query(TicketQuery(limit=1)) and not store.stale(demo.rules_fingerprint, limit=1):
        return demo
    return Helpdesk(store=store, clock=clock)


def _list(args: argparse.Namespace) -> None:
    with _database(args).existing() as store:
        tickets = Helpdesk(store=store, rules=()).find(
            status=args.status, assignee=args.assignee, limit=args.limit, after=args.after
        )
    _print_tickets(tickets)


def _search(args: argparse.Namespace) -> None:
    with _database(args).existing() as store:
        tickets = Helpdesk(store=store, rules=()).search(
            args.text,
            status=args.status,
            assignee=args.assignee,
            limit=args.limit,
            after=args.after,
        )
    _print_tickets(tickets)


def _print_tickets(tickets: Page[Ticket]) -> None:
    """A table of tickets, the cursor of the next page if there is one, and the count."""
    if tickets:
        print(f"{'id':<8} {'status':<10} {'priority':<8} {'assignee':<8} {'updated':<16}  subject")
    for ticket in tickets:
        # Stored text is printed escaped: a subject cannot move the cursor or
        # start a line of its own.
        print(
            f"{printable(ticket.id):<8} {printable(ticket.status):<10} "
            f"{ticket.priority.value:<8} {printable(ticket.assignee or '-'):<8} "
            f"{ticket.updated_at:%Y-%m-%d %H:%M}  {printable(ticket.subject)}"
        )
    if tickets.next is not None:
        print(f"next page: --after {tickets.next}")
    print(f"{len(tickets)} ticket{'s' if len(tickets) != 1 else ''}")


class _Progress:
    """A progress bar on standard error for long sweeps; silent for short ones."""

    def __init__(self, threshold: int = 500) -> None:
        self.threshold = threshold
        self.shown = False

    def __call__(self, rule: str, done: int, total: int) -> None:
        if total < self.threshold or (done % 100 and done != total):
            return
        width = 30
        filled = width * done // total
        sys.stderr.write(f"\r{rule:<18} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        self.shown = True
        if done == total:
            sys.stderr.write("\n")


def _sweep(args: argparse.Namespace) -> None:
    with _database(args).existing() as store:
        desk = _desk(store, None if args.now is None else ManualClock(args.now))
        report = desk.run_rules(dry_run=args.dry_run, limit=args.limit, progress=_Progress())
    verb = "would fire" if report.dry_run else "fired"
    for firing in report.fired:
        print(
            f"{printable(firing.ticket_id):<8} {printable(firing.rule):<18} "
            f"{printable(firing.event):<12} "
            f"{printable(firing.from_status)} -> {printable(firing.to_status)}"
        )
    for skip in report.skipped:
        print(
            f"{printable(skip.ticket_id):<8} {printable(skip.rule):<18} "
            f"skipped: {printable(skip.reason)}"
        )
    print(f"{verb} at {report.at:%Y-%m-%d %H:%M} UTC: {_counts(report)}")


def _counts(report: RuleReport) -> str:
    """How many times each rule fired, as ``auto_close 3, remind_customer 1``, or nothing."""
    counts = (f"{printable(rule)} {count}" for rule, count in report.by_rule().items())
    return ", ".join(counts) or "nothing"


@contextmanager
def _until_signalled(command: str) -> Iterator[threading.Event]:
    """An event that SIGTERM or SIGINT sets, for the block; then say why the command stops."""
    stopping = threading.Event()
    received: list[str] = []

    def stop(signum: int, _frame: object) -> None:
        # Only a note and a flag here: the loop says so, between two writes of its own.
        received.append(signal.Signals(signum).name)
        stopping.set()

    previous = {signum: signal.signal(signum, stop) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stopping
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if received:
        print(f"ticketflow {command}: {received[0]}, stopping", file=sys.stderr, flush=True)
    print(f"ticketflow {command}: stopped", flush=True)


def _work(args: argparse.Namespace) -> None:
    """Sweep every interval until a signal asks to stop; the batch under way is finished."""
    with _until_signalled("worker") as stopping, _database(args).existing() as store:
        desk = _desk(store)
        print(
            f"ticketflow worker: sweeping every {args.interval:g}s, {args.batch} a batch",
            flush=True,
        )
        while not stopping.is_set():
            try:
                report = desk.run_rules(batch=args.batch, stop=stopping.is_set)
            except ScheduleOutOfDate:
                raise  # an operator must reschedule: sweeping again would not help
            except (StorageError, HookFailed) as error:
                print(f"ticketflow worker: {_one_line(error)}", file=sys.stderr, flush=True)
            else:
                if report.fired or report.skipped:
                    skipped = f", skipped {len(report.skipped)}" if report.skipped else ""
                    print(
                        f"{report.at:%Y-%m-%d %H:%M:%S} UTC fired {_counts(report)}{skipped}",
                        flush=True,
                    )
            stopping.wait(args.interval)


def _deliver(args: argparse.Namespace) -> None:
    """Drain to the webhook until a signal asks to stop; the batch under way is finished."""
    secret = os.environ.get(args.secret_env, "")
    if not secret:
        raise InvalidInput(
            "--secret-env", args.secret_env, "the name of a set environment variable"
        )
    # A post takes up to --timeout for each of connecting, sending and
    # answering; the drain renews its lease once half of it is gone.
    seconds = (
        min(max(60.0, 6 * args.timeout), _LONGEST_INTERVAL) if args.lease is None else args.lease
    )
    if seconds < 1:
        raise InvalidInput("--lease", args.lease, "a pause from 1s to 1 day")
    lease = timedelta(seconds=seconds)
    with (
        _until_signalled("deliver") as stopping,
        Webhook(args.webhook, secret=secret, timeout=args.timeout) as hook,
        _database(args).existing() as store,
    ):
        outbox = Helpdesk(store=store).outbox
        print(
            f"ticketflow deliver: to {printable(args.webhook)} as "
            f"{printable(args.consumer)!r}, {args.batch} a batch",
            flush=True,
        )
        while not stopping.is_set():
            try:
                report = outbox.drain(
                    hook, consumer=args.consumer, batch=args.batch, tries=args.tries, lease=lease
                )
            except StorageError as error:
                print(f"ticketflow deliver: {_one_line(error)}", file=sys.stderr, flush=True)
                stopping.wait(args.interval)
                continue
            if report.handled:
                print(
                    f"delivered {report.delivered}, failed {report.failed}, "
                    f"dead {report.dead}, at position {report.position}",
                    flush=True,
                )
            if report.handled + report.waiting < args.batch:
                stopping.wait(args.interval)  # nothing more right now


def _reschedule(args: argparse.Namespace) -> None:
    with _database(args).existing() as store:
        desk = _desk(store)
        count = desk.reschedule(batch=args.batch, progress=_Progress())
    plural = "" if count == 1 else "s"
    print(f"rescheduled {count} ticket{plural} under rule set {desk.rules_fingerprint}")


def _report(args: argparse.Namespace) -> None:
    target = None if args.html is None else _html_target(args.html)
    database = _database(args)
    with database.existing() as store:
        desk = _desk(store, None if args.now is None else ManualClock(args.now))
        if target is None:
            print(without_repeats(desk.metrics()).table())
            return
        page = html_report(desk, title=f"ticketflow report: {database.where()}")
    try:
        target.write_text(page, encoding="utf-8")
    except OSError as error:
        raise InvalidInput(
            "--html", args.html, f"a file ticketflow can write ({error.strerror})"
        ) from None
    print(f"wrote {printable(str(target))}")


def _html_target(value: str) -> Path:
    """The file ``--html`` names: refused before any work if its folder is missing."""
    target = Path(value)
    if target.is_dir() or not target.parent.is_dir():
        raise InvalidInput("--html", value, "a file path in an existing folder")
    return target


def _recompute_sla(args: argparse.Namespace) -> None:
    with _database(args).existing() as store:
        desk = _desk(store)
        count = desk.recompute_sla(batch=args.batch, progress=_Progress())
    plural = "" if count == 1 else "s"
    print(f"recomputed the SLA clocks of {count} ticket{plural} under {desk.sla_fingerprint}")


def _refigure(args: argparse.Namespace) -> None:
    with _database(args).existing() as store:
        desk = _desk(store)
        count = desk.recompute_figures(batch=args.batch, progress=_Progress())
    plural = "" if count == 1 else "s"
    print(f"stored the figures of {count} ticket{plural} under {desk.figures_key}")


_UPKEEP: dict[str, Callable[[argparse.Namespace], None]] = {
    "reschedule": _reschedule,
    "refigure": _refigure,
    "recompute-sla": _recompute_sla,
}
"""The commands that store again what a desk derives from histories."""


def _history(args: argparse.Namespace) -> None:
    with _database(args).existing() as store:
        events = store.history(args.ticket_id)
    for event in events:
        moved = (
            event.to_status
            if event.from_status is None
            else (f"{event.from_status} -> {event.to_status}")
        )
        # A reply's newlines stay inside its line: a body cannot forge an event.
        detail = " ".join(part for part in (_what(event), event.body) if part)
        body = f"  {printable(detail)}" if detail else ""
        print(
            f"#{event.seq:<3} {event.at:%Y-%m-%d %H:%M}  {printable(event.name):<15} "
            f"{printable(moved):<24} {event.actor.role.value} {printable(event.actor.id)}{body}"
        )


def _what(event: HistoryEvent) -> str | None:
    """What a rating or a merge recorded beyond its body: the score, the other ticket."""
    fields = event.changes.get("fields", {})
    if event.name == RATE:
        return f"[rated {fields.get(RATING, 'the same')}]"
    if event.name == MERGE:
        return f"[into {fields.get(MERGED_INTO)}]"
    return None


def _draw(workflow: Workflow, kind: str) -> str:
    if kind == "dot":
        return workflow.to_dot()
    if kind == "markdown":
        return workflow.to_markdown()
    return workflow.to_mermaid()


def main(argv: Sequence[str] | None = None) -> int:  # noqa: PLR0912 - a branch a command
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "demo":
            _demo(args)
        elif args.command == "graph":
            sys.stdout.write(_draw(_drawable(args.workflow_file), args.format))
        elif args.command in ("list", "search"):
            (_list if args.command == "list" else _search)(args)
        elif args.command == "history":
            _history(args)
        elif args.command == "sweep":
            _sweep(args)
        elif args.command == "report":
            _report(args)
        elif args.command == "worker":
            _work(args)
        elif args.command == "deliver":
            _deliver(args)
        elif args.command in _UPKEEP:
            _UPKEEP[args.command](args)
        elif args.command == "migrate":
            print(_database(args).migrate())
        elif args.command in ("rate", "review", "merge"):
            _after_work(args)
    except TicketflowError as error:
        print(f"ticketflow {args.command}: {_one_line(error)}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (`ticketflow demo | head`): stop quietly, as Unix tools do.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - left open for interpreter exit
        return 1
    except KeyboardInterrupt:
        print(f"ticketflow {args.command}: interrupted", file=sys.stderr)
        return 130
    return 0


def _one_line(error: TicketflowError) -> str:
    """The error as one line: a workflow's problems joined, control characters escaped."""
    if isinstance(error, InvalidWorkflow):
        count = len(error.problems)
        problems = "; ".join(error.problems)
        text = (
            f"workflow {error.workflow!r} is invalid "
            f"({count} problem{'s' if count != 1 else ''}): {problems}"
        )
    else:
        text = str(error)
    return printable(text)
