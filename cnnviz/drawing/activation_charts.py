"""What the Activation functions lesson draws: curves with their flat stretches shaded,
gradient norms per layer, dead units, histograms of a feature map.

The numbers come from ``cnnviz.activations``; these functions only draw them, as SVG text
(``cnnviz.drawing.charts``) and HTML that the page shows inside its markdown: a browser redraws an SVG in
~2 ms after a slider move, a plotly chart in ~65 ms. No LaTeX in the charts: formulas go to KaTeX.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch

from cnnviz.activations import Curve, flat_regions, get
from cnnviz.drawing.charts import FONT_PX, MIN_SCALE, Chart, text_width
from cnnviz.drawing.grids import map_to_image, scale_legend_html
from cnnviz.drawing.pictures import picture_html, png
from cnnviz.images import upscale_nearest

COLORS = ("#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#db2777", "#0891b2", "#4b5563")
GREY = "#6b7280"
# Shading of flat stretches on the plot, and the (stronger) swatch for the legend.
FILLS = {
    "dead": ("rgba(220,38,38,0.13)", "rgba(220,38,38,0.45)"),
    "saturated": ("rgba(245,158,11,0.16)", "rgba(245,158,11,0.55)"),
}
# A dead unit's cell, then the colours from "passes a gradient for a few inputs" to "for all".
DEAD_CELL = "#111827"
PASSING_COLOURS = ((0xFD, 0xE6, 0x8A), (0x15, 0x80, 0x3D))


def tenths(values: np.ndarray) -> np.ndarray:
    """``float(f"{v:.1f}")`` for each value clipped to +-1e5, as a line's points are written (``charts._points``),
    without writing them: the nearest tenth by numpy, and Python's own rounding where v * 10 lies near a half
    (where numpy's product may round the other way)."""
    values = np.clip(np.asarray(values, dtype=float), -1e5, 1e5)
    scaled = values * 10
    found = np.rint(scaled) / 10
    for index in np.flatnonzero(np.abs(np.abs(scaled - np.trunc(scaled)) - 0.5) < 1e-6):
        found[index] = float(f"{values[index]:.1f}")
    return found


def thin_mask(xy: np.ndarray, tolerance: float) -> np.ndarray:
    """Douglas-Peucker on (n, 2) points: which to keep so that no dropped point lies more than ``tolerance`` from
    the line through the kept ones (the farthest point from the chord is kept while it is farther, then each half)."""
    keep = np.zeros(len(xy), bool)
    keep[[0, -1]] = True
    spans = [(0, len(xy) - 1)]
    while spans:
        first, last = spans.pop()
        if last - first < 2:
            continue
        (x0, y0), (x1, y1) = xy[first], xy[last]
        inner = xy[first + 1 : last]
        chord = max(np.hypot(x1 - x0, y1 - y0), 1e-9)
        away = np.abs((x1 - x0) * (inner[:, 1] - y0) - (y1 - y0) * (inner[:, 0] - x0)) / chord
        farthest = int(np.argmax(away))
        if away[farthest] > tolerance:
            middle = first + 1 + farthest
            keep[middle] = True
            spans += [(first, middle), (middle, last)]
    return keep


@dataclass
class ThinChart(Chart):
    """A chart whose lines leave out the points that lie within ``thin_px`` pixels of the line drawn without them
    (after rounding to the 0.1 px the SVG holds), written shortest (``:g``): the same picture in fewer bytes,
    and no time spent writing the points it drops."""

    thin_px: float = 0.0

    def points_text(self, xs: np.ndarray, ys: np.ndarray) -> str:
        if not self.thin_px:
            return super().points_text(xs, ys)
        xy = np.column_stack([tenths(xs), tenths(ys)])
        return " ".join(f"{x:g},{y:g}" for x, y in xy[thin_mask(xy, self.thin_px)].tolist())


def _name(names: Mapping[str, str] | None, key: str) -> str:
    return (names or {}).get(key, get(key).label)


def curves_chart(
    curves: list[Curve],
    threshold: float,
    names: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    extra: list[Curve] | None = None,
    thin_px: float = 0.0,
) -> str:
    """f (solid) and f' (dashed) of several activations, with the first one's flat regions shaded (SVG).

    Args:
        curves: the activations to draw; the first one's dead/saturated stretches are shaded.
        threshold: |f'| below it counts as saturated.
        names: display name per key (defaults to the registry's labels).
        labels: texts: ``x``, ``value``, ``slope`` (legend suffix for f'), ``dead``, ``saturated``,
            ``training`` (suffix for extra curves).
        extra: curves drawn as dots (RReLU in training: one random slope per point).
        thin_px: a line's points within this many pixels of the line drawn without them are left out
            (``ThinChart``); 0 keeps them all.
    """
    text = {
        "x": "x",
        "value": "f(x) and f'(x)",
        "slope": "slope",
        "dead": "slope exactly 0",
        "saturated": "saturated: |slope| < {threshold:g}",
        "training": "training",
    } | dict(labels or {})
    chart = ThinChart(width=640, height=460, x_label=text["x"], y_label=text["value"], thin_px=thin_px)
    colours = {item.key: COLORS[i % len(COLORS)] for i, item in enumerate(curves)}
    for item in curves:
        chart.line(item.x, item.y, colours[item.key], _name(names, item.key), width=3)
        chart.line(item.x, item.dy, colours[item.key], f"{_name(names, item.key)} {text['slope']}", dashed=True)
    for item in extra or []:
        name = f"{_name(names, item.key)} ({text['training']})"
        every = max(1, len(item.x) // 120)  # a dot every few grid points stays readable
        colour = colours.get(item.key, GREY)
        chart.dots(item.x[::every], item.y[::every], colour, name, size=5)
        chart.dots(item.x[::every], item.dy[::every], colour, f"{name} {text['slope']}", size=5, hollow=True)
    if curves:
        first = _name(names, curves[0].key)
        shown: set[str] = set()
        for region in sorted(flat_regions(curves[0], threshold), key=lambda region: region.kind):
            legend = None if region.kind in shown else f"{first}: {text[region.kind].format(threshold=threshold)}"
            chart.band(region.start, region.end, FILLS[region.kind][0], legend, FILLS[region.kind][1])
            shown.add(region.kind)
    return chart.svg()


def gradient_norms_chart(
    norms: Mapping[str, np.ndarray],
    reference_slope: float | None = None,
    names: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
) -> str:
    """Gradient norm per layer on a log scale, one line with a dot per layer for each activation (SVG).

    Args:
        norms: (depth,) norms per activation key, as ``layer_gradient_norms`` returns.
        reference_slope: if given, a dashed line ``g_L * slope**(L - l)`` anchored at the
            first activation's last layer: what multiplying by that slope once per layer leaves.
        labels: texts: ``layer``, ``norm``, ``reference`` (may use ``{slope}``).
    """
    text = {
        "layer": "layer (1 = next to the input)",
        "norm": "gradient norm (log scale)",
        "reference": "x {slope:g} per layer",
    } | dict(labels or {})
    chart = Chart(width=640, height=400, x_label=text["layer"], y_label=text["norm"], y_log=True)
    depth = max((len(values) for values in norms.values()), default=1)
    chart.x_range = (0.5, depth + 0.5)  # room for the end dots
    for i, (key, values) in enumerate(norms.items()):
        layers, name = np.arange(1, len(values) + 1), _name(names, key)
        chart.line(layers, values, COLORS[i % len(COLORS)], name)
        hover = [f"{name}, layer {layer}: {value:.3e}" for layer, value in zip(layers, values, strict=True)]
        chart.dots(layers, values, COLORS[i % len(COLORS)], size=5, hover=hover)
    if reference_slope is not None and norms:
        values = next(iter(norms.values()))
        layers = np.arange(1, len(values) + 1)
        reference = values[-1] * reference_slope ** (len(values) - layers)
        chart.line(layers, reference, GREY, text["reference"].format(slope=reference_slope), width=1.5, dashed=True)
    return chart.svg()


def dead_fraction_chart(
    curves: Mapping[str, tuple[list[float], list[float]]],
    chosen: float | None = None,
    names: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    log_x: bool = True,
) -> str:
    """Share of dead units against the push (learning rate or bias shift), one line per activation (SVG).

    Lines that coincide (leaky units never die) stay visible: thick dashes under thin ones, big hollow
    dots under small filled ones.

    Args:
        curves: per key, (amounts, dead fractions); amounts > 0 on a log axis.
        chosen: a vertical marker at the amount shown elsewhere on the page.
        labels: texts: ``amount`` (x axis), ``dead``.
        log_x: a log x axis (learning rates); linear for bias shifts.
    """
    text = {"amount": "learning rate of the one step (log scale)", "dead": "dead units (%)"} | dict(labels or {})
    amounts = np.concatenate([np.asarray(a, dtype=float) for a, _ in curves.values()] or [np.ones(1)])
    low, high = float(amounts.min()), float(amounts.max())
    # Room for the end dots to stay whole: 4% of the span, as a factor on a log axis.
    x_range = (low / (high / low) ** 0.04, high * (high / low) ** 0.04) if log_x else (
        low - 0.04 * ((high - low) or 1.0), high + 0.04 * ((high - low) or 1.0))  # fmt: skip
    highest = max((100 * max(fractions, default=0.0) for _, fractions in curves.values()), default=0.0)
    chart = Chart(
        width=560, height=360, x_label=text["amount"], y_label=text["dead"], x_log=log_x, x_range=x_range,
        y_range=(0.0, max(1.05 * highest, 1.0)),
    )  # fmt: skip
    styles = ({"width": 2.0, "dashed": False}, {"width": 4.0, "dashed": True}, {"width": 1.5, "dashed": True})
    for i, (key, (amounts_of_key, fractions)) in enumerate(curves.items()):
        colour, name = COLORS[i % len(COLORS)], _name(names, key)
        x, percents = np.asarray(amounts_of_key, dtype=float), 100 * np.asarray(fractions, dtype=float)
        chart.line(x, percents, colour, name, **styles[i % 3])
        hover = [f"{name}, {a:.3g}: {p:.1f}%" for a, p in zip(amounts_of_key, percents, strict=True)]
        chart.dots(x, percents, colour, size=(6, 10, 5)[i % 3], hollow=i % 3 == 1, hover=hover)
    if chosen is not None:
        chart.vline(float(chosen), GREY)
    return chart.svg()


def passing_colour(share: float) -> str:
    """A unit's cell colour: DEAD_CELL when it passes a gradient for no input, else yellow (few) to green (all)."""
    if share <= 0:
        return DEAD_CELL
    low, high = np.array(PASSING_COLOURS, dtype=float)
    red, green, blue = np.rint(low + min(share, 1.0) * (high - low)).astype(int)
    return f"rgb({red},{green},{blue})"


def units_grid(passing_share: np.ndarray, label: str = "share of inputs passing a gradient", cell_px: int = 18) -> str:
    """The hidden units as a square grid of cells, row by row; dark = dead (passes a gradient for no input).

    An SVG of its own (``cnnviz.drawing.charts`` draws charts on axes, not grids): a cell per unit with its share
    on hover, and a colour bar below from 0% (dead) to 100%.
    """
    side = max(1, math.ceil(math.sqrt(len(passing_share))))
    step = cell_px + 2
    cells = [
        f'<rect x="{(i % side) * step}" y="{(i // side) * step}" width="{cell_px}" height="{cell_px}" '
        f'fill="{passing_colour(share)}"><title>unit {i}: {share:.0%}</title></rect>'
        for i, share in enumerate(np.asarray(passing_share, dtype=float))
    ]
    width = side * step
    bar_top = width + 8
    height = bar_top + 2 * FONT_PX + 22
    canvas = max(width, math.ceil(text_width(label)))  # the label below may be wider than the grid
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {canvas} {height}" width="100%" '
        f'style="max-width:{canvas}px;min-width:{math.ceil(canvas * MIN_SCALE)}px;height:auto;font-size:{FONT_PX}px;'
        f'font-family:inherit" role="img">' + "".join(cells) + _passing_bar(width, bar_top, label) + "</svg>"
    )


def _passing_bar(width: float, top: float, label: str) -> str:
    """The grid's colour bar: a dark block for 0%, then 20 steps from yellow (a few %) to green (100%)."""
    dead_px, steps = 14, 20
    step = (width - dead_px - 4) / steps
    blocks = [f'<rect x="0" y="{top}" width="{dead_px}" height="10" fill="{DEAD_CELL}"/>']
    blocks += [
        f'<rect x="{dead_px + 4 + k * step:.1f}" y="{top}" width="{step + 0.5:.1f}" height="10" '
        f'fill="{passing_colour((k + 1) / steps)}"/>'
        for k in range(steps)
    ]
    ticks = ((0, "start", "0%"), ((dead_px + width) / 2, "middle", "50%"), (width, "end", "100%"))
    blocks += [
        f'<text x="{x:.1f}" y="{top + 10 + FONT_PX + 2}" text-anchor="{anchor}" fill="currentColor">{words}</text>'
        for x, anchor, words in ticks
    ]
    blocks.append(f'<text x="0" y="{top + 2 * FONT_PX + 18}" fill="currentColor">{html.escape(label)}</text>')
    return "".join(blocks)


def histograms_chart(
    before: np.ndarray, after: np.ndarray, labels: Mapping[str, str] | None = None, bins: int = 60
) -> str:
    """Histograms of a map's values before and after the activation, on shared bins (``torch.histc``), log y (SVG).

    Args:
        labels: texts: ``before``, ``after``, ``value``, ``count``.
    """
    text = {"before": "before", "after": "after", "value": "value", "count": "pixels (log scale)"} | dict(labels or {})
    low = float(min(before.min(), after.min()))
    high = float(max(before.max(), after.max()))
    high = high if high > low else low + 1.0
    edges = np.linspace(low, high, bins + 1)
    centres = (edges[:-1] + edges[1:]) / 2
    counts = [
        torch.histc(torch.from_numpy(np.ascontiguousarray(values)), bins=bins, min=low, max=high).numpy()
        for values in (before, after)
    ]
    top = 10 ** math.ceil(math.log10(max(float(np.max(c)) for c in counts)) + 1e-12)
    # The y axis starts at 0.5: a bin holding one pixel still shows.
    chart = Chart(width=460, height=320, x_label=text["value"], y_label=text["count"], y_log=True, y_range=(0.5, top))
    for values, name, colour in ((counts[0], text["before"], "rgba(107,114,128,0.6)"),
                                 (counts[1], text["after"], "rgba(37,99,235,0.6)")):  # fmt: skip
        hover = [f"{name}, {x:.3g}: {count:.0f}" for x, count in zip(centres, values, strict=True)]
        chart.bars(centres, values, colour, name, bar_width=(high - low) / bins / 0.85, hover=hover)
    return chart.svg()


def map_picture_html(values: np.ndarray, title: str = "", small_side: int = 240) -> str:
    """A feature map as a picture (``figures.map_to_image``'s colours) above its colour bar, as one HTML block.

    The picture fills its column; a map shorter than ``small_side`` is enlarged with square pixels first
    (browsers smooth small images when they enlarge them).
    """
    picture, scale = map_to_image(values)
    shown = picture_html(png(upscale_nearest(picture, small_side)), title, "width:100%;object-fit:fill")
    return f"<div>{shown}{scale_legend_html(scale)}</div>"
