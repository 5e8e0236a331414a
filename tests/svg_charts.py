"""Read back the SVG charts of ``cnnviz.svg``, for tests on what a chart draws."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np

SVG = "{http://www.w3.org/2000/svg}"


def charts(html: str) -> list[ET.Element]:
    """Every ``<svg>`` chart in an HTML string (one chart, or several side by side), parsed."""
    return [ET.fromstring(text) for text in re.findall(r"<svg\b.*?</svg>", html, flags=re.DOTALL)]


def page_charts(at) -> list[ET.Element]:
    """Every SVG chart on an AppTest page, in page order: ``ui.show_svg`` draws them as markdown
    (``st.html`` would drop them)."""
    return [chart for element in at.markdown for chart in charts(element.value)]


def frame(chart: ET.Element) -> tuple[float, float, float, float]:
    """(left, top, width, height) of the plotting area: its outline rectangle."""
    (outline,) = [r for r in chart.iter(f"{SVG}rect") if r.get("stroke") == "#d1d5db"]
    return tuple(float(outline.get(k)) for k in ("x", "y", "width", "height"))


def rects(chart: ET.Element, fill: str) -> list[ET.Element]:
    """The bars of one colour, in drawing order."""
    return [r for r in chart.iter(f"{SVG}rect") if r.get("fill") == fill]


def polylines(chart: ET.Element, stroke: str) -> list[ET.Element]:
    return [p for p in chart.iter(f"{SVG}polyline") if p.get("stroke") == stroke]


def points(polyline: ET.Element) -> np.ndarray:
    """(N, 2) pixel coordinates of a polyline."""
    return np.array([[float(v) for v in pair.split(",")] for pair in polyline.get("points").split()])


def dots(chart: ET.Element, colour: str) -> list[ET.Element]:
    return [c for c in chart.iter(f"{SVG}circle") if c.get("stroke") == colour and c.find(f"{SVG}title") is not None]


def hover(element: ET.Element) -> str:
    """A mark's tooltip."""
    return element.find(f"{SVG}title").text


def texts(chart: ET.Element) -> list[str]:
    """Every text written on the chart: title, tick labels, axis titles, legend, labels."""
    return [t.text for t in chart.iter(f"{SVG}text")]
