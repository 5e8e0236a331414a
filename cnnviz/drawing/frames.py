"""Frame sets: a view drawn ahead of time for every value of every slider, for scrubbing.

A scrubbing view (``cnnviz/frontend/scrub_view.js``) swaps pictures while a slider is
dragged, with no trip to the server. It can only show what the engine computed, so the
server draws the view for each value a slider can take *given the other sliders' current
values* ("the frames"), and sends them at once. A frame is a few parts (e.g. the formula,
the drawing); parts are deduplicated, since neighbouring values often share some.

The data sent (JSON), which ``scrub_view.js`` documents at its top too::

    {"sliders": [{"name", "label", "low", "high", "step", "value", "help", "texts"}, ...],  # help, texts: optional
     "base": {name: value, ...},          # the settings every frame set was drawn around
     "parts": ["<svg…>", "<math…>", ...],  # each distinct part once
     "frames": {name: [[part index, ...] for each value low..high], ...},
     "rest": [part index, ...],           # the frame of the base settings
     "lazy": true,                        # optional: "frames" holds only the sliders asked for
     "context": "…",                      # optional: what else the frames depend on (a photo, a kernel)
     "layout": {"class": "...", "inline": [slot, ...],   # optional: the view's class, slots side by side,
                "places": {place: [slot, ...], ...}}}    # slots drawn elsewhere on the page (below)

The frame for slider ``name`` at ``value`` is ``frames[name][round((value - low) / step)]``, and
equals ``draw({**base, name: value})`` (``tests/engine/test_frames.py`` checks it).

A lazy frame set (``only=``) holds the frames of the sliders named, or none: for frames that
are pictures (Convolution on the photo: ~25 kB each, 41 for the bias alone), the view asks for
a slider's frames when it is pressed, and keeps them while the other sliders and the context
stay as they were drawn for (a slider's frames depend only on the others).

Places: a frame's slots may be drawn elsewhere on the page than the view's own element (the
sliders and the other slots): ``layout["places"]`` names, for each place, the slots drawn there
(``frame_sets(..., places={"code": [2]})``). A page mounts the place where the slots go
(``pages/scrub_view.py``: ``place(view key, "code")``); the view moves them there and swaps their
parts on every slider move, as its own slots'. So a panel that depends only on the view's sliders
(the code for the settings) follows the pointer while it drags, and a release redraws nothing on
screen. A slot is in one place at most; ``slots_in`` says which slots a place (or the view) draws.

Pictures (``<img src="data:...">``) may travel apart (``split_pictures``): the parts then hold
``<img data-picture-id="id">``, and a picture set ``{"pictures": {id: "data:..."}}`` is mounted as its
own element beside the view. A release changes a frame set's ``base``, so the frame set is sent
again; a picture set that did not change is sent as a reference to what the browser holds
(Streamlit's message cache), not as the megabytes of pictures again.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Slider:
    """One slider of a scrubbing view: its setting's name, its label, its range and its value.

    ``texts``, if given, is what the view writes for each value low..high (a logit held in
    tenths: "−1.5" for -15); else it writes the value.
    """

    name: str
    label: str
    low: float
    high: float
    value: float
    step: float = 1
    help: str = ""  # a sentence on what the setting does (the view shows it on the label's "?")
    texts: tuple[str, ...] = ()

    @property
    def values(self) -> list[float]:
        """low, low + step, ... high; a decimal step's values rounded to its decimals (0.3, not 0.30000000000000004)."""
        count = round((self.high - self.low) / self.step) + 1
        if all(isinstance(number, int) for number in (self.low, self.step)):
            return list(range(self.low, self.low + count * self.step, self.step))
        return [round(self.low + index * self.step, decimals(self.step)) for index in range(count)]


def decimals(step: float) -> int:
    """Digits after the point in a step as written (0.1 -> 1, 0.25 -> 2, 1 -> 0), as ``scrub_logic.decimalsOf``."""
    text = repr(float(step))
    return 0 if text.endswith(".0") else len(text.split(".")[1])


#: What a view draws for one setting: its parts, in the order the view lays them out.
Draw = Callable[[Mapping[str, float]], Sequence[str]]


def frame_sets(
    sliders: Sequence[Slider],
    draw: Draw,
    layout: Mapping | None = None,
    only: Sequence[str] | None = None,
    context: str = "",
    places: Mapping[str, Sequence[int]] | None = None,
) -> dict:
    """Every slider's frames around the sliders' current values, parts deduplicated.

    Args:
        sliders: the view's sliders; ``value`` is each one's current value (the base).
        draw: the view's drawing for one setting ({name: value}), as a sequence of HTML parts.
        layout: how the view lays out its slots (the view's class; which slots sit side by
            side, the others taking the whole width), if not one under the other.
        only: if given, draw the frames of these sliders alone (maybe none: the base frame
            only), and mark the set lazy: the view asks for a slider's frames when it is pressed.
        context: what else the frames depend on, as a short text (a digest of the photo and
            the kernel): frames kept from another context are never shown.
        places: place name -> the slots (indices in a frame) drawn in that place, not in the
            view (recorded as ``layout["places"]``; also taken from ``layout`` itself).

    Returns:
        The JSON-ready dict described in this module's docstring. A setting shared by two
        sliders' sets (the base itself) is drawn once.

    Raises:
        ValueError: a place without a name, or a place's slot that is not a slot of the frames,
            or that another place holds too.
    """
    base = {slider.name: slider.value for slider in sliders}
    parts: list[str] = []
    index_of: dict[str, int] = {}
    drawn: dict[tuple[tuple[str, int], ...], list[int]] = {}

    def frame(settings: dict[str, int]) -> list[int]:
        key = tuple(sorted(settings.items()))
        if key not in drawn:
            indices = []
            for part in draw(settings):
                if part not in index_of:
                    index_of[part] = len(parts)
                    parts.append(part)
                indices.append(index_of[part])
            drawn[key] = indices
        return drawn[key]

    rest = frame(dict(base))  # first: its parts lead, and the view parses them first
    asked = [slider for slider in sliders if only is None or slider.name in only]
    frames = {slider.name: [frame({**base, slider.name: value}) for value in slider.values] for slider in asked}
    shown = [{key: value for key, value in asdict(slider).items() if key != "texts" or value} for slider in sliders]
    frame_set = {"sliders": shown, "base": base, "parts": parts, "frames": frames, "rest": rest}
    frame_set |= {"lazy": True} if only is not None else {}
    frame_set |= {"context": context} if context else {}
    layout = dict(layout or {})
    if places or layout.get("places"):
        layout["places"] = _checked_places({**layout.get("places", {}), **(places or {})}, len(rest))
    return frame_set | ({"layout": layout} if layout else {})


def _checked_places(places: Mapping[str, Sequence[int]], slots: int) -> dict[str, list[int]]:
    """The places as JSON (lists), each slot a slot of the frames and in one place at most."""
    checked, taken = {}, set()
    for name, indices in places.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"A place needs a name, not {name!r}.")
        for slot in indices:
            if not 0 <= slot < slots or slot in taken:
                raise ValueError(f"Place {name!r}: slot {slot} is not a free slot of frames with {slots} slots.")
            taken.add(slot)
        checked[name] = list(indices)
    return checked


def slots_in(frame_set: Mapping, place: str | None = None) -> list[int]:
    """The slots (indices in a frame) drawn in ``place``, or in the view itself when None: the slots no place holds."""
    places = frame_set.get("layout", {}).get("places", {})
    if place is not None:
        return list(places.get(place, []))
    elsewhere = {slot for indices in places.values() for slot in indices}
    return [slot for slot in range(len(frame_set["rest"])) if slot not in elsewhere]


def frame_at(frame_set: Mapping, name: str, value: float) -> list[str]:
    """The parts a frame set shows for slider ``name`` at ``value`` (as ``scrub_view.js`` looks them up).

    Raises:
        KeyError: a lazy set without this slider's frames, at a value other than the base.
    """
    slider = next(slider for slider in frame_set["sliders"] if slider["name"] == name)
    position = round((value - slider["low"]) / slider["step"])
    if name in frame_set["frames"]:
        indices = frame_set["frames"][name][position]
    elif position == round((frame_set["base"][name] - slider["low"]) / slider["step"]):
        indices = frame_set["rest"]
    else:
        raise KeyError(f"The frame set holds no frames for {name} = {value}.")
    return [frame_set["parts"][index] for index in indices]


_PICTURE = re.compile(r'src="(data:image/[a-z]+;base64,[A-Za-z0-9+/=]*)"')
_REFERENCE = re.compile(r'data-picture-id="([0-9a-f]+)"')


def split_pictures(frame_set: Mapping) -> tuple[dict, dict[str, str]]:
    """The frame set with every ``data:`` picture in its parts replaced by a reference, and the pictures.

    Returns:
        (the frame set, its parts' ``src="data:..."`` now ``data-picture-id="<id>"``; {id: the
        ``data:`` URL}, in the order of their ids). An id is the picture's digest: the same picture
        is one entry, in any frame or frame set, and the same pictures make the same set.
    """
    found: dict[str, str] = {}

    def refer(match: re.Match) -> str:
        name = hashlib.sha1(match[1].encode("ascii")).hexdigest()[:20]
        found[name] = match[1]
        return f'data-picture-id="{name}"'

    parts = [_PICTURE.sub(refer, part) for part in frame_set["parts"]]
    return {**frame_set, "parts": parts}, dict(sorted(found.items()))  # by id: the same set whatever the base


def with_pictures(part: str, found: Mapping[str, str]) -> str:
    """A part of a split frame set with its pictures put back (as the browser shows it)."""
    return _REFERENCE.sub(lambda match: f'src="{found[match[1]]}"', part)
