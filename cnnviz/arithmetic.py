"""Output-size arithmetic for convolution, pooling and transposed convolution.

Every size the app shows comes from the functions here: the lesson pages, the
convolution and pooling engines and the layer-stack tracer (``trace_layers``, checked
against PyTorch in ``cnnviz.layers``) all call them, so there is one formula in one
place. The convolution formula is ``conv_output_size``:

    out = floor((size + 2*padding - dilation*(kernel_size - 1) - 1) / stride) + 1

Invalid settings raise ``SizeError`` (a ``ValueError``) with a sentence a student can
act on, plus a ``reason`` code and the numbers involved so a page can say it in any
language and offer the nearest setting that works.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, NamedTuple

from cnnviz.refusals import Refusal

# How the engine names a setting in its English messages; pages translate the code.
SETTING_NAMES = {
    "size": "The input size",
    "kernel_size": "The kernel size",
    "stride": "The stride",
    "dilation": "The dilation",
    "padding": "The padding",
    "output_padding": "The output padding",
    "out_channels": "The number of output channels",
    "out_features": "The number of features",
}


class SizeError(Refusal):
    """A setting with no output (a :class:`cnnviz.refusals.Refusal`).

    Attributes:
        reason: what went wrong, as a short code (``"window_too_big"``, ``"pool_padding"``...).
        values: the numbers the explanation uses, including the nearest valid setting
            where there is one (e.g. ``min_padding``).
    """


def require_positive(what: str, value: int) -> None:
    """Raise ``SizeError("not_positive")`` unless ``value >= 1``; ``what`` is a ``SETTING_NAMES`` key."""
    if value < 1:
        raise SizeError(
            "not_positive", f"{SETTING_NAMES[what]} must be at least 1, but it is {value}.", what=what, value=value
        )


def require_non_negative(what: str, value: int) -> None:
    """Raise ``SizeError("negative")`` if ``value < 0``; ``what`` is a ``SETTING_NAMES`` key."""
    if value < 0:
        raise SizeError(
            "negative", f"{SETTING_NAMES[what]} cannot be negative, but it is {value}.", what=what, value=value
        )


def effective_kernel_size(kernel_size: int, dilation: int = 1) -> int:
    """Span of a dilated kernel: ``dilation * (kernel_size - 1) + 1`` pixels.

    Raises:
        SizeError: if kernel_size or dilation is below 1.
    """
    require_positive("kernel_size", kernel_size)
    require_positive("dilation", dilation)
    return dilation * (kernel_size - 1) + 1


def slide_distance(size: int, kernel_size: int, padding: int = 0, dilation: int = 1) -> int:
    """How far the window can slide from its first position: ``size + 2*padding - span``.

    This is the numerator of the output-size formula. Negative when the window is wider
    than the padded input (then no window fits).

    Raises:
        SizeError: for a size, kernel or dilation below 1, or negative padding.
    """
    require_positive("size", size)
    require_non_negative("padding", padding)
    return size + 2 * padding - effective_kernel_size(kernel_size, dilation)


def _window_too_big(size: int, kernel_size: int, padding: int, dilation: int) -> SizeError:
    span = effective_kernel_size(kernel_size, dilation)
    dilated = f" (kernel {kernel_size} with dilation {dilation})" if dilation > 1 else ""
    min_padding = -(-(span - size) // 2)  # ceil: the least padding on each side that fits one window
    max_kernel = (size + 2 * padding - 1) // dilation + 1  # the widest kernel that fits as padded
    return SizeError(
        "window_too_big",
        f"The kernel spans {span} pixels{dilated}, but the padded input is only {size + 2 * padding} "
        f"pixels ({size} + 2 x {padding} padding): not even one window fits. Use padding of at least "
        f"{min_padding}, or a kernel of at most {max_kernel}.",
        span=span, padded=size + 2 * padding, size=size, padding=padding, kernel_size=kernel_size,
        dilation=dilation, min_padding=min_padding, max_kernel=max_kernel,
    )  # fmt: skip


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
        SizeError: for a stride, size or kernel below 1, negative padding, or a
            kernel wider than the padded input.
    """
    require_positive("stride", stride)
    room = slide_distance(size, kernel_size, padding, dilation)
    if room < 0:
        raise _window_too_big(size, kernel_size, padding, dilation)
    return _windows_that_fit(room, stride)


def _windows_that_fit(room: int, stride: int) -> int:
    # The first window plus one per whole stride that still fits: the floor drops the rest.
    return room // stride + 1


def uncovered_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """Pixels at the far end of the padded input that no window reaches.

    Non-zero exactly when the division in ``conv_output_size`` is not exact:
    PyTorch rounds down and silently drops these pixels (padding ones included).

    Raises:
        SizeError: as ``conv_output_size``.
    """
    conv_output_size(size, kernel_size, stride, padding, dilation)
    return slide_distance(size, kernel_size, padding, dilation) % stride


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
    the right padding (PyTorch drops it then). A partial window may even be the only
    one: ``MaxPool2d(3, 2, ceil_mode=True)`` turns 2 pixels into 1.

    Raises:
        SizeError: for a size, kernel or stride below 1, negative padding, padding
            above half the kernel (PyTorch refuses: a window could see only padding),
            or no window at all.
    """
    stride = kernel_size if stride is None else stride
    require_positive("stride", stride)
    room = slide_distance(size, kernel_size, padding, dilation)
    if padding > kernel_size // 2:
        raise SizeError(
            "pool_padding",
            f"Pooling padding can be at most half the kernel size ({kernel_size // 2} for a kernel of "
            f"{kernel_size}), but it is {padding}: some windows would contain only padding.",
            padding=padding, kernel_size=kernel_size, max_padding=kernel_size // 2,
        )  # fmt: skip
    out = (-(-room // stride) if ceil_mode else room // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    if out < 1:
        raise _window_too_big(size, kernel_size, padding, dilation)
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

    ``(size - 1)*stride - 2*padding + dilation*(kernel_size - 1) + output_padding + 1``.
    A convolution with stride s maps s neighbouring input sizes to one output size;
    ``output_padding`` (0 .. s-1) picks which of them the transposed convolution returns.

    Raises:
        SizeError: for invalid arguments, an ``output_padding`` not smaller than
            the stride or the dilation, or a result below 1.
    """
    require_positive("stride", stride)
    slide_distance(size, kernel_size, padding, dilation)  # validates size, padding, kernel, dilation
    require_non_negative("output_padding", output_padding)
    limit = max(stride, dilation)
    if output_padding >= limit:
        raise SizeError(
            "output_padding",
            f"The output padding ({output_padding}) must be smaller than the stride or the dilation "
            f"(here {limit}); it only picks between output sizes that the same stride could produce. "
            f"Use at most {limit - 1}.",
            output_padding=output_padding, limit=limit, max_output_padding=limit - 1,
        )  # fmt: skip
    uncropped = (size - 1) * stride + effective_kernel_size(kernel_size, dilation) + output_padding
    out = uncropped - 2 * padding
    if out < 1:
        raise SizeError(
            "transposed_too_small",
            f"The padding ({padding}) crops more than the transposed convolution produces "
            f"({uncropped} pixels before cropping): use padding of at most {(uncropped - 1) // 2}.",
            padding=padding, uncropped=uncropped, max_padding=(uncropped - 1) // 2,
        )  # fmt: skip
    return out


def transposed_choices(
    out: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> list[tuple[int, int]]:
    """Every input size a convolution maps to ``out``, with the ``output_padding`` that gets it back.

    A stride-s convolution rounds down, so up to s input sizes give the same output; a
    transposed convolution with the same settings returns the smallest one plus its
    ``output_padding``. The ``output_padding`` that restores an input size is exactly the
    ``uncovered_size`` of that input.

    Returns:
        (output_padding, input size) pairs, output_padding ascending.

    Raises:
        SizeError: for invalid arguments.
    """
    pairs = []
    for output_padding in range(stride):
        try:
            size = transposed_output_size(out, kernel_size, stride, padding, output_padding, dilation)
        except SizeError as error:
            if error.reason != "transposed_too_small":
                raise
            continue  # this size would be below 1 pixel
        pairs.append((output_padding, size))
    return pairs


TFPadding = Literal["same", "valid"]


def _check_tf(size: int, kernel_size: int, stride: int, dilation: int) -> None:
    require_positive("stride", stride)
    slide_distance(size, kernel_size, 0, dilation)
    if stride > 1 and dilation > 1:
        raise SizeError(
            "tf_dilation_stride",
            f"TensorFlow refuses a dilation above 1 together with a stride above 1 (here dilation "
            f"{dilation}, stride {stride}): set one of them to 1.",
            dilation=dilation, stride=stride,
        )  # fmt: skip


def tf_output_size(
    size: int, kernel_size: int, stride: int = 1, padding: TFPadding = "valid", dilation: int = 1
) -> int:
    """Output length under TensorFlow's rule.

    ``"same"``: ``ceil(size / stride)``, padding as needed (see ``tf_same_padding``).
    ``"valid"``: no padding, then PyTorch's formula (``conv_output_size`` with padding 0).
    Upper case (``"SAME"``, as ``tf.nn`` spells it) works too.

    Raises:
        SizeError: for invalid arguments, dilation and stride both above 1, an unknown
            padding name, or a VALID window larger than the input.
    """
    _check_tf(size, kernel_size, stride, dilation)
    mode = str(padding).lower()
    if mode == "same":
        return -(-size // stride)
    if mode == "valid":
        return conv_output_size(size, kernel_size, stride, 0, dilation)
    raise SizeError(
        "tf_padding_name", f'TensorFlow padding must be "same" or "valid", not {padding!r}.', padding=padding
    )


def tf_same_padding(size: int, kernel_size: int, stride: int = 1, dilation: int = 1) -> tuple[int, int]:
    """Zeros TensorFlow's SAME padding adds (before, after); an odd total puts the extra one after.

    PyTorch's ``padding="same"`` (stride 1 only) splits the same way. Its symmetric
    ``padding=`` number cannot express an odd total.

    Raises:
        SizeError: as ``tf_output_size``.
    """
    _check_tf(size, kernel_size, stride, dilation)
    out = -(-size // stride)
    total = max((out - 1) * stride + effective_kernel_size(kernel_size, dilation) - size, 0)
    return total // 2, total - total // 2


def quotient_text(room: int, stride: int) -> str:
    """``room / stride`` as the lessons write it, in formulas and sentences alike: 3 significant
    digits below 100 (``11.7``), one decimal above."""
    quotient = room / stride
    return f"{quotient:.3g}" if abs(quotient) < 100 else f"{quotient:.1f}"


def conv_formula_latex(size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> str:
    """The output-size formula, then the same with the numbers plugged in, as KaTeX source.

    Three aligned lines: the formula in symbols (n, k, p, s, d), with numbers, and the
    division and its rounding. Impossible settings still get their formula: it ends in
    "< 1" (no output), never in a negative size.

    Raises:
        SizeError: for a size, kernel, stride or dilation below 1, or negative padding.
    """
    require_positive("stride", stride)
    room = slide_distance(size, kernel_size, padding, dilation)
    out = _windows_that_fit(room, stride)  # not conv_output_size: impossible settings get their formula too
    quotient = f"{room}" if stride == 1 else rf"\frac{{{room}}}{{{stride}}}"
    steps = rf"\left\lfloor {quotient} \right\rfloor + 1"
    if room % stride:
        steps += rf" = \lfloor {quotient_text(room, stride)} \rfloor + 1"
    result = rf"= \mathbf{{{out}}}" if out >= 1 else r"< 1"  # no window fits: no size to state
    return (
        r"\begin{aligned}"
        r"\text{out} &= \left\lfloor \frac{n + 2p - d\,(k - 1) - 1}{s} \right\rfloor + 1 \\"
        rf"&= \left\lfloor \frac{{{size} + 2 \cdot {padding} - {dilation} \cdot ({kernel_size} - 1) - 1}}{{{stride}}}"
        rf" \right\rfloor + 1 \\ &= {steps} {result}"
        r"\end{aligned}"
    )


def transposed_formula_latex(
    size: int, kernel_size: int, stride: int = 1, padding: int = 0, output_padding: int = 0, dilation: int = 1
) -> str:
    """``transposed_output_size``'s formula, then with the numbers plugged in, as KaTeX source.

    Raises:
        SizeError: as ``transposed_output_size``.
    """
    out = transposed_output_size(size, kernel_size, stride, padding, output_padding, dilation)
    return (
        r"\begin{aligned}"
        r"\text{out} &= (m - 1)\,s - 2p + d\,(k - 1) \\ &\quad + \text{output\_padding} + 1 \\"
        rf"&= ({size} - 1) \cdot {stride} - 2 \cdot {padding} + {dilation} \cdot ({kernel_size} - 1)"
        rf" + {output_padding} + 1 \\ &= \mathbf{{{out}}}"
        r"\end{aligned}"
    )


# --- Layer stacks -------------------------------------------------------------------------


@dataclass(frozen=True)
class Conv:
    """A 2-D convolution layer (square kernel, with bias)."""

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
    """A fully connected layer (with bias); needs a Flatten before it."""

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
            would need; shows what weight sharing saves (0 for layers without weights).
        receptive_field: input pixels (along one axis) one output value sees; None after
            a Dense layer, whose every output sees the whole input.
        jump: input pixels between neighbouring output pixels.
    """

    layer: Layer
    shape: tuple[int, ...]
    params: int
    dense_params: int
    receptive_field: int | None
    jump: int


def trace_layers(input_shape: tuple[int, int, int], layers: tuple[Layer, ...] | list[Layer]) -> list[TracedLayer]:
    """Trace shapes, parameter counts and receptive fields through a stack of layers.

    The receptive field grows by ``(span - 1) * jump`` at each layer, and the jump
    (distance in input pixels between neighbouring outputs) multiplies by the stride.

    Args:
        input_shape: (channels, height, width) of the input.
        layers: the stack, in order.

    Returns:
        One ``TracedLayer`` per layer.

    Raises:
        SizeError: naming the first layer (1-based, in ``values["layer"]``) whose settings
            have no output.
    """
    shape: tuple[int, ...] = tuple(input_shape)
    field: int | None = 1
    jump = 1
    rows = []
    for index, layer in enumerate(layers, start=1):
        try:
            shape, params, dense_params, span, stride = _trace_one(shape, layer)
        except SizeError as error:
            raise SizeError(
                error.reason, f"Layer {index} ({type(layer).__name__}): {error}", **error.values, layer=index
            ) from None
        if isinstance(layer, Dense):
            field = None
        elif field is not None:
            field, jump = field + (span - 1) * jump, jump * stride
        rows.append(TracedLayer(layer, shape, params, dense_params, field, jump))
    return rows


def _trace_one(shape: tuple[int, ...], layer: Layer) -> tuple[tuple[int, ...], int, int, int, int]:
    """(output shape, params, dense params, window span, stride) of one layer."""
    if isinstance(layer, Flatten):
        return (math.prod(shape),), 0, 0, 1, 1
    if isinstance(layer, Dense):
        if len(shape) != 1:
            raise SizeError("needs_flat", "a Dense layer needs flat features: put a Flatten before it.")
        require_positive("out_features", layer.out_features)
        params = (shape[0] + 1) * layer.out_features
        return (layer.out_features,), params, params, 1, 1
    if len(shape) != 3:
        raise SizeError(
            "needs_maps", "a convolution or pooling layer needs (C, H, W) maps, but it comes after a Flatten."
        )
    channels, height, width = shape
    if isinstance(layer, Conv):
        require_positive("out_channels", layer.out_channels)
        args = (layer.kernel_size, layer.stride, layer.padding, layer.dilation)
        out_shape = (layer.out_channels, conv_output_size(height, *args), conv_output_size(width, *args))
        params = (channels * layer.kernel_size**2 + 1) * layer.out_channels
        dense_params = (channels * height * width + 1) * math.prod(out_shape)
        return out_shape, params, dense_params, effective_kernel_size(layer.kernel_size, layer.dilation), layer.stride
    stride = layer.kernel_size if layer.stride is None else layer.stride
    args = (layer.kernel_size, stride, layer.padding, 1, layer.ceil_mode)
    out_shape = (channels, pool_output_size(height, *args), pool_output_size(width, *args))
    return out_shape, 0, 0, layer.kernel_size, stride


def _vgg16() -> tuple[Layer, ...]:
    blocks: list[Layer] = []
    for width, repeats in ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)):
        blocks += [Conv(width, 3, padding=1)] * repeats + [Pool(2)]
    return (*blocks, Flatten(), Dense(4096), Dense(4096), Dense(1000))


class StackPreset(NamedTuple):
    """A known network's layer stack; activations and dropout change no shape, so they are left out."""

    input_shape: tuple[int, int, int]
    layers: tuple[Layer, ...]


LAYER_PRESETS: dict[str, StackPreset] = {
    # The seed article's Keras MNIST CNN: 28 -> 24 -> 11 -> 4 (each pooling halves, rounding down).
    "keras_mnist": StackPreset(
        (1, 28, 28), (Conv(4, 5), Conv(8, 3), Pool(2), Conv(16, 3), Pool(2), Flatten(), Dense(128), Dense(10))
    ),
    # LeCun et al. 1998, fully connected C3 (the paper's partial connection table is left out).
    "lenet5": StackPreset(
        (1, 32, 32),
        (
            Conv(6, 5),
            Pool(2, kind="avg"),
            Conv(16, 5),
            Pool(2, kind="avg"),
            Flatten(),
            Dense(120),
            Dense(84),
            Dense(10),
        ),
    ),
    # torchvision's AlexNet (one-GPU variant: 64 first-layer filters, 224 input; 256 x 6 x 6 at the end).
    "alexnet": StackPreset(
        (3, 224, 224),
        (
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
        ),
    ),
    "vgg16": StackPreset((3, 224, 224), _vgg16()),
}
