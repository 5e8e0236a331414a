"""What a page wrote, read back from an AppTest run, whether as Streamlit elements or inside a
``ui.View`` (one markdown element holding a view's headings, notes, captions and formulas).

Each reader returns the page's items in page order (main area, then sidebar), so a test
says what the page shows without depending on how many elements it took.
"""

from __future__ import annotations

import re

_NOTE = re.compile(r'<div class="cnnviz-note (?P<kind>\w+)">\n\n(?P<text>.*?)\n\n</div>', re.S)
_CAPTION = re.compile(r'<div class="cnnviz-caption">\n\n(.*?)\n\n</div>', re.S)
_FORMULA = re.compile(r"^\$\$\n(.*?)\n\$\$$", re.S | re.M)
_HEADING = re.compile(r"^#{1,6} (.*)$", re.M)


def _elements(at) -> list:
    return [node for root in (at.main, at.sidebar) for node in root if not hasattr(node, "children")]


def _markdown(node) -> str | None:
    """A markdown element's source (not a caption, formula or heading element)."""
    return node.value if node.type == "markdown" else None


def notes(at, kind: str) -> list[str]:
    """The texts of ``st.<kind>`` boxes and of View notes of that kind (info, success, warning, error)."""
    found = []
    for node in _elements(at):
        if node.type == kind:
            found.append(node.value)
        elif (source := _markdown(node)) is not None:
            found += [match["text"] for match in _NOTE.finditer(source) if match["kind"] == kind]
    return found


def _read(at, element_types: tuple[str, ...], in_views: re.Pattern) -> list[str]:
    """Values of elements of ``element_types``, and what ``in_views`` captures in markdown elements."""
    found = []
    for node in _elements(at):
        if node.type in element_types:
            found.append(node.value.strip("$\n") if node.type == "latex" else node.value)
        elif (source := _markdown(node)) is not None:
            found += in_views.findall(source)
    return found


def captions(at) -> list[str]:
    """``st.caption`` texts and View captions."""
    return _read(at, ("caption",), _CAPTION)


def formulas(at) -> list[str]:
    """The KaTeX source of every formula: ``st.latex`` elements and View formulas."""
    return _read(at, ("latex",), _FORMULA)


def headings(at) -> list[str]:
    """Heading texts: ``st.title``/``st.header``/``st.subheader`` elements and View headings."""
    return _read(at, ("header", "subheader", "title"), _HEADING)


def text(at) -> str:
    """Everything the page wrote as text (markdown, captions, notes, formulas), one item per line."""
    kinds = ("markdown", "caption", "latex", "header", "subheader", "title", "info", "success", "warning", "error")
    return "\n".join(node.value for node in _elements(at) if node.type in kinds)
