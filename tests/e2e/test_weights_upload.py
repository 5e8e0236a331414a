"""Issue 16: a teacher with only a torchvision weight file gets to top-5 and feature maps in the browser.
A ResNet-18 file as torchvision writes it (random weights, the real key names and shapes, 45 MB, made
here with torch.save) goes through the feature-map page's real upload control; the page then shows
the network's top five classes (checked against plain torch on the same picture) and every stage's maps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from playwright.sync_api import Page

from cnnviz import images, models
from cnnviz.i18n import translate
from tests.e2e import harness
from tests.e2e.test_language_switch import css_key

pytestmark = pytest.mark.e2e
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
STAGES = ("conv1", "maxpool", "layer1.1", "layer2.1", "layer3.1", "layer4.1")


@pytest.fixture(scope="module")
def resnet_file(tmp_path_factory) -> Path:
    torch.manual_seed(16)
    path = tmp_path_factory.mktemp("weights") / "resnet18-f37072fd.pth"
    torch.save(models.build("resnet18", 1000).state_dict(), path)
    assert path.stat().st_size > 40 * 2**20
    return path


def expected_top5(path: Path) -> list[str]:
    """The five classes plain torch gives the page's picture (the sidebar's sample), best first."""
    network = models.load_user_weights("resnet18", path)
    model = models.build("resnet18", 1000).eval()
    model.load_state_dict(torch.load(path, weights_only=True))
    with torch.no_grad():
        scores = model(network.prepare(images.load_sample("cat.jpg").pixels).tensor).flatten().double()
    return [network.manifest.class_names[i] for i in np.argsort(-scores.numpy(), kind="stable")[:5]]


def choose(tab: Page, key: str, label: str) -> None:
    """Pick ``label`` in the selectbox ``key``."""
    box = tab.locator(f"{css_key(key)} input[role='combobox']")
    box.wait_for(state="visible")
    tab.wait_for_timeout(500)  # an expander that just opened is still moving
    with harness.rerun(tab):
        box.click()
        tab.get_by_role("option", name=label, exact=True).click()


def test_a_torchvision_file_uploaded_in_the_browser_shows_top5_and_every_stage(tab: Page, app_server, resnet_file):
    harness.open_app(tab, f"{app_server.url}/feature_maps")
    main = tab.locator(harness.MAIN)
    main.get_by_text(translate("fmap.imagenet", "en")).click()
    title = translate("fmap.net.resnet18", "en")
    choose(tab, "fmap.weights_arch", title)
    with harness.rerun(tab, timeout=240):
        tab.set_input_files(f"{css_key('fmap.weights_file')} input[type='file']", files=resnet_file, timeout=180_000)
    main.get_by_text(translate("fmap.weights_loaded", "en", title=title)).wait_for(timeout=60_000)
    choose(tab, "fmap.network", title)
    harness.wait_until_idle(tab, 0, timeout=120)
    assert harness.error_texts(tab) == []
    shown = main.text_content()
    top5 = expected_top5(resnet_file)
    assert all(name in shown for name in top5), (top5, shown[:2000])
    assert f"The network says {top5[0]}" in main.inner_text()
    assert all(f"{stage}\n" in main.inner_text() for stage in STAGES)
    tab.screenshot(path=SCREENSHOTS / "weights-upload.png", full_page=True)
