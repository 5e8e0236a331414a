"""Where a network looks: maps of how much each part of the input mattered for one class.

Four methods, computed by Captum (a library kept by the PyTorch team) and returned as arrays:

- ``grad_cam``: Grad-CAM (Selvaraju et al., 2017). At a layer with maps A_k (K, h, w), each
  map is weighted by the mean gradient of the class score over it, alpha_k = mean dy/dA_k;
  the map is relu(sum_k alpha_k A_k), as coarse as that layer (7 x 7 for ResNet-18's last
  stage), enlarged to the input.
- ``saliency``: |dy/dx| per input pixel (Simonyan et al., 2014), the largest over colours.
- ``smoothgrad``: the saliency averaged over copies of the input with Gaussian noise added
  (Smilkov et al., 2017), which removes much of the speckle of the plain gradient.
- ``integrated_gradients`` (Sundararajan et al., 2017): the gradient averaged along the
  straight path from a baseline (a black picture) to the input, times (input - baseline).
  Its attributions add up to y(input) - y(baseline): the score is shared out over pixels.

Every function takes the network as shared (never changed: gradients are taken with respect
to the input only) and the input tensor (1, C, H, W), and returns an ``AttributionMap``.
Captum is imported when first needed: it brings matplotlib, ~1.7 s of import.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cnnviz.features import HOOKED_PASS

METHODS: tuple[str, ...] = ("gradcam", "saliency", "smoothgrad", "integrated")
#: The lessons' settings: SmoothGrad's noisy copies and noise level, integrated gradients' steps.
SMOOTHGRAD_SAMPLES, SMOOTHGRAD_NOISE, INTEGRATED_STEPS = 16, 0.15, 32


@dataclass(frozen=True)
class AttributionMap:
    """How much each input position mattered for one class.

    Attributes:
        method: one of ``METHODS``.
        target: the class index the map explains.
        values: (H, W) float32 at the input's size, >= 0 except for integrated gradients
            (signed: negative where a pixel spoke against the class).
        coarse: the map before enlarging: (h, w) of the layer for Grad-CAM, else ``values``.
        score: the class score (logit) for the input.
        baseline_score: for integrated gradients, the class score of the baseline; else None.
        total: the sum of all attributions (integrated gradients: ~ score - baseline_score).
    """

    method: str
    target: int
    values: np.ndarray
    coarse: np.ndarray
    score: float
    baseline_score: float | None = None
    total: float = 0.0


def _check(model: nn.Module, x: torch.Tensor, target: int) -> float:
    if x.ndim != 4 or x.shape[0] != 1:
        raise ValueError(f"Attribution explains one picture at a time: expected (1, C, H, W), got {tuple(x.shape)}.")
    with torch.no_grad():
        logits = model(x)
    if not 0 <= target < logits.shape[1]:
        raise ValueError(f"This network has classes 0 to {logits.shape[1] - 1}; there is no class {target}.")
    return float(logits[0, target])


@contextlib.contextmanager
def _input_gradients() -> contextlib.AbstractContextManager:
    # The lessons run under no_grad elsewhere; these maps need autograd. Hooks (Grad-CAM's on a
    # shared layer) take turns with the feature-map passes, which hook the same modules.
    with HOOKED_PASS, torch.enable_grad():
        yield


def grad_cam(model: nn.Module, x: torch.Tensor, target: int, layer: str) -> AttributionMap:
    """Grad-CAM of class ``target`` at the module called ``layer`` (its output must be (1, K, h, w)).

    Raises:
        ValueError: for a layer that is not in the model or whose output is not a stack of maps.
    """
    from captum.attr import LayerGradCam

    module = dict(model.named_modules()).get(layer)
    if module is None or layer == "":
        raise ValueError(f"The network has no layer called {layer!r}.")
    score = _check(model, x, target)
    with _input_gradients():
        coarse = LayerGradCam(model, module).attribute(x, target=target, relu_attributions=True)
    if coarse.ndim != 4:
        raise ValueError(f"{layer} gives a vector, not maps: Grad-CAM needs a layer that keeps positions.")
    values = enlarge_aligned(coarse, map_geometry(model, layer), tuple(x.shape[2:])).clamp(min=0)  # (1, 1, H, W)
    return AttributionMap(
        "gradcam", target, values[0, 0].detach().numpy(), coarse[0, 0].detach().numpy(), score,
        total=float(values.detach().sum()),
    )  # fmt: skip


def saliency(model: nn.Module, x: torch.Tensor, target: int) -> AttributionMap:
    """|d score / d input| per pixel, the largest over the input's channels."""
    from captum.attr import Saliency

    score = _check(model, x, target)
    with _input_gradients():
        gradient = Saliency(model).attribute(x, target=target, abs=True)  # (1, C, H, W)
    values = gradient[0].amax(0).detach().numpy()
    return AttributionMap("saliency", target, values, values, score, total=float(values.sum()))


def smoothgrad(
    model: nn.Module, x: torch.Tensor, target: int, samples: int = 16, noise: float = 0.15, seed: int = 0
) -> AttributionMap:
    """The saliency averaged over ``samples`` noisy copies of ``x``.

    Args:
        noise: the noise's standard deviation as a fraction of the input's range (max - min);
            0.1-0.2 is what the SmoothGrad paper found best.
        seed: the noise is drawn from this seed, so the same settings give the same map
            (the process's own random state is left as it was).
    """
    from captum.attr import NoiseTunnel, Saliency

    if samples < 1 or noise < 0:
        raise ValueError("SmoothGrad needs at least one sample and a noise level of 0 or more.")
    score = _check(model, x, target)
    spread = noise * float(x.max() - x.min())
    with _input_gradients(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        gradient = NoiseTunnel(Saliency(model)).attribute(
            x, nt_type="smoothgrad", nt_samples=samples, nt_samples_batch_size=4, stdevs=spread, target=target,
            abs=True,
        )  # fmt: skip
    values = gradient[0].amax(0).detach().numpy()
    return AttributionMap("smoothgrad", target, values, values, score, total=float(values.sum()))


def integrated_gradients(
    model: nn.Module, x: torch.Tensor, target: int, baseline: torch.Tensor | None = None, steps: int = 32
) -> AttributionMap:
    """Integrated gradients from ``baseline`` (default all zeros) to ``x``, summed over channels.

    Args:
        baseline: (1, C, H, W), the picture that stands for "nothing" (a black picture is the
            usual choice: pass its normalised tensor).
        steps: points on the path (Gauss-Legendre); more is closer to the exact integral.

    Returns:
        A signed map; ``total`` is the sum of all attributions, which completeness says is
        ``score - baseline_score`` (up to the integral's error, small for 32 steps or more).
    """
    from captum.attr import IntegratedGradients

    if steps < 2:
        raise ValueError("Integrated gradients needs at least 2 steps along the path.")
    baseline = torch.zeros_like(x) if baseline is None else baseline
    score = _check(model, x, target)
    with torch.no_grad():
        baseline_score = float(model(baseline)[0, target])
    with _input_gradients():
        attributions = IntegratedGradients(model).attribute(
            x, baselines=baseline, target=target, n_steps=steps, internal_batch_size=8
        )  # (1, C, H, W)
    values = attributions[0].sum(0).detach().numpy()
    return AttributionMap(
        "integrated", target, values, values, score, baseline_score, total=float(attributions.sum())
    )  # fmt: skip


def black_baseline(x: torch.Tensor, mean: tuple[float, ...], std: tuple[float, ...]) -> torch.Tensor:
    """A black picture as the network receives it: (0 - mean) / std per channel, shaped like ``x`` (1, C, H, W)."""
    channels = x.shape[1]
    black = (0 - torch.tensor(mean[:channels])) / torch.tensor(std[:channels])
    return black.view(1, channels, 1, 1).expand_as(x).clone()


def attribute(
    model: nn.Module, x: torch.Tensor, target: int, method: str, layer: str | None = None,
    baseline: torch.Tensor | None = None,
) -> AttributionMap:  # fmt: skip
    """One map by ``method`` with the lessons' settings (``SMOOTHGRAD_*``, ``INTEGRATED_STEPS``).

    Args:
        layer: Grad-CAM's layer (required for "gradcam", ignored otherwise).
        baseline: integrated gradients' "nothing" (usually ``black_baseline``); zeros if None.

    Raises:
        ValueError: for an unknown method, or what the chosen method raises.
    """
    if method == "gradcam":
        if layer is None:
            raise ValueError("Grad-CAM needs a layer.")
        return grad_cam(model, x, target, layer)
    if method == "saliency":
        return saliency(model, x, target)
    if method == "smoothgrad":
        return smoothgrad(model, x, target, SMOOTHGRAD_SAMPLES, SMOOTHGRAD_NOISE)
    if method == "integrated":
        return integrated_gradients(model, x, target, baseline, INTEGRATED_STEPS)
    raise ValueError(f"Unknown attribution method {method!r}; choose one of: {', '.join(METHODS)}.")


def map_geometry(model: nn.Module, layer: str) -> tuple[tuple[float, float], tuple[int, int]]:
    """Where the maps of ``layer`` sit on the input: position (i, j) of its output is the centre of
    a receptive field at input pixel (start_y + i * jump_y, start_x + j * jump_x).

    Walks the convolutions and poolings that run before the layer's output, in the order the
    model defines them (a ResNet's ``downsample`` shortcut repeats its block's stride, so it is
    skipped). Unpadded convolutions shift the maps: TinyVGG's last maps start 6.5 pixels in.

    Returns:
        ((start_y, start_x), (jump_y, jump_x)).
    """
    names = [name for name, _ in model.named_modules()]
    if layer not in names:
        raise ValueError(f"The network has no layer called {layer!r}.")
    position = names.index(layer)
    start, jump = [0.0, 0.0], [1, 1]
    for index, (name, module) in enumerate(model.named_modules()):
        inside = name == layer or name.startswith(f"{layer}.")  # pre-order: a layer's parts follow it
        if (index > position and not inside) or ".downsample" in f".{name}":
            continue
        if not isinstance(module, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            continue
        for axis in range(2):
            kernel, stride, padding, dilation = (
                value if isinstance(value, int) else value[axis]
                for value in (module.kernel_size, module.stride, module.padding, getattr(module, "dilation", 1))
            )
            start[axis] += ((kernel - 1) / 2 * dilation - padding) * jump[axis]
            jump[axis] *= stride
    return (start[0], start[1]), (jump[0], jump[1])


def enlarge_aligned(
    coarse: torch.Tensor, geometry: tuple[tuple[float, float], tuple[int, int]], size: tuple[int, int]
) -> torch.Tensor:
    """Enlarge (1, 1, h, w) maps to the input's (H, W), each value placed at the centre of its
    receptive field (``map_geometry``) and interpolated bilinearly between centres; beyond the
    outermost centres the edge value continues.

    Returns:
        (1, 1, H, W).
    """
    (start_y, start_x), (jump_y, jump_x) = geometry
    h, w = coarse.shape[2:]
    rows = (torch.arange(size[0], dtype=torch.float32) - start_y) / jump_y  # fractional map row of each pixel
    cols = (torch.arange(size[1], dtype=torch.float32) - start_x) / jump_x
    grid_y = rows / max(h - 1, 1) * 2 - 1  # grid_sample's -1..1 (align_corners: -1 is map position 0)
    grid_x = cols / max(w - 1, 1) * 2 - 1
    grid = torch.stack(torch.meshgrid(grid_y, grid_x, indexing="ij")[::-1], dim=-1)[None]  # (1, H, W, 2) as (x, y)
    return F.grid_sample(coarse, grid, mode="bilinear", padding_mode="border", align_corners=True)


#: Grad-CAM's layer where the usual one (the last with maps) would not show where the network looks,
#: measured on held-out pictures (tests/engine/test_attribution.py). LeNet's last convolution has
#: 10 x 10 maps whose every position sees most of the digit: 0.37 of its map's mass lies within a
#: pixel of the ink, which covers 0.27 of the picture; its first convolution puts 0.61 there and, unlike
#: the ReLU after it (11 empty maps in 200), never draws an empty map.
CAM_LAYERS = {"lenet5": "features.0"}


#: The method the page opens with, per bundled network (``Manifest.name``); Grad-CAM for the others.
#: The shapes network's Grad-CAM falls on the shape no more than a map spread at random: see ``ON_SHAPE``.
DEFAULT_METHODS = {"shapes": "integrated"}

#: Where the shapes network's maps fall, measured on the 80 solid shapes of its held-out sample
#: (``python -m bench.attribution_shapes``, true class; the predicted class gives the same to 0.01):
#: the mean share of each map's positive mass on the shape, which covers ``area`` of the picture.
#: Grad-CAM's is its best layer's (features.6; 0.13-0.18 at the ten layers). Checked on a subset by
#: tests/engine/test_attribution.py, shown on the page for that network.
ON_SHAPE = {"area": 0.154, "gradcam": 0.18, "saliency": 0.27, "smoothgrad": 0.17, "integrated": 0.34}
#: The network answers from the shape all the same: its answers on the same pictures, as drawn, with
#: the shape alone pasted onto another picture's background, and what it says of the backgrounds alone.
SHAPES_ANSWERED = {"accuracy": 0.75, "moved_accuracy": 0.64, "background_answer": "circle"}


def default_method(network_name: str) -> str:
    """The method the page opens with for the bundled network ``network_name`` (else Grad-CAM)."""
    return DEFAULT_METHODS.get(network_name, "gradcam")


def default_cam_layer(layers: list[tuple[str, str]], architecture: str = "") -> str:
    """The layer Grad-CAM opens with: the one ``CAM_LAYERS`` names for ``architecture``, else the usual
    choice, the last layer that still has maps and is not a pooling layer (an ImageNet network's last
    convolution block).

    Args:
        layers: (name, kind) of the layers with (C, H, W) outputs, in the order they run,
            e.g. from ``FeatureMaps.layers``.
        architecture: the network's ``Manifest.architecture`` ("" for the general rule).

    Raises:
        ValueError: when no layer keeps positions.
    """
    named = CAM_LAYERS.get(architecture)
    if named in (name for name, _ in layers):
        return named
    candidates = [name for name, kind in layers if "Pool" not in kind]
    if not candidates:
        raise ValueError("This network has no layer with maps, so Grad-CAM has nothing to weigh.")
    return candidates[-1]


def mass_inside(values: np.ndarray, region: np.ndarray) -> float:
    """The share of a non-negative map's total that falls inside ``region`` ((H, W) bool)."""
    positive = np.clip(values, 0, None)
    total = float(positive.sum())
    return float(positive[region].sum()) / total if total > 0 else 0.0
