"""The Convolution lesson's output computed independently: ``F.conv2d`` in float64, from the
definition of each channel mode (gray: BT.601 luma; per channel: groups = 3; sum: one output
channel reading R, G and B). Shared by the engine, page and browser tests."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def reference_output(pixels: np.ndarray, kernel, mode: str, stride=1, padding=0, dilation=1, padding_mode="zeros",
                     flip=False, bias=0.0) -> torch.Tensor:  # fmt: skip
    """The page's output for a uint8 photo, (C, H', W') float64 (C = 3 for R, G, B separately, else 1)."""
    rgb = torch.from_numpy(pixels.astype(np.float64) / 255).permute(2, 0, 1)  # (3, H, W)
    weight = torch.as_tensor(np.asarray(kernel, np.float64))
    weight = weight.flip(0, 1) if flip else weight
    if mode == "gray":
        x, weight, groups = (
            (rgb * torch.tensor([0.299, 0.587, 0.114], dtype=torch.float64)[:, None, None]).sum(0)[None, None],
            weight[None, None],
            1,
        )
    else:
        x, groups = rgb[None], 3 if mode == "per_channel" else 1
        weight = weight.expand(3, 1, *weight.shape) if mode == "per_channel" else weight.expand(1, 3, *weight.shape)
    if padding and padding_mode != "zeros":
        x, padding = F.pad(x, (padding,) * 4, mode=padding_mode), 0
    return F.conv2d(x, weight, None, stride, padding, dilation, groups)[0] + bias  # fmt: skip
