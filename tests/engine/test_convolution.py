"""The convolution engine against torch and against numbers worked out by hand."""

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnviz import convolution as conv
from cnnviz.arithmetic import conv_output_size
from cnnviz.drawing.grids import map_to_image

# A 4 x 4 input and an asymmetric 3 x 3 kernel, worked out on paper.
GRID = np.array([[1, 2, 0, 1], [0, 1, 3, 2], [2, 0, 1, 0], [1, 1, 0, 2]], dtype=float)
KERNEL = np.array([[1, 0, 2], [0, -1, 0], [3, 0, 0]], dtype=float)
# Cross-correlation (what CNN layers compute): out[i, j] = X[i, j] + 2 X[i, j+2] - X[i+1, j+1] + 3 X[i+2, j]
#   out[0, 0] = 1 + 2*0 - 1 + 3*2 = 6     out[0, 1] = 2 + 2*1 - 3 + 3*0 = 1
#   out[1, 0] = 0 + 2*3 - 0 + 3*1 = 9     out[1, 1] = 1 + 2*2 - 1 + 3*1 = 7
CROSS_CORRELATION = np.array([[6, 1], [9, 7]], dtype=float)
# True convolution slides the kernel rotated by 180 degrees, [[0, 0, 3], [0, -1, 0], [2, 0, 1]]:
#   out[i, j] = 3 X[i, j+2] - X[i+1, j+1] + 2 X[i+2, j] + X[i+2, j+2]
#   out[0, 0] = 3*0 - 1 + 2*2 + 1 = 4     out[0, 1] = 3*1 - 3 + 2*0 + 0 = 0
#   out[1, 0] = 3*3 - 0 + 2*1 + 0 = 11    out[1, 1] = 3*2 - 1 + 2*1 + 2 = 9
TRUE_CONVOLUTION = np.array([[4, 0], [11, 9]], dtype=float)

SETTINGS = list(itertools.product([1, 2, 3], [0, 1, 2], [1, 2]))  # (stride, padding, dilation)


def as_tensor(array: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(array, dtype=torch.float64)[None, None]  # (1, 1, H, W)


# --- conv2d against torch --------------------------------------------------------------------


@pytest.mark.parametrize(("stride", "padding", "dilation"), SETTINGS)
def test_conv2d_matches_torch(stride, padding, dilation):
    x = torch.randn(2, 3, 9, 11, dtype=torch.float64)
    weight = torch.randn(4, 3, 3, 2, dtype=torch.float64)
    bias = torch.randn(4, dtype=torch.float64)
    expected = F.conv2d(x, weight, bias, stride=stride, padding=padding, dilation=dilation)
    assert torch.allclose(conv.conv2d(x, weight, bias, stride, padding, dilation), expected)


@pytest.mark.parametrize("padding_mode", conv.PADDING_MODES)
@pytest.mark.parametrize(("stride", "padding", "dilation"), SETTINGS)
def test_padding_modes_match_nn_conv2d(padding_mode, stride, padding, dilation):
    layer = torch.nn.Conv2d(
        3, 2, 3, stride=stride, padding=padding, dilation=dilation, padding_mode=padding_mode, dtype=torch.float64
    )
    x = torch.randn(1, 3, 8, 7, dtype=torch.float64)
    with torch.no_grad():
        expected = layer(x)
        ours = conv.conv2d(x, layer.weight, layer.bias, stride, padding, dilation, padding_mode)
    assert ours.shape == expected.shape
    assert torch.allclose(ours, expected)


def test_groups_match_torch():
    x = torch.randn(1, 4, 6, 6, dtype=torch.float64)
    weight = torch.randn(4, 2, 3, 3, dtype=torch.float64)
    assert torch.allclose(conv.conv2d(x, weight, groups=2), F.conv2d(x, weight, groups=2))


def test_flip_is_torch_with_the_kernel_rotated():
    x = torch.randn(1, 1, 7, 7, dtype=torch.float64)
    weight = torch.randn(1, 1, 3, 3, dtype=torch.float64)
    expected = F.conv2d(x, torch.rot90(weight, 2, (-2, -1)), padding=1)
    assert torch.allclose(conv.conv2d(x, weight, padding=1, flip=True), expected)


def test_hand_worked_cross_correlation_and_true_convolution():
    x, weight = as_tensor(GRID), as_tensor(KERNEL)
    assert np.array_equal(conv.conv2d(x, weight)[0, 0].numpy(), CROSS_CORRELATION)
    assert np.array_equal(conv.conv2d(x, weight, flip=True)[0, 0].numpy(), TRUE_CONVOLUTION)
    # A 1 x 1 "image" in the kernel's middle: true convolution copies the kernel out as it is.
    impulse = np.zeros((5, 5))
    impulse[2, 2] = 1
    assert np.array_equal(conv.conv2d(as_tensor(impulse), weight, padding=1, flip=True)[0, 0, 1:4, 1:4], KERNEL)


# --- convolve_image: channels ----------------------------------------------------------------


@pytest.fixture
def image() -> np.ndarray:
    return np.random.default_rng(0).random((12, 10, 3)).astype(np.float32)


@pytest.mark.parametrize(("stride", "padding", "dilation"), SETTINGS)
def test_gray_is_luma_then_conv(image, stride, padding, dilation):
    kernel = np.random.default_rng(1).normal(size=(3, 3))
    gray = image @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    expected = F.conv2d(as_tensor(gray), as_tensor(kernel), stride=stride, padding=padding, dilation=dilation)
    out = conv.convolve_image(image, kernel, "gray", stride, padding, dilation)
    assert out.shape == expected.shape[2:]
    assert np.allclose(out, expected[0, 0].numpy(), atol=1e-5)


@pytest.mark.parametrize("padding_mode", conv.PADDING_MODES)
def test_per_channel_is_a_depthwise_conv(image, padding_mode):
    kernel = np.random.default_rng(2).normal(size=(3, 3))
    layer = torch.nn.Conv2d(3, 3, 3, padding=2, groups=3, bias=True, padding_mode=padding_mode)
    with torch.no_grad():
        layer.weight.copy_(torch.as_tensor(kernel).expand(3, 1, 3, 3))
        layer.bias.fill_(0.25)
        expected = layer(torch.from_numpy(image.transpose(2, 0, 1))[None])[0].numpy().transpose(1, 2, 0)
    out = conv.convolve_image(image, kernel, "per_channel", padding=2, padding_mode=padding_mode, bias=0.25)
    assert out.shape == expected.shape == (14, 12, 3)
    assert np.allclose(out, expected, atol=1e-5)


@pytest.mark.parametrize(("stride", "padding", "dilation"), SETTINGS)
def test_sum_is_a_conv_layer_with_one_output_channel(image, stride, padding, dilation):
    kernel = np.random.default_rng(3).normal(size=(3, 3))
    weight = torch.as_tensor(kernel, dtype=torch.float32).repeat(1, 3, 1, 1)  # (1, 3, 3, 3)
    x = torch.from_numpy(image.transpose(2, 0, 1))[None]
    expected = F.conv2d(x, weight, torch.tensor([-0.5]), stride=stride, padding=padding, dilation=dilation)
    out = conv.convolve_image(image, kernel, "sum", stride, padding, dilation, bias=-0.5)
    assert np.allclose(out, expected[0, 0].numpy(), atol=1e-5)


def test_sum_of_channels_is_the_sum_of_per_channel_outputs(image):
    kernel = np.random.default_rng(4).normal(size=(5, 5))
    per_channel = conv.convolve_image(image, kernel, "per_channel", padding=1, flip=True)
    assert np.allclose(conv.convolve_image(image, kernel, "sum", padding=1, flip=True), per_channel.sum(-1), atol=1e-5)


def test_a_gray_image_gives_one_map_in_every_mode():
    gray = np.random.default_rng(5).random((6, 6))
    for mode in conv.CHANNEL_MODES:
        assert conv.convolve_image(gray, np.ones((3, 3)), mode).shape == (4, 4)


def test_convolve_image_flip_on_the_hand_worked_example():
    assert np.array_equal(conv.convolve_image(GRID, KERNEL), CROSS_CORRELATION)
    assert np.array_equal(conv.convolve_image(GRID, KERNEL, flip=True), TRUE_CONVOLUTION)


# --- conv_step: one window at a time --------------------------------------------------------


def test_conv_step_on_the_hand_worked_example():
    step = conv.conv_step(GRID, KERNEL, 1, 0)
    assert np.array_equal(step.window, GRID[1:4, 0:3])
    assert np.array_equal(step.products, GRID[1:4, 0:3] * KERNEL)
    assert step.value == 9
    flipped = conv.conv_step(GRID, KERNEL, 1, 0, flip=True, bias=0.5)
    assert np.array_equal(flipped.kernel, KERNEL[::-1, ::-1])
    assert flipped.value == 11.5


@pytest.mark.parametrize("padding_mode", conv.PADDING_MODES)
@pytest.mark.parametrize(("stride", "padding", "dilation"), SETTINGS)
def test_every_step_is_a_cell_of_the_full_convolution(padding_mode, stride, padding, dilation):
    rng = np.random.default_rng(6)
    grid, kernel = rng.integers(0, 10, (7, 8)).astype(float), rng.integers(-2, 3, (3, 3)).astype(float)
    full = conv.convolve_image(grid, kernel, "gray", stride, padding, dilation, padding_mode, flip=True, bias=1.0)
    for row, col in np.ndindex(*full.shape):
        step = conv.conv_step(grid, kernel, row, col, stride, padding, dilation, padding_mode, flip=True, bias=1.0)
        assert step.value == pytest.approx(full[row, col], abs=1e-4)
        # Taps are dilation apart, starting stride * cell into the padded grid.
        assert list(step.tap_rows) == [row * stride + dilation * k for k in range(3)]
        assert list(step.tap_cols) == [col * stride + dilation * k for k in range(3)]


def test_pad_grid_shows_what_the_kernel_sees():
    grid = np.array([[1, 2], [3, 4]], dtype=float)
    assert np.array_equal(conv.pad_grid(grid, 1)[0], [0, 0, 0, 0])
    assert np.array_equal(conv.pad_grid(grid, 1, "replicate")[0], [1, 1, 2, 2])
    assert np.array_equal(conv.pad_grid(grid, 1, "reflect")[0], [4, 3, 4, 3])
    assert np.array_equal(conv.pad_grid(grid, 1, "circular")[0], [4, 3, 4, 3])
    assert np.array_equal(conv.pad_grid(grid, 1, "circular")[1], [2, 1, 2, 1])
    channels = np.stack([grid, 10 * grid], axis=-1)  # (2, 2, 2): each channel padded on its own
    padded = conv.pad_grid(channels, 1, "replicate")
    assert padded.shape == (4, 4, 2)
    assert np.array_equal(padded[..., 1], 10 * conv.pad_grid(grid, 1, "replicate"))


# --- im2col: the same convolution as one matrix product ---------------------------------------


def test_im2col_on_the_hand_worked_example():
    kernel_row, columns, output = conv.conv_as_matmul(GRID, KERNEL)
    assert columns.shape == (9, 4)
    assert np.array_equal(columns[:, 0], GRID[0:3, 0:3].ravel())
    assert np.array_equal(output, CROSS_CORRELATION)
    assert np.array_equal(conv.conv_as_matmul(GRID, KERNEL, flip=True)[2], TRUE_CONVOLUTION)
    assert np.array_equal(kernel_row, KERNEL.reshape(1, 9))


@pytest.mark.parametrize("padding_mode", conv.PADDING_MODES)
@pytest.mark.parametrize(("stride", "padding", "dilation"), SETTINGS)
def test_im2col_product_equals_the_convolution(padding_mode, stride, padding, dilation):
    rng = np.random.default_rng(7)
    grid, kernel = rng.integers(0, 10, (8, 7)).astype(float), rng.normal(size=(3, 2))
    kernel_row, columns, output = conv.conv_as_matmul(grid, kernel, stride, padding, dilation, padding_mode="zeros")
    expected = F.conv2d(as_tensor(grid), as_tensor(kernel), stride=stride, padding=padding, dilation=dilation)
    assert np.allclose(output, expected[0, 0].numpy())
    assert np.allclose((kernel_row @ columns).reshape(output.shape), output)
    _, _, moded = conv.conv_as_matmul(grid, kernel, stride, padding, dilation, padding_mode=padding_mode, flip=True)
    full = conv.convolve_image(grid, kernel, "gray", stride, padding, dilation, padding_mode, flip=True)
    assert np.allclose(moded, full, atol=1e-4)


def test_im2col_matches_unfold_for_channels():
    x = np.random.default_rng(8).random((2, 5, 5))
    expected = F.unfold(torch.from_numpy(x)[None], (2, 2), padding=1, stride=2)[0].numpy()
    assert np.allclose(conv.im2col(x, (2, 2), stride=2, padding=1), expected)


# --- impossible settings ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({"padding": 0, "dilation": 3}, "spans 7 pixels"),
        ({"stride": 0}, "stride must be at least 1"),
        ({"padding": -1}, "padding cannot be negative"),
        ({"dilation": 0}, "dilation must be at least 1"),
        ({"padding": 4, "padding_mode": "reflect"}, "Reflect padding"),
        ({"padding": 5, "padding_mode": "circular"}, "Circular padding"),
        ({"padding_mode": "mirror"}, "Padding mode must be one of"),
    ],
)
def test_impossible_settings_raise_value_error_everywhere(kwargs, says):
    grid, kernel = GRID, KERNEL
    settings_ = {"stride": 1, "padding": 0, "dilation": 1, "padding_mode": "zeros", **kwargs}
    calls = [
        lambda: conv.conv2d(as_tensor(grid), as_tensor(kernel), **settings_),
        lambda: conv.convolve_image(grid, kernel, "gray", **settings_),
        lambda: conv.conv_step(grid, kernel, 0, 0, **settings_),
        lambda: conv.conv_as_matmul(grid, kernel, **settings_),
    ]
    for call in calls:
        with pytest.raises(ValueError, match=says):
            call()


def test_other_invalid_arguments_raise_value_error():
    with pytest.raises(ValueError, match="Channel mode"):
        conv.convolve_image(GRID, KERNEL, "rgb")
    with pytest.raises(ValueError, match="outside the 2 x 2 output"):
        conv.conv_step(GRID, KERNEL, 2, 0)
    with pytest.raises(ValueError, match="outside"):
        conv.conv_step(GRID, KERNEL, 0, -1)
    with pytest.raises(ValueError, match="at least 1 cell"):
        conv.digit_grid(np.zeros((5, 8)), 0)


@settings(max_examples=300, deadline=None)
@given(
    height=st.integers(1, 7),
    width=st.integers(1, 7),
    kernel=st.integers(1, 5),
    stride=st.integers(0, 3),
    padding=st.integers(-1, 8),
    dilation=st.integers(0, 3),
    padding_mode=st.sampled_from(conv.PADDING_MODES),
)
def test_any_settings_either_match_torch_or_raise_value_error(
    height, width, kernel, stride, padding, dilation, padding_mode
):
    """Validation must catch everything torch would refuse, with a ValueError, never a RuntimeError."""
    x = torch.randn(1, 1, height, width, dtype=torch.float64)
    weight = torch.randn(1, 1, kernel, kernel, dtype=torch.float64)
    try:
        ours = conv.conv2d(x, weight, None, stride, padding, dilation, padding_mode)
    except ValueError:
        return
    layer = torch.nn.Conv2d(1, 1, kernel, stride, padding, dilation, bias=False, padding_mode=padding_mode)
    layer = layer.double()
    with torch.no_grad():
        layer.weight.copy_(weight)
        assert torch.allclose(ours, layer(x))
    assert ours.shape[-2:] == (
        conv_output_size(height, kernel, stride, padding, dilation),
        conv_output_size(width, kernel, stride, padding, dilation),
    )


# --- helpers for the pages -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings_", "expected"),
    [
        ((4, 4, (3, 3), 1, 0, 3, "zeros"), [("padding", 2), ("dilation", 1)]),
        ((4, 4, (3, 3), 1, 4, 1, "reflect"), [("padding", 3), ("padding_mode", "zeros")]),
        ((4, 4, (3, 3), 1, 0, 1, "zeros"), []),
    ],
)
def test_suggest_valid_settings(settings_, expected):
    assert conv.suggest_valid_settings(*settings_, max_padding=5, max_dilation=4) == expected


@given(
    size=st.integers(1, 8),
    kernel=st.integers(1, 7),
    padding=st.integers(0, 6),
    dilation=st.integers(1, 4),
    padding_mode=st.sampled_from(conv.PADDING_MODES),
)
def test_every_suggestion_is_valid(size, kernel, padding, dilation, padding_mode):
    args = (size, size, (kernel, kernel), 1, padding, dilation, padding_mode)
    for name, value in conv.suggest_valid_settings(*args, max_padding=6, max_dilation=4):
        changed = dict(zip(("stride", "padding", "dilation", "padding_mode"), args[3:], strict=True))
        changed[name] = value
        conv.check_settings(size, size, (kernel, kernel), **changed)  # no ValueError


def test_digit_grid_maps_darkest_to_0_and_brightest_to_9():
    gray = np.full((20, 30), 0.4)
    gray[:, 15:] = 0.6  # a low-contrast step; only the central 20 x 20 square is used
    assert np.array_equal(conv.digit_grid(gray, 4), [[0, 0, 9, 9]] * 4)
    ramp = conv.digit_grid(np.tile(np.linspace(0, 1, 40), (40, 1)), 5)
    assert ramp.dtype == np.int64 and ramp.min() == 0 and ramp.max() == 9
    assert (np.diff(ramp, axis=1) > 0).all() and (ramp == ramp[0]).all()
    assert np.array_equal(conv.digit_grid(np.ones((8, 8)), 4), np.zeros((4, 4)))


def test_digit_grid_repeats_the_pixels_of_an_image_smaller_than_the_grid():
    two_by_two = np.array([[0.0, 1.0], [1.0, 0.0]])
    assert np.array_equal(conv.digit_grid(two_by_two, 4), np.kron([[0, 9], [9, 0]], np.ones((2, 2))))
    assert np.array_equal(conv.digit_grid(np.ones((1, 1)), 6), np.zeros((6, 6)))


def test_random_grid_is_reproducible():
    assert np.array_equal(conv.random_grid(6, 3), conv.random_grid(6, 3))
    assert not np.array_equal(conv.random_grid(6, 3), conv.random_grid(6, 4))
    assert conv.random_grid(6, 3).min() >= 0 and conv.random_grid(6, 3).max() <= 9


@pytest.mark.parametrize(("size", "kernel", "stride", "padding", "dilation"), [(28, 5, 1, 0, 1), (300, 3, 2, 1, 2)])
def test_output_size_latex_fills_in_the_numbers(size, kernel, stride, padding, dilation):
    text = conv.output_size_latex(size, kernel, stride, padding, dilation)
    assert text.endswith(f"= {conv_output_size(size, kernel, stride, padding, dilation)}")
    assert f"\\frac{{{size} + 2\\cdot{padding} - {dilation}\\cdot({kernel}-1) - 1}}{{{stride}}}" in text


def test_output_size_latex_worked_example():
    assert conv.output_size_latex(28, 5, 1, 0, 1).endswith("= 23 + 1 = 24")
    assert conv.output_size_latex(300, 3, 2, 1, 2).endswith(r"= \left\lfloor 148.5 \right\rfloor + 1 = 149")


def test_output_image_colours_say_where_zero_is():
    image, scale = map_to_image(np.array([[-2.0, 0.0, 2.0]]))
    assert scale.colours == "diverging" and (scale.low, scale.high) == (-2, 2)
    assert image[0, 1].min() > 240  # zero is white
    assert image[0, 0, 2] > image[0, 0, 0] and image[0, 2, 0] > image[0, 2, 2]  # blue < 0 < red
    photo, scale = map_to_image(np.array([[0.0, 0.5, 1.0]]))
    assert scale.colours == "gray" and list(photo[0]) == [0, 128, 255]
    channels, scale = map_to_image(np.array([[[-1.0, 0.0, 1.0]]]))
    assert list(channels[0, 0]) == [0, 128, 255] and scale.low == -1


def test_a_few_extreme_values_do_not_wash_out_a_signed_map():
    values = np.linspace(-1, 1, 1000)
    values[0], values[-1] = -50, 50  # two strong edges
    image, scale = map_to_image(values.reshape(20, 50))
    assert scale.clipped and scale.high < 2  # the scale follows the bulk of the values
    assert image.reshape(-1, 3)[-1].tolist() == image.reshape(-1, 3)[-2].tolist()  # the extreme saturates
    photo, scale = map_to_image(np.full((2, 2), 0.5), white_at_least=1.0)
    assert scale.high == 1 and photo.max() == 128  # a half-bright image stays half bright
