"""What Convolution on the photo's scrubbing view shows (``cnnviz/drawing/convolution_view.py``), read back
from an AppTest run: the frame of its base settings, slot by slot (``SLOTS``), in the words a student reads."""

from __future__ import annotations

import html
import re

from cnnviz.drawing.convolution_view import SLOTS
from cnnviz.drawing.mathml import latex_sources
from tests import scrub

VIEW = "conv.scrub"
_FIGURE = re.compile(r'<figure class="click-figure">(?P<inner>.*?)</figure>', re.S)


def slot(at, name: str) -> str:
    """The HTML the view shows in slot ``name`` (its base frame)."""
    frame_set = scrub.frame_set(at, VIEW)
    return frame_set["parts"][frame_set["rest"][SLOTS.index(name)]]


def words(part: str) -> str:
    """A part's text, bold as Markdown (``**Output** · 298 × 449``), tags dropped."""
    text = re.sub(r"</?strong>", "**", part)
    return html.unescape(re.sub(r"<[^>]+>", " ", text)).strip()


def output_heading(at) -> str:
    return " ".join(words(slot(at, "output_heading")).split())


def input_heading(at) -> str:
    return " ".join(words(slot(at, "input_heading")).split())


def captions(at) -> list[str]:
    """The view's captions (under the input, under the output, under the formula), tags dropped."""
    found = re.findall(r'<div class="cnnviz-caption"><p>(.*?)</p></div>', scrub.shown(at, VIEW), re.S)
    return [html.unescape(caption) for caption in found]


def value_range(at) -> str:
    return next(caption for caption in captions(at) if caption.startswith(("Values from", "数值范围")))


def notes(at, kind: str) -> list[str]:
    """The view's notes of ``kind`` (warning: no output; info: fix the kernel), bold as Markdown."""
    return [words(note) for note in scrub.notes(at, VIEW, kind)]


def formula(at) -> str:
    (latex,) = latex_sources(slot(at, "formula"))
    return latex


def pictures(at, name: str = "output") -> list[dict]:
    """The clickable pictures of slot ``name`` (``output``, or ``maps`` for R, G, B separately) as a click
    view's data reads (``tests/clicks.py``): src, alt, caption, rows, cols, at, marks."""
    found = []
    for figure in _FIGURE.finditer(slot(at, name)):
        inner = figure["inner"]
        frame = re.search(r'data-rows="(\d+)" data-cols="(\d+)" data-at="([\d,]*)"', inner)
        caption = re.search(r"<figcaption>(.*?)</figcaption>", inner)
        found.append({
            "src": re.search(r'src="([^"]+)"', inner)[1],
            "alt": html.unescape(re.search(r'alt="([^"]*)"', inner)[1]),
            "caption": html.unescape(caption[1]) if caption else "",
            "rows": int(frame[1]), "cols": int(frame[2]),
            "at": tuple(map(int, frame[3].split(","))) if frame[3] else None,
            "marks": re.search(r'<div class="click-marks-slot">(.*?)</div>', inner, re.S)[1],
        })  # fmt: skip
    return found


def input_picture(at) -> dict:
    """The input as drawn (``src``) and the window's marks laid over it (``marks``)."""
    return {"src": re.search(r'src="([^"]+)"', slot(at, "input_picture"))[1], "marks": slot(at, "input_marks")}
