"""Predict, then reveal: random questions whose answers the engine computes.

Questions are drawn from a seeded ``random.Random`` so a teacher can hand out the same
set (the seed goes in the URL), and every drawn question has an answer: settings with
no output are never asked.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from cnnviz.arithmetic import conv_output_size, pool_output_size


@dataclass(frozen=True)
class OutputSizeQuestion:
    """What is the output size of this convolution along one axis?"""

    size: int
    kernel_size: int
    stride: int
    padding: int
    dilation: int

    @property
    def answer(self) -> int:
        return conv_output_size(self.size, self.kernel_size, self.stride, self.padding, self.dilation)


def output_size_question(rng: random.Random) -> OutputSizeQuestion:
    """A random convolution-size question with a valid answer, harder as settings combine."""
    while True:
        question = OutputSizeQuestion(
            size=rng.choice([5, 6, 7, 8, 10, 12, 14, 16, 28, 32, 64, 224]),
            kernel_size=rng.choice([1, 2, 3, 3, 5, 7]),
            stride=rng.choice([1, 1, 2, 2, 3, 4]),
            padding=rng.choice([0, 0, 1, 2, 3]),
            dilation=rng.choice([1, 1, 1, 2]),
        )
        try:
            question.answer  # noqa: B018 - only asked when it has one
        except ValueError:
            continue
        return question


@dataclass(frozen=True)
class PooledValueQuestion:
    """What value does this output cell of a pooling layer hold?

    Attributes:
        grid: (H, W) small integers.
        kind: "max" or "avg".
        kernel_size, stride: square window and its step (no padding).
        row, col: the output cell asked about.
    """

    grid: tuple[tuple[int, ...], ...]
    kind: str
    kernel_size: int
    stride: int
    row: int
    col: int

    @property
    def answer(self) -> float:
        x = torch.tensor(self.grid, dtype=torch.float64)[None, None]  # (1, 1, H, W)
        pool = F.max_pool2d if self.kind == "max" else F.avg_pool2d
        return float(pool(x, self.kernel_size, self.stride)[0, 0, self.row, self.col])

    @property
    def window(self) -> tuple[slice, slice]:
        """Rows and columns of the input the asked cell pools over."""
        top, left = self.row * self.stride, self.col * self.stride
        return slice(top, top + self.kernel_size), slice(left, left + self.kernel_size)


def pooled_value_question(rng: random.Random) -> PooledValueQuestion:
    """A random pooling question on a 4x4 to 6x6 grid of integers 0..9."""
    size = rng.choice([4, 5, 6])
    kernel_size = rng.choice([2, 3])
    stride = rng.choice([1, 2]) if kernel_size == 2 else rng.choice([1, 2, 3])
    out = pool_output_size(size, kernel_size, stride)
    grid = tuple(tuple(rng.randint(0, 9) for _ in range(size)) for _ in range(size))
    return PooledValueQuestion(
        grid, rng.choice(["max", "avg"]), kernel_size, stride, rng.randrange(out), rng.randrange(out)
    )


def is_correct(guess: float, answer: float, tolerance: float = 0.01) -> bool:
    """A guess counts when within ``tolerance`` of the answer (averages may be typed rounded)."""
    return abs(guess - answer) <= tolerance + 1e-12
