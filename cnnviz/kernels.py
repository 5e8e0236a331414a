"""Named convolution kernels and validation of kernels typed by a user."""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

from cnnviz.refusals import Refusal

#: Largest absolute value a custom kernel may hold; beyond it outputs stop being readable.
MAX_KERNEL_VALUE = 1e6
MIN_KERNEL_SIZE, MAX_KERNEL_SIZE = 1, 7


def gaussian(size: int = 5, sigma: float = 1.0) -> np.ndarray:
    """A normalized (sums to 1) Gaussian blur kernel of odd ``size``."""
    axis = np.arange(size) - (size - 1) / 2
    bell = np.exp(-(axis**2) / (2 * sigma**2))
    kernel = np.outer(bell, bell)
    return kernel / kernel.sum()


PRESETS: dict[str, np.ndarray] = {
    "identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], float),
    "box blur": np.full((3, 3), 1 / 9),
    "gaussian blur": gaussian(5, 1.0),
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], float),
    # Sobel x responds to left-to-right brightness changes, i.e. vertical edges.
    "sobel x": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], float),
    "sobel y": np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], float),
    "prewitt x": np.array([[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]], float),
    "prewitt y": np.array([[-1, -1, -1], [0, 0, 0], [1, 1, 1]], float),
    "laplacian": np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], float),
    "outline": np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], float),
    "emboss": np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]], float),
    "motion blur": np.eye(5) / 5,
}


def preset(name: str) -> np.ndarray:
    """A copy of the named preset kernel.

    Raises:
        ValueError: for an unknown name.
    """
    if name not in PRESETS:
        raise ValueError(f"Unknown kernel {name!r}; choose one of: {', '.join(PRESETS)}.")
    return PRESETS[name].copy()


def parse_kernel(cells: list[list[object]]) -> np.ndarray:
    """Turn the cells of an edited grid into a kernel, refusing what cannot be a kernel.

    Cells may hold numbers or strings of numbers (``"1/9"`` is accepted as a fraction).

    Args:
        cells: rows of cell values, all rows the same length.

    Returns:
        A float64 array of shape (rows, cols).

    Raises:
        ValueError: naming the first bad cell (row and column from 1): empty,
            not a number, NaN, infinite, or beyond ``MAX_KERNEL_VALUE``; or a grid
            that is ragged or outside 1..7 cells per side.
    """
    rows = len(cells)
    cols = len(cells[0]) if rows else 0
    if not (MIN_KERNEL_SIZE <= rows <= MAX_KERNEL_SIZE and MIN_KERNEL_SIZE <= cols <= MAX_KERNEL_SIZE):
        raise Refusal("kernel_size", f"A kernel needs 1 to 7 rows and columns; this one is {rows} x {cols}.",
                      rows=rows, cols=cols)  # fmt: skip
    kernel = np.empty((rows, cols))
    for r, row in enumerate(cells):
        if len(row) != cols:
            raise Refusal(
                "kernel_ragged", f"Row {r + 1} has {len(row)} cells but row 1 has {cols}; every row needs the same length.",
                row=r + 1, cells=len(row), cols=cols,
            )  # fmt: skip
        for c, cell in enumerate(row):
            kernel[r, c] = _parse_cell(cell, r + 1, c + 1)
    return kernel


def _parse_cell(cell: object, row: int, col: int) -> float:
    where = f"Row {row}, column {col}"

    def refusal(reason: str, message: str, **values: object) -> Refusal:
        return Refusal(f"kernel_cell_{reason}", f"{where} {message}", row=row, col=col, **values)

    if cell is None or (isinstance(cell, str) and not cell.strip()):
        raise refusal("empty", "is empty; type a number (0 if unsure).")
    if isinstance(cell, str):
        text = cell.strip()
        try:
            if "/" in text:
                numerator, denominator = text.split("/", 1)
                value = float(numerator) / float(denominator)
            else:
                value = float(text)
        except (ValueError, ZeroDivisionError):
            raise refusal("not_number", f"holds {cell!r}, which is not a number.", cell=str(cell)[:20]) from None
    else:
        try:
            value = float(cell)  # type: ignore[arg-type]
        except OverflowError:
            # An integer or fraction too large for a float (e.g. 10**400).
            raise refusal("too_large", f"is far too large; keep kernel values within +/-{MAX_KERNEL_VALUE:g}.",
                          value="∞", limit=f"{MAX_KERNEL_VALUE:g}") from None  # fmt: skip
        except (TypeError, ValueError):
            raise refusal("not_number", f"holds {cell!r}, which is not a number.", cell=str(cell)[:20]) from None
    if math.isnan(value):
        raise refusal("nan", "is NaN (not a number); a kernel needs real numbers.")
    if math.isinf(value):
        raise refusal("infinite", "is infinite; use a finite number.")
    if abs(value) > MAX_KERNEL_VALUE:
        # Seven digits, so a value just over the limit (1000001) does not read as the limit itself.
        raise refusal("too_large", f"is {value:.7g}; keep kernel values within +/-{MAX_KERNEL_VALUE:g}.",
                      value=f"{value:.7g}", limit=f"{MAX_KERNEL_VALUE:g}")  # fmt: skip
    return value


WeightSum = Literal["all_zero", "sums_to_one", "sums_to_zero", "scales"]


def weight_sum(kernel: np.ndarray) -> tuple[WeightSum, float]:
    """What a kernel does to a flat (constant) region, from the sum of its weights.

    A flat region of value v becomes ``v * kernel.sum()`` (plus the bias), so the sum
    says whether a kernel keeps brightness (1), keeps only changes (0) or scales.

    Returns:
        (kind, total): kind is ``"all_zero"``, ``"sums_to_one"``, ``"sums_to_zero"``
        or ``"scales"``; total is the sum of the weights.
    """
    total = float(np.sum(kernel))
    if np.allclose(kernel, 0):
        return "all_zero", total
    if math.isclose(total, 1.0, abs_tol=1e-9):
        return "sums_to_one", total
    if math.isclose(total, 0.0, abs_tol=1e-9):
        return "sums_to_zero", 0.0
    return "scales", total


def describe_kernel(kernel: np.ndarray) -> str:
    """One sentence about what a kernel's weights imply (their sum), in English.

    Pages show the same sentences in the user's language from ``weight_sum``'s kind.
    """
    kind, total = weight_sum(kernel)
    return {
        "all_zero": "All weights are zero: every output pixel is 0 (plus the bias).",
        "sums_to_one": "The weights sum to 1: flat regions keep their brightness.",
        "sums_to_zero": "The weights sum to 0: flat regions become 0, only changes (edges) remain.",
        "scales": f"The weights sum to {total:g}: flat regions are scaled by {total:g}.",
    }[kind]
