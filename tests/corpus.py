"""A corpus of uploads, written at test time: what phones and classrooms actually send.

Each ``Upload`` builds its bytes with PIL, numpy or by hand (no binary is stored), and
says what the loader must do with it: load it (shape, notes, a pixel check) or refuse
it (words the refusal must contain). ``tests/engine/test_images.py`` drives every case
through ``cnnviz.images.load_image``; ``tests/app/test_uploads.py`` drives cases
through the app's sidebar.

Pixel layouts are chosen so that a mistake shows: four differently coloured corners
make each of the eight EXIF orientations distinct, transparent areas hide a colour
that must not come through, the first frame of an animation differs from the others.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image

from cnnviz.images import MAX_BYTES, WORKING_SIDE

RED, GREEN, BLUE, WHITE, BLACK = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255), (0, 0, 0)
#: Top-left, top-right, bottom-left, bottom-right colours of ``quadrants``.
CORNERS = (RED, GREEN, BLUE, WHITE)
#: EXIF tag 0x0112.
ORIENTATION_TAG = 0x0112


@dataclass(frozen=True)
class Upload:
    """One file a user might upload, and what must happen to it.

    Attributes:
        name: the file name as uploaded (its extension is whatever the user's file had).
        build: makes the bytes.
        shape: (H, W, 3) of the loaded pixels; None when the file must be refused.
        notes: phrases the loader's notes must contain, one per note, no other notes.
        refusal: phrases the refusal must contain (case-insensitive); empty when it loads.
        check: further assertions on the loaded pixels.
    """

    name: str
    build: Callable[[], bytes]
    shape: tuple[int, int, int] | None = None
    notes: tuple[str, ...] = ()
    refusal: tuple[str, ...] = ()
    check: Callable[[np.ndarray], None] | None = None

    @property
    def loads(self) -> bool:
        return not self.refusal

    @property
    def mime(self) -> str:
        suffix = self.name.rsplit(".", 1)[-1].lower()
        return {"png": "image/png", "jpg": "image/jpeg", "gif": "image/gif", "webp": "image/webp"}.get(
            suffix, "application/octet-stream"
        )

    def __str__(self) -> str:
        return self.name


# --- Builders ----------------------------------------------------------------------------


def encode(image: Image.Image, format_name: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format_name, **options)
    return buffer.getvalue()


def gradient(height: int = 48, width: int = 64) -> np.ndarray:
    """(H, W, 3) uint8: red grows left to right, green top to bottom, blue constant."""
    rows, cols = np.mgrid[0:height, 0:width]
    red = cols * 255 // max(width - 1, 1)
    green = rows * 255 // max(height - 1, 1)
    return np.stack([red, green, np.full_like(red, 90)], axis=-1).astype(np.uint8)


def quadrants(height: int = 32, width: int = 48) -> np.ndarray:
    """(H, W, 3) uint8 in four solid blocks coloured ``CORNERS`` (TL, TR, BL, BR)."""
    pixels = np.empty((height, width, 3), dtype=np.uint8)
    top_left, top_right, bottom_left, bottom_right = CORNERS
    pixels[: height // 2, : width // 2] = top_left
    pixels[: height // 2, width // 2 :] = top_right
    pixels[height // 2 :, : width // 2] = bottom_left
    pixels[height // 2 :, width // 2 :] = bottom_right
    return pixels


def upright_by_the_exif_spec(stored: np.ndarray, orientation: int) -> np.ndarray:
    """How a viewer must show ``stored`` for an EXIF orientation, from the spec's wording:
    where the stored 0th row and 0th column end up (e.g. 6: row 0 on the right, column 0 at the top).
    Written with numpy, independently of PIL's transpose constants."""
    clockwise = np.rot90(stored, k=-1)  # row 0 -> right side, column 0 -> top
    return {
        1: stored,  # row 0 top, column 0 left
        2: stored[:, ::-1],  # row 0 top, column 0 right
        3: stored[::-1, ::-1],  # row 0 bottom, column 0 right
        4: stored[::-1, :],  # row 0 bottom, column 0 left
        5: stored.transpose(1, 0, 2),  # row 0 left, column 0 top
        6: clockwise,  # row 0 right, column 0 top
        7: clockwise[::-1, :],  # row 0 right, column 0 bottom
        8: np.rot90(stored, k=1),  # row 0 left, column 0 bottom
    }[orientation]


def with_orientation(pixels: np.ndarray, orientation: int, format_name: str = "PNG", **options: object) -> bytes:
    exif = Image.Exif()
    exif[ORIENTATION_TAG] = orientation
    return encode(Image.fromarray(pixels), format_name, exif=exif, **options)


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_by_hand(width: int, height: int, bit_depth: int, colour_type: int, rows: list[bytes] | None) -> bytes:
    """A PNG written byte by byte. ``rows=None`` writes the header and no pixel data at all."""
    header = png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0))
    data = png_chunk(b"IDAT", zlib.compress(b"".join(b"\0" + row for row in rows))) if rows is not None else b""
    return b"\x89PNG\r\n\x1a\n" + header + data + png_chunk(b"IEND", b"")


def gif_header_only(width: int, height: int) -> bytes:
    """A GIF whose screen and single frame claim ``width`` x ``height``, with one byte of pixels."""
    screen = b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\0\0\0\xff\xff\xff"
    frame = b"\x2c" + struct.pack("<HHHHB", 0, 0, width, height, 0) + b"\x02\x02\x44\x01\x00"
    return screen + frame + b"\x3b"


def jpeg_claiming(width: int, height: int) -> bytes:
    """An 8 x 8 JPEG whose frame header (SOF0) claims ``width`` x ``height``."""
    data = bytearray(encode(Image.new("RGB", (8, 8), RED), "JPEG"))
    frame = data.index(b"\xff\xc0")  # marker, length (2), precision (1), then height and width
    data[frame + 5 : frame + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def truncated(data: bytes, keep: float) -> bytes:
    return data[: int(len(data) * keep)]


def corrupted_middle(data: bytes) -> bytes:
    """Overwrite the middle third with 0x55: the header still parses, the pixel data does not."""
    third = len(data) // 3
    return data[:third] + b"\x55" * third + data[2 * third :]


def iso_media(brand: bytes) -> bytes:
    """The first box of an ISO media file (HEIC, AVIF, MP4, MOV): ``ftyp`` with its brands."""
    body = brand + b"\0\0\0\0" + brand + b"mif1"
    return struct.pack(">I", 8 + len(body)) + b"ftyp" + body + b"\0\0\0\x08free" * 8


def zip_archive() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("photo.png", encode(Image.fromarray(gradient()), "PNG"))
    return buffer.getvalue()


def frames(colours: list[tuple[int, int, int]], size: tuple[int, int] = (24, 16)) -> list[Image.Image]:
    return [Image.new("RGB", size, colour) for colour in colours]


def animation(format_name: str, **options: object) -> bytes:
    first, *rest = frames([RED, GREEN, BLUE])
    return encode(first, format_name, save_all=True, append_images=rest, duration=100, loop=0, **options)


def cmyk_quadrants() -> bytes:
    """A CMYK JPEG (Pillow writes Adobe's inverted CMYK, as Photoshop does): C, M, Y, K blocks."""
    pixels = np.zeros((32, 32, 4), dtype=np.uint8)
    pixels[:16, :16, 0] = 255  # cyan
    pixels[:16, 16:, 1] = 255  # magenta
    pixels[16:, :16, 2] = 255  # yellow
    pixels[16:, 16:, 3] = 255  # black
    return encode(Image.fromarray(pixels, "CMYK"), "JPEG", quality=95)


def oversized() -> bytes:
    """A valid PNG padded with trailing bytes to one byte over the upload limit."""
    image = encode(Image.fromarray(gradient()), "PNG")
    return image + b"\0" * (MAX_BYTES + 1 - len(image))


# --- Pixel checks ------------------------------------------------------------------------


def equals(expected: np.ndarray) -> Callable[[np.ndarray], None]:
    def check(pixels: np.ndarray) -> None:
        np.testing.assert_array_equal(pixels, expected)

    return check


def close_to(expected: np.ndarray, tolerance: float) -> Callable[[np.ndarray], None]:
    """Mean absolute difference within ``tolerance`` (lossy formats)."""

    def check(pixels: np.ndarray) -> None:
        difference = np.abs(pixels.astype(int) - expected.astype(int)).mean()
        assert difference <= tolerance, f"mean difference {difference:.2f} > {tolerance}"

    return check


def block_colours(expected: dict[tuple[float, float], tuple[int, int, int]], tolerance: int = 12):
    """The pixel at each (row, col) fraction of the image has roughly the given colour."""

    def check(pixels: np.ndarray) -> None:
        height, width = pixels.shape[:2]
        for (row, col), colour in expected.items():
            found = pixels[int(row * height), int(col * width)].astype(int)
            assert np.abs(found - colour).max() <= tolerance, f"at {(row, col)}: {found} is not {colour}"

    return check


def corner_colours(corners: tuple[tuple[int, int, int], ...], tolerance: int = 12):
    """The four corners (TL, TR, BL, BR), sampled a little inside, have these colours."""
    near, far = 0.1, 0.9
    return block_colours(
        dict(zip([(near, near), (near, far), (far, near), (far, far)], corners, strict=True)), tolerance
    )


def transparency_on_white(pixels: np.ndarray) -> None:
    # Built by ``_rgba``: opaque red left third, see-through green middle, half-transparent black right.
    width = pixels.shape[1]
    assert (pixels[:, : width // 3] == RED).all()
    assert (pixels[:, width // 3 : 2 * width // 3] == WHITE).all(), "a transparent area must show the background"
    half = pixels[:, 2 * width // 3 :]
    assert (np.abs(half.astype(int) - 127) <= 1).all(), "black at alpha 128 over white is mid-grey"


def _rgba() -> np.ndarray:
    pixels = np.zeros((12, 30, 4), dtype=np.uint8)
    pixels[:, :10] = (*RED, 255)
    pixels[:, 10:20] = (*GREEN, 0)  # fully transparent: the green must not show
    pixels[:, 20:] = (*BLACK, 128)
    return pixels


def _palette_with_hole() -> Image.Image:
    """Mode P, 3 colours; index 0 is transparent and fills the left half."""
    indices = np.zeros((10, 20), dtype=np.uint8)
    indices[:, 10:] = 1
    indices[5:, 10:] = 2
    image = Image.fromarray(indices, "P")
    image.putpalette([*GREEN, *RED, *BLUE] + [0] * (256 - 3) * 3)
    image.info["transparency"] = 0
    return image


def _palette_hole_check(pixels: np.ndarray) -> None:
    assert (pixels[:, :10] == WHITE).all()
    assert (pixels[:5, 10:] == RED).all() and (pixels[5:, 10:] == BLUE).all()


def _gray16_rows() -> tuple[list[bytes], np.ndarray]:
    """16-bit grey 1000..4000 (a 12-bit sensor's range) and the 8-bit result expected after stretching."""
    values = np.linspace(1000, 4000, 4 * 8).reshape(4, 8).round().astype(">u2")
    stretched = ((values.astype(float) - 1000) * 255 / 3000).round().astype(np.uint8)
    return [row.tobytes() for row in values], np.repeat(stretched[..., None], 3, axis=-1)


def _rgb16_rows() -> tuple[list[bytes], np.ndarray]:
    """16-bit RGB; its 8-bit form keeps each sample's high byte."""
    values = np.zeros((3, 5, 3), dtype=">u2")
    values[..., 0], values[..., 1], values[..., 2] = 0xABCD, 0x1234, 0xFFFF
    values[1] = 0x00FF  # high byte 0: must become 0, not 255
    return [row.tobytes() for row in values], (values >> 8).astype(np.uint8)


def _float_tiff() -> bytes:
    values = np.linspace(-1.5, 2.5, 6 * 10, dtype=np.float32).reshape(6, 10)
    return encode(Image.fromarray(values, "F"), "TIFF")


def _float_check(pixels: np.ndarray) -> None:
    assert pixels[0, 0, 0] == 0 and pixels[-1, -1, 0] == 255
    assert (np.diff(pixels[..., 0].ravel().astype(int)) >= 0).all(), "a rising ramp stays rising"


def _bilevel() -> bytes:
    checker = (np.indices((8, 8)).sum(axis=0) % 2).astype(bool)
    return encode(Image.fromarray(checker), "PNG")


def _bilevel_check(pixels: np.ndarray) -> None:
    checker = (np.indices((8, 8)).sum(axis=0) % 2).astype(np.uint8) * 255
    np.testing.assert_array_equal(pixels, np.repeat(checker[..., None], 3, axis=-1))


def _gray_transparent() -> bytes:
    """Grey PNG whose value 0 is transparent (a tRNS chunk, no alpha channel)."""
    values = np.full((6, 6), 200, dtype=np.uint8)
    values[:, :3] = 0
    return encode(Image.fromarray(values, "L"), "PNG", transparency=0)


def _gray_transparent_check(pixels: np.ndarray) -> None:
    assert (pixels[:, :3] == WHITE).all() and (pixels[:, 3:] == 200).all()


def _broken_exif_jpeg() -> bytes:
    """A JPEG with an APP1 EXIF block that ends mid-entry (what some phone editors write)."""
    jpeg = encode(Image.fromarray(quadrants()), "JPEG", quality=95)
    broken = b"Exif\0\0MM\0\x2a\0\0\0\x08\xff\xff\x01\x12\0\x03" + b"\0" * 6
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(broken) + 2) + broken + jpeg[2:]


def _mpo() -> bytes:
    """A phone JPEG carrying a second picture (MPO): only the first is the photo."""
    first, second = frames([RED, BLUE], (32, 24))
    return encode(first, "MPO", save_all=True, append_images=[second])


def _multipage_tiff() -> bytes:
    first, second = frames([GREEN, RED], (20, 10))
    return encode(first, "TIFF", save_all=True, append_images=[second])


def _large_photo(orientation: int = 1) -> bytes:
    """3000 x 2000 JPEG: quadrant colours (so the mean colour survives shrinking)."""
    return with_orientation(quadrants(2000, 3000), orientation, "JPEG", quality=90)


def _working_size(width: int, height: int) -> tuple[int, int]:
    """(H, W) of a ``width`` x ``height`` image shrunk to ``WORKING_SIDE`` (PIL's thumbnail rounding)."""
    image = Image.new("L", (width, height))
    image.thumbnail((WORKING_SIDE, WORKING_SIDE))
    return image.height, image.width


# --- The corpus --------------------------------------------------------------------------

_NOT_AN_IMAGE = "not an image"
# C source that Pillow's XBM reader would take for a 8 x 2 bitmap.
XBM_SOURCE = b"#define icon_width 8\n#define icon_height 2\nstatic char icon_bits[] = {\n0xff, 0x00,\n0xff, 0x00};\n"
_DAMAGED = "damaged or truncated"
_TRANSPARENT = "Transparent areas are shown on white"
_EXIF = "EXIF orientation"

LOADED: tuple[Upload, ...] = (
    Upload("photo.png", lambda: encode(Image.fromarray(gradient()), "PNG"), (48, 64, 3), check=equals(gradient())),
    Upload(
        "photo.jpg",
        lambda: encode(Image.fromarray(gradient()), "JPEG", quality=95),
        (48, 64, 3),
        check=close_to(gradient(), 3),
    ),
    Upload("photo.bmp", lambda: encode(Image.fromarray(gradient()), "BMP"), (48, 64, 3), check=equals(gradient())),
    Upload("photo.tif", lambda: encode(Image.fromarray(gradient()), "TIFF"), (48, 64, 3), check=equals(gradient())),
    Upload(
        "photo.webp",
        lambda: encode(Image.fromarray(gradient()), "WEBP", lossless=True),
        (48, 64, 3),
        check=equals(gradient()),
    ),
    Upload(
        "transparent.png",
        lambda: encode(Image.fromarray(_rgba(), "RGBA"), "PNG"),
        (12, 30, 3),
        notes=(_TRANSPARENT,),
        check=transparency_on_white,
    ),
    Upload(
        "transparent.webp",
        lambda: encode(Image.fromarray(_rgba(), "RGBA"), "WEBP", lossless=True, exact=True),
        (12, 30, 3),
        notes=(_TRANSPARENT,),
        check=transparency_on_white,
    ),
    Upload(
        "opaque-rgba.png",
        lambda: encode(Image.fromarray(gradient()).convert("RGBA"), "PNG"),
        (48, 64, 3),
        check=equals(gradient()),
    ),
    Upload(
        "palette-transparent.png",
        lambda: encode(_palette_with_hole(), "PNG", transparency=0),
        (10, 20, 3),
        notes=(_TRANSPARENT,),
        check=_palette_hole_check,
    ),
    Upload(
        "palette-transparent.gif",
        lambda: encode(_palette_with_hole(), "GIF", transparency=0),
        (10, 20, 3),
        notes=(_TRANSPARENT,),
        check=_palette_hole_check,
    ),
    Upload(
        "palette.png",
        lambda: encode(Image.fromarray(quadrants()).quantize(4), "PNG"),
        (32, 48, 3),
        check=equals(quadrants()),
    ),
    Upload(
        "gray.png",
        lambda: encode(Image.fromarray(gradient()[..., 0]), "PNG"),
        (48, 64, 3),
        check=equals(np.repeat(gradient()[..., :1], 3, axis=-1)),
    ),
    Upload(
        "gray-alpha.png",
        lambda: encode(Image.fromarray(_rgba()).convert("LA"), "PNG"),
        (12, 30, 3),
        notes=(_TRANSPARENT,),
        check=block_colours({(0.5, 0.5): WHITE, (0.5, 0.9): (127, 127, 127)}, 1),
    ),
    Upload("gray-trns.png", _gray_transparent, (6, 6, 3), notes=(_TRANSPARENT,), check=_gray_transparent_check),
    Upload("bilevel.png", _bilevel, (8, 8, 3), check=_bilevel_check),
    Upload(
        "gray16.png",
        lambda: png_by_hand(8, 4, 16, 0, _gray16_rows()[0]),
        (4, 8, 3),
        notes=("16-bit",),
        check=equals(_gray16_rows()[1]),
    ),
    Upload("rgb16.png", lambda: png_by_hand(5, 3, 16, 2, _rgb16_rows()[0]), (3, 5, 3), check=equals(_rgb16_rows()[1])),
    Upload("float.tif", _float_tiff, (6, 10, 3), notes=("range was scaled to 8 bits",), check=_float_check),
    Upload(
        "cmyk.jpg",
        cmyk_quadrants,
        (32, 32, 3),
        notes=("CMYK",),
        check=corner_colours(((0, 255, 255), (255, 0, 255), (255, 255, 0), BLACK), 16),
    ),
    *(
        Upload(
            f"exif-orientation-{orientation}.png",
            lambda orientation=orientation: with_orientation(quadrants(), orientation),
            upright_by_the_exif_spec(quadrants(), orientation).shape,
            notes=(_EXIF,) if orientation > 1 else (),
            check=equals(upright_by_the_exif_spec(quadrants(), orientation)),
        )
        for orientation in range(1, 9)
    ),
    Upload(
        "rotated-photo.jpg",
        lambda: with_orientation(quadrants(), 6, "JPEG", quality=95),
        (48, 32, 3),
        notes=(_EXIF,),
        # Stored TL red, TR green, BL blue, BR white; turned clockwise: TL blue, TR red, BL white, BR green.
        check=corner_colours((BLUE, RED, WHITE, GREEN)),
    ),
    Upload("broken-exif.jpg", _broken_exif_jpeg, (32, 48, 3), check=corner_colours(CORNERS)),
    Upload("phone-mpo.jpg", _mpo, (24, 32, 3), check=corner_colours((RED,) * 4, 4)),
    Upload(
        "animated.gif",
        lambda: animation("GIF"),
        (16, 24, 3),
        notes=("first of its 3 frames",),
        check=corner_colours((RED,) * 4, 0),
    ),
    Upload(
        "animated.webp",
        lambda: animation("WEBP", lossless=True),
        (16, 24, 3),
        notes=("first of its 3 frames",),
        check=corner_colours((RED,) * 4, 0),
    ),
    Upload(
        "animated.png",
        lambda: animation("PNG"),
        (16, 24, 3),
        notes=("first of its 3 frames",),
        check=corner_colours((RED,) * 4, 0),
    ),
    Upload(
        "scan-2-pages.tif",
        _multipage_tiff,
        (10, 20, 3),
        notes=("first of its 2 pages",),
        check=corner_colours((GREEN,) * 4, 0),
    ),
    Upload(
        "dot-1x1.png",
        lambda: encode(Image.new("RGB", (1, 1), BLUE), "PNG"),
        (1, 1, 3),
        check=equals(np.array([[BLUE]])),
    ),
    Upload(
        "tiny-2x2.png",
        lambda: encode(Image.fromarray(quadrants(2, 2)), "PNG"),
        (2, 2, 3),
        check=equals(quadrants(2, 2)),
    ),
    Upload(
        "strip-1x4000.png",
        lambda: encode(Image.fromarray(gradient(4000, 1)), "PNG"),
        (WORKING_SIDE, 1, 3),
        notes=("Large image (1 x 4000): computed at 1 x 1024",),
    ),
    Upload(
        "strip-4000x1.png",
        lambda: encode(Image.fromarray(gradient(1, 4000)), "PNG"),
        (1, WORKING_SIDE, 3),
        notes=("Large image (4000 x 1): computed at 1024 x 1",),
    ),
    Upload(
        "large-photo.jpg",
        _large_photo,
        (*_working_size(3000, 2000), 3),
        notes=(f"Large image (3000 x 2000): computed at {WORKING_SIDE} x {_working_size(3000, 2000)[0]}",),
        check=corner_colours(CORNERS),
    ),
    Upload(
        "large-portrait-photo.jpg",
        lambda: _large_photo(orientation=6),
        (*_working_size(2000, 3000), 3),
        notes=(_EXIF, f"Large image (2000 x 3000): computed at {_working_size(2000, 3000)[1]} x {WORKING_SIDE}"),
        check=corner_colours((BLUE, RED, WHITE, GREEN)),
    ),
)

REFUSED: tuple[Upload, ...] = (
    Upload("empty.jpg", lambda: b"", refusal=("empty", "0 bytes")),
    Upload(
        "truncated.png", lambda: truncated(encode(Image.fromarray(gradient(200, 200)), "PNG"), 0.5), refusal=(_DAMAGED,)
    ),
    Upload(
        "truncated.jpg",
        lambda: truncated(encode(Image.fromarray(gradient(200, 200)), "JPEG"), 0.6),
        refusal=(_DAMAGED,),
    ),
    Upload(
        "truncated.gif",
        lambda: truncated(encode(Image.fromarray(gradient(200, 200)).convert("P"), "GIF"), 0.5),
        refusal=(_DAMAGED,),
    ),
    # An interrupted download of an animated GIF, cut in the second frame: Pillow raises
    # struct.error there, which once escaped the loader and broke every page of the session.
    Upload("interrupted-download.gif", lambda: animation("GIF")[:180], refusal=(_DAMAGED,)),
    Upload("cut-in-header.png", lambda: b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0", refusal=(_DAMAGED,)),
    Upload("header-only.jpg", lambda: encode(Image.fromarray(gradient()), "JPEG")[:200], refusal=(_DAMAGED,)),
    Upload(
        "corrupt.png",
        lambda: corrupted_middle(encode(Image.fromarray(gradient(100, 100)), "PNG")),
        refusal=(_DAMAGED,),
    ),
    Upload(
        "truncated.webp",
        lambda: truncated(encode(Image.fromarray(gradient(100, 100)), "WEBP", quality=80), 0.5),
        refusal=(_DAMAGED,),
    ),
    Upload(
        "corrupt.tif",
        lambda: corrupted_middle(encode(Image.fromarray(gradient(100, 100)), "TIFF", compression="tiff_deflate")),
        refusal=(_DAMAGED,),
    ),
    Upload("bomb-100000x100000.png", lambda: png_by_hand(100_000, 100_000, 8, 2, None), refusal=("10,000 megapixels",)),
    Upload("bomb-9000x9000.png", lambda: png_by_hand(9000, 9000, 8, 2, None), refusal=("9000 x 9000", "81 megapixels")),
    Upload("bomb-65535x65535.gif", lambda: gif_header_only(65535, 65535), refusal=("4,295 megapixels",)),
    Upload("bomb-65500x65500.jpg", lambda: jpeg_claiming(65500, 65500), refusal=("4,290 megapixels",)),
    Upload("bomb-9000x8000.jpg", lambda: jpeg_claiming(9000, 8000), refusal=("9000 x 8000", "72 megapixels")),
    Upload("homework.png", lambda: b"My homework: a cat, drawn in words.\n" * 20, refusal=("text file",)),
    # 4096 bytes of it are sampled, which cuts a 3-byte character in two: still text.
    Upload("notes-zh.png", lambda: "这是一只猫。".encode() * 400, refusal=("text file",)),
    Upload("script.jpg", lambda: b"import os\n\nprint(os.listdir('.'))\n", refusal=("text file",)),
    Upload("icon-source.png", lambda: XBM_SOURCE, refusal=("text file",)),
    Upload(
        "poster.png", lambda: b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n", refusal=("text file",)
    ),
    Upload("archive.png", zip_archive, refusal=("zip",)),
    Upload(
        "drawing.svg",
        lambda: b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
        refusal=("SVG",),
    ),
    Upload("drawing.png", lambda: b'<svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>', refusal=("SVG",)),
    Upload("worksheet.pdf", lambda: b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n", refusal=("PDF",)),
    Upload("IMG_0001.heic", lambda: iso_media(b"heic"), refusal=("HEIC",)),
    Upload("IMG_0002.jpg", lambda: iso_media(b"mif1"), refusal=("HEIC",)),
    Upload("photo.avif", lambda: iso_media(b"avif"), refusal=("AVIF",)),
    Upload("clip.jpg", lambda: iso_media(b"isom"), refusal=("video",)),
    Upload("icon.ico", lambda: encode(Image.fromarray(gradient(16, 16)), "ICO"), refusal=(_NOT_AN_IMAGE, "PNG, JPEG")),
    Upload("noise.png", lambda: np.random.default_rng(7).bytes(4096), refusal=(_NOT_AN_IMAGE,)),
    Upload("huge.png", oversized, refusal=("25.1 MB", "over the 25 MB limit")),
)

CORPUS: tuple[Upload, ...] = LOADED + REFUSED
