"""Pooling's scrubbing view in chromium: the grids, the window and the formula follow the pointer with
torch's numbers (F.max_pool2d) at every position; the marks really outline the window and its winner;
the keyboard moves the selected cell; a release updates the URL, the code panel and the backward pass."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.e2e.scrub_driver import (
    drag_through,
    ends_and_middle,
    matches_engine,
    open_lesson,
    pool_expected,
    press,
    shown,
    slider_range,
    view,
)

pytestmark = pytest.mark.e2e

DEFAULTS = {"grid.size": 6, "kernel": 2, "stride": 2, "padding": 0, "cell": 1}
AMBER = "rgb(245, 158, 11)"


def open_pool(tab: Page, base_url: str, query: str = "") -> None:
    open_lesson(tab, base_url, "pooling", query)


@pytest.mark.parametrize("name", list(DEFAULTS))
def test_dragging_each_slider_shows_torchs_numbers_at_every_position(tab, app_server, name):
    open_pool(tab, app_server.url, "?pool.stride=1" if name == "cell" else "")  # 25 cells to drag over
    drag_through(tab, "pooling", name, ends_and_middle(tab, "pooling", name))


def test_the_marks_outline_the_window_and_its_winner(tab, app_server):
    open_pool(tab, app_server.url, "?pool.kernel=3&pool.stride=1")
    cell = view(tab).locator('input[name="cell"]')
    cell.focus()
    for _ in range(5):
        cell.press("ArrowRight")  # to cell 6 of 16 (row 2, column 2), before any rerun answers
    seen = shown(tab)
    want = pool_expected(seen["values"])
    assert seen["values"]["cell"] == 6 and matches_engine(seen, "pooling")
    looks = tab.evaluate(
        """() => {
          const rows = (selector) => [...document.querySelectorAll(selector + ' tbody > tr')]
            .map((tr) => [...tr.children].map((td) => getComputedStyle(td).boxShadow));
          return { input: rows('.pool-input'), output: rows('.pool-output') };
        }"""
    )  # fmt: skip
    amber = sorted((r, c) for r, row in enumerate(looks["input"]) for c, shadow in enumerate(row) if AMBER in shadow)
    black = [(r, c) for r, row in enumerate(looks["input"]) for c, shadow in enumerate(row) if "rgb(0, 0, 0)" in shadow]
    (winner,) = black
    assert sorted({*amber, winner}) == want["window"]  # the window (its winner drawn black over amber)
    grid = [[float(td.split(": ")[1]) for td in row] for row in tab.evaluate(
        "() => [...document.querySelectorAll('.pool-input tr')].map((tr) => [...tr.children].map((td) => td.title))")]  # fmt: skip
    assert grid[winner[0]][winner[1]] == want["output"][want["cell"]]  # the winner holds the window's maximum
    outlined = [(r, c) for r, row in enumerate(looks["output"]) for c, shadow in enumerate(row) if AMBER in shadow]
    assert outlined == [want["cell"]]


def test_keyboard_and_release_update_the_url_the_code_and_the_backward_pass(tab, app_server):
    open_pool(tab, app_server.url)
    seen = press(tab, "pooling", "kernel", "ArrowRight")  # window 3, stride 2: (6 - 3) // 2 + 1 = 2 per side
    kernel = view(tab).locator('input[name="kernel"]')
    assert seen["values"]["kernel"] == 3 and matches_engine(seen, "pooling")
    assert "pool.kernel=3" in tab.url
    assert kernel.get_attribute("aria-valuetext") == "3"
    assert "window" in kernel.get_attribute("aria-description")  # the help, read with the label
    assert view(tab).locator('.scrub-slider[data-name="kernel"] .scrub-help').get_attribute("title")
    assert slider_range(tab, "cell") == (1, 4)  # the cell slider now spans 2 x 2 windows
    tab.locator('[data-testid="stExpander"] summary').first.click()
    assert "nn.MaxPool2d(3, stride=2)" in tab.locator('[data-testid="stCode"]').first.text_content()
    seen = press(tab, "pooling", "cell", "End")
    assert "pool.cell=4" in tab.url and matches_engine(seen, "pooling")
    # The backward pass follows the release: its upstream grid outlines the same cell (row 2, column 2).
    outlined = tab.evaluate(
        """() => { const grids = [...document.querySelectorAll('[data-testid="stMain"] figure.cnnviz-grid')]
                     .filter((figure) => !figure.closest('.scrub-view'));
                   return [...grids[1].querySelectorAll('td')].map((td, i) => td.classList.contains('window') ? i : -1)
                     .filter((i) => i >= 0); }"""
    )  # fmt: skip
    assert outlined == [3]
