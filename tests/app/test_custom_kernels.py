"""Kernels a student types on the Convolution page: whatever the cells hold, the page says what is
wrong with them or shows the output, never a traceback (issue 7). The engine's side of this is
in tests/engine/test_kernels.py; here the page is run with the kernel in its link and typed in
its grid editor."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from cnnviz import convolution, kernels
from cnnviz.i18n import translate
from cnnviz.images import load_sample
from pages import ui
from tests import conv_view
from tests.app.conftest import open_page
from tests.views import captions, notes

PAGE = "pages/convolution.py"


def custom(kernel: str) -> AppTest:
    return open_page(PAGE, **{"conv.source": "custom", "conv.kernel": kernel})


def shown_range(kernel: np.ndarray) -> str:
    """The page's "Values from .. to .." for the default sample, computed here with the engine."""
    output = convolution.convolve_image(load_sample(ui.DEFAULT_SAMPLE).rgb, kernel, "gray")
    low, high = (f"{value:.3g}".replace("-", "−") for value in (output.min(), output.max()))
    return translate("conv.range", "en", low=low, high=high)


def assert_no_failure(at: AppTest, caplog) -> None:
    assert not at.exception
    failures = [record for record in caplog.records if record.name == "cnnviz" and record.levelno >= logging.ERROR]
    assert failures == [], "a panel failed instead of explaining"


def assert_only_fix_kernel_note(at: AppTest) -> None:
    """The output's place holds one info note: fix the kernel (its icon, then the words)."""
    assert not notes(at, "info")
    (info,) = conv_view.notes(at, "info")  # in the scrubbing view, where the output would be
    assert info.endswith(translate("conv.fix_kernel", "en"))


def test_an_all_zero_kernel_gives_a_black_output_and_says_why(caplog):
    at = custom("0,0,0;0,0,0;0,0,0")
    assert_no_failure(at, caplog)
    assert not at.error and not notes(at, "warning") and not conv_view.notes(at, "warning")
    assert translate("conv.sum.all_zero", "en") in captions(at)
    assert conv_view.value_range(at).startswith(translate("conv.range", "en", low="0", high="0"))


def test_the_largest_values_allowed_are_used(caplog):
    biggest = kernels.MAX_KERNEL_VALUE
    at = custom(f"{biggest:g},0,-{biggest:g};0,0,0;0,0,0")
    assert_no_failure(at, caplog)
    assert not at.error
    expected = shown_range(np.array([[biggest, 0, -biggest], [0, 0, 0], [0, 0, 0]]))
    assert conv_view.value_range(at).startswith(expected), (expected, conv_view.value_range(at))


@pytest.mark.parametrize(
    ("cell", "says"),
    [
        ("1000001", "Row 2, column 1 is 1000001; keep kernel values within +/-1e+06."),
        ("-1e7", "Row 2, column 1 is -1e+07; keep kernel values within +/-1e+06."),
        ("1e400", "Row 2, column 1 is infinite"),
        ("-inf", "Row 2, column 1 is infinite"),
        ("NaN", "Row 2, column 1 is NaN"),
        ("1/0", "Row 2, column 1 holds '1/0', which is not a number."),
        ("x", "Row 2, column 1 holds 'x', which is not a number."),
        ("1..5", "Row 2, column 1 holds '1..5', which is not a number."),
        ("", "Row 2, column 1 is empty"),
    ],
)
def test_a_bad_cell_in_the_link_is_named_and_the_output_waits(cell, says, caplog):
    at = custom(f"1,2,1;{cell},0,0;-1,-2,-1")
    assert_no_failure(at, caplog)
    (error,) = at.error
    assert error.value.startswith(translate("conv.bad_kernel", "en", reason="")) and says in error.value
    assert_only_fix_kernel_note(at)


def test_clearing_every_cell_in_the_editor_names_the_first(caplog):
    at = open_page(PAGE, **{"conv.source": "custom"})
    empty = {row: {str(col): None for col in range(1, 4)} for row in range(3)}
    at.session_state["conv.kernel_3"] = {"edited_rows": empty, "added_rows": [], "deleted_rows": []}
    at.run()
    assert_no_failure(at, caplog)
    assert "Row 1, column 1 is empty" in at.error[0].value
    assert_only_fix_kernel_note(at)
