"""Every page in headless chromium: it opens cleanly, its main control changes what it shows,
an upload is used where the page computes on the sidebar's image; and a bad upload is
refused while the page keeps working.

A screenshot of each page is left in ``tests/e2e/screenshots/`` for people to look at.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Page

from cnnviz.i18n import translate
from cnnviz.images import ImageError, load_image
from pages.registry import LESSONS
from tests.e2e import harness
from tests.e2e.pages_under_test import HOME, PAGES, AppPage, move_control

pytestmark = pytest.mark.e2e

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
SIDEBAR_IMAGE = f'{harness.SIDEBAR} [data-testid="stImage"] img'
NOT_AN_IMAGE = ("homework.png", b"This is a text file with a .png name, not a picture.\n")


def _photo() -> bytes:
    """A 400 x 300 PNG unlike any sample: coloured stripes and a checkerboard, with strong edges."""
    rows, cols = np.mgrid[0:300, 0:400]
    pixels = np.zeros((300, 400, 3), dtype=np.uint8)
    pixels[..., 0] = np.where((cols // 25) % 2 == 0, 230, 20)
    pixels[..., 1] = np.where(((rows // 30) + (cols // 30)) % 2 == 0, 210, 40)
    pixels[..., 2] = (rows * 255 // 299).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def _refusal(name: str, data: bytes) -> str:
    """The sidebar's message for a refused upload, as the app words it."""
    with pytest.raises(ImageError) as refused:
        load_image(data)
    return translate("ui.upload_refused", "en", name=name, reason=str(refused.value))


def _open(tab: Page, server: harness.AppServer, app_page: AppPage, query: str = "") -> None:
    harness.open_app(tab, f"{server.url}/{app_page.url_path}" + (f"?{query}" if query else ""))
    if app_page is not HOME:
        # An unknown URL path would silently show the home page instead.
        active = tab.locator('[data-testid="stSidebarNavLink"][aria-current="page"]')
        assert (active.get_attribute("href") or "").rstrip("/").endswith(f"/{app_page.url_path}")


def _assert_no_errors(tab: Page, scope: str = harness.APP) -> None:
    assert harness.error_texts(tab, scope) == []


def _sidebar_image(tab: Page) -> str:
    return tab.locator(SIDEBAR_IMAGE).first.get_attribute("src") or ""


def _screenshot(tab: Page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    tab.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def _assert_control_changes_output(tab: Page, app_page: AppPage) -> None:
    before, after = move_control(tab, app_page.control)
    assert after != before, f"moving {app_page.control} did not change what {app_page.slug} shows"


def _upload(tab: Page, name: str, data: bytes) -> None:
    with harness.rerun(tab):
        tab.set_input_files(harness.UPLOAD_INPUT, files=[{"name": name, "mimeType": "image/png", "buffer": data}])


@pytest.mark.parametrize("app_page", PAGES, ids=lambda app_page: app_page.slug)
def test_page_works_in_the_browser(tab: Page, app_server: harness.AppServer, app_page: AppPage):
    """One page, one session (opening a page is the slow part, so it is done once, twice for a
    page that shows the sidebar's image only in another mode): it opens without an error, its
    main control changes what it shows, and an upload is what it then computes on."""
    _open(tab, app_server, app_page)
    _screenshot(tab, app_page.slug)
    _assert_no_errors(tab)
    assert tab.locator(harness.MAIN).inner_text().strip(), "the page shows nothing"
    if app_page is HOME:
        _assert_links_every_lesson(tab)
    if app_page.control is not None:
        _assert_control_changes_output(tab, app_page)
        _assert_no_errors(tab)
    if app_page.uses_image:
        if app_page.image_mode:
            _open(tab, app_server, app_page, app_page.image_mode)
        _assert_upload_is_used(tab, app_page)


def test_bad_upload_is_refused_and_the_page_keeps_working(tab: Page, app_server: harness.AppServer):
    """On the first lesson that computes on the image (the sidebar is the same on every page):
    a file that is no picture replaces a good upload, is refused with the reason, the sample
    is back in use, and the page's control still works."""
    app_page = next(app_page for app_page in PAGES if app_page.uses_image and not app_page.image_mode)
    _open(tab, app_server, app_page)
    sample_image = _sidebar_image(tab)
    _upload(tab, "stripes.png", _photo())
    assert _sidebar_image(tab) != sample_image
    name, data = NOT_AN_IMAGE
    _upload(tab, name, data)
    _assert_no_errors(tab, harness.MAIN)
    refusals = harness.error_texts(tab, harness.SIDEBAR)
    assert len(refusals) == 1, f"expected one refusal in the sidebar, got {refusals}"
    assert _refusal(name, data) in refusals[0]
    assert _sidebar_image(tab) == sample_image, "the sample should be back in use after a refused upload"
    _assert_control_changes_output(tab, app_page)
    _assert_no_errors(tab, harness.MAIN)


def _assert_links_every_lesson(tab: Page) -> None:
    links = tab.locator(f'{harness.MAIN} [data-testid="stPageLink"] a').evaluate_all(
        "(links) => links.map((link) => link.getAttribute('href'))"
    )
    # Cards fill three columns, so the DOM lists them column by column: compare as sets.
    assert sorted(link.rstrip("/").rsplit("/", 1)[-1] for link in links) == sorted(lesson.slug for lesson in LESSONS)


def _assert_upload_is_used(tab: Page, app_page: AppPage) -> None:
    sample_image, before = _sidebar_image(tab), harness.fingerprint(tab)
    _upload(tab, "stripes.png", _photo())
    _assert_no_errors(tab)
    assert _sidebar_image(tab) != sample_image, "the sidebar still shows the sample after an upload"
    assert harness.fingerprint(tab) != before, f"{app_page.slug} uses the image but did not change after an upload"
    _screenshot(tab, f"{app_page.slug}-upload")
