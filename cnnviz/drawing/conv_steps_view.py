"""The Step by step lesson's scrubbing view: one output cell worked out on a grid of numbers.

A frame shows, for one setting of the grid size, stride, padding, dilation and output cell:
the sum written out, the input grid with the kernel's taps outlined, the kernel and its
products, and the output filled in up to that cell. Every number comes from
``cnnviz.convolution`` (``conv_as_matmul`` for the output, ``conv_step`` for the cell).

The output cell slider has up to 196 values: drawing the input and output grids again for
each would be ~10 MB. So a frame's grids are drawn once per geometry (shared parts), and
what marks the current cell (taps outlined, cells not yet computed blanked) is a small
``<style>`` part per cell (``marks``). ``steps_frame_set`` draws the frames
(``cnnviz.drawing.frames``) that ``cnnviz/frontend/scrub_view.js`` swaps.

Two panels below the view depend on the sliders alone, so they are slots of the frames drawn in
places (``PLACES``): the PyTorch code for the geometry (``codegen.conv2d_on_grid``), and the same
convolution as one matrix product (im2col: the windows as columns, the kernel row, the output row),
whose grids are drawn once per geometry too; the current column is outlined by a ``<style>`` per
cell (``im2col_marks``). The page mounts ``scrub_view.place("steps.scrub", "code")`` in its code
panel and ``"im2col"`` below the view, and they follow the pointer.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from cnnviz import codegen, convolution, i18n
from cnnviz.drawing import grids
from cnnviz.drawing.frames import Slider, frame_sets
from cnnviz.drawing.markup import code_html, markdown_html

#: The geometry sliders: name -> (low, high, default); URL keys ``steps.<name>``.
STEPS_SLIDERS: dict[str, tuple[int, int, int]] = {
    "size": (4, 10, 6),
    "stride": (1, 3, 1),
    "padding": (0, 3, 1),
    "dilation": (1, 3, 1),
}
LABELS = {"size": "steps.size", "stride": "conv.stride", "padding": "conv.padding", "dilation": "conv.dilation",
          "position": "steps.position"}  # fmt: skip
#: Smallest grid cell, in pixels: numbers are written at 13 px from 36 px cells up
#: (``grids.number_grid_html``), readable on a projector; a wider grid scrolls.
MIN_CELL = 36
#: The view's class; the marks' selectors start with it.
VIEW_CLASS = "steps-frame"
AMBER = "#f59e0b"
#: The frames' slots drawn in places, not in the view: place name -> slots (``frames``, "places").
PLACES: dict[str, list[int]] = {"code": [5], "im2col": [6, 7]}
#: The im2col panel's class (its marks' selectors start with it).
IM2COL_CLASS = "steps-im2col"


@dataclass(frozen=True)
class StepsNumbers:
    """What the sliders do not change: the grid for each size (a typed grid: one, size None),
    the kernel, the padding mode and whether the kernel is flipped (true convolution)."""

    grids: tuple[tuple[int | None, tuple[tuple[float, ...], ...]], ...]
    kernel: tuple[tuple[float, ...], ...]
    padding_mode: str = "zeros"
    flip: bool = False

    @classmethod
    def of(cls, grids: Mapping[int | None, np.ndarray], kernel: np.ndarray, padding_mode: str = "zeros",
           flip: bool = False) -> StepsNumbers:  # fmt: skip
        as_rows = lambda array: tuple(map(tuple, np.asarray(array, float).tolist()))  # noqa: E731
        return cls(tuple((size, as_rows(grid)) for size, grid in grids.items()), as_rows(kernel), padding_mode, flip)

    def grid(self, size: int | None) -> np.ndarray:
        found = dict(self.grids)
        return np.array(found[size] if size in found else found[None], float)


def number(value: float) -> str:
    """A number as a student writes it: at most 3 decimals, no trailing zeros, a true minus sign."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text.replace("-", "−")


def cell_size(values: np.ndarray, decimals: int, room: int, largest: int = 40) -> int:
    """Pixels per cell: the grid's width in about ``room`` pixels, never below ``MIN_CELL`` nor
    narrower than its longest number at 13 px (a wider grid scrolls)."""
    longest = max((len(text) for text in grids.number_text(values, decimals).ravel()), default=1)
    fitted = min(largest, max(MIN_CELL, room // max(values.shape[1], 1)))
    return int(max(fitted, 8 * longest + 6))


def decimals_for(grid: np.ndarray) -> int:
    """Whole numbers (the image's 0..9, random grids) without decimals; typed fractions with 2."""
    return 0 if np.array_equal(grid, np.round(grid)) else 2


def sum_html(step: convolution.ConvStep, cell: str) -> str:
    """'Output cell 8 of 36 (…): 6×(−1) + 3×0 + … = −10': the products in reading order."""

    def factor(value: float) -> str:
        return f"({number(value)})" if value < 0 else number(value)

    pairs = zip(step.window.ravel(), step.kernel.ravel(), strict=True)
    terms = " + ".join(f"{factor(x)}×{factor(w)}" for x, w in pairs)
    return f'<p class="steps-sum"><strong>{html.escape(cell)}</strong>: {terms} = <strong>{number(step.value)}</strong></p>'


def marks(taps: list[tuple[int, int]], cell: tuple[int, int]) -> str:
    """A ``<style>`` outlining the input's ``taps`` and the output's ``cell`` (0-based row, col),
    and blanking the output cells after it (not computed yet)."""
    row, col = cell
    inp, out = f".{VIEW_CLASS} .steps-input tbody>tr", f".{VIEW_CLASS} .steps-output tbody>tr"
    outlined = [f"{inp}:nth-child({r + 1})>td:nth-child({c + 1})" for r, c in taps]
    outlined.append(f"{out}:nth-child({row + 1})>td:nth-child({col + 1})")
    later = [f"{out}:nth-child({row + 1})>td:nth-child(n+{col + 2})", f"{out}:nth-child(n+{row + 2})>td"]
    return (
        f"<style>{','.join(outlined)}{{box-shadow:inset 0 0 0 3px {AMBER}}}"
        f"{','.join(later)}{{background:none!important;color:transparent;box-shadow:inset 0 0 0 1px #d1d5db}}</style>"
    )


def im2col_marks(position: int, lang: str) -> str:
    """A ``<style>`` outlining column ``position`` (1-based) of the im2col columns and its output
    row's cell, then the sentence that says so."""
    columns = f".{IM2COL_CLASS} .steps-columns tbody>tr>td:nth-child({position})"
    cell = f".{IM2COL_CLASS} .steps-outrow tbody>tr>td:nth-child({position})"
    note = markdown_html(i18n.translate("steps.im2col_note", lang, index=position))
    return (
        f'<style>{columns},{cell}{{box-shadow:inset 0 0 0 3px {AMBER}}}</style><div class="cnnviz-caption">{note}</div>'
    )


def im2col_html(kernel_row: np.ndarray, columns: np.ndarray, output: np.ndarray, lang: str) -> str:
    """Falk's scheme: the columns on top, the kernel row to their left, the output row below them
    (no cell outlined: ``im2col_marks`` outlines the current one)."""
    size, count = columns.shape
    # Never shrunk to fit: the matrix scrolls sideways (its container has overflow-x: auto).
    decimals = decimals_for(columns)
    cell = max(cell_size(columns, decimals, 700), cell_size(output.reshape(1, -1), 2, 700))
    kernel_side = cell_size(kernel_row, 2, 220)
    columns_title = i18n.translate("steps.columns", lang, rows=size, cols=count)
    columns_grid = grids.number_grid_html(columns, columns_title, decimals=decimals, signed=False, cell_px=cell)
    kernel_title = i18n.translate("steps.kernel_row", lang, size=size)
    kernel_grid = grids.number_grid_html(kernel_row, kernel_title, decimals=2, cell_px=kernel_side)
    output_title = i18n.translate("steps.output_row", lang, cols=count)
    output_grid = grids.number_grid_html(output.reshape(1, -1), output_title, decimals=2, cell_px=cell)
    heading = f"<h3>{html.escape(i18n.translate('steps.im2col', lang))}</h3>"
    intro = f'<div class="cnnviz-caption">{markdown_html(i18n.translate("steps.im2col_intro", lang))}</div>'
    # Falk's scheme as a 2 x 2 table: the columns top right, the kernel row left of the output row.
    scheme = (
        '<div style="display:grid;grid-template-columns:max-content max-content;gap:8px 24px;align-items:end;'
        'max-width:100%;overflow-x:auto">'
        f'<div></div><div class="steps-columns">{columns_grid}</div><div>{kernel_grid}</div>'
        f'<div class="steps-outrow">{output_grid}</div></div>'
    )
    return f'<div class="{IM2COL_CLASS}">{heading}{intro}{scheme}</div>'


@functools.lru_cache(maxsize=256)
def _grid(rows: tuple[tuple[float, ...], ...], title: str, shaded_border: int, decimals: int, signed: bool,
          room: int) -> str:  # fmt: skip
    values = np.array(rows, float)
    shaded = None
    if shaded_border:
        shaded = np.ones(values.shape, bool)
        shaded[shaded_border:-shaded_border, shaded_border:-shaded_border] = False
    cell_px = cell_size(values, decimals, room)
    return grids.number_grid_html(values, title, shaded=shaded, decimals=decimals, signed=signed, cell_px=cell_px)


def _rows(array: np.ndarray) -> tuple[tuple[float, ...], ...]:
    return tuple(map(tuple, np.asarray(array, float).tolist()))


@dataclass(frozen=True)
class _Geometry:
    """One geometry's numbers and shared parts (drawn once for all its output cells)."""

    grid: np.ndarray
    output: np.ndarray | None  # (H', W'); None when no window fits
    input_part: str
    output_part: str
    caption: str
    refusal: str  # why there is no output ("" when there is)
    code: str  # the code panel's part: the PyTorch code, or why there is none
    im2col: str  # the im2col panel's part, without its marks ("" when there is no output)


@functools.lru_cache(maxsize=128)
def _geometry(numbers: StepsNumbers, geometry: tuple[int, int, int, int], lang: str) -> _Geometry:
    size, stride, padding, dilation = geometry
    grid, kernel = numbers.grid(size), np.array(numbers.kernel, float)
    try:
        padded = convolution.pad_grid(grid, padding, numbers.padding_mode)
    except ValueError:  # reflect padding as wide as the grid: conv_as_matmul below says why
        padded = grid
    settings = {"stride": stride, "padding": padding, "dilation": dilation, "padding_mode": numbers.padding_mode}
    try:
        kernel_row, columns, output = convolution.conv_as_matmul(grid, kernel, **settings, flip=numbers.flip)
    except ValueError as error:
        said = i18n.explain(error, lang) or str(error)
        note = f"<strong>{html.escape(i18n.translate('steps.no_output', lang))}</strong> {html.escape(said)}"
        plain = _grid(_rows(padded), i18n.translate("steps.input_plain", lang), 0, decimals_for(padded), False, 300)
        no_code = f'<div class="cnnviz-note info">{markdown_html(i18n.translate("steps.code.no_output", lang))}</div>'
        return _Geometry(
            grid, None, plain, "", "", f'<div class="cnnviz-note warning"><p>{note}</p></div>', no_code, ""
        )
    code = codegen.conv2d_on_grid(grid, kernel, stride, padding, dilation, numbers.padding_mode, numbers.flip)
    title = i18n.translate("steps.input" if padding else "steps.input_plain", lang)
    input_part = _grid(_rows(padded), title, padding, decimals_for(padded), False, 300)
    out_title = i18n.translate("steps.output", lang, height=output.shape[0], width=output.shape[1])
    output_part = _grid(_rows(output), out_title, 0, 2, True, 240)
    caption = i18n.translate("steps.path", lang, stride=stride, dilation=dilation)
    caption = f'<div class="cnnviz-caption"><p>{html.escape(caption)}</p></div>'
    return _Geometry(grid, output, f'<div class="steps-input">{input_part}</div>',
                     f'<div class="steps-output">{output_part}</div>', caption, "",
                     code_html(code, i18n.translate("ui.copy", lang)),
                     im2col_html(kernel_row, columns, output, lang))  # fmt: skip


def steps_frame(numbers: StepsNumbers, settings: Mapping[str, int], lang: str = i18n.DEFAULT_LANGUAGE) -> tuple:
    """The view for one setting: (the sum, the input, the kernel and products, the output, the marks,
    and in places: the code, the im2col grids, their marks).

    Args:
        numbers: the grids, kernel, padding mode and flip.
        settings: {"size", "stride", "padding", "dilation", "position"} -> value; ``position`` is
            the 1-based output cell, kept within the output (as the page keeps it); ``size``
            is ignored for a typed grid.
        lang: the interface language.
    """
    geometry = tuple(settings.get(name, STEPS_SLIDERS[name][2]) for name in STEPS_SLIDERS)
    return _steps_frame(numbers, geometry, int(settings["position"]), lang)


@functools.lru_cache(maxsize=4096)  # a release redraws the other sliders' sets; most frames recur
def _steps_frame(numbers: StepsNumbers, geometry: tuple[int, ...], position: int, lang: str) -> tuple[str, ...]:
    drawn = _geometry(numbers, geometry, lang)
    if drawn.output is None:
        return drawn.refusal, drawn.input_part, "", "", "", drawn.code, "", ""
    _, stride, padding, dilation = geometry
    out_w = drawn.output.shape[1]
    position = min(max(position, 1), drawn.output.size)
    row, col = divmod(position - 1, out_w)
    step = convolution.conv_step(drawn.grid, np.array(numbers.kernel, float), row, col, stride, padding, dilation,
                                 numbers.padding_mode, numbers.flip)  # fmt: skip
    cell = i18n.translate("steps.cell", lang, index=position, total=drawn.output.size, row=row + 1, col=col + 1)
    kernel_px = max(cell_size(step.kernel, 3, 130), cell_size(step.products, 3, 130))
    kernel_title = i18n.translate("steps.kernel_flipped" if numbers.flip else "steps.kernel_title", lang)
    weights = grids.number_grid_html(step.kernel, kernel_title, decimals=3, cell_px=kernel_px)
    products = grids.number_grid_html(step.products, i18n.translate("steps.products", lang), decimals=3,
                                        cell_px=kernel_px)  # fmt: skip
    taps = [(int(r), int(c)) for r in step.tap_rows for c in step.tap_cols]
    return (sum_html(step, cell), drawn.input_part, weights + products, drawn.output_part,
            marks(taps, (row, col)) + drawn.caption, drawn.code, drawn.im2col, im2col_marks(position, lang))  # fmt: skip


def output_cells(numbers: StepsNumbers, settings: Mapping[str, int]) -> int:
    """How many output cells the geometry in ``settings`` has (0 when no window fits)."""
    geometry = tuple(settings.get(name, STEPS_SLIDERS[name][2]) for name in STEPS_SLIDERS)
    output = _geometry(numbers, geometry, i18n.DEFAULT_LANGUAGE).output
    return 0 if output is None else output.size


def steps_frame_set(numbers: StepsNumbers, values: Mapping[str, int], lang: str = i18n.DEFAULT_LANGUAGE) -> dict:
    """``steps_frame`` for every value of each slider around ``values`` (see ``frames``).

    ``values`` holds the geometry sliders shown (no ``size`` for a typed grid) and
    ``position``; the output cell slider runs over the current geometry's cells.
    """
    cells = max(output_cells(numbers, values), 1)
    ranges = {name: STEPS_SLIDERS[name][:2] for name in STEPS_SLIDERS if name in values} | {"position": (1, cells)}
    sliders = [Slider(name, i18n.translate(LABELS[name], lang), low, high, min(values[name], high))
               for name, (low, high) in ranges.items()]  # fmt: skip
    draw = lambda settings: steps_frame(numbers, settings, lang)  # noqa: E731
    layout = {"class": VIEW_CLASS, "inline": [1, 2, 3]}  # the three grids side by side
    return frame_sets(sliders, draw, layout, places=PLACES)
