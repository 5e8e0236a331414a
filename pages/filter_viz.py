"""Filter visualization: the input a filter (or a class) wants most, made live by gradient ascent."""

from __future__ import annotations

import hashlib
from dataclasses import astuple, dataclass, field
from pathlib import Path

import numpy as np
import streamlit as st
import torch

from cnnviz import models
from cnnviz.drawing import pictures
from cnnviz.images import upscale_nearest
from cnnviz.models import Network
from cnnviz.optvis import targets
from cnnviz.optvis.dataset import TopPatches, shipped_dataset, top_dataset_patches
from cnnviz.optvis.param import ImageSpace
from cnnviz.optvis.render import Recipe, Rendering, layer_output
from cnnviz.optvis.targets import Comparison
from cnnviz.optvis.transforms import Transforms
from pages import ui

SIZES = (28, 32, 48, 64, 96, 128)
RATES = (0.01, 0.02, 0.05, 0.1, 0.2)
#: Finished runs kept per session (each is a few small images).
KEPT_RESULTS = 12
TRAINED = "trained:"  # option ids of networks from the Training page: TRAINED + the run's label
TRAINED_RUNS = "trained_networks"  # where the Training page leaves its finished runs
RESULTS = "fviz.results"
JOB = "fviz.job"  # the run under way (a Job)
HEAVY = "fviz.run"  # its name in the server's heavy-job budget (ui.heavy_slice)
#: Moved copies measuring how much of its objective a result keeps (targets.kept_under_moves).
MOVED_COPIES = 32
#: Work per rerun while a run is under way; between two slices a Stop press is seen and
#: other students' heavy jobs get their turn.
SLICE_SECONDS = 0.5
#: While waiting in line, how long one rerun waits for the turn before redrawing the place.
WAIT_SECONDS = 0.2
#: The lesson's timer while a run is under way (a rerun per slice or per look at the line).
SLICE_EVERY = 0.1
STOPPED = "fviz.stopped"  # Stop was pressed: say so once
#: A copy of the settings: Streamlit forgets a page's widget values when another page runs.
KEPT_SETTINGS = "fviz.kept_settings"
TILE = 112
#: Steps an ImageNet network runs by default: a 64 px picture in seconds (see ``choose_recipe``).
IMAGENET_STEPS = 32


@dataclass(frozen=True)
class Result:
    """A finished run: the image(s), the objective at every step, and (single target) the held-out comparison."""

    image: np.ndarray  # (H, W[, 3]) or (N, H, W[, 3]) float in 0..1
    values: tuple[float, ...]
    comparison: Comparison | None
    kept: float | None = None  # the share of its objective it keeps when moved (targets.kept_under_moves)


# --- networks and cached work --------------------------------------------------------------------


@st.cache_resource(max_entries=2, show_spinner=False)
def bundled_network(name: str) -> Network:
    return models.load_bundled(name)


@st.cache_resource(max_entries=4, show_spinner=False)
def trained_network(weights_digest: str, _run) -> Network:
    # A copy per set of weights, shared by sessions only when the weights are identical.
    return models.from_training(_run.label, _run.network, _run.class_names, _run.input_shape)


@st.cache_resource(max_entries=1, show_spinner=False)
def imagenet_network(architecture: str, path: str, modified: float) -> Network:
    # One at a time, as on the feature-map page: VGG-16 alone is half a gigabyte.
    return models.load_user_weights(architecture, Path(path))


def resolve(option: str) -> tuple[str, Network]:
    """The network behind a choice, and a key that changes with its weights (for the caches)."""
    if option in models.IMAGENET:
        path = models.find_imagenet_weights()[option]
        return f"file:{path}:{path.stat().st_mtime}", imagenet_network(option, str(path), path.stat().st_mtime)
    if not option.startswith(TRAINED):
        return option, bundled_network(option)
    run = st.session_state[TRAINED_RUNS][option.removeprefix(TRAINED)]
    hashed = hashlib.sha1()
    for tensor in run.network.state_dict().values():
        hashed.update(tensor.numpy().tobytes())
    key = TRAINED + hashed.hexdigest()
    return key, trained_network(key, run)


@st.cache_resource(max_entries=4, show_spinner=False)
def heldout(name: str, _network: Network) -> tuple[np.ndarray, torch.Tensor, ImageSpace]:
    """The held-out pictures, the same as network inputs, and the network's image space."""
    network, m = _network, _network.manifest
    if not m.sample:  # ImageNet: no pictures ship with the app (and ImageNet's own colours are used)
        channels, height, width = m.input_shape
        return (
            np.zeros((0, height, width, channels), np.uint8),
            torch.zeros(0, *m.input_shape),
            targets.image_space(channels, m.mean, m.std),
        )
    pictures, _ = models.sample_images(m.sample)
    inputs = torch.cat([network.prepare(picture, native=True).tensor for picture in pictures])
    return (
        pictures,
        inputs,
        targets.image_space(m.input_shape[0], m.mean, m.std, pictures if pictures.ndim == 4 else None),
    )


@st.cache_resource(max_entries=2, show_spinner=False)
def shipped_pictures(channels: int, side: int) -> torch.Tensor:
    """Every picture the app ships of the data set networks of this kind learn from: (N, C, side, side) uint8."""
    return shipped_dataset(channels, side)


@st.cache_data(max_entries=64, show_spinner=False)
def reference_values(name: str, kind: str, layer: str, index: int, negative: bool, _network: Network) -> np.ndarray:
    """(N,) the target's objective on every shipped picture (the real images a result is measured against)."""
    shape = _network.manifest.input_shape
    _, _, space = heldout(name, _network)
    objective = targets.target(kind, layer, index, negative)
    return targets.objective_on_images(_network.model, objective, shipped_pictures(shape[0], shape[1]), space)


def data_name(network: Network) -> str:
    """What the shipped pictures are: digits for a gray network, shapes for a colour one."""
    return ui.t("fviz.data.digits" if network.manifest.input_shape[0] == 1 else "fviz.data.shapes")


@st.cache_data(max_entries=32, show_spinner=False)
def strongest_patches(name: str, layer: str, index: int, _network: Network) -> TopPatches:
    pictures, inputs, _ = heldout(name, _network)
    return top_dataset_patches(_network.model, layer, index, inputs, pictures, count=6)


@st.cache_data(max_entries=16, show_spinner=False)
def map_on_picture(name: str, layer: str, pixels: np.ndarray, _network: Network) -> tuple[np.ndarray, np.ndarray]:
    """(the picture as the network receives it, (H, W[, 3]) uint8; the layer's output for it, (C, H', W') or (K,))."""
    network = _network
    prepared = network.prepare(pixels)
    return prepared.pixels.squeeze(), layer_output(network.model, layer, prepared.tensor)[0].numpy()


def available_networks() -> list[str]:
    """The bundled networks, the ImageNet ones whose weight files are here, then those trained on the
    Training page in this session."""
    bundled = [name for name in models.BUNDLED if (models.networks.MODELS_DIR / f"{name}.json").exists()]
    imagenet = [name for name in models.IMAGENET if name in models.find_imagenet_weights()]
    return bundled + imagenet + [TRAINED + label for label in st.session_state.get(TRAINED_RUNS, {})]


def network_label(option: str) -> str:
    if option.startswith(TRAINED):
        return ui.t("fmap.net.trained", label=option.removeprefix(TRAINED))
    return ui.t(f"fmap.net.{option}" if option in models.IMAGENET else f"fviz.net.{option}")


def as_uint8(image: np.ndarray) -> np.ndarray:
    return (np.clip(image, 0, 1) * 255).round().astype(np.uint8)


# --- settings ------------------------------------------------------------------------------------


def keep_in_range(key: str, low: int, high: int) -> None:
    """A remembered slider value outside a new range (another layer) is moved inside it."""
    if key in st.session_state and not low <= st.session_state[key] <= high:
        st.session_state[key] = min(max(st.session_state[key], low), high)


def preset_settings(recipe: Recipe) -> dict[str, object]:
    """The regularizer widgets' values that make ``recipe``: on/off switches and strengths."""
    moves = recipe.transforms
    settings: dict[str, object] = {"fviz.param": recipe.parameterization, "fviz.decorrelate": recipe.decorrelate}
    for name, value in (("jitter", moves.jitter), ("scale", moves.scale), ("rotate", moves.rotate), ("pad", moves.pad),
                        ("l2", recipe.l2), ("tv", recipe.tv), ("blur", recipe.blur_every)):  # fmt: skip
        settings[f"fviz.{name}_on"] = bool(value)
        if value:
            settings[f"fviz.{name}"] = value
    return settings


def apply_preset(name: str) -> None:
    for key, value in preset_settings(targets.PRESETS[name]).items():
        st.session_state[key] = value  # the bound widgets write it to the URL


def switched_slider(column, name: str, low, high, default, step, on_default: bool = False) -> float:
    """A regularizer: an on/off switch and its strength (0 when off)."""
    on = column.toggle(ui.t(f"fviz.{name}"), on_default, key=f"fviz.{name}_on", bind="query-params",
                       help=ui.t(f"fviz.{name}_help"))  # fmt: skip
    value = column.slider(ui.t(f"fviz.{name}_strength"), low, high, default, step, key=f"fviz.{name}",
                          bind="query-params", disabled=not on)  # fmt: skip
    return value if on else 0


def regularizer_settings(channels: int) -> dict[str, object]:
    """The parameterization, transformations and penalties, from their widgets (decorrelated
    colour only for a colour network: a gray picture has no colours to decorrelate)."""
    lucid = targets.PRESETS["lucid"]
    moves = lucid.transforms
    first, second, third = st.columns(3)
    with first:
        parameterization = ui.url_choice(
            st.segmented_control, ui.t("fviz.param"), ["pixels", "fourier"], lucid.parameterization, "fviz.param",
            format_func=lambda option: ui.t(f"fviz.param.{option}"), required=True, help=ui.t("fviz.param_help"),
        )  # fmt: skip
        decorrelate = channels == 3 and st.toggle(ui.t("fviz.decorrelate"), lucid.decorrelate, key="fviz.decorrelate",
                                                  bind="query-params", help=ui.t("fviz.decorrelate_help"))  # fmt: skip
        pad = switched_slider(st, "pad", 0, 16, moves.pad, 1, True)
    jitter = switched_slider(second, "jitter", 0, 16, moves.jitter, 1, True)
    scale = switched_slider(second, "scale", 0.0, 0.5, moves.scale, 0.05, True)
    rotate = switched_slider(second, "rotate", 0.0, 45.0, moves.rotate, 1.0, True)
    # Measured on the shapes network: 5 smooths its last layer's stripes; 20 flattens the first layer to grey.
    l2 = switched_slider(third, "l2", 0.0, 50.0, 5.0, 0.5)
    tv = switched_slider(third, "tv", 0.0, 50.0, 5.0, 0.5)
    blur_every = switched_slider(third, "blur", 1, 32, 4, 1)
    return {
        "parameterization": parameterization,
        "decorrelate": decorrelate,
        "transforms": Transforms(pad=int(pad), jitter=int(jitter), scale=float(scale), rotate=float(rotate)),
        "l2": float(l2),
        "tv": float(tv),
        "blur_every": int(blur_every),
    }


# --- running ---------------------------------------------------------------------------------------


@dataclass
class Job:
    """A run under way: advanced one slice per rerun of the lesson, so that its owner can stop it
    and the server's heavy-job budget can let other students' jobs take their turns."""

    key: tuple  # astuple(choice) of the settings it runs
    rendering: Rendering
    objective: object
    batch: int
    values: list[float] = field(default_factory=list)
    image: np.ndarray | None = None
    reference: np.ndarray | None = None  # one target: its objective on every shipped picture
    compared: bool = True  # False for a gallery, and on ImageNet (no pictures ship to compare with)

    @property
    def done(self) -> bool:
        return self.rendering.done and (not self.compared or self.reference is not None)


def start_job(choice: Choice, network: Network) -> None:
    """Run pressed: a new job for these settings (it runs from the next slice on)."""
    _, _, space = heldout(choice.name, network)
    if choice.mode == "gallery":
        objective, batch = targets.gallery(choice.kind, choice.layer, choice.index, choice.negative), choice.index
    else:
        objective, batch = targets.target(choice.kind, choice.layer, choice.index, choice.negative), 1
    rendering = Rendering(network.model, objective, choice.recipe, space, batch)
    compared = batch == 1 and bool(network.manifest.sample)
    st.session_state[JOB] = Job(astuple(choice), rendering, objective, batch, compared=compared)


def stop_job() -> None:
    st.session_state.pop(JOB, None)
    ui.heavy_stop(HEAVY)


def show_progress(job: Job, data: str) -> None:
    """The picture as it forms and the objective so far."""
    steps = job.rendering.recipe.steps
    value = f"{job.values[-1]:.3g}" if job.values else "–"
    text = ui.t("fviz.progress", step=len(job.values), steps=steps, value=value)
    if job.rendering.done:  # what the rerun after this one does: the result against every shipped picture
        text = ui.t("fviz.measuring", data=data)
    st.progress(len(job.values) / steps, text=text)
    if job.image is None:
        return
    picture, curve = st.columns([1, 2])
    shown = job.image if job.batch == 1 else job.image[0]
    picture.image(upscale_nearest(as_uint8(shown), 224), width="stretch")
    curve.line_chart(job.values, height=220, x_label=ui.t("fviz.step"), y_label=ui.t("fviz.objective"))


def advance_job(job: Job, network: Network, choice: Choice) -> Result | None:
    """One slice of the job when the server's budget gives this session its turn; the result once done.
    Until then the lesson's timer reruns it (a Stop press is seen between two slices)."""
    with ui.heavy_slice(HEAVY, wait_seconds=WAIT_SECONDS) as my_turn:
        if my_turn and not job.rendering.done:
            for step in job.rendering.advance(SLICE_SECONDS):
                job.values.append(step.value)
                job.image = step.image
        elif my_turn and not job.done:  # a slice of its own: a new target costs a few seconds on shapes
            job.reference = reference_values(choice.name, choice.kind, choice.layer, choice.index, choice.negative,
                                             network)  # fmt: skip
    if not job.done:
        show_progress(job, data_name(network))
        return None
    del st.session_state[JOB]
    if not job.compared:
        return Result(job.image, tuple(job.values), None)
    _, _, space = heldout(choice.name, network)
    comparison = targets.compare_with_sample(network.model, job.objective, job.image, space, sample=job.reference)
    return Result(job.image, tuple(job.values), comparison, kept_when_moved(choice, network, job, space))


def kept_when_moved(choice: Choice, network: Network, job: Job, space: ImageSpace) -> float | None:
    """The share of its objective the result keeps when moved as the Fourier + transforms preset moves
    pictures (the same yardstick for every preset); None for a neuron (no moves) or a silent result."""
    if choice.kind == "neuron":
        return None
    moves = targets.sized(targets.PRESETS["lucid"], choice.kind, network.manifest.input_shape[1]).transforms
    try:
        return targets.kept_under_moves(network.model, job.objective, job.image, space, moves, MOVED_COPIES)
    except ValueError:  # a result that does not excite its target keeps nothing worth a number
        return None


def remember(choice: Choice, result: Result) -> None:
    kept = st.session_state.setdefault(RESULTS, {})
    kept[astuple(choice)] = result
    while len(kept) > KEPT_RESULTS:
        kept.pop(next(iter(kept)))


# --- panels ------------------------------------------------------------------------------------------


def result_panel(result: Result, data: str) -> None:
    st.markdown(f"**{ui.t('fviz.result')}**")
    ui.show_image(as_uint8(result.image), small_side=256)
    comparison = result.comparison
    if comparison is None:
        return
    kept = "" if result.kept is None else " " + ui.t("fviz.kept", kept=f"{100 * result.kept:.0f}", count=MOVED_COPIES)
    if comparison.ratio is not None:
        st.caption(ui.t("fviz.ratio", ratio=f"{comparison.ratio:.2f}", ours=f"{comparison.ours:.3g}",
                        best=f"{comparison.best:.3g}", n=f"{len(comparison.sample):,}", data=data) + kept)  # fmt: skip
    else:
        st.caption(ui.t("fviz.no_ratio", ours=f"{comparison.ours:.3g}", best=f"{comparison.best:.3g}",
                        n=f"{len(comparison.sample):,}", data=data) + kept)  # fmt: skip


def curve_panel(result: Result) -> None:
    st.line_chart(list(result.values), height=220, x_label=ui.t("fviz.step"), y_label=ui.t("fviz.objective"))
    first, last = result.values[0], result.values[-1]
    st.caption(ui.t("fviz.curve_caption", first=f"{first:.3g}", last=f"{last:.3g}", steps=len(result.values)))


def patches_panel(name: str, layer: str, index: int, network: Network) -> None:
    st.markdown(f"**{ui.t('fviz.patches')}**")
    if not network.manifest.sample:
        st.caption(ui.t("fviz.no_sample"))
        return
    top = strongest_patches(name, layer, index, network)
    columns = st.columns(3)
    for i, (patch, value) in enumerate(zip(top.patches, top.values, strict=True)):
        with columns[i % 3]:
            st.image(upscale_nearest(patch, 96), width="stretch")
            st.caption(f"{value:.3g}")
    key = "fviz.patches_field" if top.field is not None else "fviz.patches_whole"
    st.caption(ui.t(key, n=len(top.means), size=top.field.size if top.field else 0))


def user_map_panel(network: Network, choice: Choice) -> None:
    st.markdown(f"**{ui.t('fviz.your_image')}**")
    layer, index = choice.layer, choice.index
    try:
        seen, output = map_on_picture(choice.name, layer, ui.current_image().pixels, network)
    except ValueError:  # the digits recipe found no ink to centre
        st.warning(ui.t("fviz.no_ink"), icon=":material/block:")
        return
    if choice.kind == "class":
        ui.show_image(seen, small_side=192)
        st.caption(
            ui.t(
                "fviz.your_score",
                label=ui.class_labels(network.manifest.class_names)[index],
                score=f"{output[index]:.3g}",
            )
        )
        return
    values = output[index]
    st.image(upscale_nearest(pictures.colorize(values), 256), width="stretch")
    st.caption(ui.t("fviz.your_map", layer=layer, channel=index, h=values.shape[0], w=values.shape[1],
                    high=f"{values.max():.3g}"))  # fmt: skip


def gallery_panel(result: Result, network: Network, kind: str) -> None:
    per_row = 8
    for first in range(0, len(result.image), per_row):
        for offset, column in enumerate(st.columns(per_row)):
            index = first + offset
            if index < len(result.image):
                column.image(upscale_nearest(as_uint8(result.image[index]), TILE), width="stretch")
                label = (
                    ui.class_labels(network.manifest.class_names)[index]
                    if kind == "class"
                    else ui.t("fviz.channel_n", channel=index)
                )
                column.caption(label)


# --- the page ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """What to run, read from the widgets."""

    name: str
    mode: str
    kind: str
    layer: str
    index: int  # the channel or class; in gallery mode, how many
    negative: bool
    recipe: Recipe


def choose_target(network: Network) -> tuple[str, str, str, int, bool]:
    """(mode, kind, layer, index or gallery size, negative) from the target widgets."""
    top = st.columns([2, 2, 1])
    with top[0]:
        mode = ui.url_choice(st.segmented_control, ui.t("fviz.mode"), ["single", "gallery"], "single", "fviz.mode",
                          format_func=lambda option: ui.t(f"fviz.mode.{option}"), required=True)  # fmt: skip
    with top[1]:
        kind = ui.url_choice(st.segmented_control, ui.t("fviz.kind"), list(targets.TARGET_KINDS), "channel", "fviz.kind",
                          format_func=lambda option: ui.t(f"fviz.kind.{option}"), required=True,
                          help=ui.t("fviz.kind_help"))  # fmt: skip
    negative = top[2].toggle(ui.t("fviz.negative"), False, key="fviz.negative", bind="query-params",
                             help=ui.t("fviz.negative_help"))  # fmt: skip
    which = st.columns(2)
    if kind == "class":
        layer = targets.class_layer(network.model)
        count = len(network.manifest.class_names)
        which[0].markdown(ui.t("fviz.class_layer", layer=layer))
    else:
        layers = targets.conv_layers(network.model)
        layer = ui.url_choice(which[0].selectbox, ui.t("fviz.layer"), layers, layers[-1], "fviz.layer")
        count = network.model.get_submodule(layer).out_channels
    if mode == "gallery":
        keep_in_range("fviz.count", 1, count)
        index = which[1].slider(ui.t("fviz.count"), 1, count, min(8, count), key="fviz.count", bind="query-params")
    else:
        keep_in_range("fviz.index", 0, count - 1)
        label = "fviz.class" if kind == "class" else "fviz.channel"
        index = which[1].slider(ui.t(label), 0, count - 1, 0, key="fviz.index", bind="query-params")
        if kind == "class":
            which[1].caption(ui.class_labels(network.manifest.class_names)[index])
    return mode, kind, layer, index, negative


def follow_default(key: str, default: object) -> None:
    """A setting left at the previous network's default takes this network's default."""
    previous = st.session_state.get(f"{key}_default")
    if previous is not None and previous != default and st.session_state.get(key) == previous:
        st.session_state[key] = default
    st.session_state[f"{key}_default"] = default


def choose_recipe(network: Network, kind: str, presets, settings_area) -> Recipe:
    """The two presets (in ``presets``: two columns), the optimizer's settings and the regularizers
    (in ``settings_area``, below the results)."""
    for column, preset in zip(presets, targets.PRESETS, strict=True):
        column.button(ui.t(f"fviz.preset.{preset}"), key=f"fviz.preset.{preset}", on_click=apply_preset, args=(preset,),
                      help=ui.t(f"fviz.preset.{preset}_help"), width="stretch", icon=":material/tune:")  # fmt: skip
    native, lucid = network.manifest.input_shape[1], targets.PRESETS["lucid"]
    # Measured on this 2-core server (loaded): one step at 64 px takes ResNet-18 ~45 ms, VGG-16 ~125 ms.
    steps_default = IMAGENET_STEPS if network.manifest.architecture in models.IMAGENET else 128
    follow_default("fviz.steps", steps_default)
    with settings_area.expander(ui.t("fviz.regularizers"), expanded=True, icon=":material/auto_fix_high:"):
        regularizers = regularizer_settings(network.manifest.input_shape[0])
    with settings_area.expander(ui.t("fviz.optimizer"), expanded=True, icon=":material/speed:"):
        row = st.columns(4)
        steps = row[0].slider(ui.t("fviz.steps"), 8, 512, steps_default, 8, key="fviz.steps", bind="query-params")
        rate = row[1].select_slider(ui.t("fviz.rate"), RATES, lucid.learning_rate, key="fviz.rate", bind="query-params")
        size = row[2].select_slider(ui.t("fviz.size"), SIZES, 64, key="fviz.size", bind="query-params",
                                    disabled=kind == "class", help=ui.t("fviz.size_help", side=native))  # fmt: skip
        seed = row[3].number_input(ui.t("fviz.seed"), 0, 9999, 0, key="fviz.seed", bind="query-params")
    settings = {"size": size, "steps": steps, "learning_rate": rate, "seed": int(seed), **regularizers}
    return targets.sized(Recipe(), kind, native, **settings)


def choose(presets, settings_area) -> tuple[Choice, Network]:
    names = available_networks()
    option = ui.url_choice(st.selectbox, ui.t("fviz.network"), names, names[0], "fviz.network",
                           format_func=network_label)  # fmt: skip
    name, network = resolve(option)
    mode, kind, layer, index, negative = choose_target(network)
    recipe = choose_recipe(network, kind, presets, settings_area)
    return Choice(name, mode, kind, layer, index, negative, recipe), network


def run_panel(choice: Choice, network: Network, clicked: bool) -> Result | None:
    """The finished result for these settings (remembered, or made by the job under way), or None.
    Run ``clicked`` starts a job; starting and finishing one rerun the whole page, which starts
    and stops the lesson's timer."""
    job = st.session_state.get(JOB)
    if job is not None and job.key != astuple(choice):  # the settings changed under a running job
        stop_job()
        job = None
    # By value: each run of this script defines a new Choice class, and instances of two never compare equal.
    result = st.session_state.get(RESULTS, {}).get(astuple(choice))
    if job is None and clicked and result is None:
        try:
            start_job(choice, network)
        except ValueError as error:
            st.warning(str(error), icon=":material/block:")
            return None
        st.rerun()
    if job is None:
        if result is None:
            st.info(ui.t("fviz.press_run"), icon=":material/play_arrow:")
        return result
    try:
        result = advance_job(job, network, choice)
    except ValueError as error:
        stop_job()
        st.warning(ui.explain(error), icon=":material/block:")
        return None
    if result is not None:
        remember(choice, result)
        st.rerun()  # the whole page: the timer stops, the result is shown
    return None


def results_panel(choice: Choice, network: Network, result: Result) -> None:
    if choice.mode == "gallery":
        with ui.panel("fviz.gallery"):
            st.subheader(ui.t("fviz.gallery_title", count=choice.index, layer=choice.layer))
            gallery_panel(result, network, choice.kind)
    else:
        synthesized, patches, yours = st.columns(3)
        with synthesized, ui.panel("fviz.result"):
            result_panel(result, data_name(network))
        with patches, ui.panel("fviz.patches"):
            patches_panel(choice.name, choice.layer, choice.index, network)
        with yours, ui.panel("fviz.your_image"):
            user_map_panel(network, choice)
    with ui.panel("fviz.curve"):
        curve_panel(result)


def restore_settings() -> None:
    """Back from another page: the settings as they were (a link's own settings win)."""
    for key, value in st.session_state.get(KEPT_SETTINGS, {}).items():
        if key not in st.session_state and key not in st.query_params:
            st.session_state[key] = value


def keep_settings() -> None:
    buttons = ("fviz.run", "fviz.stop", "fviz.preset.")  # a button's state cannot be set
    st.session_state[KEPT_SETTINGS] = {
        key: value
        for key, value in st.session_state.items()
        if key.startswith("fviz.") and key not in (RESULTS, KEPT_SETTINGS, JOB, STOPPED) and not key.startswith(buttons)
    }


restore_settings()
st.title(ui.t("fviz.title"))
st.markdown(ui.t("fviz.intro"))


@st.fragment(run_every=SLICE_EVERY if JOB in st.session_state else None)
def lesson() -> None:
    """Everything below the title: a setting reruns only this, not the sidebar. While a run is
    under way, a timer reruns it: one slice of the run per rerun."""
    target_area, action_area, result_area, settings_area = (st.container() for _ in range(4))
    with action_area:
        st.markdown(f"**{ui.t('fviz.presets')}**")
        *presets, run_column = st.columns([2, 2, 1])
        button = run_column.empty()  # Run, or Stop while a job runs or waits its turn
        clicked = False
        if JOB in st.session_state:
            stopped = button.button(ui.t("heavy.stop"), key="fviz.stop", icon=":material/stop:", width="stretch",
                                    help=ui.t("heavy.stop_help"))  # fmt: skip
            if stopped:
                stop_job()
                st.session_state[STOPPED] = True
                st.rerun()  # the whole page: the timer stops
        if JOB not in st.session_state:
            clicked = button.button(ui.t("fviz.run"), key="fviz.run", type="primary", icon=":material/play_arrow:",
                                    width="stretch")  # fmt: skip

    chosen = None
    with target_area, ui.panel("fviz.settings"):
        chosen = choose(presets, settings_area)
    if chosen is None:
        return
    choice, network = chosen
    keep_settings()
    with result_area, ui.panel("fviz.run"):
        if st.session_state.pop(STOPPED, False):
            st.info(ui.t("heavy.stopped"), icon=":material/stop_circle:")
        result = run_panel(choice, network, clicked)
        if result is not None:
            results_panel(choice, network, result)


lesson()
