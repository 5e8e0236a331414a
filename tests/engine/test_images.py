"""The upload loader against a corpus of what users send: every file either loads as an
upright (H, W, 3) uint8 image with notes saying what was done, or is refused with a
sentence saying why. Never another exception."""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageFile

from cnnviz import images
from cnnviz.images import MAX_BYTES, WORKING_SIDE, ImageError, LoadedImage, load_image, load_sample, sample_names
from tests import corpus
from tests.corpus import CORPUS, LOADED, REFUSED, Upload


def assert_notes(notes: tuple[str, ...], expected: tuple[str, ...]) -> None:
    """One note per expected phrase, and no other note."""
    assert len(notes) == len(expected), f"notes {notes} do not match {expected}"
    for phrase in expected:
        assert sum(phrase in note for note in notes) == 1, f"{phrase!r} is not in exactly one of {notes}"


def assert_well_formed(image: LoadedImage, working_side: int = WORKING_SIDE) -> None:
    pixels = image.pixels
    assert pixels.dtype == np.uint8 and pixels.ndim == 3 and pixels.shape[2] == 3
    assert min(pixels.shape[:2]) >= 1 and max(pixels.shape[:2]) <= working_side
    assert all(note.endswith(".") for note in image.notes)


def assert_sentence_for_a_person(message: str) -> None:
    """A refusal is shown as it is: one or two plain sentences, no exception text."""
    assert message and message[0].isupper() and message.endswith("."), message
    for leak in ("Error", "errno", "Traceback", "PIL", "0x", "\n", "'", "struct.", "()"):
        assert leak not in message, f"{leak!r} leaks into {message!r}"


@pytest.mark.parametrize("upload", LOADED, ids=str)
def test_loads(upload: Upload):
    image = load_image(upload.build())
    assert_well_formed(image)
    assert image.pixels.shape == upload.shape
    assert_notes(image.notes, upload.notes)
    if upload.check:
        upload.check(image.pixels)


@pytest.mark.parametrize("upload", REFUSED, ids=str)
def test_refuses_with_the_reason(upload: Upload):
    with pytest.raises(ImageError) as refused:
        load_image(upload.build())
    message = str(refused.value)
    for phrase in upload.refusal:
        assert phrase.lower() in message.lower(), f"{phrase!r} not in {message!r}"
    assert_sentence_for_a_person(message)


def test_corpus_covers_every_case_of_the_issue():
    names = {upload.name for upload in CORPUS}
    assert len(names) == len(CORPUS), "two uploads share a name"
    notes = " ".join(phrase for upload in LOADED for phrase in upload.notes)
    for phrase in ("Transparent", "16-bit", "CMYK", "EXIF", "frames", "pages", "Large image"):
        assert phrase in notes
    refusals = " ".join(phrase for upload in REFUSED for phrase in upload.refusal).lower()
    for phrase in ("empty", "damaged", "megapixels", "text file", "zip", "svg", "pdf", "heic", "limit"):
        assert phrase in refusals


@pytest.mark.parametrize("upload", [u for u in REFUSED if u.name.startswith("bomb-")], ids=str)
def test_bombs_are_refused_from_the_header_without_decoding(upload: Upload, monkeypatch):
    """The bombs claim up to 100000 x 100000 pixels (30 GB as RGB) and carry no pixel data at
    all: decoding would fail as "damaged". A refusal that names the size therefore came from
    the header; the spy on Pillow's decoder entry point shows it never started."""
    decoded = []
    real_load = ImageFile.ImageFile.load

    def spy(self):
        decoded.append(self.size)
        return real_load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    with pytest.raises(ImageError) as refused:
        load_image(upload.build())
    assert str(refused.value).endswith("; the limit is 64 megapixels. It was not decoded.")
    assert decoded == []


def test_the_spy_does_see_a_decode(monkeypatch):
    # Guards the test above: the spy is on the path every decode takes.
    decoded = []
    real_load = ImageFile.ImageFile.load
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: decoded.append(self.size) or real_load(self))
    load_image(corpus.encode(Image.fromarray(corpus.gradient()), "PNG"))
    assert decoded and set(decoded) == {(64, 48)}


def test_a_file_of_exactly_the_size_limit_is_read():
    png = corpus.encode(Image.fromarray(corpus.gradient()), "PNG")
    at_limit = png + b"\0" * (MAX_BYTES - len(png))  # trailing bytes after IEND are ignored
    assert load_image(at_limit).pixels.shape == (48, 64, 3)
    with pytest.raises(ImageError, match=r"25\.1 MB, over the 25 MB limit"):
        load_image(at_limit + b"\0")


def test_working_side_bounds_the_result_and_says_so():
    image = load_image(corpus.encode(Image.fromarray(corpus.gradient()), "PNG"), working_side=16)
    assert image.pixels.shape == (12, 16, 3)
    assert image.original_size == (64, 48)
    assert image.notes == ("Large image (64 x 48): computed at 16 x 12.",)


def test_original_size_is_upright():
    image = load_image(corpus.with_orientation(corpus.quadrants(32, 48), 8))
    assert image.original_size == (32, 48)
    assert image.pixels.shape == (48, 32, 3)


def test_large_jpeg_is_decoded_at_a_reduced_scale(monkeypatch):
    """A 12-megapixel phone photo is decoded by libjpeg at 1/2 scale (2016 x 1512), not in full."""
    decoded = []
    real_load = ImageFile.ImageFile.load
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: decoded.append(self.size) or real_load(self))
    photo = corpus.encode(Image.fromarray(corpus.quadrants(3024, 4032)), "JPEG", quality=80)
    image = load_image(photo)
    assert decoded and set(decoded) == {(2016, 1512)}  # load() runs again later as a no-op
    assert image.pixels.shape == (768, 1024, 3)
    assert image.original_size == (4032, 3024)
    corpus.corner_colours(corpus.CORNERS)(image.pixels)


def test_exif_orientations_are_all_different():
    # Guards the orientation cases: the corner layout makes the eight expected images distinct.
    shown = {corpus.upright_by_the_exif_spec(corpus.quadrants(), o).tobytes() for o in range(1, 9)}
    assert len(shown) == 8


def test_every_sample_loads():
    assert sample_names(), "no sample images found"
    for name in sample_names():
        image = load_sample(name)
        assert_well_formed(image)
        assert image.notes == (), f"{name} needs converting: {image.notes}"


def test_unknown_sample_is_refused():
    with pytest.raises(ImageError, match=r"no sample image called '\.\./app\.py'"):
        load_sample("../app.py")


@pytest.mark.parametrize(
    ("shape", "expected"),
    [
        ((28, 28, 3), (252, 252, 3)),  # a feature map: each pixel a 9 x 9 square
        ((2, 2), (240, 240)),
        ((1, 480, 3), (2, 960, 3)),  # a strip grows only while its long side stays within 1024
        ((1024, 1, 3), (1024, 1, 3)),
        ((300, 451, 3), (300, 451, 3)),
    ],
)
def test_upscale_nearest_keeps_square_pixels_and_a_bounded_size(shape, expected):
    array = np.arange(np.prod(shape)).reshape(shape)
    shown = images.upscale_nearest(array, 240)
    assert shown.shape == expected
    factor = expected[0] // shape[0]
    np.testing.assert_array_equal(shown[::factor, ::factor], array)


# --- Fuzzing: damaged files of every format ------------------------------------------------

SEEDS = {
    "png": corpus.encode(Image.fromarray(corpus.gradient(12, 16)), "PNG"),
    "jpeg": corpus.encode(Image.fromarray(corpus.gradient(12, 16)), "JPEG"),
    "gif": corpus.animation("GIF"),
    "webp": corpus.animation("WEBP"),
    "bmp": corpus.encode(Image.fromarray(corpus.gradient(12, 16)), "BMP"),
    "tiff": corpus.encode(Image.fromarray(corpus.gradient(12, 16)), "TIFF", compression="tiff_lzw"),
    "exif-jpeg": corpus.with_orientation(corpus.gradient(12, 16), 6, "JPEG"),
    "apng": corpus.animation("PNG"),
}


@st.composite
def damaged_files(draw) -> bytes:
    data = bytearray(SEEDS[draw(st.sampled_from(sorted(SEEDS)))])
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["flip", "set", "cut", "insert"]))
        if action == "flip":
            data[position] ^= 1 << draw(st.integers(0, 7))
        elif action == "set":
            data[position] = draw(st.sampled_from([0x00, 0xFF, 0x7F, 0x80]))
        elif action == "cut":
            del data[position:]
        else:
            data[position:position] = draw(st.binary(min_size=1, max_size=8))
        if not data:
            break
    return bytes(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_files())
def test_damaged_files_load_or_are_refused_never_crash(data: bytes):
    try:
        image = load_image(data, working_side=64)
    except ImageError as refused:
        assert_sentence_for_a_person(str(refused))
    else:
        assert_well_formed(image, working_side=64)


def test_the_fuzzer_damages_files():
    # Guards the fuzz test: its seeds load intact, so what it sees is the damage.
    for data in SEEDS.values():
        assert_well_formed(load_image(io.BytesIO(data).getvalue()))
