"""Pages of a long list and the opaque cursors that continue them (keyset paging).

A cursor names the last item of a page by its place in the list's order
(its sort key, ending with its id), never by a count of items skipped, so
items added meanwhile before that place do not shift the pages after it: a
walk through every page sees each item that existed when it began once,
whatever is created during the walk.  A cursor also carries a fingerprint
of the question asked (the filters, the order, the search text), so one
cannot continue a different list.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable
from typing import Any, TypeVar

from ticketflow._errors import InvalidInput

T = TypeVar("T")

_VERSION = 1
"""The cursor format; a cursor of another format is refused, never misread."""


class Page(list[T]):
    """One page of a listing: the items, as a list, and the cursor of the page after.

    A ``Page`` is a ``list`` (it compares and prints as one), so code that
    took the list a listing returned before paging existed keeps working;
    ``next`` is new.

    Attributes:
        next: pass it as ``after=`` to the same call for the following page;
            None when this page is the last (no item comes after it).

    >>> page = Page(["T-1", "T-2"], next="abc")
    >>> page == ["T-1", "T-2"], page.next
    (True, 'abc')
    """

    next: str | None

    def __init__(self, items: Iterable[T] = (), next: str | None = None) -> None:  # noqa: A002
        super().__init__(items)
        self.next = next


def fingerprint(kind: str, question: Any) -> str:
    """A short digest of what a listing was asked (JSON-able), which its cursors carry."""
    canonical = json.dumps([kind, question], sort_keys=True, default=str, ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def encode_cursor(kind: str, question: Any, key: list[Any]) -> str:
    """The cursor past the item whose sort key is ``key`` (JSON values), in listing ``kind``."""
    payload = json.dumps(
        {"v": _VERSION, "k": kind, "q": fingerprint(kind, question), "at": key},
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_cursor(cursor: object, kind: str, question: Any) -> list[Any]:
    """The sort key a cursor of listing ``kind`` holds, if it continues this very question.

    Raises:
        InvalidInput: ``cursor`` is not a cursor (not a string, damaged), or
            it was handed out by another listing or another question (other
            filters, order or text).
    """
    expected = f"a cursor from the 'next' of a page of this same {kind}, or None"
    if not isinstance(cursor, str) or not cursor.isascii():
        raise InvalidInput("after", cursor, expected)
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
    except (binascii.Error, ValueError):
        raise InvalidInput("after", cursor, expected) from None
    if (
        not isinstance(payload, dict)
        or payload.get("v") != _VERSION
        or not isinstance(payload.get("at"), list)
    ):
        raise InvalidInput("after", cursor, expected)
    if payload.get("k") != kind or payload.get("q") != fingerprint(kind, question):
        raise InvalidInput(
            "after",
            cursor,
            f"a cursor of this same {kind} (same filters, order and text); this one "
            "continues another",
        )
    key: list[Any] = payload["at"]
    return key
