"""Pooling: window by window on a grid of numbers, its backward pass, on the image, and under shifts."""

import random
from collections.abc import Callable

import numpy as np
import streamlit as st

from cnnviz import pooling, quiz
from cnnviz.drawing import pooling_figures, pooling_view
from cnnviz.drawing.pooling_view import POOL_SLIDERS
from cnnviz.pooling import PoolSettings
from pages import scrub_view, ui

MAX_SHIFT = 6
VIEW = "pool.scrub"  # the scrubbing view's widget key
RELEASED, IMAGE = "pool.released", "pool.image"  # the fragments a release reruns (keys for st.rerun)
IMAGE_SLIDERS = ("kernel", "stride", "padding")  # the view's sliders the image section depends on


def choose(key: str, options: tuple[str, ...], default: str) -> str:
    """A segmented control labelled ``key``, each option labelled ``key.option``; the URL holds the option's id."""
    return ui.url_choice(st.segmented_control, ui.t(key), list(options), default, key, required=True,
                         format_func=lambda option: ui.t(f"{key}.{option}"))  # fmt: skip


def setting(widget, name: str, *args, **options):
    """A layer setting shared through the URL: label ``pool.<name>``, help ``pool.<name>_help``."""
    key = f"pool.{name}"
    return widget(ui.t(key), *args, key=key, bind="query-params", help=ui.t(f"{key}_help"), **options)


def read_layer() -> dict:
    """The pooling layer's kind and options, from the settings column (its window, stride and padding
    are the scrubbing view's: :func:`layer_settings`)."""
    with st.container(border=True):
        kind = choose("pool.kind", pooling.POOL_KINDS, "max")
        windowed = kind != "global_avg"
        ceil_mode = setting(st.toggle, "ceil_mode", False, disabled=not windowed)
        power = setting(st.slider, "p", 1.0, 8.0, 2.0, 0.5, disabled=kind != "lp")
        count_include_pad = setting(st.toggle, "count_include_pad", True, disabled=kind != "avg")
        st.caption(ui.t(f"pool.explain.{kind}"))
    return {"kind": kind, "ceil_mode": ceil_mode, "count_include_pad": count_include_pad, "p": power}


def layer_settings(layer: dict) -> PoolSettings:
    """The pooling layer (shared by every panel): ``layer``'s kind and options, the scrubbing view's
    window, stride and padding (as last released, else from the URL)."""
    geometry = scrub_view.values_from_url("pool", POOL_SLIDERS)
    return PoolSettings(layer["kind"], geometry["kernel"], geometry["stride"], geometry["padding"],
                        layer["ceil_mode"], layer["count_include_pad"], layer["p"])  # fmt: skip


def warn_impossible(error: ValueError, height: int, width: int, settings: PoolSettings) -> None:
    """Why these settings have no output here, and the nearest settings that do."""
    st.warning(pooling_view.impossible_text(error, height, width, settings, ui.lang()), icon=":material/block:")


@st.cache_data(max_entries=32, show_spinner=False)
def grid_from_image(pixels: np.ndarray, size: int) -> np.ndarray:
    return pooling.image_grid(pixels, size)


@st.cache_data(max_entries=32, show_spinner=False)
def map_from_image(pixels: np.ndarray, source: str, side: int) -> np.ndarray:
    return pooling.feature_map(pixels, source, side)


@st.cache_data(max_entries=64, show_spinner=False)
def pooled_grid(grid: np.ndarray, settings: PoolSettings) -> pooling.PooledGrid:
    return pooling.pool_grid(grid, settings)


@st.cache_data(max_entries=32, show_spinner=False)
def pooled_map(values: np.ndarray, settings: PoolSettings) -> np.ndarray:
    return pooling.pool_map(values, settings)


@st.cache_data(max_entries=64, show_spinner=False)
def shifted(values: np.ndarray, settings: PoolSettings) -> pooling.ShiftRobustness:
    return pooling.shift_robustness(values, settings, MAX_SHIFT)


def current_cell(count: int) -> int:
    """The 1-based selected output cell (reading order): as last released, else from the URL; kept within the output."""
    cell = st.session_state.get("pool.cell")
    if cell is None:
        wanted = st.query_params.get("pool.cell", "1")
        cell = int(wanted) if wanted.isdigit() else 1
    st.session_state["pool.cell"] = cell = min(max(int(cell), 1), count)
    if cell == 1:
        st.query_params.pop("pool.cell", None)
    else:
        st.query_params["pool.cell"] = str(cell)
    return cell


@st.cache_data(max_entries=256, show_spinner=False)
def pool_frames(numbers: pooling_view.PoolNumbers, values: tuple[tuple[str, int], ...], lang: str) -> bytes:
    """The scrubbing view's frames around ``values`` (name, value pairs), packed."""
    return scrub_view.pack(pooling_view.pool_frame_set(numbers, dict(values), lang))


# Grids are cached per view (settings, grid, selected cell, translated title) and shared by every session.
@st.cache_data(max_entries=256, show_spinner=False)
def window_grid(
    grid: np.ndarray, settings: PoolSettings, title: str, cell: tuple[int, int] | None,
    values: np.ndarray | None = None, decimals: int = 2, cell_px: int = 44,
) -> str:  # fmt: skip
    """``pooling_figures.layout_html`` of ``grid`` pooled, keyed by the grid (cheaper to hash than its PooledGrid)."""
    pooled = pooling.pool_grid(grid, settings)
    return pooling_figures.layout_html(pooled, title, cell, values=values, decimals=decimals, cell_px=cell_px)


@st.cache_data(max_entries=64, show_spinner=False)
def shift_chart(result: pooling.ShiftRobustness, measure: str, labels: dict[str, str]) -> str:
    return pooling_figures.shift_figure(result, measure, labels)


def show_grid(html: str) -> None:
    st.html(html, width="content")


def grid_source() -> dict[int, np.ndarray]:
    """The grid section's heading and source controls; the grid of each size the view can show."""
    st.subheader(ui.t("pool.grid.header"))
    with st.container(horizontal=True, gap="medium"):  # one block, not st.columns' three
        source = choose("pool.grid.source", ("random", "image"), "random")
        if source == "random":
            seed = st.number_input(
                ui.t("pool.grid.seed"), 0, 999, 0, key="pool.grid.seed", bind="query-params", width=120
            )
    low, high, _ = POOL_SLIDERS["grid.size"]
    if source == "random":
        return {size: pooling.random_grid(size, int(seed)) for size in range(low, high + 1)}
    return {size: grid_from_image(ui.current_image().pixels, size) for size in range(low, high + 1)}


def grid_section(settings: PoolSettings, grid_by_size: dict[int, np.ndarray]) -> Callable[[], None]:
    """The scrubbing view's place (grid size, window, stride, padding, selected cell:
    ``cnnviz/drawing/pooling_view.py``), the code panel and the backward pass. The code and the
    backward pass's grids are parts of the view's frames drawn in places (``pooling_view.PLACES``):
    they follow the sliders, and a release redraws none of them. Returns what draws the view, to
    call last (``scrub_view.reserve``)."""
    sliders = pooling_view.pool_sliders(settings.kind)
    geometry = {name: st.session_state[f"pool.{name}"] for name in POOL_SLIDERS}
    grid = grid_by_size[geometry["grid.size"]]
    scrub_view.values_to_url("pool", POOL_SLIDERS, geometry)
    with ui.panel("pool.forward"):
        view_slot = scrub_view.reserve()
        try:
            pooled = pooled_grid(grid, settings)
        except ValueError:
            pooled = None  # the view says why, and the nearest settings that work
        cell = current_cell(1 if pooled is None else pooled.output.size)
        ui.view_code_panel(VIEW)  # codegen.pool2d for the layer, run on this grid

    with ui.panel("pool.backward"):
        ui.View().heading(ui.t("pool.backward.header")).text(ui.t("pool.backward.intro")).draw()
        upstream = choose("pool.upstream", pooling.UPSTREAMS, "ones")
        scrub_view.place(VIEW, "backward")  # the gradients, the selected cell's window outlined, the rule

    def draw_view() -> None:
        with view_slot, ui.panel("pool.forward"):
            values = {name: geometry[name] for name in sliders}
            values |= {} if settings.kind == "global_avg" else {"cell": cell}
            numbers = pooling_view.PoolNumbers.of(grid_by_size, settings, upstream)
            scrub_view.scrub_view(
                VIEW, "pool", list(values), pool_frames(numbers, tuple(values.items()), ui.lang()),
                on_release=follow_release,
            )  # fmt: skip

    return draw_view


def image_geometry() -> tuple[int, int, int]:
    """The window, stride and padding (as last released): what the image section depends on of the view's sliders."""
    return tuple(st.session_state.get(f"pool.{name}") for name in IMAGE_SLIDERS)


def follow_release() -> None:
    """The view's release callback: a release reruns the view's fragment (the URL, the next frame set),
    and the image section's only when the window, stride or padding moved (not the grid size or the cell)."""
    if st.session_state.get("pool.image.drawn") != image_geometry():
        st.rerun(scope=[RELEASED, IMAGE])


@st.fragment(key=IMAGE)
def image_section(layer: dict) -> None:
    """The pooling layer on the image, and under shifts. Its own fragment, out of a release's rerun
    unless the window, stride or padding moved (:func:`follow_release`)."""
    settings = layer_settings(layer)
    st.session_state["pool.image.drawn"] = image_geometry()
    st.subheader(ui.t("pool.image.header"))
    with st.container(horizontal=True, gap="large"):  # one block, not st.columns' three
        source = choose("pool.image.source", pooling.MAP_SOURCES, "edges")
        side = st.select_slider(
            ui.t("pool.image.side"), (32, 48, 64, 96, 128, 192), 64, key="pool.image.side", bind="query-params",
            help=ui.t("pool.image.side_help"),
        )  # fmt: skip
    values = map_from_image(ui.current_image().pixels, source, side)
    height, width = values.shape

    with ui.panel("pool.image"):
        try:
            pooled = pooled_map(values, settings)
        except ValueError as error:
            warn_impossible(error, height, width, settings)
            return  # the shift panel below would only repeat the warning
        before, after = pooling_figures.shared_display(values, pooled)
        # The shift panel's heading and intro come along: one element fewer per slider move.
        ui.View().html(pooling_figures.pictures_html([
            (before, ui.t("pool.image.before", h=height, w=width)),
            (after, ui.t("pool.image.after", h=after.shape[0], w=after.shape[1])),
        ])).caption(
            ui.t("pool.image.note", ratio=f"{values.size / pooled.size:.1f}")
        ).heading(ui.t("pool.shift.header")).text(ui.t("pool.shift.intro")).draw()  # fmt: skip

    with ui.panel("pool.shift"):
        measure = choose("pool.shift.measure", ("change", "changed"), "change")
        try:
            result = shifted(values, settings)
        except ValueError as error:
            warn_impossible(error, height, width, settings)
            return
        labels = {
            "unpooled": ui.t("pool.shift.unpooled"),
            "pooled": ui.t("pool.shift.pooled"),
            "x": ui.t("pool.shift.x"),
            "y": ui.t(f"pool.shift.y.{measure}"),
        }
        before, after = (
            (result.unpooled_change, result.pooled_change)
            if measure == "change"
            else (result.unpooled_changed, result.pooled_changed)
        )
        summary = ui.t("pool.shift.summary", before=f"{100 * before[0]:.0f}", after=f"{100 * after[0]:.0f}")
        ui.View().svg(shift_chart(result, measure, labels)).caption(summary).draw()


def check_guess(answer: float) -> None:
    guess = st.session_state["pool.quiz.guess"]
    if guess is None:  # nothing typed yet: nothing to score
        return
    right, asked = st.session_state.get("pool.quiz.score", (0, 0))
    st.session_state["pool.quiz.score"] = (right + quiz.is_correct(guess, answer), asked + 1)
    st.session_state["pool.quiz.revealed"] = guess


def next_question() -> None:
    st.session_state["pool.quiz.number"] = st.session_state.get("pool.quiz.number", 0) + 1
    st.session_state["pool.quiz.guess"] = None
    st.session_state.pop("pool.quiz.revealed", None)


@st.fragment
def quiz_section() -> None:
    """Predict, then reveal: a random question, the user's guess, then the answer with its window."""
    with ui.panel("pool.quiz"):
        quiz_panel()


def quiz_panel() -> None:
    st.subheader(ui.t("pool.quiz.header"))
    st.markdown(ui.t("pool.quiz.intro"))
    seed = st.columns([1, 3])[0].number_input(ui.t("pool.quiz.seed"), 0, 999, 0, key="pool.quiz.seed",
                                              bind="query-params", help=ui.t("pool.quiz.seed_help"))  # fmt: skip
    question = quiz.pooled_value_question(random.Random(1000 * int(seed) + st.session_state.get("pool.quiz.number", 0)))
    settings = PoolSettings(question.kind, question.kernel_size, question.stride)
    grid = np.array(question.grid, dtype=float)
    pooled = pooled_grid(grid, settings)
    revealed = st.session_state.get("pool.quiz.revealed")
    cell = (question.row, question.col)
    kind = ui.t(f"pool.kind.{question.kind}")
    st.markdown(ui.t("pool.quiz.question", kind=kind, k=question.kernel_size, s=question.stride,
                     row=question.row + 1, col=question.col + 1))  # fmt: skip
    grid_column, answer_column = st.columns([3, 2])
    with grid_column:
        size = len(question.grid)
        title = ui.t("pool.quiz.grid", h=size, w=size)
        show_grid(window_grid(grid, settings, title, cell if revealed is not None else None))
    with answer_column:
        st.session_state.setdefault("pool.quiz.guess", None)
        # A form sends the typed number with the click: no rerun between typing and checking.
        with st.form("pool.quiz.form", border=False):
            st.number_input(ui.t("pool.quiz.guess"), step=0.25, key="pool.quiz.guess", disabled=revealed is not None)
            st.form_submit_button(ui.t("pool.quiz.check"), key="pool.quiz.check", on_click=check_guess,
                                  args=(question.answer,), disabled=revealed is not None, type="primary")  # fmt: skip
        if revealed is not None:
            if quiz.is_correct(revealed, question.answer):
                st.success(ui.t("pool.quiz.right", answer=f"{question.answer:g}"), icon=":material/check:")
            else:
                st.info(ui.t("pool.quiz.wrong", guess=f"{revealed:g}", answer=f"{question.answer:g}"),
                        icon=":material/close:")  # fmt: skip
            st.latex(pooling_figures.window_latex(pooled, *cell))
        st.button(ui.t("pool.quiz.next"), key="pool.quiz.next", on_click=next_question, icon=":material/casino:")
        right, asked = st.session_state.get("pool.quiz.score", (0, 0))
        st.metric(ui.t("pool.quiz.score"), f"{right} / {asked}")


@st.fragment
def lesson() -> None:
    """The settings and the two sections they feed; moving a setting reruns only this."""
    settings_column, grid_column = st.columns([1, 2.6], gap="medium")
    with settings_column:
        layer = read_layer()
    with grid_column:
        grid_by_size = grid_source()
    released(layer, grid_by_size, grid_column)
    image_section(layer)


@st.fragment(key=RELEASED)
def released(layer: dict, grid_by_size: dict[int, np.ndarray], grid_column) -> None:
    """What the scrubbing view's sliders change: a release reruns only this, not the settings column,
    the grid's source above or the image section below (fewer elements for the browser to redraw:
    ``bench/RESULTS.md``); the image section too when the window, stride or padding moved."""
    with ui.panel("pool.released"):  # a rerun of this alone: its own error boundary
        settings = layer_settings(layer)
        with grid_column:
            draw_view = grid_section(settings, grid_by_size)
        draw_view()  # the scrubbing view last, after the panels (scrub_view.reserve)


st.title(ui.t("pool.title"))
st.markdown(ui.t("pool.intro"))

lesson()
quiz_section()
with st.expander(ui.t("pool.remember.header"), icon=":material/lightbulb:"):
    st.markdown(ui.t("pool.remember"))
