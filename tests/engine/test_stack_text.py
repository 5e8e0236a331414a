"""The layer-stack tracer's text: presets round-trip, shapes match torch, errors name the typed line."""

import pytest
import torch
from torch import nn

from cnnviz import arithmetic, stack_text
from cnnviz.arithmetic import SizeError
from cnnviz.stack_text import StackTextError


@pytest.mark.parametrize("preset", list(arithmetic.LAYER_PRESETS))
def test_every_preset_reads_back_as_itself(preset):
    input_shape, layers = arithmetic.LAYER_PRESETS[preset]
    assert stack_text.parse_stack(stack_text.stack_text(input_shape, layers))[:2] == (input_shape, list(layers))


def test_a_typed_stack_traces_the_shapes_torch_computes():
    text = "input 3 32 32\nconv 8 k3 p1   # same size\nrelu\npool max 2\ndropout 0.5\nconv 16 k3 s2\nflatten\ndense 10"
    input_shape, _, rows = stack_text.trace_stack(text)
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, stride=2),
                        nn.Flatten(), nn.LazyLinear(10))  # fmt: skip
    x = torch.zeros(1, *input_shape)
    shapes = []
    for module in net:
        x = module(x)
        if not isinstance(module, nn.ReLU):
            shapes.append(tuple(x.shape[1:]))
    assert [row.shape for row in rows] == shapes == [(8, 32, 32), (8, 16, 16), (16, 7, 7), (784,), (10,)]


@pytest.mark.parametrize(
    "text, reason, line",
    [
        ("", "empty", None),
        ("# only a comment", "empty", None),
        ("conv 8 k3", "input_line", 1),
        ("\n\ninput 1 28", "input_line", 3),
        ("input 1 99999 28\nconv 4 k3", "input_line", 1),
        ("input 1 28 28\n\n# two blank lines above\nconv 8 k3 z4", "unreadable", 4),
        ("input 1 28 28\nbanana", "unreadable", 2),
    ],
)
def test_unreadable_texts_say_why_and_name_the_typed_line(text, reason, line):
    with pytest.raises(StackTextError) as caught:
        stack_text.parse_stack(text)
    assert caught.value.reason == reason
    assert caught.value.values.get("line") == line


def test_a_layer_with_no_output_names_the_line_it_was_typed_on():
    text = "input 1 8 8\n# a comment\nconv 4 k3\nrelu\nconv 4 k9"  # the 2nd conv is the 2nd layer, on line 5
    with pytest.raises(SizeError) as caught:
        stack_text.trace_stack(text)
    assert caught.value.reason == "window_too_big"
    assert (caught.value.values["line"], caught.value.values["typed"]) == (5, "conv 4 k9")
    assert "layer" not in caught.value.values and str(caught.value).startswith("Line 5")
