"""Convolution on the photo's frame sets: how long a slider's frames take to draw, and how many bytes they are.

The view (``cnnviz/drawing/convolution_view.py``) sends the frames of one slider at a time, when
it is pressed: for each photo, channel mode and slider, this draws that slider's frame set around
the page's defaults as a press does (the base frame already drawn by the run before: it is
cached), packs it as the page sends it (``scrub_view.pack``: gzipped JSON), and reports:

- build: drawing the frames (convolutions, colours, JPEGs, marks, formulas), cold caches;
- pack: JSON + gzip; bytes: what crosses the websocket; per frame: bytes / frames;
- ratio: build / the base frame's own cold build, timed in the same run (what a release of a
  Streamlit slider cost the page before: one convolution, its colours, two JPEGs).

Photos: the cat (300 x 451, the default sample), and two at the largest working size
(1024 x 1024, what an upload is convolved at): the astronaut enlarged (smooth) and grass
tiled 2 x 2 (the most texture: the largest JPEGs). One torch thread, as ``app.py`` sets.

Run: ``nice -n 10 python -m bench.conv_frames [--repeats 3]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np
import torch
from PIL import Image

from bench import common
from cnnviz import kernels
from cnnviz.drawing import convolution_view
from cnnviz.drawing.convolution_view import CONV_SLIDERS, ConvSetup
from cnnviz.images import load_sample
from pages.scrub_view import pack

DEFAULTS = {name: default for name, (_, _, default, _) in CONV_SLIDERS.items()}
CACHED = ("_frame", "_output", "_shrunk", "input_picture", "_input_part", "_seen")


def photos() -> dict[str, np.ndarray]:
    astronaut = Image.fromarray(load_sample("astronaut.jpg").pixels).resize((1024, 1024), Image.Resampling.LANCZOS)
    grass = load_sample("grass.jpg").pixels
    return {
        "cat 300 x 451": load_sample("cat.jpg").pixels,
        "astronaut 1024 x 1024": np.asarray(astronaut),
        "grass 1024 x 1024": np.tile(grass, (2, 2, 1)),
    }


def clear_caches() -> None:
    for name in CACHED:
        getattr(convolution_view, name).cache_clear()


def timed(work, *args, **kwargs) -> tuple[float, object]:
    """(ms, result) of ``work(*args, **kwargs)``."""
    start = time.perf_counter()
    result = work(*args, **kwargs)
    return (time.perf_counter() - start) * 1000, result


def measure(setup: ConvSetup, name: str, repeats: int) -> dict:
    """One slider's frame set, ``repeats`` times from cold caches: medians of build, pack, and the base frame's."""
    base_ms, build_ms, pack_ms = [], [], []
    for _ in range(repeats):
        clear_caches()
        took, _ = timed(convolution_view.conv_frame, setup, DEFAULTS)  # the run before the press
        base_ms.append(took)
        took, frame_set = timed(convolution_view.conv_frame_set, setup, DEFAULTS, pressed=name)
        build_ms.append(took)
        took, packed = timed(pack, frame_set)
        pack_ms.append(took)
    frames = len(frame_set["frames"][name])
    return {"slider": name, "frames": frames, "parts": len(frame_set["parts"]), "bytes": len(packed),
            "base_ms": statistics.median(base_ms), "build_ms": statistics.median(build_ms),
            "pack_ms": statistics.median(pack_ms)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="cold builds per slider (the median is shown)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    print(f"conv_frames: {args.repeats} cold builds each; {common.machine_line()}", file=sys.stderr)
    rows, results = [], []
    for photo_name, pixels in photos().items():
        for mode in ("gray", "per_channel"):
            setup = ConvSetup.of(pixels, kernels.preset("sobel x"), mode, "zeros", False)
            rest = len(pack(convolution_view.conv_frame_set(setup, DEFAULTS)))
            for name in CONV_SLIDERS:
                result = {"photo": photo_name, "mode": mode, "rest_bytes": rest, **measure(setup, name, args.repeats)}
                results.append(result)
                rows.append([photo_name, mode, name, result["frames"], result["build_ms"], result["pack_ms"],
                             f"{result['build_ms'] / result['base_ms']:.1f}x", f"{result['bytes'] / 1000:.0f}",
                             f"{result['bytes'] / result['frames'] / 1000:.1f}", f"{rest / 1000:.0f}"])  # fmt: skip
    print(f"\nConvolution's frame sets (Sobel x, defaults around), {common.machine_line()}")
    print(common.table(["photo", "channels", "slider", "frames", "build ms", "pack ms", "build / base frame",
                        "kB packed", "kB per frame", "base frame alone, kB"], rows))  # fmt: skip
    print(f"\n(recorded in {common.record('conv_frames', results)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
