"""Issue 14: the page says what the network was trained on, and that its answer means nothing for a
photo outside that, while the layers' maps stay (edges and colours are worth seeing in any picture)."""

import io

import numpy as np
import pytest
import torch
from PIL import Image

from cnnviz import images, models
from cnnviz.i18n import translate
from tests.app.conftest import open_page
from tests.app.test_feature_maps import PAGE, ok, texts
from tests.engine.test_domain import photographed_digit

MEANINGLESS = "means nothing for this picture"


def with_sidebar_image(at, pixels: np.ndarray):
    encoded = io.BytesIO()
    Image.fromarray(pixels).save(encoded, format="PNG")
    at.session_state["image"] = images.load_image(encoded.getvalue())  # what the sidebar's picker does
    return at.run()


def warnings(at) -> list[str]:
    return [line for line in texts(at).splitlines() if MEANINGLESS in line]


def test_the_digits_network_says_what_it_knows_and_that_a_cat_is_outside_it():
    at = open_page(PAGE, **{"fmap.source": "sidebar"})  # the default sidebar image: cat.jpg
    assert ok(at)
    shown = texts(at)
    assert "Trained on:** handwritten digits (MNIST)" in shown and "0, 1, 2, 3, 4, 5, 6, 7, 8, 9" in shown
    (warning,) = warnings(at)
    assert warning.startswith("This is a colour photo")
    assert "features.0\nConv2d\n6 × 28 × 28" in shown  # the layers' maps are still shown
    assert "first layers" in texts(at)  # ... and said to be worth a look


def test_a_test_digit_and_a_photographed_digit_are_inside():
    at = open_page(PAGE)
    assert ok(at) and "Trained on:** handwritten digits" in texts(at) and not warnings(at)
    at = with_sidebar_image(open_page(PAGE, **{"fmap.source": "sidebar"}), photographed_digit())
    assert ok(at) and not warnings(at) and "The network says 7 (" in texts(at)


def test_a_gray_photo_is_no_digit():
    at = open_page(PAGE, **{"fmap.source": "sidebar"})
    at = with_sidebar_image(at, images.load_sample("camera.jpg").pixels)
    (warning,) = warnings(at)
    assert warning.startswith("This picture is not a digit written on plain paper")


def test_the_shapes_network_on_a_photo():
    at = open_page(PAGE, **{"fmap.network": "shapes", "fmap.source": "sidebar"})
    assert ok(at)
    assert "Trained on:** generated 64 × 64 pictures" in texts(at) and "circle, square, triangle, star" in texts(at)
    (warning,) = warnings(at)
    assert warning.startswith("This photo is not one of the generated pictures")
    at.button_group(key="fmap.source").set_value("heldout").run()
    assert ok(at) and not warnings(at)


@pytest.fixture
def resnet_file(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNVIZ_WEIGHTS_DIR", str(tmp_path))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    torch.manual_seed(16)
    torch.save(models.build("resnet18", 1000).state_dict(), tmp_path / "resnet18-0000abcd.pth")
    return tmp_path


def test_an_imagenet_network_takes_any_photo(resnet_file):
    at = open_page(PAGE, **{"fmap.network": "resnet18"})
    assert ok(at) and "Trained on:** ImageNet" in texts(at) and not warnings(at)


def test_in_chinese():
    at = open_page(PAGE, lang="zh", **{"fmap.source": "sidebar"})
    assert ok(at)
    shown = texts(at)
    assert translate("fmap.outside.colour", "zh") in shown
    assert "**训练数据**：手写数字（MNIST）" in shown
