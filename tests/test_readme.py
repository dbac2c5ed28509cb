"""The README's two commands stay near its top, and .ci/run runs the test command exactly."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO = "python -m pip install -e . && python -m ticketflow demo"
TESTS = 'python -m pip install -e ".[test]" && python -m pytest'


def test_the_readme_states_both_commands_within_its_first_twenty_lines() -> None:
    top = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()[:20]
    assert DEMO in top
    assert TESTS in top


def test_ci_runs_the_readme_test_command_then_ruff_and_mypy() -> None:
    lines = [
        line.strip() for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    ]
    assert "set -euo pipefail" in lines
    checks = [TESTS, "ruff check", "ruff format --check", "mypy --strict src"]
    assert [line for line in lines if line in checks] == checks
