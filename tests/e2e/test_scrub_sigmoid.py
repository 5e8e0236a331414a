"""Loss functions' sigmoid view in chromium: p = σ(z), both losses and both dL/dz follow the pointer
with torch's numbers at every position of z (both ends included); the keyboard moves z and the
target; a release updates the URL, and a link opens the view where it was left."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.e2e import harness
from tests.e2e.scrub_driver import LESSONS, matches_engine, shown, sigmoid_expected, slider_range, thumb_x, view

pytestmark = pytest.mark.e2e

KEY = LESSONS["losses_sigmoid"].key  # the page's other view is the softmax one (test_scrub_losses.py)


def open_sigmoid(tab: Page, base_url: str, query: str = "") -> None:
    harness.open_app(tab, f"{base_url}{LESSONS['losses_sigmoid'].path}{query}")
    view(tab, KEY).locator(".scrub-metric").first.wait_for()


def url_value(tab: Page, key: str) -> str | None:
    return tab.evaluate("(key) => new URL(location.href).searchParams.get(key)", key)


def test_dragging_z_shows_torchs_numbers_at_every_position(tab, app_server):
    open_sigmoid(tab, app_server.url)
    assert slider_range(tab, "z", KEY) == (-10, 10)
    tab.mouse.move(*thumb_x(tab, "z", -5.0, KEY))
    tab.mouse.down()
    runs = harness.runs(tab)
    for value in (-5.0, -4.9, -10.0, -9.9, 0.0, 2.3, 9.9, 10.0):
        tab.mouse.move(*thumb_x(tab, "z", value, KEY), steps=3)
        seen = shown(tab, KEY)
        assert seen["values"]["z"] == value
        assert matches_engine(seen, "losses_sigmoid"), (seen, sigmoid_expected(seen["values"]))
    assert harness.runs(tab) == runs  # no rerun while the pointer is held
    with harness.rerun(tab):
        tab.mouse.up()
    assert url_value(tab, "loss.z") == "10.0"
    seen = shown(tab, KEY)
    assert seen["values"]["z"] == 10.0 and matches_engine(seen, "losses_sigmoid")


def test_keyboard_moves_z_and_the_target_and_a_link_restores_them(tab, app_server):
    open_sigmoid(tab, app_server.url)
    z = view(tab, KEY).locator('input[name="z"]')
    z.focus()
    with harness.rerun(tab):
        z.press("ArrowRight")  # -5.0 -> -4.9
    seen = shown(tab, KEY)
    assert seen["values"]["z"] == -4.9 and matches_engine(seen, "losses_sigmoid")
    assert url_value(tab, "loss.z") == "-4.9"
    target = view(tab, KEY).locator('input[name="target"]')
    target.focus()
    with harness.rerun(tab):
        target.press("ArrowLeft")  # y = 1 -> y = 0
    seen = shown(tab, KEY)
    assert seen["values"] == {"z": -4.9, "target": 0} and seen["texts"]["target"] == "y = 0"
    assert target.get_attribute("aria-valuetext") == "y = 0" and url_value(tab, "loss.target") == "0"
    assert matches_engine(seen, "losses_sigmoid")
    with harness.rerun(tab):
        z.press("Home")  # the low end
    assert url_value(tab, "loss.z") == "-10.0" and matches_engine(shown(tab, KEY), "losses_sigmoid")
    open_sigmoid(tab, app_server.url, "?loss.z=2.3&loss.target=0")  # a link restores the view
    seen = shown(tab, KEY)
    assert seen["values"] == {"z": 2.3, "target": 0} and matches_engine(seen, "losses_sigmoid")
