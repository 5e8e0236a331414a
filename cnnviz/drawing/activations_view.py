"""The Activation functions lesson's scrubbing view: the chosen functions and their slopes, and,
drawn in places below the view, each function's formula, summary, value table and code.

A frame is the chart of f and f' (``activation_charts.curves_chart``) of the chosen
functions over the input range, for one setting of the range's ends and of the functions'
parameters, with its captions, and a warning for a function whose settings are impossible.
Every number comes from ``cnnviz.activations.curve`` (torch's own functions and autograd).
Each function's tab on the page (``describe_parts``: its formula as MathML, what its slope does
on the range, its exact values around 0, and ``codegen.activation``'s code) depends on the
sliders alone, so those are slots of the frames drawn in places (``places``): the page mounts
``fn.<key>`` and ``code.<key>`` in the function's tab, and they follow the pointer too.

A chart is ~40 kB of SVG at the page's 801 points per curve, and the view holds a frame for
every value of every slider (the range's ends: 81 values each): so a frame's curves have
``POINTS`` points, which draws the same picture at the chart's 580 px plot width.
A line's points that lie on the straight line through their neighbours (ReLU's flat half,
sigmoid's tails) are left out of the drawn SVG (``activation_charts.ThinChart``, ``thin_polylines``): a 2-function set
goes from ~220 kB to ~39 kB gzipped (``bench/RESULTS.md``).
A parameter slider with more than ``MAX_VALUES`` values (RReLU's bounds, in steps of 0.001)
would cost more frames than a drag is worth: it stays a Streamlit slider (``fixed``).
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch

from cnnviz import activations, codegen, i18n
from cnnviz.drawing import activation_charts
from cnnviz.drawing.frames import Slider, frame_sets
from cnnviz.drawing.markup import code_html, markdown_html
from cnnviz.drawing.mathml import formula_mathml

#: The input range's ends: name -> (low, high, default, step); URL keys ``act.low``, ``act.high``.
RANGE_SLIDERS: dict[str, tuple[float, float, float, float]] = {
    "low": (-20.0, 20.0, -6.0, 0.5),
    "high": (-20.0, 20.0, 6.0, 0.5),
}
#: Points per curve in a frame (the page's table and summaries use the engine's 801).
POINTS = 241
#: A parameter with more values than this stays a Streamlit slider.
MAX_VALUES = 101
FIGURE_LABELS = ("x", "value", "slope", "dead", "saturated", "training")
#: Where the value table (and the PyTorch snippet) gives exact values: at, around and away from 0.
SAMPLE_POINTS = (-2.0, -0.5, -0.001, 0.0, 0.001, 0.5, 2.0)
#: A function's slots after the view's two (the chart, the warnings), in this order.
PARTS = ("formula", "summary", "table", "code")


#: How far (pixels) a dropped point may lie from the line drawn instead: below the SVG's 0.1 px rounding.
THIN_PX = 0.15
_POINTS = re.compile(r'(<polyline points=")([^"]*)(")')


def _thin(points: str) -> str:
    """Douglas-Peucker (``activation_charts.thin_mask``) on a polyline's written points."""
    xy = np.array([pair.split(",") for pair in points.split()], float)
    return " ".join(f"{x:g},{y:g}" for x, y in xy[activation_charts.thin_mask(xy, THIN_PX)])


def thin_polylines(svg: str) -> str:
    """The SVG with each polyline's points that lie within ``THIN_PX`` of the line drawn
    without them dropped: the same picture, in fewer bytes. (A frame's chart is drawn thinned,
    ``activation_charts.curves_chart(..., thin_px=THIN_PX)``, which gives the same SVG without
    writing and reading back the points it drops.)"""
    return _POINTS.sub(lambda match: match[1] + _thin(match[2]) + match[3], svg)


def parameter_sliders(keys: tuple[str, ...]) -> dict[str, tuple[float, float, float, float]]:
    """The view's parameter sliders for the chosen functions: ``"<key>.<parameter>"`` -> (low, high, default, step)."""
    found = {}
    for key in keys:
        for parameter in activations.get(key).parameters:
            if round((parameter.high - parameter.low) / parameter.step) + 1 <= MAX_VALUES:
                found[f"{key}.{parameter.name}"] = (parameter.low, parameter.high, parameter.default, parameter.step)
    return found


@dataclass(frozen=True)
class CurvesSettings:
    """What the view's sliders do not change: the functions, the flatness threshold, and the
    parameters set outside the view (``"<key>.<parameter>"``, value pairs)."""

    keys: tuple[str, ...]
    threshold: float = 0.05
    fixed: tuple[tuple[str, float], ...] = ()


def _note(text: str, kind: str) -> str:
    return f'<div class="cnnviz-note {kind}"><p>{html.escape(text)}</p></div>'


def _caption(text: str) -> str:
    return f'<div class="cnnviz-caption"><p>{html.escape(text)}</p></div>'


def _fmt(value: float) -> str:
    return f"{value:.3g}".replace("-", "−")


def places(keys: tuple[str, ...]) -> dict[str, list[int]]:
    """The frames' slots drawn in places: each function's formula, summary and table in ``fn.<key>``,
    its code in ``code.<key>`` (the page mounts both in the function's tab)."""
    found = {}
    for index, key in enumerate(keys):
        first = 2 + len(PARTS) * index
        found[f"fn.{key}"] = [first, first + 1, first + 2]
        found[f"code.{key}"] = [first + 3]
    return found


def _caption_md(text: str) -> str:
    return f'<div class="cnnviz-caption">{markdown_html(text)}</div>'


@functools.lru_cache(maxsize=64)
def _formula(key: str) -> str:
    return f'<div class="act-formula">{formula_mathml(activations.get(key).formula)}</div>'


@functools.lru_cache(maxsize=4096)  # a parameter slider's frames share the range; the range's share the parameters
def _summary(key: str, low: float, high: float, params: tuple, threshold: float, lang: str) -> str:
    """What the slope does on the range (the engine's curve at its own 801 points), then what the table shows."""
    curve = activations.curve(key, low, high, dict(params))
    summary = activations.slope_summary(curve, threshold)
    said = [
        i18n.translate(f"act.note.{key}", lang) + " "
        + i18n.translate("act.summary", lang, slope=_fmt(summary.max_slope), x=_fmt(summary.at_x),
                         dead=f"{summary.dead_share:.0%}", saturated=f"{summary.saturated_share:.0%}",
                         threshold=threshold)
    ]  # fmt: skip
    if key == "softplus":
        gap = activations.softplus_sigmoid_gap(curve, dict(params)["beta"])
        said.append(i18n.translate("act.softplus_check", lang, gap=f"{gap:.1e}"))
    said.append(i18n.translate("act.at_zero", lang))  # introduces the table below it
    return f'<div class="act-summary">{"".join(_caption_md(text) for text in said)}</div>'


def _number(value: float) -> str:
    return f"{value + 0.0:.6g}"  # st.dataframe's "%.6g" (+ 0.0: no "-0")


@functools.lru_cache(maxsize=4096)
def _table(key: str, params: tuple) -> str:
    """f and f' at ``SAMPLE_POINTS`` (torch, autograd) as a number table: a column per point."""
    x = torch.tensor(SAMPLE_POINTS, dtype=activations.DTYPE)
    values, slopes = activations.value_and_slope(key, x, dict(params))
    heads = "".join(f'<th scope="col">x = {point:g}</th>' for point in SAMPLE_POINTS)
    rows = "".join(
        f'<tr><th scope="row">{label}</th>{"".join(f"<td>{_number(v)}</td>" for v in row.tolist())}</tr>'
        for label, row in (("f(x)", values), ("f'(x)", slopes))
    )
    return (f'<div class="act-values"><table><thead><tr><th scope="col"></th>{heads}</tr></thead>'
            f"<tbody>{rows}</tbody></table></div>")  # fmt: skip


@functools.lru_cache(maxsize=4096)
def _code(key: str, params: tuple, lang: str) -> str:
    return code_html(codegen.activation(key, dict(params), SAMPLE_POINTS), i18n.translate("ui.copy", lang))


def describe_parts(key: str, every: Mapping[str, float], threshold: float, lang: str) -> tuple[str, str, str, str]:
    """A function's tab for one setting: its formula, what its slope does on the range, the table of its exact
    values and slopes around 0, and the PyTorch code that gives them (``PARTS``).

    Args:
        key: the function.
        every: {"low", "high", "<key>.<parameter>"...} -> value (a parameter not given: its default).
        threshold: |f'| below it counts as saturated.
        lang: the interface language.

    Raises:
        ValueError: for a range or parameters the engine refuses.
    """
    params = tuple((p.name, float(every.get(f"{key}.{p.name}", p.default))) for p in activations.get(key).parameters)
    summary = _summary(key, float(every["low"]), float(every["high"]), params, threshold, lang)
    return _formula(key), summary, _table(key, params), _code(key, params, lang)


def curves_frame(settings: CurvesSettings, values: Mapping[str, float], lang: str = i18n.DEFAULT_LANGUAGE) -> tuple:
    """The view for one setting: (the chart and its captions, the warnings, then for each function in
    ``settings.keys`` its ``PARTS``, drawn in places (``places``): "" each when the engine refuses it).

    Args:
        settings: the functions, the threshold and the parameters not on the view.
        values: {"low", "high", "<key>.<parameter>"...} -> value.
        lang: the interface language.
    """
    every = dict(settings.fixed) | {name: float(value) for name, value in values.items()}
    return _curves_frame(settings, tuple(sorted(every.items())), lang)


@functools.lru_cache(maxsize=2048)
def _curves_frame(settings: CurvesSettings, values: tuple[tuple[str, float], ...], lang: str) -> tuple[str, ...]:
    every = dict(values)
    low, high = every["low"], every["high"]
    names = {key: i18n.translate(f"act.name.{key}", lang) for key in activations.ACTIVATIONS}
    curves, warnings, described = [], [], []
    for key in settings.keys:  # a function whose settings are impossible is left out alone, saying why
        params = {p.name: every.get(f"{key}.{p.name}", p.default) for p in activations.get(key).parameters}
        try:
            curves.append(activations.curve(key, low, high, params, points=POINTS))
        except ValueError as error:
            said = _note(i18n.explain(error, lang) or str(error), "warning")
            warnings += [said] if said not in warnings else []  # an empty range refuses every function alike
            described += [""] * len(PARTS)
        else:
            described += describe_parts(key, every, settings.threshold, lang)
    if not curves:
        return "", "".join(warnings), *described
    extra = [activations.curve(curve.key, low, high, {p.name: every.get(f"rrelu.{p.name}", p.default)
                                                       for p in activations.get("rrelu").parameters},
                               points=POINTS, training=True)
             for curve in curves if curve.key == "rrelu"]  # fmt: skip
    labels = {name: i18n.translate(f"act.fig.{name}", lang) for name in FIGURE_LABELS}
    chart = activation_charts.curves_chart(curves, settings.threshold, names, labels, extra, thin_px=THIN_PX)
    captions = [_caption(i18n.translate("act.legend", lang, first=names[curves[0].key]))]
    slopes = extra[0].dy[extra[0].x < 0] if extra else []
    if len(slopes):  # the random slopes are on the negative side: none when the range starts at 0 or above
        evaluation = next(curve for curve in curves if curve.key == "rrelu").dy[0]
        captions.append(_caption(i18n.translate("act.rrelu_note", lang, low=_fmt(slopes.min()),
                                                high=_fmt(slopes.max()), eval=_fmt(evaluation))))  # fmt: skip
    return f'<div class="act-chart">{chart}</div>{"".join(captions)}', "".join(warnings), *described


def curves_frame_set(settings: CurvesSettings, values: Mapping[str, float], lang: str = i18n.DEFAULT_LANGUAGE) -> dict:
    """``curves_frame`` for every value of the range's ends and of each parameter slider around ``values``."""
    ranges = RANGE_SLIDERS | parameter_sliders(settings.keys)
    names = {key: i18n.translate(f"act.name.{key}", lang) for key in settings.keys}

    def label(name: str) -> str:
        if name in RANGE_SLIDERS:
            return i18n.translate(f"act.range.{name}", lang)
        key, parameter = name.split(".")
        return i18n.translate(
            "act.param", lang, function=names[key], parameter=i18n.translate(f"act.param.{parameter}", lang)
        )

    sliders = [Slider(name, label(name), low, high, values[name], step)
               for name, (low, high, _, step) in ranges.items()]  # fmt: skip
    return frame_sets(
        sliders,
        lambda setting: curves_frame(settings, setting, lang),
        {"class": "act-frame"},
        places=places(settings.keys),
    )
