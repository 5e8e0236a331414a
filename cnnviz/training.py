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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from cnnviz import netspec

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


def check_settings(settings: TrainSettings) -> None:
    """Refuse settings that cannot train, before anything is built (``train`` would, at its start).

    Raises:
        ValueError: for a batch size or number of epochs below 1, a learning rate not above 0,
            or an unknown optimizer, schedule or output.
    """
    if settings.batch_size < 1 or settings.epochs < 1:
        raise ValueError("The batch size and the number of epochs must be at least 1.")
    if settings.learning_rate <= 0:
        raise ValueError(f"The learning rate must be above 0, not {settings.learning_rate:g}.")
    if settings.optimizer not in ("sgd", "adam"):
        raise ValueError(f'The optimizer must be "sgd" or "adam", not {settings.optimizer!r}.')
    if settings.output not in OUTPUTS:
        raise ValueError(f"Output must be one of {', '.join(OUTPUTS)}, not {settings.output!r}.")
    learning_rate_at(0, 1, settings)  # an unknown schedule


def _optimizer(network: nn.Module, settings: TrainSettings) -> torch.optim.Optimizer:
    if settings.optimizer == "sgd":
        return torch.optim.SGD(network.parameters(), lr=settings.learning_rate, momentum=settings.momentum)
    return torch.optim.Adam(network.parameters(), lr=settings.learning_rate)


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
    steps = TrainingSteps(network, images, labels, heldout_images, heldout_labels, settings)
    while not steps.done:
        yield steps.step()


class TrainingSteps:
    """``train``'s loop, one step per call, whose place can be saved and resumed elsewhere.

    A run trained in a worker process (``cnnviz.training_workers``) crosses to it and back
    between slices: the network's weights (``network.state_dict()``) travel on their own,
    ``position()`` is the rest (the optimizer's state, the shuffling, the step). Resumed from
    it, the run goes on exactly as if it had never stopped.

    Args:
        network, images, labels, heldout_images, heldout_labels, settings: as ``train``.
        position: where to go on from (``position()`` of an earlier ``TrainingSteps`` of the
            same run, whose network's weights ``network`` now holds); None: the first step.

    Raises:
        ValueError: as ``train``.
    """

    def __init__(
        self,
        network: nn.Module,
        images: torch.Tensor,
        labels: torch.Tensor,
        heldout_images: torch.Tensor,
        heldout_labels: torch.Tensor,
        settings: TrainSettings,
        position: dict | None = None,
    ) -> None:
        check_settings(settings)
        self.network, self.settings = network, settings
        self.images, self.labels = images, labels
        self.heldout_images, self.heldout_labels = heldout_images, heldout_labels
        self.optimizer = _optimizer(network, settings)
        self.order_generator = torch.Generator().manual_seed(settings.seed)
        self.steps_per_epoch = -(-len(images) // settings.batch_size)
        self.total_steps = self.steps_per_epoch * settings.epochs
        self.step_count = 0
        self.order = torch.empty(0, dtype=torch.int64)  # (N,) this epoch's shuffle, drawn at its first step
        if position is not None:
            self.step_count = int(position["step"])
            self.order = position["order"]
            self.order_generator.set_state(position["order_generator"])
            self.optimizer.load_state_dict(position["optimizer"])
        network.train()

    @property
    def done(self) -> bool:
        return self.step_count >= self.total_steps

    def position(self) -> dict:
        """Where the run stands, besides the network's weights: tensors, numbers and strings only
        (so ``torch.load(..., weights_only=True)`` reads it back)."""
        return {
            "step": self.step_count,
            "order": self.order,
            "order_generator": self.order_generator.get_state(),
            "optimizer": self.optimizer.state_dict(),
        }

    def step(self) -> StepMetrics:
        """One optimizer step on the next batch, and its metrics."""
        epoch, batch_number = divmod(self.step_count, self.steps_per_epoch)
        if batch_number == 0:
            self.order = torch.randperm(len(self.images), generator=self.order_generator)
        start = batch_number * self.settings.batch_size
        batch = self.order[start : start + self.settings.batch_size]
        for group in self.optimizer.param_groups:
            group["lr"] = learning_rate_at(self.step_count, self.total_steps, self.settings)
        logits = self.network(self.images[batch])
        loss = output_loss(logits, self.labels[batch], self.settings.output)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.step_count += 1
        accuracy = float((logits.argmax(1) == self.labels[batch]).float().mean())
        measured = (None, None, None, None)
        step = self.step_count
        if step == 1 or step % self.settings.eval_every == 0 or step == self.total_steps:
            # Training images measured like held-out ones: the same count, eval mode.
            seen = len(self.heldout_images)
            measured = (
                *evaluate(self.network, self.heldout_images, self.heldout_labels, self.settings.output),
                *evaluate(self.network, self.images[:seen], self.labels[:seen], self.settings.output),
            )
        epoch_done = epoch + (start + len(batch)) / len(self.images)
        return StepMetrics(step, epoch_done, loss.item(), accuracy, *measured)


def steps_to_accuracy(history: list[StepMetrics], target: float) -> int | None:
    """The first step whose held-out accuracy reached ``target``, or None if none did."""
    return next((m.step for m in history if m.heldout_accuracy is not None and m.heldout_accuracy >= target), None)


class TrainingRun:
    """One run of the training page: its network, where its training stands and what it has done so far.

    The page keeps these in the session; ``advance`` trains for a bounded time so the page
    can redraw between slices (and pausing is simply not calling it). With ``workers``, each
    slice is trained in one of the server's worker processes (``cnnviz.training_workers``),
    and the run's network gets the new weights after it: a slice then takes a core of its
    own, at a lower priority, never the server's interpreter that every slider waits for.
    """

    def __init__(self, label: str, network: nn.Module, data, settings: TrainSettings, spec: str = "",
                 workers=None) -> None:  # fmt: skip
        """Args: data: a ``cnnviz.datasets.LabelledImages``; the network is trained in place;
        spec: the network's text form (``cnnviz.netspec``), kept with the run (a worker builds
        the network from it); workers: a ``cnnviz.training_workers.TrainingWorkers`` to train
        in, or None to train in this process.

        Raises:
            ValueError: for settings that cannot train (``check_settings``), or ``workers`` without a spec.
        """
        self.label, self.network, self.settings, self.spec = label, network, settings, spec
        self.data = data  # its held-out examples are what the run's predictions are shown on
        self.class_names = data.class_names
        self.input_shape = data.input_shape
        self.history: list[StepMetrics] = []
        self.total_steps = -(-len(data.images) // settings.batch_size) * settings.epochs
        #: Why the run stopped before its end (a ``cnnviz.refusals.Refusal``: its worker failed), else None.
        self.failure: Exception | None = None
        self.workers = workers
        if workers is not None and not spec:
            raise ValueError("A run trained in a worker process needs its network's spec.")
        # In this process: the steps themselves. In a worker: where the run stands between slices,
        # as the worker wrote it (``TrainingSteps.position()`` saved by torch; None before the
        # first slice); this process keeps it and never reads it. No optimizer is made here: the
        # first one made in a process imports torch's compiler (seconds of the interpreter).
        self._steps: TrainingSteps | None = None
        self._position: bytes | None = None
        if workers is None:
            self._steps = TrainingSteps(network, data.images, data.labels, data.heldout_images, data.heldout_labels,
                                        settings)  # fmt: skip
        else:
            check_settings(settings)
            self.data_key = workers.data_key(data)

    @property
    def done(self) -> bool:
        """Nothing more to train: every step is taken, or the run stopped on a failure."""
        return len(self.history) >= self.total_steps or self.failure is not None

    def advance(self, seconds: float, stop: Callable[[], bool] | None = None, max_steps: int | None = None) -> int:
        """Train until ``seconds`` have passed, ``stop()`` says so (asked between steps, or every
        few hundredths of a second while a worker trains), ``max_steps`` steps are taken, or the
        run ends. Returns the steps taken. A failed worker ends the run: ``failure`` says why,
        and the network keeps the weights of its last finished slice.
        """
        if self.done:
            return 0
        limit = self.total_steps - len(self.history) if max_steps is None else max_steps
        if self.workers is not None:
            taken = self._advance_in_worker(seconds, stop, limit)
        else:
            deadline = time.monotonic() + seconds
            taken = 0
            while not self._steps.done and taken < limit and time.monotonic() < deadline:
                if taken and stop is not None and stop():
                    break
                self.history.append(self._steps.step())
                taken += 1
        if self.done:
            # Frees the optimizer's state (Adam: two tensors per weight); the weights stay.
            self._steps = self._position = None
        return taken

    def _advance_in_worker(self, seconds: float, stop: Callable[[], bool] | None, limit: int) -> int:
        from cnnviz import training_workers  # it imports this module

        try:
            result = self.workers.train_slice(self, self._position, seconds, stop, limit)
        except training_workers.WorkerFailed as failure:
            self.failure = failure
            return 0
        self.network.load_state_dict(result.weights)
        for generator, state in zip(netspec.dropout_generators(self.network), result.dropout_states, strict=True):
            generator.set_state(state)
        self._position = result.position
        self.history.extend(result.metrics)
        return len(result.metrics)
