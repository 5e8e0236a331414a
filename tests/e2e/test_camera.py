"""The device camera as an image source (issue 16), in a real browser with Chromium's fake camera:
switch the camera on in the sidebar, take a picture, and the lesson computes on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Playwright

from cnnviz.i18n import translate
from tests.e2e import harness

pytestmark = pytest.mark.e2e

#: Chromium's fake camera (a moving test pattern) and an automatic "allow" to its permission prompt.
SCREENSHOT = Path(__file__).resolve().parent / "screenshots" / "camera.png"
FAKE_CAMERA = ("--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream")


@pytest.fixture(scope="module")
def camera_browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=harness.CHROMIUM, args=[*harness.CHROMIUM_ARGS, *FAKE_CAMERA])
    try:
        yield browser
    finally:
        browser.close()


def original_caption(page) -> str:
    """The feature-map lesson's caption under the picture it was given ("480 × 640 pixels")."""
    return page.locator(harness.MAIN).get_by_text(" pixels", exact=False).first.inner_text()


def test_a_photo_taken_with_the_camera_is_the_picture_the_lesson_uses(
    camera_browser: Browser, app_server: harness.AppServer
):
    context = harness.new_context(camera_browser)
    try:
        page = context.new_page()
        harness.open_app(page, f"{app_server.url}/feature_maps?fmap.source=sidebar")
        sidebar = page.locator('[data-testid="stSidebar"]')
        assert sidebar.locator('[data-testid="stCameraInput"]').count() == 0  # no camera until asked for
        before = original_caption(page)
        with harness.rerun(page):
            sidebar.get_by_text(translate("ui.camera_on", "en")).click()
        camera = sidebar.locator('[data-testid="stCameraInput"]')
        shutter = camera.get_by_role("button", name="Take Photo")
        shutter.wait_for(state="visible", timeout=20_000)
        page.wait_for_timeout(1500)  # the fake stream starts
        with harness.rerun(page):
            shutter.click()
        page.wait_for_timeout(500)
        harness.wait_until_idle(page, 0)
        assert harness.error_texts(page) == []
        after = original_caption(page)
        assert after != before and after.endswith("pixels"), (before, after)  # the cat was 1024 × 683
        assert "The network says" in page.locator(harness.MAIN).inner_text()
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOT)  # for people to look at
    finally:
        context.close()
