"""Pooling engine: against torch's pooling functions and against gradients worked by hand."""

import base64
import io
import itertools
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from cnnviz import codegen, pooling
from cnnviz.arithmetic import pool_output_size
from cnnviz.drawing import grids, pooling_figures
from cnnviz.pooling import BEYOND, INPUT, PADDING, PoolSettings
from tests.charts import charts, within_pixels
from tests.grids import read_grids

SHAPES = [(5, 5), (6, 7), (7, 4)]
GRID = [
    (shape, k, s, p, ceil)
    for shape in SHAPES
    for k, s, ceil in itertools.product(range(1, 5), range(1, 5), (False, True))
    for p in range(0, k // 2 + 1)
]


def _ids(case):
    (h, w), k, s, p, ceil = case
    return f"{h}x{w}-k{k}-s{s}-p{p}-{'ceil' if ceil else 'floor'}"


def _input(shape, low=0, high=4):
    # Small integers: many ties, so the tie-breaking rule is exercised too.
    return torch.randint(low, high, (2, 3, *shape)).double()


def _both_ways(x, ours, theirs):
    """Values and input gradients (for one random upstream gradient) of two pooling functions."""
    results = []
    for fn in (ours, theirs):
        leaf = x.clone().requires_grad_(True)
        out = fn(leaf)
        upstream = torch.arange(out.numel(), dtype=out.dtype).reshape(out.shape) % 5 - 2
        (grad,) = torch.autograd.grad(out, leaf, upstream)
        results.append((out.detach(), grad))
    return results


@pytest.mark.parametrize("case", GRID, ids=_ids)
def test_max_matches_torch(case):
    shape, k, s, p, ceil = case
    x = _input(shape)
    (ours, our_grad), (theirs, their_grad) = _both_ways(
        x,
        lambda t: pooling.pool2d(t, PoolSettings("max", k, s, p, ceil)),
        lambda t: F.max_pool2d(t, k, s, p, ceil_mode=ceil),
    )
    assert torch.equal(ours, theirs)
    assert torch.equal(our_grad, their_grad)


@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("case", GRID, ids=_ids)
def test_avg_matches_torch(case, count_include_pad):
    shape, k, s, p, ceil = case
    x = _input(shape, -5, 6)
    (ours, our_grad), (theirs, their_grad) = _both_ways(
        x,
        lambda t: pooling.pool2d(t, PoolSettings("avg", k, s, p, ceil, count_include_pad)),
        lambda t: F.avg_pool2d(t, k, s, p, ceil_mode=ceil, count_include_pad=count_include_pad),
    )
    torch.testing.assert_close(ours, theirs)
    torch.testing.assert_close(our_grad, their_grad)


@pytest.mark.parametrize("norm", [1, 2, 3])
@pytest.mark.parametrize("case", [c for c in GRID if c[3] == 0 and not c[4]], ids=_ids)
def test_lp_matches_torch(case, norm):
    # torch's lp_pool2d has no padding argument; ceil_mode is tested below.
    shape, k, s, _, _ = case
    x = _input(shape, 1, 6)  # positive, so torch's x ** p equals |x| ** p and no window is zero
    (ours, our_grad), (theirs, their_grad) = _both_ways(
        x, lambda t: pooling.pool2d(t, PoolSettings("lp", k, s, p=norm)), lambda t: F.lp_pool2d(t, norm, k, s)
    )
    torch.testing.assert_close(ours, theirs)
    torch.testing.assert_close(our_grad, their_grad)


def test_lp_with_padding_is_lp_of_the_zero_padded_input():
    x = _input((6, 5), 0, 6)
    ours = pooling.pool2d(x, PoolSettings("lp", 3, 2, padding=1, p=2))
    torch.testing.assert_close(ours, F.lp_pool2d(F.pad(x, (1, 1, 1, 1)), 2, 3, 2))


def test_lp_on_signed_input_is_the_norm_and_differs_from_torch_for_odd_p():
    # torch raises x to the power p without an absolute value: for p = 2 the two agree;
    # for p = 3 a window with a negative sum of cubes has no real cube root in torch (NaN).
    x = torch.tensor([[[[-2.0, 1.0], [0.0, 0.0]]]])
    torch.testing.assert_close(pooling.pool2d(x, PoolSettings("lp", 2, 2, p=2)), F.lp_pool2d(x, 2, 2, 2))
    assert torch.isnan(F.lp_pool2d(x, 3, 2, 2)).all()
    torch.testing.assert_close(pooling.pool2d(x, PoolSettings("lp", 2, 2, p=3)), torch.tensor([[[[9.0 ** (1 / 3)]]]]))


def test_lp_ceil_mode_partial_window_is_the_true_norm_torch_scales_it():
    # torch computes Lp as an average times k*k; on a partial window the average divides by
    # the cells present (2 here), so torch's value is the norm of the window scaled by (4/2) ** (1/p).
    x = torch.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    ours = pooling.pool2d(x, PoolSettings("lp", 2, 2, ceil_mode=True, p=2))
    assert ours[0, 0, 0, 1].item() == pytest.approx((3**2 + 6**2) ** 0.5)
    torch.testing.assert_close(F.lp_pool2d(x, 2, 2, 2, ceil_mode=True)[0, 0, 0, 1], ours[0, 0, 0, 1] * 2**0.5)


@pytest.mark.parametrize("shape", [(1, 1), (4, 4), (5, 7)])
def test_global_avg_matches_adaptive_avg(shape):
    x = _input(shape, -5, 6)
    (ours, our_grad), (theirs, their_grad) = _both_ways(
        x, lambda t: pooling.pool2d(t, PoolSettings("global_avg")), lambda t: F.adaptive_avg_pool2d(t, 1)
    )
    torch.testing.assert_close(ours, theirs)
    torch.testing.assert_close(our_grad, their_grad)


@pytest.mark.parametrize("case", GRID, ids=_ids)
def test_winners_match_torch_indices(case):
    shape, k, s, p, ceil = case
    grid = _input(shape)[0, 0]
    pooled = pooling.pool_grid(grid.numpy(), PoolSettings("max", k, s, p, ceil))
    _, indices = F.max_pool2d(grid[None, None], k, s, p, ceil_mode=ceil, return_indices=True)
    flat = pooled.winners[..., 0] * shape[1] + pooled.winners[..., 1]
    np.testing.assert_array_equal(flat, indices[0, 0].numpy())
    rows, cols = pooled.winners[..., 0], pooled.winners[..., 1]
    np.testing.assert_array_equal(grid.numpy()[rows, cols], pooled.output)


@pytest.mark.parametrize("case", GRID, ids=_ids)
def test_windows_lie_where_the_settings_say(case):
    shape, k, s, p, ceil = case
    pooled = pooling.pool_grid(np.zeros(shape), PoolSettings("avg", k, s, p, ceil))
    out_h, out_w = pooled.output.shape
    assert (out_h, out_w) == (
        pool_output_size(shape[0], k, s, p, 1, ceil),
        pool_output_size(shape[1], k, s, p, 1, ceil),
    )
    last = pooled.window(out_h - 1, out_w - 1)
    assert last[-1] == ((out_h - 1) * s + k - 1, (out_w - 1) * s + k - 1)
    assert pooled.region.shape == (
        shape[0] + 2 * p + max(pooled.overhang[0], 0),
        shape[1] + 2 * p + max(pooled.overhang[1], 0),
    )
    assert (pooled.region == INPUT).sum() == shape[0] * shape[1]
    # Every window holds at least one input cell, and divides by the cells it counts.
    for r, c in itertools.product(range(out_h), range(out_w)):
        regions = [pooled.region[cell] for cell in pooled.window(r, c)]
        assert INPUT in regions
        assert pooled.divisors[r, c] == sum(region in (INPUT, PADDING) for region in regions)
    assert (pooled.overhang[0] > 0) <= ceil  # only ceil_mode reaches past the padded input


@pytest.mark.parametrize("case", GRID, ids=_ids)
def test_unused_cells_are_exactly_those_without_gradient(case):
    # Two independent answers: the windows the grid lists, and what autograd reaches.
    shape, k, s, p, ceil = case
    settings = PoolSettings("avg", k, s, p, ceil)
    pooled = pooling.pool_grid(np.ones(shape), settings)
    gradient = pooling.route_gradient(np.ones(shape), settings, np.ones(pooled.output.shape))
    np.testing.assert_array_equal(pooled.unused, gradient == 0)


def test_unused_cells_at_the_edge_and_between_windows():
    edge = pooling.pool_grid(np.zeros((5, 5)), PoolSettings("max", 2, 2)).unused
    assert edge[4, :].all() and edge[:, 4].all() and edge.sum() == 9
    gaps = pooling.pool_grid(np.zeros((6, 6)), PoolSettings("max", 2, 3)).unused
    assert gaps[:, [2, 5]].all() and gaps[[2, 5], :].all() and gaps.sum() == 20


# --- Backward, worked by hand --------------------------------------------------------------

GRID_4X4 = np.array([[1, 3, 2, 1], [4, 2, 0, 5], [7, 0, 1, 1], [2, 6, 3, 8]], dtype=float)


def test_max_backward_sends_everything_to_each_winner():
    gradient = pooling.route_gradient(GRID_4X4, PoolSettings("max", 2, 2), np.ones((2, 2)))
    expected = np.array([[0, 0, 0, 0], [1, 0, 0, 1], [1, 0, 0, 0], [0, 0, 0, 1]], dtype=float)
    np.testing.assert_array_equal(gradient, expected)


def test_max_backward_of_one_cell_reaches_only_its_winner():
    upstream = pooling.upstream_gradient((2, 2), "cell", (1, 0))
    gradient = pooling.route_gradient(GRID_4X4, PoolSettings("max", 2, 2), upstream)
    expected = np.zeros((4, 4))
    expected[2, 0] = 1.0  # the 7
    np.testing.assert_array_equal(gradient, expected)


def test_avg_backward_splits_evenly():
    gradient = pooling.route_gradient(GRID_4X4, PoolSettings("avg", 2, 2), np.ones((2, 2)))
    np.testing.assert_array_equal(gradient, np.full((4, 4), 0.25))


def test_max_tie_goes_to_the_first_cell_in_reading_order():
    # torch's rule (and ours): scanning the window row by row, the first maximum wins.
    grid = np.array([[5, 5, 1, 9], [5, 5, 9, 9]], dtype=float)
    gradient = pooling.route_gradient(grid, PoolSettings("max", 2, 2), np.ones((1, 2)))
    np.testing.assert_array_equal(gradient, [[1, 0, 0, 1], [0, 0, 0, 0]])
    x = torch.tensor(grid)[None, None].requires_grad_(True)
    F.max_pool2d(x, 2, 2).sum().backward()
    np.testing.assert_array_equal(x.grad[0, 0].numpy(), gradient)


def test_overlapping_windows_add_up_at_a_shared_winner():
    grid = np.array([[1, 2, 1], [2, 9, 2], [1, 2, 1]], dtype=float)
    gradient = pooling.route_gradient(grid, PoolSettings("max", 2, 1), np.ones((2, 2)))
    np.testing.assert_array_equal(gradient, [[0, 0, 0], [0, 4, 0], [0, 0, 0]])


@pytest.mark.parametrize(
    ("count_include_pad", "expected"),
    [
        (True, np.full((3, 3), 0.25)),
        (False, np.array([[1, 0.5, 0.5], [0.5, 0.25, 0.25], [0.5, 0.25, 0.25]])),
    ],
)
def test_avg_backward_with_padding(count_include_pad, expected):
    # 3x3 input, padding 1, 2x2 windows with stride 2: the top-left window holds one input
    # cell and three padding cells; it divides by 4 if padding counts, else by 1.
    settings = PoolSettings("avg", 2, 2, padding=1, count_include_pad=count_include_pad)
    gradient = pooling.route_gradient(np.arange(9.0).reshape(3, 3), settings, np.ones((2, 2)))
    np.testing.assert_array_equal(gradient, expected)


def test_avg_ceil_mode_partial_windows_divide_by_the_cells_they_hold():
    settings = PoolSettings("avg", 2, 2, ceil_mode=True)
    grid = np.arange(9.0).reshape(3, 3)
    gradient = pooling.route_gradient(grid, settings, np.ones((2, 2)))
    np.testing.assert_array_equal(gradient, [[0.25, 0.25, 0.5], [0.25, 0.25, 0.5], [0.5, 0.5, 1]])
    pooled = pooling.pool_grid(grid, settings)
    assert pooled.overhang == (1, 1)
    np.testing.assert_array_equal(pooled.divisors, [[4, 2], [2, 1]])
    assert (pooled.region[3, :] == BEYOND).all()


def test_floor_mode_leaves_the_last_row_and_column_without_gradient():
    pooled = pooling.pool_grid(np.ones((5, 5)), PoolSettings("max", 2, 2))
    assert pooled.overhang == (-1, -1)
    gradient = pooling.route_gradient(np.arange(25.0).reshape(5, 5), PoolSettings("avg", 2, 2), np.ones((2, 2)))
    assert (gradient[4, :] == 0).all() and (gradient[:, 4] == 0).all()
    assert (gradient[:4, :4] == 0.25).all()


def test_lp_backward_is_x_over_the_norm_to_the_power_p_minus_1():
    grid = np.array([[3, 4, 1, 1], [0, 0, 1, 1]], dtype=float)
    l2 = pooling.route_gradient(grid, PoolSettings("lp", 2, 2, p=2), np.ones((1, 2)))
    np.testing.assert_allclose(l2, [[0.6, 0.8, 0.5, 0.5], [0, 0, 0.5, 0.5]])
    l3 = pooling.route_gradient(grid, PoolSettings("lp", 2, 2, p=3), np.ones((1, 2)))
    norm = 91 ** (1 / 3)
    np.testing.assert_allclose(l3[0, :2], [(3 / norm) ** 2, (4 / norm) ** 2])
    l1 = pooling.route_gradient(-grid, PoolSettings("lp", 2, 2, p=1), np.ones((1, 2)))
    np.testing.assert_array_equal(l1, [[-1, -1, -1, -1], [0, 0, -1, -1]])  # sign(x)


def test_lp_all_zero_window_has_zero_gradient_not_nan():
    grid = np.array([[0, 0, 3, 4], [0, 0, 0, 0]], dtype=float)
    gradient = pooling.route_gradient(grid, PoolSettings("lp", 2, 2, p=2), np.ones((1, 2)))
    np.testing.assert_allclose(gradient, [[0, 0, 0.6, 0.8], [0, 0, 0, 0]])


def test_global_avg_backward_is_one_over_the_cell_count():
    gradient = pooling.route_gradient(GRID_4X4, PoolSettings("global_avg"), np.ones((1, 1)))
    np.testing.assert_array_equal(gradient, np.full((4, 4), 1 / 16))


def test_upstream_gradients():
    np.testing.assert_array_equal(pooling.upstream_gradient((2, 3), "ones"), np.ones((2, 3)))
    cell = pooling.upstream_gradient((2, 3), "cell", (1, 2))
    assert cell.sum() == 1 and cell[1, 2] == 1
    random = pooling.upstream_gradient((3, 3), "random", seed=4)
    np.testing.assert_array_equal(random, pooling.upstream_gradient((3, 3), "random", seed=4))
    assert random.min() >= -3 and random.max() <= 3 and len(np.unique(random)) > 1


# --- What the page shows -------------------------------------------------------------------


def test_window_latex_spells_out_each_kind():
    grid = np.array([[1, 3], [7, 2]], dtype=float)
    assert (
        pooling_figures.window_latex(pooling.pool_grid(grid, PoolSettings("max", 2, 2)), 0, 0)
        == r"\max(1, 3, 7, 2) = 7"
    )
    assert (
        pooling_figures.window_latex(pooling.pool_grid(grid, PoolSettings("avg", 2, 2)), 0, 0)
        == r"\frac{1 + 3 + 7 + 2}{4} = 3.25"
    )
    padded_max = pooling.pool_grid(grid, PoolSettings("max", 2, 2, padding=1))
    assert pooling_figures.window_latex(padded_max, 0, 0) == r"\max(-\infty, 1) = 1"
    no_pad = pooling.pool_grid(grid, PoolSettings("avg", 2, 2, padding=1, count_include_pad=False))
    assert pooling_figures.window_latex(no_pad, 0, 1) == r"\frac{3}{1} = 3"
    lp = pooling.pool_grid(np.array([[3, 4]], dtype=float), PoolSettings("lp", 1, 1, p=2))
    assert pooling_figures.window_latex(lp, 0, 1) == r"\left(|4|^{2}\right)^{1/2} = 4"


def test_layout_grid_shades_padding_and_marks_the_window_and_winner():
    pooled = pooling.pool_grid(GRID_4X4, PoolSettings("max", 3, 2, padding=1, ceil_mode=True))
    (grid,) = read_grids(pooling_figures.layout_html(pooled, "Input", cell=(0, 1)))
    assert grid.title == "Input"
    assert grid.texts[0][0] == "−∞" and grid.texts[1][1] == str(int(GRID_4X4[0, 0]))
    assert (len(grid.rows), len(grid.rows[0])) == pooled.layout.shape
    assert sorted(grid.cells_with("window")) == sorted(pooled.window(0, 1))
    assert len(grid.cells_with("window")) == 9
    r, c = pooled.winners[0, 1] + pooled.offset
    assert grid.cells_with("winner") == [(r, c)]
    assert set(grid.cells_with("shaded")) == set(map(tuple, np.argwhere(pooled.region == PADDING)))
    beyond = set(map(tuple, np.argwhere(pooled.region == BEYOND)))
    assert beyond and set(grid.cells_with("beyond")) == beyond
    assert all(grid.texts[r][c] == "" for r, c in beyond)
    (gradients,) = read_grids(pooling_figures.layout_html(pooled, values=np.full((4, 4), 0.5)))
    assert gradients.texts[0][0] == "" and gradients.texts[1][1] == "0.5"


@pytest.mark.parametrize("measure", ["change", "changed"])
def test_shift_chart_draws_a_point_per_shift_at_its_percentage(measure):
    shifts = pooling.shift_robustness(np.arange(64.0).reshape(8, 8) % 5, PoolSettings("max", 2, 2), 3)
    labels = {"unpooled": "before", "pooled": "after", "x": "shift", "y": "change"}
    (chart,) = charts(pooling_figures.shift_figure(shifts, measure, labels))
    before = shifts.unpooled_change if measure == "change" else shifts.unpooled_changed
    after = shifts.pooled_change if measure == "change" else shifts.pooled_changed
    assert chart.y_px(0) == pytest.approx(chart.bottom, abs=0.1)  # one y axis from zero for both lines
    for name, colour, values in (("before", "#6b7280", before), ("after", grids.HIGHLIGHT, after)):
        (line,) = chart.lines(colour)
        assert len(line) == len(shifts.shifts) == 3  # one point per shift
        within_pixels(line[:, 0], shifts.shifts, chart.x_px, 0.2)  # at shifts 1, 2, 3
        within_pixels(line[:, 1], 100 * values, chart.y_px, 0.2)  # at its percentage
        assert chart.left < chart.x_px(line[0, 0]) and chart.x_px(line[-1, 0]) < chart.right  # end dots not cut
        assert (chart.y_px(line[:, 1]) > chart.top).all()  # the highest point is inside the frame
        marks = chart.dots(colour)
        assert [d.hover for d in marks] == [f"{name}: {100 * v:.1f}%" for v in values]
        within_pixels([d.y for d in marks], line[:, 1], chart.y_px, 0.01)
    assert {"before", "after", "shift", "change", "0"} <= set(chart.texts)


def test_feature_map_and_image_grid():
    pixels = np.zeros((40, 60, 3), np.uint8)
    pixels[:, 30:] = 255  # one vertical edge
    gray = pooling.feature_map(pixels, "gray", 30)
    assert gray.shape == (20, 30) and gray.min() == 0 and gray.max() == pytest.approx(1)
    edges = pooling.feature_map(pixels, "edges", 30)
    assert edges.shape == (20, 30) and edges.min() >= 0
    strength = edges.max(0)  # per column
    assert strength.argmax() in (14, 15) and strength[:10].max() < 0.1 * strength.max()  # at the edge only
    flat = np.full((20, 20, 3), 128, np.uint8)
    assert not pooling.feature_map(flat, "edges", 20).any()  # the image's border is not an edge
    grid = pooling.image_grid(pixels, 6)
    assert grid.shape == (6, 6) and set(np.unique(grid)) <= set(range(256))
    with pytest.raises(ValueError):
        pooling.feature_map(pixels, "colour", 30)


def test_shared_display_uses_one_scale():
    before, after = pooling_figures.shared_display(np.array([[0.0, 1.0]]), np.array([[0.5]]))
    np.testing.assert_array_equal(before, [[0, 255]])
    np.testing.assert_array_equal(after, [[128]])


def test_pictures_are_sent_at_their_size_and_enlarged_with_square_pixels():
    before, after = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20, np.array([[7, 250]], dtype=np.uint8)
    block = pooling_figures.pictures_html([(before, "Before <3 × 4>"), (after, "After")])
    assert "\n\n" not in block  # one HTML block inside a ui.View
    sources = re.findall(r'src="data:image/png;base64,([^"]+)"', block)
    sent = [np.asarray(Image.open(io.BytesIO(base64.b64decode(source)))) for source in sources]
    assert [picture.tolist() for picture in sent] == [before.tolist(), after.tolist()]
    assert block.count("image-rendering:pixelated") == 2 and block.count("width:100%") == 2  # one width for both
    assert re.findall(r"<figcaption[^>]*>(.*?)</figcaption>", block) == ["Before &lt;3 × 4&gt;", "After"]


# --- Robustness to shifts ------------------------------------------------------------------


def test_max_pooling_absorbs_a_one_pixel_shift_of_lines():
    # Thin vertical lines at odd columns: shifted by 1 they stay inside the same 2x2 window.
    lines = np.zeros((16, 32))
    lines[:, [9, 17, 25]] = 1.0
    result = pooling.shift_robustness(lines, PoolSettings("max", 2, 2), max_shift=2)
    np.testing.assert_array_equal(result.shifts, [1, 2])
    assert result.unpooled_change[0] == pytest.approx(2.0)  # 3 lines vanish, 3 appear
    assert result.unpooled_changed[0] == pytest.approx(6 / 31)
    assert result.pooled_change[0] == 0 and result.pooled_changed[0] == 0
    assert result.pooled_change[1] > 0  # a 2-pixel shift moves every line to the next window


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pooling_changes_less_than_the_map_under_small_shifts_of_a_real_image(kind):
    from cnnviz.images import load_sample

    edges = pooling.feature_map(load_sample("cat.jpg").pixels, "edges", 128)
    result = pooling.shift_robustness(edges, PoolSettings(kind, 3, 3), max_shift=2)
    assert (result.pooled_change < result.unpooled_change).all()
    assert ((result.pooled_change > 0) & (result.pooled_change < 2)).all()
    assert ((result.pooled_changed >= 0) & (result.pooled_changed <= 1)).all()


def test_a_constant_map_never_changes():
    result = pooling.shift_robustness(np.full((8, 8), 3.0), PoolSettings("max", 2, 2), max_shift=3)
    assert not result.unpooled_change.any() and not result.pooled_change.any()
    assert not result.unpooled_changed.any() and not result.pooled_changed.any()


# --- Invalid settings ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda: pooling.pool_map(np.ones((4, 4)), PoolSettings("max", 0, 1)),
        lambda: pooling.pool_map(np.ones((4, 4)), PoolSettings("max", 2, 0)),
        lambda: pooling.pool_map(np.ones((4, 4)), PoolSettings("max", 2, 2, padding=-1)),
        lambda: pooling.pool_map(np.ones((4, 4)), PoolSettings("max", 2, 2, padding=2)),
        lambda: pooling.pool_map(np.ones((4, 4)), PoolSettings("avg", 7, 1, padding=1)),
        lambda: pooling.pool_map(np.ones((4, 4)), PoolSettings("median")),
        lambda: pooling.pool_map(np.ones((4, 4)), PoolSettings("lp", p=0.5)),
        lambda: pooling.pool_map(np.ones((4, 4)), PoolSettings("lp", p=float("inf"))),
        lambda: pooling.pool_map(np.array([[1.0, np.nan]]), PoolSettings("max", 1, 1)),
        lambda: pooling.pool_map(np.ones((2, 4, 4)), PoolSettings()),
        lambda: pooling.pool2d(torch.ones(4, 4), PoolSettings()),
        lambda: pooling.route_gradient(np.ones((4, 4)), PoolSettings(), np.ones((3, 3))),
        lambda: pooling.upstream_gradient((2, 2), "cell", (2, 0)),
        lambda: pooling.upstream_gradient((2, 2), "zeros"),
        lambda: pooling.pool_grid(np.ones((4, 4)), PoolSettings()).window(2, 0),
        lambda: pooling.shift_robustness(np.ones((4, 4)), PoolSettings(), max_shift=4),
        lambda: pooling.shift_robustness(np.ones((4, 4)), PoolSettings("max", 3, 1), max_shift=2),
        lambda: pooling.image_grid(np.zeros((4, 4, 3), np.uint8), 0),
    ],
)
def test_invalid_settings_raise_value_error_with_a_sentence(call):
    with pytest.raises(ValueError) as error:
        call()
    message = str(error.value)
    assert message[0].isupper() and message.endswith(".")


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(["max", "avg", "lp"]),
    height=st.integers(1, 7),
    width=st.integers(1, 7),
    kernel=st.integers(-1, 6),
    stride=st.integers(-1, 6),
    padding=st.integers(-1, 4),
    ceil=st.booleans(),
)
def test_any_settings_either_agree_with_torch_or_raise_value_error(kind, height, width, kernel, stride, padding, ceil):
    x = torch.rand(1, 1, height, width, dtype=torch.float64)
    if kind == "lp":
        padding = 0  # torch's lp_pool2d has no padding
    try:
        ours = pooling.pool2d(x, PoolSettings(kind, kernel, stride, padding, ceil))
    except ValueError:
        with pytest.raises(RuntimeError):  # torch refuses the same settings
            if kind == "max":
                F.max_pool2d(x, kernel, stride, padding, ceil_mode=ceil)
            elif kind == "avg":
                F.avg_pool2d(x, kernel, stride, padding, ceil_mode=ceil)
            else:
                F.lp_pool2d(x, 2, kernel, stride, ceil_mode=ceil)
        return
    if kind == "max":
        torch.testing.assert_close(ours, F.max_pool2d(x, kernel, stride, padding, ceil_mode=ceil))
    elif kind == "avg":
        torch.testing.assert_close(ours, F.avg_pool2d(x, kernel, stride, padding, ceil_mode=ceil))
    else:
        assert ours.shape == F.lp_pool2d(x, 2, kernel, stride, ceil_mode=ceil).shape


# --- The PyTorch code the page shows ----------------------------------------------------------

CODE_CASES = [
    PoolSettings("max", 2, 2),
    PoolSettings("max", 3, 2, 1, ceil_mode=True),
    PoolSettings("avg", 3, 1, 1, count_include_pad=False),
    PoolSettings("avg", 2, 3, 1, ceil_mode=True),
    PoolSettings("lp", 2, 1, p=3.0),
    PoolSettings("global_avg"),
]


@pytest.mark.parametrize("settings", CODE_CASES, ids=str)
def test_code_for_a_grid_reproduces_the_engine(settings):
    grid = np.random.default_rng(3).integers(0, 10, size=(7, 7)).astype(float)
    code = codegen.pool2d(
        (1, 7, 7), settings.kind, settings.kernel_size, settings.stride, settings.padding, settings.ceil_mode,
        settings.p, settings.count_include_pad, values=grid,
    )  # fmt: skip
    namespace: dict = {}
    exec(compile(code, "<snippet>", "exec"), namespace)  # prints, as a pasted snippet would
    np.testing.assert_array_equal(namespace["x"][0, 0].numpy(), grid)
    ours = pooling.pool_map(grid, settings)
    np.testing.assert_allclose(namespace["layer"](namespace["x"])[0, 0].numpy(), ours, rtol=1e-12)
    assert code.rstrip().endswith(f"# torch.Size([1, 1, {ours.shape[0]}, {ours.shape[1]}])")
