"""HTML grids and colour bars: the numbers, colours and outlines a student reads off them."""

import re

import numpy as np
import plotly.colors
import pytest

from cnnviz.drawing import grids
from tests.grids import read_grids


def rgb(text: str) -> tuple[int, ...]:
    return tuple(int(v) for v in re.findall(r"\d+", text))


def plotly_colour(scale: str, position: float) -> tuple[int, ...]:
    return rgb(plotly.colors.sample_colorscale(scale, [position])[0])


def test_signed_grid_puts_zero_at_white_and_the_extremes_at_the_scale_ends():
    values = np.array([[-2.0, 0.0], [1.0, 2.0]])
    (grid,) = read_grids(grids.number_grid_html(values, "Kernel", decimals=3))
    assert grid.title == "Kernel"
    assert grid.texts == [["-2", "0"], ["1", "2"]]
    colours = [[rgb(cell.background) for cell in row] for row in grid.rows]
    # plotly's own sampling of the same scale is the reference; the table rounds to 256 levels.
    for (r, c), position in {(0, 0): 0.0, (0, 1): 0.5, (1, 0): 0.75, (1, 1): 1.0}.items():
        assert colours[r][c] == pytest.approx(plotly_colour("RdBu_r", position), abs=3)
    assert "light" in grid.rows[0][0].classes and "light" not in grid.rows[0][1].classes  # white text on dark blue
    assert grid.rows[1][0].hover == "row 1, col 0: 1"


def test_unsigned_grid_runs_from_the_smallest_to_the_largest_value():
    (grid,) = read_grids(grids.number_grid_html(np.array([[10.0, 20.0, 30.0]]), decimals=0, signed=False))
    low, middle, high = (rgb(cell.background) for cell in grid.rows[0])
    assert low == pytest.approx(plotly_colour("Blues", 0.0), abs=3)
    assert middle == pytest.approx(plotly_colour("Blues", 0.5), abs=3)
    assert high == pytest.approx(plotly_colour("Blues", 1.0), abs=3)


def test_outlines_shading_empty_cells_and_small_cells():
    values = np.array([[1.0, np.nan], [3.0, 4.0]])
    shaded = np.array([[False, False], [True, False]])
    html = grids.number_grid_html(values, highlight=[(0, 0), (1, 1)], marked=[(1, 1)], shaded=shaded, decimals=0)
    (grid,) = read_grids(html)
    assert grid.cells_with("window") == [(0, 0), (1, 1)]
    assert grid.cells_with("winner") == [(1, 1)]
    assert grid.cells_with("shaded") == [(1, 0)] and grid.rows[1][0].background is None
    assert grid.cells_with("empty") == [(0, 1)] and grid.texts[0][1] == "" and grid.rows[0][1].hover == "row 0, col 1: "


def test_small_cells_grow_to_fit_their_numbers_at_a_readable_size():
    """A projector needs 12 px text: asked for 12 px cells, a grid still writes every number
    at 12 px or more, in cells wide enough for the longest one (the grid scrolls instead)."""
    values = np.array([[1.0, -12.25], [3.0, 4.0]])
    html = grids.number_grid_html(values, cell_px=12)
    (tiny,) = read_grids(html)
    assert tiny.texts == [["1", "-12.25"], ["3", "4"]] and tiny.rows[1][1].hover == "row 1, col 1: 4"
    font = int(re.search(r"font-size:(\d+)px", html).group(1))
    widths = {int(width) for width in re.findall(r"width:(\d+)px;height", html)}
    heights = {int(height) for height in re.findall(r"height:(\d+)px", html)}
    assert font >= 12
    assert min(widths) >= len("-12.25") * 0.55 * font  # a digit is about 0.55 em wide in most fonts
    assert min(heights) >= font


def test_cell_text_is_escaped():
    (grid,) = read_grids(grids.number_grid_html(np.zeros((1, 1)), "<b>x</b>", text=np.array([["<i>"]])))
    assert grid.title == "<b>x</b>" and grid.texts == [["<i>"]]


def test_scale_legend_marks_both_ends_and_zero_in_place():
    scale = grids.ColourScale("diverging", -1.0, 3.0, clipped=True)
    legend = grids.scale_legend_html(scale, "Output")
    spans = re.findall(r"left:([\d.]+)%[^>]*>([^<]*)</span>", legend)
    assert spans == [("0.00", "≤ −1"), ("25.00", "0"), ("100.00", "≥ 3")]
    assert "Output" in legend
    gray = grids.scale_legend_html(grids.ColourScale("gray", 0.0, 1.0))
    assert re.findall(r"left:([\d.]+)%[^>]*>([^<]*)</span>", gray) == [("0.00", "0"), ("100.00", "1")]
    assert "rgb(0,0,0)" in gray and "rgb(255,255,255)" in gray
