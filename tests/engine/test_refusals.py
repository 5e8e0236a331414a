"""Refusals carry a reason and values (cnnviz.refusals.Refusal), and a layer-spec error names the line
the user typed, not the n-th layer that changes shape (issue 14)."""

from __future__ import annotations

import pytest

from cnnviz import i18n, kernels, netspec
from cnnviz.arithmetic import SizeError, conv_output_size
from cnnviz.refusals import Refusal

SPEC = "# LeNet-like\nconv 8 k5\nrelu\n\npool max 2\nconv 16 k13   # too wide for 12 x 12\nflatten\ndense 10"


def test_a_layer_with_no_output_is_named_by_the_line_typed():
    layers = netspec.parse_spec(SPEC)
    with pytest.raises(SizeError) as refused:
        netspec.check_spec((1, 28, 28), layers, 10, text=SPEC)
    assert refused.value.values["line"] == 6 and "layer" not in refused.value.values
    assert str(refused.value).startswith("Line 6 ('conv 16 k13   # too wide for 12 x 12'): The kernel spans 13 pixels")
    # The same refusal as the arithmetic gives for that layer (12 x 12 after conv k5 and pool 2).
    with pytest.raises(SizeError) as direct:
        conv_output_size(12, 13)
    assert direct.value.reason == refused.value.reason
    assert {k: v for k, v in refused.value.values.items() if k != "line"}.items() >= direct.value.values.items()


def test_a_layer_with_no_output_keeps_its_layer_number_without_the_text():
    with pytest.raises(SizeError) as refused:
        netspec.check_spec((1, 28, 28), netspec.parse_spec(SPEC), 10)
    assert refused.value.values["layer"] == 3


@pytest.mark.parametrize(
    ("text", "reason", "values"),
    [
        ("conv 8 k3\n\nwobble 3", "spec_unknown_layer", {"line": 3}),
        ("conv eight k3", "spec_positive_int", {"line": 1, "what": "out_channels", "word": "eight"}),
        ("conv 8 k3\ndropout 1.5", "spec_dropout_rate", {"line": 2, "rate": "1.5"}),
        ("conv 8 q3", "spec_option", {"line": 1, "option": "q3"}),
        ("# only a comment", "spec_empty", {}),
    ],
)
def test_spec_refusals_carry_a_reason_and_their_values(text, reason, values):
    with pytest.raises(Refusal) as refused:
        netspec.parse_spec(text)
    assert refused.value.reason == reason and refused.value.values.items() >= values.items()


@pytest.mark.parametrize(
    ("cells", "reason", "values", "message"),
    [
        ([["1", "0"], ["0", "abc"]], "kernel_cell_not_number", {"row": 2, "col": 2, "cell": "abc"},
         "Row 2, column 2 holds 'abc', which is not a number."),
        ([["1", ""], ["0", "1"]], "kernel_cell_empty", {"row": 1, "col": 2}, "Row 1, column 2 is empty"),
        ([["1", "0"], ["inf", "1"]], "kernel_cell_infinite", {"row": 2, "col": 1}, "Row 2, column 1 is infinite"),
        ([["1", "0"], ["0"]], "kernel_ragged", {"row": 2, "cells": 1, "cols": 2}, "Row 2 has 1 cells but row 1 has 2"),
    ],
)  # fmt: skip
def test_kernel_refusals_carry_a_reason_and_their_values(cells, reason, values, message):
    with pytest.raises(Refusal) as refused:
        kernels.parse_kernel(cells)
    assert refused.value.reason == reason and refused.value.values == values
    assert str(refused.value).startswith(message)
    # The catalogue says it in both languages with exactly these values.
    for lang in i18n.LANGUAGES:
        i18n.translate(f"error.{reason}", lang, **values)
    assert i18n.translate(f"error.{reason}", "en", **values).startswith(message)
