"""Lesson: convolution one window at a time, on a grid of numbers small enough to check by hand."""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnnviz import codegen, convolution, figures, grid_text, kernels
from pages import ui

SOURCES = ["image", "random", "typed"]
DEFAULT_KERNEL = "sobel x"
#: The kernel menu's last entry: a kernel typed as text.
TYPED_KERNEL = "typed"
MAX_GRID, MAX_PADDING, MAX_DILATION = 10, 3, 3
#: Smallest grid cell, in pixels: numbers are written at 13 px from 36 px cells up (``figures.number_grid_html``),
#: readable on a projector; a grid wider than its column scrolls instead of shrinking.
MIN_CELL = 36
PLAY_SECONDS = 1.0
#: Pixels per setting slider: the row of settings stays one row down to a 1280 px window.
SLIDER_WIDTH = 88


def number(value: float) -> str:
    """A number as a student writes it: at most 3 decimals, no trailing zeros, a true minus sign."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text.replace("-", "−")


# --- controls ----------------------------------------------------------------------------------


def grid_controls() -> tuple[np.ndarray | None, np.ndarray | None, dict, bool]:
    """The row of settings above the lesson, and the text areas of a typed grid or kernel.

    Returns (grid (h, w), kernel (k, k), geometry settings, flip); the grid or the kernel is
    None when its typed text is not usable (a message under it says why).
    """
    with st.container(horizontal=True, gap="xsmall", vertical_alignment="bottom"):  # one block, not eight
        source = ui.url_choice(
            st.segmented_control, ui.t("steps.source"), SOURCES, SOURCES[0], "steps.source", required=True,
            help=ui.t("steps.source_help"), format_func=lambda name: ui.t(f"steps.source.{name}"),
        )  # fmt: skip
        size = st.slider(ui.t("steps.size"), 4, MAX_GRID, 6, key="steps.size", bind="query-params",
                         width=SLIDER_WIDTH + 16, disabled=source == "typed")  # fmt: skip
        names = [*kernels.PRESETS, TYPED_KERNEL]
        kernel_name = ui.url_choice(st.selectbox, ui.t("steps.kernel"), names, DEFAULT_KERNEL, "steps.kernel",
                                    format_func=kernel_label)  # fmt: skip
        settings = {
            "stride": st.slider(ui.t("conv.stride"), 1, 3, 1, key="steps.stride", bind="query-params",
                                help=ui.t("conv.stride_help"), width=SLIDER_WIDTH),
            "padding": st.slider(ui.t("conv.padding"), 0, MAX_PADDING, 1, key="steps.padding", bind="query-params",
                                 help=ui.t("conv.padding_help"), width=SLIDER_WIDTH),
            "dilation": st.slider(ui.t("conv.dilation"), 1, MAX_DILATION, 1, key="steps.dilation",
                                  bind="query-params", help=ui.t("conv.dilation_help"), width=SLIDER_WIDTH),
        }  # fmt: skip
        with st.popover("", icon=":material/tune:", help=ui.t("steps.more")):
            modes = list(convolution.PADDING_MODES)
            settings["padding_mode"] = ui.url_choice(
                st.selectbox, ui.t("conv.padding_mode"), modes, modes[0], "steps.padding_mode",
                format_func=lambda mode: ui.t(f"conv.padding_mode.{mode}"),
            )  # fmt: skip
            flip = st.toggle(ui.t("conv.flip"), key="steps.flip", bind="query-params", help=ui.t("conv.flip_help"))
            seed = st.number_input(ui.t("steps.seed"), 0, 9999, 0, key="steps.seed", bind="query-params",
                                   disabled=source != "random")  # fmt: skip
    if source == "random":
        grid = convolution.random_grid(size, int(seed))
    else:
        grid = convolution.digit_grid(ui.current_image().gray, size)
    if kernel_name != TYPED_KERNEL:
        st.session_state["steps.kernel.preset"] = kernel_name  # what a typed kernel starts from
    kernel = kernels.preset(kernel_name) if kernel_name != TYPED_KERNEL else None
    if source == "typed" or kernel is None:
        with st.container(horizontal=True, gap="medium"):  # the typed grid and kernel side by side
            if source == "typed":
                grid = typed_grid("steps.grid", ui.t("steps.grid_text"), grid, MAX_GRID)
            if kernel is None:
                start = kernels.preset(st.session_state.get("steps.kernel.preset", DEFAULT_KERNEL))
                kernel = typed_grid("steps.weights", ui.t("steps.kernel_text"), start, kernels.MAX_KERNEL_SIZE, True)
    for key, used in (("steps.grid", source == "typed"), ("steps.weights", kernel_name == TYPED_KERNEL)):
        if not used and key in st.query_params:  # the text stays in the session for a way back
            del st.query_params[key]
    return grid, kernel, settings, flip


def kernel_label(name: str) -> str:
    return ui.t("steps.kernel.typed") if name == TYPED_KERNEL else ui.t(f"conv.preset.{name}")


def typed_grid(key: str, label: str, start: np.ndarray, most: int, square: bool = False) -> np.ndarray | None:
    """Numbers typed in a text area, one row per line; None after saying, in the user's language, why
    the text is not a grid. The text is kept in the URL (a link restores it) and in the session."""
    kept = f"{key}.kept"  # a widget's state goes when it is hidden: the text outlives it here
    if key not in st.session_state:
        st.session_state[key] = st.query_params.get(key) or st.session_state.get(kept) or grid_text.grid_to_text(start)
    with st.container(width=300):
        text = st.text_area(label, key=key, height=180, help=ui.t("steps.typed_help", most=most))
        st.session_state[kept] = st.query_params[key] = text
        try:
            return grid_text.parse_grid(text, most, square)
        except grid_text.GridTextError as error:
            st.error(ui.t(f"steps.typed.{error.reason}", **error.values), icon=":material/edit_off:")
            return None


def move(step: int, total: int) -> None:
    st.session_state["steps.position"] = (st.session_state["steps.position"] - 1 + step) % total + 1


def position_controls(total: int, playing: bool) -> int:
    """Previous / slider / next / play; returns the 1-based output cell."""
    position = st.session_state.get("steps.position")
    if position is None:
        wanted = st.query_params.get("steps.position", "1")
        position = int(wanted) if wanted.isdigit() else 1
    if playing:
        position = position % total + 1
    st.session_state["steps.position"] = min(max(position, 1), total)
    with st.container(horizontal=True, vertical_alignment="bottom"):  # one block, not five
        st.button("", icon=":material/chevron_left:", key="steps.previous", help=ui.t("steps.previous"),
                  on_click=move, args=(-1, total))  # fmt: skip
        if total == 1:
            st.caption(ui.t("steps.position") + ": 1 / 1", width="stretch")
            position = 1
        else:
            position = st.slider(ui.t("steps.position"), 1, total, key="steps.position")
            st.query_params["steps.position"] = str(position)
        st.button("", icon=":material/chevron_right:", key="steps.next", help=ui.t("steps.next"),
                  on_click=move, args=(1, total))  # fmt: skip
        st.toggle(ui.t("steps.play"), key="steps.play")
    return position


# --- panels ------------------------------------------------------------------------------------


def cell_size(values: np.ndarray, decimals: int, room: int, largest: int = 40) -> int:
    """Pixels per cell: the grid's width in about ``room`` pixels, never below ``MIN_CELL`` nor
    narrower than its longest number at 13 px (a wider grid scrolls)."""
    longest = max((len(text) for text in figures.number_text(values, decimals).ravel()), default=1)
    fitted = min(largest, max(MIN_CELL, room // max(values.shape[1], 1)))
    return int(max(fitted, 8 * longest + 6))


def decimals_for(grid: np.ndarray) -> int:
    """Whole numbers (the image's 0..9, random grids) without decimals; typed fractions with 2."""
    return 0 if np.array_equal(grid, np.round(grid)) else 2


# One grid per view (numbers, outlined cells, translated title), shared by every session: the
# player and the position slider revisit the same steps.
@st.cache_data(max_entries=512, show_spinner=False)
def grid_html(
    values: np.ndarray, title: str, highlight: tuple[tuple[int, int], ...] = (), shaded: np.ndarray | None = None,
    decimals: int = 2, signed: bool = True, cell_px: int = 44,
) -> str:  # fmt: skip
    """``figures.number_grid_html``, cached."""
    return figures.number_grid_html(
        values, title, highlight=highlight, shaded=shaded, decimals=decimals, signed=signed, cell_px=cell_px
    )


def sum_text(step: convolution.ConvStep) -> str:
    """'6×(−1) + 3×0 + … = −10': the products in reading order, as a student writes them."""

    def factor(value: float) -> str:
        return f"({number(value)})" if value < 0 else number(value)

    terms = [f"{factor(x)}×{factor(w)}" for x, w in zip(step.window.ravel(), step.kernel.ravel(), strict=True)]
    return " + ".join(terms) + f" = **{number(step.value)}**"


def step_view(grid: np.ndarray, kernel: np.ndarray, settings: dict, flip: bool, position: int,
              output: np.ndarray) -> ui.View:  # fmt: skip
    """The sum, then the input with the window, kernel and products, and the output filled so far."""
    out_h, out_w = output.shape
    row, col = divmod(position - 1, out_w)
    step = convolution.conv_step(grid, kernel, row, col, **settings, flip=flip)
    cell = ui.t("steps.cell", index=position, total=output.size, row=row + 1, col=col + 1)
    view = ui.View().text(f"**{cell}**: {sum_text(step)}")
    padding = settings["padding"]
    padded = convolution.pad_grid(grid, padding, settings["padding_mode"])
    shaded = np.ones(padded.shape, bool)
    shaded[padding : padding + grid.shape[0], padding : padding + grid.shape[1]] = False
    taps = tuple((int(r), int(c)) for r in step.tap_rows for c in step.tap_cols)
    so_far = np.full(output.shape, np.nan)
    so_far.flat[:position] = output.flat[:position]
    input_cell, kernel_cell, output_cell = (
        cell_size(padded, decimals_for(padded), 300), max(cell_size(step.kernel, 3, 130), cell_size(step.products, 3, 130)),
        cell_size(output, 2, 240),
    )  # fmt: skip
    input_title = ui.t("steps.input" if padding else "steps.input_plain")
    kernel_title = ui.t("steps.kernel_flipped" if flip else "steps.kernel_title")
    view.html(
        '<div style="max-width:100%;overflow-x:auto">'  # a grid wider than the column scrolls
        + figures.side_by_side_html(
            grid_html(padded, input_title, taps, shaded if padding else None, decimals=decimals_for(padded), signed=False,
                      cell_px=input_cell),
            grid_html(step.kernel, kernel_title, decimals=3, cell_px=kernel_cell)
            + grid_html(step.products, ui.t("steps.products"), decimals=3, cell_px=kernel_cell),
            grid_html(so_far, ui.t("steps.output", height=out_h, width=out_w), ((row, col),), decimals=2,
                      cell_px=output_cell),
        )
        + "</div>"
    )  # fmt: skip
    return view.caption(ui.t("steps.path", stride=settings["stride"], dilation=settings["dilation"]))


def im2col_view(kernel_row: np.ndarray, columns: np.ndarray, output: np.ndarray, position: int) -> ui.View:
    """Falk's scheme: the columns on top, the kernel row to their left, the output row below them."""
    size, count = columns.shape
    # Never shrunk to fit: the matrix scrolls sideways (its container has overflow-x: auto).
    decimals = decimals_for(columns)
    cell = max(cell_size(columns, decimals, 700), cell_size(output.reshape(1, -1), 2, 700))
    current = position - 1
    kernel_side = cell_size(kernel_row, 2, 220)
    columns_grid = grid_html(
        columns,
        ui.t("steps.columns", rows=size, cols=count),
        tuple((r, current) for r in range(size)),
        decimals=decimals,
        signed=False,
        cell_px=cell,
    )
    kernel_grid = grid_html(kernel_row, ui.t("steps.kernel_row", size=size), decimals=2, cell_px=kernel_side)
    output_grid = grid_html(output.reshape(1, -1), ui.t("steps.output_row", cols=count), ((0, current),),
                            decimals=2, cell_px=cell)  # fmt: skip
    # Falk's scheme as a 2 x 2 table: the columns top right, the kernel row left of the output row.
    return (
        ui.View()
        .heading(ui.t("steps.im2col"))
        .caption(ui.t("steps.im2col_intro"))
        .html(
            '<div style="display:grid;grid-template-columns:max-content max-content;gap:8px 24px;align-items:end;'
            'max-width:100%;overflow-x:auto">'
            f"<div></div><div>{columns_grid}</div><div>{kernel_grid}</div><div>{output_grid}</div></div>"
        )
        .caption(ui.t("steps.im2col_note", index=position))
    )


def explain_no_output(error: ValueError, grid: np.ndarray, kernel: np.ndarray, settings: dict) -> None:
    """The engine's reason, one button per nearest setting that works, and the grid the kernel does not fit."""
    ui.View().note(f"**{ui.t('steps.no_output')}** {ui.explain(error)}", "warning", ":material/block:").draw()
    suggestions = convolution.suggest_valid_settings(
        *grid.shape, kernel.shape, **settings, max_padding=MAX_PADDING, max_dilation=MAX_DILATION
    )
    ui.setting_buttons(suggestions, "steps")
    padded = convolution.pad_grid(grid, settings["padding"], settings["padding_mode"])
    decimals = decimals_for(padded)
    cell_px = cell_size(padded, decimals, 300)
    ui.View().html(
        grid_html(padded, ui.t("steps.input_plain"), decimals=decimals, signed=False, cell_px=cell_px)
    ).draw()


@st.fragment
def lesson() -> None:
    """Everything below the title; a change of the grid or the layer reruns only this."""
    grid, kernel, settings, flip = grid_controls()
    if grid is None or kernel is None:
        return  # the text area says why; every other setting stays as it is
    try:
        kernel_row, columns, output = convolution.conv_as_matmul(grid, kernel, **settings, flip=flip)
    except ValueError as error:
        explain_no_output(error, grid, kernel, settings)
        return
    playing = bool(st.session_state.get("steps.play"))
    st.fragment(steps, run_every=PLAY_SECONDS if playing else None)(
        grid, kernel, settings, flip, kernel_row, columns, output, playing
    )


def steps(grid: np.ndarray, kernel: np.ndarray, settings: dict, flip: bool, kernel_row: np.ndarray,
          columns: np.ndarray, output: np.ndarray, timed: bool) -> None:  # fmt: skip
    """The output cell being worked out: stepping (by hand or by the player's timer) reruns only this.

    Each panel's sum, grids and captions are one element (``ui.View``): a step redraws ten elements.
    """
    playing = bool(st.session_state.get("steps.play"))
    if playing != timed:
        st.rerun()  # start or stop the timer: it is set when the fragment is defined
    position = position_controls(output.size, playing)
    with ui.panel("steps.window"):
        step_view(grid, kernel, settings, flip, position, output).draw()
        ui.code_panel(codegen.conv2d_on_grid(grid, kernel, **settings, flip=flip))
    with ui.panel("steps.im2col"):
        im2col_view(kernel_row, columns, output, position).draw()


st.title(ui.t("steps.title"))
st.caption(ui.t("steps.intro"))
lesson()
