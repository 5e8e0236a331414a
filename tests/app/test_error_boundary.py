"""``ui.panel``: one failing panel says so in one short line, its traceback goes to the
server log, and the rest of the page renders. Streamlit's own st.rerun / st.stop are
not failures and pass through. On every lesson, whatever draws a result (a chart, an
image, a formula, a table) sits inside a panel: breaking it never shows a traceback."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from cnnviz.i18n import translate
from pages.registry import LESSONS
from tests.app.conftest import open_page
from tests.conftest import ROOT

# A page with three panels; the ``mode`` in session state says what the middle one does.
PAGE = f"""
import sys

sys.path.insert(0, {str(ROOT)!r})

import streamlit as st

from pages import ui

st.session_state["runs"] = st.session_state.get("runs", 0) + 1
mode = st.session_state.get("mode", "fine")

with ui.panel("test.first"):
    st.markdown("first panel")

with ui.panel("test.middle"):
    st.markdown("middle panel, before the failure")
    if mode == "raise":
        raise ZeroDivisionError("a bug in the middle panel")
    if mode == "raise_in_columns":
        left, right = st.columns(2)
        with left:
            raise IndexError("a bug inside a column")
    if mode == "stop":
        st.stop()
    if mode == "rerun" and st.session_state["runs"] == 1:
        st.rerun()
    st.markdown("middle panel, after the failure")

with ui.panel("test.last"):
    st.markdown("last panel")
"""


@pytest.fixture
def page(tmp_path: Path):
    script = tmp_path / "panels.py"
    script.write_text(PAGE, encoding="utf-8")

    def run(mode: str, lang: str = "en") -> AppTest:
        at = AppTest.from_file(str(script), default_timeout=60)
        at.session_state["mode"] = mode
        at.session_state["lang"] = lang
        return at.run()

    return run


def markdown(at: AppTest) -> list[str]:
    return [element.value for element in at.markdown]


def panel_failures(caplog) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "cnnviz" and record.levelno == logging.ERROR]


def test_without_failure_every_panel_renders(page, caplog):
    at = page("fine")
    assert not at.exception and not at.error
    assert markdown(at) == [
        "first panel",
        "middle panel, before the failure",
        "middle panel, after the failure",
        "last panel",
    ]
    assert panel_failures(caplog) == []


@pytest.mark.parametrize(("mode", "error"), [("raise", ZeroDivisionError), ("raise_in_columns", IndexError)])
def test_a_failing_panel_says_so_and_the_others_render(page, caplog, mode, error):
    with caplog.at_level(logging.ERROR, logger="cnnviz"):
        at = page(mode)
    assert not at.exception, "the exception must not reach the page"
    assert [element.value for element in at.error] == [translate("ui.panel_failed", "en")]
    assert markdown(at) == ["first panel", "middle panel, before the failure", "last panel"]
    # The short message stands where the panel was: after its own output, before the next panel.
    shown = [element for element in at.main if element.type in ("markdown", "error")]
    assert [element.value for element in shown].index(at.error[0].value) == 2
    (record,) = panel_failures(caplog)
    assert "test.middle" in record.getMessage()
    assert record.exc_info and isinstance(record.exc_info[1], error)
    assert "Traceback" in caplog.text and f"{error.__name__}: a bug" in caplog.text


def test_the_short_message_is_in_the_sessions_language(page, caplog):
    at = page("raise", lang="zh")
    assert [element.value for element in at.error] == [translate("ui.panel_failed", "zh")]
    assert "Traceback" not in at.error[0].value


def test_st_stop_passes_through(page, caplog):
    at = page("stop")
    assert not at.exception and not at.error
    assert markdown(at) == ["first panel", "middle panel, before the failure"]
    assert panel_failures(caplog) == []


def test_st_rerun_passes_through(page, caplog):
    at = page("rerun")
    assert not at.exception and not at.error
    assert at.session_state["runs"] == 2, "st.rerun must start a second run, not be swallowed"
    assert markdown(at)[-1] == "last panel"
    assert panel_failures(caplog) == []


# --- Every lesson: what a panel draws fails inside its panel -----------------------------------

#: The elements that draw computed results; if one fails outside a panel, the page shows a traceback.
DRAWING_ELEMENTS = ("plotly_chart", "image", "latex", "dataframe")


@pytest.mark.parametrize("element", DRAWING_ELEMENTS)
@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.slug)
def test_a_failing_drawing_stays_in_its_panel_on_every_lesson(lesson, element, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError(f"st.{element} is broken")

    monkeypatch.setattr(st, element, broken)
    with caplog.at_level(logging.ERROR, logger="cnnviz"):
        at = open_page(lesson.script)
    assert not at.exception, f"st.{element} failed outside a panel on {lesson.slug}"
    assert at.title, "the lesson's title must still render"
    shown = [error.value for error in at.error]
    assert shown.count(translate("ui.panel_failed", "en")) == len(panel_failures(caplog))
