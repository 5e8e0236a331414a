"""The Pooling page, driven through AppTest: it renders, and every setting changes what is shown."""

import html
import json
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnviz.drawing import grids
from cnnviz.drawing.pooling_view import backward_marked_cells, marked_cells
from tests import scrub
from tests.app.conftest import change, open_page
from tests.charts import page_charts, within_pixels
from tests.conftest import ROOT
from tests.grids import page_grids, read_grids
from tests.views import captions
from tests.views import notes as page_notes

PAGE = "pages/pooling.py"
VIEW = "pool.scrub"  # the scrubbing view: grid size, window, stride, padding and cell sliders; the grids
MAX_SHIFT = 6  # the page shifts the map by 1..6 pixels


def view_grids(at) -> list:
    return read_grids(scrub.shown(at, VIEW))


def backward_grids(at) -> list:
    """The backward pass's grids: parts of the view's frames, drawn in its place "backward"."""
    return read_grids(scrub.placed(at, VIEW, "backward"))


def titled_grids(at) -> dict[str, list[list[str]]]:
    """The numbers written in each grid (the view's, the backward pass's, then the page's), by the grid's title."""
    return {shown.title: shown.texts for shown in view_grids(at) + backward_grids(at) + page_grids(at) if shown.title}


def code(at) -> str:
    """The code panel's code: part of the view's frames, drawn in its place "code"."""
    return scrub.code_text(scrub.placed(at, VIEW, "code"))


def notes(at, kind: str) -> list[str]:
    """The view's notes of ``kind`` (tags dropped), then the page's."""
    return [re.sub(r"<[^>]+>", "", note) for note in scrub.notes(at, VIEW, kind)] + page_notes(at, kind)


def formulas(at) -> list[str]:
    return scrub.formulas(at, VIEW)


def grid(at, prefix: str) -> list[list[str]]:
    (match,) = [numbers for title, numbers in titled_grids(at).items() if title.startswith(prefix)]
    return match


def window_formula(at) -> str:
    return formulas(at)[0]


def size_formula(at) -> str:
    return formulas(at)[1]


def pictures(at) -> list[str]:
    """The captions (alt texts) of the pictures the page drew as ``<img>`` inside markdown, in page order."""
    return [html.unescape(alt) for node in at.markdown for alt in re.findall(r'<img [^>]*alt="([^"]*)"', node.value)]


def outlined(at, prefix: str, kind: str = "window") -> list[tuple[int, int]]:
    """(row, col) of the cells outlined on a grid: "window" (amber) or "winner" (black); on the
    view's input grid and the backward pass's grids, as their marks (a ``<style>``) outline them."""
    if prefix == "Input":
        return marked_cells(scrub.shown(at, VIEW))[kind]
    if prefix in ("Gradient passed", "Gradient at"):
        marks = backward_marked_cells(scrub.placed(at, VIEW, "backward"))
        return marks["upstream"] if prefix == "Gradient at" else marks["routed" if kind == "window" else kind]
    for shown in page_grids(at):
        if shown.title.startswith(prefix):
            return shown.cells_with(kind)
    raise AssertionError(f"no grid titled {prefix!r}")


@pytest.fixture(scope="module")
def default_page():
    return open_page(PAGE)


def test_renders_with_every_panel(default_page):
    at = default_page
    assert not at.exception
    assert not at.error  # no panel hit its error boundary
    assert not at.warning
    assert at.title[0].value == "Pooling"
    assert {title for title in titled_grids(at) if not title.startswith("Quiz input")} == {
        "Input 6 × 6",  # padding 0: nothing said about padding
        "Output 3 × 3",
        "Gradient passed back to the input",
        "Gradient at the output",
    }
    assert re.fullmatch(r"\\max\(\d, \d, \d, \d\) = \d", window_formula(at).strip("$\n"))
    assert r"\lfloor 2 \rfloor + 1 = 3" in size_formula(at)
    assert len(pictures(at)) == 2  # before and after pooling
    assert len(page_grids(at)) == 1 and len(view_grids(at)) == 2  # the quiz grid; the view's two
    assert len(backward_grids(at)) == 2  # routed and upstream: in the view's place "backward"
    assert not at.get("plotly_chart") and len(page_charts(at)) == 1  # the shift chart


def shift_lines(at) -> dict[str, list[float]]:
    """The shift chart's percentages by line name (read from its dots), checked to sit on its lines."""
    (chart,) = page_charts(at)
    lines = {}
    for colour in ("#6b7280", grids.HIGHLIGHT):  # before, after pooling
        (line,) = chart.lines(colour)
        dots = chart.dots(colour)
        within_pixels([d.y for d in dots], line[:, 1], chart.y_px, 0.01)
        names, percents = zip(*(d.hover.rsplit(": ", 1) for d in dots), strict=True)
        lines[names[0]] = [float(p.rstrip("%")) for p in percents]
        within_pixels([d.y for d in dots], lines[names[0]], chart.y_px)  # each dot at its tooltip's percent
    return lines


@pytest.mark.parametrize("measure", ["change", "changed"])
def test_shift_chart_has_a_point_per_shift_and_matches_the_summary(measure):
    at = open_page(PAGE, **{"pool.shift.measure": measure})
    lines = shift_lines(at)
    assert list(lines) == ["Before pooling", "After pooling"]
    assert [len(v) for v in lines.values()] == [MAX_SHIFT, MAX_SHIFT]  # shifts 1..6
    summary = next(caption for caption in captions(at) if caption.startswith("For a 1-pixel shift"))
    before, after = (float(v) for v in re.findall(r"(\d+)%", summary))
    # The summary rounds to whole percents, the tooltips to tenths.
    assert (before, after) == pytest.approx((lines["Before pooling"][0], lines["After pooling"][0]), abs=0.55)
    (chart,) = page_charts(at)
    label = "Mean |change| ÷ mean |value| (%)" if measure == "change" else "Values that changed by more than 1% (%)"
    assert {label, "Shift (pixels)", "Before pooling", "After pooling"} <= set(chart.texts)


def test_output_is_the_max_of_each_window(default_page):
    at = default_page
    numbers = [[int(v) for v in row] for row in grid(at, "Input")]
    output = [[int(v) for v in row] for row in grid(at, "Output")]
    assert output == [
        [max(numbers[r + i][c + j] for i in (0, 1) for j in (0, 1)) for c in (0, 2, 4)] for r in (0, 2, 4)
    ]


def test_pooling_type_changes_the_numbers():
    at = open_page(PAGE)
    before = grid(at, "Output")
    change(at, "segmented_control", "pool.kind", "avg")
    assert grid(at, "Output") != before
    assert window_formula(at).strip("$\n").startswith(r"\frac{")
    assert "split evenly" in scrub.placed(at, VIEW, "backward")  # the backward rule follows the type
    change(at, "segmented_control", "pool.kind", "lp")
    assert r"^{1/2}" in window_formula(at)
    lp2 = grid(at, "Output")
    change(at, "slider", "pool.p", 4.0)
    assert grid(at, "Output") != lp2 and r"^{1/4}" in window_formula(at)
    change(at, "segmented_control", "pool.kind", "global_avg")
    assert "Output 1 × 1" in titled_grids(at)


def test_kernel_and_stride_change_the_output_shape():
    at = open_page(PAGE)
    scrub.move(at, "pool.kernel", 3)  # (6 - 3) / 2 rounded down, + 1
    assert "Output 2 × 2" in titled_grids(at)
    assert len(re.findall(r"\d+", window_formula(at).split("=")[0])) == 9
    scrub.move(at, "pool.stride", 1)  # (6 - 3) / 1 + 1
    assert "Output 4 × 4" in titled_grids(at)


def test_padding_shows_minus_infinity_for_max_and_zero_for_average():
    at = open_page(PAGE)
    scrub.move(at, "pool.padding", 1)
    padded = grid(at, "Input")
    assert len(padded) == 8 and padded[0] == ["−∞"] * 8
    assert "Input 6 × 6, with padding" in titled_grids(at)
    assert "Output 4 × 4" in titled_grids(at)
    assert window_formula(at).strip("$\n").startswith(r"\max(-\infty, ")
    change(at, "segmented_control", "pool.kind", "avg")
    assert grid(at, "Input")[0] == ["0"] * 8
    corner = float(grid(at, "Input")[1][1])  # the only input cell in the top-left window
    counted = grid(at, "Output")
    assert float(counted[0][0]) == pytest.approx(corner / 4)  # three padding zeros count
    change(at, "toggle", "pool.count_include_pad", False)
    not_counted = grid(at, "Output")
    assert float(not_counted[0][0]) == pytest.approx(corner)
    assert not_counted[1][1] == counted[1][1]  # a window with no padding divides by 4 either way


def test_the_lp_label_promises_no_p_the_slider_does_not_hold():
    """The label once said "(L2 at p = 2)" whatever p was: it names the power p, the slider gives it."""
    at = open_page(PAGE, **{"pool.kind": "lp", "pool.p": "3.0"})
    assert not at.exception and not at.error
    label = at.segmented_control(key="pool.kind").format_func("lp")
    assert "p = 2" not in label and "L2" not in label and "p" in label
    assert at.slider(key="pool.p").value == 3.0


def test_ceil_mode_adds_a_partial_window():
    at = open_page(PAGE)
    scrub.move(at, "pool.grid.size", 5)
    assert "Output 2 × 2" in titled_grids(at)
    assert any("in no window" in info for info in notes(at, "info"))
    change(at, "toggle", "pool.ceil_mode", True)
    assert "Output 3 × 3" in titled_grids(at)
    assert any("partial window" in info for info in notes(at, "info"))
    assert grid(at, "Input")[5] == [""] * 6  # the row past the edge is empty
    assert r"\lceil 1.5 \rceil + 1 = 3" in size_formula(at)


def test_selected_cell_moves_the_window_and_the_gradient():
    at = open_page(PAGE)
    first = window_formula(at)
    first_outline = outlined(at, "Input")
    scrub.move(at, "pool.cell", 9)
    assert window_formula(at) != first
    assert outlined(at, "Input") != first_outline
    assert min(outlined(at, "Input")) == (4, 4)  # window starts at row 4, col 4
    assert outlined(at, "Gradient passed") == outlined(at, "Input")  # the same window, on the gradient
    assert outlined(at, "Gradient passed", "winner") == outlined(at, "Input", "winner")
    assert outlined(at, "Gradient at") == [(2, 2)]  # the 9th output cell
    change(at, "segmented_control", "pool.upstream", "cell")
    gradient = [[float(v) for v in row] for row in grid(at, "Gradient passed back")]
    assert sum(map(sum, gradient)) == 1
    assert all(v == 0 for row in gradient[:4] for v in row)  # only the last window's winner receives it
    ((row, col),) = outlined(at, "Input", "winner")
    assert gradient[row][col] == 1


def test_impossible_setting_warns_and_says_what_would_work():
    at = open_page(PAGE)
    scrub.move(at, "pool.padding", 2)
    (why,) = notes(at, "warning")[:1]
    assert "at most half the window" in why and "padding 1" in why
    assert "at most half the window" in at.warning[0].value  # the image panel says it for the image
    assert not at.error and not at.code
    assert "no layer to run" in scrub.placed(at, VIEW, "code")
    assert "no gradient comes back" in scrub.placed(at, VIEW, "backward")
    scrub.move(at, "pool.kernel", 5)
    scrub.move(at, "pool.grid.size", 3)
    scrub.move(at, "pool.padding", 0)
    assert "not even one window fits" in notes(at, "warning")[0]


def test_image_crop_and_image_controls():
    at = open_page(PAGE)
    random_numbers = grid(at, "Input")
    change(at, "segmented_control", "pool.grid.source", "image")
    crop = grid(at, "Input")
    assert crop != random_numbers and max(int(v) for row in crop for v in row) > 9
    assert any("Before pooling: 43 × 64" in caption for caption in pictures(at))
    change(at, "select_slider", "pool.image.side", 32)
    assert any("After pooling: 10 × 16" in caption for caption in pictures(at))


def shown_texts(at) -> list[str]:
    texts = [
        e.value for kind in ("markdown", "caption", "info", "warning", "subheader", "title") for e in getattr(at, kind)
    ]
    widgets = ("slider", "toggle", "segmented_control", "select_slider", "number_input")
    texts += [w.label for kind in widgets for w in getattr(at, kind)]
    texts += [option for control in at.segmented_control for option in control.options]
    texts += [re.sub(r"<[^>]+>", " ", part) for part in scrub.frame_set(at, VIEW)["parts"]]
    texts += [slider["label"] for slider in scrub.frame_set(at, VIEW)["sliders"]]
    return texts + list(titled_grids(at))


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("kind", ["max", "avg", "lp", "global_avg"])
def test_every_text_is_translated(lang, kind):
    # A missing catalogue key would show as the key itself ("pool....").
    at = open_page(PAGE)
    at.session_state["lang"] = lang
    change(at, "segmented_control", "pool.kind", kind)
    scrub.move(at, "pool.grid.size", 5)  # unused cells: one more note
    if kind != "global_avg":  # the window settings are disabled for global pooling
        change(at, "toggle", "pool.ceil_mode", True)  # a partial window: one more note
    assert [text for text in shown_texts(at) if "pool." in text or "lesson." in text] == []


def test_both_catalogues_hold_the_same_keys_and_placeholders():
    english, chinese = (
        json.loads((ROOT / "cnnviz" / "locales" / lang / "pooling.json").read_text(encoding="utf-8"))
        for lang in ("en", "zh")
    )
    assert english.keys() == chinese.keys()
    for key, text in english.items():
        assert set(re.findall(r"\{(\w+)\}", text)) == set(re.findall(r"\{(\w+)\}", chinese[key])), key
        assert chinese[key] != text or not re.search("[a-z]{3}", text), f"{key} is not translated"


def test_chinese():
    at = open_page(PAGE)
    at.session_state["lang"] = "zh"
    at.run()
    assert not at.exception
    assert at.title[0].value == "池化"
    assert "输出 3 × 3" in titled_grids(at)
    assert re.search(r"[\u4e00-\u9fff]{4}", at.markdown[0].value)
    scrub.move(at, "pool.padding", 2)
    assert "最多为窗口大小的一半" in notes(at, "warning")[0]


# --- Predict, then reveal ---------------------------------------------------------------------

QUESTION = re.compile(r"\*\*(Max|Average)\*\* pooling, window (\d) × \d, stride (\d), .*\(row (\d+), column (\d+)\)")


def quiz_answer(at) -> tuple[float, int]:
    """The asked value worked out with torch from the question and grid the page shows; and the window's side."""
    (kind, k, s, row, col), *_ = [QUESTION.search(m.value).groups() for m in at.markdown if QUESTION.search(m.value)]
    numbers = torch.tensor([[float(v) for v in r] for r in grid(at, "Quiz input")], dtype=torch.float64)
    pool = F.max_pool2d if kind == "Max" else F.avg_pool2d
    return float(pool(numbers[None, None], int(k), int(s))[0, 0, int(row) - 1, int(col) - 1]), int(k)


def score(at) -> str:
    return {metric.label: metric.value for metric in at.metric}["Score (right / asked)"]


def window_outlined(at) -> int:
    return len(outlined(at, "Quiz input"))


def answer(at, guess: float):
    """Type the guess and press Check: one submission of the quiz form."""
    at.number_input(key="pool.quiz.guess").set_value(guess)
    at.button(key="pool.quiz.check").click().run()
    assert not at.exception
    return at


def test_quiz_scores_a_right_and_a_wrong_answer_and_reveals_the_window():
    at = open_page(PAGE)
    assert score(at) == "0 / 0" and window_outlined(at) == 0  # nothing given away before the guess
    at.button(key="pool.quiz.check").click().run()
    assert score(at) == "0 / 0" and window_outlined(at) == 0  # nothing typed: nothing scored
    value, k = quiz_answer(at)
    answer(at, round(value, 2))
    assert score(at) == "1 / 1"
    assert at.success and f"the answer is {value:g}" in at.success[0].value
    assert window_outlined(at) == k * k
    assert at.button(key="pool.quiz.check").disabled  # one guess per question

    at.button(key="pool.quiz.next").click().run()
    assert window_outlined(at) == 0 and at.number_input(key="pool.quiz.guess").value is None
    value, _ = quiz_answer(at)
    answer(at, value + 1)
    assert score(at) == "1 / 2"
    assert not at.success and any(f"the answer is {value:g}" in info.value for info in at.info)
    assert not at.error


def test_the_same_question_set_gives_the_same_questions():
    first, again = open_page(PAGE, **{"pool.quiz.seed": "5"}), open_page(PAGE, **{"pool.quiz.seed": "5"})
    assert grid(first, "Quiz input") == grid(again, "Quiz input")
    assert grid(first, "Quiz input") != grid(open_page(PAGE), "Quiz input")


# --- Code panel, links ------------------------------------------------------------------------


def run_snippet(code: str) -> np.ndarray:
    """Run the page's snippet; return what its layer makes of its input, (H', W')."""
    namespace: dict = {}
    exec(compile(code, "<snippet>", "exec"), namespace)  # the page's own snippet
    return namespace["layer"](namespace["x"])[0, 0].numpy()


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"pool.kind": "avg", "pool.padding": "1", "pool.count_include_pad": "false"},
        {"pool.kernel": "3", "pool.stride": "2", "pool.ceil_mode": "true", "pool.grid.size": "8"},
        {"pool.kind": "lp", "pool.p": "3.0", "pool.grid.source": "image"},
        {"pool.kind": "global_avg"},
    ],
)
def test_the_code_shown_reproduces_the_output_grid(settings):
    at = open_page(PAGE, **settings)
    assert not at.warning
    assert not at.code  # the code is part of the view's frames, in its place: it follows the sliders
    pooled = run_snippet(code(at))
    shown = np.array([[float(v) for v in row] for row in grid(at, "Output")])
    assert pooled.shape == shown.shape
    np.testing.assert_allclose(pooled, shown, atol=0.005)  # the grid shows two decimals
    printed_shape = re.search(r"# torch\.Size\(\[1, 1, (\d+), (\d+)\]\)\s*$", code(at)).groups()
    assert tuple(map(int, printed_shape)) == shown.shape


def test_lp_with_padding_says_pytorch_has_none():
    at = open_page(PAGE, **{"pool.kind": "lp", "pool.padding": "1"})
    assert not at.code and "no padding option" in scrub.placed(at, VIEW, "code")
    assert "cnnviz-code" not in scrub.placed(at, VIEW, "code")  # no code block: PyTorch has no such layer


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_link_opens_the_same_view_in_either_language(lang):
    link = {"pool.kind": "avg", "pool.grid.source": "image", "pool.upstream": "cell", "pool.image.source": "gray",
            "pool.shift.measure": "changed", "pool.kernel": "3", "pool.stride": "1"}  # fmt: skip
    at = open_page(PAGE, lang=lang, **link)
    assert not at.exception and not at.error and not at.warning
    controls = {key: at.segmented_control(key=key).value for key in link if not key.endswith(("kernel", "stride"))}
    assert controls == {key: value for key, value in link.items() if key in controls}
    output = [[float(v) for v in row] for row in grid(at, "输出 " if lang == "zh" else "Output")]
    crop = np.array([[float(v) for v in row] for row in grid(at, "输入" if lang == "zh" else "Input")])
    expected = F.avg_pool2d(torch.from_numpy(crop)[None, None], 3, 1)[0, 0].numpy()
    assert len(output) == 4 and np.allclose(output, expected, atol=0.005)  # a 6 x 6 image crop, averaged 3 x 3
    routed = np.array(
        [[float(v) for v in row] for row in grid(at, "传回输入的梯度" if lang == "zh" else "Gradient passed")]
    )
    assert sorted(set(routed.ravel())) == [0, 0.111] and np.count_nonzero(routed) == 9  # one cell's 1, split in 9
