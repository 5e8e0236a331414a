"""Loss functions' softmax view in chromium: the cross-entropy, entropy, KL and probabilities follow
the pointer with torch's numbers at every position (range ends included); the keyboard moves a
logit; a release updates the URL and the code panel, and a link opens the view where it was left."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from cnnviz import codegen
from cnnviz.drawing.losses_view import SCALES
from tests.e2e import harness
from tests.e2e.scrub_driver import (
    LESSONS,
    LOSS_TARGET,
    drag_through,
    ends_and_middle,
    matches_engine,
    open_lesson,
    placed,
    press,
    shown,
    url_value,
    view,
)

pytestmark = pytest.mark.e2e

KEY = LESSONS["losses"].key  # the softmax view (the sigmoid view is above it: test_scrub_sigmoid.py)
DEFAULTS = {"logit0": 20, "logit1": 10, "logit2": 5, "logit3": -10, "smoothing": 0}  # whole steps: 2.0 is 20


def open_losses(tab: Page, base_url: str, query: str = "") -> None:
    open_lesson(tab, base_url, "losses", query)


@pytest.mark.parametrize("name", ["logit1", "logit3", "smoothing"])
def test_dragging_a_slider_shows_torchs_numbers_at_every_position(tab, app_server, name):
    open_losses(tab, app_server.url)
    # The URL holds the setting, not the slider's steps: logit 1.5, not 15 (losses_view.SCALES).
    drag_through(tab, "losses", name, ends_and_middle(tab, "losses", name), lambda value: f"{value / SCALES[name]:g}")


def code_for(values: dict[str, int]) -> str:
    """The code the engine writes for the view's values (the page opens with "dog" the right class)."""
    logits = [values[f"logit{i}"] / SCALES[f"logit{i}"] for i in range(4)]
    return codegen.cross_entropy(logits, LOSS_TARGET, values["smoothing"] / SCALES["smoothing"], "dog")


@pytest.mark.parametrize("name", ["logit0", "smoothing"])
def test_the_code_panel_follows_the_pointer(tab, app_server, name):
    open_losses(tab, app_server.url)
    code_place = placed(tab, KEY, "code")
    runs = harness.runs(tab)

    def code_follows(seen: dict) -> None:  # the panel is collapsed: its text is there all the same
        assert code_place.locator(".cnnviz-code code").text_content() == code_for(seen["values"])

    code_follows(shown(tab, KEY))
    positions = ends_and_middle(tab, "losses", name)
    drag_through(tab, "losses", name, positions, lambda value: f"{value / SCALES[name]:g}", also=code_follows)
    assert harness.runs(tab) == runs + 1  # the release alone


def test_keyboard_moves_a_logit_and_a_release_goes_to_the_url_and_a_link(tab, app_server):
    open_losses(tab, app_server.url)
    seen = press(tab, "losses", "logit2", "ArrowRight")  # 0.5 -> 0.6
    logit = view(tab, KEY).locator('input[name="logit2"]')
    assert seen["values"]["logit2"] == 6 and matches_engine(seen, "losses")
    assert logit.get_attribute("aria-valuetext") == "0.6" and url_value(tab, "loss.logit2") == "0.6"
    tab.get_by_text("PyTorch code for these settings").click()  # open the panel: the code in the view's place
    code = placed(tab, KEY, "code").locator(".cnnviz-code code")
    assert code.is_visible() and "[[2.0, 1.0, 0.6, -1.0]]" in code.text_content()
    seen = press(tab, "losses", "logit2", "Home")  # the low end: -5.0
    assert url_value(tab, "loss.logit2") == "-5" and matches_engine(seen, "losses")
    open_losses(tab, app_server.url, "?loss.logit0=-1.5&loss.smoothing=0.25")  # a link restores the view
    seen = shown(tab, KEY)
    assert seen["values"] | {} == {**DEFAULTS, "logit0": -15, "smoothing": 25}
    assert seen["texts"]["logit0"] == "−1.5" and seen["texts"]["smoothing"] == "0.25"
    assert matches_engine(seen, "losses")
