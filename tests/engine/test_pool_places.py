"""Pooling's parts drawn in places: every frame's code panel is ``codegen.pool2d`` for that frame's layer
and grid, and its backward pass holds the gradient torch's autograd routes back for that frame's
geometry, selected cell and upstream gradient."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnviz import codegen, i18n, pooling
from cnnviz.drawing.frames import frame_at, slots_in
from cnnviz.drawing.markup import code_html, markdown_html
from cnnviz.drawing.pooling_view import POOL_SLIDERS, PoolNumbers, backward_marked_cells, pool_frame_set
from cnnviz.pooling import PoolSettings
from tests.grids import read_grids
from tests.scrub import code_text
from tests.snippets import run_snippet

SIZES = range(POOL_SLIDERS["grid.size"][0], POOL_SLIDERS["grid.size"][1] + 1)


def numbers(settings: PoolSettings, upstream: str = "ones") -> PoolNumbers:
    return PoolNumbers.of({size: pooling.random_grid(size, 4) for size in SIZES}, settings, upstream)


def torch_pool(x: torch.Tensor, settings: PoolSettings, kernel: int, stride: int, padding: int) -> torch.Tensor:
    """torch's own pooling function for the kind (lp: on the zero-padded input, as cnnviz.pooling does)."""
    if settings.kind == "max":
        return F.max_pool2d(x, kernel, stride, padding, ceil_mode=settings.ceil_mode)
    if settings.kind == "avg":
        return F.avg_pool2d(x, kernel, stride, padding, settings.ceil_mode, settings.count_include_pad)
    if settings.kind == "lp":
        return F.lp_pool2d(F.pad(x, (padding,) * 4), settings.p, kernel, stride)
    return F.adaptive_avg_pool2d(x, 1)


def hovered(grid) -> np.ndarray:
    """A drawn grid's numbers, from each cell's tooltip (6 significant digits; NaN where blank)."""
    read = lambda cell: float(cell.hover.split(": ")[1] or "nan")  # noqa: E731
    return np.array([[read(cell) for cell in row] for row in grid.rows])


FIVE = {"grid.size": 5}
CASES = [
    (PoolSettings("max"), "ones", {"grid.size": 6, "kernel": 2, "stride": 2, "padding": 0, "cell": 1}),
    (PoolSettings("max"), "cell", {"grid.size": 7, "kernel": 3, "stride": 2, "padding": 1, "cell": 5}),
    (PoolSettings("avg", count_include_pad=False), "random", {**FIVE, "kernel": 3, "stride": 1, "padding": 1, "cell": 9}),
    (PoolSettings("avg", ceil_mode=True), "cell", {"grid.size": 8, "kernel": 3, "stride": 3, "padding": 1, "cell": 2}),
    (PoolSettings("lp", p=3.0), "ones", {"grid.size": 6, "kernel": 2, "stride": 1, "padding": 0, "cell": 3}),
    (PoolSettings("global_avg"), "random", {"grid.size": 4}),
]


@pytest.mark.parametrize("settings, upstream, base", CASES)
def test_every_frames_code_and_backward_pass_are_those_of_its_settings(settings, upstream, base):
    made = numbers(settings, upstream)
    frame_set = pool_frame_set(made, base)
    (code_slot,), (backward_slot, marks_slot) = slots_in(frame_set, "code"), slots_in(frame_set, "backward")
    assert slots_in(frame_set) == [0, 1, 2, 3]  # the grids, the cell's marks and formula, the notes: in the view
    for slider in frame_set["sliders"]:
        for value in range(slider["low"], slider["high"] + 1):
            values = {**base, slider["name"]: value}
            parts = frame_at(frame_set, slider["name"], value)
            kernel, stride, padding = (values.get(name, POOL_SLIDERS[name][2]) for name in ("kernel", "stride", "padding"))
            grid = made.grid(values["grid.size"])
            layer = PoolSettings(settings.kind, kernel, stride, padding, settings.ceil_mode,
                                 settings.count_include_pad, settings.p)  # fmt: skip
            try:
                pooled = pooling.pool_grid(grid, layer)
            except ValueError:  # no window fits: the places say so
                assert parts[code_slot] == note("pool.code.no_output")
                assert (parts[backward_slot], parts[marks_slot]) == (note("pool.backward.no_output"), "")
                continue
            try:
                code = codegen.pool2d((1, *grid.shape), settings.kind, kernel, stride, padding, settings.ceil_mode,
                                      settings.p, settings.count_include_pad, values=grid)  # fmt: skip
            except ValueError as error:  # LPPool2d has no padding
                assert parts[code_slot] == f'<div class="cnnviz-note info">{markdown_html(i18n.explain(error, "en"))}</div>'
            else:
                assert parts[code_slot].startswith(code_html(code, "Copy")) and code_text(parts[code_slot]) == code
                lp_ceil = settings.kind == "lp" and max(pooled.overhang) > 0
                assert ("LPPool2d scales the norm" in parts[code_slot]) == lp_ceil
            # The backward pass: autograd through torch's pooling, the upstream gradient at the selected cell.
            out_h, out_w = pooled.output.shape
            cell = divmod(min(values.get("cell", 1), out_h * out_w) - 1, out_w)
            if upstream == "ones":
                sent = np.ones((out_h, out_w))
            elif upstream == "cell":
                sent = np.zeros((out_h, out_w))
                sent[cell] = 1.0
            else:
                sent = np.random.default_rng(0).integers(-3, 4, size=(out_h, out_w)).astype(float)
            x = torch.tensor(grid, requires_grad=True)
            out = torch_pool(x[None, None], layer, kernel, stride, padding)[0, 0]
            (out * torch.as_tensor(sent)).sum().backward()
            routed_grid, upstream_grid = read_grids(parts[backward_slot])
            shown = hovered(routed_grid)
            size = values["grid.size"]
            offset = 0 if settings.kind == "global_avg" else padding
            assert np.allclose(shown[offset : offset + size, offset : offset + size], x.grad.numpy(), atol=1e-5)
            assert np.array_equal(hovered(upstream_grid), sent)
            outlined = backward_marked_cells(parts[marks_slot])
            assert outlined["upstream"] == [cell]
            kernel_cells = [(cell[0] * stride + i, cell[1] * stride + j) for i in range(kernel) for j in range(kernel)]
            if settings.kind == "global_avg":
                kernel_cells = [(r, c) for r in range(size) for c in range(size)]
            assert outlined["routed"] == sorted(kernel_cells)  # the window, in the padded layout's coordinates
            if settings.kind == "max":  # the winner, where all of the window's gradient goes
                (winner,) = outlined["winner"]
                assert winner in kernel_cells and grid[winner[0] - padding, winner[1] - padding] == out[cell].item()
            assert i18n.translate(f"pool.rule.{settings.kind}", "en").split("**")[1] in parts[backward_slot]


def note(key: str) -> str:
    return f'<div class="cnnviz-note info">{markdown_html(i18n.translate(key, "en"))}</div>'


def test_the_code_prints_the_output_the_view_shows():
    made = numbers(PoolSettings("avg"))
    frame_set = pool_frame_set(made, {"grid.size": 5, "kernel": 3, "stride": 2, "padding": 1, "cell": 1})
    parts = frame_at(frame_set, "kernel", 3)
    printed = run_snippet(code_text(parts[slots_in(frame_set, "code")[0]]))
    (output,) = [grid for grid in read_grids(parts[1])]
    expected = F.avg_pool2d(torch.as_tensor(made.grid(5))[None, None], 3, 2, 1)[0, 0].numpy()
    assert np.allclose(hovered(output), expected, rtol=1e-5)
    assert "torch.Size([1, 1, 3, 3])" in printed


def test_the_places_are_in_the_session_language():
    made = numbers(PoolSettings("max"))
    frame_set = pool_frame_set(made, {"grid.size": 5, "kernel": 2, "stride": 2, "padding": 0, "cell": 1}, "zh")
    code, backward = (frame_at(frame_set, "kernel", 2)[slots_in(frame_set, name)[0]] for name in ("code", "backward"))
    assert 'title="复制"' in code and i18n.translate("pool.routed_title", "zh") in backward
    assert i18n.translate("pool.rule.max", "zh").split("**")[1] in backward
    impossible = frame_at(frame_set, "kernel", 5)  # wider than the 5 x 5 grid at stride 2: still one window
    assert "Copy" not in "".join(impossible[4:])
