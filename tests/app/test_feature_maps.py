"""The feature-map page: every network and input, its widgets change what is shown, weight files, Chinese."""

import io
import pickle
import re

import numpy as np
import pytest
import streamlit as st
import torch
from PIL import Image
from safetensors.torch import save

from cnnviz import features, images, models, netspec
from cnnviz.drawing import pictures
from tests import clicks
from tests.app.conftest import open_page
from tests.charts import page_charts, within_pixels
from tests.clicks import click
from tests.views import captions

PAGE = "pages/feature_maps.py"


def html_sources(at) -> list[str]:
    """The source of every HTML block and markdown element (a ``ui.View`` is one)."""
    return [element.proto.body for element in at.get("html")] + [element.value for element in at.markdown]


def image_urls(at) -> list[str]:
    """Every picture on the page: st.image media URLs and the ``data:`` pictures inside HTML
    (both change when the picture changes)."""
    inline = [src for source in html_sources(at) for src in re.findall(r'src="(data:image/[^"]+)"', source)]
    return [image.url for element in at.get("image") for image in element.proto.imgs] + inline


def texts(at) -> str:
    """The words of markdown, captions and HTML (line breaks as new lines), without their tags."""
    words = [re.sub(r"<[^>]+>", "", source.replace("<br>", "\n")) for source in html_sources(at)]
    return "\n".join(words + [c.value for c in at.caption])


def ok(at) -> bool:
    return not at.exception and not at.error


def test_default_is_a_digit_it_never_saw():
    at = open_page(PAGE)
    assert ok(at)
    shown = texts(at)
    assert "The network says **0**" in shown and "Correct: this test image is labelled “0”." in shown
    assert "features.3\nConv2d\n16 × 10 × 10\n2,416 parameters" in shown
    assert "features.0\nConv2d\n6 × 28 × 28\n156 parameters" in shown  # 6 x (5 x 5 + 1)
    assert "Tensor 1 × 1 × 28 × 28" in shown and "right 98.5% of the time" in shown
    assert "Kernel 0 of features.0: 5 × 5 weights on the gray input" in shown
    assert "The 84 numbers the last layer reads" in shown
    assert not at.get("plotly_chart")
    assert any("cnnviz-colour-bar" in source for source in html_sources(at))  # the legend


def test_probability_and_feature_vector_charts_show_the_networks_own_numbers():
    at = open_page(PAGE)
    probabilities, vector = lenet_on_the_first_test_zero()
    probability_chart, vector_chart = page_charts(at)
    bars = [bar for bar in probability_chart.hbars() if bar.colour == "#2563eb"]
    top5 = np.argsort(-probabilities, kind="stable")[:5]
    assert [bar.hover for bar in bars] == [f"{i}: {probabilities[i]:.2%}" for i in top5]
    assert probability_chart.categories == [str(i) for i in top5]  # the longest, the network's answer, on top
    within_pixels([bar.start for bar in bars], np.zeros(5), probability_chart.x_px, 0.2)
    within_pixels([bar.end for bar in bars], 100 * probabilities[top5], probability_chart.x_px, 0.2)  # percent
    assert f"{probabilities[0]:.1%}" in probability_chart.texts  # 99.8%, as the sentence says
    assert "Softmax probabilities, top 5" in probability_chart.texts
    vector_bars = [bar for bar in vector_chart.bars() if bar.colour == "#64748b"]
    assert [bar.hover for bar in vector_bars] == [f"#{i}: {v:.3g}" for i, v in enumerate(vector)]
    assert len(vector_bars) == 84


def lenet_on_the_first_test_zero() -> tuple[np.ndarray, np.ndarray]:
    """Softmax and penultimate features of the bundled LeNet-5 on the page's default input, in plain torch."""
    network = models.load_bundled("digits")
    images, labels = models.sample_images(network.manifest.sample)
    tensor = network.prepare(images[np.flatnonzero(labels == 0)[0]], native=True).tensor
    penultimate = []
    last = [m for m in network.model.modules() if isinstance(m, torch.nn.Linear)][-1]
    hook = last.register_forward_hook(lambda module, inputs, output: penultimate.append(inputs[0]))
    try:
        with torch.no_grad():
            logits = network.model(tensor)
    finally:
        hook.remove()
    return torch.softmax(logits.double().flatten(), 0).numpy(), penultimate[0].flatten().numpy()


def test_layer_and_channel_change_what_is_shown():
    at = open_page(PAGE)
    before = image_urls(at)
    at.slider(key="fmap.channel").set_value(3).run()
    assert ok(at) and "Channel 3 of features.0" in texts(at)
    assert image_urls(at) != before
    at.selectbox(key="fmap.layer").set_value("features.3").run()  # another layer starts at its channel 0
    assert "Channel 0 of features.3" in texts(at) and at.query_params["fmap.layer"] == "features.3"
    at.slider(key="fmap.channel").set_value(15).run()
    assert "Kernel 15 of features.3: one 5 × 5 slice for each of the 6 input channels" in texts(at)
    at.selectbox(key="fmap.layer").set_value("features.2").run()  # 6 channels: channel 15 is gone
    assert ok(at) and " of features.2" in texts(at) and "Channel 15" not in texts(at)
    assert "features.2 (MaxPool2d) has no kernel of its own" in texts(at)


def counted(monkeypatch, module, name: str) -> list[tuple]:
    """Replace ``module.name`` by a wrapper that records the arguments of every call."""
    calls, original = [], getattr(module, name)

    def wrapper(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapper)
    return calls


def test_a_new_channel_reuses_the_forward_pass_and_the_overview(monkeypatch):
    st.cache_data.clear()
    forward_passes = counted(monkeypatch, features, "feature_maps")
    grids = counted(monkeypatch, pictures, "tile_grid")
    overlays = counted(monkeypatch, pictures, "overlay")
    at = open_page(PAGE)
    assert ok(at) and len(forward_passes) == 1 and len(overlays) == 1
    drawn = len(grids)
    assert drawn == len(at.selectbox(key="fmap.layer").options)  # one tile grid per layer
    at.slider(key="fmap.channel").set_value(3).run()
    assert ok(at) and "Channel 3 of features.0" in texts(at)
    assert len(forward_passes) == 1 and len(grids) == drawn  # the network and the overview are not redone
    assert len(overlays) == 2 and overlays[-1][0].shape == (28, 28)  # only the new channel is drawn
    at.slider(key="fmap.channel").set_value(0).run()
    assert ok(at) and len(overlays) == 2  # channel 0 again: its pictures come from the cache


def test_the_colour_network_on_its_test_images():
    at = open_page(PAGE, **{"fmap.network": "shapes", "fmap.class": "star", "fmap.example": "2"})
    assert ok(at) and at.slider(key="fmap.example").value == 2
    assert at.selectbox(key="fmap.network").value == "shapes"
    shown = texts(at)
    assert "this test image is labelled “star”" in shown and "Tensor 1 × 3 × 64 × 64" in shown
    assert at.selectbox(key="fmap.layer").options[-1].startswith("features.9")
    assert "Kernel 0 of features.0: 3 × 3 weights for each of the 3 colour channels" in shown
    assert "circle" in at.button_group(key="fmap.class").options
    at.button_group(key="fmap.class").set_value("dots").run()
    assert ok(at) and "test image is labelled “dots”" in texts(at) and at.query_params["fmap.class"] == "dots"


def test_the_sidebar_image_and_an_uploaded_one():
    at = open_page(PAGE, **{"fmap.network": "shapes", "fmap.source": "sidebar"})
    assert ok(at) and "Steps: central square → resized → normalised" in texts(at)
    assert "The network says" in texts(at) and "Correct:" not in texts(at)
    before = image_urls(at)
    picture = np.zeros((90, 120, 3), np.uint8)
    picture[:, ::12] = 255  # vertical stripes
    encoded = io.BytesIO()
    Image.fromarray(picture).save(encoded, format="PNG")
    at.session_state["image"] = images.load_image(encoded.getvalue())  # what the sidebar's uploader does
    at.run()
    assert ok(at) and "90 × 120 pixels" in texts(at) and image_urls(at) != before


def test_draw_a_digit_starts_empty():
    at = open_page(PAGE, **{"fmap.source": "draw"})
    assert not at.exception and at.button_group(key="fmap.source").value == "draw"
    assert any("draw a digit" in info.value for info in at.info)


def test_a_network_trained_on_the_training_page(trained_run):
    run = trained_run
    at = open_page(PAGE)
    at.session_state["trained_networks"] = {"#1 mine": run}
    at.run()
    assert "Trained by you: #1 mine" in at.selectbox(key="fmap.network").options
    at.selectbox(key="fmap.network").set_value("trained:#1 mine").run()
    assert ok(at)
    shown = texts(at)
    assert "Tensor 1 × 1 × 28 × 28" in shown and "0\nConv2d\n6 × 28 × 28\n156 parameters" in shown
    assert run.network.training  # the run's own network was copied, not switched to eval mode


def uploaded_weights(at, architecture: str, name: str, content: bytes):
    at.selectbox(key="fmap.weights_arch").set_value(architecture)
    at.file_uploader(key="fmap.weights_file").upload(name, content)
    return at.run()


def saved(state) -> bytes:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def test_uploaded_weights_for_a_known_architecture():
    at = uploaded_weights(open_page(PAGE), "lenet5", "mine.pth", saved(models.build("lenet5", 10).state_dict()))
    assert ok(at) and "LeNet-5 (digits, your weights) loaded" in at.success[0].value
    at.selectbox(key="fmap.network").set_value("lenet5").run()
    assert ok(at) and "Tensor 1 × 1 × 28 × 28" in texts(at)


def test_a_network_downloaded_from_the_training_page_can_be_uploaded():
    spec = "conv 8 k5 p2\nrelu\npool max 2\nflatten\ndense 10"
    network = netspec.build_network((1, 28, 28), netspec.parse_spec(spec), 10)
    metadata = {"spec": spec, "classes": ",".join("0123456789"), "input_shape": "1x28x28"}
    at = uploaded_weights(
        open_page(PAGE), "spec", "cnnviz_trained.safetensors", save(network.state_dict(), metadata=metadata)
    )
    assert ok(at)
    at.selectbox(key="fmap.network").set_value("spec").run()
    assert ok(at) and "0\nConv2d\n8 × 28 × 28\n208 parameters" in texts(at)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (saved(models.build("tinyvgg", 10).state_dict()), "does not fit LeNet-5 (digits): 6 weights are missing"),
        (saved(models.build("lenet5", 10).state_dict())[:2000], "it may be truncated"),
    ],
)
def test_a_wrong_uploaded_file_is_explained(content, message):
    at = uploaded_weights(open_page(PAGE), "lenet5", "wrong.pth", content)
    assert not at.exception and message in at.error[0].value
    assert "LeNet-5 (digits, your weights)" not in at.selectbox(key="fmap.network").options


class Payload:
    def __reduce__(self):
        return (print, ("the payload ran",))


def test_an_uploaded_file_carrying_code_is_refused():
    content = pickle.dumps({"features.0.weight": torch.zeros(6, 1, 5, 5), "x": Payload()})
    at = uploaded_weights(open_page(PAGE), "lenet5", "evil.pth", content)
    assert not at.exception and "refused without being run" in at.error[0].value


def test_chinese():
    at = open_page(PAGE, lang="zh")
    assert not at.exception
    assert at.title[0].value == "特征图：每一层看到了什么"
    assert "网络认为是 **0**" in texts(at)


@pytest.fixture
def weights_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNVIZ_WEIGHTS_DIR", str(tmp_path))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))  # never the developer's own cache
    return tmp_path


def test_imagenet_network_from_the_weights_folder(weights_folder):
    torch.manual_seed(16)
    state = models.build("resnet18", 1000).state_dict()
    torch.save(state, weights_folder / "resnet18-0000abcd.pth")
    at = open_page(PAGE, **{"fmap.network": "resnet18"})
    assert ok(at) and at.selectbox(key="fmap.network").value == "resnet18"
    shown = texts(at)
    assert "Tensor 1 × 3 × 224 × 224" in shown and "layer4.1\nBasicBlock" in shown
    assert "(first 64 channels shown)" in shown
    stages = ["conv1\nConv2d", "maxpool\nMaxPool2d", *(f"layer{n}.1\nBasicBlock" for n in range(1, 5))]
    assert all(stage in shown for stage in stages)  # every stage's maps
    assert "All 64 kernels of conv1, each 7 × 7 pixels × 3 colours" in shown
    assert "ImageNet networks found on this computer: `resnet18-0000abcd.pth`." in shown
    assert "AlexNet, VGG-16" in shown and "ResNet-18**" not in shown  # how to get the two others
    # The top five, by name: the same weights in plain torch on the same picture.
    model = models.build("resnet18", 1000).eval()
    model.load_state_dict(state)
    network = models.load_user_weights("resnet18", weights_folder / "resnet18-0000abcd.pth")
    tensor = network.prepare(images.load_sample("cat.jpg").pixels).tensor
    with torch.no_grad():
        probabilities = torch.softmax(model(tensor).double().flatten(), 0).numpy()
    names = network.manifest.class_names
    top5 = np.argsort(-probabilities, kind="stable")[:5]
    assert page_charts(at)[0].categories == [names[index] for index in top5]
    assert f"The network says **{names[top5[0]]}**" in shown


def test_how_to_get_imagenet_weights_is_said_under_the_network_list(weights_folder):
    at = open_page(PAGE)
    assert ok(at)
    (caption,) = [c.value for c in at.caption if "make weights FILE=" in c.value]
    assert caption.startswith("**AlexNet, VGG-16, ResNet-18**: not on this computer yet")
    assert 'torchvision.models.resnet18(weights="DEFAULT")' in caption
    assert [c.value for c in at.caption].index(caption) < 3  # at the top, by the network list
    at = open_page(PAGE, lang="zh")
    assert any("在任何装有 torchvision 的电脑上" in c.value for c in at.caption)


def test_an_uploaded_imagenet_network_is_no_longer_listed_as_missing(weights_folder):
    """After a ResNet-18 file is uploaded and loaded, the page must not still say it is not here."""
    at = uploaded_weights(
        open_page(PAGE), "resnet18", "resnet18-mine.pth", saved(models.build("resnet18", 1000).state_dict())
    )
    assert ok(at) and "ResNet-18 (ImageNet, your weights) loaded" in at.success[0].value
    (caption,) = [c.value for c in at.caption if "make weights FILE=" in c.value]
    assert caption.startswith("**AlexNet, VGG-16**: not on this computer yet")


def test_a_wrong_weight_file_is_explained(weights_folder):
    (weights_folder / "alexnet-bad.pth").write_bytes(b"not weights")
    at = open_page(PAGE)
    at.selectbox(key="fmap.network").set_value("alexnet").run()
    assert not at.exception
    assert "These weights were not loaded." in at.error[0].value


def test_a_clicked_map_position_draws_its_receptive_field_on_the_input():
    """LeNet's features.3 (after a padded 5 x 5, a 2 x 2 pool, an unpadded 5 x 5): position (r, c)
    sees input rows 2r - 2 .. 2r + 11, by hand: 1 + 4 + 1 + 4 * 2 = 14 pixels, starting 2 before."""
    at = open_page("pages/feature_maps.py", **{"fmap.layer": "features.3", "fmap.channel": "5", "fmap.pixel": "3,0"})
    assert not at.exception and not at.error
    chosen, field_picture, kernel = clicks.pictures(at, "fmap.field_click")
    assert chosen["at"] == {"row": 3, "col": 0} and chosen["caption"] == "Channel 5 of features.3"
    assert (chosen["rows"], chosen["cols"]) == (10, 10)
    # Rows 4 .. 17, columns -2 .. 11 cut at the picture's edge to 0 .. 11.
    assert '<rect x="0" y="4" width="12" height="14" fill="none" stroke="#22d3ee"' in field_picture["marks"]
    assert "input rows 4–17 and columns 0–11" in " ".join(captions(at))
    assert "beyond the picture's edge" in " ".join(captions(at))
    assert "features.3" in kernel["caption"] and not kernel["clickable"]
    at = click(at, "fmap.pixel", "9,9")
    assert at.query_params["fmap.pixel"] == "9,9"
    assert "input rows 16–27 and columns 16–27" in " ".join(captions(at))
    at.session_state["lang"] = "zh"
    at.run()
    assert "由输入的第 16–27 行、第 16–27 列算出" in " ".join(captions(at))
