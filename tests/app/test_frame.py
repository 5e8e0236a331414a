"""The frame every lesson shares: catalogues, language switch, image picker, lesson list."""

import json
import re

import pytest

from cnnviz import i18n
from pages.registry import LESSONS
from tests.app.conftest import open_page
from tests.conftest import ROOT

# ui.t("key") / ui.t(f"lesson.{...}") calls with a literal key, in pages and app.py.
LITERAL_KEY = re.compile(r"""\bt\(\s*["']([a-z0-9_.]+)["']""")


def test_both_catalogues_have_the_same_keys():
    assert i18n.catalogue("en").keys() == i18n.catalogue("zh").keys()


def test_every_file_exists_in_both_languages():
    names = {lang: sorted(p.name for p in (i18n.LOCALES_DIR / lang).glob("*.json")) for lang in i18n.LANGUAGES}
    assert names["en"] == names["zh"]


# Names a Chinese textbook also writes in Latin letters: functions, parameters, initializations.
KEPT_IN_LATIN = ("act.name.", "act.param.", "act.init.", "loss.fig_residual.huber")


def test_chinese_catalogue_is_actually_chinese():
    zh = i18n.catalogue("zh")
    untranslated = [
        key
        for key, text in zh.items()
        if text == i18n.catalogue("en")[key]
        and re.search("[a-z]{4}", re.sub(r"{\w+}", "", text))
        and not key.startswith(KEPT_IN_LATIN)
    ]
    assert not untranslated, f"English text left in the Chinese catalogue: {untranslated[:10]}"


def test_placeholders_agree_between_languages():
    for key, text in i18n.catalogue("en").items():
        assert set(re.findall(r"{(\w+)}", text)) == set(re.findall(r"{(\w+)}", i18n.catalogue("zh")[key])), key


def test_every_key_a_page_asks_for_exists():
    sources = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]
    used = {key for path in sources for key in LITERAL_KEY.findall(path.read_text(encoding="utf-8"))}
    missing = sorted(used - i18n.catalogue("en").keys())
    assert not missing, f"keys used but not in the catalogue: {missing}"


def test_every_lesson_has_a_title_and_summary():
    en = i18n.catalogue("en")
    for lesson in LESSONS:
        assert f"lesson.{lesson.slug}.title" in en and f"lesson.{lesson.slug}.summary" in en
        assert (ROOT / lesson.script).is_file()


def test_translate_fills_placeholders_and_falls_back():
    assert i18n.translate("ui.upload_refused", "en", name="a.png", reason="Empty.").startswith("Could not use a.png")
    assert i18n.translate("no.such.key", "zh") == "no.such.key"
    with pytest.raises(ValueError, match="Unknown language"):
        i18n.catalogue("fr")


def test_catalogue_files_are_flat_string_maps():
    for path in i18n.LOCALES_DIR.glob("*/*.json"):
        strings = json.loads(path.read_text(encoding="utf-8"))
        assert all(isinstance(k, str) and isinstance(v, str) and v for k, v in strings.items()), path


def test_home_lists_every_lesson_in_english_and_chinese():
    english = open_page()
    assert not english.exception
    assert english.title[0].value == i18n.translate("home.title", "en")
    chinese = open_page(lang="zh")
    assert not chinese.exception
    assert chinese.title[0].value == i18n.translate("home.title", "zh")
    captions = [c.value for c in chinese.caption]
    for lesson in LESSONS:
        assert i18n.translate(f"lesson.{lesson.slug}.summary", "zh") in captions


def test_image_picker_takes_the_sample_from_the_link():
    at = open_page(img="brick.jpg")
    assert not at.exception
    assert at.sidebar.selectbox(key="img").value == "brick.jpg"
    assert at.session_state["image"].pixels.shape == (512, 512, 3)
    assert open_page().session_state["image"].pixels.shape == (300, 451, 3)  # the cat, by default


@pytest.mark.parametrize(
    ("link", "ignored"),
    [
        ({"img": "nope.png"}, "img=nope.png"),
        ({"conv.sride": "2"}, "conv.sride=2"),
        ({"img": "cat.jpg"}, None),
        ({}, None),
    ],
)
def test_link_settings_that_do_not_apply_are_named_once(link, ignored):
    at = open_page(**link)
    assert not at.exception
    toasts = [toast.value for toast in at.toast]
    if ignored:
        assert len(toasts) == 1 and ignored in toasts[0]
        assert set(at.query_params) == {"lang"}
    else:
        assert toasts == []
