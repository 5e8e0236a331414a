"""The lessons, in teaching order. app.py registers them; the home page describes them.

Each lesson's title and one-line summary are the catalogue keys
``lesson.<slug>.title`` and ``lesson.<slug>.summary``; its thumbnail, if present, is
``assets/thumbnails/<slug>.png``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Lesson:
    slug: str  # also the URL path
    script: str  # path from the repository root
    icon: str


# Each lesson adds its line here, in teaching order.
LESSONS: tuple[Lesson, ...] = ()
