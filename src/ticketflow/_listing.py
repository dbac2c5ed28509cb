"""Listing tickets page by page: ``find`` and ``search`` with cursors, over a store.

Each page asks the store for one ticket more than it shows: if that one
exists, the page's ``next`` cursor points past the last ticket shown; if
not, the listing is over and ``next`` is None.  The cursor holds the last
ticket's sort key (keyset paging, see :mod:`ticketflow._paging`), which the
store turns into a range of its index, never an offset.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from ticketflow._errors import InvalidInput
from ticketflow._paging import Page, decode_cursor, encode_cursor
from ticketflow._ticket import Ticket
from ticketflow._validate import whole_number
from ticketflow.storage import Store, TicketQuery
from ticketflow.storage._search import SearchQuery


def _filters(query: TicketQuery) -> dict[str, Any]:
    """What a query's filters ask, as JSON values: the part of a listing's question they are."""
    return {
        "statuses": None if query.statuses is None else sorted(query.statuses),
        "assignee": query.assignee,
        "department": query.department,
        "requester": query.requester,
        "tags": sorted(query.tags),
        "due": None if query.due is None else [query.due[0], query.due[1].isoformat()],
    }


def _bad_key(cursor: str) -> InvalidInput:
    return InvalidInput("after", cursor, "a cursor from the 'next' of a page, as it was given")


def _instant(value: object, cursor: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            instant = datetime.fromisoformat(value)
        except ValueError:
            raise _bad_key(cursor) from None
        if instant.tzinfo is not None:
            return instant
    raise _bad_key(cursor)


def find(store: Store, query: TicketQuery, after: str | None) -> Page[Ticket]:
    """One page of ``query`` (its limit is the page's size), starting past ``after``."""
    question = {**_filters(query), "order_by": query.order_by, "descending": query.descending}
    position = None
    if after is not None:
        key = decode_cursor(after, "find", question)
        if len(key) != 2 or not isinstance(key[1], str):
            raise _bad_key(after)
        position = (_instant(key[0], after), key[1])
    size = query.limit
    asked = attrs.evolve(query, limit=None if size is None else size + 1, after=position)
    found = store.query(asked)
    if size is None or len(found) <= size or size == 0:
        return Page(found[:size] if size is not None else found)
    shown = found[:size]
    value, last_id = asked.position(shown[-1])
    key = [None if value is None else value.isoformat(), last_id]
    return Page(shown, next=encode_cursor("find", question, key))


def search(
    store: Store, text: str, filters: TicketQuery, limit: int | None, after: str | None
) -> Page[Ticket]:
    """One page of the tickets holding every word of ``text``, best first, past ``after``."""
    whole_number(limit, "limit", optional=True)
    probe = SearchQuery(text, filters)  # checks the text and filters before the cursor
    question = {**_filters(filters), "text": text}
    position = None
    if after is not None:
        key = decode_cursor(after, "search", question)
        if (
            len(key) != 2
            or not isinstance(key[0], (int, float))
            or isinstance(key[0], bool)
            or not isinstance(key[1], str)
        ):
            raise _bad_key(after)
        position = (float(key[0]), key[1])
    asked = SearchQuery(
        probe.text, filters, limit=None if limit is None else limit + 1, after=position
    )
    found = store.search(asked)
    if limit is None or len(found) <= limit or limit == 0:
        return Page(ticket for _, ticket in found[:limit])
    shown = found[:limit]
    last_score, last = shown[-1]
    return Page(
        (ticket for _, ticket in shown),
        next=encode_cursor("search", question, [last_score, last.id]),
    )
