"""HTML for text drawn by the engine: the catalogue's markdown subset, and Python code blocks.

A scrubbing view's frames (``cnnviz.drawing.frames``) are HTML, not Streamlit elements, so
what a page would write with ``st.markdown`` or ``st.code`` is drawn here:

- ``markdown_html``: the markdown the catalogue (``cnnviz/locales``) uses: ``**bold**``,
  `` `code` ``, paragraphs split by a blank line, and a hard line break (two spaces, then a
  line break). Everything else is escaped, so a sentence can never inject markup.
- ``code_html``: a Python code block with a copy button, coloured like Streamlit's light code
  block (keywords, strings, numbers, comments: ``<span class="code-keyword">``...). Its look
  is ``cnnviz/frontend/scrub_view.css`` (``.cnnviz-code``), its copy button
  ``cnnviz/frontend/scrub_view.js`` (it copies the ``<code>`` element's text, which is the
  code exactly).
"""

from __future__ import annotations

import html
import io
import keyword
import re
import tokenize

_CODE_SPAN = re.compile(r"`([^`\n]+)`")
_BOLD = re.compile(r"\*\*(.+?)\*\*", re.S)
_PLACEHOLDER = re.compile(r"\x00(\d+)\x00")
_BLANK_LINE = re.compile(r"\n[ \t]*\n\s*")


def markdown_inline(text: str) -> str:
    """One paragraph's markdown as inline HTML, for a heading or a ``<p>`` of its own: code spans first
    (a ``**`` inside one stays), then bold, then hard line breaks."""
    spans: list[str] = []

    def hold(match: re.Match) -> str:
        spans.append(f"<code>{html.escape(match[1], quote=False)}</code>")
        return f"\x00{len(spans) - 1}\x00"

    held = _CODE_SPAN.sub(hold, text)
    escaped = html.escape(held, quote=False)
    bold = _BOLD.sub(r"<strong>\1</strong>", escaped)
    return _PLACEHOLDER.sub(lambda match: spans[int(match[1])], bold).replace("  \n", "<br>")


def markdown_html(text: str) -> str:
    """The catalogue's markdown as HTML paragraphs (``<p>…</p>`` each; the rest escaped).

    Args:
        text: a translated sentence or a few: ``**bold**``, `` `code` ``, paragraphs split by a
            blank line, "  \\n" a hard line break (``<br>``); a single line break stays (a space).

    Returns:
        ``"<p>…</p>"`` per paragraph.
    """
    paragraphs = [paragraph for paragraph in _BLANK_LINE.split(text.strip("\n")) if paragraph.strip()]
    return "".join(f"<p>{markdown_inline(paragraph)}</p>" for paragraph in paragraphs)


def row_html(*cells: str, boxed: bool = False, least_px: tuple[int, ...] = ()) -> str:
    """Columns side by side, the markup ``ui.View.row`` draws (``assets/app.css``: ``cnnviz-row``, ``cnnviz-cell``).

    Args:
        cells: each column's HTML.
        boxed: each column in a thin rounded box (``cnnviz-cell boxed``).
        least_px: each column's narrowest width instead of equal columns: they share the row
            while they all fit, and wrap below each other when not.
    """
    cell_class = "cnnviz-cell boxed" if boxed else "cnnviz-cell"
    if least_px:
        inner = "".join(
            f'<div class="{cell_class}" style="flex:1 1 {least}px;min-width:{least}px">{cell}</div>'
            for cell, least in zip(cells, least_px, strict=True)
        )
        return f'<div class="cnnviz-row" style="display:flex;flex-wrap:wrap">{inner}</div>'
    columns = " ".join(["minmax(0,1fr)"] * len(cells))
    inner = "".join(f'<div class="{cell_class}">{cell}</div>' for cell in cells)
    return f'<div class="cnnviz-row" style="grid-template-columns:{columns}">{inner}</div>'


#: A token kind -> its span's class (``scrub_view.css`` colours them); names are keywords only.
_TOKEN_CLASS = {tokenize.STRING: "code-string", tokenize.NUMBER: "code-number", tokenize.COMMENT: "code-comment"}
#: The copy button's picture (two sheets, as Streamlit's own); it holds no text, so the block's text is the code.
_COPY_ICON = (
    '<svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true" fill="none" stroke="currentColor" '
    'stroke-width="2" stroke-linecap="round" stroke-linejoin="round"><rect x="9" y="9" width="13" height="13" '
    'rx="2"/><path d="M5 15H4a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2h9a2 2 0 0 1 2 2v1"/></svg>'
)


def _coloured(code: str) -> str:
    """The code escaped, its keywords, strings, numbers and comments in spans (uncoloured if tokenize refuses it)."""
    starts = [0]  # each line's offset in ``code``: tokenize gives (row, column) positions
    for line in code.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    pieces, cursor = [], 0
    try:
        for token in tokenize.generate_tokens(io.StringIO(code).readline):
            kind = _TOKEN_CLASS.get(token.type)
            if token.type == tokenize.NAME and keyword.iskeyword(token.string):
                kind = "code-keyword"
            if kind is None:
                continue  # shown plain with the text around it
            start = starts[token.start[0] - 1] + token.start[1]
            end = starts[token.end[0] - 1] + token.end[1]
            pieces += [html.escape(code[cursor:start], quote=False), f'<span class="{kind}">']
            pieces += [html.escape(code[start:end], quote=False), "</span>"]
            cursor = end
    except (tokenize.TokenError, SyntaxError):  # not Python (a bracket left open): no colours
        return html.escape(code, quote=False)
    return "".join(pieces) + html.escape(code[cursor:], quote=False)


def code_html(code: str, copy_label: str = "Copy") -> str:
    """A Python code block as HTML, coloured, with a copy button at its top right.

    Args:
        code: the code (``cnnviz.codegen``'s scripts).
        copy_label: the button's name for screen readers and its tooltip, in the interface
            language (``ui.copy``).

    Returns:
        ``<div class="cnnviz-code"><button class="cnnviz-code-copy">…</button><pre><code
        class="language-python">…</code></pre></div>``; the tags dropped and the entities read,
        it is ``code`` exactly.
    """
    label = html.escape(copy_label)
    button = (
        f'<button type="button" class="cnnviz-code-copy" title="{label}" aria-label="{label}">{_COPY_ICON}</button>'
    )
    return f'<div class="cnnviz-code">{button}<pre><code class="language-python">{_coloured(code)}</code></pre></div>'
