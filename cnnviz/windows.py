"""Where a convolution's windows land along one axis: which pixels they read, which they never do.

``axis_layout`` works it out from ``cnnviz.arithmetic`` (never recomputing the size
formula); ``window_figure`` draws it for the Output size lesson.
"""

from __future__ import annotations

from dataclasses import dataclass

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
_MAX_LANES = 6  # more would make the figure taller than a projector screen


def window_figure(layout: AxisLayout, labels: AxisLabels | None = None) -> go.Figure:
    """Input cells (padding grey, never-read amber), each window as a bar with its taps, and
    the output pixel each window produces, drawn below its window's centre.

    Windows are spread over a few lanes so that neighbours do not hide each other.
    """
    labels = labels or AxisLabels()
    padded = len(layout.reads)
    lanes = max(1, min(len(layout.starts), -(-layout.span // layout.stride), _MAX_LANES))
    output_y = -(lanes + 1.4)
    shapes, texts = [], []

    def cell(x: float, y: float, fill: str, line: str = "white", width: float = 1, half: float = 0.46) -> None:
        shapes.append(
            {"type": "rect", "x0": x - half, "x1": x + half, "y0": y - 0.42, "y1": y + 0.42,
             "fillcolor": fill, "line": {"color": line, "width": width}, "layer": "below"}
        )  # fmt: skip

    unread = set(layout.unread)
    for index in range(padded):
        pixel = index - layout.padding
        if not 0 <= pixel < layout.size:
            cell(index, 0, "#e5e7eb")
            texts.append((index, 0, "0", "#6b7280"))
        else:
            cell(index, 0, "#fde68a" if index in unread else "#dbeafe", "#d97706" if index in unread else "white", 2)
            texts.append((index, 0, str(pixel + 1), "#1f2937"))

    tap_x, tap_y, tap_colour, tap_hover = [], [], [], []
    for number, start in enumerate(layout.starts, start=1):
        colour = WINDOW_COLOURS[(number - 1) % len(WINDOW_COLOURS)]
        lane_y = -1.2 - (number - 1) % lanes
        shapes.append(
            {"type": "rect", "x0": start - 0.45, "x1": start + layout.span - 0.55, "y0": lane_y - 0.3,
             "y1": lane_y + 0.3, "fillcolor": colour, "opacity": 0.18, "line": {"color": colour, "width": 2}}
        )  # fmt: skip
        for tap in layout.taps:
            tap_x.append(start + tap)
            tap_y.append(lane_y)
            tap_colour.append(colour)
            tap_hover.append(f"{labels.window} {number} → {labels.output_row} {number}")
        centre = start + (layout.span - 1) / 2
        cell(centre, output_y, colour, half=0.44)
        texts.append((centre, output_y, str(number), "white"))

    figure = go.Figure()
    figure.add_trace(
        go.Scatter(x=tap_x, y=tap_y, mode="markers", marker={"color": tap_colour, "size": 9},
                   hovertext=tap_hover, hoverinfo="text", showlegend=False)
    )  # fmt: skip
    figure.add_trace(
        go.Scatter(x=[t[0] for t in texts], y=[t[1] for t in texts], text=[t[2] for t in texts], mode="text",
                   textfont={"color": [t[3] for t in texts], "size": 12}, hoverinfo="skip", showlegend=False)
    )  # fmt: skip
    for name, fill, line in (
        (labels.padding, "#e5e7eb", "#e5e7eb"),
        (labels.pixel, "#dbeafe", "#dbeafe"),
        (labels.unread, "#fde68a", "#d97706"),
    ):
        figure.add_trace(
            go.Scatter(x=[None], y=[None], mode="markers", name=name,
                       marker={"symbol": "square", "size": 14, "color": fill, "line": {"color": line, "width": 2}})
        )  # fmt: skip
    figure.update_layout(
        shapes=shapes,
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
