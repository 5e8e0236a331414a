"""Where a convolution's windows land along one axis: which pixels they read, which they never do.

``axis_layout`` works it out from ``cnnviz.arithmetic`` (never recomputing the size
formula); ``window_figure`` draws it for the Output size lesson, and ``grid_figure`` shows
what it means for the whole image: the never-read rows and columns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from cnnviz.arithmetic import effective_kernel_size, uncovered_size, window_starts


@dataclass(frozen=True)
class AxisLayout:
    """Where a convolution's windows land along one axis, in padded coordinates.

    Attributes:
        size, padding: input length and zeros on each side; cell ``padding`` is input pixel 0.
        stride: step between windows.
        span: width of one (dilated) window.
        starts: first cell of each window, one per output pixel.
        taps: offsets of the kernel taps inside a window (0, dilation, 2*dilation...).
        reads: how many taps read each padded cell, (size + 2*padding,).
        dropped: cells at the far end beyond the last window (the floor's remainder).
        unread: input cells (padded coordinates) no tap ever reads: the far end and, with a
            stride above the span or a dilation, gaps between taps.
    """

    size: int
    padding: int
    stride: int
    span: int
    starts: tuple[int, ...]
    taps: tuple[int, ...]
    reads: tuple[int, ...]
    dropped: int
    unread: tuple[int, ...]


def axis_layout(size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> AxisLayout:
    """Windows, taps and never-read pixels of a convolution along one axis.

    Raises:
        SizeError: as ``conv_output_size``.
    """
    starts = tuple(window_starts(size, kernel_size, stride, padding, dilation))
    taps = tuple(range(0, effective_kernel_size(kernel_size, dilation), dilation))
    reads = [0] * (size + 2 * padding)
    for start in starts:
        for tap in taps:
            reads[start + tap] += 1
    unread = tuple(cell for cell in range(padding, padding + size) if reads[cell] == 0)
    dropped = uncovered_size(size, kernel_size, stride, padding, dilation)
    return AxisLayout(size, padding, stride, taps[-1] + 1, starts, taps, tuple(reads), dropped, unread)


@dataclass(frozen=True)
class AxisLabels:
    """The words in ``window_figure`` (pages pass them translated)."""

    padding: str = "padding (zeros)"
    pixel: str = "input pixel"
    unread: str = "never read"
    input_row: str = "input"
    windows_row: str = "windows"
    output_row: str = "output"
    window: str = "window"


WINDOW_COLOURS = ("#2563eb", "#16a34a", "#9333ea", "#dc2626", "#0891b2", "#ca8a04")
PADDING_FILL, PIXEL_FILL, UNREAD_FILL, UNREAD_LINE = "#e5e7eb", "#dbeafe", "#fde68a", "#d97706"
_MAX_LANES = 6  # more would make the figure taller than a projector screen


def _boxes(
    name: str, x: list[float], y: list[float], width: list[float], height: float, fill: list[str], line: list[str]
) -> go.Bar:
    """Rectangles centred on (x, y) as one bar trace: one trace for many boxes keeps a rerun fast
    (plotly validates every layout shape on its own)."""
    return go.Bar(
        name=name, x=x, y=[height] * len(x), base=[v - height / 2 for v in y], width=width,
        marker={"color": fill, "line": {"color": line, "width": 2}}, hoverinfo="skip", showlegend=False,
    )  # fmt: skip


def _translucent(colour: str, alpha: float) -> str:
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"


def window_figure(layout: AxisLayout, labels: AxisLabels | None = None) -> go.Figure:
    """Input cells (padding grey, never-read amber), each window as a bar with its taps, and
    the output pixel each window produces, drawn below its window's centre.

    Windows are spread over a few lanes so that neighbours do not hide each other. Traces:
    ``"cells"`` (one box per padded cell), ``"windows"``, ``"outputs"`` (one box per output
    pixel), the taps, the cell numbers, then three legend entries.
    """
    labels = labels or AxisLabels()
    padded = len(layout.reads)
    lanes = max(1, min(len(layout.starts), -(-layout.span // layout.stride), _MAX_LANES))
    output_y = -(lanes + 1.4)
    unread = set(layout.unread)
    cells = range(padded)
    is_pixel = [0 <= index - layout.padding < layout.size for index in cells]
    cell_fill = [UNREAD_FILL if i in unread else PIXEL_FILL if is_pixel[i] else PADDING_FILL for i in cells]
    cell_line = [UNREAD_LINE if i in unread else "white" for i in cells]
    texts = [(i, 0, str(i - layout.padding + 1) if is_pixel[i] else "0", "#1f2937" if is_pixel[i] else "#6b7280")
             for i in cells]  # fmt: skip

    colours = [WINDOW_COLOURS[number % len(WINDOW_COLOURS)] for number in range(len(layout.starts))]
    lane_ys = [-1.2 - number % lanes for number in range(len(layout.starts))]
    centres = [start + (layout.span - 1) / 2 for start in layout.starts]
    texts += [(centre, output_y, str(number), "white") for number, centre in enumerate(centres, start=1)]
    taps = [(start + tap, y, colour, number)
            for number, (start, y, colour) in enumerate(zip(layout.starts, lane_ys, colours, strict=True), start=1)
            for tap in layout.taps]  # fmt: skip

    figure = go.Figure(
        [
            _boxes("cells", list(cells), [0] * padded, [0.92] * padded, 0.84, cell_fill, cell_line),
            _boxes("windows", centres, lane_ys, [layout.span - 0.1] * len(centres), 0.6,
                   [_translucent(colour, 0.18) for colour in colours], colours),
            _boxes("outputs", centres, [output_y] * len(centres), [0.88] * len(centres), 0.84, colours, colours),
            go.Scatter(x=[t[0] for t in taps], y=[t[1] for t in taps], mode="markers", showlegend=False,
                       marker={"color": [t[2] for t in taps], "size": 9}, hoverinfo="text",
                       hovertext=[f"{labels.window} {t[3]} → {labels.output_row} {t[3]}" for t in taps]),
            go.Scatter(x=[t[0] for t in texts], y=[t[1] for t in texts], text=[t[2] for t in texts], mode="text",
                       textfont={"color": [t[3] for t in texts], "size": 12}, hoverinfo="skip", showlegend=False),
            *(go.Scatter(x=[None], y=[None], mode="markers", name=name,
                         marker={"symbol": "square", "size": 14, "color": fill, "line": {"color": line, "width": 2}})
              for name, fill, line in ((labels.padding, PADDING_FILL, PADDING_FILL),
                                       (labels.pixel, PIXEL_FILL, PIXEL_FILL),
                                       (labels.unread, UNREAD_FILL, UNREAD_LINE))),
        ]
    )  # fmt: skip
    figure.update_layout(
        barmode="overlay",
        height=int(70 + 34 * (lanes + 2.4)),
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        plot_bgcolor="white",
        legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
    )
    figure.update_xaxes(range=[-0.6, padded - 0.4], showticklabels=False, showgrid=False, zeroline=False)
    figure.update_yaxes(
        range=[output_y - 0.6, 0.6], showgrid=False, zeroline=False, tickfont={"size": 13},
        tickvals=[0, -1.2 - (lanes - 1) / 2, output_y],
        ticktext=[labels.input_row, labels.windows_row, labels.output_row],
    )  # fmt: skip
    return figure


#: ``read_map`` values.
PADDING, READ, UNREAD = 0, 1, 2


def read_map(layout: AxisLayout) -> np.ndarray:
    """What each cell of the padded square input is: ``PADDING``, ``READ`` or ``UNREAD``.

    A 2-D window is a row window crossed with a column window (same settings along both
    axes), so a pixel is read exactly when its row and its column are both read.

    Returns:
        (size + 2*padding, size + 2*padding) int array.
    """
    read = np.asarray(layout.reads) > 0
    is_pixel = np.zeros(len(layout.reads), bool)
    is_pixel[layout.padding : layout.padding + layout.size] = True
    pixel = is_pixel[:, None] & is_pixel[None, :]
    return np.where(pixel, np.where(read[:, None] & read[None, :], READ, UNREAD), PADDING)


def grid_figure(layout: AxisLayout, side_px: int = 170) -> go.Figure:
    """The whole padded input from above: padding grey, read pixels blue, never-read rows and
    columns amber (the colours of ``window_figure``)."""
    cells = read_map(layout)
    # Three flat steps over z = 0, 1, 2.
    scale = [[0, PADDING_FILL], [1 / 3, PADDING_FILL], [1 / 3, PIXEL_FILL], [2 / 3, PIXEL_FILL],
             [2 / 3, UNREAD_FILL], [1, UNREAD_FILL]]  # fmt: skip
    gap = 1 if len(cells) <= 40 else 0
    figure = go.Figure(
        go.Heatmap(z=cells, zmin=0, zmax=2, colorscale=scale, showscale=False, xgap=gap, ygap=gap, hoverinfo="skip")
    )
    figure.update_layout(width=side_px, height=side_px, margin={"l": 0, "r": 0, "t": 0, "b": 0}, plot_bgcolor="white")
    figure.update_xaxes(visible=False, constrain="domain")
    figure.update_yaxes(visible=False, autorange="reversed", scaleanchor="x")
    return figure
