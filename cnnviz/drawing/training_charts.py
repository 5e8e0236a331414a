"""Pictures of training runs: learning curves, first-layer filters, held-out predictions."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from cnnviz.drawing.charts import Chart
from cnnviz.drawing.grids import side_by_side_html
from cnnviz.images import to_display, upscale_nearest
from cnnviz.training import StepMetrics

PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777")
#: Alpha appended to a run's colour for its training line (#rrggbbaa): lighter than held-out.
TRAIN_ALPHA = "99"


def learning_curves(runs: dict[str, list[StepMetrics]], titles: tuple[str, str], step_label: str = "step") -> str:
    """Loss (left) and accuracy (right) per step for several runs: two SVG charts side by side (HTML).

    Training and held-out values are measured the same way at the same steps (as many
    training images as held-out ones, eval mode: dropout off), so the gap between a run's two
    lines is the real one: training values are thin dashed lines, held-out values thick lines
    with a dot per evaluation. Each run keeps its colour in both panels, and both panels name
    the runs in their legend.

    Args:
        runs: label -> the run's metrics, in step order.
        titles: the two panels' titles (loss, accuracy).
        step_label: the x axis' title.
    """
    x_range, top_loss = _ranges(runs)
    loss = Chart(480, 340, titles[0], step_label, x_range=x_range, y_range=(0.0, top_loss), x_whole=True)
    accuracy = Chart(480, 340, titles[1], step_label, x_range=x_range, y_range=(0.0, 1.02), x_whole=True)
    for index, (label, history) in enumerate(runs.items()):
        colour = PALETTE[index % len(PALETTE)]
        measured = [m for m in history if m.heldout_loss is not None]
        steps = [m.step for m in measured]
        for chart, train_values, heldout_values in (
            (loss, [m.train_set_loss for m in measured], [m.heldout_loss for m in measured]),
            (accuracy, [m.train_set_accuracy for m in measured], [m.heldout_accuracy for m in measured]),
        ):
            chart.line(steps, train_values, colour + TRAIN_ALPHA, width=1.5, dashed=True)
            chart.line(steps, heldout_values, colour, legend=label, width=3)
            hover = [f"{label} · {step_label} {s}: {v:.3g}" for s, v in zip(steps, heldout_values, strict=True)]
            chart.dots(steps, heldout_values, colour, size=5, hover=hover)
    return side_by_side_html(_sized(loss), _sized(accuracy), gap_px=16)


def _ranges(runs: dict[str, list[StepMetrics]]) -> tuple[tuple[float, float], float]:
    """The steps shown (with room for the last dots) and the top of the loss axis (from 0)."""
    steps = [m.step for history in runs.values() for m in history] or [0]
    room = 0.02 * (max(steps) - min(steps)) or 0.5
    measured = [m for history in runs.values() for m in history if m.heldout_loss is not None]
    losses = [m.heldout_loss for m in measured] + [m.train_set_loss for m in measured]
    top_loss = max((v for v in losses if math.isfinite(v)), default=0.0) * 1.05 or 1.0
    return (min(steps) - room, max(steps) + room), top_loss


def _sized(chart: Chart) -> str:
    """The chart's SVG in a block of the chart's width: in a flex row an SVG of width 100%
    alone would shrink to the browser's default 300 pixels."""
    return f'<div style="width:{chart.width}px;max-width:100%">{chart.svg()}</div>'


def first_layer_filters(network: nn.Module, tile_px: int = 48, columns: int = 8) -> np.ndarray | None:
    """The first convolution's kernels as one uint8 image: a tile per filter, each stretched
    to its own range (RGB for colour inputs, gray otherwise), 2-pixel white gaps.

    Returns:
        (H, W[, 3]) uint8, or None when the network has no convolution.
    """
    conv = next((m for m in network.modules() if isinstance(m, nn.Conv2d)), None)
    if conv is None:
        return None
    weights = conv.weight.detach().cpu().numpy()  # (O, C, kh, kw)
    tiles = []
    for kernel in weights:
        tile = kernel.transpose(1, 2, 0) if kernel.shape[0] == 3 else kernel[0]
        tiles.append(upscale_nearest(to_display(tile), tile_px))
    rows = -(-len(tiles) // columns)
    side = tiles[0].shape[0]
    shape = (rows * (side + 2), min(columns, len(tiles)) * (side + 2), *tiles[0].shape[2:])
    sheet = np.full(shape, 255, dtype=np.uint8)
    for index, tile in enumerate(tiles):
        r, c = divmod(index, columns)
        sheet[r * (side + 2) : r * (side + 2) + side, c * (side + 2) : c * (side + 2) + side] = tile
    return sheet


@torch.no_grad()
def predictions(network: nn.Module, images: torch.Tensor, probabilities) -> np.ndarray:
    """(N, K) probabilities of ``network`` on ``images`` in eval mode; the mode is restored.

    Args:
        probabilities: maps logits to probabilities (``cnnviz.training.probabilities``
            with the run's output bound).
    """
    was_training = network.training
    network.eval()
    try:
        return probabilities(network(images)).numpy()
    finally:
        network.train(was_training)
