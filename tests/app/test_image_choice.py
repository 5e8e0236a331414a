"""The picture shown is the picture used: of a sample and an upload, the most recent choice wins
(issue 14), so a sample picked after an upload is the image every lesson computes on, as its link
(``?img=``) says; the picker says so, and offers the upload back."""

from __future__ import annotations

import numpy as np
from streamlit.testing.v1 import AppTest

from cnnviz.i18n import translate
from cnnviz.images import load_image, load_sample
from tests.app.conftest import open_page
from tests.app.test_uploads import GOOD, rerun_app, upload


def image_in_use(at: AppTest) -> np.ndarray:
    return at.session_state["image"].pixels


def upload_button(at: AppTest):
    return [button for button in at.sidebar.button if button.key == "ui.use_upload"]


def test_the_latest_choice_of_sample_or_upload_is_the_picture_used():
    at = open_page()
    uploaded = load_image(GOOD.build()).pixels

    at = upload(at, GOOD)
    np.testing.assert_array_equal(image_in_use(at), uploaded)
    assert upload_button(at) == []

    at.sidebar.selectbox(key="img").select("brick.jpg")
    at = rerun_app(at)  # a sample picked after the upload: the sample is used, as the URL says
    np.testing.assert_array_equal(image_in_use(at), load_sample("brick.jpg").pixels)
    assert at.sidebar.selectbox(key="img").value == "brick.jpg"  # (the browser writes it to the URL)
    (button,) = upload_button(at)
    assert GOOD.name in button.label

    button.click()
    at = rerun_app(at)  # the upload chosen again
    np.testing.assert_array_equal(image_in_use(at), uploaded)

    at.sidebar.selectbox(key="img").select("cat.jpg")
    at = rerun_app(at)
    np.testing.assert_array_equal(image_in_use(at), load_sample("cat.jpg").pixels)
    at = upload(at, GOOD)  # a new upload after the sample: the upload is used
    np.testing.assert_array_equal(image_in_use(at), uploaded)
    assert translate("ui.latest_choice_used", "en") in [caption.value for caption in at.sidebar.caption]


def test_the_picker_says_it_in_chinese():
    at = open_page(lang="zh")
    assert translate("ui.latest_choice_used", "zh") in [caption.value for caption in at.sidebar.caption]


def camera_photo(colour: tuple[int, int, int] = (30, 140, 200)) -> bytes:
    """A JPEG as the browser's camera sends it."""
    import io

    from PIL import Image

    encoded = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(encoded, format="JPEG")
    return encoded.getvalue()


def test_the_camera_is_off_until_asked_for_then_its_photo_is_the_latest_choice():
    at = open_page()
    assert not at.sidebar.camera_input  # no camera on a page load: the browser would ask every time
    at.sidebar.toggle(key="ui.camera_on").set_value(True)
    at = rerun_app(at)
    at.sidebar.camera_input(key="camera").set_value(("shot.jpg", camera_photo(), "image/jpeg"))
    at = rerun_app(at)
    photo = load_image(camera_photo()).pixels
    np.testing.assert_array_equal(image_in_use(at), photo)

    at.sidebar.selectbox(key="img").select("brick.jpg")
    at = rerun_app(at)  # a sample after the photo: the sample
    np.testing.assert_array_equal(image_in_use(at), load_sample("brick.jpg").pixels)
    at = upload(at, GOOD)  # then an upload: the upload
    np.testing.assert_array_equal(image_in_use(at), load_image(GOOD.build()).pixels)
    at.sidebar.camera_input(key="camera").set_value(("shot.jpg", camera_photo((200, 60, 20)), "image/jpeg"))
    at = rerun_app(at)  # a new photo: the photo
    np.testing.assert_array_equal(image_in_use(at), load_image(camera_photo((200, 60, 20))).pixels)
    at.sidebar.toggle(key="ui.camera_on").set_value(False)
    at = rerun_app(at)  # the camera put away: the upload again
    np.testing.assert_array_equal(image_in_use(at), load_image(GOOD.build()).pixels)


def test_the_camera_speaks_chinese():
    at = open_page(lang="zh")
    assert at.sidebar.toggle(key="ui.camera_on").label == translate("ui.camera_on", "zh")
