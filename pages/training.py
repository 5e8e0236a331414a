"""Train a CNN live: pick the output layer and loss, the activation, dropout; compare runs."""

from __future__ import annotations

import numpy as np
import streamlit as st
from safetensors.torch import save as safetensors_bytes

from cnnviz import datasets, limits, netspec, network_cost, training, training_workers
from cnnviz.drawing import pictures, training_charts
from pages import ui

RUNS = "train.runs"  # session key: label -> TrainingRun, in start order
QUEUE = "train.queue"  # session key: runs waiting to start, as (label, settings, layers)
PAUSED = "train.paused"
SHOWN = "train.shown"  # the runs-on-the-chart multiselect
NEW_RUNS = "train.new_runs"  # runs started since the chart last drew: shown on it from their first step
STARTED = "train.started"  # runs ever queued in this session: a run's number, never reused
HEAVY = "train.slice"  # its name in the server's heavy-job budget (ui.heavy_slice)
SLICE_SECONDS = 0.4  # training time between redraws while a run is active
#: A waiting run's rerun waits this long for its turn (it starts at once when the turn comes): the
#: longer, the fewer redraws while waiting, which cost the class's sliders (bench/RESULTS.md); a
#: Stop press is seen after at most this long.
WAIT_SECONDS = 1.0
CURVES = "train.curves"  # session key: the learning curves last drawn, and what they show
HELDOUT_PICTURES = "train.heldout_pictures"  # session key: (data set, its first six held-out pictures as PNG)
DRAWN = "train.drawn"  # session key: the latest run's predictions and filter sheet, and the step they are of
HIDDEN_ACTIVATIONS = ("as_written", "relu", "leaky_relu", "sigmoid", "tanh", "elu", "gelu")
LEARNING_RATES = (0.001, 0.003, 0.01, 0.03, 0.05, 0.1, 0.3, 1.0)
TRAIN_SIZES = (200, 500, 1000, 2000)
DEFAULTS = training.TrainSettings()  # what a newcomer gets: measured in bench/training_defaults.py


def activation_label(name: str) -> str:
    """A hidden-activation choice as the page writes it ("as written in the layers" in the session's language)."""
    return ui.t("train.as_written") if name == "as_written" else name


@st.cache_resource(max_entries=2, show_spinner=False)
def load_data(name: str) -> datasets.LabelledImages:
    # Shared by every session and never modified: training reads batches, it never writes.
    return datasets.digits() if name == "digits" else datasets.shape_images()


def amount(value: float) -> str:
    """A large count in words of the session's language: 3.6 billion, 36 亿."""
    scales = (("1e8", 1e8), ("1e4", 1e4)) if ui.lang() == "zh" else (("1e9", 1e9), ("1e6", 1e6), ("1e3", 1e3))
    for name, size in scales:
        if value >= size:
            quotient = value / size
            return ui.t(f"train.amount.{name}", n=f"{quotient:,.0f}" if quotient >= 100 else f"{quotient:.3g}")
    return f"{value:,.0f}"


def megabytes(value: float) -> str:
    return f"{value / 1000:.3g} GB" if value >= 1000 else f"{value:.3g} MB"


def refusal(error: network_cost.LimitExceeded) -> str:
    """Why the server will not build this network, with the number and the limit."""
    if error.reason == "activation_mb":
        value, limit = megabytes(error.value), megabytes(error.limit)
    else:
        value, limit = amount(error.value), amount(error.limit)
    return ui.t(f"train.limit.{error.reason}", value=value, limit=limit)


def set_spec_from_preset() -> None:
    st.session_state["train.spec"] = netspec.PRESET_SPECS[st.session_state["train.preset"]]


def kept_runs() -> int:
    """Runs a session keeps, and runs it may line up (``CNNVIZ_KEPT_RUNS``): each holds a network."""
    return limits.Limits.from_environment().kept_runs


def stop_training() -> None:
    """Leave the server's line (or give the slot back): a paused or cancelled run trains no more."""
    ui.heavy_stop(HEAVY)


st.title(ui.t("train.title"))
st.caption(ui.t("train.intro"))
st.session_state.setdefault(RUNS, {})
st.session_state.setdefault(QUEUE, [])
st.session_state.setdefault(PAUSED, False)
st.session_state.setdefault("train.spec", next(iter(netspec.PRESET_SPECS.values())))

setup, live = st.columns([1, 1], gap="large")  # wide enough for the labels at 1280 px


@st.fragment
def setup_panel() -> None:
    """Data, network and training settings. A change reruns only this panel (the live view and
    the sidebar stay as they are); starting, pausing or resetting reruns the whole page."""
    data_name = ui.url_choice(st.segmented_control, ui.t("train.data"), ["digits", "shapes"], "digits", "train.data",
                              format_func=lambda name: ui.t(f"train.data.{name}"), required=True)  # fmt: skip
    train_size = st.select_slider(
        ui.t("train.size"), TRAIN_SIZES, value=datasets.LARGEST_TRAIN_SIZE, key="train.size", bind="query-params"
    )
    data = load_data(data_name).subset(train_size, heldout=datasets.HELDOUT_SIZE)
    with st.expander(ui.t("train.network"), expanded=False):
        st.selectbox(
            ui.t("train.preset"), list(netspec.PRESET_SPECS), key="train.preset", on_change=set_spec_from_preset
        )
        spec_text = st.text_area(ui.t("train.spec"), key="train.spec", height=200, help=ui.t("train.spec_help"))
    first, second = st.columns(2)
    output = ui.url_choice(first.selectbox, ui.t("train.output"), list(training.OUTPUTS), training.OUTPUTS[0],
                           "train.output", format_func=lambda name: ui.t(f"train.output.{name}"))  # fmt: skip
    activation = ui.url_choice(
        second.selectbox, ui.t("train.activation"), list(HIDDEN_ACTIVATIONS), HIDDEN_ACTIVATIONS[0], "train.activation",
        format_func=activation_label,
    )  # fmt: skip
    dropout = first.slider(ui.t("train.dropout"), 0.0, 0.8, 0.0, 0.1, key="train.dropout", bind="query-params")
    learning_rate = second.select_slider(
        ui.t("train.lr"), LEARNING_RATES, value=DEFAULTS.learning_rate, key="train.lr", bind="query-params"
    )
    optimizer = ui.url_choice(first.selectbox, ui.t("train.optimizer"), ["sgd", "adam"], DEFAULTS.optimizer, "train.optimizer",
                              format_func=lambda name: ui.t(f"train.optimizer.{name}"))  # fmt: skip
    batch_size = second.select_slider(
        ui.t("train.batch"), [16, 32, 64, 128, 256], value=DEFAULTS.batch_size, key="train.batch", bind="query-params"
    )
    epochs = first.slider(ui.t("train.epochs"), 1, 30, DEFAULTS.epochs, key="train.epochs", bind="query-params")
    seed = second.number_input(ui.t("train.seed"), 0, 9999, 0, key="train.seed", bind="query-params")
    decay = st.checkbox(
        ui.t("train.decay"), DEFAULTS.schedule == "cosine", key="train.decay", bind="query-params",
        help=ui.t("train.decay_help"),
    )  # fmt: skip

    settings = training.TrainSettings(
        output, optimizer, learning_rate, DEFAULTS.momentum, batch_size, epochs, int(seed),
        schedule="cosine" if decay else "constant",
    )  # fmt: skip
    with ui.panel("train.check"):
        try:
            layers = netspec.parse_spec(spec_text)
            if activation != "as_written":
                layers = netspec.with_activation(layers, activation)
            layers = (
                netspec.with_dropout(layers, dropout)
                if dropout or any(isinstance(x, netspec.Dropout) for x in layers)
                else layers
            )
            rows = netspec.check_spec(data.input_shape, layers, len(data.class_names), text=spec_text)
        except ValueError as error:
            layers = None
            st.warning(ui.t("train.spec_invalid", reason=ui.explain(error)))
        else:
            st.dataframe(
                [
                    {
                        ui.t("train.col.layer"): type(r.layer).__name__,
                        ui.t("train.col.shape"): " x ".join(map(str, r.shape)),
                        ui.t("train.col.params"): r.params,
                    }
                    for r in rows
                ],
                hide_index=True,
                width="stretch",
                height=min(36 * (len(rows) + 1) + 2, 260),
            )
            st.caption(ui.t("train.total_params", count=f"{sum(r.params for r in rows):,}"))
            try:  # before any tensor is made: what this network would cost the server
                cost = network_cost.network_cost(data.input_shape, layers, len(data.class_names), batch_size)
                network_cost.check_limits(cost, limits.Limits.from_environment())
            except network_cost.LimitExceeded as error:
                layers = None
                st.warning(refusal(error), icon=":material/block:")

    def queue_run(label_extra: str = "", **changes) -> None:
        run_settings = training.TrainSettings(**{**settings.__dict__, **changes.get("settings", {})})
        run_layers = changes.get("layers", layers)
        run_data = changes.get("data", data)
        st.session_state[STARTED] = number = st.session_state.get(STARTED, 0) + 1
        label = f"#{number} {label_extra or run_settings.label()}"
        st.session_state[QUEUE].append((label, run_settings, run_layers, run_data))
        st.session_state[PAUSED] = False

    active = any(not r.done for r in st.session_state[RUNS].values()) or bool(st.session_state[QUEUE])
    room = kept_runs() - len(st.session_state[QUEUE])  # runs that may still line up
    start, pause, cancel, reset = st.columns(4)
    if start.button(ui.t("train.start"), type="primary", disabled=layers is None or room < 1, width="stretch"):
        queue_run(
            f"{ui.t(f'train.output.{output}')} · {activation_label(activation)} · dropout {dropout:g} · lr {learning_rate:g}"
        )
        st.rerun()  # the whole page: the live view starts drawing
    if pause.button(ui.t("train.resume") if st.session_state[PAUSED] else ui.t("train.pause"), width="stretch"):
        st.session_state[PAUSED] = not st.session_state[PAUSED]
        stop_training()
        st.rerun()
    if cancel.button(ui.t("train.cancel"), disabled=not active, width="stretch", help=ui.t("train.cancel_help")):
        # Discard the run in progress and the ones waiting; finished runs stay.
        st.session_state[RUNS] = {label: run for label, run in st.session_state[RUNS].items() if run.done}
        st.session_state[QUEUE], st.session_state[PAUSED] = [], False
        stop_training()
        st.rerun()
    if reset.button(ui.t("train.reset"), width="stretch"):
        st.session_state[RUNS], st.session_state[QUEUE] = {}, []
        st.session_state.pop("trained_networks", None)  # the other pages offer them no more
        stop_training()
        st.rerun()

    st.markdown(f"**{ui.t('train.compare')}**")
    loss_compare, dropout_compare = st.columns(2)
    if loss_compare.button(ui.t("train.compare_losses"), disabled=layers is None or room < 2, width="stretch"):
        for name in ("softmax_ce", "sigmoid_mse"):
            queue_run(ui.t(f"train.output.{name}"), settings={"output": name})
        st.rerun()
    if dropout_compare.button(ui.t("train.compare_dropout"), disabled=layers is None or room < 2, width="stretch"):
        # Few images, many epochs: without dropout the network fits its training images well past
        # the held-out ones, so there is a gap for dropout to narrow (bench/training_defaults.py).
        few = data.subset(min(train_size, training.DROPOUT_COMPARISON_IMAGES), heldout=datasets.HELDOUT_SIZE)
        for rate in (0.0, 0.5):
            queue_run(
                ui.t(
                    "train.dropout_run",
                    rate=f"{rate:g}",
                    images=len(few.images),
                    epochs=training.DROPOUT_COMPARISON_EPOCHS,
                ),
                layers=netspec.with_dropout(layers, rate),
                settings={"epochs": training.DROPOUT_COMPARISON_EPOCHS},
                data=few,
            )
        st.rerun()


with setup:
    setup_panel()


def active_run() -> training.TrainingRun | None:
    """The run being trained: the first unfinished one, else the next queued one, started now."""
    runs = st.session_state[RUNS]
    current = next((run for run in runs.values() if not run.done), None)
    if current is None and st.session_state[QUEUE]:
        label, run_settings, run_layers, data = st.session_state[QUEUE].pop(0)
        network = netspec.build_network(data.input_shape, run_layers, len(data.class_names), seed=run_settings.seed)
        spec = netspec.format_spec(run_layers)
        # Trained in the server's worker processes: a slice never holds this process's interpreter,
        # which every student's slider needs (cnnviz/training_workers.py).
        current = runs[label] = training.TrainingRun(
            label, network, data, run_settings, spec, workers=training_workers.shared()
        )
        st.session_state.setdefault(NEW_RUNS, []).append(label)
        finished = [name for name, kept in runs.items() if kept.done]  # oldest first
        for name in finished[: max(0, len(runs) - kept_runs())]:
            del runs[name]  # its curves and its weights
    return current


def runs_to_show(runs: dict[str, training.TrainingRun]) -> None:
    """Set the runs-on-the-chart choice: what the student picked, plus every run started since
    (a multiselect keeps its value when its options grow, so new runs are added here)."""
    chosen = st.session_state.get(SHOWN)  # None after leaving the page: the latest four
    kept = list(runs)[-4:] if chosen is None else [label for label in chosen if label in runs]
    new = [label for label in st.session_state.pop(NEW_RUNS, []) if label in runs and label not in kept]
    st.session_state[SHOWN] = [*kept, *new][-4:] if new else kept


running = (
    any(not r.done for r in st.session_state[RUNS].values()) or bool(st.session_state[QUEUE])
) and not st.session_state[PAUSED]


@st.fragment(run_every=0.1 if running else None)
def live_view() -> None:
    runs: dict[str, training.TrainingRun] = st.session_state[RUNS]
    run = None if st.session_state[PAUSED] else active_run()
    if run is not None:
        # One slice when the server gives this session a turn. Before the first step the page says
        # why nothing happens; later, between two turns, the progress bar says it (no box that
        # comes and goes with every slice).
        with ui.heavy_slice(HEAVY, wait_seconds=WAIT_SECONDS, show_wait=not run.history) as my_turn:
            if my_turn:
                run.advance(SLICE_SECONDS)
        if run.done and not st.session_state[QUEUE]:
            st.rerun()  # the whole page: buttons and the run list change
    if not runs:
        st.info(ui.t("train.empty"))
        return
    latest = run or list(runs.values())[-1]
    for label, failed in runs.items():  # a run whose training process failed: why it stopped
        if failed.failure is not None:
            st.warning(f"{label}: {ui.explain(failed.failure)}", icon=":material/error:")
    last = latest.history[-1] if latest.history else None
    status = ui.t("train.status", label=latest.label, step=len(latest.history), total=latest.total_steps)
    if latest.history and (place := ui.heavy_place(HEAVY)):
        status += " · " + ui.t("heavy.in_line", place=ui.place_in_line(place))
    st.progress(len(latest.history) / latest.total_steps, text=status)
    if last is not None:
        heldout = next((m for m in reversed(latest.history) if m.heldout_accuracy is not None), None)
        a, b, c = st.columns(3)
        a.metric(ui.t("train.metric.loss"), f"{last.train_loss:.3f}")
        b.metric(ui.t("train.metric.heldout_acc"), f"{heldout.heldout_accuracy:.1%}" if heldout else "–")
        c.metric(ui.t("train.metric.epoch"), f"{last.epoch:.2f}")
    runs_to_show(runs)
    shown = st.multiselect(ui.t("train.shown_runs"), list(runs), key=SHOWN)
    view = ui.View().html(learning_curves(runs, shown)).caption(ui.t("train.kept", count=kept_runs()))
    for label in shown:  # the gap each chart shows, in numbers: training and held-out measured alike
        measured = next((m for m in reversed(runs[label].history) if m.train_set_accuracy is not None), None)
        if measured is not None:
            view.caption(
                ui.t(
                    "train.gap",
                    label=label,
                    train=f"{measured.train_set_accuracy:.1%}",
                    heldout=f"{measured.heldout_accuracy:.1%}",
                    gap=f"{100 * (measured.train_set_accuracy - measured.heldout_accuracy):+.1f}",
                )
            )
    view.draw()
    filters, samples = st.columns([1, 2])
    sheet, probabilities = drawn_once_per_step(latest)
    with filters, ui.panel("train.filters"):
        if sheet is not None:
            st.image(sheet, caption=ui.t("train.filters"), width="stretch")
    with samples, ui.panel("train.predictions"):
        show_predictions(latest, probabilities)


def learning_curves(runs: dict[str, training.TrainingRun], shown: list[str]) -> str:
    """The chart of the shown runs, drawn again only when one has new steps: a run waiting for its
    turn in the server's line redraws its view without drawing the chart again (~20 ms each)."""
    key = (tuple(shown), tuple(len(runs[label].history) for label in shown), ui.lang())
    drawn = st.session_state.get(CURVES)
    if drawn is None or drawn[0] != key:
        chart = training_charts.learning_curves(
            {label: runs[label].history for label in shown},
            (ui.t("train.chart.loss"), ui.t("train.chart.accuracy")),
            ui.t("train.chart.step"),
        )
        drawn = st.session_state[CURVES] = (key, chart)
    return drawn[1]


def drawn_once_per_step(run: training.TrainingRun) -> tuple[np.ndarray | None, np.ndarray]:
    """The run's first-layer filter sheet and its predictions on six held-out pictures, made again
    only when the run has trained a step since: a run waiting for its turn reruns its live view
    about once a second with the same weights, and running the network each time was most of what
    a trainer cost the server, which every student's slider shares (bench/RESULTS.md, issue 15)."""
    key = (id(run), run.label, len(run.history))
    drawn = st.session_state.get(DRAWN)
    if drawn is None or drawn[0] != key:
        probabilities = training_charts.predictions(
            run.network, run.data.heldout_images[:6], lambda z: training.probabilities(z, run.settings.output)
        )
        drawn = st.session_state[DRAWN] = (key, (training_charts.first_layer_filters(run.network), probabilities))
    return drawn[1]


def heldout_pictures(data: datasets.LabelledImages) -> list[bytes]:
    """The first six held-out pictures as PNG, made once per data set of the session (not per rerun)."""
    made = st.session_state.get(HELDOUT_PICTURES)
    if made is None or made[0] is not data:
        pngs = [pictures.png((image.numpy().transpose(1, 2, 0) * 255).astype(np.uint8).squeeze())
                for image in data.heldout_images[:6]]  # fmt: skip
        made = st.session_state[HELDOUT_PICTURES] = (data, pngs)
    return made[1]


def show_predictions(run: training.TrainingRun, probabilities: np.ndarray) -> None:
    data = run.data
    shown = heldout_pictures(data)
    columns = st.columns(len(shown))
    for column, picture, label, probs in zip(
        columns, shown, data.heldout_labels[:6].tolist(), probabilities, strict=True
    ):
        best = int(probs.argmax())
        column.image(picture, width="stretch")
        mark = "✓" if best == label else "✗"
        column.caption(f"{mark} {run.class_names[best]} {probs[best]:.0%}")


with live:
    live_view()
    finished = {label: run for label, run in st.session_state[RUNS].items() if run.done and run.failure is None}
    if finished:
        with ui.panel("train.download"):
            chosen = st.selectbox(
                ui.t("train.download_pick"), list(finished), index=len(finished) - 1, key="train.download_pick"
            )
            run = finished[chosen]
            metadata = {
                "spec": run.spec,
                "classes": ",".join(run.class_names),
                "input_shape": "x".join(map(str, run.input_shape)),
            }
            st.download_button(
                ui.t("train.download"),
                safetensors_bytes(run.network.state_dict(), metadata=metadata),
                file_name="cnnviz_trained.safetensors",
                mime="application/octet-stream",
            )
            # The feature-map and filter pages offer these networks too (this session only).
            st.session_state["trained_networks"] = finished
            st.caption(ui.t("train.reuse"))
