"""SVG charts: the pixels of every mark map back to the numbers they draw."""

import html
import math
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from cnnviz.drawing import charts

NS = {"svg": "http://www.w3.org/2000/svg"}


def parse(text: str) -> ET.Element:
    return ET.fromstring(text)  # raises on anything that is not well-formed XML


def frame(root: ET.Element) -> tuple[float, float, float, float]:
    """(left, top, width, height) of the plotting area: its outline rectangle."""
    (outline,) = [r for r in root.iter("{http://www.w3.org/2000/svg}rect") if r.get("stroke") == "#d1d5db"]
    return tuple(float(outline.get(k)) for k in ("x", "y", "width", "height"))


def points(polyline: ET.Element) -> np.ndarray:
    return np.array([[float(v) for v in pair.split(",")] for pair in polyline.get("points").split()])


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (0, 1, [0, 0.2, 0.4, 0.6, 0.8, 1.0]),
        (-6, 6, [-6, -4, -2, 0, 2, 4, 6]),
        (0.5, 3.7, [0.5, 1, 1.5, 2, 2.5, 3, 3.5]),
    ],
)
def test_nice_ticks_are_round_and_cover_the_range(low, high, expected):
    assert charts.nice_ticks(low, high) == pytest.approx(expected)


def test_a_line_lands_where_its_numbers_say():
    chart = charts.Chart(x_range=(0, 10), y_range=(-1, 1), x_label="x", y_label="y")
    chart.line([0, 5, 10], [-1, 0, 1], "#2563eb", legend="diagonal")
    root = parse(chart.svg())
    left, top, width, height = frame(root)
    (line,) = root.iterfind(".//svg:polyline", NS)
    expected = [[left, top + height], [left + width / 2, top + height / 2], [left + width, top]]
    assert points(line).tolist() == [pytest.approx(point, abs=0.06) for point in expected]
    texts = [t.text for t in root.iterfind(".//svg:text", NS)]
    assert "diagonal" in texts and "x" in texts and "y" in texts and "−1" in texts  # a true minus sign


def test_nan_and_infinity_break_a_line_into_runs():
    chart = charts.Chart(x_range=(0, 6), y_range=(0, 1))
    chart.line(np.arange(7), [0.1, 0.2, np.nan, 0.3, 0.4, np.inf, 0.5], "red")
    runs = [len(points(p)) for p in parse(chart.svg()).iterfind(".//svg:polyline", NS)]
    assert runs == [2, 2]  # the last point alone is not a line


def test_log_axis_puts_each_power_of_ten_a_step_apart():
    chart = charts.Chart(y_log=True, x_range=(0, 2))
    chart.dots([0, 1, 2], [1e-4, 1e-2, 1.0], "black")
    root = parse(chart.svg())
    ys = [float(c.get("cy")) for c in root.iterfind(".//svg:circle", NS)]
    assert ys[0] - ys[1] == pytest.approx(ys[1] - ys[2], abs=0.2)
    assert {"1e-4", "0.01", "1"} <= {t.text for t in root.iterfind(".//svg:text", NS)}


def test_bars_rise_from_zero_to_their_heights():
    chart = charts.Chart(y_range=(0, 4))
    chart.bars([1, 2], [2, 4], "blue", hover=["two", "four"])
    root = parse(chart.svg())
    _, top, _, height = frame(root)
    bars = [r for r in root.iterfind(".//svg:rect", NS) if r.get("fill") == "blue"]
    assert [float(r.get("height")) for r in bars] == pytest.approx([height / 2, height], abs=0.11)
    assert all(float(r.get("y")) + float(r.get("height")) == pytest.approx(top + height, abs=0.11) for r in bars)
    assert [r.find("svg:title", NS).text for r in bars] == ["two", "four"]


def test_horizontal_bars_list_the_first_category_on_top():
    chart = charts.Chart(categories=["cat", "dog"], x_range=(0, 1))
    chart.hbars([0.8, 0.2], "green")
    root = parse(chart.svg())
    cat, dog = [r for r in root.iterfind(".//svg:rect", NS) if r.get("fill") == "green"]
    assert float(cat.get("y")) < float(dog.get("y"))
    assert float(cat.get("width")) == pytest.approx(4 * float(dog.get("width")), rel=0.01)
    labels = {t.text: float(t.get("y")) for t in root.iterfind(".//svg:text", NS)}
    assert labels["cat"] < labels["dog"]


def test_a_band_spans_its_stretch_of_x_over_the_whole_height():
    chart = charts.Chart(x_range=(-4, 4), y_range=(0, 1))
    chart.band(-4, 0, "pink", legend="dead")
    root = parse(chart.svg())
    left, _, width, _ = frame(root)
    (band,) = [r for r in root.iterfind(".//svg:rect", NS) if r.get("fill") == "pink" and r.get("height")
               and float(r.get("height")) > 20]  # fmt: skip
    assert float(band.get("x")) == pytest.approx(left, abs=0.06)
    assert float(band.get("width")) == pytest.approx(width / 2, abs=0.11)


def test_texts_are_escaped_and_clip_paths_do_not_collide():
    first = charts.Chart(title="<b>&</b>").line([0, 1], [0, 1], "red", legend="a<b").svg()
    second = charts.Chart().line([0, 1], [0, 1], "red").svg()
    titles = [t.text for t in parse(first).iterfind(".//svg:text", NS)]
    assert "<b>&</b>" in titles and "a<b" in titles
    clip_ids = [parse(s).find(".//svg:clipPath", NS).get("id") for s in (first, second)]
    assert clip_ids[0] != clip_ids[1]


def test_an_empty_or_flat_chart_still_draws():
    assert parse(charts.Chart().svg()).tag.endswith("svg")
    flat = charts.Chart().line([0, 1, 2], [3, 3, 3], "red").svg()
    (line,) = parse(flat).iterfind(".//svg:polyline", NS)
    assert all(math.isfinite(v) for v in points(line).ravel())


def test_log_x_axis_spaces_decades_evenly_and_labels_them():
    chart = charts.Chart(x_log=True, y_range=(0, 1))
    chart.dots([0.01, 0.1, 1.0, 10.0], [0.5] * 4, "black")
    root = parse(chart.svg())
    xs = [float(c.get("cx")) for c in root.iterfind(".//svg:circle", NS)]
    assert np.diff(xs) == pytest.approx([xs[1] - xs[0]] * 3, abs=0.2)
    assert {"0.01", "0.1", "1", "10"} <= {t.text for t in root.iterfind(".//svg:text", NS)}


def test_legend_makes_room_for_chinese_labels():
    assert charts.text_width("学习率") == pytest.approx(2 * charts.text_width("abc"))


def test_bars_on_a_log_x_axis_have_a_width():
    chart = charts.Chart(x_log=True, y_range=(0, 1)).bars([1, 10, 100], [0.2, 0.5, 1.0], "blue")
    bars = [r for r in parse(chart.svg()).iterfind(".//svg:rect", NS) if r.get("fill") == "blue"]
    widths = [float(r.get("width")) for r in bars]
    assert len(widths) == 3 and all(math.isfinite(w) and w > 0 for w in widths)
    assert widths == pytest.approx([widths[0]] * 3)


def circles_inside_the_clip(text: str) -> list[bool]:
    """For every dot: whether all of it lies inside the plot's clipping rectangle (else it is drawn cut)."""
    root = parse(text)
    clip = root.find(".//svg:clipPath/svg:rect", NS)
    left, top, width, height = (float(clip.get(k)) for k in ("x", "y", "width", "height"))
    inside = []
    for circle in root.iterfind(".//svg:circle", NS):
        x, y, r = (float(circle.get(k)) for k in ("cx", "cy", "r"))
        inside.append(left <= x - r and x + r <= left + width and top <= y - r and y + r <= top + height)
    return inside


@pytest.mark.parametrize("size", [4, 14, 30])
def test_dots_at_the_edges_of_the_data_are_drawn_whole(size):
    x, y = np.array([0.0, 1.0, 2.0, 10.0]), np.array([0.0, 5.0, 1.0, 30.0])
    chart = charts.Chart(440, 470).line(x, 0.5 * x, "blue").dots(x, y, "red", size=size, hollow=True)
    assert all(circles_inside_the_clip(chart.svg()))
    with_lines = charts.Chart().line([-1, 12], [-10, 40], "blue").dots(x, y, "red", size=size)
    assert all(circles_inside_the_clip(with_lines.svg()))  # lines reaching further leave the room as it is


def test_legend_rows_stay_inside_the_chart_from_the_plots_left_edge():
    """Rows were filled to the chart's width but drawn from the plot's left edge: a long row hung over the right."""
    chart = charts.Chart(width=640, height=460, y_label="f(x) solid, slope f'(x) dashed")
    for index, name in enumerate(["Leaky ReLU", "PReLU", "ELU", "Softplus", "RReLU", "RReLU (training)"]):
        chart.line([0, 1], [index, index + 1], "#000", name)
        chart.line([0, 1], [index, index], "#000", f"{name} slope", dashed=True)
    drawn = chart.svg()
    labels = re.findall(r'<text x="([\d.]+)" y="[\d.]+" fill="currentColor">([^<]*)</text>', drawn)
    assert len(labels) >= 12
    for x, label in labels:
        assert float(x) + charts.text_width(html.unescape(label)) <= 640, label
