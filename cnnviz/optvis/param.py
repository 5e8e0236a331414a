"""Parameterizations: the numbers gradient ascent changes, and how they become an image.

Which numbers the optimizer moves decides what the picture looks like after a few
hundred steps (Olah, Mordvintsev & Schubert, "Feature Visualization", Distill 2017):

- ``pixels``: one number per pixel and channel. A deep photo network's gradient is mostly
  high frequency, and a step is as happy to add a one-pixel speck as a broad blob, so the
  result is a noise pattern the network responds to, not a picture. (On the app's small
  digit and shape networks it is a clean pattern with the highest score, which, on a deep
  layer or a class, loses much of that score when moved: tests/engine/test_optvis_lesson.py.)
- ``fourier``: the image's 2-D spectrum, each frequency scaled by 1/f. Natural images
  have about that spectrum, so equal steps in every coordinate change broad patterns as
  much as fine ones, and broad patterns form first.
- decorrelated colour (RGB only): each pixel's three numbers are coordinates along the
  principal axes of the data's colours, scaled to equal variance, so a step changes
  brightness and hue in the proportions the data has. ``colour_sqrt`` computes that
  matrix from any set of pictures.

Every parameterization ends in a sigmoid: pixels stay in 0..1 whatever the step. A
gray network gets a one-channel image.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

#: Lucid's colour matrix, measured on ImageNet photos (square root of the RGB covariance,
#: rows R, G, B; columns the principal axes). For ImageNet networks.
IMAGENET_COLOUR_SQRT = ((0.26, 0.09, 0.02), (0.27, 0.00, -0.05), (0.27, -0.09, 0.03))
#: Standard deviation of the initial random numbers (Lucid's), so the first image is nearly flat grey.
INIT_SD = 0.01
#: Lucid's constant dividing the Fourier image: larger keeps early images from saturating.
FOURIER_DAMPING = 4.0


@dataclass(frozen=True)
class ImageSpace:
    """What images a network takes.

    Attributes:
        channels: 1 (gray) or 3 (RGB).
        mean, std: the network's per-channel normalisation, ``(x - mean) / std``.
        colour_sqrt: 3 x 3 square root of the colour covariance (``colour_sqrt``), used by
            decorrelated colour; None for gray networks, or to use ``IMAGENET_COLOUR_SQRT``.
    """

    channels: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    colour_sqrt: tuple[tuple[float, ...], ...] | None = None


def colour_sqrt(pixels: np.ndarray) -> tuple[tuple[float, ...], ...]:
    """The square root of the colour covariance of some pictures: U sqrt(L) of its eigenvectors U
    and eigenvalues L, divided by its largest column norm (as Lucid does, so no axis is stretched).

    Measured: our generated shapes have independent colour channels (correlations below
    0.05), so their matrix is close to a multiple of the identity and decorrelating changes
    little; the sample photos' channels correlate 0.6 to 0.9, like ImageNet's.

    Args:
        pixels: (..., 3) uint8 or float, any number of pictures.

    Returns:
        3 x 3 nested tuples (hashable), rows R, G, B.

    Raises:
        ValueError: when the last axis is not 3 colours or there are fewer than 2 pixels.
    """
    values = np.asarray(pixels, dtype=np.float64).reshape(-1, pixels.shape[-1])
    if values.shape[1] != 3 or len(values) < 2:
        raise ValueError(f"Give RGB pictures, (..., 3) with at least 2 pixels; got shape {pixels.shape}.")
    if np.asarray(pixels).dtype == np.uint8:
        values /= 255
    eigenvalues, axes = np.linalg.eigh(np.cov(values.T))
    root = axes * np.sqrt(np.clip(eigenvalues, 0, None))
    root /= np.linalg.norm(root, axis=0).max() or 1.0
    return tuple(tuple(float(v) for v in row) for row in root)


class ImageParam:
    """An image being optimized: ``values`` (the leaf tensor the optimizer changes) and
    ``image()``, the (N, C, H, W) picture in 0..1 they make."""

    def __init__(self, values: torch.Tensor, colour: torch.Tensor | None) -> None:
        self.values = values.requires_grad_(True)
        # (3, 3) colour mixing as a 1x1 convolution weight, or None.
        self._colour = None if colour is None else colour[:, :, None, None]

    def _logits(self) -> torch.Tensor:
        raise NotImplementedError

    def image(self) -> torch.Tensor:
        """(N, C, H, W) in 0..1, differentiable with respect to ``values``."""
        logits = self._logits()
        if self._colour is not None:
            logits = F.conv2d(logits, self._colour)  # decorrelated axes -> R, G, B
        return torch.sigmoid(logits)

    @torch.no_grad()
    def blur_(self, sigma: float) -> None:
        """Blur the image in place with a Gaussian of ``sigma`` pixels (before the sigmoid)."""
        raise NotImplementedError


class PixelImage(ImageParam):
    """One number per pixel and channel: ``values`` is (N, C, H, W)."""

    def _logits(self) -> torch.Tensor:
        return self.values

    @torch.no_grad()
    def blur_(self, sigma: float) -> None:
        channels = self.values.shape[1]
        radius = max(1, math.ceil(2 * sigma))
        taps = torch.exp(-(torch.arange(-radius, radius + 1, dtype=torch.float32) ** 2) / (2 * sigma**2))
        taps = (taps / taps.sum()).repeat(channels, 1)  # (C, k): one separable kernel per channel
        padded = F.pad(self.values, (radius, radius, radius, radius), mode="reflect")
        rows = F.conv2d(padded, taps[:, None, None, :], groups=channels)
        self.values.copy_(F.conv2d(rows, taps[:, None, :, None], groups=channels))


class FourierImage(ImageParam):
    """The spectrum of the image, scaled by 1/f: ``values`` is (N, C, H, W // 2 + 1, 2), the
    real and imaginary parts of ``torch.fft.rfft2``'s layout."""

    def __init__(self, values: torch.Tensor, colour: torch.Tensor | None, width: int, decay_power: float = 1.0) -> None:
        super().__init__(values, colour)
        height = values.shape[2]
        self.size = (height, width)  # rfft2 keeps W // 2 + 1 columns: odd and even widths look alike
        self._frequencies = _frequencies(height, width)  # (H, W // 2 + 1) cycles per pixel
        # 1/f, with the zero frequency treated as the lowest real one; then damped.
        scale = 1 / torch.clamp(self._frequencies, min=1 / max(height, width)) ** decay_power
        self._scale = (scale / FOURIER_DAMPING)[..., None]  # (H, W // 2 + 1, 1), broadcast over re/im

    def _logits(self) -> torch.Tensor:
        spectrum = torch.view_as_complex(self.values * self._scale)
        return torch.fft.irfft2(spectrum, s=self.size, norm="ortho")

    @torch.no_grad()
    def blur_(self, sigma: float) -> None:
        # A Gaussian blur multiplies each frequency f by exp(-2 pi^2 sigma^2 f^2).
        gain = torch.exp(-2 * math.pi**2 * sigma**2 * self._frequencies**2)
        self.values.mul_(gain[..., None])


def _frequencies(height: int, width: int) -> torch.Tensor:
    """(H, W // 2 + 1) float32: the length of each 2-D frequency in rfft2's layout, cycles per pixel."""
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.rfftfreq(width)[None, :]
    return torch.from_numpy(np.sqrt(fx**2 + fy**2)).float()


def make_image(
    kind: str,
    shape: Sequence[int],
    generator: torch.Generator,
    decorrelate: bool = False,
    colour: tuple[tuple[float, ...], ...] | None = None,
) -> ImageParam:
    """A new image to optimize, nearly flat grey, with random numbers from ``generator``.

    Args:
        kind: ``"pixels"`` or ``"fourier"``.
        shape: (N, C, H, W); C is 1 or 3.
        generator: where the initial random numbers come from (seeded by the caller).
        decorrelate: mix colours through ``colour`` (RGB only; ignored for gray).
        colour: 3 x 3 colour square root (``colour_sqrt``); None uses ``IMAGENET_COLOUR_SQRT``.

    Returns:
        A ``PixelImage`` or ``FourierImage``.

    Raises:
        ValueError: for an unknown kind, a channel count other than 1 or 3, or a side below 2.
    """
    batch, channels, height, width = shape
    if channels not in (1, 3):
        raise ValueError(f"An image has 1 (gray) or 3 (RGB) channels, not {channels}.")
    if min(height, width) < 2:
        raise ValueError(f"The image must be at least 2 x 2 pixels, not {height} x {width}.")
    mixing = None
    if decorrelate and channels == 3:
        root = torch.tensor(colour or IMAGENET_COLOUR_SQRT, dtype=torch.float32)
        mixing = root / root.norm(dim=0).max()
    if kind == "pixels":
        return PixelImage(torch.randn(tuple(shape), generator=generator) * INIT_SD, mixing)
    if kind == "fourier":
        values = torch.randn((batch, channels, height, width // 2 + 1, 2), generator=generator) * INIT_SD
        return FourierImage(values, mixing, width)
    raise ValueError(f"Unknown parameterization {kind!r}; choose pixels or fourier.")
