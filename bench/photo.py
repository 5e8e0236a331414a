"""Issue 16: a new photo through ResNet-18 on the feature-map page, against the same page with LeNet.

With a ResNet-18 weight file present (random weights, torchvision's names and shapes: the time is
the same as with trained ones), one chromium tab shows the feature-map page with ResNet-18 and
another with LeNet-5 (the digits network), both reading the sidebar's image. Each round uploads
a new photo (640 x 480 JPEG, dark strokes on a light noisy background, so LeNet finds ink) to
both tabs, alternating which goes first, and times from the upload to the page settled with the
top five and every stage's maps on screen (the last DOM change or image load after the run; the
page also draws the Grad-CAM of the top class in the same run). The ratio is ResNet-18 / LeNet.

Then, in this process, as the page calls it (one torch thread, as ``app.py`` sets): the server
time of a Grad-CAM for a new class on ResNet-18's last block, against one forward pass.

Run: ``python -m bench.photo [--rounds 8]``
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw
from playwright.sync_api import Page, sync_playwright

from bench import common
from tests.e2e import harness

PAGES = {
    "resnet18": "feature_maps?fmap.network=resnet18",
    "lenet": "feature_maps?fmap.network=digits&fmap.source=sidebar",
}
#: What must be on screen when the page is done: the answer, and the last stage's maps.
DONE_TEXT = {"resnet18": ("The network says", "layer4.1"), "lenet": ("The network says", "features.5")}
START_JS = "() => { window.__benchStart = performance.now(); }"
SETTLED_JS = "() => { const p = window.__stProbe; return Math.max(p.finishedAt, p.lastMutation, p.lastImageLoad) - window.__benchStart; }"


def photo(index: int) -> bytes:
    """A new 640 x 480 JPEG: a light noisy background with a few dark strokes."""
    rng = np.random.default_rng(index)
    pixels = (200 + rng.normal(0, 12, (480, 640, 3))).clip(0, 255).astype(np.uint8)
    picture = Image.fromarray(pixels)
    draw = ImageDraw.Draw(picture)
    for _ in range(3):
        draw.line([tuple(int(v) for v in rng.integers(120, 360, 2)) for _ in range(3)], fill=(20, 20, 20), width=28)
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def time_upload(page: Page, data: bytes, name: str, done: tuple[str, ...]) -> float:
    """Seconds from the upload to the settled page showing ``done``."""
    page.evaluate(START_JS)
    with harness.rerun(page, timeout=180):
        page.set_input_files(harness.UPLOAD_INPUT, files=[{"name": name, "mimeType": "image/jpeg", "buffer": data}])
    shown = page.locator(harness.MAIN).inner_text()
    missing = [text for text in done if text not in shown]
    if missing or harness.error_texts(page):
        raise RuntimeError(f"not on screen: {missing}; errors: {harness.error_texts(page)}")
    return page.evaluate(SETTLED_JS) / 1000


def browser_rounds(base_url: str, rounds: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in PAGES}
    with sync_playwright() as playwright:
        browser = harness.launch_chromium(playwright)
        try:
            context = harness.new_context(browser)
            tabs = {name: context.new_page() for name in PAGES}
            for name, tab in tabs.items():
                harness.open_app(tab, f"{base_url}/{path}" if (path := PAGES[name]) else base_url, timeout=180)
            for index in range(rounds + 1):  # the first round warms up (loading the network)
                data = photo(index)
                order = list(PAGES) if index % 2 == 0 else list(reversed(PAGES))
                for name in order:
                    seconds = time_upload(tabs[name], data, f"photo{index}.jpg", DONE_TEXT[name])
                    if index:
                        times[name].append(seconds)
                shown = ", ".join(f"{name} {values[-1]:.2f} s" for name, values in times.items() if values)
                print(f"round {index}: {shown}" if index else "warm-up round done", file=sys.stderr)
        finally:
            browser.close()
    return times


def grad_cam_times(weights: Path, classes: int) -> dict[str, float]:
    """Median server seconds: a Grad-CAM for a new class at layer4.1, and one forward pass of the page."""
    from cnnviz import attribution, features, models

    torch.set_num_threads(1)
    network = models.load_user_weights("resnet18", weights)
    tensor = network.prepare(np.asarray(Image.open(io.BytesIO(photo(0))).convert("RGB"))).tensor
    baseline = attribution.black_baseline(tensor, network.manifest.mean, network.manifest.std)
    cams, passes = [], []
    for target in range(1, classes + 1):
        started = time.perf_counter()
        attribution.attribute(network.model, tensor, target * 37, "gradcam", "layer4.1", baseline)
        cams.append(time.perf_counter() - started)
        started = time.perf_counter()
        features.feature_maps(network.model, tensor, network.shown_layers)
        passes.append(time.perf_counter() - started)
    return {"grad_cam_s": statistics.median(cams), "forward_s": statistics.median(passes), "grad_cam_max_s": max(cams)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=8, help="new photos, each to both pages")
    parser.add_argument("--classes", type=int, default=10, help="new classes for the Grad-CAM timing")
    args = parser.parse_args(argv)
    from cnnviz import models

    print(f"photo: {args.rounds} rounds; {common.machine_line()}", file=sys.stderr)
    with tempfile.TemporaryDirectory() as folder:
        weights = Path(folder) / "resnet18-f37072fd.pth"
        torch.manual_seed(16)
        torch.save(models.build("resnet18", 1000).state_dict(), weights)
        os.environ["CNNVIZ_WEIGHTS_DIR"] = folder  # the server inherits it
        os.environ["TORCH_HOME"] = str(Path(folder) / "torch")
        with harness.serve("app.py") as app:
            times = browser_rounds(app.url, args.rounds)
        server = grad_cam_times(weights, args.classes)
    medians = {name: statistics.median(values) for name, values in times.items()}
    ratio = medians["resnet18"] / medians["lenet"]
    print(f"\nNew photo -> top-5 + every stage's maps on screen ({common.machine_line()})")
    print(common.table(["page", "median s", "min s", "max s"],
                       [[n, f"{medians[n]:.2f}", f"{min(v):.2f}", f"{max(v):.2f}"] for n, v in times.items()]))  # fmt: skip
    print(f"ratio ResNet-18 / LeNet: {ratio:.2f}x")
    print(f"Grad-CAM, new class, server: median {server['grad_cam_s'] * 1000:.0f} ms (max {server['grad_cam_max_s'] * 1000:.0f} ms); "
          f"one forward pass {server['forward_s'] * 1000:.0f} ms")  # fmt: skip
    common.record("photo", {"times": times, "medians": medians, "ratio": ratio, **server})
    return 0


if __name__ == "__main__":
    sys.exit(main())
