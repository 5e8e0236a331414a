"""Activations: values and slopes against torch.nn.functional, autograd and hand-derived derivatives."""

import base64
import io
import math
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from cnnviz import activations, codegen, convolution, kernels
from cnnviz.drawing import activation_charts, grids
from tests.charts import SVG, charts, within_pixels

DTYPE = torch.float64
# A dense grid plus the points where kinks sit (0, ±1, ±3) and their close neighbours.
KINKS = [0.0, 1.0, -1.0, 3.0, -3.0]
POINTS = torch.cat([
    torch.linspace(-8, 8, 321, dtype=DTYPE),
    torch.tensor([k + d for k in KINKS for d in (-1e-3, -1e-7, 0.0, 1e-7, 1e-3)], dtype=DTYPE),
])  # fmt: skip

# Each registry entry, with parameters away from their defaults, and the torch op it must match.
REFERENCE = {
    "identity": ({}, lambda x: torch.nn.Identity()(x)),
    "sigmoid": ({}, torch.sigmoid),
    "tanh": ({}, torch.tanh),
    "relu": ({}, F.relu),
    "leaky_relu": ({"slope": 0.2}, lambda x: F.leaky_relu(x, 0.2)),
    "prelu": ({"a": 0.4}, lambda x: F.prelu(x, torch.tensor([0.4], dtype=DTYPE))),
    "rrelu": ({"lower": 0.1, "upper": 0.3}, lambda x: F.rrelu(x, 0.1, 0.3, training=False)),
    "elu": ({"alpha": 1.5}, lambda x: F.elu(x, 1.5)),
    "selu": ({}, F.selu),
    "softplus": ({"beta": 2.0}, lambda x: F.softplus(x, 2.0)),
    "gelu": ({}, F.gelu),
    "silu": ({}, F.silu),
    "mish": ({}, F.mish),
    "hardsigmoid": ({}, F.hardsigmoid),
    "hardtanh": ({}, F.hardtanh),
}


def autograd_slope(op, x: torch.Tensor) -> torch.Tensor:
    x = x.clone().requires_grad_(True)
    (slope,) = torch.autograd.grad(op(x).sum(), x)
    return slope


def hand_slope(key: str, x: torch.Tensor) -> torch.Tensor:
    """Derivatives worked out on paper (valid away from kinks)."""
    s = torch.sigmoid(x)
    normal_pdf = torch.exp(-(x**2) / 2) / math.sqrt(2 * math.pi)
    normal_cdf = 0.5 * (1 + torch.erf(x / math.sqrt(2)))
    softplus = torch.log1p(torch.exp(x))
    selu_alpha, selu_scale = 1.6732632423543772, 1.0507009873554805
    slopes = {
        "identity": torch.ones_like(x),
        "sigmoid": s * (1 - s),
        "tanh": 1 - torch.tanh(x) ** 2,
        "relu": (x > 0).to(DTYPE),
        "leaky_relu": torch.where(x > 0, 1.0, 0.2),
        "prelu": torch.where(x > 0, 1.0, 0.4),
        "rrelu": torch.where(x > 0, 1.0, 0.2),
        "elu": torch.where(x > 0, 1.0, 1.5 * torch.exp(x)),
        "selu": selu_scale * torch.where(x > 0, 1.0, selu_alpha * torch.exp(x)),
        "softplus": torch.sigmoid(2.0 * x),
        "gelu": normal_cdf + x * normal_pdf,
        "silu": s * (1 + x * (1 - s)),
        "mish": torch.tanh(softplus) + x * s * (1 - torch.tanh(softplus) ** 2),
        "hardsigmoid": ((x > -3) & (x < 3)).to(DTYPE) / 6,
        "hardtanh": ((x > -1) & (x < 1)).to(DTYPE),
    }
    return slopes[key].to(DTYPE)  # torch.where with Python numbers gives float32


def test_every_registered_activation_is_checked_here():
    assert set(activations.ACTIVATIONS) == set(REFERENCE)
    for activation in activations.ACTIVATIONS.values():
        assert activation.formula and "$" not in activation.formula  # st.latex takes bare LaTeX


@pytest.mark.parametrize("key", REFERENCE)
def test_values_and_slopes_match_the_torch_op(key):
    params, op = REFERENCE[key]
    values, slopes = activations.value_and_slope(key, POINTS, params)
    torch.testing.assert_close(values, op(POINTS), rtol=0, atol=1e-12)
    torch.testing.assert_close(slopes, autograd_slope(op, POINTS), rtol=0, atol=1e-12)


@pytest.mark.parametrize("key", REFERENCE)
def test_slopes_match_derivatives_worked_by_hand(key):
    params, _ = REFERENCE[key]
    away_from_kinks = POINTS[torch.stack([(POINTS - k).abs() > 1e-4 for k in KINKS]).all(0)]
    _, slopes = activations.value_and_slope(key, away_from_kinks, params)
    # hardsigmoid's 1/6 is stored in float32 by torch: agreement to ~1e-8 there.
    torch.testing.assert_close(slopes, hand_slope(key, away_from_kinks), rtol=1e-6, atol=1e-7)


def test_slope_at_zero_follows_torch_conventions():
    zero = torch.zeros(1, dtype=DTYPE)
    assert activations.value_and_slope("relu", zero)[1].item() == 0.0  # relu'(0) = 0 in torch
    assert activations.value_and_slope("leaky_relu", zero, {"slope": 0.2})[1].item() == pytest.approx(0.2)
    assert activations.value_and_slope("sigmoid", zero)[1].item() == 0.25


def test_rrelu_training_is_the_torch_op_with_a_seed():
    x = torch.linspace(-4, 4, 101, dtype=DTYPE)
    ours = activations.apply("rrelu", x, {"lower": 0.1, "upper": 0.3}, training=True, seed=7)
    torch.manual_seed(7)
    torch.testing.assert_close(ours, F.rrelu(x, 0.1, 0.3, training=True), rtol=0, atol=0)


def test_rrelu_draws_slopes_in_training_and_uses_their_mean_in_evaluation():
    x = torch.linspace(-5, 5, 1001, dtype=DTYPE)
    params = {"lower": 0.1, "upper": 0.3}
    _, train = activations.value_and_slope("rrelu", x, params, training=True, seed=1)
    _, train_again = activations.value_and_slope("rrelu", x, params, training=True, seed=1)
    _, other_seed = activations.value_and_slope("rrelu", x, params, training=True, seed=2)
    _, evaluation = activations.value_and_slope("rrelu", x, params, training=False)
    negative = x < 0
    assert torch.equal(train, train_again)
    assert not torch.equal(train, other_seed)
    assert ((train[negative] >= 0.1) & (train[negative] <= 0.3)).all()
    assert train[negative].std() > 0.03  # a different slope per element, spread over U(0.1, 0.3)
    assert torch.all(train[x > 0] == 1) and torch.all(evaluation[x > 0] == 1)
    torch.testing.assert_close(evaluation[negative], torch.full_like(x[negative], 0.2))


@pytest.mark.parametrize("beta", [0.5, 1.0, 2.0, 5.0])
def test_softplus_slope_is_the_sigmoid(beta):
    curve = activations.curve("softplus", -10, 10, {"beta": beta})
    np.testing.assert_allclose(curve.dy, torch.sigmoid(beta * torch.from_numpy(curve.x)).numpy(), atol=1e-8)
    # Beyond beta * x > 20 torch returns x itself (slope exactly 1, sigmoid is 1 - 2e-9).
    assert activations.softplus_sigmoid_gap(curve, beta) < 1e-8
    # A smooth ReLU: within ln(2) / beta of it everywhere.
    assert np.abs(curve.y - np.maximum(curve.x, 0)).max() == pytest.approx(math.log(2) / beta)


def test_invalid_settings_raise_with_a_reason():
    with pytest.raises(ValueError, match="between"):
        activations.resolve_params("leaky_relu", {"slope": 2.0})
    with pytest.raises(ValueError, match="no parameter"):
        activations.resolve_params("relu", {"slope": 0.1})
    with pytest.raises(ValueError, match="must not exceed"):
        activations.resolve_params("rrelu", {"lower": 0.3, "upper": 0.1})
    with pytest.raises(ValueError, match="Unknown activation"):
        activations.get("swishy")
    with pytest.raises(ValueError, match="left end"):
        activations.curve("relu", 2.0, 2.0)


def test_grid_holds_zero_and_the_ends_exactly():
    curve = activations.curve("relu", -6, 6, points=801)
    assert curve.x[0] == -6 and curve.x[-1] == 6 and curve.x[400] == 0.0


def test_flat_regions_sit_where_the_slope_crosses_the_threshold():
    threshold = 0.05
    curve = activations.curve("sigmoid", -10, 10, points=2001)
    regions = activations.flat_regions(curve, threshold)
    # sigma'(x) = s (1 - s) = t  <=>  s = (1 - sqrt(1 - 4t)) / 2, x = ln(s / (1 - s)).
    s = (1 - math.sqrt(1 - 4 * threshold)) / 2
    edge = math.log((1 - s) / s)
    spacing = curve.x[1] - curve.x[0]
    assert [region.kind for region in regions] == ["saturated", "saturated"]
    assert regions[0].start == -10 and regions[0].end == pytest.approx(-edge, abs=spacing)
    assert regions[1].start == pytest.approx(edge, abs=spacing) and regions[1].end == 10

    relu = activations.flat_regions(activations.curve("relu", -4, 4), threshold)
    assert [(r.start, r.end, r.kind) for r in relu] == [(-4.0, 0.0, "dead")]  # relu'(0) = 0 too
    assert activations.flat_regions(activations.curve("leaky_relu", -4, 4, {"slope": 0.1}), threshold) == []


def test_slope_summary_finds_sigmoids_quarter():
    summary = activations.slope_summary(activations.curve("sigmoid", -6, 6), 0.05)
    assert summary.max_slope == 0.25 and summary.at_x == 0.0
    assert summary.dead_share == 0.0 and 0.4 < summary.saturated_share < 0.6
    assert activations.max_slope_power("sigmoid", 10) == (0.25, 0.25**10)


def test_gradients_vanish_through_deep_sigmoid_but_not_relu_with_he_init():
    sigmoid = activations.layer_gradient_norms("sigmoid", 30, "xavier")
    relu = activations.layer_gradient_norms("relu", 30, "he")
    assert sigmoid.shape == relu.shape == (30,)
    assert sigmoid[0] < 1e-12 * sigmoid[-1]
    # Each layer back keeps at most about sigmoid's largest slope (weights add ~1 per layer with Xavier).
    assert np.all(np.diff(np.log(sigmoid[:-5])) > 0)
    assert 0.1 < relu[0] / relu[-1] < 10 and 0.1 < relu[0] < 10
    # Same random directions at Xavier's smaller scale: every ReLU layer halves the signal's energy.
    assert activations.layer_gradient_norms("relu", 30, "xavier")[0] < 1e-3 * relu[0]
    assert np.array_equal(relu, activations.layer_gradient_norms("relu", 30, "he"))  # seeded


def test_gradient_norms_are_the_torch_gradients_of_an_equivalent_network():
    """Rebuild the network with nn.Linear layers from the same seed: same norms."""
    depth, width, batch = 4, 8, 5
    ours = activations.layer_gradient_norms("tanh", depth, "normal", std=0.5, width=width, batch=batch, seed=3)
    generator = torch.Generator().manual_seed(3)
    x = torch.randn(batch, width, dtype=DTYPE, generator=generator)
    layers = [torch.nn.Linear(width, width, bias=False, dtype=DTYPE) for _ in range(depth)]
    with torch.no_grad():
        for layer in layers:
            layer.weight.copy_(torch.randn(width, width, dtype=DTYPE, generator=generator) * 0.5)
    direction = torch.randn(width, dtype=DTYPE, generator=generator)
    net = torch.nn.Sequential(*[m for layer in layers for m in (layer, torch.nn.Tanh())])
    (net(x) @ (direction / direction.norm())).mean().backward()
    np.testing.assert_allclose(ours, [layer.weight.grad.norm().item() for layer in layers], rtol=1e-12)


def test_deep_network_settings_are_checked():
    with pytest.raises(ValueError, match="Depth"):
        activations.layer_gradient_norms("relu", 0)
    with pytest.raises(ValueError, match="Initialization"):
        activations.layer_gradient_norms("relu", 3, "orthogonal")
    with pytest.raises(ValueError, match="positive"):
        activations.layer_gradient_norms("relu", 3, "normal", std=0.0)


RATES = [0.0, 0.1, 1.0, 10.0, 100.0, 1000.0]


def test_dead_relus_grow_with_the_step_and_leaky_units_never_die():
    relu = [result.dead_fraction for result in activations.dead_units_after_step("relu", RATES)]
    assert relu[0] == 0.0 and relu[1] == 0.0
    assert relu == sorted(relu) and relu[-1] > 0.25
    for key in ("leaky_relu", "prelu"):
        results = activations.dead_units_after_step(key, RATES)
        assert all(result.dead_fraction == 0.0 for result in results)
        assert all(np.all(result.passing_share == 1.0) for result in results)  # slope never exactly 0


def test_dead_units_pass_no_gradient_on_any_input():
    (result,) = activations.dead_units_after_step("relu", [1000.0])
    assert result.passing_share.shape == (256,)
    assert result.dead_fraction == np.mean(result.passing_share == 0)
    with pytest.raises(ValueError, match="negative"):
        activations.dead_units_after_step("relu", [-1.0])


def test_feature_map_is_the_convolution_then_the_activation():
    rng = np.random.default_rng(0)
    image = rng.random((20, 24, 3)).astype(np.float32)
    before, after = activations.activate_feature_map(image, kernels.preset("sobel x"), "relu")
    gray = torch.from_numpy(convolution.to_gray(image).astype(np.float64))[None, None]
    sobel = torch.from_numpy(kernels.preset("sobel x"))[None, None]
    same_size = F.conv2d(F.pad(gray, (1, 1, 1, 1), mode="replicate"), sobel)[0, 0].numpy()
    assert before.shape == (20, 24)
    np.testing.assert_allclose(before, same_size, atol=1e-5)
    np.testing.assert_array_equal(after, np.maximum(before, 0))


def test_feature_map_of_a_one_pixel_image_is_one_value():
    before, after = activations.activate_feature_map(np.full((1, 1), 0.5), kernels.preset("sobel x"), "relu")
    assert before.shape == after.shape == (1, 1) and before[0, 0] == 0  # a flat image has no edge


def test_curves_chart_draws_the_engine_values_and_shades_the_flat_regions():
    curves = [activations.curve("sigmoid"), activations.curve("relu")]
    (chart,) = charts(activation_charts.curves_chart(curves, 0.05))
    assert chart.legend == ["Sigmoid", "Sigmoid slope", "ReLU", "ReLU slope", "Sigmoid: saturated: |slope| < 0.05"]
    for item, name in zip(curves, ("Sigmoid", "ReLU"), strict=True):
        for legend, values in ((name, item.y), (f"{name} slope", item.dy)):
            x, y = chart.legend_line(legend).T
            within_pixels(x, item.x, chart.x_px)
            within_pixels(y, values, chart.y_px)
    assert chart.swatch("Sigmoid slope").get("stroke-dasharray") and not chart.swatch("Sigmoid").get("stroke-dasharray")
    # Sigmoid is saturated at both ends: two bands, exactly where flat_regions puts them.
    regions = activations.flat_regions(curves[0], 0.05)
    assert [region.kind for region in regions] == ["saturated", "saturated"]
    shaded = chart.bands(activation_charts.FILLS["saturated"][0])
    within_pixels(np.array(shaded), np.array([(region.start, region.end) for region in regions]), chart.x_px)
    assert chart.swatch("Sigmoid: saturated: |slope| < 0.05").get("fill") == activation_charts.FILLS["saturated"][1]


def test_relus_dead_half_is_shaded_from_the_left_end_to_zero():
    relu = activations.curve("relu", -4.0, 2.0)
    (chart,) = charts(activation_charts.curves_chart([relu], 0.01, labels={"dead": "slope 0"}))
    (dead,) = chart.bands(activation_charts.FILLS["dead"][0])
    within_pixels(np.array(dead), np.array([-4.0, 0.0]), chart.x_px)  # relu'(0) = 0 in torch
    assert "ReLU: slope 0" in chart.legend


def test_rrelu_training_draws_a_dot_for_its_value_and_slope_every_few_points():
    evaluation, training = activations.curve("rrelu"), activations.curve("rrelu", training=True)
    (chart,) = charts(activation_charts.curves_chart([evaluation], 0.05, extra=[training]))
    every = len(training.x) // 120
    dots = chart.dots(activation_charts.COLORS[0])
    values, slopes = ([dot.y for dot in dots if dot.hollow == hollow] for hollow in (False, True))
    assert len(values) == len(slopes) == len(training.x[::every]) > 100
    within_pixels(values, training.y[::every], chart.y_px)
    within_pixels(slopes, training.dy[::every], chart.y_px)
    assert {"RReLU (training)", "RReLU (training) slope"} <= set(chart.legend)


def test_gradient_norms_chart_is_logarithmic_and_holds_the_norms_and_the_reference():
    norms = {key: activations.layer_gradient_norms(key, 12) for key in ("sigmoid", "relu")}
    (chart,) = charts(activation_charts.gradient_norms_chart(norms, 0.25))
    assert chart.y_log and not chart.x_log and chart.y_label == "gradient norm (log scale)"
    for key, name in (("sigmoid", "Sigmoid"), ("relu", "ReLU")):
        layers, values = chart.legend_line(name).T
        within_pixels(layers, np.arange(1, 13), chart.x_px)
        within_pixels(values, norms[key], chart.y_px)
    layers, reference = chart.legend_line("x 0.25 per layer").T
    within_pixels(reference, norms["sigmoid"][-1] * 0.25 ** (12 - np.arange(1, 13)), chart.y_px)
    assert chart.swatch("x 0.25 per layer").get("stroke-dasharray")
    assert len([dot for dot in chart.dots() if dot.hover]) == 24  # a dot per layer and function, with its number


def test_dead_fraction_chart_reads_on_a_log_learning_rate_axis():
    rates = [0.01, 0.1, 1.0, 10.0, 100.0, 1000.0]
    curves = {"relu": (rates, [0.0, 0.0, 0.05, 0.2, 0.4, 0.6]), "leaky_relu": (rates, [0.0] * 6)}
    (chart,) = charts(activation_charts.dead_fraction_chart(curves, 10.0))
    assert chart.x_log and not chart.y_log
    rate, dead = chart.legend_line("ReLU").T
    within_pixels(rate, rates, chart.x_px)
    within_pixels(dead, [0, 0, 5, 20, 40, 60], chart.y_px)
    within_pixels(chart.vlines(activation_charts.GREY), [10.0], chart.x_px)
    (linear,) = charts(activation_charts.dead_fraction_chart({"relu": ([0.0, 2.0, 4.0], [0.0, 0.4, 0.8])}, 2.0,
                                                            log_x=False))  # fmt: skip
    assert not linear.x_log
    within_pixels(linear.legend_line("ReLU")[:, 0], [0, 2, 4], linear.x_px)
    within_pixels(linear.vlines(activation_charts.GREY), [2.0], linear.x_px)


def test_units_grid_has_a_dark_cell_for_each_dead_unit():
    shares = np.linspace(0, 1, 10)
    shares[[3, 7]] = 0.0
    root = ET.fromstring(activation_charts.units_grid(shares, "passing"))
    cells = [rect for rect in root.iter(f"{SVG}rect") if rect.find(f"{SVG}title") is not None]
    assert [cell.find(f"{SVG}title").text for cell in cells] == [f"unit {i}: {s:.0%}" for i, s in enumerate(shares)]
    dark = [i for i, cell in enumerate(cells) if cell.get("fill") == activation_charts.DEAD_CELL]
    assert dark == [0, 3, 7]
    assert {float(cell.get("x")) for cell in cells[:4]} == {0, 20, 40, 60} and cells[4].get("y") == "20"  # 4 a row


def test_histograms_count_every_pixel_before_and_after_on_a_log_axis():
    before, after = activations.activate_feature_map(np.random.default_rng(1).random((16, 16)), np.eye(3), "tanh")
    text = activation_charts.histograms_chart(before, after)
    (chart,) = charts(text)
    assert chart.y_log and chart.legend == ["before", "after"]
    tips = [bar.hover for bar in chart.bars()]
    for name, values in (("before", before), ("after", after)):
        counts = [float(tip.rsplit(": ", 1)[1]) for tip in tips if tip.startswith(f"{name}, ")]
        assert sum(counts) == values.size
    assert "$" not in text  # LaTeX would need MathJax


def test_bias_shift_kills_relus_that_are_negative_on_every_input():
    shifts = [0.0, 1.0, 2.0, 3.0, 6.0]
    relu = activations.dead_units_after_bias_shift("relu", shifts)
    fractions = [result.dead_fraction for result in relu]
    assert fractions[0] == 0.0 and fractions == sorted(fractions) and fractions[-1] == 1.0
    assert 0.3 < fractions[2] < 0.5  # shift 2: the articles' "up to 40%"
    # By hand: a unit is dead once the shift reaches its largest weighted input on the batch.
    x, weight, *_ = activations._one_step_setup("relu", None, 256, 16, 256, 0)
    largest = (x @ weight.T).max(0).values  # (width,)
    assert fractions == [float((largest <= shift).to(DTYPE).mean()) for shift in shifts]
    for key in ("leaky_relu", "prelu"):
        assert all(r.dead_fraction == 0.0 for r in activations.dead_units_after_bias_shift(key, shifts))
    with pytest.raises(ValueError, match="non-negative"):
        activations.dead_units_after_bias_shift("relu", [-1.0])


@pytest.mark.parametrize("key", REFERENCE)
def test_code_snippet_prints_the_torch_values_and_slopes_at_and_around_zero(key):
    params, op = REFERENCE[key]
    points = (-2.0, -1e-3, 0.0, 1e-3, 0.5)
    namespace: dict = {}
    exec(compile(codegen.activation(key, params, points), "<snippet>", "exec"), namespace)  # prints, as pasted
    x = torch.tensor(points, dtype=DTYPE)
    torch.testing.assert_close(namespace["y"].detach(), op(x), rtol=0, atol=1e-12)
    torch.testing.assert_close(namespace["slope"], autograd_slope(op, x), rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="between"):
        codegen.activation("elu", {"alpha": 9.0}, points)


def test_a_small_map_is_a_picture_with_square_pixels_above_its_colour_bar():
    values = np.array([[-1.0, 0.0], [0.5, 1.0]])
    block = activation_charts.map_picture_html(values, "Map <1>", small_side=10)
    assert "\n\n" not in block  # one HTML block inside a ui.View
    (source,) = re.findall(r'src="data:image/png;base64,([^"]+)"', block)
    picture = np.asarray(Image.open(io.BytesIO(base64.b64decode(source))))
    expected, _ = grids.map_to_image(values)
    assert picture.shape[:2] == (10, 10)  # each value a 5 x 5 square
    np.testing.assert_array_equal(picture[::5, ::5], expected)
    assert 'alt="Map &lt;1&gt;"' in block and "width:100%" in block
    assert "cnnviz-colour-bar" in block and "−1" in block  # the scale's low end, written with a minus sign


def test_formulas_hold_no_words():
    """A formula is shown as it is in both languages: words in it (``\\text{learned}``) would be English
    in the Chinese interface; what a symbol means is said by the function's note, which is translated."""
    for activation in activations.ACTIVATIONS.values():
        assert r"\text" not in activation.formula, activation.key
