"""The browser side of the app's custom components: plain JavaScript and CSS files, no build step.

- ``scrub_logic.js``: what a scrubbing view decides (which frame a value shows), testable
  with ``node --test tests/frontend/``.
- ``scrub_view.js``: the scrubbing view's DOM (sliders, slots), on top of the logic.
- ``scrub_view.css``: its look.

``st.components.v2`` takes inline JavaScript as one ES module, so ``scrub_view_js`` joins
the logic and the view into one module (the logic's ``export`` keywords dropped: only
the view's ``export default`` remains).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

FRONTEND_DIR = Path(__file__).resolve().parent


def _read(name: str) -> str:
    return (FRONTEND_DIR / name).read_text(encoding="utf-8")


@functools.cache
def scrub_view_js() -> str:
    """The scrubbing view's module: scrub_logic.js's functions, then scrub_view.js."""
    logic = re.sub(r"^export (?=(async )?function|const)", "", _read("scrub_logic.js"), flags=re.M)
    return f"{logic}\n{_read('scrub_view.js')}"


@functools.cache
def scrub_view_css() -> str:
    return _read("scrub_view.css")
