"""Step by step's frame set: every frame is what the engine draws for that setting, with torch's numbers."""

import html
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnviz import convolution, kernels
from cnnviz.drawing.conv_steps_view import STEPS_SLIDERS, StepsNumbers, steps_frame, steps_frame_set
from cnnviz.drawing.frames import frame_at
from tests.grids import read_grids

SIZES = range(STEPS_SLIDERS["size"][0], STEPS_SLIDERS["size"][1] + 1)


def numbers(kernel: str = "sobel x", padding_mode: str = "zeros", flip: bool = False) -> StepsNumbers:
    return StepsNumbers.of({size: convolution.random_grid(size, 3) for size in SIZES}, kernels.preset(kernel),
                           padding_mode, flip)  # fmt: skip


def torch_output(grid: np.ndarray, kernel: np.ndarray, stride: int, padding: int, dilation: int, padding_mode: str,
                 flip: bool) -> np.ndarray:  # fmt: skip
    """The reference: F.pad in the padding mode, then F.conv2d (cross-correlation; flipped for true convolution)."""
    x = torch.as_tensor(grid, dtype=torch.float64)[None, None]
    if padding:
        mode = "constant" if padding_mode == "zeros" else padding_mode
        x = F.pad(x, (padding,) * 4, mode=mode)
    weight = torch.as_tensor(np.flip(kernel, (0, 1)).copy() if flip else kernel, dtype=torch.float64)[None, None]
    return F.conv2d(x, weight, stride=stride, dilation=dilation)[0, 0].numpy()


def shown_sum(frame: tuple[str, ...]) -> float:
    written = html.unescape(re.search(r"= <strong>(.*?)</strong></p>", frame[0])[1])
    return float(written.replace("−", "-"))


def outlined_taps(frame: tuple[str, ...]) -> list[tuple[int, int]]:
    style = re.search(r"<style>(.*?)\{", frame[4])[1]
    found = re.findall(r"steps-input tbody>tr:nth-child\((\d+)\)>td:nth-child\((\d+)\)", style)
    return sorted((int(r) - 1, int(c) - 1) for r, c in found)


@pytest.mark.parametrize(
    "made, base",
    [
        (numbers(), {"size": 6, "stride": 1, "padding": 1, "dilation": 1, "position": 1}),
        (numbers("gaussian blur", "reflect", True), {"size": 9, "stride": 2, "padding": 2, "dilation": 1, "position": 7}),
        (numbers("sobel y", "circular"), {"size": 5, "stride": 1, "padding": 0, "dilation": 3, "position": 1}),  # no output
    ],
)  # fmt: skip
def test_every_steps_frame_is_the_engines_drawing_with_torchs_numbers(made, base):
    frame_set = steps_frame_set(made, base)
    kernel = np.array(made.kernel)
    for slider in frame_set["sliders"]:
        for value in range(slider["low"], slider["high"] + 1):
            settings = {**base, slider["name"]: value}
            frame = tuple(frame_at(frame_set, slider["name"], value))
            assert frame == steps_frame(made, settings)
            grid = made.grid(settings["size"])
            geometry = (settings["stride"], settings["padding"], settings["dilation"])
            try:
                expected = torch_output(grid, kernel, *geometry, made.padding_mode, made.flip)
                assert expected.size
            except RuntimeError:  # torch refuses too: the frame says why, and shows the input
                assert "cnnviz-note warning" in frame[0] and frame[2:4] == ("", "")
                continue
            position = min(settings["position"], expected.size)
            row, col = divmod(position - 1, expected.shape[1])
            assert f"Output cell {position} of {expected.size} " in frame[0]
            assert shown_sum(frame) == pytest.approx(expected[row, col], abs=5e-4)  # written with 3 decimals
            (output_grid,) = read_grids(frame[3])
            drawn = np.array([[float(cell.hover.split(": ")[1]) for cell in r] for r in output_grid.rows])
            assert np.allclose(drawn, expected, rtol=1e-5)  # hover text: 6 significant digits
            stride, _, dilation = geometry
            k = kernel.shape[0]
            taps = [(row * stride + dilation * i, col * stride + dilation * j) for i in range(k) for j in range(k)]
            assert outlined_taps(frame) == sorted(taps)  # the definition of a (dilated, strided) window


def test_a_typed_grid_has_no_size_slider_and_the_cell_slider_spans_the_output():
    typed = StepsNumbers.of({None: np.arange(12.0).reshape(3, 4)}, np.array([[1.0, 0], [0, -1]]))
    frame_set = steps_frame_set(typed, {"stride": 1, "padding": 0, "dilation": 1, "position": 9})
    assert [slider["name"] for slider in frame_set["sliders"]] == ["stride", "padding", "dilation", "position"]
    assert frame_set["sliders"][-1]["high"] == 2 * 3  # a 3 x 4 grid and a 2 x 2 kernel: 2 x 3 windows
    assert frame_set["base"]["position"] == 6  # kept within the output


def test_frames_are_in_the_session_language():
    frame = steps_frame(numbers(), {"size": 6, "stride": 1, "padding": 1, "dilation": 1, "position": 2}, "zh")
    assert "第 2 个输出单元" in frame[0] and "Output" not in "".join(frame)
