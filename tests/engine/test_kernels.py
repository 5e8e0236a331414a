"""Preset kernels and the validation of kernels a student types in."""

from fractions import Fraction

import numpy as np
import pytest

from cnnviz import kernels

# What a flat region becomes under each preset: blurs and sharpeners keep brightness,
# edge detectors keep only changes.
SUMS = {
    "identity": 1,
    "box blur": 1,
    "gaussian blur": 1,
    "sharpen": 1,
    "sobel x": 0,
    "sobel y": 0,
    "prewitt x": 0,
    "prewitt y": 0,
    "laplacian": 0,
    "outline": 0,
    "emboss": 1,
    "motion blur": 1,
}


def test_every_preset_has_a_known_sum():
    assert set(kernels.PRESETS) == set(SUMS)


@pytest.mark.parametrize("name", sorted(SUMS))
def test_preset_shape_and_sum(name):
    kernel = kernels.preset(name)
    assert kernel.ndim == 2 and kernel.shape[0] == kernel.shape[1]
    assert kernel.shape[0] % 2 == 1 and kernel.shape[0] <= kernels.MAX_KERNEL_SIZE
    assert np.isfinite(kernel).all()
    assert kernel.sum() == pytest.approx(SUMS[name], abs=1e-12)


def test_edge_presets_are_transposes_of_each_other():
    assert np.array_equal(kernels.preset("sobel y"), kernels.preset("sobel x").T)
    assert np.array_equal(kernels.preset("prewitt y"), kernels.preset("prewitt x").T)


def test_preset_returns_a_copy():
    kernel = kernels.preset("identity")
    kernel[1, 1] = 99
    assert kernels.PRESETS["identity"][1, 1] == 1


def test_unknown_preset_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="sobel x"):
        kernels.preset("sobel z")


def test_gaussian_is_symmetric_and_peaks_in_the_middle():
    kernel = kernels.gaussian(5, 1.0)
    assert np.allclose(kernel, kernel.T) and np.allclose(kernel, kernel[::-1, ::-1])
    assert kernel.argmax() == 12
    assert kernel.sum() == pytest.approx(1)


# --- parse_kernel: what a student may type ---------------------------------------------------


def test_parse_accepts_numbers_strings_and_fractions():
    cells = [
        [1, -2.5, np.float32(0.5)],
        [" 3 ", "-1.5", "1e-3"],
        ["1/9", Fraction(1, 4), " -2 / 8 "],
    ]
    expected = [[1, -2.5, 0.5], [3, -1.5, 0.001], [1 / 9, 0.25, -0.25]]
    kernel = kernels.parse_kernel(cells)
    assert kernel.dtype == np.float64 and kernel.shape == (3, 3)
    assert np.allclose(kernel, expected)


def test_parse_accepts_every_size_from_one_to_seven():
    for size in range(1, 8):
        assert kernels.parse_kernel([["0"] * size] * size).shape == (size, size)
    assert kernels.parse_kernel([[1, 2, 3]]).shape == (1, 3)


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        (float("nan"), "NaN"),
        ("nan", "NaN"),
        (float("inf"), "infinite"),
        ("-inf", "infinite"),
        ("1e400", "infinite"),
        ("abc", "not a number"),
        ("1/0", "not a number"),
        ("2/x", "not a number"),
        ([1, 2], "not a number"),
        ("", "empty"),
        ("   ", "empty"),
        (None, "empty"),
        (1e7, "within"),
        ("-2e6", "within"),
        (10**400, "too large"),
        (Fraction(10**400), "too large"),
    ],
)
def test_parse_rejects_a_bad_cell_naming_it(bad, says):
    cells = [["0", "0", "0"], ["0", "0", bad], ["0", "0", "0"]]
    with pytest.raises(ValueError, match=says) as caught:
        kernels.parse_kernel(cells)
    assert "Row 2, column 3" in str(caught.value)


def test_parse_names_the_first_bad_cell():
    with pytest.raises(ValueError, match="Row 1, column 2"):
        kernels.parse_kernel([["1", "x", "y"], ["", "0", "0"]])


def test_parse_rejects_ragged_rows():
    with pytest.raises(ValueError, match="Row 3 has 2 cells but row 1 has 3"):
        kernels.parse_kernel([[1, 2, 3], [4, 5, 6], [7, 8]])


@pytest.mark.parametrize("cells", [[], [[]], [[0] * 8] * 3, [[0] * 3] * 8])
def test_parse_rejects_sizes_outside_one_to_seven(cells):
    with pytest.raises(ValueError, match="1 to 7 rows and columns"):
        kernels.parse_kernel(cells)


# --- what the weights say ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kernel", "kind", "total"),
    [
        (np.zeros((3, 3)), "all_zero", 0),
        (kernels.preset("box blur"), "sums_to_one", 1),
        (kernels.preset("sobel x"), "sums_to_zero", 0),
        (np.full((2, 2), 0.5), "scales", 2),
    ],
)
def test_weight_sum(kernel, kind, total):
    assert kernels.weight_sum(kernel) == (kind, pytest.approx(total))


def test_describe_kernel_follows_the_weight_sum():
    assert "sum to 0" in kernels.describe_kernel(kernels.preset("laplacian"))
    assert "keep their brightness" in kernels.describe_kernel(kernels.preset("gaussian blur"))
    assert "scaled by 2" in kernels.describe_kernel(np.full((2, 2), 0.5))
    assert "zero" in kernels.describe_kernel(np.zeros((3, 3)))


def test_a_value_just_over_the_limit_is_not_shown_as_the_limit():
    with pytest.raises(ValueError, match=r"Row 1, column 1 is 1000001; keep kernel values within \+/-1e\+06\."):
        kernels.parse_kernel([[1_000_001]])
    assert kernels.parse_kernel([[kernels.MAX_KERNEL_VALUE, -kernels.MAX_KERNEL_VALUE]]).tolist() == [[1e6, -1e6]]


def test_an_all_zero_kernel_is_a_kernel():
    kernel = kernels.parse_kernel([["0", "0.0", "-0"]] * 3)
    assert kernel.shape == (3, 3) and not kernel.any()
    assert kernels.weight_sum(kernel) == ("all_zero", 0.0)
