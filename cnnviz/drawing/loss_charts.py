"""The Loss functions lesson's charts, as SVG text drawn from ``cnnviz.losses`` results.

Sigmoid-output losses and their gradients, a unit trained with each loss, softmax
probabilities and gradients, residual losses and an outlier's pull. Shown with ``st.html``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cnnviz.drawing import charts
from cnnviz.losses import OutlierFits, SigmoidLossCurves, SoftmaxResult, Trajectory

MSE_COLOR, CE_COLOR, HUBER_COLOR, CLEAN_COLOR = "#dc2626", "#2563eb", "#059669", "#6b7280"

POINT_COLOR, TARGET_COLOR = "#6b7280", "#111827"
#: Height of one legend row in a chart (charts.Chart lays them out this way); lets two charts' plots line up.
LEGEND_ROW_PX = charts.FONT_PX + 8


def _curve_pair(
    titles: tuple[str, str], x_label: str, curves: Sequence[tuple[str, str, np.ndarray, np.ndarray, np.ndarray]],
    width: int, height: int,
) -> tuple[charts.Chart, charts.Chart]:  # fmt: skip
    """Two charts on the same x: each curve ``(name, colour, x, left_y, right_y)`` drawn on both."""
    left = charts.Chart(width, height, titles[0], x_label)
    right = charts.Chart(width, height, titles[1], x_label)
    for name, colour, x, left_y, right_y in curves:
        left.line(x, left_y, colour, legend=name, width=3)
        right.line(x, right_y, colour, legend=name, width=3)
    return left, right


def sigmoid_loss_svgs(
    curves: SigmoidLossCurves, marker_z: float | None = None, labels: dict[str, str] | None = None
) -> tuple[str, str]:
    """Loss (left) and dL/dz (right) against z for MSE and cross-entropy on a sigmoid output: two SVG charts.

    Args:
        marker_z: a dashed vertical line at this z on both charts, and a dot on each curve there.
        labels: texts: ``loss``, ``grad``, ``z``, ``mse``, ``ce``.
    """
    text = {
        "loss": "loss",
        "grad": "dL/dz",
        "z": "z (input of the sigmoid)",
        "mse": "MSE",
        "ce": "cross-entropy",
    } | dict(labels or {})
    series = [
        (text["mse"], MSE_COLOR, curves.z, curves.mse, curves.mse_grad),
        (text["ce"], CE_COLOR, curves.z, curves.ce, curves.ce_grad),
    ]
    left, right = _curve_pair((text["loss"], text["grad"]), text["z"], series, 330, 300)
    for chart in (left, right):
        chart.x_range = (float(curves.z[0]), float(curves.z[-1]))
    if marker_z is not None:
        for chart in (left, right):
            chart.vline(marker_z, POINT_COLOR)
        for name, colour, z, loss_values, grads in series:
            for chart, values in ((left, loss_values), (right, grads)):
                value = float(np.interp(marker_z, z, values))  # the grid has the slider's points
                chart.dots([marker_z], [value], colour, size=9, hover=[f"{name}, z = {marker_z:.3g}: {value:.4g}"])
    return left.svg(), right.svg()


def trajectories_svgs(runs: Sequence[Trajectory], labels: dict[str, str] | None = None) -> tuple[str, str]:
    """SVG charts of accuracy (left, dashed where each run first gets every point right) and gradient size (log).

    Args:
        labels: texts: ``accuracy``, ``grad``, ``step``, and a name per loss key (``mse``, ``bce``).
    """
    text = {
        "accuracy": "points classified right (%)",
        "grad": "gradient size |dL/d(w, b)| (log)",
        "step": "step",
        "mse": "MSE",
        "bce": "cross-entropy",
    } | dict(labels or {})
    colours = {"mse": MSE_COLOR, "bce": CE_COLOR}
    series = [
        (text[run.loss_key], colours[run.loss_key], np.arange(len(run.loss)), 100 * run.accuracy, run.grad_norm)
        for run in runs
    ]
    accuracy, gradient = _curve_pair((text["accuracy"], text["grad"]), text["step"], series, 440, 300)
    accuracy.y_range = (-5.0, 105.0)
    gradient.y_log = True
    for run in runs:
        if run.solved_at is not None:
            accuracy.vline(run.solved_at, colours[run.loss_key])
    return accuracy.svg(), gradient.svg()


def _signed(value: float) -> str:
    return f"{value:+.3f}".replace("-", "−")


def softmax_svgs(
    result: SoftmaxResult, class_names: Sequence[str], labels: dict[str, str] | None = None
) -> tuple[str, str]:
    """SVG charts with a row per class: the probability with the target marked (left), and dL/dz (right)."""
    text = {"probability": "probability p", "target": "target y", "grad": "dL/dz = p - y"} | dict(labels or {})
    names = list(class_names)
    rows = np.arange(len(names))[::-1]  # hbars put the first class on top
    height = 60 + 44 * len(names)
    chances = charts.Chart(330, height, text["probability"], x_range=(0.0, 1.3), categories=names)
    chances.hbars(result.probabilities, CE_COLOR, hover=[
        f"{name}: p = {p:.3f}, y = {y:.3f}" for name, p, y in zip(names, result.probabilities, result.target, strict=True)
    ])  # fmt: skip
    # The target as a short upright tick on each class's bar: one line, broken by NaN between classes.
    tick_x = np.repeat(result.target, 3)
    tick_x[2::3] = np.nan
    tick_y = np.stack([rows - 0.4, rows + 0.4, rows], axis=1).ravel()
    chances.line(tick_x, tick_y, TARGET_COLOR, legend=text["target"], width=3)
    for p, y, row in zip(result.probabilities, result.target, rows, strict=True):
        chances.text(max(p, y) + 0.14, row, f"{p:.3f}")  # right of the bar and of the target tick
    # No legend here: a shorter chart keeps both plots the same height.
    gradient = charts.Chart(330, height - LEGEND_ROW_PX, text["grad"], x_range=(-1.6, 1.6), categories=names)
    pushes_up = result.gradient < 0  # gradient descent raises this logit
    hover = [f"{name}: dL/dz = {_signed(g)}" for name, g in zip(names, result.gradient, strict=True)]
    gradient.hbars(np.where(pushes_up, result.gradient, 0.0), MSE_COLOR, hover=hover)
    gradient.hbars(np.where(pushes_up, 0.0, result.gradient), CLEAN_COLOR, hover=hover)
    for g, row in zip(result.gradient, rows, strict=True):
        gradient.text(g + (0.28 if g >= 0 else -0.28), row, _signed(g))
    return chances.svg(), gradient.svg()


def residual_svgs(curves: dict[str, np.ndarray], delta: float, labels: dict[str, str] | None = None) -> tuple[str, str]:
    """SVG charts of the loss of one residual r and of dL/dr, MSE against Huber, with |r| = delta marked."""
    text = {
        "loss": "loss of one point",
        "grad": "its gradient dL/dr",
        "r": "residual r = prediction - target",
        "mse": "MSE",
        "huber": "Huber",
    } | dict(labels or {})
    series = [
        (text[key], colour, curves["r"], curves[key], curves[f"{key}_grad"])
        for key, colour in (("mse", MSE_COLOR), ("huber", HUBER_COLOR))
    ]
    loss, gradient = _curve_pair((text["loss"], text["grad"]), text["r"], series, 440, 230)
    for chart in (loss, gradient):
        chart.x_range = (float(curves["r"][0]), float(curves["r"][-1]))
        chart.vline(-delta, HUBER_COLOR, legend="|r| = δ")
        chart.vline(delta, HUBER_COLOR)
    return loss.svg(), gradient.svg()


def outlier_svg(fits: OutlierFits, labels: dict[str, str] | None = None) -> str:
    """The points (outlier in red), the MSE and Huber lines fitted to all points, and the clean fit, as SVG."""
    text = {
        "points": "points",
        "outlier": "outlier",
        "mse": "MSE fit",
        "huber": "Huber fit",
        "clean": "fit without the outlier",
    } | dict(labels or {})
    inliers = np.arange(len(fits.x)) != fits.outlier
    hover = [f"x = {x:.3g}, y = {y:.3g}" for x, y in zip(fits.x, fits.y, strict=True)]
    chart = charts.Chart(440, 470, x_label="x", y_label="y")
    ends = np.array([fits.x.min(), fits.x.max()])
    for key, colour, dashed in (("mse_clean", CLEAN_COLOR, True), ("mse", MSE_COLOR, False),
                                ("huber", HUBER_COLOR, False)):  # fmt: skip
        slope, intercept = fits.fits[key]
        name = text["clean"] if key == "mse_clean" else text[key]
        equation = f"y = {slope:.3f} x {'−' if intercept < 0 else '+'} {abs(intercept):.3f}"
        chart.line(ends, slope * ends + intercept, colour, legend=f"{name}: {equation}", width=3, dashed=dashed)
    chart.dots(fits.x[inliers], fits.y[inliers], TARGET_COLOR, legend=text["points"], size=8,
               hover=[tip for tip, keep in zip(hover, inliers, strict=True) if keep])  # fmt: skip
    chart.dots(fits.x[~inliers], fits.y[~inliers], MSE_COLOR, legend=text["outlier"], size=14, hollow=True,
               hover=[hover[fits.outlier]])  # fmt: skip
    return chart.svg()
