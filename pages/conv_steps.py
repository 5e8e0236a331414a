"""Lesson: convolution one window at a time, on a grid of numbers small enough to check by hand."""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnnviz import convolution, grid_text, kernels
from cnnviz.drawing import conv_steps_view
from cnnviz.drawing.conv_steps_view import STEPS_SLIDERS
from pages import scrub_view, ui

SOURCES = ["image", "random", "typed"]
DEFAULT_KERNEL = "sobel x"
#: The kernel menu's last entry: a kernel typed as text.
TYPED_KERNEL = "typed"
MAX_GRID, MAX_PADDING, MAX_DILATION = (STEPS_SLIDERS[name][1] for name in ("size", "padding", "dilation"))
PLAY_SECONDS = 1.0
VIEW = "steps.scrub"  # the scrubbing view's widget key


# --- controls ----------------------------------------------------------------------------------


def grid_controls() -> tuple[dict, np.ndarray | None, dict, dict, bool]:
    """The row of settings above the lesson, and the text areas of a typed grid or kernel.

    The geometry (grid size, stride, padding, dilation) is the scrubbing view's: read here
    from the session (a release puts it there) or the URL.

    Returns (grid_by_size {size: (h, w)}, or {None: grid} when typed, or {} when the typed text is not
    usable; kernel (k, k) or None; geometry {name: value}; other settings (padding mode); flip).
    """
    with st.container(horizontal=True, gap="small", vertical_alignment="bottom"):  # one block, not five
        source = ui.url_choice(
            st.segmented_control, ui.t("steps.source"), SOURCES, SOURCES[0], "steps.source", required=True,
            help=ui.t("steps.source_help"), format_func=lambda name: ui.t(f"steps.source.{name}"),
        )  # fmt: skip
        names = [*kernels.PRESETS, TYPED_KERNEL]
        kernel_name = ui.url_choice(st.selectbox, ui.t("steps.kernel"), names, DEFAULT_KERNEL, "steps.kernel",
                                    format_func=kernel_label, width=220)  # fmt: skip
        with st.popover("", icon=":material/tune:", help=ui.t("steps.more")):
            modes = list(convolution.PADDING_MODES)
            padding_mode = ui.url_choice(
                st.selectbox, ui.t("conv.padding_mode"), modes, modes[0], "steps.padding_mode",
                format_func=lambda mode: ui.t(f"conv.padding_mode.{mode}"),
            )  # fmt: skip
            flip = st.toggle(ui.t("conv.flip"), key="steps.flip", bind="query-params", help=ui.t("conv.flip_help"))
            seed = st.number_input(ui.t("steps.seed"), 0, 9999, 0, key="steps.seed", bind="query-params",
                                   disabled=source != "random")  # fmt: skip
    geometry = scrub_view.values_from_url("steps", STEPS_SLIDERS)
    sizes = range(STEPS_SLIDERS["size"][0], MAX_GRID + 1)
    if source == "random":
        grid_by_size = {size: convolution.random_grid(size, int(seed)) for size in sizes}
    else:
        grid_by_size = {size: convolution.digit_grid(ui.current_image().gray, size) for size in sizes}
    if kernel_name != TYPED_KERNEL:
        st.session_state["steps.kernel.preset"] = kernel_name  # what a typed kernel starts from
    kernel = kernels.preset(kernel_name) if kernel_name != TYPED_KERNEL else None
    if source == "typed" or kernel is None:
        with st.container(horizontal=True, gap="medium"):  # the typed grid and kernel side by side
            if source == "typed":
                shown = grid_by_size[
                    geometry.pop("size")
                ]  # a typed grid has its own size; it starts as the one on show
                typed = typed_grid("steps.grid", ui.t("steps.grid_text"), shown, MAX_GRID)
                grid_by_size = {} if typed is None else {None: typed}
            if kernel is None:
                start = kernels.preset(st.session_state.get("steps.kernel.preset", DEFAULT_KERNEL))
                kernel = typed_grid("steps.weights", ui.t("steps.kernel_text"), start, kernels.MAX_KERNEL_SIZE, True)
    for key, used in (("steps.grid", source == "typed"), ("steps.weights", kernel_name == TYPED_KERNEL)):
        if not used and key in st.query_params:  # the text stays in the session for a way back
            del st.query_params[key]
    return grid_by_size, kernel, geometry, {"padding_mode": padding_mode}, flip


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


def current_position(total: int, playing: bool) -> int:
    """The 1-based output cell: as last released or stepped, else from the URL; the player moves it on."""
    position = st.session_state.get("steps.position")
    if position is None:
        wanted = st.query_params.get("steps.position", "1")
        position = int(wanted) if wanted.isdigit() else 1
    if playing:
        position = position % total + 1
    st.session_state["steps.position"] = position = min(max(int(position), 1), total)
    if position == 1:
        st.query_params.pop("steps.position", None)
    else:
        st.query_params["steps.position"] = str(position)
    return position


def position_buttons(total: int) -> None:
    """Previous / next / play, under the view."""
    with st.container(horizontal=True, vertical_alignment="center"):  # one block, not four
        st.button("", icon=":material/chevron_left:", key="steps.previous", help=ui.t("steps.previous"),
                  on_click=move, args=(-1, total))  # fmt: skip
        st.button("", icon=":material/chevron_right:", key="steps.next", help=ui.t("steps.next"),
                  on_click=move, args=(1, total))  # fmt: skip
        st.toggle(ui.t("steps.play"), key="steps.play")


# --- panels ------------------------------------------------------------------------------------


@st.cache_data(max_entries=256, show_spinner=False)
def steps_frames(numbers: conv_steps_view.StepsNumbers, values: tuple[tuple[str, int], ...], lang: str) -> bytes:
    """The scrubbing view's frames around ``values`` (name, value pairs), packed."""
    return scrub_view.pack(conv_steps_view.steps_frame_set(numbers, dict(values), lang))


def offer_nearest(grid: np.ndarray, kernel: np.ndarray, settings: dict) -> None:
    """One button per nearest setting that works (the view already says why there is no output)."""
    suggestions = convolution.suggest_valid_settings(
        *grid.shape, kernel.shape, **settings, max_padding=MAX_PADDING, max_dilation=MAX_DILATION
    )
    ui.setting_buttons(suggestions, "steps")


def lesson() -> None:
    """Everything below the title; a step of the player reruns this.

    The geometry sliders, the output cell slider, the sum and the grids are one scrubbing
    view (``pages/scrub_view.py``): while a slider is dragged the browser swaps the frames
    the engine drew for each of its values (``cnnviz/drawing/conv_steps_view.py``); the release
    stores the values in ``st.session_state["steps.<name>"]`` and reruns :func:`released`.
    """
    grid_by_size, kernel, geometry, others, flip = grid_controls()
    if not grid_by_size or kernel is None:
        return  # the text area says why; every other setting stays as it is
    numbers = conv_steps_view.StepsNumbers.of(grid_by_size, kernel, others["padding_mode"], flip)
    released(numbers, kernel, others, flip, "size" in geometry)


@st.fragment
def released(
    numbers: conv_steps_view.StepsNumbers, kernel: np.ndarray, others: dict, flip: bool, sized: bool
) -> None:  # fmt: skip
    """What the scrubbing view's sliders change: a release (or a step) reruns only this, not the row of
    settings above (fewer elements for the browser to redraw: ``bench/RESULTS.md``): the URL, the buttons
    under the view, then the view. The code and the im2col panel are parts of the view's frames, drawn in
    places (``conv_steps_view.PLACES``): they follow the pointer, and a release redraws neither.
    ``sized``: the view has a grid size slider (a typed grid has not)."""
    geometry = scrub_view.values_from_url("steps", STEPS_SLIDERS)
    if not sized:
        geometry.pop("size")
    grid = numbers.grid(geometry.get("size"))
    settings = {name: geometry[name] for name in ("stride", "padding", "dilation")} | others
    try:
        output = convolution.conv_as_matmul(grid, kernel, **settings, flip=flip)[2]
    except ValueError:
        output = None
    playing = bool(st.session_state.get("steps.play"))
    if playing and output is None:  # nothing to play: the toggle is not shown
        st.session_state["steps.play"] = playing = False
    if playing != timed_fragment():
        st.rerun()  # start or stop the timer: it is set when the fragment is defined
    position = current_position(1 if output is None else output.size, playing)
    scrub_view.values_to_url("steps", {name: STEPS_SLIDERS[name] for name in geometry}, geometry)
    with ui.panel("steps.window"):
        view_slot = scrub_view.reserve()  # the view is drawn last, after the panels below
        if output is None:
            offer_nearest(grid, kernel, settings)
        else:
            position_buttons(output.size)
        ui.view_code_panel(VIEW)  # part of the view's frames (conv_steps_view.PLACES): it follows the drag
    with ui.panel("steps.im2col"):
        scrub_view.place(VIEW, "im2col")  # empty when there is no output
    with view_slot, ui.panel("steps.window"):
        values = (*geometry.items(), ("position", position))
        scrub_view.scrub_view(VIEW, "steps", [*geometry, "position"], steps_frames(numbers, values, ui.lang()))


def timed_fragment() -> bool:
    return bool(st.session_state.get("steps.timed"))


st.title(ui.t("steps.title"))
st.caption(ui.t("steps.intro"))
st.session_state["steps.timed"] = bool(st.session_state.get("steps.play"))
st.fragment(lesson, run_every=PLAY_SECONDS if st.session_state["steps.timed"] else None)()
