"""The PyTorch lines that reproduce a page's current settings, ready to copy.

Each function returns a short, runnable script that builds the layer, runs it on a
tensor of the page's shape and prints the result's shape; the last line's comment
states what it prints, computed by ``cnnviz.arithmetic``. The activation snippet prints
f(x) and f'(x) at a few points instead, the cross-entropy snippet the loss and dL/dz; the grid snippet prints the output numbers too, and
the layer-stack snippet the shape after every layer. A test runs every snippet and checks
what it prints.
"""

from __future__ import annotations

import numpy as np

from cnnviz import activations
from cnnviz.arithmetic import Conv, Dense, Flatten, Layer, Pool, conv_output_size, pool_output_size, trace_layers
from cnnviz.refusals import Refusal

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
    groups: int = 1,
) -> str:
    """A script building ``nn.Conv2d`` for an input of (C, H, W) and printing the output shape.

    Args:
        groups: ``C`` convolves each channel with its own kernel (what the convolution
            lesson calls "each RGB channel"); it must divide C and ``out_channels``.

    Raises:
        ValueError: for settings with no output (from ``conv_output_size``) or groups
            that do not divide the channels.
    """
    channels, height, width = input_shape
    if groups < 1 or channels % groups or out_channels % groups:
        raise ValueError(f"groups ({groups}) must divide the input ({channels}) and output ({out_channels}) channels.")
    out = (1, out_channels, *(conv_output_size(s, kernel_size, stride, padding, dilation) for s in (height, width)))
    options = _args(
        stride=stride if stride != 1 else None,
        padding=padding if padding else None,
        dilation=dilation if dilation != 1 else None,
        padding_mode=padding_mode if padding_mode != "zeros" else None,
        groups=groups if groups != 1 else None,
        bias=None if bias else False,
    )
    layer = f"nn.Conv2d({channels}, {out_channels}, kernel_size={kernel_size}{', ' + options if options else ''})"
    return _script(f"x = torch.rand(1, {channels}, {height}, {width})  # (N, C, H, W)", f"layer = {layer}", out)


def _matrix(values: np.ndarray, digits: int = 6) -> str:
    """A 2-D array as a nested Python list literal, one row per line, numbers as typed (``1``, ``0.0625``)
    to ``digits`` significant digits."""
    rows = ",\n".join("    [" + ", ".join(f"{float(value):.{digits}g}" for value in row) + "]" for row in values)
    return f"[\n{rows},\n]"


def conv2d_on_grid(
    grid: np.ndarray,
    kernel: np.ndarray,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
    padding_mode: str = "zeros",
    flip: bool = False,
) -> str:
    """A script convolving this very grid with this very kernel in ``nn.Conv2d`` and printing
    the output numbers, so the step-by-step lesson can be checked cell by cell.

    Args:
        grid: (H, W) numbers. kernel: (k, k) weights.
        flip: true convolution: PyTorch computes cross-correlation, so the script flips the
            kernel first.

    Raises:
        ValueError: for settings with no output (from ``conv_output_size``).
    """
    height, width = grid.shape
    out = [conv_output_size(side, kernel.shape[0], stride, padding, dilation) for side in (height, width)]
    options = _args(
        stride=stride if stride != 1 else None,
        padding=padding if padding else None,
        dilation=dilation if dilation != 1 else None,
        padding_mode=padding_mode if padding_mode != "zeros" else None,
    )
    weights = "kernel.flip(0, 1)  # true convolution: PyTorch does not flip, so flip by hand" if flip else "kernel"
    return (
        f"{HEADER}grid = torch.tensor({_matrix(grid)}, dtype=torch.float64)\n"
        f"kernel = torch.tensor({_matrix(kernel)}, dtype=torch.float64)\n"
        f"layer = nn.Conv2d(1, 1, kernel_size={kernel.shape[0]}, {options + ', ' if options else ''}bias=False, "
        "dtype=torch.float64)\n"
        "with torch.no_grad():\n"
        f"    layer.weight[0, 0] = {weights}\n"
        "    out = layer(grid[None, None])[0, 0]  # (1, 1, H, W) in and out\n"
        f"print(out.shape)  # torch.Size([{out[0]}, {out[1]}])\n"
        "print(out)\n"
    )


def pool2d(
    input_shape: tuple[int, int, int],
    kind: str,
    kernel_size: int,
    stride: int | None = None,
    padding: int = 0,
    ceil_mode: bool = False,
    norm_type: float = 2.0,
    count_include_pad: bool = True,
    values: np.ndarray | None = None,
) -> str:
    """A script building a max, average, Lp or global average pooling layer and printing the output shape.

    Args:
        kind: ``"max"``, ``"avg"``, ``"lp"`` (Lp pooling takes no padding in PyTorch) or
            ``"global_avg"`` (``nn.AdaptiveAvgPool2d(1)``; window settings unused).
        values: (H, W) numbers to pool (input_shape must be (1, H, W)); the script then
            prints the pooled numbers too. Default: a random input.

    Raises:
        ValueError: for settings with no output or an unknown kind.
    """
    channels, height, width = input_shape
    stride_value = kernel_size if stride is None else stride
    if kind == "global_avg":
        layer, out_size = "nn.AdaptiveAvgPool2d(1)", (1, 1)
    else:
        out_size = tuple(pool_output_size(s, kernel_size, stride_value, padding, 1, ceil_mode) for s in (height, width))
        layer = _pool_layer(kind, kernel_size, stride, padding, ceil_mode, norm_type, count_include_pad)
    out = (1, channels, *out_size)
    if values is None:
        return _script(f"x = torch.rand(1, {channels}, {height}, {width})  # (N, C, H, W)", f"layer = {layer}", out)
    input_line = f"x = torch.tensor({_matrix(values)}, dtype=torch.float64).reshape(1, 1, {height}, {width})"
    return _script(f"{input_line}  # (N, C, H, W)", f"layer = {layer}\nprint(layer(x)[0, 0])", out)


def _pool_layer(
    kind: str, kernel_size: int, stride: int | None, padding: int, ceil_mode: bool, norm_type: float, pad_counts: bool
) -> str:
    options = _args(
        stride=stride if stride not in (None, kernel_size) else None,
        padding=padding if padding else None,
        ceil_mode=True if ceil_mode else None,
        count_include_pad=None if pad_counts or kind != "avg" else False,
    )
    options = f", {options}" if options else ""
    if kind == "max":
        return f"nn.MaxPool2d({kernel_size}{options})"
    if kind == "avg":
        return f"nn.AvgPool2d({kernel_size}{options})"
    if kind == "lp":
        if padding:
            raise Refusal("lp_pool_padding", "PyTorch's LPPool2d has no padding option; set padding to 0.")
        return f"nn.LPPool2d({norm_type:g}, {kernel_size}{options})"
    raise ValueError(f'Pooling kind must be "max", "avg", "lp" or "global_avg", not {kind!r}.')


def activation(key: str, params: dict[str, float], points: tuple[float, ...]) -> str:
    """A script computing an activation and its slope (by autograd) at a few points, printing both.

    Args:
        key: an activation of ``cnnviz.activations`` (its ``torch_call`` is filled in with ``params``).
        params: its parameters (see ``activations.resolve_params``).
        points: the x values.

    Raises:
        ValueError: for an unknown activation or invalid parameters.
    """
    filled = {name: f"{value:.6g}" for name, value in activations.resolve_params(key, params).items()}
    call = activations.get(key).torch_call.format(**filled)
    return (
        "import torch\nimport torch.nn.functional as F\n\n"
        f"x = torch.tensor([{', '.join(f'{point:g}' for point in points)}], dtype=torch.float64, requires_grad=True)\n"
        f"y = {call}\n"
        "(slope,) = torch.autograd.grad(y.sum(), x)  # f'(x) at each point: f acts elementwise\n"
        "print(y.detach())\nprint(slope)\n"
    )


def cross_entropy(logits: list[float], target_class: int, smoothing: float = 0.0, class_name: str = "") -> str:
    """A script computing softmax cross-entropy of one sample's logits and its gradient dL/dz, printing both.

    Args:
        logits: (classes,) the scores.
        target_class: index of the right class (``class_name`` names it in a comment).
        smoothing: label smoothing epsilon (left out when 0, PyTorch's default).
    """
    scores = ", ".join(repr(round(float(value), 6)) for value in logits)
    options = _args(label_smoothing=float(f"{smoothing:g}") if smoothing else None)
    return (
        "import torch\nimport torch.nn.functional as F\n\n"
        f"logits = torch.tensor([[{scores}]], dtype=torch.float64, requires_grad=True)  # (1, {len(logits)}): one sample\n"
        f"target = torch.tensor([{target_class}]){f'  # {class_name}' if class_name else ''}\n"
        f"loss = F.cross_entropy(logits, target{', ' + options if options else ''})\n"
        "loss.backward()\n"
        'print(f"{loss.item():.4f}")\nprint(logits.grad)  # dL/dz = p - y\n'
    )


def layer_stack(input_shape: tuple[int, int, int], layers: list[Layer], activation: str = "ReLU") -> str:
    """A script building an ``nn.Sequential`` for a stack, with an activation after each
    convolution and hidden dense layer, then running it one module at a time and printing
    each module's output shape; each layer's line has the shape it will print as a comment.

    Raises:
        ValueError: naming the first layer with no output.
    """
    traced = trace_layers(input_shape, layers)
    lines, channels, features = [], input_shape[0], None
    for index, (layer, row) in enumerate(zip(layers, traced, strict=True)):
        shape = f"  # -> {(1, *row.shape)}"
        if isinstance(layer, Conv):
            options = _args(
                stride=layer.stride if layer.stride != 1 else None,
                padding=layer.padding if layer.padding else None,
                dilation=layer.dilation if layer.dilation != 1 else None,
            )
            lines.append(
                f"nn.Conv2d({channels}, {layer.out_channels}, {layer.kernel_size}{', ' + options if options else ''}),"
                + shape
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
            lines.append(f"nn.{name}({layer.kernel_size}{', ' + options if options else ''}),{shape}")
        elif isinstance(layer, Flatten):
            lines.append(f"nn.Flatten(),{shape}")
            features = row.shape[0]
        elif isinstance(layer, Dense):
            lines.append(f"nn.Linear({features}, {layer.out_features}),{shape}")
            if index < len(layers) - 1:
                lines.append(f"nn.{activation}(),")
            features = layer.out_features
    body = "\n".join(f"    {line}" for line in lines)
    channels, height, width = input_shape
    return (
        f"{HEADER}x = torch.rand(1, {channels}, {height}, {width})  # (N, C, H, W)\n"
        f"model = nn.Sequential(\n{body}\n)\n"
        "for module in model:  # one layer at a time, to see every shape\n"
        "    x = module(x)\n"
        '    print(f"{type(module).__name__:<10}", tuple(x.shape))\n'
    )


def _script(input_line: str, layer_line: str, out_shape: tuple[int, ...]) -> str:
    return f"{HEADER}{input_line}\n{layer_line}\nprint(layer(x).shape)  {_shape_comment(out_shape)}\n"


#: (in_channels, out_channels, groups) of the ``nn.Conv2d`` doing what each channel mode of
#: ``convolution.convolve_image`` does.
CHANNEL_LAYERS = {"gray": (1, 1, 1), "per_channel": (3, 3, 3), "sum": (3, 1, 1)}
_CHANNEL_INPUTS = {
    "gray": "x = (rgb * torch.tensor([0.299, 0.587, 0.114])[:, None, None]).sum(0)[None, None]"
    "  # luminance (1, 1, H, W)",
    "per_channel": "x = rgb[None]  # (1, 3, H, W): groups=3 gives each channel its own copy of the kernel",
    "sum": "x = rgb[None]  # (1, 3, H, W): the same kernel on R, G and B, the three results added",
}


def conv2d_on_image(
    path: str,
    source_comment: str,
    kernel: np.ndarray,
    channel_mode: str = "gray",
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
    padding_mode: str = "zeros",
    flip: bool = False,
    bias: float = 0.0,
    working_side: int | None = None,
) -> str:
    """A script convolving an image file as the convolution lesson does, printing the output's
    shape and its smallest, largest and mean value.

    The image is loaded as ``cnnviz.images.load_image`` loads it (upright, RGB, 0..1) and
    the kernel, bias and geometry go into an ``nn.Conv2d`` that does what the channel mode
    does (see ``convolution.convolve_image``).

    Args:
        path: the image file the script opens. source_comment: what that file is.
        kernel: (k, k) weights as typed; flipped in the script when ``flip``.
        channel_mode: ``"gray"``, ``"per_channel"`` or ``"sum"``.
        working_side: the longest side the page shrank the image to, or None when it kept
            the image's own size.

    Raises:
        ValueError: for an unknown channel mode.
    """
    if channel_mode not in CHANNEL_LAYERS:
        raise ValueError(f"Channel mode must be one of {', '.join(CHANNEL_LAYERS)}, not {channel_mode!r}.")
    in_channels, out_channels, groups = CHANNEL_LAYERS[channel_mode]
    options = _args(
        stride=stride if stride != 1 else None,
        padding=padding if padding else None,
        dilation=dilation if dilation != 1 else None,
        padding_mode=padding_mode if padding_mode != "zeros" else None,
        groups=groups if groups != 1 else None,
        bias=None if bias else False,
    )
    lines = [
        "import math\n" if working_side else "",
        "import numpy as np\nimport torch\nimport torch.nn as nn\nfrom PIL import Image, ImageOps\n\n",
        f"image = Image.open({path!r})  # {source_comment}\n",
    ]
    if working_side:
        lines.append(
            f"scale = {working_side} / max(image.size)  # the page works on at most {working_side} pixels a side\n"
            "image.draft(None, (math.ceil(image.width * scale), math.ceil(image.height * scale)))  # JPEG: decode smaller\n"
        )
    lines.append('image = ImageOps.exif_transpose(image).convert("RGB")  # upright, 3 channels\n')
    if working_side:
        lines.append(f"image.thumbnail(({working_side}, {working_side}), Image.Resampling.LANCZOS)\n")
    weights = "kernel.flip(0, 1)  # true convolution: PyTorch does not flip, so flip by hand" if flip else "kernel"
    lines += [
        "rgb = torch.from_numpy(np.asarray(image, dtype=np.float32) / 255).permute(2, 0, 1)  # (3, H, W), 0..1\n",
        f"{_CHANNEL_INPUTS[channel_mode]}\n",
        f"kernel = torch.tensor({_matrix(kernel, digits=9)}, dtype=torch.float32)  # (k, k)\n",
        f"layer = nn.Conv2d({in_channels}, {out_channels}, kernel_size={kernel.shape[0]}"
        f"{', ' + options if options else ''})\n",
        "with torch.no_grad():\n",
        f"    layer.weight[:] = {weights}\n",
        f"    layer.bias.fill_({float(bias)!r})\n" if bias else "",
        "    out = layer(x)[0]  # (C, H', W')\n",
        "print(tuple(out.shape))\n",
        'print(f"from {out.min():.6g} to {out.max():.6g}, mean {out.mean():.6g}")\n',
    ]
    return "".join(lines)
