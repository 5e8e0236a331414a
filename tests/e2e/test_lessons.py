"""What only a browser shows on the lessons: numbers big enough to read on a projector, wide
matrices that scroll, a chart marker drawn whole, a canvas stroke that starts anywhere.

Screenshots go to ``tests/e2e/screenshots/`` (``lessons-*.png``) for people to look at.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.e2e import harness

pytestmark = pytest.mark.e2e

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
SIZES = ({"width": 1024, "height": 768}, {"width": 1280, "height": 720})
#: The smallest font size a number in a grid may have, in CSS pixels.
MIN_FONT_PX = 12

# Every grid cell that shows a number: its computed font size, and whether its text fits the cell.
GRID_CELLS_JS = """
() => [...document.querySelectorAll('.cnnviz-grid td')].filter(td => td.textContent.trim()).map(td => ({
  text: td.textContent, font: parseFloat(getComputedStyle(td).fontSize),
  rendered: td.getBoundingClientRect().width / td.offsetWidth * parseFloat(getComputedStyle(td).fontSize),
  fits: td.scrollWidth <= td.clientWidth,
}))
"""
# The im2col block: does its content overflow, and can the user scroll it sideways?
IM2COL_JS = """
() => {
  const grid = [...document.querySelectorAll('.cnnviz-grid figcaption')]
    .find(caption => caption.textContent.startsWith('Windows as columns'));
  let box = grid.closest('figure').parentElement;
  while (box && getComputedStyle(box).overflowX !== 'auto') box = box.parentElement;
  return {overflows: box.scrollWidth > box.clientWidth, width: box.clientWidth};
}
"""


@pytest.mark.parametrize("viewport", SIZES, ids=lambda size: f"{size['width']}x{size['height']}")
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_step_by_step_numbers_stay_readable_and_im2col_scrolls(tab: Page, app_server, viewport, lang):
    tab.set_viewport_size(viewport)
    harness.open_app(tab, f"{app_server.url}/conv_steps?steps.size=10&steps.padding=3&lang={lang}")
    tab.locator(".scrub-view .steps-output td").first.wait_for()  # the view's grids, drawn by its script
    assert harness.error_texts(tab) == []
    cells = tab.evaluate(GRID_CELLS_JS)
    assert len(cells) > 300  # input, kernel, products, output, im2col
    too_small = [cell for cell in cells if min(cell["font"], cell["rendered"]) < MIN_FONT_PX]
    assert not too_small, too_small[:5]
    assert all(cell["fits"] for cell in cells), [cell for cell in cells if not cell["fits"]][:5]
    if lang == "en":
        assert tab.evaluate(IM2COL_JS)["overflows"]
    SCREENSHOTS.mkdir(exist_ok=True)
    tab.screenshot(path=SCREENSHOTS / f"lessons-conv_steps-{lang}-{viewport['width']}.png", full_page=True)


def test_a_stroke_begun_in_the_drawing_squares_top_right_corner_is_drawn(tab: Page, app_server):
    """The canvas's toolbar, invisible until hovered, lay over the top right corner and ate the first stroke."""
    harness.open_app(tab, f"{app_server.url}/feature_maps?fmap.source=draw")
    canvas = tab.locator(f"{harness.MAIN} canvas").first
    box = canvas.bounding_box()
    band = box["height"] - box["width"]  # above the square drawing area, if the page leaves one
    x, y = box["x"] + box["width"] - 30, box["y"] + band + 8
    with harness.rerun(tab, timeout=20):  # the stroke reaches the server: a rerun
        tab.mouse.move(x, y)
        tab.mouse.down()
        for step in range(1, 15):
            tab.mouse.move(x - 8 * step, y + 10 * step)
        tab.mouse.up()
    assert harness.error_texts(tab) == []
    assert tab.locator(f"{harness.MAIN} img").count() > 0  # the drawn digit fed to the network, and its maps
    SCREENSHOTS.mkdir(exist_ok=True)
    tab.screenshot(path=SCREENSHOTS / "lessons-feature_maps-drawn.png")
