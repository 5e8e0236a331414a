"""The PyTorch code each page shows runs and prints what the page says; quiz answers are right."""

import contextlib
import io
import random
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnviz import codegen, quiz
from cnnviz.arithmetic import LAYER_PRESETS, trace_layers
from tests.snippets import printed_layer_shapes, promised_layer_shapes, run_snippet


def promised_shape(code: str) -> str:
    """The shape the snippet's last comment promises, e.g. 'torch.Size([1, 8, 14, 14])'."""
    return re.search(r"# (torch\.Size\(\[.*\]\))\s*$", code).group(1)


@pytest.mark.parametrize(
    "settings",
    [
        dict(input_shape=(3, 32, 32), out_channels=8, kernel_size=3, stride=2, padding=1),
        dict(input_shape=(1, 28, 28), out_channels=4, kernel_size=5),
        dict(
            input_shape=(3, 17, 9),
            out_channels=2,
            kernel_size=3,
            stride=3,
            dilation=2,
            padding_mode="reflect",
            padding=2,
        ),
        dict(input_shape=(1, 10, 10), out_channels=1, kernel_size=3, bias=False),
        dict(input_shape=(3, 12, 10), out_channels=3, kernel_size=3, groups=3),
    ],
)
def test_conv2d_snippet_prints_the_promised_shape(settings):
    code = codegen.conv2d(**settings)
    assert run_snippet(code) == promised_shape(code)


@pytest.mark.parametrize(
    "settings",
    [
        dict(input_shape=(4, 9, 9), kind="max", kernel_size=2),
        dict(input_shape=(4, 9, 9), kind="max", kernel_size=2, ceil_mode=True),
        dict(input_shape=(1, 7, 7), kind="avg", kernel_size=3, stride=2, padding=1),
        dict(input_shape=(2, 8, 8), kind="lp", kernel_size=2, norm_type=3),
    ],
)
def test_pool_snippet_prints_the_promised_shape(settings):
    code = codegen.pool2d(**settings)
    assert run_snippet(code) == promised_shape(code)


def test_ceil_mode_changes_the_promise():
    floor = promised_shape(codegen.pool2d((1, 9, 9), "max", 2))
    ceil = promised_shape(codegen.pool2d((1, 9, 9), "max", 2, ceil_mode=True))
    assert (floor, ceil) == ("torch.Size([1, 1, 4, 4])", "torch.Size([1, 1, 5, 5])")


@pytest.mark.parametrize("name", list(LAYER_PRESETS))
def test_layer_stack_snippet_prints_every_layers_shape_as_promised(name):
    input_shape, layers = LAYER_PRESETS[name]
    code = codegen.layer_stack(input_shape, layers)
    printed = printed_layer_shapes(code)
    assert printed == promised_layer_shapes(code) and len(printed) == len(layers)
    assert printed == [(1, *row.shape) for row in trace_layers(input_shape, layers)]


def test_grouped_conv2d_snippet_gives_each_channel_its_own_kernel():
    code = codegen.conv2d((3, 12, 10), 3, kernel_size=3, groups=3)
    namespace = {}
    exec(compile(code.replace("print(", "(", 1), "<snippet>", "exec"), namespace)
    assert namespace["layer"].weight.shape == (3, 1, 3, 3)  # one 3 x 3 kernel per channel


@pytest.mark.parametrize(("flip", "expected"), [(False, -4), (True, 4)])
def test_conv2d_on_grid_snippet_computes_the_hand_worked_numbers(flip, expected):
    grid = np.arange(1, 10).reshape(3, 3)
    kernel = np.array([[1, 0], [0, -1]])  # top-left minus bottom-right: 1 - 5 = -4 everywhere
    namespace = {}
    code = codegen.conv2d_on_grid(grid, kernel, flip=flip)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, "<snippet>", "exec"), namespace)
    assert namespace["out"].tolist() == [[expected, expected]] * 2
    assert printed.getvalue().startswith("torch.Size([2, 2])") and "torch.Size([2, 2])" in code


def test_impossible_settings_give_no_code():
    with pytest.raises(ValueError, match="window"):
        codegen.conv2d((1, 4, 4), 1, kernel_size=7)
    with pytest.raises(ValueError, match="groups"):
        codegen.conv2d((3, 8, 8), 2, kernel_size=3, groups=3)
    with pytest.raises(ValueError, match="padding"):
        codegen.pool2d((1, 8, 8), "lp", 2, padding=1)


def test_output_size_questions_are_answerable_and_correct():
    rng = random.Random(7)
    for _ in range(200):
        q = quiz.output_size_question(rng)
        conv = torch.nn.Conv2d(1, 1, q.kernel_size, q.stride, q.padding, q.dilation)
        assert conv(torch.zeros(1, 1, q.size, q.size)).shape[-1] == q.answer


def test_same_seed_same_questions():
    first = [quiz.output_size_question(random.Random(3)) for _ in range(3)]
    again = [quiz.output_size_question(random.Random(3)) for _ in range(3)]
    assert first == again


def test_pooled_value_question_answer_by_hand():
    q = quiz.PooledValueQuestion(((1, 2, 0, 0), (3, 4, 0, 9), (0, 0, 5, 5), (0, 0, 5, 6)), "max", 2, 2, 0, 1)
    assert q.answer == 9
    assert quiz.PooledValueQuestion(
        q.grid,
        "avg",
        2,
        2,
        1,
        1,
    ).answer == pytest.approx(5.25)
    rows, cols = q.window
    assert (rows, cols) == (slice(0, 2), slice(2, 4))


def test_pooled_value_questions_match_the_window():
    rng = random.Random(11)
    for _ in range(100):
        q = quiz.pooled_value_question(rng)
        grid = torch.tensor(q.grid, dtype=torch.float64)
        rows, cols = q.window
        window = grid[rows, cols]
        expected = window.max() if q.kind == "max" else window.mean()
        assert q.answer == pytest.approx(float(expected))
        assert F.max_pool2d(grid[None, None], q.kernel_size, q.stride).shape[-1] > q.col


def test_is_correct_tolerates_rounding_only():
    assert quiz.is_correct(5.25, 5.25) and quiz.is_correct(5.25, 5.2500001)
    assert not quiz.is_correct(5.3, 5.25)
