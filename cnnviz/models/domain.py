"""What a network learnt from, and whether a picture is like it.

A network answers with one of its classes for any picture: softmax shares 100 % among the
classes it knows, so the digits network calls a cat "8" and the shapes network calls it
"dots", sure of itself. A lesson says what the network was trained on and, for a picture
outside that, that the answer means nothing for it (the first layers' edges and colours are
still worth seeing).

``training_data`` names the data set from the manifest's preprocessing (each recipe belongs
to one data set). ``outside_training`` measures a picture against it:

- digits (MNIST): one dark stroke on plain light paper, or light on dark. A photo of a digit
  written on paper passes; a colour photo or a gray photo of a scene does not. Measured on
  the shipped samples and held-out digits (``tests/engine/test_domain.py``): held-out digits
  have ink-to-paper contrast 200-235 (of 255), ink 11-22 % of the pixels and paper that
  varies by 12-18 (std); the sample photos have contrast 51-146, or ink over 30 %, or paper
  varying by 31-37, and the colour ones a mean saturation of 0.15-0.42.
- shapes: only the generator's own 64 x 64 pictures; any other picture is outside.
- ImageNet: photos of a thousand kinds of things; every photo is taken to be inside.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from cnnviz.models.networks import Manifest

TrainingData = Literal["digits", "shapes", "imagenet"]
#: Why a picture is outside a network's training data (pages translate them).
Outside = Literal["colour", "not_ink_on_paper", "not_generated"]

_DATA_BY_RECIPE: dict[str, TrainingData] = {"mnist": "digits", "square": "shapes", "imagenet": "imagenet"}
#: Mean (max - min) over R, G, B, as a fraction of 255, above which a picture is in colour.
MAX_SATURATION = 0.15
#: Ink on paper: the darker (or lighter) part covers at most this share of the picture...
MAX_INK_SHARE = 0.30
#: ...differs from the paper by at least this much (gray levels of 255)...
MIN_CONTRAST = 120.0
#: ...and the paper is plain: its gray levels vary by at most this (standard deviation).
MAX_PAPER_STD = 25.0


def training_data(manifest: Manifest) -> TrainingData:
    """The data set a network learnt from: "digits", "shapes" or "imagenet" (by its recipe)."""
    return _DATA_BY_RECIPE[manifest.preprocessing]


def outside_training(pixels: np.ndarray, manifest: Manifest) -> Outside | None:
    """Why ``pixels`` is unlike the pictures ``manifest``'s network was trained on, or None.

    Args:
        pixels: (H, W, 3) or (H, W) uint8, the picture as given (before preprocessing).

    Returns:
        "colour" (a colour picture for the gray digits network), "not_ink_on_paper" (a gray
        picture that is not one stroke on plain paper), "not_generated" (any picture but the
        shapes generator's own 64 x 64 ones), or None when it is like the training pictures.
    """
    data = training_data(manifest)
    if data == "imagenet":
        return None
    if data == "shapes":
        return None if pixels.shape[:2] == tuple(manifest.input_shape[1:]) else "not_generated"
    rgb = np.asarray(pixels, dtype=np.float64)
    if rgb.ndim == 3 and (rgb.max(axis=2) - rgb.min(axis=2)).mean() / 255 > MAX_SATURATION:
        return "colour"
    gray = rgb.mean(axis=2) if rgb.ndim == 3 else rgb
    return None if _ink_on_paper(gray.ravel()) else "not_ink_on_paper"


def _ink_on_paper(gray: np.ndarray) -> bool:
    """(N,) gray levels: split in two by Otsu's threshold; the smaller part is the ink."""
    dark = gray <= _otsu_threshold(gray)
    ink = dark if dark.mean() <= 0.5 else ~dark
    if not ink.any() or ink.all():
        return False
    contrast = abs(float(gray[ink].mean() - gray[~ink].mean()))
    return ink.mean() <= MAX_INK_SHARE and contrast >= MIN_CONTRAST and float(gray[~ink].std()) <= MAX_PAPER_STD


def _otsu_threshold(gray: np.ndarray) -> int:
    """The gray level that best splits ``gray`` in two (largest between-class variance, Otsu 1979)."""
    share = np.bincount(np.clip(gray, 0, 255).astype(np.int64), minlength=256) / gray.size
    levels = np.arange(256)
    below = np.cumsum(share)  # share of pixels <= t
    below_sum = np.cumsum(share * levels)
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (below_sum[-1] * below - below_sum) ** 2 / (below * (1 - below))
    return int(np.nanargmax(np.nan_to_num(between, nan=-1.0)))
