"""The layers of the code import in one direction: pages -> drawing -> engine.

The engine (``cnnviz/*.py`` and its sub-packages, apart from ``drawing`` and ``frontend``)
computes numbers and knows nothing of how they are drawn or shown; ``cnnviz/drawing`` draws
them as text and pictures and knows nothing of Streamlit. Read from the source with ``ast``,
so a stray import is caught even where it sits inside a function.
"""

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "cnnviz"
DRAWING = PACKAGE / "drawing"
ENGINE = sorted(p for p in PACKAGE.rglob("*.py") if DRAWING not in p.parents and "frontend" not in p.parts)


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, with ``from cnnviz import x`` read as ``cnnviz.x``."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def test_the_layers_are_where_the_test_looks():
    assert len(ENGINE) > 20 and (DRAWING / "charts.py").exists()


@pytest.mark.parametrize("path", ENGINE, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_engine_imports_neither_drawing_nor_streamlit(path):
    wrong = {m for m in imported_modules(path) if m.startswith(("cnnviz.drawing", "streamlit"))}
    assert not wrong, f"{path.name} imports {sorted(wrong)}"


@pytest.mark.parametrize("path", sorted(DRAWING.glob("*.py")), ids=lambda p: p.name)
def test_drawing_does_not_import_streamlit(path):
    assert not {m for m in imported_modules(path) if m.startswith("streamlit")}
