"""Pictures of feature maps: colours, tile grids, overlays, kernels and charts.

Colours: one diverging scale everywhere (blue < 0 < red, zero is white), the scale of
``cnnviz.drawing.grids``, so a ReLU's output, which is never negative, shows white to red.
Pictures are composed here, server-side, as one uint8 image per layer: a browser gets
one image instead of dozens.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence

import numpy as np
from PIL import Image

from cnnviz.drawing.charts import Chart
from cnnviz.drawing.grids import DIVERGING, colour_bar_html, colour_lut
from cnnviz.images import resize_longest_side, upscale_nearest

#: Longest side of a picture as sent to the browser; computation uses the full working size.
DISPLAY_SIDE = 480


def colorize(values: np.ndarray, bound: float | None = None) -> np.ndarray:
    """Colour a (H, W) map: -bound is blue, 0 white, +bound red (None: the map's own max |value|).

    Returns:
        (H, W, 3) uint8.
    """
    limit = bound if bound else float(np.abs(values).max()) or 1.0
    index = np.clip((values / limit + 1) / 2 * 255, 0, 255).round().astype(np.uint8)
    return colour_lut(DIVERGING)[index]


def png(picture: np.ndarray) -> bytes:
    """A uint8 picture, (H, W, 3) or (H, W), as PNG bytes: what a browser is sent, made once
    for a cached picture instead of on every rerun."""
    encoded = io.BytesIO()
    Image.fromarray(picture).save(encoded, format="PNG")
    return encoded.getvalue()


def jpeg(picture: np.ndarray, quality: int = 85) -> bytes:
    """A uint8 photo, (H, W[, 3]), as JPEG bytes: a tenth of its PNG's size, where square pixels need not stay sharp."""
    encoded = io.BytesIO()
    Image.fromarray(picture).save(encoded, format="JPEG", quality=quality)
    return encoded.getvalue()


def display_picture(pixels: np.ndarray, small_side: int = 240, jpeg_quality: int = 85) -> bytes:
    """A uint8 picture, (H, W[, 1 or 3]), encoded as the browser gets it: longest side at most
    ``DISPLAY_SIDE``; enlarged with square pixels until its shorter side reaches ``small_side`` and
    sent as PNG (which keeps them sharp) when it is that small, else JPEG."""
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = pixels[..., 0]
    shown = resize_longest_side(pixels, DISPLAY_SIDE)
    enlarged = upscale_nearest(shown, small_side)
    return png(enlarged) if enlarged.shape != shown.shape else jpeg(shown, jpeg_quality)


def picture_html(picture: bytes, alt: str = "", style: str = "max-width:100%") -> str:
    """A PNG or JPEG as an ``<img>`` with the picture inside it (a ``data:`` source): it travels with its HTML."""
    kind = "png" if picture.startswith(b"\x89PNG") else "jpeg"
    source = base64.b64encode(picture).decode()
    return f'<img src="data:image/{kind};base64,{source}" alt="{html.escape(alt)}" style="{style}">'


def labelled_rows_html(rows: Sequence[tuple[str, Sequence[str], bytes]]) -> str:
    """Rows of (bold title, detail lines, PNG): the label left, the picture right, in one HTML block.

    One element for a whole stack of layers: a browser redraws a page's elements one by one.
    """
    cells = "".join(
        f'<div style="align-self:center"><b>{html.escape(title)}</b>'
        + "".join(f"<br>{html.escape(line)}" for line in lines)
        + f"</div><div>{picture_html(picture, title)}</div>"
        for title, lines, picture in rows
    )
    return f'<div style="display:grid;grid-template-columns:1fr 5fr;gap:12px 16px;align-items:center">{cells}</div>'


def captioned_row_html(items: Sequence[tuple[bytes, str]], pixelated: bool = False) -> str:
    """Pictures side by side, the same width each, a small caption under each, in one HTML block.

    ``pixelated``: the browser enlarges them without smoothing, every pixel a visible square
    (for maps sent at their own, small size).
    """
    style = "width:100%;object-fit:fill" + (";image-rendering:pixelated" if pixelated else "")
    cells = "".join(
        f'<figure style="margin:0;flex:1;min-width:0">{picture_html(picture, caption, style)}'
        f'<figcaption style="font-size:.875rem;opacity:.7;text-align:center">{html.escape(caption)}</figcaption>'
        "</figure>"
        for picture, caption in items
    )
    return f'<div style="display:flex;gap:16px;align-items:flex-start;margin-bottom:1rem">{cells}</div>'


def tile_grid(maps: np.ndarray, bound: float | None, columns: int, tile: int, gap: int = 2) -> np.ndarray:
    """All channels of a layer side by side in one image (one picture instead of C).

    Args:
        maps: (C, H, W).
        bound: the colour bound (see ``colour_bounds``); None: each tile its own.
        columns: tiles per row (fewer if there are fewer channels).
        tile: tile side in pixels for the longer map side: small maps are enlarged by
            repeating pixels (whole multiples, so every value stays a square), large ones
            are shrunk.
        gap: white pixels between tiles.

    Returns:
        (rows * (h + gap) - gap, columns * (w + gap) - gap, 3) uint8, with (h, w) the tile size.
    """
    channels, height, width = maps.shape
    if max(height, width) <= tile:
        factor = tile // max(height, width)
        h, w = height * factor, width * factor
    else:
        scale = tile / max(height, width)
        h, w = max(1, round(height * scale)), max(1, round(width * scale))
    columns = max(1, min(columns, channels))
    rows = -(-channels // columns)
    grid = np.full((rows * (h + gap) - gap, columns * (w + gap) - gap, 3), 255, np.uint8)
    for channel in range(channels):
        r, c = divmod(channel, columns)
        picture = colorize(maps[channel], bound)
        if (h, w) == (height, width):
            sized = picture
        elif h >= height:
            sized = picture.repeat(h // height, 0).repeat(w // width, 1)
        else:
            sized = np.asarray(Image.fromarray(picture).resize((w, h), Image.Resampling.BOX))
        grid[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = sized
    return grid


def input_tiles(pixels: np.ndarray, tile: int, gap: int = 2) -> np.ndarray:
    """The input picture and, for colour, its red, green and blue channels side by side.

    Each channel is drawn as light of its colour (black = 0, full colour = 255), so the
    three add up to the picture.

    Args:
        pixels: (H, W, C) uint8 with C = 1 or 3, the network's input before normalisation.
        tile: longest side of each tile in pixels.

    Returns:
        (h, w) for gray or (h, 4 * w + 3 * gap) for colour, x 3, uint8.
    """
    if pixels.shape[2] == 1:
        pictures = [np.repeat(pixels, 3, axis=2)]
    else:
        pictures = [pixels] + [pixels * np.eye(3, dtype=np.uint8)[channel] for channel in range(3)]
    side = max(pixels.shape[:2])
    sized = [
        np.asarray(
            Image.fromarray(p).resize(
                (round(p.shape[1] * tile / side), round(p.shape[0] * tile / side)),
                Image.Resampling.NEAREST if side < tile else Image.Resampling.BOX,
            )
        )
        for p in pictures
    ]
    spacer = np.full((sized[0].shape[0], gap, 3), 255, np.uint8)
    return np.concatenate([part for picture in sized for part in (picture, spacer)][:-1], axis=1)


def overlay(activation: np.ndarray, image: np.ndarray, side: int = 320, opacity: float = 0.65) -> np.ndarray:
    """Where a channel fires, painted over the image it looked at.

    Args:
        activation: (h, W) map; its positive part is shown, scaled to its max.
        image: (H, W, 3) or (H, W) uint8, the network's input picture.
        side: longest side of the result.
        opacity: how strongly the strongest response covers the image.

    Returns:
        (H', W', 3) uint8; the map is enlarged smoothly to the image's size.
    """
    base = Image.fromarray(image).convert("RGB")
    scale = side / max(base.size)
    base = base.resize((round(base.width * scale), round(base.height * scale)), Image.Resampling.NEAREST)
    heat = np.asarray(Image.fromarray(activation.astype(np.float32)).resize(base.size, Image.Resampling.BILINEAR))
    heat = np.clip(heat, 0, None) / (heat.max() or 1.0)
    alpha = (heat * opacity)[..., None]
    red = np.array([220, 38, 38], dtype=np.float64)
    return (np.asarray(base) * (1 - alpha) + red * alpha).round().astype(np.uint8)


def kernel_image(weight: np.ndarray) -> np.ndarray:
    """A convolution kernel as a picture.

    Args:
        weight: (C_in, kh, kw), the kernel that makes one output channel.

    Returns:
        uint8: (kh, kw, 3), a colour picture for a 3-channel input and a gray one for a
        1-channel input (zero is mid-grey, the largest |weight| black or full colour),
        else a diverging-colour tile grid of the C_in slices, (rows*(kh+1)-1, cols*(kw+1)-1, 3).
    """
    bound = float(np.abs(weight).max()) or 1.0
    if weight.shape[0] in (1, 3):
        picture = ((weight.transpose(1, 2, 0) / bound + 1) / 2 * 255).round().astype(np.uint8)
        return np.repeat(picture, 3 // weight.shape[0], axis=2)
    columns = int(np.ceil(np.sqrt(weight.shape[0])))
    return tile_grid(weight, bound, columns, tile=max(weight.shape[1:]), gap=1)


def colour_legend(bound: float | None, label: str) -> str:
    """A slim horizontal colour bar from -bound to +bound (HTML), for the tile grids."""
    ticks = [-1.0, -0.5, 0.0, 0.5, 1.0]
    text = [f"{tick * bound:.3g}".replace("-", "−") for tick in ticks] if bound else ["−max", "", "0", "", "+max"]
    return colour_bar_html(
        "diverging", [((tick + 1) / 2, words) for tick, words in zip(ticks, text, strict=True)], label
    )


def probability_chart(names: Sequence[str], probabilities: np.ndarray, k: int, title: str = "") -> str:
    """Horizontal bars of the ``k`` most probable classes, most probable on top, as SVG.

    The axis is in percent; each bar is labelled with its percentage, also its tooltip.
    """
    order = np.argsort(-probabilities, kind="stable")[:k]
    percents = 100 * probabilities[order]
    chart = Chart(
        width=440, height=56 + 28 * len(order), title=title, x_range=(0, 100), categories=[names[i] for i in order]
    )
    chart.hbars(percents, "#2563eb", hover=[f"{names[i]}: {probabilities[i]:.2%}" for i in order])
    for row, percent in enumerate(percents):
        # Past the end of a short bar, inside the end of a long one (white on blue).
        inside = percent > 85
        chart.text(percent - 7 if inside else percent + 6, len(order) - 1 - row, f"{percent:.1f}%",
                   "#ffffff" if inside else "currentColor")  # fmt: skip
    return chart.svg()


#: Longer feature vectors (AlexNet's and VGG's 4096) are drawn as one line: their bars would be
#: thinner than a pixel, too thin to point at, and 4096 of them make a 400 kB SVG.
MAX_VECTOR_BARS = 1024


def feature_vector_chart(vector: np.ndarray, title: str = "") -> str:
    """The extracted feature vector as one bar per number (index on x), as SVG.

    Up to ``MAX_VECTOR_BARS`` numbers each get a bar with its index and value as tooltip;
    a longer vector is one line through its numbers.
    """
    chart = Chart(width=640, height=220, title=title)  # at its narrowest (12 px text) it fits a 1024 px projector
    indices = np.arange(len(vector))
    if len(vector) > MAX_VECTOR_BARS:
        return chart.line(indices, vector, "#64748b", width=1).svg()
    hover = [f"#{index}: {value:.3g}" for index, value in enumerate(vector)]
    return chart.bars(indices, vector, "#64748b", bar_width=1.0, hover=hover).svg()


def kernel_gallery(weights: np.ndarray, columns: int, tile: int, gap: int = 2) -> np.ndarray:
    """Every kernel of a convolution as a small picture, in one grid (the first layer's "what it looks for").

    Args:
        weights: (C_out, C_in, kh, kw) with C_in 1 or 3: each kernel as ``kernel_image`` draws
            it (zero mid-grey, its own largest |weight| full colour), so each kernel's pattern
            shows whatever its size.
        columns: kernels per row.
        tile: the tile side: kernels are enlarged by a whole factor (square weights) up to it.
        gap: white pixels between tiles.

    Returns:
        (rows * (kh * f + gap) - gap, columns * (kw * f + gap) - gap, 3) uint8, f = tile // max(kh, kw).

    Raises:
        ValueError: for kernels that read neither 1 nor 3 channels (they are no picture).
    """
    count, channels, height, width = weights.shape
    if channels not in (1, 3):
        raise ValueError(f"Kernels reading {channels} channels are not pictures; only a first layer's are.")
    factor = max(1, tile // max(height, width))
    h, w = height * factor, width * factor
    columns = max(1, min(columns, count))
    rows = -(-count // columns)
    grid = np.full((rows * (h + gap) - gap, columns * (w + gap) - gap, 3), 255, np.uint8)
    for index in range(count):
        r, c = divmod(index, columns)
        picture = kernel_image(weights[index]).repeat(factor, 0).repeat(factor, 1)
        grid[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = picture
    return grid
