"""Pooling: max, average, Lp and global average; windows, forward, backward and shifts.

Pooling is computed the way the reference articles describe it: unfold every window into
a column (im2col, ``F.unfold``), then reduce each column to one number (its maximum,
mean or p-norm). Torch's pooling functions are not called here, so the tests can check
this code against them. Gradients come from torch autograd through the same code.
Output sizes come from ``cnnviz.arithmetic.pool_output_size``. The maps the lesson pools
are made here too (``random_grid``, ``feature_map``, ``image_grid``); what it draws
(formulas, figures) is in ``cnnviz.drawing.pooling_figures``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from cnnviz.arithmetic import pool_output_size
from cnnviz.convolution import convolve_image, to_gray
from cnnviz.images import resize_longest_side
from cnnviz.kernels import preset

PoolKind = Literal["max", "avg", "lp", "global_avg"]
POOL_KINDS: tuple[PoolKind, ...] = ("max", "avg", "lp", "global_avg")
#: Beyond this p, Lp pooling is max pooling in all but name (and powers overflow).
MAX_P = 50.0

# Regions of the input as the windows see it (``PooledGrid.region``).
INPUT, PADDING, BEYOND = 0, 1, 2


@dataclass(frozen=True)
class PoolSettings:
    """One pooling layer (square window, same settings on both axes).

    Attributes:
        kind: "max", "avg", "lp" (power p) or "global_avg" (one window over the whole
            map; kernel, stride and padding are then unused).
        kernel_size: window side.
        stride: step between windows (PyTorch's default is the kernel size).
        padding: cells added on each side; max pooling ignores them, average and Lp
            pooling see zeros.
        ceil_mode: round the window count up, keeping a last partial window.
        count_include_pad: average pooling only: whether padding zeros count in the divisor.
        p: the power of Lp pooling (1 sums absolute values; large p approaches max).
    """

    kind: PoolKind = "max"
    kernel_size: int = 2
    stride: int = 2
    padding: int = 0
    ceil_mode: bool = False
    count_include_pad: bool = True
    p: float = 2.0


def check_settings(height: int, width: int, settings: PoolSettings) -> tuple[int, int]:
    """Validate pooling settings for an input of (height, width); return the output (H', W').

    Raises:
        ValueError: for an unknown kind, a p outside 1..MAX_P, or sizes with no output
            (see ``pool_output_size``).
    """
    if settings.kind not in POOL_KINDS:
        raise ValueError(f"Pooling must be one of {', '.join(POOL_KINDS)}, not {settings.kind!r}.")
    if settings.kind == "global_avg":
        if height < 1 or width < 1:
            raise ValueError(f"Global pooling needs a map of at least 1 x 1 pixels, not {height} x {width}.")
        return 1, 1
    if settings.kind == "lp" and not 1 <= settings.p <= MAX_P:
        raise ValueError(
            f"The power p must be between 1 and {MAX_P:g}, but it is {settings.p:g}: below 1 the result is "
            f"not a norm, and far above it Lp pooling is max pooling."
        )
    args = (settings.kernel_size, settings.stride, settings.padding, 1, settings.ceil_mode)
    return pool_output_size(height, *args), pool_output_size(width, *args)


def nearest_valid(height: int, width: int, settings: PoolSettings) -> PoolSettings:
    """The settings closest to ``settings`` that have an output on a (height, width) input.

    Padding is first limited to half the kernel, then the kernel to what the padded
    input holds; stride and p are moved into their valid ranges.
    """
    kernel = max(settings.kernel_size, 1)
    padding = min(max(settings.padding, 0), kernel // 2)
    while kernel > min(height, width) + 2 * padding:
        kernel -= 1
        padding = min(padding, kernel // 2)
    p = min(max(settings.p, 1.0), MAX_P) if math.isfinite(settings.p) else MAX_P
    return replace(settings, kernel_size=kernel, stride=max(settings.stride, 1), padding=padding, p=p)


def _overhang(size: int, out: int, settings: PoolSettings) -> int:
    """Cells the last window reaches past the padded input (negative: cells it leaves out)."""
    return (out - 1) * settings.stride + settings.kernel_size - (size + 2 * settings.padding)


def _unfold(
    x: torch.Tensor, settings: PoolSettings, out: tuple[int, int], fill: float, beyond: float | None = None
) -> torch.Tensor:
    """Every window of x as a column: (N, C, H, W) -> (N, C, k*k, H', W').

    The input is padded with ``fill`` on every side, then, for a partial ceil_mode
    window, with ``beyond`` (default: ``fill``) for the cells it reaches past the
    bottom/right edge of the padded input.
    """
    n, c, h, w = x.shape
    below, right = (max(_overhang(size, o, settings), 0) for size, o in zip((h, w), out, strict=True))
    padded = F.pad(x, (settings.padding,) * 4, value=fill)
    padded = F.pad(padded, (0, right, 0, below), value=fill if beyond is None else beyond)
    k = settings.kernel_size
    columns = F.unfold(padded.reshape(n * c, 1, *padded.shape[-2:]), k, stride=settings.stride)
    return columns.reshape(n, c, k * k, *out)


def _divisors(height: int, width: int, settings: PoolSettings, out: tuple[int, int]) -> torch.Tensor:
    """Cells each average divides by: (H', W'). Like PyTorch, cells past the padded input never count."""
    counted = torch.ones(1, 1, height, width, dtype=torch.float64)
    return _unfold(counted, settings, out, float(settings.count_include_pad), beyond=0.0).sum(2)[0, 0]


def pool2d(x: torch.Tensor, settings: PoolSettings) -> torch.Tensor:
    """Pool every channel of a batch of maps (differentiable).

    Args:
        x: (N, C, H, W) floats, finite.
        settings: the pooling layer.

    Returns:
        (N, C, H', W'); channels are pooled independently, so C is unchanged.

    Raises:
        ValueError: for a tensor that is not 4-D or holds NaN/infinity, or settings with
            no output.
    """
    if x.ndim != 4:
        raise ValueError(f"Pooling expects a (batch, channels, height, width) tensor, not {x.ndim}-D.")
    if not torch.isfinite(x).all():
        raise ValueError("The input contains NaN or infinite values; pooling needs finite numbers.")
    out = check_settings(x.shape[-2], x.shape[-1], settings)
    if settings.kind == "global_avg":
        return x.mean((-2, -1), keepdim=True)
    if settings.kind == "max":
        # Padding is -inf so it never wins; max returns the first maximum in row-major order.
        return _unfold(x, settings, out, -math.inf).max(2).values
    columns = _unfold(x, settings, out, 0.0)
    if settings.kind == "avg":
        return columns.sum(2) / _divisors(x.shape[-2], x.shape[-1], settings, out).to(x.dtype)
    powered = columns.abs().pow(settings.p).sum(2)
    # An all-zero window has norm 0 and no gradient (as in torch): keep 0 ** (1/p) out of autograd.
    nonzero = powered > 0
    return torch.where(nonzero, torch.where(nonzero, powered, 1.0).pow(1 / settings.p), 0.0)


def pool_map(values: np.ndarray, settings: PoolSettings) -> np.ndarray:
    """Pool one (H, W) map; returns (H', W') float64. Raises ValueError as ``pool2d``."""
    x = torch.as_tensor(np.asarray(values, dtype=np.float64))
    if x.ndim != 2:
        raise ValueError(f"Expected a 2-D map, got shape {tuple(x.shape)}.")
    return pool2d(x[None, None], settings)[0, 0].numpy()


@dataclass(frozen=True)
class PooledGrid:
    """A small grid pooled, with what is needed to draw each window.

    Attributes:
        settings: the pooling layer.
        output: (H', W') pooled values.
        layout: the input as the windows see it, (H + 2p + below, W + 2p + right): input
            values, 0 in the padding and past the edge (see ``region``).
        region: same shape, INPUT, PADDING or BEYOND (cells only a ceil_mode partial
            window reaches; they do not exist and never count).
        offset: padding cells before the input (layout = input coordinates + offset).
        overhang: (rows, cols) the last window reaches past the padded input; negative:
            cells of the padded input that no window covers (rounding down dropped them).
        winners: (H', W', 2) input (row, col) of each window's maximum (max pooling only).
        divisors: (H', W') cells each average divides by (average pooling only).
    """

    settings: PoolSettings
    output: np.ndarray
    layout: np.ndarray
    region: np.ndarray
    offset: int
    overhang: tuple[int, int]
    winners: np.ndarray | None
    divisors: np.ndarray | None

    @property
    def unused(self) -> np.ndarray:
        """(H, W) bool: input cells inside no window (the far edge when rounding down, or the
        gaps between windows when the stride is larger than the window)."""
        reached = np.zeros(self.region.shape, bool)
        for row, col in np.ndindex(*self.output.shape):
            rows, cols = zip(*self.window(row, col), strict=True)
            reached[rows, cols] = True
        inside = self.region == INPUT
        height, width = int(inside.any(1).sum()), int(inside.any(0).sum())
        return ~reached[self.offset : self.offset + height, self.offset : self.offset + width]

    def window(self, row: int, col: int) -> list[tuple[int, int]]:
        """Layout (row, col) cells of output cell (row, col)'s window."""
        if not (0 <= row < self.output.shape[0] and 0 <= col < self.output.shape[1]):
            raise ValueError(f"Output cell ({row}, {col}) is outside the {self.output.shape} output.")
        if self.settings.kind == "global_avg":
            return [tuple(cell) for cell in np.argwhere(self.region == INPUT)]
        k, stride = self.settings.kernel_size, self.settings.stride
        return [(row * stride + i, col * stride + j) for i in range(k) for j in range(k)]


def pool_grid(grid: np.ndarray, settings: PoolSettings) -> PooledGrid:
    """Pool a small (H, W) grid and describe every window.

    Raises:
        ValueError: as ``pool2d``.
    """
    values = np.asarray(grid, dtype=np.float64)
    output = pool_map(values, settings)
    height, width = values.shape
    if settings.kind == "global_avg":
        return PooledGrid(settings, output, values, np.zeros(values.shape, np.int8), 0, (0, 0), None, None)
    pad = settings.padding
    overhang = (_overhang(height, output.shape[0], settings), _overhang(width, output.shape[1], settings))
    below, right = (max(extra, 0) for extra in overhang)
    region = np.full((height + 2 * pad + below, width + 2 * pad + right), BEYOND, np.int8)
    region[: height + 2 * pad, : width + 2 * pad] = PADDING
    region[pad : pad + height, pad : pad + width] = INPUT
    layout = np.zeros(region.shape)
    layout[pad : pad + height, pad : pad + width] = values
    winners = divisors = None
    x = torch.as_tensor(values)[None, None]
    if settings.kind == "max":
        index = _unfold(x, settings, output.shape, -math.inf).argmax(2)[0, 0].numpy()  # (H', W') in k*k
        rows, cols = np.indices(output.shape) * settings.stride
        k = settings.kernel_size
        winners = np.stack([rows + index // k - pad, cols + index % k - pad], axis=-1)
    elif settings.kind == "avg":
        divisors = _divisors(height, width, settings, output.shape).numpy()
    return PooledGrid(settings, output, layout, region, pad, overhang, winners, divisors)


# --- Backward -----------------------------------------------------------------------------

Upstream = Literal["ones", "cell", "random"]
UPSTREAMS: tuple[Upstream, ...] = ("ones", "cell", "random")


def upstream_gradient(shape: tuple[int, int], choice: Upstream, cell: tuple[int, int] = (0, 0), seed: int = 0):
    """A gradient arriving from the next layer, (H', W'): all ones, 1 at one cell, or small random integers.

    Raises:
        ValueError: for an unknown choice or a cell outside the shape.
    """
    if choice == "ones":
        return np.ones(shape)
    if choice == "random":
        return np.random.default_rng(seed).integers(-3, 4, size=shape).astype(float)
    if choice != "cell":
        raise ValueError(f"The upstream gradient must be one of {', '.join(UPSTREAMS)}, not {choice!r}.")
    if not (0 <= cell[0] < shape[0] and 0 <= cell[1] < shape[1]):
        raise ValueError(f"Cell {cell} is outside the {shape[0]} x {shape[1]} output.")
    gradient = np.zeros(shape)
    gradient[cell] = 1.0
    return gradient


def route_gradient(grid: np.ndarray, settings: PoolSettings, upstream: np.ndarray) -> np.ndarray:
    """The gradient each input cell receives when ``upstream`` arrives at the output.

    Computed by torch autograd through ``pool2d``: max pooling sends each value to its
    window's winner, average pooling splits it over the divisor's cells, Lp pooling
    weights it by sign(x) * (|x| / norm) ** (p - 1). Overlapping windows add up.

    Args:
        grid: (H, W) input.
        upstream: (H', W'), the output's shape.

    Returns:
        (H, W); padding receives gradient too, but it is not an input, so it is dropped.

    Raises:
        ValueError: as ``pool2d``, or for an upstream gradient of the wrong shape.
    """
    x = torch.tensor(np.asarray(grid, dtype=np.float64), requires_grad=True)
    if x.ndim != 2:
        raise ValueError(f"Expected a 2-D grid, got shape {tuple(x.shape)}.")
    out = pool2d(x[None, None], settings)[0, 0]
    incoming = torch.as_tensor(np.asarray(upstream, dtype=np.float64))
    if incoming.shape != out.shape:
        raise ValueError(
            f"The upstream gradient must have the output's shape {tuple(out.shape)}, not {tuple(incoming.shape)}."
        )
    (gradient,) = torch.autograd.grad(out, x, grad_outputs=incoming)
    return gradient.numpy()


# --- Robustness to small shifts -------------------------------------------------------------


@dataclass(frozen=True)
class ShiftRobustness:
    """How much a map changes when its content moves right by 1, 2, ... pixels.

    Each shift compares the same positions before and after the move (the map
    cropped ``s`` pixels on the left vs on the right), once on the map itself and
    once after pooling it.

    Attributes:
        shifts: (S,) pixels moved.
        unpooled_change, pooled_change: (S,) mean |change| divided by mean |value| (0 = no change).
        unpooled_changed, pooled_changed: (S,) share of values that changed by more than
            ``tolerance`` times the map's range (0..1).
    """

    shifts: np.ndarray
    unpooled_change: np.ndarray
    pooled_change: np.ndarray
    unpooled_changed: np.ndarray
    pooled_changed: np.ndarray


def _compare(reference: np.ndarray, moved: np.ndarray, tolerance: float) -> tuple[float, float]:
    difference = np.abs(moved - reference)
    typical = float(np.abs(reference).mean())
    span = float(reference.max() - reference.min())
    change = float(difference.mean()) / typical if typical > 0 else 0.0
    return change, float((difference > tolerance * span).mean()) if span > 0 else float(difference.any())


def shift_robustness(
    values: np.ndarray, settings: PoolSettings, max_shift: int, tolerance: float = 0.01
) -> ShiftRobustness:
    """Measure how much pooling absorbs horizontal shifts of 1..max_shift pixels.

    Args:
        values: (H, W) map.
        settings: the pooling layer.
        max_shift: largest shift, in pixels.
        tolerance: a value counts as changed when it moves by more than this share of
            the map's range.

    Returns:
        A ``ShiftRobustness`` with one entry per shift.

    Raises:
        ValueError: for max_shift below 1 or not smaller than the map's width, or
            settings with no output on the cropped map.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2:
        raise ValueError(f"Expected a 2-D map, got shape {values.shape}.")
    if not 1 <= max_shift < values.shape[1]:
        raise ValueError(f"The shift must be between 1 and {values.shape[1] - 1} pixels, not {max_shift}.")
    rows = []
    for shift in range(1, max_shift + 1):
        reference, moved = values[:, :-shift], values[:, shift:]
        rows.append(
            (
                *_compare(reference, moved, tolerance),
                *_compare(pool_map(reference, settings), pool_map(moved, settings), tolerance),
            )
        )
    unpooled_change, unpooled_changed, pooled_change, pooled_changed = np.array(rows).T
    return ShiftRobustness(
        np.arange(1, max_shift + 1), unpooled_change, pooled_change, unpooled_changed, pooled_changed
    )


# --- The maps to pool ----------------------------------------------------------------------


def random_grid(size: int, seed: int = 0) -> np.ndarray:
    """A (size, size) grid of random integers 0..9, the same for the same seed."""
    if size < 1:
        raise ValueError(f"The grid needs at least 1 cell per side, not {size}.")
    return np.random.default_rng(seed).integers(0, 10, size=(size, size)).astype(float)


MapSource = Literal["gray", "edges"]
MAP_SOURCES: tuple[MapSource, ...] = ("gray", "edges")


def feature_map(pixels: np.ndarray, source: MapSource, side: int) -> np.ndarray:
    """The map to pool, from an (H, W, 3) uint8 image shrunk to longest side ``side``.

    Args:
        source: "gray" (luminance, 0..1) or "edges": Sobel x then ReLU, what one
            convolution channel detecting vertical edges passes on to a pooling layer.

    Returns:
        (h, w) float32.

    Raises:
        ValueError: for an unknown source or a side below 4.
    """
    if source not in MAP_SOURCES:
        raise ValueError(f"The map must be one of {', '.join(MAP_SOURCES)}, not {source!r}.")
    if side < 4:
        raise ValueError(f"The image needs at least 4 pixels on its longest side, not {side}.")
    gray = to_gray(resize_longest_side(pixels, side).astype(np.float32) / 255)
    if source == "gray":
        return gray
    # Replicated borders: zero padding would turn the image frame itself into an edge.
    return np.maximum(convolve_image(gray, preset("sobel x"), padding=1, padding_mode="replicate"), 0)


def image_grid(pixels: np.ndarray, size: int, zoom: int = 3) -> np.ndarray:
    """A (size, size) crop from the centre of an image, as gray integers 0..255.

    The image is first shrunk so that the crop spans about 1/zoom of its shorter side:
    a crop of the full-size photo would be nearly flat.
    """
    if size < 1:
        raise ValueError(f"The grid needs at least 1 cell per side, not {size}.")
    height, width = pixels.shape[:2]
    scale = size * zoom / min(height, width)
    shape = (max(size, round(width * scale)), max(size, round(height * scale)))
    gray = np.asarray(Image.fromarray(pixels).convert("L").resize(shape, Image.Resampling.BOX), dtype=np.float64)
    top, left = (gray.shape[0] - size) // 2, (gray.shape[1] - size) // 2
    return gray[top : top + size, left : left + size]
