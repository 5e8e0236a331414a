"""Boxes drawn over a picture: the window an output pixel came from, the pixel clicked, a receptive field.

``marks_svg`` returns an SVG in the picture's own pixel coordinates that a page lays over the
``<img>`` (the click view, ``cnnviz/frontend/click_view.js``, stretches it to the picture; in a
scrubbing view's frame, :func:`clickable_picture_html` does):
a box stays on its pixels at any display size, and its lines stay 2 screen pixels wide
(``vector-effect: non-scaling-stroke``), so a 3 x 3 window on a 1024-pixel photo shown at
480 pixels is still drawn, and a dashed ring around it says where to look.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Literal

from cnnviz.drawing.pictures import picture_html

#: Colours that read on photos, light or dark: each line is drawn dark under light.
MARK_COLOURS = {"window": "#facc15", "tap": "#facc15", "pixel": "#f472b6", "field": "#22d3ee"}
#: A box smaller than this share of the picture's longer side gets a dashed ring to find it by.
RING_SHARE = 1 / 16


@dataclass(frozen=True)
class Box:
    """A rectangle of pixels: rows ``top`` .. ``top + height - 1``, columns ``left`` .. ``left + width - 1``.

    ``kind``: "window" (the kernel's span), "tap" (one pixel a dilated kernel reads),
    "pixel" (the output pixel clicked) or "field" (a receptive field).
    """

    top: int
    left: int
    height: int
    width: int
    kind: Literal["window", "tap", "pixel", "field"] = "window"


def window_boxes(tap_rows, tap_cols, kind: Literal["window", "field"] = "window") -> list[Box]:
    """The kernel's span over these taps; each tap too when they are not neighbours (dilation)."""
    rows, cols = list(map(int, tap_rows)), list(map(int, tap_cols))
    span = Box(rows[0], cols[0], rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1, kind)
    if span.height == len(rows) and span.width == len(cols):
        return [span]
    return [span, *(Box(row, col, 1, 1, "tap") for row in rows for col in cols)]


def _rect(box: Box, colour: str, width: float, dashed: bool = False, inflate: float = 0.0) -> str:
    dash = ' stroke-dasharray="5 4"' if dashed else ""
    return (
        f'<rect x="{box.left - inflate:g}" y="{box.top - inflate:g}" width="{box.width + 2 * inflate:g}" '
        f'height="{box.height + 2 * inflate:g}" fill="none" stroke="{colour}" stroke-width="{width:g}"'
        f'{dash} vector-effect="non-scaling-stroke"/>'
    )


def marks_svg(height: int, width: int, boxes: list[Box]) -> str:
    """The boxes as an SVG ``height`` x ``width`` picture pixels, stretched over the picture.

    Returns:
        ``<svg>`` text, empty for no boxes.
    """
    if not boxes:
        return ""
    ring = max(height, width) * RING_SHARE
    parts = []
    for box in boxes:
        colour = MARK_COLOURS[box.kind]
        if box.kind != "tap" and max(box.height, box.width) < ring:  # too small to find on its own
            parts += [_rect(box, "#111827", 3, True, ring / 2), _rect(box, colour, 1.5, True, ring / 2)]
        line = 1 if box.kind == "tap" else 2
        parts += [_rect(box, "#111827", line + 2), _rect(box, colour, line)]
    return (
        f'<svg class="click-marks" viewBox="0 0 {width} {height}" preserveAspectRatio="none" '
        f'xmlns="http://www.w3.org/2000/svg" aria-hidden="true">{"".join(parts)}</svg>'
    )


def clickable_picture_html(
    picture: bytes,
    rows: int,
    cols: int,
    *,
    index: int = 0,
    alt: str = "",
    caption: str = "",
    marks: str = "",
    at: tuple[int, int] | None = None,
    label: str = "",
) -> str:
    """A picture that reports which of its pixels is clicked, with ``marks`` laid over it, as HTML.

    The markup of ``cnnviz/frontend/click_view.js``'s figures (and its CSS), for a scrubbing
    view's frame: ``scrub_view.js`` sends a click (or an arrow key on the focused picture) on
    ``.click-frame.clickable`` as ``{picture: index, row, col}``.

    Args:
        picture: PNG or JPEG bytes, any display size.
        rows, cols: the size of the picture the engine computed, in its own pixels (clicks map to them).
        index: which picture of the view this is (R, G, B's maps: 0, 1, 2).
        alt, caption: its text alternative, and words under it ("" for none).
        marks: an SVG from :func:`marks_svg` in those pixels.
        at: the (row, col) marked now (the arrow keys move from it), or None.
        label: what a click does (the tooltip).
    """
    at_text = "" if at is None else f"{at[0]},{at[1]}"
    caption_html = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    return (
        f'<figure class="click-figure"><div class="click-frame clickable" tabindex="0" title="{html.escape(label)}" '
        f'data-picture="{index}" data-rows="{rows}" data-cols="{cols}" data-at="{at_text}">'
        f'{picture_html(picture, alt, style="")}<div class="click-marks-slot">{marks}</div></div>{caption_html}</figure>'
    )
