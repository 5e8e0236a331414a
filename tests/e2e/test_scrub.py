"""The Output size lesson's scrubbing view in chromium: the picture follows the pointer, with
the engine's numbers at every position; the keyboard moves it; a release updates the URL
and the code panel."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from cnnviz import arithmetic, codegen, i18n
from cnnviz.arithmetic import SizeError
from cnnviz.drawing.output_size_view import SIZE_SLIDERS
from tests.e2e import harness
from tests.e2e.scrub_driver import (
    drag_through,
    ends_and_middle,
    matches_engine,
    open_lesson,
    placed,
    press,
    shown,
    thumb_x,
    view,
)

pytestmark = pytest.mark.e2e


def open_size(tab: Page, base_url: str, query: str = "") -> None:
    open_lesson(tab, base_url, "output_size", query)


@pytest.mark.parametrize("name", list(SIZE_SLIDERS))
def test_dragging_each_slider_shows_the_engines_frame_at_every_position(tab, app_server, name):
    open_size(tab, app_server.url)
    drag_through(tab, "output_size", name, ends_and_middle(tab, "output_size", name))


def code_for(values: dict[str, int]) -> str | None:
    """The code the engine writes for the sliders' values (None when no window fits)."""
    n, k, p, s, d = (values[name] for name in SIZE_SLIDERS)
    try:
        return codegen.conv2d((1, n, n), 1, k, s, p, d)
    except SizeError:
        return None


def test_the_code_panel_copies_its_code_and_follows_the_input_slider_under_the_pointer(tab, app_server):
    open_size(tab, app_server.url)
    code_place = placed(tab, "size.scrub", "code")
    panel = tab.locator('[data-testid="stExpander"]').filter(has=tab.locator(".st-key-size-scrub-place-code"))
    assert panel.locator("summary").inner_text().strip().endswith("PyTorch code for these settings")
    panel.locator("summary").click()  # open the panel; hover the block: its copy button
    tab.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=app_server.url)
    block = code_place.locator(".cnnviz-code")
    block.hover()
    copy = block.locator("button.cnnviz-code-copy")
    assert copy.count() == 1 and copy.is_visible() and copy.get_attribute("aria-label") == "Copy"
    copy.click()
    tab.wait_for_function("() => document.querySelector('.cnnviz-code-copy').dataset.state === 'copied'")
    assert tab.evaluate("() => navigator.clipboard.readText()") == code_for(shown(tab)["values"])
    runs = harness.runs(tab)

    def code_follows(seen: dict) -> None:  # the code panel shows the engine's code for the values under the pointer
        code = code_for(seen["values"])
        if code is None:
            assert code_place.text_content() == i18n.translate("size.code.no_output", "en")
        else:
            assert code_place.locator(".cnnviz-code code").text_content() == code

    code_follows(shown(tab))
    drag_through(tab, "output_size", "input", ends_and_middle(tab, "output_size", "input"), also=code_follows)
    assert harness.runs(tab) == runs + 1  # the release alone


def test_the_transposed_convolution_follows_the_stride_slider_under_the_pointer(tab, app_server):
    open_size(tab, app_server.url, "?size.stride=2&size.output_padding=1")
    transposed = placed(tab, "size.scrub", "transposed")
    runs = harness.runs(tab)

    def transposed_follows(seen: dict) -> None:  # the engine's m, size back and windows for the values under the pointer
        n, k, p, s, d = (seen["values"][name] for name in SIZE_SLIDERS)
        m = arithmetic.conv_output_size(n, k, s, p, d)
        text = transposed.text_content()
        assert f"turns the m = {m} output pixels back" in text
        try:
            back = arithmetic.transposed_output_size(m, k, s, p, 1, d)
        except SizeError:
            assert "Output padding must be smaller than the stride" in text and transposed.locator("svg").count() == 0
        else:
            latex = transposed.locator("math annotation").text_content()
            assert latex == arithmetic.transposed_formula_latex(m, k, s, p, 1, d)
            assert latex.endswith(rf"\mathbf{{{back}}}\end{{aligned}}")
            assert transposed.locator("svg").count() == 1

    transposed_follows(shown(tab))
    drag_through(tab, "output_size", "stride", ends_and_middle(tab, "output_size", "stride"), also=transposed_follows)
    assert harness.runs(tab) == runs + 1  # the release alone


def test_keyboard_moves_the_view_and_a_release_updates_the_url_and_the_code(tab, app_server):
    open_size(tab, app_server.url)
    seen = press(tab, "output_size", "stride", "ArrowRight")  # stride 1 -> 2: (28 - 5) / 2 + 1 = 12
    stride = view(tab).locator('input[name="stride"]')
    assert seen["values"]["stride"] == 2 and seen["out"] == "12" and matches_engine(seen)
    assert "size.stride=2" in tab.url
    code = placed(tab, "size.scrub", "code").locator("code").text_content()
    assert "stride=2" in code
    assert stride.get_attribute("aria-valuetext") == "2"
    assert view(tab).locator("label[for]").first.inner_text() == "Input size n"
    # The release reran the page: the frames now follow the new stride, and so does dragging another slider.
    tab.mouse.move(*thumb_x(tab, "input", 28))
    tab.mouse.down()
    tab.mouse.move(*thumb_x(tab, "input", 20), steps=4)
    seen = shown(tab)
    assert (
        seen["values"] == {**seen["values"], "input": 20, "stride": 2} and seen["out"] == "8" and matches_engine(seen)
    )
    with harness.rerun(tab):
        tab.mouse.up()
    assert "size.input=20" in tab.url and "size.stride=2" in tab.url
    assert "torch.rand(1, 1, 20, 20)" in placed(tab, "size.scrub", "code").locator("code").text_content()


def test_a_shared_link_opens_the_view_on_its_settings(tab, app_server):
    open_size(tab, app_server.url, "?size.input=9&size.kernel=3&size.dilation=2&size.stride=2&lang=zh")
    seen = shown(tab)
    assert seen["values"] == {"input": 9, "kernel": 3, "padding": 0, "stride": 2, "dilation": 2}
    assert matches_engine(seen)
    assert view(tab).locator("label[for]").nth(3).inner_text() == "步长 s"


def test_switching_the_language_relabels_the_sliders_and_keeps_their_values(tab, app_server):
    open_size(tab, app_server.url, "?size.stride=2")
    with harness.rerun(tab):
        tab.locator(harness.SIDEBAR).get_by_text("简体中文").click()
    tab.wait_for_function("() => document.querySelector('.scrub-view label').textContent === '输入尺寸 n'")
    seen = shown(tab)
    assert seen["values"]["stride"] == 2 and matches_engine(seen)
    assert "输出尺寸" in view(tab).inner_text()


def test_quick_key_presses_never_pull_the_slider_back(tab, app_server):
    open_size(tab, app_server.url)
    kernel = view(tab).locator('input[name="kernel"]')
    kernel.focus()
    tab.evaluate("""() => { window.__kernelSeen = [];
      const input = document.querySelector('.scrub-view input[name=kernel]');
      new MutationObserver(() => window.__kernelSeen.push(input.valueAsNumber))
        .observe(input, { attributes: true, attributeFilter: ['aria-valuetext'] }); }""")
    with harness.rerun(tab):
        for _ in range(4):
            kernel.press("ArrowRight")  # 5 -> 9, faster than the reruns answer
    seen = tab.evaluate("() => window.__kernelSeen")
    assert seen == sorted(seen) and seen[-1] == 9, seen  # never back to an older value
    tab.wait_for_function("() => new URL(location.href).searchParams.get('size.kernel') === '9'")
    assert shown(tab)["values"]["kernel"] == 9 and matches_engine(shown(tab))


def test_a_finger_drags_a_slider_on_a_tablet(browser, app_server):
    context = browser.new_context(viewport={"width": 1024, "height": 768}, has_touch=True, is_mobile=False)
    context.add_init_script(harness.PROBE_JS)
    tab = context.new_page()
    try:
        open_size(tab, app_server.url)
        touch = tab.context.new_cdp_session(tab)

        def finger(kind: str, name: str, value: int) -> None:
            x, y = thumb_x(tab, name, value)
            points = [] if kind == "touchEnd" else [{"x": x, "y": y}]
            touch.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

        finger("touchStart", "padding", 0)
        for value in (1, 2, 3):
            finger("touchMove", "padding", value)
            seen = shown(tab)
            assert seen["values"]["padding"] == value and matches_engine(seen)
        with harness.rerun(tab):
            finger("touchEnd", "padding", 3)
        assert "size.padding=3" in tab.url
        assert tab.evaluate("() => window.scrollY") == 0  # the finger moved the slider, not the page
    finally:
        context.close()
