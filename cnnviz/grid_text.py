"""Grids of numbers typed as text, rows on lines: the step-by-step lesson's own input and kernel.

A row is one line; its numbers are separated by spaces or commas (``1/9`` is a fraction).
What cannot be a grid raises ``GridTextError`` with a reason code and the values a page
needs to say why in the user's language.
"""

from __future__ import annotations

import math
import re

import numpy as np

#: Typed numbers stay within +/- this: a grid cell shows at most four digits.
MAX_VALUE = 1000.0


class GridTextError(ValueError):
    """Text that is not a usable grid.

    Attributes:
        reason: ``"empty"``, ``"not_a_number"``, ``"too_large"``, ``"ragged"``,
            ``"too_many_rows"``, ``"too_many_columns"`` or ``"not_square"``.
        values: the numbers and the cell text the explanation uses (``row``, ``column``
            from 1, ``cell``, ``count``, ``expected``, ``most``, ``rows``, ``columns``, ``limit``).
    """

    def __init__(self, reason: str, message: str, **values: int | str) -> None:
        super().__init__(message)
        self.reason = reason
        self.values = values


def parse_grid(text: str, most: int, square: bool = False) -> np.ndarray:
    """The numbers of ``text`` as a grid, one row per non-blank line.

    Args:
        text: rows on lines, numbers separated by spaces or commas.
        most: the largest number of rows and of columns allowed.
        square: require as many rows as columns (a kernel).

    Returns:
        (rows, columns) float64.

    Raises:
        GridTextError: naming the first problem (row and column count from 1).
    """
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise GridTextError("empty", "Type at least one row of numbers.")
    if len(lines) > most:
        raise GridTextError("too_many_rows", f"{len(lines)} rows: at most {most} fit.", count=len(lines), most=most)
    rows = [[cell for cell in re.split(r"[\s,;]+", line.strip()) if cell] for line in lines]
    for number, row in enumerate(rows, 1):
        if len(row) > most:
            raise GridTextError(
                "too_many_columns", f"Row {number} has {len(row)} numbers: at most {most} fit.",
                row=number, count=len(row), most=most,
            )  # fmt: skip
        if len(row) != len(rows[0]):
            raise GridTextError(
                "ragged", f"Row {number} has {len(row)} numbers but row 1 has {len(rows[0])}.",
                row=number, count=len(row), expected=len(rows[0]),
            )  # fmt: skip
    if square and len(rows) != len(rows[0]):
        raise GridTextError(
            "not_square", f"{len(rows)} rows of {len(rows[0])}: a kernel needs as many rows as columns.",
            rows=len(rows), columns=len(rows[0]),
        )  # fmt: skip
    return np.array([[_number(cell, r, c) for c, cell in enumerate(row, 1)] for r, row in enumerate(rows, 1)])


def _number(cell: str, row: int, column: int) -> float:
    try:
        numerator, _, denominator = cell.replace("−", "-").partition("/")
        value = float(numerator) / float(denominator) if denominator else float(numerator)
    except (ValueError, ZeroDivisionError):
        value = math.nan
    if not math.isfinite(value):
        raise GridTextError(
            "not_a_number", f"Row {row}, column {column} holds {cell!r}, which is not a number.",
            row=row, column=column, cell=cell,
        )  # fmt: skip
    if abs(value) > MAX_VALUE:
        raise GridTextError(
            "too_large", f"Row {row}, column {column} is {cell}; keep numbers within ±{MAX_VALUE:g}.",
            row=row, column=column, cell=cell, limit=f"{MAX_VALUE:g}",
        )  # fmt: skip
    return value


def grid_to_text(values: np.ndarray) -> str:
    """A grid as :func:`parse_grid` reads it: one line per row, numbers separated by spaces, a
    value such as 1/9 as that fraction (so a typed blur still adds up to exactly 1), others to 6 significant digits."""
    return "\n".join(" ".join(_typed(float(value)) for value in row) for row in np.asarray(values))


def _typed(value: float) -> str:
    for denominator in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 16, 25, 32, 49, 64, 128, 256):
        numerator = round(value * denominator)
        if abs(value * denominator - numerator) < 1e-9 and abs(numerator) < 10_000:
            return str(numerator) if denominator == 1 else f"{numerator}/{denominator}"
    return f"{value:.6g}"
