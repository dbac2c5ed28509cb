"""Every script in ``examples/`` runs as a user would run it, and tells the story it claims."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from pgserver import scratch_database
from psycopg import sql

from ticketflow.storage import SQLiteStore, TicketQuery

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_example(name: str) -> str:
    """Run ``examples/<name>`` in a fresh interpreter, warnings as errors; return its output."""
    done = subprocess.run(
        [sys.executable, "-W", "error", str(EXAMPLES / name)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"examples/{name} failed:\n{done.stderr}"
    assert done.stderr == ""
    return done.stdout


@pytest.mark.parametrize("script", sorted(path.name for path in EXAMPLES.glob("*.py")))
def test_every_example_runs_cleanly_and_prints_something(script: str) -> None:
    assert run_example(script).strip()


def test_the_quickstart_walks_one_ticket_from_new_to_a_follow_up() -> None:
    out = run_example("quickstart.py")
    assert "  T-1: new       priority=high   assignee=None v1" in out
    assert "refused: cannot 'close' ticket 'T-1' in status 'open'" in out
    assert "refused: customer 'c-2' may not 'customer_reply' ticket 'T-1'" in out
    assert "  T-1: closed    priority=urgent assignee=a-1 v8" in out
    assert "  T-2 follows up T-1" in out
    assert "Replaying the history gives back the stored ticket: True" in out
    assert "Closed tickets: ['T-1']; new tickets waiting for an answer: ['T-2']" in out
    history = [line.split()[3] for line in out.splitlines() if line.startswith("  #")]
    assert history == [
        "create",
        "assign",
        "set_priority",
        "agent_reply",
        "note",
        "customer_reply",
        "resolve",
        "close",
        "rate",
        "closing_review",
    ]
    assert "  T-1: closed    priority=urgent assignee=a-1 v10" in out


def test_the_quickstart_prints_the_same_story_every_time() -> None:
    assert run_example("quickstart.py") == run_example("quickstart.py")


def test_the_it_service_desk_declared_in_code_equals_its_toml_and_runs_a_request() -> None:
    out = run_example("it_service_desk.py")
    assert "<Workflow 'it_service_desk': 12 statuses, 57 transitions>" in out
    assert "SLA clocks pause in: postponed, waiting_on_vendor" in out
    moves = [line.split()[5:8] for line in out.splitlines() if " -> " in line]
    assert [" ".join(move) for move in moves] == [
        "None -> new",
        "new -> new",
        "new -> pending_approval",
        "pending_approval -> open",
        "open -> waiting_on_vendor",
        "waiting_on_vendor -> open",
        "open -> resolved",
    ]


def test_the_minimal_workflow_is_drawn_refuses_close_before_resolve_and_ends_done() -> None:
    out = run_example("minimal_workflow.py")
    assert out.startswith("stateDiagram-v2\n")
    assert "refused: cannot 'close' ticket 'T-1' in status 'todo'" in out
    assert "T-1 is 'done' after 4 events: todo -> todo -> fixed -> done" in out


@pytest.mark.parametrize("script", sorted(path.name for path in EXAMPLES.glob("*.py")))
def test_every_example_keeps_its_tickets_in_the_sqlite_file_it_is_given(
    script: str, tmp_path: Path
) -> None:
    database = tmp_path / "example.sqlite3"
    done = subprocess.run(
        [sys.executable, "-W", "error", str(EXAMPLES / script), str(database)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    store = SQLiteStore(database)
    assert store.query(TicketQuery()), f"{script} stored no ticket in {database}"
    store.close()


# -- examples/postgres: a host's transaction, on a database of their own ------


@pytest.fixture(scope="module")
def postgres_dsn() -> Iterator[str]:
    with scratch_database() as dsn:
        yield dsn


def run_postgres_example(name: str, dsn: str) -> str:
    done = subprocess.run(
        [sys.executable, "-W", "error", str(EXAMPLES / "postgres" / name), dsn],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"examples/postgres/{name} failed:\n{done.stderr}"
    assert done.stderr == ""
    return done.stdout


def _leftovers(dsn: str, table: str) -> int:
    with psycopg.connect(dsn) as connection:
        rows = connection.execute(
            sql.SQL(
                "SELECT (SELECT count(*) FROM ticketflow_tickets) + (SELECT count(*) FROM {})"
            ).format(sql.Identifier(table))
        ).fetchone()
    return -1 if rows is None else int(rows[0])


def test_the_psycopg_host_transaction_keeps_the_refund_and_the_resolution_together(
    postgres_dsn: str,
) -> None:
    out = run_postgres_example("host_transaction.py", postgres_dsn).splitlines()
    assert out[0] == "T-1: resolved, refunds recorded: 1"
    assert out[1].startswith("refused: cannot 'resolve' ticket 'T-2' in status 'resolved'")
    assert out[2] == "T-2: resolved, refunds recorded: 1"  # the failed refund left no row
    assert _leftovers(postgres_dsn, "example_refunds") == 0  # it cleaned up after itself


def test_the_sqlalchemy_host_transaction_rolls_back_the_ticket_with_the_return(
    postgres_dsn: str,
) -> None:
    out = run_postgres_example("sqlalchemy_transaction.py", postgres_dsn).splitlines()
    assert out == [
        "order O-1001: return opened as T-1 (new)",
        "order O-1002: no replacement in stock for order O-1002; rolled back",
        "returns stored: ['O-1001']",
        "tickets stored: ['T-1']",
    ]
    assert _leftovers(postgres_dsn, "example_returns") == 0


def test_the_contract_example_counts_working_days_around_christmas() -> None:
    out = run_example("contract_sla.py")
    assert "  Thu 24 Dec 2026: working, 4:00:00 open" in out  # a half day
    assert "  Sat 19 Dec 2026: working, 6:00:00 open" in out  # a Saturday worked
    assert "  Fri 25 Dec 2026: closed, 0:00:00 open" in out  # every year
    assert "  T-1 first_response  due Thu 24 Dec 13:00" in out  # the end of the next working day
    assert "  T-1 resolution      due Tue 29 Dec 16:00" in out  # three working days on
    assert "  fired: ['sla_breach']" in out
    assert "Resolved. Compliance: first_response 100%, resolution 0%" in out
