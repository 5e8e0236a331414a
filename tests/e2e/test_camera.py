"""The device camera as an image source (issue 16), in a real browser with Chromium's fake camera:
switch the camera on in the sidebar, take a picture, and the lesson computes on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Playwright

from cnnviz.i18n import translate
from tests.e2e import harness
from tests.e2e.test_language_switch import css_key

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


#: The words a student sees in the camera widget: what a style sheet draws (``::before``/``::after``) over what is
#: written (hidden with a zero font size). ``null`` where the widget does not show that part now.
CAMERA_WORDS_JS = """(camera) => {
    const drawn = (selector, pseudo) => {
        const element = camera.querySelector(selector);
        if (element === null) return null;
        const extra = getComputedStyle(element, pseudo).content;
        const written = [...element.childNodes].filter((node) => node.nodeType === Node.TEXT_NODE);
        const own = getComputedStyle(element).fontSize === '0px' ? '' : written.map((node) => node.textContent).join('');
        const added = extra === 'none' || extra === 'normal' ? '' : JSON.parse(extra);
        return pseudo === '::before' ? (added + own).trim() : (own + added).trim();
    };
    const webcam = "[data-testid='stCameraInputWebcamComponent']";
    return {
        button: drawn(`${webcam} > button`, '::after') ?? drawn("[data-testid='stCameraInput'] > button > span", '::after'),
        message: drawn(`${webcam} p`, '::before'),
        link: drawn(`${webcam} p a`, '::after'),
    };
}"""


def camera_words(page) -> dict:
    return page.evaluate(CAMERA_WORDS_JS, page.locator(f"{harness.SIDEBAR} {css_key('camera')}").element_handle())


def switch_camera_on(page) -> None:
    with harness.rerun(page):
        page.locator(f"{harness.SIDEBAR} {css_key('ui.camera_on')} label").click()
    page.locator(f"{harness.SIDEBAR} [data-testid='stCameraInputButton']").wait_for(state="visible", timeout=20_000)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_camera_is_drawn_in_the_sessions_language(camera_browser: Browser, app_server: harness.AppServer, lang):
    """Streamlit writes "Take Photo" and "Clear photo" in English whatever the language: in Chinese a student
    must see Chinese words on the shutter before and after a photo, and in English they read as before."""
    context = harness.new_context(camera_browser)
    try:
        page = context.new_page()
        harness.open_app(page, f"{app_server.url}/feature_maps?fmap.source=sidebar&lang={lang}")
        switch_camera_on(page)
        page.wait_for_timeout(1500)  # the fake stream starts
        take = translate("ui.camera_take", lang) if lang == "zh" else "Take Photo"
        assert camera_words(page) == {"button": take, "message": None, "link": None}
        with harness.rerun(page):
            page.locator(f"{harness.SIDEBAR} [data-testid='stCameraInputButton']").click()
        page.wait_for_timeout(500)
        harness.wait_until_idle(page, 0)
        clear = translate("ui.camera_clear", lang) if lang == "zh" else "Clear photo"
        assert camera_words(page) == {"button": clear, "message": None, "link": None}
        page.screenshot(path=SCREENSHOT.with_name(f"camera-taken-{lang}.png"))
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_camera_the_browser_does_not_give_is_explained_in_the_sessions_language(tab, app_server, lang):
    """Without a camera (or with permission refused) Streamlit writes why in English: in Chinese, Chinese."""
    harness.open_app(tab, f"{app_server.url}/feature_maps?fmap.source=sidebar&lang={lang}")
    switch_camera_on(tab)
    tab.locator(f"{harness.SIDEBAR} [data-testid='stCameraInputWebcamComponent'] p").wait_for(timeout=20_000)
    if lang == "zh":
        expected = {"message": translate("ui.camera_refused", lang), "link": translate("ui.camera_refused_link", lang)}
    else:
        expected = {"message": "This app would like to use your camera.", "link": "Learn how to allow access."}
    words = camera_words(tab)
    assert {key: words[key] for key in expected} == expected
    take = translate("ui.camera_take", lang) if lang == "zh" else "Take Photo"
    assert words["button"] == take
    tab.screenshot(path=SCREENSHOT.with_name(f"camera-refused-{lang}.png"))
