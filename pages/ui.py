"""What every page shares: words, the current image, error boundaries, image display.

Pages stay thin: read widgets, call the engine once per panel, render with these.
This is the only UI module besides the pages; the engine (``cnnviz``) never imports
Streamlit.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Iterator, Sequence

import numpy as np
import streamlit as st
from streamlit import config
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.uploaded_file_manager import UploadedFile

from cnnviz import heavy_jobs, i18n
from cnnviz.drawing import feature_maps_view, grids
from cnnviz.drawing.pictures import DISPLAY_SIDE, display_picture, png
from cnnviz.images import (
    MAX_BYTES,
    UNREADABLE,
    ImageError,
    LoadedImage,
    load_image,
    load_sample,
    resize_longest_side,
    sample_names,
    upscale_nearest,
)
from pages import scrub_view

log = logging.getLogger("cnnviz")


#: Set by app.py in every run before the lesson runs: the session runs inside the frame.
_FRAME = "ui.frame"


def enter_frame() -> None:
    """Called by app.py first in every run, so a lesson knows app.py's frame is around it."""
    st.session_state[_FRAME] = True


def _leave_legacy_pages_folder_mode() -> None:
    """Make a lesson link work as the first request after the server starts.

    Streamlit assumes an app with a ``pages/`` folder is a legacy multipage app until
    ``app.py`` calls ``st.navigation``. So the first visitors' lessons (a room opening
    ``/convolution`` at once) run without app.py's frame: no image picker, no language
    switch, and for every later visitor too until someone opens ``/``. A lesson asks for
    its words (``t``, ``lang``) before it shows anything: if app.py has never run in this
    session, leave legacy mode and rerun, which runs app.py as the router.

    Never called while a module is imported: ``st.rerun`` raises, and an import that
    raises while other sessions import the same module makes theirs fail too
    (``cannot import name 'ui' from 'pages'``, tests/e2e/test_first_visit.py).
    (AppTest runs a lesson alone on purpose: there it is left alone.)
    """
    if _FRAME in st.session_state or config.get_option("global.appTest"):
        return
    PagesManager.uses_pages_directory = False  # the class's flag: every session's next run
    st.rerun()


DEFAULT_SAMPLE = "cat.jpg"
_PREVIEW_SIDE = 240
# Where the picker remembers the current upload's outcome: ((file_id, size), image or refusal).
_UPLOAD_STATE = "ui.upload_outcome"
# Where it remembers the current camera photo's outcome, as for an upload.
_CAMERA_STATE = "ui.camera_outcome"
# Which source the user chose last, "sample", "upload" or "camera": that one is used.
_IMAGE_CHOICE = "ui.image_choice"
# Where it remembers the thumbnail it last drew: (what image, PNG bytes).
_PREVIEW_STATE = "ui.preview"


def lang() -> str:
    """The interface language of this session (the sidebar switch in app.py, or ``?lang=``)."""
    _leave_legacy_pages_folder_mode()
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


def explain(error: Exception | str, prefix: str = "error") -> str:
    """An engine's refusal in the session's language (``i18n.explain``); anything the catalogue
    has no words for is said as the engine wrote it."""
    text = i18n.explain(error, lang(), prefix)
    if text is None and isinstance(error, Exception):
        log.warning("No translation for the refusal %r (%s)", getattr(error, "reason", None), error)
    return str(error) if text is None else text


def notice_ignored_link_settings(link_settings: dict[str, str]) -> None:
    """After the first run of a session opened from a link: say which of its settings were
    not used, because no control has that name (a stale or mistyped link) or the value was
    invalid (the control fell back to its default, or to another value, and the URL says so)."""
    ignored = []
    for key, value in link_settings.items():
        if key == "lang":
            continue
        if key not in st.session_state:
            ignored.append(f"{key}={value}")
            del st.query_params[key]
        elif st.query_params.get(key) != value and _as_url_value(st.session_state[key]) != value:
            ignored.append(f"{key}={value}")  # e.g. a typed kernel whose size does not match its values
    if ignored:
        st.toast(t("ui.link_ignored", settings=", ".join(ignored)), icon=":material/link_off:")


def _as_url_value(value: object) -> str:
    """A setting as the URL writes it (a multiselect's ids comma-joined, see :func:`choices_to_url`)."""
    return ",".join(map(str, value)) if isinstance(value, list) else str(value)


# --- The current image ----------------------------------------------------------------------


@st.cache_resource(max_entries=16, show_spinner=False)
def _decode_sample(name: str) -> LoadedImage:
    return _frozen(load_sample(name))


def _frozen(image: LoadedImage) -> LoadedImage:
    # Cached images are shared by every session: make accidental in-place edits fail loudly.
    image.pixels.setflags(write=False)
    return image


def _decoded_upload(upload: UploadedFile, state: str = _UPLOAD_STATE) -> LoadedImage | ImageError:
    """The upload as an image, or the refusal saying why it cannot be used (said by :func:`explain`).

    Remembered in this session under the upload's id and size, refusals included: every
    rerun (each slider move) would otherwise decode the same file again, or fail on it
    again. Hashing the bytes instead would cost ~30 ms per rerun for a 25 MB photo. An
    upload belongs to one session, so it is kept in that session's state rather than in
    a cache shared by every user.
    """
    key = (upload.file_id, upload.size)
    remembered = st.session_state.get(state)
    if remembered is not None and remembered[0] == key:
        return remembered[1]
    try:
        outcome: LoadedImage | ImageError = _frozen(load_image(upload.getvalue()))
    except ImageError as error:
        log.info("Upload %r refused: %s", upload.name, error, exc_info=error.__cause__)
        outcome = ImageError(error.reason, str(error), **error.values)  # kept without its traceback
    except Exception:  # a bug in the loader must not cost the session its page
        log.exception("Upload %r could not be loaded", upload.name)
        outcome = ImageError("image_unreadable", UNREADABLE)
    st.session_state[state] = (key, outcome)
    return outcome


def _as_code(text: str, limit: int = 80) -> str:
    """``text`` as Markdown inline code, so a file name is shown as typed: a name such as
    ``![x](http://host/a.png)`` must not become a link or fetch an image."""
    shown = "".join(char for char in text if char.isprintable()).replace("`", "'")
    shown = shown if len(shown) <= limit else shown[: limit - 1] + "…"
    return f"`{shown or '?'}`"


def _preview(pixels: np.ndarray) -> np.ndarray:
    """The sidebar's thumbnail: longest side at most ``_PREVIEW_SIDE`` (a bounded payload);
    a tiny image enlarged with square pixels, a 1 x 4000 strip left a strip."""
    return upscale_nearest(resize_longest_side(pixels, _PREVIEW_SIDE), _PREVIEW_SIDE, _PREVIEW_SIDE)


def _preview_png(source: tuple, image: LoadedImage) -> bytes:
    """The thumbnail as PNG bytes, made once per image: every full rerun (each page switch) draws the
    sidebar, and shrinking and encoding it cost 10-50 ms of the server's time each time."""
    remembered = st.session_state.get(_PREVIEW_STATE)
    if remembered is None or remembered[0] != source:
        remembered = st.session_state[_PREVIEW_STATE] = (source, png(_preview(image.pixels)))
    return remembered[1]


def image_picker() -> LoadedImage:
    """Sidebar controls for the image all lessons use: a bundled sample, an upload or a camera photo.

    The most recent choice is used: a sample picked after an upload replaces it (a button
    brings the upload back); a photo taken is used until a sample or an upload is chosen, or
    the camera is switched off. A bad upload shows why it was refused and the sample stays in
    use, so the page keeps working. The chosen image is also kept in ``st.session_state["image"]``.
    """
    with st.sidebar:
        st.subheader(t("ui.image"))
        names = sample_names()
        sample = st.selectbox(t("ui.sample"), names, index=names.index(DEFAULT_SAMPLE), key="img", bind="query-params",
                              on_change=_choose_image, args=("sample",))  # fmt: skip
        # Photos only: the server's own upload limit is set for weight files.
        upload = st.file_uploader(
            t("ui.upload"), key="upload", help=t("ui.upload_help"), max_upload_size=MAX_BYTES // 2**20,
            on_change=_choose_image, args=("upload",),
        )  # fmt: skip
        photo = _camera()
        uploader_in_session_language("upload", MAX_BYTES // 2**20)
        st.caption(t("ui.latest_choice_used"))
        image, source = _decode_sample(sample), ("sample", sample)
        choice = st.session_state.get(_IMAGE_CHOICE, "upload")
        if photo is not None and choice == "camera":
            outcome = _decoded_upload(photo, _CAMERA_STATE)
            if isinstance(outcome, LoadedImage):
                image, source = outcome, ("camera", photo.file_id, photo.size)
            else:
                st.error(t("ui.upload_refused", name=t("ui.camera"), reason=explain(outcome)),
                         icon=":material/image_not_supported:")  # fmt: skip
        elif upload is None:
            st.session_state.pop(_UPLOAD_STATE, None)
        elif choice == "sample" or (choice == "camera" and photo is not None):
            st.button(t("ui.use_upload_again", name=_as_code(upload.name)), key="ui.use_upload",
                      on_click=_choose_image, args=("upload",), icon=":material/upload_file:")  # fmt: skip
        else:
            outcome = _decoded_upload(upload)
            if isinstance(outcome, LoadedImage):
                image, source = outcome, ("upload", upload.file_id, upload.size)
            else:
                refusal = t("ui.upload_refused", name=_as_code(upload.name), reason=explain(outcome))
                st.error(refusal, icon=":material/image_not_supported:")
        st.image(_preview_png(source, image), width="content", output_format="PNG")  # sent as it is
        for note in image.notes:
            st.caption(explain(note))
    st.session_state["image"] = image
    return image


#: Where Streamlit writes English words in its widgets whatever the language: a CSS selector inside the
#: widget's block and the pseudo-element that draws the session's words instead, the words' key, their size.
_UPLOADER_WORDS = {
    "[data-testid='stFileUploaderDropzone'] button [data-testid='stMarkdownContainer'] p::after": ("ui.uploader_button", "0.875rem"),
    "[data-testid='stFileUploaderDropzoneInstructions'] span::after": ("ui.uploader_limit", "0.875rem"),
}  # fmt: skip
_WEBCAM = "[data-testid='stCameraInputWebcamComponent']"
_CAMERA_WORDS = {
    f"{_WEBCAM} > button::after": ("ui.camera_take", "1rem"),  # before a photo
    "[data-testid='stCameraInput'] > button > span::after": ("ui.camera_clear", "1rem"),  # after: an icon and words
    "[data-testid='stCameraInput'] > button:not(:has(span))::after": ("ui.camera_uploading", "1rem"),
    f"{_WEBCAM} p::before": ("ui.camera_refused", "1rem"),  # no camera, or not allowed
    f"{_WEBCAM} p a::after": ("ui.camera_refused_link", "1rem"),
}


def in_session_language(key: str, words: dict[str, tuple[str, str]], **values) -> None:
    """Streamlit writes some of a widget's words in English only ("Upload", "25MB per file", "Take Photo").
    In another language, a style sheet draws the session's words in their place: ``words`` maps
    ``"<selector inside the widget>::after"`` (or ``::before``) to (translation key, font size); the
    element's own words get a zero font size. The widget keeps working: only what is drawn changes."""
    if lang() == i18n.DEFAULT_LANGUAGE:
        return
    widget = ".st-key-" + re.sub(r"[^a-zA-Z0-9_-]", "-", key)  # Streamlit's class for a keyed widget
    rules = []
    for where, (text_key, size) in words.items():
        element = where.rsplit("::", 1)[0]
        text = json.dumps(t(text_key, **values), ensure_ascii=False)
        rules += [
            f"{widget} {element} {{ font-size: 0; }}",
            f"{widget} {where} {{ content: {text}; font-size: {size}; }}",
        ]
    st.html("<style>" + "".join(rules) + "</style>")


def uploader_in_session_language(key: str, limit_mb: int) -> None:
    """The uploader ``key``'s button and limit in the session's language (see :func:`in_session_language`)."""
    in_session_language(key, _UPLOADER_WORDS, limit=limit_mb)


def _camera() -> UploadedFile | None:
    """The device camera, behind a switch: a page load never makes the browser ask for the camera,
    and a student turns it off to let it go. Returns the photo taken, if any."""
    if not st.toggle(t("ui.camera_on"), key="ui.camera_on", help=t("ui.camera_help")):
        st.session_state.pop(_CAMERA_STATE, None)
        return None
    photo = st.camera_input(t("ui.camera"), key="camera", on_change=_choose_image, args=("camera",))
    in_session_language("camera", _CAMERA_WORDS)
    if photo is None:
        st.session_state.pop(_CAMERA_STATE, None)
    return photo


def _choose_image(kind: str) -> None:
    """``on_change`` of the sample list, the uploader and the camera: the most recent choice is the picture used,
    so a sample picked while an upload is loaded is shown, as its link (``?img=``) says."""
    st.session_state[_IMAGE_CHOICE] = kind


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


def picture_bytes(pixels: np.ndarray, small_side: int = 240, jpeg_quality: int = 85) -> bytes:
    """A uint8 image encoded once as :func:`show_image` shows it (``pictures.display_picture``: longest
    side at most ``DISPLAY_SIDE``; PNG when it had to be enlarged, so its square pixels stay sharp, else
    JPEG). For a cached picture (``st.image`` with ``output_format`` named, or an ``<img>`` in a View)."""
    return display_picture(pixels, small_side, jpeg_quality)


class View:
    """A view's headings, text, formulas, notes and pictures, drawn as ONE element by :meth:`draw`.

    The browser redraws every element a rerun sends, 2–5 ms each whatever its size
    (``bench/element_costs.py``): twenty lines as twenty elements cost a slider move ~40 ms,
    as one element ~7 ms. So a lesson collects what a slider changes into a View.

    Parts are Markdown blocks joined by blank lines (raw HTML blocks hold none, so each stays
    one block); Markdown inside a ``<div>`` works when blank lines surround it.
    """

    def __init__(self) -> None:
        self.parts: list[str] = []

    def text(self, markdown: str) -> View:
        self.parts.append(markdown)
        return self

    def heading(self, text: str) -> View:
        return self.text(f"### {text}")

    def caption(self, markdown: str) -> View:
        return self.text(f'<div class="cnnviz-caption">\n\n{markdown}\n\n</div>')

    def formula(self, latex: str) -> View:
        return self.text(f"$$\n{latex}\n$$")

    def note(self, markdown: str, kind: str = "info", icon: str = "") -> View:
        """A coloured box like ``st.info``; ``kind`` is info, success, warning or error."""
        icon = f"{icon} " if icon else ""
        return self.text(f'<div class="cnnviz-note {kind}">\n\n{icon}{markdown}\n\n</div>')

    def html(self, block: str) -> View:
        """Raw HTML (an SVG, a number grid, an ``<img>``) with no blank line inside."""
        return self.text(block)

    def svg(self, *svgs: str, gap_px: int = 16) -> View:
        """``cnnviz.drawing.charts`` charts, several side by side sharing the row. (Not ``st.html``: its
        sanitiser drops ``<svg>``; a markdown element passes it to the page as it is.)"""
        return self.html(grids.side_by_side_html(*svgs, gap_px=gap_px, share=True))  # one alone scrolls if too wide

    def row(
        self, *views: View, border: bool = False, widths: tuple[float, ...] = (), least_px: tuple[int, ...] = ()
    ) -> View:
        """Views side by side (wrapping on a narrow page), in columns of ``widths`` (equal by default).

        ``least_px``: each view's narrowest width instead (a chart that would scroll when
        narrower): the views share the row while they all fit, and wrap below each other when not.
        """
        boxed = " boxed" if border else ""
        if least_px:
            cells = [
                (view, f' style="flex:1 1 {least}px;min-width:{least}px"')
                for view, least in zip(views, least_px, strict=True)
            ]
            layout = ' style="display:flex;flex-wrap:wrap"'
        else:
            columns = " ".join(f"minmax(0,{width}fr)" for width in widths or (1,) * len(views))
            cells, layout = [(view, "") for view in views], f' style="grid-template-columns:{columns}"'
        inner = "\n\n".join(
            f'<div class="cnnviz-cell{boxed}"{style}>\n\n{view.markdown()}\n\n</div>' for view, style in cells
        )
        return self.text(f'<div class="cnnviz-row"{layout}>\n\n{inner}\n\n</div>')

    def markdown(self) -> str:
        return "\n\n".join(self.parts)

    def draw(self) -> None:
        if self.parts:
            st.markdown(self.markdown(), unsafe_allow_html=True)


# --- Choices kept in the URL by id, code panels -----------------------------------------------


def choice_from_url(key: str, options: list[str], default: str) -> None:
    """Start a translated choice from the URL's stable id (e.g. ``?conv.preset=sobel_x``).

    ``bind="query-params"`` stores the *translated label* in the URL, so a link made in
    Chinese would not open in English. Call this before the widget (which takes ``key`` and a
    ``format_func`` for the label), and :func:`choice_to_url` after it.
    """
    _remember_translated_choice(key)
    if key not in st.session_state:
        wanted = st.query_params.get(key)
        st.session_state[key] = wanted if wanted in options else default


def choice_to_url(key: str, default: str) -> str:
    """Write the widget's id to the URL (or drop it when it is the default); return it."""
    value = st.session_state[key]
    if value == default:
        st.query_params.pop(key, None)
    else:
        st.query_params[key] = value
    return value


def choices_from_url(key: str, options: list[str], default: list[str], most: int | None = None) -> None:
    """:func:`choice_from_url` for a multiselect: the URL holds comma-joined ids
    (``?act.functions=relu,tanh``); a list with an unknown id, or more than ``most``, falls back to ``default``."""
    _remember_translated_choice(key)
    if key not in st.session_state:
        wanted = [choice for choice in st.query_params.get(key, "").split(",") if choice]
        valid = key in st.query_params and set(wanted) <= set(options) and len(wanted) <= (most or len(options))
        st.session_state[key] = wanted if valid else list(default)


def choices_to_url(key: str, default: list[str]) -> list[str]:
    """Write the multiselect's ids to the URL (or drop them when they are the default); return them."""
    values = list(st.session_state[key])
    if values == list(default):
        st.query_params.pop(key, None)
    else:
        st.query_params[key] = ",".join(values)
    return values


def url_choice(widget, label: str, options: list[str], default: str, key: str, **settings) -> str:
    """``widget(label, options, key=key, **settings)`` with its choice kept in the URL by id.

    A remembered choice that is no longer offered (another network has other classes)
    falls back to ``default``. ``widget`` is e.g. ``st.selectbox`` or ``column.segmented_control``.
    """
    if key in st.session_state and st.session_state[key] not in options:
        del st.session_state[key]
    choice_from_url(key, options, default)
    widget(label, options, key=key, **_labels_fixed_now(options, settings))
    return choice_to_url(key, default)


def translated_choice(widget, label: str, options: list, key: str, **settings):
    """``widget(label, options, key=key, **settings)`` for a choice with translated labels that the
    URL does not keep: it still keeps its value through a language switch."""
    _remember_translated_choice(key)
    return widget(label, options, key=key, **_labels_fixed_now(options, settings))


def url_choices(widget, label: str, options: list[str], default: list[str], key: str, most: int | None = None,
                **settings) -> list[str]:  # fmt: skip
    """:func:`url_choice` for a multiselect: ``widget(label, options, key=key, max_selections=most, **settings)``
    with its ids kept in the URL (see :func:`choices_from_url`)."""
    choices_from_url(key, options, default, most)
    widget(label, options, key=key, max_selections=most, **_labels_fixed_now(options, settings))
    return choices_to_url(key, default)


# --- Choices through a language switch -----------------------------------------------------------
#
# A choice widget's value travels between browser and server as its *label*: the browser
# keeps the label it last showed ("Emboss") and sends it back on every rerun. After a
# language switch the options are Chinese; the English label matches none of them, so
# Streamlit resets the choice to its first option (Identity) at the next interaction, and
# the drop-down keeps showing "Emboss" meanwhile. So the switch re-sets every translated
# choice to its own id (a programmatic set makes Streamlit send the browser the new label).

_TRANSLATED_CHOICES = "ui.translated_choices"


def _remember_translated_choice(key: str) -> None:
    st.session_state.setdefault(_TRANSLATED_CHOICES, set()).add(key)


def keep_choices_through_language_switch() -> None:
    """``on_change`` of the language switch: every translated choice keeps its id, and the browser
    is sent its label in the new language."""
    for key in st.session_state.get(_TRANSLATED_CHOICES, ()):
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def _labels_fixed_now(options: list[str], settings: dict) -> dict:
    """``settings`` with its ``format_func`` evaluated now, in this run's language: Streamlit (and
    AppTest, which formats outside any run) may call it later, when ``ui.t`` would not know the session."""
    format_func = settings.get("format_func")
    if format_func is None:
        return settings
    labels = {option: str(format_func(option)) for option in options}
    return {**settings, "format_func": lambda option: labels.get(option, str(option))}


def class_label(name: str) -> str:
    """A class name in the interface language where the catalogue has one (the shapes), else as stored."""
    return feature_maps_view.class_label(name, lang())


def class_labels(names: Sequence[str]) -> tuple[str, ...]:
    """A network's class names in the interface language, in output order: ImageNet's from its
    translated list (by position: two of its English names repeat), others as ``class_label``."""
    return feature_maps_view.class_labels(names, lang())


def setting_buttons(suggestions: list[tuple[str, int | str]], prefix: str) -> None:
    """One button per suggested setting (``convolution.suggest_valid_settings``) that sets the
    widget ``<prefix>.<name>`` to it; the words are the convolution lesson's (``conv.*``)."""
    if suggestions:
        st.caption(t("conv.nearest"))
    for name, value in suggestions:
        shown = t(f"conv.padding_mode.{value}") if name == "padding_mode" else value
        st.button(
            t("conv.use_setting", name=t(f"conv.{name}"), value=shown), key=f"{prefix}.use_{name}",
            on_click=st.session_state.__setitem__, args=(f"{prefix}.{name}", value), icon=":material/auto_fix_high:",
        )  # fmt: skip


def code_panel(code: str, expanded: bool = False) -> None:
    """The PyTorch lines that reproduce the page's current settings, copyable.

    ``code`` comes from :mod:`cnnviz.codegen` (a test runs it and compares with the page).
    """
    with st.expander(t("ui.code"), expanded=expanded, icon=":material/code:"):
        st.code(code, language="python")
        st.caption(t("ui.code_caption"))


def view_code_panel(view_key: str, expanded: bool = False, place: str = "code") -> None:
    """:func:`code_panel` whose code is part of a scrubbing view's frames (``cnnviz.drawing.markup.code_html``
    in the frames' place ``place``): it follows the view's sliders while they are dragged, with no rerun."""
    with st.expander(t("ui.code"), expanded=expanded, icon=":material/code:"):
        scrub_view.place(view_key, place)
        st.caption(t("ui.code_caption"))


# --- Heavy work through the server's one budget (cnnviz.heavy_jobs) ---------------------------


def place_in_line(position: int) -> str:
    """``3`` -> "3rd in line" ("第 3 位")."""
    suffix = "th" if 10 <= position % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(position % 10, "th")
    return t(f"heavy.ordinal.{suffix}", n=position)


def _show_waiting(where, position: int) -> None:
    where.info(t("heavy.waiting", place=place_in_line(position), slots=heavy_jobs.shared().slots),
               icon=":material/hourglass_top:")  # fmt: skip


def _owner() -> str:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    context = get_script_run_ctx()
    return context.session_id if context else ""


@contextlib.contextmanager
def heavy_work() -> Iterator[None]:
    """One heavy call (an ImageNet forward pass, an attribution map) through the server's
    budget: ``with ui.heavy_work(): result = forward(...)``. Waits its turn, showing the
    place in line, then runs and gives the slot back (on an exception too). A rerun the
    student starts meanwhile (another setting) leaves the line."""
    place = st.empty()
    with heavy_jobs.shared().slot(_owner(), on_wait=lambda position: _show_waiting(place, position)):
        place.empty()
        yield


@contextlib.contextmanager
def heavy_slice(key: str, wait_seconds: float = 0.0, show_wait: bool = True) -> Iterator[bool]:
    """One slice of a long heavy job (a training slice, steps of an optimisation) through the
    server's budget, for a page that reruns itself between slices (``run_every``, ``st.rerun``):

        with ui.heavy_slice("train.slice") as my_turn:
            if my_turn:
                run.advance(SLICE_SECONDS)

    Yields True when this session holds a slot (released after the block, so every slice
    queues again behind the others: turns go round); False while it waits, after showing its
    place in line (the ticket is kept in the session until its turn; ``wait_seconds``: wait
    up to this long for it first; ``show_wait=False``: the page says it, see ``heavy_place``).
    ``heavy_stop(key)`` leaves the line.
    """
    name = f"heavy.{key}"
    ticket = st.session_state.get(name)
    if ticket is None or ticket.finished:
        ticket = st.session_state[name] = heavy_jobs.shared().enqueue(_owner())
    place = st.empty() if show_wait else None
    position = ticket.position()
    if position > 0 and wait_seconds > 0:
        if place is not None:
            _show_waiting(place, position)
        ticket.wait(wait_seconds)
        position = ticket.position()
    if position != 0:
        if position > 0 and place is not None:
            _show_waiting(place, position)
        yield False
        return
    if place is not None:
        place.empty()
    try:
        with ticket:
            yield True
    finally:
        st.session_state.pop(name, None)


def heavy_place(key: str) -> int:
    """This session's place in line for heavy job ``key`` (1 = next); 0 when it is not waiting."""
    ticket = st.session_state.get(f"heavy.{key}")
    return max(ticket.position(), 0) if ticket is not None and not ticket.finished else 0


def heavy_stop(key: str) -> None:
    """The owner stops heavy job ``key``: its ticket leaves the line (or its slot is given back)."""
    ticket = st.session_state.pop(f"heavy.{key}", None)
    if ticket is not None:
        ticket.cancel()
        ticket.release()
