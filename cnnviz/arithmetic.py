"""Output-size arithmetic for convolution, pooling and transposed convolution.

Every size the app shows comes from the functions here: the lesson pages, the
convolution engine and the layer-stack tracer all call them, so there is one
formula in one place. Invalid settings raise ``ValueError`` with a sentence a
student can act on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal


def _require_positive(name: str, value: int) -> None:
    if value < 1:
        raise ValueError(f"{name} must be at least 1, but it is {value}.")


def _require_non_negative(name: str, value: int) -> None:
    if value < 0:
        raise ValueError(f"{name} cannot be negative, but it is {value}.")


def effective_kernel_size(kernel_size: int, dilation: int = 1) -> int:
    """Span of a dilated kernel: ``dilation * (kernel_size - 1) + 1`` pixels.

    Raises:
        ValueError: if kernel_size or dilation is below 1.
    """
    _require_positive("The kernel size", kernel_size)
    _require_positive("The dilation", dilation)
    return dilation * (kernel_size - 1) + 1


def _check_common(size: int, kernel_size: int, stride: int, padding: int, dilation: int) -> int:
    """Validate the shared arguments and return the effective kernel span."""
    _require_positive("The input size", size)
    _require_positive("The stride", stride)
    _require_non_negative("The padding", padding)
    return effective_kernel_size(kernel_size, dilation)


def _window_does_not_fit(size: int, span: int, padding: int, kernel_size: int, dilation: int) -> ValueError:
    dilated = f" (kernel {kernel_size} with dilation {dilation})" if dilation > 1 else ""
    return ValueError(
        f"The kernel spans {span} pixels{dilated}, but the padded input is only "
        f"{size + 2 * padding} pixels ({size} + 2 x {padding} padding): not even one "
        f"window fits. Use a smaller kernel or dilation, or more padding."
    )


def conv_output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """Output length of a convolution along one axis (PyTorch's rule, rounding down).

    ``floor((size + 2*padding - dilation*(kernel_size-1) - 1) / stride) + 1``

    Args:
        size: input length (pixels).
        kernel_size: kernel length.
        stride: step between windows.
        padding: zeros added on each side.
        dilation: spacing between kernel taps.

    Returns:
        The number of windows that fit, which is the output length.

    Raises:
        ValueError: for a stride, size or kernel below 1, negative padding, or a
            kernel wider than the padded input.
    """
    span = _check_common(size, kernel_size, stride, padding, dilation)
    padded = size + 2 * padding
    if span > padded:
        raise _window_does_not_fit(size, span, padding, kernel_size, dilation)
    return (padded - span) // stride + 1


def uncovered_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """Pixels at the far end of the padded input that no window reaches.

    Non-zero exactly when ``(size + 2*padding - span) / stride`` is not a whole
    number: PyTorch rounds down and silently drops these pixels.
    """
    span = _check_common(size, kernel_size, stride, padding, dilation)
    out = conv_output_size(size, kernel_size, stride, padding, dilation)
    return size + 2 * padding - ((out - 1) * stride + span)


def window_starts(size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> list[int]:
    """Start of every window, in padded coordinates (0 is the first padding pixel)."""
    out = conv_output_size(size, kernel_size, stride, padding, dilation)
    return [i * stride for i in range(out)]


def pool_output_size(
    size: int,
    kernel_size: int,
    stride: int | None = None,
    padding: int = 0,
    dilation: int = 1,
    ceil_mode: bool = False,
) -> int:
    """Output length of a pooling layer along one axis (PyTorch's rule).

    The stride defaults to the kernel size. With ``ceil_mode`` the division rounds
    up, so a last, partial window is kept, unless that window would start inside
    the right padding (PyTorch drops it then).

    Raises:
        ValueError: as ``conv_output_size``, and when the padding exceeds half the
            kernel (PyTorch refuses: a window could then see only padding).
    """
    stride = kernel_size if stride is None else stride
    span = _check_common(size, kernel_size, stride, padding, dilation)
    if 2 * padding > kernel_size:
        raise ValueError(
            f"Pooling padding can be at most half the kernel size ({kernel_size // 2} for a "
            f"kernel of {kernel_size}), but it is {padding}: some windows would contain only padding."
        )
    padded = size + 2 * padding
    if span > padded:
        raise _window_does_not_fit(size, span, padding, kernel_size, dilation)
    steps = (padded - span) / stride
    out = (math.ceil(steps) if ceil_mode else math.floor(steps)) + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


def transposed_output_size(
    size: int,
    kernel_size: int,
    stride: int = 1,
    padding: int = 0,
    output_padding: int = 0,
    dilation: int = 1,
) -> int:
    """Output length of a transposed convolution (PyTorch's ``ConvTranspose2d``).

    ``(size - 1)*stride - 2*padding + dilation*(kernel_size - 1) + output_padding + 1``

    Raises:
        ValueError: for invalid arguments, an ``output_padding`` not smaller than
            the stride or the dilation, or a result below 1.
    """
    span = _check_common(size, kernel_size, stride, padding, dilation)
    _require_non_negative("The output padding", output_padding)
    if output_padding >= max(stride, dilation):
        raise ValueError(
            f"The output padding ({output_padding}) must be smaller than the stride or the "
            f"dilation (here {max(stride, dilation)}); it only picks between output sizes "
            f"that the same stride could produce."
        )
    out = (size - 1) * stride - 2 * padding + span + output_padding
    if out < 1:
        raise ValueError(
            f"The padding ({padding}) removes more than the transposed convolution produces "
            f"({out + 2 * padding} pixels before cropping): reduce the padding."
        )
    return out


TFPadding = Literal["same", "valid"]


def tf_output_size(size: int, kernel_size: int, stride: int = 1, padding: TFPadding = "valid", dilation: int = 1) -> int:
    """Output length under TensorFlow's rule: ``"same"`` is ceil(size/stride), ``"valid"`` no padding.

    Raises:
        ValueError: for invalid arguments, an unknown padding name, or a VALID
            window larger than the input.
    """
    span = _check_common(size, kernel_size, stride, 0, dilation)
    if padding == "same":
        return math.ceil(size / stride)
    if padding == "valid":
        if span > size:
            raise _window_does_not_fit(size, span, 0, kernel_size, dilation)
        return math.ceil((size - span + 1) / stride)
    raise ValueError(f'TensorFlow padding must be "same" or "valid", not {padding!r}.')


def tf_same_padding(size: int, kernel_size: int, stride: int = 1, dilation: int = 1) -> tuple[int, int]:
    """Zeros TensorFlow's SAME padding adds (before, after): the extra one goes after.

    PyTorch's symmetric ``padding=`` cannot express an odd total; this is why
    PyTorch's ``padding="same"`` accepts only stride 1.
    """
    span = _check_common(size, kernel_size, stride, 0, dilation)
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + span - size, 0)
    return total // 2, total - total // 2


# --- Layer stacks -------------------------------------------------------------------------


@dataclass(frozen=True)
class Conv:
    """A 2-D convolution layer (square kernel)."""

    out_channels: int
    kernel_size: int
    stride: int = 1
    padding: int = 0
    dilation: int = 1


@dataclass(frozen=True)
class Pool:
    """A max or average pooling layer (square window); stride defaults to the kernel."""

    kernel_size: int
    stride: int | None = None
    padding: int = 0
    kind: Literal["max", "avg"] = "max"
    ceil_mode: bool = False


@dataclass(frozen=True)
class Flatten:
    """Flattens (C, H, W) to C*H*W features."""


@dataclass(frozen=True)
class Dense:
    """A fully connected layer."""

    out_features: int


Layer = Conv | Pool | Flatten | Dense


@dataclass(frozen=True)
class TracedLayer:
    """One row of the layer-stack table.

    Attributes:
        layer: the layer itself.
        shape: output shape, (C, H, W) for maps or (F,) after Flatten/Dense.
        params: learnable parameters (weights + biases).
        dense_params: parameters a dense layer with the same input and output sizes
            would need; shows what weight sharing saves (0 where not meaningful).
        receptive_field: input pixels (along one axis) that one output pixel sees.
        jump: input pixels between neighbouring output pixels.
    """

    layer: Layer
    shape: tuple[int, ...]
    params: int
    dense_params: int
    receptive_field: int
    jump: int


def trace_layers(input_shape: tuple[int, int, int], layers: list[Layer]) -> list[TracedLayer]:
    """Trace shapes, parameter counts and receptive fields through a stack of layers.

    Args:
        input_shape: (channels, height, width) of the input.
        layers: the stack, in order.

    Returns:
        One ``TracedLayer`` per layer.

    Raises:
        ValueError: naming the first layer (1-based) whose settings have no output.
    """
    shape: tuple[int, ...] = tuple(input_shape)
    field, jump = 1, 1
    rows = []
    for index, layer in enumerate(layers, start=1):
        try:
            shape, params, dense_params, field, jump = _trace_one(shape, layer, field, jump)
        except ValueError as error:
            raise ValueError(f"Layer {index} ({type(layer).__name__}): {error}") from None
        rows.append(TracedLayer(layer, shape, params, dense_params, field, jump))
    return rows


def _trace_one(shape: tuple[int, ...], layer: Layer, field: int, jump: int):
    if isinstance(layer, Flatten):
        return (math.prod(shape),), 0, 0, field, jump
    if isinstance(layer, Dense):
        _require_positive("The number of features", layer.out_features)
        inputs = math.prod(shape)
        params = (inputs + 1) * layer.out_features
        return (layer.out_features,), params, params, field, jump
    if len(shape) != 3:
        raise ValueError("a convolution or pooling layer needs a (C, H, W) input, but it comes after a Flatten.")
    channels, height, width = shape
    if isinstance(layer, Conv):
        _require_positive("The number of output channels", layer.out_channels)
        args = (layer.kernel_size, layer.stride, layer.padding, layer.dilation)
        out_shape = (layer.out_channels, conv_output_size(height, *args), conv_output_size(width, *args))
        params = (channels * layer.kernel_size**2 + 1) * layer.out_channels
        dense_params = (channels * height * width + 1) * math.prod(out_shape)
        span, stride = effective_kernel_size(layer.kernel_size, layer.dilation), layer.stride
    else:
        stride = layer.stride or layer.kernel_size
        args = (layer.kernel_size, stride, layer.padding, 1, layer.ceil_mode)
        out_shape = (channels, pool_output_size(height, *args), pool_output_size(width, *args))
        params, dense_params, span = 0, 0, layer.kernel_size
    return out_shape, params, dense_params, field + (span - 1) * jump, jump * stride


# The stacks the reference articles discuss. Activations and dropout change no shape, so they
# are left out.
LAYER_PRESETS: dict[str, tuple[tuple[int, int, int], list[Layer]]] = {
    "Keras MNIST CNN (28 -> 24 -> 11 -> 4)": (
        (1, 28, 28),
        [Conv(4, 5), Conv(8, 3), Pool(2), Conv(16, 3), Pool(2), Flatten(), Dense(128), Dense(10)],
    ),
    "LeNet-5": (
        (1, 32, 32),
        [Conv(6, 5), Pool(2, kind="avg"), Conv(16, 5), Pool(2, kind="avg"), Flatten(), Dense(120), Dense(84), Dense(10)],
    ),
    "AlexNet": (
        (3, 224, 224),
        [
            Conv(64, 11, stride=4, padding=2),
            Pool(3, stride=2),
            Conv(192, 5, padding=2),
            Pool(3, stride=2),
            Conv(384, 3, padding=1),
            Conv(256, 3, padding=1),
            Conv(256, 3, padding=1),
            Pool(3, stride=2),
            Flatten(),
            Dense(4096),
            Dense(4096),
            Dense(1000),
        ],
    ),
    "VGG-16": (
        (3, 224, 224),
        [
            *[layer for width, repeats in ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))
              for layer in [*(Conv(width, 3, padding=1) for _ in range(repeats)), Pool(2)]],
            Flatten(),
            Dense(4096),
            Dense(4096),
            Dense(1000),
        ],
    ),
}
