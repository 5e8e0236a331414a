"""Loss functions' softmax view in chromium: the cross-entropy, entropy, KL and probabilities follow
the pointer with torch's numbers at every position (range ends included); the keyboard moves a
logit; a release updates the URL and the code panel, and a link opens the view where it was left."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.e2e import harness
from tests.e2e.scrub_driver import LESSONS, loss_expected, matches_engine, shown, slider_range, thumb_x, view

pytestmark = pytest.mark.e2e

KEY = LESSONS["losses"].key  # the softmax view (the sigmoid view is above it: test_scrub_sigmoid.py)
DEFAULTS = {"logit0": 20, "logit1": 10, "logit2": 5, "logit3": -10, "smoothing": 0}  # whole steps: 2.0 is 20


def open_losses(tab: Page, base_url: str, query: str = "") -> None:
    harness.open_app(tab, f"{base_url}{LESSONS['losses'].path}{query}")
    view(tab, KEY).locator(".scrub-metric").first.wait_for()


def url_value(tab: Page, key: str) -> str | None:
    return tab.evaluate("(key) => new URL(location.href).searchParams.get(key)", key)


@pytest.mark.parametrize("name", ["logit1", "logit3", "smoothing"])
def test_dragging_a_slider_shows_torchs_numbers_at_every_position(tab, app_server, name):
    open_losses(tab, app_server.url)
    low, high = slider_range(tab, name, KEY)
    step = 5 if name == "smoothing" else 1
    default = DEFAULTS[name]
    tab.mouse.move(*thumb_x(tab, name, default, KEY))
    tab.mouse.down()
    runs = harness.runs(tab)
    middle = low + (high - low) // (2 * step) * step
    for value in sorted({high, low, middle, low + step, high - step, default}, key=lambda v: abs(v - default)):
        tab.mouse.move(*thumb_x(tab, name, value, KEY), steps=3)
        seen = shown(tab, KEY)
        assert seen["values"][name] == value
        assert matches_engine(seen, "losses"), (seen, loss_expected(seen["values"]))
    assert harness.runs(tab) == runs  # no rerun while the pointer is held
    with harness.rerun(tab):
        tab.mouse.up()
    want = None if value == default else loss_expected(shown(tab, KEY)["values"])["texts"][name].replace("−", "-")
    assert url_value(tab, f"loss.{name}") in (want, None if want is None else f"{float(want):g}")
    assert shown(tab, KEY)["values"][name] == value and matches_engine(shown(tab, KEY), "losses")


def test_keyboard_moves_a_logit_and_a_release_goes_to_the_url_and_a_link(tab, app_server):
    open_losses(tab, app_server.url)
    logit = view(tab, KEY).locator('input[name="logit2"]')
    logit.focus()
    with harness.rerun(tab):
        logit.press("ArrowRight")  # 0.5 -> 0.6
    seen = shown(tab, KEY)
    assert seen["values"]["logit2"] == 6 and matches_engine(seen, "losses")
    assert logit.get_attribute("aria-valuetext") == "0.6" and url_value(tab, "loss.logit2") == "0.6"
    code = tab.locator(f'{harness.MAIN} [data-testid="stExpander"]').filter(has=tab.locator('[data-testid="stCode"]'))
    code.locator("summary").click()
    assert "[[2.0, 1.0, 0.6, -1.0]]" in code.locator('[data-testid="stCode"]').text_content()
    with harness.rerun(tab):
        logit.press("Home")  # the low end: -5.0
    assert url_value(tab, "loss.logit2") == "-5" and matches_engine(shown(tab, KEY), "losses")
    open_losses(tab, app_server.url, "?loss.logit0=-1.5&loss.smoothing=0.25")  # a link restores the view
    seen = shown(tab, KEY)
    assert seen["values"] | {} == {**DEFAULTS, "logit0": -15, "smoothing": 25}
    assert seen["texts"]["logit0"] == "−1.5" and seen["texts"]["smoothing"] == "0.25"
    assert matches_engine(seen, "losses")
