"""A newcomer who presses Start with the defaults sees a network learn (the page's defaults are
``TrainSettings()``, the first preset and the largest training set). The full runs of both data
sets, over three seeds, are in ``bench/training_defaults.py``; shapes are tested here on a
cheaper proxy (half the images, the default network and settings)."""

import pytest
import torch

from cnnviz import datasets, netspec, training

DEFAULT_SPEC = next(iter(netspec.PRESET_SPECS.values()))


def final(data: datasets.LabelledImages, spec: str, settings: training.TrainSettings) -> training.StepMetrics:
    network = netspec.build_network(data.input_shape, netspec.parse_spec(spec), len(data.class_names), settings.seed)
    *_, last = training.train(network, data.images, data.labels, data.heldout_images, data.heldout_labels, settings)
    return last


def test_digits_with_the_defaults_reach_95_percent_held_out():
    torch.set_num_threads(1)
    data = datasets.digits().subset(datasets.LARGEST_TRAIN_SIZE, datasets.HELDOUT_SIZE)
    assert final(data, DEFAULT_SPEC, training.TrainSettings()).heldout_accuracy >= 0.95  # 96.6 % measured


def test_shapes_with_the_default_network_and_settings_learn():
    # Chance is 10 %; the page's full default (2,000 images) ends at 83 % (bench/training_defaults.py).
    torch.set_num_threads(1)
    data = datasets.shape_images(train=1000, heldout=300)
    assert final(data, DEFAULT_SPEC, training.TrainSettings()).heldout_accuracy >= 0.7  # 72.7 % measured


def test_shape_images_train_on_as_many_as_asked():
    data = datasets.shape_images(train=30, heldout=20, side=16)
    assert data.images.shape == (30, 3, 16, 16) and data.heldout_images.shape == (20, 3, 16, 16)
    assert data.labels.tolist() == [i % 10 for i in range(30)]


def test_the_learning_rate_falls_along_half_a_cosine():
    settings = training.TrainSettings(learning_rate=0.2)
    rates = [training.learning_rate_at(step, 4, settings) for step in range(5)]
    assert rates == pytest.approx([0.2, 0.1 * (1 + 2**-0.5), 0.1, 0.1 * (1 - 2**-0.5), 0.0])
    constant = training.TrainSettings(learning_rate=0.2, schedule="constant")
    assert {training.learning_rate_at(step, 4, constant) for step in range(4)} == {0.2}
