"""Feature maps' Example view: what its frame sets weigh and cost to draw, and why lossless WebP.

For each bundled network and a few classes, the frame set of the class's held-out examples
(``cnnviz.drawing.feature_maps_view.example_frame_set``, 20 examples), drawn cold (caches
cleared), then split (``frames.split_pictures``) and packed as the page sends them
(``pages.scrub_view.pack`` / ``pack_pictures``):

- the frames without their pictures (sent on every release: the base moved), and
- the picture set (sent once per network, class and colour scale: a release sends it as a
  reference to what the browser holds, ``tests/e2e/test_scrub_feature_maps.py`` checks it);
- a release's own work: the frame set redrawn around another example (its frames cached),
  split and packed.

Then the overview's tile grids of the same examples encoded each way, against PNG (what the
page sent before) measured in the same run: bytes and time as ratios. Lossy encodings are
listed for their size: they blur the faint one-pixel edges that the first layers find (the
reason they are not used; ``bench/RESULTS.md``).

Run: ``nice -n 10 python -m bench.fmap_frames [--classes 0 3]``
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time

import numpy as np
import torch
from PIL import Image

from bench import common
from cnnviz import features, models
from cnnviz.drawing import feature_maps_view
from cnnviz.drawing.feature_maps_view import Examples
from cnnviz.drawing.frames import split_pictures
from pages import scrub_view

#: Encodings compared for the tile grids: name -> PIL save arguments. PNG is the reference.
ENCODINGS = {
    "PNG (reference)": {"format": "PNG"},
    "WebP lossless, fastest": {"format": "WEBP", "lossless": True, "method": 0, "quality": 0},
    "WebP lossless, method 1 (used)": {"format": "WEBP", "lossless": True, "method": 1, "quality": 0},
    "WebP lossless, default effort": {"format": "WEBP", "lossless": True, "method": 4},
    "JPEG q85 (lossy)": {"format": "JPEG", "quality": 85},
    "WebP q75 (lossy)": {"format": "WEBP", "quality": 75},
}


def frame_set_row(network_name: str, network: models.Network, class_index: int) -> dict:
    """One class's frame set drawn cold, split and packed; then a release's redraw."""
    feature_maps_view._example_frame.cache_clear()
    examples = Examples.of(network_name, network, class_index)
    start = time.perf_counter()
    frame_set = feature_maps_view.example_frame_set(examples, 1, "layer")
    drawn = time.perf_counter() - start
    frames_only, found = split_pictures(frame_set)
    packed_frames, packed_pictures = scrub_view.pack(frames_only), scrub_view.pack_pictures(found)
    start = time.perf_counter()
    released, _ = split_pictures(feature_maps_view.example_frame_set(examples, 12, "layer"))
    repacked = scrub_view.pack(released)
    release = time.perf_counter() - start
    raw = sum(map(len, frame_set["parts"]))
    return {"network": network_name, "class": network.manifest.class_names[class_index], "examples": len(examples),
            "draw_s": drawn, "raw_bytes": raw, "frames_gz": len(packed_frames), "pictures": len(found),
            "pictures_gz": len(packed_pictures), "release_s": release, "release_gz": len(repacked)}  # fmt: skip


def grids(network: models.Network, class_index: int, count: int = 8) -> list[np.ndarray]:
    """The overview's pictures (input tiles and tile grids) of the class's first ``count`` examples."""
    examples = Examples.of("", network, class_index)
    found = []
    for pixels in examples.pictures[:count]:
        prepared = network.prepare(pixels, native=True)
        maps = features.feature_maps(network.model, prepared.tensor, network.shown_layers)
        tiles, layer_grids = feature_maps_view.overview_pictures(maps, prepared, "layer")
        found += [tiles, *layer_grids]
    return found


def encoding_rows(network_name: str, pictures_of: list[np.ndarray], per_example: int, rounds: int = 3) -> list[list]:
    """Each encoding's bytes and time per example, and their ratios to PNG's, timed alternately."""
    times = {name: [] for name in ENCODINGS}
    sizes = {}
    for _ in range(rounds):
        for name, arguments in ENCODINGS.items():
            start = time.perf_counter()
            total = 0
            for picture in pictures_of:
                encoded = io.BytesIO()
                Image.fromarray(picture).save(encoded, **arguments)
                total += len(encoded.getvalue())
            times[name].append(time.perf_counter() - start)
            sizes[name] = total
    reference = next(iter(ENCODINGS))
    ms = {name: statistics.median(values) * 1000 / per_example for name, values in times.items()}
    return [[network_name, name, sizes[name] / per_example / 1024, sizes[name] / sizes[reference], ms[name],
             ms[name] / ms[reference]] for name in ENCODINGS]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--classes", type=int, nargs="+", default=[0, 3], help="class indices to draw")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # as app.py sets it
    print(f"fmap_frames; {common.machine_line()}", file=sys.stderr)
    results, rows, encodings = [], [], []
    for name in models.BUNDLED:
        network = models.load_bundled(name)
        for class_index in args.classes:
            row = frame_set_row(name, network, class_index)
            results.append(row)
            rows.append([f"{name}: {row['class']}", row["examples"], f"{row['draw_s']:.2f}", row["raw_bytes"] / 1e6,
                         row["frames_gz"] / 1e3, row["pictures"], row["pictures_gz"] / 1e6, f"{row['release_s']:.3f}",
                         row["release_gz"] / 1e3])  # fmt: skip
        sample = grids(network, args.classes[0])
        encodings += encoding_rows(name, sample, per_example=8)
    print(f"\nFeature maps' frame sets (cold draw, one torch thread); {common.machine_line()}")
    print(common.table(["network: class", "examples", "draw s", "raw MB", "frames kB gz", "pictures",
                        "picture set MB gz", "release: redraw + pack s", "release frames kB gz"], rows))  # fmt: skip
    print("\nThe overview's pictures (input tiles and every layer's grid), per example, each encoding vs PNG:")
    print(common.table(["network", "encoding", "kB / example", "x PNG bytes", "ms / example", "x PNG time"], encodings))
    path = common.record("fmap_frames", {"frame_sets": results, "encodings": encodings})
    print(f"\n(recorded in {path})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
