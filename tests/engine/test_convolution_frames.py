"""Convolution on the photo's frame sets: every frame is the engine's drawing for its setting, and
shows torch's numbers (``F.conv2d`` in float64: the output's size, its range, the picture's colours,
the window of the pixel clicked)."""

import base64
import io
import re

import numpy as np
import pytest
from PIL import Image

from cnnviz import convolution, kernels
from cnnviz.drawing.convolution_view import (
    CONV_SLIDERS,
    SLOTS,
    ConvSetup,
    Photo,
    conv_frame,
    conv_frame_set,
    paint,
    seen_input,
    shrink,
)
from cnnviz.drawing.frames import frame_at
from cnnviz.drawing.mathml import latex_sources
from cnnviz.images import load_sample
from tests.conv_reference import reference_output

CAT = load_sample("cat.jpg").pixels  # 300 x 451: drawn at its own size
BIG_CAT = CAT.repeat(2, 0).repeat(2, 1)  # 600 x 902: shrunk to the display size
DEFAULTS = {name: default for name, (_, _, default, _) in CONV_SLIDERS.items()}


def slot(frame: tuple[str, ...], name: str) -> str:
    return frame[SLOTS.index(name)]


def pictures(html_text: str) -> list[np.ndarray]:
    """The pictures in a part, decoded as the browser decodes them (RGB, float)."""
    found = re.findall(r'src="data:image/\w+;base64,([^"]+)"', html_text)
    return [np.asarray(Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB"), float) for data in found]


def number(text: str) -> float:
    return float(text.replace("−", "-"))


def torch_pictures(setup: ConvSetup, settings: dict) -> list[np.ndarray] | None:
    """Torch's output for ``settings`` drawn as the lesson draws an output (shrunk to display size,
    coloured, on its canvas, sent as JPEG), decoded; None when it has no output."""
    try:
        expected = reference(setup, settings)
    except RuntimeError:
        return None
    height, width = setup.photo.pixels.shape[:2]
    sent, _ = paint(*shrink(expected, (height + 2 * settings["padding"], width + 2 * settings["padding"])))
    return [np.asarray(Image.open(io.BytesIO(picture)).convert("RGB"), float) for picture in sent]


def reference(setup: ConvSetup, settings: dict) -> np.ndarray:
    """``F.conv2d`` in float64 for this setting: (C, H', W')."""
    geometry = (settings["stride"], settings["padding"], settings["dilation"])
    return reference_output(setup.photo.pixels, np.array(setup.kernel), setup.channel_mode, *geometry,
                            setup.padding_mode, setup.flip, settings["bias"]).numpy()  # fmt: skip


def check_numbers(frame: tuple[str, ...], setup: ConvSetup, settings: dict, name: str) -> None:
    """The frame's size and range are torch's output for ``settings``; its pictures are torch's output
    coloured, closer to it than to the pictures of slider ``name``'s neighbouring values; the window
    marked is the centre pixel's, worked out here."""
    expected = reference(setup, settings)
    channels, out_h, out_w = expected.shape
    heading = re.sub(r"<[^>]+>", "", slot(frame, "output_heading"))
    assert heading == f"Output · {out_h} × {out_w}" + (" × 3" if channels == 3 else "")
    low, high = re.search(r"Values from (\S+) to (\S+?)\.(?:\s|<)", slot(frame, "legend")).groups()
    assert (number(low), number(high)) == (float(f"{expected.min():.3g}"), float(f"{expected.max():.3g}"))
    drawn = pictures(slot(frame, "maps" if channels == 3 else "output"))
    step = CONV_SLIDERS[name][3]
    errors = {}
    for offset in (-1, 0, 1):  # float32 vs float64 may move a few colours a level; a neighbour moves many
        wanted = torch_pictures(setup, {**settings, name: round(settings[name] + offset * step, 1)})
        if wanted is not None and wanted[0].shape == drawn[0].shape:
            errors[offset] = max(np.abs(picture - want).mean() for picture, want in zip(drawn, wanted, strict=True))
    assert errors[0] < 5 and all(errors[0] < error for offset, error in errors.items() if offset), errors
    # The window of the centre pixel, drawn on the input in padded pixels: it starts at stride x (row, col).
    row, col = out_h // 2, out_w // 2
    span = settings["dilation"] * (setup.weights.shape[0] - 1) + 1
    boxes = re.findall(r'<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="[\d.]+" fill="none" '
                       r'stroke="#facc15" stroke-width="2"', slot(frame, "input_marks"))  # fmt: skip
    assert boxes[0] == (str(col * settings["stride"]), str(row * settings["stride"]), str(span))
    assert f'data-at="{row},{col}"' in slot(frame, "maps" if channels == 3 else "output")


@pytest.mark.parametrize(
    ("pixels", "channel_mode", "preset", "base", "sliders"),
    [
        (CAT, "gray", "sobel x", DEFAULTS, list(CONV_SLIDERS)),
        (CAT, "per_channel", "emboss", {"stride": 3, "padding": 2, "dilation": 2, "bias": 0.5}, list(CONV_SLIDERS)),
        (BIG_CAT, "gray", "sobel x", {**DEFAULTS, "padding": 4}, ["stride", "bias"]),
        (BIG_CAT, "per_channel", "sharpen", DEFAULTS, ["bias"]),
    ],
    ids=["cat-gray", "cat-rgb", "big-gray", "big-rgb"],
)
def test_every_frame_is_the_engines_drawing_with_torchs_numbers(pixels, channel_mode, preset, base, sliders):
    setup = ConvSetup.of(pixels, kernels.preset(preset), channel_mode, "reflect", flip=True)
    for name in sliders:
        low, high, _, step = CONV_SLIDERS[name]
        frame_set = conv_frame_set(setup, base, None, "en", pressed=name)
        assert list(frame_set["frames"]) == [name] and frame_set["lazy"]
        values = [round(low + index * step, 1) for index in range(round((high - low) / step) + 1)]
        for index, value in enumerate(values):
            settings = {**base, name: value}
            frame = tuple(frame_at(frame_set, name, value))
            assert frame == conv_frame(setup, settings, None, "en")
            if index in (0, len(values) // 2, len(values) - 1) or value == base[name]:  # torch's numbers at some
                check_numbers(frame, setup, settings, name)


def test_the_base_frame_alone_until_a_slider_is_pressed():
    setup = ConvSetup.of(CAT, kernels.preset("sobel x"), "gray", "zeros", False)
    rest = conv_frame_set(setup, DEFAULTS, None, "en")
    assert rest["frames"] == {} and rest["lazy"]
    assert tuple(frame_at(rest, "bias", 0.0)) == conv_frame(setup, DEFAULTS, None, "en")
    with pytest.raises(KeyError):
        frame_at(rest, "bias", 0.5)
    # Frames depend on the photo, the kernel, the pixel clicked and the language: each is in the context.
    contexts = {
        conv_frame_set(setup, DEFAULTS, None, "en")["context"],
        conv_frame_set(setup, DEFAULTS, (3, 4, 0), "en")["context"],
        conv_frame_set(setup, DEFAULTS, None, "zh")["context"],
        conv_frame_set(ConvSetup.of(CAT[1:], setup.weights, "gray", "zeros", False), DEFAULTS, None, "en")["context"],
        conv_frame_set(ConvSetup.of(CAT, -setup.weights, "gray", "zeros", False), DEFAULTS, None, "en")["context"],
    }
    assert len(contexts) == 5


def test_the_pixel_clicked_is_marked_and_its_window_drawn():
    setup = ConvSetup.of(CAT, kernels.preset("sobel x"), "gray", "zeros", False)
    frame = conv_frame(setup, {**DEFAULTS, "stride": 2, "padding": 1}, (40, 500, 0), "en")
    output = slot(frame, "output")
    assert 'data-at="40,225"' in output  # column 500 is kept on the 150 x 226 output
    assert '<rect x="225" y="40" width="1" height="1"' in output
    assert '<rect x="450" y="80" width="3" height="3"' in slot(frame, "input_marks")  # padded pixels, stride 2
    assert "output pixel (row 40, column 225)" in slot(frame, "input_notes")


def test_bias_frames_share_one_convolution():
    image = CAT.astype(np.float32) / 255
    for bias in (-2.0, -0.3, 1.7):
        once = convolution.add_bias(convolution.convolve_image(image, kernels.preset("emboss"), "sum", 2), bias)
        assert np.array_equal(once, convolution.convolve_image(image, kernels.preset("emboss"), "sum", 2, bias=bias))


def test_an_impossible_setting_says_why_and_a_tiny_image_is_sent_with_square_pixels():
    tiny = np.arange(9 * 12 * 3, dtype=np.uint8).reshape(9, 12, 3)
    setup = ConvSetup.of(tiny, kernels.preset("sobel x"), "gray", "zeros", False)
    frame_set = conv_frame_set(setup, DEFAULTS, None, "zh", pressed="dilation")
    impossible = frame_at(frame_set, "dilation", 5)  # spans 11 pixels on a 9-pixel-high image
    assert "这些设置下没有输出" in slot(impossible, "output") and "11" in slot(impossible, "output")
    assert not slot(impossible, "legend") and not slot(impossible, "formula")
    fine = frame_at(frame_set, "dilation", 2)
    assert '<img src="data:image/png' in slot(fine, "output")  # enlarged with square pixels
    assert "输出" in slot(fine, "output_heading") and "Output" not in "".join(fine)
    (latex,) = latex_sources(slot(fine, "formula"))
    assert r"\frac{9 + 2\cdot0 - 2\cdot(3-1) - 1}{1}" in latex


def test_an_unusable_kernel_shows_the_input_and_asks_for_a_fix():
    setup = ConvSetup.of(CAT, None, "per_channel", "zeros", False)
    frame = conv_frame(setup, DEFAULTS, None, "en")
    assert "Fix the kernel" in slot(frame, "output") and "× 3" in slot(frame, "input_heading")
    assert len(pictures(slot(frame, "input_picture"))) == 1 and not slot(frame, "input_marks")


def test_shrinking_averages_the_output_pixels_each_display_pixel_covers():
    blocks = np.arange(480 * 240, dtype=np.float32).reshape(1, 480, 240)  # one value per display pixel
    shrunk, canvas = shrink(blocks.repeat(2, 1).repeat(2, 2), (960, 480))  # 2 x 2 output pixels each
    assert canvas == (480, 240) and np.array_equal(shrunk, blocks)
    three = np.stack([np.full((800, 600), value, np.float32) for value in (-1, 0, 2)])  # R, G, B: 240 px
    shrunk, canvas = shrink(three, (800, 800))
    assert canvas == (240, 240) and shrunk.shape == (3, 240, 180) and np.array_equal(shrunk[:, 0, 0], [-1, 0, 2])
    small = np.ones((1, 30, 40), np.float32)
    assert shrink(small, (32, 42))[1] == (32, 42)  # fits: drawn at its own size (and enlarged when sent)


@pytest.mark.parametrize("padding_mode", ["zeros", "reflect", "replicate", "circular"])
def test_the_input_is_drawn_with_its_padding_as_the_kernel_sees_it(padding_mode):
    """Rounded to whole numbers, then padded (``convolution.pad_grid``): what padding the 0..1 values and
    rounding gives, in every padding mode, gray and colour."""
    noise = np.random.default_rng(0).integers(0, 256, (200, 200, 3), dtype=np.uint8)  # gray values on every .5
    photo = Photo.of(noise)
    for channel_mode in ("gray", "sum"):
        rgb = noise.astype(np.float32) / 255
        seen = convolution.to_gray(rgb) if channel_mode == "gray" else rgb
        padded = np.rint(np.clip(convolution.pad_grid(seen, 7, padding_mode), 0, 1) * 255).astype(np.uint8)
        assert np.array_equal(seen_input(photo, channel_mode, 7, padding_mode), padded)
