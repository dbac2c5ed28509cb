"""Signed webhooks against a real HTTP server on 127.0.0.1: failing, flapping, slow, refusing."""

from __future__ import annotations

import hashlib
import hmac
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from receiver import Answer, Receiver

from ticketflow import (
    Contact,
    Helpdesk,
    InvalidInput,
    ManualClock,
    MissingDependency,
    OutboxRecord,
    Webhook,
    _webhooks,
)
from ticketflow.storage import MemoryStore

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
SECRET = "a secret shared with the receiver"  # noqa: S105 - a test's own secret
ANA = Contact(name="Ana", email="ana@example.com")


@pytest.fixture
def serve() -> Iterator[Callable[..., Receiver]]:
    started: list[Receiver] = []

    def start(answer: Answer, delay: float = 0.0) -> Receiver:
        receiver = Receiver(answer, delay)
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.close()


def desk_with(records: int = 1) -> Helpdesk:
    desk = Helpdesk(MemoryStore(), ManualClock(START), outbox=True)
    for number in range(records):
        desk.open(subject=f"Ticket {number}", description="Hello.", requester=ANA)
    return desk


def verified(headers: dict[str, str], body: bytes) -> bool:
    """The receiver's check, as docs/notifications.md shows it."""
    timestamp = headers["Ticketflow-Timestamp"]
    expected = hmac.new(
        SECRET.encode(), timestamp.encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(headers["Ticketflow-Signature"], f"sha256={expected}")


def test_each_record_is_posted_as_its_json_signed_with_its_id_and_timestamp(
    serve: Callable[..., Receiver],
) -> None:
    receiver = serve(lambda _n: (204, {}))
    desk = desk_with(2)
    with Webhook(receiver.url, secret=SECRET, clock=desk.clock) as hook:
        report = desk.outbox.drain(hook, consumer="webhook")
    assert report.delivered == 2
    records = desk.outbox.read()
    assert [body for _headers, body in receiver.requests] == [r.data.encode() for r in records]
    for (headers, body), record in zip(receiver.requests, records, strict=True):
        assert headers["Ticketflow-Id"] == record.id
        assert headers["Ticketflow-Timestamp"] == str(int(START.timestamp()))
        assert headers["Content-Type"] == "application/json"
        assert verified(headers, body)
        assert not verified({**headers, "Ticketflow-Timestamp": "1"}, body)
        assert not verified(headers, body.replace(b"Ticket", b"Rocket"))


def test_a_failing_server_holds_the_record_and_a_flapping_one_gets_it_later(
    serve: Callable[..., Receiver],
) -> None:
    receiver = serve(lambda n: (503, {}) if n % 2 else (200, {}))
    desk = desk_with()
    with Webhook(receiver.url, secret=SECRET) as hook:
        first = desk.outbox.drain(hook, consumer="webhook")
        assert (first.failed, first.delivered) == (1, 0)
        desk.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]
        assert desk.outbox.drain(hook, consumer="webhook").delivered == 1
    assert len(receiver.requests) == 2


def test_a_refused_request_is_dead_at_once_but_408_and_429_are_tried_again(
    serve: Callable[..., Receiver],
) -> None:
    statuses = iter([410, 408, 429, 400])
    receiver = serve(lambda _n: (next(statuses), {}))
    desk = desk_with(4)
    with Webhook(receiver.url, secret=SECRET) as hook:
        report = desk.outbox.drain(hook, consumer="webhook")
    assert (report.dead, report.failed) == (2, 2)
    errors = [held.error for held in desk.outbox.dead("webhook")]
    assert [error and error.split(" answered ")[1][:3] for error in errors] == ["410", "400"]


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        (format_datetime(START + timedelta(minutes=5), usegmt=True), 300.0),
        ("soon", 5.0),  # not understood: the backoff alone
    ],
)
def test_retry_after_sets_the_earliest_next_try(
    serve: Callable[..., Receiver], header: str, seconds: float
) -> None:
    from ticketflow import Backoff  # noqa: PLC0415 - one test's need

    receiver = serve(lambda _n: (503, {"Retry-After": header}))
    desk = desk_with()
    with Webhook(receiver.url, secret=SECRET, clock=desk.clock) as hook:
        desk.outbox.drain(hook, consumer="webhook", backoff=Backoff(jitter=0))
    desk.clock.advance(timedelta(seconds=seconds - 1))  # type: ignore[attr-defined]
    with Webhook(receiver.url, secret=SECRET, clock=desk.clock) as hook:
        assert desk.outbox.drain(hook, consumer="webhook").handled == 0
        desk.clock.advance(timedelta(seconds=1))  # type: ignore[attr-defined]
        assert desk.outbox.drain(hook, consumer="webhook").handled == 1


def test_a_slow_server_times_out_and_the_record_is_tried_again(
    serve: Callable[..., Receiver],
) -> None:
    receiver = serve(lambda _n: (200, {}), delay=1.0)
    desk = desk_with()
    with Webhook(receiver.url, secret=SECRET, timeout=0.2) as hook:
        report = desk.outbox.drain(hook, consumer="webhook")
    assert report.failed == 1
    (state,) = desk.outbox.consumers()
    assert state.held == 1


def test_a_server_that_refuses_connections_fails_the_record_for_later() -> None:
    with socket.socket() as probe:  # a port nothing listens on once it is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    desk = desk_with()
    failures: list[str] = []

    def kept(record: OutboxRecord) -> None:
        try:
            hook(record)
        except Exception as error:
            failures.append(str(error))
            raise

    with Webhook(f"http://127.0.0.1:{port}/hook", secret=SECRET) as hook:
        report = desk.outbox.drain(kept, consumer="webhook")
    assert report.failed == 1
    assert "ConnectError" in failures[0]
    assert "it will be tried again" in failures[0]


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"url": "ftp://example.com", "secret": SECRET}, "url"),
        ({"url": 7, "secret": SECRET}, "url"),
        ({"url": "http://exa mple.com:x/", "secret": SECRET}, "url"),
        ({"url": "http://example.com", "secret": "short"}, "secret"),
        ({"url": "http://example.com", "secret": SECRET, "timeout": 0}, "timeout"),
    ],
)
def test_bad_arguments_are_refused_by_name(arguments: dict[str, object], field: str) -> None:
    url = arguments.pop("url")
    with pytest.raises(InvalidInput) as refused:
        Webhook(url, **arguments)  # type: ignore[arg-type]
    assert refused.value.field == field
    assert SECRET not in str(refused.value)


def test_without_httpx_a_webhook_says_which_extra_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_webhooks, "_MISSING", ImportError("No module named 'httpx'"))
    with pytest.raises(MissingDependency, match=r'pip install "ticketflow\[webhooks\]"'):
        Webhook("http://example.com", secret=SECRET)
