"""Switching the language never changes a setting: on every page, every widget keeps its value and
the URL its query through any number of switches (issue 14, "The frame").

Runs app.py as the router, as a user reaches a page (the language switch lives in app.py's
sidebar), and models what the browser holds: a choice widget's value travels as its *label*,
and the browser keeps the label it last showed until the server sends a new one. A language
switch that does not send the new label leaves the browser holding "Emboss" among Chinese
options, and the next rerun resets the choice (the bug this file guards).
"""

from __future__ import annotations

import pytest
import streamlit.runtime.scriptrunner.script_runner as script_runner
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1 import element_tree as tree

from cnnviz import i18n
from pages.registry import LESSONS
from tests.conftest import ROOT

PAGES = [None] + [lesson.script for lesson in LESSONS]
CHOICES = ("selectbox", "multiselect", "button_group")
VALUES = ("slider", "select_slider", "number_input", "toggle", "checkbox", "radio", "text_input", "text_area")
# The switch itself, the image upload, and step by step's player (playing moves the position each run).
UNTOUCHED = ("lang", "upload", "steps.play")
PANEL_FAILED = {i18n.translate("ui.panel_failed", lang) for lang in i18n.LANGUAGES}


class BrowserModel:
    """The labels the browser holds for each choice widget: the ones the server last set
    (``set_value``), else the default it first drew, else what the user picked."""

    def __init__(self) -> None:
        self.held: dict[str, list[str]] = {}

    def saw(self, at: AppTest) -> None:
        for kind in CHOICES:
            for widget in at.get(kind):
                proto = widget.proto
                if proto.set_value:
                    self.held[widget.id] = [proto.raw_value] if kind == "selectbox" else list(proto.raw_values)
                elif widget.id not in self.held:
                    self.held[widget.id] = [widget.options[i] for i in _indices(proto.default)]

    def widget_state(self, widget):
        state = tree.WidgetState()
        state.id = widget.id
        labels = self.held.get(widget.id, [])
        if widget.type == "selectbox":
            if labels:
                state.string_value = labels[0]
        else:
            state.string_array_value.data[:] = labels
        return state


def _indices(default) -> list[int]:
    return [default] if isinstance(default, int) else list(default)


@pytest.fixture
def browser(monkeypatch) -> BrowserModel:
    """app.py as the router (AppTest otherwise runs a page alone, as a legacy pages folder), and
    choice widgets that send what the browser model holds."""

    class Navigation(PagesManager):
        uses_pages_directory = False

    monkeypatch.setattr(script_runner, "PagesManager", Navigation)
    model = BrowserModel()
    for cls in (tree.Selectbox, tree.Multiselect, tree.ButtonGroup):
        monkeypatch.setattr(cls, "_widget_state", property(model.widget_state))
    return model


def run(at: AppTest, model: BrowserModel) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not PANEL_FAILED & {e.value for e in at.error}, "a panel's error boundary caught an exception"
    model.saw(at)
    return at


def settings(at: AppTest) -> dict:
    """Every widget's value (by key), and the URL's query without the language."""
    found = {}
    for kind in CHOICES + VALUES:
        for widget in at.get(kind):
            if widget.key != "lang":
                found[(kind, widget.key)] = widget.value
    query = {key: value for key, value in at.query_params.items() if key != "lang"}
    return {"widgets": found, "url": query}


def change_everything(at: AppTest, model: BrowserModel, done: set) -> None:
    """Give every enabled widget not changed yet another value than it has (as a user would)."""
    for kind in CHOICES + VALUES:
        for widget in at.get(kind):
            if widget.key in UNTOUCHED or widget.key in done or widget.proto.disabled:
                continue
            done.add(widget.key)
            if kind in CHOICES:
                held = model.held[widget.id]
                others = [label for label in widget.options if label not in held]
                if not others:
                    continue
                if kind == "multiselect":
                    most = widget.proto.max_selections or len(widget.options)
                    model.held[widget.id] = held + others[:1] if len(held) < most else held[:-1]
                else:
                    model.held[widget.id] = others[:1]
            elif kind in ("toggle", "checkbox"):
                widget.set_value(not widget.value)
            elif kind == "slider" and not isinstance(widget.value, (tuple, list)):
                up = widget.value + widget.step
                widget.set_value(up if up <= widget.max else widget.value - widget.step)
            elif kind == "number_input" and isinstance(widget.value, (int, float)):
                up = widget.value + (widget.step or 1)
                widget.set_value(up if widget.max is None or up <= widget.max else widget.value - (widget.step or 1))
            elif kind == "select_slider" and not isinstance(widget.value, (tuple, list)):
                position = widget.options.index(str(widget.value))
                widget.set_value(widget.options[position + 1 if position + 1 < len(widget.options) else position - 1])


def switch_language(at: AppTest, model: BrowserModel, lang: str) -> AppTest:
    (switch,) = [widget for widget in at.sidebar.get("button_group") if widget.key == "lang"]
    model.held[switch.id] = [i18n.LANGUAGES[lang]]
    return run(at, model)


@pytest.mark.parametrize("script", PAGES, ids=[p or "home" for p in PAGES])
def test_a_language_round_trip_keeps_every_setting(browser, script):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    if script:
        at.switch_page(script)
    run(at, browser)
    initial = settings(at)
    done: set = set()
    for _ in range(2):  # a change can reveal more widgets (a custom kernel's size)
        change_everything(at, browser, done)
        run(at, browser)
    before = settings(at)
    assert before != initial, "nothing was changed"
    for lang in ("zh", "en", "zh", "en", "zh"):
        switch_language(at, browser, lang)
        assert at.session_state["lang"] == lang
        assert settings(at) == before, f"after switching to {lang}"
        run(at, browser)  # the next interaction sends what the browser holds
        assert settings(at) == before, f"after switching to {lang} and one more rerun"
        for widget in [w for kind in CHOICES for w in at.get(kind)]:
            assert set(browser.held[widget.id]) <= set(widget.options), f"{widget.key} shows a label not offered"


def test_every_stateful_widget_has_a_key(browser):
    """A widget without a key is identified by its label: a language switch makes it a new widget, at its default."""
    for script in PAGES:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
        if script:
            at.switch_page(script)
        run(at, browser)
        unkeyed = [(kind, widget.label) for kind in CHOICES + VALUES for widget in at.get(kind) if widget.key is None]
        assert not unkeyed, (script, unkeyed)


def test_the_reported_link_keeps_emboss_and_sum_after_switching_and_moving_the_bias(browser):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params.update({"conv.preset": "emboss", "conv.channel_mode": "sum"})
    run(at.switch_page("pages/convolution.py"), browser)
    switch_language(at, browser, "zh")
    at.session_state["conv.bias"] = 0.5  # what a release of the scrubbing view's bias slider does
    run(at, browser)
    assert at.selectbox(key="conv.preset").value == "emboss"
    assert at.selectbox(key="conv.channel_mode").value == "sum"
    assert browser.held[at.selectbox(key="conv.preset").id] == [i18n.translate("conv.preset.emboss", "zh")]
    assert at.session_state["conv.bias"] == 0.5 and at.query_params["conv.bias"] == "0.5"
    assert {key: at.query_params[key] for key in ("conv.preset", "conv.channel_mode")} == {
        "conv.preset": "emboss", "conv.channel_mode": "sum"}
