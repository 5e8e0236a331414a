"""Feature maps: what every layer of a network computes for one image.

``feature_maps(model, x)`` runs one forward pass with forward hooks that copy each
layer's output. The hooks exist only inside ``capture_outputs``, a context manager that
removes them even when the forward pass fails, so the shared, cached model is left as
it was. ``cnnviz.drawing.pictures`` turns the maps into pictures.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from torch import nn

ColourScale = Literal["network", "layer", "channel"]
COLOUR_SCALES: tuple[ColourScale, ...] = ("layer", "network", "channel")

# Hooks on a model shared by every session: two passes at once would each record the
# other's outputs, so hooked passes take turns.
_HOOKED_PASS = threading.Lock()
#: The same lock, for other engine modules that hook the shared networks (``attribution``).
HOOKED_PASS = _HOOKED_PASS


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


def torch_layer_name(module: torch.nn.Module) -> str:
    """A module's class name; ``Conv2d`` / ``Linear`` for the Training page's input-centred first layer."""
    return next(kind.__name__ for kind in type(module).__mro__ if not kind.__name__.startswith("InputCentred"))


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
                torch_layer_name(module),
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


def first_convolution(model: nn.Module) -> tuple[str, np.ndarray]:
    """The first convolution the input meets, and all its kernels: what the network learnt to
    look for in raw pixels (for ImageNet networks, the classic edges and colour blobs).

    Returns:
        (the module's name, (C_out, C_in, kh, kw) float32 weights, a copy).

    Raises:
        ValueError: for a model without a convolution.
    """
    for name, module in model.named_modules():
        if isinstance(module, nn.Conv2d):
            return name, module.weight.detach().float().numpy().copy()
    raise ValueError("This network has no convolution, so it has no kernels to show.")
