"""Clicking a pixel in chromium: the Convolution lesson's output (the window and the sum follow,
the URL keeps it) and a feature map (its receptive field is drawn on the input). The Convolution
lesson's pictures are in its scrubbing view (``conv.scrub``), whose frames draw the click view's figures."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e import harness

pytestmark = pytest.mark.e2e


def frame(tab: Page, key: str):
    """The first picture of the click view (or scrubbing view) with widget key ``key``."""
    return tab.locator(f'[class*="st-key-{key.replace(".", "-")}"] .click-frame').first


def click_pixel(tab: Page, key: str, row: int, col: int) -> tuple[int, int]:
    """Click near the middle of picture pixel (row, col), as a user does, and wait for the rerun.

    Returns:
        The pixel under the click: chromium rounds a mouse event to whole CSS pixels, and a
        photo's pixel is about one CSS pixel on screen, so it can be a neighbour of (row, col).
    """
    target = frame(tab, key)
    target.wait_for()
    target.scroll_into_view_if_needed()  # a click lands where the window shows
    rows, cols = int(target.get_attribute("data-rows")), int(target.get_attribute("data-cols"))
    box = target.bounding_box()
    x = round(box["x"] + (col + 0.5) * box["width"] / cols)
    y = round(box["y"] + (row + 0.5) * box["height"] / rows)
    with harness.rerun(tab):
        tab.mouse.click(x, y)
    return int((y - box["y"]) / box["height"] * rows), int((x - box["x"]) / box["width"] * cols)


def test_clicking_the_output_shows_that_pixels_window_and_sum(tab, app_server):
    harness.open_app(tab, f"{app_server.url}/convolution?conv.stride=2&conv.padding=1")
    row, col = click_pixel(tab, "conv.scrub", 40, 100)
    assert abs(row - 40) <= 1 and abs(col - 100) <= 1
    assert f"conv.pixel={row}%2C{col}%2C0" in tab.url
    assert f"row {row}, column {col}" in tab.locator(harness.MAIN).inner_text()
    expect(frame(tab, "conv.scrub")).to_have_attribute("data-at", f"{row},{col}")  # the view's new frame
    # The window drawn on the input: stride 2, so it starts at padded pixel (2 row, 2 col), 3 x 3.
    rect = tab.locator('.st-key-conv-scrub .conv-marks rect[stroke="#facc15"]:not([stroke-dasharray])').first
    assert [rect.get_attribute(name) for name in ("x", "y", "width")] == [str(2 * col), str(2 * row), "3"]
    assert not harness.error_texts(tab)
    # A link opens on the same pixel; the arrow keys move it.
    harness.open_app(tab, tab.url)
    assert f"row {row}, column {col}" in tab.locator(harness.MAIN).inner_text()
    frame(tab, "conv.scrub").focus()
    with harness.rerun(tab):
        tab.keyboard.press("ArrowRight")
    assert f"row {row}, column {col + 1}" in tab.locator(harness.MAIN).inner_text()


def test_clicking_a_feature_map_draws_that_positions_receptive_field(tab, app_server):
    harness.open_app(tab, f"{app_server.url}/feature_maps?fmap.layer=features.3")
    row, col = click_pixel(tab, "fmap.field_click", 9, 9)
    assert (row, col) == (9, 9)  # a 10 x 10 map: each position is many screen pixels wide
    assert "fmap.pixel=9%2C9" in tab.url
    field = tab.locator('[class*="st-key-fmap-field_click"] rect[stroke="#22d3ee"]').first
    assert [field.get_attribute(name) for name in ("x", "y", "width", "height")] == ["16", "16", "12", "12"]
    assert "input rows 16–27 and columns 16–27" in tab.locator(harness.MAIN).inner_text()
    assert not harness.error_texts(tab)
