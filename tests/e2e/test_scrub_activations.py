"""Activation functions' scrubbing view in chromium: the curves follow the pointer across the input
range's ends and Leaky ReLU's slope, each frame the engine's (whose lines are torch's: the engine
test), and so do the functions' tabs below (summary, value table, code: the view's places); an empty
range says why; a release updates the URL."""

from __future__ import annotations

import html
import re

import pytest
from playwright.sync_api import Page

from cnnviz import activations, codegen
from cnnviz.drawing.activations_view import SAMPLE_POINTS, CurvesSettings, curves_frame, places
from cnnviz.drawing.mathml import latex_sources
from tests.e2e import harness
from tests.e2e.scrub_driver import (
    ACT_FUNCTIONS,
    drag_through,
    ends_and_middle,
    matches_engine,
    open_lesson,
    placed,
    press,
    shown,
    thumb_x,
    view,
)

pytestmark = pytest.mark.e2e

DEFAULTS = {"low": -6.0, "high": 6.0, "leaky_relu.slope": 0.01}


def open_act(tab: Page, base_url: str, query: str = "") -> None:
    open_lesson(tab, base_url, "activations", query)


def text_of(part: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", part))


def tabs_follow(tab: Page):
    """A check for ``drag_through``: each function's tab (hidden or not) shows the engine's summary, value table and
    code for the values under the pointer, and nothing when the range is empty."""
    slots = places(ACT_FUNCTIONS)

    def check(seen: dict) -> None:
        parts = curves_frame(CurvesSettings(ACT_FUNCTIONS), seen["values"])
        for key in ACT_FUNCTIONS:
            described, code = placed(tab, "act.scrub", f"fn.{key}"), placed(tab, "act.scrub", f"code.{key}")
            formula, summary, table = (parts[slot] for slot in slots[f"fn.{key}"])
            if not table:  # an empty range: the view says why; after a release there are no tabs
                assert all(not place.count() or place.text_content() == "" for place in (described, code))
                continue
            latex = described.locator('annotation[encoding="application/x-tex"]').all_text_contents()
            assert latex == latex_sources(formula) == [activations.get(key).formula]
            shown_captions = described.locator(".cnnviz-caption").all_text_contents()
            assert shown_captions == [
                text_of(caption) for caption in re.findall(r"<div class=\"cnnviz-caption\">.*?</div>", summary)
            ]
            cells = re.findall(r"<td>(.*?)</td>", table)
            assert described.locator("td").all_text_contents() == cells
            params = {"slope": seen["values"]["leaky_relu.slope"]} if key == "leaky_relu" else {}
            assert code.locator(".cnnviz-code code").text_content() == codegen.activation(key, params, SAMPLE_POINTS)

    return check


@pytest.mark.parametrize("name", list(DEFAULTS))
def test_dragging_each_slider_shows_the_engines_curves_and_tabs_at_every_position(tab, app_server, name):
    open_act(tab, app_server.url)
    drag_through(tab, "activations", name, ends_and_middle(tab, "activations", name), also=tabs_follow(tab))


def test_an_empty_range_says_why_while_dragging(tab, app_server):
    open_act(tab, app_server.url)
    tab.mouse.move(*thumb_x(tab, "low", -6.0))
    tab.mouse.down()
    tab.mouse.move(*thumb_x(tab, "low", 8.0), steps=4)  # past the right end (6)
    seen = shown(tab)
    assert seen["values"]["low"] == 8.0 and matches_engine(seen, "activations")
    assert "left end below its right end" in seen["warning"]
    tabs_follow(tab)(seen)  # the tabs show nothing
    tab.mouse.move(*thumb_x(tab, "low", -2.0), steps=4)
    assert matches_engine(shown(tab), "activations") and not shown(tab)["warning"]
    tabs_follow(tab)(shown(tab))
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
    code = placed(tab, "act.scrub", "code.leaky_relu").locator(".cnnviz-code code")
    assert code.is_visible() and "negative_slope=0.04" in code.text_content()
    seen = press(tab, "activations", "low", "End")  # 20: after the right end, an empty range
    assert "act.low=20.0" in tab.url and "left end below its right end" in seen["warning"]
    assert not main.locator('[data-testid="stTab"]').count()  # no function to describe
