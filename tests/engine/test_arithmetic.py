"""Output-size arithmetic against PyTorch (layers run on real tensors) and hand-worked numbers.

Every size ``cnnviz.arithmetic`` computes is compared with the shape torch's own layer
produces over a grid of settings, uneven divisions included; every setting torch refuses
must be refused with a ValueError. Layer stacks are checked against ``build_torch_stack``
(torch infers the dense layers' sizes itself), receptive fields against autograd.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from cnnviz import arithmetic, layers, windows
from cnnviz.arithmetic import LAYER_PRESETS, Conv, Dense, Flatten, Pool, SizeError
from cnnviz.drawing import window_diagrams
from tests.charts import groups


def torch_length(run) -> int | None:
    """The output length torch computes, or None when torch refuses the settings."""
    try:
        with torch.no_grad():
            return run().shape[-1]
    except RuntimeError:
        return None


def row(size: int) -> torch.Tensor:
    return torch.zeros(1, 1, 1, size)  # (N, C, H, W): one row, the axis under test is W


def ours_or_none(call, *args) -> int | None:
    """``call(*args)``, or None for a ValueError; any other exception fails the test."""
    try:
        return call(*args)
    except ValueError:
        return None


def disagreements(grid, ours, theirs) -> list[tuple]:
    """Settings of ``grid`` where ``ours(*setting)`` and torch's ``theirs(*setting)`` differ
    (a refusal counts as None on both sides)."""
    found = []
    for setting in grid:
        mine = ours_or_none(ours, *setting)
        expected = torch_length(lambda setting=setting: theirs(*setting))
        if mine != expected:
            found.append((setting, mine, expected))
    return found


# --- Convolution, pooling, transposed convolution vs torch's layers ----------------------------

CONV_GRID = list(itertools.product(range(1, 13), range(1, 6), range(1, 5), range(4), range(1, 4)))
POOL_GRID = list(itertools.product(range(1, 11), range(1, 5), range(1, 5), range(3), (1, 2), (False, True)))
TRANSPOSED_GRID = list(itertools.product(range(1, 7), range(1, 5), range(1, 4), range(4), range(4), range(1, 4)))


def test_conv_output_size_is_nn_conv2d():
    @functools.cache  # one layer per setting, run on every input size
    def layer(kernel_size, stride, padding, dilation) -> nn.Conv2d:
        return nn.Conv2d(1, 1, (1, kernel_size), (1, stride), (0, padding), (1, dilation), bias=False)

    def conv(size, *setting):
        return layer(*setting)(row(size))

    assert disagreements(CONV_GRID, arithmetic.conv_output_size, conv) == []


def test_the_conv_grid_has_uneven_divisions_and_impossible_settings():
    # Guards the grid above: it must exercise the floor and the refusals, not only easy cases.
    rooms = [(arithmetic.slide_distance(n, k, p, d), s) for n, k, s, p, d in CONV_GRID]
    assert sum(room >= 0 and room % s != 0 for room, s in rooms) > 100
    assert sum(room < 0 for room, _ in rooms) > 50


def test_pool_output_size_is_nn_maxpool2d_with_and_without_ceil_mode():
    def pool(size, kernel_size, stride, padding, dilation, ceil_mode):
        return nn.MaxPool2d((1, kernel_size), (1, stride), (0, padding), (1, dilation), ceil_mode=ceil_mode)(row(size))

    assert disagreements(POOL_GRID, arithmetic.pool_output_size, pool) == []


def test_pool_output_size_is_nn_avgpool2d_with_and_without_ceil_mode():
    def pool(size, kernel_size, stride, padding, dilation, ceil_mode):
        return nn.AvgPool2d((1, kernel_size), (1, stride), (0, padding), ceil_mode=ceil_mode)(row(size))

    grid = [setting for setting in POOL_GRID if setting[4] == 1]  # average pooling has no dilation
    assert disagreements(grid, arithmetic.pool_output_size, pool) == []


def test_the_pool_grid_has_partial_windows_and_refusals():
    floor = [ours_or_none(arithmetic.pool_output_size, *s[:5], False) for s in POOL_GRID]
    ceil = [ours_or_none(arithmetic.pool_output_size, *s[:5], True) for s in POOL_GRID]
    assert sum(f is not None and c != f for f, c in zip(floor, ceil, strict=True)) > 50
    assert sum(f is None for f in floor) > 50


def test_pool_stride_defaults_to_the_kernel_and_ceil_mode_keeps_the_partial_window():
    assert arithmetic.pool_output_size(9, 2) == 4  # floor(7/2) + 1
    assert arithmetic.pool_output_size(9, 2, ceil_mode=True) == 5
    # A partial window may be the only one: torch turns 2 pixels into 1 with a 3-wide window.
    only = nn.MaxPool2d(3, 2, ceil_mode=True)(torch.zeros(1, 1, 2, 2)).shape[-1]
    assert arithmetic.pool_output_size(2, 3, 2, ceil_mode=True) == 1 == only


def test_transposed_output_size_is_nn_convtranspose2d():
    @functools.cache
    def layer(kernel_size, stride, padding, output_padding, dilation) -> nn.ConvTranspose2d:
        return nn.ConvTranspose2d(
            1, 1, (1, kernel_size), (1, stride), (0, padding), (0, output_padding), dilation=(1, dilation), bias=False
        )

    def transposed(size, *setting):
        return layer(*setting)(row(size))

    assert disagreements(TRANSPOSED_GRID, arithmetic.transposed_output_size, transposed) == []


@pytest.mark.parametrize(
    "out, kernel_size, stride, padding, dilation", [(12, 5, 2, 0, 1), (4, 3, 3, 1, 2), (1, 1, 5, 2, 1)]
)
def test_transposed_choices_are_every_size_the_convolution_maps_to_out(out, kernel_size, stride, padding, dilation):
    choices = arithmetic.transposed_choices(out, kernel_size, stride, padding, dilation)
    assert choices, "at least one input size gives any output size"
    for output_padding, size in choices:
        assert arithmetic.conv_output_size(size, kernel_size, stride, padding, dilation) == out
        assert arithmetic.uncovered_size(size, kernel_size, stride, padding, dilation) == output_padding
        layer = nn.ConvTranspose2d(1, 1, kernel_size, stride, padding, output_padding, dilation=dilation)
        assert layer(torch.zeros(1, 1, out, out)).shape[-1] == size
    # ...and no other input size gives ``out`` in torch.
    sizes = {size for _, size in choices}
    weight = torch.zeros(1, 1, 1, kernel_size)
    for n in set(range(1, 60)) - sizes:
        assert torch_length(lambda n=n: F.conv2d(row(n), weight, None, (1, stride), (0, padding), (1, dilation))) != out


def test_hand_worked_sizes():
    assert arithmetic.conv_output_size(28, 5) == 24  # the seed article's first layer
    assert arithmetic.conv_output_size(28, 5, stride=2) == 12  # floor(23 / 2) + 1
    assert arithmetic.uncovered_size(28, 5, stride=2) == 1  # the 28th pixel is never read
    assert arithmetic.uncovered_size(8, 3, stride=2, padding=1) == 1  # only the right padding cell
    assert arithmetic.conv_output_size(224, 11, stride=4, padding=2) == 55  # AlexNet's first layer
    assert arithmetic.effective_kernel_size(3, dilation=2) == 5
    assert arithmetic.transposed_output_size(12, 5, stride=2, output_padding=1) == 28  # back to 28


# --- TensorFlow's SAME / VALID, PyTorch's padding="same" ---------------------------------------

TF_GRID = [s for s in itertools.product(range(1, 14), range(1, 6), range(1, 5), range(1, 4)) if s[2] == 1 or s[3] == 1]


def test_tf_same_is_padding_by_hand_then_a_convolution_giving_ceil_size_over_stride():
    for size, kernel_size, stride, dilation in TF_GRID:
        before, after = arithmetic.tf_same_padding(size, kernel_size, stride, dilation)
        assert 0 <= after - before <= 1, "TensorFlow puts the odd extra zero after"
        padded = F.pad(row(size), (before, after))
        weight = torch.zeros(1, 1, 1, kernel_size)
        length = F.conv2d(padded, weight, stride=(1, stride), dilation=(1, dilation)).shape[-1]
        assert length == math.ceil(size / stride)
        assert arithmetic.tf_output_size(size, kernel_size, stride, "same", dilation) == length
        assert arithmetic.tf_output_size(size, kernel_size, stride, "SAME", dilation) == length


def test_tf_valid_is_tensorflows_documented_rule():
    for size, kernel_size, stride, dilation in TF_GRID:
        span = dilation * (kernel_size - 1) + 1
        expected = math.ceil((size - span + 1) / stride) if span <= size else None  # TensorFlow's VALID rule
        assert ours_or_none(arithmetic.tf_output_size, size, kernel_size, stride, "valid", dilation) == expected


@pytest.mark.filterwarnings("ignore:Using padding='same'")
def test_torch_padding_same_splits_like_tf_same_padding():
    for size, kernel_size, dilation in itertools.product(range(1, 8), range(1, 6), range(1, 4)):
        x = torch.randn(1, 1, 1, size)
        weight = torch.randn(1, 1, 1, kernel_size)
        same = F.conv2d(x, weight, padding="same", dilation=(1, dilation))
        before, after = arithmetic.tf_same_padding(size, kernel_size, 1, dilation)
        by_hand = F.conv2d(F.pad(x, (before, after)), weight, dilation=(1, dilation))
        assert same.shape[-1] == size
        torch.testing.assert_close(by_hand, same)  # the same values: the odd zero really goes after


# --- Refusals: ValueError, and only ValueError ------------------------------------------------

IMPOSSIBLE = [
    ("window_too_big", arithmetic.conv_output_size, (3, 5)),
    ("window_too_big", arithmetic.conv_output_size, (5, 3, 1, 0, 3)),
    ("not_positive", arithmetic.conv_output_size, (8, 3, 0)),
    ("not_positive", arithmetic.conv_output_size, (0, 1)),
    ("not_positive", arithmetic.conv_output_size, (8, 0)),
    ("not_positive", arithmetic.conv_output_size, (8, 3, 1, 0, 0)),
    ("negative", arithmetic.conv_output_size, (8, 3, 1, -1)),
    ("pool_padding", arithmetic.pool_output_size, (8, 3, 1, 2)),
    ("pool_padding", arithmetic.pool_output_size, (8, 2, 2, 2)),
    ("not_positive", arithmetic.pool_output_size, (8, 2, 0)),
    ("window_too_big", arithmetic.pool_output_size, (2, 3)),
    ("output_padding", arithmetic.transposed_output_size, (4, 3, 2, 0, 2)),
    ("output_padding", arithmetic.transposed_output_size, (4, 3, 1, 0, 1)),
    ("output_padding", arithmetic.transposed_output_size, (4, 3, 1, 0, 2, 2)),
    ("negative", arithmetic.transposed_output_size, (4, 3, 2, 0, -1)),
    ("transposed_too_small", arithmetic.transposed_output_size, (1, 1, 1, 1)),
    ("tf_dilation_stride", arithmetic.tf_output_size, (8, 3, 2, "same", 2)),
    ("tf_padding_name", arithmetic.tf_output_size, (8, 3, 1, "full")),
    ("window_too_big", arithmetic.tf_output_size, (3, 5, 1, "valid")),
    ("not_positive", arithmetic.tf_same_padding, (8, 3, 0)),
]


@pytest.mark.parametrize("reason, call, args", IMPOSSIBLE)
def test_impossible_settings_raise_a_size_error_saying_why(reason, call, args):
    with pytest.raises(ValueError) as raised:  # any other exception fails the test
        call(*args)
    assert isinstance(raised.value, SizeError) and raised.value.reason == reason
    assert str(raised.value).endswith(".") and len(str(raised.value)) > 30, "a sentence a student can act on"


def test_window_too_big_names_the_nearest_settings_that_work():
    checked = 0
    for size, kernel_size, padding, dilation in itertools.product(range(1, 8), range(1, 10), range(3), (1, 3)):
        try:
            arithmetic.conv_output_size(size, kernel_size, 1, padding, dilation)
        except SizeError as error:
            nearest, checked = error.values, checked + 1
            assert arithmetic.conv_output_size(size, kernel_size, 1, nearest["min_padding"], dilation) >= 1
            with pytest.raises(SizeError):
                arithmetic.conv_output_size(size, kernel_size, 1, nearest["min_padding"] - 1, dilation)
            assert arithmetic.conv_output_size(size, nearest["max_kernel"], 1, padding, dilation) >= 1
            with pytest.raises(SizeError):
                arithmetic.conv_output_size(size, nearest["max_kernel"] + 1, 1, padding, dilation)
    assert checked > 100


conv_settings = st.tuples(
    st.integers(-2, 40), st.integers(1, 12), st.integers(-1, 6), st.integers(-2, 8), st.integers(0, 4)
)


@settings(max_examples=300, deadline=None)
@given(conv_settings)
def test_conv_output_size_property(conv_setting):
    """For random settings, valid or not: torch's shape, or a ValueError exactly where torch refuses."""
    size, kernel_size, stride, padding, dilation = conv_setting
    weight = torch.zeros(1, 1, 1, kernel_size)
    expected = (
        torch_length(lambda: F.conv2d(row(size), weight, None, (1, stride), (0, padding), (1, dilation)))
        if size >= 1
        else None  # no input pixel at all: nothing for torch to run on
    )
    if expected is None:
        with pytest.raises(ValueError):  # and no other exception
            arithmetic.conv_output_size(size, kernel_size, stride, padding, dilation)
    else:
        assert arithmetic.conv_output_size(size, kernel_size, stride, padding, dilation) == expected


# --- Where the windows land -------------------------------------------------------------------


@pytest.mark.parametrize(
    "size, kernel_size, stride, padding, dilation",
    [(28, 5, 2, 0, 1), (9, 3, 2, 1, 2), (10, 2, 4, 0, 1), (7, 3, 1, 2, 1)],
)
def test_axis_layout_reads_are_the_convolutions_gradient(size, kernel_size, stride, padding, dilation):
    # d(sum of outputs)/d(padded input) with an all-ones kernel counts how often each cell is read.
    padded = torch.zeros(1, 1, 1, size + 2 * padding, requires_grad=True)
    F.conv2d(padded, torch.ones(1, 1, 1, kernel_size), stride=(1, stride), dilation=(1, dilation)).sum().backward()
    reads = tuple(int(v) for v in padded.grad.flatten())
    layout = windows.axis_layout(size, kernel_size, stride, padding, dilation)
    assert layout.reads == reads
    assert layout.unread == tuple(i for i in range(padding, padding + size) if reads[i] == 0)
    assert len(layout.starts) == arithmetic.conv_output_size(size, kernel_size, stride, padding, dilation)


def shape_centre(group: ET.Element) -> float:
    """The x of the middle of a group's first rectangle."""
    rect = group.find("{*}rect")
    return float(rect.get("x")) + float(rect.get("width")) / 2


@pytest.mark.parametrize(
    "size, kernel_size, stride, padding, dilation",
    [(28, 5, 2, 0, 1), (9, 3, 2, 1, 2), (10, 2, 4, 0, 1), (32, 11, 1, 6, 4), (13, 7, 3, 2, 1)],
)
def test_window_svg_draws_every_window_its_taps_and_its_output(size, kernel_size, stride, padding, dilation):
    drawing = ET.fromstring(
        window_diagrams.window_svg(windows.axis_layout(size, kernel_size, stride, padding, dilation))
    )
    cells = groups(drawing, "cell")
    pixels = [str(n) for n in range(1, size + 1)]
    assert [cell.find("{*}text").text for cell in cells] == ["0"] * padding + pixels + ["0"] * padding
    cell_at = {round(shape_centre(cell), 6): index for index, cell in enumerate(cells)}  # dots sit on cell centres
    window_groups, outputs = groups(drawing, "window"), groups(drawing, "output")
    out = arithmetic.conv_output_size(size, kernel_size, stride, padding, dilation)
    assert len(window_groups) == len(outputs) == out
    assert [o.find("{*}text").text for o in outputs] == [str(n) for n in range(1, out + 1)]
    for number, (window, output) in enumerate(zip(window_groups, outputs, strict=True)):
        taps = [float(dot.get("cx")) for dot in window.iterfind(".//{*}circle")]
        # Window `number` reads padded cells number*stride + dilation*t, t = 0 .. kernel_size - 1.
        assert [cell_at[round(x, 6)] for x in taps] == [number * stride + dilation * t for t in range(kernel_size)]
        assert shape_centre(output) == pytest.approx((taps[0] + taps[-1]) / 2)  # below its window's middle
        colour = window_diagrams.WINDOW_COLOURS[number % len(window_diagrams.WINDOW_COLOURS)]
        assert window.find("{*}rect").get("stroke") == output.find("{*}rect").get("fill") == colour


@pytest.mark.parametrize(
    "size, kernel_size, stride, padding, dilation",
    [(28, 5, 2, 0, 1), (9, 3, 2, 1, 2), (10, 2, 4, 0, 1), (8, 3, 1, 2, 1)],
)
def test_window_svg_paints_amber_exactly_the_pixels_the_convolution_never_reads(
    size, kernel_size, stride, padding, dilation
):
    # The gradient of the summed output with an all-ones kernel is zero exactly on the pixels no tap reads.
    image = torch.zeros(1, 1, 1, size, requires_grad=True)
    F.conv2d(image, torch.ones(1, 1, 1, kernel_size), stride=(1, stride), padding=(0, padding),
             dilation=(1, dilation)).sum().backward()  # fmt: skip
    never_read = [str(n + 1) for n in range(size) if image.grad.flatten()[n] == 0]
    drawing = ET.fromstring(
        window_diagrams.window_svg(windows.axis_layout(size, kernel_size, stride, padding, dilation))
    )
    amber = groups(drawing, "unread")
    assert [g.find("{*}text").text for g in amber] == never_read
    assert all(g.find("{*}rect").get("fill") == window_diagrams.UNREAD_FILL for g in amber)
    assert [g.find("{*}text").text for g in groups(drawing, "padding")] == ["0"] * (2 * padding)


def test_window_svg_writes_the_translated_labels_escaped():
    labels = window_diagrams.AxisLabels(padding="填充 <0>", pixel="a & b", unread="从未被读取", input_row="<输入>",
                                windows_row="窗口", output_row="输出")  # fmt: skip
    svg = window_diagrams.window_svg(windows.axis_layout(7, 3, 2, padding=1), labels)
    assert "<0>" not in svg and "<输入>" not in svg and "a & b" not in svg
    root = ET.fromstring(svg)  # well-formed: every label was escaped
    assert [t.text for t in root.iterfind(".//{*}text") if not t.text.isdigit()] == [
        "填充 <0>", "a & b", "从未被读取", "<输入>", "窗口", "输出"
    ]  # fmt: skip
    last_words = root.find(".//{*}g[@class='legend legend-unread']/{*}text")
    natural_width = float(root.get("viewBox").split()[2])
    assert natural_width >= float(last_words.get("x")) + 5 * 13, "5 wide characters fit after the legend"


def test_window_svg_fits_the_widest_input_on_a_laptop_screen():
    widest = ET.fromstring(window_diagrams.window_svg(windows.axis_layout(32, 1, 1, padding=6)))  # 44 padded cells
    first_cell = widest.find(".//{*}g[@class='cell padding']/{*}rect")
    assert float(first_cell.get("width")) >= 17  # room for a two-digit number at 13 px
    # About its natural size in the 1280-pixel layout's column, so its 13 px text is not shrunk much.
    _, _, width, _ = widest.get("viewBox").split()
    assert float(width) <= 1000
    # Shrinks with a narrower column (never below 12/14 of its size: text stays >= 12 px), never grows.
    style = dict(part.split(":") for part in widest.get("style").split(";"))
    assert style["max-width"] == f"{width}px"
    assert float(style["min-width"].removesuffix("px")) >= float(width) * 12 / 14 - 1


def amber_cells(svg: str) -> np.ndarray:
    """The cells of ``grid_svg`` (cell units) that its never-read stripes cover, as a bool array."""
    root = ET.fromstring(svg)
    side = int(float(root.get("viewBox").split()[2]))
    covered = np.zeros((side, side), bool)
    for group in root.iterfind(".//{*}g"):
        for rect in group.iterfind(".//{*}rect") if group.get("class") == "unread" else ():
            assert rect.get("fill") == window_diagrams.UNREAD_FILL
            x, y, width, height = (int(float(rect.get(name))) for name in ("x", "y", "width", "height"))
            covered[y : y + height, x : x + width] = True
    return covered


def test_grid_svg_draws_the_never_read_last_row_and_column():
    cells = amber_cells(
        window_diagrams.grid_svg(windows.axis_layout(28, 5, 2))
    )  # pixel 28 is never read along either axis
    assert cells.shape == (28, 28) and cells.sum() == 28 + 28 - 1
    assert cells[-1].all() and cells[:, -1].all()


@pytest.mark.parametrize(
    ("size", "kernel_size", "stride", "padding", "dilation"),
    [(13, 3, 3, 1, 2), (8, 3, 2, 1, 1), (10, 2, 4, 2, 1), (6, 3, 1, 0, 1)],
)
def test_grid_svg_paints_amber_exactly_the_pixels_the_2d_convolution_never_reads(
    size, kernel_size, stride, padding, dilation
):
    image = torch.zeros(1, 1, size, size, requires_grad=True)
    F.conv2d(image, torch.ones(1, 1, kernel_size, kernel_size), stride=stride, padding=padding,
             dilation=dilation).sum().backward()  # fmt: skip
    cells = amber_cells(window_diagrams.grid_svg(windows.axis_layout(size, kernel_size, stride, padding, dilation)))
    inside = cells[padding : padding + size, padding : padding + size]
    assert cells.shape == (size + 2 * padding,) * 2
    assert inside.tolist() == (image.grad[0, 0] == 0).tolist()
    assert cells.sum() == inside.sum(), "no amber on the padding"


def test_conv_formula_latex_plugs_in_the_numbers():
    latex = arithmetic.conv_formula_latex(28, 5, stride=2)
    assert r"\frac{28 + 2 \cdot 0 - 1 \cdot (5 - 1) - 1}{2}" in latex
    assert r"\lfloor 11.5 \rfloor" in latex and latex.endswith(r"\mathbf{12}\end{aligned}")
    # Impossible: the formula is still shown, ending in "< 1" rather than a size of -1.
    assert arithmetic.conv_formula_latex(3, 5).endswith(r"\lfloor -2 \right\rfloor + 1 < 1\end{aligned}")


@pytest.mark.parametrize(("size", "kernel", "stride", "padding"), [(4, 9, 1, 0), (5, 11, 2, 0), (3, 11, 3, 1)])
def test_an_impossible_formula_states_no_negative_size(size, kernel, stride, padding):
    latex = arithmetic.conv_formula_latex(size, kernel, stride, padding)
    assert latex.endswith(r"< 1\end{aligned}") and r"\mathbf" not in latex
    assert not re.search(r"= -\d+\s*(\\end|$)", latex)  # e.g. "= -3": a negative size


def test_the_quotient_is_written_the_same_in_the_formula_and_in_sentences():
    """35 / 3 was "11.67" in the formula and "11.7" in the sentence under it."""
    assert arithmetic.quotient_text(35, 3) == "11.7"
    assert r"\lfloor 11.7 \rfloor" in arithmetic.conv_formula_latex(36, 1, stride=3)
    assert arithmetic.quotient_text(23, 2) == "11.5" and arithmetic.quotient_text(1000, 7) == "142.9"
    assert arithmetic.transposed_formula_latex(12, 5, 2, 0, 1).endswith(r"\mathbf{28}\end{aligned}")


# --- Layer stacks -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(LAYER_PRESETS))
def test_every_preset_traces_as_torch_runs_it(name):
    input_shape, stack = LAYER_PRESETS[name]
    traced = arithmetic.trace_layers(input_shape, stack)
    ran = layers.run_torch_stack(input_shape, stack)
    assert [(r.shape, r.params) for r in traced] == ran
    assert layers.compare_with_torch(input_shape, stack) == []


@pytest.mark.parametrize("name", ["keras_mnist", "lenet5"])
def test_small_presets_on_real_tensors(name):
    # The meta device is what the page uses; make sure it tells the same story as real memory.
    input_shape, stack = LAYER_PRESETS[name]
    with torch.no_grad():
        out = layers.build_torch_stack(input_shape[0], stack, device="cpu")(torch.zeros(1, *input_shape))
    assert tuple(out.shape[1:]) == arithmetic.trace_layers(input_shape, stack)[-1].shape


def test_published_numbers():
    mnist = [r.shape for r in arithmetic.trace_layers(*LAYER_PRESETS["keras_mnist"])]
    assert mnist[:5] == [(4, 24, 24), (8, 22, 22), (8, 11, 11), (16, 9, 9), (16, 4, 4)]  # 28 -> 24 -> 11 -> 4
    totals = {name: sum(r.params for r in arithmetic.trace_layers(*preset)) for name, preset in LAYER_PRESETS.items()}
    assert totals["alexnet"] == 61_100_840  # torchvision.models.alexnet
    assert totals["vgg16"] == 138_357_544  # torchvision.models.vgg16
    assert totals["lenet5"] == 61_706
    fields = {name: arithmetic.trace_layers(*preset)[-5].receptive_field for name, preset in LAYER_PRESETS.items()}
    assert fields["alexnet"] == 195 and fields["vgg16"] == 212  # last pooling layer (before Flatten)


def test_weight_sharing_saving_is_a_dense_layer_of_the_same_sizes():
    first = arithmetic.trace_layers((1, 28, 28), [Conv(4, 5)])[0]
    assert first.params == 4 * 25 + 4
    assert first.dense_params == nn.Linear(28 * 28, 4 * 24 * 24).weight.numel() + 4 * 24 * 24


@pytest.mark.parametrize(
    "stack, field",
    [
        ([Conv(1, 3), Conv(1, 3)], 5),
        ([Conv(1, 3), Conv(1, 3), Pool(2, kind="avg"), Conv(1, 3)], 10),
        ([Conv(1, 3, dilation=2)], 5),
        ([Conv(1, 5, stride=2), Pool(3, stride=2, kind="avg"), Conv(1, 3)], 5 + 2 * 2 + 2 * 4),
    ],
)
def test_receptive_field_by_hand_and_by_autograd(stack, field):
    assert arithmetic.trace_layers((1, 40, 40), stack)[-1].receptive_field == field
    model = layers.build_torch_stack(1, stack, device="cpu")
    for module in model:
        if isinstance(module, nn.Conv2d):
            nn.init.ones_(module.weight)  # positive weights: no gradient cancels out
            nn.init.zeros_(module.bias)
    x = torch.ones(1, 1, 40, 40, requires_grad=True)
    out = model(x)
    (grad,) = torch.autograd.grad(out[0, 0, 1, 1], x)
    seen = torch.nonzero(grad[0, 0].sum(dim=0)).flatten()
    assert int(seen[-1] - seen[0]) + 1 == field


def test_dense_layers_see_the_whole_input():
    rows = arithmetic.trace_layers((1, 28, 28), [Conv(2, 3), Flatten(), Dense(5)])
    assert [r.receptive_field for r in rows] == [3, 3, None]


@pytest.mark.parametrize(
    "stack, reason",
    [
        ([Dense(4)], "needs_flat"),
        ([Flatten(), Conv(2, 3)], "needs_maps"),
        ([Conv(0, 3)], "not_positive"),
        ([Pool(2, stride=0)], "not_positive"),  # a stride of 0 is refused, not taken for the default
        ([Conv(4, 5), Conv(4, 5), Conv(4, 5)], "window_too_big"),
    ],
)
def test_trace_layers_refuses_impossible_stacks_naming_the_layer(stack, reason):
    with pytest.raises(ValueError) as raised:
        arithmetic.trace_layers((1, 12, 12), stack)
    assert raised.value.reason == reason
    assert str(raised.value).startswith(f"Layer {raised.value.values['layer']} ")
