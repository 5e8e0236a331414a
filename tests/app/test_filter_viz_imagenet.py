"""Issue 16: the filter page on an ImageNet network (a random-weight ResNet-18 file in the weights
folder, as torchvision writes it), offered when its file is present, at a size that finishes in seconds."""

import numpy as np
import torch

from cnnviz import images, models
from tests.app.conftest import open_page
from tests.app.test_feature_maps_domain import resnet_file  # noqa: F401 (a fixture)
from tests.app.test_filter_viz import PAGE, run_to_end, texts


def test_an_imagenet_network_is_offered_and_a_run_finishes_at_its_small_defaults(resnet_file):  # noqa: F811
    at = open_page(PAGE)
    assert (
        "ResNet-18 (ImageNet, your weights)" in at.selectbox(key="fviz.network").options
    )  # offered because the file is there
    at.selectbox(key="fviz.network").set_value("resnet18").run()  # from the digits: its small default follows
    assert at.slider(key="fviz.steps").value == 32
    at.selectbox(key="fviz.network").set_value("digits").run()
    assert at.slider(key="fviz.steps").value == 128
    at.slider(key="fviz.steps").set_value(64).run()
    at.selectbox(key="fviz.network").set_value("resnet18").run()
    assert at.slider(key="fviz.steps").value == 64  # a value the student chose stays
    at = open_page(PAGE, **{"fviz.network": "resnet18"})
    assert not at.exception and not at.error
    assert at.selectbox(key="fviz.layer").value == "layer4.1.conv2"  # its last convolution
    assert at.slider(key="fviz.steps").value == 32 and at.select_slider(key="fviz.size").value == 64
    run_to_end(at)
    assert not at.exception and not at.error
    [result] = at.session_state["fviz.results"].values()
    assert result.image.shape == (64, 64, 3) and len(result.values) == 32
    assert result.values[-1] > result.values[0]  # the ascent climbed
    shown = texts(at)
    assert "No held-out pictures ship with this network" in shown
    # The channel on the sidebar's picture, by torch: ResNet-18's last block is 7 x 7 on a 224 x 224 input.
    network = models.load_user_weights("resnet18", next(resnet_file.glob("resnet18-*.pth")))
    tensor = network.prepare(images.load_sample("cat.jpg").pixels).tensor
    seen = {}
    hook = network.model.layer4[1].conv2.register_forward_hook(lambda m, i, out: seen.update(out=out))
    with torch.no_grad():
        network.model(tensor)
    hook.remove()
    high = float(seen["out"][0, 0].max())
    assert f"Channel 0 of layer4.1.conv2 on the sidebar's image: 7 × 7, strongest {high:.3g}" in shown
    assert np.isfinite(result.values).all()
