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


def captions(at) -> list[str]:
    """``st.caption`` texts and View captions."""
    found = []
    for node in _elements(at):
        if node.type == "caption":
            found.append(node.value)
        elif (source := _markdown(node)) is not None:
            found += _CAPTION.findall(source)
    return found


def formulas(at) -> list[str]:
    """The KaTeX source of every formula: ``st.latex`` elements and View formulas."""
    found = []
    for node in _elements(at):
        if node.type == "latex":
            found.append(node.value.strip("$\n"))
        elif (source := _markdown(node)) is not None:
            found += _FORMULA.findall(source)
    return found


def headings(at) -> list[str]:
    """Heading texts: ``st.header``/``st.subheader`` elements and View headings."""
    found = []
    for node in _elements(at):
        if node.type in ("header", "subheader", "title"):
            found.append(node.value)
        elif (source := _markdown(node)) is not None:
            found += _HEADING.findall(source)
    return found


def text(at) -> str:
    """Everything the page wrote as text (markdown, captions, notes, formulas), one item per line."""
    kinds = ("markdown", "caption", "latex", "header", "subheader", "title", "info", "success", "warning", "error")
    return "\n".join(node.value for node in _elements(at) if node.type in kinds)
