"""The command line on PostgreSQL: every command that takes a SQLite file takes a DSN too.

The same demo, told into a SQLite file and into a PostgreSQL tenant, reads
back the same through ``list``, ``history``, ``report`` and ``sweep``; and a
password in the DSN appears nowhere, whatever happens.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pgserver import new_tenant, scratch_database

from ticketflow import _cli_store
from ticketflow.cli import main
from ticketflow.storage import PostgresStore
from ticketflow.storage._postgres import SCHEMA_VERSION

SECRET = "s3cret-pw"  # noqa: S105 - the password the tests look for in every output
DAYS = ["--days", "4", "--quiet"]
LATER = "2026-01-16T08:00+00:00"
"""A week after the four days' demo ends: the sweep has something to do."""


def _with_password(dsn: str) -> str:
    """The scratch DSN with a password (trust authentication never asks for it)."""
    return dsn.replace("postgresql://postgres@", f"postgresql://postgres:{SECRET}@")


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    """A scratch database, migrated, reached with a DSN that carries a password."""
    with scratch_database() as dsn:
        with PostgresStore(dsn) as store:
            store.migrate()
        yield _with_password(dsn)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert SECRET not in out + err
    return code, out, err


def test_the_demo_on_postgres_reads_back_as_it_does_from_sqlite(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tenant = new_tenant()
    places = {
        "sqlite": ["--db", str(tmp_path / "demo.sqlite3")],
        "postgres": ["--db", database, "--tenant", tenant],
    }
    said: dict[str, dict[str, str]] = {}
    for kind, db in places.items():
        code, demo, _err = _run(capsys, "demo", *DAYS, *db)
        assert code == 0
        outputs = {"demo": demo.split("\nthe tickets are in ")[0]}
        for name, command in {
            "list": ["list"],
            "history": ["history", "T-1"],
            "report": ["report"],
            "dry run": ["sweep", "--dry-run", "--now", LATER],
            "sweep": ["sweep", "--now", LATER],
            "sweep again": ["sweep", "--now", LATER],
        }.items():
            code, out, err = _run(capsys, *command[:1], *db, *command[1:])
            assert (code, err) == (0, ""), name
            outputs[name] = out
        # The report is at the system clock's minute: compare what follows it.
        outputs["report"] = outputs["report"].split("\n", 1)[1]
        page = tmp_path / f"{kind}.html"
        code, out, err = _run(capsys, "report", *db, "--html", str(page), "--now", LATER)
        assert (code, out, err) == (0, f"wrote {page}\n", "")
        written = page.read_text(encoding="utf-8")
        assert SECRET not in written, "the page names the database without its password"
        # The same page, but for its title, which names the database.
        outputs["html"] = "\n".join(
            line for line in written.splitlines() if "ticketflow report: " not in line
        )
        said[kind] = outputs
    assert said["postgres"] == said["sqlite"]
    assert said["postgres"]["list"].splitlines()[-1].endswith(" tickets")
    assert said["postgres"]["dry run"].startswith("T-")
    assert said["postgres"]["sweep again"].endswith(": nothing\n")
    assert said["postgres"]["html"].count('class="mark"') > 50


def test_the_demo_on_postgres_names_the_database_and_tenant_without_the_password(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    tenant = new_tenant()
    code, out, _err = _run(capsys, "demo", *DAYS, "--db", database, "--tenant", tenant)
    assert code == 0
    shown = database.replace(f":{SECRET}@", "@")
    ended = "2026-01-09T08:00+00:00"  # the demo's last hour: what the report measures at
    assert out.splitlines()[-3:] == [
        f"the tickets are in {shown}; try: ticketflow list --db {shown} --tenant {tenant}",
        f"or: ticketflow sweep --db {shown} --tenant {tenant} --dry-run --now {LATER}",
        f"and: ticketflow report --db {shown} --tenant {tenant} --html report.html --now {ended}",
    ]


def test_the_demo_needs_an_empty_tenant_not_an_empty_database(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = new_tenant(), new_tenant()
    assert _run(capsys, "demo", *DAYS, "--db", database, "--tenant", first)[0] == 0
    code, out, err = _run(capsys, "demo", *DAYS, "--db", database, "--tenant", first)
    assert (code, out) == (2, "")
    assert err.startswith("ticketflow demo: --tenant must be a tenant with no tickets in ")
    assert err.endswith(f", got {first!r}\n")
    assert _run(capsys, "demo", *DAYS, "--db", database, "--tenant", second)[0] == 0


def test_tenants_are_apart_through_the_command_line(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    told, other = new_tenant(), new_tenant()
    assert _run(capsys, "demo", *DAYS, "--db", database, "--tenant", told)[0] == 0
    assert _run(capsys, "list", "--db", database, "--tenant", told)[1].startswith("id ")
    assert _run(capsys, "list", "--db", database, "--tenant", other) == (0, "0 tickets\n", "")
    code, out, err = _run(capsys, "history", "--db", database, "--tenant", other, "T-1")
    assert (code, out) == (2, "")
    assert err == "ticketflow history: no ticket with id 'T-1'\n"
    code, out, _err = _run(capsys, "sweep", "--db", database, "--tenant", other, "--now", LATER)
    assert (code, out) == (0, "fired at 2026-01-16 08:00 UTC: nothing\n")


def test_migrate_prints_the_schema_version_and_changes_nothing_the_second_time(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with scratch_database() as dsn:
        secret = _with_password(dsn)
        first = _run(capsys, "migrate", "--db", secret)
        assert first == (0, f"{dsn}: ticketflow schema version {SCHEMA_VERSION}\n", "")
        assert _run(capsys, "migrate", "--db", secret, "--tenant", new_tenant()) == first
        assert _run(capsys, "list", "--db", secret) == (0, "0 tickets\n", "")


def test_migrate_on_a_sqlite_file_says_that_opening_it_migrates_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "demo.sqlite3"
    assert main(["demo", "--days", "1", "--quiet", "--db", str(database)]) == 0
    capsys.readouterr()
    code, out, err = _run(capsys, "migrate", "--db", str(database))
    assert (code, err) == (0, "")
    assert out.startswith(f"{database}: ticketflow schema version ")
    assert "migrated whenever ticketflow opens it: nothing else to do" in out
    code, out, err = _run(capsys, "migrate", "--db", str(tmp_path / "missing.sqlite3"))
    assert (code, out) == (2, "")
    assert "--db must be an existing ticketflow SQLite file" in err
    assert not (tmp_path / "missing.sqlite3").exists()


@pytest.mark.parametrize(
    "command",
    [["list"], ["report"], ["history", "T-1"], ["sweep", "--dry-run"]],
    ids=lambda command: command[0],
)
def test_a_database_not_yet_migrated_is_a_one_line_error_asking_to_migrate(
    capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    with scratch_database() as dsn:
        code, out, err = _run(capsys, command[0], "--db", _with_password(dsn), *command[1:])
    assert (code, out) == (2, "")
    assert err == (
        f"ticketflow {command[0]}: store {dsn!r}: the ticketflow tables are missing from "
        "this database; run PostgresStore.migrate() (on the command line, ticketflow "
        "migrate) first\n"
    )


@pytest.mark.parametrize(
    "value",
    [
        f"postgresq://app:{SECRET}@127.0.0.1/test",
        f"mysql://app:{SECRET}@127.0.0.1/test",
        "http://example.com/tickets.sqlite3",
        "sqlite:///tickets.sqlite3",
        f"postgresql+psycopg://app:{SECRET}@127.0.0.1/test",
    ],
)
@pytest.mark.parametrize("command", ["demo", "list", "history", "sweep", "report", "migrate"])
def test_a_db_of_another_scheme_is_refused_naming_what_is_expected(
    value: str,
    command: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    argv = [command, "--db", value, *(["T-1"] if command == "history" else [])]
    code, out, err = _run(capsys, *argv)
    assert (code, out) == (2, "")
    assert err.startswith(
        f"ticketflow {command}: --db must be a SQLite file path or a PostgreSQL DSN "
        "such as postgresql://user@host/dbname, got "
    )
    assert err.count("\n") == 1
    assert list(tmp_path.iterdir()) == [], "no SQLite file of that name was made"


@pytest.mark.parametrize("command", [["list"], ["report"], ["migrate"], ["demo"]])
def test_a_tenant_is_refused_with_a_sqlite_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    database = tmp_path / "demo.sqlite3"
    code, out, err = _run(capsys, *command, "--db", str(database), "--tenant", "acme")
    assert (code, out) == (2, "")
    assert err == (
        f"ticketflow {command[0]}: --tenant must be given only with a PostgreSQL --db: "
        "a SQLite file holds one desk's tickets, got 'acme'\n"
    )
    assert not database.exists()


def test_a_libpq_keyword_string_names_a_postgres_database(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    name = database.rsplit("/", 1)[1]
    keywords = f"host=127.0.0.1 port=5432 user=postgres dbname={name} password={SECRET}"
    assert _run(capsys, "list", "--db", keywords, "--tenant", new_tenant()) == (
        0,
        "0 tickets\n",
        "",
    )


@pytest.mark.parametrize(
    ("value", "postgres"),
    [
        ("postgresql://db/x", True),
        ("postgres://db/x", True),
        ("host=db dbname=x", True),
        ("dbname=x", True),
        (f"port=9 password={SECRET}", True),
        ("tickets.sqlite3", False),
        ("/srv/desk/tickets.sqlite3", False),
        ("postgresql.sqlite3", False),
    ],
)
def test_what_a_db_value_names(value: str, postgres: bool) -> None:
    database = _cli_store.Database.read(value, None)
    assert database.postgres is postgres
    assert SECRET not in repr(database)


@pytest.fixture
def unreachable(monkeypatch: pytest.MonkeyPatch) -> str:
    """A DSN with a password for a port where no server listens; the CLI waits one second."""
    monkeypatch.setattr(_cli_store, "TIMEOUT", 1.0)
    return f"postgresql://postgres:{SECRET}@127.0.0.1:9/test?connect_timeout=1"


@pytest.mark.parametrize(
    "command",
    [["list"], ["report"], ["history", "T-1"], ["sweep"], ["migrate"], ["demo", "--quiet"]],
    ids=lambda command: command[0],
)
def test_an_unreachable_server_is_one_line_without_the_password(
    unreachable: str,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    command: list[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    code, out, err = _run(capsys, command[0], "--db", unreachable, *command[1:])
    assert (code, out) == (2, "")
    assert err.startswith(
        f"ticketflow {command[0]}: store 'postgresql://postgres@127.0.0.1:9/test': "
        "no connection to the server within 1 s"
    )
    assert err.count("\n") == 1
    assert [record.name for record in caplog.records] == [], "the driver's retries are not logged"


def test_a_dsn_that_does_not_parse_is_refused_without_the_password(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = _run(capsys, "list", "--db", f"postgresql://app:{SECRET}@h/db?bogus=1")
    assert (code, out) == (2, "")
    assert err == (
        "ticketflow list: dsn must be a valid libpq connection string, "
        "got 'postgresql://app:***@h/db?bogus=1'\n"
    )


def test_python_dash_m_prints_one_line_and_no_password_for_an_unreachable_server() -> None:
    # A process of its own: nothing but the command has touched logging, as for a user.
    script = (
        "import sys; from ticketflow import _cli_store; from ticketflow.cli import main; "
        "_cli_store.TIMEOUT = 1.0; sys.exit(main(sys.argv[1:]))"
    )
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            script,
            "list",
            "--db",
            f"host=127.0.0.1 port=9 dbname=test password={SECRET}",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert SECRET not in done.stderr
    assert done.stderr.startswith(
        "ticketflow list: store 'postgresql://127.0.0.1:9/test': no connection"
    )
    assert done.stderr.count("\n") == 1, done.stderr


def test_reschedule_on_postgres_stores_each_tickets_schedule_once(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    tenant = new_tenant()
    assert _run(capsys, "demo", *DAYS, "--db", database, "--tenant", tenant)[0] == 0
    code, out, err = _run(capsys, "reschedule", "--db", database, "--tenant", tenant)
    assert (code, err) == (0, "")
    assert out.startswith("rescheduled 0 tickets under rule set r1-")  # the demo kept them
    code, out, _err = _run(capsys, "sweep", "--db", database, "--tenant", tenant, "--now", LATER)
    assert code == 0
