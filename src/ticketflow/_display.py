"""Stored text, made safe to print on one line of a terminal.

Subjects, replies, names and tags come from customers.  Printed raw, a
newline in a reply starts a line that looks like ticketflow's own output, and
an escape sequence clears or rewrites the screen.  Every command-line output
and plain-text report passes stored text through :func:`printable` first.
"""

from __future__ import annotations

_INVISIBLE = (
    0x061C,  # Arabic letter mark
    0x200E,  # left-to-right mark
    0x200F,  # right-to-left mark
    *range(0x202A, 0x202F),  # bidirectional embeddings and overrides
    *range(0x2066, 0x206A),  # bidirectional isolates
    0x2028,  # line separator
    0x2029,  # paragraph separator
    *range(0xD800, 0xE000),  # lone surrogates, which no terminal encoding can write
)

_ESCAPES: dict[int, str] = {
    **{code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F, *range(0x80, 0xA0))},
    ord("\t"): "\\t",
    ord("\n"): "\\n",
    ord("\r"): "\\r",
    **{code: f"\\u{code:04x}" for code in _INVISIBLE},
}


def printable(text: str) -> str:
    r"""Return ``text`` for one line of output: control characters as visible escapes.

    C0 and C1 control characters and DEL (newlines and tabs too), the
    characters that reorder text or break lines invisibly, and lone
    surrogates are written as ``repr`` writes them (``\n``, ``\x1b``,
    ``\u202e``); everything else, backslashes included, is left as typed, so
    ordinary text prints unchanged.

    >>> print(printable("ok\n#2   2026-01-05 09:00  close\x1b[2J"))
    ok\n#2   2026-01-05 09:00  close\x1b[2J
    """
    return text.translate(_ESCAPES)
