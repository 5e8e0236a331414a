"""Feature visualization's loop against its floor: one bare forward + backward of the same network.

Each row times whole runs of ``optvis.render`` (``--steps`` steps, setup included, with the
"Fourier + transforms" preset: 1/f spectrum, decorrelated colour, pad, jitter, zoom and
turn) and, alternately (so background load hits both alike), as many bare passes of the
same layers on an input of the shape the network receives in the loop (the image plus its
padding): ``x -> layers up to the target -> one channel's mean -> backward to x``. Both run
on one thread, as the loop does. The ratio is everything the loop adds: parameterization,
colour mixing, transforms, penalties, objective, Adam, the hooks. Goal: <= 1.3x.

Run: ``python -m bench.optvis [--steps 32] [--repeats 7]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from bench import common
from cnnviz import models
from cnnviz.optvis import targets
from cnnviz.optvis.param import ImageSpace
from cnnviz.optvis.render import Recipe, one_thread, render

GOAL = 1.3


@dataclass(frozen=True)
class Case:
    network: str
    kind: str  # "channel" or "class"
    layer: str
    size: int
    penalties: bool = False  # L2 and total variation on as well


CASES = (
    Case("shapes", "channel", "features.7", 64),
    Case("shapes", "channel", "features.7", 128),
    Case("shapes", "channel", "features.7", 64, penalties=True),
    Case("digits", "channel", "features.3", 28),
    Case("digits", "class", "classifier.5", 28),
)


def bare_pass(model: nn.Module, case: Case, shape: tuple[int, ...]) -> Callable[[], None]:
    """One forward to the target layer and one backward to the input, nothing else."""
    x = torch.rand(shape, requires_grad=True)
    # The features are a Sequential: stop after the target, as the loop's hook does.
    layers = model if case.kind == "class" else model.features[: int(case.layer.split(".")[1]) + 1]

    def step() -> None:
        layers(x)[:, 0].mean().backward()
        x.grad = None

    return step


def loop(model: nn.Module, case: Case, recipe: Recipe, space: ImageSpace) -> Callable[[], None]:
    objective = targets.target(case.kind, case.layer, 0)
    return lambda: [None for _ in render(model, objective, recipe, space)]


def seconds(function: Callable[[], object]) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def measure(case: Case, steps: int, repeats: int) -> dict[str, float]:
    network = models.load_bundled(case.network)
    m = network.manifest
    pictures, _ = models.heldout_sample(case.network)
    space = targets.image_space(m.input_shape[0], m.mean, m.std, pictures if pictures.ndim == 4 else None)
    settings = {"size": case.size, "steps": steps, "l2": 5.0 * case.penalties, "tv": 5.0 * case.penalties}
    recipe = targets.sized(targets.PRESETS["lucid"], case.kind, m.input_shape[1], **settings)
    seen = recipe.size + 2 * recipe.transforms.pad
    ours = loop(network.model, case, recipe, space)
    floor_step = bare_pass(network.model, case, (1, m.input_shape[0], seen, seen))
    floor = lambda: [floor_step() for _ in range(steps)]  # noqa: E731
    loop_times, floor_times = [], []
    with one_thread():
        ours(), floor()  # warm up
        for _ in range(repeats):
            loop_times.append(seconds(ours) / steps)
            floor_times.append(seconds(floor) / steps)
    loop_ms, floor_ms = statistics.median(loop_times) * 1e3, statistics.median(floor_times) * 1e3
    return {"seen": seen, "loop_ms": loop_ms, "floor_ms": floor_ms, "ratio": loop_ms / floor_ms}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    rows, results = [], []
    for case in CASES:
        result = measure(case, args.steps, args.repeats)
        name = f"{case.network} {case.kind} {case.layer} {case.size} px" + (" +L2+TV" if case.penalties else "")
        results.append({"case": name, **result})
        rows.append([
            name, result["seen"], 1e3 / result["loop_ms"], 1e3 / result["floor_ms"], result["loop_ms"],
            result["floor_ms"], result["ratio"], GOAL, common.verdict(result["ratio"], GOAL),
        ])  # fmt: skip
    print(
        f"optvis.render (Fourier + transforms) vs a bare forward + backward, {args.steps} steps, median of "
        f"{args.repeats}, one thread, torch {torch.__version__} ({common.machine_line()})"
    )
    headers = ["case", "input px", "loop steps/s", "floor steps/s", "loop ms", "floor ms", "ratio", "goal", ""]
    print(common.table(headers, rows))
    common.record("optvis", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
