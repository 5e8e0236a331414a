"""Networks the lessons look inside: definitions, trained weights, safe loading, inputs.

The API other modules use::

    from cnnviz import models

    network = models.load_bundled("digits")          # or "shapes"; sha256-checked
    images, labels = models.heldout_sample("digits")  # images it never trained on
    prepared = network.prepare(images[0], native=True)  # or any (H, W, 3) uint8 picture
    logits = network.model(prepared.tensor)           # (1, 10)
    network.manifest.class_names[int(logits.argmax())]

    found = models.find_imagenet_weights()            # {"resnet18": Path(...), ...}
    resnet = models.load_user_weights("resnet18", found["resnet18"])  # or the file's bytes
    mine = models.from_training("run 1", run.network, run.class_names, run.input_shape)  # a copy
    downloaded = models.load_user_weights("spec", data)  # a Training-page download (its spec inside)

Modules: ``architectures`` (the networks in PyTorch), ``shapes`` (the generated data
set), ``preprocess`` (picture -> tensor), ``weights`` (reading and checking files),
``networks`` (manifests and loaders), ``train`` (reproduces the bundled weights; needs
requirements-train.txt).
"""

from cnnviz.models.architectures import ARCHITECTURES, build
from cnnviz.models.networks import (
    BUNDLED,
    IMAGENET,
    USER_ARCHITECTURES,
    Manifest,
    Network,
    find_imagenet_weights,
    from_training,
    heldout_sample,
    imagenet_manifest,
    load_bundled,
    load_user_weights,
    sample_images,
)
from cnnviz.models.preprocess import PreparedInput
from cnnviz.models.weights import WeightsError

__all__ = [
    "ARCHITECTURES",
    "BUNDLED",
    "IMAGENET",
    "USER_ARCHITECTURES",
    "Manifest",
    "Network",
    "PreparedInput",
    "WeightsError",
    "build",
    "find_imagenet_weights",
    "from_training",
    "heldout_sample",
    "imagenet_manifest",
    "load_bundled",
    "load_user_weights",
    "sample_images",
]
