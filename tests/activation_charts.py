"""Read back the Activation lesson's SVG charts as a reader does: the axes' tick labels give the scales.

Pixels are turned into data through a straight line fitted to where the tick labels sit (on log10 of
the labels for a log axis, x or y), so a test checks what the chart shows, not how it was computed.
(tests/charts.py reads other charts but has no log x axis, which the dead-units chart uses.)
"""

from __future__ import annotations

import base64
import re
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass

import numpy as np

SVG = "{http://www.w3.org/2000/svg}"


def number(text: str | None) -> float | None:
    """A tick label as a number ("−2" with a true minus, "1e-5", "0.01"), or None for words."""
    try:
        return float((text or "").replace("−", "-"))
    except ValueError:
        return None


class Scale:
    """Pixels to data along one axis, fitted through its tick labels."""

    def __init__(self, pixels: list[float], labels: list[float], log: bool):
        self.log = log
        values = np.log10(labels) if log else np.asarray(labels)
        self.slope, self.offset = np.polyfit(pixels, values, 1)
        assert np.abs(self.slope * np.asarray(pixels) + self.offset - values).max() < 0.01 * np.ptp(values)

    def value(self, pixels) -> np.ndarray:
        """Data at these pixels (on a log axis the values themselves, not their log10)."""
        values = self.slope * np.asarray(pixels, dtype=float) + self.offset
        return 10**values if self.log else values

    @property
    def per_pixel(self) -> float:
        """What one pixel is worth in data units (in log10 units on a log axis)."""
        return abs(float(self.slope))


@dataclass
class Line:
    colour: str
    dashed: bool
    x_px: np.ndarray
    y_px: np.ndarray


class ReadChart:
    """One chart's texts, marks and axis scales, from its SVG text."""

    def __init__(self, text: str, x_log: bool = False, y_log: bool = False):
        self.root = ET.fromstring(text)
        self.texts = list(self.root.iter(f"{SVG}text"))
        x_ticks = [t for t in self.texts if t.get("text-anchor") == "middle" and number(t.text) is not None]
        row = Counter(t.get("y") for t in x_ticks).most_common(1)[0][0]  # the x tick labels share one row
        x_ticks = [t for t in x_ticks if t.get("y") == row]
        self.x = Scale([float(t.get("x")) for t in x_ticks], [number(t.text) for t in x_ticks], x_log)
        y_ticks = [t for t in self.texts if t.get("text-anchor") == "end" and number(t.text) is not None]
        self.y = Scale([float(t.get("y")) - 4 for t in y_ticks], [number(t.text) for t in y_ticks], y_log)
        self.x_label = next(
            t.text for t in self.texts if t.get("text-anchor") == "middle" and float(t.get("y")) > float(row)
        )
        self.y_label = next(t.text for t in self.texts if t.get("transform"))

    @property
    def legend(self) -> list[str]:
        """The legend's entries in order (texts placed without an anchor, the title aside)."""
        return [t.text for t in self.texts if t.get("text-anchor") is None and t.get("font-weight") is None]

    def lines(self) -> list[Line]:
        """Every polyline in the plot (a line broken by NaN gives several)."""
        found = []
        for polyline in self.root.iter(f"{SVG}polyline"):
            points = np.array([p.split(",") for p in polyline.get("points").split()], dtype=float)
            found.append(Line(polyline.get("stroke"), polyline.get("stroke-dasharray") is not None, *points.T))
        return found

    def swatch(self, legend: str) -> ET.Element:
        """The legend's mark for an entry: the element just before its text."""
        children = list(self.root)
        (at,) = [i for i, child in enumerate(children) if child.tag == f"{SVG}text" and child.text == legend]
        return children[at - 1]

    def values_of(self, legend: str) -> tuple[np.ndarray, np.ndarray]:
        """The data (x, y) of the line a legend entry names (same colour and dashes as its swatch)."""
        swatch = self.swatch(legend)
        dashed = swatch.get("stroke-dasharray") is not None
        (line,) = [line for line in self.lines() if line.colour == swatch.get("stroke") and line.dashed == dashed]
        return self.x.value(line.x_px), self.y.value(line.y_px)

    def dots(self) -> list[ET.Element]:
        """The dots drawn in the plot (legend swatches aside)."""
        return [circle for group in self.root.iter(f"{SVG}g") for circle in group.iter(f"{SVG}circle")]

    def dot_values(self, colour: str, hollow: bool) -> tuple[np.ndarray, np.ndarray]:
        chosen = [c for c in self.dots() if c.get("stroke") == colour and (c.get("fill") == "none") == hollow]
        return self.x.value([float(c.get("cx")) for c in chosen]), self.y.value([float(c.get("cy")) for c in chosen])

    def spans(self, fill: str) -> list[tuple[float, float]]:
        """The x data ranges of the rectangles filled with ``fill`` (bands, bars), in drawing order."""
        rects = [rect for rect in self.root.iter(f"{SVG}rect") if rect.get("fill") == fill]
        return [
            (float(self.x.value(float(r.get("x")))), float(self.x.value(float(r.get("x")) + float(r.get("width")))))
            for r in rects
        ]

    def vlines(self, colour: str) -> list[float]:
        """x data of the full-height vertical lines in ``colour`` (grid lines have their own colours)."""
        group = self.root.find(f"{SVG}g")
        lines = [line for line in group.iter(f"{SVG}line") if line.get("stroke") == colour]
        return [float(self.x.value(float(line.get("x1")))) for line in lines if line.get("x1") == line.get("x2")]


def hovers(root: ET.Element, tag: str) -> list[str]:
    """The tooltips of every ``tag`` element (circle, rect) that has one, in drawing order."""
    return [
        element.find(f"{SVG}title").text
        for element in root.iter(f"{SVG}{tag}")
        if element.find(f"{SVG}title") is not None
    ]


def page_svgs(at) -> list[str]:
    """Every SVG an AppTest run showed with ``st.html`` (inline, or as a ``data:`` image), in page order."""
    found = []
    for body in [element.proto.body for element in at.get("html")] + [element.value for element in at.markdown]:
        if body.lstrip().startswith("<svg"):
            found.append(body)
        found += [
            base64.b64decode(data).decode() for data in re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', body)
        ]
    return found
