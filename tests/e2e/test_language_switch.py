"""Switching the language in a real browser never changes a setting (issue 14): the browser keeps a
choice's label and sends it back, so a switch that does not send the new label lets the next
interaction reset the choice. Each page below is opened from a link with non-default choices,
switched back and forth, moved once, and must show the same choices (in the new language's words)
and keep them in the URL.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Page

from cnnviz.i18n import LANGUAGES, translate
from tests.e2e import harness
from tests.e2e.pages_under_test import SLIDER_THUMB

pytestmark = pytest.mark.e2e

# page, link settings, the choices to watch (key, catalogue key of the chosen label), a slider to move
# (a widget key, or a scrubbing view's slider as ``scrub:<name>``).
CASES = {
    "convolution": (
        {"conv.preset": "emboss", "conv.channel_mode": "sum", "conv.padding_mode": "reflect", "conv.padding": "2"},
        [("conv.preset", "conv.preset.emboss"), ("conv.channel_mode", "conv.channel.sum"),
         ("conv.padding_mode", "conv.padding_mode.reflect")],
        "scrub:bias",
    ),
    "conv_steps": ({"steps.kernel": "emboss"}, [("steps.kernel", "conv.preset.emboss")], "scrub:size"),
    "losses": ({"loss.target_class": "bird"}, [("loss.target_class", "loss.class.bird")], "scrub:smoothing"),
}  # fmt: skip


def css_key(key: str) -> str:
    return f".st-key-{key.replace('.', '-')}"


def switch_language(tab: Page, lang: str) -> None:
    with harness.rerun(tab):
        tab.locator(f"{harness.SIDEBAR} {css_key('lang')} button", has_text=LANGUAGES[lang]).click()


def move_slider(tab: Page, key: str) -> None:
    name = key.removeprefix("scrub:")
    thumb = tab.locator(f'.scrub-view input[name="{name}"]' if name != key else f"{css_key(key)} {SLIDER_THUMB}").first
    at_end = thumb.evaluate("(input) => Number(input.value) >= Number(input.max)")
    with harness.rerun(tab):
        thumb.press("ArrowLeft" if at_end else "ArrowRight")


def assert_kept(tab: Page, lang: str, link: dict, watched: list) -> None:
    query = {key: values[0] for key, values in parse_qs(urlparse(tab.url).query).items()}
    assert query.get("lang") == lang
    for key, value in link.items():
        assert query.get(key) == value, (lang, key, query)
    for key, label in watched:
        shown = tab.locator(f"{harness.MAIN} {css_key(key)} input").input_value()  # what the drop-down shows
        assert shown == translate(label, lang), (lang, key, shown)
    assert harness.error_texts(tab) == []


@pytest.mark.parametrize("page", CASES)
def test_a_language_round_trip_in_the_browser_keeps_every_choice(tab: Page, app_server, page):
    link, watched, slider = CASES[page]
    query = "&".join(f"{key}={value}" for key, value in link.items())
    harness.open_app(tab, f"{app_server.url}/{page}?{query}")
    assert_kept(tab, "en", link, watched)
    for lang in ("zh", "en", "zh"):
        switch_language(tab, lang)
        assert_kept(tab, lang, link, watched)
    move_slider(tab, slider)  # the next interaction sends the labels the browser holds
    assert_kept(tab, "zh", link, watched)
    switch_language(tab, "en")
    move_slider(tab, slider)
    assert_kept(tab, "en", link, watched)


DRAWN_WORDS_JS = """(uploader) => {
    const drawn = (element) => {
        const after = getComputedStyle(element, '::after').content;
        const own = getComputedStyle(element).fontSize === '0px' ? '' : element.innerText;
        return (own + (after === 'none' ? '' : JSON.parse(after))).trim();
    };
    return {
        button: drawn(uploader.querySelector("[data-testid='stFileUploaderDropzone'] button p")),
        limit: drawn(uploader.querySelector("[data-testid='stFileUploaderDropzoneInstructions'] span")),
    };
}"""


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_image_uploader_is_drawn_in_the_sessions_language(tab: Page, app_server, lang):
    """Streamlit draws "Upload" and "25MB per file" in English whatever the language: in Chinese the
    uploader must show Chinese words, and in English it reads as it did (what a student sees, not
    the DOM's text, so a style sheet that failed to load would fail this)."""
    harness.open_app(tab, f"{app_server.url}/convolution?lang={lang}")
    uploader = tab.locator(f"{harness.SIDEBAR} {css_key('upload')}").element_handle()
    drawn = tab.evaluate(DRAWN_WORDS_JS, uploader)
    assert drawn == {
        "button": translate("ui.uploader_button", lang),
        "limit": translate("ui.uploader_limit", lang, limit=25) if lang == "zh" else "25MB per file",
    }
