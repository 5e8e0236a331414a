"""Losses: values against torch.nn.functional and hand formulas, gradients against the formulas of the lesson."""

import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnviz import losses

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


def test_figures_carry_no_latex():
    figures = [
        losses.sigmoid_loss_figure(losses.sigmoid_loss_curves(), -5.0),
        losses.trajectories_figure([losses.train_one_unit("mse", steps=5), losses.train_one_unit("bce", steps=5)]),
        losses.softmax_figure(losses.softmax_cross_entropy([1.0, 2.0, 0.0], 0), ["a", "b", "c"]),
        losses.residual_figure(losses.residual_curves(), 1.0),
        losses.outlier_figure(losses.outlier_fits()),
    ]
    for figure in figures:
        assert "$" not in json.dumps(figure.to_plotly_json(), default=str)
    for loss in losses.LOSSES.values():
        assert loss.formula and "$" not in loss.formula
