"""Activation functions' parts drawn in places (each function's formula, summary, value table and code):
every frame's are the formula, the numbers and the code for that frame's settings, the table's numbers
torch's own functions and autograd slopes."""

import html
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnviz import activations, codegen, i18n
from cnnviz.drawing.activations_view import SAMPLE_POINTS, CurvesSettings, curves_frame_set, places
from cnnviz.drawing.frames import frame_at, slots_in
from cnnviz.drawing.markup import code_html
from cnnviz.drawing.mathml import latex_sources
from tests.scrub import code_text

#: Torch's own functions (the references) for the functions the tests choose, given their parameters.
TORCH = {
    "sigmoid": lambda x, p: torch.sigmoid(x),
    "relu": lambda x, p: F.relu(x),
    "leaky_relu": lambda x, p: F.leaky_relu(x, p["slope"]),
    "elu": lambda x, p: F.elu(x, p["alpha"]),
    "softplus": lambda x, p: F.softplus(x, p["beta"]),
}


def torch_rows(key: str, params: dict) -> np.ndarray:
    """f and f' (autograd) at the sample points, by torch directly: (2, points)."""
    x = torch.tensor(SAMPLE_POINTS, dtype=torch.float64, requires_grad=True)
    y = TORCH[key](x, params)
    (slope,) = torch.autograd.grad(y.sum(), x)
    return np.stack([y.detach().numpy(), slope.numpy()])


def table_cells(part: str) -> tuple[list[str], list[str], list[list[str]]]:
    """A value table's column heads, row heads and cells, as the student reads them."""
    text = [re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row) for row in re.findall(r"<tr>(.*?)</tr>", part, re.S)]
    text = [[html.unescape(cell) for cell in row] for row in text]
    return text[0][1:], [row[0] for row in text[1:]], [row[1:] for row in text[1:]]


def captions(part: str) -> list[str]:
    found = re.findall(r'<div class="cnnviz-caption">(.*?)</div>', part, re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", caption)) for caption in found]


def expected_captions(key: str, low: float, high: float, params: dict, threshold: float, lang: str) -> list[str]:
    """The page's captions for a function: its note and slope summary (the engine's numbers), softplus's check."""
    curve = activations.curve(key, low, high, params)
    summary = activations.slope_summary(curve, threshold)

    def fmt(value: float) -> str:
        return f"{value:.3g}".replace("-", "−")

    said = [
        i18n.translate(f"act.note.{key}", lang) + " "
        + i18n.translate("act.summary", lang, slope=fmt(summary.max_slope), x=fmt(summary.at_x),
                         dead=f"{summary.dead_share:.0%}", saturated=f"{summary.saturated_share:.0%}",
                         threshold=threshold)
    ]  # fmt: skip
    if key == "softplus":
        gap = activations.softplus_sigmoid_gap(curve, params["beta"])
        said.append(i18n.translate("act.softplus_check", lang, gap=f"{gap:.1e}"))
    return [*said, i18n.translate("act.at_zero", lang)]


KEYS = ("leaky_relu", "relu", "softplus", "elu", "sigmoid")
BASE = {"low": -3.0, "high": 2.5, "leaky_relu.slope": 0.2, "softplus.beta": 2.0, "elu.alpha": 1.5}


def test_every_frames_places_are_the_formula_numbers_and_code_of_its_settings():
    settings = CurvesSettings(KEYS, threshold=0.01)
    frame_set = curves_frame_set(settings, BASE)
    assert frame_set["layout"]["places"] == places(KEYS)
    assert slots_in(frame_set) == [0, 1]  # the chart and the warnings: in the view itself
    for slider in frame_set["sliders"]:
        count = round((slider["high"] - slider["low"]) / slider["step"]) + 1
        for index in range(0, count, 4 if slider["name"] in ("low", "high") else 9):
            value = round(slider["low"] + index * slider["step"], 3)
            values = {**BASE, slider["name"]: value}
            parts = frame_at(frame_set, slider["name"], value)
            for key in KEYS:
                params = {p.name: values.get(f"{key}.{p.name}", p.default) for p in activations.get(key).parameters}
                formula, summary, table = (parts[slot] for slot in slots_in(frame_set, f"fn.{key}"))
                (code,) = (parts[slot] for slot in slots_in(frame_set, f"code.{key}"))
                if values["low"] >= values["high"]:  # no curve: the view says why, the places show nothing
                    assert formula == summary == table == code == ""
                    continue
                assert latex_sources(formula) == [activations.get(key).formula]
                assert captions(summary) == expected_captions(key, values["low"], values["high"], params, 0.01, "en")
                heads, rows, cells = table_cells(table)
                assert heads == [f"x = {point:g}" for point in SAMPLE_POINTS] and rows == ["f(x)", "f'(x)"]
                shown = np.array(cells, float)
                np.testing.assert_allclose(shown, torch_rows(key, params), rtol=1e-5, atol=1e-12)  # 6 digits
                engine = activations.value_and_slope(key, torch.tensor(SAMPLE_POINTS, dtype=torch.float64), params)
                assert cells == [[f"{v + 0.0:.6g}" for v in row.tolist()] for row in engine]  # as st.dataframe's %.6g
                assert code == code_html(codegen.activation(key, params, SAMPLE_POINTS), "Copy")
                assert code_text(code) == codegen.activation(key, params, SAMPLE_POINTS)


def test_the_places_run_the_code_they_show():
    frame_set = curves_frame_set(CurvesSettings(("leaky_relu",)), {"low": -6.0, "high": 6.0, "leaky_relu.slope": 0.3})
    parts = frame_at(frame_set, "leaky_relu.slope", 0.3)
    namespace: dict = {}
    exec(compile(code_text(parts[slots_in(frame_set, "code.leaky_relu")[0]]), "<snippet>", "exec"), namespace)
    _, _, cells = table_cells(parts[slots_in(frame_set, "fn.leaky_relu")[2]])
    np.testing.assert_allclose(np.array(cells, float)[0], namespace["y"].detach().numpy(), rtol=1e-5)
    np.testing.assert_allclose(np.array(cells, float)[1], namespace["slope"].numpy(), rtol=1e-5)
    assert np.array(cells, float)[1].tolist() == pytest.approx([0.3, 0.3, 0.3, 0.3, 1, 1, 1])  # leaky'(0) = slope


def test_a_function_refused_by_its_fixed_parameters_has_empty_places_and_the_others_are_drawn():
    settings = CurvesSettings(("sigmoid", "rrelu"), fixed=(("rrelu.lower", 0.45), ("rrelu.upper", 0.2)))
    frame_set = curves_frame_set(settings, {"low": -6.0, "high": 6.0})
    parts = frame_at(frame_set, "low", -6.0)
    assert all(parts[slot] == "" for place in ("fn.rrelu", "code.rrelu") for slot in slots_in(frame_set, place))
    assert "Largest slope here: 0.25 (at x = 0)" in parts[slots_in(frame_set, "fn.sigmoid")[1]]


def test_the_places_are_in_the_session_language():
    frame_set = curves_frame_set(CurvesSettings(("softplus",)), {"low": -6.0, "high": 6.0, "softplus.beta": 1.0}, "zh")
    parts = frame_at(frame_set, "low", -6.0)
    summary = parts[slots_in(frame_set, "fn.softplus")[1]]
    assert captions(summary) == expected_captions("softplus", -6.0, 6.0, {"beta": 1.0}, 0.05, "zh")
    assert "此范围内最大导数" in summary and "Largest" not in summary
    assert 'title="复制"' in parts[slots_in(frame_set, "code.softplus")[0]]
