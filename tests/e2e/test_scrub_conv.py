"""Convolution on the photo's scrubbing view in chromium: pressing a slider brings its frames (one rerun),
then the output picture, its size and its range follow the pointer (torch's numbers, the engine's picture)
with no rerun while held, and so do the code panel and the pixel clicked's arithmetic (places); a release
updates the URL and keeps the frames; the keyboard moves a slider; a click on the output still picks the
pixel (``test_click.py``)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from cnnviz import codegen, i18n, kernels
from cnnviz.images import load_sample
from tests.conv_reference import reference_output
from tests.e2e import harness
from tests.e2e.scrub_driver import (
    CONV_KERNEL,
    CONV_PHOTO,
    LESSONS,
    conv_expected,
    frames_ready,
    matches_engine,
    placed,
    shown,
    slider_values,
    thumb_x,
    view,
)

pytestmark = pytest.mark.e2e

DEFAULTS = {"stride": 1, "padding": 0, "dilation": 1, "bias": 0.0}


def open_conv(tab: Page, base_url: str) -> None:
    harness.open_app(tab, f"{base_url}{LESSONS['convolution'].path}")
    view(tab).locator(".click-frame img").first.wait_for()


def press(tab: Page, name: str, value: float) -> None:
    """Press slider ``name``'s thumb at ``value``: the view asks for its frames (a rerun) and gets them."""
    tab.mouse.move(*thumb_x(tab, name, value))
    with harness.rerun(tab):
        tab.mouse.down()
    frames_ready(tab, name)


def places_follow(tab: Page, values: dict[str, float]) -> None:
    """The code panel holds the engine's code for the sliders' values, and the pixel panel the centre pixel's
    arithmetic, landing on torch's output (both collapsed or below the fold: their text is there all the same)."""
    geometry = (int(values["stride"]), int(values["padding"]), int(values["dilation"]))
    code = codegen.conv2d_on_image(f"assets/samples/{CONV_PHOTO}", i18n.translate("conv.code_sample", "en"),
                                   kernels.preset(CONV_KERNEL), "gray", *geometry, bias=values["bias"])  # fmt: skip
    assert placed(tab, "conv.scrub", "code").locator(".cnnviz-code code").text_content() == code
    out = reference_output(load_sample(CONV_PHOTO).pixels, kernels.preset(CONV_KERNEL), "gray", *geometry,
                           bias=values["bias"]).numpy()[0]  # fmt: skip
    row, col = out.shape[0] // 2, out.shape[1] // 2
    pixel = placed(tab, "conv.scrub", "pixel")
    assert f"Where output pixel (row {row}, column {col}) comes from" in pixel.locator("h3").text_content()
    latex = pixel.locator("annotation").text_content()
    assert float(latex.rsplit(r"\mathbf{", 1)[1].rstrip("}")) == pytest.approx(out[row, col], abs=6e-5)


@pytest.mark.parametrize("name", list(DEFAULTS))
def test_dragging_each_slider_shows_torchs_output_at_every_position(tab, app_server, name):
    open_conv(tab, app_server.url)
    values, default = slider_values(tab, name), DEFAULTS[name]
    press(tab, name, default)
    runs = harness.runs(tab)
    for value in sorted({values[0], values[1], values[len(values) // 2], values[-2], values[-1], default},
                        key=lambda v: abs(v - default)):  # fmt: skip
        tab.mouse.move(*thumb_x(tab, name, value), steps=3)
        seen = shown(tab)
        assert seen["values"][name] == value
        assert matches_engine(seen, "convolution"), (seen["values"], conv_expected(seen["values"])["heading"])
        places_follow(tab, seen["values"])
    assert harness.runs(tab) == runs  # no rerun while the pointer is held
    with harness.rerun(tab):
        tab.mouse.up()
    in_url = tab.evaluate("(key) => new URL(location.href).searchParams.get(key)", f"conv.{name}")
    assert in_url == (None if value == default else str(value))
    assert shown(tab)["values"][name] == value and matches_engine(shown(tab), "convolution")
    # The frames stay: pressing the slider again asks the server for nothing.
    tab.mouse.move(*thumb_x(tab, name, value))
    tab.mouse.down()
    tab.mouse.move(*thumb_x(tab, name, values[1]), steps=3)
    assert harness.runs(tab) == runs + 1 and matches_engine(shown(tab), "convolution")
    with harness.rerun(tab):
        tab.mouse.up()


def test_keyboard_and_release_update_the_url_and_the_code(tab, app_server):
    open_conv(tab, app_server.url)
    bias = view(tab).locator('input[name="bias"]')
    bias.focus()
    for _ in range(2):
        with harness.rerun(tab):
            bias.press("ArrowRight")
    seen = shown(tab)
    assert seen["values"]["bias"] == 0.2 and matches_engine(seen, "convolution")
    assert bias.get_attribute("aria-valuetext") == "0.2" and "conv.bias=0.2" in tab.url
    main = tab.locator(harness.MAIN)
    main.locator('[data-testid="stExpander"] summary').first.click()
    assert "layer.bias.fill_(0.2)" in placed(tab, "conv.scrub", "code").locator("code").text_content()
    stride = view(tab).locator('input[name="stride"]')
    stride.focus()
    with harness.rerun(tab):
        stride.press("End")
    assert "conv.stride=8" in tab.url and matches_engine(shown(tab), "convolution")
    assert "stride=8" in placed(tab, "conv.scrub", "code").locator("code").text_content()
    assert "Where output pixel (row 19, column 28) comes from" in main.inner_text()  # the centre of 38 x 57
