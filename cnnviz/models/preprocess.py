"""From any picture to the exact tensor a network receives.

Each network's manifest names its preprocessing:
- ``"mnist"``: MNIST's own recipe, so a photo or a drawing looks like the digits the
  network learnt from: grayscale, white ink on black (inverted if the background is
  light), the ink's bounding box scaled to fit 20 x 20, placed in 28 x 28 so that its
  centre of mass is in the middle.
- ``"square"``: the central square, resized to the network's side (the shapes network).
- ``"imagenet"``: shorter side to 256, central 224 x 224 (torchvision's evaluation recipe).
Then every channel is normalised: ``(x - mean) / std`` with the training set's numbers.

``native=True`` skips the resizing for images already in the network's format (the
held-out samples of its own data set).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from PIL import Image

Preprocessing = Literal["mnist", "square", "imagenet"]

#: The steps ``prepare`` may report, in order; pages translate them.
STEPS = ("grayscale", "inverted", "cropped_to_ink", "scaled_to_20", "centred_by_mass", "center_square", "resized",
         "center_crop", "normalized")  # fmt: skip

MNIST_SIDE, MNIST_BOX = 28, 20
IMAGENET_RESIZE, IMAGENET_CROP = 256, 224
# Longest side a photo is shrunk to before the digit recipe: enough to find the ink, and fast.
_WORKING_SIDE = 256


@dataclass(frozen=True)
class PreparedInput:
    """What a network receives, and how it was made.

    Attributes:
        tensor: (1, C, H, W) float32, normalised: exactly the network's input.
        pixels: (H, W, C) uint8, the same picture before normalisation (for display).
        steps: the steps applied, in order (names from ``STEPS``).
    """

    tensor: torch.Tensor
    pixels: np.ndarray
    steps: tuple[str, ...]


def prepare(
    pixels: np.ndarray,
    preprocessing: Preprocessing,
    input_shape: tuple[int, int, int],
    mean: tuple[float, ...],
    std: tuple[float, ...],
    native: bool = False,
) -> PreparedInput:
    """Turn an image into a network's input tensor.

    Args:
        pixels: (H, W, 3) or (H, W) uint8.
        preprocessing: the recipe (see the module docstring).
        input_shape: (C, H, W) the network expects; C is 1 (gray) or 3 (RGB).
        mean, std: per-channel normalisation, C numbers each.
        native: the image is already in the network's format (only converted and normalised).

    Returns:
        The tensor, the displayable picture and the steps taken.

    Raises:
        ValueError: for an unknown recipe, a picture of the wrong size with
            ``native=True``, or (digits) an image with no ink at all.
    """
    channels, height, width = input_shape
    image = np.asarray(pixels)
    steps: list[str] = []
    if channels == 1 and image.ndim == 3:
        image = np.asarray(Image.fromarray(image).convert("L"))
        steps.append("grayscale")
    elif channels == 3 and image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    if native:
        if image.shape[:2] != (height, width):
            raise ValueError(
                f"A native sample must be {height} x {width} pixels, not {image.shape[0]} x {image.shape[1]}."
            )
    elif preprocessing == "mnist":
        image = mnist_like(image, steps)
    elif preprocessing == "square":
        image = _center_square(image, height, steps)
    elif preprocessing == "imagenet":
        image = _imagenet_crop(image, steps)
    else:
        raise ValueError(f"Unknown preprocessing {preprocessing!r}; choose mnist, square or imagenet.")
    shown = image.reshape(height, width, channels).astype(np.uint8)
    values = torch.from_numpy(shown.astype(np.float32) / 255).permute(2, 0, 1)  # (C, H, W)
    tensor = (values - torch.tensor(mean).view(-1, 1, 1)) / torch.tensor(std).view(-1, 1, 1)
    return PreparedInput(tensor.unsqueeze(0).contiguous(), shown, (*steps, "normalized"))


def mnist_like(gray: np.ndarray, steps: list[str] | None = None) -> np.ndarray:
    """MNIST's recipe: white ink on black, ink box scaled into 20 x 20, centred by mass in 28 x 28.

    Args:
        gray: (H, W) uint8.
        steps: if given, the names of the steps taken are appended to it.

    Returns:
        (28, 28) uint8.

    Raises:
        ValueError: when the image has no ink (it is one flat colour).
    """
    steps = steps if steps is not None else []
    image = Image.fromarray(gray)
    image.thumbnail((_WORKING_SIDE, _WORKING_SIDE), Image.Resampling.LANCZOS)
    values = np.asarray(image, dtype=np.float64) / 255
    border = np.concatenate([values[0], values[-1], values[:, 0], values[:, -1]])
    if np.median(border) > 0.5:  # dark ink on light paper: MNIST digits are light on dark
        values = 1 - values
        border = 1 - border
        steps.append("inverted")
    ink = np.clip(values - np.median(border), 0, None)
    if ink.max() < 0.1:
        raise ValueError("There is nothing to read: the image is one flat colour. Draw or choose a digit.")
    ink = ink / ink.max()
    rows, cols = np.nonzero(ink > 0.2)
    ink = ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    steps.append("cropped_to_ink")
    # Longest side to 20, keeping the aspect ratio (a "1" stays thin).
    scale = MNIST_BOX / max(ink.shape)
    size = (max(1, round(ink.shape[1] * scale)), max(1, round(ink.shape[0] * scale)))
    box = np.asarray(
        Image.fromarray((ink * 255).astype(np.uint8)).resize(size, Image.Resampling.LANCZOS), dtype=np.float64
    )
    steps.append("scaled_to_20")
    # Place the box so its centre of mass lands on the centre of the 28 x 28 field.
    total = box.sum() or 1.0
    centre_row = (box.sum(axis=1) * np.arange(box.shape[0])).sum() / total
    centre_col = (box.sum(axis=0) * np.arange(box.shape[1])).sum() / total
    top = int(np.clip(round(MNIST_SIDE / 2 - 0.5 - centre_row), 0, MNIST_SIDE - box.shape[0]))
    left = int(np.clip(round(MNIST_SIDE / 2 - 0.5 - centre_col), 0, MNIST_SIDE - box.shape[1]))
    field = np.zeros((MNIST_SIDE, MNIST_SIDE))
    field[top : top + box.shape[0], left : left + box.shape[1]] = box
    steps.append("centred_by_mass")
    return np.clip(field, 0, 255).round().astype(np.uint8)


def _center_square(image: np.ndarray, side: int, steps: list[str]) -> np.ndarray:
    height, width = image.shape[:2]
    if height != width:
        edge = min(height, width)
        top, left = (height - edge) // 2, (width - edge) // 2
        image = image[top : top + edge, left : left + edge]
        steps.append("center_square")
    if image.shape[0] != side:
        image = np.asarray(Image.fromarray(image).resize((side, side), Image.Resampling.LANCZOS))
        steps.append("resized")
    return image


def _imagenet_crop(image: np.ndarray, steps: list[str]) -> np.ndarray:
    picture = Image.fromarray(image)
    scale = IMAGENET_RESIZE / min(picture.size)
    picture = picture.resize(
        (max(IMAGENET_CROP, round(picture.width * scale)), max(IMAGENET_CROP, round(picture.height * scale))),
        Image.Resampling.BILINEAR,
    )
    steps.append("resized")
    left, top = (picture.width - IMAGENET_CROP) // 2, (picture.height - IMAGENET_CROP) // 2
    steps.append("center_crop")
    return np.asarray(picture.crop((left, top, left + IMAGENET_CROP, top + IMAGENET_CROP)))
