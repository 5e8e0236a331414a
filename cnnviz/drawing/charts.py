"""Small charts as SVG text: lines, dots, bars and shaded bands on two axes, with a legend.

Why not plotly here: a browser redraws a plotly chart in ~65 ms after every slider move
(measured in chromium, see bench/RESULTS.md), an SVG of the same lines in ~2 ms. The
lessons' charts are simple (a few curves, some bars), so they are drawn as SVG and shown
with ``st.html``. Texts use ``currentColor``, so a chart follows the light or dark theme.

Build a ``Chart``, add marks in drawing order (first drawn is below), call ``svg()``:

    chart = Chart(x_label="x", y_label="f(x)")
    chart.band(-6, 0, "rgba(220,38,38,0.13)", legend="dead")
    chart.line(x, y, "#2563eb", legend="ReLU")
    html = chart.svg()
"""

from __future__ import annotations

import functools
import html
import itertools
import math
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

#: Text size at the chart's full width. A chart shrinks with a narrower column, down to
#: ``MIN_SCALE`` of its width, so its text never reads smaller than 12 px (a projector).
FONT_PX = 14
MIN_SCALE = 12 / FONT_PX
ZERO = "#9ca3af"
#: How grid lines and the zero lines are stroked: mid grey (faint for the grid), so they read on
#: a light and on a dark page alike.
GRID_LINE = f'stroke="{ZERO}" stroke-opacity="0.3"'
ZERO_LINE = f'stroke="{ZERO}"'
#: Rough width of a character at FONT_PX, to lay out the legend and the margins.
CHAR_PX = 0.55 * FONT_PX
_CLIP_IDS = itertools.count()


def nice_ticks(low: float, high: float, count: int = 6) -> list[float]:
    """About ``count`` round numbers (1, 2 or 5 times a power of ten apart) covering [low, high]."""
    return list(_nice_ticks(float(low), float(high), count))


@functools.lru_cache(maxsize=1024)  # a scrubbing view draws the same axes hundreds of times per frame set
def _nice_ticks(low: float, high: float, count: int) -> tuple[float, ...]:
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return (low,) if math.isfinite(low) else ()
    power = 10 ** math.floor(math.log10((high - low) / max(count - 1, 1)))
    steps = [m * power for m in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50)]

    def ticks_with(step: float) -> list[float]:
        first = math.ceil(low / step - 1e-9) * step
        return [round(first + i * step, 12) for i in range(int((high - first) / step + 1e-9) + 1)]

    # The step whose tick count is nearest ``count``; on a tie, the finer one.
    best = min(steps, key=lambda step: (abs(len(ticks_with(step)) - count), -len(ticks_with(step))))
    return tuple(0.0 if abs(t) < best * 1e-9 else t for t in ticks_with(best))


def tick_text(value: float) -> str:
    """A tick label: short, with a true minus sign."""
    text = f"{value:.4g}"
    return text.replace("-", "−") if value < 0 else text


def log_ticks(low: float, high: float) -> list[tuple[float, str]]:
    """Ticks of a log axis: powers of ten (every few when there are many), with 2 and 5 between
    them when the range spans less than two decades."""
    first, last = math.ceil(math.log10(low) - 1e-9), math.floor(math.log10(high) + 1e-9)
    every = max(1, math.ceil((last - first) / 7))
    values = [10.0**p for p in range(first, last + 1, every)]
    if last - first < 2:
        values = sorted(v * m for v in [10.0**p for p in range(first - 1, last + 1)] for m in (1, 2, 5))
        values = [v for v in values if low * (1 - 1e-9) <= v <= high * (1 + 1e-9)]
    return [(v, f"1e{round(math.log10(v))}" if v < 1e-3 or v >= 1e5 else f"{v:g}") for v in values]


def text_width(text: str) -> float:
    """About how wide ``text`` is at FONT_PX: Chinese characters are about twice a Latin letter."""
    return sum(2 * CHAR_PX if unicodedata.east_asian_width(char) in "WF" else CHAR_PX for char in str(text))


def _escape(text: str) -> str:
    return html.escape(str(text), quote=True)


@dataclass
class _Mark:
    kind: str  # "line", "dots", "bars", "band", "hline", "vline", "text"
    x: np.ndarray
    y: np.ndarray
    colour: str
    legend: str | None = None
    width: float = 2.0
    dashed: bool = False
    hollow: bool = False
    size: float = 4.0
    hover: Sequence[str] | None = None
    words: str = ""


@dataclass
class Chart:
    """A chart on x and y axes (numbers; ``categories`` for labelled bars), drawn by ``svg()``.

    Attributes:
        width, height: the chart's size in pixels (it shrinks with a narrower column, to ``MIN_SCALE``).
        x_range, y_range: the visible ranges; None fits the data (y with a little room).
        x_log, y_log: a logarithmic axis (values <= 0 are left out).
        x_whole: x counts something whole (steps, epochs): its ticks are whole numbers only.
        categories: names along the y axis for ``hbars`` charts, top to bottom.
    """

    width: int = 640
    height: int = 340
    title: str = ""
    x_label: str = ""
    y_label: str = ""
    x_range: tuple[float, float] | None = None
    y_range: tuple[float, float] | None = None
    x_log: bool = False
    y_log: bool = False
    x_whole: bool = False
    categories: list[str] | None = None
    marks: list[_Mark] = field(default_factory=list)

    # --- marks ------------------------------------------------------------------------------

    def line(self, x, y, colour: str, legend: str | None = None, width: float = 2.0, dashed: bool = False) -> Chart:
        """A polyline through (x, y); NaN and infinite points break it."""
        self.marks.append(_Mark("line", _floats(x), _floats(y), colour, legend, width, dashed))
        return self

    def dots(self, x, y, colour: str, legend: str | None = None, size: float = 4.0, hollow: bool = False,
             hover: Sequence[str] | None = None) -> Chart:  # fmt: skip
        """A dot at each (x, y); ``hover`` gives each dot a tooltip."""
        self.marks.append(_Mark("dots", _floats(x), _floats(y), colour, legend, size=size, hollow=hollow, hover=hover))
        return self

    def bars(self, x, heights, colour: str, legend: str | None = None, bar_width: float | None = None,
             hover: Sequence[str] | None = None) -> Chart:  # fmt: skip
        """Vertical bars from 0 to ``heights`` centred on ``x`` (``bar_width`` in x units)."""
        x = _floats(x)
        width = bar_width if bar_width is not None else (float(np.min(np.diff(np.sort(x)))) if len(x) > 1 else 1.0)
        self.marks.append(_Mark("bars", x, _floats(heights), colour, legend, width=width * 0.85, hover=hover))
        return self

    def hbars(self, values, colour: str, hover: Sequence[str] | None = None) -> Chart:
        """Horizontal bars, one per category (``categories``, top to bottom), from 0 to each value."""
        rows = np.arange(len(values), dtype=float)[::-1]  # the first category on top
        self.marks.append(_Mark("hbars", _floats(values), rows, colour, hover=hover))
        return self

    def band(self, x0: float, x1: float, fill: str, legend: str | None = None, legend_fill: str | None = None) -> Chart:
        """A shaded stretch of x over the whole height (e.g. where a slope is zero)."""
        self.marks.append(_Mark("band", _floats([x0, x1]), _floats([0, 0]), fill, legend, words=legend_fill or fill))
        return self

    def hline(self, y: float, colour: str = ZERO, dashed: bool = True, legend: str | None = None) -> Chart:
        self.marks.append(_Mark("hline", _floats([]), _floats([y]), colour, legend, 1.5, dashed))
        return self

    def vline(self, x: float, colour: str = ZERO, dashed: bool = True, legend: str | None = None) -> Chart:
        self.marks.append(_Mark("vline", _floats([x]), _floats([]), colour, legend, 1.5, dashed))
        return self

    def text(self, x: float, y: float, words: str, colour: str = "currentColor") -> Chart:
        """A label centred at (x, y)."""
        self.marks.append(_Mark("text", _floats([x]), _floats([y]), colour, words=words))
        return self

    # --- drawing ----------------------------------------------------------------------------

    def svg(self) -> str:
        """The chart as one ``<svg>`` element."""
        x_low, x_high = self._x_limits()
        y_low, y_high = self._y_limits()
        left = 14 + (FONT_PX + 6 if self.y_label else 0) + self._y_tick_width(y_low, y_high)
        legend_rows = self._legend_rows(self.width - left - 8)  # the legend starts at the plot's left edge
        top = 8 + (FONT_PX + 10 if self.title else 0)
        bottom = 22 + (FONT_PX + 8 if self.x_label else 0) + len(legend_rows) * (FONT_PX + 8)
        width, height = self.width - left - 14, self.height - top - bottom
        # Room for dots at the data's edges: the plot is clipped, and a dot centred on its edge would be cut in half.
        radius = max((m.size / 2 + 1.5 for m in self.marks if m.kind == "dots"), default=0.0)
        if radius and not (self.x_range or self.x_log or self.categories is not None):
            dots_x = _finite_span(np.concatenate([m.x for m in self.marks if m.kind == "dots"]))
            x_low, x_high = _widened(x_low, x_high, radius, width, *dots_x)
        if radius and not (self.y_range or self.y_log or self.categories is not None):
            dots_y = _finite_span(np.concatenate([m.y for m in self.marks if m.kind == "dots"]))
            y_low, y_high = _widened(y_low, y_high, radius, height, *dots_y)
        plot = _Frame(left, top, width, height, x_low, x_high, y_low, y_high, self.x_log, self.y_log, self.points_text)
        parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {self.width} {self.height}" '
            f'width="100%" style="max-width:{self.width}px;min-width:{math.ceil(self.width * MIN_SCALE)}px;height:auto;'
            f'font-size:{FONT_PX}px;font-family:inherit" '
            f'role="img">',
            f'<defs><clipPath id="{plot.clip_id}"><rect x="{plot.left}" y="{plot.top}" width="{plot.width}" '
            f'height="{plot.height}"/></clipPath></defs>',
        ]
        if self.title:
            parts.append(f'<text x="{left}" y="{8 + FONT_PX}" font-weight="600" fill="currentColor" '
                         f'font-size="{FONT_PX + 2}">{_escape(self.title)}</text>')  # fmt: skip
        parts += [plot.band(mark) for mark in self.marks if mark.kind == "band"]
        parts += self._axes(plot)
        parts.append(f'<g clip-path="url(#{plot.clip_id})">')
        parts += [plot.draw(mark) for mark in self.marks if mark.kind != "band"]
        parts.append("</g>")
        parts += self._legend(legend_rows, left, self.height - len(legend_rows) * (FONT_PX + 8) + FONT_PX - 2)
        parts.append("</svg>")
        return "".join(parts)

    def points_text(self, xs: np.ndarray, ys: np.ndarray) -> str:
        """A line's points (pixels) as a polyline's ``points``: "x,y" to 0.1 px (a subclass may leave some out)."""
        return _points(xs, ys)

    def _x_limits(self) -> tuple[float, float]:
        if self.x_range:
            return self.x_range
        if self.categories is not None:
            values = np.concatenate([m.x for m in self.marks if m.kind == "hbars"] or [np.zeros(1)])
            return min(0.0, float(np.nanmin(values))), max(float(np.nanmax(values)), 1e-12)
        xs = [m.x for m in self.marks if m.kind in ("line", "dots", "bars", "band", "vline", "text")]
        if self.x_log:
            return _decades(np.concatenate(xs) if xs else np.ones(1))
        low, high = _finite_span(np.concatenate(xs) if xs else np.zeros(1))
        padding = max((m.width for m in self.marks if m.kind == "bars"), default=0.0) / 2
        return low - padding, high + padding

    def _y_limits(self) -> tuple[float, float]:
        if self.y_range:
            return self.y_range
        if self.categories is not None:
            return -0.5, len(self.categories) - 0.5
        ys = [m.y for m in self.marks if m.kind in ("line", "dots", "hline", "text")]
        ys += [np.append(m.y, 0.0) for m in self.marks if m.kind == "bars"]
        values = np.concatenate(ys) if ys else np.zeros(1)
        if self.y_log:
            return _decades(values)
        low, high = _finite_span(values)
        room = (high - low) * 0.05
        return low - room, high + room

    def _y_ticks(self, low: float, high: float) -> list[tuple[float, str]]:
        if self.categories is not None:  # the first category on top
            return [(float(len(self.categories) - 1 - i), name) for i, name in enumerate(self.categories)]
        if self.y_log:
            return log_ticks(low, high)
        return [(t, tick_text(t)) for t in nice_ticks(low, high)]

    def _x_ticks(self, plot: _Frame) -> list[tuple[float, str]]:
        if self.x_log:
            return log_ticks(plot.x_low, plot.x_high)
        ticks = nice_ticks(plot.x_low, plot.x_high, max(3, int(plot.width // 70)))
        if self.x_whole:
            ticks = [t for t in ticks if t == int(t)] or list(range(math.ceil(plot.x_low), math.floor(plot.x_high) + 1))
        return [(t, tick_text(t)) for t in ticks]

    def _y_tick_width(self, low: float, high: float) -> float:
        return max((text_width(label) for _, label in self._y_ticks(low, high)), default=CHAR_PX) + 6

    def _axes(self, plot: _Frame) -> list[str]:
        parts = []
        for value, label in self._y_ticks(plot.y_low, plot.y_high):
            y = plot.y_px(value)
            if self.categories is None:
                stroke = ZERO_LINE if value == 0 and not self.y_log else GRID_LINE
                parts.append(f'<line x1="{plot.left}" x2="{plot.right}" y1="{y:.1f}" y2="{y:.1f}" {stroke}/>')
            parts.append(f'<text x="{plot.left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="currentColor">'
                         f"{_escape(label)}</text>")  # fmt: skip
        for value, label in self._x_ticks(plot):
            x = plot.x_px(value)
            stroke = ZERO_LINE if value == 0 else GRID_LINE
            parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{plot.top}" y2="{plot.bottom}" {stroke}/>')
            parts.append(f'<text x="{x:.1f}" y="{plot.bottom + FONT_PX + 4}" text-anchor="middle" '
                         f'fill="currentColor">{_escape(label)}</text>')  # fmt: skip
        parts.append(f'<rect x="{plot.left}" y="{plot.top}" width="{plot.width}" height="{plot.height}" '
                     'fill="none" stroke="#d1d5db"/>')  # fmt: skip
        if self.x_label:
            parts.append(f'<text x="{plot.left + plot.width / 2:.1f}" y="{plot.bottom + 2 * FONT_PX + 10}" '
                         f'text-anchor="middle" fill="currentColor">{_escape(self.x_label)}</text>')  # fmt: skip
        if self.y_label:
            middle = plot.top + plot.height / 2
            parts.append(f'<text transform="translate({4 + FONT_PX},{middle:.1f}) rotate(-90)" text-anchor="middle" '
                         f'fill="currentColor">{_escape(self.y_label)}</text>')  # fmt: skip
        return parts

    def _legend_rows(self, room: float) -> list[list[_Mark]]:
        """The legend's entries in rows no wider than ``room`` (a row's last gap of 8 may hang over)."""
        rows: list[list[_Mark]] = [[]]
        used = 0.0
        for mark in (m for m in self.marks if m.legend):
            width = 34 + text_width(mark.legend)
            if rows[-1] and used + width - 8 > room:
                rows.append([])
                used = 0.0
            rows[-1].append(mark)
            used += width
        return rows if rows[0] else []

    def _legend(self, rows: list[list[_Mark]], left: float, top: float) -> list[str]:
        parts = []
        for r, row in enumerate(rows):
            x, y = left, top + r * (FONT_PX + 8)
            for mark in row:
                parts.append(_swatch(mark, x, y - 4))
                parts.append(f'<text x="{x + 26}" y="{y}" fill="currentColor">{_escape(mark.legend)}</text>')
                x += 34 + text_width(mark.legend)
        return parts


@dataclass
class _Frame:
    """The plotting area in pixels and the data ranges it shows."""

    left: float
    top: float
    width: float
    height: float
    x_low: float
    x_high: float
    y_low: float
    y_high: float
    x_log: bool
    y_log: bool
    points_text: Callable[[np.ndarray, np.ndarray], str] = field(default=lambda xs, ys: _points(xs, ys))

    @property
    def right(self) -> float:
        return self.left + self.width

    @property
    def bottom(self) -> float:
        return self.top + self.height

    clip_id: str = field(default_factory=lambda: f"cnnviz-plot-{next(_CLIP_IDS)}")  # unique on a page

    def x_px(self, x):
        return self.left + _fraction(x, self.x_low, self.x_high, self.x_log) * self.width

    def y_px(self, y):
        return self.bottom - _fraction(y, self.y_low, self.y_high, self.y_log) * self.height

    def band(self, mark: _Mark) -> str:
        x0, x1 = sorted(float(v) for v in self.x_px(np.clip(mark.x, self.x_low, self.x_high)))
        return f'<rect x="{x0:.1f}" y="{self.top}" width="{x1 - x0:.1f}" height="{self.height}" fill="{mark.colour}"/>'

    def draw(self, mark: _Mark) -> str:
        if mark.kind == "line":
            dash = ' stroke-dasharray="6 4"' if mark.dashed else ""
            paths = [
                f'<polyline points="{self.points_text(self.x_px(mark.x[run]), self.y_px(mark.y[run]))}" fill="none" '
                f'stroke="{mark.colour}" stroke-width="{mark.width}"{dash} stroke-linejoin="round"/>'
                for run in _finite_runs(mark.x, self.y_px(mark.y))
            ]
            return "".join(paths)
        if mark.kind == "dots":
            fill = "none" if mark.hollow else mark.colour
            xs, ys = self.x_px(mark.x), self.y_px(mark.y)
            hover = mark.hover or [None] * len(xs)
            return "".join(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{mark.size / 2 + 0.5:.1f}" fill="{fill}" stroke="{mark.colour}">'
                + (f"<title>{_escape(tip)}</title>" if tip else "")
                + "</circle>"
                for x, y, tip in zip(xs, ys, hover, strict=True)
                if np.isfinite(x) and np.isfinite(y)
            )
        if mark.kind == "bars":
            return self._bars(mark)
        if mark.kind == "hbars":
            return self._hbars(mark)
        if mark.kind in ("hline", "vline"):
            dash = ' stroke-dasharray="5 4"' if mark.dashed else ""
            if mark.kind == "hline":
                y = float(self.y_px(mark.y[0]))
                return (
                    f'<line x1="{self.left}" x2="{self.right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{mark.colour}"{dash}/>'
                )
            x = float(self.x_px(mark.x[0]))
            return f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{self.top}" y2="{self.bottom}" stroke="{mark.colour}"{dash}/>'
        x, y = float(self.x_px(mark.x[0])), float(self.y_px(mark.y[0]))
        return (f'<text x="{x:.1f}" y="{y + 4:.1f}" text-anchor="middle" fill="{mark.colour}">'
                f"{_escape(mark.words)}</text>")  # fmt: skip

    def _bars(self, mark: _Mark) -> str:
        zero = float(self.y_px(self.y_low if self.y_log else min(max(0.0, self.y_low), self.y_high)))
        if self.x_log:  # a width in x units means nothing on a log axis: 85% of the narrowest pixel gap
            centres = np.sort(self.x_px(mark.x[mark.x > 0]))
            half = 0.85 * float(np.diff(centres).min()) / 2 if len(centres) > 1 else 6.0
        else:
            half = float(abs(self.x_px(mark.width) - self.x_px(0))) / 2
        hover = mark.hover or [None] * len(mark.x)
        parts = []
        for x, height, tip in zip(self.x_px(mark.x), self.y_px(mark.y), hover, strict=True):
            if not (np.isfinite(x) and np.isfinite(height)):
                continue
            top, size = min(height, zero), abs(zero - height)
            title = f"<title>{_escape(tip)}</title>" if tip else ""
            parts.append(f'<rect x="{x - half:.1f}" y="{top:.1f}" width="{2 * half:.1f}" height="{size:.1f}" '
                         f'fill="{mark.colour}">{title}</rect>')  # fmt: skip
        return "".join(parts)

    def _hbars(self, mark: _Mark) -> str:
        zero = float(self.x_px(0.0))
        half = self.height / max(self.y_high - self.y_low, 1) * 0.35
        hover = mark.hover or [None] * len(mark.x)
        parts = []
        for value, row, tip in zip(mark.x, mark.y, hover, strict=True):
            x, y = float(self.x_px(value)), float(self.y_px(row))
            title = f"<title>{_escape(tip)}</title>" if tip else ""
            parts.append(f'<rect x="{min(x, zero):.1f}" y="{y - half:.1f}" width="{abs(x - zero):.1f}" '
                         f'height="{2 * half:.1f}" fill="{mark.colour}">{title}</rect>')  # fmt: skip
        return "".join(parts)


def _swatch(mark: _Mark, x: float, y: float) -> str:
    if mark.kind in ("line", "hline", "vline"):
        dash = ' stroke-dasharray="5 3"' if mark.dashed else ""
        return (f'<line x1="{x}" x2="{x + 20}" y1="{y}" y2="{y}" stroke="{mark.colour}" '
                f'stroke-width="{min(mark.width, 3)}"{dash}/>')  # fmt: skip
    if mark.kind == "dots":
        fill = "none" if mark.hollow else mark.colour
        return f'<circle cx="{x + 10}" cy="{y}" r="4" fill="{fill}" stroke="{mark.colour}"/>'
    colour = mark.words if mark.kind == "band" else mark.colour
    return f'<rect x="{x + 3}" y="{y - 6}" width="14" height="12" fill="{colour}"/>'


def _fraction(values, low: float, high: float, log: bool) -> np.ndarray:
    """Where values sit between low (0) and high (1), on a linear or log scale (NaN for values <= 0 on log)."""
    values = np.asarray(values, float)
    if log:
        with np.errstate(divide="ignore", invalid="ignore"):
            values = np.where(values > 0, np.log10(np.where(values > 0, values, 1.0)), np.nan)
        low, high = math.log10(low), math.log10(high)
    return (values - low) / ((high - low) or 1.0)


def _decades(values: np.ndarray) -> tuple[float, float]:
    """The powers of ten just around the positive values (a log axis' range)."""
    positive = values[np.isfinite(values) & (values > 0)]
    low, high = (float(positive.min()), float(positive.max())) if positive.size else (1.0, 10.0)
    return 10 ** math.floor(math.log10(low) + 1e-12), 10 ** math.ceil(math.log10(high) - 1e-12)


def _widened(low: float, high: float, room_px: float, size_px: float, data_low: float, data_high: float
             ) -> tuple[float, float]:  # fmt: skip
    """The axis range ``low..high``, widened until the data ``data_low..data_high`` ends at least
    ``room_px`` pixels inside it on an axis of ``size_px`` pixels."""
    share = room_px / max(size_px, 1.0)
    for _ in range(8):  # widening one end moves the other's pixels: settles in a few rounds
        span = high - low or 1.0
        low, high = min(low, data_low - share * span), max(high, data_high + share * span)
    return low, high


def _floats(values) -> np.ndarray:
    return np.asarray(values, dtype=float).ravel()


def _finite_span(values: np.ndarray) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if not finite.size:
        return 0.0, 1.0
    low, high = float(finite.min()), float(finite.max())
    return (low - 0.5, high + 0.5) if high == low else (low, high)


def _finite_runs(x: np.ndarray, y_px: np.ndarray) -> list[slice]:
    """Slices of consecutive points where both coordinates are finite (a line breaks at the others)."""
    good = np.isfinite(x) & np.isfinite(y_px)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], good.astype(int), [0]])))
    return [slice(start, end) for start, end in zip(edges[::2], edges[1::2], strict=True) if end - start >= 2]


def _points(xs: np.ndarray, ys: np.ndarray) -> str:
    # Points farther than the plot's own size are clipped anyway; keep the numbers short.
    xs, ys = np.clip(xs, -1e5, 1e5), np.clip(ys, -1e5, 1e5)
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
