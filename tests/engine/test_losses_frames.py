"""The Loss functions lesson's softmax and sigmoid frame sets: every frame is the engine's drawing, with torch's numbers.

A frame shows, for one setting of the four logits and the label smoothing: the cross-entropy,
the target's entropy and KL(y ‖ p) (each with its full value in ``data-value``), the
probability and gradient charts, and the check against p - y. Here each is compared with
``F.cross_entropy`` / ``F.kl_div`` / ``torch.autograd.grad`` for the setting the frame was drawn for.
"""

import re

import pytest
import torch
import torch.nn.functional as F

from cnnviz.drawing.frames import frame_at
from cnnviz.drawing.losses_view import (
    CLASSES,
    SIGMOID_DEFAULTS,
    SIGMOID_SLIDERS,
    SOFTMAX_SLIDERS,
    logits_of,
    sigmoid_frame,
    sigmoid_frame_set,
    smoothing_of,
    softmax_frame,
    softmax_frame_set,
)
from tests.charts import charts, within_pixels

DEFAULTS = {name: default for name, (_, _, default, _) in SOFTMAX_SLIDERS.items()}


def metric_values(frame: tuple[str, ...]) -> dict[str, float]:
    """The three metrics' full values, by name (``data-name``)."""
    found = re.findall(r'data-name="(\w+)" data-value="([^"]+)"', frame[0])
    return {name: float(value) for name, value in found}


def torch_reference(logits: list[float], target: int, smoothing: float) -> dict:
    z = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
    loss = F.cross_entropy(z[None], torch.tensor([target]), label_smoothing=smoothing)
    (gradient,) = torch.autograd.grad(loss, z)
    y = (1 - smoothing) * F.one_hot(torch.tensor(target), len(logits)).double() + smoothing / len(logits)
    p = torch.softmax(z.detach(), 0)
    entropy = -(y * torch.log(y)).nan_to_num().sum()
    kl = F.kl_div(p.log(), y, reduction="sum")
    return {"ce": loss.item(), "entropy": entropy.item(), "kl": kl.item(), "p": p.numpy(), "gradient": gradient.numpy()}


def test_sliders_hold_the_page_settings_in_whole_steps():
    assert list(SOFTMAX_SLIDERS) == ["logit0", "logit1", "logit2", "logit3", "smoothing"]
    assert [logits_of({**DEFAULTS})[i] for i in range(4)] == [2.0, 1.0, 0.5, -1.0]
    assert smoothing_of({**DEFAULTS, "smoothing": 15}) == pytest.approx(0.15)
    frame_set = softmax_frame_set(DEFAULTS, 1)
    logit0 = frame_set["sliders"][0]
    assert (logit0["low"], logit0["high"], logit0["step"]) == (-50, 50, 1)
    assert logit0["texts"][0] == "−5.0" and logit0["texts"][-1] == "5.0" and logit0["texts"][70] == "2.0"
    smoothing = frame_set["sliders"][-1]
    assert (smoothing["low"], smoothing["high"], smoothing["step"]) == (0, 50, 5)
    assert list(smoothing["texts"]) == [f"{value / 100:.2f}" for value in range(0, 51, 5)]


@pytest.mark.parametrize(
    "base, target",
    [(DEFAULTS, 1), ({**DEFAULTS, "logit3": 30, "smoothing": 20}, 3), ({**DEFAULTS, "smoothing": 50}, 0)],
)
def test_every_softmax_frame_is_the_engines_drawing_with_torchs_numbers(base, target):
    frame_set = softmax_frame_set(base, target)
    for slider in frame_set["sliders"]:
        for value in range(slider["low"], slider["high"] + 1, slider["step"]):
            settings = {**base, slider["name"]: value}
            frame = tuple(frame_at(frame_set, slider["name"], value))
            assert frame == softmax_frame(settings, target)
            want = torch_reference(logits_of(settings), target, smoothing_of(settings))
            shown = metric_values(frame)
            assert [shown[name] for name in ("ce", "entropy", "kl")] == pytest.approx(
                [want["ce"], want["entropy"], want["kl"]], abs=1e-12
            )
            probabilities, gradient = charts(frame[1], frame[2])
            assert probabilities.categories == gradient.categories == list(CLASSES)
            within_pixels([bar.end for bar in probabilities.hbars()], want["p"], probabilities.x_px, 0.1)
            written = [float(t.replace("−", "-")) for t in re.findall(r">(\d\.\d{3})</text>", frame[1])]
            assert written == pytest.approx(want["p"].tolist(), abs=5e-4)  # 3 decimals
            signed = re.findall(r">([+−]\d\.\d{3})</text>", frame[2])
            assert [float(t.replace("−", "-")) for t in signed] == pytest.approx(want["gradient"].tolist(), abs=5e-4)


def test_frames_are_in_the_session_language_and_ids_are_stable():
    frame = softmax_frame(DEFAULTS, 1, "zh")
    assert "交叉熵" in frame[0] and "猫" in frame[1] and "Cross" not in "".join(frame)
    assert softmax_frame(DEFAULTS, 1) == softmax_frame(DEFAULTS, 1)  # drawn twice, the same text: shared parts
    assert 'id="loss-softmax-probability"' in frame[1] and 'id="loss-softmax-gradient"' in frame[2]


# --- the sigmoid view: z and the target ---------------------------------------------------------------


def sigmoid_reference(z: float, target: float) -> dict[str, float]:
    """p = torch.sigmoid(z), F.mse_loss and F.binary_cross_entropy of p against the target, and dL/dz by autograd."""
    point = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    p = torch.sigmoid(point)
    y = torch.tensor(target, dtype=torch.float64)
    mse, ce = F.mse_loss(p, y), F.binary_cross_entropy(p, y)
    (mse_grad,) = torch.autograd.grad(mse, point, retain_graph=True)  # ce shares the graph through p
    (ce_grad,) = torch.autograd.grad(ce, point)
    return {"p": p.item(), "mse": mse.item(), "ce": ce.item(), "mse_grad": mse_grad.item(), "ce_grad": ce_grad.item()}


def test_sigmoid_sliders_are_z_in_tenths_and_the_target_as_two_values():
    assert list(SIGMOID_SLIDERS) == ["z", "target"]
    frame_set = sigmoid_frame_set(SIGMOID_DEFAULTS)
    z, target = frame_set["sliders"]
    assert (z["low"], z["high"], z["step"], z["value"]) == (-10.0, 10.0, 0.1, -5.0)
    assert len(frame_set["frames"]["z"]) == 201
    assert (target["low"], target["high"], target["step"], target["value"]) == (0, 1, 1, 1)
    assert list(target["texts"]) == ["y = 0", "y = 1"]


@pytest.mark.parametrize("base", [SIGMOID_DEFAULTS, {"z": 2.3, "target": 0}])
def test_every_sigmoid_frame_is_the_engines_drawing_with_torchs_numbers(base):
    frame_set = sigmoid_frame_set(base)
    for name, values in (("z", [round(-10 + i / 10, 1) for i in range(201)]), ("target", [0, 1])):
        for value in values:
            settings = {**base, name: value}
            frame = tuple(frame_at(frame_set, name, value))
            assert frame == sigmoid_frame(settings)
            want = sigmoid_reference(settings["z"], settings["target"])
            shown = metric_values(frame)
            assert [shown[key] for key in ("p", "mse_grad", "ce_grad")] == pytest.approx(
                [want["p"], want["mse_grad"], want["ce_grad"]], abs=1e-12
            )
            loss_chart, grad_chart = charts(frame[1], frame[2])
            for chart, keys in ((loss_chart, ("mse", "ce")), (grad_chart, ("mse_grad", "ce_grad"))):
                dots = chart.dots()
                assert len(dots) == 2
                within_pixels([dot.x for dot in dots], [settings["z"]] * 2, chart.x_px, 0.1)
                within_pixels([dot.y for dot in dots], [want[key] for key in keys], chart.y_px, 0.1)
                written = [float(dot.hover.rsplit(": ", 1)[1]) for dot in dots]  # 4 significant digits
                assert written == pytest.approx([want[key] for key in keys], rel=1e-3, abs=1e-12)
            wrong = abs(want["p"] - settings["target"]) > 0.5
            assert ("confidently wrong" in frame[3]) == wrong and ("right side" in frame[3]) == (not wrong)


def test_sigmoid_frames_are_in_the_session_language_with_stable_ids():
    frame = sigmoid_frame(SIGMOID_DEFAULTS, "zh")
    assert "交叉熵" in frame[2] and "自信地犯错" in frame[3] and "cross" not in "".join(frame)
    assert 'id="loss-sigmoid-loss"' in frame[1] and 'id="loss-sigmoid-grad"' in frame[2]
    assert sigmoid_frame_set(SIGMOID_DEFAULTS, "zh")["sliders"][1]["label"] == "目标"
