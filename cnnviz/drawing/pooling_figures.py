"""What the Pooling lesson shows: the maps it pools, its formulas as LaTeX, its figures.

The pooling itself (forward, windows, backward, shifts) is in ``cnnviz.pooling``; this
module prepares inputs for it and draws its results. The formulas are LaTeX strings (for
KaTeX); the figures are HTML grids and pictures, and SVG charts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np

from cnnviz.arithmetic import slide_distance
from cnnviz.drawing import grids
from cnnviz.drawing.charts import Chart
from cnnviz.drawing.pictures import captioned_row_html, png
from cnnviz.pooling import BEYOND, INPUT, PADDING, PooledGrid, PoolSettings, ShiftRobustness, check_settings

# --- The maps, on one scale -------------------------------------------------------------


def shared_display(*maps: np.ndarray) -> list[np.ndarray]:
    """Maps as uint8 images on one brightness scale (the joint min..max), so they compare fairly."""
    low = min(float(np.min(m)) for m in maps)
    high = max(float(np.max(m)) for m in maps)
    scale = (high - low) or 1.0
    return [np.round((np.asarray(m, dtype=np.float64) - low) / scale * 255).astype(np.uint8) for m in maps]


# --- Formulas ------------------------------------------------------------------------------


def size_latex(size: int, settings: PoolSettings, name: str = "H") -> tuple[str, bool]:
    """The output-size formula with the numbers filled in, as LaTeX.

    The result is ``pool_output_size``'s; the rounded quotient is only spelled out so
    the student can follow each step.

    Returns:
        (latex, dropped): ``dropped`` is True when ceil_mode's rounding up would add a
        window starting inside the right padding, which PyTorch leaves out (the
        formula's result is then one more than the output size).

    Raises:
        ValueError: for settings with no output.
    """
    out = check_settings(size, size, settings)[0]
    if settings.kind == "global_avg":
        return rf"{name}_{{\text{{out}}}} = 1 \quad (K = {name})", False
    k, stride, pad = settings.kernel_size, settings.stride, settings.padding
    low, high = (r"\lceil", r"\rceil") if settings.ceil_mode else (r"\lfloor", r"\rfloor")
    quotient = slide_distance(size, k, pad) / stride
    rounded = math.ceil(quotient) if settings.ceil_mode else math.floor(quotient)
    dropped = rounded + 1 != out
    general = rf"{name}_{{\text{{out}}}} &= \left{low} \frac{{{name} + 2P - K}}{{S}} \right{high} + 1"
    filled = [
        rf"\left{low} \frac{{{size} + 2 \cdot {pad} - {k}}}{{{stride}}} \right{high} + 1",
        rf"{low} {_number(round(quotient, 2))} {high} + 1",
        rf"{rounded + 1} \;\rightarrow\; {out}" if dropped else str(out),
    ]
    # Two lines, so the filled-in formula fits a narrow column.
    return rf"\begin{{aligned}} {general} \\ &= {' = '.join(filled)} \end{{aligned}}", dropped


def window_latex(pooled: PooledGrid, row: int, col: int, max_terms: int = 9) -> str:
    """The arithmetic of one output cell as LaTeX, e.g. ``\\max(3, 7, 1, 4) = 7``.

    Padding shows as one -inf for max pooling (it never wins; listing it once changes no
    maximum) and as 0 otherwise; it is left out of an average that does not count it.
    Cells past the padded input never appear.
    """
    kind, settings = pooled.settings.kind, pooled.settings
    cells = [(r, c) for r, c in pooled.window(row, col) if pooled.region[r, c] != BEYOND]
    padded = any(pooled.region[cell] == PADDING for cell in cells)
    if kind == "max" or (kind == "avg" and not settings.count_include_pad):
        cells = [(r, c) for r, c in cells if pooled.region[r, c] == INPUT]
    terms = [_number(pooled.layout[cell]) for cell in cells]
    if kind == "max" and padded:
        terms.insert(0, r"-\infty")
    if len(terms) > max_terms:
        terms = [*terms[: max_terms - 2], r"\dots", terms[-1]]
    result = _number(pooled.output[row, col])
    if kind == "max":
        return rf"\max({', '.join(terms)}) = {result}"
    if kind == "lp":
        p = _number(settings.p)
        powers = " + ".join(t if t == r"\dots" else rf"|{t}|^{{{p}}}" for t in terms)
        return rf"\left({powers}\right)^{{1/{p}}} = {result}"
    return rf"\frac{{{' + '.join(terms)}}}{{{len(cells)}}} = {result}"


def _number(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


# --- Figures -------------------------------------------------------------------------------


def layout_html(
    pooled: PooledGrid,
    title: str = "",
    cell: tuple[int, int] | None = None,
    values: np.ndarray | None = None,
    decimals: int = 2,
    cell_px: int = 44,
) -> str:
    """The input as the windows see it (an HTML grid): padding shaded, the window of ``cell`` outlined.

    Args:
        pooled: from ``pool_grid``.
        cell: output cell whose window is outlined (amber), with its winner (max
            pooling) outlined in black.
        values: (H, W) numbers to show in the input's place (e.g. gradients); padding is
            then left blank. Default: the input, with padding written as −∞ (max
            pooling) or 0.
        decimals: digits after the point.
        cell_px: approximate cell size in pixels.

    Returns:
        ``grids.number_grid_html``; cells past the padded input (ceil_mode) are dotted and empty.
    """
    grid = pooled.layout.copy()
    signed = values is not None
    inside = pooled.region == INPUT
    if values is not None:
        grid[inside] = np.asarray(values, dtype=np.float64).ravel()
    grid[~inside] = 0.0
    highlight, marked = [], []
    if cell is not None:
        highlight = pooled.window(*cell)
        if pooled.winners is not None:
            marked = [tuple(int(v) + pooled.offset for v in pooled.winners[cell])]
    text = grids.number_text(grid, decimals).astype(object)
    text[pooled.region == PADDING] = "" if signed else ("−∞" if pooled.settings.kind == "max" else "0")
    return grids.number_grid_html(
        grid, title, highlight=highlight, marked=marked, shaded=pooled.region == PADDING,
        dotted=pooled.region == BEYOND, text=text, decimals=decimals, signed=signed, cell_px=cell_px,
    )  # fmt: skip


def pictures_html(pictures: Sequence[tuple[np.ndarray, str]]) -> str:
    """uint8 maps side by side at one width, each with its caption below, as one HTML block.

    Each map is sent at its own size and enlarged by the browser without smoothing, so every
    pixel is a visible square (a 32-pixel map stays a few hundred bytes).
    """
    return captioned_row_html([(png(picture), caption) for picture, caption in pictures], pixelated=True)


def shift_figure(result: ShiftRobustness, measure: Literal["change", "changed"], labels: dict[str, str]) -> str:
    """Change against shift, before and after pooling, as two lines with a dot per shift (SVG).

    Args:
        measure: "change" (mean |change| / mean |value|) or "changed" (share of values that changed).
        labels: texts for "unpooled", "pooled", "x", "y" (the page translates them).
    """
    before, after = (
        (result.unpooled_change, result.pooled_change)
        if measure == "change"
        else (result.unpooled_changed, result.pooled_changed)
    )
    shifts = np.asarray(result.shifts, dtype=float)
    highest = 100 * max(float(np.max(before)), float(np.max(after)))
    chart = Chart(
        height=300, x_label=labels["x"], y_label=labels["y"],
        x_range=(shifts.min() - 0.3, shifts.max() + 0.3),  # room for the end dots
        y_range=(0.0, 1.05 * highest or 1.0),  # from zero
    )  # fmt: skip
    for name, values, colour in ((labels["unpooled"], before, "#6b7280"), (labels["pooled"], after, grids.HIGHLIGHT)):
        percents = 100 * np.asarray(values, dtype=float)
        chart.line(shifts, percents, colour, legend=name, width=3)
        chart.dots(shifts, percents, colour, size=7, hover=[f"{name}: {p:.1f}%" for p in percents])
    return chart.svg()
