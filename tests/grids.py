"""Read back the HTML grids of ``cnnviz.drawing.grids.number_grid_html``, for tests on what a page shows."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Cell:
    text: str
    classes: frozenset[str]
    background: str | None  # "rgb(r,g,b)", or None for empty, shaded and dotted cells
    hover: str


@dataclass
class Grid:
    title: str = ""
    rows: list[list[Cell]] = field(default_factory=list)

    @property
    def texts(self) -> list[list[str]]:
        return [[cell.text for cell in row] for row in self.rows]

    def cells_with(self, name: str) -> list[tuple[int, int]]:
        """(row, col) of the cells carrying the class ``name`` ("window", "winner", "shaded"...)."""
        return [(r, c) for r, row in enumerate(self.rows) for c, cell in enumerate(row) if name in cell.classes]


class _GridParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.grids: list[Grid] = []
        self.where: str | None = None  # "caption" or "cell" while inside one
        self.cell: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "figure" and "cnnviz-grid" in (attrs.get("class") or ""):
            self.grids.append(Grid())
        elif tag == "figcaption" and self.grids:
            self.where = "caption"
        elif tag == "tr" and self.grids:
            self.grids[-1].rows.append([])
        elif tag == "td" and self.grids:
            background = re.search(r"background:(rgb\([^)]*\))", attrs.get("style") or "")
            self.cell = {"text": "", "classes": frozenset((attrs.get("class") or "").split()),
                         "background": background.group(1) if background else None, "hover": attrs.get("title", "")}  # fmt: skip
            self.where = "cell"

    def handle_endtag(self, tag):
        if tag == "td" and self.cell is not None:
            self.grids[-1].rows[-1].append(Cell(**self.cell))
            self.cell = None
        if tag in ("td", "figcaption"):
            self.where = None

    def handle_data(self, data):
        if self.where == "caption":
            self.grids[-1].title += data
        elif self.where == "cell":
            self.cell["text"] += data


def read_grids(html: str) -> list[Grid]:
    """Every grid in ``html``, in order."""
    parser = _GridParser()
    parser.feed(html)
    return parser.grids


def page_grids(at) -> list[Grid]:
    """Every grid an AppTest run drew, with ``st.html`` or inside a ``ui.View`` (markdown), in page order."""
    sources = {"html": lambda node: node.proto.body, "markdown": lambda node: node.value}
    nodes = [node for root in (at.main, at.sidebar) for node in root if not hasattr(node, "children")]
    return [grid for node in nodes if node.type in sources for grid in read_grids(sources[node.type](node))]
