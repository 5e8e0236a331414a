"""Step by step's scrubbing view in chromium: the window, the sum and the output follow the pointer
with torch's numbers at every position; the marks really outline the taps; the keyboard moves
the output cell; the code panel and the im2col panel (places) follow the pointer too."""

from __future__ import annotations

import numpy as np
import pytest
from playwright.sync_api import Page

from cnnviz import codegen, convolution, i18n, kernels
from tests.e2e import harness
from tests.e2e.scrub_driver import (
    STEPS_KERNEL,
    STEPS_SEED,
    drag_through,
    ends_and_middle,
    matches_engine,
    open_lesson,
    placed,
    press,
    shown,
    slider_range,
    steps_expected,
    thumb_x,
    view,
)

pytestmark = pytest.mark.e2e

DEFAULTS = {"size": 6, "stride": 1, "padding": 1, "dilation": 1, "position": 1}
AMBER = "rgb(245, 158, 11)"


def open_steps(tab: Page, base_url: str, query: str = "") -> None:
    open_lesson(tab, base_url, "conv_steps", query)


@pytest.mark.parametrize("name", list(DEFAULTS))
def test_dragging_each_slider_shows_torchs_numbers_at_every_position(tab, app_server, name):
    open_steps(tab, app_server.url)
    drag_through(tab, "conv_steps", name, ends_and_middle(tab, "conv_steps", name))


def code_for(values: dict[str, int]) -> str | None:
    """The code the engine writes for the sliders' values (None when no window fits)."""
    grid, kernel = convolution.random_grid(values["size"], STEPS_SEED), kernels.preset(STEPS_KERNEL)
    try:
        return codegen.conv2d_on_grid(grid, kernel, values["stride"], values["padding"], values["dilation"])
    except ValueError:
        return None


def im2col_shown(tab: Page) -> dict:
    """The im2col place as drawn: its grids' titles and numbers, the amber cells' columns, the note."""
    return placed(tab, "steps.scrub", "im2col").evaluate(
        """(place) => {
          const grid = (selector) => [...place.querySelectorAll(selector + ' tbody > tr')]
            .map((tr) => [...tr.children].map((td) => Number(td.title.split(': ')[1])));
          const amber = (selector) => [...place.querySelectorAll(selector + ' tbody > tr')].flatMap((tr) =>
            [...tr.children].flatMap((td, col) => getComputedStyle(td).boxShadow.includes('245, 158, 11') ? [col] : []));
          return { columns: grid('.steps-columns'), outrow: grid('.steps-outrow'),
                   amber: [amber('.steps-columns'), amber('.steps-outrow')],
                   note: (place.querySelector('.scrub-slot-7') || {}).textContent || '' };
        }"""
    )  # fmt: skip


def test_the_code_and_im2col_follow_the_grid_size_and_the_cell_under_the_pointer(tab, app_server):
    open_steps(tab, app_server.url)
    code_place = placed(tab, "steps.scrub", "code")
    runs = harness.runs(tab)

    def code_follows(seen: dict) -> None:  # the code panel (collapsed: its text is there all the same)
        code = code_for(seen["values"])
        assert code is not None and code_place.locator(".cnnviz-code code").text_content() == code

    def im2col_follows(seen: dict) -> None:
        want = steps_expected(seen["values"])
        drawn = im2col_shown(tab)
        out = np.array(drawn["outrow"]).reshape(want["shape"])
        assert len(drawn["columns"]) == 9 and len(drawn["columns"][0]) == want["total"]
        row, col = divmod(want["position"] - 1, want["shape"][1])
        assert np.isclose(out[row, col], want["sum"], atol=1e-5)
        assert drawn["amber"] == [[want["position"] - 1] * 9, [want["position"] - 1]]  # the column, the output cell
        assert f"Output cell {want['position']} = the kernel row times column {want['position']}" in drawn["note"]

    code_follows(shown(tab))
    drag_through(tab, "conv_steps", "size", ends_and_middle(tab, "conv_steps", "size"),
                 also=lambda seen: (code_follows(seen), im2col_follows(seen)))  # fmt: skip
    drag_through(tab, "conv_steps", "position", ends_and_middle(tab, "conv_steps", "position"), also=im2col_follows)
    assert harness.runs(tab) == runs + 2  # the releases alone
    tab.mouse.move(*thumb_x(tab, "dilation", 1))
    tab.mouse.down()
    tab.mouse.move(*thumb_x(tab, "dilation", 3), steps=3)  # no window fits: no code, no matrix
    if code_for(shown(tab)["values"]) is None:
        assert code_place.inner_text() == i18n.translate("steps.code.no_output", "en")
        assert im2col_shown(tab)["columns"] == []
    with harness.rerun(tab):
        tab.mouse.up()


def test_the_marks_outline_the_taps_and_blank_the_cells_not_yet_computed(tab, app_server):
    open_steps(tab, app_server.url, "&steps.dilation=2")
    position = view(tab).locator('input[name="position"]')
    position.focus()
    for _ in range(5):
        position.press("ArrowRight")  # to cell 6 of 16, before any rerun answers
    seen = shown(tab)
    want = steps_expected(seen["values"])
    assert seen["values"]["position"] == 6 and matches_engine(seen, "conv_steps")
    looks = tab.evaluate(
        """() => {
          const rows = (selector) => [...document.querySelectorAll(selector + ' tbody > tr')]
            .map((tr) => [...tr.children].map((td) => getComputedStyle(td)));
          return { input: rows('.steps-input').map((r) => r.map((s) => s.boxShadow)),
                   output: rows('.steps-output').map((r) => r.map((s) => [s.boxShadow, s.color, s.backgroundImage, s.backgroundColor])) };
        }"""
    )  # fmt: skip
    outlined = sorted((r, c) for r, row in enumerate(looks["input"]) for c, shadow in enumerate(row) if AMBER in shadow)
    assert outlined == want["taps"]  # the taps of cell 6: 2 apart (dilation 2)
    cells = [cell for row in looks["output"] for cell in row]
    assert AMBER in cells[5][0]  # the current cell
    assert all(color == "rgba(0, 0, 0, 0)" for _, color, _, _ in cells[6:])  # not computed yet: blank
    assert all(color != "rgba(0, 0, 0, 0)" for _, color, _, _ in cells[:6])
    assert all(background == "rgba(0, 0, 0, 0)" for *_, background in cells[6:])


def test_keyboard_and_release_update_the_url_the_code_and_im2col(tab, app_server):
    open_steps(tab, app_server.url)
    seen = press(tab, "conv_steps", "stride", "ArrowRight")  # stride 2: (6 + 2 - 3) // 2 + 1 = 3 per side
    assert seen["values"]["stride"] == 2 and matches_engine(seen, "conv_steps")
    assert "steps.stride=2" in tab.url
    assert view(tab).locator('input[name="stride"]').get_attribute("aria-valuetext") == "2"
    assert slider_range(tab, "position") == (1, 9)  # the output cell slider now spans 3 x 3 cells
    tab.locator('[data-testid="stExpander"] summary').first.click()
    assert "stride=2" in placed(tab, "steps.scrub", "code").locator("code").text_content()
    seen = press(tab, "conv_steps", "position", "End")
    assert "steps.position=9" in tab.url and matches_engine(seen, "conv_steps")
    assert "Output cell 9 = the kernel row times column 9" in tab.locator(harness.MAIN).inner_text()


def test_an_impossible_geometry_says_why_while_dragging_and_offers_a_fix_on_release(tab, app_server):
    open_steps(tab, app_server.url, "&steps.size=4&steps.padding=0")
    tab.mouse.move(*thumb_x(tab, "dilation", 1))
    tab.mouse.down()
    tab.mouse.move(*thumb_x(tab, "dilation", 3), steps=3)  # span 7 on 4 numbers
    assert "No output with these settings." in view(tab).inner_text() and matches_engine(shown(tab), "conv_steps")
    with harness.rerun(tab):
        tab.mouse.up()
    with harness.rerun(tab):
        tab.locator(".st-key-steps-use_padding button").click()
    seen = shown(tab)
    assert seen["values"]["padding"] == 2 and seen["values"]["dilation"] == 3 and matches_engine(seen, "conv_steps")
