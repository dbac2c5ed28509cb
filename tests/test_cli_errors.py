"""Every command, given a bad argument or a bad file, says so in one line and exits 2.

No traceback, nothing on standard output, and the files it was given are left
as they were.
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
from pathlib import Path

import pytest

from ticketflow._demo import run_demo
from ticketflow.cli import main
from ticketflow.storage import SQLiteStore

# {db} is a demo database, {dir} a folder, {missing} a path to nothing,
# {text} a text file, {empty} an empty file; the others are workflow files.
CASES: dict[str, tuple[list[str], str]] = {
    "no command": ([], "the following arguments are required: COMMAND"),
    "unknown command": (["serve"], "argument COMMAND: invalid choice: 'serve'"),
    "unknown option": (["list", "--db", "{db}", "--colour"], "unrecognized arguments: --colour"),
    "demo days zero": (["demo", "--days", "0"], "expected a whole number of 1 or more, got '0'"),
    "demo days text": (["demo", "--days", "two"], "expected a whole number of 1 or more"),
    "demo days too many": (["demo", "--days", "100000"], "expected a number of days from 1 to"),
    "demo seed text": (["demo", "--seed", "seven"], "expected a whole number, got 'seven'"),
    "demo db used": (["demo", "--db", "{db}"], "--db must be a new or empty database"),
    "demo db folder": (["demo", "--db", "{dir}"], "not a directory"),
    "demo db text file": (["demo", "--db", "{text}"], "must be a SQLite database"),
    "demo db no folder": (["demo", "--db", "{missing}/x.sqlite3"], "a file in an existing folder"),
    "list no db": (["list"], "the following arguments are required: --db"),
    "list db missing": (["list", "--db", "{missing}"], "--db must be an existing ticketflow"),
    "list db folder": (["list", "--db", "{dir}"], "--db must be an existing ticketflow"),
    "list db text file": (["list", "--db", "{text}"], "must be a SQLite database"),
    "list db empty": (["list", "--db", "{empty}"], "not an empty one"),
    "list unknown status": (
        ["list", "--db", "{db}", "--status", "Closed"],
        "status must be a status of workflow 'default'",
    ),
    "list limit zero": (["list", "--db", "{db}", "--limit", "0"], "1 or more, got '0'"),
    "history no id": (["history", "--db", "{db}"], "required: TICKET_ID"),
    "history unknown id": (["history", "--db", "{db}", "T-999"], "no ticket with id 'T-999'"),
    "history db missing": (["history", "--db", "{missing}", "T-1"], "an existing ticketflow"),
    "history db text file": (["history", "--db", "{text}", "T-1"], "must be a SQLite database"),
    "sweep db missing": (["sweep", "--db", "{missing}"], "an existing ticketflow SQLite file"),
    "sweep db folder": (["sweep", "--db", "{dir}"], "an existing ticketflow SQLite file"),
    "sweep db text file": (["sweep", "--db", "{text}"], "must be a SQLite database"),
    "sweep db empty": (["sweep", "--db", "{empty}"], "not an empty one"),
    "sweep naive now": (["sweep", "--db", "{db}", "--now", "2026-01-26T08:00"], "has no zone"),
    "sweep limit text": (["sweep", "--db", "{db}", "--limit", "all"], "1 or more, got 'all'"),
    "report db missing": (["report", "--db", "{missing}"], "an existing ticketflow SQLite file"),
    "report db text file": (["report", "--db", "{text}"], "must be a SQLite database"),
    "report db empty": (["report", "--db", "{empty}"], "not an empty one"),
    "report html folder": (
        ["report", "--db", "{db}", "--html", "{dir}"],
        "--html must be a file path in an existing folder",
    ),
    "report html no folder": (
        ["report", "--db", "{db}", "--html", "{missing}/r.html"],
        "--html must be a file path in an existing folder",
    ),
    "report naive now": (["report", "--db", "{db}", "--now", "2026-01-19T08:00"], "has no zone"),
    "graph file missing": (["graph", "{missing}.json"], "an existing .toml or .json file"),
    "graph folder": (["graph", "{dir}.json"], "not a directory"),
    "graph not a workflow suffix": (["graph", "{text}"], "ends in .toml or .json"),
    "graph bad json": (["graph", "{bad_json}"], "not valid JSON at line 1, column 2"),
    "graph bad toml": (["graph", "{bad_toml}"], "not valid TOML"),
    "graph deep json": (["graph", "{deep_json}"], "JSON nested more than 16 levels deep"),
    "graph key twice": (["graph", "{twice_json}"], "the key 'name' appears twice"),
    "graph broken laws": (["graph", "{lawless_toml}"], "is invalid (2 problems): "),
    "graph bad format": (["graph", "--format", "svg"], "argument --format: invalid choice"),
}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("cli-errors")
    database = folder / "demo.sqlite3"
    with SQLiteStore(database) as store:
        run_demo(days=1, quiet=True, out=io.StringIO(), store=store)
    made = {
        "db": database,
        "dir": folder / "folder",
        "missing": folder / "missing",
        "text": folder / "notes.txt",
        "empty": folder / "empty.sqlite3",
        "bad_json": folder / "bad.json",
        "bad_toml": folder / "bad.toml",
        "deep_json": folder / "deep.json",
        "twice_json": folder / "twice.json",
        "lawless_toml": folder / "lawless.toml",
    }
    made["dir"].mkdir()
    (folder / "folder.json").mkdir()
    made["text"].write_text("not a database\n", encoding="utf-8")
    made["empty"].touch()
    made["bad_json"].write_text("{,}", encoding="utf-8")
    made["bad_toml"].write_text('name = "x"\ninitial =\n', encoding="utf-8")
    made["deep_json"].write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    made["twice_json"].write_text('{"name": "a", "name": "b"}', encoding="utf-8")
    made["lawless_toml"].write_text(
        'name = "x"\ninitial = "new"\n[[statuses]]\nname = "new"\ncategory = "new"\n',
        encoding="utf-8",
    )
    return {name: str(path) for name, path in made.items()}


def _fingerprint(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        if path.is_file()
        else "folder"
        for path in sorted(folder.rglob("*"))
    }


@pytest.mark.parametrize(("argv", "says"), CASES.values(), ids=CASES.keys())
def test_a_bad_argument_or_file_gets_one_line_on_stderr_and_exit_status_2(
    files: dict[str, str], argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = Path(files["db"]).parent
    before = _fingerprint(folder)
    try:
        code = main([arg.format(**files) for arg in argv])
    except SystemExit as stopped:
        code = stopped.code
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err.endswith("\n")
    assert err.count("\n") == 1, err
    assert err.startswith("ticketflow")
    assert says in err
    assert _fingerprint(folder) == before, "a refused command changed nothing"


def test_a_damaged_database_gets_one_line_on_stderr_and_exit_status_2(
    files: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    damaged = tmp_path / "damaged.sqlite3"
    data = bytearray(Path(files["db"]).read_bytes())
    data[4096 * 2 : 4096 * 3] = bytes(range(256)) * 16
    damaged.write_bytes(bytes(data))
    for command in (["list"], ["report"], ["sweep", "--dry-run"]):
        assert main([*command, "--db", str(damaged)]) == 2
        assert capsys.readouterr().err.count("\n") == 1


def test_a_deep_workflow_file_prints_no_traceback_from_python_dash_m(
    files: dict[str, str],
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ticketflow", "graph", files["deep_json"]],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        "ticketflow graph: workflow 'deep.json' is invalid (1 problem): JSON nested more "
        "than 16 levels deep at line 1, column 17; a workflow definition needs four at most\n"
    )
