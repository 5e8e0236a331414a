"""What the lesson asks of a network: its targets, the two presets, and the held-out comparison.

A target is a channel or a single neuron of a convolution, or a class score of the last
layer, optionally negated ("what this filter dislikes most"). A convolution's channel is
measured after the ReLU that follows it: the mean of a linear map before its ReLU is
maximized by a flat image (each pixel's gain is the sum of the kernel's weights), which
says nothing about the filter's pattern; after the ReLU, positions that do not fire stop
cancelling those that do, and the filter's pattern appears, repeated.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import torch
from torch import nn

from cnnviz.optvis import objectives, transforms
from cnnviz.optvis.objectives import Objective
from cnnviz.optvis.param import ImageSpace, colour_sqrt
from cnnviz.optvis.render import Recipe, layer_output
from cnnviz.optvis.transforms import Transforms

TargetKind = Literal["channel", "neuron", "class"]
TARGET_KINDS: tuple[TargetKind, ...] = ("channel", "neuron", "class")

#: The page's two lessons: what plain gradient ascent on pixels makes, and what the
#: Fourier parameterization with decorrelated colour and random transformations makes.
PRESETS: dict[str, Recipe] = {
    "pixels": Recipe(parameterization="pixels", decorrelate=False, learning_rate=0.1),
    "lucid": Recipe(
        parameterization="fourier",
        decorrelate=True,
        learning_rate=0.1,
        transforms=Transforms(pad=4, jitter=4, scale=0.1, rotate=10.0),
    ),
}


def image_space(
    channels: int, mean: tuple[float, ...], std: tuple[float, ...], sample: np.ndarray | None = None
) -> ImageSpace:
    """The images a network takes, with its data's colour correlations for RGB networks.

    Args:
        channels: 1 or 3.
        mean, std: the network's normalisation.
        sample: (N, H, W, 3) uint8 pictures of its data set (RGB only), for ``colour_sqrt``;
            None uses ImageNet's.
    """
    colour = colour_sqrt(sample) if channels == 3 and sample is not None else None
    return ImageSpace(channels, tuple(mean), tuple(std), colour)


def conv_layers(model: nn.Module) -> list[str]:
    """The names of the model's convolutions, in order: the layers whose channels are filters."""
    return [name for name, module in model.named_modules() if isinstance(module, nn.Conv2d)]


def class_layer(model: nn.Module) -> str:
    """The name of the last linear layer: the class scores.

    Raises:
        ValueError: for a model without one.
    """
    names = [name for name, module in model.named_modules() if isinstance(module, nn.Linear)]
    if not names:
        raise ValueError("This network has no linear layer, so no class scores to maximize.")
    return names[-1]


def target(kind: TargetKind, layer: str, index: int, negative: bool = False, batch: int | None = None) -> Objective:
    """The objective for one target (see the module docstring for why channels are rectified).

    Args:
        kind: ``"channel"`` (mean over the map), ``"neuron"`` (the centre position) or ``"class"``.
        layer: a convolution's name, or the class layer's for ``"class"``.
        index: channel or class.
        negative: minimize instead (before the ReLU: a rectified value cannot go below 0).
        batch: only this image of a batch (galleries); None: all.

    Raises:
        ValueError: for an unknown kind.
    """
    if kind == "class":
        objective = objectives.class_logit(layer, index, batch)
    elif kind == "channel":
        objective = objectives.channel(layer, index, batch, rectify=not negative)
    elif kind == "neuron":
        objective = objectives.neuron(layer, index, batch=batch, rectify=not negative)
    else:
        raise ValueError(f"Unknown target {kind!r}; choose one of: {', '.join(TARGET_KINDS)}.")
    return -objective if negative else objective


def gallery(kind: TargetKind, layer: str, count: int, negative: bool = False) -> Objective:
    """Target ``i`` (channel or class) for image ``i`` of a batch of ``count``: one run makes a
    whole gallery. Each image's gradient comes only from its own target, so the batch is
    ``count`` independent runs sharing each forward pass."""
    return sum(target(kind, layer, i, negative, batch=i) for i in range(count))


def sized(recipe: Recipe, kind: TargetKind, input_side: int, **settings: object) -> Recipe:
    """``recipe`` with ``settings`` changed, made to fit the target kind.

    A class score needs the network's own input size, so padding is dropped and the side
    fixed for it. A neuron is one position, which sees only its receptive field: random
    jitter, zoom and turns move that field to another part of the picture every step, so
    the picture never settles (measured at the page's defaults on the bundled networks: 0.0x
    to 0.9x the best real image for many neurons with the moves, 1.2x to 5x without), and
    they are dropped for it.
    """
    recipe = replace(recipe, **settings)
    if kind == "class":
        recipe = replace(recipe, size=input_side, transforms=replace(recipe.transforms, pad=0))
    elif kind == "neuron":  # one position sees one spot: random moves would move the spot away every step
        recipe = replace(recipe, transforms=replace(recipe.transforms, jitter=0, scale=0.0, rotate=0.0))
    return recipe


@dataclass(frozen=True)
class Comparison:
    """The objective on a synthesized image and on each image of a sample.

    Attributes:
        ours: the objective on the synthesized image (untransformed).
        sample: (N,) the objective on each sample image.
    """

    ours: float
    sample: np.ndarray

    @property
    def best(self) -> float:
        return float(self.sample.max())

    @property
    def ratio(self) -> float | None:
        """ours / best, or None when the best is not above 0 (a ratio would mislead)."""
        return self.ours / self.best if self.best > 0 else None


def objective_on_images(
    model: nn.Module, objective: Objective, inputs: torch.Tensor, space: ImageSpace, batch_size: int = 250
) -> np.ndarray:
    """The objective on each of many images (e.g. a whole data set, the reference for a synthesized one).

    Args:
        model: in eval mode.
        objective: one reading a single layer, without ``batch`` (e.g. from ``target``).
        inputs: (N, C, H, W) normalised images, or uint8 pictures (0..255, e.g. a whole data
            set from ``dataset.shipped_dataset``), normalised here batch by batch.
        space: the network's normalisation.
        batch_size: images per forward pass.

    Returns:
        (N,) float.

    Raises:
        ValueError: for an objective reading several layers, or images the network cannot take.
    """
    if len(objective.layers) != 1:
        raise ValueError("Compare one target at a time.")
    (layer,) = objective.layers
    mean = torch.tensor(space.mean).view(-1, 1, 1)
    std = torch.tensor(space.std).view(-1, 1, 1)
    values = []
    for first in range(0, len(inputs), batch_size):
        batch = inputs[first : first + batch_size]
        if batch.dtype == torch.uint8:
            batch = (batch.float() / 255 - mean) / std
        theirs = layer_output(model, layer, batch)
        values += [objective({layer: theirs[i : i + 1]}).item() for i in range(len(theirs))]
    return np.array(values)


def compare_with_sample(
    model: nn.Module,
    objective: Objective,
    image: np.ndarray,
    space: ImageSpace,
    inputs: torch.Tensor | None = None,
    sample: np.ndarray | None = None,
) -> Comparison:
    """Does the synthesized image beat every real one at its own objective?

    Args:
        model: in eval mode.
        objective: as for ``objective_on_images``.
        image: (H, W) or (H, W, 3) float in 0..1, a ``render`` result.
        space: the network's normalisation.
        inputs: the real images (as for ``objective_on_images``), or
        sample: their objective values, already computed (they do not depend on ``image``).

    Raises:
        ValueError: for an objective reading several layers, or an image the network cannot take.
    """
    pixels = torch.from_numpy(np.asarray(image, dtype=np.float32)).reshape(*image.shape[:2], -1).permute(2, 0, 1)
    normalised = (pixels - torch.tensor(space.mean).view(-1, 1, 1)) / torch.tensor(space.std).view(-1, 1, 1)
    ours = objective_on_images(model, objective, normalised[None], space)[0]
    if sample is None:
        sample = objective_on_images(model, objective, inputs, space)
    return Comparison(float(ours), np.asarray(sample))


def kept_under_moves(
    model: nn.Module, objective: Objective, image: np.ndarray, space: ImageSpace, moves: Transforms, count: int = 32
) -> float:
    """How much of its objective a picture keeps when the network sees it moved: the mean over
    ``count`` random moves (seeded, the same for every picture) divided by the unmoved value.

    A picture that works only at its exact pixel positions (a coincidence of the sampling grid)
    keeps little; one the random transformations shaped keeps most.

    Args:
        image: (H, W) or (H, W, 3) float in 0..1, a ``render`` result.
        moves: the random pad, shifts, zooms and turns to draw from (no padding for a class
            score: the network needs its own input size).
        count: how many moved copies.

    Raises:
        ValueError: as ``objective_on_images``; and for a picture whose unmoved value is not above 0.
    """
    pixels = torch.from_numpy(np.asarray(image, dtype=np.float32)).reshape(*image.shape[:2], -1).permute(2, 0, 1)
    x = ((pixels - torch.tensor(space.mean).view(-1, 1, 1)) / torch.tensor(space.std).view(-1, 1, 1))[None]
    drawn = transforms.random_moves(moves, image.shape[0], count, torch.Generator().manual_seed(0))
    moved = torch.cat([transforms.apply(x, drawn, i, moves) for i in range(count)])  # (count, C, H', W')
    still = objective_on_images(model, objective, x, space)[0]
    if still <= 0:
        raise ValueError("The picture does not excite its target: nothing to keep.")
    return float(objective_on_images(model, objective, moved, space).mean() / still)
