"""Stored text printed on a terminal: control characters become visible escapes."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from ticketflow._display import printable


def test_newlines_tabs_and_escape_sequences_become_visible_escapes() -> None:
    assert printable("ok\n#2 forged\r\tx") == "ok\\n#2 forged\\r\\tx"
    assert printable("\x1b[2J\x00\x7f\x85\x9b") == "\\x1b[2J\\x00\\x7f\\x85\\x9b"


def test_invisible_reordering_and_line_separators_and_surrogates_are_escaped() -> None:
    assert printable("abc\u202edcb\u2028\u2029\u2066") == "abc\\u202edcb\\u2028\\u2029\\u2066"
    assert printable("x\ud800") == "x\\ud800"


def test_ordinary_text_prints_as_typed() -> None:
    for text in ("Invoice charged twice", "Zoë's café — 10 €", "C:\\temp\\x1b", "日本語 🎫", ""):
        assert printable(text) == text


@given(st.text())
def test_any_text_prints_as_one_line_without_control_characters(text: str) -> None:
    shown = printable(text)
    assert len(shown.splitlines()) <= 1
    assert not any(unicodedata.category(char) in ("Cc", "Cs", "Zl", "Zp") for char in shown)
    shown.encode("utf-8")  # lone surrogates, which no terminal can write, are gone
