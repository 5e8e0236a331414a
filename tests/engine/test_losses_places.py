"""Loss functions' softmax code panel drawn in a place: every frame's code is ``codegen.cross_entropy``
for that frame's logits, smoothing and right class, and it prints the cross-entropy the frame shows."""

import re

import pytest

from cnnviz import codegen, i18n
from cnnviz.drawing.frames import frame_at, slots_in
from cnnviz.drawing.losses_view import (
    CLASSES,
    SOFTMAX_SLIDERS,
    logits_of,
    sigmoid_frame_set,
    smoothing_of,
    softmax_frame_set,
)
from cnnviz.drawing.markup import code_html
from tests.scrub import code_text
from tests.snippets import run_snippet

DEFAULTS = {name: default for name, (_, _, default, _) in SOFTMAX_SLIDERS.items()}


def shown_loss(parts: list[str], view_slots: list[int]) -> float:
    """The cross-entropy the frame's numbers show (full value, ``data-value``)."""
    numbers = "".join(parts[slot] for slot in view_slots)
    return float(re.search(r'data-name="ce" data-value="([^"]+)"', numbers)[1])


@pytest.mark.parametrize(
    "base, target",
    [(DEFAULTS, 1), ({**DEFAULTS, "logit3": 30, "smoothing": 20}, 3), ({**DEFAULTS, "smoothing": 50}, 0)],
)
def test_every_frames_code_is_that_of_its_settings(base, target):
    frame_set = softmax_frame_set(base, target)
    (code_slot,) = slots_in(frame_set, "code")
    assert code_slot not in slots_in(frame_set)  # drawn in the place, not in the view
    name = i18n.translate(f"loss.class.{CLASSES[target]}", "en")
    for slider, (low, high, _, step) in SOFTMAX_SLIDERS.items():
        for value in range(low, high + 1, step):
            settings = {**base, slider: value}
            code = codegen.cross_entropy(logits_of(settings), target, smoothing_of(settings), name)
            part = frame_at(frame_set, slider, value)[code_slot]
            assert part == code_html(code, "Copy") and code_text(part) == code


@pytest.mark.parametrize("setting", [{}, {"logit1": 40, "smoothing": 25}, {"logit0": -50, "logit3": 50}])
def test_the_code_prints_the_loss_the_frame_shows(setting):
    frame_set = softmax_frame_set({**DEFAULTS, **setting}, 2)
    slider = next(iter(setting), "logit0")
    parts = frame_at(frame_set, slider, {**DEFAULTS, **setting}[slider])
    (code_slot,) = slots_in(frame_set, "code")
    printed = run_snippet(code_text(parts[code_slot])).splitlines()[0]
    assert float(printed) == pytest.approx(shown_loss(parts, slots_in(frame_set)), abs=5e-5)


def test_the_code_is_in_the_session_language():
    frame_set = softmax_frame_set(DEFAULTS, 0, "zh")
    part = frame_at(frame_set, "logit0", 20)[slots_in(frame_set, "code")[0]]
    assert 'title="复制"' in part and "# 猫" in code_text(part)


def test_the_sigmoid_view_has_no_places():
    """Its panel holds nothing else its sliders change (the gradients' formula is fixed)."""
    assert "places" not in sigmoid_frame_set({"z": -5.0, "target": 1}).get("layout", {})
