"""Convolution on the photo's parts drawn in places (the code panel, the pixel clicked's arithmetic): every
frame of a pressed slider holds the code and the numbers for that frame's settings (torch's, in float64)."""

import html
import re

import numpy as np
import pytest

from cnnviz import codegen, i18n, kernels
from cnnviz.drawing.convolution_view import CONV_SLIDERS, PLACES, SLOTS, ConvSetup, Script, conv_frame_set
from cnnviz.drawing.frames import frame_at, slots_in
from cnnviz.drawing.markup import code_html
from cnnviz.drawing.mathml import latex_sources
from cnnviz.images import load_sample
from tests.conv_reference import reference_output
from tests.grids import read_grids
from tests.scrub import code_text

CAT = load_sample("cat.jpg").pixels  # 300 x 451
DEFAULTS = {name: default for name, (_, _, default, _) in CONV_SLIDERS.items()}
SCRIPT = Script("assets/samples/cat.jpg", "a sample image", None)


def values_of(name: str) -> list[float]:
    low, high, _, step = CONV_SLIDERS[name]
    return [round(low + index * step, 1) for index in range(round((high - low) / step) + 1)]


@pytest.mark.parametrize(
    ("channel_mode", "preset", "base", "clicked"),
    [
        ("gray", "sobel x", DEFAULTS, None),
        ("per_channel", "emboss", {"stride": 3, "padding": 2, "dilation": 2, "bias": 0.5}, (10, 20, 1)),
    ],
)
def test_every_frames_code_and_pixel_arithmetic_are_those_of_its_settings(channel_mode, preset, base, clicked):
    setup = ConvSetup.of(CAT, kernels.preset(preset), channel_mode, "reflect", flip=True)
    for name in CONV_SLIDERS:
        frame_set = conv_frame_set(setup, base, clicked, "en", pressed=name, script=SCRIPT)
        assert {place: slots_in(frame_set, place) for place in PLACES} == {"code": [9], "pixel": [10]}
        assert slots_in(frame_set) == list(range(9))  # the pictures, headings, legend, formula: in the view
        values = values_of(name)
        for value in [*values[:: max(1, len(values) // 5)], values[-1]]:  # the ends and a few between
            settings = {**base, name: value}
            parts = frame_at(frame_set, name, value)
            code_part, pixel_part = parts[SLOTS.index("code")], parts[SLOTS.index("pixel")]
            geometry = {key: int(settings[key]) for key in ("stride", "padding", "dilation")}
            try:
                expected = reference_output(CAT, np.array(setup.kernel), channel_mode, **geometry,
                                            padding_mode="reflect", flip=True, bias=settings["bias"]).numpy()  # fmt: skip
            except RuntimeError:  # torch refuses too (reflect padding wider than the photo, a window too wide)
                no_code = html.escape(i18n.translate("conv.code.no_output", "en"), quote=False)
                assert code_part == f'<div class="cnnviz-note info"><p>{no_code}</p></div>' and pixel_part == ""
                continue
            code = codegen.conv2d_on_image(SCRIPT.path, SCRIPT.source, setup.weights, channel_mode, **geometry,
                                           padding_mode="reflect", flip=True, bias=settings["bias"])  # fmt: skip
            assert code_part == code_html(code, "Copy") and code_text(code_part) == code
            _, out_h, out_w = expected.shape
            row, col, picture = clicked or (out_h // 2, out_w // 2, 0)
            row, col = min(row, out_h - 1), min(col, out_w - 1)
            channel = min(picture, 2) if channel_mode == "per_channel" else 0
            assert f"Where output pixel (row {row}, column {col}) comes from" in pixel_part
            (latex,) = latex_sources(pixel_part)
            value_shown = float(re.search(r"\\mathbf\{(-?[\d.]+)\}$", latex)[1])
            assert value_shown == pytest.approx(expected[channel, row, col], abs=6e-5)
            assert re.search(rf"\+ \(?{settings['bias']:g}\)? = \\mathbf", latex)  # the bias added
            windows = [grid for grid in read_grids(pixel_part) if grid.title.startswith("Window")]
            assert len(windows) == (3 if channel_mode == "sum" else 1)


def test_the_code_says_where_the_photo_comes_from_and_its_context_too():
    setup = ConvSetup.of(CAT, kernels.preset("sobel x"), "gray", "zeros", False)
    upload = Script("my photo.png", "your upload", 1024)
    shown = conv_frame_set(setup, DEFAULTS, None, "en", script=upload)
    (code_slot,) = slots_in(shown, "code")
    code = code_text(frame_at(shown, "bias", 0.0)[code_slot])
    assert "Image.open('my photo.png')" in code and "thumbnail((1024, 1024)" in code
    assert shown["context"] != conv_frame_set(setup, DEFAULTS, None, "en", script=SCRIPT)["context"]


def test_places_are_in_the_session_language():
    setup = ConvSetup.of(CAT, kernels.preset("sobel x"), "gray", "zeros", False)
    parts = frame_at(conv_frame_set(setup, DEFAULTS, (5, 6, 0), "zh", pressed="bias", script=SCRIPT), "bias", 0.3)
    pixel = parts[SLOTS.index("pixel")]
    assert "输出像素(第 5 行,第 6 列)从哪里来" in pixel and 'title="复制"' in parts[SLOTS.index("code")]
    assert not re.search(r"[A-Za-z]{4,}", re.sub(r"<math.*?</math>|<[^>]+>|&[a-z]+;", "", pixel, flags=re.S))
