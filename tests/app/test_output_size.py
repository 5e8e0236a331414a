"""The Output size lesson in AppTest: sliders drive the size, formula and explanations shown."""

import html
import random
import re

import pytest
import torch
from streamlit.testing.v1 import AppTest
from torch import nn

from cnnviz import quiz
from cnnviz.drawing.mathml import latex_sources
from tests import scrub
from tests.app.conftest import open_page
from tests.charts import _svgs, groups
from tests.conftest import ROOT
from tests.snippets import printed_layer_shapes, printed_shape
from tests.views import formulas
from tests.views import notes as page_notes

PAGE = "pages/output_size.py"
VIEW = "size.scrub"  # the scrubbing view: the five sliders, the size, the formula, the windows


def output_metric(at) -> str:
    """The lesson's output size as the view shows it ("24 × 24", or "—")."""
    return re.search(r'class="scrub-metric-value"[^>]*>(.*?)</div>', scrub.shown(at, VIEW))[1]


def formula(at, index: int = 0) -> str:
    """The LaTeX source of the page's ``index``-th formula: the view's first, then the page's."""
    return (scrub.formulas(at, VIEW) + formulas(at))[index]


def notes(at, kind: str) -> list[str]:
    """The view's notes of ``kind``, then the page's."""
    return scrub.notes(at, VIEW, kind) + page_notes(at, kind)


def page_svgs(at) -> list:
    return scrub.svgs(at, VIEW)


def slider_value(at, key: str) -> int:
    return at.slider(key=key).value if key == "size.output_padding" else at.session_state[key]


def texts(items) -> str:
    return "\n".join(item if isinstance(item, str) else item.value for item in items)


@pytest.fixture(scope="module")
def default_page():
    return open_page(PAGE)


def test_renders_the_seed_articles_28_to_24(default_page):
    at = default_page
    assert not at.exception
    assert not at.error, texts(at.error)
    assert output_metric(at) == "24 × 24"
    assert r"\frac{28 + 2 \cdot 0 - 1 \cdot (5 - 1) - 1}{1}" in formula(at)
    assert formula(at).endswith(r"\mathbf{24}\end{aligned}")
    assert "23 ÷ 1 = 23 steps exactly" in texts(notes(at, "success"))
    assert not at.get("plotly_chart")
    (row,) = page_svgs(at)  # every pixel is read: no view of the whole input
    assert len(groups(row, "window")) == len(groups(row, "output")) == 24
    assert len(groups(row, "cell")) == 28 and not groups(row, "unread")


@pytest.mark.parametrize(
    "key, value, output, plugged",
    [
        ("size.input", 20, 16, r"\frac{20 + 2 \cdot 0"),
        ("size.kernel", 3, 26, r"1 \cdot (3 - 1)"),
        ("size.padding", 2, 28, r"28 + 2 \cdot 2"),
        ("size.stride", 3, 8, r"- 1}{3}"),
        ("size.dilation", 2, 20, r"2 \cdot (5 - 1)"),
    ],
)
def test_each_slider_changes_the_output_size_and_the_formula(key, value, output, plugged):
    at = open_page(PAGE)
    scrub.move(at, key, value)
    assert output_metric(at) == f"{output} × {output}"
    assert plugged in formula(at)
    assert formula(at).endswith(rf"\mathbf{{{output}}}\end{{aligned}}")


def test_an_uneven_stride_explains_the_floor_and_the_never_read_pixel():
    at = open_page(PAGE, **{"size.stride": "2"})  # (28 - 5) / 2 = 11.5
    assert output_metric(at) == "12 × 12"
    warning = texts(notes(at, "warning"))
    assert "23 ÷ 2 = 11.5 is not a whole number" in warning and "rounds down" in warning
    assert "at the end (1) are never read" in warning
    assert "whole rows and columns (amber)" in scrub.shown(at, VIEW)
    row, whole = page_svgs(at)  # the row of windows, and the whole input from above
    assert [g.find("{*}text").text for g in groups(row, "output")] == [str(n) for n in range(1, 13)]
    assert [g.find("{*}text").text for g in groups(row, "unread")] == ["28"]
    (unread,) = groups(whole, "unread")
    assert whole.get("viewBox") == "0 0 28 28" and len(unread.findall("{*}rect")) == 2  # row, column
    assert r"\lfloor 11.5 \rfloor" in formula(at)


def test_an_uneven_division_that_drops_only_padding_says_so():
    at = open_page(PAGE, **{"size.input": "8", "size.kernel": "3", "size.padding": "1", "size.stride": "2"})
    assert output_metric(at) == "4 × 4"
    assert "only padding at the end is skipped" in texts(notes(at, "warning"))


def test_dilation_with_an_even_stride_skips_pixels_between_taps():
    at = open_page(PAGE, **{"size.input": "9", "size.kernel": "3", "size.dilation": "2", "size.stride": "2"})
    assert re.search(r"\d+ input pixels \(amber\) lie between windows", texts(notes(at, "info")))


def test_pytorch_and_tensorflow_side_by_side():
    at = open_page(PAGE, **{"size.stride": "2"})
    shown = scrub.placed(at, VIEW, "frameworks")  # part of the view's frames: it follows the sliders
    assert '<code>nn.Conv2d(…, 5, padding="same")</code> → ✗ PyTorch allows padding="same" only with stride 1' in shown
    assert "ceil_mode=True)</code> → <strong>13</strong>" in shown  # a last, partial window is kept
    assert 'padding="same")</code> → <strong>14</strong> = ⌈n ÷ s⌉: pads 1 before and 2 after' in shown  # TF, uneven
    assert 'padding="valid")</code> → <strong>12</strong>' in shown
    assert "round differently" not in texts(at.markdown)  # drawn once, in the place


def transposed(at) -> str:
    """The transposed convolution's place: a part of the view's frames, drawn for the output padding."""
    return scrub.placed(at, VIEW, "transposed")


def transposed_notes(at, kind: str) -> list[str]:
    return [html.unescape(note["text"]) for note in scrub._NOTE.finditer(transposed(at)) if note["kind"] == kind]


def test_transposed_convolution_resolves_the_floor_with_output_padding():
    at = open_page(PAGE, **{"size.stride": "2"})
    assert "turns the m = 12 output pixels back" in transposed(at)
    info = texts(transposed_notes(at, "info"))
    assert "output padding 0 → 27; output padding 1 → 28" in info and "1 gets back the original 28" in info
    (latex,) = latex_sources(transposed(at))
    assert latex.endswith(r"\mathbf{27}\end{aligned}")
    at.slider(key="size.output_padding").set_value(1).run()
    (latex,) = latex_sources(transposed(at))
    assert latex.endswith(r"\mathbf{28}\end{aligned}")
    assert len(formulas(at)) == 0 and "Going back up" in texts(at.markdown)  # the heading stays native


def test_transposed_convolution_needs_an_output_but_keeps_its_slider():
    at = open_page(PAGE, **{"size.input": "3"})  # no window fits
    assert transposed(at).startswith('<div class="cnnviz-note info"><p>Choose settings where at least one window')
    assert "<svg" not in transposed(at) and at.slider(key="size.output_padding").value == 0
    scrub.move(at, "size.input", 28)
    assert "turns the m = 24 output pixels back" in transposed(at)


def test_too_much_output_padding_warns_and_offers_the_nearest_valid_value():
    at = open_page(PAGE, **{"size.output_padding": "2"})  # stride 1: output padding must be 0
    assert "Output padding must be smaller than the stride" in texts(transposed_notes(at, "warning"))
    assert "<svg" not in transposed(at) and not latex_sources(transposed(at))
    at.button(key="size.fix.output_padding").click().run()
    assert at.slider(key="size.output_padding").value == 0
    assert not notes(at, "warning") and not transposed_notes(at, "warning")
    assert not [button for button in at.button if button.key == "size.fix.output_padding"]


@pytest.mark.parametrize(
    "query, button_label, setting, value",
    [
        ({"size.input": "3"}, "Use padding 1", "size.padding", 1),  # kernel 5 on 3 pixels
        ({"size.input": "3"}, "Use kernel size 3", "size.kernel", 3),
        ({"size.input": "1", "size.kernel": "11", "size.dilation": "4"}, "Use kernel size 1", "size.kernel", 1),
    ],
)
def test_an_impossible_setting_warns_and_offers_the_nearest_valid_one(query, button_label, setting, value):
    at = open_page(PAGE, **query)
    assert not at.exception
    assert output_metric(at) == "—"
    assert "No window fits" in texts(notes(at, "warning"))
    assert formula(at).endswith(r"\end{aligned}")  # the formula still shows why: a result below 1
    button = at.button(key=setting.replace("size.", "size.fix."))
    assert button.label == button_label
    assert "there is no code to run" in scrub.placed(at, VIEW, "code")
    button.click().run()
    assert at.session_state[setting] == value
    assert output_metric(at) == "1 × 1"
    assert not notes(at, "warning")


@pytest.mark.parametrize(
    "preset, last_map, flat, layers",
    [
        ("keras_mnist", "16 × 4 × 4", "256", 8),
        ("lenet5", "16 × 5 × 5", "400", 8),
        ("alexnet", "256 × 6 × 6", "9216", 12),
        ("vgg16", "512 × 7 × 7", "25088", 22),
    ],
)
def test_each_preset_traces_its_shapes_verified_by_torch(preset, last_map, flat, layers):
    at = open_page(PAGE)
    at.selectbox(key="size.preset").set_value(preset).run()
    assert not at.exception and not at.error
    table = at.table[0].value
    shapes = list(table["Output shape (C × H × W)"])
    assert shapes[shapes.index(flat) - 1] == last_map  # the map just before Flatten
    assert len(table) == layers + 1  # plus the input row
    assert f"all {layers} layers match" in texts(notes(at, "success"))


def test_a_shared_link_opens_the_preset_by_its_name():
    at = open_page(PAGE, **{"size.preset": "vgg16"})
    assert at.selectbox(key="size.preset").value == "vgg16"
    assert "512 × 7 × 7" in list(at.table[0].value["Output shape (C × H × W)"])


def test_the_keras_table_shows_weight_sharing_and_receptive_fields(default_page):
    table = default_page.table[0].value
    first = table.iloc[1]
    assert first["Layer"] == "Conv 5×5, 4 filters"
    assert (first["Parameters"], first["A dense layer would need"]) == ("104", "1,808,640")
    assert list(table["Receptive field"])[:6] == ["1 × 1", "5 × 5", "7 × 7", "8 × 8", "12 × 12", "14 × 14"]


def test_chinese():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["lang"] = "zh"
    at.switch_page(PAGE)
    at.run()
    assert not at.exception
    assert at.title[0].value == "输出尺寸:为什么 28 会变成 24"
    assert [slider["label"] for slider in scrub.frame_set(at, VIEW)["sliders"]][3] == "步长 s"
    assert "层" in at.table[0].value.columns
    assert "卷积 5×5,4 个滤波器" in list(at.table[0].value["层"])
    assert "已在 PyTorch 中实际运行" in texts(notes(at, "success"))
    row_labels = [g.find("{*}text").text for g in groups(page_svgs(at)[0], "row-label")]
    assert row_labels == ["输入", "窗口", "输出"]
    assert "向下取整" in scrub.placed(at, VIEW, "frameworks")
    assert 'title="复制"' in scrub.placed(at, VIEW, "code")
    assert [expander.label for expander in at.expander][:1] == ["对应当前设置的 PyTorch 代码"]
    scrub.move(at, "size.input", 3)
    assert "一个窗口也放不下" in texts(notes(at, "warning"))


# --- PyTorch code, quiz, shareable links -------------------------------------------------------


def test_the_shown_conv2d_code_prints_the_pages_output_size():
    at = open_page(PAGE, **{"size.input": "17", "size.kernel": "3", "size.padding": "2", "size.stride": "3",
                            "size.dilation": "2"})  # fmt: skip
    side = int(output_metric(at).split(" × ")[0])
    assert side == nn.Conv2d(1, 1, 3, stride=3, padding=2, dilation=2)(torch.zeros(1, 1, 17, 17)).shape[-1] == 6
    assert printed_shape(scrub.code_text(scrub.placed(at, VIEW, "code"))) == (1, 1, side, side)
    (panel,) = [expander for expander in at.expander if expander.label == "PyTorch code for these settings"][:1]
    assert [element.proto.id.endswith(f"-{VIEW}.place.code") for element in panel.get("bidi_component")] == [True]
    assert len(at.code) == 1  # st.code is left to the stack tracer's code


@pytest.mark.parametrize("preset", ["keras_mnist", "alexnet"])
def test_the_shown_stack_code_prints_every_row_of_the_table(preset):
    at = open_page(PAGE, **{"size.preset": preset})
    table_shapes = [tuple(int(n) for n in cell.split(" × ")) for cell in at.table[0].value["Output shape (C × H × W)"]]
    assert printed_layer_shapes(at.code[-1].value) == [(1, *shape) for shape in table_shapes[1:]]  # input row aside


def quiz_page(number: int) -> tuple[AppTest, quiz.OutputSizeQuestion]:
    at = open_page(PAGE, **{"size.quiz": "true", "size.question": str(number)})
    question = quiz.output_size_question(random.Random(number))
    asked = texts(at.markdown)
    assert f"**{question.size} × {question.size}**" in asked
    assert f"**k = {question.kernel_size}**, stride **s = {question.stride}**" in asked
    assert f"padding **p = {question.padding}** and dilation **d = {question.dilation}**" in asked
    return at, question


def torch_side(question: quiz.OutputSizeQuestion) -> int:
    conv = nn.Conv2d(1, 1, question.kernel_size, question.stride, question.padding, question.dilation)
    return conv(torch.zeros(1, 1, question.size, question.size)).shape[-1]


def test_quiz_a_right_answer_scores_and_reveals_the_formula():
    at, question = quiz_page(7)
    answer = torch_side(question)
    assert at.button(key="size.quiz.reveal").disabled  # nothing typed yet: nothing to reveal
    at.number_input(key="size.quiz.guess").set_value(answer).run()
    at.button(key="size.quiz.reveal").click().run()
    assert not at.exception
    assert f"Right: the output is {answer} × {answer}" in texts(notes(at, "success"))
    assert "1 / 1" in [metric.value for metric in at.metric]
    assert formulas(at)[0].endswith(rf"\mathbf{{{answer}}}\end{{aligned}}")  # the quiz's formula comes first


def test_quiz_a_wrong_answer_is_corrected_and_a_new_question_follows():
    at, question = quiz_page(7)
    answer = torch_side(question)
    at.number_input(key="size.quiz.guess").set_value(answer + 1).run()
    at.button(key="size.quiz.reveal").click().run()
    assert f"you said {answer + 1}, the output is {answer} × {answer}" in texts(at.error)
    assert "0 / 1" in [metric.value for metric in at.metric]
    assert at.button(key="size.quiz.reveal").disabled  # one answer per question
    at.button(key="size.quiz.new").click().run()
    assert at.number_input(key="size.question").value == 8
    assert at.number_input(key="size.quiz.guess").value is None and not at.error
    assert at.query_params["size.question"] == "8"
    following = quiz.output_size_question(random.Random(8))
    at.number_input(key="size.quiz.guess").set_value(torch_side(following)).run()
    at.button(key="size.quiz.reveal").click().run()
    assert "1 / 2" in [metric.value for metric in at.metric]


@pytest.mark.parametrize(
    "lang, title", [("en", "Output size: why 28 becomes 24"), ("zh", "输出尺寸:为什么 28 会变成 24")]
)
def test_a_shared_link_opens_the_same_view_in_either_language(lang, title):
    link = {"size.input": "20", "size.kernel": "3", "size.padding": "1", "size.stride": "2", "size.dilation": "2",
            "size.output_padding": "1", "size.preset": "lenet5", "size.quiz": "true", "size.question": "12"}  # fmt: skip
    at = open_page(PAGE, lang=lang, **link)
    assert not at.exception
    assert at.title[0].value == title
    sliders = ("size.input", "size.kernel", "size.padding", "size.stride", "size.dilation", "size.output_padding")
    assert [slider_value(at, key) for key in sliders] == [int(link[key]) for key in sliders]
    assert output_metric(at) == "9 × 9"  # (20 + 2 - 2*2 - 1) / 2 = 8.5, rounded down, plus 1
    assert at.selectbox(key="size.preset").value == "lenet5"
    assert at.toggle(key="size.quiz").value and at.number_input(key="size.question").value == 12
    assert {key: at.query_params[key] for key in link} == link  # the URL still holds the whole view


NOTICING_FRAME = """
import runpy
import streamlit as st
from pages import ui

link = st.query_params.to_dict()  # as app.py does on a session's first run
runpy.run_path({page!r})
ui.notice_ignored_link_settings(link)
"""


def test_invalid_link_values_fall_back_to_defaults_with_a_notice():
    at = AppTest.from_string(NOTICING_FRAME.format(page=str(ROOT / PAGE)), default_timeout=120)
    for key, value in {"size.input": "999", "size.stride": "two", "size.preset": "resnet", "size.kernel": "3"}.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception
    assert at.session_state["size.input"] == 28 and at.session_state["size.stride"] == 1
    assert at.session_state["size.kernel"] == 3  # the valid value is kept
    assert at.selectbox(key="size.preset").value == "keras_mnist"
    notice = at.toast[0].value
    assert all(part in notice for part in ("size.input=999", "size.stride=two", "size.preset=resnet"))
    assert "size.kernel" not in notice


# --- Transposed convolution's windows (issue 14) ----------------------------------------------


def test_transposed_convolution_draws_where_its_windows_land_as_torch_adds_them():
    at = open_page(PAGE, **{"size.stride": "2", "size.output_padding": "1"})  # m = 12 back to 28
    assert not at.exception and not at.error
    assert not [svg for element in at.markdown for svg in _svgs(element.value)]  # drawn in the place only
    (row,) = [svg for svg in _svgs(transposed(at)) if groups(svg, "out-cell")]
    assert [g.find("{*}text").text for g in groups(row, "input")] == [str(n) for n in range(1, 13)]
    kept = [int(g.find("{*}text").text) for g in groups(row, "out-cell") if not groups_of_kind(g, "cropped")]
    summed = torch.nn.functional.conv_transpose1d(torch.ones(1, 1, 12), torch.ones(1, 1, 5), stride=2,
                                                  output_padding=1)[0, 0]  # fmt: skip
    assert kept == summed.round().int().tolist() and len(kept) == 28
    assert "5-wide window" in transposed(at)


def groups_of_kind(group, kind: str) -> bool:
    return kind in group.get("class", "").split()


# --- Typing your own stack (issue 14) ---------------------------------------------------------


def test_a_typed_stack_is_traced_and_checked_by_torch():
    at = open_page(PAGE)
    assert at.text_area(key="size.stack_text").value.startswith("input 1 28 28\nconv 4 k5\nconv 8 k3")
    at.text_area(key="size.stack_text").set_value("input 3 32 32\nconv 8 k3 p1\nrelu\npool max 2\nflatten\ndense 10")
    at.run()
    assert not at.exception and not at.error
    shapes = list(at.table[0].value["Output shape (C × H × W)"])
    assert shapes == ["3 × 32 × 32", "8 × 32 × 32", "8 × 16 × 16", "2048", "10"]
    assert "all 4 layers match" in texts(notes(at, "success"))
    assert printed_layer_shapes(at.code[-1].value) == [(1, 8, 32, 32), (1, 8, 16, 16), (1, 2048), (1, 10)]
    at.selectbox(key="size.preset").set_value("lenet5").run()  # a preset replaces the typed text
    assert at.text_area(key="size.stack_text").value.startswith("input 1 32 32\nconv 6 k5\npool avg 2")


@pytest.mark.parametrize(
    "lang, text, said",
    [
        ("en", "input 1 8 8\n# comment\nconv 4 k3\nconv 4 k9", "Line 4 (conv 4 k9): No window fits"),
        ("zh", "input 1 8 8\n# comment\nconv 4 k3\nconv 4 k9", "第 4 行(conv 4 k9):一个窗口也放不下"),
        ("en", "input 1 8 8\nconv 4 k3 z2", "Line 2 (conv 4 k3 z2) is not a layer"),
        ("zh", "input 1 8 8\nconv 4 k3 z2", "第 2 行(conv 4 k3 z2)不是追踪器认识的层"),
        ("zh", "conv 4 k3", "第 1 行(conv 4 k3):第一行必须是"),
    ],
)
def test_a_stack_that_cannot_be_traced_says_why_in_the_users_language_naming_the_line(lang, text, said):
    at = open_page(PAGE, lang=lang)
    at.text_area(key="size.stack_text").set_value(text).run()
    assert not at.exception and not at.error
    (warning,) = [note for note in notes(at, "warning") if "conv 4" in note]
    assert said in warning
    if lang == "zh":
        assert not re.search(r"\b(Line|layer|window|must|the)\b", warning)  # no English sentence around the syntax
