"""The interface's words in English and Simplified Chinese.

Each language's catalogue is the folder ``cnnviz/locales/<lang>/``: one JSON file per
page (``{"conv.stride": "Stride", ...}``), merged into one mapping. Both languages
hold the same keys (a test checks); a key missing from a catalogue falls back to
English, then to the key itself, so a gap shows up as text, never as a crash.

ImageNet's 1000 class names are not catalogue keys: they are lists in output order beside the
networks' weights (``assets/models/imagenet_classes.json``, ``imagenet_classes_zh.json``).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from pathlib import Path

LANGUAGES: dict[str, str] = {"en": "English", "zh": "简体中文"}
DEFAULT_LANGUAGE = "en"
LOCALES_DIR = Path(__file__).resolve().parent / "locales"
#: Where ImageNet's class names are kept: ``imagenet_classes.json`` (English, what every ImageNet
#: manifest holds) and ``imagenet_classes_<lang>.json`` for the other languages, in the same order.
IMAGENET_CLASSES_DIR = Path(__file__).resolve().parents[1] / "assets" / "models"


@functools.cache
def catalogue(lang: str) -> dict[str, str]:
    """All strings of one language, merged from its folder's JSON files.

    Raises:
        ValueError: for a language we do not ship, or a key defined in two files.
    """
    if lang not in LANGUAGES:
        raise ValueError(f"Unknown language {lang!r}; choose one of: {', '.join(LANGUAGES)}.")
    merged: dict[str, str] = {}
    for path in sorted((LOCALES_DIR / lang).glob("*.json")):
        strings = json.loads(path.read_text(encoding="utf-8"))
        clashes = merged.keys() & strings.keys()
        if clashes:
            raise ValueError(f"{path.name} redefines {sorted(clashes)} in the {lang} catalogue.")
        merged.update(strings)
    return merged


def translate(key: str, lang: str = DEFAULT_LANGUAGE, /, **values: object) -> str:
    """The text for ``key`` in ``lang``, with ``{name}`` placeholders filled from ``values``."""
    text = catalogue(lang).get(key) or catalogue(DEFAULT_LANGUAGE).get(key) or key
    return text.format(**values) if values else text


def explain(error: Exception | str, lang: str = DEFAULT_LANGUAGE, prefix: str = "error") -> str | None:
    """An engine's refusal (:class:`cnnviz.refusals.Refusal`) in ``lang``: the catalogue's
    ``<prefix>.<reason>`` (a page's own wording), else ``error.<reason>``, filled with its values. A value
    that names a setting, a kind of file or a network is itself said from ``error.<name>.<value>`` if there;
    ``line`` prefixes the text with the line it is about. None when the catalogue has no words for it."""
    reason = getattr(error, "reason", None)
    english = catalogue(DEFAULT_LANGUAGE)
    key = next((key for key in (f"{prefix}.{reason}", f"error.{reason}") if key in english), None)
    if key is None:
        return None
    values = dict(error.values)
    for name, value in values.items():
        if isinstance(value, Exception):  # a refusal inside a refusal (a file's layer spec)
            values[name] = explain(value, lang) or str(value)
        elif f"error.{name}.{value}" in english:  # a name the catalogue says in words (error.what.padding)
            values[name] = translate(f"error.{name}.{value}", lang)
    text = translate(key, lang, **values)
    return translate("error.on_line", lang, line=values["line"], text=text) if "line" in values else text


@functools.cache
def imagenet_class_names(lang: str = DEFAULT_LANGUAGE) -> tuple[str, ...]:
    """ImageNet's 1000 class names in ``lang``, in the order of the networks' outputs.

    By position, not by English name: two pairs of English names are the same word
    ("missile" at 657 and 744, "sunglasses" at 836 and 837) and are told apart in Chinese.

    Raises:
        ValueError: for a language we do not ship.
    """
    if lang not in LANGUAGES:
        raise ValueError(f"Unknown language {lang!r}; choose one of: {', '.join(LANGUAGES)}.")
    name = "imagenet_classes.json" if lang == DEFAULT_LANGUAGE else f"imagenet_classes_{lang}.json"
    return tuple(json.loads((IMAGENET_CLASSES_DIR / name).read_text(encoding="utf-8")))


def translated_class_names(names: Sequence[str], lang: str = DEFAULT_LANGUAGE) -> tuple[str, ...] | None:
    """A network's class names in ``lang`` when they are ImageNet's (its list in ``lang``, by
    position); None for other classes (the shapes and digits are catalogue keys, ``fmap.class.*``)."""
    return imagenet_class_names(lang) if tuple(names) == imagenet_class_names() else None
