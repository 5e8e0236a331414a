"""The Activation functions page through AppTest: it renders, and its main widgets change what is shown."""

import html
import re

import numpy as np
import pytest

from cnnviz import activations
from cnnviz.drawing import activation_charts
from cnnviz.drawing.activations_view import POINTS
from cnnviz.drawing.mathml import latex_sources
from pages import ui
from tests import scrub
from tests.app.conftest import change, open_page
from tests.charts import SVG, Chart, page_svgs
from tests.views import captions as page_captions
from tests.views import formulas as page_formulas
from tests.views import headings

PAGE = "pages/activations.py"
VIEW = "act.scrub"  # the scrubbing view: the input range's ends and the parameters; the curves chart


def mounted(at, name: str) -> bool:
    return any(node.proto.id.endswith(f"-{VIEW}.place.{name}") for node in at.get("bidi_component"))


def tab_places(at, kind: str) -> dict[str, str]:
    """Each function's place ``fn.<key>`` (its formula, summary and table) or ``code.<key>`` (its code) that the
    page mounted, in its tab, as shown: key -> HTML. The view's frames hold every chosen function's."""
    found = {}
    for name in scrub.frame_set(at, VIEW)["layout"]["places"]:
        if name.startswith(f"{kind}.") and mounted(at, name):
            found[name.split(".", 1)[1]] = scrub.placed(at, VIEW, name)
    return found


def captions(at) -> list[str]:
    """The view's captions (tags dropped), the functions' tabs', then the page's."""
    html_shown = scrub.shown(at, VIEW) + "".join(tab_places(at, "fn").values()) if at.get("bidi_component") else ""
    found = re.findall(r'<div class="cnnviz-caption">(.*?)</div>', html_shown, re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", caption)) for caption in found] + page_captions(at)


def formulas(at) -> list[str]:
    """The LaTeX of the functions' formulas in their tabs (MathML), then the page's (KaTeX)."""
    return latex_sources("".join(tab_places(at, "fn").values())) + page_formulas(at)


def value_table(part: str) -> tuple[list[str], np.ndarray]:
    """A tab's table of exact values: its column heads (after the row heads' column), and rows f(x), f'(x)."""
    rows = [re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row) for row in re.findall(r"<tr>(.*?)</tr>", part, re.S)]
    assert [row[0] for row in rows[1:]] == ["f(x)", "f'(x)"]
    return rows[0][1:], np.array([row[1:] for row in rows[1:]], dtype=float)


def view_warnings(at) -> list[str]:
    return scrub.notes(at, VIEW, "warning")


def metrics(at) -> dict[str, str]:
    return {metric.label: metric.value for metric in at.metric}


def curves_chart(at) -> Chart:
    """The scrubbing view's chart: the functions and their slopes."""
    return Chart(scrub.svgs(at, VIEW)[0])


def trace_names(at) -> list[str]:
    """Legend entries of the first chart: the functions and their slopes."""
    return curves_chart(at).legend


def trace_values(at, name: str) -> np.ndarray:
    """The y values of one line of the first chart, read off its axis."""
    return curves_chart(at).legend_line(name)[:, 1]


@pytest.fixture(scope="module")
def default_page():
    return open_page(PAGE)


def test_renders_every_panel_with_engine_numbers(default_page):
    at = default_page
    assert not at.exception
    assert not at.error and not at.warning  # no panel hit its boundary or refused a setting
    assert at.title[0].value == "Activation functions"
    assert headings(at) == [
        "Activation functions", "The functions and their slopes", "Vanishing gradients in a deep network", "Dead ReLUs",
        "On a real feature map",
    ]  # fmt: skip
    shown = metrics(at)
    assert shown["0.25^20: sigmoid's best case"] == f"{0.25**20:.2e}"
    assert float(shown["Sigmoid: gradient at layer 1"]) < 1e-8  # vanishes through 20 sigmoid layers
    assert shown["Leaky ReLU: dead after lr 100"] == "0.0%"
    assert float(shown["ReLU: dead after lr 100"].rstrip("%")) > 20
    assert any("Largest slope here: 0.25 (at x = 0)" in caption for caption in captions(at))
    assert formulas(at)[:2] == [activations.get("sigmoid").formula, activations.get("relu").formula]  # MathML


def test_the_charts_show_the_engine_numbers(default_page):
    norms, dead, units, histogram = page_svgs(default_page)
    chart = curves_chart(default_page)  # sigmoid and ReLU on -6..6, "saturated" below 0.05
    regions = activations.flat_regions(activations.curve("sigmoid", -6.0, 6.0), 0.05)
    shaded = chart.bands(activation_charts.FILLS["saturated"][0])
    assert len(shaded) == len(regions) == 2
    assert chart.x_px(shaded) == pytest.approx(chart.x_px([(r.start, r.end) for r in regions]), abs=1)
    assert (chart.x_label, chart.y_label) == ("input x", "f(x) solid, slope f'(x) dashed")
    assert chart.legend == ["Sigmoid", "Sigmoid slope", "ReLU", "ReLU slope", "Sigmoid: |slope| < 0.05"]
    # Vanishing gradients: sigmoid's norms per layer, on a log axis, as the engine gives them.
    chart = Chart(norms)
    layers, shown = chart.legend_line("Sigmoid").T
    expected = activations.layer_gradient_norms("sigmoid", 20, "xavier", 1.0)
    assert chart.y_log
    np.testing.assert_allclose(chart.y_px(shown), chart.y_px(expected), atol=1)
    np.testing.assert_allclose(chart.x_px(layers), chart.x_px(np.arange(1, 21)), atol=1)
    assert "× 0.25 per layer" in chart.legend
    # Dead ReLUs: a log learning-rate axis, the marker at the chosen 100, the share the metric gives.
    chart = Chart(dead)
    dead_share = float(metrics(default_page)["ReLU: dead after lr 100"].rstrip("%"))
    rates, shares = chart.legend_line("ReLU").T
    assert chart.x_log and rates == pytest.approx([0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 100, 300, 1000], rel=0.02)
    assert chart.y_px(shares[8]) == pytest.approx(chart.y_px(dead_share), abs=1)
    assert chart.vlines(activation_charts.GREY) == pytest.approx([100.0], rel=0.02)
    cells = [rect for rect in units.iter(f"{SVG}rect") if rect.find(f"{SVG}title") is not None]
    dark = [cell for cell in cells if cell.get("fill") == activation_charts.DEAD_CELL]
    assert len(cells) == 256 and 100 * len(dark) / 256 == pytest.approx(dead_share, abs=0.05)
    # The feature map's histograms count the same pixels before and after the activation.
    chart = Chart(histogram)
    assert chart.y_log and chart.legend == ["before", "after"] and chart.y_label == "pixels (log scale)"
    counts = {name: sum(float(bar.hover.rsplit(": ", 1)[1]) for bar in chart.bars() if bar.hover.startswith(name))
              for name in ("before, ", "after, ")}  # fmt: skip
    assert counts["before, "] == counts["after, "] > 10_000


def test_choosing_functions_and_parameters_changes_the_plot_and_the_formulas():
    at = open_page(PAGE)
    change(at, "multiselect", "act.functions", ["softplus", "leaky_relu"])
    names = trace_names(at)
    assert "Softplus" in names and "Leaky ReLU slope" in names and "Sigmoid" not in names
    assert any("softplus'(x) and sigmoid(βx) differ by at most" in caption for caption in captions(at))
    assert any(r"\ln" in formula for formula in formulas(at))
    before, to_px = trace_values(at, "Leaky ReLU slope")[0], curves_chart(at).y_px  # at x = -6
    assert to_px(before) == pytest.approx(to_px(0.01), abs=1)
    scrub.move(at, "act.leaky_relu.slope", 0.3)
    after, to_px = trace_values(at, "Leaky ReLU slope")[0], curves_chart(at).y_px
    assert to_px(after) == pytest.approx(to_px(0.3), abs=1)


def test_rrelu_shows_training_draws_and_the_evaluation_slope():
    at = open_page(PAGE)
    change(at, "multiselect", "act.functions", ["rrelu"])
    assert "RReLU (training)" in trace_names(at)
    dots = curves_chart(at).dots()
    assert len(dots) == 2 * len(range(0, POINTS, POINTS // 120))  # f and f' of every other of the view's points
    (note,) = [caption for caption in captions(at) if caption.startswith("RReLU dots")]
    low, high, evaluation = (float(n) for n in re.findall(r"\d+\.\d+", note))
    assert 0.125 <= low < high <= 1 / 3
    assert evaluation == pytest.approx((0.125 + 1 / 3) / 2, abs=1e-3)
    change(at, "slider", "act.rrelu.lower", 0.45)  # above the upper bound: refused with the reason
    assert any("must not exceed" in warning for warning in view_warnings(at))
    assert not at.error


def test_impossible_rrelu_bounds_hide_only_the_rrelu_curve():
    at = open_page(PAGE, **{"act.functions": "sigmoid,rrelu,relu", "act.rrelu.lower": "0.45"})
    assert not at.exception and not at.error
    assert [warning for warning in view_warnings(at) if "must not exceed" in warning]
    names = trace_names(at)
    assert "Sigmoid" in names and "ReLU" in names and not any(name.startswith("RReLU") for name in names)
    assert [tab.label for tab in at.tabs] == ["Sigmoid", "ReLU"]
    assert any("Sigmoid" in caption for caption in captions(at))  # the legend names the first curve drawn


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
    (relu_range,) = [caption for caption in captions(at) if caption.startswith("Values from 0 to")]
    assert "0% of pixels are negative" in relu_range
    change(at, "selectbox", "act.fm_function", "tanh")
    ranges = [caption for caption in captions(at) if caption.startswith("Values from")]
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
    assert "梯度消失" in headings(at)[2]  # after the title and the first panel's
    assert any("此范围内最大导数" in caption for caption in captions(at))
    norms, dead, units, histogram = page_svgs(at)
    chart = curves_chart(at)
    assert chart.x_label == "输入 x" and chart.y_label == "实线 f(x)，虚线为导数 f'(x)"
    assert chart.legend == ["Sigmoid", "Sigmoid 导数", "ReLU", "ReLU 导数", "Sigmoid: |导数| < 0.05"]
    assert Chart(norms).y_label == "梯度范数 ‖dL/dW‖（对数坐标）"
    assert "每层 × 0.25" in Chart(norms).legend
    assert Chart(dead).x_label == "这一步的学习率（对数坐标）"
    assert "能传回梯度的输入比例" in [text.text for text in units.iter(f"{SVG}text")]
    assert Chart(histogram).legend == ["之前", "之后"]


def in_link(at, key: str) -> str:
    """A setting as the page's URL holds it."""
    value = at.query_params[key]
    return value[-1] if isinstance(value, list) else value


LINK = {"act.functions": "softplus,tanh", "act.vg_functions": "relu", "act.init": "he", "act.dead_cause": "bias",
        "act.bias": "3.0", "act.kernel": "laplacian", "act.fm_function": "tanh"}  # fmt: skip


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_link_opens_the_same_view_in_either_language(lang):
    at = open_page(PAGE, lang=lang, **LINK)
    assert not at.exception and not at.error
    assert at.multiselect(key="act.functions").value == ["softplus", "tanh"]
    assert at.multiselect(key="act.vg_functions").value == ["relu"]
    assert at.segmented_control(key="act.init").value == "he"
    assert at.segmented_control(key="act.dead_cause").value == "bias"
    assert at.selectbox(key="act.kernel").value == "laplacian"
    assert at.selectbox(key="act.fm_function").value == "tanh"
    names = trace_names(at)
    assert "Softplus" in names and "Tanh" in names and "Sigmoid" not in names  # proper names in both languages
    # The numbers follow the link: ReLU with He init keeps its gradient; a bias shift of 3 kills most ReLUs.
    shown = list(metrics(at).values())
    assert 0.1 < float(shown[1]) < 10
    assert float(shown[3].rstrip("%")) > 50 and shown[4] == shown[5] == "0.0%"
    assert {key: in_link(at, key) for key in LINK} == LINK  # ids, not translated labels


def test_a_choice_made_in_chinese_goes_into_the_link_as_an_id(monkeypatch):
    # Chinese for the whole test: AppTest also calls the widgets' format_func outside the script run, where
    # the session's language is not visible (a translated selectbox would not find its own label).
    monkeypatch.setattr(ui, "lang", lambda: "zh")
    at = open_page(PAGE)
    assert at.title[0].value == "激活函数"
    change(at, "multiselect", "act.functions", ["gelu", "elu"])
    change(at, "segmented_control", "act.dead_cause", "bias")
    change(at, "selectbox", "act.kernel", "outline")
    assert in_link(at, "act.functions") == "gelu,elu"
    assert in_link(at, "act.kernel") == "outline"
    assert in_link(at, "act.dead_cause") == "bias"
    monkeypatch.undo()
    english = open_page(PAGE, **{key: in_link(at, key) for key in ("act.functions", "act.dead_cause", "act.kernel")})
    assert english.multiselect(key="act.functions").value == ["gelu", "elu"]
    assert english.segmented_control(key="act.dead_cause").value == "bias"
    assert english.selectbox(key="act.kernel").value == "outline"
    assert "ReLU: dead after bias −2" in metrics(english)
    change(english, "multiselect", "act.functions", ["sigmoid", "relu"])  # back to the default: out of the link
    assert "act.functions" not in english.query_params


def test_a_stale_link_falls_back_to_the_defaults():
    too_many = ",".join(list(activations.ACTIVATIONS)[:6])  # this panel compares at most 5
    at = open_page(PAGE, **{"act.functions": "relu,swishy", "act.init": "orthogonal", "act.vg_functions": too_many})
    assert not at.exception and not at.error
    assert at.multiselect(key="act.functions").value == ["sigmoid", "relu"]
    assert at.multiselect(key="act.vg_functions").value == ["sigmoid", "tanh", "relu"]
    assert at.segmented_control(key="act.init").value == "xavier"


def test_a_bias_shift_kills_relus_but_not_leaky_ones():
    at = open_page(PAGE)
    change(at, "segmented_control", "act.dead_cause", "bias")
    small = float(metrics(at)["ReLU: dead after bias −2"].rstrip("%"))
    assert 30 < small < 50  # the articles' "up to 40%"
    change(at, "select_slider", "act.bias", 4.0)
    assert float(metrics(at)["ReLU: dead after bias −4"].rstrip("%")) > small
    assert metrics(at)["Leaky ReLU: dead after bias −4"] == metrics(at)["PReLU: dead after bias −4"] == "0.0%"


def run_snippet(code: str) -> dict:
    namespace: dict = {}
    exec(compile(code, "<snippet>", "exec"), namespace)  # the page's own snippet
    return namespace


def test_the_code_shown_reproduces_the_table_of_values_and_slopes():
    at = open_page(PAGE)
    change(at, "multiselect", "act.functions", ["leaky_relu", "relu", "softplus"])
    scrub.move(at, "act.leaky_relu.slope", 0.2)
    scrub.move(at, "act.softplus.beta", 2.0)
    assert [tab.label for tab in at.tabs] == ["Leaky ReLU", "ReLU", "Softplus"]
    codes, tables = tab_places(at, "code"), tab_places(at, "fn")
    assert list(codes) == list(tables) == ["leaky_relu", "relu", "softplus"]  # one per function, in its tab:
    for tab, key in zip(at.tabs, codes, strict=True):
        assert [node.proto.id.split(f"-{VIEW}.place.")[1] for node in tab.get("bidi_component")] == [
            f"fn.{key}",
            f"code.{key}",
        ]
    for key in codes:
        namespace = run_snippet(scrub.code_text(codes[key]))
        heads, shown = value_table(tables[key])  # rows: f(x), f'(x)
        assert [float(c.removeprefix("x = ")) for c in heads] == namespace["x"].tolist()
        np.testing.assert_allclose(shown[0], namespace["y"].detach().numpy(), rtol=1e-5, atol=1e-12)  # 6 digits
        np.testing.assert_allclose(shown[1], namespace["slope"].numpy(), rtol=1e-5, atol=1e-12)
    leaky, relu, _ = (value_table(tables[key])[1] for key in codes)
    assert leaky[1].tolist() == pytest.approx([0.2, 0.2, 0.2, 0.2, 1, 1, 1])  # torch: leaky'(0) = its slope
    assert relu[1].tolist() == [0, 0, 0, 0, 1, 1, 1]  # torch: relu'(0) = 0
