"""Pictures of training runs: learning curves, first-layer filters, held-out predictions."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots
from torch import nn

from cnnviz.images import to_display, upscale_nearest
from cnnviz.training import StepMetrics

PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777")


def learning_curves(runs: dict[str, list[StepMetrics]], titles: tuple[str, str], step_label: str = "step") -> go.Figure:
    """Loss (left) and accuracy (right) per step for several runs on one chart.

    Training values are thin dotted lines (noisy, one batch each); held-out values are
    thick lines with markers. Each run keeps its colour in both panels.

    Args:
        runs: label -> the run's metrics, in step order.
        titles: the two panels' titles (loss, accuracy).
    """
    figure = make_subplots(rows=1, cols=2, subplot_titles=titles, horizontal_spacing=0.08)
    for index, (label, history) in enumerate(runs.items()):
        colour = PALETTE[index % len(PALETTE)]
        steps = [m.step for m in history]
        heldout = [m for m in history if m.heldout_loss is not None]
        for col, train_values, heldout_values in (
            (1, [m.train_loss for m in history], [m.heldout_loss for m in heldout]),
            (2, [m.train_accuracy for m in history], [m.heldout_accuracy for m in heldout]),
        ):
            figure.add_trace(
                go.Scatter(
                    x=steps,
                    y=_smooth(train_values),
                    mode="lines",
                    line={"color": colour, "width": 1, "dash": "dot"},
                    name=f"{label} (train)",
                    legendgroup=label,
                    showlegend=False,
                    opacity=0.6,
                ),
                row=1,
                col=col,
            )
            figure.add_trace(
                go.Scatter(
                    x=[m.step for m in heldout],
                    y=heldout_values,
                    mode="lines+markers",
                    line={"color": colour, "width": 3},
                    marker={"size": 5},
                    name=label,
                    legendgroup=label,
                    showlegend=col == 1,
                ),
                row=1,
                col=col,
            )
    figure.update_yaxes(rangemode="tozero", row=1, col=1)
    figure.update_yaxes(range=[0, 1.02], row=1, col=2)
    figure.update_xaxes(title_text=step_label)
    figure.update_layout(
        height=340, margin={"l": 10, "r": 10, "t": 40, "b": 10}, legend={"orientation": "h", "y": -0.25, "x": 0}
    )
    return figure


def _smooth(values: list[float], window: int = 5) -> list[float]:
    """Running mean over the last ``window`` values: single batches are too noisy to read."""
    if not values:
        return []
    cumulative = np.cumsum(np.insert(np.asarray(values, dtype=float), 0, 0.0))
    counts = np.minimum(np.arange(1, len(values) + 1), window)
    return list((cumulative[1:] - cumulative[np.arange(1, len(values) + 1) - counts]) / counts)


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
