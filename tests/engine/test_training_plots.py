"""Learning curves: every step of every run is drawn where its numbers say, in both panels."""

import numpy as np
import pytest

from cnnviz import training_plots
from cnnviz.training import StepMetrics
from tests import svg_charts

TITLES = ("Loss", "Accuracy")


def history(steps: int, every: int, scale: float = 1.0) -> list[StepMetrics]:
    """A made-up run: loss falling from ``2 * scale``, accuracy rising, held out every ``every`` steps."""
    return [
        StepMetrics(
            step, step / 10, 2 * scale / step, 1 - 1 / step,
            heldout_loss=scale / step if step % every == 0 else None,
            heldout_accuracy=1 - 0.5 / step if step % every == 0 else None,
        )
        for step in range(1, steps + 1)
    ]  # fmt: skip


def test_each_panel_draws_every_step_and_every_evaluation():
    runs = {"#1 sgd": history(12, 4), "#2 adam": history(7, 3, scale=2.0)}
    html = training_plots.learning_curves(runs, TITLES, "step")
    loss, accuracy = svg_charts.charts(html)  # left, right
    assert {"Loss", "step", "#1 sgd", "#2 adam"} <= set(svg_charts.texts(loss))
    assert {"Accuracy", "step", "#1 sgd", "#2 adam"} <= set(svg_charts.texts(accuracy))
    for (label, metrics), colour in zip(runs.items(), training_plots.PALETTE, strict=False):
        heldout = [m for m in metrics if m.heldout_loss is not None]
        for chart in (loss, accuracy):
            train = svg_charts.polylines(chart, colour + training_plots.TRAIN_ALPHA)
            assert len(train) == 1 and train[0].get("stroke-dasharray")  # training: one dotted line
            assert len(svg_charts.points(train[0])) == len(metrics)  # a point per step
            (line,) = svg_charts.polylines(chart, colour)
            assert len(svg_charts.points(line)) == len(heldout)
            assert len(svg_charts.dots(chart, colour)) == len(heldout)
        tips = [svg_charts.hover(d) for d in svg_charts.dots(loss, colour)]
        assert tips == [f"{label} · step {m.step}: {m.heldout_loss:.3g}" for m in heldout]


def test_points_land_on_their_steps_and_values():
    metrics = history(10, 5)
    loss, accuracy = svg_charts.charts(training_plots.learning_curves({"run": metrics}, TITLES))
    colour = training_plots.PALETTE[0]
    heldout = [m for m in metrics if m.heldout_loss is not None]  # steps 5 and 10
    for chart, values in ((loss, [m.heldout_loss for m in heldout]), (accuracy, [m.heldout_accuracy for m in heldout])):
        left, top, width, height = svg_charts.frame(chart)
        (line,) = svg_charts.polylines(chart, colour)
        (train,) = svg_charts.polylines(chart, colour + training_plots.TRAIN_ALPHA)
        xy, train_xy = svg_charts.points(line), svg_charts.points(train)
        assert np.diff(train_xy[:, 0]) == pytest.approx([train_xy[1, 0] - train_xy[0, 0]] * 9, abs=0.11)  # evenly
        assert xy[:, 0] == pytest.approx(train_xy[[4, 9], 0], abs=0.01)  # held-out steps on the steps' x
        assert left < train_xy[0, 0] and train_xy[-1, 0] < left + width  # the end dots are not cut
        assert (train_xy[:, 1] > top).all()  # the highest (smoothed) training loss is inside the frame
        heights = top + height - xy[:, 1]
        assert heights / heights[0] == pytest.approx(np.array(values) / values[0], abs=0.01)  # from zero
    _, top, _, height = svg_charts.frame(accuracy)
    (line,) = svg_charts.polylines(accuracy, colour)
    accuracy_heights = top + height - svg_charts.points(line)[:, 1]
    assert accuracy_heights / height == pytest.approx([0.9 / 1.02, 0.95 / 1.02], abs=0.002)  # the axis is 0..1.02


def test_no_runs_still_draws_two_empty_panels():
    loss, accuracy = svg_charts.charts(training_plots.learning_curves({}, TITLES))
    assert not list(loss.iter(f"{svg_charts.SVG}polyline")) and "Accuracy" in svg_charts.texts(accuracy)
