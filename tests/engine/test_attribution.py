"""Where the network looks: each map against its definition, computed independently with autograd."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnnviz import attribution, features, models
from cnnviz.models import architectures, shapes


@pytest.fixture(scope="module")
def tiny() -> nn.Module:
    """conv -> relu -> conv -> relu -> max pool -> flatten -> linear: every kind of step Grad-CAM meets."""
    torch.manual_seed(7)
    model = nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 5, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(5 * 5 * 5, 3),
    ).eval()  # fmt: skip
    for parameter in model.parameters():
        parameter.requires_grad_(False)  # as the app's shared networks are
    return model


@pytest.fixture(scope="module")
def picture() -> torch.Tensor:
    return torch.rand(1, 3, 12, 12, generator=torch.Generator().manual_seed(3)) * 2 - 1


def input_gradient(model: nn.Module, x: torch.Tensor, target: int) -> torch.Tensor:
    x = x.clone().requires_grad_(True)
    (gradient,) = torch.autograd.grad(model(x)[0, target], x)
    return gradient


@pytest.mark.parametrize("layer", ["1", "3"])
def test_grad_cam_is_its_definition(tiny, picture, layer):
    with torch.no_grad():
        target = int(tiny(picture).argmax())  # the class the network chose: its map has positive parts
    recorded = []
    handle = tiny.get_submodule(layer).register_forward_hook(lambda m, i, output: recorded.append(output))
    try:
        with torch.enable_grad():
            x = picture.clone().requires_grad_(True)
            score = tiny(x)[0, target]
            (gradient,) = torch.autograd.grad(score, recorded[0])  # d score / d A, (1, K, h, w)
    finally:
        handle.remove()
    weights = gradient.mean(dim=(2, 3), keepdim=True)  # alpha_k: the mean gradient over each map
    expected = F.relu((weights * recorded[0]).sum(1))[0]  # relu(sum_k alpha_k A_k), (h, w)
    cam = attribution.grad_cam(tiny, picture, target, layer)
    assert cam.coarse.shape == tuple(expected.shape) and expected.max() > 0
    np.testing.assert_allclose(cam.coarse, expected.detach().numpy(), rtol=1e-5, atol=1e-7)
    assert cam.values.shape == (12, 12) and cam.score == pytest.approx(float(score))
    assert not tiny.get_submodule(layer)._forward_hooks and not tiny.get_submodule(layer)._backward_hooks


def test_grad_cam_is_placed_where_each_position_looks(tiny, picture):
    """Layer "3" (after an unpadded 3 x 3 convolution) has 10 x 10 maps whose position (i, j)
    looks at input pixels centred on (i + 1, j + 1): the map sits one pixel in from each edge."""
    assert attribution.map_geometry(tiny, "3") == ((1.0, 1.0), (1, 1))
    assert attribution.map_geometry(tiny, "4") == ((1.5, 1.5), (2, 2))
    with torch.no_grad():
        target = int(tiny(picture).argmax())
    cam = attribution.grad_cam(tiny, picture, target, "3")
    assert cam.coarse.max() > 0
    np.testing.assert_allclose(cam.values[1:11, 1:11], cam.coarse, rtol=1e-5, atol=1e-7)  # centres: exact
    np.testing.assert_allclose(cam.values[0, 1:11], cam.coarse[0], rtol=1e-5, atol=1e-7)  # the edge continues
    coarse = torch.arange(6.0).view(1, 1, 2, 3)
    enlarged = attribution.enlarge_aligned(coarse, ((1.5, 0.5), (2, 2)), (5, 6))[0, 0]
    # Pixel (3, 2) is at map position ((3 - 1.5) / 2, (2 - 0.5) / 2) = (0.75, 0.75): rows [0 1 2] and
    # [3 4 5] mixed 1:3 give [2.25 3.25 4.25], whose columns 0 and 1 mixed 1:3 give 3.
    assert enlarged[3, 2].item() == pytest.approx(3.0)
    assert enlarged[0, 1].item() == pytest.approx(0.25)  # above the first centre: row 0 continues
    assert enlarged[4, 5].item() == pytest.approx(5.0)  # past the last centres: the corner value


@pytest.mark.parametrize(
    ("architecture", "layer", "geometry"),
    [
        ("resnet18", "layer4", ((0.0, 0.0), (32, 32))),  # the downsampling shortcut is not counted twice
        ("vgg16", "features.29", ((7.5, 7.5), (16, 16))),  # four 2 x 2 poolings
        ("tinyvgg", "features.8", ((6.5, 6.5), (2, 2))),  # unpadded: 2 + 0.5, times 2, + 2
        ("lenet5", "features.4", ((4.5, 4.5), (2, 2))),
    ],
)
def test_map_geometry_of_the_real_networks(architecture, layer, geometry):
    assert attribution.map_geometry(models.build(architecture, 10), layer) == geometry


def test_saliency_is_the_absolute_input_gradient(tiny, picture):
    expected = input_gradient(tiny, picture, 1).abs()[0].amax(0)  # the largest over colours
    found = attribution.saliency(tiny, picture, 1)
    np.testing.assert_allclose(found.values, expected.numpy(), rtol=1e-5, atol=1e-8)


def test_smoothgrad_without_noise_is_the_saliency_and_is_reproducible(tiny, picture):
    plain = attribution.saliency(tiny, picture, 0).values
    np.testing.assert_allclose(attribution.smoothgrad(tiny, picture, 0, samples=3, noise=0.0).values, plain, rtol=1e-5)
    before = torch.random.get_rng_state()
    first = attribution.smoothgrad(tiny, picture, 0, samples=8, noise=0.2, seed=1).values
    assert torch.equal(torch.random.get_rng_state(), before)  # the process's random state is untouched
    assert np.array_equal(first, attribution.smoothgrad(tiny, picture, 0, samples=8, noise=0.2, seed=1).values)
    assert not np.allclose(first, plain)  # noise changes the gradient of a network with ReLUs


def test_smoothgrad_of_a_linear_model_is_its_weights():
    """A linear score has the same gradient everywhere, so averaging over noise changes nothing."""
    linear = nn.Sequential(nn.Flatten(), nn.Linear(3 * 4 * 4, 2)).eval()
    x = torch.randn(1, 3, 4, 4)
    expected = linear[1].weight.detach()[1].view(3, 4, 4).abs().amax(0).numpy()
    found = attribution.smoothgrad(linear, x, 1, samples=6, noise=0.5, seed=2).values
    np.testing.assert_allclose(found, expected, rtol=1e-5)


def test_integrated_gradients_are_complete(tiny, picture):
    """Completeness: the attributions add up to score(x) - score(baseline)."""
    baseline = torch.full_like(picture, -0.5)
    with torch.no_grad():
        differences = tiny(picture)[0] - tiny(baseline)[0]
    target = int(differences.abs().argmax())  # the class whose score changes most: a sharp test
    difference = float(differences[target])
    assert abs(difference) > 0.02
    found = attribution.integrated_gradients(tiny, picture, target, baseline, steps=256)
    assert found.total == pytest.approx(difference, rel=1e-2)
    assert found.score - found.baseline_score == pytest.approx(difference, rel=1e-5)
    assert float(found.values.sum()) == pytest.approx(found.total, rel=1e-4)  # the map sums the colours


def test_integrated_gradients_of_a_linear_model_are_weight_times_change():
    linear = nn.Sequential(nn.Flatten(), nn.Linear(2 * 3 * 3, 2)).eval()
    x = torch.randn(1, 2, 3, 3)
    expected = (linear[1].weight.detach()[0].view(2, 3, 3) * x[0]).sum(0).numpy()
    found = attribution.integrated_gradients(linear, x, 0, steps=4)
    np.testing.assert_allclose(found.values, expected, rtol=1e-4, atol=1e-6)


def test_the_shared_model_is_left_as_it_was(tiny, picture):
    state = {name: value.clone() for name, value in tiny.state_dict().items()}
    for method in (
        lambda: attribution.grad_cam(tiny, picture, 0, "3"),
        lambda: attribution.saliency(tiny, picture, 0),
        lambda: attribution.smoothgrad(tiny, picture, 0, samples=2),
        lambda: attribution.integrated_gradients(tiny, picture, 0, steps=4),
    ):
        method()
    with pytest.raises(ValueError, match="gives a vector"):
        attribution.grad_cam(tiny, picture, 0, "5")  # Flatten: no positions
    assert all(torch.equal(tiny.state_dict()[name], value) for name, value in state.items())
    assert not any(parameter.requires_grad for parameter in tiny.parameters())
    assert not any(module._forward_hooks or module._backward_hooks for module in tiny.modules())
    with torch.no_grad():
        attribution.saliency(tiny, picture, 0)
        assert not torch.is_grad_enabled()


def test_impossible_requests_are_explained(tiny, picture):
    with pytest.raises(ValueError, match="there is no class 3"):
        attribution.saliency(tiny, picture, 3)
    with pytest.raises(ValueError, match="no layer called 'conv9'"):
        attribution.grad_cam(tiny, picture, 0, "conv9")
    with pytest.raises(ValueError, match=r"one picture at a time"):
        attribution.saliency(tiny, torch.cat([picture, picture]), 0)
    assert attribution.default_cam_layer([("0", "Conv2d"), ("1", "ReLU"), ("2", "MaxPool2d")]) == "1"


# --- the offline cases: do the maps fall on the ink and on the shape? -------------------------------
# Measured on the 200 held-out digits (mass of the true class's Grad-CAM within a pixel of the ink,
# which covers 0.27 of the picture there): 0.61 at the first convolution (features.0), 0.65 at its
# ReLU (features.1) but with 11 maps left empty, 0.37 at the last convolution's ReLU (features.4,
# 10 x 10, each position sees most of the digit): barely more than by chance. The shapes network's
# Grad-CAM does NOT single out the shape, at any layer; integrated gradients do (``attribution.ON_SHAPE``,
# from bench/attribution_shapes.py; the plain gradient puts 0.42 of its mass within 2 pixels of the shape).


def dilated(mask: np.ndarray, pixels: int) -> np.ndarray:
    """``mask`` grown by ``pixels`` in every direction (a square neighbourhood)."""
    grown = F.max_pool2d(torch.tensor(mask, dtype=torch.float32)[None, None], 2 * pixels + 1, 1, pixels)
    return grown[0, 0].numpy() > 0


def ink_shares(layer: str, grown: int, every: int = 1) -> np.ndarray:
    """(mass of the digit's true-class Grad-CAM within ``grown`` pixels of the ink, that region's area share),
    one row per held-out digit (``every``: one in so many)."""
    network = models.load_bundled("digits")
    pictures, labels = models.sample_images(network.manifest.sample)
    shares = []
    for index in range(0, len(pictures), every):
        cam = attribution.grad_cam(network.model, network.prepare(pictures[index], native=True).tensor,
                                   int(labels[index]), layer)  # fmt: skip
        region = dilated(pictures[index] > 127, grown)
        shares.append((attribution.mass_inside(cam.values, region), region.mean()))
    return np.array(shares)


def layers_of(architecture: str, input_shape: tuple[int, int, int]) -> list[tuple[str, str]]:
    """(name, kind) of the layers with (C, H, W) outputs, as the page lists them."""
    model = architectures.build(architecture, 10).eval()
    found = features.feature_maps(model, torch.zeros(1, *input_shape), architectures.SHOWN_LAYERS.get(architecture))
    return [(layer.name, layer.kind) for layer in found.layers]


def test_the_default_grad_cam_layer_of_the_digits_network_falls_on_the_ink():
    """The page's teaching point, on every held-out digit at the layer the page opens with: the map
    lands on the strokes, clearly more than by chance, and it is never empty."""
    layer = attribution.default_cam_layer(layers_of("lenet5", (1, 28, 28)), "lenet5")
    shares = ink_shares(layer, 1)
    mass, area = shares.mean(0)
    assert mass > 0.5 and mass > 2 * area  # measured 0.61 on a region of 0.27
    assert (shares[:, 0] > 0).all() and (shares[:, 0] > shares[:, 1]).mean() > 0.85
    last = ink_shares("features.4", 1, every=5).mean(0)  # the usual choice, the last convolution
    assert last[0] < 1.5 * last[1]  # why it is not the default here


@pytest.mark.parametrize(("architecture", "last"), [("alexnet", "features.11"), ("vgg16", "features.29"),
                                                    ("resnet18", "layer4.1")])  # fmt: skip
def test_the_imagenet_networks_default_to_their_last_convolution(architecture, last):
    layers = layers_of(architecture, (3, 224, 224))
    assert attribution.default_cam_layer(layers, architecture) == last
    assert attribution.default_cam_layer(layers) == last  # the general rule


def generated_shape(name: str, index: int, seed: int = 123) -> tuple[np.ndarray, np.ndarray]:
    """A picture of the shapes data set and where its shape is (pixels at least half covered)."""
    picture, coverage = shapes.draw_with_coverage(name, np.random.default_rng([seed, index]))
    return picture, coverage > 0.5


def test_the_gradient_of_the_shapes_network_falls_on_the_shape():
    network = models.load_bundled("shapes")
    classes = network.manifest.class_names
    shares = []
    for index in range(24):
        name = ("circle", "square", "triangle", "star")[index % 4]
        picture, shape = generated_shape(name, index)
        assert np.abs(picture[shape].mean(0) - picture[~dilated(shape, 2)].mean(0)).sum() > 30  # the replay is right
        found = attribution.saliency(network.model, network.prepare(picture, native=True).tensor, classes.index(name))
        region = dilated(shape, 2)
        shares.append((attribution.mass_inside(found.values, region), region.mean()))
    mass, area = np.array(shares).mean(0)
    assert mass > 1.5 * area


@pytest.fixture
def one_thread():
    """torch on one thread, as the app runs it: on a busy 2-core machine these small passes are
    20 to 300 times slower spread over threads."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_what_the_page_says_of_the_shapes_network_holds_on_held_out_shapes(one_thread):
    """``ON_SHAPE`` and ``SHAPES_ANSWERED`` (bench/attribution_shapes.py, 80 held-out shapes), re-measured
    on the first 20 of them: integrated gradients, the page's default there, put over twice chance on the
    shape; Grad-CAM, at every layer, no more than a map spread at random; yet the network answers from
    the shape (the background alone is always the same answer)."""
    network = models.load_bundled("shapes")
    assert attribution.default_method("shapes") == "integrated" and attribution.default_method("digits") == "gradcam"
    layers = [name for name, _ in layers_of("tinyvgg", (3, 64, 64))]
    indices = [index for index in range(50) if index % 10 < 4]  # the solid shapes: circle, square, triangle, star
    sample = models.sample_images(network.manifest.sample)[0]
    shares, areas, backgrounds = {}, [], []
    for index in indices:
        picture, shape = shapes.draw_with_coverage(shapes.SHAPE_CLASSES[index % 10], np.random.default_rng([2, index]))
        assert np.array_equal(picture, sample[index])  # the network's held-out sample
        x, mask = network.prepare(picture, native=True).tensor, shape > 0.5
        black = attribution.black_baseline(x, network.manifest.mean, network.manifest.std)
        for method, layer in [("gradcam", name) for name in layers] + [(m, None) for m in attribution.METHODS[1:]]:
            found = attribution.attribute(network.model, x, index % 10, method, layer, black)
            shares.setdefault(layer or method, []).append(attribution.mass_inside(found.values, mask))
        areas.append(mask.mean())
        backgrounds.append(network.prepare(shapes._background(np.random.default_rng([2, index])), native=True).tensor)
    on, area = {name: np.mean(values) for name, values in shares.items()}, np.mean(areas)
    measured = attribution.ON_SHAPE
    assert area == pytest.approx(measured["area"], abs=0.02)
    assert on["integrated"] > 2 * area and on["integrated"] == pytest.approx(measured["integrated"], abs=0.04)
    assert (
        max(on[layer] for layer in layers) < 1.3 * area
        and max(on[layer] for layer in layers) < measured["gradcam"] + 0.03
    )
    for method in ("saliency", "smoothgrad"):
        assert on[method] == pytest.approx(measured[method], abs=0.04)
    with torch.no_grad():
        answers = network.model(torch.cat(backgrounds)).argmax(1)
    assert set(answers.tolist()) == {
        network.manifest.class_names.index(attribution.SHAPES_ANSWERED["background_answer"])
    }


def test_integrated_gradients_are_complete_on_the_digits_network_at_the_pages_steps():
    network = models.load_bundled("digits")
    pictures, labels = models.sample_images(network.manifest.sample)
    x = network.prepare(pictures[0], native=True).tensor
    black = ((0 - torch.tensor(network.manifest.mean)) / torch.tensor(network.manifest.std)).view(1, -1, 1, 1)
    found = attribution.integrated_gradients(network.model, x, int(labels[0]), black.expand_as(x), steps=32)
    with torch.no_grad():
        difference = float(network.model(x)[0, int(labels[0])] - network.model(black.expand_as(x))[0, int(labels[0])])
    assert found.total == pytest.approx(difference, rel=0.02)


def test_attribute_runs_the_named_method_with_the_lessons_settings(tiny, picture):
    black = attribution.black_baseline(picture, (0.5, 0.25, 0.0), (0.5, 0.5, 1.0))
    assert black.shape == picture.shape and black[0, :, 0, 0].tolist() == [-1.0, -0.5, 0.0]
    pairs = [
        (attribution.attribute(tiny, picture, 1, "gradcam", "3"), attribution.grad_cam(tiny, picture, 1, "3")),
        (attribution.attribute(tiny, picture, 1, "saliency"), attribution.saliency(tiny, picture, 1)),
        (attribution.attribute(tiny, picture, 1, "smoothgrad"), attribution.smoothgrad(tiny, picture, 1, 16, 0.15)),
        (attribution.attribute(tiny, picture, 1, "integrated", baseline=black),
         attribution.integrated_gradients(tiny, picture, 1, black, 32)),
    ]  # fmt: skip
    for found, expected in pairs:
        assert found.method == expected.method
        np.testing.assert_allclose(found.values, expected.values, rtol=1e-5, atol=1e-7)
    with pytest.raises(ValueError, match="Unknown attribution method"):
        attribution.attribute(tiny, picture, 1, "occlusion")
