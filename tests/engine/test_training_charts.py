"""Learning curves: every evaluation of every run is drawn where its numbers say, in both panels."""

import pytest

from cnnviz.drawing import training_charts
from cnnviz.training import StepMetrics
from tests.charts import SVG, charts, within_pixels

TITLES = ("Loss", "Accuracy")


def history(steps: int, every: int, scale: float = 1.0) -> list[StepMetrics]:
    """A made-up run: loss falling from ``2 * scale``, accuracy rising, measured every ``every`` steps."""
    return [
        StepMetrics(
            step, step / 10, 2 * scale / step, 1 - 1 / step,
            heldout_loss=scale / step if step % every == 0 else None,
            heldout_accuracy=1 - 0.5 / step if step % every == 0 else None,
            train_set_loss=0.5 * scale / step if step % every == 0 else None,
            train_set_accuracy=1 - 0.2 / step if step % every == 0 else None,
        )
        for step in range(1, steps + 1)
    ]  # fmt: skip


def test_each_panel_draws_every_evaluation_of_training_and_held_out_images():
    runs = {"#1 sgd": history(12, 4), "#2 adam": history(7, 3, scale=2.0)}
    html = training_charts.learning_curves(runs, TITLES, "step")
    loss, accuracy = charts(html)  # left, right
    assert {"Loss", "step", "#1 sgd", "#2 adam"} <= set(loss.texts)
    assert {"Accuracy", "step", "#1 sgd", "#2 adam"} <= set(accuracy.texts)
    for (label, metrics), colour in zip(runs.items(), training_charts.PALETTE, strict=False):
        heldout = [m for m in metrics if m.heldout_loss is not None]
        for chart in (loss, accuracy):
            train = chart.lines(colour + training_charts.TRAIN_ALPHA, dashed=True)
            assert (
                len(train) == len(chart.lines(colour + training_charts.TRAIN_ALPHA)) == 1
            )  # training: one dashed line
            assert len(train[0]) == len(heldout)  # measured at the same steps as held-out
            (line,) = chart.lines(colour)
            assert len(line) == len(heldout)
            assert len(chart.dots(colour)) == len(heldout)
        tips = [d.hover for d in loss.dots(colour)]
        assert tips == [f"{label} · step {m.step}: {m.heldout_loss:.3g}" for m in heldout]


def test_points_land_on_their_steps_and_values():
    metrics = history(10, 5)
    loss, accuracy = charts(training_charts.learning_curves({"run": metrics}, TITLES))
    colour = training_charts.PALETTE[0]
    heldout = [m for m in metrics if m.heldout_loss is not None]  # steps 5 and 10
    for chart, values, train_values in (
        (loss, [m.heldout_loss for m in heldout], [m.train_set_loss for m in heldout]),
        (accuracy, [m.heldout_accuracy for m in heldout], [m.train_set_accuracy for m in heldout]),
    ):
        (line,) = chart.lines(colour)
        (train,) = chart.lines(colour + training_charts.TRAIN_ALPHA)
        within_pixels(train[:, 0], [5, 10], chart.x_px, 0.2)  # measured at the held-out steps
        within_pixels(line[:, 0], [5, 10], chart.x_px, 0.2)  # held-out steps on the steps' x
        ends = chart.x_px(line[[0, -1], 0])
        assert chart.left < ends[0] and ends[1] < chart.right  # the end dots are not cut
        assert (chart.y_px(train[:, 1]) > chart.top).all()  # the highest training value is inside the frame
        within_pixels(line[:, 1], values, chart.y_px, 0.2)
        within_pixels(train[:, 1], train_values, chart.y_px, 0.2)
        assert chart.y_px(0) == pytest.approx(chart.bottom, abs=0.1)  # from zero
    axis = accuracy.y_value([accuracy.bottom, accuracy.top])
    assert axis == pytest.approx([0, 1.02], abs=0.002)  # the axis is 0..1.02


def test_no_runs_still_draws_two_empty_panels():
    loss, accuracy = charts(training_charts.learning_curves({}, TITLES))
    assert not list(loss.root.iter(f"{SVG}polyline")) and "Accuracy" in accuracy.texts


@pytest.mark.parametrize("steps", [2, 3, 7, 40])
def test_the_step_axis_is_labelled_in_whole_steps(steps):
    """A run a few steps long must not show step 2.5: there is no half step."""
    html = training_charts.learning_curves({"#1": history(steps, 1)}, TITLES, "step")
    for chart in charts(html):
        assert len(chart.x_ticks) >= 2 and all(tick == int(tick) for tick in chart.x_ticks), chart.x_ticks
