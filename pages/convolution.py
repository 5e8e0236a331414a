"""Lesson: the current image convolved live with a preset or typed kernel."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from cnnviz import convolution, images, kernels
from cnnviz.drawing import convolution_view, grids
from cnnviz.drawing.convolution_view import CONV_SLIDERS, ConvSetup, Script
from pages import scrub_view, ui
from pages.click_view import clicked

DEFAULT_PRESET = "sobel x"
SOURCES = ["preset", "custom"]
#: Where the output pixel clicked is kept (session and URL): "row,col,map" (map: 0, or R, G, B = 0, 1, 2).
PIXEL_KEY = "conv.pixel"
#: The scrubbing view's widget key; its sliders are ``conv.stride``, ``conv.padding``, ``conv.dilation``, ``conv.bias``.
VIEW_KEY = "conv.scrub"


@st.cache_data(max_entries=12, show_spinner=False)  # 0.1-4 MB each (bench/conv_frames.py)
def frames(_setup: ConvSetup, context: str, values: tuple[tuple[str, float], ...], pressed: str | None,
           clicked_pixel: tuple[int, int, int] | None, lang: str, _script: Script) -> bytes:  # fmt: skip
    """The scrubbing view's frames, packed: the base frame, and the pressed slider's frames if one was.

    ``context`` (``convolution_view.frames_context``: the photo's digest, the kernel, the modes,
    the click, the language, where the code loads the photo from) stands for ``_setup`` and
    ``_script``, which are not hashed: a large photo's pixels would be hashed on every run.
    """
    frame_set = convolution_view.conv_frame_set(_setup, dict(values), clicked_pixel, lang, pressed, _script)
    return scrub_view.pack(frame_set)


# --- the kernel ------------------------------------------------------------------------------


def kernel_to_text(cells: list[list[str]]) -> str:
    """Rows joined by ';', cells by ',': how a typed kernel travels in the URL."""
    return ";".join(",".join(row) for row in cells)


def text_to_cells(text: str, size: int) -> list[list[str]] | None:
    cells = [row.split(",") for row in text.split(";")]
    return cells if len(cells) == size and all(len(row) == size for row in cells) else None


def starting_cells(size: int, preset_name: str) -> list[list[str]]:
    """What the editor starts from: the URL's kernel, else the preset if it has this size, else identity."""
    from_url = text_to_cells(st.query_params.get("conv.kernel", ""), size)
    if from_url is not None:
        return from_url
    start = kernels.PRESETS.get(preset_name)
    if start is None or start.shape != (size, size):
        start = np.zeros((size, size))
        start[(size - 1) // 2, (size - 1) // 2] = 1
    return [[f"{value:.4g}" for value in row] for row in start]


def custom_kernel(preset_name: str) -> np.ndarray | None:
    """The editable grid; returns the kernel, or None after showing why its cells are not usable."""
    size = st.slider(ui.t("conv.size"), 3, kernels.MAX_KERNEL_SIZE, 3, key="conv.size", bind="query-params")
    start = pd.DataFrame(starting_cells(size, preset_name), columns=[str(c + 1) for c in range(size)])
    column = st.column_config.TextColumn(width=44)
    edited = st.data_editor(
        start, key=f"conv.kernel_{size}", hide_index=True, num_rows="fixed",
        column_config={name: column for name in start.columns},
    )  # fmt: skip
    st.caption(ui.t("conv.editor_help"))
    cells = [[None if pd.isna(cell) else str(cell) for cell in row] for row in edited.itertuples(index=False)]
    if not any("," in cell or ";" in cell for row in cells for cell in row if cell):
        # Kept in the URL (and in the session, where app.py's link check looks) for sharing.
        text = kernel_to_text([[cell or "" for cell in row] for row in cells])
        st.query_params["conv.kernel"] = st.session_state["conv.kernel"] = text
    try:
        return kernels.parse_kernel(cells)
    except ValueError as error:
        st.error(ui.t("conv.bad_kernel", reason=ui.explain(error)), icon=":material/edit_off:")
        return None


def describe(kernel: np.ndarray, preset_name: str | None) -> str:
    kind, total = kernels.weight_sum(kernel)
    what = ui.t(f"conv.what.{preset_name}") + " " if preset_name else ""
    return what + ui.t(f"conv.sum.{kind}", total=f"{total:g}")


# --- the page --------------------------------------------------------------------------------


def kernel_controls() -> tuple[np.ndarray | None, bool]:
    """Left column: the kernel, what it does, and flip. Returns (kernel or None, flip)."""
    source = ui.url_choice(
        st.segmented_control, ui.t("conv.source"), SOURCES, SOURCES[0], "conv.source", required=True,
        format_func=lambda name: ui.t(f"conv.source.{name}"),
    )  # fmt: skip
    names = list(kernels.PRESETS)
    preset_name = ui.url_choice(
        st.selectbox, ui.t("conv.preset"), names, DEFAULT_PRESET, "conv.preset", disabled=source == "custom",
        format_func=lambda name: ui.t(f"conv.preset.{name}"),
    )  # fmt: skip
    if source == "custom":
        kernel, preset_name = custom_kernel(preset_name), None
    else:
        kernel = kernels.preset(preset_name)
    flip = st.toggle(ui.t("conv.flip"), key="conv.flip", bind="query-params", help=ui.t("conv.flip_help"))
    if kernel is not None:
        with ui.panel("conv.kernel"):
            kernel_view(kernel, preset_name, flip).draw()
    return kernel, flip


def kernel_view(kernel: np.ndarray, preset_name: str | None, flip: bool) -> ui.View:
    """The kernel as applied (rotated when flipped), as numbers on colours, and what it does."""
    applied = np.flip(kernel, (0, 1)) if flip else kernel
    cell = 44 if kernel.shape[1] <= 4 else 34
    title = ui.t("conv.kernel_flipped" if flip else "conv.kernel")
    grid = grids.number_grid_html(applied, title, decimals=3, cell_px=cell)
    return ui.View().html(grid).caption(describe(kernel, preset_name))


def mode_controls() -> tuple[str, str]:
    """The row above the view: which channels are convolved, and what fills the padding."""
    modes, padding_modes = list(convolution.CHANNEL_MODES), list(convolution.PADDING_MODES)
    with st.container(horizontal=True, gap="small"):  # one block, not st.columns' two; wraps on a phone
        channel_mode = ui.url_choice(
            st.selectbox, ui.t("conv.channels"), modes, modes[0], "conv.channel_mode", help=ui.t("conv.channels_help"),
            format_func=lambda mode: ui.t(f"conv.channel.{mode}"), width=240,  # its options whole, at 1024 px
        )  # fmt: skip
        padding_mode = ui.url_choice(
            st.selectbox, ui.t("conv.padding_mode"), padding_modes, padding_modes[0], "conv.padding_mode",
            format_func=lambda mode: ui.t(f"conv.padding_mode.{mode}"), width=240,
        )  # fmt: skip
    return channel_mode, padding_mode


def output_view(setup: ConvSetup, values: dict, script: Script) -> None:
    """The scrubbing view: stride, padding, dilation and bias over the input and the output pictures.

    While a slider is dragged, the browser swaps the frames ``cnnviz/drawing/convolution_view.py``
    drew (asked for when the slider is pressed: they are pictures); a release stores the setting
    in ``st.session_state["conv.<name>"]`` and the URL; a click on the output stores the pixel.
    The frames hold the code and the pixel clicked's arithmetic too, drawn in places (``lesson``).
    """
    pixel = clicked(PIXEL_KEY, 3)
    context = convolution_view.frames_context(setup, pixel, ui.lang(), script)
    pressed = scrub_view.pressed(VIEW_KEY)
    packed = frames(setup, context, tuple(values.items()), pressed, pixel, ui.lang(), script)
    scrub_view.scrub_view(VIEW_KEY, "conv", list(CONV_SLIDERS), packed, clicks=PIXEL_KEY)
    scrub_view.values_to_url("conv", CONV_SLIDERS, values)


def nearest_settings(image: images.LoadedImage, setup: ConvSetup, values: dict) -> list:
    """The nearest settings that have an output when these have none (``convolution.suggest_valid_settings``)."""
    if setup.kernel is None:
        return []
    geometry = {name: values[name] for name in ("stride", "padding", "dilation")}
    return convolution.suggest_valid_settings(
        *image.pixels.shape[:2], setup.weights.shape, **geometry, padding_mode=setup.padding_mode,
        max_padding=CONV_SLIDERS["padding"][1], max_dilation=CONV_SLIDERS["dilation"][1],
    )  # fmt: skip


def script(image: images.LoadedImage) -> Script:
    """Where the shown code loads the photo from, as the page got it (a sample, an upload; shrunk or not)."""
    if image.name:
        path, source = f"assets/samples/{image.name}", ui.t("conv.code_sample")
    else:
        upload = st.session_state.get("upload")
        path, source = getattr(upload, "name", None) or "my_image.png", ui.t("conv.code_upload")
    shrunk = max(image.original_size) > max(image.pixels.shape[:2])
    return Script(path, source, images.WORKING_SIDE if shrunk else None)


@st.fragment
def lesson() -> None:
    """Everything below the title; a widget change reruns only this.

    The pictures, the output's size, range and legend and the size formula are one scrubbing
    view (``output_view``); the kernel, the channel and padding modes stay Streamlit widgets. The
    code and the arithmetic of the pixel clicked are parts of the view's frames, drawn in places
    (``convolution_view.PLACES``): they follow the sliders, and a release redraws neither.
    """
    image = ui.current_image()
    kernel_column, result_column = st.columns([1.3, 3], gap="medium")  # 1.3: its labels fit at 1024 px
    with kernel_column:
        kernel, flip = kernel_controls()
    with result_column:
        channel_mode, padding_mode = mode_controls()
        values = scrub_view.values_from_url("conv", CONV_SLIDERS)
        setup = ConvSetup.of(image.pixels, kernel, channel_mode, padding_mode, flip)
        with ui.panel("conv.output"):
            output_view(setup, values, script(image))
            ui.setting_buttons(nearest_settings(image, setup, values), "conv")  # none when the settings work
        with ui.panel("conv.code"):
            ui.view_code_panel(VIEW_KEY)
    with ui.panel("conv.pixel"):
        scrub_view.place(VIEW_KEY, "pixel")  # empty when there is no output


st.title(ui.t("conv.title"))
st.caption(ui.t("conv.intro"))
lesson()
