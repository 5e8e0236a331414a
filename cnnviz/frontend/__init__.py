"""The browser side of the app's custom components: plain JavaScript and CSS files, no build step.

- ``scrub_logic.js``: what a scrubbing view decides (which frame a value shows), testable
  with ``node --test tests/frontend/``.
- ``scrub_view.js``: the scrubbing view's DOM (sliders, slots), on top of the logic.
- ``scrub_view.css``: its look.
- ``click_logic.js``, ``click_view.js``, ``click_view.css``: pictures that report the pixel
  clicked (``pages/click_view.py``), the same three parts. A scrubbing view's frame may hold
  such pictures too (Convolution on the photo): its module and CSS include the click view's logic
  and look.

``st.components.v2`` takes inline JavaScript as one ES module, so ``scrub_view_js`` and
``click_view_js`` join the logic and the view into one module (the logic's ``export``
keywords dropped: only the view's ``export default`` remains).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

FRONTEND_DIR = Path(__file__).resolve().parent


def _read(name: str) -> str:
    return (FRONTEND_DIR / name).read_text(encoding="utf-8")


def _module(*files: str) -> str:
    """One ES module: the logic files' functions (``export`` dropped), then the view (the last file)."""
    *logic, view = files
    functions = [re.sub(r"^export (?=(async )?function|const)", "", _read(name), flags=re.M) for name in logic]
    return "\n".join([*functions, _read(view)])


@functools.cache
def scrub_view_js() -> str:
    """The scrubbing view's module: click_logic.js's and scrub_logic.js's functions, then scrub_view.js."""
    return _module("click_logic.js", "scrub_logic.js", "scrub_view.js")


@functools.cache
def click_view_js() -> str:
    """The click view's module: click_logic.js's functions, then click_view.js."""
    return _module("click_logic.js", "click_view.js")


@functools.cache
def click_view_css() -> str:
    return _read("click_view.css")


@functools.cache
def scrub_view_css() -> str:
    """The scrubbing view's look, with the click view's (for clickable pictures in its frames)."""
    return f"{_read('click_view.css')}\n{_read('scrub_view.css')}"
