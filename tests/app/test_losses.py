"""The Loss functions page through AppTest: it renders, and its main widgets change what is shown."""

import math
import re

import pytest

from cnnviz.drawing import loss_charts
from pages import ui
from tests import scrub, views
from tests.app.conftest import change, open_page
from tests.charts import charts, page_charts
from tests.snippets import run_snippet

PAGE = "pages/losses.py"
VIEW = "loss.scrub"  # the softmax panel's scrubbing view: four logits and the smoothing
SIGMOID_VIEW = "loss.sigmoid_scrub"  # the sigmoid panel's: z and the target


def softmax_numbers(at, key: str = VIEW) -> dict[str, float]:
    """A view's numbers (full values) as it shows them now: the softmax view's cross-entropy, entropy
    of the target and KL; the sigmoid view's p and both gradients."""
    found = re.findall(r'data-name="(\w+)" data-value="([^"]+)"', scrub.shown(at, key))
    return {name: float(value) for name, value in found}


def metrics(at) -> dict[str, str]:
    return {metric.label: metric.value for metric in at.metric}


def number(text: str) -> float:
    return float(text.replace("−", "-"))


def panel_charts(at) -> dict[str, list]:
    """The page's charts by what they show, in page order (the softmax view's as it shows them now)."""
    shown = page_charts(at)
    assert len(shown) == 5
    return {"sigmoid": charts(scrub.shown(at, SIGMOID_VIEW)), "training": shown[0:2],
            "softmax": charts(scrub.shown(at, VIEW)), "outlier": shown[2:3], "residual": shown[3:5]}  # fmt: skip


def dot_heights(chart) -> dict[str, tuple[float, float]]:
    """(z, value) of each marked point, by colour, read back through the axis ticks."""
    return {dot.colour: (dot.x, dot.y) for dot in chart.dots()}


def steps(text: str) -> int | None:
    """'after 11 steps' -> 11; 'not within 300 steps' -> None."""
    return int(re.findall(r"\d+", text)[0]) if text.startswith("after") else None


@pytest.fixture(scope="module")
def default_page():
    return open_page(PAGE)


def test_renders_every_panel(default_page):
    at = default_page
    assert not at.exception
    assert not at.error and not at.warning
    assert at.title[0].value == "Loss functions"
    assert len(views.headings(at)) == 1 + 5  # the title and one per panel
    assert len(at.tabs) == 5  # one formula per loss
    assert any(r"\sigma'(z)" in formula for formula in views.formulas(at))


def test_sigmoid_panel_shows_mse_gradient_vanishing_when_wrong():
    at = open_page(PAGE)
    p = 1 / (1 + math.exp(5.0))  # z = -5, target 1
    shown = softmax_numbers(at, SIGMOID_VIEW)
    assert shown["p"] == pytest.approx(p, rel=1e-12)
    assert shown["mse_grad"] == pytest.approx(2 * (p - 1) * p * (1 - p), rel=1e-12)
    assert shown["ce_grad"] == pytest.approx(p - 1, rel=1e-12)
    assert "confidently wrong" in scrub.shown(at, SIGMOID_VIEW)
    loss_chart, grad_chart = panel_charts(at)["sigmoid"]
    assert loss_chart.legend == grad_chart.legend == ["MSE", "cross-entropy"]
    # The marked points sit at the losses and gradients at z = -5, within a pixel or two.
    for chart, expected in ((loss_chart, {loss_charts.MSE_COLOR: (p - 1) ** 2, loss_charts.CE_COLOR: -math.log(p)}),
                            (grad_chart, {loss_charts.MSE_COLOR: 2 * (p - 1) * p * (1 - p), loss_charts.CE_COLOR: p - 1})):  # fmt: skip
        marked = dot_heights(chart)
        for colour, value in expected.items():
            assert chart.x_px(marked[colour][0]) == pytest.approx(chart.x_px(-5.0), abs=1.5)
            assert chart.y_px(marked[colour][1]) == pytest.approx(chart.y_px(value), abs=1.5)
    scrub.move(at, "loss.z", 3.0)  # what releasing the view's z slider at 3.0 does
    assert at.query_params["loss.z"] in ("3.0", ["3.0"])
    p = 1 / (1 + math.exp(-3.0))
    assert softmax_numbers(at, SIGMOID_VIEW)["ce_grad"] == pytest.approx(p - 1, rel=1e-12)
    loss_chart = panel_charts(at)["sigmoid"][0]
    z, ce = dot_heights(loss_chart)[loss_charts.CE_COLOR]
    assert loss_chart.x_px(z) == pytest.approx(loss_chart.x_px(3.0), abs=1.5)
    assert loss_chart.y_px(ce) == pytest.approx(loss_chart.y_px(-math.log(p)), abs=1.5)
    assert "on the right side" in scrub.shown(at, SIGMOID_VIEW)
    scrub.move(at, "loss.target", 0)
    assert softmax_numbers(at, SIGMOID_VIEW)["ce_grad"] == pytest.approx(p, rel=1e-12)
    assert at.query_params["loss.target"] in ("0", ["0"]) and "confidently wrong" in scrub.shown(at, SIGMOID_VIEW)


def test_training_run_cross_entropy_needs_fewer_steps():
    at = open_page(PAGE)
    shown = metrics(at)
    mse, ce = steps(shown["MSE: all points right"]), steps(shown["cross-entropy: all points right"])
    assert ce is not None and mse is not None and ce < mse
    change(at, "slider", "loss.start_weight", -7.0)
    shown = metrics(at)
    assert shown["MSE: all points right"] == "not within 300 steps"
    slower = steps(shown["cross-entropy: all points right"])
    assert slower > ce  # more confidently wrong: a little longer
    accuracy, gradient = panel_charts(at)["training"]
    assert accuracy.vlines(loss_charts.MSE_COLOR) == []  # MSE never gets there: no line
    (solved,) = accuracy.vlines(loss_charts.CE_COLOR)
    assert accuracy.x_px(solved) == pytest.approx(accuracy.x_px(slower), abs=1.5)
    assert gradient.y_log and gradient.legend == ["MSE", "cross-entropy"]


def test_softmax_logits_and_target_change_probabilities_and_loss():
    at = open_page(PAGE)
    logits = [2.0, 1.0, 0.5, -1.0]
    total = sum(math.exp(z) for z in logits)
    assert softmax_numbers(at)["ce"] == pytest.approx(-math.log(math.exp(1.0) / total), rel=1e-12)
    scrub.move(at, "loss.logit1", 4.0)  # what releasing the slider at 4.0 does
    logits[1] = 4.0
    total = sum(math.exp(z) for z in logits)
    assert softmax_numbers(at)["ce"] == pytest.approx(-math.log(math.exp(4.0) / total), rel=1e-12)
    assert at.query_params["loss.logit1"] in ("4", ["4"])
    assert "differ by at most" in scrub.shown(at, VIEW)
    scrub.move(at, "loss.smoothing", 0.2)
    shown = softmax_numbers(at)
    assert shown["entropy"] > 0
    assert shown["ce"] == pytest.approx(shown["entropy"] + shown["kl"], abs=1e-12)
    change(at, "selectbox", "loss.target_class", "fish")
    y = [0.05, 0.05, 0.05, 0.85]  # smoothing 0.2 over 4 classes
    log_p = [z - math.log(total) for z in logits]
    assert softmax_numbers(at)["ce"] == pytest.approx(-sum(t * lp for t, lp in zip(y, log_p, strict=True)), rel=1e-9)
    assert at.session_state["loss.logit1"] == 4.0  # the target class moves no slider
    assert not at.code  # the code is part of the view's frames, drawn in its place: it follows the sliders
    code = scrub.code_text(scrub.placed(at, VIEW, "code"))  # the PyTorch lines print the loss the view shows
    assert "[[2.0, 4.0, 0.5, -1.0]]" in code and "label_smoothing=0.2" in code and "# fish" in code
    printed_loss = run_snippet(code).splitlines()[0]
    assert float(printed_loss) == pytest.approx(softmax_numbers(at)["ce"], abs=5e-5)
    (panel,) = [expander for expander in at.expander if expander.label == "PyTorch code for these settings"]
    assert [element.proto.id.endswith(f"-{VIEW}.place.code") for element in panel.get("bidi_component")] == [True]


@pytest.mark.parametrize("shift", ["15.0", "30.0", "0.0"])
def test_the_outlier_marker_is_drawn_whole(shift):
    """The outlier sits at the data's edge; its ring once was cut in half by the plot's edge."""
    at = open_page(PAGE, **{"loss.outlier": shift})
    (chart,) = panel_charts(at)["outlier"]
    rings = [circle for circle in chart.plot.iter("{http://www.w3.org/2000/svg}circle") if circle.get("fill") == "none"]
    assert rings  # the hollow outlier marker
    for circle in chart.plot.iter("{http://www.w3.org/2000/svg}circle"):
        x, y, r = (float(circle.get(k)) for k in ("cx", "cy", "r"))
        assert chart.left <= x - r and x + r <= chart.right and chart.top <= y - r and y + r <= chart.bottom


def test_outlier_pulls_mse_and_not_huber():
    at = open_page(PAGE)
    shown = metrics(at)
    clean = number(shown["Slope without the outlier"])
    assert abs(number(shown["Slope, MSE fit"]) - clean) > 5 * abs(number(shown["Slope, Huber fit"]) - clean)
    change(at, "slider", "loss.outlier", 0.0)
    shown = metrics(at)
    assert number(shown["Slope, MSE fit"]) == pytest.approx(clean, abs=0.02)
    (outlier_chart,) = panel_charts(at)["outlier"]
    (line,) = outlier_chart.lines(loss_charts.MSE_COLOR)
    drawn_slope = (line[1, 1] - line[0, 1]) / (line[1, 0] - line[0, 0])
    assert drawn_slope == pytest.approx(number(shown["Slope, MSE fit"]), abs=0.02)


def test_chinese():
    at = open_page()
    at.session_state["lang"] = "zh"
    at.switch_page(PAGE)
    at.run()
    assert not at.exception
    assert at.title[0].value == "损失函数"
    assert "交叉熵" in views.headings(at)[2]  # the sigmoid panel's, after the title and the catalogue's
    assert "MSE 的 dL/dz" in scrub.shown(at, SIGMOID_VIEW)
    sigmoid, training, softmax, outlier, residual = panel_charts(at).values()
    assert [chart.title for chart in sigmoid] == ["损失", "梯度 dL/dz"]
    assert sigmoid[0].legend == ["MSE", "交叉熵"] and sigmoid[0].x_label == "z（sigmoid 的输入）"
    assert training[0].x_label == "步"
    assert softmax[0].categories == ["猫", "狗", "鸟", "鱼"] and softmax[0].legend == ["目标 y"]
    assert outlier[0].legend[-2:] == ["数据点", "离群点"]
    assert residual[0].title == "单个点的损失" and residual[1].legend[:2] == ["MSE", "Huber"]
    code = scrub.placed(at, VIEW, "code")
    assert 'title="复制"' in code and "# 狗" in scrub.code_text(code)
    assert [expander.label for expander in at.expander] == ["对应当前设置的 PyTorch 代码"]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_link_opens_the_same_view_in_either_language(lang):
    link = {"loss.target_class": "fish", "loss.logit3": "3.0", "loss.z": "2.0", "loss.outlier": "0.0"}
    at = open_page(PAGE, lang=lang, **link)
    assert not at.exception and not at.error and not at.warning
    assert at.selectbox(key="loss.target_class").value == "fish"
    logits = [2.0, 1.0, 0.5, 3.0]
    expected = -math.log(math.exp(3.0) / sum(math.exp(z) for z in logits))  # -ln p(fish)
    shown = [number(metric.value) for metric in at.metric[2:]]  # the slopes, after the training run's two
    p = 1 / (1 + math.exp(-2.0))
    assert softmax_numbers(at, SIGMOID_VIEW)["p"] == pytest.approx(p, rel=1e-12)  # p = sigma(z) at z = 2
    assert softmax_numbers(at)["ce"] == pytest.approx(expected, rel=1e-12)  # cross-entropy of the softmax
    assert shown[1] == pytest.approx(shown[0], abs=0.02) and shown[2] == pytest.approx(shown[0], abs=0.02)


def test_the_target_class_goes_into_the_link_as_an_id(monkeypatch):
    monkeypatch.setattr(ui, "lang", lambda: "zh")  # AppTest formats options outside the run: Chinese there too
    at = open_page(PAGE)
    change(at, "selectbox", "loss.target_class", "bird")
    assert at.query_params["loss.target_class"] in ("bird", ["bird"])
    assert "鸟" in at.selectbox(key="loss.target_class").options[2]
