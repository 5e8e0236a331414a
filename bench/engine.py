"""The engine's convolution against raw ``F.conv2d`` on the same 2048 x 2048 RGB image.

Each row times a ``cnnviz.convolution`` call and the bare ``F.conv2d`` that computes the
same output from the same input, alternately (so background load hits both alike),
and prints the medians and their ratio. Goal: <= 1.1x. The outputs are checked equal
first, so a fast wrong answer cannot pass.

- ``conv2d``: the tensor API, (1, 3, H, W) in, reference ``F.conv2d`` on that tensor.
- ``convolve_image``: the numpy API the pages use, (H, W, 3) float32 in, (H', W'[, 3]) out;
  its reference is ``F.conv2d`` on the (1, C, H, W) tensor holding the same pixels
  (gray mode: the luminance image), so the ratio is everything the wrapper adds
  (layout changes, gray conversion, copies).

Run: ``python -m bench.engine [--side 2048] [--repeats 9]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from bench import common
from cnnviz import convolution

GOAL = 1.1


@dataclass
class Row:
    name: str
    engine: Callable[[], object]
    reference: Callable[[], object]


def rows_for(side: int) -> list[Row]:
    generator = torch.Generator().manual_seed(0)
    image = torch.rand(side, side, 3, generator=generator).numpy()  # (H, W, 3) float32, as pages pass it
    x = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))[None]  # (1, 3, H, W)
    gray = torch.from_numpy(convolution.to_gray(image))[None, None]  # (1, 1, H, W)
    kernel = np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], dtype=np.float32)  # edge detector
    kernel_t = torch.from_numpy(kernel)[None, None]  # (1, 1, 3, 3)
    weight_rgb = torch.randn(4, 3, 3, 3, generator=generator)  # a layer with 4 output channels
    bias = torch.zeros(4)
    sum_weight, group_weight = kernel_t.expand(1, 3, 3, 3).contiguous(), kernel_t.expand(3, 1, 3, 3).contiguous()
    return [
        Row("conv2d (1,3,H,W) x (4,3,3,3), padding 1",
            lambda: convolution.conv2d(x, weight_rgb, bias, padding=1),
            lambda: F.conv2d(x, weight_rgb, bias, padding=1)),
        Row("conv2d stride 2, dilation 2",
            lambda: convolution.conv2d(x, weight_rgb, bias, stride=2, dilation=2),
            lambda: F.conv2d(x, weight_rgb, bias, stride=2, dilation=2)),
        Row("conv2d reflect padding 1",
            lambda: convolution.conv2d(x, weight_rgb, bias, padding=1, padding_mode="reflect"),
            lambda: F.conv2d(F.pad(x, (1, 1, 1, 1), mode="reflect"), weight_rgb, bias)),
        Row("convolve_image sum",
            lambda: convolution.convolve_image(image, kernel, "sum", padding=1),
            lambda: F.conv2d(x, sum_weight, padding=1)),
        Row("convolve_image per_channel",
            lambda: convolution.convolve_image(image, kernel, "per_channel", padding=1),
            lambda: F.conv2d(x, group_weight, padding=1, groups=3)),
        Row("convolve_image gray",
            lambda: convolution.convolve_image(image, kernel, "gray", padding=1),
            lambda: F.conv2d(gray, kernel_t, padding=1)),
    ]  # fmt: skip


def as_array(result: object) -> np.ndarray:
    array = result.numpy() if isinstance(result, torch.Tensor) else np.asarray(result)
    array = np.squeeze(array)
    return array.transpose(1, 2, 0) if array.ndim == 3 and array.shape[0] == 3 and array.shape[-1] != 3 else array


def timed(function: Callable[[], object]) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--side", type=int, default=2048)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_grad_enabled(False)
    rows = rows_for(args.side)
    table_rows, results, over = [], [], 0
    for row in rows:
        engine_out, reference_out = as_array(row.engine()), as_array(row.reference())
        if engine_out.shape != reference_out.shape or not np.allclose(engine_out, reference_out, atol=1e-4):
            print(f"{row.name}: the engine's output differs from F.conv2d's", file=sys.stderr)
            return 2
        for _ in range(args.warmup):
            row.engine(), row.reference()
        engine_times, reference_times = [], []
        for _ in range(args.repeats):
            engine_times.append(timed(row.engine))
            reference_times.append(timed(row.reference))
        engine_ms, reference_ms = statistics.median(engine_times) * 1e3, statistics.median(reference_times) * 1e3
        ratio = engine_ms / reference_ms
        over += ratio > GOAL
        results.append({"case": row.name, "engine_ms": engine_ms, "reference_ms": reference_ms, "ratio": ratio})
        table_rows.append([row.name, engine_ms, reference_ms, ratio, GOAL, common.verdict(ratio, GOAL)])
    print(
        f"cnnviz.convolution vs F.conv2d, {args.side} x {args.side} RGB, median of {args.repeats}, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads ({common.machine_line()})"
    )
    print(common.table(["case", "cnnviz ms", "F.conv2d ms", "ratio", "goal", ""], table_rows))
    common.record("engine", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
