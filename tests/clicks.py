"""What a click view (``pages/click_view.py``) shows, read back from an AppTest run.

AppTest runs no JavaScript: it sees an ``st.components.v2`` element as a ``bidi_component``
whose proto holds the JSON sent to the browser (``{"label", "pictures": [...]}``). A test
clicks by setting the pixel's state key (``at.session_state["conv.pixel"] = "3,4,0"``),
as the view's callback does.
"""

from __future__ import annotations

import base64
import io
import json

import numpy as np
from PIL import Image


def view_data(at, key: str) -> dict:
    """The data the click view with widget key ``key`` was sent."""
    (element,) = [node for node in at.get("bidi_component") if node.proto.id.endswith(f"-{key}")]
    return json.loads(element.proto.json)


def pictures(at, key: str) -> list[dict]:
    return view_data(at, key)["pictures"]


def decoded(picture: dict) -> np.ndarray:
    """A picture's pixels (RGB, float) as the browser decodes its ``data:`` source."""
    data = picture["src"].split(",", 1)[1]
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB"), float)


def click(at, state_key: str, value: str):
    """What a click does: store the pixel, and rerun."""
    at.session_state[state_key] = value
    at.run()
    assert not at.exception
    return at
