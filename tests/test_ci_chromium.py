""".ci/chromium: CI installs the browser of the HTML report's real-browser test, or goes on."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / ".ci" / "chromium"

pytestmark = pytest.mark.skipif(
    shutil.which("bash") is None or os.name != "posix", reason="the CI scripts are bash"
)


def _run(tmp_path: Path, apt_get: str | None, chromium: Path) -> subprocess.CompletedProcess[str]:
    """Run the script with a fake apt-get (a shell body; None: no apt-get at all)."""
    fake = tmp_path / "bin"
    fake.mkdir(exist_ok=True)
    for tool in ("env", "timeout", "id", "bash", "cat"):
        found = shutil.which(tool)
        assert found is not None, tool
        (fake / tool).symlink_to(found)
    if apt_get is not None:
        (fake / "apt-get").write_text(f"#!/bin/sh\n{apt_get}\n", encoding="utf-8")
        (fake / "apt-get").chmod(0o755)
    return subprocess.run(
        [shutil.which("bash") or "bash", str(SCRIPT)],
        env={"PATH": str(fake), "CHROMIUM": str(chromium), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_ci_runs_the_chromium_script_before_the_tests() -> None:
    lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert lines.index(".ci/chromium") < next(
        index for index, line in enumerate(lines) if line.endswith("python -m pytest")
    )
    assert os.access(SCRIPT, os.X_OK)


def test_a_missing_chromium_is_installed_quietly_without_questions(tmp_path: Path) -> None:
    log = tmp_path / "apt.log"
    done = _run(
        tmp_path,
        f'echo "$DEBIAN_FRONTEND $*" >> {log}',
        tmp_path / "absent" / "chromium",
    )
    assert done.returncode == 0, done.stderr
    assert log.read_text().splitlines() == [
        "noninteractive -qq update",
        "noninteractive -qq install -y --no-install-recommends chromium",
    ]
    assert "installed" in done.stdout


def test_when_apt_get_fails_ci_goes_on_and_says_the_test_will_skip(tmp_path: Path) -> None:
    done = _run(tmp_path, "echo 'Temporary failure resolving' >&2; exit 100", tmp_path / "none")
    assert done.returncode == 0
    assert "could not install chromium" in done.stderr
    assert "Temporary failure" not in done.stderr, "apt-get's own noise stays quiet"


def test_without_apt_get_ci_goes_on(tmp_path: Path) -> None:
    done = _run(tmp_path, None, tmp_path / "none")
    assert done.returncode == 0
    assert "no apt-get here" in done.stderr


def test_a_chromium_already_there_is_left_alone(tmp_path: Path) -> None:
    browser = tmp_path / "chromium"
    browser.write_text("#!/bin/sh\n", encoding="utf-8")
    browser.chmod(0o755)
    log = tmp_path / "apt.log"
    done = _run(tmp_path, f"echo called >> {log}", browser)
    assert done.returncode == 0
    assert not log.exists()
    assert (done.stdout, done.stderr) == ("", "")
