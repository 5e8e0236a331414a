"""Pictures of an attribution map (``cnnviz.attribution``): the map alone, the map over the
picture the network received, and its colour scale.

Colours are the app's one diverging scale (``cnnviz.drawing.grids.DIVERGING``): red is a part that
raised the class score, blue (integrated gradients only) a part that lowered it, white zero.
Each map is scaled to its own largest |value|, which the legend names.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from cnnviz.drawing.grids import DIVERGING, colour_bar_html, colour_lut
from cnnviz.drawing.pictures import colorize
from cnnviz.images import upscale_nearest

#: Side (pixels) the pictures are drawn at: a 28 x 28 map is enlarged with square pixels.
SIDE = 224


def map_bound(values: np.ndarray) -> float:
    """The map's largest |value|: the end of its colour scale (1 for an all-zero map)."""
    return float(np.abs(values).max()) or 1.0


def map_picture(values: np.ndarray) -> np.ndarray:
    """The (H, W) map in colours from -bound (blue) through 0 (white) to +bound (red), enlarged
    with square pixels to at least ``SIDE``: (H', W', 3) uint8."""
    return upscale_nearest(colorize(values, map_bound(values)), SIDE)


def overlay_picture(values: np.ndarray, image: np.ndarray, opacity: float = 0.7) -> np.ndarray:
    """The map painted over ``image`` ((H, W, C) or (H, W) uint8, the network's input picture,
    the map's size): each pixel takes the map's colour with opacity ``opacity * |value| / bound``,
    so where the map is zero the picture shows through. Returns (H', W', 3) uint8."""
    base = np.asarray(Image.fromarray(image.squeeze()).convert("RGB"), dtype=np.float64)
    bound = map_bound(values)
    index = np.clip((values / bound + 1) / 2 * 255, 0, 255).round().astype(np.uint8)
    colour = colour_lut(DIVERGING)[index].astype(np.float64)
    alpha = (opacity * np.abs(values) / bound)[..., None]
    return upscale_nearest((base * (1 - alpha) + colour * alpha).round().astype(np.uint8), SIDE)


def legend_html(values: np.ndarray, title: str) -> str:
    """The colour bar of ``map_picture``: 0 to +max for a map that is never negative, else -max to +max."""
    bound = map_bound(values)
    text = f"{bound:.3g}"
    if (values >= 0).all():
        return colour_bar_html("positive", [(0.0, "0"), (0.5, f"{bound / 2:.3g}"), (1.0, text)], title)
    ticks = [(0.0, f"−{text}"), (0.5, "0"), (1.0, text)]
    return colour_bar_html("diverging", ticks, title)
