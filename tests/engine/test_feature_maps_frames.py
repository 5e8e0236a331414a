"""Feature maps' frame set: every frame is the engine's drawing of its held-out example, with the
network's own numbers (torch, hooks of this test's own), and its pictures travel apart unchanged."""

import base64
import io
import re

import numpy as np
import pytest
import torch
from PIL import Image

from cnnviz import models
from cnnviz.drawing import pictures
from cnnviz.drawing.feature_maps_view import Examples, class_label, example_frame, example_frame_set, layer_grid
from cnnviz.drawing.frames import frame_at, split_pictures, with_pictures
from cnnviz.i18n import translate
from cnnviz.images import upscale_nearest


def decoded(html: str) -> list[np.ndarray]:
    """Every ``data:`` picture in ``html``, in order, as (H, W, 3) uint8."""
    sources = re.findall(r'src="data:image/[a-z]+;base64,([^"]+)"', html)
    return [np.asarray(Image.open(io.BytesIO(base64.b64decode(source))).convert("RGB")) for source in sources]


def torch_run(model: torch.nn.Module, x: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
    """Each layer of ``model.features`` on ``x`` (recorded by hooks, copied before an in-place ReLU
    can change them), and the softmax of the output."""
    outputs = []
    hooks = [module.register_forward_hook(lambda m, i, out: outputs.append(out.detach().clone()))
             for module in model.features]  # fmt: skip
    try:
        with torch.no_grad():
            logits = model(x)
    finally:
        for hook in hooks:
            hook.remove()
    return outputs, torch.softmax(logits.double().flatten(), 0)


@pytest.fixture(scope="module", params=[("digits", 3), ("shapes", 3)], ids=["digits", "shapes"])
def made(request):
    name, class_index = request.param
    network = models.load_bundled(name)
    examples = Examples.of(name, network, class_index)
    return examples, example_frame_set(examples, 5, "layer")


def test_the_slider_runs_over_every_held_out_example_of_the_class(made):
    examples, frame_set = made
    images, labels = models.sample_images(examples.network.manifest.sample)
    assert len(examples) == int((labels == examples.class_index).sum()) == 20
    assert np.array_equal(examples.pictures[-1], images[np.flatnonzero(labels == examples.class_index)[-1]])
    (slider,) = frame_set["sliders"]
    assert (slider["name"], slider["low"], slider["high"], slider["value"]) == ("example", 1, 20, 5)
    assert frame_set["base"] == {"example": 5}


def test_every_frame_is_the_engines_drawing_with_the_networks_answer(made):
    examples, frame_set = made
    network = examples.network
    names = [class_label(name, "en") for name in network.manifest.class_names]
    for example in range(1, len(examples) + 1):
        frame = tuple(frame_at(frame_set, "example", example))
        assert frame == example_frame(examples, example, "layer")
        x = network.prepare(examples.pictures[example - 1], native=True).tensor
        _, probabilities = torch_run(network.model, x)
        best = int(probabilities.argmax())
        assert f"The network says <strong>{names[best]}</strong> ({float(probabilities[best]):.1%} sure)." in frame[0]
        verdict = "Correct" if best == examples.class_index else "Wrong"
        assert f"{verdict}: this test image is labelled “{names[examples.class_index]}”." in frame[0]


@pytest.mark.parametrize("example", [1, 10, 20])  # both ends and the middle
def test_a_frames_pictures_are_its_example_and_each_layers_output(made, example):
    examples, frame_set = made
    network = examples.network
    pixels = examples.pictures[example - 1]
    prepared = network.prepare(pixels, native=True)
    row, layers = frame_at(frame_set, "example", example)
    original, received = decoded(row)
    as_sent = upscale_nearest(pixels if pixels.ndim == 3 else pixels[..., None].repeat(3, 2), 224)
    assert np.array_equal(original, as_sent) and np.array_equal(received, as_sent)  # held out: fed as it is
    tiles, *grids = decoded(layers)
    assert np.array_equal(tiles, pictures.input_tiles(prepared.pixels, tile=96 if pixels.ndim == 2 else 72))
    outputs, _ = torch_run(network.model, prepared.tensor)
    assert len(grids) == len(outputs) == len(network.model.features)
    for grid, output in zip(grids, outputs, strict=True):
        maps = output[0].numpy()
        assert np.array_equal(grid, layer_grid(maps, float(np.abs(maps).max())))  # colour scale "layer"


def test_pictures_travel_apart_and_a_release_sends_the_same_ones(made):
    examples, frame_set = made
    frames_only, found = split_pictures(frame_set)
    assert not any("data:image" in part for part in frames_only["parts"])
    assert [with_pictures(part, found) for part in frames_only["parts"]] == frame_set["parts"]
    # One picture per distinct picture: a held-out example's original and received pictures are one.
    assert len(found) == len(set(found.values())) == len(examples) * (2 + len(examples.network.model.features))
    released = example_frame_set(examples, 12, "layer")
    frames_after, found_after = split_pictures(released)
    assert list(found_after.items()) == list(found.items())  # the same bytes: Streamlit sends a reference
    assert set(frames_after["parts"]) == set(frames_only["parts"]) and frames_after["base"] == {"example": 12}


def test_a_frame_in_chinese_says_everything_in_chinese(made):
    examples, _ = made
    row, layers = example_frame(examples, 1, "layer", "zh")
    words = re.sub(r"<[^>]+>", " ", re.sub(r'(src|alt|style)="[^"]*"', "", row + layers))
    assert translate("fmap.overview", "zh") in words and "网络认为是" in words
    assert not re.search(r"\b(The|network|says|Original|layer|parameters|Correct|Wrong)\b", words), words
