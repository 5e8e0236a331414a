"""What the browser tests and benchmarks know about the app's pages, and how to move their controls.

The pages come from ``pages/registry.py`` (read at import time, so a lesson added
there is tested without editing this file) plus the home page. Each page's main
control is its first slider unless ``MAIN_CONTROLS`` says otherwise; a page that shows
the sidebar's image only in some mode names the URL settings of that mode in
``IMAGE_MODES``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from playwright.sync_api import Locator, Page

from pages.registry import LESSONS
from tests.e2e import harness

ControlKind = Literal["slider", "selectbox", "radio", "segmented", "checkbox", "button"]


@dataclass(frozen=True)
class Control:
    """A page's main control: a CSS selector inside the main area and the kind of widget it is.

    Streamlit 1.67 gives a keyed widget's container the class ``st-key-<key>``, with
    dots in the key turned into dashes: key ``"pool.mode"`` is ``.st-key-pool-mode``.
    """

    selector: str
    kind: ControlKind = "slider"


FIRST_SLIDER = Control('[data-testid="stSlider"]')
SLIDER_THUMB = 'input[type="range"]'

#: Pages whose main control is not their first slider; None for a page with no control.
MAIN_CONTROLS: dict[str, Control | None] = {
    "home": None,
    # Its sliders only matter once a run starts; the data set changes the layer table at once.
    "training": Control(".st-key-train-data", "segmented"),
    # Shows nothing computed until Run is pressed (an optimisation, not a live view).
    "filter_viz": Control(".st-key-fviz-run", "button"),
    # Their sliders are a scrubbing view's own <input type=range> (pages/scrub_view.py).
    "output_size": Control(".scrub-view", "slider"),
    "conv_steps": Control(".scrub-view", "slider"),
    "pooling": Control(".scrub-view", "slider"),
    "activations": Control(".scrub-view", "slider"),
    "convolution": Control(".scrub-view", "slider"),
}

#: URL settings (a query string) that make a page compute on the sidebar's image, for
#: pages whose default input is something else.
IMAGE_MODES: dict[str, str] = {
    "feature_maps": "fmap.source=sidebar",  # the default input is a held-out digit
}


@dataclass(frozen=True)
class AppPage:
    """One page of the app as a browser reaches it."""

    slug: str
    url_path: str  # "" for the home page
    script: str  # path from the repository root

    @property
    def control(self) -> Control | None:
        return MAIN_CONTROLS.get(self.slug, FIRST_SLIDER)

    @property
    def uses_image(self) -> bool:
        """Whether the page computes on the sidebar's image, so an upload must change its output."""
        return "current_image(" in (harness.ROOT / self.script).read_text(encoding="utf-8")

    @property
    def image_mode(self) -> str:
        """The query string (maybe empty) under which the page shows the sidebar's image."""
        return IMAGE_MODES.get(self.slug, "")


HOME = AppPage("home", "", "pages/home.py")
PAGES: tuple[AppPage, ...] = (HOME, *(AppPage(lesson.slug, lesson.slug, lesson.script) for lesson in LESSONS))


def control_locator(page: Page, control: Control) -> Locator:
    """The control's widget in the main area (the first match)."""
    return page.locator(harness.MAIN).locator(control.selector).first


def move_control(page: Page, control: Control, timeout: float = 60.0) -> tuple[str, str]:
    """Change the control by one step and wait for the rerun it causes.

    Returns:
        The main area's ``harness.fingerprint`` before and after, without the control's
        own element (its label shows the new value, which is no change of output).
    """
    widget = control_locator(page, control)
    widget.wait_for(state="visible")
    widget.evaluate(
        "(element) => (element.closest('[data-testid=\"stElementContainer\"]') || element)"
        ".setAttribute('data-e2e-ignore', '')"
    )
    before = harness.fingerprint(page)
    with harness.rerun(page, timeout):
        if control.kind == "slider":
            # Streamlit 1.67's slider thumb is a visually hidden <input type="range">.
            thumb = widget.locator(SLIDER_THUMB).first
            at_end = thumb.evaluate("(input) => Number(input.value) >= Number(input.max)")
            thumb.press("ArrowLeft" if at_end else "ArrowRight")
        elif control.kind == "selectbox":
            widget.locator('[role="combobox"], input').first.click()
            page.locator('[role="option"]:not([aria-selected="true"])').first.click()
        elif control.kind == "radio":
            widget.locator("label:has(input:not(:checked))").first.click()
        elif control.kind == "segmented":  # st.segmented_control and st.pills
            widget.locator('button[aria-checked="false"]').first.click()
        elif control.kind == "checkbox":
            widget.locator("label").first.click()
        elif control.kind == "button":
            widget.locator("button").first.click()
        else:
            raise ValueError(f"Unknown control kind {control.kind!r}.")
    return before, harness.fingerprint(page)
