"""Every message in the session's language (issue 14): each page opened in Chinese with settings the
engine refuses shows its reasons in Chinese. Engine refusals carry a reason code and values
(``cnnviz.refusals.Refusal``); the pages say them with ``ui.explain``.

A message counts as English when it holds a run of three Latin words (``conv 8 k3`` in quotes,
``LPPool2d`` or ``RReLU`` alone are names, not sentences).
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from cnnviz import i18n
from cnnviz.images import LoadedImage
from tests import scrub, views
from tests.conftest import ROOT

ENGLISH = re.compile(r"\b[A-Za-z]{2,}[,.;:]?\s+[A-Za-z]{2,}[,.;:]?\s+[A-Za-z]{2,}\b")
PANEL_FAILED = i18n.translate("ui.panel_failed", "zh")
TINY = LoadedImage(np.full((4, 4, 3), 128, np.uint8), (4, 4))  # a 4 x 4 upload: few settings fit it


def english_runs(text: str) -> list[str]:
    without_code = re.sub(r"`[^`]*`|'[^']*'", "", text)  # what the user typed, quoted, and code names
    return ENGLISH.findall(without_code)


def test_the_detector_finds_sentences_and_spares_names():
    assert english_runs("No window fits: the kernel spans 7 pixels")
    assert english_runs("这个卷积核暂时无法使用。Row 2, column 2 holds 'abc', which is not a number.")
    assert not english_runs("PyTorch 的 LPPool2d 没有填充选项；RReLU 的斜率从 U(l, u) 中随机抽取")
    assert not english_runs("网络是空的：至少写一层，例如 'conv 8 k3'。")


def messages(at: AppTest) -> list[str]:
    """Every alert and note the page shows (st.error/warning/info/success and View notes), its captions and toasts."""
    found = [text for kind in ("error", "warning", "info", "success") for text in views.notes(at, kind)]
    return found + scrub.every_note(at) + views.captions(at) + [toast.value for toast in at.toast]


def open_in_chinese(script: str, image: LoadedImage | None = None, **query: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params.update(lang="zh", **query)
    if image is not None:
        at.session_state["image"] = image
    return at.switch_page(script).run()


CASES = {
    "convolution, no window fits": ("pages/convolution.py", TINY, {"conv.dilation": "3"}, "error.window_too_big"),
    "convolution, reflect padding": (
        "pages/convolution.py", TINY, {"conv.padding": "4", "conv.padding_mode": "reflect"}, "error.reflect_padding"),
    "convolution, a bad kernel cell": (
        "pages/convolution.py", None, {"conv.source": "custom", "conv.kernel": "1,0,0;0,abc,0;0,0,1"},
        "error.kernel_cell_not_number"),
    "convolution, an empty kernel cell": (
        "pages/convolution.py", None, {"conv.source": "custom", "conv.kernel": "1,0,0;0,,0;0,0,1"},
        "error.kernel_cell_empty"),
    "convolution, a huge kernel cell": (
        "pages/convolution.py", None, {"conv.source": "custom", "conv.kernel": "1,0,0;0,1e9,0;0,0,1"},
        "error.kernel_cell_too_large"),
    "step by step, no window fits": (
        "pages/conv_steps.py", None, {"steps.size": "4", "steps.padding": "0", "steps.dilation": "3"},
        "error.window_too_big"),
    "activations, RReLU bounds": (
        "pages/activations.py", None, {"act.functions": "rrelu", "act.rrelu.lower": "0.3", "act.rrelu.upper": "0.1"},
        "error.rrelu_bounds"),
    "pooling, Lp with padding": (
        "pages/pooling.py", None, {"pool.kind": "lp", "pool.padding": "1", "pool.kernel": "2"}, "error.lp_pool_padding"),
    "pooling, Lp with ceil_mode": (
        "pages/pooling.py", None, {"pool.kind": "lp", "pool.ceil_mode": "true", "pool.kernel": "3", "pool.stride": "2"},
        None),
    "pooling, too much padding": ("pages/pooling.py", None, {"pool.padding": "2", "pool.kernel": "2"}, None),
    "output size, no window fits": ("pages/output_size.py", None, {"size.kernel": "9", "size.size": "5"}, None),
}  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_refusals_are_said_in_chinese(case):
    script, image, query, expected = CASES[case]
    at = open_in_chinese(script, image, **query)
    assert not at.exception
    shown = messages(at)
    assert PANEL_FAILED not in shown, "a panel's error boundary caught an exception"
    if expected:
        template = i18n.translate(expected, "zh")
        fixed = re.split(r"{\w+}", template)
        longest = max(fixed, key=len)
        assert any(longest in text for text in shown), (expected, shown)
    english = {text: english_runs(text) for text in shown if english_runs(text)}
    assert not english, english


@pytest.mark.parametrize(
    ("name", "content", "kind"),
    [("empty.pth", b"", "empty"), ("notes.safetensors", b"epoch 3: loss 0.21\n", "text")],
)
def test_weight_file_refusals_are_said_in_chinese(name, content, kind):
    at = open_in_chinese("pages/feature_maps.py")
    at.selectbox(key="fmap.weights_arch").set_value("lenet5")
    at.file_uploader(key="fmap.weights_file").upload(name, content)
    at.run()
    assert not at.exception
    shown = messages(at)
    kind_words = i18n.translate(f"error.kind.{kind}", "zh")
    assert any(kind_words in text and "torch.save" in text for text in shown), shown
    english = {text: english_runs(text) for text in shown if english_runs(text)}
    assert not english, english


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("conv 8 k5\nrelu\npool max 2\n\nconv 16 k13\nflatten\ndense 10", "error.window_too_big"),
        ("conv 8 k3\nwobble 3\nflatten\ndense 10", "error.spec_unknown_layer"),
        ("conv eight k3\nflatten\ndense 10", "error.spec_positive_int"),
        ("conv 8 k3\nflatten\ndense 7", "error.spec_end"),
        ("# nothing yet", "error.spec_empty"),
    ],
)
def test_layer_spec_refusals_are_said_in_chinese(spec, expected):
    at = open_in_chinese("pages/training.py")
    at.text_area(key="train.spec").set_value(spec)
    at.run()
    assert not at.exception
    shown = messages(at)
    fixed = max(re.split(r"{\w+}", i18n.translate(expected, "zh")), key=len)
    assert any(fixed in text for text in shown), (expected, shown)
    english = {text: english_runs(text) for text in shown if english_runs(text)}
    assert not english, english


def test_every_upload_refusal_and_image_note_is_said_in_chinese():
    """The whole upload corpus (refusals of every kind, and images that get notes) in one Chinese session."""
    from tests.app.conftest import open_page
    from tests.app.test_uploads import upload
    from tests.corpus import CORPUS

    at = open_page(lang="zh")
    said = 0
    for file in CORPUS:
        at = upload(at, file)
        shown = [error.value for error in at.sidebar.error] + [caption.value for caption in at.sidebar.caption]
        said += len(shown)
        english = {text: english_runs(text) for text in shown if english_runs(text)}
        assert not english, (file.name, english)
    assert said > len(CORPUS)  # refusals and notes were shown, not nothing


def test_an_empty_input_range_is_said_in_chinese():
    at = open_in_chinese("pages/activations.py", **{"act.low": "2.0", "act.high": "2.0"})
    shown = messages(at)
    assert i18n.translate("error.empty_range", "zh", low="2", high="2") in shown, shown
    assert not {text: english_runs(text) for text in shown if english_runs(text)}


def test_weights_for_another_network_are_refused_in_chinese():
    import io

    import torch

    from cnnviz import models

    buffer = io.BytesIO()
    torch.save(models.build("tinyvgg", 10).state_dict(), buffer)
    at = open_in_chinese("pages/feature_maps.py")
    at.selectbox(key="fmap.weights_arch").set_value("lenet5")
    at.file_uploader(key="fmap.weights_file").upload("tinyvgg.pth", buffer.getvalue())
    at.run()
    shown = messages(at)
    network = i18n.translate("error.architecture.lenet5", "zh")
    assert any(f"这个文件与 {network} 不匹配" in text for text in shown), shown
    assert not {text: english_runs(text) for text in shown if english_runs(text)}
