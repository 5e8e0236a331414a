"""Plotly figures shared by several lessons: grids of numbers and signed heatmaps.

Functions return a ``go.Figure`` and never show it. No LaTeX in figures: plotly
would fetch MathJax from a CDN, and the app must work offline.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Literal

import numpy as np
import plotly.colors
import plotly.graph_objects as go

# Blue for negative, white for zero, red for positive: zero is always the middle.
DIVERGING = "RdBu_r"
HIGHLIGHT = "#f59e0b"


def _number_text(values: np.ndarray, decimals: int) -> np.ndarray:
    def fmt(value: float) -> str:
        if not np.isfinite(value):
            return ""  # cells not computed yet (NaN) stay blank
        text = f"{value:.{decimals}f}".rstrip("0").rstrip(".") if decimals else f"{value:.0f}"
        return "0" if text in ("-0", "") else text

    return np.vectorize(fmt)(values)


def number_grid(
    values: np.ndarray,
    title: str = "",
    highlight: list[tuple[int, int]] | None = None,
    marked: list[tuple[int, int]] | None = None,
    shaded: np.ndarray | None = None,
    decimals: int = 2,
    signed: bool = True,
    cell_px: int = 44,
) -> go.Figure:
    """A grid of numbers as coloured cells with the values written in them.

    Args:
        values: (H, W).
        title: shown above the grid.
        highlight: (row, col) cells outlined in amber (e.g. the current window).
        marked: (row, col) cells outlined thickly in black (e.g. the max-pool winner).
        shaded: (H, W) bool, cells drawn hatched grey (e.g. padding, uncovered pixels).
        decimals: digits after the point in the cell text (trailing zeros dropped).
        signed: colour with zero at the centre (blue < 0 < red); else a light sequential scale.
        cell_px: approximate cell size in pixels, to size the figure; below 18 the
            numbers are left out (they would not fit) and show on hover.

    Returns:
        The figure; row 0 is drawn at the top, as in a matrix. NaN cells are drawn empty,
        with a light outline.
    """
    grid = np.asarray(values, dtype=float)
    rows, cols = grid.shape
    bound = float(np.nanmax(np.abs(grid))) if grid.size and np.isfinite(grid).any() else 1.0
    bound = bound or 1.0
    heatmap = {
        "type": "heatmap",
        "z": grid,
        "text": _number_text(grid, decimals),
        "texttemplate": "%{text}" if cell_px >= 18 else "",
        "textfont": {"size": 13 if cell_px >= 36 else 10},
        "colorscale": _colorscale(DIVERGING if signed else "Blues"),
        "showscale": False,
        "xgap": 1,
        "ygap": 1,
        "hovertemplate": "row %{y}, col %{x}: %{z}<extra></extra>",
    }
    if signed:
        heatmap.update(zmid=0, zmin=-bound, zmax=bound)
    shapes = []
    for r, c in zip(*np.nonzero(np.isnan(grid)), strict=True):  # empty cells (not computed yet) keep an outline
        shapes.append(_cell_shape(r, c, line="#d1d5db", width=1))
    if shaded is not None:
        for r, c in zip(*np.nonzero(shaded), strict=True):
            shapes.append(_cell_shape(r, c, line="#9ca3af", fill="rgba(156,163,175,0.45)", width=0))
    for r, c in highlight or []:
        shapes.append(_cell_shape(r, c, line=HIGHLIGHT, width=3))
    for r, c in marked or []:
        shapes.append(_cell_shape(r, c, line="black", width=4))
    hidden = {"showticklabels": False, "showgrid": False, "zeroline": False, "ticks": ""}
    layout = {
        "title": {"text": title, "x": 0, "font": {"size": 15}},
        "shapes": shapes,
        "width": max(cols * cell_px + 20, 140),
        "height": rows * cell_px + (52 if title else 20),
        "margin": {"l": 10, "r": 10, "t": 36 if title else 10, "b": 10},
        "plot_bgcolor": "white",
        # Fixed ranges: rows or columns that are all NaN (cells not computed yet) keep their place.
        "xaxis": {"range": [-0.5, cols - 0.5], "constrain": "domain", **hidden},
        "yaxis": {"range": [rows - 0.5, -0.5], "scaleanchor": "x", **hidden},
    }
    # The spec above is valid by construction: skipping plotly's validation makes the figure ~10x cheaper.
    return go.Figure({"data": [heatmap], "layout": layout}, _validate=False)


@functools.cache
def _colorscale(name: str) -> tuple:
    """A named plotly colour scale as plotly.js takes it (stops and colours; "_r" names reversed)."""
    return go.Heatmap(colorscale=name).colorscale


def _cell_shape(row: int, col: int, line: str, width: float, fill: str = "rgba(0,0,0,0)") -> dict:
    return {
        "type": "rect",
        "x0": col - 0.5,
        "x1": col + 0.5,
        "y0": row - 0.5,
        "y1": row + 0.5,
        "line": {"color": line, "width": width},
        "fillcolor": fill,
    }


def signed_heatmap(values: np.ndarray, title: str = "", height: int = 420) -> go.Figure:
    """A large map (e.g. a convolution output) with a colour bar centred on zero.

    Args:
        values: (H, W) floats; NaN shows as a gap.
    """
    grid = np.asarray(values, dtype=float)
    finite = grid[np.isfinite(grid)]
    bound = float(np.abs(finite).max()) if finite.size else 1.0
    figure = go.Figure(
        go.Heatmap(
            z=grid,
            colorscale=DIVERGING,
            zmid=0,
            zmin=-(bound or 1.0),
            zmax=bound or 1.0,
            colorbar={"title": {"text": "value"}, "thickness": 12},
            hovertemplate="row %{y}, col %{x}: %{z:.4g}<extra></extra>",
        )
    )
    figure.update_layout(
        title={"text": title, "x": 0}, height=height, margin={"l": 10, "r": 10, "t": 40 if title else 10, "b": 10}
    )
    figure.update_xaxes(showticklabels=False, constrain="domain")
    figure.update_yaxes(autorange="reversed", showticklabels=False, scaleanchor="x")
    return figure


# --- Maps shown as images ----------------------------------------------------------------------


#: Signed maps saturate at this percentile of |value|: a few extreme pixels (a strong edge)
#: would otherwise push everything else to white.
CLIP_PERCENTILE = 99.5


@dataclass(frozen=True)
class ColourScale:
    """How ``map_to_image`` turned values into colours, for the legend.

    Attributes:
        colours: ``"diverging"`` (blue < 0 = white < red) or ``"gray"`` (black .. white).
        low, high: the values at the two ends of the scale; zero is at ``-low / (high - low)``.
        clipped: values beyond low/high exist and are drawn in the end colours.
    """

    colours: Literal["diverging", "gray"]
    low: float
    high: float
    clipped: bool = False


@functools.cache
def _diverging_lut() -> np.ndarray:
    """(256, 3) uint8: DIVERGING sampled at 256 levels, index 128 is zero."""
    samples = plotly.colors.sample_colorscale(DIVERGING, list(np.linspace(0, 1, 256)))
    return np.array([[int(v) for v in re.findall(r"\d+", colour)[:3]] for colour in samples], dtype=np.uint8)


def map_to_image(values: np.ndarray, white_at_least: float = 0.0) -> tuple[np.ndarray, ColourScale]:
    """Colour a map so that zero can be read off it; a map that is never negative stays a photo.

    - (H, W), all values >= 0: black = 0 to white = the maximum.
    - (H, W) with negatives: DIVERGING, white = 0, symmetric around it.
    - (H, W, 3), all >= 0: each channel 0 .. the maximum (a colour photo).
    - (H, W, 3) with negatives: each channel mid-grey = 0, symmetric around it.

    Signed maps saturate at the ``CLIP_PERCENTILE`` of |value| (see ``ColourScale.clipped``).

    Args:
        values: (H, W) or (H, W, 3) finite floats.
        white_at_least: for maps that are never negative, white is at least this value
            (1.0 for images in 0..1, so a blur keeps its brightness instead of being stretched).

    Returns:
        (uint8 image, (H, W, 3) or (H, W); the scale used, for ``colour_legend``).
    """
    grid = np.nan_to_num(np.asarray(values, dtype=np.float64))
    low, high = (float(grid.min()), float(grid.max())) if grid.size else (0.0, 0.0)
    if low >= 0:
        top = max(high, white_at_least) or 1.0
        return np.rint(grid / top * 255).astype(np.uint8), ColourScale("gray", 0.0, top)
    extreme = max(-low, high)
    bound = float(np.percentile(np.abs(grid), CLIP_PERCENTILE)) or extreme
    clipped = bound < extreme
    levels = np.rint((np.clip(grid / bound, -1, 1) + 1) * 127.5).astype(np.uint8)  # 0 -> 128
    colours = "diverging" if grid.ndim == 2 else "gray"
    image = _diverging_lut()[levels] if grid.ndim == 2 else levels
    return image, ColourScale(colours, -bound, bound, clipped)


def colour_legend(scale: ColourScale, title: str = "") -> go.Figure:
    """A thin horizontal colour bar for ``map_to_image``'s scale, with zero marked."""
    positions = np.linspace(scale.low, scale.high, 64)
    colours = DIVERGING if scale.colours == "diverging" else "Greys_r"
    ticks = sorted({scale.low, 0.0, scale.high})
    labels = [f"{tick:.3g}".replace("-", "−") for tick in ticks]
    if scale.clipped:
        labels[0], labels[-1] = "≤ " + labels[0], "≥ " + labels[-1]
    figure = go.Figure(
        go.Heatmap(
            z=[positions], x=positions, colorscale=colours, showscale=False, hoverinfo="skip",
            zmin=scale.low, zmax=scale.high,
        )
    )  # fmt: skip
    figure.update_layout(
        title={"text": title, "x": 0, "font": {"size": 13}},
        height=84 if title else 60,
        margin={"l": 24, "r": 24, "t": 28 if title else 4, "b": 30},
    )
    figure.update_xaxes(tickvals=ticks, ticktext=labels, showgrid=False, ticks="outside", fixedrange=True)
    figure.update_yaxes(visible=False, fixedrange=True)
    return figure
