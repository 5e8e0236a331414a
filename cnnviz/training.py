"""Training a small classifier step by step, as a generator the page can pause and resume.

The output layer and loss are a choice, because the reference articles' claim is about
them: softmax + cross-entropy learns faster than sigmoid + mean squared error, whose
gradient carries a sigma'(z) factor that vanishes when a unit is confidently wrong.
Runs are seeded and repeat exactly: shuffling, dropout and initialization draw from the
run's own generators, never from the global one other sessions share.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

Output = Literal["softmax_ce", "sigmoid_mse", "sigmoid_bce"]
OUTPUTS: tuple[Output, ...] = ("softmax_ce", "sigmoid_mse", "sigmoid_bce")
Optimizer = Literal["sgd", "adam"]
Schedule = Literal["cosine", "constant"]
#: The "Dropout 0 vs 0.5" comparison: few images and many epochs, so that without dropout the
#: network fits its training images well past the held-out ones and the gap is there to narrow
#: (measured: bench/training_defaults.py, tests/engine/test_training_defaults.py).
DROPOUT_COMPARISON_IMAGES = 500
DROPOUT_COMPARISON_EPOCHS = 30


@dataclass(frozen=True)
class TrainSettings:
    """What a run is: each field is a control on the training page."""

    output: Output = "softmax_ce"
    optimizer: Optimizer = "adam"
    learning_rate: float = 0.003
    momentum: float = 0.9  # SGD only
    batch_size: int = 64
    epochs: int = 20
    seed: int = 0
    eval_every: int = 20  # steps between held-out evaluations (also after the first and the last)
    #: "cosine": the learning rate falls from ``learning_rate`` to 0 along half a cosine over the
    #: run (big steps early, small ones to settle at the end); "constant": it stays.
    schedule: Schedule = "cosine"

    def label(self) -> str:
        """A short name for the run in the comparison chart."""
        return f"{self.output} · {self.optimizer} lr={self.learning_rate:g} · bs={self.batch_size} · seed {self.seed}"


@dataclass(frozen=True)
class StepMetrics:
    """Metrics after one optimizer step; measured fields are None between evaluations.

    ``train_loss`` / ``train_accuracy`` are the step's own batch, as it was trained (dropout
    on): noisy, and lowered by dropout. To compare training with held-out accuracy, use
    ``train_set_*``: as many training images as held-out ones, measured the same way
    (eval mode, dropout off), at the same steps.
    """

    step: int
    epoch: float  # fractional: 1.5 = half-way through the second epoch
    train_loss: float
    train_accuracy: float
    heldout_loss: float | None = None
    heldout_accuracy: float | None = None
    train_set_loss: float | None = None
    train_set_accuracy: float | None = None


def output_loss(logits: torch.Tensor, labels: torch.Tensor, output: Output) -> torch.Tensor:
    """The loss of a batch for the chosen output layer.

    Args:
        logits: (N, K) raw scores z from the last dense layer.
        labels: (N,) class indices.
        output: ``softmax_ce`` (softmax then negative log-likelihood), ``sigmoid_mse``
            (sigmoid per class, squared error against one-hot targets) or ``sigmoid_bce``
            (sigmoid per class, binary cross-entropy against one-hot targets).

    Raises:
        ValueError: for an unknown output.
    """
    if output == "softmax_ce":
        return F.cross_entropy(logits, labels)
    targets = F.one_hot(labels, logits.shape[1]).to(logits.dtype)
    if output == "sigmoid_mse":
        return F.mse_loss(torch.sigmoid(logits), targets)
    if output == "sigmoid_bce":
        return F.binary_cross_entropy_with_logits(logits, targets)
    raise ValueError(f"Output must be one of {', '.join(OUTPUTS)}, not {output!r}.")


def probabilities(logits: torch.Tensor, output: Output) -> torch.Tensor:
    """What the network says per class: softmax, or independent sigmoids normalized to sum to 1."""
    if output == "softmax_ce":
        return logits.softmax(dim=1)
    scores = torch.sigmoid(logits)
    return scores / scores.sum(dim=1, keepdim=True)


def _optimizer(network: nn.Module, settings: TrainSettings) -> torch.optim.Optimizer:
    if settings.learning_rate <= 0:
        raise ValueError(f"The learning rate must be above 0, not {settings.learning_rate:g}.")
    if settings.optimizer == "sgd":
        return torch.optim.SGD(network.parameters(), lr=settings.learning_rate, momentum=settings.momentum)
    if settings.optimizer == "adam":
        return torch.optim.Adam(network.parameters(), lr=settings.learning_rate)
    raise ValueError(f'The optimizer must be "sgd" or "adam", not {settings.optimizer!r}.')


def learning_rate_at(step: int, total_steps: int, settings: TrainSettings) -> float:
    """The learning rate of step ``step`` (from 0) of ``total_steps``.

    Raises:
        ValueError: for an unknown schedule.
    """
    if settings.schedule == "constant":
        return settings.learning_rate
    if settings.schedule == "cosine":
        return settings.learning_rate * 0.5 * (1 + math.cos(math.pi * step / total_steps))
    raise ValueError(f'The schedule must be "cosine" or "constant", not {settings.schedule!r}.')


@torch.no_grad()
def evaluate(network: nn.Module, images: torch.Tensor, labels: torch.Tensor, output: Output) -> tuple[float, float]:
    """(loss, accuracy) of ``network`` on a labelled set, in eval mode; the mode is restored."""
    was_training = network.training
    network.eval()
    try:
        logits = network(images)
        return float(output_loss(logits, labels, output)), float((logits.argmax(1) == labels).float().mean())
    finally:
        network.train(was_training)


def train(
    network: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    heldout_images: torch.Tensor,
    heldout_labels: torch.Tensor,
    settings: TrainSettings,
) -> Iterator[StepMetrics]:
    """Train ``network`` in place, yielding metrics after every step.

    The caller owns the network: pass a fresh one (or a deep copy), never a model that
    other sessions share. Stop pulling from the generator to pause; pull again to resume.

    Args:
        network: maps (N, C, H, W) float images to (N, K) logits.
        images: (N, C, H, W) float training images, already normalized.
        labels: (N,) int64 classes.
        heldout_images, heldout_labels: the held-out set, evaluated after the first step,
            every ``settings.eval_every`` steps and after the last step, together with the
            first ``len(heldout_images)`` training images, measured the same way.
        settings: the run.

    Yields:
        ``StepMetrics`` per step.

    Raises:
        ValueError: for settings that cannot train (batch size, epochs, learning rate,
            unknown optimizer, schedule or output).
    """
    if settings.batch_size < 1 or settings.epochs < 1:
        raise ValueError("The batch size and the number of epochs must be at least 1.")
    optimizer = _optimizer(network, settings)
    learning_rate_at(0, 1, settings)  # an unknown schedule fails before the first step
    order_generator = torch.Generator().manual_seed(settings.seed)
    steps_per_epoch = -(-len(images) // settings.batch_size)
    total_steps = steps_per_epoch * settings.epochs
    # Training images measured like held-out ones: the same count, eval mode.
    seen_images, seen_labels = images[: len(heldout_images)], labels[: len(heldout_images)]
    network.train()
    step = 0
    for epoch in range(settings.epochs):
        order = torch.randperm(len(images), generator=order_generator)
        for start in range(0, len(images), settings.batch_size):
            batch = order[start : start + settings.batch_size]
            for group in optimizer.param_groups:
                group["lr"] = learning_rate_at(step, total_steps, settings)
            logits = network(images[batch])
            loss = output_loss(logits, labels[batch], settings.output)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            accuracy = float((logits.argmax(1) == labels[batch]).float().mean())
            measured = (None, None, None, None)
            if step == 1 or step % settings.eval_every == 0 or step == total_steps:
                measured = (
                    *evaluate(network, heldout_images, heldout_labels, settings.output),
                    *evaluate(network, seen_images, seen_labels, settings.output),
                )
            yield StepMetrics(step, epoch + (start + len(batch)) / len(images), loss.item(), accuracy, *measured)


def steps_to_accuracy(history: list[StepMetrics], target: float) -> int | None:
    """The first step whose held-out accuracy reached ``target``, or None if none did."""
    return next((m.step for m in history if m.heldout_accuracy is not None and m.heldout_accuracy >= target), None)


class TrainingRun:
    """One run of the training page: its network, its generator and what it has done so far.

    The page keeps these in the session; ``advance`` trains for a bounded time so the page
    can redraw between slices (and pausing is simply not calling it).
    """

    def __init__(self, label: str, network: nn.Module, data, settings: TrainSettings, spec: str = "") -> None:
        """Args: data: a ``cnnviz.datasets.LabelledImages``; the network is trained in place;
        spec: the network's text form (``cnnviz.netspec``), kept with the run."""
        self.label, self.network, self.settings, self.spec = label, network, settings, spec
        self.data = data  # its held-out examples are what the run's predictions are shown on
        self.class_names = data.class_names
        self.input_shape = data.input_shape
        self.history: list[StepMetrics] = []
        self.total_steps = -(-len(data.images) // settings.batch_size) * settings.epochs
        self._steps = train(network, data.images, data.labels, data.heldout_images, data.heldout_labels, settings)

    @property
    def done(self) -> bool:
        return len(self.history) >= self.total_steps

    def advance(self, seconds: float) -> int:
        """Train until ``seconds`` have passed or the run ends; returns the steps taken."""
        deadline = time.monotonic() + seconds
        taken = 0
        while not self.done and time.monotonic() < deadline:
            self.history.append(next(self._steps))
            taken += 1
        if self.done:
            self._steps.close()  # frees the optimizer's state (Adam: two tensors per weight); the weights stay
        return taken
