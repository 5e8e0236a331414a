"""The Activation functions page through AppTest: it renders, and its main widgets change what is shown."""

import base64
import json
import re

import numpy as np
import pytest

from tests.app.conftest import open_page

PAGE = "pages/activations.py"


def metrics(at) -> dict[str, str]:
    return {metric.label: metric.value for metric in at.metric}


def charts(at) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def trace_names(at) -> list[str]:
    """Trace names of the first chart: the functions and their slopes."""
    return [trace.get("name") for trace in charts(at)[0]["data"]]


def trace_values(at, name: str, axis: str = "y") -> np.ndarray:
    """One trace's numbers from the first chart (plotly sends numpy arrays base64-encoded)."""
    (trace,) = [t for t in charts(at)[0]["data"] if t.get("name") == name]
    data = trace[axis]
    if isinstance(data, dict):
        return np.frombuffer(base64.b64decode(data["bdata"]), dtype=data["dtype"])
    return np.asarray(data, dtype=float)


def change(at, kind: str, key: str, value):
    getattr(at, kind)(key=key).set_value(value)
    at.run()
    assert not at.exception
    return at


@pytest.fixture(scope="module")
def default_page():
    return open_page(PAGE)


def test_renders_every_panel_with_engine_numbers(default_page):
    at = default_page
    assert not at.exception
    assert not at.error and not at.warning  # no panel hit its boundary or refused a setting
    assert at.title[0].value == "Activation functions"
    assert [header.value for header in at.subheader] == [
        "The functions and their slopes", "Vanishing gradients in a deep network", "Dead ReLUs",
        "On a real feature map",
    ]  # fmt: skip
    shown = metrics(at)
    assert shown["0.25^20: sigmoid's best case"] == f"{0.25**20:.2e}"
    assert float(shown["Sigmoid: gradient at layer 1"]) < 1e-8  # vanishes through 20 sigmoid layers
    assert shown["Leaky ReLU: dead after lr 100"] == "0.0%"
    assert float(shown["ReLU: dead after lr 100"].rstrip("%")) > 20
    assert any("Largest slope here: 0.25 (at x = 0)" in caption.value for caption in at.caption)
    assert at.latex, "formulas go through st.latex"


def test_choosing_functions_and_parameters_changes_the_plot_and_the_formulas():
    at = open_page(PAGE)
    change(at, "multiselect", "act.functions", ["softplus", "leaky_relu"])
    names = trace_names(at)
    assert "Softplus" in names and "Leaky ReLU slope" in names and "Sigmoid" not in names
    assert any("softplus'(x) and sigmoid(βx) differ by at most" in caption.value for caption in at.caption)
    assert any(r"\ln" in latex.value for latex in at.latex)
    before = trace_values(at, "Leaky ReLU slope")[0]  # at x = -6
    change(at, "slider", "act.leaky_relu.slope", 0.3)
    after = trace_values(at, "Leaky ReLU slope")[0]
    assert before == pytest.approx(0.01) and after == pytest.approx(0.3)


def test_rrelu_shows_training_draws_and_the_evaluation_slope():
    at = open_page(PAGE)
    change(at, "multiselect", "act.functions", ["rrelu"])
    assert "RReLU (training)" in trace_names(at)
    (note,) = [caption.value for caption in at.caption if caption.value.startswith("RReLU dots")]
    low, high, evaluation = (float(n) for n in re.findall(r"\d+\.\d+", note))
    assert 0.125 <= low < high <= 1 / 3
    assert evaluation == pytest.approx((0.125 + 1 / 3) / 2, abs=1e-3)
    change(at, "slider", "act.rrelu.lower", 0.45)  # above the upper bound: refused with the reason
    assert any("must not exceed" in warning.value for warning in at.warning)
    assert not at.error


def test_depth_and_initialization_change_the_gradient_numbers():
    at = open_page(PAGE)
    relu_xavier = float(metrics(at)["ReLU: gradient at layer 1"])
    change(at, "slider", "act.depth", 10)
    assert metrics(at)["0.25^10: sigmoid's best case"] == f"{0.25**10:.2e}"
    change(at, "slider", "act.depth", 20)
    change(at, "segmented_control", "act.init", "he")
    relu_he = float(metrics(at)["ReLU: gradient at layer 1"])
    assert relu_xavier < 1e-2 < 0.1 < relu_he < 10  # He init keeps ReLU's gradient alive down to layer 1
    change(at, "segmented_control", "act.init", "normal")
    assert float(metrics(at)["ReLU: gradient at layer 1"]) > 1e6  # std 1 on 64 inputs: it explodes


def test_the_learning_rate_changes_the_dead_share():
    at = open_page(PAGE)
    change(at, "select_slider", "act.lr", 1.0)
    small = metrics(at)["ReLU: dead after lr 1"]
    change(at, "select_slider", "act.lr", 1000.0)
    large = metrics(at)["ReLU: dead after lr 1e+03"]
    assert float(small.rstrip("%")) < float(large.rstrip("%"))
    assert metrics(at)["PReLU: dead after lr 1e+03"] == "0.0%"


def test_feature_map_panel_follows_the_activation():
    at = open_page(PAGE)
    (relu_range,) = [c.value for c in at.caption if c.value.startswith("Values from 0 to")]
    assert "0% of pixels are negative" in relu_range
    change(at, "selectbox", "act.fm_function", "tanh")
    ranges = [c.value for c in at.caption if c.value.startswith("Values from")]
    assert len(ranges) == 2 and "0% of pixels" not in ranges[1]  # tanh keeps the sign


def test_settings_come_from_the_url():
    at = open_page(PAGE, **{"act.depth": "5"})
    assert not at.exception
    assert "0.25^5: sigmoid's best case" in metrics(at)


def test_chinese():
    at = open_page()
    at.session_state["lang"] = "zh"
    at.switch_page(PAGE)
    at.run()
    assert not at.exception
    assert at.title[0].value == "激活函数"
    assert "梯度消失" in at.subheader[1].value
    assert any("此范围内最大导数" in caption.value for caption in at.caption)
