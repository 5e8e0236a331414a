"""LaTeX formulas as MathML, which Chromium, Firefox and Safari draw natively.

Why MathML and not a vendored KaTeX (measured, ``bench/RESULTS.md``, issue 17): an
``st.components.v2`` component with inline JavaScript sends its script with every rerun,
and KaTeX is 268 kB of script, 28 kB of CSS and its fonts; MathML costs nothing in the
browser but ~1.5 kB of markup per formula, converted on the server in ~1.5 ms.

``latex2mathml`` does not lay out ``aligned`` (it prints the ``&`` and drops the line
breaks), so ``formula_mathml`` splits the rows itself and builds a ``<mtable>``.
"""

from __future__ import annotations

import functools
import html
import re

from latex2mathml.converter import convert

_ALIGNED = re.compile(r"^\\begin\{aligned\}(?P<body>.*)\\end\{aligned\}$", re.S)
_MATH = re.compile(r"^<math[^>]*>(?P<inner>.*)</math>$", re.S)


_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_SENTINEL = 7_770_000  # numbers in the formulas stay far below; each number gets one of these


@functools.lru_cache(maxsize=1024)
def _template(latex: str) -> str:
    return _MATH.match(convert(latex))["inner"]


def _inner(latex: str) -> str:
    """The MathML of ``latex`` without its ``<math>`` wrapper (empty text gives an empty row).

    A lesson's formula keeps its shape while its numbers change, and ``latex2mathml`` takes
    ~1.5 ms a line: so each number is swapped for a sentinel number, the shape is converted
    once (cached), and the numbers are put back into its ``<mn>`` elements.
    """
    if not latex.strip():
        return "<mrow></mrow>"
    numbers = _NUMBER.findall(latex)
    sentinels = iter(range(_SENTINEL, _SENTINEL + len(numbers)))
    shape = _NUMBER.sub(lambda _: str(next(sentinels)), latex)
    return re.sub(rf"{_SENTINEL // 10_000}\d{{4}}", lambda match: numbers[int(match[0]) - _SENTINEL], _template(shape))


@functools.lru_cache(maxsize=4096)
def formula_mathml(latex: str) -> str:
    """A display formula as ``<math display="block">``, with its LaTeX source kept as an annotation.

    ``\\begin{aligned} a &= b \\\\ &= c \\end{aligned}`` becomes a two-column table (right-
    aligned left sides, left-aligned right sides), as KaTeX draws it.

    Args:
        latex: the formula's source, as given to ``st.latex``.

    Returns:
        MathML text; ``<annotation encoding="application/x-tex">`` holds ``latex`` (tests and
        copy-paste read it).
    """
    aligned = _ALIGNED.match(latex.strip())
    if aligned:
        rows = []
        for line in re.split(r"\\\\(?:\[[^\]]*\])?", aligned["body"]):  # a line break, and its spacing: \\[4pt]
            left, _, right = line.partition("&")
            cells = (f'<mtd class="{side}"><mstyle displaystyle="true">{_inner(text)}</mstyle></mtd>'
                     for side, text in (("left-side", left), ("right-side", right)))  # fmt: skip
            rows.append(f"<mtr>{''.join(cells)}</mtr>")
        body = f"<mtable>{''.join(rows)}</mtable>"
    else:
        body = _inner(latex)
    body = body.replace('mathvariant="bold"', 'style="font-weight:bold"')  # MathML Core draws no bold variant
    source = html.escape(latex, quote=False)
    return (
        '<math xmlns="http://www.w3.org/1998/Math/MathML" display="block"><semantics>'
        f'<mrow>{body}</mrow><annotation encoding="application/x-tex">{source}</annotation></semantics></math>'
    )


_ANNOTATION = re.compile(r'<annotation encoding="application/x-tex">(.*?)</annotation>', re.S)


def latex_sources(markup: str) -> list[str]:
    """The LaTeX sources of the formulas in ``markup`` (what ``formula_mathml`` annotated), in order."""
    return [html.unescape(source) for source in _ANNOTATION.findall(markup)]
