"""The PyTorch lines that reproduce a page's current settings, ready to copy.

Each function returns a short, runnable script that builds the layer, runs it on a
tensor of the page's shape and prints the result's shape; the last line's comment
states what it prints, computed by ``cnnviz.arithmetic``. A test runs every snippet
and checks the comment.
"""

from __future__ import annotations

from cnnviz.arithmetic import Conv, Dense, Flatten, Layer, Pool, conv_output_size, pool_output_size, trace_layers

HEADER = "import torch\nimport torch.nn as nn\n\n"


def _args(**options: object) -> str:
    """Keyword arguments, leaving out those equal to PyTorch's defaults (given as None)."""
    return ", ".join(f"{name}={value!r}" for name, value in options.items() if value is not None)


def _shape_comment(shape: tuple[int, ...]) -> str:
    return f"# torch.Size([{', '.join(map(str, shape))}])"


def conv2d(
    input_shape: tuple[int, int, int],
    out_channels: int,
    kernel_size: int,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
    padding_mode: str = "zeros",
    bias: bool = True,
) -> str:
    """A script building ``nn.Conv2d`` for an input of (C, H, W) and printing the output shape.

    Raises:
        ValueError: for settings with no output (from ``conv_output_size``).
    """
    channels, height, width = input_shape
    out = (1, out_channels, *(conv_output_size(s, kernel_size, stride, padding, dilation) for s in (height, width)))
    options = _args(
        stride=stride if stride != 1 else None,
        padding=padding if padding else None,
        dilation=dilation if dilation != 1 else None,
        padding_mode=padding_mode if padding_mode != "zeros" else None,
        bias=None if bias else False,
    )
    layer = f"nn.Conv2d({channels}, {out_channels}, kernel_size={kernel_size}{', ' + options if options else ''})"
    return _script(f"x = torch.rand(1, {channels}, {height}, {width})  # (N, C, H, W)", f"layer = {layer}", out)


def pool2d(
    input_shape: tuple[int, int, int],
    kind: str,
    kernel_size: int,
    stride: int | None = None,
    padding: int = 0,
    ceil_mode: bool = False,
    norm_type: float = 2.0,
) -> str:
    """A script building a max, average or Lp pooling layer and printing the output shape.

    Args:
        kind: ``"max"``, ``"avg"`` or ``"lp"`` (Lp pooling takes no padding in PyTorch).

    Raises:
        ValueError: for settings with no output or an unknown kind.
    """
    channels, height, width = input_shape
    stride_value = kernel_size if stride is None else stride
    out = (
        1,
        channels,
        *(pool_output_size(s, kernel_size, stride_value, padding, 1, ceil_mode) for s in (height, width)),
    )
    options = _args(
        stride=stride if stride not in (None, kernel_size) else None,
        padding=padding if padding else None,
        ceil_mode=True if ceil_mode else None,
    )
    if kind == "max":
        layer = f"nn.MaxPool2d({kernel_size}{', ' + options if options else ''})"
    elif kind == "avg":
        layer = f"nn.AvgPool2d({kernel_size}{', ' + options if options else ''})"
    elif kind == "lp":
        if padding:
            raise ValueError("PyTorch's LPPool2d has no padding option; set padding to 0.")
        layer = f"nn.LPPool2d({norm_type:g}, {kernel_size}{', ' + options if options else ''})"
    else:
        raise ValueError(f'Pooling kind must be "max", "avg" or "lp", not {kind!r}.')
    return _script(f"x = torch.rand(1, {channels}, {height}, {width})  # (N, C, H, W)", f"layer = {layer}", out)


def layer_stack(input_shape: tuple[int, int, int], layers: list[Layer], activation: str = "ReLU") -> str:
    """A script building an ``nn.Sequential`` for a stack, with an activation after each
    convolution and hidden dense layer, and printing the output shape.

    Raises:
        ValueError: naming the first layer with no output.
    """
    traced = trace_layers(input_shape, layers)
    lines, channels, features = [], input_shape[0], None
    for index, (layer, row) in enumerate(zip(layers, traced, strict=True)):
        if isinstance(layer, Conv):
            options = _args(
                stride=layer.stride if layer.stride != 1 else None,
                padding=layer.padding if layer.padding else None,
                dilation=layer.dilation if layer.dilation != 1 else None,
            )
            lines.append(
                f"nn.Conv2d({channels}, {layer.out_channels}, {layer.kernel_size}{', ' + options if options else ''}),"
            )
            lines.append(f"nn.{activation}(),")
            channels = layer.out_channels
        elif isinstance(layer, Pool):
            name = "MaxPool2d" if layer.kind == "max" else "AvgPool2d"
            options = _args(
                stride=layer.stride if layer.stride not in (None, layer.kernel_size) else None,
                padding=layer.padding if layer.padding else None,
                ceil_mode=True if layer.ceil_mode else None,
            )
            lines.append(f"nn.{name}({layer.kernel_size}{', ' + options if options else ''}),")
        elif isinstance(layer, Flatten):
            lines.append("nn.Flatten(),")
            features = row.shape[0]
        elif isinstance(layer, Dense):
            lines.append(f"nn.Linear({features}, {layer.out_features}),")
            if index < len(layers) - 1:
                lines.append(f"nn.{activation}(),")
            features = layer.out_features
    body = "\n".join(f"    {line}" for line in lines)
    channels, height, width = input_shape
    return _script(
        f"x = torch.rand(1, {channels}, {height}, {width})  # (N, C, H, W)",
        f"layer = nn.Sequential(\n{body}\n)",
        (1, *traced[-1].shape),
    )


def _script(input_line: str, layer_line: str, out_shape: tuple[int, ...]) -> str:
    return f"{HEADER}{input_line}\n{layer_line}\nprint(layer(x).shape)  {_shape_comment(out_shape)}\n"
