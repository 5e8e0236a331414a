"""Is a picture like what the network learnt from? Measured on the shipped pictures."""

import numpy as np
import pytest
from PIL import Image, ImageDraw

from cnnviz import images, models
from cnnviz.models import domain

DIGITS = models.load_bundled("digits").manifest
SHAPES = models.load_bundled("shapes").manifest
IMAGENET = models.imagenet_manifest("resnet18")


def photographed_digit(seed: int = 0, stroke: int = 14, noise: float = 8.0, shading: float = 20.0) -> np.ndarray:
    """A "7" written in dark ink on off-white paper, photographed: sensor noise, uneven light, a colour cast."""
    paper = Image.new("RGB", (400, 300), (225, 220, 205))
    ImageDraw.Draw(paper).line([(150, 60), (250, 60), (170, 250)], fill=(40, 40, 60), width=stroke)
    pixels = np.asarray(paper, dtype=np.float64) + np.random.default_rng(seed).normal(0, noise, (300, 400, 3))
    pixels += np.linspace(-shading, shading, 400)[None, :, None]
    return np.clip(pixels, 0, 255).round().astype(np.uint8)


def test_the_data_set_comes_from_the_manifest():
    assert [domain.training_data(m) for m in (DIGITS, SHAPES, IMAGENET)] == ["digits", "shapes", "imagenet"]


def test_every_held_out_digit_is_inside_the_digits_training_data():
    pictures, _ = models.sample_images(DIGITS.sample)
    assert [domain.outside_training(picture, DIGITS) for picture in pictures] == [None] * len(pictures)


@pytest.mark.parametrize(("stroke", "noise", "shading"), [(10, 4, 0), (14, 8, 20), (18, 12, 30)])
def test_a_photographed_handwritten_digit_is_inside(stroke, noise, shading):
    assert domain.outside_training(photographed_digit(1, stroke, noise, shading), DIGITS) is None
    inverted = 255 - photographed_digit(2, stroke, noise, shading)  # chalk on a dark board
    assert domain.outside_training(inverted, DIGITS) is None


@pytest.mark.parametrize("name", images.sample_names())
def test_every_sample_photo_is_outside_the_digits_and_the_shapes(name):
    pixels = images.load_sample(name).pixels
    colourful = (pixels.max(2).astype(int) - pixels.min(2)).mean() / 255 > domain.MAX_SATURATION
    expected = "colour" if colourful else "not_ink_on_paper"
    assert domain.outside_training(pixels, DIGITS) == expected
    assert domain.outside_training(pixels, SHAPES) == "not_generated"
    assert domain.outside_training(pixels, IMAGENET) is None


def test_a_generated_shape_is_inside_the_shapes_and_a_flat_picture_is_no_digit():
    pictures, _ = models.sample_images(SHAPES.sample)
    assert domain.outside_training(pictures[0], SHAPES) is None
    assert domain.outside_training(np.full((50, 50), 200, np.uint8), DIGITS) == "not_ink_on_paper"


def test_otsus_threshold_splits_two_levels_between_them():
    gray = np.array([20.0] * 30 + [230.0] * 70)
    assert 20 <= domain._otsu_threshold(gray) < 230
