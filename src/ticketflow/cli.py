"""The ``ticketflow`` command line: a thin shell over the library."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from ticketflow._demo import run_demo
from ticketflow._version import __version__


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        msg = f"expected a whole number of 1 or more, got {value!r}"
        raise argparse.ArgumentTypeError(msg)
    return number


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``ticketflow`` command."""
    parser = argparse.ArgumentParser(
        prog="ticketflow", description="The lifecycle of support tickets."
    )
    parser.add_argument("--version", action="version", version=f"ticketflow {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo = commands.add_parser(
        "demo", help="run a deterministic simulated help desk and print what happens"
    )
    demo.add_argument("--seed", type=int, default=7, help="the simulation's seed (default 7)")
    demo.add_argument(
        "--days", type=_positive, default=14, help="simulated days to run (default 14)"
    )
    demo.add_argument("--quiet", action="store_true", help="print only the summary")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "demo":
            run_demo(seed=args.seed, days=args.days, quiet=args.quiet, out=sys.stdout)
    except BrokenPipeError:
        # The reader went away (`ticketflow demo | head`): stop quietly, as Unix tools do.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - left open for interpreter exit
        return 1
    return 0
