"""The arithmetic behind one pixel of a convolved photo: its window, the products and their sum.

The Convolution lesson convolves the whole photo with ``convolution.convolve_image``; a
click on one output pixel asks where it came from. ``pixel_arithmetic`` answers from the
photo itself, at the resolution the page convolves: only the window's k x k taps are read
(the padding is worked out per tap with ``source_index``, as ``F.pad`` would fill it), so a
click on a 1024-pixel photo costs microseconds, not a second convolution.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnviz.convolution import ChannelMode, PaddingMode, check_settings, to_gray

#: The channels each mode shows in the arithmetic ("sum" reads all three, "per_channel" one).
CHANNEL_NAMES = ("r", "g", "b")


@dataclass(frozen=True)
class PixelArithmetic:
    """Everything behind output pixel (row, col).

    Attributes:
        row, col: the output pixel; channel: the output map (0 unless R, G, B separately).
        channels: what ``windows`` holds, in order: ("gray",), one of "r", "g", "b", or all three.
        tap_rows, tap_cols: (kh,), (kw,) rows and columns of the padded picture the taps read.
        source_rows, source_cols: the input row / column each tap reads; -1 for zero padding.
        windows: (C, kh, kw) the values read (0..1 for a photo; zeros in zero padding).
        kernel: (kh, kw) the kernel as applied (rotated by 180 degrees when flipped).
        products: (C, kh, kw) windows * kernel.
        bias: added once; value: products.sum() + bias, the output pixel's value.
        in_padding: (kh, kw) bool, taps that read the padding rather than the picture.
    """

    row: int
    col: int
    channel: int
    channels: tuple[str, ...]
    tap_rows: np.ndarray
    tap_cols: np.ndarray
    source_rows: np.ndarray
    source_cols: np.ndarray
    windows: np.ndarray
    kernel: np.ndarray
    products: np.ndarray
    bias: float
    value: float
    in_padding: np.ndarray


def source_index(padded: int, size: int, padding: int, padding_mode: PaddingMode) -> int:
    """The input index that padded index ``padded`` holds, as ``F.pad`` fills it; -1 for a zero.

    Args:
        padded: 0 .. size + 2 * padding - 1 (``padding`` is input index 0).
        size: the input's length along this axis.
    """
    index = padded - padding
    if 0 <= index < size:
        return index
    if padding_mode == "zeros":
        return -1
    if padding_mode == "replicate":
        return min(max(index, 0), size - 1)
    if padding_mode == "circular":
        return index % size
    return -index if index < 0 else 2 * (size - 1) - index  # reflect: mirrored, edge not repeated


def pixel_arithmetic(
    image: np.ndarray,
    kernel: np.ndarray,
    row: int,
    col: int,
    channel_mode: ChannelMode = "gray",
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
    padding_mode: PaddingMode = "zeros",
    flip: bool = False,
    bias: float = 0.0,
    channel: int = 0,
    divide_by: float = 1.0,
) -> PixelArithmetic:
    """The window, products and sum behind output pixel (row, col) of ``convolve_image`` with these settings.

    Args:
        image: (H, W, 3) or (H, W), as given to ``convolve_image`` (the page: uint8 / 255).
        kernel: (kh, kw).
        row, col: the output pixel, 0-based.
        channel_mode: "gray" reads the luminance, "sum" all three channels (one product per
            channel and tap, all summed), "per_channel" the channel ``channel`` alone.
        stride, padding, dilation, padding_mode, flip, bias: as for ``convolve_image``.
        channel: which of R, G, B (0, 1, 2) for "per_channel"; ignored otherwise.
        divide_by: 255 to pass a photo's uint8 pixels as they are: the taps read are divided
            as float32, as the page divides the whole photo (without copying all of it).

    Returns:
        See ``PixelArithmetic``; all numbers float64.

    Raises:
        ValueError: for settings with no output, a pixel outside the output, or a channel
            the image lacks.
    """
    pixels = np.asarray(image)
    height, width = pixels.shape[:2]
    out_h, out_w = check_settings(height, width, kernel.shape, stride, padding, dilation, padding_mode)
    if not (0 <= row < out_h and 0 <= col < out_w):
        raise ValueError(f"Output pixel ({row}, {col}) is outside the {out_h} x {out_w} output.")
    tap_rows = row * stride + dilation * np.arange(kernel.shape[0])
    tap_cols = col * stride + dilation * np.arange(kernel.shape[1])
    source_rows = np.array([source_index(r, height, padding, padding_mode) for r in tap_rows])
    source_cols = np.array([source_index(c, width, padding, padding_mode) for c in tap_cols])
    read = pixels[np.ix_(np.maximum(source_rows, 0), np.maximum(source_cols, 0))]  # (kh, kw[, 3])
    if divide_by != 1:
        read = read.astype(np.float32) / np.float32(divide_by)
    read = read.astype(np.float64)
    outside_rows = (tap_rows < padding) | (tap_rows >= padding + height)
    outside_cols = (tap_cols < padding) | (tap_cols >= padding + width)
    read[(source_rows < 0)[:, None] | (source_cols < 0)[None, :]] = 0  # zero padding
    if read.ndim == 2 or channel_mode == "gray":
        windows, channels, channel = to_gray(read)[None], ("gray",), 0
    elif channel_mode == "sum":
        windows, channels, channel = read.transpose(2, 0, 1), CHANNEL_NAMES[: read.shape[2]], 0
    elif 0 <= channel < read.shape[2]:
        windows, channels = read[..., channel][None], (CHANNEL_NAMES[channel],)
    else:
        raise ValueError(f"The picture has channels 0 to {read.shape[2] - 1}; there is no channel {channel}.")
    applied = np.flip(kernel, (0, 1)).astype(np.float64) if flip else np.asarray(kernel, np.float64)
    products = windows * applied  # (C, kh, kw)
    return PixelArithmetic(
        row, col, channel, channels, tap_rows, tap_cols, source_rows, source_cols, windows, applied, products,
        float(bias), float(products.sum() + bias), outside_rows[:, None] | outside_cols[None, :],
    )  # fmt: skip
