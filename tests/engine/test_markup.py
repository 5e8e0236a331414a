"""Markup for views drawn by the engine: the catalogue's markdown subset, and Python code blocks."""

import html
import re

import pytest

from cnnviz import arithmetic, codegen
from cnnviz.drawing.markup import code_html, markdown_html


def test_markdown_escapes_and_renders_bold_and_code():
    assert markdown_html("a < b & **c**") == "<p>a &lt; b &amp; <strong>c</strong></p>"
    assert markdown_html('`nn.Conv2d(…, 5, padding="same")` → **14**') == (
        '<p><code>nn.Conv2d(…, 5, padding="same")</code> → <strong>14</strong></p>'
    )


def test_markdown_keeps_stars_inside_code_and_code_inside_bold():
    assert markdown_html("`a**b**c` and **`x`**") == "<p><code>a**b**c</code> and <strong><code>x</code></strong></p>"


def test_markdown_paragraphs_and_hard_line_breaks():
    assert markdown_html("one\n\ntwo  \nthree\nfour") == "<p>one</p><p>two<br>three\nfour</p>"
    assert markdown_html("one\n \n\ntwo") == "<p>one</p><p>two</p>"  # a blank line may hold spaces


def test_markdown_leaves_unpaired_marks_as_they_are():
    assert markdown_html("2 ** 3 and a ` tick") == "<p>2 ** 3 and a ` tick</p>"


def text_of(block: str) -> str:
    """What a reader sees of a code block: its text with the tags dropped, entities read."""
    return html.unescape(re.sub(r"<[^>]+>", "", block))


def test_code_html_colours_keywords_strings_numbers_and_comments():
    block = code_html('import torch\nx = f(3, "a")  # note\n', copy_label="Copy")
    code = re.search(r"<code[^>]*>(.*)</code>", block, re.S)[1]
    assert code == (
        '<span class="code-keyword">import</span> torch\n'
        'x = f(<span class="code-number">3</span>, <span class="code-string">"a"</span>)  '
        '<span class="code-comment"># note</span>\n'
    )
    assert '<button type="button" class="cnnviz-code-copy" title="Copy" aria-label="Copy">' in block
    assert block.startswith('<div class="cnnviz-code">')


def test_code_html_escapes_and_spans_multiline_strings():
    code = 'if a < b:\n    s = """x\n<y>"""\nelse:\n    pass\n'
    block = code_html(code)
    assert '<span class="code-string">"""x\n&lt;y&gt;"""</span>' in block
    assert '<span class="code-keyword">else</span>' in block
    assert text_of(block) == code


@pytest.mark.parametrize(
    "code",
    [
        codegen.conv2d((1, 28, 28), 1, 5),
        codegen.conv2d((1, 17, 17), 1, 3, stride=3, padding=2, dilation=2),
        codegen.layer_stack(*arithmetic.LAYER_PRESETS["lenet5"]),
        "no newline at the end = 1",
        "broken ( bracket\n",  # tokenize refuses it: shown uncoloured, as it is
        "",
    ],
)
def test_stripping_the_tags_gives_back_exactly_the_code(code):
    assert text_of(code_html(code)) == code
