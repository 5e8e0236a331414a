"""Frame sets for scrubbing views: every frame is what the engine draws for that setting."""

import itertools
import re

import pytest
from latex2mathml.converter import convert

from cnnviz import arithmetic, windows
from cnnviz.arithmetic import SizeError
from cnnviz.drawing import mathml
from cnnviz.drawing.frames import Slider, frame_at, frame_sets, slots_in
from cnnviz.drawing.output_size_view import SIZE_SLIDERS, size_frame, size_frame_set

DEFAULTS = {name: default for name, (_, _, default) in SIZE_SLIDERS.items()}


def test_frame_sets_hold_every_value_of_every_slider_and_share_equal_parts():
    drawn = []

    def draw(settings):
        drawn.append(dict(settings))
        return (f"sum {settings['a'] + settings['b']}", "constant")

    sliders = [Slider("a", "A", 0, 3, 1), Slider("b", "B", 2, 8, 4, step=2)]
    frame_set = frame_sets(sliders, draw)
    assert frame_set["base"] == {"a": 1, "b": 4}
    assert [len(frame_set["frames"][name]) for name in "ab"] == [4, 4]
    for a in range(4):
        assert frame_at(frame_set, "a", a) == [f"sum {a + 4}", "constant"]
    for b in (2, 4, 6, 8):
        assert frame_at(frame_set, "b", b) == [f"sum {1 + b}", "constant"]
    assert frame_set["parts"].count("constant") == 1  # deduplicated
    assert len(frame_set["parts"]) == len(set(frame_set["parts"]))
    assert len(drawn) == 7  # the base setting (a=1, b=4) is in both sets and drawn once


def test_a_lazy_frame_set_holds_the_base_frame_and_the_frames_asked_for():
    drawn = []

    def draw(settings):
        drawn.append(dict(settings))
        return (f"sum {settings['a'] + settings['b']}",)

    sliders = [Slider("a", "A", 0, 3, 1), Slider("b", "B", 2, 8, 4, step=2)]
    resting = frame_sets(sliders, draw, only=[], context="photo 1")
    assert resting["frames"] == {} and resting["lazy"] and resting["context"] == "photo 1"
    assert frame_at(resting, "b", 4) == ["sum 5"] and len(drawn) == 1  # the base frame alone
    with pytest.raises(KeyError):
        frame_at(resting, "b", 6)
    pressed = frame_sets(sliders, draw, only=["b"])
    assert list(pressed["frames"]) == ["b"] and [frame_at(pressed, "b", b) for b in (2, 8)] == [["sum 3"], ["sum 9"]]
    assert frame_sets(sliders, draw)["rest"] == frame_sets(sliders, draw)["frames"]["a"][1]  # every set has its rest


def test_places_record_the_slots_drawn_outside_the_view_and_change_no_frame():
    sliders = [Slider("a", "A", 0, 3, 1)]

    def draw(settings):
        return (f"view {settings['a']}", f"code {settings['a']}", "words")

    frame_set = frame_sets(sliders, draw, layout={"class": "x"}, places={"code": [1], "words": [2]})
    assert frame_set["layout"] == {"class": "x", "places": {"code": [1], "words": [2]}}
    assert [frame_at(frame_set, "a", a) for a in (0, 3)] == [
        ["view 0", "code 0", "words"],
        ["view 3", "code 3", "words"],
    ]
    assert (slots_in(frame_set), slots_in(frame_set, "code"), slots_in(frame_set, "words")) == ([0], [1], [2])
    assert slots_in(frame_set, "elsewhere") == [] and slots_in(frame_sets(sliders, draw)) == [0, 1, 2]
    assert frame_sets(sliders, draw, layout={"places": {"code": (1,)}})["layout"] == {"places": {"code": [1]}}
    for wrong in ({"code": [3]}, {"code": [-1]}, {"code": [1], "words": [1]}, {"": [1]}):
        with pytest.raises(ValueError):
            frame_sets(sliders, draw, places=wrong)


@pytest.mark.parametrize(
    "base",
    [DEFAULTS, {"input": 9, "kernel": 3, "padding": 1, "stride": 2, "dilation": 2}, {**DEFAULTS, "input": 3}],
)
def test_every_output_size_frame_is_the_engines_drawing_for_its_setting(base):
    frame_set = size_frame_set(base)
    for name, (low, high, _) in SIZE_SLIDERS.items():
        assert frame_set["base"] == base
        for value in range(low, high + 1):
            settings = {**base, name: value}
            parts = frame_at(frame_set, name, value)
            assert parts == list(size_frame(settings))
            summary, drawing = parts[:2]  # the view's own slots (the others: test_output_size_places.py)
            args = (
                settings["input"],
                settings["kernel"],
                settings["stride"],
                settings["padding"],
                settings["dilation"],
            )
            (latex,) = mathml.latex_sources(summary)
            assert latex == arithmetic.conv_formula_latex(*args)
            shown = re.search(r'data-value="(\d*)"', summary)[1]
            try:
                out = arithmetic.conv_output_size(*args)
            except SizeError:
                assert shown == "" and drawing == "" and "cnnviz-note warning" in summary
            else:
                assert shown == str(out) and f"{out} × {out}" in summary
                layout = windows.axis_layout(*args)
                assert drawing.count('<g class="output">') == out == len(layout.starts)
                assert drawing.count('<g class="cell ') == settings["input"] + 2 * settings["padding"]


def test_frames_are_in_the_session_language():
    summary, drawing, *_ = size_frame(DEFAULTS, "zh")
    assert "输出" in summary and "Output" not in summary
    assert "input pixel" not in drawing


@pytest.mark.parametrize("args", list(itertools.product((1, 7, 28), (1, 3, 5), (1, 2), (0, 2), (1, 3))))
def test_mathml_puts_every_number_back_where_latex2mathml_puts_it(args):
    latex = arithmetic.conv_formula_latex(*args)
    body = re.search(r"\\begin\{aligned\}(.*)\\end\{aligned\}", latex)[1]
    shown = mathml.formula_mathml(latex)
    for line in re.split(r"\\\\", body):
        for piece in line.split("&"):
            if piece.strip():
                direct = re.search(r"^<math[^>]*>(.*)</math>$", convert(piece))[1]
                direct = direct.replace('mathvariant="bold"', 'style="font-weight:bold"')  # as drawn
                assert direct in shown
    assert shown.count("<mtr>") == 3 and mathml.latex_sources(shown) == [latex]


def test_mathml_of_a_formula_without_rows():
    assert "<mfrac>" in mathml.formula_mathml(r"\frac{23}{2}") and "<mtable>" not in mathml.formula_mathml("x + 1")
