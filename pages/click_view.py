"""Mount a click view (``cnnviz/frontend/click_view.js``): pictures that report which pixel was clicked.

The pixel clicked is kept as text in ``st.session_state[<state key>]`` and in the URL under
the same name (``?conv.pixel=120,45``), so a link opens on the same pixel; a page reads it
with :func:`clicked`. That key is also the page's testable path: an AppTest sets
``at.session_state["conv.pixel"] = "120,45"`` (AppTest runs no JavaScript).
"""

from __future__ import annotations

import base64
import functools
from dataclasses import dataclass

import streamlit as st

from cnnviz import frontend

CLICK_VIEW = st.components.v2.component(
    "cnnviz.click_view", js=frontend.click_view_js(), css=frontend.click_view_css(), isolate_styles=False
)


@dataclass(frozen=True)
class Clickable:
    """One picture of a click view.

    Attributes:
        picture: PNG or JPEG bytes (any display size: clicks are mapped to ``rows`` x ``cols``).
        rows, cols: the size of the picture the engine computed, in its own pixels.
        alt: the picture's text alternative; caption: words under it ("" for none).
        marks: an SVG from ``cnnviz.drawing.marks.marks_svg`` in those pixels, laid over it.
        at: (row, col) marked now, or None; clickable: False for a picture that only shows marks.
    """

    picture: bytes
    rows: int
    cols: int
    alt: str = ""
    caption: str = ""
    marks: str = ""
    at: tuple[int, int] | None = None
    clickable: bool = True

    def as_data(self) -> dict:
        kind = "png" if self.picture.startswith(b"\x89PNG") else "jpeg"
        source = f"data:image/{kind};base64,{base64.b64encode(self.picture).decode()}"
        at = None if self.at is None else {"row": self.at[0], "col": self.at[1]}
        return {"src": source, "alt": self.alt, "caption": self.caption, "rows": self.rows, "cols": self.cols,
                "clickable": self.clickable, "at": at, "marks": self.marks}  # fmt: skip


def clicked(state_key: str, parts: int = 2) -> tuple[int, ...] | None:
    """The pixel last clicked (``parts`` whole numbers: row, col[, picture]), from the session or the URL.

    A value that is not ``parts`` non-negative whole numbers is dropped from the URL.
    """
    if state_key not in st.session_state:
        st.session_state[state_key] = st.query_params.get(state_key, "")
    numbers = str(st.session_state[state_key]).split(",")
    if len(numbers) == parts and all(number.isdigit() for number in numbers):
        st.query_params[state_key] = st.session_state[state_key]
        return tuple(map(int, numbers))
    st.query_params.pop(state_key, None)
    return None


def store_click(key: str, state_key: str, with_picture: bool) -> None:
    """on_click_change: keep the pixel clicked where :func:`clicked` reads it (a click view's, or a
    scrubbing view's whose frames hold clickable pictures: ``pages/scrub_view.py``)."""
    click = (st.session_state.get(key) or {}).get("click") or {}
    numbers = [click.get("row"), click.get("col")] + ([click.get("picture")] if with_picture else [])
    if all(isinstance(number, int) and number >= 0 for number in numbers):
        st.session_state[state_key] = ",".join(map(str, numbers))


def click_view(key: str, state_key: str, pictures: list[Clickable], label: str, with_picture: bool = False) -> None:
    """Show pictures side by side; a click on one stores its pixel under ``state_key`` and reruns.

    Args:
        key: the component's widget key (``"conv.click"``).
        state_key: where the pixel is kept (``"conv.pixel"``): "row,col", or "row,col,picture"
            with ``with_picture`` (which of several pictures was clicked).
        label: what a click does (the pictures' tooltip).
    """
    CLICK_VIEW(
        key=key, data={"label": label, "pictures": [picture.as_data() for picture in pictures]},
        on_click_change=functools.partial(store_click, key, state_key, with_picture),
    )  # fmt: skip
