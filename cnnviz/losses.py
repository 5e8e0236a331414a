"""Loss functions, and why the choice matters: gradients with a sigmoid output, softmax, outliers.

Losses are computed by ``torch.nn.functional``; gradients by autograd. The hand formulas
(p - y for cross-entropy, 2 (p - y) p (1 - p) for MSE) appear only in the tests, which
check autograd against them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import torch
import torch.nn.functional as F
from plotly.subplots import make_subplots

DTYPE = torch.float64
MSE_COLOR, CE_COLOR, HUBER_COLOR, CLEAN_COLOR = "#dc2626", "#2563eb", "#059669", "#6b7280"


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
    x, y = unit_data(seed=seed)
    weight = torch.tensor(float(start_weight), dtype=DTYPE, requires_grad=True)
    bias = torch.tensor(0.0, dtype=DTYPE, requires_grad=True)
    history: dict[str, list[float]] = {"loss": [], "accuracy": [], "weight": [], "bias": [], "grad_norm": []}
    for step in range(steps + 1):
        z = weight * x + bias
        loss = F.mse_loss(torch.sigmoid(z), y) if loss_key == "mse" else F.binary_cross_entropy_with_logits(z, y)
        grad_weight, grad_bias = torch.autograd.grad(loss, [weight, bias])
        history["loss"].append(loss.item())
        history["accuracy"].append(float(((z.detach() > 0).to(DTYPE) == y).to(DTYPE).mean()))
        history["weight"].append(weight.item())
        history["bias"].append(bias.item())
        history["grad_norm"].append(float(torch.hypot(grad_weight, grad_bias)))
        if step < steps:
            with torch.no_grad():
                weight -= learning_rate * grad_weight
                bias -= learning_rate * grad_bias
    accuracy = np.array(history["accuracy"])
    solved = np.flatnonzero(accuracy == 1.0)
    return Trajectory(
        loss_key,
        np.array(history["loss"]),
        accuracy,
        np.array(history["weight"]),
        np.array(history["bias"]),
        np.array(history["grad_norm"]),
        int(solved[0]) if solved.size else None,
    )


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


# --- Figures --------------------------------------------------------------------------------


def _vline(x: float, col: int, color: str, width: float = 2) -> dict:
    """A dotted vertical line across subplot ``col`` of a one-row figure (cheaper than ``add_vline``)."""
    axis = "x" if col == 1 else f"x{col}"
    return {"type": "line", "xref": axis, "yref": f"{axis.replace('x', 'y')} domain", "x0": x, "x1": x, "y0": 0,
            "y1": 1, "line": {"color": color, "dash": "dot", "width": width}}  # fmt: skip


def _style(figure: go.Figure, height: int) -> go.Figure:
    figure.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        plot_bgcolor="white",
        legend={"orientation": "h", "y": -0.2},
    )
    figure.update_xaxes(gridcolor="#eef0f3", zerolinecolor="#9ca3af")
    figure.update_yaxes(gridcolor="#eef0f3", zerolinecolor="#9ca3af")
    return figure


def sigmoid_loss_figure(
    curves: SigmoidLossCurves, marker_z: float | None = None, labels: dict[str, str] | None = None
) -> go.Figure:
    """Loss (left) and dL/dz (right) against z for MSE and cross-entropy on a sigmoid output.

    Args:
        marker_z: a vertical line at this z on both panels.
        labels: texts: ``loss``, ``grad``, ``z``, ``mse``, ``ce``.
    """
    text = {
        "loss": "loss",
        "grad": "dL/dz",
        "z": "z (input of the sigmoid)",
        "mse": "MSE",
        "ce": "cross-entropy",
    } | dict(labels or {})
    figure = make_subplots(rows=1, cols=2, subplot_titles=(text["loss"], text["grad"]), horizontal_spacing=0.08)
    for values, grads, name, color in (
        (curves.mse, curves.mse_grad, text["mse"], MSE_COLOR),
        (curves.ce, curves.ce_grad, text["ce"], CE_COLOR),
    ):
        template = "z = %{x:.3g}<br>%{y:.6g}<extra>" + name + "</extra>"
        figure.add_scatter(
            x=curves.z,
            y=values,
            name=name,
            line={"color": color, "width": 3},
            hovertemplate=template,
            legendgroup=name,
            row=1,
            col=1,
        )
        figure.add_scatter(
            x=curves.z,
            y=grads,
            name=name,
            line={"color": color, "width": 3},
            hovertemplate=template,
            legendgroup=name,
            showlegend=False,
            row=1,
            col=2,
        )
    if marker_z is not None:
        figure.update_layout(shapes=[_vline(marker_z, col, "#6b7280") for col in (1, 2)])
    figure.update_xaxes(title=text["z"])
    return _style(figure, 380)


def trajectories_figure(runs: Sequence[Trajectory], labels: dict[str, str] | None = None) -> go.Figure:
    """Accuracy (left) and gradient size (right, log) per step for each training run.

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
    figure = make_subplots(rows=1, cols=2, subplot_titles=(text["accuracy"], text["grad"]), horizontal_spacing=0.08)
    for run in runs:
        name, color = text[run.loss_key], MSE_COLOR if run.loss_key == "mse" else CE_COLOR
        steps = np.arange(len(run.loss))
        figure.add_scatter(
            x=steps,
            y=100 * run.accuracy,
            name=name,
            line={"color": color, "width": 3},
            legendgroup=name,
            hovertemplate="step %{x}: %{y:.0f}%<extra>" + name + "</extra>",
            row=1,
            col=1,
        )
        figure.add_scatter(
            x=steps,
            y=run.grad_norm,
            name=name,
            line={"color": color, "width": 3},
            legendgroup=name,
            showlegend=False,
            hovertemplate="step %{x}: %{y:.3e}<extra>" + name + "</extra>",
            row=1,
            col=2,
        )
        if run.solved_at is not None:
            figure.add_shape(_vline(run.solved_at, 1, color))
    figure.update_xaxes(title=text["step"])
    figure.update_yaxes(range=[-5, 105], row=1, col=1)
    figure.update_yaxes(type="log", exponentformat="power", row=1, col=2)
    return _style(figure, 360)


def softmax_figure(
    result: SoftmaxResult, class_names: Sequence[str], labels: dict[str, str] | None = None
) -> go.Figure:
    """Per class: the probability and the target (left), and dL/dz (right)."""
    text = {"probability": "probability p", "target": "target y", "grad": "dL/dz = p - y"} | dict(labels or {})
    figure = make_subplots(rows=1, cols=2, subplot_titles=(text["probability"], text["grad"]), horizontal_spacing=0.1)
    names = list(class_names)
    figure.add_bar(
        x=names,
        y=result.probabilities,
        name=text["probability"],
        marker={"color": CE_COLOR},
        text=[f"{p:.3f}" for p in result.probabilities],
        textposition="outside",
        row=1,
        col=1,
    )
    figure.add_scatter(
        x=names,
        y=result.target,
        name=text["target"],
        mode="markers",
        marker={"symbol": "line-ew-open", "size": 40, "color": "#111827", "line": {"width": 3}},
        row=1,
        col=1,
    )
    figure.add_bar(
        x=names,
        y=result.gradient,
        name=text["grad"],
        showlegend=False,
        text=[f"{g:+.3f}" for g in result.gradient],
        textposition="outside",
        marker={"color": [MSE_COLOR if g < 0 else CLEAN_COLOR for g in result.gradient]},
        row=1,
        col=2,
    )
    figure.update_yaxes(range=[0, 1.15], row=1, col=1)
    figure.update_yaxes(range=[-1.15, 1.15], row=1, col=2)
    return _style(figure, 340)


def residual_figure(curves: dict[str, np.ndarray], delta: float, labels: dict[str, str] | None = None) -> go.Figure:
    """Loss (left) and dL/dr (right) of one residual r, MSE against Huber."""
    text = {
        "loss": "loss of one point",
        "grad": "its gradient dL/dr",
        "r": "residual r = prediction - target",
        "mse": "MSE",
        "huber": "Huber",
    } | dict(labels or {})
    figure = make_subplots(rows=1, cols=2, subplot_titles=(text["loss"], text["grad"]), horizontal_spacing=0.08)
    for key, color in (("mse", MSE_COLOR), ("huber", HUBER_COLOR)):
        name = text[key]
        for col, values in ((1, curves[key]), (2, curves[f"{key}_grad"])):
            figure.add_scatter(
                x=curves["r"],
                y=values,
                name=name,
                line={"color": color, "width": 3},
                legendgroup=name,
                showlegend=col == 1,
                hovertemplate="r = %{x:.3g}: %{y:.4g}<extra>" + name + "</extra>",
                row=1,
                col=col,
            )
    figure.update_layout(shapes=[_vline(edge, col, HUBER_COLOR, 1) for col in (1, 2) for edge in (-delta, delta)])
    figure.update_xaxes(title=text["r"])
    return _style(figure, 320)


def outlier_figure(fits: OutlierFits, labels: dict[str, str] | None = None) -> go.Figure:
    """The points (outlier in red), the MSE and Huber lines fitted to all points, and the clean fit."""
    text = {
        "points": "points",
        "outlier": "outlier",
        "mse": "MSE fit",
        "huber": "Huber fit",
        "clean": "fit without the outlier",
    } | dict(labels or {})
    inliers = np.arange(len(fits.x)) != fits.outlier
    figure = go.Figure()
    figure.add_scatter(
        x=fits.x[inliers],
        y=fits.y[inliers],
        mode="markers",
        name=text["points"],
        marker={"color": "#111827", "size": 9},
    )
    figure.add_scatter(
        x=fits.x[~inliers],
        y=fits.y[~inliers],
        mode="markers",
        name=text["outlier"],
        marker={"color": MSE_COLOR, "size": 14, "symbol": "x"},
    )
    ends = np.array([fits.x.min(), fits.x.max()])
    for key, color, dash in (
        ("mse_clean", CLEAN_COLOR, "dot"),
        ("mse", MSE_COLOR, "solid"),
        ("huber", HUBER_COLOR, "solid"),
    ):
        slope, intercept = fits.fits[key]
        name = text["clean"] if key == "mse_clean" else text[key]
        figure.add_scatter(
            x=ends,
            y=slope * ends + intercept,
            mode="lines",
            name=f"{name}: y = {slope:.3f} x {'−' if intercept < 0 else '+'} {abs(intercept):.3f}",
            line={"color": color, "width": 3, "dash": dash},
        )
    figure.update_layout(
        height=380,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        plot_bgcolor="white",
        legend={"orientation": "h", "y": -0.15},
    )
    figure.update_xaxes(title="x", gridcolor="#eef0f3")
    figure.update_yaxes(title="y", gridcolor="#eef0f3")
    return figure
