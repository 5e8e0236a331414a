"""The feature-map page: renders for each network and input, follows its widgets, speaks Chinese."""

import pytest
import torch

from cnnviz import models
from tests.app.conftest import open_page

PAGE = "pages/feature_maps.py"


def image_urls(at) -> list[str]:
    """Media URLs of every st.image on the page (they change when the picture changes)."""
    return [image.url for element in at.get("image") for image in element.proto.imgs]


def texts(at) -> str:
    return "\n".join([m.value for m in at.markdown] + [c.value for c in at.caption])


def test_default_is_a_digit_it_never_saw():
    at = open_page(PAGE)
    assert not at.exception and not at.error
    shown = texts(at)
    assert "The network says **0**" in shown and "Correct: this test image is a 0." in shown
    assert "**features.3** Conv2d  \n16 × 10 × 10  \n2,416 parameters" in shown
    assert "Tensor 1 × 1 × 28 × 28" in shown
    assert len(at.get("plotly_chart")) >= 3  # probabilities, legend, feature vector


def test_layer_channel_and_network_change_what_is_shown():
    at = open_page(PAGE)
    before = image_urls(at)
    at.slider(key="fmap.channel").set_value(3).run()
    assert not at.exception
    after_channel = image_urls(at)
    assert after_channel != before and "Channel 3 of features.0" in texts(at)
    at.selectbox(key="fmap.layer").set_value("features.3").run()
    assert "16 × 10 × 10 map" not in texts(at) and "Channel 3 of features.3" in texts(at)
    assert "Kernel 3 of features.3: one 5 × 5 slice for each of the 6 input channels" in texts(at)
    at.selectbox(key="fmap.network").set_value("shapes").run()
    assert not at.exception and not at.error
    assert at.selectbox(key="fmap.layer").options[-1].startswith("features.9")
    assert "circle" in at.button_group(key="fmap.class").options
    assert "Tensor 1 × 3 × 64 × 64" in texts(at)


def test_the_other_class_and_the_sidebar_image():
    # Bound choices carry their label in the URL (Streamlit serialises the displayed option).
    at = open_page(PAGE, **{"fmap.network": "Colour shapes: TinyVGG, trained on generated shapes", "fmap.example": "2"})
    assert not at.exception and at.slider(key="fmap.example").value == 2
    at.button_group(key="fmap.class").set_value(3).run()
    assert "this test image is a star" in texts(at)
    at.button_group(key="fmap.source").set_value("sidebar").run()
    assert not at.exception and "Steps: central square → resized → normalised" in texts(at)


def test_draw_a_digit_starts_empty():
    at = open_page(PAGE, **{"fmap.source": "Draw a digit"})
    assert not at.exception and at.button_group(key="fmap.source").value == "draw"
    assert any("draw a digit" in info.value for info in at.info)


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
    torch.save(models.build("resnet18", 1000).state_dict(), weights_folder / "resnet18-0000abcd.pth")
    at = open_page(PAGE)
    assert "ResNet-18 (ImageNet, your weights)" in at.selectbox(key="fmap.network").options
    at.selectbox(key="fmap.network").set_value("resnet18").run()
    assert not at.exception and not at.error
    shown = texts(at)
    assert "Tensor 1 × 3 × 224 × 224" in shown and "**layer4.1** BasicBlock" in shown
    assert "(first 64 channels shown)" in shown


def test_a_wrong_weight_file_is_explained(weights_folder):
    (weights_folder / "alexnet-bad.pth").write_bytes(b"not weights")
    at = open_page(PAGE)
    at.selectbox(key="fmap.network").set_value("alexnet").run()
    assert not at.exception
    assert "These weights were not loaded." in at.error[0].value
