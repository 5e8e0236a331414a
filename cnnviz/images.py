"""Loading images from bytes a user uploaded, safely, into one predictable form.

Whatever arrives (RGBA, palette, 16-bit, CMYK, EXIF-rotated, animated, huge), the
result is an upright (H, W, 3) uint8 RGB array no larger than a working size, plus
notes that say what was done to it. Anything that is not a readable image raises
``ImageError`` with a sentence the page can show as it is.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

ASSETS = Path(__file__).resolve().parent.parent / "assets"
SAMPLES_DIR = ASSETS / "samples"

#: Longest side of the array the app computes on; larger images are shrunk to it.
WORKING_SIDE = 1024
#: Images above this many pixels are refused before decoding (decompression bombs).
MAX_PIXELS = 64_000_000
#: Uploads above this many bytes are refused (matches server.maxUploadSize).
MAX_BYTES = 25 * 1024 * 1024
#: Background that transparent pixels are composited onto.
BACKGROUND = (255, 255, 255)


class ImageError(ValueError):
    """An upload that cannot be used as an image; the message says why."""


@dataclass(frozen=True)
class LoadedImage:
    """An image ready for the lessons.

    Attributes:
        pixels: (H, W, 3) uint8 RGB, upright, at most ``WORKING_SIDE`` per side.
        original_size: (width, height) of the file as uploaded.
        notes: sentences about what was converted (shown under the image).
    """

    pixels: np.ndarray
    original_size: tuple[int, int]
    notes: tuple[str, ...] = ()

    @property
    def gray(self) -> np.ndarray:
        """(H, W) float32 luminance in 0..1."""
        return np.asarray(Image.fromarray(self.pixels).convert("L"), dtype=np.float32) / 255.0

    @property
    def rgb(self) -> np.ndarray:
        """(H, W, 3) float32 in 0..1."""
        return self.pixels.astype(np.float32) / 255.0


def load_image(data: bytes, working_side: int = WORKING_SIDE) -> LoadedImage:
    """Decode uploaded bytes into a ``LoadedImage``.

    Args:
        data: the file's bytes.
        working_side: longest side of the result; larger images are shrunk.

    Raises:
        ImageError: for empty, oversized, corrupt, truncated or non-image data, and
            for images with more than ``MAX_PIXELS`` pixels (checked from the header,
            before decoding).
    """
    if not data:
        raise ImageError("The file is empty (0 bytes).")
    if len(data) > MAX_BYTES:
        raise ImageError(f"The file is {len(data) / 2**20:.0f} MB; the limit is {MAX_BYTES // 2**20} MB.")
    _refuse_known_non_images(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise ImageError(
                    f"The image claims {width} x {height} pixels ({width * height / 1e6:.0f} megapixels); "
                    f"the limit is {MAX_PIXELS / 1e6:.0f}. It was not decoded."
                )
            notes = []
            if getattr(image, "n_frames", 1) > 1:
                notes.append(f"Animated image: the first of its {image.n_frames} frames is used.")
                image.seek(0)
            image.load()
            upright = ImageOps.exif_transpose(image)
            if upright is not image and upright.size != image.size:
                notes.append("Rotated upright as its EXIF orientation says.")
            rgb = _to_rgb(upright, notes)
    except ImageError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError("This file is not an image we can read (PNG, JPEG, GIF, WebP, BMP or TIFF).") from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, MemoryError) as error:
        raise ImageError(f"The image is damaged or truncated and cannot be decoded ({error}).") from None
    if max(rgb.size) > working_side:
        rgb.thumbnail((working_side, working_side), Image.Resampling.LANCZOS)
        notes.append(f"Large image ({width} x {height}): computed at {rgb.width} x {rgb.height}.")
    return LoadedImage(np.asarray(rgb, dtype=np.uint8), (width, height), tuple(notes))


def _refuse_known_non_images(data: bytes) -> None:
    head = data[:512].lstrip()
    if head.startswith(b"%PDF"):
        raise ImageError("This is a PDF document, not an image. Export a page as PNG or JPEG.")
    if head.startswith(b"<?xml") or head[:256].lower().find(b"<svg") >= 0:
        raise ImageError("SVG drawings are not supported: they are instructions, not pixels. Export it as PNG.")
    if data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftyphevc", b"ftypavif"):
        raise ImageError("HEIC/AVIF photos are not supported here. Save the photo as JPEG or PNG.")


def _to_rgb(image: Image.Image, notes: list[str]) -> Image.Image:
    """Convert any PIL mode to RGB, compositing transparency on ``BACKGROUND``."""
    mode = image.mode
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16- or 32-bit integer samples: stretch the used range to 8 bits.
        values = np.asarray(image, dtype=np.float64)
        low, high = float(values.min()), float(values.max())
        scaled = (values - low) / (high - low) * 255 if high > low else np.zeros_like(values)
        image = Image.fromarray(scaled.round().astype(np.uint8), "L")
        notes.append("16-bit image: its range was scaled to 8 bits for display.")
    elif mode == "F":
        values = np.nan_to_num(np.asarray(image, dtype=np.float64))
        low, high = float(values.min()), float(values.max())
        scaled = (values - low) / (high - low) * 255 if high > low else np.zeros_like(values)
        image = Image.fromarray(scaled.round().astype(np.uint8), "L")
    elif mode == "CMYK":
        notes.append("CMYK image: converted to RGB.")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "RGB" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        if rgba.getchannel("A").getextrema()[0] < 255:
            notes.append("Transparent areas are shown on white.")
        background = Image.new("RGBA", rgba.size, BACKGROUND + (255,))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def sample_names() -> list[str]:
    """File names of the bundled sample images, sorted."""
    return sorted(path.name for path in SAMPLES_DIR.glob("*") if path.suffix.lower() in (".png", ".jpg", ".jpeg"))


def load_sample(name: str, working_side: int = WORKING_SIDE) -> LoadedImage:
    """A bundled sample image by file name.

    Raises:
        ImageError: for a name that is not a bundled sample.
    """
    if name not in sample_names():
        raise ImageError(f"There is no sample image called {name!r}.")
    return load_image((SAMPLES_DIR / name).read_bytes(), working_side)


def resize_longest_side(pixels: np.ndarray, side: int) -> np.ndarray:
    """Shrink an (H, W[, C]) uint8 array so its longest side is at most ``side``."""
    image = Image.fromarray(pixels)
    if max(image.size) > side:
        image.thumbnail((side, side), Image.Resampling.LANCZOS)
    return np.asarray(image)


def upscale_nearest(array: np.ndarray, min_side: int) -> np.ndarray:
    """Repeat pixels (nearest neighbour) until the shorter side reaches ``min_side``.

    Browsers smooth small images when they enlarge them; repeating pixels keeps each
    one a visible square.
    """
    factor = max(1, -(-min_side // min(array.shape[:2])))
    return np.repeat(np.repeat(array, factor, axis=0), factor, axis=1) if factor > 1 else array


def to_display(values: np.ndarray, symmetric: bool = False) -> np.ndarray:
    """Map a float map to uint8 for display.

    Args:
        values: (H, W) or (H, W, 3).
        symmetric: map [-m, m] to [0, 255] with 0 at mid-grey (for signed outputs);
            otherwise stretch [min, max] to [0, 255].
    """
    finite = np.nan_to_num(np.asarray(values, dtype=np.float64))
    if symmetric:
        bound = float(np.abs(finite).max()) or 1.0
        scaled = (finite / bound + 1) / 2
    else:
        low, high = float(finite.min()), float(finite.max())
        scaled = (finite - low) / (high - low) if high > low else np.zeros_like(finite)
    return (scaled * 255).round().astype(np.uint8)
