"""Reading weight files safely and checking them against an architecture.

Two formats:
- safetensors files hold plain tensors, so no code can hide in them; our bundled weights
  are such files, checked against the sha256 in their manifest before they are parsed,
  and a user may bring one too;
- a user's torchvision ``.pth`` file is a pickle, read only with
  ``torch.load(weights_only=True)``, which refuses any object that is not a tensor or
  a plain container, so a file carrying code is rejected without running it.

Every problem raises ``WeightsError`` with a sentence a user can act on.
"""

from __future__ import annotations

import hashlib
import io
import json
import pickle
from collections.abc import Mapping
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors_bytes
from safetensors.torch import save as save_safetensors_bytes
from torch import nn

from cnnviz.refusals import Refusal


class WeightsError(Refusal):
    """A weight file that cannot be used; the message says why (and ``reason``/``values``, in any language)."""


#: What a file that is not weights turned out to be (``file_kind``), as the English messages say it.
FILE_KINDS = {
    "empty": "empty (0 bytes)",
    "text": "a text file",
    "image": "a picture",
    "binary": "binary data of an unknown format",
}


def file_kind(data: bytes) -> str:
    """What ``data`` is, at a glance: ``"zip"`` (what torch.save writes), ``"pickle"`` (torch.save's
    legacy format, or a bare pickle), ``"safetensors"``, or one of ``FILE_KINDS``."""
    if not data:
        return "empty"
    if data[:4] == b"PK\x03\x04":
        return "zip"
    if data[:1] == b"\x80":
        return "pickle"
    if is_safetensors(data[:9]):
        return "safetensors"
    if data[:8] == b"\x89PNG\r\n\x1a\n" or data[:3] == b"\xff\xd8\xff" or data[:4] in (b"GIF8", b"RIFF"):
        return "image"
    head = data[:4096]
    if b"\x00" in head:
        return "binary"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 3:  # not just a character cut at the end of the sample
            return "binary"
    return "text"


def sha256_hex(data: bytes) -> str:
    """The SHA-256 digest of ``data`` as 64 lowercase hex digits."""
    return hashlib.sha256(data).hexdigest()


def save_safetensors(state_dict: Mapping[str, torch.Tensor], path: Path) -> str:
    """Write ``state_dict`` as a safetensors file and return the file's sha256."""
    data = save_safetensors_bytes({name: tensor.detach().contiguous().cpu() for name, tensor in state_dict.items()})
    path.write_bytes(data)
    return sha256_hex(data)


def read_safetensors(path: Path, sha256: str) -> dict[str, torch.Tensor]:
    """Read a bundled safetensors file after checking its hash.

    The bytes are hashed and parsed from the same read, so the file cannot change in between.

    Raises:
        WeightsError: when the file is missing, its sha256 differs from ``sha256``
            (damaged or replaced), or it is not a valid safetensors file.
    """
    try:
        data = path.read_bytes()
    except OSError as error:
        raise WeightsError(
            "weights_unreadable", f"The weight file {path.name} could not be read ({error.strerror}).", name=path.name
        ) from None
    actual = sha256_hex(data)
    if actual != sha256:
        raise WeightsError(
            "weights_not_as_manifest",
            f"The weight file {path.name} is not the one its manifest describes (sha256 {actual[:12]}... "
            f"instead of {sha256[:12]}...): it was damaged or replaced, so it was not loaded.",
            name=path.name, actual=actual[:12], expected=sha256[:12],
        )  # fmt: skip
    try:
        return load_safetensors_bytes(data)
    except SafetensorError as error:
        raise WeightsError(
            "weights_bad_safetensors", f"The weight file {path.name} is not a valid safetensors file ({error}).",
            name=path.name,
        ) from None


def is_safetensors(head: bytes) -> bool:
    """Whether a file starting with ``head`` (its first 9 bytes or more) is a safetensors
    file: an 8-byte little-endian header length, then the JSON header."""
    return len(head) >= 9 and head[8:9] == b"{" and 2 <= int.from_bytes(head[:8], "little") < 100_000_000


def safetensors_metadata(data: bytes) -> dict[str, str]:
    """The text metadata stored in a safetensors file's header (empty when there is none or the
    header cannot be read; ``read_state_dict`` reports damaged files)."""
    if not is_safetensors(data[:9]):
        return {}
    try:
        header = json.loads(data[8 : 8 + int.from_bytes(data[:8], "little")])
    except ValueError:
        return {}
    metadata = header.get("__metadata__") if isinstance(header, dict) else None
    return {str(k): str(v) for k, v in metadata.items()} if isinstance(metadata, dict) else {}


def read_state_dict(source: Path | bytes) -> dict[str, torch.Tensor]:
    """Read a weight file without running code: safetensors, or ``torch.save`` of a state_dict.

    Common wrappers are unwrapped: a checkpoint dict holding the weights under
    ``"state_dict"`` or ``"model"``, and the ``module.`` prefix ``nn.DataParallel`` adds.

    Args:
        source: a file path, or the file's bytes (an upload).

    Returns:
        The tensors by parameter name, on the CPU.

    Raises:
        WeightsError: for a file that is truncated or not a PyTorch file, one that holds
            Python objects other than tensors (refused unread: it could run code), or
            one that holds no weights.
    """
    try:
        data = source if isinstance(source, bytes) else source.read_bytes()
    except OSError as error:
        raise WeightsError(
            "weights_unreadable", f"The weight file {source.name} could not be read ({error.strerror}).",
            name=source.name,
        ) from None
    kind = file_kind(data)
    if kind == "safetensors":
        try:
            return _unwrapped(load_safetensors_bytes(data))
        except SafetensorError:
            raise WeightsError(
                "weights_truncated_safetensors",
                "The file could not be read as safetensors weights: it may be truncated or damaged.",
            ) from None
    if kind in FILE_KINDS:
        raise WeightsError(
            "weights_wrong_format",
            f"The file is {FILE_KINDS[kind]}, not weights: expected a state_dict saved with torch.save "
            f"(.pth or .pt, a zip archive) or a .safetensors file.",
            kind=kind,
        )  # fmt: skip
    try:
        loaded = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise WeightsError(  # torch cannot tell a file carrying code from other pickled data
            "weights_not_plain",
            "The file is not plain weights (it holds Python objects besides tensors, or is no PyTorch weight file "
            "at all), so it was refused without being run: only a state_dict saved with torch.save, or a "
            "safetensors file, is loaded."
        ) from None
    except Exception:  # a damaged file makes the parser fail in many ways (IndexError, EOFError...)
        raise WeightsError(
            "weights_damaged",
            "The file could not be read as PyTorch weights: it starts like one, but it may be truncated or damaged.",
        ) from None
    return _unwrapped(loaded)


def _unwrapped(loaded: object) -> dict[str, torch.Tensor]:
    if isinstance(loaded, Mapping):
        for wrapper in ("state_dict", "model"):
            if isinstance(loaded.get(wrapper), Mapping):
                loaded = loaded[wrapper]
                break
    tensors = {str(name): value for name, value in loaded.items()} if isinstance(loaded, Mapping) else {}
    tensors = {name: value for name, value in tensors.items() if isinstance(value, torch.Tensor)}
    if not tensors:
        raise WeightsError("weights_none", "The file holds no weights (no named tensors were found in it).")
    if all(name.startswith("module.") for name in tensors):
        tensors = {name.removeprefix("module."): value for name, value in tensors.items()}
    return tensors


def mismatch(model: nn.Module, state_dict: Mapping[str, torch.Tensor]) -> str | None:
    """What keeps ``state_dict`` from loading into ``model`` with ``strict=True``, in a sentence.

    Returns:
        None when every name and shape matches; else a sentence naming the missing,
        unexpected and mis-shaped weights (the first few of each, and how many).
    """
    expected = {name: tuple(tensor.shape) for name, tensor in model.state_dict().items()}
    found = {name: tuple(tensor.shape) for name, tensor in state_dict.items()}
    missing = [name for name in expected if name not in found]
    unexpected = [name for name in found if name not in expected]
    misshaped = [
        f"{name} is {_shape(found[name])} in the file but {_shape(expected[name])} in the network"
        for name in expected
        if name in found and found[name] != expected[name]
    ]
    parts = []
    if missing:
        parts.append(f"{_count(missing, 'weight')} missing ({_first(missing)})")
    if unexpected:
        parts.append(f"{_count(unexpected, 'weight')} not part of this network ({_first(unexpected)})")
    if misshaped:
        parts.append(f"{_count(misshaped, 'weight')} the wrong shape ({_first(misshaped)})")
    return "; ".join(parts) if parts else None


def load_weights(
    model: nn.Module, state_dict: Mapping[str, torch.Tensor], title: str, architecture: str | None = None
) -> nn.Module:
    """Check ``state_dict`` against ``model``, then load it with ``strict=True``.

    Floating-point tensors are converted to float32 (a half-precision file works too).

    Args:
        model: the architecture, freshly built.
        state_dict: tensors by name.
        title: the architecture's name for messages, e.g. "ResNet-18".
        architecture: its key (``networks.USER_ARCHITECTURES``), for a page to name it in any language.

    Returns:
        ``model`` with the weights, in eval mode, with gradients switched off.

    Raises:
        WeightsError: naming what does not fit (see ``mismatch``).
    """
    problem = mismatch(model, state_dict)
    if problem:
        expected, found = model.state_dict(), state_dict
        missing = [name for name in expected if name not in found]
        unexpected = [name for name in found if name not in expected]
        misshaped = [name for name in expected if name in found and found[name].shape != expected[name].shape]
        raise WeightsError(
            "weights_mismatch", f"This file does not fit {title}: {problem}.", architecture=architecture or title,
            missing=len(missing),
            unexpected=len(unexpected), misshaped=len(misshaped), examples=", ".join((missing + unexpected + misshaped)[:3]),
        )  # fmt: skip
    converted = {name: value.float() if value.is_floating_point() else value for name, value in state_dict.items()}
    model.load_state_dict(converted, strict=True)
    model.eval()
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return model


def _shape(shape: tuple[int, ...]) -> str:
    return " x ".join(map(str, shape)) or "a scalar"


def _count(names: list[str], noun: str) -> str:
    return f"{len(names)} {noun}{'s are' if len(names) > 1 else ' is'}"


def _first(names: list[str], shown: int = 3) -> str:
    more = f", and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more
