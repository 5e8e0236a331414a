"""What a network written on the Training page would cost, computed from its text alone.

Parameters, activation memory per batch and multiply-adds per training step come from the
traced shapes (``cnnviz.arithmetic.trace_layers`` through ``cnnviz.netspec.check_spec``),
so a network too big for the server is refused before a single tensor is made.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from cnnviz.arithmetic import Conv, Dense, Flatten
from cnnviz.limits import Limits
from cnnviz.netspec import Activation, Dropout, SpecLayer, check_spec

BYTES_PER_VALUE = 4  # float32
#: A training step's multiply-adds per forward multiply-add: the forward pass, then the
#: backward pass's gradient for the layer's input and for its weights (each as big as the forward).
TRAINING_STEP_FACTOR = 3


@dataclass(frozen=True)
class NetworkCost:
    """Attributes:
    params: learnable parameters (weights, biases, PReLU slopes).
    activation_values: values one image leaves in memory on its way through: the input and
        every layer's output (a flatten is a view of its input and adds none).
    forward_macs: multiply-adds of one image's forward pass (convolutions and dense layers).
    batch_size: the images in one training step.
    """

    params: int
    activation_values: int
    forward_macs: int
    batch_size: int

    @property
    def activation_bytes(self) -> int:
        """Bytes of layer outputs one training batch keeps for the backward pass."""
        return self.activation_values * self.batch_size * BYTES_PER_VALUE

    @property
    def step_macs(self) -> int:
        """Multiply-adds of one training step: the whole batch, forward and backward."""
        return self.forward_macs * self.batch_size * TRAINING_STEP_FACTOR


class LimitExceeded(ValueError):
    """A network the server will not build.

    Attributes:
        reason: ``"params"``, ``"activation_mb"`` or ``"macs"``.
        value: what the network needs (parameters, megabytes per batch, multiply-adds per step).
        limit: what the server allows, in the same unit.
    """

    def __init__(self, reason: str, value: float, limit: float, message: str) -> None:
        super().__init__(message)
        self.reason, self.value, self.limit = reason, value, limit


def network_cost(
    input_shape: tuple[int, int, int], layers: list[SpecLayer], classes: int, batch_size: int
) -> NetworkCost:
    """The cost of a spec, from its traced shapes (no tensor is made).

    Args:
        input_shape: (C, H, W) of one image.
        layers: a parsed spec (``cnnviz.netspec.parse_spec``).
        classes: the scores the network must end with.
        batch_size: images per training step.

    Raises:
        ValueError: as ``cnnviz.netspec.check_spec`` for a stack that cannot be built.
    """
    rows = iter(check_spec(input_shape, layers, classes))
    shape: tuple[int, ...] = tuple(input_shape)
    params = 0
    values = math.prod(input_shape)
    macs = 0
    for layer in layers:
        if isinstance(layer, Activation | Dropout):  # same shape out, a new tensor
            params += isinstance(layer, Activation) and layer.name == "prelu"  # nn.PReLU(): one slope
            values += math.prod(shape)
            continue
        row = next(rows)
        params += row.params
        if isinstance(layer, Conv):  # every output value: in_channels * k * k products
            macs += math.prod(row.shape) * shape[0] * layer.kernel_size**2
        elif isinstance(layer, Dense):
            macs += shape[0] * layer.out_features
        if not isinstance(layer, Flatten):
            values += math.prod(row.shape)
        shape = row.shape
    return NetworkCost(params, values, macs, batch_size)


def check_limits(cost: NetworkCost, limits: Limits) -> None:
    """Refuse a network that needs more than the server allows.

    Raises:
        LimitExceeded: for the first limit exceeded (parameters, then memory, then compute).
    """
    megabytes = cost.activation_bytes / 1e6
    if cost.params > limits.max_params:
        raise LimitExceeded(
            "params",
            cost.params,
            limits.max_params,
            f"{cost.params:,} parameters; this server allows {limits.max_params:,}.",
        )
    if megabytes > limits.max_activation_mb:
        raise LimitExceeded(
            "activation_mb",
            megabytes,
            limits.max_activation_mb,
            f"{megabytes:,.0f} MB of activations per batch of {cost.batch_size}; "
            f"this server allows {limits.max_activation_mb:,} MB.",
        )
    if cost.step_macs > limits.max_macs:
        raise LimitExceeded(
            "macs",
            cost.step_macs,
            limits.max_macs,
            f"{cost.step_macs:,} multiply-adds per training step; this server allows {limits.max_macs:,}.",
        )
