"""Grids typed as text: what is read, and what is refused with which reason."""

import numpy as np
import pytest

from cnnviz import kernels
from cnnviz.grid_text import GridTextError, grid_to_text, parse_grid


def test_rows_on_lines_numbers_split_by_spaces_or_commas():
    grid = parse_grid("1 2, 3\n\n 4,5 6 \n-1/4 0.5 −2\n", most=10)
    assert np.array_equal(grid, [[1, 2, 3], [4, 5, 6], [-0.25, 0.5, -2]])


@pytest.mark.parametrize(
    ("text", "square", "reason", "values"),
    [
        ("  \n ", False, "empty", {}),
        ("1 2\n3 x", False, "not_a_number", {"row": 2, "column": 2, "cell": "x"}),
        ("1 nan", False, "not_a_number", {"row": 1, "column": 2, "cell": "nan"}),
        ("1/0", False, "not_a_number", {"row": 1, "column": 1, "cell": "1/0"}),
        ("1 2\n3 2000", False, "too_large", {"row": 2, "column": 2, "cell": "2000", "limit": "1000"}),
        ("1 2 3\n4 5", False, "ragged", {"row": 2, "count": 2, "expected": 3}),
        ("1\n" * 5, False, "too_many_rows", {"count": 5, "most": 4}),
        ("1 2 3 4 5", False, "too_many_columns", {"row": 1, "count": 5, "most": 4}),
        ("1 2 3\n4 5 6", True, "not_square", {"rows": 2, "columns": 3}),
    ],
)
def test_what_cannot_be_a_grid_says_why(text, square, reason, values):
    with pytest.raises(GridTextError) as refused:
        parse_grid(text, most=4, square=square)
    assert refused.value.reason == reason and refused.value.values == values


@pytest.mark.parametrize("name", list(kernels.PRESETS))
def test_a_grid_written_as_text_reads_back(name):
    kernel = kernels.preset(name)
    assert np.allclose(parse_grid(grid_to_text(kernel), most=7, square=True), kernel, rtol=1e-5, atol=0)


def test_fractions_are_written_as_fractions():
    assert grid_to_text(np.full((2, 2), 1 / 9)) == "1/9 1/9\n1/9 1/9"
    assert grid_to_text(np.array([[-2.0, 0.0, 1 / 16]])) == "-2 0 1/16"
