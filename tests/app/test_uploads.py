"""Uploads through the app's sidebar picker (``pages/ui.image_picker``, run by ``app.py``).

Every file of the corpus is uploaded on the home page: a good one becomes
``st.session_state["image"]`` with the right shape and its notes under the preview; a
bad one is refused in the sidebar with the loader's sentence while the sample image
stays in use. Then the files that stress a page (one pixel, strips, a large photo, the
conversions, refusals) are uploaded on every lesson that computes on the image, with
``app.py`` and the lesson in the same run, as the server runs them. Never an exception.
"""

from __future__ import annotations

import io
import logging
import tomllib
from collections.abc import Iterator

import numpy as np
import pytest
from PIL import Image
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest, app_test

from cnnviz.i18n import translate
from cnnviz.images import MAX_BYTES, UNREADABLE, ImageError, load_image, load_sample
from pages import ui
from pages.registry import LESSONS, Lesson
from tests.app.conftest import open_page
from tests.conftest import ROOT
from tests.corpus import CORPUS, Upload
from tests.engine.test_untrusted_weights import WritesAFile, layouts, written

GOOD = next(upload for upload in CORPUS if upload.name == "large-photo.jpg")
BAD = next(upload for upload in CORPUS if upload.name == "homework.png")


def rerun_app(at: AppTest) -> AppTest:
    """Run again through ``app.py``, as a browser's rerun does.

    AppTest 1.67 reruns the page a run finished on without ``app.py`` (see CONTRIBUTING),
    and the picker lives in ``app.py``'s sidebar. Forgetting the finished page makes the
    next run start from ``app.py`` again; the assertion checks that it did.
    """
    at._finished_page_script_hash = ""
    at.run()
    assert not at.exception, at.exception
    assert at.sidebar.file_uploader(key="upload") is not None, "app.py's sidebar did not run"
    return at


def upload(at: AppTest, file: Upload, name: str | None = None) -> AppTest:
    at.sidebar.file_uploader(key="upload").set_value((name or file.name, file.build(), file.mime))
    return rerun_app(at)


def refusal_of(file: Upload, lang: str = "en", name: str | None = None) -> str:
    """The sidebar's message for a refused file, in the words of the loader and the catalogue."""
    with pytest.raises(ImageError) as refused:
        load_image(file.build())
    error = refused.value
    reason = translate(f"error.{error.reason}", lang, **error.values)
    assert lang != "en" or reason == str(error)  # the English catalogue says what the engine says
    return translate("ui.upload_refused", lang, name=f"`{name or file.name}`", reason=reason)


def image_notes_shown(at: AppTest) -> list[str]:
    """The sidebar's captions but the picker's rule (the latest choice of sample or upload is used)."""
    rule = {translate("ui.latest_choice_used", lang) for lang in ("en", "zh")}
    return [caption.value for caption in at.sidebar.caption if caption.value not in rule]


def assert_sample_in_use(at: AppTest, sample: str = ui.DEFAULT_SAMPLE) -> None:
    np.testing.assert_array_equal(at.session_state["image"].pixels, load_sample(sample).pixels)
    assert image_notes_shown(at) == []


@pytest.fixture
def home() -> AppTest:
    at = open_page()
    assert not at.exception
    assert_sample_in_use(at)
    return at


@pytest.fixture(scope="module")
def classroom() -> AppTest:
    """One session that uploads the whole corpus, file after file (as a student tries their phone's photos)."""
    return open_page()


@pytest.mark.parametrize("file", CORPUS, ids=str)
def test_every_upload_is_used_or_refused_in_the_sidebar(classroom: AppTest, file: Upload):
    at = upload(classroom, file)
    assert at.title[0].value == translate("home.title", "en"), "the page itself must still render"
    errors = [error.value for error in at.sidebar.error]
    if file.loads:
        assert errors == []
        image = at.session_state["image"]
        assert image.pixels.shape == file.shape
        np.testing.assert_array_equal(image.pixels, load_image(file.build()).pixels)
        assert image_notes_shown(at) == list(image.notes)
        assert len(image.notes) == len(file.notes)
    else:
        assert errors == [refusal_of(file)]
        for phrase in file.refusal:
            assert phrase.lower() in errors[0].lower()
        assert_sample_in_use(at)


def test_good_bad_good_then_removed(home: AppTest):
    at = upload(home, GOOD)
    assert at.session_state["image"].pixels.shape == GOOD.shape
    at = upload(at, BAD)
    assert [error.value for error in at.sidebar.error] == [refusal_of(BAD)]
    assert_sample_in_use(at)
    at = upload(at, GOOD)
    assert not at.sidebar.error and at.session_state["image"].pixels.shape == GOOD.shape
    at.sidebar.file_uploader(key="upload").clear()
    at = rerun_app(at)
    assert not at.sidebar.error
    assert_sample_in_use(at)


def test_the_thumbnail_follows_the_image_in_use(home: AppTest):
    """The sidebar's thumbnail is made once per image and remembered: it must still change with the image."""

    def thumbnail(at: AppTest) -> str:
        (image,) = at.sidebar.get("image")
        (url,) = image.value  # Streamlit names a picture by a hash of its bytes
        return url

    cat = thumbnail(home)
    assert cat.endswith(".png")  # sent as it was made, not re-encoded on every run
    at = upload(home, GOOD)
    photo = thumbnail(at)
    at = upload(at, BAD)  # refused: the sample is back in use
    assert thumbnail(at) == cat
    at.sidebar.file_uploader(key="upload").clear()
    at.sidebar.selectbox(key="img").select("brick.jpg")
    at = rerun_app(at)
    assert len({cat, photo, thumbnail(at)}) == 3


def test_a_refused_upload_leaves_the_chosen_sample_in_use(home: AppTest):
    at = upload(home, BAD)
    assert [error.value for error in at.sidebar.error] == [refusal_of(BAD)]
    assert_sample_in_use(at)
    at.sidebar.selectbox(key="img").select("brick.jpg")
    at = rerun_app(at)  # the sample is now the latest choice: the refused upload is set aside
    assert [error.value for error in at.sidebar.error] == []
    assert_sample_in_use(at, "brick.jpg")


def test_the_refusal_is_in_the_sessions_language():
    at = open_page(lang="zh")
    at = upload(at, BAD)
    assert [error.value for error in at.sidebar.error] == [refusal_of(BAD, "zh")]
    assert at.sidebar.error[0].value.startswith("无法使用")


def test_an_upload_is_decoded_once_and_a_refusal_remembered(home: AppTest, monkeypatch):
    decoded = []

    def counting_load_image(data: bytes):
        decoded.append(len(data))
        return load_image(data)

    monkeypatch.setattr(ui, "load_image", counting_load_image)
    at = upload(home, GOOD)
    rerun_app(rerun_app(at))
    assert len(decoded) == 1 and at.session_state["image"].pixels.shape == GOOD.shape
    at = upload(at, BAD)
    rerun_app(rerun_app(at))
    assert len(decoded) == 2
    assert [error.value for error in at.sidebar.error] == [refusal_of(BAD)]
    at = upload(at, BAD)  # the same bytes uploaded again: a new file, decoded again
    assert len(decoded) == 3


def test_a_loader_bug_is_logged_and_refused_without_taking_the_page(home: AppTest, monkeypatch, caplog):
    def broken_load_image(data: bytes):
        raise RuntimeError("a bug in the loader")

    monkeypatch.setattr(ui, "load_image", broken_load_image)
    with caplog.at_level(logging.ERROR, logger="cnnviz"):
        at = upload(home, GOOD)
    expected = translate("ui.upload_refused", "en", name=f"`{GOOD.name}`", reason=UNREADABLE)
    assert [error.value for error in at.sidebar.error] == [expected]
    assert_sample_in_use(at)
    assert at.title[0].value == translate("home.title", "en")
    failures = [record for record in caplog.records if record.name == "cnnviz" and record.exc_info]
    assert len(failures) == 1 and "a bug in the loader" in str(failures[0].exc_info[1])


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        # Markdown in a file name would become a link, or an image fetched from another host.
        ("![x](http://example.invalid/a.png)", "`![x](http://example.invalid/a.png)`"),
        (
            "[click](http://example.invalid) :red[alert] $x^2$.png",
            "`[click](http://example.invalid) :red[alert] $x^2$.png`",
        ),
        ("a`b`.png", "`a'b'.png`"),  # a backtick would end the code span early
        ("line\nbreak\t.png", "`linebreak.png`"),
        ("x" * 200 + ".png", "`" + "x" * 79 + "…`"),
    ],
)
def test_a_file_name_is_shown_as_typed_never_as_markdown(home: AppTest, name: str, shown: str):
    at = upload(home, BAD, name=name)
    message = at.sidebar.error[0].value
    assert message.startswith(f"Could not use {shown}: ")
    assert message.count("`") == 2


def test_large_photo_note_is_shown_under_the_preview(home: AppTest):
    at = upload(home, GOOD)
    assert len(at.sidebar.get("image")) == 1
    assert image_notes_shown(at) == ["Large image (3000 x 2000): computed at 1024 x 683."]


@pytest.mark.parametrize(
    ("shape", "shown"),
    [
        ((683, 1024, 3), (160, 240, 3)),
        ((300, 451, 3), (160, 240, 3)),
        ((2, 2, 3), (240, 240, 3)),  # each pixel a 120 x 120 square, not a blur
        ((1, 1, 3), (240, 240, 3)),
        ((1024, 1, 3), (240, 1, 3)),  # a strip stays a strip (not 240 x 57600)
        ((1, 1024, 3), (1, 240, 3)),
        ((28, 28, 3), (224, 224, 3)),
    ],
)
def test_preview_is_bounded(shape, shown):
    pixels = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    assert ui._preview(pixels).shape == shown


def test_a_picture_is_encoded_as_shown_photos_as_jpeg_tiny_images_as_sharp_png():
    photo = np.random.default_rng(0).integers(0, 256, (600, 900, 3), dtype=np.uint8)
    sent = Image.open(io.BytesIO(ui.picture_bytes(photo)))
    assert sent.format == "JPEG" and max(sent.size) == ui.DISPLAY_SIDE
    tiny = np.arange(16, dtype=np.uint8).reshape(4, 4, 1) * 16  # one channel, as a gray map may come
    sent = Image.open(io.BytesIO(ui.picture_bytes(tiny, small_side=240)))
    assert sent.format == "PNG"
    np.testing.assert_array_equal(np.asarray(sent), np.repeat(np.repeat(tiny[..., 0], 60, 0), 60, 1))


# --- Uploads on the lessons ------------------------------------------------------------------

#: The lessons that compute on the sidebar's image.
IMAGE_LESSONS = tuple(lesson for lesson in LESSONS if "current_image(" in (ROOT / lesson.script).read_text("utf-8"))
#: What a page must survive: images one pixel wide or high, tiny, large, converted; and refusals.
STRESSING = (
    "dot-1x1.png",
    "tiny-2x2.png",
    "strip-1x4000.png",
    "strip-4000x1.png",
    "large-portrait-photo.jpg",
    "animated.gif",
    "cmyk.jpg",
    "gray16.png",
    "transparent.png",
    "empty.jpg",
    "truncated.jpg",
    "bomb-100000x100000.png",
    "drawing.svg",
    "homework.png",
)
ON_LESSONS = tuple(upload for upload in CORPUS if upload.name in STRESSING)


class _RouterPagesManager(PagesManager):
    """Leaves Streamlit's legacy ``pages/`` mode, as ``ui._leave_legacy_pages_folder_mode`` does on
    the server: ``app.py`` then runs every time, sidebar included, and ``st.navigation`` runs the
    lesson. (Left alone, AppTest runs a lesson without ``app.py``: no picker, no upload.)"""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        PagesManager.uses_pages_directory = False


def run_with_frame(at: AppTest) -> AppTest:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(app_test, "PagesManager", _RouterPagesManager)
        at.run()
    return at


@pytest.fixture(scope="module", params=IMAGE_LESSONS, ids=lambda lesson: lesson.slug)
def lesson_page(request) -> Iterator[tuple[Lesson, AppTest, str]]:
    """One session on one lesson, used for every file in turn; and the lesson's title with the sample."""
    lesson = request.param
    at = run_with_frame(AppTest.from_file(str(ROOT / "app.py"), default_timeout=120))
    run_with_frame(at.switch_page(lesson.script))
    assert not at.exception, at.exception
    assert at.sidebar.file_uploader(key="upload") is not None, "app.py's sidebar did not run with the lesson"
    yield lesson, at, at.title[0].value


@pytest.mark.parametrize("file", ON_LESSONS, ids=str)
def test_every_lesson_on_the_image_takes_each_upload_or_its_refusal(lesson_page, file: Upload, caplog):
    lesson, at, title = lesson_page
    at.sidebar.file_uploader(key="upload").set_value((file.name, file.build(), file.mime))
    with caplog.at_level(logging.ERROR, logger="cnnviz"):
        run_with_frame(at)
    assert not at.exception, f"{lesson.slug} raised on {file.name}: {at.exception[0].message}"
    assert at.title[0].value == title, "the lesson itself must still render"
    failed = [record.getMessage() for record in caplog.records if record.name == "cnnviz" and record.exc_info]
    assert failed == [], f"{lesson.slug}: a panel failed on {file.name} instead of explaining (see the log)"
    assert translate("ui.panel_failed", "en") not in [error.value for error in at.main.error]
    errors = [error.value for error in at.sidebar.error]
    if file.loads:
        assert errors == []
        assert at.session_state["image"].pixels.shape == file.shape
        assert image_notes_shown(at) == list(at.session_state["image"].notes)
    else:
        assert errors == [refusal_of(file)]
        assert_sample_in_use(at)


# --- A weight file carrying code, uploaded on the Feature maps page ---------------------------


def test_a_weight_upload_carrying_code_is_refused_on_the_page_and_never_runs(tmp_path):
    marker = tmp_path / "marker.txt"
    evil = written(layouts(WritesAFile(marker))["a value"], "torch.save")
    at = open_page("pages/feature_maps.py")
    at.file_uploader(key="fmap.weights_file").set_value(("resnet18-f37072fd.pth", evil, "application/octet-stream"))
    at.run()
    assert not at.exception
    (refusal,) = at.error
    assert (
        refusal.value.startswith(translate("fmap.weights_refused", "en", reason=""))
        and "refused without being run" in refusal.value
    )
    assert not marker.exists(), "the payload ran"


def test_each_uploader_has_its_own_limit_and_the_server_fits_both():
    """The browser refuses a file over its uploader's limit (MB of 2**20 bytes) before sending it: the
    sidebar's photos at the loader's own MAX_BYTES, the feature-map page's weight files at a limit
    that fits VGG-16 (528 MB). The server's limit (its answer to anything bigger: a bare "413")
    must let both through."""
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text("utf-8"))
    at = run_with_frame(AppTest.from_file(str(ROOT / "app.py"), default_timeout=120))
    run_with_frame(at.switch_page("pages/feature_maps.py"))
    photos, weights = at.sidebar.file_uploader(key="upload"), at.file_uploader(key="fmap.weights_file")
    assert photos.proto.max_upload_size_mb * 2**20 == MAX_BYTES
    assert weights.proto.max_upload_size_mb * 2**20 >= 553_433_881  # torchvision's vgg16-397923af.pth
    assert config["server"]["maxUploadSize"] == max(photos.proto.max_upload_size_mb, weights.proto.max_upload_size_mb)
