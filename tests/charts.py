"""Read back the SVG the lessons draw, as a reader sees it.

Charts of ``cnnviz.drawing.charts.Chart`` become :class:`Chart`: its texts, and its marks in data units,
mapped through the axes' tick labels (a straight line through where they sit, or through their
log10 on a log axis, x or y), so a test checks what the chart shows against numbers it computes
itself. Other drawings (``cnnviz.windows``, ``activation_charts.units_grid``) stay parsed SVG
roots; :func:`groups` finds their class-tagged parts.

Pages draw SVG inside a ``ui.View``: a markdown element holding one ``<svg>`` or several side by
side, read with :func:`page_svgs` and :func:`page_charts`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import numpy as np

from cnnviz.drawing.charts import FONT_PX

SVG = "{http://www.w3.org/2000/svg}"
#: The colour of a plot's frame (``svg.Chart`` draws it as the one rectangle in this colour).
FRAME = "#d1d5db"
#: How far a tick label may sit from the straight line through the others, in pixels (they are
#: written to 0.1 px).
TICK_SLACK_PX = 0.2


def _number(label: str | None) -> float | None:
    """A tick label ("−0.5" with a true minus, "1e-4") as a float, or None for words."""
    try:
        return float((label or "").replace("−", "-"))
    except ValueError:
        return None


class Axis:
    """Pixels to values along one axis, through its tick labels: linear, or logarithmic when the
    labels sit evenly on the log of their values only (powers of ten, or 1, 2, 5 per decade)."""

    def __init__(self, ticks: list[tuple[float, float]]):
        values, pixels = np.array([v for v, _ in ticks], float), np.array([px for _, px in ticks], float)
        assert np.isfinite(values).all(), f"tick labels that are not numbers: {ticks}"
        self.log = False
        self._fit = None
        if len(ticks) < 2:
            return
        self._fit = self._line(values, pixels)
        if self._fit is None and np.all(values > 0):
            self.log = True
            self._fit = self._line(np.log10(values), pixels)
        assert self._fit is not None, f"tick labels {values.tolist()} lie on neither a linear nor a log scale"

    @staticmethod
    def _line(values: np.ndarray, pixels: np.ndarray) -> tuple[float, float] | None:
        """(scale, offset) of pixel = scale * value + offset, if every tick lies on it."""
        scale, offset = np.polyfit(values, pixels, 1)
        return (scale, offset) if np.abs(scale * values + offset - pixels).max() < TICK_SLACK_PX else None

    def value(self, px) -> np.ndarray:
        assert self._fit is not None, "an axis with fewer than two tick labels has no scale"
        scale, offset = self._fit
        value = (np.asarray(px, float) - offset) / scale
        return 10**value if self.log else value

    def px(self, value) -> np.ndarray:
        assert self._fit is not None, "an axis with fewer than two tick labels has no scale"
        scale, offset = self._fit
        value = np.asarray(value, float)
        if self.log:
            with np.errstate(divide="ignore", invalid="ignore"):
                value = np.log10(value)
        return scale * value + offset


@dataclass
class Dot:
    x: float
    y: float
    colour: str
    hollow: bool
    hover: str


@dataclass
class Bar:
    """A bar's two ends along its value axis (``start`` at the base: zero, or the bottom of a log
    axis), and where its middle sits on the other axis, in that axis' values."""

    start: float
    end: float
    across: float
    colour: str
    hover: str


class Chart:
    """One ``svg.Chart`` drawing: its texts, and its marks in data units.

    On a category axis (``hbars`` charts) the y values count rows from the top: 0 is the first
    category, 1 the next, and so on.
    """

    def __init__(self, root: ET.Element):
        self.root = root
        self.plot = root.find(f"{SVG}g")  # the marks; axes, bands and legend are outside it
        (frame,) = [r for r in root.iter(f"{SVG}rect") if r.get("stroke") == FRAME]
        self.left, self.top, self.width, self.height = (float(frame.get(k)) for k in ("x", "y", "width", "height"))
        self.right, self.bottom = self.left + self.width, self.top + self.height
        outside = [t for t in root.findall(f"{SVG}text") if not t.get("transform")]  # the y axis title aside
        #: every text written on the chart: title, tick labels, axis titles, legend, labels
        self.texts = [t.text for t in root.iter(f"{SVG}text")]
        self.title = next((t.text for t in outside if t.get("font-weight")), "")
        self.x_label = next((t.text for t in outside if self._below_plot(t, 2 * FONT_PX + 10)), "")
        self.y_label = next((t.text for t in root.findall(f"{SVG}text") if t.get("transform")), "")
        self.legend = [t.text for t in outside if t.get("text-anchor") is None and not t.get("font-weight")]
        y_ticks = [t for t in outside if t.get("text-anchor") == "end"]
        grid_rows = [line for line in root.findall(f"{SVG}line")  # a numeric y axis has them; legend swatches are short
                     if float(line.get("x1")) == self.left and float(line.get("x2")) == self.right]  # fmt: skip
        #: names along the y axis, top to bottom (a chart of ``hbars``); none on a numeric y axis
        self.categories = [t.text for t in y_ticks] if y_ticks and not grid_rows else []
        y_values = range(len(y_ticks)) if self.categories else [_number(t.text) for t in y_ticks]
        self.y = Axis([(v, float(t.get("y")) - 4) for v, t in zip(y_values, y_ticks, strict=True)])
        x_ticks = [(_number(t.text), float(t.get("x"))) for t in outside if self._below_plot(t, FONT_PX + 4)]
        self.x_ticks = [value for value, _ in x_ticks]  # the x axis' labels, as numbers
        self.x = Axis(x_ticks)

    def _below_plot(self, text: ET.Element, offset: float) -> bool:
        """A centred text ``offset`` pixels below the plot: x tick labels, the x axis title (as svg.Chart places them)."""
        return text.get("text-anchor") == "middle" and abs(float(text.get("y")) - self.bottom - offset) < 1

    @property
    def x_log(self) -> bool:
        return self.x.log

    @property
    def y_log(self) -> bool:
        return self.y.log

    def x_value(self, px) -> np.ndarray:
        return self.x.value(px)

    def y_value(self, px) -> np.ndarray:
        return self.y.value(px)

    def x_px(self, value) -> np.ndarray:
        return self.x.px(value)

    def y_px(self, value) -> np.ndarray:
        return self.y.px(value)

    def category_at(self, y: float) -> str:
        """The category of the row nearest to a y value."""
        return self.categories[int(np.clip(round(float(y)), 0, len(self.categories) - 1))]

    @property
    def labels(self) -> list[tuple[float, float, str]]:
        """The texts drawn inside the plot (``Chart.text`` marks): (x, y, words)."""
        return [
            (float(self.x_value(float(t.get("x")))), float(self.y_value(float(t.get("y")) - 4)), t.text)
            for t in self.plot.iter(f"{SVG}text")
        ]

    def lines(self, colour: str, dashed: bool | None = None) -> list[np.ndarray]:
        """Each run of each polyline in ``colour`` (only dashed ones, or only solid ones, if asked),
        as (points, 2) arrays of (x, y) values; NaN breaks a line into several runs."""
        runs = []
        for line in self.plot.iter(f"{SVG}polyline"):
            if line.get("stroke") == colour and dashed in (None, line.get("stroke-dasharray") is not None):
                pixels = np.array([[float(v) for v in pair.split(",")] for pair in line.get("points").split()])
                runs.append(np.stack([self.x_value(pixels[:, 0]), self.y_value(pixels[:, 1])], axis=1))
        return runs

    def swatch(self, entry: str) -> ET.Element:
        """The legend's mark for an entry: the element just before its text."""
        children = list(self.root)
        (at,) = [i for i, child in enumerate(children) if child.tag == f"{SVG}text" and child.text == entry]
        return children[at - 1]

    def legend_line(self, entry: str) -> np.ndarray:
        """The (points, 2) values of the one line a legend entry names (its swatch's colour and dashes)."""
        swatch = self.swatch(entry)
        (line,) = self.lines(swatch.get("stroke"), dashed=swatch.get("stroke-dasharray") is not None)
        return line

    def dots(self, colour: str | None = None) -> list[Dot]:
        """The dots in drawing order (of one colour, if given), with their tooltips."""
        found = []
        for circle in self.plot.iter(f"{SVG}circle"):
            if colour in (None, circle.get("stroke")):
                x, y = float(self.x_value(float(circle.get("cx")))), float(self.y_value(float(circle.get("cy"))))
                found.append(Dot(x, y, circle.get("stroke"), circle.get("fill") == "none", _hover(circle)))
        return found

    def bars(self) -> list[Bar]:
        """Vertical bars, left to right: their ends in y values."""
        return self._bars(vertical=True)

    def hbars(self) -> list[Bar]:
        """Horizontal bars, top to bottom: their ends in x values."""
        return self._bars(vertical=False)

    def _bars(self, vertical: bool) -> list[Bar]:
        along, across = (self.y, self.x) if vertical else (self.x, self.y)
        base = (self.bottom if vertical else self.left) if along.log else float(along.px(0.0))
        found = []
        for rect in self.plot.iter(f"{SVG}rect"):
            edge, length, side, thickness = (
                float(rect.get(k))
                for k in (("y", "height", "x", "width") if vertical else ("x", "width", "y", "height"))
            )
            start, end = _from_base(edge, edge + length, base)
            middle = side + thickness / 2
            bar = Bar(float(along.value(start)), float(along.value(end)), float(across.value(middle)),
                      rect.get("fill"), _hover(rect))  # fmt: skip
            found.append((middle, bar))
        return [bar for _, bar in sorted(found, key=lambda pair: pair[0])]

    def bands(self, fill: str) -> list[tuple[float, float]]:
        """The x ranges of the full-height shaded bands filled with ``fill``, in drawing order."""
        return [
            (float(self.x_value(float(r.get("x")))), float(self.x_value(float(r.get("x")) + float(r.get("width")))))
            for r in self.root.findall(f"{SVG}rect")
            if r.get("fill") == fill and abs(float(r.get("height")) - self.height) < 0.5
        ]

    def vlines(self, colour: str) -> list[float]:
        """x values of the full-height vertical lines in ``colour`` (grid lines have their own colours)."""
        return [float(self.x_value(float(line.get("x1")))) for line in self.plot.iter(f"{SVG}line")
                if line.get("stroke") == colour and line.get("x1") == line.get("x2")]  # fmt: skip


def within_pixels(read, expected, to_px, pixels: float = 1.0) -> None:
    """Values read off a chart are drawn within ``pixels`` of the expected ones along an axis
    (``to_px``: ``chart.x_px`` or ``chart.y_px``; on a log axis that bounds their ratio)."""
    np.testing.assert_allclose(to_px(read), to_px(expected), rtol=0, atol=pixels)


def _hover(mark: ET.Element) -> str:
    title = mark.find(f"{SVG}title")
    return "" if title is None else title.text


def _from_base(one: float, other: float, base: float) -> tuple[float, float]:
    """A bar's two edges (pixels) as (start, end): the start is the edge at its base."""
    return (one, other) if abs(one - base) < abs(other - base) else (other, one)


def _svgs(markup: str) -> list[ET.Element]:
    """Every ``<svg>`` in a string (one drawing, or HTML holding several side by side), parsed."""
    return [ET.fromstring(svg) for svg in re.findall(r"<svg\b.*?</svg>", markup, re.S)]


def charts(*markups: str) -> list[Chart]:
    """Every chart in ``markups``, in order."""
    return [Chart(root) for markup in markups for root in _svgs(markup)]


def page_svgs(at) -> list[ET.Element]:
    """Every SVG an AppTest run drew (inside ``ui.View`` markdown elements), parsed, in page order."""
    return [root for element in at.markdown for root in _svgs(element.value)]


def page_charts(at) -> list[Chart]:
    """Every chart an AppTest run drew, in page order (every SVG on the page must be a chart)."""
    return [Chart(root) for root in page_svgs(at)]


def groups(drawing: ET.Element, kind: str) -> list[ET.Element]:
    """The ``<g>`` elements of a drawing whose class list holds ``kind`` ("window", "cell", "unread"...)."""
    return [g for g in drawing.iterfind(f".//{SVG}g") if kind in g.get("class", "").split()]
