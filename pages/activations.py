"""Lesson: activation functions, their slopes, vanishing gradients and dead ReLUs."""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnnviz import activations, kernels
from cnnviz.drawing import activation_charts, activations_view
from cnnviz.images import resize_longest_side
from pages import scrub_view, ui

KEYS = list(activations.ACTIVATIONS)
THRESHOLDS = [0.001, 0.005, 0.01, 0.05, 0.1]
LEARNING_RATES = [0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0]
BIAS_SHIFTS = [0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0]
DEAD_CAUSES = ("lr", "bias")
DEAD_COMPARED = ("relu", "leaky_relu", "prelu")
FEATURE_KERNELS = ("sobel x", "sobel y", "laplacian", "outline", "sharpen", "emboss")
#: Side the feature-map panel computes at: plenty for a 480-pixel display, and fast.
FEATURE_SIDE = 384
VIEW = "act.scrub"


def name(key: str) -> str:
    return ui.t(f"act.name.{key}")


def names() -> dict[str, str]:
    return {key: name(key) for key in KEYS}


def fmt(value: float) -> str:
    return f"{value:.3g}".replace("-", "−")


# --- cached engine calls (every argument hashable: these rerun on each slider move) -----------


@st.cache_data(max_entries=256, show_spinner=False)
def gradient_norms(keys: tuple[str, ...], depth: int, init: str, std: float) -> dict[str, np.ndarray]:
    return {key: activations.layer_gradient_norms(key, depth, init, std) for key in keys}


@st.cache_data(max_entries=8, show_spinner=False)
def dead_units(key: str, cause: str) -> list[activations.DeadUnits]:
    if cause == "lr":
        return activations.dead_units_after_step(key, [0.0, *LEARNING_RATES])
    return activations.dead_units_after_bias_shift(key, BIAS_SHIFTS)


@st.cache_data(max_entries=32, show_spinner=False)
def feature_maps(pixels: np.ndarray, kernel_name: str, key: str, params: tuple) -> tuple[np.ndarray, np.ndarray]:
    gray = resize_longest_side(pixels, FEATURE_SIDE).astype(np.float32) / 255
    return activations.activate_feature_map(gray, kernels.preset(kernel_name), key, dict(params))


# --- choices kept in the URL by id (a link made in Chinese opens the same view in English) -------


def pick_functions(key: str, label: str, default: list[str], most: int) -> list[str]:
    return ui.url_choices(st.multiselect, ui.t(label), KEYS, default, key, most, format_func=name)


# --- panels -------------------------------------------------------------------------------


def parameter_sliders(key: str, on_view: dict) -> dict[str, float]:
    """A Streamlit slider for each parameter of the activation the scrubbing view has no slider for
    (RReLU's bounds, in steps of 0.001), keyed ``act.<key>.<parameter>``."""
    values = {}
    for parameter in activations.get(key).parameters:
        if f"{key}.{parameter.name}" in on_view:
            continue
        values[f"{key}.{parameter.name}"] = st.slider(
            ui.t("act.param", function=name(key), parameter=ui.t(f"act.param.{parameter.name}")),
            parameter.low, parameter.high, parameter.default, parameter.step,
            format="%.3f" if parameter.step < 0.01 else None, key=f"act.{key}.{parameter.name}", bind="query-params",
        )  # fmt: skip
    return values


@st.cache_data(max_entries=64, show_spinner=False)
def curves_frames(settings: activations_view.CurvesSettings, values: tuple, lang: str) -> bytes:
    """The scrubbing view's frames around ``values`` (name, value pairs), packed."""
    return scrub_view.pack(activations_view.curves_frame_set(settings, dict(values), lang))


def curves_panel() -> None:
    """The chosen functions' curves as a scrubbing view (the range's ends and the parameters:
    ``cnnviz/drawing/activations_view.py``), and each function's formula, table and code in a tab below it."""
    st.subheader(ui.t("act.curves"))
    chosen = pick_functions("act.functions", "act.functions", ["sigmoid", "relu"], 6)
    on_view = activations_view.parameter_sliders(tuple(chosen))
    with st.container(horizontal=True, gap="medium"):  # one block: the threshold, and sliders the view has not
        threshold = st.select_slider(
            ui.t("act.threshold"), THRESHOLDS, value=0.05, key="act.threshold", bind="query-params",
            help=ui.t("act.threshold_help"), width=300,
        )  # fmt: skip
        fixed = {name: value for key in chosen for name, value in parameter_sliders(key, on_view).items()}
    if not chosen:
        st.info(ui.t("act.pick_one"), icon=":material/touch_app:")
        return
    curves_view(tuple(chosen), threshold, tuple(fixed.items()))


@st.fragment
def curves_view(chosen: tuple[str, ...], threshold: float, fixed: tuple[tuple[str, float], ...]) -> None:
    """What the scrubbing view's sliders change: a release reruns only this, not the function picker and
    the sliders above (fewer elements for the browser to redraw: ``bench/RESULTS.md``)."""
    with ui.panel("act.curves"):  # a rerun of this alone is outside lesson_panel's boundary
        ranges = activations_view.RANGE_SLIDERS | activations_view.parameter_sliders(chosen)
        values = scrub_view.values_from_url("act", ranges)
        settings = activations_view.CurvesSettings(chosen, threshold, fixed)
        scrub_view.values_to_url("act", ranges, values)
        view_slot = scrub_view.reserve()  # the view is drawn last, after the tabs below
        with ui.panel("act.curves.tables"):
            curve_tabs(list(chosen), dict(fixed) | values)
        with view_slot:
            scrub_view.scrub_view(VIEW, "act", list(values), curves_frames(settings, tuple(values.items()), ui.lang()))


def curve_tabs(chosen: list[str], every: dict[str, float]) -> None:
    """A tab per function the range allows: its formula, summary and table of exact values (the view's
    place ``fn.<key>``), and the PyTorch code that gives them (``code.<key>``): parts of the view's frames
    (``activations_view.describe_parts``), so they follow the sliders while they are dragged."""
    shown = []
    for key in chosen:  # the view says why a function is left out
        params = {p.name: every[f"{key}.{p.name}"] for p in activations.get(key).parameters}
        try:
            activations.curve(key, every["low"], every["high"], params, points=2)
        except ValueError:
            continue
        shown.append(key)
    if not shown:
        return  # the view says why
    for tab, key in zip(st.tabs([name(key) for key in shown]), shown, strict=True):
        with tab:
            scrub_view.place(VIEW, f"fn.{key}")
            ui.view_code_panel(VIEW, place=f"code.{key}")


def vanishing_panel() -> None:
    ui.View().heading(ui.t("act.vanishing")).caption(ui.t("act.vanishing_intro")).draw()
    chosen = pick_functions("act.vg_functions", "act.vg_functions", ["sigmoid", "tanh", "relu"], 5)
    controls, plot = st.columns([1.2, 3], gap="medium")
    with controls:
        depth = st.slider(ui.t("act.depth"), 1, 50, 20, key="act.depth", bind="query-params")
        init = ui.url_choice(st.segmented_control, ui.t("act.init"), list(activations.INITS), "xavier", "act.init", required=True,
                        format_func=lambda value: ui.t(f"act.init.{value}"))  # fmt: skip
        std = st.select_slider(
            ui.t("act.std"), [0.01, 0.05, 0.1, 0.125, 0.2, 0.5, 1.0, 2.0], value=1.0, key="act.std",
            bind="query-params", disabled=init != "normal",
        )  # fmt: skip
        st.caption(ui.t(f"act.init_help.{init}"))
    with plot:
        if not chosen:
            st.info(ui.t("act.pick_one"), icon=":material/touch_app:")
            return
        norms = gradient_norms(tuple(chosen), depth, init, std)
        sigmoid_slope, power = activations.max_slope_power("sigmoid", depth)
        labels = {"layer": ui.t("act.fig.layer"), "norm": ui.t("act.fig.norm"), "reference": ui.t("act.fig.reference")}
        ui.View().svg(activation_charts.gradient_norms_chart(norms, sigmoid_slope, names(), labels)).caption(
            ui.t("act.reference_note", first=name(chosen[0]), slope=fmt(sigmoid_slope))
        ).draw()
    with st.container(horizontal=True, gap="medium"):  # one block, not st.columns' n + 1
        st.metric(ui.t("act.power", slope=fmt(sigmoid_slope), depth=depth), f"{power:.2e}")
        for key in chosen:
            st.metric(ui.t("act.first_layer", function=name(key)), f"{norms[key][0]:.2e}")
    st.caption(ui.t("act.first_layer_help", depth=depth))


def dead_panel() -> None:
    ui.View().heading(ui.t("act.dead")).caption(ui.t("act.dead_intro")).draw()
    cause = ui.url_choice(st.segmented_control, ui.t("act.dead_cause"), list(DEAD_CAUSES), "lr", "act.dead_cause", required=True,
                     format_func=lambda value: ui.t(f"act.dead_cause.{value}"))  # fmt: skip
    if cause == "lr":
        amount = st.select_slider(ui.t("act.lr"), LEARNING_RATES, value=100.0, key="act.lr", bind="query-params")
    else:
        amount = st.select_slider(ui.t("act.bias"), BIAS_SHIFTS, value=2.0, key="act.bias", bind="query-params",
                                  help=ui.t("act.bias_help"))  # fmt: skip
    results = {key: dead_units(key, cause) for key in DEAD_COMPARED}
    shown = {key: res[1:] if cause == "lr" else res for key, res in results.items()}  # no 0 on a log axis
    curves = {key: ([r.amount for r in res], [r.dead_fraction for r in res]) for key, res in shown.items()}
    labels = {"amount": ui.t(f"act.fig.{cause}"), "dead": ui.t("act.fig.dead_share")}
    chart = ui.View().svg(activation_charts.dead_fraction_chart(curves, amount, names(), labels, log_x=cause == "lr"))
    chosen = {key: next(r for r in res if r.amount == amount) for key, res in results.items()}
    units = ui.View().text(f"**{ui.t(f'act.units.{cause}', function=name('relu'), amount=fmt(amount))}**")
    units.svg(activation_charts.units_grid(chosen["relu"].passing_share, ui.t("act.fig.passing")))
    ui.View().row(chart, units, widths=(3, 2)).draw()
    with st.container(horizontal=True, gap="medium"):  # one block, not st.columns' five
        st.metric(ui.t("act.dead_before", function=name("relu")), f"{results['relu'][0].dead_fraction:.1%}")
        for key in DEAD_COMPARED:
            label = ui.t(f"act.dead_after.{cause}", function=name(key), amount=fmt(amount))
            st.metric(label, f"{chosen[key].dead_fraction:.1%}")
    st.caption(ui.t("act.dead_note"))


def feature_map_panel() -> None:
    st.subheader(ui.t("act.feature_map"))
    with st.container(horizontal=True, gap="medium"):  # one block, not st.columns' three
        kernel_name = ui.url_choice(st.selectbox, ui.t("act.kernel"), list(FEATURE_KERNELS), FEATURE_KERNELS[0], "act.kernel",
                                    format_func=lambda value: ui.t(f"act.kernel.{value}"))  # fmt: skip
        key = ui.url_choice(
            st.selectbox, ui.t("act.fm_function"), list(KEYS), "relu", "act.fm_function", format_func=name
        )
    params = {p.name: p.default for p in activations.get(key).parameters}
    before, after = feature_maps(ui.current_image().pixels, kernel_name, key, tuple(params.items()))
    maps = [
        ui.View().text(f"**{title}**").html(activation_charts.map_picture_html(values, title)).caption(
            ui.t("act.map_range", low=fmt(values.min()), high=fmt(values.max()), negative=f"{(values < 0).mean():.0%}")
        )
        for values, title in ((before, ui.t("act.before")), (after, ui.t("act.after", function=name(key))))
    ]  # fmt: skip
    labels = {"before": ui.t("act.fig.before"), "after": ui.t("act.fig.after"), "value": ui.t("act.fig.pixel_value"),
              "count": ui.t("act.fig.count")}  # fmt: skip
    histogram = ui.View().svg(activation_charts.histograms_chart(before, after, labels)).caption(ui.t("act.fm_note"))
    ui.View().row(*maps, histogram, widths=(1, 1, 1.3)).draw()


st.title(ui.t("act.title"))
st.caption(ui.t("act.intro"))


@st.fragment
def lesson_panel(panel_name: str) -> None:
    """One panel of the page: a widget inside reruns only this panel, and an error stays in it."""
    with ui.panel(panel_name):
        PANELS[panel_name]()


PANELS = {"act.curves": curves_panel, "act.vanishing": vanishing_panel, "act.dead": dead_panel,
          "act.feature_map": feature_map_panel}  # fmt: skip
for panel_name in PANELS:
    lesson_panel(panel_name)
    st.divider()
