"""The Convolution lesson's scrubbing view: the photo convolved, for every stride, padding, dilation and bias.

A frame is what the lesson shows for one setting of its four sliders (``conv_frame``): the input
as the kernel sees it (gray or colour, with its padding) and the output drawn on a canvas of the
same size, both pictures at display size (JPEG for a photo; PNG with square pixels for a tiny
image); the output's size, range and colour legend; the window of the output pixel clicked
drawn on the input, that pixel marked on the output (a click on the output picks another); and
the output-size formula filled in. Every number comes from the engine: ``convolution`` (the
convolution, its size, the formula), ``conv_pixel`` (the pixel clicked), ``grids.map_to_image``
(the colours).

Frames are pictures, 10-100 kB each, and a release moves the base of every other slider's
frames: so the view holds the frames of one slider at a time, asked for when it is pressed
(``frames.frame_sets(..., only=...)``), and the browser keeps them while the other settings
stay. Pictures are drawn once per setting and kept (``functools.lru_cache``, keyed by the
photo's digest). The output is drawn at display size: shrunk there (an area average) once per
geometry, then biased and coloured, so the 41 bias frames share one convolution and one
shrinking (``convolution.add_bias`` on the shrunk map; the range is the full output's), and a
1024-pixel photo costs a frame what a 480-pixel one does (``bench/conv_frames.py``).

Two panels below the view depend on the sliders (and on what the frames depend on already), so
they are slots of the frames drawn in places (``PLACES``): the PyTorch code that loads the photo
and convolves it with these settings (``codegen.conv2d_on_image``; where it loads the photo from,
``Script``, is part of the frames' context), and the arithmetic of the output pixel clicked (its
windows, the kernel, the products, the sum with the bias). The page mounts
``scrub_view.place("conv.scrub", "code")`` in its code panel and ``"pixel"`` below the columns;
every frame of a pressed slider holds them, so they follow the pointer as the pictures do.
"""

from __future__ import annotations

import functools
import hashlib
import html
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from cnnviz import codegen, conv_pixel, convolution, i18n
from cnnviz.drawing import grids
from cnnviz.drawing.frames import Slider, frame_sets
from cnnviz.drawing.marks import Box, clickable_picture_html, marks_svg, window_boxes
from cnnviz.drawing.markup import code_html, markdown_html, markdown_inline
from cnnviz.drawing.mathml import formula_mathml
from cnnviz.drawing.pictures import DISPLAY_SIDE, display_picture, picture_html

#: The view's sliders: setting name -> (low, high, default, step); URL keys ``conv.<name>``.
CONV_SLIDERS: dict[str, tuple[float, float, float, float]] = {
    "stride": (1, 8, 1, 1),
    "padding": (0, 10, 0, 1),
    "dilation": (1, 8, 1, 1),
    "bias": (-2.0, 2.0, 0.0, 0.1),
}
#: The frame's slots, in order (``cnnviz/frontend/scrub_view.css`` places them by index under ``VIEW_CLASS``).
SLOTS = ("input_heading", "output_heading", "input_picture", "input_marks", "output", "input_notes", "legend",
         "maps", "formula", "code", "pixel")  # fmt: skip
#: The frames' slots drawn in places, not in the view: place name -> slots (``frames``, "places").
PLACES: dict[str, list[int]] = {"code": [SLOTS.index("code")], "pixel": [SLOTS.index("pixel")]}
VIEW_CLASS = "conv-scrub"
#: Where the output has no pixel on the canvas it shares with the input.
CANVAS_GREY = 235
#: JPEG quality of the input (a photo, few variants) and of the output frames (many: bytes matter).
INPUT_QUALITY, OUTPUT_QUALITY = 85, 75
#: Longest side of the output as sent (``pictures.DISPLAY_SIDE``), and of each of R, G, B's maps (a third
#: of the column wide each); a picture whose shorter side is under the second number is enlarged with square pixels.
OUTPUT_SIDES = {1: (DISPLAY_SIDE, 240), 3: (DISPLAY_SIDE // 2, 120)}
#: The output pixel clicked: (row, col, picture) with picture 0, or R, G, B's map 0..2; None: the centre.
Clicked = tuple[int, int, int] | None


@dataclass(frozen=True)
class Photo:
    """The photo the lesson convolves: its pixels, and a digest that stands for them in caches."""

    pixels: np.ndarray = field(compare=False, repr=False)  # (H, W, 3) uint8
    digest: str = ""

    @classmethod
    def of(cls, pixels: np.ndarray) -> Photo:
        array = np.ascontiguousarray(pixels)
        digest = hashlib.blake2b(array.tobytes(), digest_size=16)
        digest.update(repr(array.shape).encode())
        return cls(array, digest.hexdigest())


@dataclass(frozen=True)
class ConvSetup:
    """What the sliders do not change: the photo, the kernel (None: the typed one is unusable), the rest."""

    photo: Photo
    kernel: tuple[tuple[float, ...], ...] | None
    channel_mode: convolution.ChannelMode = "gray"
    padding_mode: convolution.PaddingMode = "zeros"
    flip: bool = False

    @classmethod
    def of(cls, pixels: np.ndarray, kernel: np.ndarray | None, channel_mode: str, padding_mode: str,
           flip: bool) -> ConvSetup:  # fmt: skip
        rows = None if kernel is None else tuple(tuple(float(value) for value in row) for row in kernel)
        return cls(Photo.of(pixels), rows, channel_mode, padding_mode, bool(flip))

    @property
    def weights(self) -> np.ndarray:
        """The kernel as an array, (kh, kw) float64."""
        return np.array(self.kernel, np.float64)


@dataclass(frozen=True)
class Script:
    """Where the shown code loads the photo from: its path, a comment on it (in the interface language),
    and the side the page shrank it to (``images.WORKING_SIDE``), or None when it was not shrunk."""

    path: str = "my_image.png"
    source: str = ""
    working_side: int | None = None


@dataclass(frozen=True)
class ConvOutput:
    """The output for one setting, as the lesson draws it.

    Attributes:
        shape: (H', W'), or (H', W', 3) for R, G, B separately.
        low, high: its smallest and largest value.
        scale: how ``grids.map_to_image`` coloured it (the legend).
        pictures: the output on its canvas (one picture), or R, G, B's three maps on one scale.
        canvas: (rows, cols) of the canvas: the padded input's size.
    """

    shape: tuple[int, ...]
    low: float
    high: float
    scale: grids.ColourScale
    pictures: tuple[bytes, ...]
    canvas: tuple[int, int]


@dataclass(frozen=True)
class _Shrunk:
    """A geometry's output before its bias, shrunk to display size: maps (C, h, w) float32 on a canvas
    (rows, cols) of ``shown_canvas``; and the full output's shape and extremes (before the bias)."""

    maps: np.ndarray = field(compare=False, repr=False)
    shown_canvas: tuple[int, int]
    shape: tuple[int, ...]
    low: np.float32
    high: np.float32


@functools.lru_cache(maxsize=4)  # (H, W[, 3]) uint8: what every padding pads
def _seen(photo: Photo, channel_mode: str) -> np.ndarray:
    """The photo as the channel mode sees it (gray or colour), as uint8, without padding."""
    rgb = photo.pixels.astype(np.float32) / 255
    seen = convolution.to_gray(rgb) if channel_mode == "gray" else rgb
    return np.rint(np.clip(seen.astype(np.float64), 0, 1) * 255).astype(np.uint8)  # as pad_grid's float64 rounds


def seen_input(photo: Photo, channel_mode: str, padding: int, padding_mode: str) -> np.ndarray:
    """What the kernel slides over, as uint8: gray or colour as the channel mode says, with its padding
    (``convolution.pad_grid``: padding copies pixels or adds zeros, so the whole numbers stay whole)."""
    return convolution.pad_grid(_seen(photo, channel_mode), padding, padding_mode).astype(np.uint8)


def on_canvas(shown: np.ndarray, canvas: tuple[int, int]) -> np.ndarray:
    """A coloured map from the top-left corner of a grey canvas of the padded input's size."""
    painted = np.full((*canvas, 3), CANVAS_GREY, np.uint8)
    painted[: shown.shape[0], : shown.shape[1]] = shown if shown.ndim == 3 else shown[..., None]
    return painted


def bias_key(bias: float) -> float:
    """The bias as the slider holds it (tenths): 0.30000000000000004 and 0.3 are one setting."""
    return round(float(bias), 6) + 0.0  # + 0.0: -0.0 is 0.0


def shrink(maps: np.ndarray, canvas: tuple[int, int]) -> tuple[np.ndarray, tuple[int, int]]:
    """Output maps as drawn on a canvas of ``canvas`` (rows, cols), shrunk to their display size.

    Args:
        maps: (C, H', W') with C = 1, or 3 for R, G, B's maps (sent smaller: ``OUTPUT_SIDES``).

    Returns:
        (C, h, w) float32, each pixel the average of the output pixels it covers (unchanged when the
        canvas fits the display size), and the canvas's (rows, cols) at that scale.
    """
    side, _ = OUTPUT_SIDES[len(maps)]
    scale = min(1.0, side / max(canvas))
    if scale == 1.0:
        return maps.astype(np.float32), canvas
    height, width = (max(1, round(size * scale)) for size in maps.shape[1:])
    shrunk = F.interpolate(torch.as_tensor(maps, dtype=torch.float32)[None], size=(height, width), mode="area")[0]
    return shrunk.numpy(), (max(1, round(canvas[0] * scale)), max(1, round(canvas[1] * scale)))


def paint(maps: np.ndarray, canvas: tuple[int, int]) -> tuple[tuple[bytes, ...], grids.ColourScale]:
    """Shrunk output maps (C, h, w) coloured on one scale (``grids.map_to_image``), each on a grey canvas,
    encoded for the browser (``pictures.display_picture``); and the scale."""
    _, small_side = OUTPUT_SIDES[len(maps)]
    coloured, scale = grids.map_to_image(np.concatenate(maps), white_at_least=1.0)  # (C h, w): one scale
    pictures = tuple(
        display_picture(on_canvas(part, canvas), small_side, OUTPUT_QUALITY) for part in np.split(coloured, len(maps))
    )
    return pictures, scale


@functools.lru_cache(maxsize=8)  # a geometry's shrunk maps: at most 480 x 480 floats (3 x 240 x 240)
def _shrunk(setup: ConvSetup, stride: int, padding: int, dilation: int) -> _Shrunk:
    out = convolution.convolve_image(
        setup.photo.pixels.astype(np.float32) / 255, setup.weights, setup.channel_mode, stride, padding, dilation,
        setup.padding_mode, setup.flip,
    )  # fmt: skip
    maps = out.transpose(2, 0, 1) if out.ndim == 3 else out[None]  # (C, H', W')
    height, width = setup.photo.pixels.shape[:2]
    shown, shown_canvas = shrink(maps, (height + 2 * padding, width + 2 * padding))
    return _Shrunk(shown, shown_canvas, out.shape, out.min(), out.max())


def convolved(setup: ConvSetup, settings: Mapping[str, float]) -> ConvOutput:
    """The photo convolved with these settings, drawn as the lesson shows it (cached per setting).

    Args:
        setup: the photo, the kernel (not None), the channel and padding modes, the flip.
        settings: {"stride", "padding", "dilation", "bias"} (see ``CONV_SLIDERS``).

    Raises:
        ValueError: settings with no output (``convolution.check_settings``).
    """
    geometry = (int(settings["stride"]), int(settings["padding"]), int(settings["dilation"]))
    return _output(setup, *geometry, bias_key(settings["bias"]))


@functools.lru_cache(maxsize=128)  # its pictures: 10-100 kB
def _output(setup: ConvSetup, stride: int, padding: int, dilation: int, bias: float) -> ConvOutput:
    shrunk = _shrunk(setup, stride, padding, dilation)
    pictures, scale = paint(convolution.add_bias(shrunk.maps, bias), shrunk.shown_canvas)
    # The full output's extremes: adding a number keeps the order, so min(x + b) is min(x) + b exactly.
    low, high = (float(convolution.add_bias(value, bias)) for value in (shrunk.low, shrunk.high))
    height, width = setup.photo.pixels.shape[:2]
    return ConvOutput(shrunk.shape, low, high, scale, pictures, (height + 2 * padding, width + 2 * padding))


@functools.lru_cache(maxsize=16)  # 30-130 kB each
def input_picture(photo: Photo, channel_mode: str, padding: int, padding_mode: str) -> bytes:
    """The input as the kernel sees it, with its padding, as the browser gets it."""
    return display_picture(seen_input(photo, channel_mode, padding, padding_mode), jpeg_quality=INPUT_QUALITY)


def clicked_pixel(setup: ConvSetup, settings: Mapping[str, float], shape: tuple[int, ...],
                  clicked: Clicked) -> conv_pixel.PixelArithmetic:  # fmt: skip
    """The arithmetic behind the output pixel clicked (kept on the output; its centre until one is).

    Args:
        shape: the output's shape (``ConvOutput.shape``).
        clicked: (row, col, picture) as stored by a click, or None.
    """
    out_h, out_w = shape[:2]
    row, col, picture = clicked or (out_h // 2, out_w // 2, 0)
    channel = min(picture, 2) if setup.channel_mode == "per_channel" else 0
    return conv_pixel.pixel_arithmetic(
        setup.photo.pixels, setup.weights, min(row, out_h - 1), min(col, out_w - 1), setup.channel_mode,
        int(settings["stride"]), int(settings["padding"]), int(settings["dilation"]), setup.padding_mode, setup.flip,
        float(settings["bias"]), channel=channel, divide_by=255,
    )  # fmt: skip


def shape_latex(height: int, width: int, kernel_shape: tuple[int, int], settings: Mapping[str, float]) -> str:
    """The output-size rule, then filled in with this image's numbers for H and W."""
    geometry = (int(settings["stride"]), int(settings["padding"]), int(settings["dilation"]))
    filled = [
        convolution.output_size_latex(height, kernel_shape[0], *geometry, symbol="H"),
        convolution.output_size_latex(width, kernel_shape[1], *geometry, symbol="W"),
    ]
    # "H_out = filled = working = result": the working and the result go on a line of their own,
    # so the formula fits the narrow column of a 1024 px projector instead of running off it.
    rows = [convolution.OUTPUT_SIZE_FORMULA.replace("=", "&=", 1)]
    for row in filled:
        symbol, numbers, working = row.split(" = ", 2)
        rows += [rf"{symbol} &= {numbers}", rf"&= {working}"]
    return r"\begin{aligned}" + r" \\[4pt] ".join(rows) + r"\end{aligned}"


def number_text(value: float) -> str:
    return f"{value:.3g}".replace("-", "−")


# --- HTML -------------------------------------------------------------------------------------


def _line(markdown: str) -> str:
    return f'<p class="conv-heading">{markdown_inline(markdown)}</p>'


def _caption(*sentences: str) -> str:
    return f'<div class="cnnviz-caption"><p>{html.escape(" ".join(sentences))}</p></div>'


def _note(markdown: str, kind: str) -> str:
    return f'<div class="cnnviz-note {kind}">{markdown_html(markdown)}</div>'


@functools.lru_cache(maxsize=16)  # one text per padding: every other slider's frames share it
def _input_part(photo: Photo, channel_mode: str, padding: int, padding_mode: str, alt: str) -> str:
    return f'<div class="conv-input">{picture_html(input_picture(photo, channel_mode, padding, padding_mode), alt, "")}</div>'


def _legend(output: ConvOutput, lang: str) -> str:
    """The colour bar, the range, what the colours mean (and that R, G, B share the scale)."""
    scale = output.scale
    legend = "conv.legend.diverging" if scale.colours == "diverging" else "conv.legend.gray"
    if scale.colours == "gray" and scale.low < 0:
        legend = "conv.legend.gray_signed"
    sentences = [
        i18n.translate("conv.range", lang, low=number_text(output.low), high=number_text(output.high)),
        i18n.translate(legend, lang, high=number_text(scale.high)),
        i18n.translate("conv.same_scale", lang),
    ]
    sentences += [i18n.translate("conv.maps_scale", lang)] if len(output.pictures) == 3 else []
    return grids.scale_legend_html(scale) + _caption(*sentences)


def _outputs(output: ConvOutput, step: conv_pixel.PixelArithmetic, lang: str) -> str:
    """The output (or R, G, B's three maps), clickable, the pixel clicked marked on its own map."""
    rows, cols = output.canvas
    marked = marks_svg(rows, cols, [Box(step.row, step.col, 1, 1, "pixel")])
    label = i18n.translate("conv.click_help", lang)
    captions = [""] if len(output.pictures) == 1 else [i18n.translate(f"conv.map.{name}", lang) for name in "rgb"]
    shown = []
    for index, (picture, caption) in enumerate(zip(output.pictures, captions, strict=True)):
        alt = caption or i18n.translate("conv.output", lang)
        marks = marked if index == step.channel else ""
        shown.append(clickable_picture_html(picture, rows, cols, index=index, alt=alt, caption=caption, marks=marks,
                                            at=(step.row, step.col), label=label))  # fmt: skip
    return f'<div class="click-view">{"".join(shown)}</div>'


def code_part(setup: ConvSetup, settings: Mapping[str, float], script: Script, lang: str) -> str:
    """The PyTorch code that loads the photo as the page does and convolves it with these settings."""
    geometry = {name: int(settings[name]) for name in ("stride", "padding", "dilation")}
    code = codegen.conv2d_on_image(
        script.path, script.source, setup.weights, setup.channel_mode, **geometry, padding_mode=setup.padding_mode,
        flip=setup.flip, bias=float(settings["bias"]), working_side=script.working_side,
    )  # fmt: skip
    return code_html(code, i18n.translate("ui.copy", lang))


def _sum_text(value: float) -> str:
    return f"{value:.3g}".replace("-", "−")


def _grids_row(*cells: str) -> str:
    """Number grids side by side, "×" and "=" between them (``ui.View.row``'s markup, widths 3 : 0.3)."""
    shown, widths = [], []
    for index, cell in enumerate(cells):
        if index:
            shown.append(f'<div class="cnnviz-operator">{"×" if index == 1 else "="}</div>')
            widths.append("0.3")
        shown.append(cell)
        widths.append("3")
    columns = " ".join(f"minmax(0,{width}fr)" for width in widths)
    inner = "".join(f'<div class="cnnviz-cell">{cell}</div>' for cell in shown)
    return f'<div class="cnnviz-row" style="grid-template-columns:{columns}">{inner}</div>'


def pixel_part(step: conv_pixel.PixelArithmetic, flip: bool, lang: str) -> str:
    """The window the output pixel clicked came from, times the kernel, and the products' sum with the bias."""
    heading = f"<h3>{html.escape(i18n.translate('conv.pixel_heading', lang, row=step.row, col=step.col))}</h3>"
    parts = [heading, f'<div class="cnnviz-caption">{markdown_html(i18n.translate("conv.pixel_help", lang))}</div>']
    cell = 44 if step.kernel.shape[1] <= 4 else 34
    kernel_title = i18n.translate("conv.kernel_flipped" if flip else "conv.kernel", lang)
    kernel_grid = grids.number_grid_html(step.kernel, kernel_title, decimals=3, cell_px=cell)
    sums = step.products.sum(axis=(1, 2))
    for window, products, name, total in zip(step.windows, step.products, step.channels, sums, strict=True):
        channel = i18n.translate(f"conv.pixel_channel.{name}", lang)
        window_grid = grids.number_grid_html(window, i18n.translate("conv.pixel_window", lang, channel=channel),
                                             shaded=step.in_padding, decimals=3, signed=False, cell_px=cell)  # fmt: skip
        product_title = i18n.translate("conv.pixel_products", lang, total=_sum_text(total))
        product_grid = grids.number_grid_html(products, product_title, decimals=3, cell_px=cell)
        parts.append(_grids_row(window_grid, kernel_grid, product_grid))
    index = r"c,i,j" if len(sums) > 1 else r"i,j"
    terms = " + ".join(f"({total:.4f})" if total < 0 else f"{total:.4f}" for total in sums)
    bias = f"({step.bias:g})" if step.bias < 0 else f"{step.bias:g}"
    latex = rf"\sum_{{{index}}} x\,w + b = {terms} + {bias} = \mathbf{{{step.value:.4f}}}"
    parts.append(f'<div class="scrub-formula">{formula_mathml(latex)}</div>')
    notes = ["conv.pixel_sum_note", "conv.pixel_padding_note" if step.in_padding.any() else None]
    value = f"{step.value:.4f}".replace("-", "−")
    said = " ".join(i18n.translate(key, lang, value=value) for key in notes if key)
    parts.append(f'<div class="cnnviz-caption">{markdown_html(said)}</div>')
    return f'<div class="conv-pixel">{"".join(parts)}</div>'


def conv_frame(setup: ConvSetup, settings: Mapping[str, float], clicked: Clicked = None,
               lang: str = i18n.DEFAULT_LANGUAGE, script: Script = Script()) -> tuple[str, ...]:  # fmt: skip
    """The view for one setting: one HTML text per slot of ``SLOTS`` (the last two drawn in places).

    Args:
        setup: the photo, the kernel (None: the typed kernel is not usable), the other settings.
        settings: {"stride", "padding", "dilation", "bias"} (see ``CONV_SLIDERS``).
        clicked: the output pixel clicked (see ``Clicked``).
        lang: the interface language.
        script: where the code loads the photo from.
    """
    geometry = (int(settings["stride"]), int(settings["padding"]), int(settings["dilation"]))
    return _frame(setup, *geometry, bias_key(settings["bias"]), clicked, lang, script)


@functools.lru_cache(maxsize=128)  # 15-130 kB each (~3 sliders' sets); a second student draws nothing
def _frame(setup: ConvSetup, stride: int, padding: int, dilation: int, bias: float, clicked: Clicked,
           lang: str, script: Script = Script()) -> tuple[str, ...]:  # fmt: skip
    settings = {"stride": stride, "padding": padding, "dilation": dilation, "bias": bias}
    height, width = setup.photo.pixels.shape[:2]
    channels = 1 if setup.channel_mode == "gray" else 3
    heading = i18n.translate("conv.input_heading", lang, height=height, width=width, channels=channels)
    slots = dict.fromkeys(SLOTS, "")
    slots["input_heading"] = _line(heading)
    alt = heading.replace("**", "")
    output = None
    if setup.kernel is None:
        slots["output"] = _note(i18n.translate("conv.fix_kernel", lang), "info")
    else:
        try:
            output = convolved(setup, settings)
        except ValueError as error:
            said = i18n.explain(error, lang) or str(error)
            slots["output"] = _note(f"**{i18n.translate('conv.no_output', lang)}** {said}", "warning")
    if output is None:  # the image as the channels see it, without padding
        slots["code"] = _note(i18n.translate("conv.code.no_output", lang), "info")
        slots["output_heading"] = _line(f"**{i18n.translate('conv.output', lang)}**")
        slots["input_picture"] = _input_part(setup.photo, setup.channel_mode, 0, "zeros", alt)
        slots["input_notes"] = _caption(i18n.translate("conv.input_note_plain", lang))
        return tuple(slots.values())
    out_h, out_w = output.shape[:2]
    key = "conv.output_heading_rgb" if len(output.shape) == 3 else "conv.output_heading"
    slots["output_heading"] = _line(i18n.translate(key, lang, height=out_h, width=out_w))
    step = clicked_pixel(setup, settings, output.shape, clicked)
    slots["input_picture"] = _input_part(setup.photo, setup.channel_mode, padding, setup.padding_mode, alt)
    slots["input_marks"] = (
        f'<div class="conv-marks">{marks_svg(*output.canvas, window_boxes(step.tap_rows, step.tap_cols))}</div>'
    )
    slots["input_notes"] = _caption(
        i18n.translate("conv.input_note" if padding else "conv.input_note_plain", lang),
        i18n.translate("conv.window_note", lang, row=step.row, col=step.col),
    )
    slots["maps" if len(output.pictures) == 3 else "output"] = _outputs(output, step, lang)
    slots["legend"] = _legend(output, lang)
    latex = shape_latex(height, width, setup.weights.shape, settings)
    title = _line(f"**{i18n.translate('conv.formula', lang)}**")
    formula = f'<div class="scrub-formula">{formula_mathml(latex)}</div>'
    slots["formula"] = title + formula + _caption(i18n.translate("conv.formula_legend", lang))
    slots["code"] = code_part(setup, settings, script, lang)
    slots["pixel"] = pixel_part(step, setup.flip, lang)
    return tuple(slots.values())


def frames_context(setup: ConvSetup, clicked: Clicked, lang: str, script: Script = Script()) -> str:
    """What the frames depend on besides the sliders, as a short digest (a new photo, kernel, click, language,
    or where the code loads the photo from): frames kept from another context are never shown."""
    return hashlib.blake2b(repr((setup, clicked, lang, script)).encode(), digest_size=8).hexdigest()


def conv_frame_set(setup: ConvSetup, values: Mapping[str, float], clicked: Clicked = None,
                   lang: str = i18n.DEFAULT_LANGUAGE, pressed: str | None = None,
                   script: Script = Script()) -> dict:  # fmt: skip
    """The view around ``values``: its base frame, and the frames of slider ``pressed`` (if any) for
    each of its values (``frames.frame_sets``, lazy: the view asks for a slider's frames when pressed).
    Every frame holds the code and the pixel clicked's arithmetic, drawn in places (``PLACES``)."""
    sliders = [
        Slider(name, i18n.translate(f"conv.{name}", lang), low, high, values[name], step,
               i18n.translate(f"conv.{name}_help", lang))
        for name, (low, high, _, step) in CONV_SLIDERS.items()
    ]  # fmt: skip
    draw = lambda settings: conv_frame(setup, settings, clicked, lang, script)  # noqa: E731
    only = [pressed] if pressed in CONV_SLIDERS else []
    context = frames_context(setup, clicked, lang, script)
    return frame_sets(sliders, draw, {"class": VIEW_CLASS}, only=only, context=context, places=PLACES)
