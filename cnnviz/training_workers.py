"""Training slices in worker processes, so that training never holds the server's interpreter.

A Streamlit server runs every session's script in a thread of one Python process. A training
slice run there shares the interpreter's lock with every student's slider: a small network's
step is mostly Python (autograd's bookkeeping, the optimizer), and the sliders' reruns wait for
it, whatever core is free (bench/RESULTS.md, issue 15). So the Training page trains each slice
in one of a few worker processes, one per heavy-job slot (``cnnviz.heavy_jobs``), each at a
lower CPU priority (``nice``) and one torch thread: a slice takes a core of its own, and yields
it to the server's reruns when they need it.

Between slices a run lives in the server (``TrainingRun``): its network, and where its training
stands (``TrainingSteps.position``: the optimizer's state, the shuffling), kept as the bytes a
worker wrote, which the server passes back and never reads. A slice sends both to a free
worker, which builds the network from its spec, trains until the slice's time is up and sends
both back, with the metrics of every step. Any worker can take any run's next slice, and a run goes on exactly as
in one process (tests/engine/test_training_workers.py). A worker keeps the last few data sets
it was sent, keyed by their content, and asks for one it does not have.

Both ways, messages are ``torch.save`` bytes read with ``torch.load(..., weights_only=True)``:
tensors, numbers, strings, lists and dicts, never pickled objects. A worker that dies (the
kernel's out-of-memory killer, a crash in native code) or stops answering ends its run with a
``WorkerFailed`` the page can say in the student's language; the server carries on and starts
a new worker for the next slice. Workers end with the server (at exit, or when their pipe to it
closes).

Only the standard library, torch and the engine: no Streamlit.
"""

from __future__ import annotations

import atexit
import collections
import dataclasses
import functools
import hashlib
import io
import logging
import multiprocessing
import os
import queue
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from cnnviz import netspec, training
from cnnviz.limits import Limits
from cnnviz.refusals import Refusal

log = logging.getLogger(__name__)

#: How much lower a worker's CPU priority is than the server's (``nice``: the server's reruns go first).
WORKER_NICE = 10
#: A worker silent this long after its slice should have ended is stopped (a step is bounded by
#: ``Limits.max_macs``, about a second of a core; this leaves room for a busy machine and the
#: worker's start, which imports torch).
GRACE_SECONDS = 120.0
#: How often the server looks at its student's Stop while a worker trains.
POLL_SECONDS = 0.05
#: Data sets a worker keeps (the shapes at 2,000 images are ~30 MB).
KEPT_DATA_SETS = 3


class WorkerFailed(Refusal):
    """A training slice's worker died, stopped answering, or failed; ``reason`` says which.

    ``training_worker_stopped``: the process ended or hung (values: ``step``, the steps the run
    keeps); ``training_worker_error``: the training raised (values: ``step``, ``error``, the
    exception's type; its message goes to the server's log only).
    """


@dataclass(frozen=True)
class SliceResult:
    """What one slice trained: the metrics of its steps, and the run's state after them."""

    metrics: list[training.StepMetrics]
    weights: dict[str, torch.Tensor]  # the network's ``state_dict()``
    dropout_states: list[torch.Tensor]  # of ``netspec.dropout_generators(network)``, in order
    position: bytes  # ``TrainingSteps.position()`` as the worker saved it: only a worker reads it


def data_key(data) -> str:
    """A ``LabelledImages``' name in a worker's cache: a digest of its tensors and class names."""
    digest = hashlib.blake2b(digest_size=16)
    for tensor in (data.images, data.labels, data.heldout_images, data.heldout_labels):
        digest.update(f"{tensor.dtype} {tuple(tensor.shape)};".encode())
        digest.update(memoryview(tensor.contiguous().numpy()).cast("B"))
    digest.update("\n".join(data.class_names).encode())
    return digest.hexdigest()


def _to_bytes(message: dict) -> bytes:
    buffer = io.BytesIO()
    torch.save(message, buffer)
    return buffer.getvalue()


def _from_bytes(payload: bytes) -> dict:
    # Tensors and plain values only: nothing in the message can run code when read.
    return torch.load(io.BytesIO(payload), weights_only=True)


# --- the worker process ----------------------------------------------------------------------------


def serve(connection, stop, nice: int, threads: int) -> None:
    """A worker process's loop: answer slices until the server's end of the pipe closes.

    Args:
        connection: this end of a ``multiprocessing.Pipe``.
        stop: a ``multiprocessing.Event``; set during a slice, the slice ends after its step.
        nice: added to the process's niceness (lower CPU priority).
        threads: torch threads per operation.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in the server's terminal: the server ends us
    os.nice(nice)
    torch.set_num_threads(threads)
    data_sets: collections.OrderedDict[str, dict] = collections.OrderedDict()
    while True:
        try:
            message = _from_bytes(connection.recv_bytes())
        except (EOFError, OSError):
            return  # the server is gone
        if message["kind"] == "data":
            data_sets[message["key"]] = message
            data_sets.move_to_end(message["key"])
            while len(data_sets) > KEPT_DATA_SETS:
                data_sets.popitem(last=False)
            continue
        try:
            position = connection.recv_bytes()  # the run's own frame: b"" before its first slice
        except (EOFError, OSError):
            return
        data = data_sets.get(message["data_key"])
        position_after = b""
        if data is None:
            reply = {"kind": "missing_data"}
        else:
            data_sets.move_to_end(message["data_key"])
            try:
                reply, position_after = _train_slice(message, _from_bytes(position) if position else None, data, stop)
            except Exception as error:  # the server says it; the worker stays up
                reply = {"kind": "error", "error": type(error).__name__, "message": str(error)}
        try:
            connection.send_bytes(_to_bytes(reply))
            connection.send_bytes(position_after)
        except (EOFError, OSError):
            return


def _train_slice(message: dict, position: dict | None, data: dict, stop) -> tuple[dict, bytes]:
    """In the worker: rebuild the run's network and training, train, and say where it stands
    (the reply, and the position as its own frame)."""
    layers = netspec.parse_spec(message["spec"])
    network = netspec.build_network(tuple(message["input_shape"]), layers, message["classes"])
    network.load_state_dict(message["weights"])
    for generator, state in zip(netspec.dropout_generators(network), message["dropout_states"], strict=True):
        generator.set_state(state)
    steps = training.TrainingSteps(
        network, data["images"], data["labels"], data["heldout_images"], data["heldout_labels"],
        training.TrainSettings(**message["settings"]), position,
    )  # fmt: skip
    metrics = []
    deadline = time.monotonic() + message["seconds"]  # training time, as in the server's own process
    while not steps.done and len(metrics) < message["max_steps"] and time.monotonic() < deadline:
        if metrics and stop.is_set():
            break
        metrics.append(list(dataclasses.astuple(steps.step())))
    reply = {
        "kind": "slice",
        "metrics": metrics,
        "weights": network.state_dict(),
        "dropout_states": [generator.get_state() for generator in netspec.dropout_generators(network)],
    }
    return reply, _to_bytes(steps.position())


# --- the server's side -----------------------------------------------------------------------------


class _Worker:
    """One worker process and the server's end of its pipe; started when first needed, and
    started again after it died."""

    def __init__(self, context, nice: int, threads: int) -> None:
        self._context, self._nice, self._threads = context, nice, threads
        self.process = None
        self._connection = None
        self._stop = context.Event()

    def start_if_needed(self) -> None:
        if self.process is not None and self.process.is_alive():
            return
        if self.process is not None:
            log.warning("Training worker %s had ended (exit code %s); starting another.", self.process.pid,
                        self.process.exitcode)  # fmt: skip
            self.kill()
        server_end, worker_end = self._context.Pipe()
        self.process = self._context.Process(
            target=serve, args=(worker_end, self._stop, self._nice, self._threads),
            name="cnnviz-training-worker", daemon=True,
        )  # fmt: skip
        self.process.start()
        worker_end.close()  # only the worker holds its end: its death reads as the pipe's end here
        self._connection = server_end

    def send(self, message: dict) -> None:
        self._connection.send_bytes(_to_bytes(message))

    def ask(self, message: dict, position: bytes, stop: Callable[[], bool] | None,
            timeout: float) -> tuple[dict, bytes]:  # fmt: skip
        """Send a slice and wait for the answer (and the run's position after it, as bytes), passing
        the student's Stop on to the worker.

        Raises:
            EOFError, OSError: the worker died. TimeoutError: it did not answer in ``timeout`` s.
        """
        self._stop.clear()
        self.send(message)
        self._connection.send_bytes(position)
        deadline = time.monotonic() + timeout
        while not self._connection.poll(POLL_SECONDS):  # waits without the interpreter's lock
            if stop is not None and not self._stop.is_set() and stop():
                self._stop.set()
            if time.monotonic() > deadline:
                raise TimeoutError(f"Training worker {self.process.pid} did not answer in {timeout:.0f} s.")
        reply = _from_bytes(self._connection.recv_bytes())
        return reply, self._connection.recv_bytes()

    def kill(self) -> None:
        """End the process now (a hung or dead worker, or the server's exit)."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        if self.process is not None:
            if self.process.is_alive():
                self.process.kill()
            self.process.join(timeout=5)
            self.process = None


class TrainingWorkers:
    """A few worker processes that train slices of ``TrainingRun``s; thread-safe.

    Args:
        count: worker processes (at most this many slices train at once; a slice asked for
            while all are busy waits for one).
        nice: how much lower the workers' CPU priority is than this process's.
        threads: torch threads per operation in a worker.
    """

    def __init__(self, count: int, nice: int = WORKER_NICE, threads: int = 1) -> None:
        if count < 1:
            raise ValueError(f"At least one training worker is needed, not {count}.")
        context = multiprocessing.get_context("spawn")  # never fork a process full of threads
        self._workers = [_Worker(context, nice, threads) for _ in range(count)]
        self._idle: queue.Queue[_Worker] = queue.Queue()
        for worker in self._workers:
            self._idle.put(worker)
        self._closed = False

    def data_key(self, data) -> str:
        """See ``data_key``: how a run names its data set to the workers."""
        return data_key(data)

    def pids(self) -> list[int]:
        """The running workers' process ids (tests stop one to see a crash reported)."""
        return [worker.process.pid for worker in self._workers if worker.process is not None]

    def train_slice(self, run, position: bytes | None, seconds: float, stop: Callable[[], bool] | None,
                    max_steps: int) -> SliceResult:  # fmt: skip
        """Train one slice of ``run`` in a free worker (``TrainingRun.advance`` calls this).

        Args:
            run: the ``TrainingRun`` (its network, spec, settings, data and ``data_key``).
            position: where its training stands, as a worker wrote it (None before its first slice).
            seconds, stop, max_steps: as ``TrainingRun.advance``.

        Raises:
            WorkerFailed: the worker died, hung or raised; the run's state is as before the slice.
        """
        if self._closed:
            raise RuntimeError("The training workers were closed.")
        message = {
            "kind": "slice", "data_key": run.data_key, "spec": run.spec,
            "input_shape": list(run.input_shape), "classes": len(run.class_names),
            "settings": dataclasses.asdict(run.settings), "weights": run.network.state_dict(),
            "dropout_states": [generator.get_state() for generator in netspec.dropout_generators(run.network)],
            "seconds": float(seconds), "max_steps": int(max_steps),
        }  # fmt: skip
        steps = len(run.history)
        worker = self._idle.get()
        try:
            worker.start_if_needed()
            timeout = seconds + GRACE_SECONDS
            reply, position_after = worker.ask(message, position or b"", stop, timeout)
            if reply["kind"] == "missing_data":
                data = run.data
                worker.send(
                    {
                        "kind": "data",
                        "key": run.data_key,
                        "images": data.images.clone(),
                        "labels": data.labels.clone(),
                        "heldout_images": data.heldout_images.clone(),
                        "heldout_labels": data.heldout_labels.clone(),
                    }
                )  # fmt: skip  (clones: a view would send its whole base tensor)
                reply, position_after = worker.ask(message, position or b"", stop, timeout)
        except (EOFError, OSError, TimeoutError) as error:
            log.warning("Training worker failed during a slice of %r: %s", run.label, error or type(error).__name__)
            worker.kill()
            raise WorkerFailed(
                "training_worker_stopped",
                f"The process training this network stopped unexpectedly; the run keeps its {steps} steps.",
                step=steps,
            ) from error
        except BaseException:
            worker.kill()  # its answer may still come: a later slice must not read it
            raise
        finally:
            self._idle.put(worker)
        if reply["kind"] == "error":
            log.warning("Training %r raised in its worker: %s: %s", run.label, reply["error"], reply["message"])
            raise WorkerFailed(
                "training_worker_error",
                f"The training stopped with an error ({reply['error']}) after step {steps}.",
                step=steps, error=reply["error"],
            )  # fmt: skip
        return SliceResult(
            [training.StepMetrics(*row) for row in reply["metrics"]],
            reply["weights"], reply["dropout_states"], position_after,
        )  # fmt: skip

    def close(self) -> None:
        """End every worker (at the server's exit)."""
        self._closed = True
        for worker in self._workers:
            worker.kill()


_shared_lock = threading.Lock()


@functools.cache
def _make_shared() -> TrainingWorkers:
    workers = TrainingWorkers(Limits.from_environment().heavy_jobs)
    atexit.register(workers.close)
    return workers


def shared() -> TrainingWorkers:
    """The server's workers, one per heavy-job slot (``CNNVIZ_HEAVY_JOBS``)."""
    with _shared_lock:
        return _make_shared()
