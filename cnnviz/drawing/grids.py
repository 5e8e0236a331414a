"""Pictures shared by several lessons: grids of numbers, maps as images, colour bars.

Functions return HTML or arrays and never show them. Grids and colour bars are HTML,
not plotly charts: the browser draws a table at once, and slider moves stay instant.
"""

from __future__ import annotations

import functools
import html
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

# Blue for negative, white for zero, red for positive: zero is always the middle.
DIVERGING = "RdBu_r"
HIGHLIGHT = "#f59e0b"
#: The smallest text a class can read on a projector, in CSS pixels: grids never write smaller.
MIN_FONT_PX = 12
#: About how wide a character of a number is, in ems (digits, point and minus of the app's font).
DIGIT_EM = 0.6


def number_text(values: np.ndarray, decimals: int) -> np.ndarray:
    """Each value as a grid cell writes it: ``decimals`` digits, trailing zeros dropped, NaN blank."""

    def fmt(value: float) -> str:
        if not math.isfinite(value):
            return ""  # cells not computed yet (NaN) stay blank
        text = f"{value:.{decimals}f}".rstrip("0").rstrip(".") if decimals else f"{value:.0f}"
        return "0" if text in ("-0", "") else text

    # A list comprehension, not np.vectorize: a scrubbing view's frame set writes hundreds of grids.
    values = np.asarray(values, dtype=float)
    return np.array([fmt(value) for value in values.ravel().tolist()], dtype=str).reshape(values.shape)


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
        (uint8 image, (H, W, 3) or (H, W); the scale used, for ``scale_legend_html``).
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
    image = colour_lut(DIVERGING)[levels] if grid.ndim == 2 else levels
    return image, ColourScale(colours, -bound, bound, clipped)


# --- Grids and colour bars as HTML -------------------------------------------------------------
# A grid of numbers or a colour bar is a table or a gradient: the browser draws HTML at once,
# where a plotly chart costs tens of milliseconds to draw on every slider move.


@functools.cache
def colour_lut(name: str) -> np.ndarray:
    """(256, 3) uint8: the named plotly colour scale at 256 levels (DIVERGING: index 128 is zero)."""
    import plotly.colors  # here, not at the top: the app's first page needs no colour scale (87 ms)

    samples = plotly.colors.sample_colorscale(name, list(np.linspace(0, 1, 256)))
    return np.array([[int(float(v)) for v in re.findall(r"[\d.]+", colour)[:3]] for colour in samples], np.uint8)


def _cell_levels(grid: np.ndarray, signed: bool) -> np.ndarray:
    """Each cell's index into the colour scale: zero in the middle when signed, else min .. max."""
    finite = grid[np.isfinite(grid)]
    if signed:
        bound = float(np.abs(finite).max()) if finite.size else 0.0
        scaled = grid / (bound or 1.0) * 0.5 + 0.5
    else:
        low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
        scaled = (grid - low) / ((high - low) or 1.0) if high > low else np.zeros_like(grid)
    return np.rint(np.clip(np.nan_to_num(scaled), 0, 1) * 255).astype(int)


def number_grid_html(
    values: np.ndarray,
    title: str = "",
    highlight: Iterable[tuple[int, int]] = (),
    marked: Iterable[tuple[int, int]] = (),
    shaded: np.ndarray | None = None,
    dotted: np.ndarray | None = None,
    text: np.ndarray | None = None,
    decimals: int = 2,
    signed: bool = True,
    cell_px: int = 44,
) -> str:
    """A grid of numbers as coloured cells with the values written in them, as an HTML table.

    Args:
        values: (H, W); row 0 is drawn at the top, as in a matrix.
        title: shown above the grid.
        highlight: (row, col) cells outlined in amber (e.g. the current window).
        marked: (row, col) cells outlined thickly in black (e.g. the max-pool winner).
        shaded: (H, W) bool, cells drawn hatched grey (e.g. padding, pixels never read).
        dotted: (H, W) bool, cells drawn empty with a dotted outline (e.g. past the input).
        text: (H, W) strings written in the cells instead of the values.
        decimals: digits after the point in the cell text (trailing zeros dropped).
        signed: colour with zero at the centre (blue < 0 < red); else light to dark blue
            from the smallest to the largest value.
        cell_px: cell size in pixels. Cells grow where their numbers need more room at a
            readable size (``MIN_FONT_PX``): a wide grid is then wider than its column and
            scrolls (assets/app.css) instead of shrinking its numbers.

    Returns:
        HTML: a ``<figure class="cnnviz-grid">`` whose cells carry classes (window, winner,
        shaded, beyond, empty, light) that the app's stylesheet (assets/app.css) draws.
        NaN cells are empty, with a light outline.
    """
    grid = np.asarray(values, dtype=float)
    rows, cols = grid.shape
    words = number_text(grid, decimals) if text is None else np.asarray(text, dtype=object)
    colours = colour_lut(DIVERGING if signed else "Blues")[_cell_levels(grid, signed)]
    light = colours @ np.array([0.299, 0.587, 0.114]) < 140  # a dark cell gets white numbers
    classes = np.full(grid.shape, "", dtype=object)
    classes[light] = "light"
    for mask, name in ((np.isnan(grid), "empty"), (shaded, "shaded"), (dotted, "beyond")):
        if mask is not None:
            classes[np.asarray(mask, bool)] = name
    for cells, name in ((highlight, "window"), (marked, "winner")):
        for r, c in cells:
            classes[r, c] = f"{classes[r, c]} {name}".strip()
    font = 13 if cell_px >= 36 else MIN_FONT_PX
    longest = max((len(str(word)) for word in words.ravel()), default=0)
    width, height = max(cell_px, math.ceil(longest * DIGIT_EM * font) + 6), max(cell_px, font + 6)
    size = f"width:{width}px;height:{height}px;min-width:{width}px"
    rows_html = []
    for r in range(rows):
        cells = []
        for c in range(cols):
            value, kind = grid[r, c], classes[r, c]
            filled = not ({"empty", "shaded", "beyond"} & set(kind.split()))
            style = size + (";background:rgb({},{},{})".format(*colours[r, c]) if filled else "")
            shown = "" if "beyond" in kind else html.escape(str(words[r, c]))
            hover = f"row {r}, col {c}: {'' if np.isnan(value) else f'{value:.6g}'}"
            cells.append(f'<td class="{kind}" style="{style}" title="{hover}">{shown}</td>')
        rows_html.append("<tr>" + "".join(cells) + "</tr>")
    caption = f"<figcaption>{html.escape(title)}</figcaption>" if title else ""
    return (
        f'<figure class="cnnviz-grid">{caption}'
        f'<table style="font-size:{font}px"><tbody>{"".join(rows_html)}</tbody></table></figure>'
    )


def side_by_side_html(*columns: str, gap_px: int = 32, share: bool = False) -> str:
    """HTML blocks in a row, top-aligned, wrapping onto the next line when the page is narrow.

    One element instead of one per block: a browser redraws a page's elements one by one.
    ``share``: the blocks share the row's width (each at least 280 px, and never narrower
    than a block's own minimum width, so a ``cnnviz.drawing.charts`` chart wraps onto the next line
    rather than shrinking its text); otherwise each keeps its own width (tables). A block
    wider than the whole row scrolls sideways.
    """
    style = ' style="flex:1 1 280px"' if share else ""
    cells = "".join(f"<div{style}>{column}</div>" for column in columns)
    return (
        f'<div style="display:flex;flex-wrap:wrap;align-items:flex-start;gap:8px {gap_px}px;'
        f'max-width:100%;overflow-x:auto">{cells}</div>'
    )


def colour_bar_html(
    colours: Literal["diverging", "positive", "gray"], ticks: Sequence[tuple[float, str]], title: str = ""
) -> str:
    """A thin horizontal colour bar with labelled ticks, as HTML.

    Args:
        colours: "diverging" (blue, white, red), "positive" (its upper half: white to red)
            or "gray" (black to white).
        ticks: (position from 0 = left to 1 = right, label).
        title: shown above the bar.
    """
    gray = np.repeat(np.arange(256, dtype=np.uint8)[:, None], 3, 1)
    lut = {"diverging": colour_lut(DIVERGING), "positive": colour_lut(DIVERGING)[128:]}.get(colours, gray)
    stops = ",".join(f"rgb({r},{g},{b})" for r, g, b in lut[np.linspace(0, len(lut) - 1, 11).astype(int)])
    labels = "".join(
        f'<span style="position:absolute;left:{100 * position:.2f}%;transform:translateX(-{100 * position:.0f}%);'
        f'white-space:nowrap">'
        f"{html.escape(label)}</span>"
        for position, label in ticks
    )
    heading = f'<div style="font-size:13px;margin-bottom:2px">{html.escape(title)}</div>' if title else ""
    return (
        f'<div class="cnnviz-colour-bar" style="margin:4px 0 .5rem 0">{heading}'
        f'<div style="height:14px;border-radius:2px;background:linear-gradient(to right,{stops})"></div>'
        f'<div style="position:relative;height:16px;font-size:12px;margin-top:2px">{labels}</div></div>'
    )


def scale_legend_html(scale: ColourScale, title: str = "") -> str:
    """``colour_bar_html`` for ``map_to_image``'s scale: its two ends and zero."""
    positions = sorted({scale.low, 0.0, scale.high})
    labels = [f"{value:.3g}".replace("-", "−") for value in positions]
    if scale.clipped:
        labels[0], labels[-1] = "≤ " + labels[0], "≥ " + labels[-1]
    span = (scale.high - scale.low) or 1.0
    return colour_bar_html(
        scale.colours,
        [((value - scale.low) / span, label) for value, label in zip(positions, labels, strict=True)],
        title,
    )
