"""Where a convolution's windows land along one axis: which pixels they read, which they never do.

``axis_layout`` works it out from ``cnnviz.arithmetic`` (never recomputing the size
formula); ``read_map`` says what it means for the whole image (the never-read rows and
columns); ``transposed_layout`` does the same for a transposed convolution. The Output size
lesson draws them with ``cnnviz.drawing.window_diagrams``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnviz.arithmetic import effective_kernel_size, transposed_output_size, uncovered_size, window_starts


@dataclass(frozen=True)
class AxisLayout:
    """Where a convolution's windows land along one axis, in padded coordinates.

    Attributes:
        size, padding: input length and zeros on each side; cell ``padding`` is input pixel 0.
        stride: step between windows.
        span: width of one (dilated) window.
        starts: first cell of each window, one per output pixel.
        taps: offsets of the kernel taps inside a window (0, dilation, 2*dilation...).
        reads: how many taps read each padded cell, (size + 2*padding,).
        dropped: cells at the far end beyond the last window (the floor's remainder).
        unread: input cells (padded coordinates) no tap ever reads: the far end and, with a
            stride above the span or a dilation, gaps between taps.
    """

    size: int
    padding: int
    stride: int
    span: int
    starts: tuple[int, ...]
    taps: tuple[int, ...]
    reads: tuple[int, ...]
    dropped: int
    unread: tuple[int, ...]


def axis_layout(size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> AxisLayout:
    """Windows, taps and never-read pixels of a convolution along one axis.

    Raises:
        SizeError: as ``conv_output_size``.
    """
    starts = tuple(window_starts(size, kernel_size, stride, padding, dilation))
    taps = tuple(range(0, effective_kernel_size(kernel_size, dilation), dilation))
    reads = [0] * (size + 2 * padding)
    for start in starts:
        for tap in taps:
            reads[start + tap] += 1
    unread = tuple(cell for cell in range(padding, padding + size) if reads[cell] == 0)
    dropped = uncovered_size(size, kernel_size, stride, padding, dilation)
    return AxisLayout(size, padding, stride, taps[-1] + 1, starts, taps, tuple(reads), dropped, unread)


#: ``read_map`` values.
PADDING, READ, UNREAD = 0, 1, 2


def read_map(layout: AxisLayout) -> np.ndarray:
    """What each cell of the padded square input is: ``PADDING``, ``READ`` or ``UNREAD``.

    A 2-D window is a row window crossed with a column window (same settings along both
    axes), so a pixel is read exactly when its row and its column are both read.

    Returns:
        (size + 2*padding, size + 2*padding) int array.
    """
    read = np.asarray(layout.reads) > 0
    is_pixel = np.zeros(len(layout.reads), bool)
    is_pixel[layout.padding : layout.padding + layout.size] = True
    pixel = is_pixel[:, None] & is_pixel[None, :]
    return np.where(pixel, np.where(read[:, None] & read[None, :], READ, UNREAD), PADDING)


# --- Transposed convolution: each input pixel scatters a window into the output ---------------


@dataclass(frozen=True)
class TransposedLayout:
    """Where a transposed convolution's windows land along one axis (as the conv_arithmetic
    animations draw it: each input pixel spreads a kernel-sized window over the output).

    Attributes:
        size: input length m (the convolution's output).
        stride, padding, output_padding: as in ``nn.ConvTranspose2d``.
        span: width of one (dilated) window.
        starts: first cell of each input pixel's window in the uncropped output (i * stride).
        taps: offsets of the kernel taps inside a window.
        writes: how many taps add into each cell of the uncropped output,
            ((m - 1)*stride + span + output_padding,).
        out: the output length, ``transposed_output_size``: cells ``padding .. padding + out - 1``
            of the uncropped output are kept (``padding`` cropped from the start, and from the end of
            the row before ``output_padding`` lengthened it: the last ``output_padding`` kept cells
            are those only the output padding keeps).
    """

    size: int
    stride: int
    padding: int
    output_padding: int
    span: int
    starts: tuple[int, ...]
    taps: tuple[int, ...]
    writes: tuple[int, ...]
    out: int


def transposed_layout(
    size: int, kernel_size: int, stride: int = 1, padding: int = 0, output_padding: int = 0, dilation: int = 1
) -> TransposedLayout:
    """Windows, taps and overlaps of a transposed convolution along one axis.

    Raises:
        SizeError: as ``transposed_output_size``.
    """
    out = transposed_output_size(size, kernel_size, stride, padding, output_padding, dilation)
    span = effective_kernel_size(kernel_size, dilation)
    starts = tuple(index * stride for index in range(size))
    taps = tuple(range(0, span, dilation))
    writes = [0] * ((size - 1) * stride + span + output_padding)
    for start in starts:
        for tap in taps:
            writes[start + tap] += 1
    return TransposedLayout(size, stride, padding, output_padding, span, starts, taps, tuple(writes), out)
