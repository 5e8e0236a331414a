"""The other way to see what a filter wants: the real pictures that excite it most.

A synthesized input shows what a channel responds to with nothing else in the way;
the strongest dataset patches show what that looks like in the data the network
learnt from. Each patch is the receptive field of the channel's strongest position:
the input pixels that one output value depends on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from cnnviz.optvis.render import layer_output

# Modules that act on each value (or each channel) alone: the receptive field passes through them unchanged.
_POINTWISE = (nn.ReLU, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Sigmoid, nn.Tanh, nn.Dropout, nn.Identity,
              nn.BatchNorm2d, nn.LocalResponseNorm)  # fmt: skip
_WINDOWED = (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)
#: Grey used for the parts of a patch that lie outside the picture (the layer saw padding there).
OUTSIDE = 128


@dataclass(frozen=True)
class ReceptiveField:
    """Where one output position of a layer looks in the input, along each axis.

    Output position ``p`` sees input pixels ``start + p * jump`` to ``start + p * jump + size - 1``
    (a negative start, or an end past the image, is padding).
    """

    size: int
    jump: int
    start: int

    def span(self, position: int) -> tuple[int, int]:
        """(first, last + 1) input pixel seen by output ``position``."""
        first = self.start + position * self.jump
        return first, first + self.size


def receptive_field(model: nn.Module, layer: str) -> ReceptiveField | None:
    """The receptive field of ``layer``'s outputs, for networks that are a chain of layers.

    The modules are walked in definition order up to ``layer``; each convolution or
    pooling window widens the field by ``(window - 1) * jump`` and multiplies the jump
    by its stride, and its padding moves the start back by ``padding * jump``.

    Returns:
        The field, or None when it cannot be read this way: a layer that is not a
        convolution, pooling or element-wise layer (a linear layer sees everything;
        branches such as ResNet shortcuts break the chain), or non-square windows.
    """
    size, jump, start = 1, 1, 0
    for name, module in model.named_modules():
        if any(module.children()):
            continue
        if isinstance(module, _WINDOWED):
            window, stride, padding, dilation = (_square(getattr(module, attr, 1)) for attr in ("kernel_size", "stride", "padding", "dilation"))  # fmt: skip
            if None in (window, stride, padding, dilation):
                return None
            span = dilation * (window - 1) + 1
            size, start, jump = size + (span - 1) * jump, start - padding * jump, jump * stride
        elif not isinstance(module, _POINTWISE):
            return None
        if name == layer:
            return ReceptiveField(size, jump, start)
    return None


def _square(value: int | tuple[int, ...] | str) -> int | None:
    if isinstance(value, str):  # padding="same" / "valid"
        return None
    if isinstance(value, tuple):
        return value[0] if len(set(value)) == 1 else None
    return int(value)


@dataclass(frozen=True)
class TopPatches:
    """The dataset images that excite one channel most, strongest first.

    Attributes:
        indices: (k,) int, which images.
        values: (k,) float, the channel's strongest value in each (its unit value for a linear layer).
        means: (N,) float, the channel's mean over each image of the whole set (what
            ``objectives.channel`` measures), for comparison with a synthesized input.
        positions: (k, 2) int, (row, col) of the strongest value in the layer's map; (-1, -1)
            for a linear layer.
        patches: k uint8 arrays (h, w[, 3]): the receptive field at that position cut from
            ``pixels`` (grey where it reaches past the picture), or the whole picture when the
            field is unknown or the layer is linear; empty if no ``pixels`` were given.
        field: the receptive field used, or None.
    """

    indices: np.ndarray
    values: np.ndarray
    means: np.ndarray
    positions: np.ndarray
    patches: tuple[np.ndarray, ...]
    field: ReceptiveField | None


def top_dataset_patches(
    model: nn.Module,
    layer: str,
    channel: int,
    images: torch.Tensor,
    pixels: np.ndarray | None = None,
    count: int = 6,
    batch_size: int = 128,
) -> TopPatches:
    """The images (and their patches) that activate one channel of a layer most.

    Args:
        model: in eval mode; not changed.
        layer: module name.
        channel: the channel (or unit) of that layer.
        images: (N, C, H, W), normalised as the network expects.
        pixels: (N, H, W[, 3]) uint8, the same pictures for display; patches are cut from them.
        count: how many to return (at most N).
        batch_size: images per forward pass.

    Returns:
        See ``TopPatches``.

    Raises:
        ValueError: for an unknown layer, a channel the layer lacks, or no images.
    """
    if len(images) == 0:
        raise ValueError("Give at least one image.")
    peaks, means, places = [], [], []
    map_shape: tuple[int, ...] = ()
    for first in range(0, len(images), batch_size):
        values = layer_output(model, layer, images[first : first + batch_size])
        if not 0 <= channel < values.shape[1]:
            raise ValueError(
                f"{layer} has {values.shape[1]} channels (0 to {values.shape[1] - 1}); there is no {channel}."
            )
        map_shape = tuple(values.shape[2:])  # (H', W'), or () for a linear layer
        values = values[:, channel].reshape(len(values), -1)  # (n, H' * W') or (n, 1)
        peak, place = values.max(dim=1)
        peaks.append(peak)
        means.append(values.mean(dim=1))
        places.append(place)
    peak, mean, place = torch.cat(peaks), torch.cat(means), torch.cat(places)
    order = torch.argsort(peak, descending=True, stable=True)[:count]
    spatial = len(map_shape) == 2
    if spatial:
        positions = torch.stack([place[order] // map_shape[1], place[order] % map_shape[1]], 1)
    else:
        positions = torch.full((len(order), 2), -1)
    field = receptive_field(model, layer) if spatial else None
    patches = ()
    if pixels is not None:
        patches = tuple(
            _cut(pixels[i], field, row, col) for i, (row, col) in zip(order.tolist(), positions.tolist(), strict=True)
        )
    return TopPatches(order.numpy(), peak[order].numpy(), mean.numpy(), positions.numpy(), patches, field)


def _cut(picture: np.ndarray, field: ReceptiveField | None, row: int, col: int) -> np.ndarray:
    """The receptive field at (row, col) cut from ``picture``, grey beyond its edges."""
    if field is None:
        return picture
    top, bottom = field.span(row)
    left, right = field.span(col)
    patch = np.full((bottom - top, right - left, *picture.shape[2:]), OUTSIDE, dtype=picture.dtype)
    height, width = picture.shape[:2]
    inside = picture[max(top, 0) : min(bottom, height), max(left, 0) : min(right, width)]
    patch[max(-top, 0) : max(-top, 0) + inside.shape[0], max(-left, 0) : max(-left, 0) + inside.shape[1]] = inside
    return patch


def shipped_dataset(channels: int, side: int) -> torch.Tensor:
    """Every picture the app ships of the data set a network of this kind learns from, the
    reference a synthesized input is compared with.

    Args:
        channels: 1: the 3,000 MNIST digits of ``assets/data/digits.npz`` (2,000 training,
            1,000 held out); 3: the 2,500 coloured shapes the Training page generates (seeded).
        side: the network's input side (digits are 28; shapes are made at ``side``).

    Returns:
        (N, C, side, side) uint8 (a quarter of the memory of floats: it is kept in a cache).
        Measured cost (one core, busy machine): digits 0.05 s; shapes 4 s to generate
        (2 ms a picture), 7 MB a 32 px side, 31 MB at 64 px.

    Raises:
        ValueError: for digits at another side, or channels other than 1 and 3.
    """
    from cnnviz import datasets  # the training lesson's data

    if channels == 1:
        data = datasets.digits()
        if data.images.shape[-1] != side:
            raise ValueError(f"The shipped digits are 28 x 28; this network takes {side} x {side}.")
    elif channels == 3:
        data = datasets.shape_images(side=side)
    else:
        raise ValueError(f"Networks here take 1 or 3 channels, not {channels}.")
    return (torch.cat([data.images, data.heldout_images]) * 255).round().to(torch.uint8)
