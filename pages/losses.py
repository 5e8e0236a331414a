"""Lesson: loss functions, and why cross-entropy beats MSE behind a sigmoid."""

from __future__ import annotations

import streamlit as st

from cnnviz import losses
from cnnviz.drawing import loss_charts, losses_view
from cnnviz.drawing.losses_view import CLASSES, SCALES, SOFTMAX_SLIDERS
from pages import scrub_view, ui

SOFTMAX_VIEW = "loss.scrub"  # the softmax view's widget key
RATES = [0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0]
SIGMOID_GRADIENTS = (  # one above the other: side by side they run off a 1024 px projector's column
    r"\begin{aligned}\frac{\partial L_{\mathrm{MSE}}}{\partial z} &= 2\,(p - y)\,\underbrace{p\,(1 - p)}_{\textstyle\sigma'(z)}"
    r"\\[6pt] \frac{\partial L_{\mathrm{CE}}}{\partial z} &= p - y\end{aligned}"
)


def fmt(value: float, digits: int = 4) -> str:
    return f"{value:.{digits}g}".replace("-", "−")


def texts(figure: str, *keys: str) -> dict[str, str]:
    """A figure's labels: ``loss.<figure>.<key>`` for each key."""
    return {key: ui.t(f"loss.{figure}.{key}") for key in keys}


@st.cache_data(max_entries=64, show_spinner=False)
def training_runs(start_weight: float, rate: float, steps: int) -> list[losses.Trajectory]:
    return [losses.train_one_unit(key, start_weight, rate, steps) for key in ("mse", "bce")]


@st.cache_data(max_entries=64, show_spinner=False)
def residual_curves(delta: float) -> dict:
    return losses.residual_curves(delta)


@st.cache_data(max_entries=64, show_spinner=False)
def fits(shift: float, delta: float) -> losses.OutlierFits:
    return losses.outlier_fits(shift, delta)


# --- panels -------------------------------------------------------------------------------


def catalogue_panel() -> None:
    tabs = st.tabs([ui.t(f"loss.name.{key}") for key in losses.LOSSES])
    for tab, (key, loss) in zip(tabs, losses.LOSSES.items(), strict=True):
        with tab:
            ui.View().formula(loss.formula).text(f"`{loss.torch_call}` · {ui.t(f'loss.about.{key}')}").draw()


@st.cache_data(max_entries=64, show_spinner=False)
def sigmoid_frames(z: float, target: int, lang: str) -> bytes:
    """The sigmoid view's frames: every z given the target, both targets given z, packed."""
    return scrub_view.pack(losses_view.sigmoid_frame_set({"z": z, "target": target}, lang))


def sigmoid_panel() -> None:
    """z and the target are a scrubbing view (``pages/scrub_view.py``), its frames drawn by
    ``cnnviz/drawing/losses_view.py``; a release stores ``loss.z`` / ``loss.target`` and the URL."""
    ranges = losses_view.SIGMOID_SLIDERS
    values = scrub_view.values_from_url("loss", ranges)
    scrub_view.values_to_url("loss", ranges, values)
    view_slot = scrub_view.reserve()  # the view is drawn last, after what a release changes: here the URL
    ui.View().formula(SIGMOID_GRADIENTS).draw()
    with view_slot:
        scrub_view.scrub_view(
            "loss.sigmoid_scrub", "loss", list(ranges), sigmoid_frames(values["z"], values["target"], ui.lang())
        )


def training_panel() -> None:
    with st.container(horizontal=True, gap="medium"):  # one block, not st.columns' four
        start = st.slider(ui.t("loss.start_weight"), -8.0, 0.0, -4.0, 0.5, key="loss.start_weight",
                          bind="query-params", help=ui.t("loss.start_weight_help"))  # fmt: skip
        rate = st.select_slider(ui.t("loss.rate"), RATES, value=0.5, key="loss.rate", bind="query-params")
        steps = st.slider(ui.t("loss.steps"), 50, 1000, 300, 50, key="loss.steps", bind="query-params")
    runs = training_runs(start, rate, steps)
    labels = texts("fig_training", "accuracy", "grad", "step", "mse", "bce")
    with st.container(horizontal=True, gap="medium"):
        for run in runs:
            never, after = ui.t("loss.never", steps=steps), ui.t("loss.after", steps=run.solved_at)
            st.metric(ui.t("loss.solved", loss=labels[run.loss_key]), never if run.solved_at is None else after)
    ui.View().svg(*loss_charts.trajectories_svgs(runs, labels)).caption(ui.t("loss.training_note")).draw()


@st.cache_data(max_entries=256, show_spinner=False)
def softmax_frames(values: tuple[tuple[str, int], ...], target: int, lang: str) -> bytes:
    """The softmax view's frames around ``values`` (name, slider value pairs), packed."""
    return scrub_view.pack(losses_view.softmax_frame_set(dict(values), target, lang))


def softmax_panel() -> None:
    """The logits and the smoothing are a scrubbing view (``pages/scrub_view.py``): while one is
    dragged the browser swaps the frames ``cnnviz/drawing/losses_view.py`` drew for each of its
    values, and the code panel with them (a place of the view); a release stores the setting in
    ``st.session_state["loss.<name>"]`` and the URL."""
    # The class's id in the URL, not its translated name: a link made in Chinese opens in English.
    target = CLASSES.index(ui.url_choice(st.selectbox, ui.t("loss.target_class"), list(CLASSES), CLASSES[1],
                                         "loss.target_class", format_func=lambda name: ui.t(f"loss.class.{name}"),
                                         width=220))  # fmt: skip
    ranges = {name: (low, high, default) for name, (low, high, default, _) in SOFTMAX_SLIDERS.items()}
    values = scrub_view.values_from_url("loss", ranges, SCALES)
    scrub_view.values_to_url("loss", ranges, values, SCALES)
    view_slot = scrub_view.reserve()  # the view is drawn last, after the code panel below
    # The code for the setting is part of the view's frames (losses_view.PLACES): it follows the drag.
    ui.view_code_panel(SOFTMAX_VIEW)
    ui.View().caption(ui.t("loss.smoothing_help")).caption(ui.t("loss.softmax_note")).draw()
    with view_slot:
        packed = softmax_frames(tuple(values.items()), target, ui.lang())
        scrub_view.scrub_view(SOFTMAX_VIEW, "loss", list(SOFTMAX_SLIDERS), packed, SCALES)


def huber_panel() -> None:
    with st.container(horizontal=True, gap="medium"):
        shift = st.slider(ui.t("loss.outlier"), 0.0, 30.0, 15.0, 1.0, key="loss.outlier", bind="query-params")
        delta = st.slider(ui.t("loss.delta"), 0.1, 5.0, 1.0, 0.1, key="loss.delta", bind="query-params")
    result = fits(shift, delta)
    clean = result.fits["mse_clean"][0]
    with st.container(horizontal=True, gap="medium"):
        st.metric(ui.t("loss.slope_clean"), fmt(clean, 3))
        for key in ("mse", "huber"):
            slope = result.fits[key][0]
            st.metric(ui.t(f"loss.slope_{key}"), fmt(slope, 3), fmt(slope - clean, 3), delta_color="off")
    outlier = loss_charts.outlier_svg(result, texts("fig_outlier", "points", "outlier", "clean", "mse", "huber"))
    labels = texts("fig_residual", "loss", "grad", "r", "mse", "huber")
    residual = loss_charts.residual_svgs(residual_curves(delta), delta, labels)
    ui.View().row(ui.View().svg(outlier), ui.View().svg(*residual)).caption(ui.t("loss.huber_note")).draw()


@st.fragment
def lesson_panel(panel_name: str) -> None:
    """One panel of the page: a widget inside reruns only this panel, and an error stays in it."""
    with ui.panel(panel_name):
        try:
            PANELS[panel_name]()
        except ValueError as error:  # impossible settings: the engine says why
            st.warning(ui.explain(error), icon=":material/block:")


PANELS = {"loss.catalogue": catalogue_panel, "loss.sigmoid": sigmoid_panel, "loss.training": training_panel,
          "loss.softmax": softmax_panel, "loss.huber": huber_panel}  # fmt: skip
#: Each panel's heading is drawn outside its fragment (a slider move does not resend it), with its introduction.
INTRODUCTIONS = {"loss.sigmoid": "loss.sigmoid_intro", "loss.training": "loss.training_intro",
                 "loss.softmax": "loss.softmax_intro", "loss.huber": "loss.huber_intro"}  # fmt: skip

st.title(ui.t("loss.title"))
st.caption(ui.t("loss.intro"))
for panel_name in PANELS:
    heading = ui.View().heading(ui.t(panel_name))
    if panel_name in INTRODUCTIONS:
        heading.caption(ui.t(INTRODUCTIONS[panel_name]))
    heading.draw()
    lesson_panel(panel_name)
    st.divider()
