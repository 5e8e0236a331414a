"""Ready-to-use networks: our trained ones from ``assets/models``, a known architecture with
a weight file the user already has (ImageNet classics, or our own retrained), and networks
trained on the Training page.

Every network comes as a ``Network``: the model (eval mode, gradients off, never to be
changed: it is shared by every user) plus its ``Manifest`` (architecture, input,
normalisation, class names, data set, held-out accuracy, how it was trained). A bundled
weight file is loaded only if its sha256 matches its manifest.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from torch import nn

from cnnviz import i18n, netspec
from cnnviz.models.architectures import SHOWN_LAYERS, build
from cnnviz.models.preprocess import PreparedInput, Preprocessing, prepare
from cnnviz.models.weights import WeightsError, load_weights, read_safetensors, read_state_dict, safetensors_metadata

MODELS_DIR = Path(__file__).resolve().parents[2] / "assets" / "models"

#: Our trained networks, by name (their files are ``assets/models/<name>.json`` etc.).
BUNDLED: tuple[str, ...] = ("digits", "shapes")

#: ImageNet architectures a user can bring weights for: name -> title.
IMAGENET: dict[str, str] = {"alexnet": "AlexNet", "vgg16": "VGG-16", "resnet18": "ResNet-18"}
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
#: Architectures a user can bring a weight file for: name -> title. Ours come with the
#: bundled network that uses them, whose manifest (classes, input) they share.
#: "spec" is a network downloaded from the Training page: the file names its layers.
USER_ARCHITECTURES: dict[str, str] = {
    **IMAGENET,
    "lenet5": "LeNet-5 (digits)",
    "tinyvgg": "TinyVGG (colour shapes)",
    "spec": "A network from the Training page",
}
_BUNDLED_BY_ARCHITECTURE = {"lenet5": "digits", "tinyvgg": "shapes"}
#: Where ImageNet weight files are looked for: this variable (a folder), then torch's own cache.
WEIGHTS_DIR_VARIABLE = "CNNVIZ_WEIGHTS_DIR"


@dataclass(frozen=True)
class Manifest:
    """Everything needed to use a weight file, stored beside it as JSON.

    Attributes:
        name: short name, e.g. "digits".
        title: display name, e.g. "LeNet-5 (MNIST digits)".
        architecture: a key of ``architectures.ARCHITECTURES`` ("spec" for a network
            built on the Training page).
        input_shape: (C, H, W) the network expects.
        preprocessing: the recipe from picture to tensor (see ``preprocess``).
        mean, std: per-channel normalisation.
        class_names: output classes, in order.
        dataset: where the training images came from.
        heldout_accuracy: accuracy on images never used for training (None if unknown).
        heldout_size: how many such images.
        weights: file name of the weights, in ``assets/models``.
        sha256: the weight file's SHA-256.
        training_command: how to reproduce the weights.
        sample: file name of the shipped held-out sample (.npz), "" if none.
        sample_accuracy: the network's accuracy on that sample.
        notes: anything else worth knowing (training settings, time taken).
    """

    name: str
    title: str
    architecture: str
    input_shape: tuple[int, int, int]
    preprocessing: Preprocessing
    mean: tuple[float, ...]
    std: tuple[float, ...]
    class_names: tuple[str, ...]
    dataset: str
    heldout_accuracy: float | None = None
    heldout_size: int = 0
    weights: str = ""
    sha256: str = ""
    training_command: str = ""
    sample: str = ""
    sample_accuracy: float | None = None
    notes: dict = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path) -> Manifest:
        """Read a manifest JSON file."""
        raw = json.loads(path.read_text(encoding="utf-8"))
        for key in ("input_shape", "mean", "std", "class_names"):
            raw[key] = tuple(raw[key])
        return cls(**raw)

    def write(self, path: Path) -> None:
        """Write the manifest as indented JSON."""
        path.write_text(json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


@dataclass(frozen=True)
class Network:
    """A model ready for inference with the facts needed to feed and read it.

    Attributes:
        model: eval mode, ``requires_grad`` off; shared, so never modify it.
        manifest: see ``Manifest``.
        shown_layers: the module names whose outputs the lessons show, or None for every
            module with a (C, H, W) output.
    """

    model: nn.Module
    manifest: Manifest
    shown_layers: tuple[str, ...] | None = None

    def prepare(self, pixels: np.ndarray, native: bool = False) -> PreparedInput:
        """The exact input tensor for ``pixels`` ((H, W, 3) or (H, W) uint8); see ``preprocess.prepare``."""
        m = self.manifest
        return prepare(pixels, m.preprocessing, m.input_shape, m.mean, m.std, native=native)


def load_bundled(name: str, models_dir: Path = MODELS_DIR) -> Network:
    """One of our trained networks (``BUNDLED``), its weights checked against the manifest's sha256.

    Raises:
        ValueError: for a name not in ``BUNDLED``.
        WeightsError: when the weight file is missing, damaged or replaced.
    """
    if name not in BUNDLED:
        raise ValueError(f"There is no bundled network called {name!r}; choose one of: {', '.join(BUNDLED)}.")
    manifest = Manifest.read(models_dir / f"{name}.json")
    state_dict = read_safetensors(models_dir / manifest.weights, manifest.sha256)
    model = build(manifest.architecture, len(manifest.class_names))
    return Network(load_weights(model, state_dict, manifest.title), manifest, SHOWN_LAYERS.get(manifest.architecture))


def heldout_sample(name: str, models_dir: Path = MODELS_DIR) -> tuple[np.ndarray, np.ndarray]:
    """The small held-out sample shipped with a bundled network: images it never trained on.

    Returns:
        images: (N, H, W) uint8 for gray networks, (N, H, W, 3) for colour ones, already in
            the network's input format (use ``Network.prepare(image, native=True)``).
        labels: (N,) int64 class indices.
    """
    return sample_images(Manifest.read(models_dir / f"{name}.json").sample, models_dir)


def sample_images(sample: str, models_dir: Path = MODELS_DIR) -> tuple[np.ndarray, np.ndarray]:
    """The held-out sample file named by a manifest's ``sample`` (see ``heldout_sample``)."""
    with np.load(models_dir / sample) as data:
        return data["images"], data["labels"].astype(np.int64)


def imagenet_manifest(architecture: str) -> Manifest:
    """The manifest of a torchvision ImageNet network (no file: the user brings the weights).

    Raises:
        ValueError: for an architecture not in ``IMAGENET``.
    """
    if architecture not in IMAGENET:
        raise ValueError(f"Unknown ImageNet network {architecture!r}; choose one of: {', '.join(IMAGENET)}.")
    return Manifest(
        name=architecture,
        title=IMAGENET[architecture],
        architecture=architecture,
        input_shape=(3, 224, 224),
        preprocessing="imagenet",
        mean=IMAGENET_MEAN,
        std=IMAGENET_STD,
        class_names=i18n.imagenet_class_names(),
        dataset="ImageNet (ILSVRC-2012), 1000 classes; weights supplied by the user",
    )


def load_user_weights(architecture: str, source: Path | bytes) -> Network:
    """A known architecture with the user's weights, e.g. torchvision's ``resnet18-f37072fd.pth``.

    Args:
        architecture: a key of ``USER_ARCHITECTURES``; "spec" for a file downloaded from the
            Training page, whose metadata names its layers, classes and input shape.
        source: the weight file's path, or its bytes (an upload): a ``torch.save``d
            state_dict (read with ``weights_only=True``) or a safetensors file.

    Raises:
        ValueError: for an unknown architecture.
        WeightsError: for a file that cannot be read safely or does not fit the
            architecture; the message names the mismatched weights.
    """
    if architecture not in USER_ARCHITECTURES:
        choices = ", ".join(USER_ARCHITECTURES)
        raise ValueError(f"Unknown architecture {architecture!r} for a weight file; choose one of: {choices}.")
    if architecture == "spec":
        return _from_training_file(source if isinstance(source, bytes) else source.read_bytes())
    if architecture in IMAGENET:
        manifest = imagenet_manifest(architecture)
    else:  # our own architecture, retrained by the user: same classes and input as ours
        ours = Manifest.read(MODELS_DIR / f"{_BUNDLED_BY_ARCHITECTURE[architecture]}.json")
        manifest = dataclasses.replace(
            ours, title=USER_ARCHITECTURES[architecture], heldout_accuracy=None, sha256="", sample_accuracy=None
        )
    state_dict = read_state_dict(source)
    model = build(architecture, len(manifest.class_names))
    return Network(load_weights(model, state_dict, manifest.title, architecture), manifest, SHOWN_LAYERS.get(architecture))


def from_training(
    label: str, model: nn.Module, class_names: Sequence[str], input_shape: tuple[int, int, int]
) -> Network:
    """A network trained on the Training page, ready for the lessons that look inside networks.

    The Training page feeds pictures scaled to 0..1 without normalisation: gray 28 x 28
    MNIST digits, or colour shapes resized to a square.

    Args:
        label: the run's name.
        model: the trained network; it is copied, never changed (its run keeps training state).
        class_names: one name per output.
        input_shape: (C, H, W) it was trained on.

    Returns:
        A ``Network`` holding a copy in eval mode with gradients off; its held-out sample is
        the bundled network's of the same data set (digits for gray, shapes for colour).
    """
    copied = copy.deepcopy(model).eval()
    for parameter in copied.parameters():
        parameter.requires_grad_(False)
    return Network(copied, _training_manifest(label, class_names, input_shape))


def _training_manifest(label: str, class_names: Sequence[str], input_shape: tuple[int, int, int]) -> Manifest:
    channels = input_shape[0]
    return Manifest(
        name=label,
        title=label,
        architecture="spec",
        input_shape=tuple(input_shape),
        preprocessing="mnist" if channels == 1 else "square",
        mean=(0.0,) * channels,
        std=(1.0,) * channels,
        class_names=tuple(class_names),
        dataset="Trained on the Training page",
        sample="digits_heldout.npz" if channels == 1 else "shapes_heldout.npz",
    )


def _from_training_file(data: bytes) -> Network:
    """A network downloaded from the Training page: a safetensors file whose metadata holds
    its layer spec, class names and input shape."""
    metadata = safetensors_metadata(data)
    try:
        classes = metadata["classes"].split(",")
        input_shape = tuple(int(size) for size in metadata["input_shape"].split("x"))
        model = netspec.build_network(input_shape, netspec.parse_spec(metadata["spec"]), len(classes))
    except KeyError:
        raise WeightsError(
            "weights_no_spec",
            "This file does not say which network it holds: only a .safetensors file downloaded from the "
            "Training page carries its layers; for other files choose their network."
        ) from None
    except (ValueError, TypeError) as error:
        raise WeightsError(
            "weights_spec_invalid", f"The network described in this file cannot be built: {error}", problem=error
        ) from None
    model = load_weights(model, read_state_dict(data), USER_ARCHITECTURES["spec"], "spec")
    return Network(model, _training_manifest(USER_ARCHITECTURES["spec"], classes, input_shape))


def torch_cache() -> Path:
    """torch's download cache, where torchvision keeps the weight files it downloaded:
    ``$TORCH_HOME/hub/checkpoints``, by default ``~/.cache/torch/hub/checkpoints``."""
    return Path(os.environ.get("TORCH_HOME", Path.home() / ".cache" / "torch")) / "hub" / "checkpoints"


def find_imagenet_weights(folders: list[Path] | None = None) -> dict[str, Path]:
    """ImageNet weight files already on this computer, by architecture.

    Looks for torchvision's file names (``alexnet-*.pth``, ``vgg16-*.pth``,
    ``resnet18-*.pth``, or the same as ``.safetensors``) in the folder named by the
    ``CNNVIZ_WEIGHTS_DIR`` environment variable, then in torch's download cache
    (``torch_cache()``), where torchvision keeps what it downloaded. Nothing is downloaded.

    Args:
        folders: search these instead (for tests).
    """
    if folders is None:
        folders = [Path(os.environ[WEIGHTS_DIR_VARIABLE])] if os.environ.get(WEIGHTS_DIR_VARIABLE) else []
        folders.append(torch_cache())
    found: dict[str, Path] = {}
    for folder in folders:
        for architecture in IMAGENET:
            if architecture in found or not folder.is_dir():
                continue
            matches = sorted([*folder.glob(f"{architecture}-*.pth"), *folder.glob(f"{architecture}-*.safetensors")])
            if matches:
                found[architecture] = matches[0]
    return found
