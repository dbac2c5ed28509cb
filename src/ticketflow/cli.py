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
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

from ticketflow._actor import Actor
from ticketflow._cli_store import Database
from ticketflow._clock import ManualClock, SystemClock
from ticketflow._definition import guard_names, read_file, workflow_from_dict
from ticketflow._demo import START, run_demo, without_repeats
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
from ticketflow._ticket import Ticket
from ticketflow._version import __version__
from ticketflow._webhooks import Webhook
from ticketflow._workflow import Workflow
from ticketflow.rules import RuleReport


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
    listing = commands.add_parser("list", help="list the tickets of a database")
    _database_options(listing)
    listing.add_argument("--status", action="append", help="only this status (repeatable)")
    listing.add_argument("--assignee", help="only tickets assigned to this actor id")
    listing.add_argument("--limit", type=_positive, help="at most this many")
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
    reporting = commands.add_parser(
        "report", help="print metrics of a database: response, resolution, reopens"
    )
    _database_options(reporting)
    history = commands.add_parser("history", help="print one ticket's history from a database")
    _database_options(history)
    history.add_argument("ticket_id", metavar="TICKET_ID")
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


def _database(args: argparse.Namespace) -> Database:
    return Database.read(args.db, args.tenant)


def _list(args: argparse.Namespace) -> None:
    with _database(args).existing() as store:
        tickets = Helpdesk(store=store, rules=()).find(
            status=args.status, assignee=args.assignee, limit=args.limit
        )
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
        clock = SystemClock() if args.now is None else ManualClock(args.now)
        desk = Helpdesk(store=store, clock=clock)
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
        desk = Helpdesk(store=store)
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
        desk = Helpdesk(store=store)
        count = desk.reschedule(batch=args.batch, progress=_Progress())
    plural = "" if count == 1 else "s"
    print(f"rescheduled {count} ticket{plural} under rule set {desk.rules_fingerprint}")


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
        body = f"  {printable(event.body)}" if event.body else ""
        print(
            f"#{event.seq:<3} {event.at:%Y-%m-%d %H:%M}  {printable(event.name):<15} "
            f"{printable(moved):<24} {event.actor.role.value} {printable(event.actor.id)}{body}"
        )


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
        elif args.command == "list":
            _list(args)
        elif args.command == "history":
            _history(args)
        elif args.command == "sweep":
            _sweep(args)
        elif args.command == "report":
            with _database(args).existing() as store:
                print(without_repeats(Helpdesk(store=store).metrics()).table())
        elif args.command == "worker":
            _work(args)
        elif args.command == "reschedule":
            _reschedule(args)
        elif args.command == "deliver":
            _deliver(args)
        elif args.command == "migrate":
            print(_database(args).migrate())
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
