"""The Output size lesson's window diagrams, as SVG text drawn from ``cnnviz.windows`` layouts.

``window_svg`` draws where the windows land along one row, ``grid_svg`` the whole padded
input from above (the never-read rows and columns), ``transposed_svg`` where a transposed
convolution's windows land. Each is an SVG string that shrinks to fit its column: a browser
redraws it far faster than a plotly chart.
"""

from __future__ import annotations

import html
import math
import unicodedata
from dataclasses import dataclass

from cnnviz.windows import AxisLayout, TransposedLayout


@dataclass(frozen=True)
class AxisLabels:
    """The words in ``window_svg`` and ``grid_svg`` (pages pass them translated)."""

    padding: str = "padding (zeros)"
    pixel: str = "input pixel"
    unread: str = "never read"
    input_row: str = "input"
    windows_row: str = "windows"
    output_row: str = "output"


WINDOW_COLOURS = ("#2563eb", "#16a34a", "#9333ea", "#dc2626", "#0891b2", "#ca8a04")
PADDING_FILL, PIXEL_FILL, UNREAD_FILL, UNREAD_LINE = "#e5e7eb", "#dbeafe", "#fde68a", "#d97706"
_MAX_LANES = 6  # more would make the figure taller than a projector screen
_ROW_WIDTH = 880  # the cells' row at its natural size, in pixels, when cells of 20 to 30 fit in it
_LANE = 28  # one lane of windows
_GAP = 12  # between the input row, the lanes and the output row
_LEGEND = 30  # the legend's row at the top
_FONT = 13
_LABEL_COLOUR, _PIXEL_TEXT, _PADDING_TEXT = "#4b5563", "#1f2937", "#6b7280"


@dataclass(frozen=True)
class _Frame:
    """Where ``window_svg`` puts things, in its units (screen pixels at natural size)."""

    left: float  # the row labels' column
    pitch: float  # one input cell
    lanes: int

    @property
    def box(self) -> float:
        return self.pitch - 3  # a white gap between neighbouring squares

    @property
    def lanes_top(self) -> float:
        return _LEGEND + self.box + _GAP

    @property
    def output_top(self) -> float:
        return self.lanes_top + self.lanes * _LANE + _GAP

    def x(self, cell: float) -> float:
        """The left edge of padded cell ``cell`` (fractions for points inside it)."""
        return self.left + cell * self.pitch


def _text_width(text: str, font_px: float = _FONT) -> float:
    """Roughly how wide ``text`` is drawn: full width for CJK characters, about half otherwise."""
    return sum(1.0 if unicodedata.east_asian_width(char) in "WF" else 0.55 for char in text) * font_px


def _svg(width: float, height: float, body: list[str], font_px: int | None = None, units: float = 1.0) -> str:
    """An SVG, ``width`` x ``height`` pixels at its natural size, shrinking with a narrower
    column; its drawing has ``units`` units per pixel. Texts use the page's font."""
    font = f' font-size="{font_px}" font-family="inherit"' if font_px else ""
    # Texts never read smaller than 12 px (a projector): below that, the picture scrolls sideways.
    smallest = f"min-width:{math.ceil(min(width, width * 12 * units / font_px))}px;" if font_px else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="100%" style="max-width:{width:g}px;{smallest}height:auto" '
        f'viewBox="0 0 {width * units:g} {height * units:g}"{font}>{"".join(body)}</svg>'
    )


def _box(x: float, y: float, width: float, height: float, fill: str, line: str = "none", opacity: float = 1.0,
         rounded: bool = True) -> str:  # fmt: skip
    """A rectangle from its top-left corner; ``opacity`` is the fill's, the 2-unit outline stays solid."""
    corners = ' rx="2"' if rounded else ""
    faded = f' fill-opacity="{opacity:g}"' if opacity < 1 else ""
    outline = f' stroke="{line}" stroke-width="2"' if line != "none" else ""
    return f'<rect x="{x:g}" y="{y:g}" width="{width:g}" height="{height:g}"{corners} fill="{fill}"{faded}{outline}/>'


def _label(x: float, y: float, text: str, colour: str, anchor: str = "middle") -> str:
    """Text centred vertically on ``y``."""
    return (
        f'<text x="{x:g}" y="{y:g}" fill="{colour}" text-anchor="{anchor}" '
        f'dominant-baseline="central">{html.escape(text)}</text>'
    )


def _group(kind: str, *parts: str) -> str:
    """Shapes that draw one thing, under a class that names it (tests read the drawing by them)."""
    return f'<g class="{kind}">{"".join(parts)}</g>'


def _legend(x: float, entries: tuple[tuple[str, str, str, str], ...]) -> tuple[list[str], float]:
    """Swatches with their words, (kind, words, fill, outline) each, in a row starting at ``x``;
    and where the row ends."""
    parts = []
    for kind, name, fill, line in entries:
        swatch = _box(x, _LEGEND / 2 - 8, 16, 16, fill, line)
        words = _label(x + 22, _LEGEND / 2, name, _LABEL_COLOUR, "start")
        parts.append(_group(f"legend legend-{kind}", swatch, words))
        x += 22 + _text_width(name) + 22
    return parts, x - 22


def _input_cells(layout: AxisLayout, frame: _Frame) -> list[str]:
    """One numbered square per padded cell: padding grey with a 0, pixels blue, never-read amber."""
    unread = set(layout.unread)
    parts = []
    for index in range(len(layout.reads)):
        pixel = index - layout.padding + 1  # 1-based, as the lesson counts
        if not 1 <= pixel <= layout.size:
            kind, fill, line, text, colour = "padding", PADDING_FILL, "none", "0", _PADDING_TEXT
        elif index in unread:
            kind, fill, line, text, colour = "unread", UNREAD_FILL, UNREAD_LINE, str(pixel), _PIXEL_TEXT
        else:
            kind, fill, line, text, colour = "pixel", PIXEL_FILL, "none", str(pixel), _PIXEL_TEXT
        square = _box(frame.x(index) + 1.5, _LEGEND, frame.box, frame.box, fill, line)
        number = _label(frame.x(index + 0.5), _LEGEND + frame.box / 2, text, colour)
        parts.append(_group(f"cell {kind}", square, number))
    return parts


def _windows_and_outputs(layout: AxisLayout, frame: _Frame) -> list[str]:
    """Each window as a bar with a dot per kernel tap, in its lane, and its numbered output pixel."""
    parts = []
    for number, start in enumerate(layout.starts, start=1):
        colour = WINDOW_COLOURS[(number - 1) % len(WINDOW_COLOURS)]
        middle = frame.lanes_top + ((number - 1) % frame.lanes + 0.5) * _LANE
        bar = _box(frame.x(start) + 1.5, middle - 9, layout.span * frame.pitch - 3, 18, colour, colour, 0.18)
        taps = [f'<circle cx="{frame.x(start + tap + 0.5):g}" cy="{middle:g}" r="4.5" fill="{colour}"/>'
                for tap in layout.taps]  # fmt: skip
        parts.append(_group("window", bar, *taps))
        centre = frame.x(start + layout.span / 2)
        square = _box(centre - frame.box / 2, frame.output_top, frame.box, frame.box, colour)
        number_text = _label(centre, frame.output_top + frame.box / 2, str(number), "white")
        parts.append(_group("output", square, number_text))
    return parts


def window_svg(layout: AxisLayout, labels: AxisLabels | None = None) -> str:
    """Where the windows land along one row, as an SVG that shrinks to fit its column.

    Input cells (padding grey, never-read amber), each window as a bar with a dot per tap,
    and the output pixel each window produces, drawn below its window's centre. Windows are
    spread over a few lanes so that neighbours do not hide each other; colours cycle
    through ``WINDOW_COLOURS``. Cells narrow from 30 to 20 pixels as the input grows, so
    that up to 44 padded cells still show their numbers on a 1280-pixel screen.

    Returns:
        An ``<svg>`` whose groups carry classes: ``cell`` with ``padding``, ``pixel`` or
        ``unread``; ``window`` (bar and taps); ``output``; ``row-label``; ``legend`` with
        ``legend-padding``, ``legend-pixel`` or ``legend-unread``.
    """
    labels = labels or AxisLabels()
    padded = len(layout.reads)
    rows = (labels.input_row, labels.windows_row, labels.output_row)
    frame = _Frame(
        left=max(_text_width(row) for row in rows) + 16,
        pitch=min(30, max(20, _ROW_WIDTH // padded)),
        lanes=max(1, min(len(layout.starts), -(-layout.span // layout.stride), _MAX_LANES)),
    )
    legend, legend_end = _legend(frame.left, (("padding", labels.padding, PADDING_FILL, PADDING_FILL),
                                              ("pixel", labels.pixel, PIXEL_FILL, PIXEL_FILL),
                                              ("unread", labels.unread, UNREAD_FILL, UNREAD_LINE)))  # fmt: skip
    middles = (_LEGEND + frame.box / 2, frame.lanes_top + frame.lanes * _LANE / 2, frame.output_top + frame.box / 2)
    row_labels = [f'<g class="row-label">{_label(frame.left - 10, y, text, _LABEL_COLOUR, "end")}</g>'
                  for text, y in zip(rows, middles, strict=True)]  # fmt: skip
    body = [*legend, *row_labels, *_input_cells(layout, frame), *_windows_and_outputs(layout, frame)]
    width, height = max(frame.x(padded), legend_end) + 2, frame.output_top + frame.box + 2
    return _svg(width, height, body, _FONT)


def grid_svg(layout: AxisLayout, side_px: int = 170) -> str:
    """The whole padded input from above, as a ``side_px`` square SVG: padding grey, read
    pixels blue, never-read rows and columns amber (the colours of ``window_svg``).

    Returns:
        An ``<svg>`` in cell units (cell (row, col) spans x = col..col+1, y = row..row+1,
        padded coordinates); the never-read pixels are the stripes in ``<g class="unread">``,
        one per never-read row and one per never-read column, as ``read_map`` has them.
    """
    padded, first, size = len(layout.reads), layout.padding, layout.size
    body = [_box(0, 0, padded, padded, PADDING_FILL, rounded=False),
            _box(first, first, size, size, PIXEL_FILL, rounded=False)]  # fmt: skip
    stripes = [(first, cell, size, 1) for cell in layout.unread] + [(cell, first, 1, size) for cell in layout.unread]
    body.append(_group("unread", *(_box(*stripe, UNREAD_FILL, rounded=False) for stripe in stripes)))
    if padded <= 40:  # white lines between cells, one screen pixel wide, while there is room for them
        lines = "".join(f"M0 {i}H{padded}M{i} 0V{padded}" for i in range(1, padded))
        body.append(f'<path d="{lines}" stroke="white" stroke-width="{padded / side_px:.3g}"/>')
    return _svg(side_px, side_px, body, units=padded / side_px)


@dataclass(frozen=True)
class TransposedLabels:
    """The words in ``transposed_svg`` (pages pass them translated)."""

    cropped: str = "cropped (padding)"
    kept: str = "output pixel: how many windows add into it"
    extra: str = "added by output padding"
    input_row: str = "input"
    windows_row: str = "windows"
    output_row: str = "output"


CROPPED_FILL, KEPT_FILL, EXTRA_FILL, EXTRA_LINE = "#e5e7eb", "#dbeafe", "#dcfce7", "#16a34a"


def transposed_svg(layout: TransposedLayout, labels: TransposedLabels | None = None) -> str:
    """Where a transposed convolution's windows land along one row, as an SVG that shrinks to fit.

    Top: the m input pixels, each above the start of its window. Middle: each input pixel's
    window (a bar with a dot per tap) in its colour, spread over lanes. Bottom: the uncropped
    output, each cell numbered with how many windows add into it (the overlaps that make the
    checkerboard pattern when the stride does not divide the kernel); cells cropped by the
    padding are grey, those added by the output padding green-outlined.

    Returns:
        An ``<svg>`` whose groups carry classes: ``input`` (one per input pixel), ``window``,
        ``out-cell`` with ``cropped``, ``kept`` or ``extra`` (text: the number of writes),
        ``row-label``, ``legend``.
    """
    labels = labels or TransposedLabels()
    cells = len(layout.writes)
    rows = (labels.input_row, labels.windows_row, labels.output_row)
    frame = _Frame(
        left=max(_text_width(row) for row in rows) + 16,
        pitch=min(30, max(20, _ROW_WIDTH // cells)),
        lanes=max(1, min(layout.size, -(-layout.span // layout.stride), _MAX_LANES)),
    )
    legend, legend_end = _legend(frame.left, (("cropped", labels.cropped, CROPPED_FILL, CROPPED_FILL),
                                              ("kept", labels.kept, KEPT_FILL, KEPT_FILL),
                                              ("extra", labels.extra, EXTRA_FILL, EXTRA_LINE)))  # fmt: skip
    parts = [*legend]
    for number, start in enumerate(layout.starts, start=1):
        colour = WINDOW_COLOURS[(number - 1) % len(WINDOW_COLOURS)]
        square = _box(frame.x(start) + 1.5, _LEGEND, frame.box, frame.box, colour)
        parts.append(
            _group("input", square, _label(frame.x(start + 0.5), _LEGEND + frame.box / 2, str(number), "white"))
        )
        middle = frame.lanes_top + ((number - 1) % frame.lanes + 0.5) * _LANE
        bar = _box(frame.x(start) + 1.5, middle - 9, layout.span * frame.pitch - 3, 18, colour, colour, 0.18)
        taps = [f'<circle cx="{frame.x(start + tap + 0.5):g}" cy="{middle:g}" r="4.5" fill="{colour}"/>'
                for tap in layout.taps]  # fmt: skip
        parts.append(_group("window", bar, *taps))
    kept_end = layout.padding + layout.out
    for index, count in enumerate(layout.writes):
        if index < layout.padding or index >= kept_end:
            kind, fill, line, colour = "cropped", CROPPED_FILL, "none", _PADDING_TEXT
        elif index >= kept_end - layout.output_padding:  # kept only because output padding grew the row
            kind, fill, line, colour = "extra", EXTRA_FILL, EXTRA_LINE, _PIXEL_TEXT
        else:
            kind, fill, line, colour = "kept", KEPT_FILL, "none", _PIXEL_TEXT
        square = _box(frame.x(index) + 1.5, frame.output_top, frame.box, frame.box, fill, line)
        number_text = _label(frame.x(index + 0.5), frame.output_top + frame.box / 2, str(count), colour)
        parts.append(_group(f"out-cell {kind}", square, number_text))
    middles = (_LEGEND + frame.box / 2, frame.lanes_top + frame.lanes * _LANE / 2, frame.output_top + frame.box / 2)
    parts += [f'<g class="row-label">{_label(frame.left - 10, y, text, _LABEL_COLOUR, "end")}</g>'
              for text, y in zip(rows, middles, strict=True)]  # fmt: skip
    width, height = max(frame.x(cells), legend_end) + 2, frame.output_top + frame.box + 2
    return _svg(width, height, parts, _FONT)
