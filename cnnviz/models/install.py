"""Put an ImageNet weight file where the app finds it: ``make weights FILE=path/to/resnet18-f37072fd.pth``.

The file is read as plain weights (``torch.load(weights_only=True)`` or safetensors: nothing
in it runs), recognised as AlexNet, VGG-16 or ResNet-18 by its tensor names and shapes,
loaded into that network with ``strict=True``, and only then copied into the folder named
by ``CNNVIZ_WEIGHTS_DIR``, or else into torch's cache (``$TORCH_HOME/hub/checkpoints``,
where torchvision itself keeps the files), under a name ``find_imagenet_weights`` looks for.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import torch

from cnnviz.models.architectures import build
from cnnviz.models.networks import IMAGENET, WEIGHTS_DIR_VARIABLE, torch_cache
from cnnviz.models.weights import WeightsError, load_weights, mismatch, read_state_dict, sha256_hex


@dataclass(frozen=True)
class InstalledWeights:
    """Where a weight file was put, and for which network (a key of ``IMAGENET``)."""

    architecture: str
    path: Path


def weights_folder() -> Path:
    """Where ``install_weights`` copies files: ``$CNNVIZ_WEIGHTS_DIR`` if set, else torch's cache."""
    named = os.environ.get(WEIGHTS_DIR_VARIABLE)
    return Path(named) if named else torch_cache()


def identify(state_dict: dict) -> str:
    """The ImageNet architecture whose every weight name and shape ``state_dict`` matches.

    Raises:
        WeightsError: when none fits; the message says what did not fit the closest one
            (the architecture named in the file name's start would be a guess, so the
            closest is the one with the fewest mismatched names).
    """
    problems, differences = {}, {}
    for architecture in IMAGENET:
        with torch.device("meta"):  # names and shapes only: no memory, no random initialisation
            empty = build(architecture, 1000)
        problem = mismatch(empty, state_dict)
        if problem is None:
            return architecture
        problems[architecture] = problem
        differences[architecture] = len(set(empty.state_dict()) ^ set(state_dict))
    closest = min(differences, key=differences.get)
    raise WeightsError(
        "install_no_match",
        f"This file is none of {', '.join(IMAGENET.values())}. The closest is {IMAGENET[closest]}, but "
        f"{problems[closest]}."
    )


def install_weights(source: Path, folder: Path | None = None) -> InstalledWeights:
    """Check ``source`` and copy it into ``folder`` (default ``weights_folder()``).

    The copy is named ``<architecture>-<rest>`` (torchvision's own name is kept; another
    name becomes ``<architecture>-<first 8 hex digits of its sha256>``), with its suffix.

    Raises:
        WeightsError: for a file that cannot be read, carries code, or fits no ImageNet
            network; nothing is copied then.
    """
    source = Path(source)
    data = source.read_bytes() if source.is_file() else b""
    if not data:
        raise WeightsError("install_unreadable", f"The file {source} could not be read: it does not exist or is empty.")
    state_dict = read_state_dict(data)
    architecture = identify(state_dict)
    load_weights(build(architecture, 1000), state_dict, IMAGENET[architecture])
    folder = weights_folder() if folder is None else folder
    stem = source.stem if source.stem.startswith(f"{architecture}-") else f"{architecture}-{sha256_hex(data)[:8]}"
    target = folder / f"{stem}{'.safetensors' if source.suffix == '.safetensors' else '.pth'}"
    folder.mkdir(parents=True, exist_ok=True)
    if target.resolve() != source.resolve():
        shutil.copyfile(source, target)
    return InstalledWeights(architecture, target)


def main(arguments: list[str]) -> int:
    if len(arguments) != 1:
        print("Usage: make weights FILE=path/to/resnet18-f37072fd.pth", file=sys.stderr)
        return 2
    try:
        installed = install_weights(Path(arguments[0]))
    except WeightsError as error:
        print(f"Not installed: {error}", file=sys.stderr)
        return 1
    print(f"{IMAGENET[installed.architecture]} weights checked and copied to {installed.path}.")
    print("Start the app (make run): the network is offered on the Feature maps page.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
