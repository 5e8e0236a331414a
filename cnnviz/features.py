"""Feature maps: what every layer of a network computes for one image.

``feature_maps(model, x)`` runs one forward pass with forward hooks that copy each
layer's output. The hooks exist only inside ``capture_outputs``, a context manager that
removes them even when the forward pass fails, so the shared, cached model is left as
it was. The rest of the module turns maps into pictures: tile grids (all channels of a
layer in one image), an overlay on the input, kernel weights as images.

Colours: one diverging scale everywhere (blue < 0 < red, zero is white), so a ReLU's
output, which is never negative, shows in white to red.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import plotly.colors
import plotly.graph_objects as go
import torch
from PIL import Image
from torch import nn

from cnnviz.figures import DIVERGING

ColourScale = Literal["network", "layer", "channel"]
COLOUR_SCALES: tuple[ColourScale, ...] = ("layer", "network", "channel")

# Hooks on a model shared by every session: two passes at once would each record the
# other's outputs, so hooked passes take turns.
_HOOKED_PASS = threading.Lock()


@dataclass(frozen=True)
class LayerMaps:
    """One layer's output for one image.

    Attributes:
        name: the module's name in the model, e.g. "features.0" or "layer1.0".
        kind: its class, e.g. "Conv2d", "ReLU", "MaxPool2d", "BasicBlock".
        maps: (C, H, W) float32, one map per channel.
        parameters: number of learnt numbers inside this module.
        conv: name of the convolution whose kernels made these channels (the module
            itself, or the last convolution before it); None if there is none.
    """

    name: str
    kind: str
    maps: np.ndarray
    parameters: int
    conv: str | None

    @property
    def shape(self) -> tuple[int, int, int]:
        """(C, H, W)."""
        return tuple(self.maps.shape)  # type: ignore[return-value]


@dataclass(frozen=True)
class FeatureMaps:
    """Everything one forward pass showed.

    Attributes:
        input: (C, H, W) float32, exactly the tensor the network received.
        layers: every shown layer, in the order they ran.
        probabilities: (K,) float64, softmax of the output; sums to 1.
        penultimate: (D,) float32, the vector the last linear layer reads: the
            features the network extracted, from which it decides.
    """

    input: np.ndarray
    layers: tuple[LayerMaps, ...]
    probabilities: np.ndarray
    penultimate: np.ndarray

    def layer(self, name: str) -> LayerMaps:
        """The layer called ``name``.

        Raises:
            KeyError: for a name that is not among ``layers``.
        """
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(f"No shown layer is called {name!r}.")

    def top_classes(self, k: int) -> list[tuple[int, float]]:
        """The ``k`` most probable classes as (index, probability), most probable first."""
        order = np.argsort(-self.probabilities, kind="stable")[:k]
        return [(int(index), float(self.probabilities[index])) for index in order]


@contextlib.contextmanager
def capture_outputs(model: nn.Module, names: Sequence[str]) -> Iterator[list[tuple[str, torch.Tensor]]]:
    """Record the outputs of the named modules while the block runs.

    Yields:
        A list that fills with (name, output copy) in the order the modules run. Outputs
        are cloned: a later in-place operation cannot change what was recorded.

    The hooks are removed when the block ends, whether it succeeds or raises.
    """
    events: list[tuple[str, torch.Tensor]] = []
    handles = []

    def recorder(name: str):
        def hook(module: nn.Module, inputs: tuple, output: object) -> None:
            if isinstance(output, torch.Tensor):
                events.append((name, output.detach().clone()))

        return hook

    modules = dict(model.named_modules())
    with _HOOKED_PASS:
        try:
            for name in names:
                handles.append(modules[name].register_forward_hook(recorder(name)))
            yield events
        finally:
            for handle in handles:
                handle.remove()


def feature_maps(model: nn.Module, x: torch.Tensor, layers: Sequence[str] | None = None) -> FeatureMaps:
    """Run ``model`` on ``x`` and keep every layer's maps.

    Args:
        model: a classifier in eval mode; it is not modified (hooks are removed after).
        x: (1, C, H, W), the prepared input.
        layers: module names to show; None shows every module without children whose
            output is (1, C, H, W). A module that runs twice keeps its last output.

    Returns:
        See ``FeatureMaps``.

    Raises:
        ValueError: when ``x`` is not one image (1, C, H, W), or a layer name is unknown.
    """
    if x.ndim != 4 or x.shape[0] != 1:
        raise ValueError(f"Give one image as a (1, C, H, W) tensor; this one is {tuple(x.shape)}.")
    modules = dict(model.named_modules())
    unknown = [name for name in layers or () if name not in modules]
    if unknown:
        raise ValueError(f"The network has no layer called {', '.join(unknown)}.")
    convs = [name for name, module in modules.items() if isinstance(module, nn.Conv2d)]
    linears = [name for name, module in modules.items() if isinstance(module, nn.Linear)]
    shown = list(layers) if layers is not None else [n for n, m in modules.items() if n and not any(m.children())]
    penultimate: list[torch.Tensor] = []
    with capture_outputs(model, list(dict.fromkeys(shown + convs))) as events, torch.inference_mode():
        handle = None
        if linears:  # the last linear layer's input is the extracted feature vector
            handle = modules[linears[-1]].register_forward_pre_hook(lambda m, inputs: penultimate.append(inputs[0]))
        try:
            logits = model(x)
        finally:
            if handle is not None:
                handle.remove()
    recorded: dict[str, LayerMaps] = {}
    last_conv: str | None = None
    for name, output in events:
        if name in convs and "downsample" not in name:  # a ResNet shortcut is not what made the block
            last_conv = name
        if name in shown and output.ndim == 4:
            module = modules[name]
            conv = last_conv if last_conv and modules[last_conv].out_channels == output.shape[1] else None
            recorded[name] = LayerMaps(
                name,
                type(module).__name__,
                output[0].float().numpy(),
                sum(p.numel() for p in module.parameters()),
                conv,
            )
    probabilities = torch.softmax(logits.double().flatten(), dim=0).numpy()
    vector = penultimate[-1][0].flatten().float().numpy() if penultimate else np.empty(0, np.float32)
    ordered = tuple(recorded[name] for name in dict.fromkeys(name for name, _ in events) if name in recorded)
    return FeatureMaps(x[0].detach().float().numpy().copy(), ordered, probabilities, vector)


def strongest_channels(maps: np.ndarray, k: int) -> list[tuple[int, float]]:
    """The ``k`` channels with the highest mean activation, as (channel, mean), strongest first.

    Args:
        maps: (C, H, W).
    """
    means = maps.reshape(maps.shape[0], -1).mean(axis=1)
    order = np.argsort(-means, kind="stable")[:k]
    return [(int(channel), float(means[channel])) for channel in order]


def colour_bounds(features: FeatureMaps, scale: ColourScale) -> dict[str, float | None]:
    """The colour-scale bound per layer: values in [-bound, bound] use the full scale.

    ``"network"``: one bound for every layer (compare layers); ``"layer"``: each layer
    its own (see every layer's pattern); ``"channel"``: None, each tile its own (see
    even a weak channel's pattern; tiles are then not comparable).
    """
    if scale not in COLOUR_SCALES:
        raise ValueError(f"Colour scale must be one of {', '.join(COLOUR_SCALES)}, not {scale!r}.")
    per_layer = {layer.name: float(np.abs(layer.maps).max()) or 1.0 for layer in features.layers}
    if scale == "channel":
        return dict.fromkeys(per_layer)
    if scale == "network":
        return dict.fromkeys(per_layer, max(per_layer.values(), default=1.0))
    return per_layer


@functools.cache
def _diverging_lut() -> np.ndarray:
    """(256, 3) uint8: the shared diverging colour scale as a lookup table."""
    colours = plotly.colors.sample_colorscale(DIVERGING, list(np.linspace(0, 1, 256)))
    return (
        np.array(
            [plotly.colors.unlabel_rgb(plotly.colors.convert_colors_to_same_type(c, "rgb")[0][0]) for c in colours]
        )
        .round()
        .clip(0, 255)
        .astype(np.uint8)
    )


def colorize(values: np.ndarray, bound: float | None = None) -> np.ndarray:
    """Colour a (H, W) map: -bound is blue, 0 white, +bound red (None: the map's own max |value|).

    Returns:
        (H, W, 3) uint8.
    """
    limit = bound if bound else float(np.abs(values).max()) or 1.0
    index = np.clip((values / limit + 1) / 2 * 255, 0, 255).round().astype(np.uint8)
    return _diverging_lut()[index]


def tile_grid(maps: np.ndarray, bound: float | None, columns: int, tile: int, gap: int = 2) -> np.ndarray:
    """All channels of a layer side by side in one image (one picture instead of C).

    Args:
        maps: (C, H, W).
        bound: the colour bound (see ``colour_bounds``); None: each tile its own.
        columns: tiles per row (fewer if there are fewer channels).
        tile: tile side in pixels for the longer map side: small maps are enlarged by
            repeating pixels (whole multiples, so every value stays a square), large ones
            are shrunk.
        gap: white pixels between tiles.

    Returns:
        (rows * (h + gap) - gap, columns * (w + gap) - gap, 3) uint8, with (h, w) the tile size.
    """
    channels, height, width = maps.shape
    if max(height, width) <= tile:
        factor = tile // max(height, width)
        h, w = height * factor, width * factor
    else:
        scale = tile / max(height, width)
        h, w = max(1, round(height * scale)), max(1, round(width * scale))
    columns = max(1, min(columns, channels))
    rows = -(-channels // columns)
    grid = np.full((rows * (h + gap) - gap, columns * (w + gap) - gap, 3), 255, np.uint8)
    for channel in range(channels):
        r, c = divmod(channel, columns)
        picture = colorize(maps[channel], bound)
        if (h, w) == (height, width):
            sized = picture
        elif h >= height:
            sized = picture.repeat(h // height, 0).repeat(w // width, 1)
        else:
            sized = np.asarray(Image.fromarray(picture).resize((w, h), Image.Resampling.BOX))
        grid[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = sized
    return grid


def input_tiles(pixels: np.ndarray, tile: int, gap: int = 2) -> np.ndarray:
    """The input picture and, for colour, its red, green and blue channels side by side.

    Each channel is drawn as light of its colour (black = 0, full colour = 255), so the
    three add up to the picture.

    Args:
        pixels: (H, W, C) uint8 with C = 1 or 3, the network's input before normalisation.
        tile: longest side of each tile in pixels.

    Returns:
        (h, w) for gray or (h, 4 * w + 3 * gap) for colour, x 3, uint8.
    """
    if pixels.shape[2] == 1:
        pictures = [np.repeat(pixels, 3, axis=2)]
    else:
        pictures = [pixels] + [pixels * np.eye(3, dtype=np.uint8)[channel] for channel in range(3)]
    side = max(pixels.shape[:2])
    sized = [
        np.asarray(
            Image.fromarray(p).resize(
                (round(p.shape[1] * tile / side), round(p.shape[0] * tile / side)),
                Image.Resampling.NEAREST if side < tile else Image.Resampling.BOX,
            )
        )
        for p in pictures
    ]
    spacer = np.full((sized[0].shape[0], gap, 3), 255, np.uint8)
    return np.concatenate([part for picture in sized for part in (picture, spacer)][:-1], axis=1)


def kernel(model: nn.Module, conv: str, channel: int) -> np.ndarray:
    """The weights of the kernel that makes output channel ``channel`` of convolution ``conv``.

    Returns:
        (C_in / groups, kh, kw) float32, a copy (the shared model is not touched).

    Raises:
        ValueError: when ``conv`` is not a convolution of ``model`` or the channel does not exist.
    """
    module = dict(model.named_modules()).get(conv)
    if not isinstance(module, nn.Conv2d):
        raise ValueError(f"{conv!r} is not a convolution of this network.")
    if not 0 <= channel < module.out_channels:
        raise ValueError(f"{conv} has channels 0 to {module.out_channels - 1}; there is no channel {channel}.")
    return module.weight.detach()[channel].float().numpy().copy()


def overlay(activation: np.ndarray, image: np.ndarray, side: int = 320, opacity: float = 0.65) -> np.ndarray:
    """Where a channel fires, painted over the image it looked at.

    Args:
        activation: (h, W) map; its positive part is shown, scaled to its max.
        image: (H, W, 3) or (H, W) uint8, the network's input picture.
        side: longest side of the result.
        opacity: how strongly the strongest response covers the image.

    Returns:
        (H', W', 3) uint8; the map is enlarged smoothly to the image's size.
    """
    base = Image.fromarray(image).convert("RGB")
    scale = side / max(base.size)
    base = base.resize((round(base.width * scale), round(base.height * scale)), Image.Resampling.NEAREST)
    heat = np.asarray(Image.fromarray(activation.astype(np.float32)).resize(base.size, Image.Resampling.BILINEAR))
    heat = np.clip(heat, 0, None) / (heat.max() or 1.0)
    alpha = (heat * opacity)[..., None]
    red = np.array([220, 38, 38], dtype=np.float64)
    return (np.asarray(base) * (1 - alpha) + red * alpha).round().astype(np.uint8)


def kernel_image(weight: np.ndarray) -> np.ndarray:
    """A convolution kernel as a picture.

    Args:
        weight: (C_in, kh, kw), the kernel that makes one output channel.

    Returns:
        uint8: (kh, kw, 3) as an RGB image for a 3-channel input (zero is mid-grey),
        else a diverging-colour tile grid of the C_in slices, (rows*(kh+1)-1, cols*(kw+1)-1, 3).
    """
    if weight.shape[0] == 3:
        bound = float(np.abs(weight).max()) or 1.0
        return ((weight.transpose(1, 2, 0) / bound + 1) / 2 * 255).round().astype(np.uint8)
    columns = int(np.ceil(np.sqrt(weight.shape[0])))
    return tile_grid(weight, float(np.abs(weight).max()) or 1.0, columns, tile=max(weight.shape[1:]), gap=1)


def colour_legend(bound: float | None, label: str) -> go.Figure:
    """A slim horizontal colour bar from -bound to +bound, for the tile grids."""
    ticks = [-1.0, -0.5, 0.0, 0.5, 1.0]
    text = [f"{tick * bound:.3g}" for tick in ticks] if bound else ["-max", "", "0", "", "+max"]
    figure = go.Figure(
        go.Heatmap(
            z=[np.linspace(-1, 1, 101)],
            x=np.linspace(-1, 1, 101),
            colorscale=DIVERGING,
            zmin=-1,
            zmax=1,
            showscale=False,
            hoverinfo="skip",
        )
    )
    figure.update_layout(
        height=70, margin={"l": 10, "r": 10, "t": 22, "b": 22}, title={"text": label, "x": 0, "font": {"size": 13}}
    )
    figure.update_xaxes(tickvals=ticks, ticktext=text, showgrid=False, zeroline=False)
    figure.update_yaxes(visible=False)
    return figure


def probability_chart(names: Sequence[str], probabilities: np.ndarray, k: int, title: str = "") -> go.Figure:
    """Horizontal bars of the ``k`` most probable classes, most probable on top."""
    order = np.argsort(-probabilities, kind="stable")[:k][::-1]
    figure = go.Figure(
        go.Bar(
            x=probabilities[order],
            y=[names[i] for i in order],
            orientation="h",
            marker_color="#2563eb",
            text=[f"{probabilities[i]:.1%}" for i in order],
            textposition="auto",
            hovertemplate="%{y}: %{x:.2%}<extra></extra>",
        )
    )
    figure.update_layout(
        title={"text": title, "x": 0},
        height=60 + 28 * len(order),
        margin={"l": 10, "r": 10, "t": 36 if title else 10, "b": 10},
    )
    figure.update_xaxes(range=[0, 1], tickformat=".0%")
    figure.update_yaxes(type="category")  # class names such as "7" are labels, not numbers
    return figure


def feature_vector_chart(vector: np.ndarray, title: str = "") -> go.Figure:
    """The extracted feature vector as one bar per number (index on x)."""
    figure = go.Figure(go.Bar(y=vector, marker_color="#64748b", hovertemplate="#%{x}: %{y:.3g}<extra></extra>"))
    figure.update_layout(
        title={"text": title, "x": 0},
        height=220,
        bargap=0,
        margin={"l": 10, "r": 10, "t": 36 if title else 10, "b": 10},
    )
    return figure
