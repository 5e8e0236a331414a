"""The step-by-step lesson in AppTest: the window, its arithmetic and the output move together."""

import contextlib
import html
import io
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnviz import convolution, kernels
from cnnviz.images import load_sample
from tests import scrub
from tests.app.conftest import open_page
from tests.grids import Grid, page_grids, read_grids
from tests.views import notes as page_notes

PAGE = "pages/conv_steps.py"
VIEW = "steps.scrub"  # the scrubbing view: geometry and output cell sliders, the sum, the grids


def step_line(at) -> str:
    """'**Output cell 8 of 36 (row 2, column 2)**: 6×(−1) + … = **−10**' (the view's bold as Markdown's)."""
    sum_part = re.search(r'<p class="steps-sum">(.*?)</p>', scrub.shown(at, VIEW))[1]
    return html.unescape(re.sub(r"</?strong>", "**", sum_part))


def notes(at, kind: str) -> list[str]:
    """The view's notes of ``kind`` (tags dropped), then the page's."""
    return [re.sub(r"<[^>]+>", "", note) for note in scrub.notes(at, VIEW, kind)] + page_notes(at, kind)


def marks(at) -> dict[str, list[tuple[int, int]] | tuple[int, int]]:
    """What the view's marks (a ``<style>``) outline and blank, read back from its selectors (0-based):
    the input's taps, the output's current cell, and the blanked runs (all rows from here?, row, first column)."""
    style = re.search(r"<style>(.*?)</style>", scrub.shown(at, VIEW))[1]
    outlined, blanked = re.findall(r"([^{}]*)\{([^}]*)\}", style)[0][0], re.findall(r"([^{}]*)\{", style)[1]
    cell = r"\.steps-{}\s+tbody>tr:nth-child\((n\+)?(\d+)\)>td(?::nth-child\((n\+)?(\d+)\))?"
    taps = [(int(r) - 1, int(c) - 1) for _, r, _, c in re.findall(cell.format("input"), outlined)]
    ((_, r, _, c),) = re.findall(cell.format("output"), outlined)
    runs = [(bool(rows), int(r) - 1, int(c or 1) - 1) for rows, r, _, c in re.findall(cell.format("output"), blanked)]
    return {"taps": sorted(taps), "current": (int(r) - 1, int(c) - 1), "blanked": runs}


def shown_sum(at) -> tuple[list[tuple[float, float]], float]:
    """The products and the result written in the step line, parsed back into numbers."""
    arithmetic = step_line(at).split("**: ", 1)[1].replace("−", "-")
    terms, result = arithmetic.split(" = ")
    pairs = [tuple(float(factor.strip("()")) for factor in term.split("×")) for term in terms.split(" + ")]
    return pairs, float(result.strip("*"))


def im2col(at) -> str:
    """The im2col panel: part of the view's frames, drawn in the place "im2col" (its grids, then its marks)."""
    return scrub.placed(at, VIEW, "im2col")


def figure(at, title_start: str) -> Grid:
    for grid in read_grids(scrub.shown(at, VIEW)) + read_grids(im2col(at)) + page_grids(at):
        if grid.title.startswith(title_start):
            return grid
    raise AssertionError(f"no grid titled {title_start!r}")


def values(grid: Grid) -> np.ndarray:
    """The numbers behind the cells (their hover text holds 6 significant digits; blank = not computed)."""
    return np.array([[float(cell.hover.split(": ")[1] or "nan") for cell in row] for row in grid.rows])


def taps(at) -> list[tuple[int, int]]:
    """(row, col) of the amber cells on the input grid: where the kernel reads."""
    return marks(at)["taps"]


def output_so_far(at, title_start: str = "Output ") -> np.ndarray:
    """The output grid's numbers as the marks leave them: blanked cells (not computed yet) as NaN."""
    shown = values(figure(at, title_start))
    for many_rows, row, col in marks(at)["blanked"]:  # nth-child(n+R): row R and below; else row R only
        shown[row : None if many_rows else row + 1, col:] = np.nan
    return shown


@pytest.fixture(scope="module")
def default():
    return open_page(PAGE)


def test_renders_the_first_step_from_the_sample(default):
    assert not default.exception
    assert default.title[0].value == "Convolution step by step"
    # 6 x 6 grid, padding 1, 3 x 3 kernel: 6 x 6 output, 36 steps.
    assert step_line(default).startswith("**Output cell 1 of 36 (row 1, column 1)**")
    grid = convolution.digit_grid(load_sample("cat.jpg").gray, 6)
    padded = values(figure(default, "Input (grey = padding)"))
    assert np.array_equal(padded, convolution.pad_grid(grid, 1))
    # The arithmetic written out is the window times the kernel, and adds up.
    pairs, result = shown_sum(default)
    assert [x for x, _ in pairs] == list(padded[0:3, 0:3].ravel())
    assert [w for _, w in pairs] == list(kernels.preset("sobel x").ravel())
    assert sum(x * w for x, w in pairs) == result
    assert taps(default) == [(r, c) for r in range(3) for c in range(3)]


def test_the_output_fills_in_up_to_the_current_cell():
    at = open_page(PAGE)
    scrub.move(at, "steps.position", 8)
    assert step_line(at).startswith("**Output cell 8 of 36 (row 2, column 2)**")
    output = output_so_far(at, "Output 6 × 6")
    assert marks(at)["current"] == (1, 1)
    assert np.isfinite(output.ravel()[:8]).all() and np.isnan(output.ravel()[8:]).all()
    _, result = shown_sum(at)
    assert output[1, 1] == result
    assert taps(at) == [(r, c) for r in range(1, 4) for c in range(1, 4)]
    # im2col: the same number is the kernel row times column 8.
    output_row = values(figure(at, "Output row 1 × 36"))
    assert output_row[0, 7] == result
    assert np.allclose(output_row.reshape(6, 6).ravel()[:8], output.ravel()[:8])
    # ... column 8 outlined in amber, and said.
    outlined = re.findall(r"\.steps-(columns|outrow) tbody>tr>td:nth-child\((\d+)\)", im2col(at))
    assert outlined == [("columns", "8"), ("outrow", "8")]
    assert "Output cell 8 = the kernel row times column 8 (amber)" in im2col(at)
    assert not page_grids(at)  # drawn once, in the place


def test_next_and_previous_buttons_step_and_wrap():
    at = open_page(PAGE)
    at.button(key="steps.next").click().run()
    assert step_line(at).startswith("**Output cell 2 of 36 (row 1, column 2)**")
    at.button(key="steps.previous").click().run()
    at.button(key="steps.previous").click().run()
    assert step_line(at).startswith("**Output cell 36 of 36 (row 6, column 6)**")
    assert "Output cell 36 = the kernel row times column 36" in im2col(at)


def test_play_advances_one_cell_per_run():
    at = open_page(PAGE)
    at.toggle(key="steps.play").set_value(True).run()
    assert not at.exception
    assert step_line(at).startswith("**Output cell 2 of 36 ")
    at.run()  # what the timer does every second
    assert step_line(at).startswith("**Output cell 3 of 36 ")
    at.toggle(key="steps.play").set_value(False).run()
    assert step_line(at).startswith("**Output cell 3 of 36 ")


def test_grid_size_changes_the_number_of_steps():
    at = open_page(PAGE)
    scrub.move(at, "steps.size", 4)
    assert step_line(at).startswith("**Output cell 1 of 16 ")
    assert values(figure(at, "Input")).shape == (6, 6)


def test_stride_makes_the_window_jump():
    at = open_page(PAGE, **{"steps.stride": "2"})
    scrub.move(at, "steps.position", 2)
    # (6 + 2 - 3) // 2 + 1 = 3 windows per row; the second starts 2 cells to the right.
    assert step_line(at).startswith("**Output cell 2 of 9 (row 1, column 2)**")
    assert taps(at) == [(r, c) for r in range(3) for c in range(2, 5)]


def test_dilation_spreads_the_taps():
    at = open_page(PAGE, **{"steps.dilation": "2"})
    scrub.move(at, "steps.position", 2)
    # Span 5 on 8 padded cells: 4 x 4 output; taps 2 apart, highlighted one by one.
    assert step_line(at).startswith("**Output cell 2 of 16 (row 1, column 2)**")
    assert taps(at) == [(r, c) for r in (0, 2, 4) for c in (1, 3, 5)]


def test_position_is_kept_within_a_smaller_output():
    at = open_page(PAGE, **{"steps.position": "30"})
    assert step_line(at).startswith("**Output cell 30 of 36 ")
    scrub.move(at, "steps.stride", 3)
    assert not at.exception
    assert step_line(at).startswith("**Output cell 4 of 4 ")


def test_random_numbers_follow_the_seed():
    first = open_page(PAGE, **{"steps.source": "random", "steps.seed": "1"})
    grid = values(figure(first, "Input"))[1:-1, 1:-1]
    assert np.array_equal(grid, convolution.random_grid(6, 1))
    first.number_input(key="steps.seed").set_value(2).run()
    assert np.array_equal(values(figure(first, "Input"))[1:-1, 1:-1], convolution.random_grid(6, 2))


def test_padding_mode_and_flip_change_the_numbers():
    at = open_page(PAGE, **{"steps.padding_mode": "replicate", "steps.flip": "true"})
    assert not at.exception
    padded = values(figure(at, "Input"))
    assert np.array_equal(padded[0, 1:-1], padded[1, 1:-1])  # the edge row repeated
    assert np.array_equal(values(figure(at, "Kernel, rotated 180°")), kernels.preset("sobel x")[::-1, ::-1])
    pairs, result = shown_sum(at)
    assert [w for _, w in pairs] == [1, 0, -1, 2, 0, -2, 1, 0, -1]
    assert sum(x * w for x, w in pairs) == result


def test_impossible_setting_warns_and_a_suggestion_fixes_it():
    at = open_page(PAGE, **{"steps.size": "4", "steps.padding": "0", "steps.dilation": "3"})
    assert not at.exception
    warning = notes(at, "warning")[0]
    assert "No output with these settings." in warning and "spans 7 pixels" in warning
    assert [b.label for b in at.button if b.key.startswith("steps.use_")] == ["Padding = 2", "Dilation = 1"]
    assert "there is no code to run" in scrub.placed(at, VIEW, "code")
    assert im2col(at) == ""  # no output, no matrix product
    at.button(key="steps.use_padding").click().run()
    assert not notes(at, "warning")
    assert step_line(at).startswith("**Output cell 1 of 4 ")


def test_bigger_kernel_writes_out_every_product():
    at = open_page(PAGE)
    at.selectbox(key="steps.kernel").set_value("gaussian blur").run()
    pairs, result = shown_sum(at)
    assert len(pairs) == 25
    assert re.search(r"of 16 ", step_line(at))  # 6 + 2 - 5 + 1 = 4 per side
    # Weights are written with 3 decimals: 25 rounded products may differ from the sum by < 25 * 9 * 0.0005.
    assert sum(x * w for x, w in pairs) == pytest.approx(result, abs=0.12)


def test_chinese():
    at = open_page()
    at.session_state["lang"] = "zh"
    at.switch_page(PAGE).run()
    assert not at.exception
    assert at.title[0].value == "逐步卷积"
    assert step_line(at).startswith("**第 1 个输出单元,共 36 个")
    assert "第 1 个输出单元 = 卷积核行向量乘以第 1 列" in im2col(at)
    assert 'title="复制"' in scrub.placed(at, VIEW, "code")
    assert [expander.label for expander in at.expander] == ["对应当前设置的 PyTorch 代码"]


@pytest.mark.parametrize(
    "link",
    [
        {},
        {"steps.size": "9", "steps.kernel": "motion blur", "steps.stride": "2", "steps.padding": "3",
         "steps.dilation": "2", "steps.padding_mode": "circular", "steps.flip": "true"},
        {"steps.source": "random", "steps.seed": "5", "steps.kernel": "gaussian blur", "steps.padding": "0"},
    ],
)  # fmt: skip
def test_the_shown_code_reproduces_the_output_numbers(link):
    at = open_page(PAGE, **link)
    code = scrub.code_text(scrub.placed(at, VIEW, "code"))  # part of the view's frames: it follows the sliders
    (panel,) = [expander for expander in at.expander if expander.label == "PyTorch code for these settings"]
    assert [element.proto.id.endswith(f"-{VIEW}.place.code") for element in panel.get("bidi_component")] == [True]
    assert not at.code  # drawn once, in the place
    assert ("padding_mode='circular'" in code) == ("steps.padding_mode" in link)
    assert ("kernel.flip(0, 1)" in code) == ("steps.flip" in link)
    namespace = {}
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        exec(compile(code, "<snippet>", "exec"), namespace)  # a fresh namespace, as a user pasting it
    out = namespace["out"].numpy()
    height, width = out.shape
    assert printed.getvalue().startswith(f"torch.Size([{height}, {width}])")
    assert re.search(rf"of {height * width} ", step_line(at))
    shown = values(figure(at, f"Output row 1 × {height * width}"))  # every output number, in reading order
    assert np.allclose(shown.ravel(), out.ravel(), atol=1e-4)  # weights are written with 6 significant digits


TYPED = {"steps.source": "typed", "steps.grid": "1 2 3 4\n5 6 7 8\n0 1/2 -1 2\n3 3 3 3", "steps.kernel": "typed",
         "steps.weights": "1 0\n0 -1", "steps.padding": "0"}  # fmt: skip


def torch_output(grid, kernel, **settings) -> np.ndarray:
    """The reference: F.conv2d on the same numbers."""
    x = torch.as_tensor(np.asarray(grid, float))[None, None]
    return F.conv2d(x, torch.as_tensor(np.asarray(kernel, float))[None, None], **settings)[0, 0].numpy()


def test_a_typed_grid_and_kernel_from_a_link_are_used():
    at = open_page(PAGE, **TYPED)
    assert not at.exception and not at.error
    grid = [[1, 2, 3, 4], [5, 6, 7, 8], [0, 0.5, -1, 2], [3, 3, 3, 3]]
    assert np.array_equal(values(figure(at, "Input")), grid)
    assert figure(at, "Input").texts[2] == ["0", "0.5", "-1", "2"]  # a typed fraction is not rounded away
    assert np.array_equal(values(figure(at, "Kernel")), [[1, 0], [0, -1]])
    assert step_line(at).startswith("**Output cell 1 of 9 ")
    shown = values(figure(at, "Output row 1 × 9"))
    assert np.allclose(shown.ravel(), torch_output(grid, [[1, 0], [0, -1]]).ravel())
    assert at.text_area(key="steps.grid").value == TYPED["steps.grid"]


def test_typing_changes_the_numbers_and_the_link():
    at = open_page(PAGE, **{"steps.padding": "1"})
    image_grid = values(figure(at, "Input"))[1:-1, 1:-1]
    at.segmented_control(key="steps.source").set_value("typed").run()
    # The text area starts from the numbers on show, so nothing jumps.
    assert np.array_equal(values(figure(at, "Input"))[1:-1, 1:-1], image_grid)
    at.text_area(key="steps.grid").input("9 8 7\n6 5 4\n3 2 1").run()
    at.selectbox(key="steps.kernel").set_value("typed").run()
    assert at.text_area(key="steps.weights").value == "-1 0 1\n-2 0 2\n-1 0 1"  # Sobel x, the kernel before
    at.text_area(key="steps.weights").input("0 1 0\n1 -4 1\n0 1 0").run()
    assert not at.exception and not at.error
    grid, kernel = [[9, 8, 7], [6, 5, 4], [3, 2, 1]], [[0, 1, 0], [1, -4, 1], [0, 1, 0]]
    shown = values(figure(at, "Output row 1 × 9"))
    assert np.allclose(shown.ravel(), torch_output(grid, kernel, padding=1).ravel())
    assert at.query_params["steps.grid"] == "9 8 7\n6 5 4\n3 2 1"
    assert at.query_params["steps.weights"] == "0 1 0\n1 -4 1\n0 1 0"
    # Back to the image: the typed text leaves the link, and comes back with "Typed".
    at.segmented_control(key="steps.source").set_value("image").run()
    assert "steps.grid" not in at.query_params
    at.segmented_control(key="steps.source").set_value("typed").run()
    assert at.text_area(key="steps.grid").value == "9 8 7\n6 5 4\n3 2 1"


@pytest.mark.parametrize(
    ("key", "text", "english", "chinese"),
    [
        ("steps.grid", "1 2\n3 x", "Row 2, column 2 holds “x”, which is not a number.", "第 2 行第 2 列是“x”,不是数字。"),
        ("steps.grid", "1 2 3\n4 5", "Row 2 has 2 numbers, but row 1 has 3", "第 2 行有 2 个数字,而第 1 行有 3 个"),
        ("steps.weights", "1 2 3\n4 5 6", "2 rows of 3 numbers: a kernel needs", "2 行、每行 3 个数字"),
        ("steps.weights", "", "Type at least one row of numbers.", "请至少输入一行数字。"),
        ("steps.grid", "\n".join(["1"] * 11), "11 rows: at most 10 fit.", "共 11 行:最多只能放 10 行。"),
    ],
)  # fmt: skip
def test_bad_typed_numbers_say_why_and_lose_nothing_else(key, text, english, chinese):
    at = open_page(PAGE, **{**TYPED, "steps.stride": "2", "steps.flip": "true"})
    at.text_area(key=key).input(text).run()
    assert not at.exception
    assert [english in error.value for error in at.error] == [True]
    assert at.text_area(key=key).value == text  # what was typed stays, to be fixed
    assert at.session_state["steps.stride"] == 2 and at.toggle(key="steps.flip").value
    other = "steps.weights" if key == "steps.grid" else "steps.grid"
    assert at.text_area(key=other).value == TYPED[other]
    assert at.query_params.get(key, "") == text
    if not text:
        return  # an empty setting in a link is no setting: the text area starts from the preset
    # The same link in Chinese. (Opened, not typed into: AppTest formats a translated menu outside the run.)
    zh = open_page(PAGE, **{**TYPED, key: text, "lang": "zh"})
    assert not zh.exception
    assert [chinese in error.value for error in zh.error] == [True]
