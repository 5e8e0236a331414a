"""Output size's parts drawn in places (the code panel, PyTorch and TensorFlow's rules): every frame's
are the code and the numbers for that frame's settings."""

import html
import re

import pytest

from cnnviz import arithmetic, codegen, i18n, windows
from cnnviz.arithmetic import SizeError
from cnnviz.drawing.frames import frame_at, slots_in
from cnnviz.drawing.markup import code_html
from cnnviz.drawing.mathml import latex_sources
from cnnviz.drawing.output_size_view import SIZE_SLIDERS, explain_size_error, size_frame_set
from cnnviz.drawing.window_diagrams import TransposedLabels, transposed_svg

DEFAULTS = {name: default for name, (_, _, default) in SIZE_SLIDERS.items()}


def code_text(block: str) -> str:
    """A code block's text as the copy button copies it: its ``<code>`` element's text."""
    return html.unescape(re.sub(r"<[^>]+>", "", re.search(r"<code[^>]*>(.*)</code>", block, re.S)[1]))


def outcome(compute, *args) -> int | str:
    """What a framework rule gives: the size, or ✗ when it refuses."""
    try:
        return compute(*args)
    except SizeError:
        return "✗"


def result_after(part: str, code: str) -> int | str:
    """The size the frameworks part writes after a rule's code: the bold number, or ✗."""
    found = re.search(
        re.escape(f"<code>{html.escape(code, quote=False)}</code> → ") + r"(?:<strong>(\d+)</strong>|(✗))", part
    )
    assert found, (code, part)
    return int(found[1]) if found[1] else "✗"


def rules(settings: dict[str, int]) -> dict[str, int | str]:
    """Each rule's code as the panel writes it -> what cnnviz.arithmetic says it gives."""
    n, k, p, s, d = (settings[name] for name in SIZE_SLIDERS)
    dilated, rate = (f", dilation={d}", f", dilation_rate={d}") if d > 1 else ("", "")
    return {
        f"nn.Conv2d(…, {k}, stride={s}, padding={p}{dilated})": outcome(arithmetic.conv_output_size, n, k, s, p, d),
        f'nn.Conv2d(…, {k}, padding="same"{dilated})': n if s == 1 else "✗",  # PyTorch: "same" with stride 1 only
        f"nn.MaxPool2d({k}, stride={s}, padding={p}{dilated})": outcome(arithmetic.pool_output_size, n, k, s, p, d),
        f"nn.MaxPool2d({k}, stride={s}, padding={p}{dilated}, ceil_mode=True)": outcome(
            arithmetic.pool_output_size, n, k, s, p, d, True
        ),
        f'Conv2D(…, {k}, strides={s}, padding="valid"{rate})': outcome(arithmetic.tf_output_size, n, k, s, "valid", d),
        f'Conv2D(…, {k}, strides={s}, padding="same"{rate})': outcome(arithmetic.tf_output_size, n, k, s, "same", d),
    }


@pytest.mark.parametrize(
    "base",
    [DEFAULTS, {"input": 9, "kernel": 3, "padding": 1, "stride": 2, "dilation": 2}, {**DEFAULTS, "input": 3}],
)
def test_every_frames_code_and_rules_are_those_of_its_settings(base):
    frame_set = size_frame_set(base)
    (code_slot,), (rules_slot,) = slots_in(frame_set, "code"), slots_in(frame_set, "frameworks")
    assert slots_in(frame_set) == [0, 1]  # the size and formula, the windows: in the view itself
    for name, (low, high, _) in SIZE_SLIDERS.items():
        for value in range(low, high + 1):
            settings = {**base, name: value}
            parts = frame_at(frame_set, name, value)
            n, k, p, s, d = (settings[key] for key in SIZE_SLIDERS)
            try:
                code = codegen.conv2d((1, n, n), 1, k, s, p, d)
            except SizeError:
                assert (
                    parts[code_slot]
                    == '<div class="cnnviz-note info"><p>'
                    + html.escape(i18n.translate("size.code.no_output", "en"), quote=False)
                    + "</p></div>"
                )
            else:
                assert parts[code_slot] == code_html(code, "Copy") and code_text(parts[code_slot]) == code
            assert {rule: result_after(parts[rules_slot], rule) for rule in rules(settings)} == rules(settings)


def test_the_rules_panel_keeps_its_look_and_says_how_the_frameworks_pad():
    parts = frame_at(size_frame_set({**DEFAULTS, "stride": 2}), "stride", 2)
    panel = parts[slots_in(size_frame_set(DEFAULTS), "frameworks")[0]]
    assert panel.startswith("<h3>PyTorch and TensorFlow round differently</h3>")
    assert panel.count('<div class="cnnviz-cell boxed">') == 2 and 'class="cnnviz-row"' in panel
    assert "<p><strong>PyTorch</strong> rounds down (floor)</p>" in panel
    assert "</code> → <strong>14</strong> = ⌈n ÷ s⌉: pads 1 before and 2 after" in panel  # TensorFlow's SAME, uneven
    assert '</code> → ✗ PyTorch allows padding="same" only with stride 1.' in panel
    assert '<div class="cnnviz-caption"><p>TensorFlow takes no padding number' in panel


#: Names the Chinese catalogue writes as they are (frameworks, code words), not English words.
NAMES = {"PyTorch", "TensorFlow", "Keras", "SAME", "ceil_mode", "padding", "same", "floor"}


def english_words(part: str) -> list[str]:
    """The words of three letters or more that a part shows outside its code, bar the names."""
    shown = re.sub(r"<code[^>]*>.*?</code>|<[^>]+>", " ", part, flags=re.S)
    return [word for word in re.findall(r"[A-Za-z_]{3,}", html.unescape(shown)) if word not in NAMES]


def test_the_places_are_in_the_session_language():
    frame_set = size_frame_set(DEFAULTS, "zh")
    code, rules_panel = (frame_at(frame_set, "input", 3)[slot] for slot in (2, 3))  # no window fits
    assert "向下取整" in rules_panel and english_words(rules_panel) == []
    assert "卷积" in code or "输出" in code
    assert english_words(code) == []
    assert 'title="复制"' in frame_at(frame_set, "input", 28)[2]


def note_text(kind: str, text: str) -> str:
    return f'<div class="cnnviz-note {kind}"><p>' + html.escape(text) + "</p></div>"


@pytest.mark.parametrize(
    "base, output_padding",
    [(DEFAULTS, 0), ({**DEFAULTS, "stride": 2}, 1), ({"input": 9, "kernel": 3, "padding": 1, "stride": 3, "dilation": 2}, 2),
     (DEFAULTS, 3)],
)  # fmt: skip
def test_every_frames_transposed_convolution_is_that_of_its_settings(base, output_padding):
    frame_set = size_frame_set(base, output_padding=output_padding)
    (slot,) = slots_in(frame_set, "transposed")
    for name, (low, high, _) in SIZE_SLIDERS.items():
        for value in range(low, high + 1):
            n, k, p, s, d = ({**base, name: value}[key] for key in SIZE_SLIDERS)
            part = frame_at(frame_set, name, value)[slot]
            try:
                m = arithmetic.conv_output_size(n, k, s, p, d)
            except SizeError:
                assert part == note_text("info", i18n.translate("size.transposed.needs_output", "en"))
                continue
            assert f"turns the m = {m} output pixels back" in part
            try:
                back = arithmetic.transposed_output_size(m, k, s, p, output_padding, d)
            except SizeError as error:
                assert part.endswith(note_text("warning", explain_size_error(error, "en")))
                assert "<svg" not in part and "<math" not in part
                continue
            (latex,) = latex_sources(part)
            assert latex == arithmetic.transposed_formula_latex(m, k, s, p, output_padding, d)
            assert latex.endswith(rf"\mathbf{{{back}}}\end{{aligned}}")
            listed = "; ".join(f"output padding {op} → {size}" for op, size in arithmetic.transposed_choices(m, k, s, p, d))
            assert f"({listed})" in part or f": {listed}." in part
            assert f"output padding {arithmetic.uncovered_size(n, k, s, p, d)}" in part
            layout = windows.transposed_layout(m, k, s, p, output_padding, d)
            assert f"spreads a {layout.span}-wide window over the output, {s} cells after" in part
            (svg,) = re.findall(r"<svg.*?</svg>", part, re.S)
            assert svg == transposed_svg(layout, TransposedLabels(extra="kept by the output padding"))


def test_the_transposed_place_is_in_the_session_language():
    frame_set = size_frame_set({**DEFAULTS, "stride": 2}, "zh", output_padding=1)
    part = frame_at(frame_set, "stride", 2)[slots_in(frame_set, "transposed")[0]]
    assert "<svg" in part and english_words(re.sub(r"<svg.*?</svg>|<math.*?</math>", "", part, flags=re.S)) == []
