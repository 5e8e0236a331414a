"""Loss functions, and why the choice matters: gradients with a sigmoid output, softmax, outliers.

Losses are computed by ``torch.nn.functional``; gradients by autograd. The hand formulas
(p - y for cross-entropy, 2 (p - y) p (1 - p) for MSE) appear in the tests, which check
autograd against them, and in ``train_one_unit``: its hundreds of tiny steps, redone on
each slider move, run ten times faster in numpy (the tests check them against autograd).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

DTYPE = torch.float64


@dataclass(frozen=True)
class Loss:
    """One loss: its usual name, LaTeX formula (for ``st.latex``) and the PyTorch call."""

    key: str
    label: str
    formula: str
    torch_call: str


LOSSES: dict[str, Loss] = {
    loss.key: loss
    for loss in (
        Loss("mse", "MSE", r"L = \frac{1}{n} \sum_{i=1}^{n} (\hat y_i - y_i)^2", "F.mse_loss(y_hat, y)"),
        Loss(
            "bce",
            "Binary cross-entropy",
            r"L = -\frac{1}{n} \sum_{i=1}^{n} \big[\, y_i \ln p_i + (1 - y_i) \ln(1 - p_i) \,\big], \quad p_i = \sigma(z_i)",
            "F.binary_cross_entropy_with_logits(z, y)",
        ),
        Loss(
            "ce",
            "Softmax + negative log-likelihood",
            r"p_k = \frac{e^{z_k}}{\sum_j e^{z_j}}, \quad L = -\sum_k y_k \ln p_k = -\ln p_{\text{target}}",
            "F.cross_entropy(z, target)",
        ),
        Loss(
            "huber",
            "Huber",
            r"L_\delta(r) = \begin{cases} \tfrac{1}{2} r^2 & |r| \le \delta \\ "
            r"\delta \left(|r| - \tfrac{1}{2}\delta\right) & |r| > \delta \end{cases}, \quad r = \hat y - y",
            "F.huber_loss(y_hat, y, delta=delta)",
        ),
        Loss(
            "kl",
            "KL divergence",
            r"D_{\mathrm{KL}}(y \,\|\, p) = \sum_k y_k \ln \frac{y_k}{p_k} = H(y, p) - H(y)",
            "F.kl_div(log_p, y, reduction='sum')",
        ),
    )
}


# --- Sigmoid output: MSE against cross-entropy ----------------------------------------------


@dataclass(frozen=True)
class SigmoidLossCurves:
    """Both losses of one sigmoid unit against its input z, with dL/dz by autograd; arrays (points,)."""

    target: float
    z: np.ndarray
    prediction: np.ndarray
    mse: np.ndarray
    mse_grad: np.ndarray
    ce: np.ndarray
    ce_grad: np.ndarray


def _sigmoid_losses(z: torch.Tensor, target: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-element MSE of sigmoid(z) and binary cross-entropy, (points,) each."""
    y = torch.full_like(z, target)
    mse = F.mse_loss(torch.sigmoid(z), y, reduction="none")
    # The with-logits form is the same loss, computed without taking log of a rounded 0.
    ce = F.binary_cross_entropy_with_logits(z, y, reduction="none")
    return mse, ce


def sigmoid_loss_curves(
    target: float = 1.0, z_min: float = -10.0, z_max: float = 10.0, points: int = 401
) -> SigmoidLossCurves:
    """MSE and cross-entropy of p = sigmoid(z) against a target, and dL/dz, on a grid of z.

    Raises:
        ValueError: for a target outside [0, 1] or an empty range.
    """
    if not 0.0 <= target <= 1.0:
        raise ValueError(f"A target for a sigmoid output is a probability in [0, 1]; it is {target:g}.")
    if not z_min < z_max:
        raise ValueError(f"The range of z needs its left end below its right end; it is {z_min:g} to {z_max:g}.")
    z = torch.linspace(z_min, z_max, points, dtype=DTYPE, requires_grad=True)
    mse, ce = _sigmoid_losses(z, target)
    # Each element's loss depends on its own z only, so grad of the sum is dL/dz per point.
    (mse_grad,) = torch.autograd.grad(mse.sum(), z)
    (ce_grad,) = torch.autograd.grad(ce.sum(), z)
    return SigmoidLossCurves(
        target,
        z.detach().numpy(),
        torch.sigmoid(z).detach().numpy(),
        mse.detach().numpy(),
        mse_grad.numpy(),
        ce.detach().numpy(),
        ce_grad.numpy(),
    )


def sigmoid_gradients_at(z: float, target: float = 1.0) -> tuple[float, float, float]:
    """(p, dMSE/dz, dCE/dz) at one z, by autograd."""
    point = torch.tensor([z], dtype=DTYPE, requires_grad=True)
    mse, ce = _sigmoid_losses(point, target)
    (mse_grad,) = torch.autograd.grad(mse.sum(), point)
    (ce_grad,) = torch.autograd.grad(ce.sum(), point)
    return float(torch.sigmoid(point.detach())), float(mse_grad), float(ce_grad)


@dataclass(frozen=True)
class Trajectory:
    """One training run of a single sigmoid unit.

    Attributes:
        loss_key: ``mse`` or ``bce``.
        loss, accuracy, weight, bias, grad_norm: (steps + 1,) values before each step (the last after all).
        solved_at: the first step at which every point is classified right, or None.
    """

    loss_key: str
    loss: np.ndarray
    accuracy: np.ndarray
    weight: np.ndarray
    bias: np.ndarray
    grad_norm: np.ndarray
    solved_at: int | None


def unit_data(points: int = 16, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A separable 1-D toy set: class 1 at x > 0, class 0 at x < 0, |x| in [0.3, 1.5); (points,) each."""
    generator = torch.Generator().manual_seed(seed)
    labels = (torch.arange(points) % 2).to(DTYPE)
    distance = 0.3 + 1.2 * torch.rand(points, dtype=DTYPE, generator=generator)
    return (2 * labels - 1) * distance, labels


def train_one_unit(
    loss_key: str, start_weight: float = -4.0, learning_rate: float = 0.5, steps: int = 300, seed: int = 0
) -> Trajectory:
    """Gradient descent on p = sigmoid(w x + b) from a start that is confidently wrong.

    With ``start_weight`` < 0 the unit predicts the opposite class for every point, the more
    confidently the more negative it is. Both losses start from the same w and b (= 0),
    see the same data (``unit_data(seed=seed)``) and take the same learning rate.
    The gradients are the hand formulas, in numpy (the tests check them against autograd).

    Args:
        loss_key: ``mse`` (of sigmoid(z)) or ``bce`` (cross-entropy).
        start_weight: w at step 0.
        learning_rate: plain SGD step size on the whole batch.
        steps: number of updates.

    Raises:
        ValueError: for another loss, a non-positive learning rate or a step count outside 1..5000.
    """
    if loss_key not in ("mse", "bce"):
        raise ValueError(f"A sigmoid unit is trained here with 'mse' or 'bce', not {loss_key!r}.")
    if not learning_rate > 0:
        raise ValueError(f"The learning rate must be positive; it is {learning_rate:g}.")
    if not 1 <= steps <= 5000:
        raise ValueError(f"Steps must be 1 to 5000; it is {steps}.")
    x, y = (values.numpy() for values in unit_data(seed=seed))
    loss, accuracy, weight, bias, grad_norm = np.zeros((5, steps + 1))
    w, b = float(start_weight), 0.0
    n = len(x)
    for step in range(steps + 1):
        z = w * x + b
        p = 1 / (1 + np.exp(-z))  # exact to the last digits also where p is tiny
        if loss_key == "mse":
            loss[step] = (p - y) @ (p - y) / n
            dz = 2 * (p - y) * p * (1 - p) / n  # dL/dz_i: the sigmoid's slope p (1 - p) comes in
        else:
            loss[step] = (np.logaddexp(0, z).sum() - y @ z) / n  # -y ln p - (1 - y) ln(1 - p), never ln 0
            dz = (p - y) / n  # dL/dz_i: the slope cancels
        grad_w, grad_b = float(dz @ x), float(dz.sum())
        accuracy[step] = ((z > 0) == y).sum() / n
        weight[step], bias[step], grad_norm[step] = w, b, math.hypot(grad_w, grad_b)
        w, b = w - learning_rate * grad_w, b - learning_rate * grad_b
    solved = np.flatnonzero(accuracy == 1.0)
    return Trajectory(loss_key, loss, accuracy, weight, bias, grad_norm, int(solved[0]) if solved.size else None)


# --- Softmax and cross-entropy --------------------------------------------------------------


@dataclass(frozen=True)
class SoftmaxResult:
    """Softmax cross-entropy of one example; arrays (classes,).

    Attributes:
        target: the (possibly smoothed) target distribution y.
        gradient: dL/dz by autograd.
        loss: cross-entropy H(y, p); ``entropy`` H(y) and ``kl`` KL(y || p) add up to it.
    """

    logits: np.ndarray
    probabilities: np.ndarray
    target: np.ndarray
    gradient: np.ndarray
    loss: float
    entropy: float
    kl: float

    @property
    def formula_gap(self) -> float:
        """Largest |autograd gradient - (p - y)|: rounding error only, since dL/dz = p - y."""
        return float(np.abs(self.gradient - (self.probabilities - self.target)).max())


def softmax_cross_entropy(logits: Sequence[float], target_class: int, smoothing: float = 0.0) -> SoftmaxResult:
    """Probabilities, loss and dL/dz for logits z and a target class (label smoothing optional).

    Args:
        logits: (classes,) raw scores.
        target_class: index of the right class.
        smoothing: epsilon of label smoothing: y = (1 - eps) onehot + eps / classes.

    Raises:
        ValueError: for fewer than 2 classes, a class out of range or smoothing outside [0, 1).
    """
    z = torch.tensor(list(logits), dtype=DTYPE, requires_grad=True)
    classes = z.numel()
    if classes < 2:
        raise ValueError("Softmax needs at least 2 classes.")
    if not 0 <= target_class < classes:
        raise ValueError(f"The target class must be 0 to {classes - 1}; it is {target_class}.")
    if not 0.0 <= smoothing < 1.0:
        raise ValueError(f"Label smoothing must be in [0, 1); it is {smoothing:g}.")
    loss = F.cross_entropy(z[None], torch.tensor([target_class]), label_smoothing=smoothing)
    (gradient,) = torch.autograd.grad(loss, z)
    target = (1 - smoothing) * F.one_hot(torch.tensor(target_class), classes).to(DTYPE) + smoothing / classes
    log_p = F.log_softmax(z.detach(), dim=0)
    kl = F.kl_div(log_p, target, reduction="sum")
    entropy = torch.special.entr(target).sum() + 0.0  # entr(0) = 0; + 0.0 turns -0.0 into 0.0
    return SoftmaxResult(
        z.detach().numpy(),
        log_p.exp().numpy(),
        target.numpy(),
        gradient.numpy(),
        loss.item(),
        float(entropy),
        float(kl),
    )


# --- Outliers: MSE against Huber ------------------------------------------------------------


def regression_loss(key: str, residual: torch.Tensor, delta: float = 1.0, reduction: str = "mean") -> torch.Tensor:
    """MSE or Huber loss of residuals (prediction - target), any shape; ``reduction`` as in torch.

    Raises:
        ValueError: for another key or a non-positive delta.
    """
    if key not in ("mse", "huber"):
        raise ValueError(f"Regression loss must be 'mse' or 'huber', not {key!r}.")
    if not delta > 0:
        raise ValueError(f"Huber's delta must be positive; it is {delta:g}.")
    zero = torch.zeros_like(residual)
    if key == "mse":
        return F.mse_loss(residual, zero, reduction=reduction)
    return F.huber_loss(residual, zero, reduction=reduction, delta=delta)


def residual_curves(delta: float = 1.0, r_max: float = 5.0, points: int = 401) -> dict[str, np.ndarray]:
    """Loss of one residual r and dL/dr (autograd) for MSE and Huber.

    Returns:
        (points,) arrays under keys ``r``, ``mse``, ``mse_grad``, ``huber``, ``huber_grad``.
    """
    r = torch.linspace(-r_max, r_max, points, dtype=DTYPE, requires_grad=True)
    curves = {"r": r.detach().numpy()}
    for key in ("mse", "huber"):
        loss = regression_loss(key, r, delta, reduction="none")  # (points,), one residual each
        (grad,) = torch.autograd.grad(loss.sum(), r)
        curves[key], curves[f"{key}_grad"] = loss.detach().numpy(), grad.numpy()
    return curves


def fit_line(x: torch.Tensor, y: torch.Tensor, key: str, delta: float = 1.0) -> tuple[float, float]:
    """(slope, intercept) minimizing the MSE or Huber loss of a*x + b - y, by L-BFGS from (0, 0)."""
    params = torch.zeros(2, dtype=DTYPE, requires_grad=True)
    optimizer = torch.optim.LBFGS(
        [params], lr=1.0, max_iter=500, tolerance_grad=1e-12, tolerance_change=1e-14, line_search_fn="strong_wolfe"
    )

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = regression_loss(key, params[0] * x + params[1] - y, delta)
        loss.backward()
        return loss

    optimizer.step(closure)
    return params[0].item(), params[1].item()


@dataclass(frozen=True)
class OutlierFits:
    """Points on a line, one of them moved by ``outlier_shift``, and four fitted lines.

    Attributes:
        x, y: (points,); y[outlier] includes the shift.
        fits: (slope, intercept) for ``mse``, ``huber`` (all points) and ``mse_clean``,
            ``huber_clean`` (outlier left out).
    """

    x: np.ndarray
    y: np.ndarray
    outlier: int
    fits: dict[str, tuple[float, float]]


def outlier_fits(outlier_shift: float = 15.0, delta: float = 1.0, points: int = 12, seed: int = 0) -> OutlierFits:
    """Fit y = a x + b by MSE and by Huber, with and without one outlier.

    The data: y = 0.5 x + 1 + N(0, 0.3^2) at x = 0..10 (seeded); the last point is moved up
    by ``outlier_shift``.

    Raises:
        ValueError: for a non-positive delta or fewer than 3 points.
    """
    if points < 3:
        raise ValueError("A line through an outlier needs at least 3 points.")
    generator = torch.Generator().manual_seed(seed)
    x = torch.linspace(0, 10, points, dtype=DTYPE)
    y = 0.5 * x + 1 + 0.3 * torch.randn(points, dtype=DTYPE, generator=generator)
    outlier = points - 1
    y[outlier] += outlier_shift
    clean = torch.arange(points) != outlier
    fits = {}
    for key in ("mse", "huber"):
        fits[key] = fit_line(x, y, key, delta)
        fits[f"{key}_clean"] = fit_line(x[clean], y[clean], key, delta)
    return OutlierFits(x.numpy(), y.numpy(), outlier, fits)
