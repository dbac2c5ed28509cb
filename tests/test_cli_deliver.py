"""``ticketflow deliver``: the outbox to a webhook until stopped, at least once across a kill."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from receiver import Receiver

from ticketflow import Actor, Contact, Helpdesk, ManualClock
from ticketflow.cli import main
from ticketflow.storage import SQLiteStore

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ANA = Contact(name="Ana", email="ana@example.com")
SECRET = "a secret shared with the receiver"  # noqa: S105 - a test's own secret
WAIT = 30.0
"""The longest a test waits for the other side before it fails (never reached when it passes)."""


def _committed(path: Path, count: int) -> list[str]:
    """Open ``count`` tickets on a desk that writes the outbox; their records' ids."""
    with SQLiteStore(path) as store:
        desk = Helpdesk(store, ManualClock(START), outbox=True)
        return [
            f"{desk.open(subject=f'S{n}', description='d', requester=ANA).id}#1"
            for n in range(count)
        ]


def _deliver(database: Path, url: str, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "ticketflow", "deliver", "--db", str(database),
         "--webhook", url, "--secret-env", "HOOK_SECRET", "--interval", "50ms", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "HOOK_SECRET": SECRET},
    )  # fmt: skip


@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGINT"])
def test_deliver_sends_every_record_until_a_signal_then_exits_0(
    tmp_path: Path, signal_name: str
) -> None:
    database = tmp_path / "tickets.sqlite3"
    ids = _committed(database, 7)
    receiver = Receiver(lambda _n: (200, {}))
    try:
        process = _deliver(database, receiver.url, "--batch", "3")
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith(f"ticketflow deliver: to {receiver.url} as 'webhook', 3 a batch")
        while len(receiver.requests) < len(ids):
            time.sleep(0.02)
        process.send_signal(getattr(signal, signal_name))
        out, err = process.communicate(timeout=30)
    finally:
        receiver.close()
    assert process.returncode == 0, err
    assert out.splitlines()[-1] == "ticketflow deliver: stopped"
    assert err == f"ticketflow deliver: {signal_name}, stopping\n"
    assert [headers["Ticketflow-Id"] for headers, _body in receiver.requests] == ids


def test_deliver_without_its_secret_says_so_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "tickets.sqlite3"
    _committed(database, 1)
    monkeypatch.delenv("HOOK_SECRET", raising=False)
    code = main(
        ["deliver", "--db", str(database), "--webhook", "http://127.0.0.1:9/h",
         "--secret-env", "HOOK_SECRET"]
    )  # fmt: skip
    assert code == 2
    assert "--secret-env must be the name of a set environment variable" in capsys.readouterr().err


def test_deliver_refuses_a_url_it_cannot_send_to(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "tickets.sqlite3"
    _committed(database, 1)
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    code = main(
        ["deliver", "--db", str(database), "--webhook", "mailto:ana@example.com",
         "--secret-env", "HOOK_SECRET"]
    )  # fmt: skip
    assert code == 2
    assert "url must be an http:// or https:// URL" in capsys.readouterr().err


@pytest.mark.slow
def test_a_deliver_killed_mid_batch_and_started_again_delivers_every_record(
    tmp_path: Path,
) -> None:
    """SIGKILL while the receiver is slow: after a restart every record arrived, some twice.

    A killed deliver keeps the consumer for its lease (2 s here), then the
    next takes over.
    """
    database = tmp_path / "tickets.sqlite3"
    ids = _committed(database, 40)
    receiver = Receiver(lambda _n: (200, {}), delay=0.01)
    rng = random.Random(15)  # noqa: S311 - a moment to kill at, not a secret
    try:
        for _ in range(3):
            process = _deliver(database, receiver.url, "--batch", "10", "--lease", "2s")
            time.sleep(0.3 + rng.random() / 2)
            process.kill()
            process.communicate(timeout=30)
        process = _deliver(database, receiver.url, "--batch", "10", "--lease", "2s")
        assert process.stdout is not None
        # Its first line comes once it listens for signals: the killed ones may
        # have sent every record already, and a SIGTERM that lands while the
        # interpreter still starts ends it with -15 instead of a clean stop.
        assert process.stdout.readline().startswith("ticketflow deliver: to ")
        deadline = time.monotonic() + 60
        while not set(ids) <= {h["Ticketflow-Id"] for h, _b in receiver.requests}:
            assert time.monotonic() < deadline, "not every record arrived"
            time.sleep(0.05)
        process.terminate()
        _out, err = process.communicate(timeout=30)
        assert process.returncode == 0, err
    finally:
        receiver.close()
    received = [headers["Ticketflow-Id"] for headers, _body in receiver.requests]
    assert set(received) == set(ids)


def test_commands_go_on_while_deliver_waits_for_a_hanging_webhook(tmp_path: Path) -> None:
    database = tmp_path / "tickets.sqlite3"
    first = _committed(database, 1)[0].split("#")[0]
    hanging, release = threading.Event(), threading.Event()

    def answer(number: int) -> tuple[int, dict[str, str]]:
        if number == 1:  # the first post hangs until the commands are done
            hanging.set()
            release.wait(WAIT)
        return 200, {}

    receiver = Receiver(answer)
    try:
        process = _deliver(database, receiver.url, "--timeout", "40s")
        assert hanging.wait(WAIT), "deliver never posted"
        # timeout=0: a command that met a held write lock would fail at once.
        with SQLiteStore(database, timeout=0) as store:
            desk = Helpdesk(store, ManualClock(START), outbox=True)
            desk.note(first, Actor.admin("ad-1"), "Still here.")
            desk.open(subject="Meanwhile", description="d", requester=ANA)
            skipped = desk.outbox.drain(print, consumer="webhook")
        release.set()
        process.terminate()
        _out, err = process.communicate(timeout=30)
    finally:
        release.set()
        receiver.close()
    assert process.returncode == 0, err
    assert skipped.claimed is False  # the deliver holds the consumer, for its lease
