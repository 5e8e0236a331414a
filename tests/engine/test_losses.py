"""Losses: values against torch.nn.functional and hand formulas, gradients against the formulas of the lesson."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnviz import losses
from cnnviz.drawing import loss_charts
from tests.charts import charts

DTYPE = torch.float64


@pytest.mark.parametrize("target", [1.0, 0.0, 0.3])
def test_sigmoid_losses_match_torch_and_hand_formulas(target):
    curves = losses.sigmoid_loss_curves(target, -8, 8, 161)
    z = torch.from_numpy(curves.z)
    p = torch.sigmoid(z)
    y = torch.full_like(z, target)
    np.testing.assert_allclose(curves.prediction, p.numpy(), rtol=1e-15)
    np.testing.assert_allclose(curves.mse, F.mse_loss(p, y, reduction="none").numpy(), rtol=1e-12)
    np.testing.assert_allclose(curves.mse, ((p - y) ** 2).numpy(), rtol=1e-12)
    np.testing.assert_allclose(curves.ce, F.binary_cross_entropy(p, y, reduction="none").numpy(), rtol=1e-9)
    hand_ce = -(y * torch.log(p) + (1 - y) * torch.log(1 - p))
    np.testing.assert_allclose(curves.ce, hand_ce.numpy(), rtol=1e-9)


@pytest.mark.parametrize("target", [1.0, 0.0, 0.3])
def test_dL_dz_is_p_minus_y_for_cross_entropy_and_carries_sigma_prime_for_mse(target):
    curves = losses.sigmoid_loss_curves(target)
    p, y = curves.prediction, target
    np.testing.assert_allclose(curves.ce_grad, p - y, atol=1e-15)
    np.testing.assert_allclose(curves.mse_grad, 2 * (p - y) * p * (1 - p), atol=1e-15)


def test_mse_gradient_vanishes_when_confidently_wrong():
    p, mse_grad, ce_grad = losses.sigmoid_gradients_at(-10.0, target=1.0)
    assert p < 1e-4
    assert abs(mse_grad) < 1e-4  # 2 (p - 1) p (1 - p): the sigmoid's slope kills it
    assert ce_grad == pytest.approx(p - 1)  # nearly -1: the biggest push when most wrong
    # Right and confident: both small, as they should be.
    _, mse_right, ce_right = losses.sigmoid_gradients_at(10.0, target=1.0)
    assert abs(mse_right) < 1e-8 and abs(ce_right) < 1e-4


def test_batch_mse_gradient_has_the_2_over_n_factor():
    """With a batch of n, F.mse_loss averages: dL/dz_i = (p_i - y_i) p_i (1 - p_i) 2 / n."""
    z = torch.tensor([-3.0, -0.5, 0.2, 2.0], dtype=DTYPE, requires_grad=True)
    y = torch.tensor([1.0, 0.0, 1.0, 0.0], dtype=DTYPE)
    (grad,) = torch.autograd.grad(F.mse_loss(torch.sigmoid(z), y), z)
    p = torch.sigmoid(z.detach())
    torch.testing.assert_close(grad, (p - y) * p * (1 - p) * 2 / 4)
    single = [losses.sigmoid_gradients_at(float(zi), float(yi))[1] for zi, yi in zip(z.detach(), y, strict=True)]
    torch.testing.assert_close(grad, torch.tensor(single, dtype=DTYPE) / 4)


def test_cross_entropy_gets_every_point_right_in_fewer_steps_than_mse():
    for start in (-2.0, -4.0):
        mse = losses.train_one_unit("mse", start, 0.5, 300)
        ce = losses.train_one_unit("bce", start, 0.5, 300)
        assert mse.accuracy[0] == ce.accuracy[0] == 0.0  # every point wrong at the start
        assert ce.solved_at is not None and mse.solved_at is not None
        assert ce.solved_at < mse.solved_at
    stuck = losses.train_one_unit("mse", -6.0, 0.5, 300)
    assert stuck.solved_at is None and losses.train_one_unit("bce", -6.0, 0.5, 300).solved_at is not None


def test_first_step_gradients_match_the_hand_formulas():
    x, y = losses.unit_data()
    for key in ("mse", "bce"):
        run = losses.train_one_unit(key, -4.0, 0.5, 1)
        p = torch.sigmoid(-4.0 * x)
        dz = (p - y) if key == "bce" else 2 * (p - y) * p * (1 - p)  # per point, before the 1/n mean
        grad_w, grad_b = (dz * x).mean(), dz.mean()
        assert run.grad_norm[0] == pytest.approx(math.hypot(grad_w, grad_b), rel=1e-12)
        assert run.weight[1] == pytest.approx(-4.0 - 0.5 * float(grad_w), rel=1e-12)


def autograd_run(key: str, start_weight: float, rate: float, steps: int) -> dict[str, list[float]]:
    """The same gradient descent with torch's losses and autograd's gradients."""
    x, y = losses.unit_data()
    weight = torch.tensor(start_weight, dtype=DTYPE, requires_grad=True)
    bias = torch.tensor(0.0, dtype=DTYPE, requires_grad=True)
    seen = {"loss": [], "accuracy": [], "weight": [], "bias": [], "grad_norm": []}
    for _ in range(steps + 1):
        z = weight * x + bias
        loss = F.mse_loss(torch.sigmoid(z), y) if key == "mse" else F.binary_cross_entropy_with_logits(z, y)
        grad_weight, grad_bias = torch.autograd.grad(loss, [weight, bias])
        for name, value in (("loss", loss), ("weight", weight), ("bias", bias),
                            ("grad_norm", torch.hypot(grad_weight, grad_bias))):  # fmt: skip
            seen[name].append(value.item())
        seen["accuracy"].append(((z.detach() > 0).to(DTYPE) == y).to(DTYPE).mean().item())
        with torch.no_grad():
            weight -= rate * grad_weight
            bias -= rate * grad_bias
    return seen


@pytest.mark.parametrize(("start", "rate", "steps"), [(-4.0, 0.5, 300), (-7.5, 5.0, 200), (-1.0, 0.05, 100)])
def test_training_runs_follow_torch_autograd(start, rate, steps):
    for key in ("mse", "bce"):
        run, expected = losses.train_one_unit(key, start, rate, steps), autograd_run(key, start, rate, steps)
        for name, values in expected.items():
            np.testing.assert_allclose(getattr(run, name), values, rtol=1e-9, atol=1e-12, err_msg=f"{key} {name}")


def test_training_settings_are_checked():
    with pytest.raises(ValueError, match="'mse' or 'bce'"):
        losses.train_one_unit("huber")
    with pytest.raises(ValueError, match="positive"):
        losses.train_one_unit("mse", learning_rate=0)
    with pytest.raises(ValueError, match="probability"):
        losses.sigmoid_loss_curves(1.5)


def test_softmax_gradient_is_p_minus_onehot():
    logits = [2.0, 1.0, 0.5, -1.0]
    result = losses.softmax_cross_entropy(logits, 1)
    z = torch.tensor(logits, dtype=DTYPE)
    p = torch.softmax(z, 0)
    onehot = torch.tensor([0.0, 1.0, 0.0, 0.0], dtype=DTYPE)
    np.testing.assert_allclose(result.probabilities, p.numpy(), rtol=1e-14)
    np.testing.assert_allclose(result.gradient, (p - onehot).numpy(), atol=1e-15)
    assert result.probabilities.sum() == pytest.approx(1.0)
    assert result.loss == pytest.approx(-math.log(p[1]))
    assert result.loss == pytest.approx(F.cross_entropy(z[None], torch.tensor([1])).item())
    assert result.entropy == 0.0 and result.kl == pytest.approx(result.loss)
    assert result.formula_gap < 1e-15


def test_label_smoothing_splits_cross_entropy_into_entropy_plus_kl():
    result = losses.softmax_cross_entropy([0.3, -1.2, 2.5], 2, smoothing=0.3)
    y = np.array([0.1, 0.1, 0.8])
    p = result.probabilities
    np.testing.assert_allclose(result.target, y)
    assert result.loss == pytest.approx(-(y * np.log(p)).sum())
    assert result.entropy == pytest.approx(-(y * np.log(y)).sum())
    assert result.kl == pytest.approx((y * np.log(y / p)).sum())
    assert result.loss == pytest.approx(result.entropy + result.kl)
    np.testing.assert_allclose(result.gradient, p - y, atol=1e-15)


def test_softmax_settings_are_checked():
    with pytest.raises(ValueError, match="target class"):
        losses.softmax_cross_entropy([1.0, 2.0], 2)
    with pytest.raises(ValueError, match="at least 2"):
        losses.softmax_cross_entropy([1.0], 0)
    with pytest.raises(ValueError, match="smoothing"):
        losses.softmax_cross_entropy([1.0, 2.0], 0, smoothing=1.0)


@pytest.mark.parametrize("delta", [0.5, 1.0, 2.0])
def test_huber_matches_torch_and_its_gradient_is_clipped_at_delta(delta):
    curves = losses.residual_curves(delta)
    r = curves["r"]
    hand = np.where(np.abs(r) <= delta, 0.5 * r**2, delta * (np.abs(r) - 0.5 * delta))
    np.testing.assert_allclose(curves["huber"], hand, rtol=1e-12)
    residual = torch.from_numpy(r)
    torch.testing.assert_close(
        losses.regression_loss("huber", residual, delta),
        F.huber_loss(residual, torch.zeros_like(residual), delta=delta),
    )
    np.testing.assert_allclose(curves["huber_grad"], np.clip(r, -delta, delta), atol=1e-12)
    np.testing.assert_allclose(curves["mse"], r**2, rtol=1e-12)
    np.testing.assert_allclose(curves["mse_grad"], 2 * r, atol=1e-12)


def test_kl_divergence_is_torch_kl_div():
    logits = [0.1, 0.9, -0.4]
    result = losses.softmax_cross_entropy(logits, 1, smoothing=0.0)
    log_p = torch.log_softmax(torch.tensor(logits, dtype=DTYPE), 0)
    onehot = F.one_hot(torch.tensor(1), 3).to(DTYPE)
    assert result.kl == pytest.approx(F.kl_div(log_p, onehot, reduction="sum").item())
    assert result.kl == pytest.approx(-log_p[1].item())  # sum y ln(y / p) with a one-hot y


def test_an_outlier_pulls_the_mse_line_far_more_than_the_huber_line():
    fits = losses.outlier_fits(outlier_shift=15.0, delta=1.0)
    # L-BFGS on MSE must land on the least-squares solution.
    design = np.stack([fits.x, np.ones_like(fits.x)], axis=1)
    exact = np.linalg.lstsq(design, fits.y, rcond=None)[0]
    np.testing.assert_allclose(fits.fits["mse"], exact, atol=1e-6)
    clean_slope = fits.fits["mse_clean"][0]
    mse_pull = abs(fits.fits["mse"][0] - clean_slope)
    huber_pull = abs(fits.fits["huber"][0] - clean_slope)
    assert mse_pull > 5 * huber_pull
    assert clean_slope == pytest.approx(0.5, abs=0.1)  # the points lie on y = 0.5 x + 1 plus noise
    without = losses.outlier_fits(outlier_shift=0.0, delta=1.0)
    assert without.fits["mse"][0] == pytest.approx(without.fits["huber"][0], abs=0.02)


# --- Charts: every mark read back through the axis ticks, against numbers computed here ------


def near_px(chart, axis: str, value, expected, pixels: float = 1.5) -> bool:
    """Whether ``value`` and ``expected`` are drawn within ``pixels`` of each other along ``axis``."""
    to_px = chart.x_px if axis == "x" else chart.y_px
    return bool(np.all(np.abs(to_px(value) - to_px(expected)) <= pixels))


@pytest.mark.parametrize(("target", "z"), [(1.0, -5.0), (0.0, 2.3)])
def test_sigmoid_chart_marks_both_losses_and_gradients_at_z(target, z):
    svgs = loss_charts.sigmoid_loss_svgs(losses.sigmoid_loss_curves(target), z, {"loss": "L", "grad": "G", "ce": "CE"})
    loss_chart, grad_chart = charts(*svgs)
    p, y = torch.sigmoid(torch.tensor(z, dtype=DTYPE)), torch.tensor(target, dtype=DTYPE)
    expected = {  # colour: (loss, dL/dz) by torch and the lesson's hand formulas
        loss_charts.MSE_COLOR: (F.mse_loss(p, y).item(), (2 * (p - y) * p * (1 - p)).item()),
        loss_charts.CE_COLOR: (F.binary_cross_entropy(p, y).item(), (p - y).item()),
    }
    assert (loss_chart.title, grad_chart.title) == ("L", "G")
    for chart, column in ((loss_chart, 0), (grad_chart, 1)):
        assert chart.legend == ["MSE", "CE"]
        assert chart.x_label == "z (input of the sigmoid)"
        assert near_px(chart, "x", chart.vlines(loss_charts.POINT_COLOR), [z])
        dots = {dot.colour: dot for dot in chart.dots()}
        assert set(dots) == set(expected)
        for colour, values in expected.items():
            assert near_px(chart, "x", dots[colour].x, z) and near_px(chart, "y", dots[colour].y, values[column])
    # The curves themselves: CE of a sigmoid is softplus, MSE is (p - y)^2, over the whole range of z.
    (ce_line,) = loss_chart.lines(loss_charts.CE_COLOR)
    zs = torch.from_numpy(ce_line[:, 0])
    hand_ce = target * F.softplus(-zs) + (1 - target) * F.softplus(zs)
    assert near_px(loss_chart, "y", ce_line[:, 1], hand_ce.numpy())
    (mse_grad_line,) = grad_chart.lines(loss_charts.MSE_COLOR)
    p = torch.sigmoid(torch.from_numpy(mse_grad_line[:, 0]))
    assert near_px(grad_chart, "y", mse_grad_line[:, 1], (2 * (p - target) * p * (1 - p)).numpy())


def test_training_chart_marks_when_each_run_gets_every_point_right():
    runs = [losses.train_one_unit(key, -4.0, 0.5, 300) for key in ("mse", "bce")]
    accuracy, gradient = charts(*loss_charts.trajectories_svgs(runs))
    assert accuracy.legend == gradient.legend == ["MSE", "cross-entropy"]
    assert gradient.y_log and not accuracy.y_log
    x, y = losses.unit_data()
    p = torch.sigmoid(-4.0 * x)  # step 0: w = -4, b = 0
    first_push = {  # |(dL/dw, dL/db)| at step 0 by hand: the same factor times (x, 1), averaged
        "mse": 2 * (p - y) * p * (1 - p),
        "bce": p - y,
    }
    for run, colour in zip(runs, (loss_charts.MSE_COLOR, loss_charts.CE_COLOR), strict=True):
        assert run.solved_at is not None
        assert near_px(accuracy, "x", accuracy.vlines(colour), [run.solved_at])
        (line,) = accuracy.lines(colour)
        assert near_px(accuracy, "y", line[:, 1], 100 * run.accuracy)
        assert near_px(accuracy, "y", line[run.solved_at :, 1], 100.0)  # every point right from there on
        (grads,) = gradient.lines(colour)
        assert near_px(gradient, "y", grads[:, 1], run.grad_norm)
        factor = first_push[run.loss_key]
        hand = math.hypot((factor * x).mean().item(), factor.mean().item())
        assert near_px(gradient, "y", grads[0, 1], hand)


@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_softmax_chart_shows_each_class_probability_target_and_gradient(smoothing):
    logits, names, target = [2.0, 1.0, 0.5, -1.0], ["cat", "dog", "bird", "fish"], 1
    result = losses.softmax_cross_entropy(logits, target, smoothing)
    chances, gradient = charts(*loss_charts.softmax_svgs(result, names, {"target": "y"}))
    p = torch.softmax(torch.tensor(logits, dtype=DTYPE), 0).numpy()
    y = (1 - smoothing) * np.eye(4)[target] + smoothing / 4
    assert chances.categories == gradient.categories == names  # top to bottom
    assert chances.legend == ["y"]
    assert (chances.top, chances.height) == (gradient.top, gradient.height)  # the rows line up
    bars = chances.hbars()
    assert [chances.category_at(bar.across) for bar in bars] == names
    assert near_px(chances, "x", [bar.end for bar in bars], p)
    assert [words for _, _, words in sorted(chances.labels, key=lambda label: label[1])] == [f"{v:.3f}" for v in p]
    ticks = sorted(chances.lines(loss_charts.TARGET_COLOR), key=lambda tick: tick[:, 1].mean())
    assert [chances.category_at(tick[:, 1].mean()) for tick in ticks] == names
    assert near_px(chances, "x", [tick[0, 0] for tick in ticks], y)
    # Per class the longest bar is dL/dz = p - y: red where descent raises the logit (p < y), grey elsewhere.
    longest = {}
    for bar in gradient.hbars():
        name = gradient.category_at(bar.across)
        if abs(bar.end) >= abs(longest.get(name, bar).end):
            longest[name] = bar
    assert near_px(gradient, "x", [longest[name].end for name in names], p - y)
    assert [longest[name].colour for name in names] == [
        loss_charts.MSE_COLOR if g < 0 else loss_charts.CLEAN_COLOR for g in p - y
    ]


@pytest.mark.parametrize("delta", [0.5, 2.0])
def test_residual_chart_marks_delta_and_shows_the_huber_gradient_clipped(delta):
    loss_chart, grad_chart = charts(*loss_charts.residual_svgs(losses.residual_curves(delta), delta))
    for chart in (loss_chart, grad_chart):
        assert chart.legend == ["MSE", "Huber", "|r| = δ"]
        assert near_px(chart, "x", sorted(chart.vlines(loss_charts.HUBER_COLOR)), [-delta, delta])
    (huber,) = loss_chart.lines(loss_charts.HUBER_COLOR)
    r = huber[:, 0]
    assert near_px(loss_chart, "y", huber[:, 1], np.where(abs(r) <= delta, r**2 / 2, delta * (abs(r) - delta / 2)))
    (huber_grad,) = grad_chart.lines(loss_charts.HUBER_COLOR)
    assert near_px(grad_chart, "y", huber_grad[:, 1], np.clip(huber_grad[:, 0], -delta, delta))
    (mse_grad,) = grad_chart.lines(loss_charts.MSE_COLOR)
    assert near_px(grad_chart, "y", mse_grad[:, 1], 2 * mse_grad[:, 0])


def test_outlier_chart_shows_the_points_and_the_least_squares_line_pulled_up():
    fits = losses.outlier_fits(outlier_shift=15.0, delta=1.0)
    (chart,) = charts(loss_charts.outlier_svg(fits))
    assert (chart.x_label, chart.y_label) == ("x", "y")
    dots = chart.dots()
    assert near_px(chart, "x", [d.x for d in dots], fits.x)  # the outlier is the last point
    *points, outlier = dots
    assert not any(d.hollow for d in points) and outlier.hollow and outlier.colour == loss_charts.MSE_COLOR
    assert near_px(chart, "y", [d.y for d in points], fits.y[:-1]) and near_px(chart, "y", outlier.y, fits.y[-1])
    slope, intercept = np.polyfit(fits.x, fits.y, 1)  # least squares = the MSE fit
    (line,) = chart.lines(loss_charts.MSE_COLOR)
    assert near_px(chart, "y", line[:, 1], slope * line[:, 0] + intercept)
    assert f"MSE fit: y = {slope:.3f} x {'−' if intercept < 0 else '+'} {abs(intercept):.3f}" in chart.legend
    clean_slope, clean_intercept = np.polyfit(fits.x[:-1], fits.y[:-1], 1)
    (clean,) = chart.lines(loss_charts.CLEAN_COLOR)
    assert near_px(chart, "y", clean[:, 1], clean_slope * clean[:, 0] + clean_intercept)
    (huber,) = chart.lines(loss_charts.HUBER_COLOR)
    pulled = np.diff(line[:, 1]) / np.diff(line[:, 0])
    assert abs(np.diff(huber[:, 1]) / np.diff(huber[:, 0]) - clean_slope) < abs(pulled - clean_slope) / 5


def test_charts_and_formulas_carry_no_dollar_latex():
    drawn = charts(
        *loss_charts.sigmoid_loss_svgs(losses.sigmoid_loss_curves(), -5.0),
        *loss_charts.trajectories_svgs([losses.train_one_unit("mse", steps=5), losses.train_one_unit("bce", steps=5)]),
        *loss_charts.softmax_svgs(losses.softmax_cross_entropy([1.0, 2.0, 0.0], 0), ["a", "b", "c"]),
        *loss_charts.residual_svgs(losses.residual_curves(), 1.0),
        loss_charts.outlier_svg(losses.outlier_fits()),
    )
    assert len(drawn) == 9
    for chart in drawn:
        texts = [chart.title, chart.x_label, chart.y_label, *chart.legend]
        assert any(texts) and not any("$" in words for words in texts)
    for loss in losses.LOSSES.values():
        assert loss.formula and "$" not in loss.formula
