"""Loss functions' sigmoid view in chromium: p = σ(z), both losses and both dL/dz follow the pointer
with torch's numbers at every position of z (both ends included); the keyboard moves z and the
target; a release updates the URL, and a link opens the view where it was left."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.e2e.scrub_driver import (
    LESSONS,
    drag_through,
    matches_engine,
    open_lesson,
    press,
    shown,
    slider_range,
    url_value,
    view,
)

pytestmark = pytest.mark.e2e

KEY = LESSONS["losses_sigmoid"].key  # the page's other view is the softmax one (test_scrub_losses.py)


def open_sigmoid(tab: Page, base_url: str, query: str = "") -> None:
    open_lesson(tab, base_url, "losses_sigmoid", query)


def test_dragging_z_shows_torchs_numbers_at_every_position(tab, app_server):
    open_sigmoid(tab, app_server.url)
    assert slider_range(tab, "z", KEY) == (-10, 10)
    drag_through(tab, "losses_sigmoid", "z", (-5.0, -4.9, -10.0, -9.9, 0.0, 2.3, 9.9, 10.0))


def test_keyboard_moves_z_and_the_target_and_a_link_restores_them(tab, app_server):
    open_sigmoid(tab, app_server.url)
    seen = press(tab, "losses_sigmoid", "z", "ArrowRight")  # -5.0 -> -4.9
    assert seen["values"]["z"] == -4.9 and matches_engine(seen, "losses_sigmoid")
    assert url_value(tab, "loss.z") == "-4.9"
    seen = press(tab, "losses_sigmoid", "target", "ArrowLeft")  # y = 1 -> y = 0
    target = view(tab, KEY).locator('input[name="target"]')
    assert seen["values"] == {"z": -4.9, "target": 0} and seen["texts"]["target"] == "y = 0"
    assert target.get_attribute("aria-valuetext") == "y = 0" and url_value(tab, "loss.target") == "0"
    assert matches_engine(seen, "losses_sigmoid")
    seen = press(tab, "losses_sigmoid", "z", "Home")  # the low end
    assert url_value(tab, "loss.z") == "-10.0" and matches_engine(seen, "losses_sigmoid")
    open_sigmoid(tab, app_server.url, "?loss.z=2.3&loss.target=0")  # a link restores the view
    seen = shown(tab, KEY)
    assert seen["values"] == {"z": 2.3, "target": 0} and matches_engine(seen, "losses_sigmoid")
