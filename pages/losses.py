"""Lesson: loss functions, and why cross-entropy beats MSE behind a sigmoid."""

from __future__ import annotations

import streamlit as st

from cnnviz import losses
from pages import ui

CLASSES = ("cat", "dog", "bird", "fish")
DEFAULT_LOGITS = (2.0, 1.0, 0.5, -1.0)
RATES = [0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0]


def fmt(value: float, digits: int = 4) -> str:
    return f"{value:.{digits}g}".replace("-", "−")


def texts(figure: str, *keys: str) -> dict[str, str]:
    """A figure's labels: ``loss.<figure>.<key>`` for each key."""
    return {key: ui.t(f"loss.{figure}.{key}") for key in keys}


@st.cache_data(max_entries=64, show_spinner=False)
def training_runs(start_weight: float, rate: float, steps: int) -> list[losses.Trajectory]:
    return [losses.train_one_unit(key, start_weight, rate, steps) for key in ("mse", "bce")]


@st.cache_data(max_entries=4, show_spinner=False)
def sigmoid_curves(target: float) -> losses.SigmoidLossCurves:
    return losses.sigmoid_loss_curves(target)


@st.cache_data(max_entries=64, show_spinner=False)
def residual_curves(delta: float) -> dict:
    return losses.residual_curves(delta)


@st.cache_data(max_entries=64, show_spinner=False)
def fits(shift: float, delta: float) -> losses.OutlierFits:
    return losses.outlier_fits(shift, delta)


# --- panels -------------------------------------------------------------------------------


def catalogue_panel() -> None:
    st.subheader(ui.t("loss.catalogue"))
    tabs = st.tabs([ui.t(f"loss.name.{key}") for key in losses.LOSSES])
    for tab, (key, loss) in zip(tabs, losses.LOSSES.items(), strict=True):
        with tab:
            st.latex(loss.formula)
            st.markdown(f"`{loss.torch_call}` · {ui.t(f'loss.about.{key}')}")


def sigmoid_panel() -> None:
    st.subheader(ui.t("loss.sigmoid"))
    st.caption(ui.t("loss.sigmoid_intro"))
    controls, plot = st.columns([1, 3], gap="medium")
    with controls:
        target = st.segmented_control(
            ui.t("loss.target"), [1.0, 0.0], default=1.0, required=True, key="loss.target", bind="query-params",
            format_func=lambda value: f"y = {value:g}",
        )  # fmt: skip
        z = st.slider(ui.t("loss.z"), -10.0, 10.0, -5.0, 0.1, key="loss.z", bind="query-params")
        p, mse_grad, ce_grad = losses.sigmoid_gradients_at(z, target)
        st.metric(ui.t("loss.p"), fmt(p))
        st.metric(ui.t("loss.mse_grad"), fmt(mse_grad))
        st.metric(ui.t("loss.ce_grad"), fmt(ce_grad))
    with plot:
        curves = sigmoid_curves(target)
        ui.show_svg(*losses.sigmoid_loss_svgs(curves, z, texts("fig_sigmoid", "loss", "grad", "z", "mse", "ce")))
        st.latex(
            r"\frac{\partial L_{\mathrm{MSE}}}{\partial z} = 2\,(p - y)\,\underbrace{p\,(1 - p)}_{\sigma'(z)}"
            r"\qquad\qquad \frac{\partial L_{\mathrm{CE}}}{\partial z} = p - y"
        )
        wrong = (p - target) ** 2 > 0.25  # the unit is on the wrong side of 0.5
        st.caption(ui.t("loss.sigmoid_wrong" if wrong else "loss.sigmoid_right", ratio=fmt(abs(ce_grad / mse_grad), 3)
                        if mse_grad else "∞"))  # fmt: skip


def training_panel() -> None:
    st.subheader(ui.t("loss.training"))
    st.caption(ui.t("loss.training_intro"))
    columns = st.columns(3)
    start = columns[0].slider(ui.t("loss.start_weight"), -8.0, 0.0, -4.0, 0.5, key="loss.start_weight",
                              bind="query-params", help=ui.t("loss.start_weight_help"))  # fmt: skip
    rate = columns[1].select_slider(ui.t("loss.rate"), RATES, value=0.5, key="loss.rate", bind="query-params")
    steps = columns[2].slider(ui.t("loss.steps"), 50, 1000, 300, 50, key="loss.steps", bind="query-params")
    runs = training_runs(start, rate, steps)
    labels = texts("fig_training", "accuracy", "grad", "step", "mse", "bce")
    ui.show_svg(*losses.trajectories_svgs(runs, labels))
    metrics = st.columns(2)
    for column, run in zip(metrics, runs, strict=True):
        name = labels[run.loss_key]
        solved = ui.t("loss.never", steps=steps) if run.solved_at is None else ui.t("loss.after", steps=run.solved_at)
        column.metric(ui.t("loss.solved", loss=name), solved)
    st.caption(ui.t("loss.training_note"))


def softmax_panel() -> None:
    st.subheader(ui.t("loss.softmax"))
    st.caption(ui.t("loss.softmax_intro"))
    controls, plot = st.columns([1, 3], gap="medium")
    class_names = [ui.t(f"loss.class.{name}") for name in CLASSES]
    with controls:
        logits = [
            st.slider(ui.t("loss.logit", name=class_names[i]), -5.0, 5.0, DEFAULT_LOGITS[i], 0.1, key=f"loss.logit{i}",
                      bind="query-params")
            for i in range(len(CLASSES))
        ]  # fmt: skip
        # The class's id in the URL, not its translated name: a link made in Chinese opens in English.
        ui.choice_from_url("loss.target_class", list(CLASSES), CLASSES[1])
        st.selectbox(ui.t("loss.target_class"), CLASSES, key="loss.target_class",
                     format_func=lambda name: ui.t(f"loss.class.{name}"))  # fmt: skip
        target = CLASSES.index(ui.choice_to_url("loss.target_class", CLASSES[1]))
        smoothing = st.slider(ui.t("loss.smoothing"), 0.0, 0.5, 0.0, 0.05, key="loss.smoothing", bind="query-params",
                              help=ui.t("loss.smoothing_help"))  # fmt: skip
    with plot:
        result = losses.softmax_cross_entropy(logits, target, smoothing)
        ui.show_svg(*losses.softmax_svgs(result, class_names, texts("fig_softmax", "probability", "target", "grad")))
        metrics = st.columns(3)
        metrics[0].metric(ui.t("loss.ce_value"), fmt(result.loss))
        metrics[1].metric(ui.t("loss.entropy"), fmt(result.entropy))
        metrics[2].metric(ui.t("loss.kl"), fmt(result.kl))
        st.caption(ui.t("loss.softmax_check", gap=f"{result.formula_gap:.1e}"))
        st.caption(ui.t("loss.softmax_note"))


def huber_panel() -> None:
    st.subheader(ui.t("loss.huber"))
    st.caption(ui.t("loss.huber_intro"))
    columns = st.columns(2)
    shift = columns[0].slider(ui.t("loss.outlier"), 0.0, 30.0, 15.0, 1.0, key="loss.outlier", bind="query-params")
    delta = columns[1].slider(ui.t("loss.delta"), 0.1, 5.0, 1.0, 0.1, key="loss.delta", bind="query-params")
    result = fits(shift, delta)
    left, right = st.columns(2, gap="medium")
    with left:
        labels = texts("fig_outlier", "points", "outlier", "clean", "mse", "huber")
        ui.show_svg(losses.outlier_svg(result, labels))
    with right:
        labels = texts("fig_residual", "loss", "grad", "r", "mse", "huber")
        ui.show_svg(*losses.residual_svgs(residual_curves(delta), delta, labels))
    metrics = st.columns(3)
    metrics[0].metric(ui.t("loss.slope_clean"), fmt(result.fits["mse_clean"][0], 3))
    for column, key in zip(metrics[1:], ("mse", "huber"), strict=True):
        slope = result.fits[key][0]
        column.metric(ui.t(f"loss.slope_{key}"), fmt(slope, 3), fmt(slope - result.fits["mse_clean"][0], 3),
                      delta_color="off")  # fmt: skip
    st.caption(ui.t("loss.huber_note"))


@st.fragment
def lesson_panel(panel_name: str) -> None:
    """One panel of the page: a widget inside reruns only this panel, and an error stays in it."""
    with ui.panel(panel_name):
        try:
            PANELS[panel_name]()
        except ValueError as error:  # impossible settings: the engine says why
            st.warning(str(error), icon=":material/block:")


PANELS = {"loss.catalogue": catalogue_panel, "loss.sigmoid": sigmoid_panel, "loss.training": training_panel,
          "loss.softmax": softmax_panel, "loss.huber": huber_panel}  # fmt: skip

st.title(ui.t("loss.title"))
st.caption(ui.t("loss.intro"))
for panel_name in PANELS:
    lesson_panel(panel_name)
    st.divider()
