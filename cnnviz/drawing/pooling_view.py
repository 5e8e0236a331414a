"""The Pooling lesson's scrubbing view: the windows on a grid of numbers, and what they give.

A frame shows, for one setting of the grid size, window (kernel), stride, padding and
selected output cell: the input as the windows see it (padding shaded), the output, the
selected cell's window, winner and arithmetic, and the output-size formula; and, drawn in places
elsewhere on the page (``PLACES``), the PyTorch code for the layer and grid (``codegen.pool2d``)
and the backward pass: the gradient autograd routes back to the input (``pooling.route_gradient``)
from the upstream gradient the page picked (``PoolNumbers.upstream``). Every number comes from
``cnnviz.pooling`` (``pool_grid``); the formulas from ``cnnviz.drawing.pooling_figures``.

As in Step by step (``conv_steps_view``), the grids are drawn once per geometry and the
selected cell's marks are a small ``<style>`` part per cell: the cell slider has up to
100 values. ``pool_frame_set`` draws the frames that ``cnnviz/frontend/scrub_view.js`` swaps.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from cnnviz import codegen, i18n, pooling
from cnnviz.drawing import grids, pooling_figures
from cnnviz.drawing.frames import Slider, frame_sets
from cnnviz.drawing.markup import code_html, markdown_html
from cnnviz.drawing.mathml import formula_mathml
from cnnviz.pooling import PoolSettings

#: The geometry sliders: name -> (low, high, default); URL keys ``pool.<name>``.
POOL_SLIDERS: dict[str, tuple[int, int, int]] = {
    "grid.size": (3, 10, 6),
    "kernel": (1, 5, 2),
    "stride": (1, 5, 2),
    "padding": (0, 2, 0),
}
#: The frames' slots drawn in places, not in the view: the code panel and the backward pass's grids.
PLACES: dict[str, list[int]] = {"code": [4], "backward": [5, 6]}
#: The backward pass's place's class (``scrub_view.js``: ``scrub-place-<name>``); its marks' selectors start with it.
BACKWARD_PLACE = "scrub-place-backward"
#: The view's class; the marks' selectors start with it.
VIEW_CLASS = "pool-frame"
#: Width (pixels) the input grid may take; its cells shrink from 44 px to fit (never below 24).
GRID_WIDTH = 380
WINDOW = "box-shadow:inset 0 0 0 3px #f59e0b"  # as assets/app.css draws td.window and td.winner
WINNER = "box-shadow:inset 0 0 0 4px #000,inset 0 0 0 6px #fff"


@dataclass(frozen=True)
class PoolNumbers:
    """What the view's sliders do not change: the grid for each size, the layer's other settings, and
    the gradient arriving at the output in the backward pass (``pooling.UPSTREAMS``)."""

    grids: tuple[tuple[int, tuple[tuple[float, ...], ...]], ...]
    settings: PoolSettings
    upstream: str = "ones"

    @classmethod
    def of(cls, grids: Mapping[int, np.ndarray], settings: PoolSettings, upstream: str = "ones") -> PoolNumbers:
        rows = lambda array: tuple(map(tuple, np.asarray(array, float).tolist()))  # noqa: E731
        defaults = {name: POOL_SLIDERS[name][2] for name in ("kernel", "stride", "padding")}
        # The geometry is the sliders': kept at its defaults here, so the frames' caches hold across releases.
        settings = replace(
            settings, kernel_size=defaults["kernel"], stride=defaults["stride"], padding=defaults["padding"]
        )
        return cls(tuple((size, rows(grid)) for size, grid in grids.items()), settings, upstream)

    def grid(self, size: int) -> np.ndarray:
        return np.array(dict(self.grids)[size], float)

    def layer(self, values: Mapping[str, int]) -> PoolSettings:
        """The pooling layer with the geometry in ``values`` (defaults for sliders not there)."""
        kernel, stride, padding = (values.get(name, POOL_SLIDERS[name][2]) for name in ("kernel", "stride", "padding"))
        return replace(self.settings, kernel_size=kernel, stride=stride, padding=padding)


def impossible_text(error: ValueError, height: int, width: int, settings: PoolSettings, lang: str) -> str:
    """Why these settings have no output on a (height, width) input, and the nearest settings that do."""
    why = i18n.explain(error, lang, "pool.error") or str(error)
    fixed = pooling.nearest_valid(height, width, settings)
    nearest = i18n.translate("pool.nearest", lang, kernel=fixed.kernel_size, stride=fixed.stride, padding=fixed.padding)
    return f"{i18n.translate('pool.impossible', lang, h=height, w=width)} {why}\n\n{nearest}"


def marks(pooled: pooling.PooledGrid, cell: tuple[int, int]) -> str:
    """A ``<style>`` outlining the window of output ``cell`` (and the output cell) in amber and its winner in black."""
    return _outline_style(pooled, cell, f".{VIEW_CLASS} .pool-input tbody>tr", f".{VIEW_CLASS} .pool-output tbody>tr")


def _outline_style(pooled: pooling.PooledGrid, cell: tuple[int, int], windowed: str, celled: str) -> str:
    """A ``<style>``: the window of output ``cell`` outlined in the rows ``windowed`` selects, with its
    winner (max pooling), and ``cell`` itself in the rows ``celled`` selects."""
    outlined = [f"{windowed}:nth-child({r + 1})>td:nth-child({c + 1})" for r, c in pooled.window(*cell)]
    outlined.append(f"{celled}:nth-child({cell[0] + 1})>td:nth-child({cell[1] + 1})")
    style = f"{','.join(outlined)}{{{WINDOW}}}"
    if pooled.winners is not None:
        r, c = (int(v) + pooled.offset for v in pooled.winners[cell])
        style += f"{windowed}:nth-child({r + 1})>td:nth-child({c + 1}){{{WINNER}}}"
    return f"<style>{style}</style>"


def marked_cells(part: str) -> dict:
    """What a part's marks outline, read back from its selectors (0-based): the input's window
    cells, the output cell, and the winners (max pooling). For tests, and the scrub driver."""
    rules = re.findall(r"([^{}]*)\{([^}]*)\}", re.search(r"<style>(.*?)</style>", part)[1])
    cell = r"\.pool-{}\s+tbody>tr:nth-child\((\d+)\)>td:nth-child\((\d+)\)"

    def found(where: str, selectors: str) -> list[tuple[int, int]]:
        return sorted((int(r) - 1, int(c) - 1) for r, c in re.findall(cell.format(where), selectors))

    winner = rules[1][0] if len(rules) > 1 else ""
    (output,) = found("output", rules[0][0])
    return {"window": found("input", rules[0][0]), "output": output, "winner": found("input", winner)}


@dataclass(frozen=True)
class _Geometry:
    """One geometry's numbers and shared parts (drawn once for all its output cells)."""

    pooled: pooling.PooledGrid | None  # None when no window fits
    input_part: str
    output_part: str
    notes: str
    code: str  # the code panel's part (a place)


def _note(text: str, kind: str) -> str:
    return f'<div class="cnnviz-note {kind}">{markdown_html(text)}</div>'


def _caption(text: str) -> str:
    return f'<div class="cnnviz-caption">{markdown_html(text)}</div>'


@functools.lru_cache(maxsize=128)
def _pooled(numbers: PoolNumbers, size: int, settings: PoolSettings) -> pooling.PooledGrid | None:
    """The engine's pooling of the grid of side ``size`` (None when no window fits), in any language."""
    try:
        return pooling.pool_grid(numbers.grid(size), settings)
    except ValueError:
        return None


@functools.lru_cache(maxsize=128)
def _geometry(numbers: PoolNumbers, size: int, settings: PoolSettings, lang: str) -> _Geometry:
    grid, pooled = numbers.grid(size), _pooled(numbers, size, settings)
    try:  # the same check as the pooling's: None above exactly when this raises (no window fits)
        size_latex, dropped = pooling_figures.size_latex(size, settings)
    except ValueError as error:
        no_code = _note(i18n.translate("pool.code.no_output", lang), "info")
        return _Geometry(None, _note(impossible_text(error, size, size, settings, lang), "warning"), "", "", no_code)
    cell_px = max(24, min(44, GRID_WIDTH // pooled.layout.shape[1]))
    (out_h, out_w), translate = pooled.output.shape, lambda key, **values: i18n.translate(key, lang, **values)
    title = translate("pool.input_title" if settings.padding else "pool.input_title_plain", h=size, w=size)
    input_part = pooling_figures.layout_html(pooled, title, cell_px=cell_px)
    output_part = grids.number_grid_html(pooled.output, translate("pool.output_title", h=out_h, w=out_w),
                                           signed=False, cell_px=cell_px)  # fmt: skip
    notes = [_caption(translate("pool.legend"))]
    if settings.kind != "global_avg":
        overhang = max(pooled.overhang)
        if overhang > 0:
            notes.append(_note(translate("pool.edge.partial", n=overhang, kk=settings.kernel_size**2), "info"))
        if unused := int(pooled.unused.sum()):
            notes.append(_note(translate("pool.edge.unused", n=unused), "info"))
    notes.append(markdown_html(translate("pool.shape", h=size, w=size, oh=out_h, ow=out_w)))
    notes.append(f'<div class="scrub-formula">{formula_mathml(size_latex)}</div>')
    if dropped:
        notes.append(_caption(translate("pool.ceil_dropped")))
    return _Geometry(pooled, f'<div class="pool-input">{input_part}</div>',
                     f'<div class="pool-output">{output_part}</div>', "".join(notes), _code(grid, pooled, lang))  # fmt: skip


def _code(grid: np.ndarray, pooled: pooling.PooledGrid, lang: str) -> str:
    """The code panel's part: the PyTorch layer for these settings run on this grid (``codegen.pool2d``),
    or why PyTorch has no such layer (LPPool2d takes no padding)."""
    settings = pooled.settings
    try:
        code = codegen.pool2d(
            (1, *grid.shape), settings.kind, settings.kernel_size, settings.stride, settings.padding,
            settings.ceil_mode, settings.p, settings.count_include_pad, values=grid,
        )  # fmt: skip
    except ValueError as error:  # said as a note, as where the settings have no output
        return _note(i18n.explain(error, lang) or str(error), "info")
    block = code_html(code, i18n.translate("ui.copy", lang))
    if settings.kind == "lp" and max(pooled.overhang) > 0:
        block += _caption(i18n.translate("pool.code_lp_ceil", lang))
    return block


@functools.lru_cache(maxsize=256)
def _routed(numbers: PoolNumbers, size: int, settings: PoolSettings, cell: tuple[int, int] | None) -> tuple:
    """The upstream gradient and what autograd routes back to the input (``cell``: the selected cell when
    the upstream gradient depends on it, else None: one computation for every cell)."""
    shape = _pooled(numbers, size, settings).output.shape
    upstream = pooling.upstream_gradient(shape, numbers.upstream, cell or (0, 0))
    return upstream, pooling.route_gradient(numbers.grid(size), settings, upstream)


@functools.lru_cache(maxsize=512)
def _backward_grids(numbers: PoolNumbers, size: int, settings: PoolSettings, cell: tuple[int, int] | None,
                    lang: str) -> str:  # fmt: skip
    """The backward pass's grids (the gradient routed back to the input beside the one arriving at the
    output), then the kind's rule; drawn once for every selected cell unless the upstream gradient
    depends on it (``cell``, else None). The selected cell's outlines are ``_backward_marks``."""
    pooled = _geometry(numbers, size, settings, lang).pooled
    upstream, gradient = _routed(numbers, size, settings, cell)
    cell_px = max(24, min(44, GRID_WIDTH // pooled.layout.shape[1]))
    routed_title, upstream_title = (i18n.translate(key, lang) for key in ("pool.routed_title", "pool.upstream_title"))
    routed = pooling_figures.layout_html(pooled, routed_title, values=gradient, decimals=3, cell_px=cell_px)
    sent = grids.number_grid_html(upstream, upstream_title, signed=True, cell_px=cell_px)
    grids_html = grids.side_by_side_html(
        f'<div class="pool-routed">{routed}</div>', f'<div class="pool-upstream">{sent}</div>', gap_px=48
    )
    return grids_html + markdown_html(i18n.translate(f"pool.rule.{settings.kind}", lang))


def backward_marks(pooled: pooling.PooledGrid, cell: tuple[int, int]) -> str:
    """A ``<style>`` outlining, in the backward pass's place, the window of output ``cell`` (and its winner)
    on the routed gradient and the cell on the upstream gradient, as ``layout_html``'s highlight does."""
    place = f".{BACKWARD_PLACE}"
    return _outline_style(pooled, cell, f"{place} .pool-routed tbody>tr", f"{place} .pool-upstream tbody>tr")


def backward_marked_cells(part: str) -> dict:
    """What the backward pass's marks outline (0-based), read back from their selectors: the routed
    grid's window cells, the upstream grid's cell, the winner (max pooling). For tests."""
    rules = re.findall(r"([^{}]*)\{([^}]*)\}", re.search(r"<style>(.*?)</style>", part)[1])
    cell = rf"\.{BACKWARD_PLACE} \.pool-{{}}\s+tbody>tr:nth-child\((\d+)\)>td:nth-child\((\d+)\)"

    def found(where: str, selectors: str) -> list[tuple[int, int]]:
        return sorted((int(r) - 1, int(c) - 1) for r, c in re.findall(cell.format(where), selectors))

    winner = rules[1][0] if len(rules) > 1 else ""
    return {"routed": found("routed", rules[0][0]), "upstream": found("upstream", rules[0][0]),
            "winner": found("routed", winner)}  # fmt: skip


def pool_frame(numbers: PoolNumbers, values: Mapping[str, int], lang: str = i18n.DEFAULT_LANGUAGE) -> tuple:
    """The view for one setting: (the input, the output, the cell's marks and formula, the notes, and in
    places: the code, the backward pass).

    Args:
        numbers: the grids and the layer's other settings (kind, ceil_mode, p...).
        values: {"grid.size", "kernel", "stride", "padding", "cell"} -> value; ``cell`` is the
            1-based output cell in reading order, kept within the output (as the page keeps it).
            Global average pooling needs only ``grid.size``.
        lang: the interface language.
    """
    return _pool_frame(numbers, values["grid.size"], numbers.layer(values), values.get("cell", 1), lang)


@functools.lru_cache(maxsize=4096)  # a release redraws the other sliders' sets; most frames recur
def _pool_frame(numbers: PoolNumbers, size: int, settings: PoolSettings, cell: int, lang: str) -> tuple[str, ...]:
    drawn = _geometry(numbers, size, settings, lang)
    if drawn.pooled is None:
        no_gradient = _note(i18n.translate("pool.backward.no_output", lang), "info")
        return drawn.input_part, "", "", "", drawn.code, no_gradient, ""
    out_w = drawn.pooled.output.shape[1]
    row, col = divmod(min(max(cell, 1), drawn.pooled.output.size) - 1, out_w)
    formula = formula_mathml(pooling_figures.window_latex(drawn.pooled, row, col))
    selected = f'{marks(drawn.pooled, (row, col))}<div class="scrub-formula">{formula}</div>'
    backward = _backward_grids(numbers, size, settings, (row, col) if numbers.upstream == "cell" else None, lang)
    return drawn.input_part, drawn.output_part, selected, drawn.notes, drawn.code, backward, backward_marks(
        drawn.pooled, (row, col)
    )


def output_cells(numbers: PoolNumbers, values: Mapping[str, int]) -> int:
    """How many output cells the geometry in ``values`` has (0 when no window fits)."""
    pooled = _pooled(numbers, values["grid.size"], numbers.layer(values))
    return 0 if pooled is None else pooled.output.size


def pool_sliders(kind: str) -> dict[str, tuple[int, int, int]]:
    """The view's geometry sliders for a kind of pooling: global pooling has one window, the whole grid."""
    return {"grid.size": POOL_SLIDERS["grid.size"]} if kind == "global_avg" else POOL_SLIDERS


def pool_frame_set(numbers: PoolNumbers, values: Mapping[str, int], lang: str = i18n.DEFAULT_LANGUAGE) -> dict:
    """``pool_frame`` for every value of each slider around ``values`` (see ``frames``).

    ``values`` holds the geometry sliders (``pool_sliders``) and, unless the pooling is
    global, ``cell``; the cell slider runs over the current geometry's output cells.
    """
    ranges = {name: limits[:2] for name, limits in pool_sliders(numbers.settings.kind).items()}
    if "cell" in values:
        ranges["cell"] = (1, max(output_cells(numbers, values), 1))
    helps = {name: f"pool.{name}_help" for name in ranges if f"pool.{name}_help" in i18n.catalogue(lang)}
    sliders = [Slider(name, i18n.translate(f"pool.{name}", lang), low, high, min(values[name], high),
                      help=i18n.translate(helps[name], lang) if name in helps else "")
               for name, (low, high) in ranges.items()]  # fmt: skip
    draw = lambda settings: pool_frame(numbers, settings, lang)  # noqa: E731
    layout = {"class": VIEW_CLASS, "inline": [0, 1]}  # the two grids side by side
    return frame_sets(sliders, draw, layout, places=PLACES)
