"""What the filter-visualization page says about its two presets, measured on the networks it shows.

The page says: on these small networks plain gradient ascent on pixels scores highest (on
deep photo networks it makes noise, which is where the regularizers earn their keep); the
Fourier + transforms picture of a deep layer or a class scores less but keeps more of its
score when the network sees it moved, zoomed or turned. Measured at the page's defaults for
the first six channels of the last convolution and the first six classes of both bundled
networks: 24 of 24 cases hold both ways (pixels keep 0.46 to 0.73 of their score on the last
convolution, -0.16 to 0.61 on classes; Fourier + transforms 0.75 to 0.87 and 0.54 to 0.90).
This test checks two of each.
"""

import numpy as np
import pytest
import torch
from torch import nn

from cnnviz import models
from cnnviz.optvis import objectives, targets, transforms
from cnnviz.optvis.param import ImageSpace
from cnnviz.optvis.render import run
from cnnviz.optvis.transforms import Transforms

#: The page's defaults: a 64 px picture, 128 steps, learning rate 0.1, seed 0.
PAGE_DEFAULTS = {"size": 64, "steps": 128, "learning_rate": 0.1, "seed": 0}


def score(network, objective, image, space) -> float:
    pixels = torch.from_numpy(image).reshape(*image.shape[:2], -1).permute(2, 0, 1)
    x = (pixels - torch.tensor(space.mean).view(-1, 1, 1)) / torch.tensor(space.std).view(-1, 1, 1)
    return targets.objective_on_images(network.model, objective, x[None], space)[0]


@pytest.mark.parametrize("name", ["digits", "shapes"])
def test_pixels_score_higher_and_fourier_with_moves_keeps_more_when_moved(name):
    network = models.load_bundled(name)
    m = network.manifest
    pictures, _ = models.sample_images(m.sample)
    space = targets.image_space(m.input_shape[0], m.mean, m.std, pictures if pictures.ndim == 4 else None)
    last_conv, classes = targets.conv_layers(network.model)[-1], targets.class_layer(network.model)
    for kind, layer in (("channel", last_conv), ("class", classes)):
        moves = targets.sized(
            targets.PRESETS["lucid"], kind, m.input_shape[1]
        ).transforms  # the same yardstick for both
        for index in (0, 1):
            objective = targets.target(kind, layer, index)
            scores, kept = {}, {}
            for preset in ("pixels", "lucid"):
                recipe = targets.sized(targets.PRESETS[preset], kind, m.input_shape[1], **PAGE_DEFAULTS)
                image = run(network.model, objective, recipe, space).image
                scores[preset] = score(network, objective, image, space)
                kept[preset] = targets.kept_under_moves(network.model, objective, image, space, moves)
            assert scores["pixels"] > scores["lucid"] > 0, (layer, index, scores)
            assert kept["lucid"] > kept["pixels"] + 0.1, (layer, index, kept)


def test_kept_under_moves_is_the_mean_moved_value_over_the_still_one():
    """A picture that is one flat colour looks the same however it is shifted (without padding)."""
    model = nn.Sequential(nn.Conv2d(1, 1, 3)).eval()
    with torch.no_grad():
        model[0].weight.fill_(1.0)
        model[0].bias.zero_()
    space = ImageSpace(1, (0.0,), (1.0,))
    flat = np.full((12, 12), 0.5, dtype=np.float32)
    shift_only = Transforms(jitter=2)
    assert targets.kept_under_moves(model, objectives.channel("0", 0), flat, space, shift_only) == pytest.approx(
        # a whole-pixel shift brings in zeros at one or two edges: the same mean, computed by hand
        np.mean([_shifted_mean(flat, dx, dy) for dx, dy in _shifts(shift_only, 12)]) / 4.5,
        rel=1e-5,
    )


def _shifts(moves, size):
    drawn = transforms.random_moves(moves, size, 32, torch.Generator().manual_seed(0))
    return drawn.shifts.tolist()


def _shifted_mean(picture: np.ndarray, dx: int, dy: int) -> float:
    """Mean of a 3x3 box sum (weights 1) over the picture moved by (dx, dy), zeros brought in."""
    size = picture.shape[0]
    padded = np.zeros((size + 4, size + 4), dtype=np.float64)
    padded[2:-2, 2:-2] = picture
    moved = padded[2 + dy : 2 + dy + size, 2 + dx : 2 + dx + size]
    sums = sum(moved[i : i + size - 2, j : j + size - 2] for i in range(3) for j in range(3))
    return float(sums.mean())
