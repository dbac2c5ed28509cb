"""Charts drawn as inline SVG by hand: lines, grouped bars and a matrix, no dependency.

Each function returns one ``<svg>`` element as text, sized by its ``viewBox``
so that it scales with the page.  Every chart carries a ``<title>`` and a
``<desc>`` (``role="img"``, labelled by them) for screen readers, axis
labels, and a ``<title>`` on each mark (a point, a bar, a cell) that a
browser shows on hover; marks have the class ``mark``, so a test can count
them.  Colours come from the Okabe-Ito palette, which readers with colour
vision deficiencies can tell apart, and line series also differ by dash
pattern and marker shape.  All text is escaped: labels may be stored text.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from html import escape

import attrs

PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
"""Okabe-Ito colours, in the order series take them: the first four stand out from
white by 3:1 or more (WCAG's contrast for graphics), blue and vermillion first."""
_DASHES = ("", "6 3", "2 3", "8 3 2 3")
_WIDTH, _HEIGHT = 640, 300
_LEFT, _RIGHT, _TOP, _BOTTOM = 60, 16, 36, 58
_MOST_LABELS = 12
"""At most this many category labels under an axis: the others are skipped."""


def _values(values: Iterable[float | None]) -> tuple[float | None, ...]:
    return tuple(values)


@attrs.frozen
class Series:
    """One named row of values, one value per category (None: no value there)."""

    name: str
    values: tuple[float | None, ...] = attrs.field(converter=_values)


def _text(value: object) -> str:
    return escape(str(value), quote=True)


def _number(value: float, percent: bool) -> str:
    if percent:
        return f"{value:.0%}"
    return f"{value:g}" if value == int(value) else f"{value:.1f}"


_NOTHING = 1e-9
"""A top at or below this draws the axis from 0 to 1: the charts count tickets and shares."""


def nice_ticks(top: float, most: int = 5) -> list[float]:
    """Tick values from 0 to at least ``top``, steps of 1, 2 or 5 times a power of ten.

    >>> nice_ticks(7)
    [0, 2, 4, 6, 8]
    >>> nice_ticks(0)
    [0, 1]
    """
    if top <= _NOTHING:
        return [0, 1]
    rough = top / most
    power = 10 ** math.floor(math.log10(rough))
    step = next(power * factor for factor in (1, 2, 5, 10) if power * factor >= rough)
    count = math.ceil(top / step - 1e-9)
    # Twelve significant digits: 0.30000000000000004 is written 0.3, tiny tops stay tiny.
    return [
        float(f"{step * index:.12g}") if step < 1 else step * index for index in range(count + 1)
    ]


def _open(ident: str, title: str, description: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_WIDTH} {_HEIGHT}" '
        f'role="img" aria-labelledby="{ident}-title {ident}-desc" class="chart-svg">',
        f'<title id="{ident}-title">{_text(title)}</title>',
        f'<desc id="{ident}-desc">{_text(description)}</desc>',
    ]


def _axes(lines: list[str], ticks: list[float], x_label: str, y_label: str, percent: bool) -> None:
    """Grid lines and tick labels of the value axis, both axis lines and their labels."""
    bottom, right = _HEIGHT - _BOTTOM, _WIDTH - _RIGHT
    for tick in ticks:
        y = _y(tick, ticks[-1])
        lines.append(f'<line x1="{_LEFT}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" class="grid"/>')
        lines.append(
            f'<text x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">'
            f"{_number(tick, percent)}</text>"
        )
    lines.append(f'<line x1="{_LEFT}" y1="{bottom}" x2="{right}" y2="{bottom}" class="axis"/>')
    lines.append(f'<line x1="{_LEFT}" y1="{_TOP}" x2="{_LEFT}" y2="{bottom}" class="axis"/>')
    middle = (_LEFT + right) / 2
    lines.append(
        f'<text x="{middle:.1f}" y="{_HEIGHT - 8}" text-anchor="middle" class="label">'
        f"{_text(x_label)}</text>"
    )
    centre = (_TOP + bottom) / 2
    lines.append(
        f'<text x="14" y="{centre:.1f}" text-anchor="middle" class="label" '
        f'transform="rotate(-90 14 {centre:.1f})">{_text(y_label)}</text>'
    )


def _y(value: float, top: float) -> float:
    span = _HEIGHT - _BOTTOM - _TOP
    return _HEIGHT - _BOTTOM - span * (value / top if top else 0)


def _category_labels(lines: list[str], categories: Sequence[str], centres: list[float]) -> None:
    # Labels are about 6.2 px a character at 11 px: skip enough of them not to overlap.
    widest = 6.2 * max((len(name) for name in categories), default=0) + 12
    fits = max(1, int((_WIDTH - _LEFT - _RIGHT) / widest))
    every = max(1, math.ceil(len(categories) / min(_MOST_LABELS, fits)))
    for index, (name, x) in enumerate(zip(categories, centres, strict=True)):
        if index % every == 0:
            lines.append(
                f'<text x="{x:.1f}" y="{_HEIGHT - _BOTTOM + 16}" text-anchor="middle" '
                f'class="tick">{_text(name)}</text>'
            )


def _legend(lines: list[str], series: Sequence[Series], *, dashed: bool) -> None:
    x = _LEFT
    for index, item in enumerate(series):
        colour = PALETTE[index % len(PALETTE)]
        if dashed:
            dash = _DASHES[index % len(_DASHES)]
            lines.append(
                f'<line x1="{x}" y1="16" x2="{x + 22}" y2="16" stroke="{colour}" '
                f'stroke-width="3" stroke-dasharray="{dash}"/>'
            )
        else:
            lines.append(f'<rect x="{x + 6}" y="10" width="12" height="12" fill="{colour}"/>')
        lines.append(f'<text x="{x + 28}" y="20" class="legend">{_text(item.name)}</text>')
        x += 40 + 8 * len(item.name)


def _top(series: Sequence[Series], percent: bool) -> list[float]:
    if percent:
        return [0, 0.25, 0.5, 0.75, 1.0]
    values = [value for item in series for value in item.values if value is not None]
    return nice_ticks(max(values, default=0))


@attrs.frozen
class Plot:
    """What a line or bar chart shows: named series of values over categories.

    Attributes:
        ident: the chart's id in the page (its title and description ids derive from it).
        title: what it shows, for screen readers (the page's heading says it too).
        description: its figures in a sentence, for screen readers.
        categories: the labels along the horizontal axis.
        series: the values, one per category each.
        x_label, y_label: the axes' labels.
        percent: values are shares from 0 to 1, drawn as 0% to 100%.
    """

    ident: str
    title: str
    description: str
    categories: Sequence[str]
    series: Sequence[Series]
    x_label: str
    y_label: str
    percent: bool = False


def _frame(plot: Plot) -> tuple[list[str], list[float], float, list[float]]:
    """Open the drawing of ``plot``: its lines so far, its ticks, a category's width, centres."""
    ticks = _top(plot.series, plot.percent)
    lines = _open(plot.ident, plot.title, plot.description)
    _axes(lines, ticks, plot.x_label, plot.y_label, plot.percent)
    step = (_WIDTH - _LEFT - _RIGHT) / max(1, len(plot.categories))
    centres = [_LEFT + step * (index + 0.5) for index in range(len(plot.categories))]
    _category_labels(lines, plot.categories, centres)
    return lines, ticks, step, centres


def line_chart(plot: Plot) -> str:
    """A line per series over the categories, a marker on each value."""
    lines, ticks, _step, centres = _frame(plot)
    categories, series, percent = plot.categories, plot.series, plot.percent
    radius = 3.5 if len(categories) <= 60 else 1.5
    for index, item in enumerate(series):
        colour, dash = PALETTE[index % len(PALETTE)], _DASHES[index % len(_DASHES)]
        points = [
            (x, _y(value, ticks[-1]), category, value)
            for x, category, value in zip(centres, categories, item.values, strict=True)
            if value is not None
        ]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _c, _v in points)
        lines.append(
            f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.5" '
            f'stroke-dasharray="{dash}" stroke-linejoin="round"/>'
        )
        for x, y, category, value in points:
            tip = f"{category}: {item.name} {_number(value, percent)}"
            shape = (
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius}"'
                if index % 2 == 0
                else f'<rect x="{x - radius:.1f}" y="{y - radius:.1f}" '
                f'width="{2 * radius}" height="{2 * radius}"'
            )
            lines.append(f'{shape} fill="{colour}" class="mark"><title>{_text(tip)}</title>')
            lines.append("</circle>" if index % 2 == 0 else "</rect>")
    _legend(lines, series, dashed=True)
    lines.append("</svg>")
    return "\n".join(lines)


def bar_chart(plot: Plot) -> str:
    """Bars grouped by category, one bar per series, its value written above it."""
    lines, ticks, group, centres = _frame(plot)
    categories, series, percent = plot.categories, plot.series, plot.percent
    bar = group * 0.8 / max(1, len(series))
    floor = _HEIGHT - _BOTTOM
    for index, item in enumerate(series):
        colour = PALETTE[index % len(PALETTE)]
        for centre, category, value in zip(centres, categories, item.values, strict=True):
            if value is None:
                continue
            x = centre - group * 0.4 + bar * index
            y = _y(value, ticks[-1])
            tip = f"{category}: {item.name} {_number(value, percent)}"
            lines.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(bar - 1, 1):.1f}" '
                f'height="{max(floor - y, 0.5):.1f}" fill="{colour}" class="mark">'
                f"<title>{_text(tip)}</title></rect>"
            )
            if bar >= 18:
                lines.append(
                    f'<text x="{x + bar / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle" '
                    f'class="value">{_number(value, percent)}</text>'
                )
    if len(series) > 1:
        _legend(lines, series, dashed=False)
    lines.append("</svg>")
    return "\n".join(lines)


def matrix(
    ident: str,
    title: str,
    description: str,
    rows: Sequence[str],
    columns: Sequence[str],
    *,
    cells: Mapping[tuple[str, str], int],
    row_label: str,
    column_label: str,
) -> str:
    """A grid of counts, row by column, each cell shaded by its count and labelled with it."""
    left, top = 120, 70
    size_x = (_WIDTH - left - _RIGHT) / max(1, len(columns))
    size_y = min(34.0, (_HEIGHT * 1.6 - top - 16) / max(1, len(rows)))
    height = top + size_y * len(rows) + 16
    lines = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_WIDTH} {height:.0f}" '
        f'role="img" aria-labelledby="{ident}-title {ident}-desc" class="chart-svg">',
        f'<title id="{ident}-title">{_text(title)}</title>',
        f'<desc id="{ident}-desc">{_text(description)}</desc>',
        f'<text x="{left + (_WIDTH - left - _RIGHT) / 2:.1f}" y="14" text-anchor="middle" '
        f'class="label">{_text(column_label)}</text>',
        f'<text x="8" y="{top - 8}" class="label">{_text(row_label)}</text>',
    ]
    for index, column in enumerate(columns):
        x = left + size_x * (index + 0.5)
        lines.append(
            f'<text x="{x:.1f}" y="{top - 10}" text-anchor="middle" class="tick">'
            f"{_text(column)}</text>"
        )
    most = max(cells.values(), default=0)
    for row_index, row in enumerate(rows):
        y = top + size_y * row_index
        lines.append(
            f'<text x="{left - 6}" y="{y + size_y / 2 + 4:.1f}" text-anchor="end" class="tick">'
            f"{_text(row)}</text>"
        )
        for index, column in enumerate(columns):
            count = cells.get((row, column), 0)
            x = left + size_x * index
            if not count:
                lines.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{size_x - 2:.1f}" '
                    f'height="{size_y - 2:.1f}" class="empty"/>'
                )
                continue
            share = count / most if most else 0
            fill, ink = _shade(share)
            tip = f"{row} to {column}: {count}"
            lines.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{size_x - 2:.1f}" '
                f'height="{size_y - 2:.1f}" fill="{fill}" class="mark">'
                f"<title>{_text(tip)}</title></rect>"
            )
            lines.append(
                f'<text x="{x + size_x / 2 - 1:.1f}" y="{y + size_y / 2 + 3:.1f}" '
                f'text-anchor="middle" class="value {ink}">{count}</text>'
            )
    lines.append("</svg>")
    return "\n".join(lines)


def _shade(share: float) -> tuple[str, str]:
    """A blue from light to dark for ``share`` (0 to 1), and the class of the ink that reads on it.

    ``on-dark`` (white) or ``on-light`` (the page's ink): the page's style
    sets the colour, since a stylesheet's ``fill`` overrides an attribute's.
    """
    light, dark = (222, 235, 247), (8, 69, 148)
    level = 0.15 + 0.85 * share
    red, green, blue = (round(a + (b - a) * level) for a, b in zip(light, dark, strict=True))
    return f"#{red:02x}{green:02x}{blue:02x}", "on-dark" if level > 0.5 else "on-light"
