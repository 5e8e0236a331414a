"""Pooling's frame set: every frame is what the engine draws for that setting, with torch's numbers."""

import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnviz import pooling
from cnnviz.drawing.frames import frame_at
from cnnviz.drawing.mathml import latex_sources
from cnnviz.drawing.pooling_view import POOL_SLIDERS, PoolNumbers, marked_cells, pool_frame, pool_frame_set
from cnnviz.pooling import PoolSettings
from tests.grids import read_grids

SIZES = range(POOL_SLIDERS["grid.size"][0], POOL_SLIDERS["grid.size"][1] + 1)


def numbers(settings: PoolSettings) -> PoolNumbers:
    return PoolNumbers.of({size: pooling.random_grid(size, 4) for size in SIZES}, settings)


def torch_pool(grid: np.ndarray, settings: PoolSettings, kernel: int, stride: int, padding: int) -> np.ndarray:
    """The reference: torch's own pooling function for the kind (lp: on the zero-padded input)."""
    x = torch.as_tensor(grid)[None, None]
    if settings.kind == "max":
        out = F.max_pool2d(x, kernel, stride, padding, ceil_mode=settings.ceil_mode)
    elif settings.kind == "avg":
        out = F.avg_pool2d(x, kernel, stride, padding, settings.ceil_mode, settings.count_include_pad)
    elif settings.kind == "lp":
        F.avg_pool2d(x, kernel, stride, padding)  # torch's rule on padding (lp_pool2d has none)
        out = F.lp_pool2d(F.pad(x, (padding,) * 4), settings.p, kernel, stride)  # no ceil_mode here: see below
    else:
        out = F.adaptive_avg_pool2d(x, 1)
    return out[0, 0].numpy()


def drawn_output(frame: tuple[str, ...]) -> np.ndarray:
    (output_grid,) = read_grids(frame[1])
    return np.array([[float(cell.hover.split(": ")[1]) for cell in row] for row in output_grid.rows])


CASES = [
    (PoolSettings("max"), {"grid.size": 6, "kernel": 2, "stride": 2, "padding": 0, "cell": 1}),
    (PoolSettings("max", ceil_mode=True), {"grid.size": 7, "kernel": 3, "stride": 2, "padding": 1, "cell": 5}),
    (PoolSettings("avg", count_include_pad=False), {"grid.size": 5, "kernel": 3, "stride": 1, "padding": 1, "cell": 9}),
    (PoolSettings("avg", ceil_mode=True), {"grid.size": 8, "kernel": 3, "stride": 3, "padding": 1, "cell": 2}),
    (PoolSettings("lp", p=3.0), {"grid.size": 6, "kernel": 2, "stride": 1, "padding": 1, "cell": 3}),
    (PoolSettings("global_avg"), {"grid.size": 4}),
]


@pytest.mark.parametrize("settings, base", CASES)
def test_every_pool_frame_is_the_engines_drawing_with_torchs_numbers(settings, base):
    made = numbers(settings)
    frame_set = pool_frame_set(made, base)
    assert [slider["name"] for slider in frame_set["sliders"]] == list(base)
    for slider in frame_set["sliders"]:
        for value in range(slider["low"], slider["high"] + 1):
            values = {**base, slider["name"]: value}
            frame = tuple(frame_at(frame_set, slider["name"], value))
            assert frame == pool_frame(made, values)
            geometry = tuple(values.get(name, POOL_SLIDERS[name][2]) for name in ("kernel", "stride", "padding"))
            try:
                expected = torch_pool(made.grid(values["grid.size"]), settings, *geometry)
                assert expected.size
            except RuntimeError:  # torch refuses too: the frame says why, and the nearest settings
                assert "cnnviz-note warning" in frame[0] and "Nearest settings that work" in frame[0]
                assert frame[1:4] == ("", "", "")  # the places say so too: tests/engine/test_pool_places.py
                continue
            if settings.kind == "lp" and settings.ceil_mode:
                continue  # torch scales a partial Lp window (tests/engine/test_pooling.py)
            assert np.allclose(drawn_output(frame), expected, rtol=1e-5)  # hover text: 6 significant digits
            cells = min(values.get("cell", 1), expected.size)
            row, col = divmod(cells - 1, expected.shape[1])
            marked = marked_cells(frame[2])
            assert marked["output"] == (row, col)
            kernel, stride, padding = geometry
            if settings.kind == "global_avg":
                window = [(r, c) for r in range(values["grid.size"]) for c in range(values["grid.size"])]
            else:  # the definition of a strided window, in the padded layout's coordinates
                window = [(row * stride + i, col * stride + j) for i in range(kernel) for j in range(kernel)]
            assert marked["window"] == sorted(window)
            (formula, *_) = latex_sources(frame[2])
            written = float(formula.rsplit("= ", 1)[1])
            assert written == pytest.approx(expected[row, col], abs=5e-4)  # written with 3 decimals
            if settings.kind == "max":
                (winner,) = marked["winner"]
                assert made.grid(values["grid.size"])[winner[0] - padding, winner[1] - padding] == expected[row, col]


def test_the_cell_slider_spans_the_output_and_the_base_cell_is_kept_within_it():
    made = numbers(PoolSettings("max"))
    frame_set = pool_frame_set(made, {"grid.size": 6, "kernel": 2, "stride": 2, "padding": 0, "cell": 20})
    assert frame_set["sliders"][-1]["high"] == 9 and frame_set["base"]["cell"] == 9  # 3 x 3 windows
    # At stride 1 the same geometry has 5 x 5 windows: cell 9 is row 2, column 4 there.
    frame = frame_at(frame_set, "stride", 1)
    assert marked_cells(frame[2])["output"] == (1, 3)


def test_frames_are_in_the_session_language_and_bold_is_html():
    made = numbers(PoolSettings("max"))
    frame = pool_frame(made, {"grid.size": 5, "kernel": 2, "stride": 2, "padding": 0, "cell": 1}, "zh")
    text = "".join(frame)
    assert "输出 2 × 2" in text and "<strong>输出大小。</strong>" in text and "**" not in text
    assert not re.search(r"\b(Output|Input|window)\b", re.sub(r"<[^>]*>", "", text))


def test_the_sliders_carry_their_help_in_the_session_language():
    made = numbers(PoolSettings("max"))
    sliders = pool_frame_set(made, {"grid.size": 6, "kernel": 2, "stride": 2, "padding": 0, "cell": 1}, "zh")["sliders"]
    helps = {slider["name"]: slider["help"] for slider in sliders}
    assert helps["grid.size"] == "" and all(helps[name] for name in ("kernel", "stride", "padding", "cell"))
    assert re.search(r"[\u4e00-\u9fff]{4}", helps["stride"]) and not re.search(r"[a-z]{4}", helps["stride"])
