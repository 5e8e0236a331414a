"""Objectives: the number gradient ascent makes as large as it can.

An objective reads what one forward pass produced (``Outputs``: each hooked layer's
output, and the image itself under ``INPUT``) and returns one number. Objectives
combine like numbers, as in Lucid:

    channel("features.3", 5) - 0.05 * total_variation()     # a filter, with smoothness
    -channel("features.0", 2)                                # what that filter dislikes most

Layers may be convolutions, (N, C, H, W), or linear layers, (N, K); for a linear layer a
"channel" is one unit, and on the last layer one class score.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch
import torch.nn.functional as F

#: Key of the image in ``Outputs``: (N, C, H, W) in 0..1, before any transformation.
INPUT = "input"

#: What a forward pass captured: layer name -> its output; ``INPUT`` -> the image.
Outputs = Mapping[str, torch.Tensor]


@dataclass(frozen=True)
class Objective:
    """A number to maximize, computed from a forward pass's outputs.

    Attributes:
        compute: outputs -> scalar tensor.
        layers: the layer names whose outputs it reads (``INPUT`` excluded).
        name: a readable description, e.g. "channel 5 of features.3".
    """

    compute: Callable[[Outputs], torch.Tensor]
    layers: tuple[str, ...]
    name: str

    def __call__(self, outputs: Outputs) -> torch.Tensor:
        return self.compute(outputs)

    def _combine(self, other: Objective | float, op: Callable, symbol: str) -> Objective:
        if not isinstance(other, Objective):
            other = constant(float(other))
        layers = tuple(dict.fromkeys(self.layers + other.layers))
        return Objective(
            lambda outputs: op(self(outputs), other(outputs)), layers, f"{self.name} {symbol} {other.name}"
        )

    def __add__(self, other: Objective | float) -> Objective:
        return self._combine(other, operator.add, "+")

    def __radd__(self, other: float) -> Objective:
        return constant(float(other)) + self  # lets sum([...]) start from 0

    def __sub__(self, other: Objective | float) -> Objective:
        return self._combine(other, operator.sub, "-")

    def __mul__(self, weight: float) -> Objective:
        weight = float(weight)
        return Objective(lambda outputs: weight * self(outputs), self.layers, f"{weight:g} × ({self.name})")

    __rmul__ = __mul__

    def __neg__(self) -> Objective:
        return Objective(lambda outputs: -self(outputs), self.layers, f"-({self.name})")


def constant(value: float) -> Objective:
    """A fixed number (so that ``sum`` of objectives and ``objective + 1`` work)."""
    return Objective(lambda outputs: torch.tensor(value), (), f"{value:g}")


def _unit(outputs: Outputs, layer: str, index: int, batch: int | None) -> torch.Tensor:
    """The outputs of channel (or unit) ``index`` of ``layer``: (N, H, W) or (N,); one image if ``batch``."""
    values = outputs[layer]
    if not 0 <= index < values.shape[1]:
        raise ValueError(f"{layer} has {values.shape[1]} channels (0 to {values.shape[1] - 1}); there is no {index}.")
    values = values[:, index]
    return values if batch is None else values[batch : batch + 1]


def _rectified(values: torch.Tensor) -> torch.Tensor:
    """relu(values), with a gradient of 0.01 where the ReLU is off (the value is exactly the ReLU's).

    A channel that is silent everywhere on the grey starting image would otherwise get no
    gradient and never move (Lucid's "redirected ReLU" solves the same problem)."""
    return torch.relu(values) + 0.01 * (values - values.detach()).clamp(max=0)


def channel(layer: str, index: int, batch: int | None = None, rectify: bool = False) -> Objective:
    """The mean of one channel over every position (or one unit of a linear layer).

    Args:
        layer: a module name, e.g. "features.3".
        index: the channel.
        batch: only this image of a batch (for galleries: one channel per image); None: all.
        rectify: measure the channel after a ReLU (for a layer whose ReLU follows it):
            its mean firing, rather than a sum that negative regions cancel.

    Raises (when computed):
        ValueError: for a channel the layer does not have.
    """

    def compute(outputs: Outputs) -> torch.Tensor:
        values = _unit(outputs, layer, index, batch)
        return (_rectified(values) if rectify else values).mean()

    return Objective(compute, (layer,), f"channel {index} of {layer}")


def neuron(
    layer: str,
    index: int,
    row: int | None = None,
    col: int | None = None,
    batch: int | None = None,
    rectify: bool = False,
) -> Objective:
    """One channel at one position: a single neuron, which sees only its receptive field.

    Args:
        row, col: the position in the layer's map; None is the centre.
        rectify: as for ``channel``.

    Raises (when computed):
        ValueError: for a channel or position the layer does not have, or a linear layer.
    """

    def compute(outputs: Outputs) -> torch.Tensor:
        values = _unit(outputs, layer, index, batch)
        if values.ndim != 3:
            raise ValueError(f"{layer} has no positions (it is a linear layer): choose a channel instead.")
        height, width = values.shape[1:]
        y = height // 2 if row is None else row
        x = width // 2 if col is None else col
        if not (0 <= y < height and 0 <= x < width):
            raise ValueError(f"{layer}'s maps are {height} x {width}; there is no position ({y}, {x}).")
        value = values[:, y, x]
        return (_rectified(value) if rectify else value).mean()

    return Objective(compute, (layer,), f"neuron {index} of {layer}")


def class_logit(layer: str, index: int, batch: int | None = None) -> Objective:
    """One class score (before the softmax) of the network's last layer, ``layer``.

    The score, not the probability: raising a probability can be done by lowering the
    other classes, which teaches nothing about this one.
    """
    unit = channel(layer, index, batch)
    return Objective(unit.compute, unit.layers, f"class {index} score")


def l2() -> Objective:
    """Mean squared distance of the pixels from mid-grey (0.5): weighted negatively it is
    "pixel decay", which keeps pixels that do not help the objective neutral."""

    def compute(outputs: Outputs) -> torch.Tensor:
        image = outputs[INPUT]
        return F.mse_loss(image, image.new_tensor(0.5).expand_as(image))

    return Objective(compute, (), "L2")


def total_variation() -> Objective:
    """Mean absolute difference between neighbouring pixels: large for noise, small for
    smooth images. Weighted negatively it penalises speckle."""

    def compute(outputs: Outputs) -> torch.Tensor:
        image = outputs[INPUT]
        return F.l1_loss(image[:, :, 1:, :], image[:, :, :-1, :]) + F.l1_loss(image[:, :, :, 1:], image[:, :, :, :-1])

    return Objective(compute, (), "total variation")
