"""The layer-stack tracer's text: an input line, then one layer per line, as the Training page writes them.

::

    input 1 28 28        # channels, height, width
    conv 4 k5            # 4 filters, 5 x 5 (optional: s<stride> p<padding> d<dilation>)
    relu                 # activations and dropout change no shape: accepted, not traced
    pool max 2           # or: pool avg 3 s2 p1
    flatten
    dense 10

Layers are read by ``cnnviz.netspec`` and traced by ``cnnviz.arithmetic.trace_layers``. Every
refusal names the line the user typed (counting every line from 1, comments and blanks too)
and carries a reason code and values (``StackTextError`` or ``SizeError``), so a page says
it in the user's language.
"""

from __future__ import annotations

from cnnviz import netspec
from cnnviz.arithmetic import Conv, Dense, Flatten, Layer, Pool, SizeError, TracedLayer, trace_layers

#: Largest side and channel count of the input a user may type: the tracer runs the stack on
#: meta tensors (shapes only), but a class should not meet numbers that mean nothing.
MAX_INPUT = 4096
MAX_LAYERS = 100


class StackTextError(ValueError):
    """A stack text that cannot be read.

    Attributes:
        reason: ``"empty"``, ``"input_line"``, ``"unreadable"`` or ``"too_many"``.
        values: ``line`` (from 1) and ``typed`` (the line as typed) where a line is at fault.
    """

    def __init__(self, reason: str, message: str, **values: object) -> None:
        super().__init__(message)
        self.reason = reason
        self.values = values


def _words(raw: str) -> list[str]:
    return raw.split("#", 1)[0].lower().split()


def stack_text(input_shape: tuple[int, int, int], layers: tuple[Layer, ...] | list[Layer]) -> str:
    """A stack as text that :func:`parse_stack` reads back to the same input and layers (defaults left out)."""
    lines = ["input " + " ".join(map(str, input_shape))]
    for layer in layers:
        if isinstance(layer, Conv):
            options = [f"{name}{value}" for name, value, default in (
                ("k", layer.kernel_size, None), ("s", layer.stride, 1), ("p", layer.padding, 0),
                ("d", layer.dilation, 1)) if value != default]  # fmt: skip
            lines.append(" ".join([f"conv {layer.out_channels}", *options]))
        elif isinstance(layer, Pool):
            stride = f" s{layer.stride}" if layer.stride not in (None, layer.kernel_size) else ""
            padding = f" p{layer.padding}" if layer.padding else ""
            lines.append(f"pool {layer.kind} {layer.kernel_size}{stride}{padding}")
        elif isinstance(layer, Flatten):
            lines.append("flatten")
        elif isinstance(layer, Dense):
            lines.append(f"dense {layer.out_features}")
    return "\n".join(lines)


def parse_stack(text: str) -> tuple[tuple[int, int, int], list[Layer], list[int]]:
    """The input shape and the layers that change shape, with the line (from 1) of each layer.

    Raises:
        StackTextError: for an empty text, a first line that is not ``input C H W``, a line
            that is no layer, or more than ``MAX_LAYERS`` layers.
    """
    lines = [(number, raw) for number, raw in enumerate(text.splitlines(), start=1) if _words(raw)]
    if not lines:
        raise StackTextError("empty", "Write the input and at least one layer, e.g. 'input 1 28 28' then 'conv 4 k5'.")
    number, raw = lines[0]
    words = _words(raw)
    sides = words[1:]
    if (
        words[0] != "input"
        or len(sides) != 3
        or not all(word.isdigit() and 1 <= int(word) <= MAX_INPUT for word in sides)
    ):
        raise StackTextError(
            "input_line", f"Line {number} ({raw.strip()!r}): the first line must be 'input C H W', "
            f"three whole numbers from 1 to {MAX_INPUT}, e.g. 'input 1 28 28'.", line=number, typed=raw.strip(),
            most=MAX_INPUT,
        )  # fmt: skip
    input_shape = (int(sides[0]), int(sides[1]), int(sides[2]))
    layers, numbers = [], []
    for number, raw in lines[1:]:
        try:
            (layer,) = netspec.parse_spec(raw)
        except ValueError as error:
            raise StackTextError(
                "unreadable", f"Line {number} ({raw.strip()!r}): {str(error).split(': ', 1)[-1]}", line=number,
                typed=raw.strip(),
            ) from None  # fmt: skip
        if isinstance(layer, Conv | Pool | Flatten | Dense):
            layers.append(layer)
            numbers.append(number)
    if len(layers) > MAX_LAYERS:
        raise StackTextError("too_many", f"At most {MAX_LAYERS} layers, please.", most=MAX_LAYERS)
    return input_shape, layers, numbers


def trace_stack(text: str) -> tuple[tuple[int, int, int], list[Layer], list[TracedLayer]]:
    """Read and trace a stack text.

    Raises:
        StackTextError: as :func:`parse_stack`.
        SizeError: for a layer with no output; ``values["line"]`` and ``values["typed"]`` name
            the line it was typed on (instead of its position among the layers).
    """
    input_shape, layers, numbers = parse_stack(text)
    try:
        rows = trace_layers(input_shape, layers)
    except SizeError as error:
        values = {name: value for name, value in error.values.items() if name != "layer"}
        line = numbers[error.values["layer"] - 1]
        typed = text.splitlines()[line - 1].strip()
        message = str(error).split(": ", 1)[-1]
        raise SizeError(error.reason, f"Line {line} ({typed!r}): {message}", **values, line=line, typed=typed) from None
    return input_shape, layers, rows
