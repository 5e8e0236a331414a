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
LESSONS: tuple[Lesson, ...] = (
    Lesson("convolution", "pages/convolution.py", ":material/blur_on:"),
    Lesson("conv_steps", "pages/conv_steps.py", ":material/grid_on:"),
    Lesson("output_size", "pages/output_size.py", ":material/straighten:"),
    Lesson("activations", "pages/activations.py", ":material/show_chart:"),
    Lesson("losses", "pages/losses.py", ":material/trending_down:"),
    Lesson("pooling", "pages/pooling.py", ":material/view_module:"),
    Lesson("feature_maps", "pages/feature_maps.py", ":material/layers:"),
    Lesson("filter_viz", "pages/filter_viz.py", ":material/auto_awesome:"),
    Lesson("training", "pages/training.py", ":material/model_training:"),
)
