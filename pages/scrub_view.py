"""Mount a scrubbing view (``cnnviz/frontend/scrub_view.js``) and keep its sliders' values.

The view owns its sliders in the browser: while one is dragged it swaps frames the
engine drew ahead of time (``cnnviz.drawing.frames``); on release it sends every value
back, and :func:`scrub_view`'s callback stores them in ``st.session_state["<prefix>.<name>"]``
(the keys ``st.slider`` used), which the page reads like any other setting. Those keys are
also the page's testable path: an AppTest sets ``at.session_state["size.input"] = 20``.
The values are kept in the URL by :func:`values_from_url` / :func:`values_to_url`.

A lazy frame set (frames that are pictures) holds the frames of one slider at most: pressing a
slider the view has no frames for sends its name, which :func:`pressed` hands to the page (once)
to draw that slider's frames; an AppTest sets ``at.session_state["<key>.pressed"] = "bias"``.
A view whose frames hold clickable pictures stores the pixel clicked as a click view does
(``pages/click_view.py``, ``clicks=``).

A frame set's places (``frames.frame_sets(..., places=)``) are drawn where the page calls
:func:`place`: the view puts those slots there and swaps them while a slider is dragged, so the
panels they hold (the code for the settings) follow the pointer and a release redraws none of them.
"""

from __future__ import annotations

import functools
import gzip
import json
from collections.abc import Callable

import streamlit as st

from cnnviz import frontend
from pages.click_view import store_click

SCRUB_VIEW = st.components.v2.component(
    "cnnviz.scrub_view", js=frontend.scrub_view_js(), css=frontend.scrub_view_css(), isolate_styles=False
)


def _from_url(text: str, low: float, high: float, default: float, step: float, scale: int) -> float:
    """A URL's value for a slider, in the slider's units (a setting held in steps of 1/scale is
    written as the setting: ``?loss.logit0=2.5`` is 25), on its range and its steps, else the default."""
    try:
        value = float(text) * scale
    except ValueError:
        return default
    if isinstance(default, int):  # a whole-number slider stays whole
        if abs(value - round(value)) > 1e-6:
            return default
        value = round(value)
    steps = (value - low) / step
    return value if low <= value <= high and abs(steps - round(steps)) < 1e-6 else default


def values_from_url(prefix: str, ranges: dict[str, tuple], scales: dict[str, int] | None = None) -> dict[str, float]:
    """Each slider's value: as last released, else from the URL (``?size.input=20``), else its
    default (a value off the range or its steps falls back to the default, and
    :func:`values_to_url` drops it from the URL, as a bound ``st.slider`` does).

    Args:
        prefix: the page's key prefix (``"size"``).
        ranges: slider name -> (low, high, default) for whole numbers, or (low, high, default, step).
        scales: slider name -> n for a decimal setting held in whole steps of 1/n: the session
            and the URL hold the setting (``?loss.logit0=2.5``), the slider 25 (n = 10).
    """
    values = {}
    for name, (low, high, default, *step) in ranges.items():
        key, scale = f"{prefix}.{name}", (scales or {}).get(name, 1)
        if key not in st.session_state:
            value = _from_url(st.query_params.get(key, ""), low, high, default, *(step or [1]), scale)
            st.session_state[key] = value if scale == 1 else value / scale
        stored = st.session_state[key]
        values[name] = type(default)(stored) if scale == 1 else round(float(stored) * scale)
    return values


def values_to_url(
    prefix: str, ranges: dict[str, tuple], values: dict[str, float], scales: dict[str, int] | None = None
) -> None:
    """Write the values that differ from their default to the URL, and drop the others."""
    for name, (_, _, default, *_) in ranges.items():
        key, scale = f"{prefix}.{name}", (scales or {}).get(name, 1)
        if values[name] == default:
            st.query_params.pop(key, None)
        else:
            st.query_params[key] = str(values[name]) if scale == 1 else f"{values[name] / scale:g}"


def pack(frame_set: dict) -> bytes:
    """A frame set as the view reads it: gzipped JSON (Streamlit's websocket does not
    compress; output size's 1.1 MB of SVG and MathML become ~45 kB). Pages cache it."""
    text = json.dumps(frame_set, ensure_ascii=False, separators=(",", ":"))
    return gzip.compress(text.encode("utf-8"), compresslevel=6, mtime=0)


def pack_pictures(pictures: dict[str, str]) -> bytes:
    """A picture set (``frames.split_pictures``: {id: data URL}) as :func:`scrub_view` mounts it
    (``pictures=``); the frame set whose parts refer to it is :func:`pack`-ed as any other."""
    return pack({"pictures": pictures})


@functools.cache
def _place_data(key: str, name: str) -> bytes:
    return pack({"place": name, "view": key})


def place(key: str, name: str) -> None:
    """Where the view ``key`` draws its frames' slots of place ``name`` (``layout["places"]``).

    The element is this component too, keyed ``"<key>.place.<name>"``; it shows nothing of its own,
    and nothing at all when the view's frames have no slots for ``name``. A page mounts it in every
    run the view is mounted in (as any element: an element a run leaves out is removed), before or
    after the view.
    """
    SCRUB_VIEW(key=f"{key}.place.{name}", data=_place_data(key, name))


def _store_press(key: str) -> None:
    """on_press_change: remember which slider the view wants frames for (see :func:`pressed`)."""
    name = (st.session_state.get(key) or {}).get("press")
    if isinstance(name, str):
        st.session_state[f"{key}.pressed"] = name


def pressed(key: str) -> str | None:
    """The slider a lazy view asked frames for since the last run, or None; asked once: a later run
    (a release, another widget) draws no frames the view did not ask for."""
    return st.session_state.pop(f"{key}.pressed", None)


def _store_release(
    key: str, prefix: str, names: list[str], scales: dict[str, int], then: Callable[[], None] | None = None
) -> None:
    """on_release_change: put the released values where the page reads its settings; then call ``then``
    (the page's own callback: it may choose what reruns, ``st.rerun(scope=[fragment keys])``)."""
    released = (st.session_state.get(key) or {}).get("release") or {}
    for name in names:
        if isinstance(released.get(name), int | float):
            scale = scales.get(name, 1)
            if scale != 1:  # the session holds the setting, the slider its steps of 1/scale
                st.session_state[f"{prefix}.{name}"] = round(released[name]) / scale
                continue
            kept = st.session_state.get(f"{prefix}.{name}")  # a whole-number slider stays whole
            value = float(released[name]) if isinstance(kept, float) else int(released[name])
            st.session_state[f"{prefix}.{name}"] = round(value, 9) if isinstance(value, float) else value
    if then is not None:
        then()


def reserve():
    """A scrubbing view's place on the page, to fill (``with place: scrub_view(...)``) after the
    panels that follow its sliders.

    A release reruns the page's fragment, and Streamlit sends each element as the script reaches
    it. The new frame set (every other slider's frames around the released value) is the run's
    slowest part (10 ms to over 1 s of drawing and packing on a busy server, ``bench/RESULTS.md``),
    while what a release changes on screen is the URL and the panels: the frames of the released
    slider, the one on show, are already in the browser. So the panels go first and are painted
    while the frame set is drawn; the view keeps its DOM (same container, same key).
    """
    return st.container()


def scrub_view(
    key: str, prefix: str, names: list[str], packed: bytes, scales: dict[str, int] | None = None,
    clicks: str | None = None, pictures: bytes | None = None, on_release: Callable[[], None] | None = None,
) -> None:  # fmt: skip
    """Show a frame set (``cnnviz.drawing.frames.frame_sets``, :func:`pack`-ed) as a scrubbing view.

    Args:
        key: the component's widget key (``"size.scrub"``).
        prefix: the sliders' session-state prefix (``"size"`` for ``size.input``...).
        names: the sliders' names, as in the frame set.
        packed: the frame set around the current values, from :func:`pack`.
        scales: as in :func:`values_from_url` (the session holds value / scale).
        clicks: for frames with clickable pictures, where the pixel clicked is kept
            (``"conv.pixel"``: "row,col,picture", as ``click_view.clicked(state_key, 3)`` reads it).
        pictures: the frame set's pictures, when sent apart (:func:`pack_pictures`): mounted
            just before the view, as the element ``<key>.pictures``.
        on_release: called after a release has stored the values (a widget callback: it may
            ``st.rerun(scope=[...])`` other keyed fragments along with the view's).
    """
    if pictures is not None:
        SCRUB_VIEW(key=f"{key}.pictures", data=pictures)
    store = functools.partial(_store_release, key, prefix, names, dict(scales or {}), on_release)
    callbacks = {"on_release_change": store, "on_press_change": functools.partial(_store_press, key)}
    if clicks:
        callbacks["on_click_change"] = functools.partial(store_click, key, clicks, True)
    SCRUB_VIEW(key=key, data=packed, **callbacks)
