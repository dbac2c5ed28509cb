"""Signed webhooks: an outbox handler that POSTs each record as JSON to a URL.

Needs httpx, the ``webhooks`` extra (``pip install "ticketflow[webhooks]"``);
it is imported here only, so the rest of ticketflow works without it.

Each request carries the record's JSON as its body and three headers:
``Ticketflow-Id`` (the record's id, the receiver's idempotency key),
``Ticketflow-Timestamp`` (Unix seconds when it was sent) and
``Ticketflow-Signature`` (``sha256=`` and the hex HMAC-SHA256, under the shared
secret, of the timestamp, a dot, and the body), so a receiver can tell the
request came from the desk and is recent.  A 2xx answer delivers the record;
a timeout, a network error, 408, 429 or 5xx fails it for the outbox to try
again (after ``Retry-After`` at the earliest, when the server sends one); any
other answer sets it aside as dead at once, since sending it again would not
help.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

from ticketflow._clock import Clock, SystemClock
from ticketflow._errors import DeliveryFailed, InvalidInput, MissingDependency
from ticketflow._validate import to_utc
from ticketflow.storage._outbox import OutboxRecord

try:
    import httpx
except ImportError as missing:  # ticketflow works without the extra; only webhooks need it
    _MISSING: ImportError | None = missing
else:
    _MISSING = None

ID_HEADER = "Ticketflow-Id"
TIMESTAMP_HEADER = "Ticketflow-Timestamp"
SIGNATURE_HEADER = "Ticketflow-Signature"

_RETRIED = frozenset({408, 429})
"""The 4xx answers that say "not now" rather than "never"."""

_MOST_WAIT = 86_400.0
"""The longest Retry-After taken at its word, in seconds (a day)."""


def signature(secret: bytes, timestamp: int, body: bytes) -> str:
    """The ``Ticketflow-Signature`` of a request: ``sha256=`` and the hex HMAC."""
    digest = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


class Webhook:
    """An outbox handler that POSTs each record, signed, to ``url``.

    >>> hook = Webhook("https://hooks.example.com/tickets", secret="a long shared secret")
    >>> hook.url
    'https://hooks.example.com/tickets'
    >>> hook.close()

    Use it with :meth:`Outbox.drain`::

        with Webhook(url, secret=os.environ["HOOK_SECRET"]) as hook:
            desk.outbox.drain(hook, consumer="webhook")

    Args:
        url: where to POST: an ``http://`` or ``https://`` URL.
        secret: the shared secret the signature is made with (text or bytes,
            at least 16 bytes).
        timeout: seconds to wait to connect, and then for each read and write.
        clock: where the timestamp comes from (``SystemClock()`` by default).
        transport: an ``httpx`` transport to send through instead of the
            network (for tests: ``httpx.MockTransport``).

    Raises:
        MissingDependency: httpx is not installed.
        InvalidInput: a bad argument.
    """

    def __init__(
        self,
        url: str,
        *,
        secret: str | bytes,
        timeout: float = 10.0,
        clock: Clock | None = None,
        transport: Any = None,
    ) -> None:
        if _MISSING is not None:
            raise MissingDependency("httpx", "webhooks")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise InvalidInput("url", url, "an http:// or https:// URL")
        if isinstance(secret, str):
            secret = secret.encode()
        if not isinstance(secret, bytes) or len(secret) < 16:
            raise InvalidInput("secret", "***", "text or bytes of at least 16 bytes")
        if (
            not isinstance(timeout, (int, float))
            or isinstance(timeout, bool)
            or not 0 < timeout <= 600  # NaN too
        ):
            raise InvalidInput("timeout", timeout, "a number of seconds above 0, at most 600")
        self.url = url
        self._secret = secret
        self._clock = clock if clock is not None else SystemClock()
        try:
            self._client = httpx.Client(
                timeout=httpx.Timeout(float(timeout)),
                transport=transport,
                follow_redirects=False,
                headers={"User-Agent": "ticketflow-webhook"},
            )
            self._client.build_request("POST", url)
        except (httpx.InvalidURL, httpx.UnsupportedProtocol, TypeError) as error:
            raise InvalidInput("url", url, f"a URL httpx can send to ({error})") from None

    def __call__(self, record: OutboxRecord) -> None:
        """POST ``record``; return if the server took it, else raise :class:`DeliveryFailed`."""
        body = record.data.encode()
        now = to_utc(self._clock.now(), "clock.now()")
        timestamp = math.floor(now.timestamp())
        headers = {
            "Content-Type": "application/json",
            ID_HEADER: record.id,
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: signature(self._secret, timestamp, body),
        }
        try:
            answer = self._client.post(self.url, content=body, headers=headers)
        except httpx.TimeoutException:
            raise DeliveryFailed(record.id, f"{self.url} did not answer in time") from None
        except httpx.HTTPError as error:
            reason = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
            raise DeliveryFailed(record.id, f"{self.url}: {reason}") from None
        status = answer.status_code
        if 200 <= status < 300:
            return
        said = f"{self.url} answered {status} {answer.reason_phrase}".rstrip()
        if status in _RETRIED or status >= 500:
            after = _retry_after(answer.headers.get("Retry-After"), now)
            raise DeliveryFailed(record.id, said, after=after)
        raise DeliveryFailed(record.id, said, retry=False)

    def close(self) -> None:
        """Close the connections it keeps open."""
        self._client.close()

    def __enter__(self) -> Webhook:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Webhook {self.url!r}>"


def _retry_after(value: str | None, now: datetime) -> float | None:
    """The seconds a ``Retry-After`` header asks for (a number, or an HTTP date), if any."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), _MOST_WAIT)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return min(max((when - now).total_seconds(), 0.0), _MOST_WAIT)
