"""Step by step's parts drawn in places (the code panel, the im2col panel): every frame's are the code and
the numbers for that frame's settings, checked against torch (F.unfold's columns, F.conv2d's output)."""

import html
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnviz import codegen, convolution, i18n, kernels
from cnnviz.drawing.conv_steps_view import PLACES, STEPS_SLIDERS, StepsNumbers, steps_frame_set
from cnnviz.drawing.frames import frame_at, slots_in
from cnnviz.drawing.markup import code_html
from tests.grids import read_grids
from tests.scrub import code_text

SIZES = range(STEPS_SLIDERS["size"][0], STEPS_SLIDERS["size"][1] + 1)


def numbers(kernel: str = "sobel x", padding_mode: str = "zeros", flip: bool = False) -> StepsNumbers:
    return StepsNumbers.of({size: convolution.random_grid(size, 4) for size in SIZES}, kernels.preset(kernel),
                           padding_mode, flip)  # fmt: skip


def torch_im2col(grid, kernel, stride, padding, dilation, padding_mode, flip):
    """The reference: F.pad in the padding mode, F.unfold's columns, the kernel as applied, F.conv2d's output."""
    x = torch.as_tensor(grid, dtype=torch.float64)[None, None]
    if padding:
        x = F.pad(x, (padding,) * 4, mode="constant" if padding_mode == "zeros" else padding_mode)
    applied = np.flip(kernel, (0, 1)).copy() if flip else kernel
    k = kernel.shape[0]
    columns = F.unfold(x, k, dilation=dilation, stride=stride)[0].numpy()
    output = F.conv2d(x, torch.as_tensor(applied)[None, None], stride=stride, dilation=dilation)[0, 0].numpy()
    return applied.reshape(1, -1), columns, output


def values(grid) -> np.ndarray:
    return np.array([[float(cell.hover.split(": ")[1]) for cell in row] for row in grid.rows])


def amber_columns(marks: str, part: str) -> list[int]:
    """The 1-based columns of ``part``'s grid (columns, outrow) the im2col marks outline in amber."""
    return [int(c) for c in re.findall(rf"\.steps-{part} tbody>tr>td:nth-child\((\d+)\)", marks)]


@pytest.mark.parametrize(
    "made, base",
    [
        (numbers(), {"size": 6, "stride": 1, "padding": 1, "dilation": 1, "position": 8}),
        (numbers("gaussian blur", "reflect", True), {"size": 9, "stride": 2, "padding": 2, "dilation": 1, "position": 7}),
        (numbers("sobel y", "circular"), {"size": 5, "stride": 1, "padding": 0, "dilation": 3, "position": 1}),  # no output
    ],
)  # fmt: skip
def test_every_frames_code_and_im2col_are_those_of_its_settings(made, base):
    frame_set = steps_frame_set(made, base)
    assert slots_in(frame_set) == [0, 1, 2, 3, 4]  # the sum, the grids, the marks: in the view itself
    assert {name: slots_in(frame_set, name) for name in PLACES} == {"code": [5], "im2col": [6, 7]}
    kernel = np.array(made.kernel)
    for slider in frame_set["sliders"]:
        for value in range(slider["low"], slider["high"] + 1):
            settings = {**base, slider["name"]: value}
            parts = frame_at(frame_set, slider["name"], value)
            code_part, im2col_part, marks_part = parts[5], parts[6], parts[7]
            grid = made.grid(settings["size"])
            geometry = (settings["stride"], settings["padding"], settings["dilation"])
            try:
                kernel_row, columns, output = torch_im2col(grid, kernel, *geometry, made.padding_mode, made.flip)
                assert output.size
            except RuntimeError:  # torch refuses: no code to run, no im2col
                no_code = html.escape(i18n.translate("steps.code.no_output", "en"), quote=False)
                assert code_part == f'<div class="cnnviz-note info"><p>{no_code}</p></div>'
                assert (im2col_part, marks_part) == ("", "")
                continue
            code = codegen.conv2d_on_grid(grid, kernel, *geometry, made.padding_mode, made.flip)
            assert code_part == code_html(code, "Copy") and code_text(code_part) == code
            shown = {grid.title.split(":")[0].split(" 1 ×")[0]: grid for grid in read_grids(im2col_part)}
            assert list(shown) == ["Windows as columns", "Kernel row", "Output row"]
            assert np.allclose(values(shown["Windows as columns"]), columns, rtol=1e-5)  # 6 significant digits
            assert np.allclose(values(shown["Kernel row"]), kernel_row, rtol=1e-5)
            assert np.allclose(values(shown["Output row"]), output.reshape(1, -1), rtol=1e-5)
            assert not any(grid.cells_with("window") for grid in shown.values())  # the marks outline the cell
            position = min(settings["position"], output.size)
            assert amber_columns(marks_part, "columns") == amber_columns(marks_part, "outrow") == [position]
            assert f"Output cell {position} = the kernel row times column {position} (amber)" in marks_part


def test_im2col_is_drawn_once_per_geometry():
    """The position slider's frames share the code and im2col grids (their marks alone differ): ~50 kB of cells
    per geometry is not sent again for every output cell."""
    frame_set = steps_frame_set(numbers("gaussian blur"), {"size": 10, "stride": 1, "padding": 3, "dilation": 1,
                                                            "position": 1})  # fmt: skip
    cells = frame_set["frames"]["position"]
    assert len(cells) == 12 * 12  # (10 + 6 - 5 + 1)²
    assert len({frame[5] for frame in cells}) == len({frame[6] for frame in cells}) == 1
    assert len({frame[7] for frame in cells}) == len(cells)


def test_places_are_in_the_session_language():
    frame_set = steps_frame_set(numbers(), {"size": 6, "stride": 1, "padding": 1, "dilation": 1, "position": 2}, "zh")
    parts = frame_at(frame_set, "position", 2)
    assert "第 2 个输出单元 = 卷积核行向量乘以第 2 列" in parts[7] and 'title="复制"' in parts[5]
    assert not re.search(
        r"[A-Za-z]{4,}", re.sub(r"<style>.*?</style>|<[^>]+>|&[a-z]+;", "", parts[6] + parts[7])
    )  # no English words
