"""A network written as a few lines of text, checked before anything runs.

One layer per line; ``#`` starts a comment::

    conv 8 k5          # 8 output channels, 5x5 kernel (optional: s<stride> p<padding> d<dilation>)
    relu
    pool max 2         # or: pool avg 3 s2 p1
    dropout 0.25
    flatten
    dense 64
    relu
    dense 10

Shapes and parameter counts come from ``cnnviz.arithmetic.trace_layers``, so an impossible
stack is explained, layer by layer, before a tensor is made.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch
from torch import nn

from cnnviz.arithmetic import Conv, Dense, Flatten, Layer, Pool, SizeError, TracedLayer, trace_layers
from cnnviz.layers import layer_module
from cnnviz.refusals import Refusal

#: Activations a spec may name, as torch modules (no shape change, no parameters but PReLU's).
ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "prelu": nn.PReLU,
    "elu": nn.ELU,
    "selu": nn.SELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "mish": nn.Mish,
    "softplus": nn.Softplus,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "identity": nn.Identity,
}


@dataclass(frozen=True)
class Activation:
    name: str


@dataclass(frozen=True)
class Dropout:
    rate: float


SpecLayer = Layer | Activation | Dropout

_OPTION = re.compile(r"^([ksdp])(\d+)$")


def parse_spec(text: str) -> list[SpecLayer]:
    """Parse a network spec into layers.

    Raises:
        ValueError: naming the line (from 1) that cannot be read, and why.
    """
    layers: list[SpecLayer] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        words = raw.split("#", 1)[0].lower().split()
        if not words:
            continue
        try:
            layers.append(_parse_line(words))
        except Refusal as error:
            raise Refusal(
                error.reason, f"Line {number} ({raw.strip()!r}): {error}", **error.values, line=number
            ) from None
    if not layers:
        raise Refusal("spec_empty", "The network is empty: write at least one layer, e.g. 'conv 8 k3'.")
    return layers


def _parse_line(words: list[str]) -> SpecLayer:
    kind, args = words[0], words[1:]
    if kind in ACTIVATIONS and not args:
        return Activation(kind)
    if kind == "flatten" and not args:
        return Flatten()
    if kind == "dense" and len(args) == 1:
        return Dense(_positive_int(args[0], "out_features"))
    if kind == "dropout" and len(args) == 1:
        rate = _number(args[0], "dropout_rate")
        if not 0 <= rate < 1:
            raise Refusal(
                "spec_dropout_rate", f"the dropout rate must be at least 0 and below 1, not {rate:g}.", rate=f"{rate:g}"
            )
        return Dropout(rate)
    if kind == "conv" and args:
        options = _options(args[1:], allowed="ksdp")
        return Conv(
            _positive_int(args[0], "out_channels"),
            options.get("k", 3),
            stride=options.get("s", 1),
            padding=options.get("p", 0),
            dilation=options.get("d", 1),
        )
    if kind == "pool" and len(args) >= 2 and args[0] in ("max", "avg"):
        options = _options(args[2:], allowed="sp")
        size = _positive_int(args[1], "kernel_size")
        return Pool(size, stride=options.get("s"), padding=options.get("p", 0), kind=args[0])
    known = "conv, pool max|avg, dense, flatten, dropout, " + ", ".join(ACTIVATIONS)
    raise Refusal("spec_unknown_layer", f"cannot read this layer. Known layers: {known}.", known=known)


def _options(words: list[str], allowed: str) -> dict[str, int]:
    options = {}
    for word in words:
        match = _OPTION.match(word)
        if not match or match.group(1) not in allowed:
            names = {"k": "k<kernel>", "s": "s<stride>", "p": "p<padding>", "d": "d<dilation>"}
            use = ", ".join(names[a] for a in allowed)
            raise Refusal("spec_option", f"unknown option {word!r}; use {use}.", option=word, use=use)
        options[match.group(1)] = int(match.group(2))
    if options.get("k", 1) < 1 or options.get("s", 1) < 1 or options.get("d", 1) < 1:
        raise Refusal("spec_options_positive", "kernel, stride and dilation must be at least 1.")
    return options


# How the English messages name what a number sets (the catalogue's error.what.<name> in any language).
_WHAT = {"out_channels": "the number of channels", "out_features": "the number of features",
         "kernel_size": "the pooling window", "dropout_rate": "the dropout rate"}  # fmt: skip


def _positive_int(word: str, what: str) -> int:
    if not word.isdigit() or int(word) < 1:
        raise Refusal(
            "spec_positive_int", f"{_WHAT[what]} must be a whole number of at least 1, not {word!r}.", what=what,
            word=word,
        )  # fmt: skip
    return int(word)


def _number(word: str, what: str) -> float:
    try:
        return float(word)
    except ValueError:
        raise Refusal("spec_number", f"{_WHAT[what]} must be a number, not {word!r}.", what=what, word=word) from None


def shaped_layers(layers: list[SpecLayer]) -> list[Layer]:
    """The layers that change shape or hold weights, in order (activations and dropout left out)."""
    return [layer for layer in layers if isinstance(layer, Conv | Pool | Flatten | Dense)]


def check_spec(
    input_shape: tuple[int, int, int], layers: list[SpecLayer], classes: int, text: str | None = None
) -> list[TracedLayer]:
    """Trace a spec's shapes and make sure it ends in one score per class.

    Args:
        text: the spec as the user typed it, if ``layers`` came from it: an error then names its line.

    Raises:
        SizeError: for a layer with no output (``values["line"]``: the line of ``text``, from 1).
        Refusal: for a last layer that is not ``dense <classes>``.
    """
    try:
        rows = trace_layers(input_shape, shaped_layers(layers))
    except SizeError as error:
        line = _line_of_shaped_layer(text, error.values["layer"]) if text is not None else None
        if line is None:
            raise
        values = {name: value for name, value in error.values.items() if name != "layer"}
        typed = text.splitlines()[line - 1].strip()
        message = str(error).split(": ", 1)[-1]
        raise SizeError(error.reason, f"Line {line} ({typed!r}): {message}", **values, line=line) from None
    if not rows or rows[-1].shape != (classes,):
        got = "x".join(map(str, rows[-1].shape)) if rows else "nothing"
        raise Refusal(
            "spec_end",
            f"The network must end with one score per class (shape {classes}), e.g. 'flatten' then "
            f"'dense {classes}'; it ends with shape {got}.",
            classes=classes, got=got,
        )  # fmt: skip
    return rows


def _line_of_shaped_layer(text: str, number: int) -> int | None:
    """The line of ``text`` (from 1) holding its ``number``-th layer that changes shape (as ``shaped_layers`` counts)."""
    count = 0
    for line, raw in enumerate(text.splitlines(), start=1):
        words = raw.split("#", 1)[0].lower().split()
        if words and isinstance(_parse_line(words), Conv | Pool | Flatten | Dense):
            count += 1
            if count == number:
                return line
    return None


#: Pixels arrive in 0..1; the first weighted layer sees them centred on 0. All-positive inputs
#: give every weight of a unit a gradient of the same sign, which slows learning (LeCun et al.,
#: "Efficient BackProp", 1998); measured on the Training page's shapes: 75 % held-out without,
#: 81 % with (bench/training_defaults.py).
INPUT_CENTRE = 0.5


class InputCentredConv2d(nn.Conv2d):
    """A network's first convolution: it convolves ``x - INPUT_CENTRE`` (then pads with zeros)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x - INPUT_CENTRE)


class InputCentredLinear(nn.Linear):
    """A network's first dense layer, when it has no convolution: it reads ``x - INPUT_CENTRE``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x - INPUT_CENTRE)


class SeededDropout(nn.Module):
    """Dropout drawing its masks from its own generator, so a seeded run repeats exactly
    even while other sessions on the same server draw random numbers."""

    def __init__(self, rate: float, generator: torch.Generator) -> None:
        super().__init__()
        self.rate, self.generator = rate, generator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.rate == 0:
            return x
        keep = torch.rand(x.shape, generator=self.generator) >= self.rate
        return x * keep / (1 - self.rate)

    def extra_repr(self) -> str:
        return f"p={self.rate}"


def dropout_generators(network: nn.Module) -> list[torch.Generator]:
    """The generators a network's ``SeededDropout`` layers draw their masks from, each once, in
    layer order (``build_network`` gives them all one generator): their states are part of where
    a run stands, with its weights."""
    found: list[torch.Generator] = []
    for module in network.modules():
        if isinstance(module, SeededDropout) and not any(module.generator is known for known in found):
            found.append(module.generator)
    return found


def build_network(
    input_shape: tuple[int, int, int], layers: list[SpecLayer], classes: int, seed: int = 0
) -> nn.Sequential:
    """Build a checked spec as ``nn.Sequential``, initialized from ``seed`` alone. Its first
    convolution (or dense layer) centres the 0..1 pixels it reads (``INPUT_CENTRE``).

    Raises:
        ValueError: as ``check_spec``.
    """
    shapes = iter(row.shape for row in check_spec(input_shape, layers, classes))
    weighted = nn.Conv2d | nn.Linear
    generator = torch.Generator().manual_seed(seed)
    input_of_next = input_shape  # (C, H, W), then (features,) after the flatten
    modules: list[nn.Module] = []
    for layer in layers:
        if isinstance(layer, Activation):
            modules.append(ACTIVATIONS[layer.name]())
        elif isinstance(layer, Dropout):
            modules.append(SeededDropout(layer.rate, generator))
        else:  # channels for a convolution, features for a dense layer: both the first axis
            module = layer_module(layer, input_of_next[0])
            if isinstance(module, nn.Conv2d | nn.Linear) and not any(isinstance(m, weighted) for m in modules):
                # Still 0..1 pixels (or their pooled maxima/means): the first weighted layer centres them.
                module.__class__ = InputCentredConv2d if isinstance(module, nn.Conv2d) else InputCentredLinear
            modules.append(module)
            input_of_next = next(shapes)
    network = nn.Sequential(*modules)
    _initialize(network, generator)
    return network


def _initialize(network: nn.Module, generator: torch.Generator) -> None:
    # PyTorch's default init (Kaiming uniform with a=sqrt(5)), drawn from our generator
    # instead of the global one that every session shares.
    with torch.no_grad():
        for module in network.modules():
            if isinstance(module, nn.Conv2d | nn.Linear):
                fan_in = module.weight[0].numel()
                bound = 1 / fan_in**0.5
                module.weight.copy_((torch.rand(module.weight.shape, generator=generator) * 2 - 1) * bound)
                module.bias.copy_((torch.rand(module.bias.shape, generator=generator) * 2 - 1) * bound)


PRESET_SPECS: dict[str, str] = {
    "LeNet-5 (digits)": "conv 6 k5 p2\nrelu\npool max 2\nconv 16 k5\nrelu\npool max 2\nflatten\ndense 120\nrelu\ndense 84\nrelu\ndense 10",
    "Small CNN with dropout": "conv 8 k3 p1\nrelu\npool max 2\nconv 16 k3 p1\nrelu\npool max 2\nflatten\ndropout 0.5\ndense 64\nrelu\ndropout 0.5\ndense 10",
    "Keras MNIST CNN (article)": "conv 4 k5\ntanh\nconv 8 k3\ntanh\npool max 2\nconv 16 k3\nrelu\npool max 2\nflatten\ndense 128\ntanh\ndense 10",
}


def with_activation(layers: list[SpecLayer], name: str) -> list[SpecLayer]:
    """The same stack with every activation replaced by ``name``.

    Raises:
        ValueError: for an activation we do not know.
    """
    if name not in ACTIVATIONS:
        raise ValueError(f"Unknown activation {name!r}; choose one of: {', '.join(ACTIVATIONS)}.")
    return [Activation(name) if isinstance(layer, Activation) else layer for layer in layers]


def with_dropout(layers: list[SpecLayer], rate: float) -> list[SpecLayer]:
    """The same stack with every dropout layer at ``rate``; a stack without dropout gets
    one before each dense layer (where dropout is usually placed). Rate 0 removes them."""
    if not 0 <= rate < 1:
        raise ValueError(f"The dropout rate must be at least 0 and below 1, not {rate:g}.")
    if not any(isinstance(layer, Dropout) for layer in layers):
        layers = [
            part for layer in layers for part in ((Dropout(rate), layer) if isinstance(layer, Dense) else (layer,))
        ]
    return [
        Dropout(rate) if isinstance(layer, Dropout) else layer
        for layer in layers
        if not (isinstance(layer, Dropout) and rate == 0)
    ]


def format_spec(layers: list[SpecLayer]) -> str:
    """The text form of a stack, as ``parse_spec`` reads it (a round trip gives the same layers)."""
    lines = []
    for layer in layers:
        if isinstance(layer, Activation):
            lines.append(layer.name)
        elif isinstance(layer, Dropout):
            lines.append(f"dropout {layer.rate:g}")
        elif isinstance(layer, Flatten):
            lines.append("flatten")
        elif isinstance(layer, Dense):
            lines.append(f"dense {layer.out_features}")
        elif isinstance(layer, Conv):
            lines.append(
                f"conv {layer.out_channels} k{layer.kernel_size} s{layer.stride} p{layer.padding} d{layer.dilation}"
            )
        else:
            stride = f" s{layer.stride}" if layer.stride is not None else ""
            lines.append(f"pool {layer.kind} {layer.kernel_size}{stride} p{layer.padding}")
    return "\n".join(lines)
