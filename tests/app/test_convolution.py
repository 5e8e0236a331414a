"""The Convolution lesson in AppTest: what the page shows changes with every setting."""

import html
import itertools
import re

import numpy as np
import pytest
from PIL import Image

from cnnviz.drawing.mathml import latex_sources
from cnnviz.images import LoadedImage, load_image, load_sample
from tests import scrub
from tests.app.conftest import open_page
from tests.clicks import click, decoded
from tests.conftest import ROOT
from tests.conv_reference import reference_output
from tests.conv_view import VIEW, formula, input_heading, input_picture, notes, output_heading, pictures, value_range
from tests.grids import Grid, page_grids, read_grids
from tests.snippets import run_snippet
from tests.views import formulas, text

PAGE = "pages/convolution.py"
# The default sample, cat.jpg, is 300 x 451; the default kernel is Sobel x (3 x 3).
DEFAULT_OUTPUT = "**Output** · 298 × 449"


def shown_code(at) -> str:
    """The code panel's code: part of the view's frames, drawn in the place "code" (it follows the sliders)."""
    code = scrub.code_text(scrub.placed(at, VIEW, "code"))
    (panel,) = [expander for expander in at.expander if expander.label == "PyTorch code for these settings"]
    assert [element.proto.id.endswith(f"-{VIEW}.place.code") for element in panel.get("bidi_component")] == [True]
    assert not at.code  # drawn once, in the place
    return code


def pixel_panel(at) -> str:
    """The pixel clicked's arithmetic: part of the view's frames, drawn in the place "pixel"."""
    return scrub.placed(at, VIEW, "pixel")


def pixel_text(at) -> str:
    return html.unescape(re.sub(r"<math.*?</math>|<[^>]+>", " ", pixel_panel(at), flags=re.S))


def kernel_figure(at) -> Grid:
    return next(grid for grid in page_grids(at) if grid.title.startswith("Kernel"))


def kernel_values(at) -> np.ndarray:
    """The kernel's numbers (each cell's hover text holds 6 significant digits)."""
    return np.array([[float(cell.hover.split(": ")[1]) for cell in row] for row in kernel_figure(at).rows])


@pytest.fixture(scope="module")
def default():
    return open_page(PAGE)


def test_renders_the_default_sample_without_an_exception(default):
    assert not default.exception
    assert default.title[0].value == "Convolution"
    assert output_heading(default) == DEFAULT_OUTPUT
    assert input_heading(default) == "**Input** · 300 × 451 × 1"
    # The formula is filled in with this image's numbers and lands on the shown size.
    latex = formula(default)
    assert r"\frac{300 + 2\cdot0 - 1\cdot(3-1) - 1}{1}" in latex and "= 298" in latex and "= 449" in latex
    assert "vertical edges" in text(default) and "add up to 0" in text(default)
    assert np.array_equal(kernel_values(default), [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])


@pytest.mark.parametrize(
    ("key", "value", "heading"),
    [
        ("conv.stride", 2, "**Output** · 149 × 225"),
        ("conv.padding", 1, "**Output** · 300 × 451"),
        ("conv.dilation", 2, "**Output** · 296 × 447"),
    ],
)
def test_geometry_changes_the_output_shape(key, value, heading):
    at = scrub.move(open_page(PAGE), key, value)  # what a release of the view's slider does
    assert output_heading(at) == heading
    assert heading.split("· ")[1].split(" × ")[0] in formula(at)
    assert at.query_params[key] == str(value)  # a link keeps it


def test_preset_changes_kernel_description_and_shape():
    at = open_page(PAGE)
    at.selectbox(key="conv.preset").set_value("gaussian blur").run()
    assert not at.exception
    assert output_heading(at) == "**Output** · 296 × 447"  # a 5 x 5 kernel
    assert "smooth blur" in text(at) and "add up to 1" in text(at)
    assert kernel_values(at).shape == (5, 5)
    # A blur of a 0..1 image never goes negative: the output is drawn as a gray photo.
    assert "Black = 0" in value_range(at)


def test_channel_modes_change_what_is_convolved(default):
    gray_range = value_range(default)
    per_channel = open_page(PAGE, **{"conv.channel_mode": "per_channel"})
    assert output_heading(per_channel) == "**Output** · 298 × 449 × 3"
    assert input_heading(per_channel) == "**Input** · 300 × 451 × 3"
    summed = open_page(PAGE)
    summed.selectbox(key="conv.channel_mode").set_value("sum").run()
    assert output_heading(summed) == DEFAULT_OUTPUT
    # Summing R, G and B (each about as bright as the gray) roughly triples the range.
    low = float(value_range(summed).split(" from ")[1].split(" to ")[0].replace("−", "-"))
    gray_low = float(gray_range.split(" from ")[1].split(" to ")[0].replace("−", "-"))
    assert low < 2 * gray_low < 0


def test_flip_rotates_the_kernel_and_mirrors_the_output(default):
    at = open_page(PAGE)
    at.toggle(key="conv.flip").set_value(True).run()
    assert not at.exception
    assert kernel_figure(at).title == "Kernel, rotated 180°"
    assert np.array_equal(kernel_values(at), [[1, 0, -1], [2, 0, -2], [1, 0, -1]])
    # Sobel x rotated is its negative: the range swaps ends.
    assert value_range(default).startswith("Values from −1.98 to 1.93")
    assert value_range(at).startswith("Values from −1.93 to 1.98")


def test_bias_shifts_the_values(default):
    at = scrub.move(open_page(PAGE), "conv.bias", 1.0)
    assert value_range(at).startswith("Values from −0.984 to 2.93")
    assert at.query_params["conv.bias"] == "1.0"
    assert value_range(open_page(PAGE, **{"conv.bias": "-0.3"})).startswith("Values from −2.28 to 1.63")


def test_impossible_setting_warns_and_offers_the_nearest_one():
    at = open_page(PAGE)
    at.session_state["image"] = LoadedImage(np.zeros((4, 4, 3), np.uint8), (4, 4))
    at.selectbox(key="conv.preset").set_value("gaussian blur").run()  # 5 x 5 on a 4 x 4 image
    assert not at.exception
    assert "No output with these settings." in notes(at, "warning")[0]
    assert "spans 5 pixels" in notes(at, "warning")[0]
    fix = at.button(key="conv.use_padding")
    assert fix.label == "Padding = 1"
    fix.click().run()
    assert not notes(at, "warning") and not at.button
    assert output_heading(at) == "**Output** · 2 × 2"


def test_reflect_padding_too_wide_for_a_tiny_image_warns():
    at = open_page(PAGE, **{"conv.padding_mode": "reflect", "conv.padding": "4"})
    at.session_state["image"] = LoadedImage(np.zeros((4, 4, 3), np.uint8), (4, 4))
    at.run()
    assert not at.exception
    assert "Reflect padding" in notes(at, "warning")[0]
    assert at.button(key="conv.use_padding").label == "Padding = 3"


def test_custom_kernel_from_the_link_and_its_bad_cell():
    at = open_page(PAGE, **{"conv.source": "custom", "conv.kernel": "1,2,1;0,abc,0;-1,-2,-1"})
    assert not at.exception
    assert "Row 2, column 2 holds 'abc', which is not a number." in at.error[0].value
    assert "Fix the kernel" in notes(at, "info")[0]
    good = open_page(PAGE, **{"conv.source": "custom", "conv.kernel": "1,2,1;0,0,0;-1,-2,-1"})
    assert not good.error
    assert np.array_equal(kernel_values(good), [[1, 2, 1], [0, 0, 0], [-1, -2, -1]])
    assert output_heading(good) == DEFAULT_OUTPUT


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("nan", "Row 1, column 2 is NaN"),
        ("inf", "Row 1, column 2 is infinite"),
        ("", "Row 1, column 2 is empty"),
        ("1e9", "Row 1, column 2 is 1e+09; keep kernel values within"),
        ("two", "Row 1, column 2 holds 'two'"),
    ],
)
def test_bad_cell_typed_in_the_editor_shows_its_message(cell, message):
    at = open_page(PAGE, **{"conv.source": "custom"})
    at.session_state["conv.kernel_3"] = {"edited_rows": {0: {"2": cell}}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception
    assert message in at.error[0].value


def test_typed_fraction_is_used():
    at = open_page(PAGE, **{"conv.source": "custom", "conv.kernel": "1/9,1/9,1/9;1/9,1/9,1/9;1/9,1/9,1/9"})
    assert not at.error
    assert "add up to 1" in text(at)
    assert kernel_figure(at).texts[0] == ["0.111", "0.111", "0.111"]


def test_chinese():
    at = open_page()
    at.session_state["lang"] = "zh"
    at.switch_page(PAGE).run()
    assert not at.exception
    assert at.title[0].value == "卷积"
    assert output_heading(at) == "**输出** · 298 × 449"
    assert "权重之和为 0" in text(at)


def page_statistics(code_output: str) -> tuple[tuple[int, ...], float, float, float]:
    """The shape and the smallest, largest and mean value a convolution snippet printed."""
    shape_line, stats_line = code_output.splitlines()
    low, high, mean = (float(n) for n in re.findall(r"-?[\d.]+(?:e[-+]\d+)?", stats_line))
    return tuple(int(n) for n in shape_line.strip("()").split(",") if n.strip()), low, high, mean


def shown_range(at) -> tuple[str, str]:
    """The page's "Values from {low} to {high}." as written, with ASCII minus signs."""
    low, high = re.match(r"Values from (\S+) to (\S+?)\.(?:\s|$)", value_range(at)).groups()
    return low.replace("−", "-"), high.replace("−", "-")


@pytest.mark.parametrize(
    "link",
    [
        {},
        {"conv.stride": "3", "conv.padding": "4", "conv.dilation": "2", "conv.padding_mode": "reflect",
         "conv.channel_mode": "per_channel", "conv.flip": "true", "conv.preset": "emboss", "conv.bias": "0.5"},
        {"conv.channel_mode": "sum", "conv.preset": "gaussian blur", "conv.padding": "2",
         "conv.padding_mode": "circular", "img": "rocket.jpg"},
        {"conv.source": "custom", "conv.kernel": "1/9,0,-2;0.5,1,0;3,0,-1/3", "conv.flip": "true",
         "conv.bias": "-0.3", "conv.padding": "1", "conv.padding_mode": "replicate"},
    ],
)  # fmt: skip
def test_the_shown_code_reproduces_the_page(link, monkeypatch):
    at = open_page(PAGE, **link)
    if "img" in link:  # as the sidebar's picker leaves it (AppTest runs the page alone)
        at.session_state["image"] = load_sample(link["img"])
        at.run()
    assert not at.exception and not at.error
    code = shown_code(at)
    name = link.get("img", "cat.jpg")
    assert f"Image.open('assets/samples/{name}')" in code
    monkeypatch.chdir(ROOT)  # the sample's path is the repository's
    shape, low, high, mean = page_statistics(run_snippet(code))
    heading = output_heading(at).split("· ")[1].split(" × ")
    channels = 3 if link.get("conv.channel_mode") == "per_channel" else 1
    assert shape == (channels, int(heading[0]), int(heading[1]))
    assert (f"{low:.3g}", f"{high:.3g}") == shown_range(at)
    # Independently: the same convolution from its definition, in float64.
    kernel = kernel_values(at)  # as applied (flipped when flip is on)
    settings = {"stride": int(link.get("conv.stride", 1)), "padding": int(link.get("conv.padding", 0)),
                "dilation": int(link.get("conv.dilation", 1)), "padding_mode": link.get("conv.padding_mode", "zeros"),
                "bias": float(link.get("conv.bias", 0))}  # fmt: skip
    expected = reference_output(load_sample(name).pixels, kernel, link.get("conv.channel_mode", "gray"), **settings)
    assert tuple(expected.shape) == shape
    assert [low, high, mean] == pytest.approx(
        [float(expected.min()), float(expected.max()), float(expected.mean())], abs=2e-5
    )


def test_the_shown_code_loads_an_upload_as_the_page_does(tmp_path, monkeypatch):
    """A large upload is shrunk to the working size: the code does the same to the user's copy of the file."""
    photo = tmp_path / "big photo.jpg"
    rng = np.random.default_rng(0)
    pixels = np.clip(rng.normal(128, 60, (1300, 2100, 3)), 0, 255).astype(np.uint8)
    Image.fromarray(pixels).save(photo, quality=90)
    at = open_page(PAGE, **{"conv.channel_mode": "sum"})
    at.session_state["image"] = load_image(photo.read_bytes())
    at.run()
    code = shown_code(at)
    assert "Image.open('my_image.png')" in code and "thumbnail((1024, 1024)" in code
    monkeypatch.chdir(tmp_path)
    shape, low, high, _ = page_statistics(run_snippet(code.replace("my_image.png", photo.name)))
    assert shape == (1, *(int(n) for n in output_heading(at).split("· ")[1].split(" × ")))
    assert (f"{low:.3g}", f"{high:.3g}") == shown_range(at)


def test_separate_channels_show_three_labelled_maps_on_one_scale():
    at = open_page(PAGE, **{"conv.channel_mode": "per_channel"})
    assert not at.exception and not at.error
    maps = pictures(at, "maps")
    assert (
        [shown["caption"] for shown in maps] == [shown["alt"] for shown in maps] == ["R (red)", "G (green)", "B (blue)"]
    )
    arrays = [decoded(shown) for shown in maps]
    assert len({array.shape for array in arrays}) == 1
    # Sobel x on the cat: the three channels differ, so their maps do too.
    assert all(np.abs(a - b).mean() > 0.5 for a, b in itertools.combinations(arrays, 2))
    assert "share one colour scale" in value_range(at)
    assert not pictures(at, "output")  # no blended picture
    zh = open_page(PAGE, **{"conv.channel_mode": "per_channel"})
    zh.session_state["lang"] = "zh"
    zh.run()
    assert [shown["caption"] for shown in pictures(zh, "maps")] == ["R(红)", "G(绿)", "B(蓝)"]


def test_an_invalid_kernel_shows_the_input_as_its_channels_say():
    """The input reads "× 1": its picture is the gray image the valid kernel slides over, not the colour photo."""
    bad = open_page(PAGE, **{"conv.source": "custom", "conv.kernel": "1,2,1;0,abc,0;-1,-2,-1"})
    good = open_page(PAGE)
    assert input_heading(bad) == "**Input** · 300 × 451 × 1"
    assert input_picture(bad)["src"] == input_picture(good)["src"]  # the same bytes: the same picture


def test_a_bias_move_sends_a_new_output_picture_and_the_same_input_picture():
    at = open_page(PAGE)
    before_input, before_output = input_picture(at)["src"], pictures(at)[0]["src"]
    scrub.move(at, "conv.bias", 0.5)
    assert input_picture(at)["src"] == before_input  # the browser does not decode it again
    assert pictures(at)[0]["src"] != before_output


def test_a_photo_is_sent_as_jpeg_and_a_tiny_image_as_png_with_square_pixels():
    def kinds(at):
        return [picture["src"].split(";")[0] for picture in (input_picture(at), pictures(at)[0])]

    at = open_page(PAGE)
    assert kinds(at) == ["data:image/jpeg"] * 2
    at.session_state["image"] = LoadedImage(np.zeros((8, 8, 3), np.uint8), (8, 8))
    scrub.move(at, "conv.bias", 0.5)
    assert kinds(at) == ["data:image/png"] * 2


# --- the output pixel clicked ---------------------------------------------------------------


def clicked_value(at) -> float:
    """The sum the arithmetic panel lands on: its formula's bold last number."""
    (latex,) = latex_sources(pixel_panel(at))
    assert not [formula for formula in formulas(at) if r"\sum" in formula]  # drawn once, in the place
    return float(re.search(r"\\mathbf\{(-?[\d.]+)\}$", latex).group(1))


def mark_rects(picture: dict) -> list[tuple[float, float, float, float]]:
    """(x, y, width, height) of the solid coloured boxes drawn over a picture (not their dark under-lines, not rings)."""
    return [
        tuple(float(n) for n in found)
        for found in re.findall(
            r'<rect x="([\d.-]+)" y="([\d.-]+)" width="([\d.]+)" height="([\d.]+)" fill="none" stroke="#(?!111827)\w+" '
            r'stroke-width="[\d.]+" vector',
            picture["marks"],
        )
    ]


@pytest.mark.parametrize(
    ("link", "pixel"),
    [
        ({}, (0, 0, 0)),
        ({"conv.stride": "3", "conv.padding": "4", "conv.dilation": "2", "conv.padding_mode": "reflect",
          "conv.channel_mode": "per_channel", "conv.flip": "true", "conv.preset": "emboss", "conv.bias": "0.5"},
         (0, 149, 2)),
        ({"conv.channel_mode": "sum", "conv.preset": "gaussian blur", "conv.padding": "2",
          "conv.padding_mode": "circular"}, (299, 452, 0)),
        ({"conv.source": "custom", "conv.kernel": "1/9,0,-2;0.5,1,0;3,0,-1/3", "conv.flip": "true",
          "conv.bias": "-0.3", "conv.padding": "1", "conv.padding_mode": "replicate", "conv.stride": "2"},
         (77, 0, 0)),
    ],
)  # fmt: skip
def test_a_clicked_pixel_shows_its_window_and_a_sum_equal_to_the_output(link, pixel):
    at = click(open_page(PAGE, **link), "conv.pixel", ",".join(map(str, pixel)))
    assert not at.error
    assert at.query_params["conv.pixel"] == ",".join(map(str, pixel))  # a link restores it
    settings = {"stride": int(link.get("conv.stride", 1)), "padding": int(link.get("conv.padding", 0)),
                "dilation": int(link.get("conv.dilation", 1)), "padding_mode": link.get("conv.padding_mode", "zeros"),
                "bias": float(link.get("conv.bias", 0))}  # fmt: skip
    mode = link.get("conv.channel_mode", "gray")
    kernel = kernel_values(at)
    expected = reference_output(load_sample("cat.jpg").pixels, kernel, mode, **settings).numpy()
    channel = pixel[2] if mode == "per_channel" else 0
    row, col = min(pixel[0], expected.shape[1] - 1), min(pixel[1], expected.shape[2] - 1)  # kept on the output
    assert f"row {row}, column {col}" in pixel_text(at)
    assert clicked_value(at) == pytest.approx(expected[channel, row, col], abs=6e-5)
    # The window drawn on the input: the kernel's span from the first tap, in the padded picture's pixels.
    span = settings["dilation"] * (kernel.shape[0] - 1) + 1
    (window, *taps) = mark_rects(input_picture(at))
    assert window == (col * settings["stride"], row * settings["stride"], span, span)
    assert len(taps) == (kernel.size if settings["dilation"] > 1 else 0)
    # The pixel clicked is marked on its own map only.
    marked = [mark_rects(shown) for shown in pictures(at, "maps" if mode == "per_channel" else "output")]
    assert marked[channel] == [(col, row, 1, 1)] and [box for boxes in marked for box in boxes] == marked[channel]


def test_the_window_grids_hold_the_photo_pixels_the_kernel_reads():
    at = click(open_page(PAGE, **{"conv.channel_mode": "sum", "conv.padding": "1"}), "conv.pixel", "0,10,0")
    pixels = load_sample("cat.jpg").pixels
    windows = [grid for grid in read_grids(pixel_panel(at)) if grid.title.startswith("Window")]
    assert [grid.title for grid in windows] == ["Window, R (red)", "Window, G (green)", "Window, B (blue)"]
    for index, grid in enumerate(windows):
        values = np.array([[float(cell.hover.split(": ")[1]) for cell in row] for row in grid.rows])
        assert values[0].tolist() == [0, 0, 0]  # the zero padding above the photo
        assert values[1:] == pytest.approx(pixels[0:2, 9:12, index] / 255, abs=1e-5)
        assert grid.cells_with("shaded") == [(0, 0), (0, 1), (0, 2)]


def test_the_clicked_pixel_in_chinese():
    at = open_page(PAGE, **{"conv.pixel": "5,6,0"})
    at.session_state["lang"] = "zh"
    at = click(at, "conv.pixel", "5,6,0")
    assert "输出像素(第 5 行,第 6 列)从哪里来" in pixel_text(at)
    assert any(grid.title.startswith("窗口,灰度") for grid in read_grids(pixel_panel(at)))
    assert 'title="复制"' in scrub.placed(at, VIEW, "code")
