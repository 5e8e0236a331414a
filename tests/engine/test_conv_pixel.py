"""The arithmetic behind one clicked pixel of a convolved photo, against F.conv2d at that position."""

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnviz import conv_pixel
from cnnviz import convolution as conv

RNG = np.random.default_rng(3)
IMAGE = RNG.random((13, 11, 3)).astype(np.float32)  # (H, W, 3), as the page passes a photo: 0..1
KERNEL = RNG.normal(size=(3, 3))
GEOMETRIES = list(itertools.product([1, 2, 3], [0, 1, 3], [1, 2]))  # (stride, padding, dilation)


def torch_reference(image, kernel, channel_mode, stride, padding, dilation, padding_mode, flip, bias):
    """The whole output by torch's own layer: nn.Conv2d's padding modes, float64, one output channel per map."""
    pixels = torch.as_tensor(np.asarray(image, np.float64)).permute(2, 0, 1)[None]  # (1, 3, H, W)
    if channel_mode == "gray":
        pixels = (pixels * torch.tensor(conv.LUMA_WEIGHTS, dtype=torch.float64)[None, :, None, None]).sum(1, True)
    weight = torch.as_tensor(np.flip(kernel, (0, 1)).copy() if flip else kernel)[None, None]  # (1, 1, kh, kw)
    groups = 3 if channel_mode == "per_channel" else 1
    weight = weight.expand(groups, pixels.shape[1] // groups, -1, -1)
    layer = torch.nn.Conv2d(pixels.shape[1], groups, kernel.shape, stride, padding, dilation, groups, True,
                            padding_mode, dtype=torch.float64)  # fmt: skip
    with torch.no_grad():
        layer.weight.copy_(weight)
        layer.bias.fill_(bias)
        return layer(pixels)[0].numpy()  # (maps, H', W')


@pytest.mark.parametrize("padding_mode", conv.PADDING_MODES)
@pytest.mark.parametrize(("stride", "padding", "dilation"), GEOMETRIES)
def test_every_pixel_is_its_window_times_the_kernel_summed(padding_mode, stride, padding, dilation):
    for channel_mode, flip in (("gray", False), ("sum", True), ("per_channel", False)):
        expected = torch_reference(IMAGE, KERNEL, channel_mode, stride, padding, dilation, padding_mode, flip, 0.25)
        for channel, row, col in np.ndindex(*expected.shape):  # every pixel: corners, edges, inside
            step = conv_pixel.pixel_arithmetic(
                IMAGE, KERNEL, row, col, channel_mode, stride, padding, dilation, padding_mode, flip, 0.25,
                channel=channel,
            )  # fmt: skip
            assert step.value == pytest.approx(expected[channel, row, col], abs=1e-9)
            assert step.value == pytest.approx(step.products.sum() + 0.25, abs=1e-12)
            assert np.allclose(step.products, step.windows * step.kernel)


def test_the_window_is_read_from_the_padded_picture_the_page_shows():
    image = IMAGE[:7, :6]
    step = conv_pixel.pixel_arithmetic(image, KERNEL, 0, 2, "per_channel", 2, 2, 2, "reflect", channel=1)
    padded = conv.pad_grid(image[..., 1], 2, "reflect")
    assert np.array_equal(step.tap_rows, [0, 2, 4]) and np.array_equal(step.tap_cols, [4, 6, 8])
    assert np.allclose(step.windows[0], padded[np.ix_(step.tap_rows, step.tap_cols)])
    # Padded rows 0 and 1 are padding (mirrored rows 2 and 1); row 2 is input row 0.
    assert list(step.source_rows) == [2, 0, 2] and list(step.source_cols) == [2, 4, 4]
    assert list(step.in_padding[:, 0]) == [True, False, False]


def test_zero_padding_reads_zeros_and_has_no_source():
    step = conv_pixel.pixel_arithmetic(IMAGE, np.ones((3, 3)), 0, 0, "sum", padding=1)
    assert step.channels == ("r", "g", "b") and step.windows.shape == (3, 3, 3)
    assert list(step.source_rows) == [-1, 0, 1]
    assert np.all(step.windows[:, 0, :] == 0) and np.all(step.windows[:, :, 0] == 0)
    assert step.value == pytest.approx(IMAGE[:2, :2].astype(np.float64).sum())


def test_the_page_output_equals_the_clicked_arithmetic():
    out = conv.convolve_image(IMAGE, KERNEL, "sum", 2, 1, 1, "circular", True, -0.5)
    step = conv_pixel.pixel_arithmetic(IMAGE, KERNEL, 6, 0, "sum", 2, 1, 1, "circular", True, -0.5)
    assert step.value == pytest.approx(float(out[6, 0]), abs=1e-5)


def test_uint8_pixels_divided_as_the_page_divides_them():
    pixels = (IMAGE * 255).astype(np.uint8)
    out = conv.convolve_image(pixels.astype(np.float32) / 255, KERNEL, "gray", 1, 2, 1, "replicate")
    step = conv_pixel.pixel_arithmetic(pixels, KERNEL, 0, 12, "gray", 1, 2, 1, "replicate", divide_by=255)
    assert step.value == pytest.approx(float(out[0, 12]), abs=1e-5)
    assert step.windows.max() <= 1


def test_a_pixel_outside_the_output_is_refused():
    with pytest.raises(ValueError, match="outside"):
        conv_pixel.pixel_arithmetic(IMAGE, KERNEL, 11, 0)
    with pytest.raises(ValueError, match="channel"):
        conv_pixel.pixel_arithmetic(IMAGE, KERNEL, 0, 0, "per_channel", channel=3)


def test_source_index_matches_torch_padding_of_positions():
    positions = torch.arange(5, dtype=torch.float64)[None, None]
    for mode in ("reflect", "replicate", "circular"):
        padded = F.pad(positions, (3, 3), mode=mode)[0, 0].long().tolist()
        assert [conv_pixel.source_index(i, 5, 3, mode) for i in range(11)] == padded
    assert [conv_pixel.source_index(i, 5, 2, "zeros") for i in (0, 1, 2, 6, 8)] == [-1, -1, 0, 4, -1]
