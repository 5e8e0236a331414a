"""Read back the SVG charts of ``cnnviz.svg.Chart``: marks mapped to numbers through the axis tick labels.

A test then checks a chart against numbers it computes itself, e.g. that a dot sits at the
loss torch gives, within a pixel or two. Works on one ``<svg>`` or on HTML holding several
(``figures.side_by_side_html``), inline or as ``data:`` images.
"""

from __future__ import annotations

import base64
import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import numpy as np

SVG = "{http://www.w3.org/2000/svg}"


def number(label: str) -> float:
    """A tick label ("−0.5", "1e-4") as a float."""
    return float(label.replace("−", "-"))


def _is_number(label: str) -> bool:
    try:
        number(label)
    except ValueError:
        return False
    return True


@dataclass
class Dot:
    x: float
    y: float
    colour: str
    hollow: bool
    hover: str


@dataclass
class Bar:
    """A bar's two ends along its value axis (``start`` at zero), and where it sits on the other axis in pixels."""

    start: float
    end: float
    across_px: float
    colour: str
    hover: str


class Chart:
    """One ``<svg>`` chart: its texts, and its marks in data units (log axes handled)."""

    def __init__(self, root: ET.Element):
        self.root = root
        (outline,) = [r for r in root.iter(f"{SVG}rect") if r.get("stroke") == "#d1d5db"]
        self.left, self.top, self.width, self.height = (float(outline.get(k)) for k in ("x", "y", "width", "height"))
        self.bottom = self.top + self.height
        texts = [t for t in root.iter(f"{SVG}text") if not t.get("transform")]  # all but the y axis title
        self.title = next((t.text for t in texts if t.get("font-weight")), "")
        ys = [t for t in texts if t.get("text-anchor") == "end"]
        xs = [t for t in texts if t.get("text-anchor") == "middle" and abs(float(t.get("y")) - self.bottom - 16) < 1]
        self.categories = [t.text for t in ys if not _is_number(t.text)]  # top to bottom
        self._category_px = [float(t.get("y")) - 4 for t in ys if not _is_number(t.text)]
        y_ticks = [(number(t.text), float(t.get("y")) - 4) for t in ys if _is_number(t.text)]
        self.y_log = self._is_logarithmic(y_ticks)
        self._y_axis = self._fit(y_ticks, self.y_log)
        self._x_axis = self._fit([(number(t.text), float(t.get("x"))) for t in xs], False)
        self.x_label = next((t.text for t in texts if t.get("text-anchor") == "middle"
                             and abs(float(t.get("y")) - self.bottom - 34) < 1), "")  # fmt: skip
        self.y_label = next((t.text for t in root.iter(f"{SVG}text") if t.get("transform")), "")
        self.legend = [t.text for t in texts if t.get("text-anchor") is None and not t.get("font-weight")]
        #: texts drawn inside the plot (``Chart.text`` marks): (x, y, words) in data units
        self.labels = [
            (self.x_value(float(t.get("x"))), self.y_value(float(t.get("y")) - 4), t.text)
            for t in root.find(f"{SVG}g").iter(f"{SVG}text")
        ]

    @staticmethod
    def _fit(ticks: list[tuple[float, float]], log: bool):
        """(scale, offset) of pixel = scale * value + offset (value as log10 on a log axis), from the ticks."""
        if len(ticks) < 2:
            return None
        values = np.array([math.log10(v) if log else v for v, _ in ticks])
        pixels = np.array([px for _, px in ticks])
        scale, offset = np.polyfit(values, pixels, 1)
        assert np.abs(scale * values + offset - pixels).max() < 0.2, "tick labels are not evenly spaced"
        return scale, offset

    @staticmethod
    def _is_logarithmic(ticks: list[tuple[float, float]]) -> bool:
        """Ticks evenly spaced in pixels but not in value: a log axis (its ticks are powers of ten)."""
        values = np.array([v for v, _ in ticks])
        return len(values) > 2 and bool(np.all(values > 0)) and not np.allclose(np.diff(values), values[1] - values[0])

    def x_value(self, px):
        scale, offset = self._x_axis
        return (np.asarray(px, float) - offset) / scale

    def y_value(self, px):
        if self._y_axis is None:
            return np.asarray(px, float)  # a category axis: keep pixels
        scale, offset = self._y_axis
        value = (np.asarray(px, float) - offset) / scale
        return 10**value if self.y_log else value

    def x_px(self, value):
        scale, offset = self._x_axis
        return scale * np.asarray(value, float) + offset

    def y_px(self, value):
        scale, offset = self._y_axis
        value = np.log10(np.asarray(value, float)) if self.y_log else np.asarray(value, float)
        return scale * value + offset

    def lines(self, colour: str) -> list[np.ndarray]:
        """Each run of each polyline in ``colour``, as (points, 2) arrays of (x, y) values."""
        runs = []
        for line in self.root.iter(f"{SVG}polyline"):
            if line.get("stroke") == colour:
                pixels = np.array([[float(v) for v in pair.split(",")] for pair in line.get("points").split()])
                runs.append(np.stack([self.x_value(pixels[:, 0]), self.y_value(pixels[:, 1])], axis=1))
        return runs

    def vlines(self, colour: str) -> list[float]:
        """x values of the full-height vertical lines in ``colour`` (grid lines have their own colours)."""
        group = self.root.find(f"{SVG}g")
        return [float(self.x_value(float(line.get("x1")))) for line in group.iter(f"{SVG}line")
                if line.get("stroke") == colour and line.get("x1") == line.get("x2")]  # fmt: skip

    def dots(self) -> list[Dot]:
        """The dots in drawing order, with their tooltips."""
        dots = []
        for circle in self.root.find(f"{SVG}g").iter(f"{SVG}circle"):
            x, y = float(self.x_value(float(circle.get("cx")))), float(self.y_value(float(circle.get("cy"))))
            title = circle.find(f"{SVG}title")
            hover = "" if title is None else title.text
            dots.append(Dot(x, y, circle.get("stroke"), circle.get("fill") == "none", hover))
        return dots

    def hbars(self) -> list[Bar]:
        """Horizontal bars, top to bottom: their ends in x values."""
        group = self.root.find(f"{SVG}g")
        bars = []
        for rect in group.iter(f"{SVG}rect"):
            x, width = float(rect.get("x")), float(rect.get("width"))
            zero = float(self.x_px(0.0))
            start, end = (x, x + width) if abs(x - zero) < abs(x + width - zero) else (x + width, x)
            title = rect.find(f"{SVG}title")
            across = float(rect.get("y")) + float(rect.get("height")) / 2
            bars.append(Bar(float(self.x_value(start)), float(self.x_value(end)), across, rect.get("fill"),
                            "" if title is None else title.text))  # fmt: skip
        return sorted(bars, key=lambda bar: bar.across_px)

    def category_at(self, px: float) -> str:
        """The category whose row is nearest to a y pixel."""
        return self.categories[int(np.argmin(np.abs(np.array(self._category_px) - px)))]


def charts(*markups: str) -> list[Chart]:
    """Every chart in ``markups``, in order: ``<svg>`` elements, and ``data:`` images of SVG (as pages
    show them: ``st.html`` drops inline SVG) inside HTML."""
    found = []
    for markup in markups:
        images = re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', markup)
        svgs = [base64.b64decode(image).decode() for image in images] or re.findall(r"<svg\b.*?</svg>", markup, re.S)
        found += [Chart(ET.fromstring(svg)) for svg in svgs]
    return found


def page_svgs(at) -> list[ET.Element]:
    """Every SVG an AppTest run drew (``ui.show_svg``: markdown elements), parsed, in page order."""
    return [
        ET.fromstring(svg) for element in at.markdown for svg in re.findall(r"<svg\b.*?</svg>", element.value, re.S)
    ]
