"""Activation functions: their curves, their slopes, and what those slopes do to training.

Every value is computed by the torch op the registry names (``torch.nn.functional``) and
every slope by autograd, never by a derivative typed by hand. Grids run in float64 so
that tiny gradients (0.25**50) stay exact enough to plot. The lesson's figures are drawn
by ``cnnviz.drawing.activation_charts``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from cnnviz.convolution import convolve_image
from cnnviz.refusals import Refusal

DTYPE = torch.float64


@dataclass(frozen=True)
class Parameter:
    """A knob of an activation: its name, slider range and PyTorch's default."""

    name: str
    low: float
    high: float
    default: float
    step: float


@dataclass(frozen=True)
class Activation:
    """One activation function.

    Attributes:
        key: short name, used in URLs and translation keys.
        label: its usual name (the same in English and Chinese texts).
        formula: LaTeX for ``st.latex``.
        torch_call: the PyTorch call that computes it (evaluation mode), with ``{parameter}``
            placeholders for ``str.format``; ``cnnviz.codegen`` fills them in.
        forward: ``(x, params, generator) -> f(x)``; a generator means training mode
            (only RReLU uses it: it draws a random slope per element).
        parameters: its knobs, if any.
    """

    key: str
    label: str
    formula: str
    torch_call: str
    forward: Callable[[torch.Tensor, Mapping[str, float], torch.Generator | None], torch.Tensor]
    parameters: tuple[Parameter, ...] = ()


def _rrelu(x: torch.Tensor, p: Mapping[str, float], generator: torch.Generator | None) -> torch.Tensor:
    if generator is None:  # evaluation: the fixed slope (l + u) / 2
        return F.rrelu(x, p["lower"], p["upper"], training=False)
    # F.rrelu in training draws from the global RNG; the aten op takes a generator, so
    # concurrent sessions cannot disturb each other's draws. Same op, same numbers.
    noise = torch.empty_like(x)
    return torch.ops.aten.rrelu_with_noise(x, noise, p["lower"], p["upper"], True, generator)


_ACTIVATIONS = (
    Activation("identity", "Identity", r"f(x) = x", "x", lambda x, p, g: x),
    Activation(
        "sigmoid", "Sigmoid", r"\sigma(x) = \dfrac{1}{1 + e^{-x}}", "torch.sigmoid(x)", lambda x, p, g: torch.sigmoid(x)
    ),
    Activation(
        "tanh",
        "Tanh",
        r"\tanh(x) = \dfrac{e^{x} - e^{-x}}{e^{x} + e^{-x}} = 2\sigma(2x) - 1",
        "torch.tanh(x)",
        lambda x, p, g: torch.tanh(x),
    ),
    Activation("relu", "ReLU", r"\mathrm{ReLU}(x) = \max(0,\ x)", "F.relu(x)", lambda x, p, g: F.relu(x)),
    Activation(
        "leaky_relu",
        "Leaky ReLU",
        r"f(x) = \begin{cases} x & x > 0 \\ s\,x & x \le 0 \end{cases}",
        "F.leaky_relu(x, negative_slope={slope})",
        lambda x, p, g: F.leaky_relu(x, p["slope"]),
        (Parameter("slope", 0.0, 0.5, 0.01, 0.01),),
    ),
    Activation(
        "prelu",
        "PReLU",
        r"f(x) = \max(0,\ x) + a \min(0,\ x)",
        "F.prelu(x, weight=torch.tensor([{a}], dtype=x.dtype))",
        lambda x, p, g: F.prelu(x, torch.tensor([p["a"]], dtype=x.dtype)),
        (Parameter("a", 0.0, 1.0, 0.25, 0.01),),
    ),
    Activation(
        "rrelu",
        "RReLU",
        r"f(x) = \begin{cases} x & x \ge 0 \\ a\,x & x < 0 \end{cases}, \quad "
        r"a \sim U(l, u), \quad \mathbb{E}[a] = \tfrac{l + u}{2}",
        "F.rrelu(x, lower={lower}, upper={upper}, training=False)",
        _rrelu,
        (Parameter("lower", 0.0, 0.5, 0.125, 0.001), Parameter("upper", 0.0, 0.5, 1 / 3, 0.001)),
    ),
    Activation(
        "elu",
        "ELU",
        r"f(x) = \begin{cases} x & x > 0 \\ \alpha\,(e^{x} - 1) & x \le 0 \end{cases}",
        "F.elu(x, alpha={alpha})",
        lambda x, p, g: F.elu(x, p["alpha"]),
        (Parameter("alpha", 0.1, 3.0, 1.0, 0.1),),
    ),
    Activation(
        "selu",
        "SELU",
        r"f(x) = \lambda \begin{cases} x & x > 0 \\ \alpha\,(e^{x} - 1) & x \le 0 \end{cases}, \quad "
        r"\lambda \approx 1.0507,\ \alpha \approx 1.6733",
        "F.selu(x)",
        lambda x, p, g: F.selu(x),
    ),
    Activation(
        "softplus",
        "Softplus",
        r"f(x) = \tfrac{1}{\beta} \ln\!\left(1 + e^{\beta x}\right), \quad f'(x) = \sigma(\beta x)",
        "F.softplus(x, beta={beta})",
        lambda x, p, g: F.softplus(x, p["beta"]),
        (Parameter("beta", 0.2, 5.0, 1.0, 0.1),),
    ),
    Activation(
        "gelu",
        "GELU",
        r"f(x) = x\,\Phi(x), \quad \Phi(x) = \tfrac{1}{2}\left(1 + \operatorname{erf}(x / \sqrt{2})\right)",
        "F.gelu(x)",
        lambda x, p, g: F.gelu(x),
    ),
    Activation("silu", "SiLU / Swish", r"f(x) = x\,\sigma(x)", "F.silu(x)", lambda x, p, g: F.silu(x)),
    Activation("mish", "Mish", r"f(x) = x \tanh\!\big(\ln(1 + e^{x})\big)", "F.mish(x)", lambda x, p, g: F.mish(x)),
    Activation(
        "hardsigmoid",
        "Hard sigmoid",
        r"f(x) = \max\!\left(0,\ \min\!\left(1,\ \tfrac{x}{6} + \tfrac{1}{2}\right)\right)",
        "F.hardsigmoid(x)",
        lambda x, p, g: F.hardsigmoid(x),
    ),
    Activation(
        "hardtanh", "Hard tanh", r"f(x) = \max(-1,\ \min(1,\ x))", "F.hardtanh(x)", lambda x, p, g: F.hardtanh(x)
    ),
)
#: Every activation, by key, in the order the page lists them.
ACTIVATIONS: dict[str, Activation] = {activation.key: activation for activation in _ACTIVATIONS}


def get(key: str) -> Activation:
    """The activation called ``key``.

    Raises:
        ValueError: for an unknown key.
    """
    if key not in ACTIVATIONS:
        raise ValueError(f"Unknown activation {key!r}; choose one of: {', '.join(ACTIVATIONS)}.")
    return ACTIVATIONS[key]


def resolve_params(key: str, params: Mapping[str, float] | None = None) -> dict[str, float]:
    """The activation's parameters: the given values, defaults for the rest.

    Raises:
        ValueError: for an unknown parameter, a value outside its range, or RReLU
            with lower > upper.
    """
    activation = get(key)
    given = dict(params or {})
    resolved = {}
    for parameter in activation.parameters:
        value = float(given.pop(parameter.name, parameter.default))
        if not parameter.low <= value <= parameter.high:
            raise Refusal(
                "activation_parameter",
                f"{activation.label}'s {parameter.name} must be between {parameter.low:g} and {parameter.high:g}; "
                f"it is {value:g}.",
                activation=activation.label, parameter=parameter.name, low=f"{parameter.low:g}",
                high=f"{parameter.high:g}", value=f"{value:g}",
            )  # fmt: skip
        resolved[parameter.name] = value
    if given:
        raise ValueError(f"{activation.label} has no parameter {', '.join(given)}.")
    if key == "rrelu" and resolved["lower"] > resolved["upper"]:
        raise Refusal(
            "rrelu_bounds",
            f"RReLU draws its slope from U(l, u), so l must not exceed u; here l = {resolved['lower']:g} "
            f"> u = {resolved['upper']:g}. Swap them.",
            lower=f"{resolved['lower']:g}", upper=f"{resolved['upper']:g}",
        )  # fmt: skip
    return resolved


def apply(
    key: str, x: torch.Tensor, params: Mapping[str, float] | None = None, training: bool = False, seed: int = 0
) -> torch.Tensor:
    """f(x), elementwise, any shape. ``training`` only changes RReLU (random slopes, seeded)."""
    generator = torch.Generator().manual_seed(seed) if training else None
    return get(key).forward(x, resolve_params(key, params), generator)


def value_and_slope(
    key: str, x: torch.Tensor, params: Mapping[str, float] | None = None, training: bool = False, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """f(x) and f'(x) by autograd, elementwise; both detached, same shape as x."""
    x = x.detach().clone().requires_grad_(True)
    y = apply(key, x, params, training, seed)
    # f acts elementwise, so the gradient of sum(f(x)) is f'(x) at every element.
    (slope,) = torch.autograd.grad(y.sum(), x)
    return y.detach(), slope


@dataclass(frozen=True)
class Curve:
    """An activation sampled on a grid: x, f(x) and f'(x), each (points,)."""

    key: str
    x: np.ndarray
    y: np.ndarray
    dy: np.ndarray
    training: bool = False


def curve(
    key: str,
    x_min: float = -6.0,
    x_max: float = 6.0,
    params: Mapping[str, float] | None = None,
    points: int = 801,
    training: bool = False,
    seed: int = 0,
) -> Curve:
    """Sample f and f' on ``points`` evenly spaced x in [x_min, x_max] (0 is on the grid when symmetric).

    Raises:
        ValueError: for an empty range, fewer than 2 points, or invalid parameters.
    """
    if not x_min < x_max:
        raise Refusal(
            "empty_range", f"The input range needs its left end below its right end; it is {x_min:g} to {x_max:g}.",
            low=f"{x_min:g}", high=f"{x_max:g}",
        )  # fmt: skip
    if points < 2:
        raise ValueError("A curve needs at least 2 points.")
    steps = torch.arange(points, dtype=DTYPE)
    # Weighted ends rather than linspace: x = 0 is exactly on a symmetric grid with an odd count.
    x = (x_min * (points - 1 - steps) + x_max * steps) / (points - 1)
    y, dy = value_and_slope(key, x, params, training, seed)
    return Curve(key, x.numpy(), y.numpy(), dy.numpy(), training)


def softplus_sigmoid_gap(curve: Curve, beta: float) -> float:
    """Largest |softplus'(x) - sigmoid(beta x)| over a softplus curve: ~1e-16, its slope is the sigmoid."""
    sigmoid = torch.sigmoid(beta * torch.from_numpy(curve.x))
    return float((torch.from_numpy(curve.dy) - sigmoid).abs().max())


@dataclass(frozen=True)
class Region:
    """A stretch of x where the slope is exactly 0 ("dead") or tiny ("saturated")."""

    start: float
    end: float
    kind: str


def flat_regions(curve: Curve, threshold: float) -> list[Region]:
    """Where |f'(x)| < threshold on the curve's grid: ``dead`` where f' == 0 exactly, else ``saturated``."""
    kinds = np.where(curve.dy == 0, "dead", np.where(np.abs(curve.dy) < threshold, "saturated", ""))
    regions, start = [], 0
    for i in range(1, len(kinds) + 1):
        if i == len(kinds) or kinds[i] != kinds[start]:
            if kinds[start]:
                regions.append(Region(float(curve.x[start]), float(curve.x[i - 1]), str(kinds[start])))
            start = i
    return regions


@dataclass(frozen=True)
class SlopeSummary:
    """Numbers about one curve's slope: the largest |f'| and where, and the share of the range that is flat."""

    max_slope: float
    at_x: float
    dead_share: float
    saturated_share: float


def slope_summary(curve: Curve, threshold: float) -> SlopeSummary:
    """Largest |f'(x)| on the grid, and the shares of the grid that are dead / saturated."""
    magnitude = np.abs(curve.dy)
    best = int(np.argmax(magnitude))
    dead = curve.dy == 0
    return SlopeSummary(
        float(magnitude[best]),
        float(curve.x[best]),
        float(dead.mean()),
        float(((magnitude < threshold) & ~dead).mean()),
    )


# --- Vanishing gradients --------------------------------------------------------------------

INITS = ("normal", "xavier", "he")


def layer_gradient_norms(
    key: str,
    depth: int,
    init: str = "xavier",
    std: float = 1.0,
    width: int = 64,
    batch: int = 64,
    seed: int = 0,
    params: Mapping[str, float] | None = None,
) -> np.ndarray:
    """Gradient norm reaching each layer of a randomly initialized deep MLP.

    The network is ``depth`` square layers ``h <- f(h @ W.T)`` (no biases) on a seeded
    batch of N(0, 1) inputs; the loss is the outputs' mean projection on a fixed random
    unit vector, so the backward signal starts at the same size whatever the settings.

    Args:
        key: the activation after every layer.
        depth: number of layers, 1..100.
        init: ``normal`` (N(0, std^2)), ``xavier`` (Glorot normal) or ``he`` (Kaiming normal).
        std: the standard deviation for ``normal``.

    Returns:
        (depth,) Frobenius norms of dL/dW, index 0 = the layer next to the input.

    Raises:
        ValueError: for a depth outside 1..100, an unknown init or a non-positive std.
    """
    if not 1 <= depth <= 100:
        raise ValueError(f"Depth must be 1 to 100 layers; it is {depth}.")
    if init not in INITS:
        raise ValueError(f"Initialization must be one of {', '.join(INITS)}, not {init!r}.")
    if init == "normal" and not std > 0:
        raise ValueError(f"The weights' standard deviation must be positive; it is {std:g}.")
    generator = torch.Generator().manual_seed(seed)
    h = torch.randn(batch, width, dtype=DTYPE, generator=generator)  # (N, width)
    weights = []
    for _ in range(depth):
        weight = torch.empty(width, width, dtype=DTYPE)
        if init == "normal":
            torch.nn.init.normal_(weight, 0.0, std, generator=generator)
        elif init == "xavier":
            torch.nn.init.xavier_normal_(weight, generator=generator)
        else:
            torch.nn.init.kaiming_normal_(weight, nonlinearity="relu", generator=generator)
        weights.append(weight.requires_grad_(True))
    direction = torch.randn(width, dtype=DTYPE, generator=generator)
    direction /= direction.norm()
    for weight in weights:
        h = apply(key, h @ weight.T, params)
    loss = (h @ direction).mean()
    grads = torch.autograd.grad(loss, weights)
    return np.array([float(grad.norm()) for grad in grads])


def max_slope_power(key: str, depth: int, params: Mapping[str, float] | None = None) -> tuple[float, float]:
    """The activation's largest |f'| (by autograd, on x in [-10, 10]) and that value to the power ``depth``.

    For sigmoid this is 0.25 and 0.25**depth: the most a chain of ``depth`` sigmoid slopes can keep.
    """
    slope = float(np.abs(curve(key, -10.0, 10.0, params, points=2001).dy).max())
    return slope, slope**depth


# --- Dead units -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DeadUnits:
    """A hidden layer after one push: a gradient step of some size, or its biases shifted down.

    Attributes:
        amount: the push: the step's learning rate, or how far every bias moved down.
        passing_share: (width,) share of the batch on which each unit passes a non-zero gradient.
        dead_fraction: share of units whose slope is exactly 0 on every input: they never update again.
    """

    amount: float
    passing_share: np.ndarray
    dead_fraction: float


def _one_step_setup(key: str, params: Mapping[str, float] | None, width: int, inputs: int, batch: int, seed: int):
    """Inputs, hidden weights and bias, and their gradient under MSE, for a seeded 2-layer net."""
    generator = torch.Generator().manual_seed(seed)
    # Non-negative inputs, as a hidden layer receives from a ReLU layer before it (or pixels).
    x = F.relu(torch.randn(batch, inputs, dtype=DTYPE, generator=generator))  # (N, inputs)
    target = x @ torch.randn(inputs, dtype=DTYPE, generator=generator)  # (N,)
    weight = (torch.randn(width, inputs, dtype=DTYPE, generator=generator) * math.sqrt(2 / inputs)).requires_grad_()
    bias = torch.zeros(width, dtype=DTYPE, requires_grad=True)
    readout = torch.randn(width, dtype=DTYPE, generator=generator) / math.sqrt(width)
    prediction = apply(key, x @ weight.T + bias, params) @ readout
    grad_weight, grad_bias = torch.autograd.grad(F.mse_loss(prediction, target), [weight, bias])
    return x, weight.detach(), bias.detach(), grad_weight, grad_bias


def _dead_units(key: str, params: Mapping[str, float] | None, pre_activation: torch.Tensor, amount: float):
    """Units of a (N, width) pre-activation whose autograd slope is exactly 0 on every input."""
    _, slope = value_and_slope(key, pre_activation, params)
    passing = (slope != 0).to(DTYPE).mean(0)
    return DeadUnits(float(amount), passing.numpy(), float((passing == 0).to(DTYPE).mean()))


def dead_units_after_step(
    key: str,
    learning_rates: list[float],
    params: Mapping[str, float] | None = None,
    width: int = 256,
    inputs: int = 16,
    batch: int = 256,
    seed: int = 0,
) -> list[DeadUnits]:
    """What one SGD step of each size does to a hidden layer of ``width`` units.

    A seeded two-layer net (``inputs`` -> ``width`` units with this activation -> 1) gets one
    gradient of the MSE on a batch; for each learning rate the hidden layer takes that
    step, and a unit counts as dead when autograd gives it slope exactly 0 on every input
    of the batch: no gradient can reach its weights any more.

    Returns:
        One ``DeadUnits`` per learning rate, in order.

    Raises:
        ValueError: for a negative learning rate or invalid parameters.
    """
    if any(rate < 0 for rate in learning_rates):
        raise ValueError("A learning rate cannot be negative.")
    x, weight, bias, grad_weight, grad_bias = _one_step_setup(key, params, width, inputs, batch, seed)
    return [
        _dead_units(key, params, x @ (weight - rate * grad_weight).T + (bias - rate * grad_bias), rate)  # (N, width)
        for rate in learning_rates
    ]


def dead_units_after_bias_shift(
    key: str,
    shifts: list[float],
    params: Mapping[str, float] | None = None,
    width: int = 256,
    inputs: int = 16,
    batch: int = 256,
    seed: int = 0,
) -> list[DeadUnits]:
    """What moving every bias down by ``shift`` does to the hidden layer of ``dead_units_after_step``.

    A large update often pushes biases negative; once a ReLU unit's bias is below minus its
    largest weighted input on the batch, it outputs 0 for every input and is dead.

    Returns:
        One ``DeadUnits`` per shift, in order.

    Raises:
        ValueError: for a negative shift or invalid parameters.
    """
    if any(shift < 0 for shift in shifts):
        raise ValueError("The bias shift moves biases down: give it as a non-negative amount.")
    x, weight, bias, _, _ = _one_step_setup(key, params, width, inputs, batch, seed)
    return [_dead_units(key, params, x @ weight.T + (bias - shift), shift) for shift in shifts]


# --- On a real feature map ------------------------------------------------------------------


def activate_feature_map(
    image: np.ndarray, kernel: np.ndarray, key: str, params: Mapping[str, float] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Convolve a (gray) image with a kernel, then apply the activation to every pixel.

    The image is padded by repeating its edge pixels ("same" size), so any image, even
    1 x 1, has a feature map.

    Args:
        image: (H, W) or (H, W, 3) floats in 0..1.
        kernel: (k, k), k odd.

    Returns:
        (before, after): the feature map and the activated map, both (H, W) float64.
    """
    padding = kernel.shape[0] // 2
    before = convolve_image(image, kernel, "gray", padding=padding, padding_mode="replicate").astype(np.float64)
    after = apply(key, torch.from_numpy(before), params).numpy()
    return before, after
