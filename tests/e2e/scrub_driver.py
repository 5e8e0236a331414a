"""Driving a scrubbing view (``cnnviz/frontend/scrub_view.js``) in chromium, and reading what it shows.

Shared by the browser tests (``test_scrub.py``) and the drag benchmark (``bench/drag.py``).
A view is ``.scrub-view``; its sliders are ``<input type=range name=...>``; the frame on
show is in its slots. ``shown`` reads the numbers a student sees; ``expected`` asks the
engine what they must be for a setting.
"""

from __future__ import annotations

from playwright.sync_api import Page

from cnnviz import arithmetic
from cnnviz.arithmetic import SizeError
from cnnviz.drawing.output_size_view import SIZE_SLIDERS

VIEW = ".scrub-view"
THUMB_PX = 16  # chromium's range thumb: its centre runs from 8 px to width - 8 px

READ_JS = """
(view) => {
  const values = {};
  for (const input of view.querySelectorAll('input[type=range]')) values[input.name] = input.valueAsNumber;
  const metric = view.querySelector('.scrub-metric-value');
  const annotation = view.querySelector('annotation');
  return { values, out: metric ? metric.dataset.value : null,
           outputs: view.querySelectorAll('g.output').length,
           latex: annotation ? annotation.textContent : null,
           pending: view.classList.contains('scrub-pending') };
}
"""


def view(page: Page):
    return page.locator(VIEW).first


def shown(page: Page) -> dict:
    """What the view shows: its sliders' values, the output size, how many outputs are drawn, the formula."""
    return view(page).evaluate(READ_JS)


def expected(values: dict[str, int]) -> dict:
    """What the engine says the Output size view must show for ``values``."""
    args = (values["input"], values["kernel"], values["stride"], values["padding"], values["dilation"])
    try:
        out = arithmetic.conv_output_size(*args)
    except SizeError:
        out = None
    return {"out": "" if out is None else str(out), "outputs": out or 0, "latex": arithmetic.conv_formula_latex(*args)}


def matches_engine(seen: dict) -> bool:
    return not seen["pending"] and {key: seen[key] for key in ("out", "outputs", "latex")} == expected(seen["values"])


def thumb_x(page: Page, name: str, value: int) -> tuple[float, float]:
    """The screen point where slider ``name``'s thumb sits at ``value``."""
    box = view(page).locator(f'input[name="{name}"]').bounding_box()
    low, high, _ = SIZE_SLIDERS[name]
    fraction = (value - low) / (high - low)
    return box["x"] + THUMB_PX / 2 + fraction * (box["width"] - THUMB_PX), box["y"] + box["height"] / 2
