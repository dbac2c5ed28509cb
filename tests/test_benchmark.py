"""The benchmark runs and its paths follow the same lifecycle; its figures are not judged."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from pgserver import require_server

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import bench_lifecycle


def test_every_path_of_the_benchmark_reaches_the_same_statuses() -> None:
    bench_lifecycle.check_equivalent(cycles=3)


def test_the_json_output_has_one_figure_per_path_under_the_promised_keys(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert bench_lifecycle.main(["--json", "--repeats", "1", "--batch-seconds", "0.001"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert list(figures) == ["core", "desk", "python_statemachine", "transitions", "dict"]
    assert all(isinstance(value, float) and value > 0 for value in figures.values())


def test_the_readable_report_states_each_goal() -> None:
    medians = {
        "core": 1.0,
        "desk": 4.0,
        "python_statemachine": 10.0,
        "transitions": 3.0,
        "dict": 0.1,
    }
    lines = bench_lifecycle.goal_lines(medians)
    assert [line.split(":")[0].strip() for line in lines] == [
        "core <= 1/2 of transitions",
        "core <= 1/20 of python_statemachine",
        "desk <= transitions",
    ]
    assert [line.rsplit("-> ", 1)[-1] for line in lines] == ["met", "NOT met", "NOT met"]


def test_the_storage_benchmark_runs_at_a_hundredth_and_prints_its_four_figures(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import bench_storage  # noqa: PLC0415 - found through the path above

    assert bench_storage.main(["--json", "--quick"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert list(figures) == [
        "desk_commit_us",
        "raw_commit_us",
        "due_query_ms_100k",
        "due_query_ms_1m",
    ]
    assert all(isinstance(value, float) and value > 0 for value in figures.values())


def test_the_rules_benchmark_runs_at_a_hundredth_and_prints_every_figure(
    capsys: pytest.CaptureFixture[str],
) -> None:
    require_server()
    import bench_rules  # noqa: PLC0415 - found through the path above

    assert bench_rules.main(["--json", "--quick"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert list(figures) == [
        "sweep_s_100k",
        "sweep_s_1m",
        "fired",
        "sweep_1m_over_100k",
        "fires_per_s_sqlite",
        "fires_per_s_pg_1",
        "fires_per_s_pg_4",
        "fires_pg_4_over_1",
        "sla_sweep_s_100k",
        "sla_sweep_s_1m",
        "sla_sweep_1m_over_100k",
    ]
    assert figures["fired"] == 100
    assert all(isinstance(value, (int, float)) and value > 0 for value in figures.values())


def test_the_rules_benchmark_measures_postgresql_alone_when_asked(
    capsys: pytest.CaptureFixture[str],
) -> None:
    require_server()
    import bench_rules  # noqa: PLC0415 - found through the path above

    assert bench_rules.main(["--json", "--quick", "--only-postgres"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert list(figures) == ["fires_per_s_pg_1", "fires_per_s_pg_4", "fires_pg_4_over_1"]
    assert all(isinstance(value, (int, float)) and value > 0 for value in figures.values())


def test_the_sla_benchmark_database_stores_what_the_scheduler_computes(tmp_path: Path) -> None:
    import bench_rules  # noqa: PLC0415 - found through the path above

    bench_rules.build_sla(tmp_path / "sla.sqlite3", total=300, due=40)  # checks itself
    with bench_rules.SQLiteStore(tmp_path / "sla.sqlite3") as store:
        report = bench_rules.sla_desk(store).run_rules()
        assert [firing.rule for firing in report.fired] == ["sla_warning"] * 40
        assert store.count_due(bench_rules.SWEEP_AT) == 0


def test_the_sla_benchmark_measures_its_figures_on_a_small_population() -> None:
    import bench_sla  # noqa: PLC0415 - found through the path above

    require_server()
    figures = bench_sla.measure(300)
    assert list(figures) == [
        "sla_us_per_ticket",
        "metrics_s_100k",
        "metrics_s_100k_sqlite",
        "metrics_s_100k_pg",
    ]
    assert all(value > 0 for value in figures.values())


def test_the_sla_benchmark_measures_the_queue_and_the_commit_overhead_at_small_scale() -> None:
    require_server()
    import bench_sla  # noqa: PLC0415 - found through the path above

    figures = bench_sla.measure(100, queue_total=120, commit_tickets=10)
    assert list(figures) == [
        "sla_us_per_ticket",
        "metrics_s_100k",
        "metrics_s_100k_sqlite",
        "metrics_s_100k_pg",
        "queue_ms_100k_sqlite",
        "queue_ms_100k_pg",
        "commit_overhead",
    ]
    assert all(value > 0 for value in figures.values())


def test_the_postgres_benchmark_runs_quick_and_prints_every_figure_positive(
    capsys: pytest.CaptureFixture[str],
) -> None:
    require_server()
    import bench_postgres  # noqa: PLC0415 - found through the path above

    assert bench_postgres.main(["--json", "--quick"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert list(figures) == [
        "desk_commit_us",
        "raw_commit_us",
        "desk_over_raw",
        "commits_per_s_1",
        "commits_per_s_8",
        "pgbench_tps_8",
        "commits_8_over_pgbench",
        "due_query_ms_100k",
        "due_query_ms_1m",
        "due_1m_over_100k",
    ]
    assert all(isinstance(value, float) and value > 0 for value in figures.values())


def test_the_outbox_benchmark_runs_quick_and_prints_its_sqlite_figures(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import bench_outbox  # noqa: PLC0415 - found through the path above

    assert bench_outbox.main(["--json", "--quick", "--no-postgres"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert list(figures) == [
        "commit_overhead_sqlite",
        "commit_us_off_sqlite",
        "commit_us_on_sqlite",
        "drain_per_s",
    ]
    assert all(isinstance(value, float) and value > 0 for value in figures.values())


def test_the_sla_benchmark_measures_only_the_parts_asked_for() -> None:
    require_server()
    import bench_sla  # noqa: PLC0415 - found through the path above

    figures = bench_sla.measure(100, queue_total=120, commit_tickets=10, parts=("metrics",))
    assert list(figures) == ["metrics_s_100k_sqlite", "metrics_s_100k_pg"]
    figures = bench_sla.measure(100, queue_total=120, parts=("queue",))
    assert list(figures) == ["queue_ms_100k_sqlite", "queue_ms_100k_pg"]
