"""Where a training slice takes a light lesson's time: the interpreter, a core, or the priority.

A light lesson's rerun is mostly Python on the server (issue 15). Here it is stood in for by
what the Activations lesson computes and draws for a slider move, without Streamlit: an
activation's curve and slope (torch) drawn as an SVG chart (``cnnviz.drawing.charts``). One
thread does it again and again (10 ms apart) for ``--seconds``, timing each, while the Training
page's default run (LeNet-5 on 2,000 digits) trains in 0.4 s slices:

- nobody training: the reference;
- in a thread of this process, as the server trained before: it shares the interpreter's lock;
- in a worker process at this process's priority (``TrainingWorkers(nice=0)``): it shares only
  the cores;
- in a worker process at a lower priority (``nice`` +10, what the server does).

The phases are interleaved over ``--rounds`` rounds, so a shared machine's changing load
spreads over all of them. Printed: each phase's reruns (median, p95, ratio to the reference's)
and the training's steps per second. Both processes here have one torch thread per operation,
as the app sets it.

Run: ``python -m bench.training_beside [--seconds 8] [--rounds 3]``
"""

from __future__ import annotations

import argparse
import sys
import threading
import time

import torch

from bench import common
from cnnviz import activations, datasets, netspec, training, training_workers
from cnnviz.drawing import charts

SLICE_SECONDS = 0.4  # as pages/training.py
PHASES = ("nobody training", "in a thread", "worker, same priority", "worker, nice +10")


def light_rerun(number: int) -> str:
    """One slider move on the Activations lesson, in the engine: a curve and its chart."""
    curve = activations.curve(("relu", "gelu", "tanh", "sigmoid", "elu")[number % 5], -6.0 + number % 3, 6.0)
    chart = charts.Chart(x_label="x", y_label="f(x)").line(curve.x, curve.y, "#1f77b4", "f")
    return chart.line(curve.x, curve.dy, "#ff7f0e", "f'").svg()


def new_run(workers: training_workers.TrainingWorkers | None) -> training.TrainingRun:
    data = datasets.digits().subset(datasets.LARGEST_TRAIN_SIZE, heldout=datasets.HELDOUT_SIZE)
    layers = netspec.parse_spec(netspec.PRESET_SPECS["LeNet-5 (digits)"])
    network = netspec.build_network(data.input_shape, layers, len(data.class_names))
    settings = training.TrainSettings(epochs=100)  # 3,200 steps: never ends during the benchmark
    return training.TrainingRun("bench", network, data, settings, netspec.format_spec(layers), workers=workers)


def phase(seconds: float, run: training.TrainingRun | None) -> tuple[list[float], int]:
    """(each light rerun's ms, training steps) while ``run`` trains in slices (None: nobody)."""
    stop, steps = threading.Event(), [0]

    def trainer() -> None:
        while not stop.is_set():
            steps[0] += run.advance(SLICE_SECONDS)

    thread = threading.Thread(target=trainer) if run is not None else None
    if thread is not None:
        thread.start()
        time.sleep(SLICE_SECONDS)  # a slice under way
    times, end, number = [], time.perf_counter() + seconds, 0
    while time.perf_counter() < end:
        started = time.perf_counter()
        light_rerun(number)
        times.append((time.perf_counter() - started) * 1e3)
        number += 1
        time.sleep(0.01)
    stop.set()
    if thread is not None:
        thread.join()
    return times, steps[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each phase")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # as app.py sets it (OMP_NUM_THREADS=1)
    same, lower = training_workers.TrainingWorkers(1, nice=0), training_workers.TrainingWorkers(1)
    try:
        runs = {"nobody training": None, "in a thread": new_run(None), "worker, same priority": new_run(same),
                "worker, nice +10": new_run(lower)}  # fmt: skip
        for run in runs.values():  # the first slice pays for starting a worker and the first evaluation
            if run is not None:
                run.advance(SLICE_SECONDS)
        for number in range(20):
            light_rerun(number)
        times: dict[str, list[float]] = {name: [] for name in PHASES}
        steps = dict.fromkeys(PHASES, 0)
        for _ in range(args.rounds):
            for name in PHASES:
                measured, trained = phase(args.seconds, runs[name])
                times[name] += measured
                steps[name] += trained
    finally:
        same.close()
        lower.close()
    reference = common.summary(times[PHASES[0]])
    rows = []
    for name in PHASES:
        stats = common.summary(times[name])
        rows.append([name, stats["n"], stats["median"], stats["p95"], stats["median"] / reference["median"],
                     stats["p95"] / reference["p95"], steps[name] / (args.seconds * args.rounds)])  # fmt: skip
    print(f"A light rerun beside a training slice: {args.rounds} rounds of {args.seconds:g} s per phase "
          f"({common.machine_line()})")  # fmt: skip
    print(common.table(["training", "reruns", "median ms", "p95 ms", "median / ref", "p95 / ref", "steps/s"], rows))
    common.record("training_beside", {"args": vars(args), "rows": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
