"""Pooling's scrubbing view in chromium: the grids, the window and the formula follow the pointer with
torch's numbers (F.max_pool2d) at every position; the marks really outline the window and its winner;
the keyboard moves the selected cell; a release updates the URL, the code panel and the backward pass."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from playwright.sync_api import Page

from cnnviz import codegen, i18n, pooling
from tests.e2e import harness
from tests.e2e.scrub_driver import (
    POOL_SEED,
    drag_through,
    ends_and_middle,
    matches_engine,
    open_lesson,
    placed,
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


#: The backward pass as the browser shows it: the routed gradient's numbers (tooltips), the cells outlined
#: amber and black on it (its window, its winner: computed styles) and amber on the upstream gradient.
BACKWARD_JS = """(place) => {
  const rows = (selector) => [...place.querySelectorAll(selector + ' tbody > tr')].map((tr) => [...tr.children]);
  const shadows = (selector, colour) => rows(selector).flatMap((row, r) => row.map((td, c) =>
    getComputedStyle(td).boxShadow.includes(colour) ? [r, c] : null)).filter(Boolean);
  return { routed: rows('.pool-routed').map((row) => row.map((td) => td.title.split(': ')[1])),
           window: shadows('.pool-routed', 'rgb(245, 158, 11)'), winner: shadows('.pool-routed', 'rgb(0, 0, 0)'),
           upstream: shadows('.pool-upstream', 'rgb(245, 158, 11)') };
}"""


def pool_code(values: dict[str, int]) -> str | None:
    """The code the engine writes for the view's values (max pooling on the random grid), None when no window fits."""
    n, k, s, p = (values[name] for name in ("grid.size", "kernel", "stride", "padding"))
    try:
        return codegen.pool2d((1, n, n), "max", k, s, p, values=pooling.random_grid(n, POOL_SEED))
    except ValueError:
        return None


def routed_by_torch(values: dict[str, int]) -> np.ndarray:
    """Autograd's gradient at the input of F.max_pool2d when all ones arrive at its output."""
    x = torch.tensor(pooling.random_grid(values["grid.size"], POOL_SEED), requires_grad=True)
    F.max_pool2d(x[None, None], values["kernel"], values["stride"], values["padding"]).sum().backward()
    return x.grad.numpy()


@pytest.mark.parametrize("name", ["kernel", "cell"])
def test_the_code_and_the_backward_pass_follow_the_pointer(tab, app_server, name):
    open_pool(tab, app_server.url, "?pool.stride=1" if name == "cell" else "")
    code_place, backward_place = placed(tab, "pool.scrub", "code"), placed(tab, "pool.scrub", "backward")
    runs = harness.runs(tab)

    def places_follow(seen: dict) -> None:  # the code panel is collapsed: its text is there all the same
        values, want = seen["values"], pool_expected(seen["values"])
        code = pool_code(values)
        if code is None:
            assert want["output"] is None and "no layer to run" in code_place.inner_text()
            assert "no gradient comes back" in backward_place.inner_text()
            return
        assert code_place.locator(".cnnviz-code code").text_content() == code
        drawn = backward_place.evaluate(BACKWARD_JS)
        p, n = values["padding"], values["grid.size"]
        routed = np.array([[float(v) if v else 0.0 for v in row] for row in drawn["routed"]])[p : p + n, p : p + n]
        assert np.allclose(routed, routed_by_torch(values), atol=1e-5)
        (winner,) = map(tuple, drawn["winner"])
        assert sorted({*map(tuple, drawn["window"]), winner}) == want["window"]  # its winner drawn black over amber
        assert drawn["upstream"] == [list(want["cell"])]

    places_follow(shown(tab))
    drag_through(tab, "pooling", name, ends_and_middle(tab, "pooling", name), also=places_follow)
    assert harness.runs(tab) == runs + 1  # the release alone


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


def image_size(tab: Page, when: str = "Before") -> tuple[int, int]:
    """The image section's map size before or after pooling, as its caption writes it ("Before pooling: 43 × 64")."""
    caption = tab.locator(harness.MAIN).get_by_text(f"{when} pooling:").first.inner_text()
    return tuple(int(n) for n in caption.split(":")[1].split("×"))


def test_keyboard_and_release_update_the_url_the_code_and_the_backward_pass(tab, app_server):
    open_pool(tab, app_server.url)
    height, width = image_size(tab)
    assert image_size(tab, "After") == (height // 2, width // 2)  # the default 2 x 2 windows, stride 2
    seen = press(tab, "pooling", "kernel", "ArrowRight")  # window 3, stride 2: (6 - 3) // 2 + 1 = 2 per side
    # The image section follows the window (its own fragment, rerun with the view's by the release).
    tab.wait_for_function(
        "(want) => document.querySelector('[data-testid=stMain]').innerText.includes(want)",
        arg=f"After pooling: {(height - 3) // 2 + 1} × {(width - 3) // 2 + 1}",
    )
    kernel = view(tab).locator('input[name="kernel"]')
    assert seen["values"]["kernel"] == 3 and matches_engine(seen, "pooling")
    assert "pool.kernel=3" in tab.url
    assert kernel.get_attribute("aria-valuetext") == "3"
    assert "window" in kernel.get_attribute("aria-description")  # the help, read with the label
    assert view(tab).locator('.scrub-slider[data-name="kernel"] .scrub-help').get_attribute("title")
    assert slider_range(tab, "cell") == (1, 4)  # the cell slider now spans 2 x 2 windows
    tab.get_by_text(i18n.translate("ui.code", "en")).click()  # open the code panel: the view's place "code"
    code = placed(tab, "pool.scrub", "code").locator(".cnnviz-code code")
    assert code.is_visible() and "nn.MaxPool2d(3, stride=2)" in code.text_content()
    seen = press(tab, "pooling", "cell", "End")
    assert "pool.cell=4" in tab.url and matches_engine(seen, "pooling")
    # The backward pass follows: its upstream grid outlines the same cell (row 2, column 2).
    assert placed(tab, "pool.scrub", "backward").evaluate(BACKWARD_JS)["upstream"] == [[1, 1]]
