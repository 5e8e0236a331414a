"""The layer stacks of ``cnnviz.arithmetic``, built and run in PyTorch.

``trace_layers`` does the arithmetic with the one size formula; ``build_torch_stack``
builds the same stack as real ``torch.nn`` modules, which know nothing of that formula,
so ``compare_with_torch`` is an independent check of every shape and parameter count.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from cnnviz.arithmetic import Conv, Dense, Flatten, Layer, Pool, trace_layers


def build_torch_stack(
    input_channels: int, layers: tuple[Layer, ...] | list[Layer], device: str = "meta"
) -> nn.Sequential:
    """The stack as ``torch.nn`` modules, one module per layer.

    Dense layers are ``nn.LazyLinear``: torch infers their input size on the first
    forward pass (and they become ``nn.Linear``), so nothing here reuses our arithmetic.

    Args:
        input_channels: channels of the input.
        layers: the stack, in order.
        device: ``"meta"`` (default) gives tensors with shapes but no data: VGG-16 at 224
            pixels runs instantly and allocates nothing.

    Returns:
        An ``nn.Sequential`` with ``len(layers)`` modules.
    """
    modules: list[nn.Module] = []
    channels = input_channels
    for layer in layers:
        modules.append(layer_module(layer, None if isinstance(layer, Dense) else channels, device))
        if isinstance(layer, Conv):
            channels = layer.out_channels
    return nn.Sequential(*modules)


def layer_module(layer: Layer, inputs: int | None, device: str = "cpu") -> nn.Module:
    """One layer as a ``torch.nn`` module.

    Args:
        layer: the layer.
        inputs: what the module needs to know of its input: channels for a convolution,
            features for a dense layer (``None`` gives ``nn.LazyLinear``, sized on first use);
            pooling and flatten ignore it.
        device: where its parameters live.
    """
    if isinstance(layer, Conv):
        return nn.Conv2d(inputs, layer.out_channels, layer.kernel_size, layer.stride, layer.padding, layer.dilation,
                         device=device)  # fmt: skip
    if isinstance(layer, Pool):
        pool = nn.MaxPool2d if layer.kind == "max" else nn.AvgPool2d
        return pool(layer.kernel_size, layer.stride, layer.padding, ceil_mode=layer.ceil_mode)
    if isinstance(layer, Flatten):
        return nn.Flatten()
    if inputs is None:
        return nn.LazyLinear(layer.out_features, device=device)
    return nn.Linear(inputs, layer.out_features, device=device)


def run_torch_stack(
    input_shape: tuple[int, int, int], layers: tuple[Layer, ...] | list[Layer]
) -> list[tuple[tuple[int, ...], int]]:
    """Run the stack on a meta batch of one and report what torch computed.

    Returns:
        Per layer: (output shape without the batch axis, parameter count).

    Raises:
        RuntimeError: whatever torch raises for settings it refuses.
    """
    stack = build_torch_stack(input_shape[0], layers)
    x = torch.empty((1, *input_shape), device="meta")  # (1, C, H, W)
    rows = []
    with torch.no_grad():
        for module in stack:
            x = module(x)
            rows.append((tuple(x.shape[1:]), sum(p.numel() for p in module.parameters())))
    return rows


@dataclass(frozen=True)
class Mismatch:
    """A layer where our arithmetic and PyTorch disagree (1-based ``index``)."""

    index: int
    traced_shape: tuple[int, ...]
    torch_shape: tuple[int, ...]
    traced_params: int
    torch_params: int


def compare_with_torch(input_shape: tuple[int, int, int], layers: tuple[Layer, ...] | list[Layer]) -> list[Mismatch]:
    """Trace the stack and run it in PyTorch; list the layers where shapes or parameter counts differ.

    Returns:
        An empty list when every layer agrees.

    Raises:
        SizeError: from ``trace_layers``, for a stack with no output.
    """
    traced = trace_layers(input_shape, layers)
    ran = run_torch_stack(input_shape, layers)
    return [
        Mismatch(index, row.shape, shape, row.params, params)
        for index, (row, (shape, params)) in enumerate(zip(traced, ran, strict=True), start=1)
        if row.shape != shape or row.params != params
    ]
