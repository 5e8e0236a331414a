"""What the Activation functions lesson draws: curves with their flat stretches shaded,
gradient norms per layer, dead units, histograms of a feature map.

The numbers come from ``cnnviz.activations``; these functions only draw them and return
the ``go.Figure``. No LaTeX inside plotly (the app works offline): formulas go in ``st.latex``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go
import torch

from cnnviz.activations import Curve, flat_regions, get

COLORS = ("#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#db2777", "#0891b2", "#4b5563")
# Shading of flat stretches on the plot, and the (stronger) swatch for the legend.
FILLS = {
    "dead": ("rgba(220,38,38,0.13)", "rgba(220,38,38,0.45)"),
    "saturated": ("rgba(245,158,11,0.16)", "rgba(245,158,11,0.55)"),
}


def curves_figure(
    curves: list[Curve],
    threshold: float,
    names: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    extra: list[Curve] | None = None,
) -> go.Figure:
    """f (solid) and f' (dashed) of several activations, with the first one's flat regions shaded.

    Args:
        curves: the activations to draw; the first one's dead/saturated stretches are shaded.
        threshold: |f'| below it counts as saturated.
        names: display name per key (defaults to the registry's labels).
        labels: texts: ``x``, ``value``, ``slope`` (legend suffix for f'), ``dead``, ``saturated``,
            ``training`` (suffix for extra curves).
        extra: curves drawn as dots (RReLU in training: one random slope per point).
    """
    text = {
        "x": "x",
        "value": "f(x) and f'(x)",
        "slope": "slope",
        "dead": "slope exactly 0",
        "saturated": "saturated: |slope| < {threshold:g}",
        "training": "training",
    } | dict(labels or {})
    names = dict(names or {})
    figure = go.Figure()
    for i, item in enumerate(curves):
        color, name = COLORS[i % len(COLORS)], names.get(item.key, get(item.key).label)
        figure.add_scatter(
            x=item.x,
            y=item.y,
            name=f"{name}",
            line={"color": color, "width": 3},
            hovertemplate="x = %{x:.4g}<br>f(x) = %{y:.6g}<extra>" + name + "</extra>",
        )
        figure.add_scatter(
            x=item.x,
            y=item.dy,
            name=f"{name} {text['slope']}",
            line={"color": color, "dash": "dash"},
            hovertemplate="x = %{x:.4g}<br>f'(x) = %{y:.6g}<extra>" + name + "</extra>",
        )
    colors = {item.key: COLORS[i % len(COLORS)] for i, item in enumerate(curves)}
    for item in extra or []:
        color = colors.get(item.key, "gray")
        name = f"{names.get(item.key, get(item.key).label)} ({text['training']})"
        every = max(1, len(item.x) // 120)  # a dot every few grid points stays readable
        for values, suffix in ((item.y, ""), (item.dy, f" {text['slope']}")):
            figure.add_scatter(
                x=item.x[::every],
                y=values[::every],
                mode="markers",
                name=name + suffix,
                marker={"color": color, "size": 5, "symbol": "circle-open" if suffix else "circle"},
            )
    if curves:
        regions = flat_regions(curves[0], threshold)
        # Plain layout shapes: add_vrect does the same but costs ~30 ms a rectangle.
        figure.update_layout(
            shapes=[
                {"type": "rect", "xref": "x", "yref": "paper", "x0": region.start, "x1": region.end, "y0": 0, "y1": 1,
                 "line": {"width": 0}, "layer": "below", "fillcolor": FILLS[region.kind][0]}
                for region in regions
            ]
        )  # fmt: skip
        first = names.get(curves[0].key, get(curves[0].key).label)
        for kind in sorted({region.kind for region in regions}):  # legend entries for the shading shown
            figure.add_scatter(
                x=[None],
                y=[None],
                mode="markers",
                name=f"{first}: {text[kind].format(threshold=threshold)}",
                marker={"symbol": "square", "size": 14, "color": FILLS[kind][1]},
            )
    figure.update_layout(
        height=460,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        hovermode="closest",
        legend={"orientation": "h", "y": -0.15},
        plot_bgcolor="white",
    )
    figure.update_xaxes(title=text["x"], zeroline=True, zerolinecolor="#9ca3af", gridcolor="#eef0f3")
    figure.update_yaxes(title=text["value"], zeroline=True, zerolinecolor="#9ca3af", gridcolor="#eef0f3")
    return figure


def gradient_norms_figure(
    norms: Mapping[str, np.ndarray],
    reference_slope: float | None = None,
    names: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
) -> go.Figure:
    """Gradient norm per layer on a log scale, one line per activation.

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
    names = dict(names or {})
    figure = go.Figure()
    for i, (key, values) in enumerate(norms.items()):
        layers = np.arange(1, len(values) + 1)
        name = names.get(key, get(key).label)
        figure.add_scatter(
            x=layers,
            y=values,
            name=name,
            mode="lines+markers",
            line={"color": COLORS[i % len(COLORS)]},
            hovertemplate="layer %{x}: %{y:.3e}<extra>" + name + "</extra>",
        )
    if reference_slope is not None and norms:
        values = next(iter(norms.values()))
        depth = len(values)
        layers = np.arange(1, depth + 1)
        figure.add_scatter(
            x=layers,
            y=values[-1] * reference_slope ** (depth - layers),
            mode="lines",
            name=text["reference"].format(slope=reference_slope),
            line={"color": "#6b7280", "dash": "dot"},
            hovertemplate="layer %{x}: %{y:.3e}<extra></extra>",
        )
    figure.update_layout(
        height=400,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        plot_bgcolor="white",
        legend={"orientation": "h", "y": -0.2},
    )
    figure.update_xaxes(title=text["layer"], gridcolor="#eef0f3")
    figure.update_yaxes(title=text["norm"], type="log", exponentformat="power", gridcolor="#eef0f3")
    return figure


def dead_fraction_figure(
    curves: Mapping[str, tuple[list[float], list[float]]],
    chosen: float | None = None,
    names: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    log_x: bool = True,
) -> go.Figure:
    """Share of dead units against the push (learning rate or bias shift), one line per activation.

    Args:
        curves: per key, (amounts, dead fractions).
        chosen: a vertical marker at the amount shown elsewhere on the page.
        labels: texts: ``amount`` (x axis), ``dead``.
        log_x: a log x axis (learning rates); linear for bias shifts.
    """
    text = {"amount": "learning rate of the one step (log scale)", "dead": "dead units (%)"} | dict(labels or {})
    names = dict(names or {})
    figure = go.Figure()
    for i, (key, (amounts, fractions)) in enumerate(curves.items()):
        name = names.get(key, get(key).label)
        figure.add_scatter(
            x=amounts,
            y=100 * np.asarray(fractions),
            name=name,
            mode="lines+markers",
            line={"color": COLORS[i % len(COLORS)], "dash": ("solid", "dash", "dot")[i % 3]},
            hovertemplate="%{x:.3g}: %{y:.1f}%<extra>" + name + "</extra>",
        )
    if chosen is not None:
        figure.add_shape(type="line", x0=chosen, x1=chosen, xref="x", y0=0, y1=1, yref="paper",
                         line={"color": "#6b7280", "dash": "dot"})  # fmt: skip
    figure.update_layout(
        height=360,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        plot_bgcolor="white",
        legend={"orientation": "h", "y": -0.25},
    )
    figure.update_xaxes(title=text["amount"], type="log" if log_x else "linear", gridcolor="#eef0f3")
    figure.update_yaxes(title=text["dead"], rangemode="tozero", gridcolor="#eef0f3")
    return figure


def units_figure(passing_share: np.ndarray, label: str = "share of inputs passing a gradient") -> go.Figure:
    """The hidden units as a square grid of cells: dark = dead (passes a gradient for no input)."""
    side = math.ceil(math.sqrt(len(passing_share)))
    grid = np.full(side * side, np.nan)
    grid[: len(passing_share)] = passing_share
    figure = go.Figure(
        go.Heatmap(
            z=grid.reshape(side, side),
            zmin=0,
            zmax=1,
            xgap=2,
            ygap=2,
            colorscale=[[0, "#111827"], [0.001, "#fde68a"], [1, "#15803d"]],
            colorbar={"title": {"text": label, "side": "right"}, "thickness": 10, "tickformat": ".0%"},
            hovertemplate="unit %{customdata}: %{z:.0%}<extra></extra>",
            customdata=np.arange(side * side).reshape(side, side),
        )
    )
    figure.update_layout(height=330, margin={"l": 10, "r": 10, "t": 10, "b": 10}, plot_bgcolor="white")
    figure.update_xaxes(visible=False, constrain="domain")
    figure.update_yaxes(visible=False, autorange="reversed", scaleanchor="x")
    return figure


def histograms_figure(
    before: np.ndarray, after: np.ndarray, labels: Mapping[str, str] | None = None, bins: int = 60
) -> go.Figure:
    """Histograms of a map's values before and after the activation, on shared bins (``torch.histc``).

    Args:
        labels: texts: ``before``, ``after``, ``value``, ``count``.
    """
    text = {"before": "before", "after": "after", "value": "value", "count": "pixels (log scale)"} | dict(labels or {})
    low = float(min(before.min(), after.min()))
    high = float(max(before.max(), after.max()))
    high = high if high > low else low + 1.0
    edges = np.linspace(low, high, bins + 1)
    figure = go.Figure()
    for values, name, color in ((before, text["before"], "#6b7280"), (after, text["after"], COLORS[0])):
        counts = torch.histc(torch.from_numpy(np.ascontiguousarray(values)), bins=bins, min=low, max=high).numpy()
        figure.add_bar(
            x=(edges[:-1] + edges[1:]) / 2,
            y=counts,
            width=(high - low) / bins,
            name=name,
            marker={"color": color},
            opacity=0.6,
            hovertemplate="%{x:.3g}: %{y:.0f}<extra>" + name + "</extra>",
        )
    figure.update_layout(
        barmode="overlay",
        height=300,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        plot_bgcolor="white",
        legend={"orientation": "h", "y": 1.12},
    )
    figure.update_xaxes(title=text["value"], gridcolor="#eef0f3")
    figure.update_yaxes(title=text["count"], type="log", gridcolor="#eef0f3")
    return figure
