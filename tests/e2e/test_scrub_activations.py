"""Activation functions' scrubbing view in chromium: the curves follow the pointer across the input
range's ends and Leaky ReLU's slope, each frame the engine's (whose lines are torch's: the engine
test); an empty range says why; a release updates the URL, the summary and the code panel."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.e2e import harness
from tests.e2e.scrub_driver import LESSONS, act_lines, matches_engine, shown, slider_values, thumb_x, view

pytestmark = pytest.mark.e2e

DEFAULTS = {"low": -6.0, "high": 6.0, "leaky_relu.slope": 0.01}


def open_act(tab: Page, base_url: str, query: str = "") -> None:
    harness.open_app(tab, f"{base_url}{LESSONS['activations'].path}{query}")
    view(tab).locator(".act-chart polyline").first.wait_for()


@pytest.mark.parametrize("name", list(DEFAULTS))
def test_dragging_each_slider_shows_the_engines_curves_at_every_position(tab, app_server, name):
    open_act(tab, app_server.url)
    values = slider_values(tab, name)
    default = DEFAULTS[name]
    tab.mouse.move(*thumb_x(tab, name, default))
    tab.mouse.down()
    runs = harness.runs(tab)
    middle = values[len(values) // 2]
    for value in sorted(
        {values[0], values[1], middle, values[-2], values[-1], default}, key=lambda v: abs(v - default)
    ):
        tab.mouse.move(*thumb_x(tab, name, value), steps=3)
        seen = shown(tab)
        assert seen["values"][name] == value
        assert matches_engine(seen, "activations"), (seen["values"], act_lines(seen["values"]))
    assert harness.runs(tab) == runs  # no rerun while the pointer is held
    with harness.rerun(tab):
        tab.mouse.up()
    in_url = tab.evaluate("(key) => new URL(location.href).searchParams.get(key)", f"act.{name}")
    assert in_url == (None if value == default else str(value))
    assert shown(tab)["values"][name] == value and matches_engine(shown(tab), "activations")


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
    slope = view(tab).locator('input[name="leaky_relu.slope"]')
    slope.focus()
    for _ in range(3):
        with harness.rerun(tab):
            slope.press("ArrowRight")
    seen = shown(tab)
    assert seen["values"]["leaky_relu.slope"] == 0.04 and matches_engine(seen, "activations")
    assert slope.get_attribute("aria-valuetext") == "0.04"
    assert "act.leaky_relu.slope=0.04" in tab.url
    main = tab.locator(harness.MAIN)
    main.locator('[data-testid="stExpander"] summary').first.click()
    assert "negative_slope=0.04" in main.locator('[data-testid="stCode"]').first.text_content()
    low = view(tab).locator('input[name="low"]')
    low.focus()
    with harness.rerun(tab):
        low.press("End")  # 20: after the right end, an empty range
    assert "act.low=20.0" in tab.url and "left end below its right end" in shown(tab)["warning"]
    assert not main.locator('[data-testid="stTab"]').count()  # no function to describe
