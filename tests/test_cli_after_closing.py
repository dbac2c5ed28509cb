"""The command line's rate, review and merge, and how history shows them."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import ANA

from ticketflow import Actor, Contact, Helpdesk, SystemClock
from ticketflow.cli import main
from ticketflow.storage import SQLiteStore

BO = Contact(name="Bo Berg", email="bo@example.com")


@pytest.fixture
def database(tmp_path: Path) -> str:
    """T-1 resolved just now (the commands read the system clock), T-2 new."""
    path = tmp_path / "desk.sqlite3"
    store = SQLiteStore(path)
    desk = Helpdesk(store=store, clock=SystemClock())
    first = desk.open(subject="VPN", description="It drops.", requester=ANA)
    desk.open(subject="VPN again", description="Still.", requester=BO)
    desk.resolve(first.id, Actor.admin("lead"))
    store.close()
    return str(path)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_merge_rate_and_review_from_the_command_line(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "merge", "--db", database, "T-2", "--into", "T-1", "--as", "agent:a-1")[
        1
    ] == ("T-1 took in T-2: resolved, version 3\n")
    code, out, _err = run(
        capsys, "rate", "--db", database, "T-1", "bad", "--comment", "Meh.", "--as",
        "customer:ana@example.com",
    )  # fmt: skip
    assert (code, out) == (0, "T-1 rated bad: resolved, version 4\n")
    assert run(capsys, "rate", "--db", database, "T-1", "good")[1].startswith("T-1 rated good")
    store = SQLiteStore(database)
    Helpdesk(store=store).close("T-1", Actor.admin("lead"))
    store.close()
    code, out, _err = run(
        capsys, "review", "--db", database, "T-1", "--solution", "New client.", "--lessons",
        "Pin it.", "--as", "agent:a-1",
    )  # fmt: skip
    assert (code, out) == (0, "T-1 reviewed: closed, version 7\n")
    lines = run(capsys, "history", "--db", database, "T-1")[1].splitlines()
    assert [line.split()[3] for line in lines] == [
        "create",
        "resolve",
        "merge_in",
        "rate",
        "rate",
        "close",
        "closing_review",
    ]
    assert lines[3].endswith("customer ana@example.com  [rated bad] Meh.")
    assert lines[4].endswith("system system  [rated good]")
    assert lines[6].endswith("agent a-1  Solution:\\nNew client.\\n\\nLessons learned:\\nPin it.")
    merged = run(capsys, "history", "--db", database, "T-2")[1].splitlines()
    assert merged[-1].endswith("agent a-1  [into T-1]")


def test_the_commands_refuse_in_one_line_with_status_2(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, err = run(capsys, "rate", "--db", database, "T-1", "5")
    assert code == 2
    assert err == (
        "ticketflow rate: score must be 'good' or 'bad' (the desk rates good/bad), got 5\n"
    )
    code, out, _err = run(capsys, "rate", "--db", database, "T-1", "5", "--scale", "one_to_five")
    assert (code, out) == (0, "T-1 rated 5: resolved, version 3\n")
    code, _out, err = run(capsys, "merge", "--db", database, "T-1", "--into", "T-1")
    assert (code, err) == (
        2,
        "ticketflow merge: cannot merge ticket 'T-1' into 'T-1': a ticket cannot be merged "
        "into itself\n",
    )
    code, _out, err = run(capsys, "review", "--db", database, "T-1", "--solution", "Early.")
    assert code == 2
    assert "only a closed ticket is reviewed" in err
    with pytest.raises(SystemExit) as refused:
        main(["rate", "--db", database, "T-1", "good", "--as", "wizard:x"])
    assert refused.value.code == 2
    err = capsys.readouterr().err
    assert "expected system, or ROLE:ID with ROLE one of customer, agent, admin, owner" in err
    code, _out, err = run(capsys, "rate", "--db", database, "T-9", "good")
    assert (code, err) == (2, "ticketflow rate: no ticket with id 'T-9'\n")
