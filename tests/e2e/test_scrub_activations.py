"""Activation functions' scrubbing view in chromium: the curves follow the pointer across the input
range's ends and Leaky ReLU's slope, each frame the engine's (whose lines are torch's: the engine
test); an empty range says why; a release updates the URL, the summary and the code panel."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.e2e import harness
from tests.e2e.scrub_driver import (
    drag_through,
    ends_and_middle,
    matches_engine,
    open_lesson,
    press,
    shown,
    thumb_x,
    view,
)

pytestmark = pytest.mark.e2e

DEFAULTS = {"low": -6.0, "high": 6.0, "leaky_relu.slope": 0.01}


def open_act(tab: Page, base_url: str, query: str = "") -> None:
    open_lesson(tab, base_url, "activations", query)


@pytest.mark.parametrize("name", list(DEFAULTS))
def test_dragging_each_slider_shows_the_engines_curves_at_every_position(tab, app_server, name):
    open_act(tab, app_server.url)
    drag_through(tab, "activations", name, ends_and_middle(tab, "activations", name))


def test_an_empty_range_says_why_while_dragging(tab, app_server):
    open_act(tab, app_server.url)
    tab.mouse.move(*thumb_x(tab, "low", -6.0))
    tab.mouse.down()
    tab.mouse.move(*thumb_x(tab, "low", 8.0), steps=4)  # past the right end (6)
    seen = shown(tab)
    assert seen["values"]["low"] == 8.0 and matches_engine(seen, "activations")
    assert "left end below its right end" in seen["warning"]
    tab.mouse.move(*thumb_x(tab, "low", -2.0), steps=4)
    assert matches_engine(shown(tab), "activations") and not shown(tab)["warning"]
    with harness.rerun(tab):
        tab.mouse.up()


def test_keyboard_and_release_update_the_url_the_summary_and_the_code(tab, app_server):
    open_act(tab, app_server.url)
    for _ in range(3):
        seen = press(tab, "activations", "leaky_relu.slope", "ArrowRight")
    slope = view(tab).locator('input[name="leaky_relu.slope"]')
    assert seen["values"]["leaky_relu.slope"] == 0.04 and matches_engine(seen, "activations")
    assert slope.get_attribute("aria-valuetext") == "0.04"
    assert "act.leaky_relu.slope=0.04" in tab.url
    main = tab.locator(harness.MAIN)
    main.locator('[data-testid="stExpander"] summary').first.click()
    assert "negative_slope=0.04" in main.locator('[data-testid="stCode"]').first.text_content()
    seen = press(tab, "activations", "low", "End")  # 20: after the right end, an empty range
    assert "act.low=20.0" in tab.url and "left end below its right end" in seen["warning"]
    assert not main.locator('[data-testid="stTab"]').count()  # no function to describe
