"""Charts drawn as SVG by hand: well-formed whatever the labels, one mark per value."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET

from hypothesis import given
from hypothesis import strategies as st

from ticketflow._svg import Plot, Series, bar_chart, line_chart, matrix, nice_ticks

SVG = "{http://www.w3.org/2000/svg}"
# What XML 1.0 can hold (no control characters, no surrogates or non-characters);
# markup characters and quotes included, since the functions must escape them.
labels = st.text(
    st.characters(exclude_categories=["Cc", "Cs", "Cn"]) | st.sampled_from("<>&\"'"),
    min_size=1,
    max_size=12,
)
values = st.one_of(st.none(), st.integers(0, 10_000), st.floats(0, 1))


def _marks(drawing: str) -> list[ET.Element]:
    root = ET.fromstring(drawing)  # noqa: S314 - our own output, parsed to check it is well-formed
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    return [element for element in root.iter() if "mark" in (element.get("class") or "").split()]


@given(
    categories=st.lists(labels, min_size=1, max_size=40),
    names=st.lists(labels, min_size=1, max_size=3),
    data=st.data(),
)
def test_line_and_bar_charts_are_well_formed_with_a_mark_per_value(
    categories: list[str], names: list[str], data: st.DataObject
) -> None:
    series = [
        Series(
            name,
            data.draw(st.lists(values, min_size=len(categories), max_size=len(categories))),
        )
        for name in names
    ]
    plot = Plot("c", "<title>", 'a "description"', categories, series, "x & y", "y < x")
    present = sum(value is not None for item in series for value in item.values)
    for draw in (line_chart, bar_chart):
        marks = _marks(draw(plot))
        assert len(marks) == present
        for mark in marks:
            (tip,) = mark.iter(f"{SVG}title")
            assert tip.text


@given(
    cells=st.dictionaries(st.tuples(labels, labels), st.integers(1, 500), min_size=1, max_size=20)
)
def test_a_matrix_has_a_shaded_mark_for_every_count(cells: dict[tuple[str, str], int]) -> None:
    rows = sorted({row for row, _column in cells})
    columns = sorted({column for _row, column in cells})
    drawing = matrix("m", "t", "d", rows, columns, cells=cells, row_label="r", column_label="c")
    marks = _marks(drawing)
    assert len(marks) == len(cells)
    assert all(mark.get("fill", "").startswith("#") for mark in marks)


@given(st.floats(0, 1e9))
def test_nice_ticks_start_at_zero_reach_the_top_and_step_evenly(top: float) -> None:
    ticks = nice_ticks(top)
    assert ticks[0] == 0
    assert ticks[-1] >= top
    assert 2 <= len(ticks) <= 7
    steps = [b - a for a, b in itertools.pairwise(ticks)]
    assert max(steps) - min(steps) <= 1e-9 * max(steps)
