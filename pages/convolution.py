"""Lesson: the current image convolved live with a preset or typed kernel."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import streamlit as st

from cnnviz import codegen, conv_pixel, convolution, images, kernels
from cnnviz.drawing import grids
from cnnviz.drawing.marks import Box, marks_svg, window_boxes
from pages import ui
from pages.click_view import Clickable, click_view, clicked

MAX_PADDING, MAX_DILATION, MAX_STRIDE = 10, 8, 8
DEFAULT_PRESET = "sobel x"
SOURCES = ["preset", "custom"]
#: Where the output has no pixel on the canvas it shares with the input.
CANVAS_GREY = 235
#: Pixels per geometry slider: the five controls above the pictures share one row down to a 1280 px window.
SLIDER_WIDTH = 88
#: Where the output pixel clicked is kept (session and URL): "row,col,map" (map: 0, or R, G, B = 0, 1, 2).
PIXEL_KEY = "conv.pixel"


@dataclass
class Shown:
    """One side of the page's pair: words above the picture, the picture (a click view), words below.

    The pictures are a click view (``pages/click_view.py``), not ``st.image``: the window of the
    pixel clicked is drawn over the input and the pixel over the output, at any display size.
    Their ``data:`` sources travel with each rerun, but an unchanged one is not decoded again.
    """

    above: ui.View = field(default_factory=ui.View)
    below: ui.View = field(default_factory=ui.View)
    #: (widget key, pictures, what a click does); None: no picture.
    pictures: tuple[str, list[Clickable], str] | None = None

    def draw(self) -> None:
        self.above.draw()
        if self.pictures is not None:
            key, pictures, label = self.pictures
            click_view(key, PIXEL_KEY, pictures, label, with_picture=True)
        self.below.draw()


@st.cache_data(max_entries=64, show_spinner=False)
def convolve(pixels: np.ndarray, kernel: np.ndarray, channel_mode: str, stride: int, padding: int, dilation: int,
             padding_mode: str, flip: bool, bias: float) -> dict:  # fmt: skip
    """Convolve at the working size; keep only browser-sized images (cached per settings).

    Input and output are drawn on canvases of the same size, pixel for pixel, so a stride
    of 2 visibly halves the output: the input with its padding (what the kernel slides
    over), the output from its top-left corner on grey.

    Returns:
        input, output: the two canvases as JPEGs for the browser (see :func:`picture`);
        output is None for R, G, B separately, which has instead
        maps: each channel's output on its own canvas, the three coloured on one scale. scale: the output's ColourScale. shape: the
        full-size output shape. low, high, mean: its smallest, largest and mean value.
    """
    out = convolution.convolve_image(
        pixels.astype(np.float32) / 255, kernel, channel_mode, stride, padding, dilation, padding_mode, flip, bias
    )
    padded = seen_input(pixels, channel_mode, padding, padding_mode)
    if out.ndim == 3:
        # One colour scale for the three maps: stacked into one (3 H', W') map, coloured, cut apart.
        stacked, scale = grids.map_to_image(np.concatenate(out.transpose(2, 0, 1)), white_at_least=1.0)
        output, maps = None, [picture(on_canvas(part, padded.shape)) for part in np.split(stacked, 3)]
    else:
        shown, scale = grids.map_to_image(out, white_at_least=1.0)  # pixels run 0..1
        output, maps = picture(on_canvas(shown, padded.shape)), []
    return {
        "input": picture(padded),
        "output": output,
        "maps": maps,
        "scale": scale,
        "shape": out.shape,
        "low": float(out.min()),
        "high": float(out.max()),
        "mean": float(out.mean()),
    }


def seen_input(pixels: np.ndarray, channel_mode: str, padding: int, padding_mode: str) -> np.ndarray:
    """What the kernel slides over, as uint8: gray or colour as the channel mode says, with its padding."""
    rgb = pixels.astype(np.float32) / 255
    seen = convolution.to_gray(rgb) if channel_mode == "gray" else rgb
    return np.rint(np.clip(convolution.pad_grid(seen, padding, padding_mode), 0, 1) * 255).astype(np.uint8)


@st.cache_data(max_entries=16, show_spinner=False)
def input_picture(pixels: np.ndarray, channel_mode: str) -> bytes:
    """The input as the channel mode sees it, without padding: shown when there is no output."""
    return picture(seen_input(pixels, channel_mode, 0, "zeros"))


def on_canvas(shown: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """A coloured map from the top-left corner of a grey canvas of the padded input's height and width."""
    canvas = np.full((*shape[:2], 3), CANVAS_GREY, np.uint8)
    canvas[: shown.shape[0], : shown.shape[1]] = shown if shown.ndim == 3 else shown[..., None]
    return canvas


def picture(pixels: np.ndarray) -> bytes:
    """A canvas as the page shows it: a photo as quality-90 JPEG (35 kB for the cat at 480 px;
    quality 100 is 78 kB), a tiny image enlarged with square pixels as PNG."""
    return ui.picture_bytes(pixels, jpeg_quality=90)


def fmt(value: float) -> str:
    return f"{value:.3g}".replace("-", "−")


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


def kernel_controls() -> tuple[np.ndarray | None, float, bool]:
    """Left column: the kernel, what it does, bias and flip. Returns (kernel or None, bias, flip)."""
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
    bias = st.slider(ui.t("conv.bias"), -2.0, 2.0, 0.0, 0.1, key="conv.bias", bind="query-params",
                     help=ui.t("conv.bias_help"))  # fmt: skip
    return kernel, bias, flip


def kernel_view(kernel: np.ndarray, preset_name: str | None, flip: bool) -> ui.View:
    """The kernel as applied (rotated when flipped), as numbers on colours, and what it does."""
    applied = np.flip(kernel, (0, 1)) if flip else kernel
    cell = 44 if kernel.shape[1] <= 4 else 34
    title = ui.t("conv.kernel_flipped" if flip else "conv.kernel")
    grid = grids.number_grid_html(applied, title, decimals=3, cell_px=cell)
    return ui.View().html(grid).caption(describe(kernel, preset_name))


def geometry_controls() -> tuple[str, dict]:
    """The row above the images: channels, stride, padding, padding mode, dilation."""
    modes = list(convolution.CHANNEL_MODES)
    padding_modes = list(convolution.PADDING_MODES)
    with st.container(horizontal=True, gap="xsmall"):  # one block, not st.columns' six; wraps on a phone
        channel_mode = ui.url_choice(
            st.selectbox, ui.t("conv.channels"), modes, modes[0], "conv.channel_mode", help=ui.t("conv.channels_help"),
            format_func=lambda mode: ui.t(f"conv.channel.{mode}"), width=240,  # its options whole, at 1024 px
        )  # fmt: skip
        settings = {
            "stride": st.slider(ui.t("conv.stride"), 1, MAX_STRIDE, 1, key="conv.stride", bind="query-params",
                                help=ui.t("conv.stride_help"), width=SLIDER_WIDTH),
            "padding": st.slider(ui.t("conv.padding"), 0, MAX_PADDING, 0, key="conv.padding", bind="query-params",
                                 help=ui.t("conv.padding_help"), width=SLIDER_WIDTH),
            "padding_mode": ui.url_choice(st.selectbox, ui.t("conv.padding_mode"), padding_modes, padding_modes[0],
                                          "conv.padding_mode", format_func=lambda mode: ui.t(f"conv.padding_mode.{mode}")),
            "dilation": st.slider(ui.t("conv.dilation"), 1, MAX_DILATION, 1, key="conv.dilation",
                                  bind="query-params", help=ui.t("conv.dilation_help"), width=SLIDER_WIDTH),
        }  # fmt: skip
    return channel_mode, settings


def shape_latex(height: int, width: int, kernel: np.ndarray, settings: dict) -> str:
    """The output-size rule, then filled in with this image's numbers for H and W."""
    geometry = (settings["stride"], settings["padding"], settings["dilation"])
    filled = [
        convolution.output_size_latex(height, kernel.shape[0], *geometry, symbol="H"),
        convolution.output_size_latex(width, kernel.shape[1], *geometry, symbol="W"),
    ]
    # "H_out = filled = working = result": the working and the result go on a line of their own,
    # so the formula fits the narrow column of a 1024 px projector instead of running off it.
    rows = [convolution.OUTPUT_SIZE_FORMULA.replace("=", "&=", 1)]
    for row in filled:
        symbol, numbers, working = row.split(" = ", 2)
        rows += [rf"{symbol} &= {numbers}", rf"&= {working}"]
    return r"\begin{aligned}" + r" \\[4pt] ".join(rows) + r"\end{aligned}"  # not \small: its subscripts read at 11.6 px


def output_view(image, kernel: np.ndarray | None, channel_mode: str, settings: dict, flip: bool,
                bias: float) -> tuple[dict | None, Shown, list]:  # fmt: skip
    """The output with its colour legend, or why there is none.

    Returns the cached result (None without output), the view, and the nearest settings that
    work when these cannot (``convolution.suggest_valid_settings``, for buttons).
    """
    shown = Shown()
    view = shown.above
    if kernel is None:
        view.text(f"**{ui.t('conv.output')}**").note(ui.t("conv.fix_kernel"), "info", ":material/arrow_back:")
        return None, shown, []
    try:
        result = convolve(image.pixels, kernel, channel_mode, **settings, flip=flip, bias=bias)
    except ValueError as error:
        view.text(f"**{ui.t('conv.output')}**")
        view.note(f"**{ui.t('conv.no_output')}** {ui.explain(error)}", "warning", ":material/block:")
        fixes = convolution.suggest_valid_settings(
            *image.pixels.shape[:2], kernel.shape, **settings, max_padding=MAX_PADDING, max_dilation=MAX_DILATION
        )
        return None, shown, fixes
    out_h, out_w = result["shape"][:2]
    heading = "conv.output_heading_rgb" if len(result["shape"]) == 3 else "conv.output_heading"
    heading = ui.t(heading, height=out_h, width=out_w)
    view.text(heading)
    view = shown.below
    scale = result["scale"]
    view.html(grids.scale_legend_html(scale))
    legend = "conv.legend.diverging" if scale.colours == "diverging" else "conv.legend.gray"
    if scale.colours == "gray" and scale.low < 0:
        legend = "conv.legend.gray_signed"
    view.caption(
        f"{ui.t('conv.range', low=fmt(result['low']), high=fmt(result['high']))} "
        f"{ui.t(legend, high=fmt(scale.high))} {ui.t('conv.same_scale')}"
        + (f" {ui.t('conv.maps_scale')}" if result["maps"] else "")
    )
    return result, shown, []


def input_view(image, result: dict | None, channel_mode: str, padding: int,
               step: conv_pixel.PixelArithmetic | None) -> Shown:  # fmt: skip
    """What the kernel slides over: the input as convolved (gray or colour, padded), else the image;
    with the window of the output pixel clicked drawn on it."""
    channels = 1 if channel_mode == "gray" else 3
    height, width = image.pixels.shape[:2]
    heading = ui.t("conv.input_heading", height=height, width=width, channels=channels)
    picture = result["input"] if result else input_picture(image.pixels, channel_mode)
    shown = Shown(
        ui.View().text(heading),
        ui.View().caption(ui.t("conv.input_note" if padding else "conv.input_note_plain")),
    )
    rows, cols = (height + 2 * padding, width + 2 * padding) if result else (height, width)
    marks = ""
    if result is not None and step is not None:
        marks = marks_svg(rows, cols, window_boxes(step.tap_rows, step.tap_cols))
        shown.below.caption(ui.t("conv.window_note", row=step.row, col=step.col))
    shown.pictures = (
        "conv.input_marks",
        [Clickable(picture, rows, cols, heading.replace("**", ""), marks=marks, clickable=False)],
        "",
    )
    return shown


def clicked_step(image, kernel: np.ndarray, result: dict | None, channel_mode: str, settings: dict, flip: bool,
                 bias: float) -> conv_pixel.PixelArithmetic | None:  # fmt: skip
    """The arithmetic behind the output pixel clicked (the centre until one is), kept on the output."""
    if result is None:
        return None
    out_h, out_w = result["shape"][:2]
    row, col, picture = clicked(PIXEL_KEY, 3) or (out_h // 2, out_w // 2, 0)
    channel = min(picture, 2) if channel_mode == "per_channel" else 0
    return conv_pixel.pixel_arithmetic(
        image.pixels, kernel, min(row, out_h - 1), min(col, out_w - 1), channel_mode, **settings, flip=flip,
        bias=bias, channel=channel, divide_by=255,
    )  # fmt: skip


def clickable_output(result: dict, step: conv_pixel.PixelArithmetic | None, padded: tuple[int, int]) -> list[Clickable]:
    """The output (or R, G, B's three maps) on their canvases, the pixel clicked marked on its map."""
    pictures = [result["output"]] if result["output"] is not None else result["maps"]
    captions = [""] if result["output"] is not None else [ui.t(f"conv.map.{channel}") for channel in "rgb"]
    marked = [] if step is None else [Box(step.row, step.col, 1, 1, "pixel")]
    return [
        Clickable(picture, *padded, alt=caption or ui.t("conv.output"), caption=caption,
                  marks=marks_svg(*padded, marked) if step is not None and step.channel == index else "",
                  at=None if step is None else (step.row, step.col))
        for index, (picture, caption) in enumerate(zip(pictures, captions, strict=True))
    ]  # fmt: skip


def grids_row(*grids: str) -> ui.View:
    """Number grids side by side, "×" and "=" between them."""
    views, widths = [], []
    for index, grid in enumerate(grids):
        if index:
            views.append(ui.View().html(f'<div class="cnnviz-operator">{"×" if index == 1 else "="}</div>'))
            widths.append(0.3)
        views.append(ui.View().html(grid))
        widths.append(3)
    return ui.View().row(*views, widths=tuple(widths))


def pixel_view(step: conv_pixel.PixelArithmetic, flip: bool) -> ui.View:
    """The window the output pixel clicked came from, times the kernel, and the products' sum."""
    view = ui.View().heading(ui.t("conv.pixel_heading", row=step.row, col=step.col))
    view.caption(ui.t("conv.pixel_help"))
    cell = 44 if step.kernel.shape[1] <= 4 else 34
    kernel_grid = grids.number_grid_html(
        step.kernel, ui.t("conv.kernel_flipped" if flip else "conv.kernel"), decimals=3, cell_px=cell
    )
    sums = step.products.sum(axis=(1, 2))
    for window, products, name, total in zip(step.windows, step.products, step.channels, sums, strict=True):
        channel = ui.t(f"conv.pixel_channel.{name}")
        window_grid = grids.number_grid_html(window, ui.t("conv.pixel_window", channel=channel),
                                               shaded=step.in_padding, decimals=3, signed=False, cell_px=cell)  # fmt: skip
        product_grid = grids.number_grid_html(
            products, ui.t("conv.pixel_products", total=fmt(total)), decimals=3, cell_px=cell
        )
        view.text(grids_row(window_grid, kernel_grid, product_grid).markdown())
    index = r"c,i,j" if len(sums) > 1 else r"i,j"
    terms = " + ".join(f"({total:.4f})" if total < 0 else f"{total:.4f}" for total in sums)
    bias = f"({step.bias:g})" if step.bias < 0 else f"{step.bias:g}"
    view.formula(rf"\sum_{{{index}}} x\,w + b = {terms} + {bias} = \mathbf{{{step.value:.4f}}}")
    notes = ["conv.pixel_sum_note", "conv.pixel_padding_note" if step.in_padding.any() else None]
    value = f"{step.value:.4f}".replace("-", "−")
    return view.caption(" ".join(ui.t(key, value=value) for key in notes if key))


def code(image: images.LoadedImage, kernel: np.ndarray, channel_mode: str, settings: dict, flip: bool,
         bias: float) -> str:  # fmt: skip
    """The PyTorch lines that load this image as the page does and convolve it with these settings."""
    if image.name:
        path, source = f"assets/samples/{image.name}", ui.t("conv.code_sample")
    else:
        upload = st.session_state.get("upload")
        path, source = getattr(upload, "name", None) or "my_image.png", ui.t("conv.code_upload")
    shrunk = max(image.original_size) > max(image.pixels.shape[:2])
    return codegen.conv2d_on_image(
        path, source, kernel, channel_mode, **settings, flip=flip, bias=bias,
        working_side=images.WORKING_SIDE if shrunk else None,
    )  # fmt: skip


@st.fragment
def lesson() -> None:
    """Everything below the title; a widget change reruns only this.

    Each panel's words are one element (``ui.View``): a slider move redraws about twenty-five
    elements, not forty.
    """
    image = ui.current_image()
    height, width = image.pixels.shape[:2]
    kernel_column, result_column = st.columns([1.3, 3], gap="medium")  # 1.3: its labels fit at 1024 px
    with kernel_column:
        kernel, bias, flip = kernel_controls()
    with result_column:
        channel_mode, settings = geometry_controls()
        result, output, fixes, shown_input, step = None, Shown(), [], Shown(), None  # what stays if a panel fails
        with ui.panel("conv.output"):
            result, output, fixes = output_view(image, kernel, channel_mode, settings, flip, bias)
        with ui.panel("conv.pixel"):
            step = clicked_step(image, kernel, result, channel_mode, settings, flip, bias)
        with ui.panel("conv.input"):
            shown_input = input_view(image, result, channel_mode, settings["padding"], step)
        padded = (height + 2 * settings["padding"], width + 2 * settings["padding"])
        if result is not None and result["output"] is not None:
            output.pictures = ("conv.click", clickable_output(result, step, padded), ui.t("conv.click_help"))
        input_column, output_column = st.columns(2)
        with input_column, ui.panel("conv.input"):
            shown_input.draw()
        with output_column, ui.panel("conv.output"):
            output.draw()
            ui.setting_buttons(fixes, "conv")  # the nearest settings that work, under the reason
        if result is not None and result["maps"]:  # R, G, B separately: the three maps, labelled, full width
            with ui.panel("conv.output"):
                click_view("conv.click_maps", PIXEL_KEY, clickable_output(result, step, padded),
                           ui.t("conv.click_help"), with_picture=True)  # fmt: skip
        if result is not None:
            with ui.panel("conv.formula"):
                formula = (
                    ui.View().text(f"**{ui.t('conv.formula')}**").formula(shape_latex(height, width, kernel, settings))
                )
                formula.caption(ui.t("conv.formula_legend")).draw()
                ui.code_panel(code(image, kernel, channel_mode, settings, flip, bias))
    if step is not None:
        with ui.panel("conv.pixel"):
            pixel_view(step, flip).draw()


st.title(ui.t("conv.title"))
st.caption(ui.t("conv.intro"))
lesson()
