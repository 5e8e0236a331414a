"""What every page shares: words, the current image, error boundaries, image display.

Pages stay thin: read widgets, call the engine once per panel, render with these.
This is the only UI module besides the pages; the engine (``cnnviz``) never imports
Streamlit.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import numpy as np
import streamlit as st

from cnnviz import i18n
from cnnviz.images import (
    ImageError,
    LoadedImage,
    load_image,
    load_sample,
    resize_longest_side,
    sample_names,
    upscale_nearest,
)

log = logging.getLogger("cnnviz")

#: Longest side of an image as sent to the browser; computation uses the full working size.
DISPLAY_SIDE = 480
DEFAULT_SAMPLE = "cat.jpg"


def lang() -> str:
    """The interface language of this session (the sidebar switch in app.py, or ``?lang=``)."""
    chosen = st.session_state.get("lang") or st.query_params.get("lang")
    return chosen if chosen in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE


def t(key: str, **values: object) -> str:
    """The interface text for ``key`` in the session's language."""
    return i18n.translate(key, lang(), **values)


@contextlib.contextmanager
def panel(name: str) -> Iterator[None]:
    """Error boundary around one panel of a page.

    An unexpected exception inside is logged with its traceback on the server and
    shown as one short line in this panel; the rest of the page still renders.
    Streamlit's own rerun/stop signals are BaseExceptions and pass through.
    """
    try:
        yield
    except Exception:
        log.exception("Panel %r failed", name)
        st.error(t("ui.panel_failed"), icon=":material/error:")


def notice_ignored_link_settings(link_settings: dict[str, str]) -> None:
    """After the first run of a session opened from a link: say which of its settings were
    not used, because no control has that name (a stale or mistyped link) or the value was
    invalid (the control fell back to its default and dropped it from the URL)."""
    ignored = []
    for key, value in link_settings.items():
        if key == "lang":
            continue
        if key not in st.session_state:
            ignored.append(f"{key}={value}")
            del st.query_params[key]
        elif key not in st.query_params and str(st.session_state[key]) != value:
            ignored.append(f"{key}={value}")
    if ignored:
        st.toast(t("ui.link_ignored", settings=", ".join(ignored)), icon=":material/link_off:")


# --- The current image ----------------------------------------------------------------------


@st.cache_resource(max_entries=16, show_spinner=False)
def _decode_upload(file_id: str, _data: bytes) -> LoadedImage:
    # Keyed by the upload's id rather than its bytes: hashing a 20 MB file on every
    # rerun would cost more than the rest of the run.
    return _frozen(load_image(_data))


@st.cache_resource(max_entries=16, show_spinner=False)
def _decode_sample(name: str) -> LoadedImage:
    return _frozen(load_sample(name))


def _frozen(image: LoadedImage) -> LoadedImage:
    # Cached images are shared by every session: make accidental in-place edits fail loudly.
    image.pixels.setflags(write=False)
    return image


def image_picker() -> LoadedImage:
    """Sidebar controls for the image all lessons use: a bundled sample or an upload.

    A bad upload shows why it was refused and the sample stays in use, so the page
    keeps working. The chosen image is also kept in ``st.session_state["image"]``.
    """
    with st.sidebar:
        st.subheader(t("ui.image"))
        names = sample_names()
        sample = st.selectbox(t("ui.sample"), names, index=names.index(DEFAULT_SAMPLE), key="img", bind="query-params")
        upload = st.file_uploader(t("ui.upload"), key="upload", help=t("ui.upload_help"))
        image = _decode_sample(sample)
        if upload is not None:
            try:
                image = _decode_upload(upload.file_id, upload.getvalue())
            except ImageError as error:
                st.error(
                    t("ui.upload_refused", name=upload.name, reason=str(error)), icon=":material/image_not_supported:"
                )
        st.image(resize_longest_side(image.pixels, 240), width="stretch")
        for note in image.notes:
            st.caption(note)
    st.session_state["image"] = image
    return image


def current_image() -> LoadedImage:
    """The image chosen in the sidebar (the default sample when none was chosen yet)."""
    return st.session_state.get("image") or _decode_sample(DEFAULT_SAMPLE)


# --- Display ---------------------------------------------------------------------------------


def show_image(pixels: np.ndarray, caption: str | None = None, small_side: int = 240) -> None:
    """Show a uint8 image: large ones shrunk for the browser, small ones enlarged with
    visible square pixels (nearest neighbour) so a 28 x 28 map is readable."""
    shown = resize_longest_side(pixels, DISPLAY_SIDE) if max(pixels.shape[:2]) > DISPLAY_SIDE else pixels
    shown = upscale_nearest(shown, small_side)
    st.image(shown, caption=caption, width="stretch")
