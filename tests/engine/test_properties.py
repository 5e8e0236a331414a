"""Property tests: for any settings a student can pick, the engine agrees with PyTorch (shapes)
and with a direct sum written here (values); for any settings PyTorch refuses, the engine
refuses too, with a ValueError whose message can be shown. Never another exception.

The references are independent of the engine: output sizes come from running torch's
layers, values from a plain loop over ``np.pad``-ed arrays, receptive fields from autograd.
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import partial

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import event, given, settings
from hypothesis import strategies as st
from torch import nn

from cnnviz import arithmetic, convolution, kernels, pooling
from cnnviz.arithmetic import Conv, Dense, Flatten, Pool
from cnnviz.drawing import grids
from cnnviz.pooling import PoolSettings

PROPERTY = settings(max_examples=50, deadline=None)

# In-range settings: each one meaningful on its own; together they may still have no output
# (a kernel wider than the padded input...), and then torch decides.
sizes = st.integers(1, 24)
kernel_sizes = st.integers(1, 9)
strides = st.integers(1, 6)
paddings = st.integers(0, 5)
dilations = st.integers(1, 4)
padding_modes = st.sampled_from(convolution.PADDING_MODES)
#: The smallest meaningful value of each setting; anything below is out of range.
MINIMUM = {"size": 1, "kernel_size": 1, "stride": 1, "padding": 0, "dilation": 1, "output_padding": 0}


def refused(call, *args, **kwargs) -> ValueError:
    """The ValueError ``call`` raises; any other outcome fails the test."""
    event("refused")  # --hypothesis-show-statistics: both outcomes must be explored
    with pytest.raises(ValueError) as error:
        call(*args, **kwargs)
    assert str(error.value).strip(), "a refusal needs a message"
    return error.value


def torch_length(run) -> int | None:
    """The length (dim 2) torch produces, or None when torch refuses the settings."""
    try:
        with torch.no_grad():
            length = run().shape[2]
    except RuntimeError:
        return None
    event("compared with torch")
    return length


# --- Output sizes ---------------------------------------------------------------------------

SIZE_FUNCTIONS = {
    arithmetic.conv_output_size: ("size", "kernel_size", "stride", "padding", "dilation"),
    arithmetic.uncovered_size: ("size", "kernel_size", "stride", "padding", "dilation"),
    arithmetic.window_starts: ("size", "kernel_size", "stride", "padding", "dilation"),
    arithmetic.pool_output_size: ("size", "kernel_size", "stride", "padding", "dilation"),
    arithmetic.transposed_output_size: ("size", "kernel_size", "stride", "padding", "output_padding", "dilation"),
    arithmetic.tf_output_size: ("size", "kernel_size", "stride", "dilation"),
    arithmetic.tf_same_padding: ("size", "kernel_size", "stride", "dilation"),
}


@PROPERTY
@given(st.sampled_from(list(SIZE_FUNCTIONS)), st.data())
def test_an_out_of_range_setting_is_refused_and_named(function, data):
    names = SIZE_FUNCTIONS[function]
    values = {name: data.draw(st.integers(MINIMUM[name], MINIMUM[name] + 4), label=name) for name in names}
    broken = data.draw(st.sampled_from(names), label="broken")
    values[broken] = data.draw(st.integers(MINIMUM[broken] - 3, MINIMUM[broken] - 1), label="value")
    error = refused(function, **values)
    assert f"it is {values[broken]}." in str(error), "the refusal says which value is wrong"


@PROPERTY
@given(sizes, kernel_sizes, strides, paddings, dilations)
def test_conv_output_size_is_torchs(size, kernel_size, stride, padding, dilation):
    expected = torch_length(
        lambda: F.conv2d(
            torch.zeros(1, 1, size, 1),
            torch.zeros(1, 1, kernel_size, 1),
            stride=(stride, 1),
            padding=(padding, 0),
            dilation=(dilation, 1),
        )
    )
    args = (size, kernel_size, stride, padding, dilation)
    if expected is None:
        refused(arithmetic.conv_output_size, *args)
        refused(arithmetic.uncovered_size, *args)
        return
    assert arithmetic.conv_output_size(*args) == expected
    starts = arithmetic.window_starts(*args)
    assert len(starts) == expected and starts[0] == 0
    # The pixels no window reaches are what is left after the last window.
    span = dilation * (kernel_size - 1) + 1
    assert arithmetic.uncovered_size(*args) == size + 2 * padding - (starts[-1] + span)


@PROPERTY
@given(
    sizes,
    kernel_sizes,
    strides | st.none(),
    st.integers(0, 3),
    dilations,
    st.booleans(),
    st.sampled_from(["max", "avg"]),
)
def test_pool_output_size_is_torchs(size, kernel_size, stride, padding, dilation, ceil_mode, kind):
    if kind == "avg":
        dilation = 1  # average pooling has no dilation
    step = kernel_size if stride is None else stride
    x = torch.zeros(1, 1, size, 1)
    if kind == "max":
        run = partial(F.max_pool2d, x, (kernel_size, 1), (step, 1), (padding, 0), (dilation, 1), ceil_mode=ceil_mode)
    else:
        run = partial(F.avg_pool2d, x, (kernel_size, 1), (step, 1), (padding, 0), ceil_mode=ceil_mode)
    expected = torch_length(run)
    args = (size, kernel_size, stride, padding, dilation, ceil_mode)
    if expected is None:
        refused(arithmetic.pool_output_size, *args)
    else:
        assert arithmetic.pool_output_size(*args) == expected


@PROPERTY
@given(sizes, kernel_sizes, strides, paddings, st.integers(0, 5), dilations)
def test_transposed_output_size_is_torchs(size, kernel_size, stride, padding, output_padding, dilation):
    expected = torch_length(
        lambda: F.conv_transpose2d(
            torch.zeros(1, 1, size, 1),
            torch.zeros(1, 1, kernel_size, 1),
            stride=(stride, 1),
            padding=(padding, 0),
            output_padding=(output_padding, 0),
            dilation=(dilation, 1),
        )
    )
    args = (size, kernel_size, stride, padding, output_padding, dilation)
    if expected is None or expected < 1:
        refused(arithmetic.transposed_output_size, *args)
    else:
        assert arithmetic.transposed_output_size(*args) == expected


@PROPERTY
@given(sizes, kernel_sizes, strides, dilations, st.sampled_from(["same", "valid", "SAME", "VALID"]))
def test_tf_output_size_and_same_padding_agree_with_padding_by_hand(size, kernel_size, stride, dilation, padding):
    args = (size, kernel_size, stride, padding, dilation)
    if stride > 1 and dilation > 1:  # TensorFlow refuses both at once
        refused(arithmetic.tf_output_size, *args)
        refused(arithmetic.tf_same_padding, size, kernel_size, stride, dilation)
        return
    span = dilation * (kernel_size - 1) + 1
    if padding.lower() == "same":
        before, after = arithmetic.tf_same_padding(size, kernel_size, stride, dilation)
        assert after - before in (0, 1), "TensorFlow puts the odd pixel after"
        padded = F.pad(torch.zeros(1, 1, size, 1), (0, 0, before, after))
        expected = math.ceil(size / stride)  # TensorFlow's documented rule
    else:
        padded = torch.zeros(1, 1, size, 1)
        expected = math.ceil((size - span + 1) / stride) if span <= size else None  # TensorFlow's VALID rule
    length = torch_length(
        lambda: F.conv2d(padded, torch.zeros(1, 1, kernel_size, 1), stride=(stride, 1), dilation=(dilation, 1))
    )
    assert length == expected
    if expected is None:
        refused(arithmetic.tf_output_size, *args)
    else:
        assert arithmetic.tf_output_size(*args) == expected


@given(st.sampled_from(["full", "", "causal", None, 0]))
def test_tf_output_size_refuses_an_unknown_padding_name(padding):
    refused(arithmetic.tf_output_size, 10, 3, 1, padding)


# --- Layer stacks ---------------------------------------------------------------------------


@st.composite
def layer_stacks(draw, with_padding: bool = True, pools: tuple[str, ...] = ("max", "avg"), head: bool = True):
    layers = []
    for _ in range(draw(st.integers(1, 4))):
        kernel_size = draw(st.integers(1, 5))
        padding = draw(st.integers(0, 3)) if with_padding else 0
        if draw(st.booleans()):
            layers.append(
                Conv(draw(st.integers(1, 3)), kernel_size, draw(st.integers(1, 3)), padding, draw(st.integers(1, 3)))
            )
        else:
            stride = draw(st.none() | st.integers(1, 3))
            ceil_mode = draw(st.booleans()) if with_padding else False
            layers.append(Pool(kernel_size, stride, padding, draw(st.sampled_from(pools)), ceil_mode))
    if head and draw(st.booleans()):
        layers += [Flatten(), *(Dense(draw(st.integers(1, 8))) for _ in range(draw(st.integers(0, 2))))]
    return layers


def torch_layer(layer, channels: int, features: int) -> nn.Module:
    if isinstance(layer, Conv):
        return nn.Conv2d(channels, layer.out_channels, layer.kernel_size, layer.stride, layer.padding, layer.dilation)
    if isinstance(layer, Pool):
        pool = nn.MaxPool2d if layer.kind == "max" else nn.AvgPool2d
        return pool(layer.kernel_size, layer.stride, layer.padding, ceil_mode=layer.ceil_mode)
    if isinstance(layer, Flatten):
        return nn.Flatten()
    return nn.Linear(features, layer.out_features)


@PROPERTY
@given(st.integers(1, 3), st.integers(1, 20), st.integers(1, 20), layer_stacks())
def test_trace_layers_shapes_and_parameters_are_torchs(channels, height, width, layers):
    x = torch.zeros(1, channels, height, width)
    expected = []
    with torch.no_grad():
        for layer in layers:
            module = torch_layer(layer, x.shape[1], x.shape[-1])
            try:
                x = module(x)
            except RuntimeError:
                refused(arithmetic.trace_layers, (channels, height, width), layers)
                return
            if 0 in x.shape:
                refused(arithmetic.trace_layers, (channels, height, width), layers)
                return
            expected.append((tuple(x.shape[1:]), sum(p.numel() for p in module.parameters())))
    rows = arithmetic.trace_layers((channels, height, width), layers)
    assert [(row.shape, row.params) for row in rows] == expected


@PROPERTY
@given(st.integers(8, 40), layer_stacks(with_padding=False, pools=("avg",), head=False))
def test_trace_layers_receptive_field_and_jump_match_autograd(size, layers):
    """With positive weights and average pooling, the gradient of one output pixel is non-zero
    exactly on the input pixels it sees (dilated taps leave gaps, so measure the extent)."""
    try:
        rows = arithmetic.trace_layers((1, size, size), layers)
    except ValueError:
        return
    x = torch.ones(1, 1, size, size, requires_grad=True)
    out = x
    for layer in layers:
        module = torch_layer(layer, out.shape[1], 0)
        if isinstance(module, nn.Conv2d):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
        out = module(out)
    starts = []
    for position in range(min(2, out.shape[2])):
        (grad,) = torch.autograd.grad(out[0, 0, position, 0], x, retain_graph=True)
        seen_rows = torch.nonzero(grad[0, 0].abs().sum(dim=1)).flatten()
        assert seen_rows[-1] - seen_rows[0] + 1 == rows[-1].receptive_field
        starts.append(int(seen_rows[0]))
    event("compared with autograd")
    if len(starts) == 2:
        assert starts[1] - starts[0] == rows[-1].jump


@given(st.sampled_from([[Dense(4)], [Flatten(), Conv(2, 3)], [Conv(0, 3)], [Flatten(), Dense(0)], [Pool(3, 1, 2)]]))
def test_trace_layers_refuses_impossible_stacks(layers):
    error = refused(arithmetic.trace_layers, (1, 8, 8), layers)
    assert str(error).startswith("Layer ")


# --- Convolution values ---------------------------------------------------------------------

NUMPY_PADDING = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def direct_sum(x, weight, bias, stride, padding, dilation, padding_mode, flip, groups=1):
    """Convolution by its definition. x (C, H, W), weight (O, C/groups, kh, kw) -> (O, H', W')."""
    padded = np.pad(x, ((0, 0), (padding, padding), (padding, padding)), mode=NUMPY_PADDING[padding_mode])
    if flip:
        weight = weight[:, :, ::-1, ::-1]
    outputs, per_group, kh, kw = weight.shape
    span_h, span_w = dilation * (kh - 1) + 1, dilation * (kw - 1) + 1
    out_h = (padded.shape[1] - span_h) // stride + 1
    out_w = (padded.shape[2] - span_w) // stride + 1
    out = np.zeros((outputs, out_h, out_w))
    for o in range(outputs):
        group = o // (outputs // groups)
        inputs = padded[group * per_group : (group + 1) * per_group]
        for i in range(out_h):
            for j in range(out_w):
                r, c = i * stride, j * stride
                window = inputs[:, r : r + span_h : dilation, c : c + span_w : dilation]
                out[o, i, j] = (window * weight[o]).sum() + bias[o]
    return out


def torch_accepts(x, weight, stride, padding, dilation, padding_mode, groups=1) -> bool:
    """Whether nn.Conv2d runs these settings (torch's own padding modes, not the engine's)."""
    layer = nn.Conv2d(
        x.shape[0], weight.shape[0], weight.shape[2:], stride, padding, dilation, groups, padding_mode=padding_mode
    )
    try:
        with torch.no_grad():
            accepted = 0 not in layer(torch.as_tensor(x, dtype=torch.float32)[None]).shape
    except RuntimeError:
        return False
    if accepted:
        event("compared with the definition")
    return accepted


@st.composite
def conv_settings(draw):
    return {
        "stride": draw(st.integers(1, 4)),
        "padding": draw(st.integers(0, 5)),
        "dilation": draw(st.integers(1, 3)),
        "padding_mode": draw(padding_modes),
        "flip": draw(st.booleans()),
    }


def arrays(shape, seed):
    return np.random.default_rng(seed).uniform(-2, 2, shape)


def conv_calls(grid: np.ndarray, kernel: np.ndarray, **options):
    """Every engine function that takes convolution settings, on one (H, W) grid and (kh, kw) kernel."""
    stride, padding, dilation = options["stride"], options["padding"], options["dilation"]
    return {
        "check_settings": partial(convolution.check_settings, *grid.shape, kernel.shape, stride, padding, dilation),
        "conv2d": partial(
            convolution.conv2d, torch.as_tensor(grid)[None, None], torch.as_tensor(kernel)[None, None], **options
        ),
        "convolve_image": partial(convolution.convolve_image, np.stack([grid] * 3, axis=-1), kernel, **options),
        "conv_step": partial(convolution.conv_step, grid, kernel, 0, 0, **options),
        "im2col": partial(convolution.im2col, grid, kernel.shape, stride, padding, dilation),
        "conv_as_matmul": partial(
            convolution.conv_as_matmul,
            grid,
            kernel,
            stride,
            padding,
            dilation,
            padding_mode=options["padding_mode"],
            flip=options["flip"],
        ),
    }


@PROPERTY
@given(st.sampled_from(["stride", "padding", "dilation", "padding_mode"]), st.integers(-3, 0), conv_settings())
def test_out_of_range_convolution_settings_are_refused_everywhere(broken, value, options):
    if broken == "padding_mode":
        options["padding_mode"] = "mirror"
    else:
        options[broken] = value - (broken == "padding")  # padding from -1 down, the others from 0 down
    for name, call in conv_calls(np.ones((6, 6)), np.ones((3, 3)), **options).items():
        if broken == "padding_mode" and name in ("im2col", "check_settings"):
            continue  # zeros only / the mode is a separate argument
        refused(call)


@PROPERTY
@given(
    st.integers(1, 3),
    st.integers(1, 9),
    st.integers(1, 9),
    st.integers(1, 5),
    st.integers(1, 5),
    st.booleans(),
    conv_settings(),
    st.integers(0, 2**16),
)
def test_conv2d_is_the_definition(channels, height, width, kh, kw, depthwise, options, seed):
    groups = channels if depthwise else 1
    outputs = groups * 2
    x = arrays((channels, height, width), seed)
    weight = arrays((outputs, channels // groups, kh, kw), seed + 1)
    bias = arrays((outputs,), seed + 2)
    call = partial(
        convolution.conv2d,
        torch.as_tensor(x)[None],
        torch.as_tensor(weight),
        torch.as_tensor(bias),
        groups=groups,
        **options,
    )
    stride, padding, dilation, mode = (options[k] for k in ("stride", "padding", "dilation", "padding_mode"))
    if not torch_accepts(x, weight, stride, padding, dilation, mode, groups):
        refused(call)
        return
    expected = direct_sum(x, weight, bias, stride, padding, dilation, mode, options["flip"], groups)
    np.testing.assert_allclose(call()[0].numpy(), expected, rtol=1e-10, atol=1e-10)


@PROPERTY
@given(
    st.integers(1, 9),
    st.integers(1, 9),
    st.integers(1, 4),
    st.integers(1, 4),
    st.sampled_from(convolution.CHANNEL_MODES),
    conv_settings(),
    st.floats(-2, 2),
    st.integers(0, 2**16),
)
def test_convolve_image_is_the_definition(height, width, kh, kw, channel_mode, options, bias, seed):
    image = np.random.default_rng(seed).uniform(0, 1, (height, width, 3))
    kernel = arrays((kh, kw), seed + 1)
    call = partial(convolution.convolve_image, image, kernel, channel_mode, bias=bias, **options)
    stride, padding, dilation, mode = (options[k] for k in ("stride", "padding", "dilation", "padding_mode"))
    channels = image.transpose(2, 0, 1)  # (3, H, W)
    single = kernel[None, None]  # (1, 1, kh, kw)
    if not torch_accepts(channels[:1], single, stride, padding, dilation, mode):
        refused(call)
        return
    definition = partial(
        direct_sum, stride=stride, padding=padding, dilation=dilation, padding_mode=mode, flip=options["flip"]
    )
    if channel_mode == "gray":
        gray = (channels * np.array(convolution.LUMA_WEIGHTS)[:, None, None]).sum(axis=0, keepdims=True)
        expected = definition(gray, single, [bias])[0]
    elif channel_mode == "sum":  # one output channel over R, G and B
        expected = definition(channels, np.repeat(single, 3, axis=1), [bias])[0]
    else:
        expected = np.stack([definition(channel[None], single, [bias])[0] for channel in channels], axis=-1)
    result = call()
    assert result.dtype == np.float32
    np.testing.assert_allclose(result, expected, rtol=1e-4, atol=1e-4)


@given(st.sampled_from(["grey", "", "RGB", None]))
def test_convolve_image_refuses_an_unknown_channel_mode(channel_mode):
    refused(convolution.convolve_image, np.zeros((4, 4, 3)), np.ones((3, 3)), channel_mode)


@PROPERTY
@given(
    st.integers(1, 8),
    st.integers(1, 8),
    st.integers(1, 4),
    st.integers(1, 4),
    conv_settings(),
    st.integers(0, 2**16),
    st.data(),
)
def test_conv_step_is_one_cell_of_the_definition(height, width, kh, kw, options, seed, data):
    grid = np.random.default_rng(seed).integers(0, 10, (height, width)).astype(float)
    kernel = arrays((kh, kw), seed + 1)
    stride, padding, dilation, mode = (options[k] for k in ("stride", "padding", "dilation", "padding_mode"))
    if not torch_accepts(grid[None], kernel[None, None], stride, padding, dilation, mode):
        refused(convolution.conv_step, grid, kernel, 0, 0, **options)
        return
    expected = direct_sum(grid[None], kernel[None, None], [0.5], stride, padding, dilation, mode, options["flip"])[0]
    row = data.draw(st.integers(-1, expected.shape[0]), label="row")
    col = data.draw(st.integers(-1, expected.shape[1]), label="col")
    call = partial(convolution.conv_step, grid, kernel, row, col, bias=0.5, **options)
    if not (0 <= row < expected.shape[0] and 0 <= col < expected.shape[1]):
        assert "outside" in str(refused(call))
        return
    step = call()
    assert step.value == pytest.approx(expected[row, col], abs=1e-9)
    assert step.products.sum() + step.bias == pytest.approx(step.value, abs=1e-9)
    assert step.window.shape == step.kernel.shape == (kh, kw)


@PROPERTY
@given(
    st.integers(1, 3),
    st.integers(1, 8),
    st.integers(1, 8),
    st.integers(1, 4),
    st.integers(1, 4),
    conv_settings(),
    st.integers(0, 2**16),
)
def test_im2col_columns_are_the_windows(channels, height, width, kh, kw, options, seed):
    x = arrays((channels, height, width), seed)
    stride, padding, dilation = options["stride"], options["padding"], options["dilation"]
    if not torch_accepts(x, np.zeros((1, channels, kh, kw)), stride, padding, dilation, "zeros"):
        refused(convolution.im2col, x, (kh, kw), stride, padding, dilation)
        return
    columns = convolution.im2col(x, (kh, kw), stride, padding, dilation)
    padded = np.pad(x, ((0, 0), (padding, padding), (padding, padding)))
    out_w = (padded.shape[2] - dilation * (kw - 1) - 1) // stride + 1
    assert columns.shape[0] == channels * kh * kw
    for index in range(columns.shape[1]):
        r, c = (index // out_w) * stride, (index % out_w) * stride
        window = padded[:, r : r + dilation * (kh - 1) + 1 : dilation, c : c + dilation * (kw - 1) + 1 : dilation]
        np.testing.assert_array_equal(columns[:, index], window.ravel())


@PROPERTY
@given(st.integers(1, 8), st.integers(1, 8), st.integers(1, 4), st.integers(1, 4), conv_settings(), st.integers(0, 99))
def test_conv_as_matmul_is_the_definition(height, width, kh, kw, options, seed):
    grid = arrays((height, width), seed)
    kernel = arrays((kh, kw), seed + 1)
    stride, padding, dilation, mode = (options[k] for k in ("stride", "padding", "dilation", "padding_mode"))
    call = partial(
        convolution.conv_as_matmul, grid, kernel, stride, padding, dilation, padding_mode=mode, flip=options["flip"]
    )
    if not torch_accepts(grid[None], kernel[None, None], stride, padding, dilation, mode):
        refused(call)
        return
    kernel_row, columns, output = call()
    expected = direct_sum(grid[None], kernel[None, None], [0.0], stride, padding, dilation, mode, options["flip"])[0]
    np.testing.assert_allclose(output, expected, atol=1e-10)
    np.testing.assert_allclose((kernel_row @ columns).reshape(output.shape), output)


@PROPERTY
@given(
    st.integers(1, 12),
    st.integers(1, 12),
    st.integers(1, 7),
    st.integers(1, 7),
    st.integers(1, 4),
    st.integers(0, 10),
    st.integers(1, 8),
    padding_modes,
)
def test_suggested_settings_are_the_nearest_that_torch_accepts(height, width, kh, kw, stride, padding, dilation, mode):
    """What the page offers when a setting has no output: for padding and dilation the
    closest value (within the sliders' ranges) torch runs, for the mode the first one it runs."""
    grid, weight = np.zeros((1, height, width)), np.zeros((1, 1, kh, kw))
    current = {"padding": padding, "dilation": dilation, "padding_mode": mode}

    def accepts(**change) -> bool:
        settings = {**current, **change}
        return torch_accepts(grid, weight, stride, settings["padding"], settings["dilation"], settings["padding_mode"])

    suggestions = dict(
        convolution.suggest_valid_settings(
            height, width, (kh, kw), stride, padding, dilation, mode, max_padding=10, max_dilation=8
        )
    )
    if accepts():
        assert suggestions == {}
        return
    event("suggested")
    for name, low, high in (("padding", 0, 10), ("dilation", 1, 8)):
        by_distance = sorted(range(low, high + 1), key=lambda value, name=name: (abs(value - current[name]), value))
        nearest = next((value for value in by_distance if accepts(**{name: value})), None)
        assert suggestions.get(name) == nearest
    modes = [other for other in convolution.PADDING_MODES if other != mode and accepts(padding_mode=other)]
    assert suggestions.get("padding_mode") == (modes[0] if modes else None)


# --- Pooling --------------------------------------------------------------------------------

TORCH_POOL = {"max": F.max_pool2d, "avg": F.avg_pool2d}


@st.composite
def pool_settings(draw, kinds=("max", "avg")) -> PoolSettings:
    """Settings a slider could give, valid or not for a given map."""
    kernel = draw(st.integers(1, 5))
    return PoolSettings(
        kind=draw(st.sampled_from(kinds)),
        kernel_size=kernel,
        stride=draw(st.integers(1, 4)),
        padding=draw(st.integers(0, 3)),
        ceil_mode=draw(st.booleans()),
        count_include_pad=draw(st.booleans()),
    )


def torch_pool(x: torch.Tensor, settings: PoolSettings) -> torch.Tensor:
    args = (settings.kernel_size, settings.stride, settings.padding)
    if settings.kind == "max":
        return F.max_pool2d(x, *args, ceil_mode=settings.ceil_mode)
    return F.avg_pool2d(x, *args, ceil_mode=settings.ceil_mode, count_include_pad=settings.count_include_pad)


def distinct_map(height: int, width: int, seed: int) -> np.ndarray:
    """(H, W) values without ties, so every max-pooling window has one winner."""
    return np.random.default_rng(seed).permutation(height * width).reshape(height, width) / (height * width)


@PROPERTY
@given(st.integers(1, 8), st.integers(1, 8), pool_settings(), st.integers(0, 2**16))
def test_route_gradient_is_torchs_autograd(height, width, settings, seed):
    grid = distinct_map(height, width, seed)
    x = torch.tensor(grid[None, None], requires_grad=True)
    try:
        out = torch_pool(x, settings)
    except RuntimeError:
        refused(pooling.route_gradient, grid, settings, np.ones((1, 1)))
        return
    event("compared with torch")
    upstream = np.random.default_rng(seed + 1).integers(-3, 4, out.shape[-2:]).astype(float)
    (expected,) = torch.autograd.grad(out, x, grad_outputs=torch.as_tensor(upstream)[None, None])
    np.testing.assert_allclose(pooling.route_gradient(grid, settings, upstream), expected[0, 0].numpy(), atol=1e-12)
    np.testing.assert_allclose(pooling.pool_grid(grid, settings).output, out[0, 0].detach().numpy(), atol=1e-12)


@PROPERTY
@given(st.integers(1, 8), st.integers(1, 8), st.integers(1, 4), st.integers(1, 4), st.floats(1, 6), st.integers(0, 99))
def test_lp_pooling_is_torchs_on_non_negative_maps(height, width, kernel, stride, p, seed):
    """On values >= 0 and whole windows, Lp pooling is torch's lp_pool2d (which also takes signed
    values to the power p as they are, and scales partial windows: see tests/engine/test_pooling.py)."""
    grid = np.random.default_rng(seed).uniform(0.1, 1, (height, width))
    settings = PoolSettings("lp", kernel, stride, p=p)
    if kernel > min(height, width):
        refused(pooling.pool_map, grid, settings)
        return
    expected = F.lp_pool2d(torch.as_tensor(grid)[None, None], p, kernel, stride)[0, 0].numpy()
    np.testing.assert_allclose(pooling.pool_map(grid, settings), expected, rtol=1e-9)


out_of_range_pooling = st.one_of(
    st.builds(PoolSettings, kernel_size=st.integers(-3, 0)),
    st.builds(PoolSettings, stride=st.integers(-3, 0)),
    st.builds(PoolSettings, padding=st.integers(-3, -1)),
    st.builds(PoolSettings, kernel_size=st.integers(1, 5), padding=st.integers(3, 6)),  # more than half the kernel
    st.builds(PoolSettings, kind=st.sampled_from(["min", "median", "", "MAX"])),
    st.builds(
        PoolSettings,
        kind=st.just("lp"),
        p=st.floats(max_value=0.999) | st.floats(min_value=pooling.MAX_P + 0.001) | st.just(math.nan),
    ),
)


@PROPERTY
@given(out_of_range_pooling, st.integers(1, 8), st.integers(1, 8))
def test_out_of_range_pooling_settings_are_refused_everywhere(settings, height, width):
    grid = np.ones((height, width))
    refused(pooling.check_settings, height, width, settings)
    refused(pooling.pool_map, grid, settings)
    refused(pooling.pool_grid, grid, settings)
    refused(pooling.route_gradient, grid, settings, np.ones((1, 1)))


@PROPERTY
@given(st.integers(1, 6), st.integers(1, 6), pool_settings(("max", "avg", "lp")), st.sampled_from([math.nan, math.inf]))
def test_a_map_with_nan_or_infinity_is_refused(height, width, settings, bad):
    grid = np.ones((height, width))
    grid[height // 2, width // 2] = bad
    assert "finite" in str(refused(pooling.pool_map, grid, settings))


@PROPERTY
@given(
    st.integers(1, 8),
    st.integers(1, 8),
    st.sampled_from(["max", "avg", "lp"]),
    st.integers(-2, 9),
    st.integers(-2, 5),
    st.integers(-2, 5),
    st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True),
)
def test_nearest_valid_pooling_settings_always_work(height, width, kind, kernel, stride, padding, ceil_mode, p):
    """The pooling page offers ``nearest_valid`` when settings have no output: it must have one."""
    asked = PoolSettings(kind, kernel, stride, padding, ceil_mode, p=p)
    fixed = pooling.nearest_valid(height, width, asked)
    output = pooling.pool_map(np.ones((height, width)), fixed)
    assert output.shape == pooling.check_settings(height, width, fixed)
    if kind != "lp":
        assert output.shape == torch_pool(torch.ones(1, 1, height, width), fixed).shape[-2:]
    if 1 <= kernel <= min(height, width) and stride >= 1 and 0 <= padding <= kernel // 2:
        assert (fixed.kernel_size, fixed.stride, fixed.padding) == (kernel, stride, padding), "valid settings stay"


# --- Kernels typed by hand ------------------------------------------------------------------

numbers = st.one_of(
    st.integers(-1000, 1000),
    st.floats(-1e6, 1e6, allow_nan=False),
    st.fractions(min_value=-(10**6), max_value=10**6, max_denominator=50),
)


def as_typed(value) -> st.SearchStrategy:
    """How a number may arrive from the grid editor: as it is, or typed as text."""
    if isinstance(value, Fraction):
        return st.sampled_from([f"{value.numerator}/{value.denominator}", f" {value.numerator} / {value.denominator} "])
    return st.sampled_from([value, str(value), f"  {value}  "])


@PROPERTY
@given(st.integers(1, 7), st.integers(1, 7), st.data())
def test_parse_kernel_reads_any_grid_of_numbers(rows, cols, data):
    values = [[data.draw(numbers) for _ in range(cols)] for _ in range(rows)]
    cells = [[data.draw(as_typed(value)) for value in row] for row in values]
    kernel = kernels.parse_kernel(cells)
    assert kernel.shape == (rows, cols) and kernel.dtype == np.float64
    np.testing.assert_allclose(kernel, np.array(values, dtype=float), rtol=1e-12)


anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**300, max_value=10**400),
    st.floats(),
    st.decimals(),
    st.fractions(),
    st.complex_numbers(),
    st.text(max_size=12),
    st.sampled_from(
        ["", " ", "nan", "-inf", "1e999", "1/0", "0/0", "1/2/3", "2e6", "1,5", "0x10", "½", "1/inf", "--1"]
    ),
    st.binary(max_size=4),
    st.lists(st.integers(), max_size=2),
)


@PROPERTY
@given(st.lists(st.lists(anything, max_size=9), max_size=9))
def test_parse_kernel_reads_or_refuses_anything(cells):
    try:
        kernel = kernels.parse_kernel(cells)
    except ValueError as error:
        assert str(error).strip()
        return
    event("read")
    assert 1 <= kernel.shape[0] <= 7 and 1 <= kernel.shape[1] <= 7
    assert np.isfinite(kernel).all() and (np.abs(kernel) <= kernels.MAX_KERNEL_VALUE).all()


@given(st.integers(1, 7), st.integers(1, 7), st.data())
def test_parse_kernel_names_the_first_bad_cell(rows, cols, data):
    bad_row, bad_col = data.draw(st.integers(0, rows - 1)), data.draw(st.integers(0, cols - 1))
    cells = [["1"] * cols for _ in range(rows)]
    cells[bad_row][bad_col] = data.draw(st.sampled_from(["", "x", "nan", "inf", "1/0", 10**400, "2e6", None]))
    error = refused(kernels.parse_kernel, cells)
    assert str(error).startswith(f"Row {bad_row + 1}, column {bad_col + 1} ")


@given(st.integers(1, 7), st.integers(2, 7), st.data())
def test_parse_kernel_refuses_ragged_grids(cols, rows, data):
    bad_row = data.draw(st.integers(1, rows - 1), label="bad row")  # row 1 sets the length
    lengths = [cols] * rows
    lengths[bad_row] = data.draw(st.integers(0, 9).filter(lambda length: length != cols), label="bad length")
    assert str(refused(kernels.parse_kernel, [["1"] * length for length in lengths])).startswith(f"Row {bad_row + 1} ")


extreme_weights = st.one_of(
    st.sampled_from([0.0, -0.0, kernels.MAX_KERNEL_VALUE, -kernels.MAX_KERNEL_VALUE, 1e-300, 5e-324]),
    st.floats(-kernels.MAX_KERNEL_VALUE, kernels.MAX_KERNEL_VALUE),
)


@PROPERTY
@given(st.integers(1, 7), st.integers(1, 7), st.sampled_from(convolution.CHANNEL_MODES), st.data())
def test_any_accepted_kernel_gives_a_finite_output_that_can_be_drawn(rows, cols, channel_mode, data):
    """The largest values a student may type, the tiniest and all zeros: the output stays finite,
    an all-zero kernel gives zeros, and the page's colouring of it works."""
    kernel = kernels.parse_kernel([[data.draw(extreme_weights) for _ in range(cols)] for _ in range(rows)])
    image = np.random.default_rng(rows * cols).uniform(0, 1, (8, 9, 3))  # room for a 7 x 7 kernel
    output = convolution.convolve_image(image, kernel, channel_mode)
    assert np.isfinite(output).all()
    if kernels.weight_sum(kernel)[0] == "all_zero":
        event("all zero")
        assert np.abs(output).max() <= 1e-6
    shown, scale = grids.map_to_image(output, white_at_least=1.0)
    assert shown.dtype == np.uint8 and math.isfinite(scale.low) and math.isfinite(scale.high)
