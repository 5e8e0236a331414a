"""`make weights FILE=...`: a torchvision weight file checked, then copied where the app finds it."""

import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from cnnviz import models
from cnnviz.models import install, networks

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def resnet_state() -> dict[str, torch.Tensor]:
    return models.build("resnet18", 1000).state_dict()


@pytest.fixture
def folders(tmp_path, monkeypatch) -> tuple[Path, Path]:
    """(the weights folder, torch's cache), both empty, never the developer's own."""
    monkeypatch.delenv(networks.WEIGHTS_DIR_VARIABLE, raising=False)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    return tmp_path / "weights", tmp_path / "torch" / "hub" / "checkpoints"


def test_a_torchvision_file_goes_to_torchs_cache_and_is_found(tmp_path, folders, resnet_state):
    source = tmp_path / "downloads" / "resnet18-f37072fd.pth"
    source.parent.mkdir()
    torch.save(resnet_state, source)
    installed = install.install_weights(source)
    assert installed.architecture == "resnet18"
    assert installed.path == folders[1] / "resnet18-f37072fd.pth"
    assert installed.path.read_bytes() == source.read_bytes()
    assert models.find_imagenet_weights() == {"resnet18": installed.path}
    loaded = models.load_user_weights("resnet18", installed.path).model.state_dict()
    assert all(torch.equal(loaded[name], value) for name, value in resnet_state.items())


def test_a_renamed_safetensors_file_goes_to_the_weights_folder(tmp_path, folders, monkeypatch):
    monkeypatch.setenv(networks.WEIGHTS_DIR_VARIABLE, str(folders[0]))
    state = models.build("alexnet", 1000).state_dict()
    source = tmp_path / "my download.safetensors"
    save_file(state, source)
    installed = install.install_weights(source)
    # Named as the app looks for it: the architecture, then the start of the file's sha256.
    assert installed.architecture == "alexnet" and installed.path.parent == folders[0]
    assert installed.path.name.startswith("alexnet-") and installed.path.suffix == ".safetensors"
    assert models.find_imagenet_weights() == {"alexnet": installed.path}


def test_a_file_that_fits_no_imagenet_network_is_explained_and_not_copied(tmp_path, folders):
    source = tmp_path / "resnet18-broken.pth"
    state = models.build("resnet18", 1000).state_dict()
    state["fc.weight"] = torch.zeros(10, 512)  # a ResNet-18 retrained for 10 classes
    torch.save(state, source)
    with pytest.raises(models.WeightsError, match=r"fc.weight is 10 x 512 in the file but 1000 x 512"):
        install.install_weights(source)
    assert not folders[1].exists()


def test_a_file_carrying_code_is_refused(tmp_path, folders):
    source = tmp_path / "vgg16-evil.pth"
    source.write_bytes(b"\x80\x04cos\nsystem\n.")  # a pickle calling os.system
    with pytest.raises(models.WeightsError, match="refused without being run"):
        install.install_weights(source)


def test_make_weights_from_the_command_line(tmp_path, folders, resnet_state):
    source = tmp_path / "resnet18-f37072fd.pth"
    torch.save(resnet_state, source)
    environment = {"TORCH_HOME": str(tmp_path / "torch"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        ["make", "-s", "-o", ".venv/.installed-app", "weights", f"FILE={source}", f"BIN={Path(sys.executable).parent}"],
        cwd=ROOT, capture_output=True, text=True, env=environment,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "ResNet-18" in done.stdout and str(folders[1] / source.name) in done.stdout
    missing = subprocess.run(
        ["make", "-s", "-o", ".venv/.installed-app", "weights", f"BIN={Path(sys.executable).parent}"], cwd=ROOT, capture_output=True, text=True,
        env=environment,
    )  # fmt: skip
    assert missing.returncode != 0 and "make weights FILE=" in missing.stdout + missing.stderr
    wrong = subprocess.run(
        [sys.executable, "-m", "cnnviz.models.install", str(tmp_path / "nothing.pth")],
        cwd=ROOT, capture_output=True, text=True, env=environment,
    )  # fmt: skip
    assert wrong.returncode == 1 and "could not be read" in wrong.stderr and "Traceback" not in wrong.stderr
