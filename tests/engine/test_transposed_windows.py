"""Where a transposed convolution's windows land, checked against torch's ConvTranspose1d."""

import itertools
import xml.etree.ElementTree as ET

import pytest
import torch
import torch.nn.functional as F

from cnnviz import windows
from cnnviz.arithmetic import SizeError, transposed_output_size
from cnnviz.drawing import window_diagrams

SVG = "{http://www.w3.org/2000/svg}"
SETTINGS = list(itertools.product((1, 3, 5), (1, 2, 3, 5), (1, 2, 3), (0, 1, 2), (0, 1, 2), (1, 2)))


@pytest.mark.parametrize("size, kernel, stride, padding, output_padding, dilation", SETTINGS)
def test_the_writes_per_kept_cell_are_what_torch_adds_up(size, kernel, stride, padding, output_padding, dilation):
    try:
        layout = windows.transposed_layout(size, kernel, stride, padding, output_padding, dilation)
    except SizeError:
        with pytest.raises(SizeError):
            transposed_output_size(size, kernel, stride, padding, output_padding, dilation)
        return
    # All-ones input and kernel: each output cell is the number of taps that add into it.
    summed = F.conv_transpose1d(torch.ones(1, 1, size), torch.ones(1, 1, kernel), stride=stride, padding=padding,
                                output_padding=output_padding, dilation=dilation)[0, 0]  # fmt: skip
    assert layout.out == summed.numel()
    assert list(layout.writes[padding : padding + layout.out]) == summed.round().int().tolist()
    assert layout.starts == tuple(range(0, size * stride, stride))


def cells(svg: str, kind: str) -> list[str]:
    root = ET.fromstring(svg)
    return [g.find(f"{SVG}text").text for g in root.iter(f"{SVG}g") if kind in g.get("class", "").split()]


def test_the_drawing_shows_each_window_and_the_kept_cropped_and_extra_cells():
    layout = windows.transposed_layout(3, 3, 2, 1, 1)  # (3 - 1)*2 - 2 + 3 + 1 = 6
    svg = window_diagrams.transposed_svg(layout)
    assert cells(svg, "input") == ["1", "2", "3"]
    assert len(ET.fromstring(svg).findall(f".//{SVG}g[@class='window']")) == 3
    assert layout.writes == (1, 1, 2, 1, 2, 1, 1, 0)  # windows overlap where the stride is below the kernel
    assert cells(svg, "cropped") == ["1", "0"] and cells(svg, "kept") == ["1", "2", "1", "2", "1"]
    assert cells(svg, "extra") == ["1"]  # the output padding keeps one more cell at the end


def test_labels_are_the_pages():
    svg = window_diagrams.transposed_svg(
        windows.transposed_layout(2, 2, 2), window_diagrams.TransposedLabels(output_row="输出")
    )
    assert "输出" in svg
