"""Feature maps: what every layer of a real, trained network computes for one image."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import streamlit as st

from cnnviz import attribution, features, models
from cnnviz.attribution import AttributionMap
from cnnviz.drawing import attribution_view, grids, pictures
from cnnviz.drawing.marks import Box, marks_svg
from cnnviz.features import FeatureMaps
from cnnviz.images import upscale_nearest
from cnnviz.models import Network, WeightsError, domain
from cnnviz.optvis.dataset import receptive_field
from pages import ui
from pages.click_view import Clickable, click_view, clicked

#: Width (pixels) a layer's tile grid may take in the overview.
GRID_WIDTH = 860
#: The overview shows at most this many channels per layer (the closer look reaches all).
OVERVIEW_CHANNELS = 64
CANVAS_SIDE = 224
#: A grey band above the drawing square, under the canvas's own toolbar: the toolbar (invisible until
#: hovered) caught the first stroke begun in the square's top right corner. Cut off before use.
CANVAS_BAND = 40
#: A picture in a View: as wide as its column, also when that is wider than the picture.
PICTURE_STYLE = "width:100%;object-fit:fill"
#: ImageNet weight files are large (VGG-16: 528 MB); uploads above this are refused.
WEIGHTS_UPLOAD_MB = 600
#: Where the map position clicked is kept (session and URL): "row,col".
FIELD_KEY = "fmap.pixel"


# --- networks and cached work --------------------------------------------------------------------


@st.cache_resource(max_entries=2, show_spinner=False)
def bundled_network(name: str) -> Network:
    return models.load_bundled(name)


@st.cache_resource(max_entries=1, show_spinner=False)
def network_from_file(architecture: str, path: str, modified: float) -> Network:
    # One at a time: VGG-16 alone is half a gigabyte. ``modified`` reloads a replaced file.
    return models.load_user_weights(architecture, Path(path))


@st.cache_resource(max_entries=1, show_spinner=False)
def network_from_upload(architecture: str, file_id: str, _data: bytes) -> Network:
    return models.load_user_weights(architecture, _data)


@st.cache_resource(max_entries=4, show_spinner=False)
def network_from_training(label: str, weights_digest: str, _run) -> Network:
    # A copy per set of weights: the run keeps its own network; identical weights share one copy.
    return models.from_training(label, _run.network, _run.class_names, _run.input_shape)


@st.cache_data(max_entries=4, show_spinner=False)
def heldout(sample: str) -> tuple[np.ndarray, np.ndarray]:
    return models.sample_images(sample)


@st.cache_data(max_entries=16, show_spinner=False)
def extract(network_key: str, input_digest: str, _network: Network, _tensor) -> FeatureMaps:
    # Keyed by the network's weights and the exact input tensor: the same picture is computed once.
    return features.feature_maps(_network.model, _tensor, _network.shown_layers)


#: The key (network, input) of the maps this session last computed: a rerun on the same picture (another
#: channel, colour scale) takes them from the cache without queueing for the heavy-work budget again.
LAST_MAPS = "fmap.last_maps"


def maps_for(network_key: str, input_digest: str, network: Network, tensor) -> FeatureMaps:
    """Every layer's maps; a new ImageNet forward pass waits its turn in the server's heavy-work budget."""
    key = (network_key, input_digest)
    if network.manifest.architecture not in models.IMAGENET or st.session_state.get(LAST_MAPS) == key:
        return extract(network_key, input_digest, network, tensor)
    with ui.heavy_work():
        maps = extract(network_key, input_digest, network, tensor)
    st.session_state[LAST_MAPS] = key
    return maps


def digest(*arrays: np.ndarray) -> str:
    hashed = hashlib.sha1()
    for array in arrays:
        hashed.update(np.ascontiguousarray(array).tobytes())
    return hashed.hexdigest()


def number(value: int) -> str:
    return f"{value:,}"


def shape_text(shape: tuple[int, ...]) -> str:
    return " × ".join(map(str, shape))


# --- choosing the network and the input --------------------------------------------------------

#: Width (pixels) of the network list: room for the longest name, "ResNet-18 (ImageNet, your weights)".
NETWORK_WIDTH = 320
TRAINED = "trained:"  # option ids of networks from the Training page: TRAINED + the run's label


def offered_networks(uploaded: str | None) -> dict[str, str]:
    """Every network this session can look inside: option id -> a key that changes with its weights.

    Args:
        uploaded: the architecture of a weight file uploaded and loaded on this page, if any.
    """
    offered = {name: name for name in models.BUNDLED}
    for architecture, path in models.find_imagenet_weights().items():
        offered[architecture] = f"file:{path}:{path.stat().st_mtime}"
    if uploaded is not None:
        offered[uploaded] = f"upload:{st.session_state['fmap.weights_file'].file_id}"
    for label, run in st.session_state.get("trained_networks", {}).items():
        offered[TRAINED + label] = f"trained:{digest(*(v.numpy() for v in run.network.state_dict().values()))}"
    return offered


def network_label(option: str) -> str:
    if option.startswith(TRAINED):
        return ui.t("fmap.net.trained", label=option.removeprefix(TRAINED))
    return ui.t(f"fmap.net.{option}")


def load_network(option: str, weights_key: str) -> Network:
    if option in models.BUNDLED:
        return bundled_network(option)
    if weights_key.startswith("trained:"):
        label = option.removeprefix(TRAINED)
        return network_from_training(label, weights_key, st.session_state["trained_networks"][label])
    if weights_key.startswith("upload:"):
        upload = st.session_state["fmap.weights_file"]
        return network_from_upload(option, upload.file_id, upload.getvalue())
    path = models.find_imagenet_weights()[option]
    return network_from_file(option, str(path), path.stat().st_mtime)


def weights_help(uploaded: str | None) -> None:
    """Under the network list: which ImageNet networks are here, and how to get the others
    (``uploaded``: the architecture of a weight file uploaded on this page, here too)."""
    found = models.find_imagenet_weights()
    missing = [title for name, title in models.IMAGENET.items() if name not in found and name != uploaded]
    if found:
        st.caption(ui.t("fmap.have_weights", files=", ".join(f"`{path.name}`" for path in found.values())))
    if missing:
        st.caption(ui.t("fmap.get_weights", missing=", ".join(missing)))


def weights_panel() -> str | None:
    """An upload for a weight file the user has (ImageNet, or our networks retrained).

    Returns:
        The architecture of the uploaded file when it loaded, else None.
    """
    with st.expander(ui.t("fmap.imagenet"), icon=":material/upload_file:"):
        st.markdown(ui.t("fmap.imagenet_help", variable=models.networks.WEIGHTS_DIR_VARIABLE))
        columns = st.columns([1, 2])
        architecture = ui.translated_choice(
            columns[0].selectbox, ui.t("fmap.weights_arch"), list(models.USER_ARCHITECTURES), "fmap.weights_arch",
            format_func=network_label,
        )  # fmt: skip
        upload = columns[1].file_uploader(
            ui.t("fmap.weights_file"), type=["pth", "pt", "safetensors"], key="fmap.weights_file",
            max_upload_size=WEIGHTS_UPLOAD_MB, help=ui.t("fmap.weights_limit", limit=WEIGHTS_UPLOAD_MB),
        )  # fmt: skip
        ui.uploader_in_session_language("fmap.weights_file", WEIGHTS_UPLOAD_MB)
        if upload is None:
            return None
        try:
            network_from_upload(architecture, upload.file_id, upload.getvalue())
        except WeightsError as error:
            st.error(ui.t("fmap.weights_refused", reason=ui.explain(error)), icon=":material/block:")
            return None
        st.success(ui.t("fmap.weights_loaded", title=network_label(architecture)), icon=":material/check:")
        return architecture


def choose_input(network: Network) -> tuple[np.ndarray, int | None] | None:
    """The picture to feed: (pixels, true class or None); None while the canvas is empty."""
    sources = ["heldout", "draw"] if network.manifest.preprocessing == "mnist" else ["heldout"]
    sources = [*sources, "sidebar"] if network.manifest.sample else ["sidebar"]
    source = ui.url_choice(
        st.segmented_control, ui.t("fmap.source"), sources, sources[0], "fmap.source", required=True,
        format_func=lambda name: ui.t(f"fmap.source.{name}"),
    )  # fmt: skip
    if source == "heldout":
        images, labels = heldout(network.manifest.sample)
        names = network.manifest.class_names
        classes = [names[index] for index in sorted(set(labels.tolist()))]
        chosen = ui.url_choice(
            st.segmented_control, ui.t("fmap.class"), classes, classes[0], "fmap.class", required=True, wrap=True,
            format_func=ui.class_label,
        )  # fmt: skip
        indices = np.flatnonzero(labels == names.index(chosen))
        example = st.slider(ui.t("fmap.example"), 1, len(indices), 1, key="fmap.example", bind="query-params")
        index = indices[example - 1]
        return images[index], int(labels[index])
    if source == "draw":
        return drawing()
    st.caption(ui.t("fmap.sidebar_only"))
    return ui.current_image().pixels, None


@st.cache_data(max_entries=1, show_spinner=False)
def canvas_background() -> bytes:
    """White drawing square under a light grey band (``CANVAS_BAND``) that holds the canvas's toolbar."""
    background = np.full((CANVAS_SIDE + CANVAS_BAND, CANVAS_SIDE, 3), 255, np.uint8)
    background[:CANVAS_BAND] = 232
    return pictures.png(background)


def drawing() -> tuple[np.ndarray, None] | None:
    """A canvas to draw a digit on (black on white, as on paper)."""
    try:
        from streamlit_drawable_canvas import st_canvas
    except Exception:  # the component could not register: say so, keep the page
        st.info(ui.t("fmap.canvas_missing"), icon=":material/draw:")
        return None
    st.caption(ui.t("fmap.draw_help"))
    result = st_canvas(
        stroke_width=18, stroke_color="#000000", background_image=canvas_background(), height=CANVAS_SIDE + CANVAS_BAND,
        width=CANVAS_SIDE, drawing_mode="freedraw", key="fmap.canvas", return_image_data=True,
    )  # fmt: skip
    rgba = getattr(result, "image_data", None) if result is not None else None
    if rgba is None:
        return None
    rgba = rgba[-CANVAS_SIDE:]  # the square below the band
    alpha = rgba[..., 3:4].astype(np.float64) / 255
    pixels = (rgba[..., :3] * alpha + 255 * (1 - alpha)).round().astype(np.uint8)
    return (pixels, None) if (pixels < 128).any() else None


# --- panels ----------------------------------------------------------------------------------


def picture(pixels: np.ndarray, caption: str, small_side: int = 224) -> str:
    """An image as ``ui.show_image`` shows it, as an ``<img>`` for a View (``ui.picture_bytes``)."""
    return pictures.picture_html(ui.picture_bytes(pixels, small_side), caption, PICTURE_STYLE)


def input_view(network: Network, pixels: np.ndarray, prepared: models.PreparedInput) -> ui.View:
    """The picture as given and as the network receives it, side by side."""
    original = ui.View().text(f"**{ui.t('fmap.original')}**").html(picture(pixels, ui.t("fmap.original")))
    original.caption(ui.t("fmap.original_caption", h=pixels.shape[0], w=pixels.shape[1]))
    received = ui.View().text(f"**{ui.t('fmap.received')}**").html(picture(prepared.pixels, ui.t("fmap.received")))
    tensor = prepared.tensor
    steps = " → ".join(ui.t(f"fmap.step.{step}") for step in prepared.steps)
    mean = ", ".join(f"{value:.3f}" for value in network.manifest.mean)
    std = ", ".join(f"{value:.3f}" for value in network.manifest.std)
    received.caption(
        ui.t("fmap.received_caption", shape=shape_text(tuple(tensor.shape)), low=f"{float(tensor.min()):.2f}",
             high=f"{float(tensor.max()):.2f}", steps=steps, mean=mean, std=std)
    )  # fmt: skip
    return ui.View().row(original, received)


def numbers_panel(prepared: models.PreparedInput) -> None:
    """A 28 x 28 input as the numbers the network reads."""
    if prepared.pixels.shape[:2] == (28, 28):
        with st.expander(ui.t("fmap.numbers")):
            st.html(number_grid(prepared.tensor[0, 0].numpy()), width="content")


def training_caption(network: Network) -> str:
    """What the network was trained on, and the classes it knows (from its manifest)."""
    manifest = network.manifest
    data = domain.training_data(manifest)
    classes = "" if data == "imagenet" else ", ".join(ui.class_label(name) for name in manifest.class_names)
    _, h, w = manifest.input_shape
    return ui.t(f"fmap.trained_on.{data}", h=h, w=w, count=number(len(manifest.class_names)), classes=classes)


def prediction_view(network: Network, maps: FeatureMaps, truth: int | None, outside: str | None = None) -> ui.View:
    best, probability = maps.top_classes(1)[0]
    names = ui.class_labels(network.manifest.class_names)
    view = ui.View().heading(ui.t("fmap.prediction"))
    if outside is not None:  # a photo for a network that knows only digits or shapes
        view.note(ui.t(f"fmap.outside.{outside}"), "warning")
    view.text(ui.t("fmap.says", label=names[best], probability=f"{probability:.1%}"))
    if truth is not None:
        view.caption(ui.t("fmap.right" if truth == best else "fmap.wrong", label=names[truth]))
    k = min(5, len(names))
    view.svg(probability_svg(maps.probabilities, tuple(names), k, ui.t("fmap.top_k", k=k)))
    accuracy = network.manifest.heldout_accuracy
    if accuracy is not None:
        view.caption(ui.t("fmap.accuracy", accuracy=f"{accuracy:.1%}", size=number(network.manifest.heldout_size)))
    return view


def layer_grid(maps: np.ndarray, bound: float | None) -> np.ndarray:
    """One image of (up to ``OVERVIEW_CHANNELS``) channels fitting ``GRID_WIDTH``: up to 10 in
    a row, 16 as two rows of 8 (larger tiles), more in rows of 16."""
    shown = maps[:OVERVIEW_CHANNELS]
    per_row = len(shown) if len(shown) <= 10 else 8 if len(shown) <= 16 else 16
    return pictures.tile_grid(shown, bound, columns=per_row, tile=min(96, GRID_WIDTH // per_row - 2))


# Rendered pictures and charts, cached by what they show: ``maps_key`` names the network's
# weights and the input (the key of ``extract``); the underscored arguments are what the other
# arguments name, so a slider move redraws only the picture it changes. Pictures are PNG bytes,
# shown with output_format="PNG" so Streamlit sends them as they are (lossless, not re-encoded).


@st.cache_data(max_entries=16, show_spinner=False)
def overview_pictures(maps_key: str, scale: str, _maps: FeatureMaps, _prepared) -> tuple[bytes, list[bytes]]:
    bounds = features.colour_bounds(_maps, scale)
    pixels = _prepared.pixels
    tiles = pictures.input_tiles(pixels, tile=96 if pixels.shape[2] == 1 else 72)
    layer_pngs = [pictures.png(layer_grid(layer.maps, bounds[layer.name])) for layer in _maps.layers]
    return pictures.png(tiles), layer_pngs


@st.cache_data(max_entries=64, show_spinner=False)
def channel_pictures(
    maps_key: str, layer_name: str, channel: int, scale: str, _maps: FeatureMaps, _prepared
) -> tuple[bytes, bytes]:
    """The channel enlarged, and where it fires over the input."""
    values = _maps.layer(layer_name).maps[channel]
    bound = features.colour_bounds(_maps, scale)[layer_name]
    enlarged = upscale_nearest(pictures.colorize(values, bound), 256)
    overlay = pictures.overlay(values, _prepared.pixels.squeeze())
    return pictures.png(enlarged), pictures.png(overlay)


@st.cache_data(max_entries=32, show_spinner=False)
def strongest_pictures(
    maps_key: str, layer_name: str, scale: str, _maps: FeatureMaps
) -> list[tuple[int, float, bytes]]:
    """(channel, mean, picture) of the layer's six strongest channels."""
    maps = _maps.layer(layer_name).maps
    bound = features.colour_bounds(_maps, scale)[layer_name]
    return [
        (index, mean, pictures.png(upscale_nearest(pictures.colorize(maps[index], bound), 96)))
        for index, mean in features.strongest_channels(maps, min(6, len(maps)))
    ]


@st.cache_data(max_entries=64, show_spinner=False)
def kernel_picture(network_key: str, conv: str, channel: int, _network: Network) -> tuple[bytes, tuple[int, ...]]:
    """The kernel that makes ``channel`` of ``conv``, and its (C_in, kh, kw) shape."""
    weight = features.kernel(_network.model, conv, channel)
    return pictures.png(upscale_nearest(pictures.kernel_image(weight), 200)), weight.shape


@st.cache_data(max_entries=32, show_spinner=False)
def probability_svg(probabilities: np.ndarray, names: tuple[str, ...], k: int, title: str) -> str:
    return pictures.probability_chart(names, probabilities, k, title)


@st.cache_data(max_entries=16, show_spinner=False)
def feature_vector_svg(maps_key: str, _vector: np.ndarray) -> str:
    """The feature-vector chart (up to thousands of bars), built once per network and input."""
    return pictures.feature_vector_chart(_vector)


@st.cache_data(max_entries=16, show_spinner=False)
def number_grid(values: np.ndarray) -> str:
    """The 28 x 28 input as numbers (cached: ~800 cells of HTML)."""
    return grids.number_grid_html(values, decimals=1, cell_px=26)


def overview_view(maps_key: str, maps: FeatureMaps, prepared: models.PreparedInput, scale: str) -> ui.View:
    """The colour legend and every layer's channels, one row per layer."""
    if scale == "network":
        bound = next(iter(features.colour_bounds(maps, scale).values()))
        legend = pictures.colour_legend(bound, ui.t("fmap.legend_shared"))
    else:
        legend = pictures.colour_legend(None, ui.t(f"fmap.legend_{scale}"))
    tiles, layer_pngs = overview_pictures(maps_key, scale, maps, prepared)
    rows = [(ui.t("fmap.input_layer"), [shape_text(maps.input.shape)], tiles)]
    for layer, grid in zip(maps.layers, layer_pngs, strict=True):
        extra = ui.t("fmap.first_channels", shown=OVERVIEW_CHANNELS) if layer.shape[0] > OVERVIEW_CHANNELS else ""
        details = [
            f"{layer.kind}",
            shape_text(layer.shape),
            f"{ui.t('fmap.parameters', count=number(layer.parameters))} {extra}",
        ]
        rows.append((layer.name, details, grid))
    return ui.View().html(legend).html(pictures.labelled_rows_html(rows))


@st.fragment
def closer_panel(
    network_key: str, network: Network, maps_key: str, maps: FeatureMaps, prepared: models.PreparedInput, scale: str
) -> None:
    """One layer and channel up close: moving its layer or channel reruns only this panel."""
    shown = None  # (layer, channel) once the closer look has drawn
    with ui.panel("fmap.closer"):
        shown = closer_view(network_key, network, maps_key, maps, prepared, scale)
    if shown is not None:
        with ui.panel("fmap.field"):
            field_panel(network_key, network, maps_key, maps, prepared, scale, *shown)


def closer_view(
    network_key: str, network: Network, maps_key: str, maps: FeatureMaps, prepared: models.PreparedInput, scale: str
) -> tuple[str, int]:
    names = [layer.name for layer in maps.layers]
    name = ui.url_choice(
        st.selectbox, ui.t("fmap.layer"), names, names[0], "fmap.layer",
        format_func=lambda n: f"{n} · {maps.layer(n).kind} · {shape_text(maps.layer(n).shape)}",
    )  # fmt: skip
    layer = maps.layer(name)
    count = layer.shape[0]
    channel = (
        st.slider(ui.t("fmap.channel"), 0, count - 1, 0, key="fmap.channel", bind="query-params") if count > 1 else 0
    )
    values = layer.maps[channel]
    enlarged_picture, overlay_picture = channel_pictures(maps_key, name, channel, scale, maps, prepared)
    enlarged_title = ui.t("fmap.enlarged", channel=channel, layer=name)
    enlarged = ui.View().text(f"**{enlarged_title}**").html(shown_png(enlarged_picture, enlarged_title))
    enlarged.caption(ui.t("fmap.map_stats", h=values.shape[0], w=values.shape[1], low=f"{values.min():.3g}",
                          high=f"{values.max():.3g}", mean=f"{values.mean():.3g}"))  # fmt: skip
    where = ui.View().text(f"**{ui.t('fmap.overlay')}**").html(shown_png(overlay_picture, ui.t("fmap.overlay")))
    where.caption(ui.t("fmap.overlay_caption"))
    kernel = ui.View().text(f"**{ui.t('fmap.kernel')}**")
    if layer.conv is None:
        kernel.caption(ui.t("fmap.kernel_none"))
    else:
        kernel_png, (cin, kh, kw) = kernel_picture(network_key, layer.conv, channel, network)
        kernel.html(shown_png(kernel_png, ui.t("fmap.kernel")))
        key = {1: "fmap.kernel_gray", 3: "fmap.kernel_rgb"}.get(cin, "fmap.kernel_slices")
        kernel.caption(ui.t(key, conv=layer.conv, channel=channel, cin=cin, kh=kh, kw=kw))
        if layer.conv != name:
            kernel.caption(ui.t("fmap.kernel_from", layer=name, kind=layer.kind, conv=layer.conv))
    view = ui.View().row(enlarged, where, kernel).text(f"**{ui.t('fmap.strongest')}**")
    strongest = strongest_pictures(maps_key, name, scale, maps)
    view.html(pictures.captioned_row_html(
        [(picture, ui.t("fmap.strong_caption", channel=index, mean=f"{mean:.3g}")) for index, mean, picture in strongest]
    )).draw()  # fmt: skip
    return name, channel


@st.cache_data(max_entries=16, show_spinner=False)
def field_input_picture(maps_key: str, _prepared) -> bytes:
    return ui.picture_bytes(_prepared.pixels, 224)


def field_panel(network_key: str, network: Network, maps_key: str, maps: FeatureMaps, prepared: models.PreparedInput,
                scale: str, name: str, channel: int) -> None:  # fmt: skip
    """Click a position of the channel's map: the input region that feeds it (its receptive field,
    ``receptive_field``) drawn on the input, and the kernel that made the channel."""
    layer = maps.layer(name)
    rows, cols = layer.maps.shape[1:]
    strongest = np.unravel_index(np.argmax(layer.maps[channel]), (rows, cols))
    row, col = clicked(FIELD_KEY) or tuple(map(int, strongest))
    row, col = min(row, rows - 1), min(col, cols - 1)
    height, width = prepared.pixels.shape[:2]
    field = receptive_field(network.model, name)
    view = ui.View().heading(ui.t("fmap.field")).caption(ui.t("fmap.field_help"))
    if field is None:
        words, field_marks = ui.t("fmap.field_unknown"), ""
    else:
        (top, bottom), (left, right) = field.span(row), field.span(col)
        inside = Box(
            max(top, 0), max(left, 0), min(bottom, height) - max(top, 0), min(right, width) - max(left, 0), "field"
        )
        field_marks = marks_svg(height, width, [inside])
        words = ui.t("fmap.field_caption", row=row, col=col, channel=channel, layer=name, top=max(top, 0),
                     bottom=min(bottom, height) - 1, left=max(left, 0), right=min(right, width) - 1, size=field.size,
                     jump=field.jump)  # fmt: skip
        if top < 0 or left < 0 or bottom > height or right > width:
            words += " " + ui.t("fmap.field_padding")
    enlarged, _ = channel_pictures(maps_key, name, channel, scale, maps, prepared)
    map_caption = ui.t("fmap.field_map", channel=channel, layer=name)
    clickables = [
        Clickable(enlarged, rows, cols, map_caption, map_caption, marks_svg(rows, cols, [Box(row, col, 1, 1, "pixel")]),
                  at=(row, col)),
        Clickable(field_input_picture(maps_key, prepared), height, width, ui.t("fmap.field_input"),
                  ui.t("fmap.field_input"), field_marks, clickable=False),
    ]  # fmt: skip
    if layer.conv is not None:
        kernel_png, _ = kernel_picture(network_key, layer.conv, channel, network)
        caption = ui.t("fmap.field_kernel", conv=layer.conv, channel=channel)
        clickables.append(Clickable(kernel_png, 1, 1, caption, caption, clickable=False))
    view.draw()
    click_view("fmap.field_click", FIELD_KEY, clickables, ui.t("fmap.field_click"))
    ui.View().caption(words).draw()


@st.cache_data(max_entries=8, show_spinner=False)
def first_kernels(network_key: str, _network: Network) -> tuple[bytes, str, tuple[int, ...]]:
    """The first convolution's kernels as one picture, its name and its weights' shape (C_out, C_in, kh, kw)."""
    conv, weights = features.first_convolution(_network.model)
    return pictures.png(pictures.kernel_gallery(weights, columns=16, tile=44)), conv, weights.shape


def first_kernels_view(network_key: str, network: Network) -> ui.View:
    """The classic figure: every kernel of the first layer as a small picture."""
    picture, conv, (count, cin, kh, kw) = first_kernels(network_key, network)
    colour = ui.t("fmap.first_kernels_rgb" if cin == 3 else "fmap.first_kernels_gray")
    view = ui.View().heading(ui.t("fmap.first_kernels"))
    view.html(pictures.picture_html(picture, ui.t("fmap.first_kernels"), "max-width:100%"))
    return view.caption(ui.t("fmap.first_kernels_caption", count=count, conv=conv, kh=kh, kw=kw, colour=colour))


def shown_png(png: bytes, alt: str) -> str:
    """A PNG stretched to the width of its column, as ``st.image(png, width="stretch")`` showed it."""
    return pictures.picture_html(png, alt, PICTURE_STYLE)


def strongest_table(maps: FeatureMaps) -> None:
    rows = []
    for layer in maps.layers:
        top = features.strongest_channels(layer.maps, 3)
        rows.append({
            ui.t("fmap.col_layer"): f"{layer.name} ({layer.kind})",
            ui.t("fmap.col_strongest"): ", ".join(f"#{channel} ({mean:.3g})" for channel, mean in top),
        })  # fmt: skip
    st.dataframe(rows, hide_index=True, width="stretch")


@st.fragment
def lesson(network_key: str, network: Network, scale: str) -> None:
    """Everything computed from the input: choosing another input reruns only this part."""
    chosen = choose_input(network)
    if chosen is None:
        st.info(ui.t("fmap.draw_empty"), icon=":material/draw:")
        return
    pixels, truth = chosen
    # A held-out image of the network's own size is fed as it is; anything else goes through the recipe.
    native = truth is not None and pixels.shape[:2] == tuple(network.manifest.input_shape[1:])
    try:
        prepared = network.prepare(pixels, native=native)
    except ValueError:
        st.warning(ui.t("fmap.no_ink"), icon=":material/block:")
        return
    input_digest = digest(prepared.tensor.numpy())
    maps = maps_for(network_key, input_digest, network, prepared.tensor)
    maps_key = f"{network_key}|{input_digest}"
    outside = None if truth is not None else domain.outside_training(pixels, network.manifest)

    seen = predicted = overview = ui.View()
    with ui.panel("fmap.input"):
        seen = input_view(network, pixels, prepared)
    with ui.panel("fmap.prediction"):
        predicted = prediction_view(network, maps, truth, outside)
    # The top-k chart is 440 px (its text stays 12 px and up): below the pictures when the page is narrow.
    ui.View().row(seen, predicted, least_px=(280, 440)).draw()
    with ui.panel("fmap.numbers"):
        numbers_panel(prepared)
    with ui.panel("fmap.first_kernels"):
        first_kernels_view(network_key, network).draw()

    with ui.panel("fmap.overview"):
        overview = overview_view(maps_key, maps, prepared, scale)
    view = ui.View().heading(ui.t("fmap.overview")).caption(ui.t("fmap.overview_help"))
    if outside is not None:
        view.caption(ui.t("fmap.outside_layers"))
    view.text(overview.markdown()).heading(ui.t("fmap.closer")).draw()
    closer_panel(network_key, network, maps_key, maps, prepared, scale)

    attribution_panel(network_key, network, maps, prepared)
    view = ui.View().heading(ui.t("fmap.vector"))
    with ui.panel("fmap.vector"):
        view.caption(ui.t("fmap.vector_caption", size=number(len(maps.penultimate))))
        view.svg(feature_vector_svg(maps_key, maps.penultimate))
    view.heading(ui.t("fmap.strongest_all")).draw()
    with ui.panel("fmap.strongest_all"):
        strongest_table(maps)


# --- where the network looks (cnnviz.attribution) -------------------------------------------------

#: This session's last map: (its cache key, the map). A rerun that shows the same map (another
#: colour scale, another channel) takes it from here instead of queueing for the heavy-work budget.
LAST_MAP = "fmap.last_attribution"
#: Width (pixels) of the panel's drop-downs: room for a long class name or layer; a narrow page wraps them.
CAM_WIDGET_WIDTH = 300


@st.cache_data(max_entries=32, show_spinner=False)
def attribution_map(
    network_key: str, input_digest: str, target: int, method: str, layer: str | None, _network: Network, _tensor
) -> AttributionMap:
    """Keyed by the weights, the exact input, the class, the method and Grad-CAM's layer."""
    baseline = attribution.black_baseline(_tensor, _network.manifest.mean, _network.manifest.std)
    return attribution.attribute(_network.model, _tensor, target, method, layer, baseline)


def attribution_settings(network_key: str, network: Network, maps: FeatureMaps) -> tuple[int, str, str | None]:
    """The class (default: the network's answer), the method (default: the network's, see
    ``attribution.DEFAULT_METHODS``) and, for Grad-CAM, the layer."""
    names = ui.class_labels(network.manifest.class_names)
    best = maps.top_classes(1)[0][0]
    row = st.container(horizontal=True)
    with row:
        chosen = ui.url_choice(
            st.selectbox, ui.t("fmap.cam.class"), ["top", *map(str, range(len(names)))], "top", "fmap.cam_class",
            format_func=lambda c: ui.t("fmap.cam.top", label=names[best]) if c == "top" else names[int(c)],
            width=CAM_WIDGET_WIDTH,
        )  # fmt: skip
        method = ui.url_choice(
            st.segmented_control, ui.t("fmap.cam.method"), list(attribution.METHODS), attribution.default_method(network_key), "fmap.cam_method",
            required=True, format_func=lambda m: ui.t(f"fmap.cam.method.{m}"),
        )  # fmt: skip
    if method != "gradcam":
        return (best if chosen == "top" else int(chosen)), method, None
    layers = [(layer.name, layer.kind) for layer in maps.layers]
    with row:
        layer = ui.url_choice(
            st.selectbox, ui.t("fmap.cam.layer"), [name for name, _ in layers], attribution.default_cam_layer(layers, network.manifest.architecture),
            "fmap.cam_layer", format_func=lambda n: f"{n} · {maps.layer(n).kind} · {shape_text(maps.layer(n).shape)}",
            width=CAM_WIDGET_WIDTH,
        )  # fmt: skip
    return (best if chosen == "top" else int(chosen)), method, layer


def attribution_for(key: tuple, network: Network, tensor) -> AttributionMap:
    """The map for ``key`` (the arguments of ``attribution_map``); a new one waits its turn in the budget."""
    last = st.session_state.get(LAST_MAP)
    if last is not None and last[0] == key:
        return last[1]
    with ui.heavy_work():
        found = attribution_map(*key, network, tensor)
    st.session_state[LAST_MAP] = (key, found)
    return found


@st.cache_data(max_entries=16, show_spinner=False)
def attribution_pictures(key: tuple, _found: AttributionMap, _pixels: np.ndarray) -> tuple[bytes, bytes]:
    return (pictures.png(attribution_view.map_picture(_found.values)),
            pictures.png(attribution_view.overlay_picture(_found.values, _pixels)))  # fmt: skip


def attribution_view_of(
    found: AttributionMap, key: tuple, network: Network, maps: FeatureMaps, prepared: models.PreparedInput
) -> ui.View:
    """The map, the map over the picture, its colour scale and what it means and does not."""
    names = ui.class_labels(network.manifest.class_names)
    label, layer = names[found.target], key[4]
    map_png, overlay_png = attribution_pictures(key, found, prepared.pixels)
    alone = ui.View().text(f"**{ui.t('fmap.cam.map')}**").html(shown_png(map_png, ui.t("fmap.cam.map")))
    over = ui.View().text(f"**{ui.t('fmap.cam.overlay')}**").html(shown_png(overlay_png, ui.t("fmap.cam.overlay")))
    signed = found.method == "integrated"
    legend = attribution_view.legend_html(found.values, ui.t("fmap.cam.legend_signed" if signed else "fmap.cam.legend"))
    k, h, w = maps.layer(layer).shape if layer else (0, 0, 0)
    means = ui.t(
        f"fmap.cam.means.{found.method}", layer=layer, h=h, w=w, k=number(k), label=label,
        samples=attribution.SMOOTHGRAD_SAMPLES, noise=round(100 * attribution.SMOOTHGRAD_NOISE),
        total=f"{found.total:.3g}", score=f"{found.score:.3g}", baseline=f"{found.baseline_score or 0:.3g}",
    )  # fmt: skip
    view = ui.View().row(alone, over, widths=(1, 1)).html(legend)
    view.caption(means).caption(ui.t(f"fmap.cam.not.{found.method}"))
    return view.caption(ui.t("fmap.cam.score", label=label, score=f"{found.score:.3g}"))


def shapes_measured() -> str:
    """What was measured of the shapes network's maps (``attribution.ON_SHAPE``), and what it means."""
    on, answered = attribution.ON_SHAPE, attribution.SHAPES_ANSWERED
    return ui.t(
        "fmap.cam.measured_shapes", title=ui.t("fmap.cam.measured_title"), area=f"{on['area']:.2f}",
        integrated=f"{on['integrated']:.2f}", times=f"{on['integrated'] / on['area']:.1f}",
        saliency=f"{on['saliency']:.2f}", smoothgrad=f"{on['smoothgrad']:.2f}", gradcam=f"{on['gradcam']:.2f}",
        background=ui.class_label(answered["background_answer"]), moved=round(100 * answered["moved_accuracy"]),
        accuracy=round(100 * answered["accuracy"]),
    )  # fmt: skip


@st.fragment
def attribution_panel(network_key: str, network: Network, maps: FeatureMaps, prepared: models.PreparedInput) -> None:
    """Where the network looks for one class: its own fragment, so its settings rerun only it."""
    intro = ui.View().heading(ui.t("fmap.cam.title")).caption(ui.t("fmap.cam.intro"))
    if network_key == "shapes":  # a bundled network's key is its name
        intro.caption(shapes_measured())
    intro.draw()
    with ui.panel("fmap.cam"):
        target, method, layer = attribution_settings(network_key, network, maps)
        key = (network_key, digest(prepared.tensor.numpy()), target, method, layer)
        found = attribution_for(key, network, prepared.tensor)
        attribution_view_of(found, key, network, maps, prepared).draw()


# --- the page ----------------------------------------------------------------------------------

st.title(ui.t("fmap.title"))
st.markdown(ui.t("fmap.intro"))

top, weights = st.container(), st.container()  # the upload runs first: it adds to the network list
with weights, ui.panel("fmap.imagenet"):
    help_above = st.container()  # drawn above the upload, written after it: an upload makes a network here
    uploaded = weights_panel()
    with help_above:
        weights_help(uploaded)
offered = offered_networks(uploaded)

with top:
    # One row that wraps on a narrow page: the network's name (ResNet-18's is long) is never cut off.
    with st.container(horizontal=True):
        option = ui.url_choice(
            st.selectbox, ui.t("fmap.network"), list(offered), models.BUNDLED[0], "fmap.network",
            format_func=network_label, help=ui.t("fmap.network_help"), width=NETWORK_WIDTH,
        )  # fmt: skip
        scale = ui.url_choice(
            st.segmented_control, ui.t("fmap.scale"), list(features.COLOUR_SCALES), "layer", "fmap.scale",
            required=True, format_func=lambda name: ui.t(f"fmap.scale.{name}"), help=ui.t("fmap.scale_help"),
        )  # fmt: skip
    trained_on = st.empty()  # filled once the network is loaded: its manifest says what it knows
try:
    network = load_network(option, offered[option])
except WeightsError as error:
    st.error(ui.t("fmap.weights_refused", reason=ui.explain(error)), icon=":material/block:")
    st.stop()
trained_on.caption(training_caption(network))
lesson(offered[option], network, scale)
