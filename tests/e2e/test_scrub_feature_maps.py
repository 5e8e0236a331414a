"""Feature maps' Example view in chromium: the example's picture, the network's answer and every layer's
maps follow the pointer, each frame the engine's (its pictures by digest, the answer in words), for the
digits and the shapes network; the keyboard moves it; a release updates the URL and the panels below
(the closer look, the attribution map) and does not send the pictures again."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from cnnviz import features
from cnnviz.drawing.feature_maps_view import example_frame_set
from cnnviz.drawing.frames import split_pictures
from pages import scrub_view
from tests.e2e.scrub_driver import (
    drag_through,
    ends_and_middle,
    fmap_examples,
    matches_engine,
    open_lesson,
    press,
    shown,
    url_value,
)

pytestmark = pytest.mark.e2e

KEY = "fmap.scrub"
CLOSER = '[data-testid="stMain"] .cnnviz-caption'  # the closer look's captions (outside the view)


@pytest.mark.parametrize("lesson", ["feature_maps", "feature_maps_shapes"])
def test_dragging_the_example_shows_the_engines_frame_at_every_position(tab, app_server, lesson):
    open_lesson(tab, app_server.url, lesson)
    seen = drag_through(tab, lesson, "example", ends_and_middle(tab, lesson, "example"))
    assert seen["values"] == {"example": 20}  # the class's last held-out example


def map_caption(tab: Page) -> str:
    """The closer look's caption under channel 0 of features.0 (its range: another example, other numbers)."""
    return next(text for text in tab.locator(CLOSER).all_inner_texts() if " map, values from " in text)


def attribution_picture(tab: Page) -> str:
    """The source of the attribution panel's map (a ``data:`` picture)."""
    return tab.locator('[data-testid="stMain"] img[alt="The map"]').first.get_attribute("src")


def test_keyboard_and_release_update_the_url_and_the_panels_below(tab, app_server):
    messages: list[int] = []  # the size of every websocket message the page receives
    tab.on("websocket", lambda socket: socket.on("framereceived", lambda payload: messages.append(len(payload))))
    open_lesson(tab, app_server.url, "feature_maps")
    examples = fmap_examples("digits", 0)
    _, found = split_pictures(example_frame_set(examples, 1, "layer"))
    pictures = len(scrub_view.pack_pictures(found))  # the picture set as the page sends it
    assert max(messages) >= pictures  # it came with the page
    before, loaded = attribution_picture(tab), len(messages)
    seen = press(tab, "feature_maps", "example", "ArrowRight")
    assert seen["values"] == {"example": 2} and matches_engine(seen, "feature_maps")
    assert url_value(tab, "fmap.example") == "2"
    assert tab.locator(f".st-key-{KEY.replace('.', '-')} input[name=example]").get_attribute("aria-valuetext") == "2"
    # The release sent new frames and panels, not the pictures again (a reference to what the browser holds).
    assert max(messages[loaded:]) < pictures / 2, (max(messages[loaded:]), pictures)
    # The panels below follow: channel 0 of features.0 for the second test zero, as the engine has it ...
    network = examples.network
    values = features.feature_maps(network.model, network.prepare(examples.pictures[1], native=True).tensor)
    channel = values.layer("features.0").maps[0]
    assert f"values from {channel.min():.3g} to {channel.max():.3g}" in map_caption(tab)
    assert attribution_picture(tab) != before  # ... and where the network looks
    at_end = press(tab, "feature_maps", "example", "End")
    assert at_end["values"] == {"example": 20} and matches_engine(at_end, "feature_maps")
    assert url_value(tab, "fmap.example") == "20"


def test_a_link_opens_the_view_on_its_example(tab, app_server):
    open_lesson(tab, app_server.url, "feature_maps", "?fmap.example=7")
    seen = shown(tab, KEY)
    assert seen["values"] == {"example": 7} and matches_engine(seen, "feature_maps")
