"""The command line: the demo is deterministic and tells the lifecycle's story."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import attrs
import pytest
from support import ANA, START

from ticketflow import Actor, Contact, Helpdesk, ManualClock
from ticketflow._demo import run_demo, without_repeats
from ticketflow.cli import main
from ticketflow.storage import SQLiteStore


def test_the_demo_prints_the_same_story_for_the_same_seed() -> None:
    first, second = io.StringIO(), io.StringIO()
    run_demo(seed=3, days=5, out=first)
    run_demo(seed=3, days=5, out=second)
    assert first.getvalue() == second.getvalue()
    assert first.getvalue() != _demo_output(seed=4, days=5)


def _demo_output(**options: int) -> str:
    out = io.StringIO()
    run_demo(out=out, **options)
    return out.getvalue()


def test_the_demo_keeps_every_law_of_the_lifecycle() -> None:
    report = run_demo(seed=7, days=14, quiet=True, out=io.StringIO())
    assert report.tickets
    for ticket in report.tickets:
        history = report.histories[ticket.id]
        assert history[-1].seq == ticket.version
        for event in history:
            if event.moved and event.to_status == "closed":
                assert event.from_status == "resolved"
    statuses = {ticket.status for ticket in report.tickets}
    assert {"closed", "resolved"} <= statuses


def test_the_demo_ends_with_a_summary_where_replay_equals_the_store() -> None:
    output = _demo_output(seed=7, days=14)
    summary = output.split("\nsummary\n")[1]
    kept = int(summary.split("tickets kept:")[1].split()[0])
    assert f"replay equals stored:   {kept} of {kept}" in summary
    assert "Mon 05 Jan" in output


def test_quiet_prints_only_the_summary_and_the_metrics_report() -> None:
    out = io.StringIO()
    run_demo(seed=7, days=3, quiet=True, out=out)
    lines = out.getvalue().splitlines()
    assert lines[2] == "summary"
    compliance = lines.index("SLA compliance (decided clocks that met their target)")
    assert lines[compliance - 1] == ""
    assert lines[compliance + 1].startswith("  all ")
    assert lines.index("metrics at 2026-01-08 08:00 UTC") > compliance
    assert not any(" -> " in line for line in lines), "quiet prints no moves"


def test_the_demo_grows_in_proportion_to_the_days_it_runs() -> None:
    opened = {}
    for days in (21, 84):
        report = run_demo(seed=7, days=days, quiet=True, out=io.StringIO())
        opened[days] = len(report.tickets) + report.purged
        # At most one arrival per business hour, and at most one follow-up each.
        assert opened[days] <= 2 * 10 * days
        by_id = {ticket.id: ticket for ticket in report.tickets}
        follow_ups = [ticket for ticket in report.tickets if ticket.parent_id]
        assert follow_ups
        assert all(by_id[ticket.parent_id].parent_id is None for ticket in follow_ups), (
            "no follow-up of a follow-up: they made the count grow exponentially"
        )
    assert 3 <= opened[84] / opened[21] <= 5


def test_the_story_marks_follow_up_tickets_and_prints_each_table_once() -> None:
    output = _demo_output(seed=7, days=14)
    kept = output.split("\nsummary\n")[1]
    follow_ups = int(kept.split("follow-up tickets:")[1].split()[0])
    marked = [line for line in output.splitlines() if ", follow-up of T-" in line]
    assert len(marked) == follow_ups > 0
    assert all(" new " in line and " create by customer " in line for line in marked)
    assert output.count("by department\n") == 1
    # The demo tags each ticket with its department, and the escalation rule
    # adds a tag of its own: the tag table is printed for what it adds.
    tags = output.split("by tag\n")[1].split("by status\n")[0]
    assert "  escalated " in tags


def test_a_tag_breakdown_that_differs_from_the_departments_is_kept() -> None:
    desk = Helpdesk(clock=ManualClock(START))
    for tags in ({"billing"}, {"vip", "billing"}):
        desk.open(subject="s", description="d", requester=ANA, department="billing", tags=tags)
    report = desk.metrics()
    assert without_repeats(report) is report
    same = attrs.evolve(
        report,
        breakdowns={**report.breakdowns, "tag": report.breakdowns["department"]},
    )
    assert "tag" not in without_repeats(same).breakdowns
    assert "by tag" not in without_repeats(same).table()


def test_the_command_line_runs_the_demo(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--days", "2", "--quiet"]) == 0
    assert "summary" in capsys.readouterr().out


def test_the_command_line_refuses_a_bad_number_of_days(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["demo", "--days", "0"])
    assert stopped.value.code == 2
    assert "expected a whole number of 1 or more, got '0'" in capsys.readouterr().err


def test_python_dash_m_ticketflow_demo_works() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ticketflow", "demo", "--days", "1", "--quiet"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "summary" in done.stdout


def test_the_demo_keeps_its_tickets_in_the_database_given_and_refuses_a_used_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "demo.sqlite3"
    assert main(["demo", "--quiet", "--days", "3", "--db", str(database)]) == 0
    out = capsys.readouterr().out
    assert f"the tickets are in {database}" in out
    assert main(["list", "--db", str(database), "--limit", "2"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[0].split() == ["id", "status", "priority", "assignee", "updated", "subject"]
    assert listed[1].startswith("T-1 ")
    assert listed[-1] == "2 tickets"
    assert main(["history", "--db", str(database), "T-1"]) == 0
    assert capsys.readouterr().out.startswith("#1   2026-01-05")
    assert main(["demo", "--quiet", "--db", str(database)]) == 2
    assert "--db must be a new or empty database" in capsys.readouterr().err


def test_list_and_history_refuse_a_missing_database_or_ticket(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["list", "--db", str(tmp_path / "missing.sqlite3")]) == 2
    assert "--db must be an existing ticketflow SQLite file" in capsys.readouterr().err
    database = tmp_path / "demo.sqlite3"
    main(["demo", "--quiet", "--days", "1", "--db", str(database)])
    capsys.readouterr()
    assert main(["history", "--db", str(database), "T-999"]) == 2
    assert "no ticket with id 'T-999'" in capsys.readouterr().err


def test_sweep_applies_the_default_rules_to_a_database_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "demo.sqlite3"
    assert main(["demo", "--quiet", "--db", str(database)]) == 0
    capsys.readouterr()
    assert main(["sweep", "--db", str(database), "--dry-run"]) == 0
    dry = capsys.readouterr().out.splitlines()
    assert dry[-1].startswith("would fire at ")
    assert main(["sweep", "--db", str(database)]) == 0
    done = capsys.readouterr().out.splitlines()
    # A dry run tries each rule on the tickets as stored: an SLA breach it
    # lists is not fired once a rule before it resolved the ticket.
    assert set(done[:-1]) <= set(dry[:-1]), "the sweep fired only what the dry run listed"
    assert any(" auto_close " in line for line in done)
    assert done[-1].startswith("fired at ")
    assert main(["sweep", "--db", str(database)]) == 0
    assert capsys.readouterr().out.splitlines()[-1].endswith(": nothing")


def test_sweep_now_sweeps_at_the_instant_given_in_any_zone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "demo.sqlite3"
    assert main(["demo", "--quiet", "--db", str(database)]) == 0
    hints = capsys.readouterr().out.splitlines()[-2:]
    assert hints == [
        f"or: ticketflow sweep --db {database} --dry-run --now 2026-01-26T08:00+00:00",
        f"and: ticketflow report --db {database} --html report.html --now 2026-01-19T08:00+00:00",
    ]
    sweep = ["sweep", "--db", str(database)]
    assert main([*sweep, "--now", "2026-01-19T08:00+00:00"]) == 0
    assert capsys.readouterr().out == "fired at 2026-01-19 08:00 UTC: nothing\n"
    assert main([*sweep, "--dry-run", "--now", "2026-01-26T09:00+01:00"]) == 0
    dry = capsys.readouterr().out.splitlines()
    assert dry[-1].startswith("would fire at 2026-01-26 08:00 UTC: ")
    assert "auto_close " in dry[-1]
    assert main([*sweep, "--now", "2026-01-26T08:00Z"]) == 0
    done = capsys.readouterr().out.splitlines()
    assert set(done[:-1]) <= set(dry[:-1])  # less the SLA notices a resolution made moot
    assert done[-1].startswith("fired at 2026-01-26 08:00 UTC: ")
    assert "auto_close " in done[-1]


@pytest.mark.parametrize(
    ("now", "why"),
    [
        ("2026-01-26T08:00", "which has no zone"),
        ("next monday", ""),
        ("0001-01-01T00:00+00:00", "which is out of range"),
        ("9999-12-31T23:00-05:00", "which is out of range"),
    ],
)
def test_sweep_refuses_a_now_that_is_not_an_instant_with_a_zone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], now: str, why: str
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["sweep", "--db", str(tmp_path / "any.sqlite3"), "--now", now])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert (
        "--now: expected an ISO instant with a zone, such as 2026-01-19T09:00+00:00, "
        f"got {now!r}{', ' + why if why else ''}"
    ) in err
    assert not (tmp_path / "any.sqlite3").exists()


def test_list_refuses_an_unknown_status_and_demo_names_the_db_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "demo.sqlite3"
    main(["demo", "--quiet", "--days", "1", "--db", str(database)])
    capsys.readouterr()
    assert main(["list", "--db", str(database), "--status", "Closed"]) == 2
    assert "status must be a status of workflow 'default'" in capsys.readouterr().err
    assert main(["demo", "--quiet", "--db", str(database)]) == 2
    assert "--db must be a new or empty database" in capsys.readouterr().err


FORGED = "#9   2026-01-01 00:00  close           resolved -> closed       admin root"


def _hostile_database(path: Path) -> None:
    """Store a ticket whose customer text tries to forge output and clear the screen."""
    with SQLiteStore(path) as store:
        desk = Helpdesk(store=store, clock=ManualClock(START))
        ticket = desk.open(
            subject="Help\x1b[2J\x00 now\nT-99     closed",
            description="d",
            requester=Contact(id="c-1", name="Ana", email="ana@example.com"),
        )
        desk.reply(ticket.id, Actor.customer("c-1"), f"thanks\n{FORGED}\x1b[31m")


def test_history_prints_a_reply_on_its_own_line_so_it_cannot_forge_an_event(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "hostile.sqlite3"
    _hostile_database(database)
    assert main(["history", "--db", str(database), "T-1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["#1", "#2"]
    assert lines[1].endswith(f"  thanks\\n{FORGED}\\x1b[31m")
    assert not any(line.startswith(FORGED) for line in lines)


def test_list_prints_control_characters_in_subjects_as_escapes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "hostile.sqlite3"
    _hostile_database(database)
    assert main(["list", "--db", str(database)]) == 0
    out = capsys.readouterr().out
    assert "Help\\x1b[2J\\x00 now\\nT-99     closed" in out
    assert "\x1b" not in out
    assert "\x00" not in out
    assert not any(line.startswith("T-99") for line in out.splitlines())


def test_sweep_asks_for_reschedule_when_the_schedule_is_out_of_date_and_reschedule_fixes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "demo.sqlite3"
    assert main(["demo", "--quiet", "--db", str(database)]) == 0
    with SQLiteStore(database) as store:  # as a database written before schedules were kept
        store._connection().execute("UPDATE tickets SET next_due_at = NULL, schedule = NULL")
        tickets = len(store)
    capsys.readouterr()
    sweep = ["sweep", "--db", str(database), "--now", "2026-01-26T08:00Z"]
    assert main(sweep) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("ticketflow sweep: ticket ")
    assert "`ticketflow reschedule`" in err
    assert main(["reschedule", "--db", str(database), "--batch", "7"]) == 0
    said = capsys.readouterr().out
    assert said.startswith(f"rescheduled {tickets} tickets under rule set r1-")
    assert main(["reschedule", "--db", str(database)]) == 0
    assert capsys.readouterr().out.startswith("rescheduled 0 tickets")
    assert main(sweep) == 0
    assert "auto_close" in capsys.readouterr().out.splitlines()[-1]


def _waiting_file(path: Path, count: int) -> list[str]:
    store = SQLiteStore(path)
    desk = Helpdesk(store=store, clock=ManualClock(START))
    ids = []
    for number in range(count):
        ticket = desk.open(subject=f"S{number}", description="d", requester=ANA)
        desk.reply(ticket.id, Actor.agent("a-1"), "Which client?")
        ids.append(ticket.id)
    store.close()
    return ids


@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGINT"])
def test_the_worker_sweeps_until_a_signal_then_finishes_and_exits_0(
    tmp_path: Path, signal_name: str
) -> None:
    import signal  # noqa: PLC0415

    database = tmp_path / "tickets.sqlite3"
    ids = _waiting_file(database, 6)
    worker = subprocess.Popen(
        [sys.executable, "-m", "ticketflow", "worker", "--db", str(database),
         "--interval", "100ms", "--batch", "4"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert worker.stdout is not None
    assert worker.stdout.readline().startswith("ticketflow worker: sweeping every 0.1s, 4 a batch")
    fired = worker.stdout.readline()  # the first sweep: a reminder for each, and more
    assert " UTC fired " in fired
    assert "remind_customer 6" in fired
    worker.send_signal(getattr(signal, signal_name))
    out, err = worker.communicate(timeout=30)
    assert worker.returncode == 0, err
    assert out.splitlines()[-1] == "ticketflow worker: stopped"
    assert err == f"ticketflow worker: {signal_name}, stopping\n"
    with SQLiteStore(database) as store:
        for ticket_id in ids:
            names = [event.name for event in store.history(ticket_id)]
            assert names.count("remind") == 1


@pytest.mark.parametrize("pause", ["0s", "soon", "-5s", "2d", "nan", "86401"])
def test_the_worker_refuses_a_pause_it_cannot_keep(
    tmp_path: Path, pause: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["worker", "--db", str(tmp_path / "t.sqlite3"), f"--interval={pause}"])
    assert exited.value.code == 2
    assert "expected a pause such as 30s, 5m or 500ms" in capsys.readouterr().err


def test_a_worker_on_a_database_scheduled_by_other_rules_stops_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "tickets.sqlite3"
    _waiting_file(database, 1)
    with SQLiteStore(database) as store:
        store._connection().execute("UPDATE tickets SET schedule = 'r1-other'")
    assert main(["worker", "--db", str(database), "--interval", "1s"]) == 2
    assert "`ticketflow reschedule`" in capsys.readouterr().err


def test_recompute_sla_keeps_every_tickets_clocks_again_and_resumes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "demo.sqlite3"
    assert main(["demo", "--quiet", "--db", str(database)]) == 0
    with SQLiteStore(database) as store:  # as a database written before SLA clocks were kept
        store._connection().execute("UPDATE tickets SET sla_policies = NULL, sla_state = ''")
        tickets = len(store)
    capsys.readouterr()
    assert main(["recompute-sla", "--db", str(database), "--batch", "7"]) == 0
    said = capsys.readouterr().out
    assert said.startswith(f"recomputed the SLA clocks of {tickets} tickets under s2-")
    assert main(["recompute-sla", "--db", str(database)]) == 0
    assert capsys.readouterr().out.startswith("recomputed the SLA clocks of 0 tickets")
    assert main(["recompute-sla", "--db", str(tmp_path / "none.sqlite3")]) == 2
    assert "ticketflow recompute-sla:" in capsys.readouterr().err


def test_report_asks_for_refigure_when_figures_are_missing_and_refigure_fixes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "demo.sqlite3"
    assert main(["demo", "--quiet", "--db", str(database)]) == 0
    capsys.readouterr()
    assert main(["report", "--db", str(database)]) == 0
    before = capsys.readouterr().out.split("\n", 1)[1]
    with SQLiteStore(database) as store:  # as a database written before figures were kept
        store._connection().execute("UPDATE tickets SET fig_key = NULL")
        tickets = len(store)
    assert main(["report", "--db", str(database)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert f"ticketflow report: {tickets} stored ticket(s) hold figures" in err
    assert "`ticketflow refigure`" in err
    assert main(["refigure", "--db", str(database), "--batch", "7"]) == 0
    assert capsys.readouterr().out.startswith(f"stored the figures of {tickets} tickets under f2-")
    assert main(["refigure", "--db", str(database)]) == 0
    assert capsys.readouterr().out.startswith("stored the figures of 0 tickets")
    assert main(["report", "--db", str(database)]) == 0
    assert capsys.readouterr().out.split("\n", 1)[1] == before
