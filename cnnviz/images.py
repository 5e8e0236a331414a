"""Loading images from bytes a user uploaded, safely, into one predictable form.

Whatever arrives (RGBA, palette, 16-bit, CMYK, EXIF-rotated, animated, huge), the
result is an upright (H, W, 3) uint8 RGB array no larger than a working size, plus
notes that say what was done to it. Anything that is not a readable image raises
``ImageError`` with a sentence the page can show as it is.
"""

from __future__ import annotations

import dataclasses
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import ExifTags, Image, UnidentifiedImageError

from cnnviz.refusals import Refusal

ASSETS = Path(__file__).resolve().parent.parent / "assets"
SAMPLES_DIR = ASSETS / "samples"

#: Longest side of the array the app computes on; larger images are shrunk to it.
WORKING_SIDE = 1024
#: Images above this many pixels are refused before decoding (decompression bombs).
#: Below Pillow's own limit (89 MP), so our refusal, with its sentence, always comes first.
MAX_PIXELS = 64_000_000
#: Uploads above this many bytes are refused (the sidebar uploader's own limit; the server takes weight files).
MAX_BYTES = 25 * 1024 * 1024
#: Background that transparent pixels are composited onto.
BACKGROUND = (255, 255, 255)
#: The formats we decode, as Pillow names them (its JPEG reader also returns "MPO": many
#: phone JPEGs carry a second picture, a preview or a depth map). Every other Pillow
#: plugin stays off: text formats such as XBM would turn a C file into a "picture", and
#: EPS would run Ghostscript on an upload.
FORMATS = ("PNG", "JPEG", "GIF", "WEBP", "BMP", "TIFF")
#: Formats whose extra frames are an animation (TIFF's are pages; MPO's extra pictures are ignored).
ANIMATED_FORMATS = ("PNG", "GIF", "WEBP")
#: How to turn a stored image upright, by EXIF orientation (2..8; 1 is already upright).
UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

UNREADABLE = "This file is not an image we can read (PNG, JPEG, GIF, WebP, BMP or TIFF)."
DAMAGED = "The image is damaged or truncated and cannot be decoded."
# First bytes of the formats we read, to tell a damaged image from something else.
_SIGNATURES = (b"\x89PNG", b"\xff\xd8", b"GIF8", b"BM", b"II*\x00", b"MM\x00*")
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis"}


class ImageError(Refusal):
    """An upload that cannot be used as an image; the message says why (``reason`` and ``values``: in any language)."""


class Note(str):
    """A sentence about what was done to an image, with a ``reason`` code and ``values`` (as a
    :class:`Refusal` has) so a page can say it in the session's language; it is the English sentence."""

    reason: str
    values: dict

    def __new__(cls, reason: str, text: str, **values: object) -> Note:
        note = super().__new__(cls, text)
        note.reason, note.values = reason, values
        return note


@dataclass(frozen=True)
class LoadedImage:
    """An image ready for the lessons.

    Attributes:
        pixels: (H, W, 3) uint8 RGB, upright, at most ``WORKING_SIDE`` per side.
        original_size: upright (width, height) of the image as uploaded, before shrinking.
        notes: sentences about what was converted (shown under the image).
        name: the bundled sample's file name; empty for an upload.
    """

    pixels: np.ndarray
    original_size: tuple[int, int]
    notes: tuple[str, ...] = ()
    name: str = ""

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

    Only the first frame of an animation (or page of a TIFF) is used; EXIF
    orientation is applied; transparency is composited on ``BACKGROUND``; images
    larger than ``working_side`` are shrunk (JPEGs are decoded at a reduced scale).
    Each of these is said in ``notes``.

    Args:
        data: the file's bytes.
        working_side: longest side of the result; larger images are shrunk.

    Returns:
        The image, (H, W, 3) uint8 with max(H, W) <= working_side.

    Raises:
        ImageError: for empty, oversized, corrupt, truncated or non-image data
            (PDF, SVG, HEIC... are named), and for images with more than
            ``MAX_PIXELS`` pixels (checked from the header, before decoding).
    """
    if not data:
        raise ImageError("image_empty", "The file is empty (0 bytes).")
    if len(data) > MAX_BYTES:
        # Rounded up, so a file just over the limit never reads as "25.0 MB".
        size = math.ceil(len(data) / 2**20 * 10) / 10
        raise ImageError(
            "image_too_large", f"The file is {size:.1f} MB, over the {MAX_BYTES // 2**20} MB limit.",
            size=f"{size:.1f}", limit=MAX_BYTES // 2**20,
        )  # fmt: skip
    try:
        return _decode(data, working_side)
    except ImageError:
        raise
    except UnidentifiedImageError:
        raise _what_it_is(data) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        # Pillow's own limit (only reached if MAX_PIXELS is raised above it); its message has the count.
        claimed = re.search(r"\((\d+) pixels\)", str(error))
        raise _too_many_pixels(int(claimed[1]) if claimed else None) from None
    except MemoryError:
        raise ImageError(
            "image_no_memory", "There is not enough memory to decode this image now; try a smaller one."
        ) from None
    except Exception as error:
        # Pillow's decoders raise many kinds of error on malformed input (OSError, SyntaxError,
        # struct.error, EOFError, ValueError...): each means these bytes cannot be decoded.
        # The cause stays chained for the server log.
        raise ImageError("image_damaged", DAMAGED) from error


def _decode(data: bytes, working_side: int) -> LoadedImage:
    image = Image.open(io.BytesIO(data), formats=FORMATS)
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise _too_many_pixels(width * height, width, height)
    notes = []
    frames = getattr(image, "n_frames", 1)
    if frames > 1 and image.format in ANIMATED_FORMATS:
        notes.append(Note("image_animated", f"Animated image: the first of its {frames} frames is used.", frames=frames))
    elif frames > 1 and image.format == "TIFF":
        notes.append(Note("image_pages", f"Multi-page TIFF: the first of its {frames} pages is used.", frames=frames))
    if max(width, height) > working_side:
        # JPEG only (a no-op for other formats): decode at 1/2, 1/4 or 1/8 scale when
        # that still leaves the longest side at least ``working_side``.
        shrink = working_side / max(width, height)
        image.draft(None, (math.ceil(width * shrink), math.ceil(height * shrink)))
    image.load()  # the first frame; errors in the pixel data surface here
    orientation = _orientation(image)
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    rgb = _to_rgb(image, notes)
    if max(rgb.size) > working_side:
        rgb.thumbnail((working_side, working_side), Image.Resampling.LANCZOS)
    if orientation in UPRIGHT:
        rgb = rgb.transpose(UPRIGHT[orientation])
        notes.append(Note("image_upright", "Turned upright as the photo's EXIF orientation says."))
    if max(width, height) > working_side:
        notes.append(Note(
            "image_large", f"Large image ({width} x {height}): computed at {rgb.width} x {rgb.height}.",
            width=width, height=height, shown_width=rgb.width, shown_height=rgb.height,
        ))  # fmt: skip
    return LoadedImage(np.asarray(rgb, dtype=np.uint8), (width, height), tuple(notes))


def _orientation(image: Image.Image) -> int:
    """The EXIF orientation (1..8); 1 when absent or unreadable (a broken tag never refuses a photo)."""
    try:
        value = image.getexif().get(ExifTags.Base.Orientation, 1)
    except Exception:
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _too_many_pixels(pixels: int | None, width: int | None = None, height: int | None = None) -> ImageError:
    limit = f"the limit is {MAX_PIXELS / 1e6:.0f} megapixels. It was not decoded."
    values = {"limit": f"{MAX_PIXELS / 1e6:.0f}"}
    if pixels is None:
        return ImageError("image_too_many_pixels", f"The image claims more pixels than the app can handle; {limit}", **values)
    megapixels = f"{pixels / 1e6:,.0f} megapixels"
    if width and height:
        return ImageError(
            "image_claims_size", f"The image claims {width} x {height} pixels ({megapixels}); {limit}",
            width=width, height=height, megapixels=f"{pixels / 1e6:,.0f}", **values,
        )  # fmt: skip
    return ImageError("image_claims", f"The image claims {megapixels}; {limit}", megapixels=f"{pixels / 1e6:,.0f}", **values)


def _what_it_is(data: bytes) -> ImageError:
    """Why bytes that Pillow could not identify are refused, naming what they are when we can tell."""
    head = data[:4096]
    if b"%PDF-" in head[:1024]:
        return ImageError("image_pdf", "This is a PDF document, not an image. Export the page as PNG or JPEG.")
    if b"<svg" in head.lower():
        return ImageError(
            "image_svg", "SVG drawings are not supported: they are instructions, not pixels. Export it as PNG."
        )
    if head[4:8] == b"ftyp":
        if head[8:12] in _HEIF_BRANDS:
            return ImageError(
                "image_heic",
                "HEIC/AVIF photos are not supported here. Save the photo as JPEG or PNG "
                "(on an iPhone: Settings > Camera > Formats > Most Compatible).",
            )
        return ImageError(
            "image_video", "This is a video or other media file, not a still image. Upload a PNG or JPEG."
        )
    if head.startswith(_SIGNATURES) or (head.startswith(b"RIFF") and head[8:12] == b"WEBP"):
        return ImageError("image_damaged", DAMAGED)
    if head.startswith(b"PK\x03\x04"):
        return ImageError("image_zip", "This is a ZIP archive (or an Office document), not an image.")
    if _is_text(head):
        return ImageError("image_text", "This is a text file, not an image, whatever its name says.")
    return ImageError("image_unreadable", UNREADABLE)


def _is_text(head: bytes) -> bool:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 3:  # not just a character cut at the end of the sample
            return False
        text = head[: error.start].decode("utf-8")
    return bool(text) and all(char.isprintable() or char in "\t\n\r\f" for char in text)


def _to_rgb(image: Image.Image, notes: list[str]) -> Image.Image:
    """Convert any PIL mode to RGB, compositing transparency on ``BACKGROUND``."""
    mode = image.mode
    if mode.startswith("I") or mode == "F":
        # 16-bit, 32-bit integer or float samples: stretch the range used to 8 bits.
        values = np.nan_to_num(np.asarray(image, dtype=np.float32), posinf=0.0, neginf=0.0)
        low, high = float(values.min()), float(values.max())
        scaled = (values - low) * (255 / (high - low)) if high > low else np.zeros_like(values)
        image = Image.fromarray(scaled.round().astype(np.uint8), "L")
        reason, depth = ("image_16bit", "16-bit") if ";16" in mode else ("image_deep", "High bit-depth")
        notes.append(Note(reason, f"{depth} image: its range was scaled to 8 bits."))
    elif mode == "CMYK":
        notes.append(Note("image_cmyk", "CMYK image: converted to RGB."))
    if image.mode in ("RGBA", "LA", "PA", "RGBa") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        if rgba.getchannel("A").getextrema()[0] < 255:
            notes.append(Note("image_transparent", "Transparent areas are shown on white."))
        background = Image.new("RGBA", rgba.size, (*BACKGROUND, 255))
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
        raise ImageError("image_no_sample", f"There is no sample image called {name!r}.", name=name)
    return dataclasses.replace(load_image((SAMPLES_DIR / name).read_bytes(), working_side), name=name)


def resize_longest_side(pixels: np.ndarray, side: int) -> np.ndarray:
    """Shrink an (H, W[, C]) uint8 array so its longest side is at most ``side``."""
    image = Image.fromarray(pixels)
    if max(image.size) > side:
        image.thumbnail((side, side), Image.Resampling.LANCZOS)
    return np.asarray(image)


def upscale_nearest(array: np.ndarray, min_side: int, max_side: int = WORKING_SIDE) -> np.ndarray:
    """Repeat pixels (nearest neighbour) until the shorter side reaches ``min_side``,
    as long as the longer side stays within ``max_side``.

    Browsers smooth small images when they enlarge them; repeating pixels keeps each
    one a visible square. The cap keeps a 1 x 1000 strip from becoming 240 x 240000.
    """
    height, width = array.shape[:2]
    factor = max(1, min(-(-min_side // min(height, width)), max_side // max(height, width)))
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
