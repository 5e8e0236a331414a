"""Activation functions' frame set: every frame is what the engine draws for that setting, and its
lines are torch's functions and their autograd slopes."""

import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnviz import activations
from cnnviz.drawing import activation_charts
from cnnviz.drawing.activations_view import (
    POINTS,
    RANGE_SLIDERS,
    THIN_PX,
    CurvesSettings,
    curves_frame,
    curves_frame_set,
    parameter_sliders,
    thin_polylines,
)
from cnnviz.drawing.frames import frame_at
from tests.charts import Chart, _svgs

#: Torch's own functions (the references), given the parameters of the frame.
TORCH = {
    "sigmoid": lambda x, p: torch.sigmoid(x),
    "relu": lambda x, p: F.relu(x),
    "leaky_relu": lambda x, p: F.leaky_relu(x, p["leaky_relu.slope"]),
    "elu": lambda x, p: F.elu(x, p["elu.alpha"]),
    "softplus": lambda x, p: F.softplus(x, p["softplus.beta"]),
}
NAMES = {"sigmoid": "Sigmoid", "relu": "ReLU", "leaky_relu": "Leaky ReLU", "elu": "ELU", "softplus": "Softplus"}


def torch_value_and_slope(key: str, x: np.ndarray, values: dict) -> tuple[np.ndarray, np.ndarray]:
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    y = TORCH[key](t, values)
    (slope,) = torch.autograd.grad(y.sum(), t)
    return y.detach().numpy(), slope.numpy()


def on_grid(x: np.ndarray, values: dict) -> np.ndarray:
    """x read off the chart (0.1 px rounding) put back on the curve's sample points, POINTS from low to high:
    beside a kink (ReLU's slope at 0) the rounding could cross it."""
    step = (values["high"] - values["low"]) / (POINTS - 1)
    return values["low"] + np.round((x - values["low"]) / step) * step


def check_lines(frame: tuple[str, str], keys: tuple[str, ...], values: dict) -> None:
    """Each function's solid line is torch's f, its dashed line torch's f', within a pixel, over the range."""
    chart = Chart(_svgs(frame[0])[0])
    for key in keys:
        drawn, slope_drawn = chart.legend_line(NAMES[key]), chart.legend_line(f"{NAMES[key]} slope")
        y, _ = torch_value_and_slope(key, on_grid(drawn[:, 0], values), values)
        _, slope = torch_value_and_slope(key, on_grid(slope_drawn[:, 0], values), values)
        np.testing.assert_allclose(chart.y_px(drawn[:, 1]), chart.y_px(y), atol=1)
        np.testing.assert_allclose(chart.y_px(slope_drawn[:, 1]), chart.y_px(slope), atol=1)
        np.testing.assert_allclose(chart.x_px(drawn[[0, -1], 0]), chart.x_px([values["low"], values["high"]]), atol=1)


@pytest.mark.parametrize(
    "keys, base",
    [
        (("sigmoid", "relu"), {"low": -6.0, "high": 6.0}),
        (("leaky_relu", "elu", "softplus"),
         {"low": -3.0, "high": 2.5, "leaky_relu.slope": 0.2, "elu.alpha": 1.5, "softplus.beta": 2.0}),
    ],
)  # fmt: skip
def test_every_curves_frame_is_the_engines_drawing_with_torchs_numbers(keys, base):
    settings = CurvesSettings(keys)
    frame_set = curves_frame_set(settings, base)
    assert [slider["name"] for slider in frame_set["sliders"]] == list(base)
    for slider in frame_set["sliders"]:
        count = round((slider["high"] - slider["low"]) / slider["step"]) + 1
        for index in range(count):
            value = round(slider["low"] + index * slider["step"], 3)
            values = {**base, slider["name"]: value}
            frame = tuple(frame_at(frame_set, slider["name"], value))
            assert frame == curves_frame(settings, values)
            if values["low"] >= values["high"]:  # the engine refuses an empty range, and says so
                assert frame[0] == "" and "left end below its right end" in frame[1]
            elif index % 7 == 0 or index == count - 1:  # torch's numbers on every 7th frame and the ends
                check_lines(frame, keys, values)


def test_a_slider_with_too_many_values_stays_off_the_view():
    assert parameter_sliders(("rrelu", "elu")) == {"elu.alpha": (0.1, 3.0, 1.0, 0.1)}  # RReLU: steps of 0.001
    fixed = CurvesSettings(("rrelu",), fixed=(("rrelu.lower", 0.45), ("rrelu.upper", 0.2)))
    chart, warnings, *places = curves_frame(fixed, {"low": -6.0, "high": 6.0})
    assert chart == "" and "must not exceed" in warnings  # the page's sliders set it; the view says why
    assert places == [""] * 4  # nor does its tab show anything


def test_thinning_drops_only_points_on_the_line():
    svg = '<polyline points="0,10 1,10 2,10 3,9.5 4,8 5,8.01"/>'
    assert thin_polylines(svg) == '<polyline points="0,10 2,10 3,9.5 4,8 5,8.01"/>'


def test_frames_are_in_the_session_language():
    frame = curves_frame(CurvesSettings(("sigmoid", "relu")), {"low": -6.0, "high": 6.0}, "zh")
    assert "Sigmoid 导数" in frame[0] and "slope" not in frame[0]
    assert RANGE_SLIDERS["low"][2] == -6.0 and curves_frame_set(CurvesSettings(("relu",)), {"low": 1.0, "high": 1.0},
                                                                "zh")["sliders"][0]["label"] == "输入 x 起点"  # fmt: skip


def distance_to_polyline(point: np.ndarray, line: np.ndarray) -> float:
    start, end = line[:-1], line[1:]
    along = np.clip(
        np.einsum("ij,ij->i", point - start, end - start) / np.einsum("ij,ij->i", end - start, end - start), 0, 1
    )
    return float(np.min(np.hypot(*(start + along[:, None] * (end - start) - point).T)))


def test_every_dropped_point_lies_within_a_fraction_of_a_pixel_of_the_thinned_line():
    svg = activation_charts.curves_chart([activations.curve("sigmoid", -6.0, 6.0, points=POINTS)], 0.05)

    def read(text: str) -> list[np.ndarray]:
        return [np.array([p.split(",") for p in m.split()], float) for m in re.findall(r'points="([^"]*)"', text)]

    for full, thin in zip(read(svg), read(thin_polylines(svg)), strict=True):
        assert len(thin) < len(full) / 2
        assert max(distance_to_polyline(point, thin) for point in full) <= THIN_PX + 1e-9


def test_tenths_are_the_written_points_read_back():
    rng = np.random.default_rng(0)
    ties = np.arange(-2000, 2000) / 20  # x.x5 and x.x0: where a product by 10 may round either way
    values = np.concatenate([rng.uniform(-700, 700, 20_000), ties, ties + 1e-13, ties - 1e-13, [-0.04, 0.0, 3e5]])
    got = activation_charts.tenths(values)
    want = [float(f"{v:.1f}") for v in np.clip(values, -1e5, 1e5)]
    assert [v.hex() for v in got.tolist()] == [v.hex() for v in want]  # the same floats, signed zeros too


@pytest.mark.parametrize(
    "keys, low, high, params",
    [
        (("sigmoid", "relu"), -6.0, 6.0, {}),
        (("leaky_relu", "elu", "softplus", "gelu"), -3.0, 2.5, {"slope": 0.2, "alpha": 1.5, "beta": 2.0}),
        (("tanh", "hardsigmoid", "mish", "selu"), -19.5, 0.5, {}),
        (("rrelu", "hardtanh", "silu"), -0.5, 20.0, {}),
    ],
)
def test_a_chart_drawn_thinned_is_the_chart_drawn_then_thinned(keys, low, high, params):
    """``curves_chart(..., thin_px=)`` leaves out the same points as ``thin_polylines`` on the full chart, and
    writes the kept ones alike: the same SVG, byte for byte."""
    for shift in np.linspace(0, 0.5, 6):  # a few ranges, so the points land on many tenths
        curves = [
            activations.curve(key, low + shift, high, {p.name: params.get(p.name, p.default)
                                                       for p in activations.get(key).parameters}, points=POINTS)
            for key in keys
        ]  # fmt: skip
        extra = (
            [activations.curve("rrelu", low + shift, high, points=POINTS, training=True)] if "rrelu" in keys else None
        )
        full = activation_charts.curves_chart(curves, 0.05, extra=extra)
        thinned = activation_charts.curves_chart(curves, 0.05, extra=extra, thin_px=THIN_PX)
        assert re.sub(r"cnnviz-plot-\d+", "", thinned) == re.sub(r"cnnviz-plot-\d+", "", thin_polylines(full))
