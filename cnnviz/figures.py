"""Plotly figures shared by several lessons: grids of numbers and signed heatmaps.

Functions return a ``go.Figure`` and never show it. No LaTeX in figures: plotly
would fetch MathJax from a CDN, and the app must work offline.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

# Blue for negative, white for zero, red for positive: zero is always the middle.
DIVERGING = "RdBu_r"
HIGHLIGHT = "#f59e0b"


def _number_text(values: np.ndarray, decimals: int) -> np.ndarray:
    def fmt(value: float) -> str:
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
        cell_px: approximate cell size in pixels, to size the figure.

    Returns:
        The figure; row 0 is drawn at the top, as in a matrix.
    """
    grid = np.asarray(values, dtype=float)
    rows, cols = grid.shape
    bound = float(np.nanmax(np.abs(grid))) if grid.size and np.isfinite(grid).any() else 1.0
    bound = bound or 1.0
    heatmap = go.Heatmap(
        z=grid,
        text=_number_text(grid, decimals),
        texttemplate="%{text}",
        textfont={"size": 13 if cell_px >= 36 else 10},
        colorscale=DIVERGING if signed else "Blues",
        zmid=0 if signed else None,
        zmin=-bound if signed else None,
        zmax=bound if signed else None,
        showscale=False,
        xgap=1,
        ygap=1,
        hovertemplate="row %{y}, col %{x}: %{z}<extra></extra>",
    )
    figure = go.Figure(heatmap)
    shapes = []
    if shaded is not None:
        for r, c in zip(*np.nonzero(shaded), strict=True):
            shapes.append(_cell_shape(r, c, line="#9ca3af", fill="rgba(156,163,175,0.45)", width=0))
    for r, c in highlight or []:
        shapes.append(_cell_shape(r, c, line=HIGHLIGHT, width=3))
    for r, c in marked or []:
        shapes.append(_cell_shape(r, c, line="black", width=4))
    figure.update_layout(
        title={"text": title, "x": 0, "font": {"size": 15}},
        shapes=shapes,
        width=max(cols * cell_px + 40, 160),
        height=rows * cell_px + (70 if title else 30),
        margin={"l": 20, "r": 20, "t": 50 if title else 10, "b": 20},
        plot_bgcolor="white",
    )
    figure.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, constrain="domain")
    figure.update_yaxes(
        autorange="reversed", showticklabels=False, showgrid=False, zeroline=False, scaleanchor="x"
    )
    return figure


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
