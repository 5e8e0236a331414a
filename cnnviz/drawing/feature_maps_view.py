"""Feature maps' scrubbing view: a held-out example through a trained network, every layer at once.

What the page shows of one input picture right under the input chooser: the picture as given
and as the network receives it, the network's answer (``input_row``), and every layer's
channels (``overview``). Every number comes from the engine (``Network.prepare``,
``features.feature_maps``, ``features.colour_bounds``) and every picture from
``cnnviz.drawing.pictures``; the page draws these two parts for any input (a drawn digit, the
sidebar's photo).

For the held-out examples of one class, ``example_frame_set`` draws them for each example:
the view's one slider, "Example", swaps whole pictures while it is dragged
(``cnnviz/frontend/scrub_view.js``). The pictures are most of the bytes (the shapes network:
~150 kB per example, gzipped); ``frames.split_pictures`` sends them apart from the frames, so that a
release, which changes only the frame set's base, does not send them again.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from cnnviz import features, i18n, models
from cnnviz.drawing import pictures
from cnnviz.drawing.frames import Slider, frame_sets
from cnnviz.drawing.grids import side_by_side_html
from cnnviz.drawing.markup import markdown_html, markdown_inline, row_html
from cnnviz.features import FeatureMaps
from cnnviz.models import Network, PreparedInput

#: Width (pixels) a layer's tile grid may take in the overview.
GRID_WIDTH = 860
#: The overview shows at most this many channels per layer (the page's closer look reaches all).
OVERVIEW_CHANNELS = 64
#: Side (pixels) a small input picture is enlarged to, by whole pixels.
PICTURE_SIDE = 224
#: A picture in a column: as wide as its column, also when that is wider than the picture.
PICTURE_STYLE = "width:100%;object-fit:fill"
#: The view's class (``scrub_view.css``).
VIEW_CLASS = "fmap-frame"


def number(value: int) -> str:
    return f"{value:,}"


def shape_text(shape: tuple[int, ...]) -> str:
    return " × ".join(map(str, shape))


def _translator(lang: str):
    """``t(key, **values)``: the catalogue's text in ``lang``."""

    def t(key: str, **values: object) -> str:
        return i18n.translate(key, lang, **values)

    return t


def _caption(text: str) -> str:
    return f'<div class="cnnviz-caption">{markdown_html(text)}</div>'


def class_label(name: str, lang: str) -> str:
    """A class name in ``lang`` where the catalogue has one (the shapes), else as stored (digits, ImageNet)."""
    key = f"fmap.class.{name}"
    return i18n.translate(key, lang) if key in i18n.catalogue(i18n.DEFAULT_LANGUAGE) else name


def class_labels(names: Sequence[str], lang: str) -> tuple[str, ...]:
    """A network's class names in ``lang``, in output order: ImageNet's from its translated list
    (``i18n.translated_class_names``), others as ``class_label``."""
    return i18n.translated_class_names(names, lang) or tuple(class_label(name, lang) for name in names)


def _picture(pixels: np.ndarray, alt: str) -> str:
    encoded = pictures.display_picture(pixels, PICTURE_SIDE)
    return pictures.picture_html(encoded, alt, PICTURE_STYLE)


def _input_cells(network: Network, pixels: np.ndarray, prepared: PreparedInput, lang: str) -> tuple[str, str]:
    """The picture as given, and as the network receives it (its tensor's shape, range and recipe)."""
    t = _translator(lang)
    original = (
        f"<p><strong>{html.escape(t('fmap.original'))}</strong></p>{_picture(pixels, t('fmap.original'))}"
        + _caption(t("fmap.original_caption", h=pixels.shape[0], w=pixels.shape[1]))
    )
    tensor, manifest = prepared.tensor, network.manifest
    received_caption = t(
        "fmap.received_caption", shape=shape_text(tuple(tensor.shape)), low=f"{float(tensor.min()):.2f}",
        high=f"{float(tensor.max()):.2f}", steps=" → ".join(t(f"fmap.step.{step}") for step in prepared.steps),
        mean=", ".join(f"{value:.3f}" for value in manifest.mean), std=", ".join(f"{value:.3f}" for value in manifest.std),
    )  # fmt: skip
    received = (
        f"<p><strong>{html.escape(t('fmap.received'))}</strong></p>{_picture(prepared.pixels, t('fmap.received'))}"
        + _caption(received_caption)
    )
    return original, received


def _prediction(network: Network, maps: FeatureMaps, truth: int | None, outside: str | None, lang: str) -> str:
    """The network's answer, right or wrong, its top classes as a chart, and its held-out accuracy."""
    t = _translator(lang)
    names = class_labels(network.manifest.class_names, lang)
    best, probability = maps.top_classes(1)[0]
    parts = [f"<h3>{html.escape(t('fmap.prediction'))}</h3>"]
    if outside is not None:  # a photo for a network that knows only digits or shapes
        parts.append(f'<div class="cnnviz-note warning">{markdown_html(t(f"fmap.outside.{outside}"))}</div>')
    says = markdown_inline(t("fmap.says", label=names[best], probability=f"{probability:.1%}"))
    parts.append(f'<p class="fmap-says">{says}</p>')
    if truth is not None:
        parts.append(_caption(t("fmap.right" if truth == best else "fmap.wrong", label=names[truth])))
    k = min(5, len(names))
    chart = pictures.probability_chart(names, maps.probabilities, k, t("fmap.top_k", k=k))
    parts.append(side_by_side_html(chart, gap_px=16, share=True))
    accuracy = network.manifest.heldout_accuracy
    if accuracy is not None:
        parts.append(
            _caption(t("fmap.accuracy", accuracy=f"{accuracy:.1%}", size=number(network.manifest.heldout_size)))
        )
    return "".join(parts)


def input_row(
    network: Network, pixels: np.ndarray, prepared: PreparedInput, maps: FeatureMaps, truth: int | None,
    outside: str | None, lang: str,
) -> str:  # fmt: skip
    """The picture as given and as received, beside the network's answer (below them on a narrow page).

    Args:
        network: the network looked into.
        pixels: the picture as given, (H, W[, C]) uint8.
        prepared: ``network.prepare(pixels)``.
        maps: ``features.feature_maps`` of ``prepared.tensor``.
        truth: the picture's class for a held-out example, else None.
        outside: why the picture is outside what the network was trained on
            (``domain.outside_training``), or None.
        lang: the interface language.
    """
    seen = row_html(*_input_cells(network, pixels, prepared, lang))
    # The top-k chart is 440 px (its text stays 12 px and up): below the pictures when the page is narrow.
    return row_html(seen, _prediction(network, maps, truth, outside, lang), least_px=(280, 440))


def layer_grid(maps: np.ndarray, bound: float | None) -> np.ndarray:
    """One picture of (up to ``OVERVIEW_CHANNELS``) channels fitting ``GRID_WIDTH``: up to 10 in
    a row, 16 as two rows of 8 (larger tiles), more in rows of 16.

    Args:
        maps: a layer's (C, H, W) maps.
        bound: its colour bound (``features.colour_bounds``).
    """
    shown = maps[:OVERVIEW_CHANNELS]
    per_row = len(shown) if len(shown) <= 10 else 8 if len(shown) <= 16 else 16
    return pictures.tile_grid(shown, bound, columns=per_row, tile=min(96, GRID_WIDTH // per_row - 2))


def overview_pictures(maps: FeatureMaps, prepared: PreparedInput, scale: str) -> tuple[np.ndarray, list[np.ndarray]]:
    """The input's tiles and each layer's grid, as the overview shows them: (H, W, 3) uint8 each."""
    bounds = features.colour_bounds(maps, scale)
    pixels = prepared.pixels
    tiles = pictures.input_tiles(pixels, tile=96 if pixels.shape[2] == 1 else 72)
    return tiles, [layer_grid(layer.maps, bounds[layer.name]) for layer in maps.layers]


def overview(maps: FeatureMaps, prepared: PreparedInput, scale: str, outside: str | None, lang: str) -> str:
    """Every layer's channels, one row per layer under the colour legend (pictures as lossless WebP).

    Args:
        maps: ``features.feature_maps`` of ``prepared.tensor``.
        prepared: the input as the network received it.
        scale: the colour scale (``features.COLOUR_SCALES``).
        outside: as for ``input_row``.
        lang: the interface language.
    """
    t = _translator(lang)
    if scale == "network":
        bound = next(iter(features.colour_bounds(maps, scale).values()))
        legend = pictures.colour_legend(bound, t("fmap.legend_shared"))
    else:
        legend = pictures.colour_legend(None, t(f"fmap.legend_{scale}"))
    tiles, grids = overview_pictures(maps, prepared, scale)
    rows = [(t("fmap.input_layer"), [shape_text(maps.input.shape)], pictures.webp(tiles))]
    for layer, grid in zip(maps.layers, grids, strict=True):
        extra = t("fmap.first_channels", shown=OVERVIEW_CHANNELS) if layer.shape[0] > OVERVIEW_CHANNELS else ""
        details = [
            layer.kind,
            shape_text(layer.shape),
            f"{t('fmap.parameters', count=number(layer.parameters))} {extra}",
        ]
        rows.append((layer.name, details, pictures.webp(grid)))
    heading = f"<h3>{html.escape(t('fmap.overview'))}</h3>" + _caption(t("fmap.overview_help"))
    if outside is not None:
        heading += _caption(t("fmap.outside_layers"))
    return heading + legend + pictures.labelled_rows_html(rows)


# --- the held-out examples of one class, one frame each -------------------------------------------


@dataclass(frozen=True)
class Examples:
    """The held-out examples of one class, for one network: what the Example slider runs over.

    Equal (and hashed) by ``network_key`` and ``class_index``: the key names the network's
    weights (the page's key), and the class picks the examples from the network's sample.
    """

    network_key: str
    class_index: int
    network: Network = field(compare=False, hash=False, repr=False)
    pictures: np.ndarray = field(compare=False, hash=False, repr=False)  # (N, H, W[, 3]) uint8

    @classmethod
    def of(cls, network_key: str, network: Network, class_index: int) -> Examples:
        """The class's pictures from the network's held-out sample (``models.sample_images``), in its order."""
        images, labels = models.sample_images(network.manifest.sample)
        return cls(network_key, class_index, network, images[labels == class_index])

    def __len__(self) -> int:
        return len(self.pictures)


def example_frame(examples: Examples, example: int, scale: str, lang: str = i18n.DEFAULT_LANGUAGE) -> tuple[str, str]:
    """The view for one example: (``input_row``, ``overview``), from one forward pass.

    Args:
        examples: the class's held-out examples.
        example: 1-based, in the sample file's order (the slider's value).
        scale: the colour scale.
        lang: the interface language.
    """
    return _example_frame(examples, example, scale, lang)


@functools.lru_cache(maxsize=256)  # a release redraws the same frames around a new base: all recur
def _example_frame(examples: Examples, example: int, scale: str, lang: str) -> tuple[str, str]:
    network = examples.network
    pixels = examples.pictures[example - 1]
    # A held-out picture of the network's own size is fed as it is, as the page feeds it.
    native = pixels.shape[:2] == tuple(network.manifest.input_shape[1:])
    prepared = network.prepare(pixels, native=native)
    maps = features.feature_maps(network.model, prepared.tensor, network.shown_layers)
    return (
        input_row(network, pixels, prepared, maps, examples.class_index, None, lang),
        overview(maps, prepared, scale, None, lang),
    )


def example_frame_set(examples: Examples, example: int, scale: str, lang: str = i18n.DEFAULT_LANGUAGE) -> dict:
    """``example_frame`` for every example of the class, around ``example`` (see ``frames``)."""
    slider = Slider("example", i18n.translate("fmap.example", lang), 1, len(examples), example)
    return frame_sets([slider], lambda settings: example_frame(examples, settings["example"], scale, lang),
                      layout={"class": VIEW_CLASS})  # fmt: skip
