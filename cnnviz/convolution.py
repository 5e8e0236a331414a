"""Convolution of images and small grids, step by step and as one matrix product (im2col).

All convolutions here run through ``torch.nn.functional.conv2d``; the code around it
validates settings with ``cnnviz.arithmetic``, applies the padding mode and the
optional kernel flip, and arranges channels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F

from cnnviz.arithmetic import conv_output_size
from cnnviz.refusals import Refusal

PaddingMode = Literal["zeros", "reflect", "replicate", "circular"]
PADDING_MODES: tuple[PaddingMode, ...] = ("zeros", "reflect", "replicate", "circular")

ChannelMode = Literal["gray", "per_channel", "sum"]
CHANNEL_MODES: tuple[ChannelMode, ...] = ("gray", "per_channel", "sum")

# ITU-R BT.601 luma weights, as PIL's convert("L") uses.
LUMA_WEIGHTS = (0.299, 0.587, 0.114)


def check_settings(
    height: int,
    width: int,
    kernel_shape: tuple[int, int],
    stride: int,
    padding: int,
    dilation: int,
    padding_mode: PaddingMode = "zeros",
) -> tuple[int, int]:
    """Validate a convolution's settings and return its output (height, width).

    Raises:
        ValueError: when no output exists (see ``conv_output_size``), for an unknown
            padding mode, or when reflect padding is as wide as the input.
    """
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"Padding mode must be one of {', '.join(PADDING_MODES)}, not {padding_mode!r}.")
    if padding_mode == "reflect" and padding >= min(height, width):
        raise Refusal(
            "reflect_padding",
            f"Reflect padding mirrors the input without repeating its edge, so it must be smaller "
            f"than the input ({min(height, width)} pixels); it is {padding}.",
            size=min(height, width), padding=padding, max_padding=min(height, width) - 1,
        )  # fmt: skip
    if padding_mode == "circular" and padding > min(height, width):
        raise Refusal(
            "circular_padding",
            f"Circular padding wraps the input around, so it cannot exceed its size ({min(height, width)}).",
            size=min(height, width), padding=padding,
        )  # fmt: skip
    return (
        conv_output_size(height, kernel_shape[0], stride, padding, dilation),
        conv_output_size(width, kernel_shape[1], stride, padding, dilation),
    )


def conv2d(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
    padding_mode: PaddingMode = "zeros",
    flip: bool = False,
    groups: int = 1,
) -> torch.Tensor:
    """``F.conv2d`` with validation, padding modes and an optional kernel flip.

    CNN libraries compute cross-correlation: the kernel slides over the input as it
    is. ``flip=True`` rotates it by 180 degrees first, which is convolution as
    signal processing defines it.

    Args:
        x: input, (N, C, H, W).
        weight: kernels, (O, C / groups, kh, kw).
        bias: (O,) or None.
        stride, padding, dilation: as in ``nn.Conv2d`` (same value on both axes).
        padding_mode: zeros, reflect, replicate or circular.
        flip: True for true convolution, False for cross-correlation.
        groups: channel groups, as in ``nn.Conv2d``.

    Returns:
        (N, O, H', W').

    Raises:
        ValueError: for settings with no output.
    """
    check_settings(x.shape[-2], x.shape[-1], tuple(weight.shape[-2:]), stride, padding, dilation, padding_mode)
    if flip:
        weight = weight.flip(-2, -1)
    if padding_mode != "zeros" and padding > 0:
        x = F.pad(x, (padding,) * 4, mode=padding_mode)
        padding = 0
    return F.conv2d(x, weight, bias, stride=stride, padding=padding, dilation=dilation, groups=groups)


def to_gray(image: np.ndarray) -> np.ndarray:
    """Luminance of an (H, W, 3) image; an (H, W) image is returned as it is."""
    if image.ndim == 2:
        return image
    return image[..., :3] @ np.asarray(LUMA_WEIGHTS, dtype=image.dtype)


def convolve_image(
    image: np.ndarray,
    kernel: np.ndarray,
    channel_mode: ChannelMode = "gray",
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
    padding_mode: PaddingMode = "zeros",
    flip: bool = False,
    bias: float = 0.0,
) -> np.ndarray:
    """Convolve an image with one 2-D kernel.

    Args:
        image: (H, W) or (H, W, 3), float values (0..1 for display; any range works).
        kernel: (kh, kw).
        channel_mode: ``"gray"`` converts to luminance first; ``"per_channel"`` filters
            R, G and B separately (output keeps 3 channels); ``"sum"`` does what a
            conv layer with one output channel does: the kernel is applied to each
            channel and the three results are summed.
        stride, padding, dilation, padding_mode, flip: see ``conv2d``.
        bias: added to every output pixel, after the convolution (see :func:`add_bias`).

    Returns:
        (H', W') for gray and sum, (H', W', 3) for per_channel; float32.

    Raises:
        ValueError: for settings with no output or an unknown channel mode.
    """
    if channel_mode not in CHANNEL_MODES:
        raise ValueError(f"Channel mode must be one of {', '.join(CHANNEL_MODES)}, not {channel_mode!r}.")
    pixels = np.asarray(image, dtype=np.float32)
    if channel_mode == "gray" or pixels.ndim == 2:
        pixels = to_gray(pixels)[..., None]
    elif channel_mode == "sum":
        # Convolution and padding are linear: summing the channels first gives the same sum of
        # three convolutions, for a third of the work (and no channel-first copy). The sum is a
        # product with ones: numpy's own sum over a last axis of 3 is ten times slower.
        pixels, channel_mode = (pixels @ np.ones(pixels.shape[2], np.float32))[..., None], "gray"
    # (1, C, H, W), contiguous: a channels-last view would skip one copy but takes a slower kernel.
    x = torch.from_numpy(np.ascontiguousarray(pixels.transpose(2, 0, 1)))[None]
    channels = x.shape[1]
    weight = torch.as_tensor(kernel, dtype=torch.float32)[None, None]  # (1, 1, kh, kw)
    if channel_mode == "per_channel":
        weight, groups = weight.expand(channels, 1, -1, -1), channels
    else:
        weight, groups = weight.expand(1, channels, -1, -1), 1
    out = conv2d(x, weight.contiguous(), None, stride, padding, dilation, padding_mode, flip, groups)[0].numpy()
    out = out.transpose(1, 2, 0) if channel_mode == "per_channel" and channels > 1 else out[0]
    return add_bias(out, bias)


def add_bias(output: np.ndarray, bias: float) -> np.ndarray:
    """``output + bias`` in float32, as :func:`convolve_image` adds its bias after the convolution.

    So one convolution serves every bias: ``add_bias(convolve_image(..., bias=0), b)`` equals
    ``convolve_image(..., bias=b)`` exactly (the lesson's bias slider draws 41 of them).

    Args:
        output: a convolution's output, float32, any shape.
        bias: added to every value.
    """
    return output + np.float32(bias) if bias else output


def pad_grid(grid: np.ndarray, padding: int, padding_mode: PaddingMode = "zeros") -> np.ndarray:
    """The grid with its padding added, as the kernel sees it.

    Args:
        grid: (H, W), or (H, W, C) padded channel by channel.

    Returns:
        (H + 2*padding, W + 2*padding[, C]) float64.
    """
    array = np.asarray(grid, dtype=np.float64)
    if padding == 0:
        return array
    x = torch.from_numpy(np.ascontiguousarray(np.moveaxis(array, -1, 0) if array.ndim == 3 else array[None]))
    mode = "constant" if padding_mode == "zeros" else padding_mode
    padded = F.pad(x[None], (padding,) * 4, mode=mode)[0].numpy()  # (C, H', W')
    return np.moveaxis(padded, 0, -1) if array.ndim == 3 else padded[0]


@dataclass(frozen=True)
class ConvStep:
    """The arithmetic behind one output cell.

    Attributes:
        row, col: the output cell.
        tap_rows, tap_cols: padded-grid coordinates the kernel taps read, (kh,) and (kw,).
        window: input values under the taps, (kh, kw).
        kernel: the kernel as applied (already flipped for true convolution), (kh, kw).
        products: window * kernel, (kh, kw).
        bias: the bias added.
        value: products.sum() + bias, the output cell's value.
    """

    row: int
    col: int
    tap_rows: np.ndarray
    tap_cols: np.ndarray
    window: np.ndarray
    kernel: np.ndarray
    products: np.ndarray
    bias: float
    value: float


def conv_step(
    grid: np.ndarray,
    kernel: np.ndarray,
    row: int,
    col: int,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
    padding_mode: PaddingMode = "zeros",
    flip: bool = False,
    bias: float = 0.0,
) -> ConvStep:
    """The window, products and sum that produce output cell (row, col).

    Args:
        grid: (H, W) numbers.
        kernel: (kh, kw).
        row, col: output cell, 0-based.

    Raises:
        ValueError: for settings with no output or a cell outside the output.
    """
    out_h, out_w = check_settings(*grid.shape, kernel.shape, stride, padding, dilation, padding_mode)
    if not (0 <= row < out_h and 0 <= col < out_w):
        raise ValueError(f"Output cell ({row}, {col}) is outside the {out_h} x {out_w} output.")
    padded = pad_grid(grid, padding, padding_mode)
    applied = np.flip(kernel, (0, 1)) if flip else np.asarray(kernel, float)
    tap_rows = row * stride + dilation * np.arange(kernel.shape[0])
    tap_cols = col * stride + dilation * np.arange(kernel.shape[1])
    window = padded[np.ix_(tap_rows, tap_cols)]
    products = window * applied
    return ConvStep(row, col, tap_rows, tap_cols, window, applied, products, bias, float(products.sum() + bias))


def im2col(
    x: np.ndarray, kernel_shape: tuple[int, int], stride: int = 1, padding: int = 0, dilation: int = 1
) -> np.ndarray:
    """Unroll every window of x into a column (what ``F.unfold`` does).

    Args:
        x: (C, H, W) or (H, W).

    Returns:
        (C * kh * kw, number of windows): column k holds the k-th window (row-major
        over output positions), flattened channel by channel.
    """
    array = np.asarray(x, dtype=np.float64)
    if array.ndim == 2:
        array = array[None]
    check_settings(array.shape[1], array.shape[2], kernel_shape, stride, padding, dilation)
    tensor = torch.from_numpy(array)[None]
    return F.unfold(tensor, kernel_shape, dilation=dilation, padding=padding, stride=stride)[0].numpy()


def conv_as_matmul(
    grid: np.ndarray,
    kernel: np.ndarray,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
    *,
    padding_mode: PaddingMode = "zeros",
    flip: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Convolution of a (H, W) grid as one matrix product.

    Args:
        grid: (H, W) numbers.
        kernel: (kh, kw).
        stride, padding, dilation, padding_mode, flip: see ``conv2d``.

    Returns:
        (kernel_row (1, kh*kw), columns (kh*kw, L), output (H', W')) where
        ``output == (kernel_row @ columns).reshape(H', W')``; kernel_row is the kernel
        as applied (already flipped for true convolution), L = H' * W'.

    Raises:
        ValueError: for settings with no output.
    """
    grid = np.asarray(grid, dtype=np.float64)
    out_shape = check_settings(*grid.shape, kernel.shape, stride, padding, dilation, padding_mode)
    if padding_mode != "zeros":
        # F.unfold pads with zeros only: pad the other modes first, as the kernel sees them.
        grid, padding = pad_grid(grid, padding, padding_mode), 0
    columns = im2col(grid, kernel.shape, stride, padding, dilation)
    applied = np.flip(kernel, (0, 1)) if flip else kernel
    kernel_row = np.asarray(applied, dtype=np.float64).reshape(1, -1)
    return kernel_row, columns, (kernel_row @ columns).reshape(out_shape)


def suggest_valid_settings(
    height: int,
    width: int,
    kernel_shape: tuple[int, int],
    stride: int,
    padding: int,
    dilation: int,
    padding_mode: PaddingMode = "zeros",
    max_padding: int = 10,
    max_dilation: int = 10,
) -> list[tuple[str, int | str]]:
    """The nearest valid settings when the given ones have no output, one change each.

    For padding and dilation, the valid value closest to the current one (within the
    limits, e.g. a slider's range); for the padding mode, the first mode that works.

    Returns:
        ``[(setting name, value), ...]`` with names ``"padding"``, ``"dilation"`` and
        ``"padding_mode"``; empty when the settings are valid or nothing nearby helps.
    """

    def valid(**change: int | str) -> bool:
        settings = {"stride": stride, "padding": padding, "dilation": dilation, "padding_mode": padding_mode}
        settings.update(change)
        try:
            check_settings(height, width, kernel_shape, **settings)
        except ValueError:
            return False
        return True

    if valid():
        return []
    suggestions: list[tuple[str, int | str]] = []
    for name, current, low, high in (("padding", padding, 0, max_padding), ("dilation", dilation, 1, max_dilation)):
        candidates = sorted(range(low, high + 1), key=lambda value, current=current: (abs(value - current), value))
        fixed = next((value for value in candidates if valid(**{name: value})), None)
        if fixed is not None:
            suggestions.append((name, fixed))
    mode = next((mode for mode in PADDING_MODES if mode != padding_mode and valid(padding_mode=mode)), None)
    if mode is not None:
        suggestions.append(("padding_mode", mode))
    return suggestions


def digit_grid(gray: np.ndarray, size: int) -> np.ndarray:
    """A small grid of whole numbers 0..9 drawn from an image, for working by hand.

    The image's central square is shrunk to ``size`` x ``size`` cells (each cell the
    average of its pixels; a square smaller than the grid has its pixels repeated), then
    the darkest cell becomes 0 and the brightest 9, so the numbers vary even where the
    image has little contrast.

    Args:
        gray: (H, W) brightness, any range.
        size: cells per side, at least 1.

    Returns:
        (size, size) int64 in 0..9 (all 0 for a flat image).

    Raises:
        ValueError: for a size below 1.
    """
    side = min(gray.shape[:2])
    if size < 1:
        raise ValueError(f"The grid needs at least 1 cell per side; it is {size}.")
    top, left = (gray.shape[0] - side) // 2, (gray.shape[1] - side) // 2
    square = torch.as_tensor(np.asarray(gray[top : top + side, left : left + side], dtype=np.float64))
    cells = F.adaptive_avg_pool2d(square[None, None], size)[0, 0].numpy()  # (size, size)
    low, high = cells.min(), cells.max()
    scaled = (cells - low) / (high - low) if high > low else np.zeros_like(cells)
    return np.rint(scaled * 9).astype(np.int64)


def random_grid(size: int, seed: int) -> np.ndarray:
    """A (size, size) grid of random whole numbers 0..9, the same for the same seed."""
    return np.random.default_rng(seed).integers(0, 10, (size, size))


#: The output-size rule of ``conv_output_size`` in LaTeX, for one axis.
OUTPUT_SIZE_FORMULA = r"H_{out} = \left\lfloor \frac{H + 2p - d\,(k-1) - 1}{s} \right\rfloor + 1"


def output_size_latex(size: int, kernel_size: int, stride: int, padding: int, dilation: int, symbol: str = "H") -> str:
    """``OUTPUT_SIZE_FORMULA`` with the numbers filled in, as LaTeX for ``st.latex``.

    The result comes from ``conv_output_size``; this only writes out the working.

    Raises:
        ValueError: as ``conv_output_size``.
    """
    out = conv_output_size(size, kernel_size, stride, padding, dilation)
    numerator = size + 2 * padding - dilation * (kernel_size - 1) - 1
    filled = (
        rf"\left\lfloor \frac{{{size} + 2\cdot{padding} - {dilation}\cdot({kernel_size}-1) - 1}}{{{stride}}} "
        rf"\right\rfloor + 1"
    )
    working = f"{numerator} + 1" if stride == 1 else rf"\left\lfloor {numerator / stride:g} \right\rfloor + 1"
    return rf"{symbol}_{{out}} = {filled} = {working} = {out}"
