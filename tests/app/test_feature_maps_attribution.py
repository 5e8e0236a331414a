"""Issue 16, "Where the network looks": the attribution panel on the feature-map page shows the
engine's map (``cnnviz.attribution``, checked against each method's definition in tests/engine)
for the chosen class, method and layer, for every network the page offers, in both languages."""

import base64
import io
import re

import numpy as np
import pytest
import streamlit as st
import torch
from PIL import Image

from cnnviz import attribution, models
from cnnviz.drawing import attribution_view
from cnnviz.i18n import translate
from pages import ui
from tests.app.conftest import open_page
from tests.app.test_feature_maps import PAGE, html_sources, ok, texts
from tests.app.test_feature_maps_domain import resnet_file, with_sidebar_image  # noqa: F401 (a fixture)
from tests.engine.test_domain import photographed_digit
from tests.views import captions


def shown_picture(at, alt: str) -> np.ndarray:
    """The picture whose ``alt`` text is ``alt``, decoded."""
    (source,) = {
        src
        for html in html_sources(at)
        for src in re.findall(rf'<img src="data:image/png;base64,([^"]+)" alt="{alt}"', html)
    }
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(source))))


def engine_map(network: models.Network, tensor: torch.Tensor, target: int, method: str, layer: str | None = None):
    baseline = attribution.black_baseline(tensor, network.manifest.mean, network.manifest.std)
    return attribution.attribute(network.model, tensor, target, method, layer, baseline)


def first_test_zero() -> tuple[models.Network, models.PreparedInput]:
    """The digits network and the page's default input, the first held-out 0."""
    network = models.load_bundled("digits")
    pictures, labels = models.sample_images(network.manifest.sample)
    return network, network.prepare(pictures[np.flatnonzero(labels == 0)[0]], native=True)


@pytest.mark.parametrize("method", attribution.METHODS)
def test_each_method_shows_the_engines_map_of_the_top_class(method):
    at = open_page(PAGE, **{"fmap.cam_method": method})
    assert ok(at) and "Where the network looks" in texts(at)
    network, prepared = first_test_zero()
    expected = engine_map(network, prepared.tensor, 0, method, "features.0" if method == "gradcam" else None)
    np.testing.assert_array_equal(shown_picture(at, "The map"), attribution_view.map_picture(expected.values))
    overlay = attribution_view.overlay_picture(expected.values, prepared.pixels)
    np.testing.assert_array_equal(shown_picture(at, "Over the picture the network received"), overlay)
    shown = texts(at)
    assert "What it shows:" in shown and "What it does not show:" in shown
    assert f"Score (logit) of “0” for this picture: {expected.score:.3g}" in shown
    if method == "integrated":  # completeness, as the caption says
        assert f"{expected.total:.3g} ≈ {expected.score:.3g} − {expected.baseline_score:.3g}" in shown
        assert expected.total == pytest.approx(expected.score - expected.baseline_score, rel=0.02)


def test_another_class_and_another_layer():
    at = open_page(PAGE, **{"fmap.cam_class": "6", "fmap.cam_layer": "features.1"})
    assert ok(at) and at.selectbox(key="fmap.cam_class").value == "6"
    network, prepared = first_test_zero()
    expected = engine_map(network, prepared.tensor, 6, "gradcam", "features.1")
    np.testing.assert_array_equal(shown_picture(at, "The map"), attribution_view.map_picture(expected.values))
    assert "Grad-CAM at features.1 (28 × 28 positions)" in texts(at)
    at.selectbox(key="fmap.cam_class").set_value("top").run()
    assert ok(at) and "The network's answer: 0" in at.selectbox(key="fmap.cam_class").options


def test_a_new_map_goes_through_the_heavy_work_budget_and_a_rerun_does_not(monkeypatch):
    st.cache_data.clear()
    entered = []
    original = ui.heavy_work

    def counted():
        entered.append(1)
        return original()

    monkeypatch.setattr(ui, "heavy_work", counted)
    at = open_page(PAGE)
    assert ok(at) and len(entered) == 1
    at.button_group(key="fmap.scale").set_value("network").run()  # the same map: not queued again
    assert ok(at) and len(entered) == 1
    at.button_group(key="fmap.cam_method").set_value("saliency").run()
    assert ok(at) and len(entered) == 2


def test_grad_cam_of_a_photographed_digit_falls_on_the_ink():
    """The offline case (measured on held-out digits in tests/engine/test_attribution.py): at the first
    ReLU, most of the Grad-CAM mass lies within a pixel of the ink."""
    at = open_page(PAGE, **{"fmap.source": "sidebar", "fmap.cam_layer": "features.1"})
    at = with_sidebar_image(at, photographed_digit())
    assert ok(at) and "The network says 7 (" in texts(at)
    network = models.load_bundled("digits")
    prepared = network.prepare(photographed_digit())
    cam = engine_map(network, prepared.tensor, 7, "gradcam", "features.1")
    np.testing.assert_array_equal(shown_picture(at, "The map"), attribution_view.map_picture(cam.values))
    ink = prepared.pixels.squeeze() > 127  # white on black, as the network receives it
    near_ink = torch.nn.functional.max_pool2d(torch.tensor(ink, dtype=torch.float32)[None, None], 3, 1, 1)[0, 0] > 0
    assert attribution.mass_inside(cam.values, near_ink.numpy()) > 0.5 > near_ink.numpy().mean()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_shapes_network_opens_with_integrated_gradients_and_says_what_was_measured(lang):
    """Its Grad-CAM falls on the shape no more than by chance (tests/engine/test_attribution.py
    re-measures the numbers the caption gives): the page says so and opens with the method that does."""
    at = open_page(PAGE, lang=lang, **{"fmap.network": "shapes"})
    assert ok(at) and at.button_group(key="fmap.cam_method").value == "integrated"
    measured = [caption for caption in captions(at) if translate("fmap.cam.measured_title", lang) in caption]
    assert len(measured) == 1
    for value in ("0.34", "0.18", "0.15", "2.2", "64 %", "75 %"):
        assert value in measured[0]
    assert (translate("fmap.class.circle", lang) if lang == "zh" else "circle") in measured[0]
    at.button_group(key="fmap.cam_method").set_value("gradcam").run()
    assert ok(at) and "features.8" in texts(at) and translate("fmap.cam.measured_title", lang) in texts(at)
    digits = open_page(PAGE, lang=lang)
    assert digits.button_group(key="fmap.cam_method").value == "gradcam"
    assert translate("fmap.cam.measured_title", lang) not in texts(digits)


def test_the_shapes_network_and_a_network_trained_on_the_training_page(trained_run):
    at = open_page(PAGE, **{"fmap.network": "shapes", "fmap.cam_method": "gradcam"})
    assert ok(at) and "Grad-CAM at features.8" in texts(at)
    at.session_state["trained_networks"] = {"#1 mine": trained_run}
    at.run()
    at.selectbox(key="fmap.network").set_value("trained:#1 mine").run()
    assert ok(at) and "Grad-CAM at" in texts(at)
    at.button_group(key="fmap.cam_method").set_value("integrated").run()
    assert ok(at) and "What it does not show:" in texts(at)


@pytest.mark.parametrize("method", ["gradcam", "smoothgrad"])
def test_an_imagenet_network(resnet_file, method):  # noqa: F811 (the fixture)
    at = open_page(PAGE, **{"fmap.network": "resnet18", "fmap.cam_method": method})
    assert ok(at) and "Where the network looks" in texts(at)
    assert shown_picture(at, "The map").shape[:2] == (224, 224)
    if method == "gradcam":
        assert "Grad-CAM at layer4.1 (7 × 7 positions)" in texts(at)


def test_in_chinese():
    at = open_page(PAGE, lang="zh", **{"fmap.cam_method": "integrated"})
    assert ok(at)
    shown = texts(at)
    assert translate("fmap.cam.title", "zh") in shown and "**它不表示什么**：" in shown
    assert "积分梯度" in at.button_group(key="fmap.cam_method").options
    shown_picture(at, translate("fmap.cam.map", "zh"))
