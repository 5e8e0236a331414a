"""An ImageNet network in the Chinese interface names its classes in Chinese (the list beside the
English one, ``cnnviz.i18n.imagenet_class_names``): the top five, the network's answer, the class
whose map is drawn, and the filter page's class targets. A random-weight ResNet-18 file stands in
for torchvision's; plain torch ranks the classes."""

import numpy as np
import torch

from cnnviz import i18n, images, models
from tests.app.conftest import open_page
from tests.app.test_feature_maps import PAGE, ok, texts
from tests.app.test_feature_maps_domain import resnet_file  # noqa: F401 (a fixture)
from tests.charts import page_charts

CHINESE = i18n.imagenet_class_names("zh")


def torch_probabilities(folder) -> np.ndarray:
    """The 1000 probabilities of the file's weights on the sidebar's default picture, in plain torch."""
    state = torch.load(next(folder.glob("resnet18-*.pth")), weights_only=True)
    model = models.build("resnet18", 1000).eval()
    model.load_state_dict(state)
    network = models.load_user_weights("resnet18", next(folder.glob("resnet18-*.pth")))  # for its recipe
    tensor = network.prepare(images.load_sample("cat.jpg").pixels).tensor  # (1, 3, 224, 224)
    with torch.no_grad():
        return torch.softmax(model(tensor).double().flatten(), 0).numpy()


def test_the_top_five_and_the_answer_are_said_in_chinese(resnet_file):  # noqa: F811
    at = open_page(PAGE, lang="zh", **{"fmap.network": "resnet18"})
    assert ok(at)
    top5 = np.argsort(-torch_probabilities(resnet_file), kind="stable")[:5]
    assert page_charts(at)[0].categories == [CHINESE[index] for index in top5]
    shown = texts(at)
    assert f"网络认为是 {CHINESE[top5[0]]}（" in shown  # rendered: the bold is a tag
    # The class whose map is drawn: the answer by default, any of the 1000 by its Chinese name.
    options = at.selectbox(key="fmap.cam_class").options
    assert options[0] == f"网络的回答：{CHINESE[top5[0]]}" and options[1:] == list(CHINESE)
    assert f"“{CHINESE[top5[0]]}”" in shown  # the map's score caption
    english = i18n.imagenet_class_names("en")
    assert not [name for name in english if f"**{name}**" in shown or f"“{name}”" in shown]


def test_the_two_missiles_are_two_names_in_the_class_choice(resnet_file):  # noqa: F811
    at = open_page(PAGE, lang="zh", **{"fmap.network": "resnet18", "fmap.cam_class": "744"})
    assert ok(at) and at.selectbox(key="fmap.cam_class").value == "744"
    assert "“射弹”" in texts(at) and "“导弹”" not in texts(at)
    at = open_page(PAGE, **{"fmap.network": "resnet18", "fmap.cam_class": "744"})  # English: as the manifest says
    assert ok(at) and "“missile”" in texts(at)


def test_the_filter_pages_class_target_is_said_in_chinese(resnet_file):  # noqa: F811
    query = {"fviz.network": "resnet18", "fviz.kind": "class", "fviz.index": "155"}
    at = open_page("pages/filter_viz.py", lang="zh", **query)
    assert not at.exception and not at.error
    assert "西施犬" in [caption.value for caption in at.caption]
    at = open_page("pages/filter_viz.py", **query)
    assert "Shih Tzu" in [caption.value for caption in at.caption]
