"""Driving a scrubbing view (``cnnviz/frontend/scrub_view.js``) in chromium, and reading what it shows.

Shared by the browser tests (``tests/e2e/test_scrub*.py``) and the drag benchmark (``bench/drag.py``).
A view is ``.scrub-view``; its sliders are ``<input type=range name=...>`` (their range is read
from the input itself); the frame on show is in its slots. ``shown`` reads what a student sees;
``matches_engine`` asks the engine (or torch) what it must be for the values on the sliders, per
lesson (``LESSONS``). A page with two views (Loss functions) names the one to drive by its widget
key (``key=``: Streamlit marks the view's element ``.st-key-<key, dots as dashes>``); else the first.

A lesson's browser test states what is its own and leaves the walk to :func:`drag_through`
(press, move through the positions checking each frame against the engine, no rerun while
held, release: URL and new frames), :func:`ends_and_middle` (the positions: both ends, their
neighbours, the middle) and :func:`press` (a key press on a slider, a release).
"""

from __future__ import annotations

import base64
import functools
import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from playwright.sync_api import Page

from cnnviz import arithmetic, convolution, kernels, models, pooling
from cnnviz.arithmetic import SizeError
from cnnviz.drawing import convolution_view
from cnnviz.drawing.activations_view import CurvesSettings, curves_frame
from cnnviz.drawing.feature_maps_view import Examples, example_frame
from cnnviz.drawing.frames import split_pictures
from cnnviz.drawing.losses_view import SCALES
from cnnviz.drawing.pooling_view import marked_cells
from cnnviz.images import load_sample
from tests.conv_reference import reference_output
from tests.e2e import harness

VIEW = ".scrub-view"
THUMB_PX = 16  # chromium's range thumb: its centre runs from 8 px to width - 8 px

#: Read inside the page, cheaply (the drag benchmark reads every frame as it is drawn): the
#: sliders' values and each lesson's readout (Output size: the size, windows, formula; Step by
#: step: the sum, the marks' style, the output grid's title; Feature maps: its pictures' ids, how many
#: have no picture yet, and the network's answer).
READ_JS = """
(view) => {
  const values = {};
  for (const input of view.querySelectorAll('input[type=range]')) values[input.name] = input.valueAsNumber;
  const text = (selector) => { const found = view.querySelector(selector); return found ? found.textContent : null; };
  const metric = view.querySelector('.scrub-metric-value');
  return { values, out: metric ? metric.dataset.value : null,
           outputs: view.querySelectorAll('g.output').length,
           latex: text('annotation'),
           sum: text('.steps-sum'), marks: text('style'), output_title: text('.steps-output figcaption'),
           metrics: Object.fromEntries([...view.querySelectorAll('.scrub-metric[data-name]')]
             .map((metric) => [metric.dataset.name, Number(metric.dataset.value)])),
           probabilities: [...view.querySelectorAll('.scrub-slot-1 svg g text')].map((label) => label.textContent),
           texts: Object.fromEntries([...view.querySelectorAll('.scrub-slider')]
             .map((box) => [box.dataset.name, box.querySelector('output').textContent])),
           pool_output: [...view.querySelectorAll('.pool-output tr')].map((tr) => [...tr.children].map((td) => td.title)),
           warning: text('.cnnviz-note.warning'),
           polylines: [...view.querySelectorAll('.act-chart polyline')].map((line) => line.getAttribute('points')),
           dots: [...view.querySelectorAll('.scrub-slot svg circle > title')].map((title) => title.textContent),
           pictures: [...view.querySelectorAll('img[data-picture-id]')].map((image) => image.dataset.pictureId),
           unfilled: [...view.querySelectorAll('img[data-picture-id]')].filter((image) => !image.src.startsWith('data:image/')).length,
           says: text('.fmap-says'),
           conv: view.classList.contains('conv-scrub') ? {
             heading: text(':scope > .scrub-slot-1'), range: text(':scope > .scrub-slot-6 .cnnviz-caption'),
             pictures: [...view.querySelectorAll('.click-frame img')].map((img) => img.getAttribute('src')) } : null,
           pending: view.classList.contains('scrub-pending') };
}
"""


def frames_ready(page: Page, name: str, key: str | None = None) -> None:
    """Wait until a lazy view holds slider ``name``'s frames (asked for when it was pressed)."""
    page.wait_for_function(
        "([selector, name]) => (document.querySelector(selector)?.dataset.ready || '').split(',').includes(name)",
        arg=[view_selector(key), name],
    )


def view_selector(key: str | None = None) -> str:
    """The CSS selector of the view with widget key ``key`` (any view when None)."""
    return f".st-key-{key.replace('.', '-')} {VIEW}" if key else VIEW


def view(page: Page, key: str | None = None):
    return page.locator(view_selector(key)).first


def shown(page: Page, key: str | None = None) -> dict:
    """What the view shows: its sliders' values and the lesson's readout (see ``READ_JS``)."""
    return view(page, key).evaluate(READ_JS)


# --- Output size ---------------------------------------------------------------------------------


def expected(values: dict[str, int]) -> dict:
    """What the engine says the Output size view must show for ``values``."""
    args = (values["input"], values["kernel"], values["stride"], values["padding"], values["dilation"])
    try:
        out = arithmetic.conv_output_size(*args)
    except SizeError:
        out = None
    return {"out": "" if out is None else str(out), "outputs": out or 0, "latex": arithmetic.conv_formula_latex(*args)}


def size_matches(seen: dict) -> bool:
    return {key: seen[key] for key in ("out", "outputs", "latex")} == expected(seen["values"])


# --- Step by step ----------------------------------------------------------------------------------

#: The Step by step view opened on random numbers (seed 3) and Sobel x, so torch can be given the same grid.
STEPS_QUERY = "?steps.source=random&steps.seed=3"
STEPS_SEED, STEPS_KERNEL = 3, "sobel x"


def steps_expected(values: dict[str, int]) -> dict:
    """What torch says the Step by step view must show: the output's shape, the cell's sum, its taps."""
    grid = torch.as_tensor(convolution.random_grid(values["size"], STEPS_SEED))[None, None]
    kernel = kernels.preset(STEPS_KERNEL)
    stride, padding, dilation = values["stride"], values["padding"], values["dilation"]
    try:
        out = F.conv2d(grid, torch.as_tensor(kernel)[None, None].to(grid.dtype), stride=stride, padding=padding,
                       dilation=dilation)[0, 0].numpy()  # fmt: skip
    except RuntimeError:
        return {"shape": None}
    position = min(values["position"], out.size)
    row, col = divmod(position - 1, out.shape[1])
    k = kernel.shape[0]
    taps = sorted((row * stride + dilation * i, col * stride + dilation * j) for i in range(k) for j in range(k))
    return {"shape": out.shape, "position": position, "total": out.size, "sum": float(out[row, col]), "taps": taps}


def steps_matches(seen: dict) -> bool:
    want = steps_expected(seen["values"])
    if want["shape"] is None:
        return seen["sum"] is None and seen["output_title"] is None
    if not (seen["sum"] and seen["marks"] and seen["output_title"]):
        return False
    shape = tuple(int(n) for n in re.findall(r"\d+", seen["output_title"]))
    cell = re.match(r"Output cell (\d+) of (\d+)", seen["sum"])
    written = float(seen["sum"].rsplit("= ", 1)[1].replace("−", "-"))
    outlined = seen["marks"].split("{", 1)[0]
    taps = sorted((int(r) - 1, int(c) - 1) for r, c in
                  re.findall(r"steps-input tbody>tr:nth-child\((\d+)\)>td:nth-child\((\d+)\)", outlined))  # fmt: skip
    return (
        shape == tuple(want["shape"])
        and (int(cell[1]), int(cell[2])) == (want["position"], want["total"])
        and np.isclose(written, want["sum"], atol=5e-4)
        and taps == want["taps"]
    )


# --- Loss functions (softmax) ------------------------------------------------------------------------

LOSS_TARGET = 1  # the page opens with "dog" as the right class


def loss_expected(values: dict[str, int], target: int = LOSS_TARGET) -> dict:
    """What torch says the softmax view must show: F.cross_entropy, the target's entropy, KL, p (3 decimals)."""
    logits = torch.tensor([values[f"logit{i}"] / SCALES[f"logit{i}"] for i in range(4)], dtype=torch.float64)
    smoothing = values["smoothing"] / SCALES["smoothing"]
    y = (1 - smoothing) * F.one_hot(torch.tensor(target), 4).double() + smoothing / 4
    log_p = F.log_softmax(logits, 0)
    return {
        "ce": F.cross_entropy(logits[None], torch.tensor([target]), label_smoothing=smoothing).item(),
        "entropy": float(-(y * y.log()).nan_to_num().sum()),
        "kl": F.kl_div(log_p, y, reduction="sum").item(),
        "probabilities": [f"{p:.3f}" for p in log_p.exp().tolist()],
        "texts": {name: f"{value / SCALES[name]:.{len(str(SCALES[name])) - 1}f}".replace("-", "−")
                  for name, value in values.items()},
    }  # fmt: skip


def loss_matches(seen: dict) -> bool:
    want = loss_expected(seen["values"])
    numbers = [seen["metrics"].get(name) for name in ("ce", "entropy", "kl")]
    return (
        None not in numbers
        and np.allclose(numbers, [want["ce"], want["entropy"], want["kl"]], rtol=0, atol=1e-12)
        and seen["probabilities"] == want["probabilities"]
        and seen["texts"] == want["texts"]
    )


# --- Loss functions (sigmoid) ------------------------------------------------------------------------


def sigmoid_expected(values: dict[str, float]) -> dict:
    """What torch says the sigmoid view must show: torch.sigmoid, autograd's dL/dz of F.mse_loss and
    F.binary_cross_entropy (full values), and both losses as the markers' tooltips write them (4 digits)."""
    z = torch.tensor(values["z"], dtype=torch.float64, requires_grad=True)
    p, y = torch.sigmoid(z), torch.tensor(float(values["target"]), dtype=torch.float64)
    mse, ce = F.mse_loss(p, y), F.binary_cross_entropy(p, y)
    (mse_grad,) = torch.autograd.grad(mse, z, retain_graph=True)
    (ce_grad,) = torch.autograd.grad(ce, z)
    return {"metrics": {"p": p.item(), "mse_grad": mse_grad.item(), "ce_grad": ce_grad.item()},
            "losses": [mse.item(), ce.item(), mse_grad.item(), ce_grad.item()],
            "target": f"y = {values['target']}"}  # fmt: skip


def sigmoid_matches(seen: dict) -> bool:
    want = sigmoid_expected(seen["values"])
    names = list(want["metrics"])
    numbers = [seen["metrics"].get(name) for name in names]
    written = [float(dot.rsplit(": ", 1)[1].replace("−", "-")) for dot in seen["dots"]]
    return (
        None not in numbers
        and np.allclose(numbers, [want["metrics"][name] for name in names], rtol=0, atol=1e-12)
        and len(written) == 4
        and np.allclose(written, want["losses"], rtol=1e-3, atol=1e-12)
        and seen["texts"]["target"] == want["target"]
    )


# --- Pooling -----------------------------------------------------------------------------------------

POOL_SEED = 0  # the page opens on random numbers, seed 0, max pooling


def pool_expected(values: dict[str, int]) -> dict:
    """What torch says the Pooling view must show: F.max_pool2d's output, the cell, its window (padded coordinates)."""
    grid = torch.as_tensor(pooling.random_grid(values["grid.size"], POOL_SEED))[None, None]
    kernel, stride, padding = values["kernel"], values["stride"], values["padding"]
    try:
        out = F.max_pool2d(grid, kernel, stride, padding)[0, 0].numpy()
    except RuntimeError:
        return {"output": None}
    cell = min(values["cell"], out.size)
    row, col = divmod(cell - 1, out.shape[1])
    window = sorted((row * stride + i, col * stride + j) for i in range(kernel) for j in range(kernel))
    return {"output": out, "cell": (row, col), "window": window}


def pool_matches(seen: dict) -> bool:
    want = pool_expected(seen["values"])
    if want["output"] is None:
        return not seen["pool_output"] and bool(seen["warning"]) and seen["marks"] is None
    drawn = np.array([[float(title.split(": ")[1]) for title in row] for row in seen["pool_output"]])
    if drawn.shape != want["output"].shape or not (seen["marks"] and seen["latex"]):
        return False
    marked = marked_cells(f"<style>{seen['marks']}</style>")
    written = float(seen["latex"].rsplit("= ", 1)[1])
    return (
        np.allclose(drawn, want["output"], rtol=1e-5)
        and marked["output"] == want["cell"]
        and marked["window"] == want["window"]
        and np.isclose(written, want["output"][want["cell"]], atol=5e-4)
    )


# --- Activation functions ----------------------------------------------------------------------------

#: The view opened on Leaky ReLU and sigmoid: the range's ends and Leaky ReLU's slope to drag.
ACT_QUERY = "?act.functions=leaky_relu,sigmoid"
ACT_FUNCTIONS = ("leaky_relu", "sigmoid")


def act_lines(values: dict[str, float]) -> list[str] | None:
    """The engine's chart for ``values`` (``activations_view.curves_frame``), as its lines' points; None when refused."""
    chart = curves_frame(CurvesSettings(ACT_FUNCTIONS), values)[0]
    return re.findall(r'<polyline points="([^"]*)"', chart) if chart else None


def act_matches(seen: dict) -> bool:
    """The lines on show are the engine's for the values on the sliders (torch checks the engine:
    ``tests/engine/test_activation_frames.py``); an empty range says why."""
    want = act_lines(seen["values"])
    if want is None:
        return not seen["polylines"] and bool(seen["warning"])
    return seen["polylines"] == want


# --- Feature maps ------------------------------------------------------------------------------------


@functools.cache
def fmap_examples(network: str, class_index: int) -> Examples:
    return Examples.of(network, models.load_bundled(network), class_index)


def fmap_expected(values: dict[str, int], network: str = "digits", class_index: int = 0) -> dict:
    """What the engine draws for the example on the slider (the page opens on the digits network's test
    zeros): its pictures, by their ids (digests) in order, and the network's answer in words."""
    row, layers = example_frame(fmap_examples(network, class_index), values["example"], "layer")
    frames_only, _ = split_pictures({"parts": [row + layers]})
    says = re.sub(r"<[^>]+>", "", re.search(r'<p class="fmap-says">(.*?)</p>', row)[1])
    return {
        "pictures": re.findall(r'data-picture-id="([0-9a-f]+)"', frames_only["parts"][0]),
        "says": html.unescape(says),
    }


def fmap_matches(seen: dict, network: str = "digits", class_index: int = 0) -> bool:
    """The pictures on show (every one of them drawn) are the engine's for the example on the slider, and so is the answer."""
    want = fmap_expected(seen["values"], network, class_index)
    return seen["unfilled"] == 0 and seen["pictures"] == want["pictures"] and seen["says"] == want["says"]


#: The shapes network's test stars (a colour network, 10 layers; the network is wrong on some).
SHAPES_QUERY = "?fmap.network=shapes&fmap.class=star"
# --- Convolution on the photo -------------------------------------------------------------------

#: The page opens on the cat (300 x 451), Sobel x, gray, zero padding, nothing clicked.
CONV_PHOTO, CONV_KERNEL = "cat.jpg", "sobel x"


def conv_expected(values: dict[str, float]) -> dict:
    """What the Convolution view must show: torch's output size and range (``F.conv2d`` in float64), and the
    engine's picture of it (``convolution_view``, whose pictures the engine test checks against torch's)."""
    pixels = load_sample(CONV_PHOTO).pixels
    geometry = (values["stride"], values["padding"], values["dilation"])
    out = reference_output(pixels, kernels.preset(CONV_KERNEL), "gray", *geometry, bias=values["bias"]).numpy()
    setup = convolution_view.ConvSetup.of(pixels, kernels.preset(CONV_KERNEL), "gray", "zeros", False)
    (picture,) = convolution_view.convolved(setup, values).pictures
    low, high = (f"{value:.3g}".replace("-", "−") for value in (out.min(), out.max()))
    return {"heading": f"Output · {out.shape[1]} × {out.shape[2]}", "range": f"Values from {low} to {high}.",
            "pictures": [f"data:image/jpeg;base64,{base64.b64encode(picture).decode()}"]}  # fmt: skip


def conv_matches(seen: dict) -> bool:
    shown, want = seen["conv"], conv_expected(seen["values"])
    return (
        shown is not None
        and shown["heading"] == want["heading"]
        and (shown["range"] or "").startswith(want["range"])
        and shown["pictures"] == want["pictures"]
    )


@dataclass(frozen=True)
class Lesson:
    """A lesson with a scrubbing view: where it opens, its sliders' URL keys, what the engine says the
    view must show (``expected``, for messages) and how a frame is checked against it (``matches``)."""

    path: str  # URL path and query
    prefix: str  # the sliders' URL keys are ``<prefix>.<name>``
    expected: Callable[[dict], object]  # the slider values -> the engine's (or torch's) numbers
    matches: Callable[[dict], bool]  # what the view shows (``READ_JS``) -> it is the engine's
    ready: str = ".scrub-slot *"  # shown inside the view once its first frame is drawn
    key: str | None = None  # the view's widget key, on a page with more than one view
    lazy: bool = False  # its frames are pictures, asked for when a slider is pressed (one rerun)


LESSONS: dict[str, Lesson] = {
    "output_size": Lesson("/output_size", "size", expected, size_matches, "svg"),
    "conv_steps": Lesson("/conv_steps" + STEPS_QUERY, "steps", steps_expected, steps_matches, ".steps-sum"),
    "losses": Lesson("/losses", "loss", loss_expected, loss_matches, ".scrub-metric", "loss.scrub"),
    "losses_sigmoid": Lesson(
        "/losses", "loss", sigmoid_expected, sigmoid_matches, ".scrub-metric", "loss.sigmoid_scrub"
    ),
    "pooling": Lesson("/pooling", "pool", pool_expected, pool_matches, ".pool-output"),
    "activations": Lesson("/activations" + ACT_QUERY, "act", act_lines, act_matches, ".act-chart polyline"),
    "feature_maps": Lesson("/feature_maps", "fmap", fmap_expected, fmap_matches, "img[data-picture-id]", "fmap.scrub"),
    "feature_maps_shapes": Lesson(
        "/feature_maps" + SHAPES_QUERY,
        "fmap",
        functools.partial(fmap_expected, network="shapes", class_index=3),
        functools.partial(fmap_matches, network="shapes", class_index=3),
        "img[data-picture-id]",
        "fmap.scrub",
    ),
    "convolution": Lesson("/convolution", "conv", conv_expected, conv_matches, lazy=True),
}


def matches_engine(seen: dict, lesson: str = "output_size") -> bool:
    return not seen["pending"] and LESSONS[lesson].matches(seen)


def slider_range(page: Page, name: str, key: str | None = None) -> tuple[float, float]:
    """Slider ``name``'s (low, high), as the view set them."""
    thumb = view(page, key).locator(f'input[name="{name}"]')
    low, high = thumb.evaluate("(input) => [Number(input.min), Number(input.max)]")
    return (int(low), int(high)) if float(low).is_integer() and float(high).is_integer() else (low, high)


def slider_values(page: Page, name: str, key: str | None = None) -> list[float]:
    """Every value slider ``name`` can take, low to high (its step read from the input)."""
    low, high, step = (
        view(page, key)
        .locator(f'input[name="{name}"]')
        .evaluate("(input) => [Number(input.min), Number(input.max), Number(input.step)]")
    )
    count = round((high - low) / step) + 1
    if all(float(number).is_integer() for number in (low, step)):
        return [int(low + index * step) for index in range(count)]
    decimals = len(repr(float(step)).split(".")[1])
    return [round(low + index * step, decimals) for index in range(count)]


def thumb_x(page: Page, name: str, value: float, key: str | None = None) -> tuple[float, float]:
    """The screen point where slider ``name``'s thumb sits at ``value`` (scrolled into sight first:
    the Loss functions view is far down its page)."""
    thumb = view(page, key).locator(f'input[name="{name}"]')
    thumb.scroll_into_view_if_needed()
    box = thumb.bounding_box()
    low, high = slider_range(page, name, key)
    fraction = (value - low) / ((high - low) or 1)
    return box["x"] + THUMB_PX / 2 + fraction * (box["width"] - THUMB_PX), box["y"] + box["height"] / 2


# --- The browser tests' shared walk -----------------------------------------------------------------


def open_lesson(page: Page, base_url: str, lesson: str, query: str = "") -> None:
    """Open ``lesson``'s page (its ``path``, then ``query``: ``"&steps.dilation=2"`` or ``"?pool.stride=1"``)
    and wait for its view's first frame."""
    harness.open_app(page, f"{base_url}{LESSONS[lesson].path}{query}")
    view(page, LESSONS[lesson].key).locator(LESSONS[lesson].ready).first.wait_for()


def url_value(page: Page, key: str) -> str | None:
    """The URL's value for ``key`` (``"pool.kernel"``), None when the URL leaves it out."""
    return page.evaluate("(key) => new URL(location.href).searchParams.get(key)", key)


def ends_and_middle(page: Page, lesson: str, name: str) -> list[float]:
    """Where a drag of slider ``name`` goes: from its value now, out to both ends, the values next to
    them and the middle, nearest first (each move a few steps from the last)."""
    values = slider_values(page, name, LESSONS[lesson].key)
    now = view(page, LESSONS[lesson].key).locator(f'input[name="{name}"]').evaluate("(input) => input.valueAsNumber")
    picked = {values[0], values[1], values[len(values) // 2], values[-2], values[-1], now}
    return sorted(picked, key=lambda value: (abs(value - now), value))


def drag_through(
    page: Page, lesson: str, name: str, positions: Sequence[float], url_text: Callable[[float], str] = str,
    also: Callable[[dict], None] | None = None,
) -> dict:  # fmt: skip
    """Press slider ``name``'s thumb at ``positions[0]`` (its value now), move the pointer to each
    other position in turn, and release on the last.

    Checks, at every position: the slider reads the value under the pointer, and the view shows the
    engine's frame for it (``LESSONS[lesson].matches``); no script rerun while the pointer is held; on
    release, one rerun, the URL holds ``url_text(last value)`` under ``<prefix>.<name>`` and the
    server's new frames agree. ``positions`` must end away from where they start (the URL then holds
    the setting). ``also(seen)``, if given, checks more at every position and after the release (what
    the view's places show: ``placed``). Returns what the view shows after the release.
    """
    key, prefix = LESSONS[lesson].key, LESSONS[lesson].prefix
    assert shown(page, key)["values"][name] == positions[0] != positions[-1]
    page.mouse.move(*thumb_x(page, name, positions[0], key))
    page.mouse.down()
    runs = harness.runs(page)
    for value in positions:
        page.mouse.move(*thumb_x(page, name, value, key), steps=3)
        seen = shown(page, key)
        assert seen["values"][name] == value
        assert matches_engine(seen, lesson), (seen, LESSONS[lesson].expected(seen["values"]))
        if also:
            also(seen)
    assert harness.runs(page) == runs  # no rerun while the pointer is held
    with harness.rerun(page):
        page.mouse.up()
    assert url_value(page, f"{prefix}.{name}") == url_text(positions[-1])
    seen = shown(page, key)
    assert seen["values"][name] == positions[-1] and matches_engine(seen, lesson)  # the server's frames agree
    if also:
        also(seen)
    return seen


def placed(page: Page, key: str, name: str):
    """The element where the view keyed ``key`` draws its place ``name`` (``pages/scrub_view.py``: place)."""
    return page.locator(f".st-key-{key.replace('.', '-')}-place-{name.replace('.', '-')} .scrub-place").first


def press(page: Page, lesson: str, name: str, *keys: str) -> dict:
    """Focus slider ``name`` and press ``keys`` (each a release: the sends may overtake the reruns);
    wait for the rerun(s); what the view shows then."""
    slider = view(page, LESSONS[lesson].key).locator(f'input[name="{name}"]')
    slider.focus()
    with harness.rerun(page):
        for pressed in keys:
            slider.press(pressed)
    return shown(page, LESSONS[lesson].key)
