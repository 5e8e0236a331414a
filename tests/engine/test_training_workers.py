"""Training slices in worker processes: the same run as in one process, stoppable, and a dead worker is reported."""

import io
import math
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from cnnviz import datasets, netspec, training, training_workers
from tests.engine.test_netspec_training import SMALL, blobs

ROOT = Path(__file__).resolve().parents[2]
LENET_12 = "conv 6 k3 p1\nrelu\npool max 2\nconv 8 k3\nrelu\nflatten\ndense 20\ntanh\ndense 10"


@pytest.fixture(autouse=True)
def one_thread():
    """Workers run one torch thread per operation; so does the reference (sums in the same order)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def workers():
    pool = training_workers.TrainingWorkers(2)  # two: a run's slices go to both, each sees it anew
    yield pool
    pool.close()


def blob_data(count: int = 100, train: int = 64) -> datasets.LabelledImages:
    images, labels = blobs(count)
    return datasets.LabelledImages(images[:train], labels[:train], images[train:], labels[train:], tuple("0123456789"))


def new_run(data, spec: str, settings: training.TrainSettings, workers=None) -> training.TrainingRun:
    network = netspec.build_network(data.input_shape, netspec.parse_spec(spec), 10, seed=settings.seed)
    return training.TrainingRun("run", network, data, settings, spec, workers=workers)


def hand_written_training(network: torch.nn.Module, data, settings: training.TrainSettings) -> list[float]:
    """The reference: SGD with momentum on a cosine schedule, shuffled each epoch by the seed's
    generator, cross-entropy; written out without the engine. Returns each step's loss."""
    generator = torch.Generator().manual_seed(settings.seed)
    optimizer = torch.optim.SGD(network.parameters(), lr=settings.learning_rate, momentum=settings.momentum)
    count = len(data.images)
    total = math.ceil(count / settings.batch_size) * settings.epochs
    losses = []
    network.train()
    for _ in range(settings.epochs):
        order = torch.randperm(count, generator=generator)
        for start in range(0, count, settings.batch_size):
            batch = order[start : start + settings.batch_size]
            for group in optimizer.param_groups:
                group["lr"] = settings.learning_rate * 0.5 * (1 + math.cos(math.pi * len(losses) / total))
            loss = F.cross_entropy(network(data.images[batch]), data.labels[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return losses


def same_weights(first: torch.nn.Module, second: torch.nn.Module) -> bool:
    one, other = first.state_dict(), second.state_dict()
    return one.keys() == other.keys() and all(torch.equal(one[name], other[name]) for name in one)


def test_slices_in_workers_train_exactly_as_the_hand_written_loop(workers):
    """SGD's momentum, the shuffling and the dropout masks cross to the workers and back between slices."""
    data = blob_data()
    settings = training.TrainSettings(optimizer="sgd", learning_rate=0.05, batch_size=16, epochs=3, seed=4)
    run = new_run(data, SMALL, settings, workers)
    while not run.done:
        run.advance(60, max_steps=3)  # 3 steps a slice: slices end mid-epoch (4 steps an epoch) and across
    reference = netspec.build_network(data.input_shape, netspec.parse_spec(SMALL), 10, seed=4)
    losses = hand_written_training(reference, data, settings)
    assert [m.train_loss for m in run.history] == losses and len(losses) == 12
    assert same_weights(run.network, reference)
    (mine,), (theirs,) = netspec.dropout_generators(run.network), netspec.dropout_generators(reference)
    assert torch.equal(mine.get_state(), theirs.get_state())  # as many masks drawn, in the same order


@pytest.mark.parametrize("spec", [SMALL, LENET_12])
def test_a_run_in_workers_has_the_metrics_and_weights_of_the_same_run_in_one_process(workers, spec):
    """Adam's moments and the held-out measurements too."""
    data = blob_data()
    settings = training.TrainSettings(batch_size=8, epochs=2, seed=1, eval_every=3)
    alone, in_workers = new_run(data, spec, settings), new_run(data, spec, settings, workers)
    while not alone.done:
        alone.advance(60)
    slices = 0
    while not in_workers.done:
        in_workers.advance(60, max_steps=5)
        slices += 1
    assert slices == 4 and in_workers.failure is None
    assert in_workers.history == alone.history and len(alone.history) == 16
    assert same_weights(in_workers.network, alone.network)


@pytest.mark.parametrize("where", ["process", "workers"])
def test_a_stopped_slice_keeps_its_steps_and_the_run_goes_on_exactly(workers, where):
    data = blob_data(600, train=500)
    settings = training.TrainSettings(batch_size=4, epochs=4, seed=2)  # 500 steps
    run = new_run(data, SMALL, settings, workers if where == "workers" else None)
    asked = []
    taken = run.advance(600, stop=lambda: asked.append(1) or True)  # the student pressed Stop at once
    assert asked and 1 <= taken < run.total_steps and len(run.history) == taken and not run.done
    while not run.done:
        run.advance(60)
    alone = new_run(data, SMALL, settings)
    while not alone.done:
        alone.advance(60)
    assert run.history == alone.history and same_weights(run.network, alone.network)


def test_a_worker_that_dies_mid_slice_ends_its_run_with_a_reason_and_the_server_goes_on():
    pool = training_workers.TrainingWorkers(1)
    try:
        data = blob_data(600, train=500)
        run = new_run(data, SMALL, training.TrainSettings(batch_size=4, epochs=4), pool)
        run.advance(60, max_steps=2)
        weights = {name: tensor.clone() for name, tensor in run.network.state_dict().items()}
        (first_pid,) = pool.pids()

        def kill_the_worker() -> bool:  # as the kernel's out-of-memory killer would, mid-slice
            os.kill(first_pid, signal.SIGKILL)
            return False

        assert run.advance(600, stop=kill_the_worker) == 0
        assert run.done and isinstance(run.failure, training_workers.WorkerFailed)
        assert run.failure.reason == "training_worker_stopped" and run.failure.values == {"step": 2}
        assert len(run.history) == 2 and run.advance(1) == 0
        assert all(torch.equal(run.network.state_dict()[name], weights[name]) for name in weights)
        again = new_run(data, SMALL, training.TrainSettings(batch_size=4, epochs=1), pool)
        while not again.done:
            again.advance(60)
        assert again.failure is None and len(again.history) == 125
        assert pool.pids() != [first_pid]  # a new worker
    finally:
        pool.close()


def test_an_error_inside_the_worker_is_reported_and_the_worker_stays(workers):
    data = blob_data()
    settings = training.TrainSettings(batch_size=16, epochs=1)
    network = netspec.build_network(data.input_shape, netspec.parse_spec(SMALL), 10)
    # The worker builds the spec's network, whose weights are not these: loading them raises there.
    run = training.TrainingRun("run", network, data, settings, "flatten\ndense 10", workers=workers)
    pids = workers.pids()
    assert run.advance(60) == 0
    assert run.failure.reason == "training_worker_error"
    assert run.failure.values == {"step": 0, "error": "RuntimeError"}
    assert set(pids) <= set(workers.pids()) and not any(map(ended, workers.pids()))  # no worker was lost


def test_a_run_in_workers_needs_its_spec(workers):
    data = blob_data()
    network = netspec.build_network(data.input_shape, netspec.parse_spec(SMALL), 10)
    with pytest.raises(ValueError, match="needs its network's spec"):
        training.TrainingRun("run", network, data, training.TrainSettings(), workers=workers)


def test_messages_carry_tensors_and_numbers_but_never_run_pickled_code():
    message = {"weights": {"w": torch.ones(2)}, "metrics": [[1, 0.5, 0.25, 1.0, None]], "name": "x"}
    read = training_workers._from_bytes(training_workers._to_bytes(message))
    assert torch.equal(read["weights"]["w"], torch.ones(2)) and read["metrics"] == message["metrics"]
    buffer = io.BytesIO()
    torch.save({"evil": os.system}, buffer)
    with pytest.raises(pickle.UnpicklingError):
        training_workers._from_bytes(buffer.getvalue())


def test_data_sets_are_named_by_their_content():
    data = blob_data()
    same = datasets.LabelledImages(*(t.clone() for t in (data.images, data.labels, data.heldout_images,
                                                          data.heldout_labels)), data.class_names)  # fmt: skip
    assert training_workers.data_key(same) == training_workers.data_key(data)
    assert training_workers.data_key(data.subset(63, 36)) != training_workers.data_key(data)
    changed = data.images.clone()
    changed[0, 0, 0, 0] += 1
    other = datasets.LabelledImages(changed, data.labels, data.heldout_images, data.heldout_labels, data.class_names)
    assert training_workers.data_key(other) != training_workers.data_key(data)


SERVER = textwrap.dedent(
    """
    import sys
    from cnnviz import netspec, training, training_workers
    from tests.engine.test_training_workers import SMALL, blob_data, new_run
    workers = training_workers.shared()
    run = new_run(blob_data(), SMALL, training.TrainSettings(epochs=1), workers)
    run.advance(60)
    print(*workers.pids(), flush=True)
    sys.stdin.readline()  # the test has seen the worker: exit now
    """
)


def ended(pid: int) -> bool:
    """The process is gone, or a zombie (it ended; nobody has read its exit code)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in status


def wait_until_ended(pid: int, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while not ended(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    return ended(pid)


@pytest.mark.parametrize("how", ["exits", "is killed"])
def test_workers_end_with_their_server(how):
    server = subprocess.Popen([sys.executable, "-c", SERVER], cwd=ROOT, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        (pid,) = map(int, server.stdout.readline().split())
        assert not ended(pid)
        if how == "is killed":
            server.kill()  # no atexit: the worker sees its pipe to the server close
        else:
            server.stdin.write("\n")
            server.stdin.flush()
        assert server.wait(timeout=120) is not None
        assert wait_until_ended(pid)
    finally:
        server.kill()
        server.wait()
