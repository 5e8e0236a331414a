"""A student's network is measured from its text, before it is built: the numbers must be
the ones torch gets when the network is built and run."""

import math
import re
from pathlib import Path

import pytest
import torch
from torch import nn

from cnnviz import netspec, network_cost
from cnnviz.limits import ENVIRONMENT_VARIABLES, Limits

SPECS = [
    "conv 4 k3\nrelu\nflatten\ndense 10",
    "conv 6 k5 p2\nprelu\npool max 2\nconv 8 k3 s2 p1 d2\ntanh\npool avg 2\nflatten\ndropout 0.3\ndense 12\nrelu\ndense 10",
    *netspec.PRESET_SPECS.values(),
]


def measured(network: nn.Sequential, images: torch.Tensor) -> tuple[int, int]:
    """(values kept, multiply-adds) of a real forward pass, from forward hooks: the input and every
    module's output but a flatten's (a view); a convolution's and a dense layer's products counted
    from the tensors they saw."""
    kept = [images.numel()]
    macs = [0]

    def hook(module, inputs, output):
        if not isinstance(module, nn.Flatten):
            kept.append(output.numel())
        if isinstance(module, nn.Conv2d):  # each output value: (in_channels / groups) * kh * kw products
            macs.append(output.numel() * module.weight[0].numel())
        elif isinstance(module, nn.Linear):
            macs.append(output.numel() * module.in_features)

    handles = [module.register_forward_hook(hook) for module in network]
    try:
        network.train()(images)
    finally:
        for handle in handles:
            handle.remove()
    return sum(kept), sum(macs)


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("input_shape", [(1, 28, 28), (3, 32, 32)])
def test_cost_matches_what_torch_builds_and_runs(spec, input_shape):
    layers = netspec.parse_spec(spec)
    batch = 3
    cost = network_cost.network_cost(input_shape, layers, classes=10, batch_size=batch)
    network = netspec.build_network(input_shape, layers, 10)
    assert cost.params == sum(p.numel() for p in network.parameters())
    values, macs = measured(network, torch.rand(batch, *input_shape))
    assert cost.activation_values * batch == values
    assert cost.activation_bytes == values * 4
    assert cost.forward_macs * batch == macs
    assert cost.step_macs == 3 * macs


def test_cost_by_hand_for_a_small_net():
    # 1x8x8 -> conv 2 k3: 2x6x6 (72 values, 72 * 9 = 648 MACs, 2*9+2 = 20 params)
    # -> relu 72 values -> flatten (a view) -> dense 10: 10 values, 72 * 10 MACs, 730 params
    cost = network_cost.network_cost((1, 8, 8), netspec.parse_spec("conv 2 k3\nrelu\nflatten\ndense 10"), 10, 16)
    assert cost.params == 20 + 730
    assert cost.activation_values == 64 + 72 + 72 + 10
    assert cost.forward_macs == 648 + 720
    assert cost.step_macs == (648 + 720) * 16 * 3
    assert cost.activation_bytes == (64 + 72 + 72 + 10) * 16 * 4


def test_the_classroom_killers_are_refused_with_the_number_and_the_limit():
    limits = Limits()
    dense = netspec.parse_spec("flatten\ndense 60000\nrelu\ndense 60000\nrelu\ndense 10")
    with pytest.raises(network_cost.LimitExceeded) as refused:
        network_cost.check_limits(network_cost.network_cost((1, 28, 28), dense, 10, 64), limits)
    params = (784 + 1) * 60000 + 60001 * 60000 + 60001 * 10
    assert (refused.value.reason, refused.value.value, refused.value.limit) == ("params", params, 5_000_000)
    assert f"{params:,} parameters; this server allows 5,000,000" in str(refused.value)

    convs = netspec.parse_spec("conv 512 k3 p1\nrelu\n" * 6 + "flatten\ndense 10")
    with pytest.raises(network_cost.LimitExceeded):
        network_cost.check_limits(network_cost.network_cost((1, 28, 28), convs, 10, 64), limits)
    # Even with the parameters allowed, one step of it is far beyond a second of a core.
    generous = Limits(max_params=10**9, max_activation_mb=10**6)
    with pytest.raises(network_cost.LimitExceeded) as refused:
        network_cost.check_limits(network_cost.network_cost((1, 28, 28), convs, 10, 64), generous)
    conv_macs = 28 * 28 * 512 * 9 * (1 + 512 * 5)
    assert refused.value.reason == "macs" and refused.value.value == (conv_macs + 28 * 28 * 512 * 10) * 64 * 3


def test_activation_memory_limit():
    wide = netspec.parse_spec("conv 64 k3 p1\nrelu\nflatten\ndense 10")
    cost = network_cost.network_cost((3, 32, 32), wide, 10, 256)
    megabytes = (3072 + 2 * 64 * 1024 + 10) * 256 * 4 / 1e6
    with pytest.raises(network_cost.LimitExceeded) as refused:
        network_cost.check_limits(cost, Limits(max_activation_mb=100))
    assert refused.value.reason == "activation_mb" and refused.value.value == pytest.approx(megabytes)
    network_cost.check_limits(cost, Limits(max_activation_mb=math.ceil(megabytes)))


@pytest.mark.parametrize("name", list(netspec.PRESET_SPECS))
@pytest.mark.parametrize("input_shape", [(1, 28, 28), (3, 32, 32)])
def test_every_preset_fits_the_default_limits_at_the_largest_batch(name, input_shape):
    layers = netspec.parse_spec(netspec.PRESET_SPECS[name])
    network_cost.check_limits(network_cost.network_cost(input_shape, layers, 10, 256), Limits())


def test_limits_come_from_the_environment():
    assert Limits.from_environment({}) == Limits()
    environ = {"CNNVIZ_MAX_PARAMS": "1_000_000", "CNNVIZ_MAX_ACTIVATION_MB": " 64 ", "CNNVIZ_MAX_MACS": "10"}
    assert Limits.from_environment(environ) == Limits(1_000_000, 64, 10)
    assert set(ENVIRONMENT_VARIABLES.values()) == {*environ, "CNNVIZ_HEAVY_JOBS", "CNNVIZ_KEPT_RUNS"}
    with pytest.raises(ValueError, match="CNNVIZ_MAX_MACS must be a whole number"):
        Limits.from_environment({"CNNVIZ_MAX_MACS": "lots"})
    with pytest.raises(ValueError, match="CNNVIZ_MAX_PARAMS"):
        Limits.from_environment({"CNNVIZ_MAX_PARAMS": "0"})


def test_the_readme_documents_every_setting_read_from_the_environment():
    root = Path(__file__).resolve().parents[2]
    sources = [root / "app.py", *(root / "pages").glob("*.py"), *(root / "cnnviz").rglob("*.py")]
    names = {name for path in sources for name in re.findall(r"CNNVIZ_[A-Z_]*[A-Z]", path.read_text(encoding="utf-8"))}
    assert set(ENVIRONMENT_VARIABLES.values()) <= names
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert sorted(name for name in names if f"`{name}`" not in readme) == []
