"""Checking input at the boundary: each checker returns the value normalised or raises.

Every public entry point runs what it is given through these before it acts,
so a bad value is refused with an :class:`InvalidInput` that names the field
and says what was expected, and nothing is changed.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Hashable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, TypeVar

from ticketflow._errors import InvalidInput

FieldValue = str | int | float | bool | None | tuple[str, ...]
"""What a custom field may hold: a JSON scalar, or a tuple of strings (multi-select)."""

INT_MIN, INT_MAX = -(2**63), 2**63 - 1
"""The integers a custom field may hold: what SQLite (and PostgreSQL's bigint) store."""

_UNICODE = "without lone surrogates such as '\\ud800' (valid Unicode)"
"""What text must be besides its shape: encodable as UTF-8, so that any store can keep it."""

E = TypeVar("E", bound=enum.Enum)


def to_utc(value: object, field: str) -> datetime:
    """Return ``value`` as an aware UTC datetime, refusing anything else.

    Naive datetimes are refused rather than guessed at: a naive time means
    whatever the machine's local zone is, and histories must not depend on that.

    >>> from datetime import timezone, timedelta
    >>> to_utc(datetime(2026, 1, 5, 9, 0, tzinfo=timezone(timedelta(hours=2))), "at")
    datetime.datetime(2026, 1, 5, 7, 0, tzinfo=datetime.timezone.utc)
    """
    if type(value) is datetime and value.tzinfo is UTC:
        return value  # the common case, already right
    if not isinstance(value, datetime):
        raise InvalidInput(field, value, "an aware datetime")
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise InvalidInput(field, value, "an aware datetime (with tzinfo), not a naive one")
    try:
        return value.astimezone(UTC)
    except OverflowError:  # datetime.max at a negative offset is past the end of time in UTC
        raise InvalidInput(
            field, value, "an aware datetime that UTC can represent, up to 9999-12-31 23:59:59"
        ) from None


def enum_value(kind: type[E], value: object, field: str) -> E:
    """Return ``value`` as a member of ``kind``, accepting the member or its value.

    Raises:
        InvalidInput: ``value`` names no member; the message lists the members.
    """
    if isinstance(value, kind):
        return value
    try:
        return kind(value)
    except (ValueError, TypeError):  # TypeError: an unhashable value
        choices = ", ".join(repr(member.value) for member in kind)
        raise InvalidInput(field, value, f"one of {choices}") from None


def valid_unicode(value: str) -> bool:
    r"""Whether ``value`` is valid Unicode: it holds no lone surrogate, so UTF-8 can encode it.

    Python strings may hold lone surrogates (``"\ud800"``, as decoding with
    ``surrogateescape`` leaves them); no database text column can.  Checking
    is on the path of every command, so ASCII, the common case, is answered
    without looking at the characters.

    >>> valid_unicode("Zoë 🛠"), valid_unicode("x\ud800")
    (True, False)
    """
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def text(value: object, field: str) -> str:
    """Return ``value`` if it is valid Unicode text with something in it besides white space."""
    if not isinstance(value, str) or not value or value.isspace():
        raise InvalidInput(field, value, "a non-empty string")
    if not value.isascii() and not valid_unicode(value):  # ASCII, the common case, needs no call
        raise InvalidInput(field, value, f"a non-empty string {_UNICODE}")
    return value


def optional_text(value: object, field: str) -> str | None:
    """Like :func:`text`, but None passes."""
    return None if value is None else text(value, field)


def tag_set(value: object, field: str = "tags") -> frozenset[str]:
    """Return tags as a frozenset of non-empty strings without surrounding white space."""
    if isinstance(value, str) or not isinstance(value, (set, frozenset, list, tuple)):
        raise InvalidInput(field, value, "a set of strings such as {'billing'}")
    for tag in value:
        if not isinstance(tag, str) or not tag.strip() or tag != tag.strip():
            raise InvalidInput(
                field, value, "tags that are non-empty strings without spaces around"
            )
        if not tag.isascii() and not valid_unicode(tag):
            raise InvalidInput(field, value, f"tags {_UNICODE}")
    return frozenset(value)


def _field_value(name: str, value: object) -> FieldValue:
    if isinstance(value, str):
        if not valid_unicode(value):
            raise InvalidInput(f"fields[{name!r}]", value, f"a string {_UNICODE}")
        return value
    if isinstance(value, int) and not INT_MIN <= value <= INT_MAX:
        raise InvalidInput(
            f"fields[{name!r}]",
            value,
            "an integer from -2**63 to 2**63 - 1 (what a database stores in 64 bits)",
        )
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidInput(f"fields[{name!r}]", value, "a finite number (not NaN or infinity)")
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
        if not all(valid_unicode(item) for item in value):
            raise InvalidInput(f"fields[{name!r}]", value, f"strings {_UNICODE}")
        return tuple(value)
    raise InvalidInput(
        f"fields[{name!r}]", value, "a str, int, float, bool, None, or a list of str"
    )


def field_map(value: object, field: str = "fields") -> Mapping[str, FieldValue]:
    """Return custom fields as a read-only mapping, checking every name and value."""
    if not isinstance(value, Mapping):
        raise InvalidInput(field, value, "a mapping of field names to values")
    checked: dict[str, FieldValue] = {}
    for name, item in value.items():
        checked[text(name, f"{field} name")] = _field_value(name, item)
    return MappingProxyType(checked)


def several(value: object, one: type | tuple[type, ...], field: str, expected: str) -> list[Any]:
    """``value`` as a list: one item of type ``one``, or a collection of hashable items.

    Raises:
        InvalidInput: ``value`` is neither (a bare number, a mapping, bytes...).
    """
    if isinstance(value, one):
        return [value]
    if not isinstance(value, Iterable) or isinstance(value, (str, bytes, Mapping)):
        raise InvalidInput(field, value, expected)
    items = list(value)
    if not all(isinstance(item, Hashable) for item in items):
        raise InvalidInput(field, value, expected)
    return items


def enum_set(kind: type[E], value: object, field: str) -> frozenset[E]:
    """One member of ``kind`` (or its value), or several, as a non-empty frozenset.

    Raises:
        InvalidInput: nothing given, or something that names no member.
    """
    choices = ", ".join(repr(member.value) for member in kind)
    items = several(value, (str, kind), field, f"one of {choices}, or several")
    if not items:
        raise InvalidInput(field, value, f"at least one of {choices}")
    return frozenset(enum_value(kind, item, field) for item in items)


def whole_number(value: object, field: str, *, optional: bool = False) -> int | None:
    """``value`` if it is an int, zero or more (or None, if ``optional``).

    Raises:
        InvalidInput: anything else (booleans included).
    """
    if value is None and optional:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidInput(
            field, value, ("None or " if optional else "") + "a whole number, zero or more"
        )
    return value


def positive_duration(value: object, field: str) -> timedelta:
    """``value`` if it is a timedelta longer than zero.

    Raises:
        InvalidInput: anything else.
    """
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise InvalidInput(field, value, "a positive timedelta")
    return value
