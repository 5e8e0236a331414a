"""Mount a scrubbing view (``cnnviz/frontend/scrub_view.js``) and keep its sliders' values.

The view owns its sliders in the browser: while one is dragged it swaps frames the
engine drew ahead of time (``cnnviz.drawing.frames``); on release it sends every value
back, and :func:`scrub_view`'s callback stores them in ``st.session_state["<prefix>.<name>"]``
(the keys ``st.slider`` used), which the page reads like any other setting. Those keys are
also the page's testable path: an AppTest sets ``at.session_state["size.input"] = 20``.
The values are kept in the URL by :func:`values_from_url` / :func:`values_to_url`.
"""

from __future__ import annotations

import functools
import gzip
import json

import streamlit as st

from cnnviz import frontend

SCRUB_VIEW = st.components.v2.component(
    "cnnviz.scrub_view", js=frontend.scrub_view_js(), css=frontend.scrub_view_css(), isolate_styles=False
)


def values_from_url(
    prefix: str, ranges: dict[str, tuple[int, int, int]], scales: dict[str, int] | None = None
) -> dict[str, int]:
    """Each slider's value: as last released, else from the URL (``?size.input=20``), else its
    default (a value off the range or not a whole number falls back to the default, and
    :func:`values_to_url` drops it from the URL, as a bound ``st.slider`` does).

    Args:
        prefix: the page's key prefix (``"size"``).
        ranges: slider name -> (low, high, default).
        scales: slider name -> n for a decimal setting held in whole steps of 1/n: the session
            and the URL hold the setting (``?loss.logit0=2.5``), the slider 25 (n = 10).
    """
    values = {}
    for name, (low, high, default) in ranges.items():
        key, scale = f"{prefix}.{name}", (scales or {}).get(name, 1)
        if key not in st.session_state:
            steps = _whole_steps(st.query_params.get(key, ""), scale)
            st.session_state[key] = (steps if steps is not None and low <= steps <= high else default) / scale
            if scale == 1:
                st.session_state[key] = int(st.session_state[key])
        values[name] = round(float(st.session_state[key]) * scale)
    return values


def _whole_steps(text: str, scale: int) -> int | None:
    """``text`` (from the URL) in whole steps of 1/scale, or None if it is not a number on those steps."""
    if scale == 1:
        return int(text) if text.lstrip("-").isdigit() else None
    try:
        steps = float(text) * scale
    except ValueError:
        return None
    return round(steps) if abs(steps - round(steps)) < 1e-6 else None


def values_to_url(
    prefix: str, ranges: dict[str, tuple[int, int, int]], values: dict[str, int], scales: dict[str, int] | None = None
) -> None:
    """Write the values that differ from their default to the URL, and drop the others."""
    for name, (_, _, default) in ranges.items():
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


def _store_release(key: str, prefix: str, names: list[str], scales: dict[str, int]) -> None:
    """on_release_change: put the released values where the page reads its settings."""
    released = (st.session_state.get(key) or {}).get("release") or {}
    for name in names:
        if isinstance(released.get(name), int | float):
            scale = scales.get(name, 1)
            st.session_state[f"{prefix}.{name}"] = int(released[name]) if scale == 1 else round(released[name]) / scale


def scrub_view(key: str, prefix: str, names: list[str], packed: bytes, scales: dict[str, int] | None = None) -> None:
    """Show a frame set (``cnnviz.drawing.frames.frame_sets``, :func:`pack`-ed) as a scrubbing view.

    Args:
        key: the component's widget key (``"size.scrub"``).
        prefix: the sliders' session-state prefix (``"size"`` for ``size.input``...).
        names: the sliders' names, as in the frame set.
        packed: the frame set around the current values, from :func:`pack`.
        scales: as in :func:`values_from_url` (the session holds value / scale).
    """
    on_release = functools.partial(_store_release, key, prefix, names, dict(scales or {}))
    SCRUB_VIEW(key=key, data=packed, on_release_change=on_release)
