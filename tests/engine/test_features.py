"""Feature maps: every layer's output matches the model's own forward pass; hooks never stay behind."""

import base64
import re

import numpy as np
import pytest
import torch
from torch import nn

from cnnviz import features, models
from cnnviz.drawing import pictures
from tests.charts import charts, within_pixels


class TinyNet(nn.Module):
    """conv -> in-place relu -> pool -> conv -> flatten -> linear -> linear, with hand-set weights."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 2, 3), nn.ReLU(inplace=True), nn.MaxPool2d(2), nn.Conv2d(2, 3, 2)
        )  # fmt: skip
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(3 * 2 * 2, 5), nn.Linear(5, 4))
        with torch.no_grad():
            for index, parameter in enumerate(self.parameters()):
                parameter.copy_(torch.linspace(-1, 1, parameter.numel()).view_as(parameter) * (index % 3 + 1) / 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class Broken(nn.Module):
    """Fails halfway through its forward pass."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3)
        self.fc = nn.Linear(2, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.conv(x)
        raise RuntimeError("the forward pass broke")


def hooks_left(model: nn.Module) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())


@pytest.fixture
def tiny():
    return TinyNet().eval()


@pytest.fixture
def image():
    return torch.linspace(-2, 2, 8 * 8).view(1, 1, 8, 8)


def test_every_layer_matches_the_forward_pass(tiny, image):
    maps = features.feature_maps(tiny, image)
    assert [layer.name for layer in maps.layers] == ["features.0", "features.1", "features.2", "features.3"]
    with torch.no_grad():
        conv = tiny.features[0](image)
        expected = [conv, conv.clamp(min=0), tiny.features[:3](image), tiny.features(image)]
    for layer, want in zip(maps.layers, expected, strict=True):
        assert layer.shape == tuple(want.shape[1:])
        np.testing.assert_allclose(layer.maps, want[0].numpy(), rtol=1e-6, atol=1e-6)
    # The in-place ReLU must not have overwritten the recorded convolution output.
    assert (maps.layer("features.0").maps < 0).any()


def test_layer_facts(tiny, image):
    maps = features.feature_maps(tiny, image)
    conv, relu, pool, conv2 = maps.layers
    assert (conv.kind, relu.kind, pool.kind) == ("Conv2d", "ReLU", "MaxPool2d")
    assert (conv.parameters, relu.parameters, conv2.parameters) == (2 * 9 + 2, 0, 3 * 2 * 4 + 3)
    assert (conv.conv, relu.conv, pool.conv, conv2.conv) == ("features.0", "features.0", "features.0", "features.3")
    np.testing.assert_array_equal(maps.input, image[0].numpy())


def test_probabilities_and_extracted_features(tiny, image):
    maps = features.feature_maps(tiny, image)
    with torch.no_grad():
        logits = tiny(image)
        before_last = tiny.head[:2](tiny.features(image))
    assert maps.probabilities.sum() == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(maps.probabilities, torch.softmax(logits[0].double(), 0).numpy(), rtol=1e-6)
    np.testing.assert_allclose(maps.penultimate, before_last[0].numpy(), rtol=1e-6)
    top = maps.top_classes(2)
    assert top[0][0] == int(logits.argmax()) and top[0][1] >= top[1][1]


def test_chosen_layers_only(tiny, image):
    maps = features.feature_maps(tiny, image, layers=["features.2", "features"])
    assert [layer.name for layer in maps.layers] == ["features.2", "features"]
    with pytest.raises(ValueError, match="no layer called nope"):
        features.feature_maps(tiny, image, layers=["nope"])


def test_no_hook_is_left_after_success_or_error(tiny, image):
    before = {name: p.clone() for name, p in tiny.state_dict().items()}
    features.feature_maps(tiny, image)
    assert hooks_left(tiny) == 0
    with pytest.raises(RuntimeError):  # the wrong number of input channels fails inside the forward pass
        features.feature_maps(tiny, torch.zeros(1, 3, 8, 8))
    assert hooks_left(tiny) == 0
    broken = Broken()
    with pytest.raises(RuntimeError, match="broke"):
        features.feature_maps(broken, torch.zeros(1, 1, 5, 5))
    assert hooks_left(broken) == 0
    assert not tiny.training
    assert all(torch.equal(before[name], p) for name, p in tiny.state_dict().items())


def test_capture_outputs_removes_hooks_when_the_block_raises(tiny, image):
    with pytest.raises(KeyError), features.capture_outputs(tiny, ["features.0", "missing"]):
        pass
    assert hooks_left(tiny) == 0
    with pytest.raises(ZeroDivisionError), features.capture_outputs(tiny, ["features.0"]) as events:
        tiny(image)
        assert len(events) == 1
        _ = 1 / 0
    assert hooks_left(tiny) == 0


def test_one_image_at_a_time(tiny):
    with pytest.raises(ValueError, match=r"\(1, C, H, W\)"):
        features.feature_maps(tiny, torch.zeros(2, 1, 8, 8))


@pytest.mark.parametrize("name", models.BUNDLED)
def test_bundled_networks_layer_by_layer(name):
    network = models.load_bundled(name)
    images, _ = models.heldout_sample(name)
    x = network.prepare(images[0], native=True).tensor
    maps = features.feature_maps(network.model, x)
    assert len(maps.layers) == len(network.model.features)
    with torch.no_grad():
        for index, layer in enumerate(maps.layers):
            want = network.model.features[: index + 1](x)[0]
            assert layer.name == f"features.{index}" and layer.shape == tuple(want.shape)
            np.testing.assert_allclose(layer.maps, want.numpy(), rtol=1e-5, atol=1e-5)
    assert hooks_left(network.model) == 0
    assert maps.penultimate.shape == (network.model.classifier[-1].in_features,)


@pytest.mark.parametrize("name", models.BUNDLED)
def test_predictions_on_the_shipped_heldout_sample(name):
    # The page's path (hooks, softmax) must predict exactly what the network does on its own.
    network = models.load_bundled(name)
    images, labels = models.heldout_sample(name)
    predicted = []
    for image in images:
        maps = features.feature_maps(network.model, network.prepare(image, native=True).tensor)
        assert maps.probabilities.sum() == pytest.approx(1.0, abs=1e-9)
        predicted.append(maps.top_classes(1)[0][0])
    batch = torch.cat([network.prepare(image, native=True).tensor for image in images])
    with torch.no_grad():
        assert predicted == network.model(batch).argmax(1).tolist()
    assert np.mean(np.array(predicted) == labels) == pytest.approx(network.manifest.sample_accuracy, abs=1e-4)


def test_alexnet_layer_by_layer():
    model = models.build("alexnet", 1000).eval()
    x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    maps = features.feature_maps(model, x)
    assert [layer.name for layer in maps.layers] == [f"features.{i}" for i in range(13)] + ["avgpool"]
    with torch.no_grad():
        for index, layer in enumerate(maps.layers[:13]):
            np.testing.assert_allclose(layer.maps, model.features[: index + 1](x)[0].numpy(), rtol=1e-4, atol=1e-4)
    assert maps.layer("features.0").shape == (64, 55, 55) and maps.layer("avgpool").shape == (256, 6, 6)
    assert maps.layer("features.12").conv == "features.10" and maps.penultimate.shape == (4096,)
    assert hooks_left(model) == 0


def test_resnet_blocks_are_shown_whole():
    model = models.build("resnet18", 1000).eval()
    layers = models.architectures.SHOWN_LAYERS["resnet18"]
    maps = features.feature_maps(model, torch.randn(1, 3, 64, 64), layers)
    assert [layer.name for layer in maps.layers] == list(layers)
    assert maps.layer("layer2.0").shape == (128, 8, 8) and maps.layer("layer2.0").kind == "BasicBlock"
    assert maps.layer("layer2.0").conv == "layer2.0.conv2"  # not the shortcut's 1x1 convolution
    assert maps.penultimate.shape == (512,)
    assert hooks_left(model) == 0


def test_strongest_channels():
    maps = np.stack([np.full((2, 2), value) for value in (0.5, 2.0, -1.0, 1.0)])
    assert features.strongest_channels(maps, 2) == [(1, 2.0), (3, 1.0)]


def test_colour_bounds(tiny, image):
    maps = features.feature_maps(tiny, image)
    per_layer = features.colour_bounds(maps, "layer")
    assert per_layer["features.0"] == pytest.approx(np.abs(maps.layer("features.0").maps).max())
    shared = features.colour_bounds(maps, "network")
    assert set(shared.values()) == {max(per_layer.values())}
    assert set(features.colour_bounds(maps, "channel").values()) == {None}
    with pytest.raises(ValueError, match="Colour scale"):
        features.colour_bounds(maps, "global")


def test_colours_tiles_overlay_and_kernels(tiny):
    values = np.array([[-1.0, 0.0, 1.0]])
    colours = pictures.colorize(values, 1.0)
    assert colours.shape == (1, 3, 3) and colours[0, 1].min() >= 245  # zero is white
    assert colours[0, 0, 2] > colours[0, 0, 0] and colours[0, 2, 0] > colours[0, 2, 2]  # blue < 0 < red
    grid = pictures.tile_grid(np.zeros((5, 4, 4)), 1.0, columns=3, tile=8, gap=2)
    assert grid.shape == (2 * 10 - 2, 3 * 10 - 2, 3)
    shrunk = pictures.tile_grid(np.zeros((2, 100, 50)), None, columns=2, tile=20)
    assert shrunk.shape == (20, 10 * 2 + 2, 3)
    painted = pictures.overlay(np.array([[0.0, 1.0], [0.0, 0.0]]), np.zeros((8, 8), np.uint8), side=16)
    assert painted.shape == (16, 16, 3) and painted[..., 0].max() > 100 and painted[15, 0].max() == 0
    weight = features.kernel(tiny, "features.3", 1)
    assert weight.shape == (2, 2, 2)
    np.testing.assert_array_equal(weight, tiny.features[3].weight[1].detach().numpy())
    rgb = pictures.kernel_image(np.array([[[2.0, 0.0]], [[0.0, -2.0]], [[1.0, 0.0]]]))  # (3, 1, 2)
    assert rgb.tolist() == [[[255, 128, 191], [128, 0, 128]]]  # zero is mid-grey, +max full, -max none
    gray = pictures.kernel_image(np.array([[[-1.0, 0.5]]]))
    assert gray.tolist() == [[[0, 0, 0], [191, 191, 191]]]
    assert pictures.kernel_image(weight).shape == (2, 2 * 2 + 1, 3)  # two 2 x 2 slices side by side
    with pytest.raises(ValueError, match="not a convolution"):
        features.kernel(tiny, "features.1", 0)
    with pytest.raises(ValueError, match="no channel 3"):
        features.kernel(tiny, "features.3", 3)


def bar_lengths(chart, fill: str) -> tuple[list[float], list[float], list[str]]:
    """(starts, lengths, tooltips) of a chart's horizontal bars in ``fill``, top to bottom, in x values."""
    bars = [bar for bar in chart.hbars() if bar.colour == fill]
    return [bar.start for bar in bars], [bar.end - bar.start for bar in bars], [bar.hover for bar in bars]


def test_probability_bars_are_as_long_as_the_probabilities_most_probable_on_top():
    probabilities = np.array([0.1, 0.5, 0.15, 0.25])
    (chart,) = charts(pictures.probability_chart(list("abcd"), probabilities, k=3, title="Top 3"))
    starts, lengths, tips = bar_lengths(chart, "#2563eb")
    assert tips == ["b: 50.00%", "d: 25.00%", "c: 15.00%"]  # "a" (10%) is not in the top 3
    within_pixels(starts, [0, 0, 0], chart.x_px, 0.2)
    within_pixels(lengths, [50, 25, 15], chart.x_px, 0.2)  # percent on the x axis
    assert {"Top 3", "50.0%", "25.0%", "15.0%"} <= set(chart.texts) and "a" not in chart.texts
    assert chart.categories == ["b", "d", "c"]  # top to bottom


def test_charts_of_a_real_forward_pass(tiny, image):
    maps = features.feature_maps(tiny, image)
    (chart,) = charts(pictures.probability_chart(list("abcd"), maps.probabilities, k=4))
    _, widths, tips = bar_lengths(chart, "#2563eb")
    assert tips[0].startswith("abcd"[int(maps.probabilities.argmax())] + ":")  # the longest bar is first from top
    assert widths == sorted(widths, reverse=True) and widths[0] == max(widths)
    assert np.array(widths) / widths[0] == pytest.approx(np.sort(maps.probabilities)[::-1] / maps.probabilities.max(),
                                                         abs=0.01)  # fmt: skip
    (vector,) = charts(pictures.feature_vector_chart(maps.penultimate))
    assert [bar.hover for bar in vector.bars()] == [f"#{i}: {v:.3g}" for i, v in enumerate(maps.penultimate)]


def test_feature_vector_bars_rise_or_fall_from_zero_by_their_values():
    values = np.array([0.5, 2.0, 0.0, 1.0, -1.0])
    (chart,) = charts(pictures.feature_vector_chart(values))
    bars = chart.bars()
    assert len(bars) == 5 and {bar.colour for bar in bars} == {"#64748b"}
    within_pixels([bar.start for bar in bars], np.zeros(5), chart.y_px, 0.2)  # the negative one hangs from zero
    within_pixels([bar.end for bar in bars], values, chart.y_px, 0.2)
    within_pixels([bar.across for bar in bars], np.arange(5), chart.x_px, 0.2)  # one bar per index, in order


def test_a_long_feature_vector_is_one_line_through_every_number():
    values = np.abs(np.sin(np.arange(pictures.MAX_VECTOR_BARS + 1)))  # one number too many for bars
    (chart,) = charts(pictures.feature_vector_chart(values))
    assert not chart.bars()
    (line,) = chart.lines("#64748b")
    assert len(line) == len(values)
    heights, across = chart.y_px(line[:, 1]), chart.x_px(line[:, 0])
    assert (heights > chart.top).all() and (heights < chart.bottom).all()
    assert chart.left <= across[0] and across[-1] <= chart.right
    within_pixels(line[:, 0], np.arange(len(values)), chart.x_px, 0.2)  # a point per index, in order
    within_pixels(line[:, 1], values, chart.y_px, 0.2)


def test_colour_legend_ticks():
    legend = pictures.colour_legend(2.0, "scale")
    assert re.findall(r"<span[^>]*>([^<]*)</span>", legend) == ["−2", "−1", "0", "1", "2"]


def test_picture_rows_carry_their_pngs_and_escaped_labels():
    first, second = (pictures.png(np.full((4, 4), v, np.uint8)) for v in (0, 255))
    rows = pictures.labelled_rows_html([("conv<1>", ["Conv2d", "6 × 28 × 28"], first), ("pool", [], second)])
    sources = re.findall(r'src="data:image/png;base64,([^"]+)"', rows)
    assert [base64.b64decode(source) for source in sources] == [first, second]
    assert "<b>conv&lt;1&gt;</b><br>Conv2d<br>6 × 28 × 28" in rows
    strip = pictures.captioned_row_html([(first, "#3, mean 0.5"), (second, "a & b")])
    assert re.findall(r"<figcaption[^>]*>([^<]*)</figcaption>", strip) == ["#3, mean 0.5", "a &amp; b"]
    assert [base64.b64decode(s) for s in re.findall(r'base64,([^"]+)"', strip)] == [first, second]


@pytest.mark.parametrize(("architecture", "name", "shape"), [
    ("resnet18", "conv1", (64, 3, 7, 7)), ("alexnet", "features.0", (64, 3, 11, 11)), ("lenet5", "features.0", (6, 1, 5, 5)),
])  # fmt: skip
def test_first_convolution_and_its_kernels_as_pictures(architecture, name, shape):
    model = models.build(architecture, 10)
    found, weights = features.first_convolution(model)
    assert found == name and weights.shape == shape
    assert np.array_equal(weights, dict(model.named_modules())[name].weight.detach().numpy())
    grid = pictures.kernel_gallery(weights, columns=8, tile=30)
    factor = 30 // shape[2]
    side = shape[2] * factor
    rows = -(-shape[0] // 8)
    assert grid.shape == (rows * (side + 2) - 2, min(8, shape[0]) * (side + 2) - 2, 3)
    # Kernel 9 (row 1, column 1 of 8) is kernel_image of its weights, each weight a factor x factor square.
    index = 9 if shape[0] > 9 else 1
    r, c = divmod(index, 8)
    tile = grid[r * (side + 2) : r * (side + 2) + side, c * (side + 2) : c * (side + 2) + side]
    expected = pictures.kernel_image(weights[index]).repeat(factor, 0).repeat(factor, 1)
    assert np.array_equal(tile, expected)
    if shape[1] == 3:  # colour: the largest |weight| of the kernel is a full 0 or 255 in its channel
        assert {0, 255} & set(np.unique(tile))
    with pytest.raises(ValueError, match="not pictures"):
        pictures.kernel_gallery(np.zeros((4, 16, 3, 3), np.float32), 4, 12)
    with pytest.raises(ValueError, match="no convolution"):
        features.first_convolution(nn.Linear(3, 2))


# --- the receptive field a clicked position shows ------------------------------------------------


def positive_copy(model: torch.nn.Module) -> torch.nn.Module:
    """The network with every weight and bias positive and each max pool an average pool of the same
    window: on a positive input every unit is then active and every pixel it sees gets gradient."""
    import copy

    positive = copy.deepcopy(model).double().eval()
    with torch.no_grad():
        for parameter in positive.parameters():
            parameter.copy_(parameter.abs() + 0.01)
    for parent in positive.modules():
        for name, child in parent.named_children():
            if isinstance(child, torch.nn.MaxPool2d):
                setattr(parent, name, torch.nn.AvgPool2d(child.kernel_size, child.stride, child.padding))
    return positive


@pytest.mark.parametrize("name", models.BUNDLED)
def test_the_receptive_field_of_every_layer_is_where_the_gradient_reaches(name):
    from cnnviz.optvis.dataset import receptive_field

    network = models.load_bundled(name)
    positive = positive_copy(network.model)
    x = (torch.rand(1, *network.manifest.input_shape, dtype=torch.float64) + 0.1).requires_grad_()
    height, width = x.shape[2:]
    maps = features.feature_maps(network.model, torch.zeros(1, *network.manifest.input_shape))
    modules = dict(positive.named_modules())
    for layer in maps.layers:
        field = receptive_field(network.model, layer.name)
        _, rows, cols = layer.shape
        for row, col in {(0, 0), (rows - 1, cols - 1), (rows // 2, cols // 3), (0, cols - 1)}:
            recorded = []  # the layer's output, with its graph (capture_outputs keeps detached copies)
            handle = modules[layer.name].register_forward_hook(
                lambda module, inputs, out, kept=recorded: kept.append(out)
            )
            try:
                positive(x)
            finally:
                handle.remove()
            (gradient,) = torch.autograd.grad(recorded[0][0, 0, row, col], x)
            seen_rows, seen_cols = torch.nonzero(gradient[0].abs().sum(0), as_tuple=True)
            top, bottom = field.span(row)
            left, right = field.span(col)
            assert (seen_rows.min().item(), seen_rows.max().item() + 1) == (max(top, 0), min(bottom, height)), (
                layer.name
            )
            assert (seen_cols.min().item(), seen_cols.max().item() + 1) == (max(left, 0), min(right, width)), layer.name
