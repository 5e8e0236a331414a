"""The Loss functions lesson's softmax frame set: every frame is the engine's drawing, with torch's numbers.

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
    SOFTMAX_SLIDERS,
    logits_of,
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
