"""The interface's words in English and Simplified Chinese.

Each language's catalogue is the folder ``cnnviz/locales/<lang>/``: one JSON file per
page (``{"conv.stride": "Stride", ...}``), merged into one mapping. Both languages
hold the same keys (a test checks); a key missing from a catalogue falls back to
English, then to the key itself, so a gap shows up as text, never as a crash.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

LANGUAGES: dict[str, str] = {"en": "English", "zh": "简体中文"}
DEFAULT_LANGUAGE = "en"
LOCALES_DIR = Path(__file__).resolve().parent / "locales"


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
