"""A generated data set of coloured shapes and textures, for the colour network.

Ten classes: four solid shapes (circle, square, triangle, star) and six textures
(stripes at four orientations, checkerboard, dots), each drawn in a random colour on a
varied background (plain, gradient or blotchy), at a random size, position and angle,
with pixel noise. To tell them apart a network has to find edges, colours,
orientations and repetition: what the feature-map lesson wants its first layers to show.

Image ``i`` of seed ``s`` depends only on ``(s, i)`` (its own ``numpy.random.Generator``),
so any slice of the data set can be regenerated exactly, in any order.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

#: Class names, in label order.
SHAPE_CLASSES: tuple[str, ...] = (
    "circle",
    "square",
    "triangle",
    "star",
    "stripes_horizontal",
    "stripes_vertical",
    "stripes_diagonal",
    "stripes_antidiagonal",
    "checkerboard",
    "dots",
)
SIDE = 64
SUPERSAMPLE = 4  # shapes are drawn 4x larger, then averaged down: smooth (anti-aliased) edges

# Stripe direction in degrees, measured in image coordinates (y grows downwards):
# "diagonal" rises to the right (/), "antidiagonal" falls to the right (\).
_STRIPE_ANGLES = {
    "stripes_horizontal": 0.0,
    "stripes_vertical": 90.0,
    "stripes_diagonal": -45.0,
    "stripes_antidiagonal": 45.0,
}


def generate(count: int, seed: int, start: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Images ``start .. start + count - 1`` of the data set with this seed.

    Args:
        count: how many images.
        seed: the data set's seed; the same (seed, index) always gives the same image.
        start: index of the first image.

    Returns:
        images: (count, 64, 64, 3) uint8 RGB.
        labels: (count,) int64, indices into ``SHAPE_CLASSES``; classes take turns
            (``index % 10``), so every slice of ten holds each class once.

    Raises:
        ValueError: for a negative count or start.
    """
    if count < 0 or start < 0:
        raise ValueError(f"count and start must be 0 or more (got {count} and {start}).")
    images = np.empty((count, SIDE, SIDE, 3), dtype=np.uint8)
    labels = np.arange(start, start + count, dtype=np.int64) % len(SHAPE_CLASSES)
    for row, index in enumerate(range(start, start + count)):
        images[row] = draw(SHAPE_CLASSES[labels[row]], np.random.default_rng([seed, index]))
    return images, labels


def draw(name: str, rng: np.random.Generator) -> np.ndarray:
    """One (64, 64, 3) uint8 image of class ``name``, with variation drawn from ``rng``.

    Raises:
        ValueError: for a name not in ``SHAPE_CLASSES``.
    """
    return draw_with_coverage(name, rng)[0]


def draw_with_coverage(name: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``draw``'s image and where its shape or texture is: (64, 64) float coverage in 0..1 (the
    share of each pixel painted in the shape's colour; a texture's stripes, squares or dots).

    Raises:
        ValueError: for a name not in ``SHAPE_CLASSES``.
    """
    if name not in SHAPE_CLASSES:
        raise ValueError(f"Unknown shape class {name!r}; choose one of: {', '.join(SHAPE_CLASSES)}.")
    background = _background(rng)  # (64, 64, 3) float in 0..1
    colour = _contrasting_colour(rng, background.reshape(-1, 3).mean(axis=0))
    if name in ("circle", "square", "triangle", "star"):
        coverage = _shape_mask(name, rng)
    else:
        coverage = _texture_mask(name, rng) * _texture_region(rng)
    image = background * (1 - coverage[..., None]) + colour * coverage[..., None]
    image = image * rng.uniform(0.85, 1.15) + rng.uniform(-0.08, 0.08)  # contrast, brightness
    image = image + rng.normal(0, rng.uniform(0.0, 0.06), image.shape)  # sensor noise
    return (np.clip(image, 0, 1) * 255).round().astype(np.uint8), coverage


def _random_colour(rng: np.random.Generator) -> np.ndarray:
    return rng.uniform(0, 1, 3)


def _contrasting_colour(rng: np.random.Generator, against: np.ndarray) -> np.ndarray:
    """A colour clearly different from ``against`` (else the shape could vanish)."""
    for _ in range(50):
        colour = _random_colour(rng)
        if np.abs(colour - against).sum() > 0.6:
            return colour
    return 1 - against  # the opposite colour always contrasts


def _background(rng: np.random.Generator) -> np.ndarray:
    kind = rng.integers(3)
    first = _random_colour(rng)
    if kind == 0:  # plain
        return np.broadcast_to(first, (SIDE, SIDE, 3)).copy()
    if kind == 1:  # linear gradient at a random angle between two colours
        second = _random_colour(rng)
        angle = rng.uniform(0, 2 * np.pi)
        y, x = np.mgrid[0:SIDE, 0:SIDE] / (SIDE - 1) - 0.5
        ramp = np.clip(x * np.cos(angle) + y * np.sin(angle) + 0.5, 0, 1)[..., None]
        return first * (1 - ramp) + second * ramp
    # blotchy: coarse random colour noise, smoothly enlarged
    coarse = np.clip(first + rng.normal(0, 0.2, (4, 4, 3)), 0, 1)
    smooth = Image.fromarray((coarse * 255).astype(np.uint8)).resize((SIDE, SIDE), Image.Resampling.BICUBIC)
    return np.asarray(smooth, dtype=np.float64) / 255


def _shape_mask(name: str, rng: np.random.Generator) -> np.ndarray:
    """(64, 64) coverage in 0..1 of one solid shape, drawn supersampled."""
    big = SIDE * SUPERSAMPLE
    radius = rng.uniform(0.14, 0.36) * big  # 9 to 23 pixels in the 64 x 64 image
    centre = rng.uniform(radius * 0.8, big - radius * 0.8, 2)
    canvas = Image.new("L", (big, big), 0)
    pen = ImageDraw.Draw(canvas)
    if name == "circle":
        pen.ellipse([*(centre - radius), *(centre + radius)], fill=255)
    else:
        pen.polygon([tuple(point) for point in _polygon(name, rng, centre, radius)], fill=255)
    coverage = np.asarray(canvas, dtype=np.float64) / 255
    return coverage.reshape(SIDE, SUPERSAMPLE, SIDE, SUPERSAMPLE).mean(axis=(1, 3))


def _polygon(name: str, rng: np.random.Generator, centre: np.ndarray, radius: float) -> np.ndarray:
    """Corner points (K, 2) of a square (tilted up to 25 degrees), triangle or 5-point star."""
    if name == "square":
        turn = np.deg2rad(rng.uniform(-25, 25))
        angles = turn + np.pi / 4 + np.arange(4) * np.pi / 2
        radii = np.full(4, radius * 0.9 * np.sqrt(2))
    elif name == "triangle":
        turn = rng.uniform(0, 2 * np.pi)
        angles = turn + np.arange(3) * 2 * np.pi / 3
        radii = np.full(3, radius * 1.1)
    else:  # star: ten corners alternating between the tips and the inner notches
        turn = rng.uniform(0, 2 * np.pi)
        angles = turn + np.arange(10) * np.pi / 5
        radii = np.where(np.arange(10) % 2 == 0, radius * 1.1, radius * rng.uniform(0.4, 0.5))
    return centre + np.stack([radii * np.cos(angles), radii * np.sin(angles)], axis=1)


def _texture_mask(name: str, rng: np.random.Generator) -> np.ndarray:
    """(64, 64) coverage in 0..1 of a repeating pattern, computed supersampled."""
    steps = (np.arange(SIDE * SUPERSAMPLE) + 0.5) / SUPERSAMPLE
    y, x = np.meshgrid(steps, steps, indexing="ij")
    if name in _STRIPE_ANGLES:
        angle = np.deg2rad(_STRIPE_ANGLES[name] + rng.uniform(-8, 8))
        period = rng.uniform(6, 14)
        # Distance across the stripes: along the normal of the stripe direction.
        across = -x * np.sin(angle) + y * np.cos(angle)
        pattern = np.mod(across / period + rng.uniform(0, 1), 1) < rng.uniform(0.35, 0.65)
    elif name == "checkerboard":
        angle = np.deg2rad(rng.uniform(-8, 8))
        cell = rng.uniform(5, 11)
        u = (x * np.cos(angle) + y * np.sin(angle)) / cell + rng.uniform(0, 2)
        v = (-x * np.sin(angle) + y * np.cos(angle)) / cell + rng.uniform(0, 2)
        pattern = (np.floor(u) + np.floor(v)) % 2 == 0
    else:  # dots on a jittered grid
        spacing = rng.uniform(8, 14)
        dot = spacing * rng.uniform(0.2, 0.33)
        offset = rng.uniform(0, spacing, 2)
        du = np.mod(x - offset[0], spacing) - spacing / 2
        dv = np.mod(y - offset[1], spacing) - spacing / 2
        pattern = du**2 + dv**2 < dot**2
    return pattern.reshape(SIDE, SUPERSAMPLE, SIDE, SUPERSAMPLE).mean(axis=(1, 3))


def _texture_region(rng: np.random.Generator) -> np.ndarray:
    """Where the texture is: the whole image, or a large rectangle of it (0/1 mask)."""
    region = np.zeros((SIDE, SIDE))
    if rng.uniform() < 0.5:
        region[:] = 1
        return region
    height, width = rng.integers(int(SIDE * 0.55), SIDE + 1, 2)
    top, left = rng.integers(0, SIDE - height + 1), rng.integers(0, SIDE - width + 1)
    region[top : top + height, left : left + width] = 1
    return region
