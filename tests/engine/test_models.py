"""Networks: torchvision-compatible definitions, safe weight loading, bundled weights, inputs, data."""

import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from cnnviz import models
from cnnviz.models import architectures, networks, preprocess, shapes, train, weights
from cnnviz.models.weights import WeightsError


def on_meta(architecture: str, classes: int = 1000) -> torch.nn.Module:
    """The architecture with shapes only (no memory, instant): enough to check names and counts."""
    with torch.device("meta"):
        return models.build(architecture, classes)


# --- ImageNet architectures match torchvision's published state_dicts -------------------------

# Parameter totals torchvision documents for these weights.
TOTALS = {"alexnet": 61_100_840, "vgg16": 138_357_544, "resnet18": 11_689_512}

ALEXNET_KEYS = [
    (f"{part}.{index}.{kind}", None)
    for part, indices in (("features", (0, 3, 6, 8, 10)), ("classifier", (1, 4, 6)))
    for index in indices
    for kind in ("weight", "bias")
]
VGG16_CONVS = (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28)

SHAPES = {
    "alexnet": {
        "features.0.weight": (64, 3, 11, 11),
        "features.3.weight": (192, 64, 5, 5),
        "features.10.weight": (256, 256, 3, 3),
        "classifier.1.weight": (4096, 9216),
        "classifier.6.weight": (1000, 4096),
        "classifier.6.bias": (1000,),
    },
    "vgg16": {
        "features.0.weight": (64, 3, 3, 3),
        "features.28.weight": (512, 512, 3, 3),
        "classifier.0.weight": (4096, 25088),
        "classifier.3.weight": (4096, 4096),
        "classifier.6.weight": (1000, 4096),
    },
    "resnet18": {
        "conv1.weight": (64, 3, 7, 7),
        "bn1.running_mean": (64,),
        "bn1.num_batches_tracked": (),
        "layer1.0.conv1.weight": (64, 64, 3, 3),
        "layer2.0.downsample.0.weight": (128, 64, 1, 1),
        "layer2.0.downsample.1.running_var": (128,),
        "layer4.1.bn2.bias": (512,),
        "fc.weight": (1000, 512),
        "fc.bias": (1000,),
    },
}


@pytest.mark.parametrize("architecture", list(TOTALS))
def test_imagenet_parameter_totals_match_torchvision(architecture):
    assert sum(p.numel() for p in on_meta(architecture).parameters()) == TOTALS[architecture]


@pytest.mark.parametrize("architecture", list(SHAPES))
def test_imagenet_key_names_and_shapes_match_torchvision(architecture):
    state = on_meta(architecture).state_dict()
    for name, shape in SHAPES[architecture].items():
        assert tuple(state[name].shape) == shape, name


def test_imagenet_key_lists_match_torchvision():
    assert list(on_meta("alexnet").state_dict()) == [name for name, _ in ALEXNET_KEYS]
    vgg = [f"features.{i}.{kind}" for i in VGG16_CONVS for kind in ("weight", "bias")]
    vgg += [f"classifier.{i}.{kind}" for i in (0, 3, 6) for kind in ("weight", "bias")]
    assert list(on_meta("vgg16").state_dict()) == vgg
    resnet = on_meta("resnet18").state_dict()
    assert len(resnet) == 122  # 20 batch norms x 5 + 20 convolutions + fc weight and bias
    assert list(resnet)[:7] == ["conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var",
                                "bn1.num_batches_tracked", "layer1.0.conv1.weight"]  # fmt: skip


def test_unknown_architecture_is_refused():
    with pytest.raises(ValueError, match="Unknown architecture"):
        models.build("googlenet", 1000)


# --- user weight files: safe loading, clear refusals -------------------------------------------


@pytest.fixture(scope="module")
def resnet_file(tmp_path_factory) -> tuple[Path, dict]:
    """A random-init ResNet-18 state_dict written as torchvision writes its files."""
    state = models.build("resnet18", 1000).state_dict()
    path = tmp_path_factory.mktemp("weights") / "resnet18-0000abcd.pth"
    torch.save(state, path)
    return path, state


def test_locally_written_imagenet_weights_load_strictly(resnet_file):
    path, state = resnet_file
    network = models.load_user_weights("resnet18", path)
    loaded = network.model.state_dict()
    assert all(torch.equal(loaded[name], value) for name, value in state.items())
    assert not network.model.training
    assert not any(p.requires_grad for p in network.model.parameters())
    assert network.manifest.class_names[0] == "tench" and len(network.manifest.class_names) == 1000
    with torch.inference_mode():
        assert network.model(torch.zeros(1, 3, 64, 64)).shape == (1, 1000)


def test_weights_from_uploaded_bytes_and_checkpoint_wrappers(resnet_file, tmp_path):
    path, state = resnet_file
    assert models.load_user_weights("resnet18", path.read_bytes()).manifest.title == "ResNet-18"
    wrapped = tmp_path / "checkpoint.pth"
    torch.save({"epoch": 90, "state_dict": {f"module.{k}": v for k, v in state.items()}}, wrapped)
    models.load_user_weights("resnet18", wrapped)


def test_wrong_network_is_refused_with_names(tmp_path):
    path = tmp_path / "lenet.pth"
    torch.save(models.build("lenet5", 10).state_dict(), path)
    with pytest.raises(WeightsError) as caught:
        models.load_user_weights("resnet18", path)
    message = str(caught.value)
    assert message.startswith("This file does not fit ResNet-18:")
    assert "122 weights are missing (conv1.weight, bn1.weight, bn1.bias, and 119 more)" in message
    assert "10 weights are not part of this network (features.0.weight" in message


def test_wrong_shapes_are_refused_with_both_shapes(resnet_file, tmp_path):
    _, state = resnet_file
    changed = dict(state, **{"fc.weight": torch.zeros(10, 512), "fc.bias": torch.zeros(10)})
    path = tmp_path / "resnet18-finetuned.pth"
    torch.save(changed, path)
    with pytest.raises(WeightsError, match=r"2 weights are the wrong shape \(fc.weight is 10 x 512 in the file but "
                                           r"1000 x 512 in the network, fc.bias is 10 in the file but 1000"):  # fmt: skip
        models.load_user_weights("resnet18", path)


def test_truncated_file_is_refused(resnet_file, tmp_path):
    path = tmp_path / "resnet18-cut.pth"
    path.write_bytes(resnet_file[0].read_bytes()[:1_000_000])
    with pytest.raises(WeightsError, match="truncated"):
        models.load_user_weights("resnet18", path)


def test_not_a_weight_file_is_refused(tmp_path):
    path = tmp_path / "notes.pth"
    path.write_text("these are not weights")
    with pytest.raises(WeightsError, match=r"The file is a text file, not weights: expected a state_dict saved with "
                                           r"torch.save \(.pth or .pt, a zip archive\) or a .safetensors file"):  # fmt: skip
        models.load_user_weights("alexnet", path)
    empty = tmp_path / "empty.pth"
    torch.save({"epoch": 3}, empty)
    with pytest.raises(WeightsError, match="holds no weights"):
        models.load_user_weights("alexnet", empty)


class Payload:
    """Unpickling this would call Path.write_text: a file carrying code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "the payload ran"))


@pytest.mark.parametrize("writer", ["torch.save", "pickle.dump"])
def test_a_file_carrying_code_is_refused_without_running_it(tmp_path, writer):
    marker = tmp_path / "marker.txt"
    path = tmp_path / "resnet18-evil.pth"
    content = {"conv1.weight": torch.zeros(64, 3, 7, 7), "fc.bias": Payload(marker)}
    if writer == "torch.save":
        torch.save(content, path)
    else:
        with path.open("wb") as file:
            pickle.dump(content, file)
    for source in (path, path.read_bytes()):
        with pytest.raises(WeightsError, match="refused without being run"):
            models.load_user_weights("resnet18", source)
    assert not marker.exists()


def test_safetensors_files_load_and_a_damaged_one_is_refused(tmp_path):
    state = models.build("lenet5", 10).state_dict()
    path = tmp_path / "my_lenet.safetensors"
    weights.save_safetensors(state, path)
    for source in (path, path.read_bytes()):
        loaded = models.load_user_weights("lenet5", source).model.state_dict()
        assert all(torch.equal(loaded[name], value) for name, value in state.items())
    with pytest.raises(WeightsError, match="could not be read as safetensors"):
        models.load_user_weights("lenet5", path.read_bytes()[:-100])


def test_our_architectures_take_user_weights_with_our_classes(tmp_path):
    path = tmp_path / "retrained.pth"
    torch.save(models.build("lenet5", 10).state_dict(), path)
    network = models.load_user_weights("lenet5", path)
    assert network.manifest.class_names == models.load_bundled("digits").manifest.class_names
    assert network.manifest.heldout_accuracy is None and network.manifest.sample == "digits_heldout.npz"
    torch.save(models.build("tinyvgg", 10).state_dict(), path)
    with pytest.raises(WeightsError, match=r"This file does not fit LeNet-5 \(digits\):.*the wrong shape \(features.0.weight "
                                           r"is 10 x 3 x 3 x 3 in the file but 6 x 1 x 5 x 5 in the network"):  # fmt: skip
        models.load_user_weights("lenet5", path)
    with pytest.raises(ValueError, match="Unknown architecture 'googlenet' for a weight file"):
        models.load_user_weights("googlenet", path)


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(WeightsError, match="could not be read"):
        models.load_user_weights("alexnet", tmp_path / "alexnet-gone.pth")


def test_a_network_from_the_training_page_is_a_copy_in_eval_mode():
    from cnnviz import netspec

    trained = netspec.build_network((1, 28, 28), netspec.parse_spec(netspec.PRESET_SPECS["Small CNN with dropout"]), 10)
    trained.train()
    network = models.from_training("run 1", trained, [str(d) for d in range(10)], (1, 28, 28))
    assert trained.training and all(p.requires_grad for p in trained.parameters())  # the run's own is untouched
    assert not network.model.training and not any(p.requires_grad for p in network.model.parameters())
    assert network.model is not trained and network.model[0].weight is not trained[0].weight
    assert torch.equal(network.model[0].weight, trained[0].weight)
    images, _ = models.sample_images(network.manifest.sample)
    prepared = network.prepare(images[0], native=True)
    assert torch.allclose(prepared.tensor[0, 0], torch.from_numpy(images[0] / 255).float())  # 0..1, no normalisation
    colour = models.from_training("run 2", torch.nn.Flatten(), ["a", "b"], (3, 32, 32))
    assert colour.manifest.preprocessing == "square" and colour.manifest.sample == "shapes_heldout.npz"
    assert colour.prepare(np.zeros((64, 64, 3), np.uint8)).tensor.shape == (1, 3, 32, 32)


def training_download(spec: str, input_shape=(1, 28, 28), classes="0,1,2,3,4,5,6,7,8,9") -> tuple[bytes, dict]:
    """A file as the Training page's download button writes it: weights plus the spec in the metadata."""
    from safetensors.torch import save

    from cnnviz import netspec

    network = netspec.build_network(input_shape, netspec.parse_spec(spec), len(classes.split(",")), seed=3)
    metadata = {"spec": spec, "classes": classes, "input_shape": "x".join(map(str, input_shape))}
    return save(network.state_dict(), metadata=metadata), network.state_dict()


def test_a_network_downloaded_from_the_training_page_loads_from_its_spec():
    data, state = training_download("conv 4 k3\nrelu\npool max 2\nflatten\ndropout 0.5\ndense 10")
    network = models.load_user_weights("spec", data)
    assert all(torch.equal(network.model.state_dict()[name], value) for name, value in state.items())
    assert network.manifest.class_names[9] == "9" and network.manifest.preprocessing == "mnist"
    assert not network.model.training and network.model[0].weight.shape == (4, 1, 3, 3)


def test_a_training_page_file_that_does_not_fit_its_spec_is_refused():
    data, _ = training_download("conv 4 k3\nflatten\ndense 10")
    header = weights.safetensors_metadata(data)
    assert header["spec"] == "conv 4 k3\nflatten\ndense 10"
    from safetensors.torch import load, save

    wrong = save(load(data), metadata={**header, "spec": "conv 8 k3\nflatten\ndense 10"})
    with pytest.raises(
        WeightsError, match=r"does not fit A network from the Training page: .*0.weight is 4 x 1 x 3 x 3"
    ):
        models.load_user_weights("spec", wrong)
    with pytest.raises(WeightsError, match="cannot be built: Line 1"):
        models.load_user_weights("spec", save(load(data), metadata={**header, "spec": "conv"}))
    with pytest.raises(WeightsError, match="does not say which network it holds"):
        models.load_user_weights("spec", save(load(data)))


def test_half_precision_weights_load_as_float32(tmp_path):
    state = {name: value.half() if value.is_floating_point() else value for name, value in
             models.build("lenet5", 10).state_dict().items()}  # fmt: skip
    model = weights.load_weights(models.build("lenet5", 10), state, "LeNet-5")
    assert all(p.dtype == torch.float32 for p in model.parameters())


def test_find_imagenet_weights_by_torchvision_file_name(tmp_path):
    (tmp_path / "resnet18-f37072fd.pth").write_bytes(b"")
    (tmp_path / "vgg16_bn-6c64b313.pth").write_bytes(b"")  # another network: not VGG-16
    assert models.find_imagenet_weights([tmp_path, tmp_path / "missing"]) == {
        "resnet18": tmp_path / "resnet18-f37072fd.pth"
    }


# --- the bundled networks ----------------------------------------------------------------------


@pytest.mark.parametrize("name", models.BUNDLED)
def test_manifest_describes_its_weight_file(name):
    manifest = models.Manifest.read(networks.MODELS_DIR / f"{name}.json")
    data = (networks.MODELS_DIR / manifest.weights).read_bytes()
    assert weights.sha256_hex(data) == manifest.sha256
    epochs = "" if manifest.notes["epochs"] == train.RECIPES[name].epochs else f" --epochs {manifest.notes['epochs']}"
    assert manifest.training_command == f"python -m cnnviz.models.train {name}{epochs}"
    assert manifest.architecture in architectures.ARCHITECTURES
    assert len(manifest.mean) == len(manifest.std) == manifest.input_shape[0]
    assert manifest.heldout_size >= 1000 and manifest.dataset


@pytest.mark.parametrize("name", models.BUNDLED)
def test_accuracy_on_shipped_heldout_sample_matches_manifest(name):
    network = models.load_bundled(name)
    images, labels = models.heldout_sample(name)
    assert len(labels) == 200 and np.bincount(labels).tolist() == [20] * 10
    batch = torch.cat([network.prepare(image, native=True).tensor for image in images])
    with torch.inference_mode():
        predictions = network.model(batch).argmax(1).numpy()
    accuracy = float((predictions == labels).mean())
    assert accuracy == pytest.approx(network.manifest.sample_accuracy, abs=1e-4)
    if name == "digits":
        assert accuracy >= 0.97 and network.manifest.heldout_accuracy >= 0.97


def test_sha256_mismatch_is_refused(tmp_path):
    for path in networks.MODELS_DIR.glob("digits*"):
        shutil.copy(path, tmp_path / path.name)
    tampered = bytearray((tmp_path / "digits.safetensors").read_bytes())
    tampered[-1] ^= 1
    (tmp_path / "digits.safetensors").write_bytes(bytes(tampered))
    with pytest.raises(WeightsError, match="damaged or replaced"):
        models.load_bundled("digits", tmp_path)


def test_missing_weight_file_is_refused(tmp_path):
    shutil.copy(networks.MODELS_DIR / "digits.json", tmp_path / "digits.json")
    with pytest.raises(WeightsError, match="could not be read"):
        models.load_bundled("digits", tmp_path)


def test_unknown_bundled_name_is_refused():
    with pytest.raises(ValueError, match="no bundled network"):
        models.load_bundled("cats")


def test_manifest_round_trip(tmp_path):
    manifest = models.imagenet_manifest("vgg16")
    manifest.write(tmp_path / "m.json")
    assert models.Manifest.read(tmp_path / "m.json") == manifest
    assert json.loads((tmp_path / "m.json").read_text())["input_shape"] == [3, 224, 224]


# --- from picture to tensor ----------------------------------------------------------------------


def test_mnist_recipe_on_dark_ink_on_white_paper():
    paper = np.full((200, 300, 3), 255, np.uint8)
    paper[40:160, 100:130] = 0  # a thick vertical stroke, off-centre: a "1"
    prepared = preprocess.prepare(paper, "mnist", (1, 28, 28), (0.0,), (1.0,))
    assert prepared.steps == (
        "grayscale",
        "inverted",
        "cropped_to_ink",
        "scaled_to_20",
        "centred_by_mass",
        "normalized",
    )
    ink = prepared.pixels[..., 0].astype(float)
    rows, cols = np.nonzero(ink > 0)
    assert rows.max() - rows.min() + 1 == 20  # the longer side fills the 20-pixel box
    assert cols.max() - cols.min() + 1 == 5  # aspect kept: 120 x 30 -> 20 x 5
    centre = [(ink.sum(axis=axis) * np.arange(28)).sum() / ink.sum() for axis in (1, 0)]
    assert centre == pytest.approx([13.5, 13.5], abs=0.5)
    assert prepared.tensor.shape == (1, 1, 28, 28)
    assert torch.allclose(prepared.tensor[0, 0], torch.from_numpy(ink / 255).float())


def test_mnist_recipe_refuses_a_blank_image():
    with pytest.raises(ValueError, match="nothing to read"):
        preprocess.prepare(np.full((50, 50, 3), 200, np.uint8), "mnist", (1, 28, 28), (0.0,), (1.0,))


def test_square_and_imagenet_recipes_and_normalisation():
    photo = np.random.default_rng(0).integers(0, 256, (300, 400, 3), dtype=np.uint8)
    square = preprocess.prepare(photo, "square", (3, 64, 64), (0.5, 0.5, 0.5), (0.25, 0.25, 0.25))
    assert square.steps == ("center_square", "resized", "normalized")
    assert torch.allclose(square.tensor[0], (torch.from_numpy(square.pixels).permute(2, 0, 1) / 255 - 0.5) / 0.25)
    imagenet = preprocess.prepare(photo, "imagenet", (3, 224, 224), networks.IMAGENET_MEAN, networks.IMAGENET_STD)
    assert imagenet.tensor.shape == (1, 3, 224, 224) and imagenet.steps == ("resized", "center_crop", "normalized")


def test_native_samples_must_have_the_network_size():
    with pytest.raises(ValueError, match="must be 28 x 28"):
        preprocess.prepare(np.zeros((30, 30), np.uint8), "mnist", (1, 28, 28), (0.0,), (1.0,), native=True)


# --- the generated shapes ------------------------------------------------------------------------


def test_shapes_are_deterministic_and_sliceable():
    images, labels = shapes.generate(12, seed=5)
    again, _ = shapes.generate(12, seed=5)
    part, part_labels = shapes.generate(4, seed=5, start=8)
    assert images.shape == (12, 64, 64, 3) and images.dtype == np.uint8
    assert np.array_equal(images, again) and np.array_equal(images[8:], part)
    assert labels.tolist() == [*range(10), 0, 1] and part_labels.tolist() == [8, 9, 0, 1]
    assert not np.array_equal(images, shapes.generate(12, seed=6)[0])


def test_every_shape_class_is_visible():
    images, _ = shapes.generate(10, seed=0)
    assert all(image.std() > 10 for image in images)  # none is a flat colour


def test_unknown_shape_class_is_refused():
    with pytest.raises(ValueError, match="Unknown shape class"):
        shapes.draw("hexagon", np.random.default_rng(0))


@pytest.mark.parametrize(
    ("name", "data", "kind"),
    [
        ("empty.pth", b"", "empty"),
        ("notes.safetensors", b"epoch 3: loss 0.21\naccuracy 0.93\n", "text"),
        ("photo.pth", b"\x89PNG\r\n\x1a\n" + bytes(200), "image"),
        ("random.pt", bytes(range(256)) * 4, "binary"),
    ],
)
def test_a_file_that_is_not_weights_is_named_for_what_it_is(tmp_path, name, data, kind):
    """Not "...in another format ()." for an empty file, nor "(101)" for a text file named .safetensors."""
    path = tmp_path / name
    path.write_bytes(data)
    for source in (path, data):
        with pytest.raises(WeightsError) as refused:
            models.load_user_weights("lenet5", source)
        assert refused.value.reason == "weights_wrong_format" and refused.value.values == {"kind": kind}
        assert str(refused.value) == (
            f"The file is {weights.FILE_KINDS[kind]}, not weights: expected a state_dict saved with torch.save "
            "(.pth or .pt, a zip archive) or a .safetensors file."
        )
        assert "()" not in str(refused.value) and "(101)" not in str(refused.value)
