"""What a newcomer sees on the Training page: the default run on each data set, and the dropout
comparison, measured with the page's own settings and seeds.

    nice -n 10 python -m bench.training_defaults [--seeds 3]

Prints held-out accuracy, training accuracy measured the same way (eval mode, as many training
images as held-out ones) and the wall time of each run on one thread.
"""

from __future__ import annotations

import argparse
import time

import torch

from bench.common import table
from cnnviz import datasets, netspec, training

DEFAULT_SPEC = next(iter(netspec.PRESET_SPECS.values()))
DROPOUT_IMAGES = training.DROPOUT_COMPARISON_IMAGES
DROPOUT_EPOCHS = training.DROPOUT_COMPARISON_EPOCHS


def load(name: str) -> datasets.LabelledImages:
    return datasets.digits() if name == "digits" else datasets.shape_images()


def measure(data: datasets.LabelledImages, spec: str, settings: training.TrainSettings) -> tuple[float, float, float]:
    """(held-out accuracy, training accuracy measured alike, seconds) of one run, built like the page."""
    network = netspec.build_network(data.input_shape, netspec.parse_spec(spec), len(data.class_names), settings.seed)
    start = time.perf_counter()
    *_, last = training.train(network, data.images, data.labels, data.heldout_images, data.heldout_labels, settings)
    return last.heldout_accuracy, last.train_set_accuracy, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=3)
    seeds = range(parser.parse_args().seeds)
    torch.set_num_threads(1)
    rows = []
    for name in ("digits", "shapes"):
        data = load(name).subset(datasets.LARGEST_TRAIN_SIZE, datasets.HELDOUT_SIZE)
        for seed in seeds:
            heldout, train, seconds = measure(data, DEFAULT_SPEC, training.TrainSettings(seed=seed))
            rows.append((name, "defaults", seed, f"{train:.1%}", f"{heldout:.1%}", f"{train - heldout:+.1%}", seconds))
        small = load(name).subset(DROPOUT_IMAGES, datasets.HELDOUT_SIZE)
        for rate in (0.0, 0.5):
            spec = netspec.format_spec(netspec.with_dropout(netspec.parse_spec(DEFAULT_SPEC), rate))
            for seed in seeds:
                settings = training.TrainSettings(seed=seed, epochs=DROPOUT_EPOCHS)
                heldout, train, seconds = measure(small, spec, settings)
                rows.append(
                    (
                        name,
                        f"dropout {rate:g}",
                        seed,
                        f"{train:.1%}",
                        f"{heldout:.1%}",
                        f"{train - heldout:+.1%}",
                        seconds,
                    )
                )
    print(table(("data", "run", "seed", "training", "held-out", "gap", "seconds"), rows))


if __name__ == "__main__":
    main()
