"""What a scrubbing view (``pages/scrub_view.py``) shows, read back from an AppTest run.

AppTest runs no JavaScript: it sees an ``st.components.v2`` element as an ``UnknownElement``
whose proto holds the data sent to the browser. Here that is a frame set (gzipped JSON,
``cnnviz.drawing.frames``); the view shows the frame of its base settings until a slider
moves. Its sliders' values live in ``st.session_state["<prefix>.<name>"]``: a test moves a
slider with :func:`move` (what a release does) and reads it with ``at.session_state``.
A view whose pictures travel apart (``frames.split_pictures``) has them in the element
``<key>.pictures``; :func:`shown` puts them back, as the browser does. A frame set's slots drawn in
places (``frames.slots_in``) are read with :func:`placed`, which also checks that the page mounted
the place (the element ``<key>.place.<name>``); :func:`shown` leaves them out, as the view's own
element does.
"""

from __future__ import annotations

import gzip
import html
import json
import re

from cnnviz.drawing.frames import frame_at, slots_in, with_pictures
from cnnviz.drawing.mathml import latex_sources
from tests.charts import _svgs

_NOTE = re.compile(r'<div class="cnnviz-note (?P<kind>\w+)"><p>(?P<text>.*?)</p></div>', re.S)


def frame_set(at, key: str) -> dict:
    """The frame set the view with widget key ``key`` was sent."""
    (element,) = [node for node in at.get("bidi_component") if node.proto.id.endswith(f"-{key}")]
    return json.loads(gzip.decompress(element.proto.bytes))


def pictures(at, key: str) -> dict[str, str]:
    """The pictures sent apart for the view with widget key ``key`` ({id: data URL}; none when they travel in its parts)."""
    found = [node for node in at.get("bidi_component") if node.proto.id.endswith(f"-{key}.pictures")]
    return json.loads(gzip.decompress(found[0].proto.bytes))["pictures"] if found else {}


def every_note(at) -> list[str]:
    """The notes (any kind, tags dropped) of every scrubbing view on the page, as shown at their base setting."""
    found = []
    for element in at.get("bidi_component"):
        if element.proto.component_name != "cnnviz.scrub_view":  # a click view carries no frames
            continue
        frames = json.loads(gzip.decompress(element.proto.bytes))
        if "sliders" not in frames:  # a picture set (frames.split_pictures)
            continue
        first = frames["sliders"][0]["name"]
        html_shown = "".join(frame_at(frames, first, frames["base"][first]))
        found += [html.unescape(re.sub(r"<[^>]+>", "", match["text"])) for match in _NOTE.finditer(html_shown)]
    return found


def shown(at, key: str, place: str | None = None) -> str:
    """The HTML of the frame the view shows (its base setting) in its own element, or in ``place``:
    those slots' parts joined, pictures in place."""
    frames = frame_set(at, key)
    first = frames["sliders"][0]["name"]
    parts = frame_at(frames, first, frames["base"][first])
    return with_pictures("".join(parts[slot] for slot in slots_in(frames, place)), pictures(at, key))


def place_data(at, key: str, name: str) -> dict:
    """What the page mounted as the view ``key``'s place ``name`` (``pages/scrub_view.py``: place)."""
    (element,) = [node for node in at.get("bidi_component") if node.proto.id.endswith(f"-{key}.place.{name}")]
    return json.loads(gzip.decompress(element.proto.bytes))


def placed(at, key: str, name: str) -> str:
    """The HTML the page shows in the view ``key``'s place ``name``: the slots the view puts there (the
    page must have mounted the place for them)."""
    assert place_data(at, key, name) == {"place": name, "view": key}
    return shown(at, key, name)


def code_text(block: str) -> str:
    """A code block's code (``markup.code_html``) as its copy button copies it: its ``<code>``'s text."""
    return html.unescape(re.sub(r"<[^>]+>", "", re.search(r"<code[^>]*>(.*)</code>", block, re.S)[1]))


def notes(at, key: str, kind: str) -> list[str]:
    return [html.unescape(match["text"]) for match in _NOTE.finditer(shown(at, key)) if match["kind"] == kind]


def formulas(at, key: str) -> list[str]:
    return latex_sources(shown(at, key))


def svgs(at, key: str) -> list:
    return _svgs(shown(at, key))


def move(at, key: str, value: int):
    """What releasing a slider at ``value`` does: store it, and rerun."""
    at.session_state[key] = value
    at.run()
    assert not at.exception
    return at
