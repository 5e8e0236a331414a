"""Loss functions' softmax view in chromium: the cross-entropy, entropy, KL and probabilities follow
the pointer with torch's numbers at every position (range ends included); the keyboard moves a
logit; a release updates the URL and the code panel, and a link opens the view where it was left."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from cnnviz.drawing.losses_view import SCALES
from tests.e2e import harness
from tests.e2e.scrub_driver import (
    LESSONS,
    drag_through,
    ends_and_middle,
    matches_engine,
    open_lesson,
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


def test_keyboard_moves_a_logit_and_a_release_goes_to_the_url_and_a_link(tab, app_server):
    open_losses(tab, app_server.url)
    seen = press(tab, "losses", "logit2", "ArrowRight")  # 0.5 -> 0.6
    logit = view(tab, KEY).locator('input[name="logit2"]')
    assert seen["values"]["logit2"] == 6 and matches_engine(seen, "losses")
    assert logit.get_attribute("aria-valuetext") == "0.6" and url_value(tab, "loss.logit2") == "0.6"
    code = tab.locator(f'{harness.MAIN} [data-testid="stExpander"]').filter(has=tab.locator('[data-testid="stCode"]'))
    code.locator("summary").click()
    assert "[[2.0, 1.0, 0.6, -1.0]]" in code.locator('[data-testid="stCode"]').text_content()
    seen = press(tab, "losses", "logit2", "Home")  # the low end: -5.0
    assert url_value(tab, "loss.logit2") == "-5" and matches_engine(seen, "losses")
    open_losses(tab, app_server.url, "?loss.logit0=-1.5&loss.smoothing=0.25")  # a link restores the view
    seen = shown(tab, KEY)
    assert seen["values"] | {} == {**DEFAULTS, "logit0": -15, "smoothing": 25}
    assert seen["texts"]["logit0"] == "−1.5" and seen["texts"]["smoothing"] == "0.25"
    assert matches_engine(seen, "losses")
