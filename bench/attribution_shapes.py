"""Where the shapes network looks: the share of each attribution map's mass on the shape.

On the bundled network's held-out sample (``shapes.generate(200, seed=2)``, the 80 solid shapes:
circle, square, triangle, star), each map the feature-maps page offers (Grad-CAM at every layer,
gradient saliency, SmoothGrad, integrated gradients from a black picture, all through
``cnnviz.attribution.attribute`` with the page's settings) is computed for the predicted and for
the true class. A map "highlights the shape" when its mass on the shape (pixels at least half
covered) is well above the shape's share of the picture, which is what a map spread at random
would put there. The same is printed for the shape grown by 2 pixels (gradients sit on edges).

Run: ``nice -n 10 python -m bench.attribution_shapes`` (~1 min); writes ``bench/out/attribution_shapes.json``.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from bench.common import record as write_record
from cnnviz import attribution, features, models
from cnnviz.models import shapes

SOLID = ("circle", "square", "triangle", "star")


def heldout_shapes(count: int = 200) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The held-out sample's solid shapes: images (N, 64, 64, 3) uint8, labels (N,), masks (N, 64, 64) bool."""
    pictures, labels, masks = [], [], []
    for index in range(count):
        name = shapes.SHAPE_CLASSES[index % len(shapes.SHAPE_CLASSES)]
        if name in SOLID:
            picture, coverage = shapes.draw_with_coverage(name, np.random.default_rng([2, index]))
            pictures.append(picture), labels.append(index % len(shapes.SHAPE_CLASSES)), masks.append(coverage > 0.5)
    return np.stack(pictures), np.array(labels), np.stack(masks)


def answers(network: models.Network, pictures: np.ndarray) -> np.ndarray:
    """The network's answer (class index) for each (64, 64, 3) uint8 picture."""
    with torch.no_grad():
        return network.model(torch.cat([network.prepare(p, native=True).tensor for p in pictures])).argmax(1).numpy()


def without_the_shape(count: int = 200) -> np.ndarray:
    """The backgrounds of ``heldout_shapes``'s pictures, alone (``shapes.draw`` draws the background first)."""
    found = [shapes._background(np.random.default_rng([2, index])) for index in range(count)
             if shapes.SHAPE_CLASSES[index % len(shapes.SHAPE_CLASSES)] in SOLID]  # fmt: skip
    return (np.stack(found) * 255).round().astype(np.uint8)


def grown(mask: np.ndarray, pixels: int) -> np.ndarray:
    """``mask`` grown by ``pixels`` in every direction (a square neighbourhood)."""
    bigger = F.max_pool2d(torch.tensor(mask, dtype=torch.float32)[None, None], 2 * pixels + 1, 1, pixels)
    return bigger[0, 0].numpy() > 0


def choices(network: models.Network) -> list[tuple[str, str | None]]:
    """(method, layer) of every map the page offers for this network."""
    x = torch.zeros(1, *network.manifest.input_shape)
    layers = [layer.name for layer in features.feature_maps(network.model, x, None).layers]
    return [("gradcam", layer) for layer in layers] + [("saliency", None), ("smoothgrad", None), ("integrated", None)]


def measure(network: models.Network, pictures, labels, masks) -> dict[str, dict[str, list[float]]]:
    """For each (method, layer) and target kind, per picture: mass on the shape, mass within 2 px."""
    found: dict[str, dict[str, list]] = {}
    for picture, label, mask in zip(pictures, labels, masks, strict=True):
        x = network.prepare(picture, native=True).tensor
        black = attribution.black_baseline(x, network.manifest.mean, network.manifest.std)
        with torch.no_grad():
            predicted = int(network.model(x).argmax())
        near = grown(mask, 2)
        for method, layer in choices(network):
            for kind, target in (("predicted", predicted), ("true", int(label))):
                values = attribution.attribute(network.model, x, target, method, layer, black).values
                row = found.setdefault(f"{method} {layer or ''}".strip(), {}).setdefault(kind, [])
                row.append((attribution.mass_inside(values, mask), attribution.mass_inside(values, near)))
    return found


def main() -> None:
    torch.set_num_threads(1)
    network = models.load_bundled("shapes")
    pictures, labels, masks = heldout_shapes()
    near_area = np.mean([grown(mask, 2).mean() for mask in masks])
    accuracy = float((answers(network, pictures) == labels).mean())
    backgrounds = without_the_shape()
    alone = np.bincount(answers(network, backgrounds), minlength=len(shapes.SHAPE_CLASSES))
    # The shape (its own colour, where it was) pasted onto the next shape's background.
    moved = np.where(masks[..., None], pictures, np.roll(backgrounds, 1, axis=0))
    moved_accuracy = float((answers(network, moved) == labels).mean())
    print(f"{len(pictures)} held-out solid shapes, accuracy {accuracy:.2f}; shape covers {masks.mean():.3f} "
          f"of the picture, the shape grown by 2 px {near_area:.3f}")  # fmt: skip
    print(f"the backgrounds alone are answered {dict(zip(shapes.SHAPE_CLASSES, alone.tolist(), strict=True))}; "
          f"the shapes moved onto another picture's background: accuracy {moved_accuracy:.2f}")  # fmt: skip
    print(f"{'map':<22} {'pred: on':>9} {'x chance':>9} {'<=2px':>7} {'true: on':>9} {'x chance':>9} {'<=2px':>7}")
    found = measure(network, pictures, labels, masks)
    record = {
        "count": len(pictures),
        "accuracy": accuracy,
        "moved_accuracy": moved_accuracy,
        "area": float(masks.mean()),
        "near_area": near_area,
    }
    for name, kinds in found.items():
        cells = []
        for kind in ("predicted", "true"):
            on, near = np.array(kinds[kind]).mean(0)
            cells += [f"{on:9.2f}", f"{on / masks.mean():9.1f}", f"{near:7.2f}"]
            record[f"{name} {kind}"] = {"on": on, "near": near}
        print(f"{name:<22} " + " ".join(cells))
    write_record("attribution_shapes", record)


if __name__ == "__main__":
    main()
