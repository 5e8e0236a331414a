"""Transformations: each step, the network sees the image a little moved, zoomed and turned.

An image that excites a filter only at one exact pixel offset is a coincidence of the
sampling grid (checkerboards, one-pixel specks). Asking it to keep working under small
random shifts, zooms and turns (Mordvintsev et al., "Inceptionism", 2015; Olah et al.,
"Feature Visualization", 2017) leaves only what the filter sees everywhere.

- ``pad``: a frame of the data's mean colour around the image, so its edges are seen as
  interior pixels are, and shifts bring in neutral colour rather than wrap around.
- ``jitter``: a random shift of up to this many pixels in each direction.
- ``scale``: a random zoom between 1 - scale and 1 + scale.
- ``rotate``: a random turn of up to this many degrees either way.

All four are geometric maps, so they compose into one affine map and one resampling
(``affine_grid`` + ``grid_sample``): one interpolation per step instead of four, which
costs less and blurs less. With the image normalised first, grid_sample's zero padding
is exactly the mean colour.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class Transforms:
    """The random transformations applied before each forward pass (all off by default).

    Attributes:
        pad: pixels of mean colour added on every side (the network's input grows by 2 * pad).
        jitter: largest shift in pixels, each direction.
        scale: largest relative zoom, e.g. 0.1 for 0.9..1.1.
        rotate: largest turn in degrees, either way.
    """

    pad: int = 0
    jitter: int = 0
    scale: float = 0.0
    rotate: float = 0.0

    def __post_init__(self) -> None:
        if self.pad < 0 or self.jitter < 0:
            raise ValueError(f"Padding and jitter are pixel counts, 0 or more (got {self.pad} and {self.jitter}).")
        if not 0 <= self.scale < 1:
            raise ValueError(f"The zoom range must be between 0 and 1 (got {self.scale}); 0.1 zooms 0.9 to 1.1.")
        if not 0 <= self.rotate <= 180:
            raise ValueError(f"The turn must be between 0 and 180 degrees (got {self.rotate}).")

    @property
    def moves(self) -> bool:
        """Whether any random movement is on (padding alone is fixed)."""
        return bool(self.jitter or self.scale or self.rotate)


@dataclass(frozen=True)
class Moves:
    """The random draws of a whole run, one row per step.

    Attributes:
        shifts: (steps, 2) int64, (x, y) shift in pixels.
        affines: (steps, 2, 3) float32 maps for ``affine_grid`` when zoom or turn is on;
            None when every move is a whole-pixel shift (then padding and cropping do it exactly).
    """

    shifts: torch.Tensor
    affines: torch.Tensor | None


def random_moves(transforms: Transforms, size: int, steps: int, generator: torch.Generator) -> Moves | None:
    """Draw every step's shift, zoom and turn at once.

    Each affine map, in grid_sample's coordinates (-1..1 across the image, pixel centres
    as ``align_corners=False``), takes a point of the network's input (the padded frame)
    to the image point it shows; frame points beyond the image get the mean colour.

    Args:
        transforms: the ranges to draw from.
        size: the image's side in pixels (square).
        steps: how many steps.
        generator: source of the random draws (seeded by the caller).

    Returns:
        The moves, or None when the transforms do nothing.
    """
    if not (transforms.moves or transforms.pad):
        return None
    draws = torch.rand((steps, 4), generator=generator, dtype=torch.float64) * 2 - 1  # uniform in -1..1
    shifts = torch.round(draws[:, :2] * transforms.jitter).long()
    if not (transforms.scale or transforms.rotate):
        return Moves(shifts, None)
    zoom = 1 + draws[:, 2] * transforms.scale
    angle = draws[:, 3] * math.radians(transforms.rotate)
    # One frame pixel is one image pixel before zooming: the frame spans (size + 2 pad) / size grid units.
    reach = (size + 2 * transforms.pad) / size / zoom
    cos, sin = torch.cos(angle) * reach, torch.sin(angle) * reach
    offset = shifts.double() * 2 / size  # pixels -> grid units
    rows = (torch.stack([cos, -sin, offset[:, 0]], 1), torch.stack([sin, cos, offset[:, 1]], 1))
    return Moves(shifts, torch.stack(rows, 1).float())


def apply(image: torch.Tensor, moves: Moves | None, step: int, transforms: Transforms) -> torch.Tensor:
    """Move the image as drawn for one step.

    Args:
        image: (N, C, H, W), already normalised (0 is the mean colour).
        moves: from ``random_moves`` (None: the image is returned as it is).
        step: 0-based row of ``moves``.
        transforms: the settings the moves were drawn with.

    Returns:
        (N, C, H + 2 pad, W + 2 pad); points beyond the image are 0, the mean colour.
    """
    if moves is None:
        return image
    batch, channels, height, width = image.shape
    pad = transforms.pad
    if moves.affines is None:
        # Whole-pixel shifts: pad by the most the image can move, then cut the frame out.
        margin = pad + transforms.jitter
        x, y = (margin - pad + int(v) for v in moves.shifts[step])
        padded = F.pad(image, (margin, margin, margin, margin))
        return padded[:, :, y : y + height + 2 * pad, x : x + width + 2 * pad]
    frame = (batch, channels, height + 2 * pad, width + 2 * pad)
    grid = F.affine_grid(moves.affines[step].expand(batch, 2, 3), frame, align_corners=False)
    return F.grid_sample(image, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
