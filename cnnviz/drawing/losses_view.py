"""The Loss functions lesson's scrubbing views: a sigmoid unit's z and target; four logits and label smoothing.

The sigmoid view's frame shows, for one z and one target (y = 0 or y = 1): p = σ(z) and both
losses' dL/dz by autograd (``losses.sigmoid_gradients_at``), the loss and gradient charts with
z marked (``loss_charts.sigmoid_loss_svgs``, polylines thinned as ``activations_view`` does), and
whether the unit is confidently wrong. z moves in tenths (-10..10, 201 frames).

A frame shows, for one setting of the logits and the smoothing (and the page's right class):
the cross-entropy, the target's entropy and KL(y ‖ p), the probability and gradient charts,
how close autograd's gradient is to p - y, and, drawn in a place below the view (``PLACES``), the
PyTorch code for the setting (``codegen.cross_entropy``). Every number comes from
``cnnviz.losses.softmax_cross_entropy`` and every chart from ``loss_charts.softmax_svgs``;
``softmax_frame_set`` draws the frames (``cnnviz.drawing.frames``) that
``cnnviz/frontend/scrub_view.js`` swaps while a slider is dragged.

The sliders move in whole steps (a view's sliders hold integers): a logit in tenths
(-50..50 is -5.0..5.0), the smoothing in hundredths (0..50 by 5 is 0..0.5 by 0.05); each
slider's ``texts`` write the setting as a student reads it.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Mapping

from cnnviz import codegen, i18n, losses
from cnnviz.drawing import loss_charts
from cnnviz.drawing.activations_view import thin_polylines
from cnnviz.drawing.frames import Slider, frame_sets
from cnnviz.drawing.markup import code_html

CLASSES = ("cat", "dog", "bird", "fish")
#: name -> (low, high, default, step) in whole steps of 1 / SCALES[name]; URL keys ``loss.<name>``.
SOFTMAX_SLIDERS: dict[str, tuple[int, int, int, int]] = {
    "logit0": (-50, 50, 20, 1),
    "logit1": (-50, 50, 10, 1),
    "logit2": (-50, 50, 5, 1),
    "logit3": (-50, 50, -10, 1),
    "smoothing": (0, 50, 0, 5),
}
#: The setting is the slider's value divided by this (tenths of a logit, hundredths of ε).
SCALES = {"logit0": 10, "logit1": 10, "logit2": 10, "logit3": 10, "smoothing": 100}
#: The view's class (its CSS lays the two charts side by side).
VIEW_CLASS = "loss-softmax"
#: The softmax frames' slots drawn in places, not in the view: the code panel (``ui.view_code_panel``).
PLACES: dict[str, list[int]] = {"code": [4]}
METRICS = (("ce", "loss.ce_value"), ("entropy", "loss.entropy"), ("kl", "loss.kl"))
#: The sigmoid view's sliders: name -> (low, high, default, step); URL keys ``loss.z``, ``loss.target``.
SIGMOID_SLIDERS: dict[str, tuple[float, float, float, float]] = {"z": (-10.0, 10.0, -5.0, 0.1), "target": (0, 1, 1, 1)}
SIGMOID_DEFAULTS = {name: default for name, (_, _, default, _) in SIGMOID_SLIDERS.items()}
SIGMOID_METRICS = (("p", "loss.p"), ("mse_grad", "loss.mse_grad"), ("ce_grad", "loss.ce_grad"))


def logits_of(settings: Mapping[str, int]) -> list[float]:
    """The four logits a setting holds (whole tenths -> floats)."""
    return [settings[f"logit{i}"] / SCALES[f"logit{i}"] for i in range(len(CLASSES))]


def smoothing_of(settings: Mapping[str, int]) -> float:
    return settings["smoothing"] / SCALES["smoothing"]


def value_text(name: str, value: int) -> str:
    """A slider's value as the student reads it: '−1.5' for a logit, '0.05' for the smoothing."""
    decimals = len(str(SCALES[name])) - 1
    return f"{value / SCALES[name]:.{decimals}f}".replace("-", "−")


def _number(value: float, digits: int = 4) -> str:
    return f"{value:.{digits}g}".replace("-", "−")


def _metrics(values: Mapping[str, float], names: tuple[tuple[str, str], ...], lang: str) -> str:
    """Numbers in a row, each with its full value in ``data-value`` (the browser tests read it)."""
    boxes = "".join(
        f'<div class="scrub-metric" data-name="{name}" data-value="{values[name]!r}">'
        f'<div class="scrub-metric-label">{html.escape(i18n.translate(key, lang))}</div>'
        f'<div class="scrub-metric-value">{_number(values[name])}</div></div>'
        for name, key in names
    )
    return f'<div class="loss-metrics">{boxes}</div>'


def _stable_id(svg_text: str, name: str) -> str:
    """The chart's clip path named ``name``, not numbered per drawing: the same chart is the same text
    (a shared part), and one frame is on show at a time, so the id is unique on the page."""
    return re.sub(r"cnnviz-plot-\d+", name, svg_text)


def softmax_frame(settings: Mapping[str, int], target_class: int, lang: str = i18n.DEFAULT_LANGUAGE) -> tuple[str, ...]:
    """The view for one setting: (the three numbers, the probability chart, the gradient chart, the check,
    and in place "code": the PyTorch code that computes the loss and its gradient).

    Args:
        settings: {"logit0".."logit3", "smoothing"} -> slider value (see ``SOFTMAX_SLIDERS``).
        target_class: index of the right class in ``CLASSES``.
        lang: the interface language.

    Raises:
        ValueError: from ``losses.softmax_cross_entropy`` (a class out of range).
    """
    return _softmax_frame(tuple(settings[name] for name in SOFTMAX_SLIDERS), target_class, lang)


@functools.lru_cache(maxsize=4096)  # a drag back over the same values, or a second student, draws nothing
def _softmax_frame(values: tuple[int, ...], target_class: int, lang: str) -> tuple[str, ...]:
    settings = dict(zip(SOFTMAX_SLIDERS, values, strict=True))
    result = losses.softmax_cross_entropy(logits_of(settings), target_class, smoothing_of(settings))
    names = [i18n.translate(f"loss.class.{name}", lang) for name in CLASSES]
    labels = {key: i18n.translate(f"loss.fig_softmax.{key}", lang) for key in ("probability", "target", "grad")}
    chances, gradient = loss_charts.softmax_svgs(result, names, labels)
    check = i18n.translate("loss.softmax_check", lang, gap=f"{result.formula_gap:.1e}")
    code = codegen.cross_entropy(logits_of(settings), target_class, smoothing_of(settings), names[target_class])
    return (
        _metrics({"ce": result.loss, "entropy": result.entropy, "kl": result.kl}, METRICS, lang),
        _stable_id(chances, "loss-softmax-probability"),
        _stable_id(gradient, "loss-softmax-gradient"),
        f'<div class="cnnviz-caption"><p>{html.escape(check)}</p></div>',
        code_html(code, i18n.translate("ui.copy", lang)),
    )


def softmax_frame_set(values: Mapping[str, int], target_class: int, lang: str = i18n.DEFAULT_LANGUAGE) -> dict:
    """``softmax_frame`` for every value of each slider around ``values`` (see ``frames``)."""
    sliders = []
    for name, (low, high, _, step) in SOFTMAX_SLIDERS.items():
        if name == "smoothing":
            label = i18n.translate("loss.smoothing", lang)
        else:  # "Logit for dog"
            class_name = i18n.translate(f"loss.class.{CLASSES[int(name[-1])]}", lang)
            label = i18n.translate("loss.logit", lang, name=class_name)
        texts = tuple(value_text(name, value) for value in range(low, high + 1, step))
        sliders.append(Slider(name, label, low, high, values[name], step, texts=texts))
    draw = lambda settings: softmax_frame(settings, target_class, lang)  # noqa: E731
    layout = {"class": VIEW_CLASS, "inline": [1, 2]}  # the two charts side by side
    return frame_sets(sliders, draw, layout, places=PLACES)


def sigmoid_frame(settings: Mapping[str, float], lang: str = i18n.DEFAULT_LANGUAGE) -> tuple[str, ...]:
    """The sigmoid view for one setting: (p and both gradients, the loss chart, the gradient chart, the caption).

    Args:
        settings: {"z": the unit's input, "target": 0 or 1} (see ``SIGMOID_SLIDERS``).
        lang: the interface language.
    """
    return _sigmoid_frame(round(float(settings["z"]), 9), int(settings["target"]), lang)


@functools.lru_cache(maxsize=1024)
def _sigmoid_frame(z: float, target: int, lang: str) -> tuple[str, ...]:
    p, mse_grad, ce_grad = losses.sigmoid_gradients_at(z, float(target))
    labels = {key: i18n.translate(f"loss.fig_sigmoid.{key}", lang) for key in ("loss", "grad", "z", "mse", "ce")}
    loss_chart, grad_chart = loss_charts.sigmoid_loss_svgs(_sigmoid_curves(target), z, labels)
    ratio = _number(abs(ce_grad / mse_grad), 3) if mse_grad else "∞"
    wrong = abs(p - target) > 0.5  # the unit is on the wrong side of 0.5
    caption = i18n.translate("loss.sigmoid_wrong" if wrong else "loss.sigmoid_right", lang, ratio=ratio)
    return (
        _metrics({"p": p, "mse_grad": mse_grad, "ce_grad": ce_grad}, SIGMOID_METRICS, lang),
        _stable_id(thin_polylines(loss_chart), "loss-sigmoid-loss"),
        _stable_id(thin_polylines(grad_chart), "loss-sigmoid-grad"),
        f'<div class="cnnviz-caption"><p>{html.escape(caption)}</p></div>',
    )


@functools.lru_cache(maxsize=2)
def _sigmoid_curves(target: int) -> losses.SigmoidLossCurves:
    return losses.sigmoid_loss_curves(float(target))


def sigmoid_frame_set(values: Mapping[str, float], lang: str = i18n.DEFAULT_LANGUAGE) -> dict:
    """``sigmoid_frame`` for every z given the target, and for both targets given z."""
    z_low, z_high, _, z_step = SIGMOID_SLIDERS["z"]
    sliders = [
        Slider("z", i18n.translate("loss.z", lang), z_low, z_high, float(values["z"]), z_step),
        Slider("target", i18n.translate("loss.target", lang), 0, 1, int(values["target"]), 1, texts=("y = 0", "y = 1")),
    ]
    draw = lambda settings: sigmoid_frame(settings, lang)  # noqa: E731
    return frame_sets(sliders, draw, {"class": "loss-sigmoid", "inline": [1, 2]})  # the two charts side by side
