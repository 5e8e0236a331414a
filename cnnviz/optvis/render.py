"""The loop: gradient ascent on the input, one step at a time, as a generator.

``render`` yields ``(step, value, image)`` after every step and never prints or draws;
the page decides what to show. For a fixed ``Recipe.seed`` the run is the same every
time (the initial image and every random transformation come from one
``torch.Generator``).

The model is only read: it must be in eval mode, its parameters' ``requires_grad`` and
``.grad`` are left alone (gradients go to the image only), and the forward hooks that
capture the target layer exist only inside ``capture``, which removes them on error too.
Once every layer the objective reads has run, the hook stops the forward pass: the rest
of the network is never computed.
"""

from __future__ import annotations

import collections
import contextlib
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

import numpy as np
import torch
from torch import nn

from cnnviz.optvis import objectives, transforms
from cnnviz.optvis.objectives import INPUT, Objective
from cnnviz.optvis.param import ImageSpace, make_image
from cnnviz.optvis.transforms import Transforms

Parameterization = Literal["pixels", "fourier"]
PARAMETERIZATIONS: tuple[Parameterization, ...] = ("pixels", "fourier")


@dataclass(frozen=True)
class Recipe:
    """Every setting of one run (hashable: pages cache results by it).

    Attributes:
        size: side of the image in pixels (the network sees size + 2 * pad).
        steps: gradient steps.
        learning_rate: Adam's step size.
        seed: seeds the initial image and the random transformations.
        parameterization: ``"pixels"`` or ``"fourier"`` (see ``param``).
        decorrelate: RGB only: optimize in decorrelated colour axes.
        transforms: random pad / jitter / zoom / turn each step (see ``transforms``).
        l2: weight of the pixel-decay penalty (``objectives.l2``).
        tv: weight of the total-variation penalty (``objectives.total_variation``).
        blur_every: blur the image every this many steps (0: never), Yosinski et al. 2015.
        blur_sigma: the blur's width in pixels.
    """

    size: int = 64
    steps: int = 128
    learning_rate: float = 0.05
    seed: int = 0
    parameterization: Parameterization = "fourier"
    decorrelate: bool = True
    transforms: Transforms = field(default_factory=Transforms)
    l2: float = 0.0
    tv: float = 0.0
    blur_every: int = 0
    blur_sigma: float = 0.5

    def __post_init__(self) -> None:
        if self.parameterization not in PARAMETERIZATIONS:
            raise ValueError(f"Unknown parameterization {self.parameterization!r}; choose pixels or fourier.")
        if not 2 <= self.size <= 512:
            raise ValueError(f"The image side must be 2 to 512 pixels, not {self.size}.")
        if self.steps < 1 or self.learning_rate <= 0:
            raise ValueError("Use at least 1 step and a learning rate above 0.")
        if self.l2 < 0 or self.tv < 0 or self.blur_every < 0 or self.blur_sigma <= 0:
            raise ValueError("Penalty weights and the blur interval are 0 or more, and the blur width above 0.")


class RenderStep(NamedTuple):
    """One step of ``render``.

    Attributes:
        step: 1-based step number.
        value: the objective (without the recipe's penalties) for the image below, as it is:
            not padded, moved, zoomed or turned (the step itself climbs a moved copy).
        image: float32 in 0..1: (H, W, 3) RGB or (H, W) gray; (N, H, W[, 3]) for a batch.
    """

    step: int
    value: float
    image: np.ndarray


class _StopForward(Exception):
    """Raised by a capture hook once every wanted layer has run: the rest is not computed."""


@contextlib.contextmanager
def capture(model: nn.Module, layers: Sequence[str], stop: bool = True) -> Iterator[dict[str, torch.Tensor]]:
    """Record the outputs of the named modules while the block runs.

    Only forward passes made by the thread that entered the block are recorded: the
    model may be shared with other sessions running at the same time. Run the model
    with ``forward_to`` so that the early stop is caught.

    Args:
        model: any module; it gains hooks only inside the block.
        layers: module names, e.g. ["features.3"].
        stop: end the forward pass once every named layer has run.

    Yields:
        A dict that fills with name -> output (the tensor itself, still in the graph).

    Raises:
        ValueError: for a name that is not a module of the model.
    """
    owner = threading.get_ident()
    outputs: dict[str, torch.Tensor] = {}
    wanted = set(layers)

    def record(name: str):
        def hook(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
            if threading.get_ident() != owner or name in outputs:
                return
            outputs[name] = output
            if stop and wanted <= outputs.keys():
                raise _StopForward

        return hook

    modules = [_module(model, name) for name in layers]
    handles = []
    try:
        for name, module in zip(layers, modules, strict=True):
            handles.append(module.register_forward_hook(record(name)))
        yield outputs
    finally:
        for handle in handles:
            handle.remove()


def _module(model: nn.Module, name: str) -> nn.Module:
    try:
        return model.get_submodule(name)
    except AttributeError:
        names = [n for n, _ in model.named_modules() if n]
        raise ValueError(f"The network has no layer {name!r}; its layers are: {', '.join(names)}.") from None


def forward_to(model: nn.Module, x: torch.Tensor, outputs: dict[str, torch.Tensor], layers: Sequence[str]) -> None:
    """Run ``model`` on ``x`` inside ``capture`` until every layer in ``layers`` has run.

    Raises:
        ValueError: when the network cannot take ``x`` (its size or channels), or a layer never ran.
    """
    outputs.clear()
    try:
        model(x)
    except _StopForward:
        pass
    except RuntimeError as error:
        raise ValueError(f"The network cannot take a {tuple(x.shape[1:])} input: {error}") from error
    missing = [name for name in layers if name not in outputs]
    if missing:
        raise ValueError(f"The forward pass never ran {', '.join(missing)}.")


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Run torch on one thread in this block (this thread only, with PyTorch's usual
    OpenMP build). These networks and images are small: splitting each operation
    between threads costs more than it saves, and on a busy machine, where the other
    thread waits for a core, a step takes many times longer."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def layer_output(model: nn.Module, layer: str, x: torch.Tensor) -> torch.Tensor:
    """One layer's output for a batch of inputs, without gradients, stopping there.

    Args:
        x: (N, C, H, W), normalised as the network expects.

    Returns:
        (N, C', H', W') or (N, K).
    """
    with capture(model, [layer]) as outputs, torch.no_grad(), one_thread():
        forward_to(model, x, outputs, [layer])
        return outputs[layer]


class AdamAscent:
    """Adam (Kingma & Ba, 2015) climbing one tensor: ``torch.optim.Adam(maximize=True)``'s
    arithmetic, written out because the first ``torch.optim`` optimizer a process builds
    imports TorchDynamo, which takes 3 to 7 seconds: the page's first run would wait for it."""

    def __init__(self, values: torch.Tensor, learning_rate: float, betas: tuple[float, float] = (0.9, 0.999)) -> None:
        self.values, self.learning_rate, self.betas = values, learning_rate, betas
        self.mean = torch.zeros_like(values)  # running mean of the gradient
        self.square = torch.zeros_like(values)  # running mean of its square
        self.steps = 0

    @torch.no_grad()
    def step(self, eps: float = 1e-8) -> None:
        """Move ``values`` up its ``.grad``, then clear the gradient."""
        gradient, (beta1, beta2) = self.values.grad, self.betas
        self.steps += 1
        self.mean.lerp_(gradient, 1 - beta1)
        self.square.mul_(beta2).addcmul_(gradient, gradient, value=1 - beta2)
        denominator = (self.square / (1 - beta2**self.steps)).sqrt_().add_(eps)
        self.values.addcdiv_(self.mean, denominator, value=self.learning_rate / (1 - beta1**self.steps))
        self.values.grad = None


def normalise(space: ImageSpace) -> tuple[torch.Tensor, torch.Tensor]:
    """(scale, shift), each (1, C, 1, 1), with ``x * scale + shift == (x - mean) / std``."""
    std = torch.tensor(space.std, dtype=torch.float32).view(1, -1, 1, 1)
    mean = torch.tensor(space.mean, dtype=torch.float32).view(1, -1, 1, 1)
    return 1 / std, -mean / std


class Rendering:
    """One gradient-ascent run that can be advanced a slice at a time (a page runs one slice per
    rerun, between which its owner can stop it, and other students' heavy jobs take their turn).

    The run holds only tensors between slices: the hooks that capture the target layer and
    the one-thread setting exist only inside ``advance``. See ``render`` for the arguments.
    """

    def __init__(
        self, model: nn.Module, objective: Objective, recipe: Recipe, space: ImageSpace, batch: int = 1
    ) -> None:
        if model.training:
            raise ValueError(
                "Put the network in evaluation mode (model.eval()) first: dropout and batch norm must not change."
            )
        self.model, self.objective, self.recipe = model, objective, recipe
        generator = torch.Generator().manual_seed(recipe.seed)
        shape = (batch, space.channels, recipe.size, recipe.size)
        self.image = make_image(recipe.parameterization, shape, generator, recipe.decorrelate, space.colour_sqrt)
        self.moves = transforms.random_moves(recipe.transforms, recipe.size, recipe.steps, generator)
        self.optimizer = AdamAscent(self.image.values, recipe.learning_rate)
        self.penalty = recipe.l2 * objectives.l2() + recipe.tv * objectives.total_variation()
        self.scale, self.shift = normalise(space)
        self.step = 0  # steps done

    @property
    def done(self) -> bool:
        return self.step >= self.recipe.steps

    def advance(self, seconds: float | None = None) -> Iterator[RenderStep]:
        """The next steps, one ``RenderStep`` each, until the run ends or ``seconds`` have passed
        (at least one step per call).

        Raises:
            ValueError: for a layer the model lacks, or an input size the network cannot take.
        """
        recipe, layers = self.recipe, self.objective.layers
        penalised = bool(recipe.l2 or recipe.tv)
        deadline = None if seconds is None else time.perf_counter() + seconds
        with capture(self.model, layers) as outputs, one_thread():
            while not self.done:
                self.step += 1
                step = self.step
                pixels = self.image.image()  # (N, C, H, W) in 0..1
                x = torch.addcmul(self.shift, pixels, self.scale)
                value = self._value(x, pixels, outputs) if self.moves is not None else None
                forward_to(self.model, transforms.apply(x, self.moves, step - 1, recipe.transforms), outputs, layers)
                outputs[INPUT] = pixels
                climbed = self.objective(outputs)  # on the moved copy: the number the step climbs
                if step < recipe.steps:  # the last step's image is the result: no update after it
                    ascended = climbed - self.penalty(outputs) if penalised else climbed
                    ascended.backward(inputs=[self.image.values])  # gradients for the image only, never the model
                    self.optimizer.step()
                    if recipe.blur_every and step % recipe.blur_every == 0:
                        self.image.blur_(recipe.blur_sigma)
                yield RenderStep(step, climbed.item() if value is None else value, _to_numpy(pixels))
                if deadline is not None and time.perf_counter() >= deadline:
                    return

    @torch.no_grad()
    def _value(self, x: torch.Tensor, pixels: torch.Tensor, outputs: dict[str, torch.Tensor]) -> float:
        """The objective on the picture itself, (N, C, H, W) normalised ``x``: what the result is
        compared with real images by. The step climbs it on a moved copy, whose value changes with
        the random move as well (measured: on a first layer, where the frame's edge is most of
        the value at first, an 8-step curve could end below its start while the picture climbed)."""
        forward_to(self.model, x, outputs, self.objective.layers)
        outputs[INPUT] = pixels
        return self.objective(outputs).item()


def render(
    model: nn.Module, objective: Objective, recipe: Recipe, space: ImageSpace, batch: int = 1
) -> Iterator[RenderStep]:
    """Gradient ascent on the input: the image that makes ``objective`` as large as it can.

    Each step: parameters -> image (0..1) -> normalise -> random transform -> forward
    (stopped at the deepest layer the objective reads) -> objective minus penalties ->
    gradient with respect to the image's parameters only -> Adam step; every
    ``blur_every`` steps the image is blurred.

    Args:
        model: in eval mode; it is not changed.
        objective: what to maximize (``objectives``).
        recipe: every setting of the run.
        space: the network's channels and normalisation.
        batch: images optimized together (e.g. one per channel of a gallery, with
            objectives using ``batch=i``).

    Yields:
        ``RenderStep`` after every step; the last holds the result.

    Raises:
        ValueError: for a model in training mode, a layer the model lacks, or an input
            size the network cannot take (e.g. class scores need the size it was trained on).
    """
    yield from Rendering(model, objective, recipe, space, batch).advance()


def _to_numpy(pixels: torch.Tensor) -> np.ndarray:
    """(N, C, H, W) -> (H, W[, 3]) for one image, (N, H, W[, 3]) for several."""
    array = pixels.detach().permute(0, 2, 3, 1).numpy()
    if array.shape[-1] == 1:
        array = array[..., 0]
    return array[0] if len(array) == 1 else array


def run(model: nn.Module, objective: Objective, recipe: Recipe, space: ImageSpace, batch: int = 1) -> RenderStep:
    """``render`` to the end: the last step (its image is the result)."""
    return collections.deque(render(model, objective, recipe, space, batch), maxlen=1)[0]
