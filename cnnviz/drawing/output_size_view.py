"""The Output size lesson's scrubbing view: the output size, the filled-in formula, the windows,
and, drawn in places below the view, the PyTorch code and PyTorch and TensorFlow's rules.

``size_frame`` draws the view for one setting from ``cnnviz.arithmetic`` (the size formula, the
frameworks' rules), ``cnnviz.windows`` (where the windows land) and ``cnnviz.codegen`` (the code);
``size_frame_set`` draws it for every value of the five sliders (``cnnviz.drawing.frames``), which
``cnnviz/frontend/scrub_view.js`` swaps while a slider is dragged. The code and the rules depend
on the sliders alone, so they are slots of the frames drawn in places (``PLACES``): the page mounts
``scrub_view.place("size.scrub", "code")`` in its code panel and ``"frameworks"`` above it, and they
follow the pointer too. Texts are in ``lang`` (``cnnviz/locales``).
"""

from __future__ import annotations

import functools
import html
from collections.abc import Mapping

from cnnviz import arithmetic, codegen, i18n, windows
from cnnviz.arithmetic import SizeError
from cnnviz.drawing import grids, window_diagrams
from cnnviz.drawing.frames import Slider, frame_sets
from cnnviz.drawing.markup import code_html, markdown_html, row_html
from cnnviz.drawing.mathml import formula_mathml

#: The five sliders: setting name -> (low, high, default). Settings are named as
#: ``conv_output_size``'s arguments; the URL keys are ``size.<name>``.
SIZE_SLIDERS: dict[str, tuple[int, int, int]] = {
    "input": (1, 32, 28),
    "kernel": (1, 11, 5),
    "padding": (0, 6, 0),
    "stride": (1, 6, 1),
    "dilation": (1, 4, 1),
}

#: The frames' slots drawn in places, not in the view: place name -> slots (``frames``, "places").
PLACES: dict[str, list[int]] = {"code": [2], "frameworks": [3], "transposed": [4]}

#: The output padding slider's range (a native slider beside the "transposed" place; not one of the view's).
OUTPUT_PADDING_MAX = 3


def _arguments(settings: Mapping[str, int]) -> tuple[int, int, int, int, int]:
    """``conv_output_size``'s positional arguments: size, kernel, stride, padding, dilation."""
    return settings["input"], settings["kernel"], settings["stride"], settings["padding"], settings["dilation"]


def explain_size_error(error: SizeError, lang: str) -> str:
    """The engine's reason for an impossible setting, in ``lang``."""
    values = dict(error.values)
    if "what" in values:
        values["what"] = i18n.translate(f"size.what.{values['what']}", lang)
    text = i18n.translate(f"size.error.{error.reason}", lang, **values)
    return i18n.translate("size.error.in_layer", lang, layer=values["layer"], text=text) if "layer" in values else text


def note_html(text: str, kind: str = "info") -> str:
    """A coloured box like ``st.info`` (the app's ``cnnviz-note`` style), ``kind`` info/success/warning/error."""
    return f'<div class="cnnviz-note {kind}"><p>{html.escape(text)}</p></div>'


def windows_explanation(layout: windows.AxisLayout, settings: Mapping[str, int], out: int, lang: str) -> list[str]:
    """Whether the windows fit exactly; if not, what the floor drops; any pixels skipped between windows."""
    size, kernel, stride, padding, dilation = _arguments(settings)
    room = arithmetic.slide_distance(size, kernel, padding, dilation)
    lost = max(0, layout.dropped - padding)  # dropped cells that are real pixels, not padding
    numbers = {"room": room, "stride": stride, "quotient": f"{room / stride:.3g}", "out": out}
    if layout.dropped:
        key = "size.floor.pixels" if lost else "size.floor.padding"
        notes = [note_html(i18n.translate(key, lang, **numbers, dropped=layout.dropped, lost=lost), "warning")]
    else:
        notes = [note_html(i18n.translate("size.exact", lang, **numbers, steps=out - 1), "success")]
    if len(layout.unread) > lost:
        notes.append(note_html(i18n.translate("size.gaps", lang, count=len(layout.unread) - lost), "info"))
    return notes


def _summary(settings: Mapping[str, int], lang: str) -> tuple[str, int | None]:
    """The output size beside the filled-in formula (or why no window fits); and the size, if any."""
    size = settings["input"]
    formula = formula_mathml(arithmetic.conv_formula_latex(*_arguments(settings)))
    try:
        out = arithmetic.conv_output_size(*_arguments(settings))
    except SizeError as error:
        out, shown, below = None, "—", note_html(explain_size_error(error, lang), "warning")
    else:
        shown = f"{out} × {out}"
        below = f'<div class="cnnviz-caption"><p>{html.escape(i18n.translate("size.input_to_output", lang, size=size, out=out))}</p></div>'
    metric = (
        f'<div class="scrub-metric"><div class="scrub-metric-label">{html.escape(i18n.translate("size.output", lang))}'
        f'</div><div class="scrub-metric-value" data-value="{out if out is not None else ""}">{shown}</div></div>'
    )
    return f'<div class="scrub-summary">{metric}<div class="scrub-formula">{formula}{below}</div></div>', out


def _windows(settings: Mapping[str, int], out: int, lang: str) -> str:
    """The windows along one row (and, when some pixels are never read, the whole input from above)."""
    layout = windows.axis_layout(*_arguments(settings))
    labels = window_diagrams.AxisLabels(
        **{name: i18n.translate(f"size.fig.{key}", lang) for name, key in (
            ("padding", "padding"), ("pixel", "pixel"), ("unread", "unread"),
            ("input_row", "input_row"), ("windows_row", "windows_row"), ("output_row", "output_row"))}
    )  # fmt: skip
    heading = f"<h3>{html.escape(i18n.translate('size.windows.title', lang))}</h3>"
    notes = "".join(windows_explanation(layout, settings, out, lang))
    if not layout.unread:
        return f'<div class="scrub-windows">{heading}{window_diagrams.window_svg(layout, labels)}{notes}</div>'
    caption = i18n.translate("size.grid.caption", lang, size=settings["input"])
    beside = f'<div class="scrub-beside"><div>{notes}<div class="cnnviz-caption"><p>{html.escape(caption)}</p></div></div><div>{window_diagrams.grid_svg(layout)}</div></div>'
    return f'<div class="scrub-windows">{heading}{window_diagrams.window_svg(layout, labels)}{beside}</div>'


def code_part(settings: Mapping[str, int], lang: str) -> str:
    """The PyTorch code for the settings (``codegen.conv2d`` on one channel), or why there is none."""
    size, kernel, stride, padding, dilation = _arguments(settings)
    try:
        code = codegen.conv2d((1, size, size), 1, kernel, stride, padding, dilation)
    except SizeError:
        return note_html(i18n.translate("size.code.no_output", lang))
    return code_html(code, i18n.translate("ui.copy", lang))


def _rule(lang: str, key: str | None, code: str, compute, *args, **values: object) -> str:
    """One framework rule (markdown): its code, then the size it gives in bold, or in a few words why it refuses."""
    try:
        result = f"**{compute(*args)}**"
    except SizeError as error:
        return f"{code} → ✗ {i18n.translate(f'size.refused.{error.reason}', lang)}"
    return f"{code} → {result}" if key is None else i18n.translate(key, lang, code=code, result=result, **values)


def frameworks_html(settings: Mapping[str, int], lang: str) -> str:
    """PyTorch's and TensorFlow's rules side by side, each with the size it gives for the settings."""
    size, kernel, stride, padding, dilation = _arguments(settings)
    dilated = f", dilation={dilation}" if dilation > 1 else ""
    code = f"`nn.Conv2d(…, {kernel}, stride={stride}, padding={padding}{dilated})`"
    torch_side = [i18n.translate("size.torch.title", lang), _rule(lang, None, code, arithmetic.conv_output_size,
                                                                 size, kernel, stride, padding, dilation)]  # fmt: skip
    code = f'`nn.Conv2d(…, {kernel}, padding="same"{dilated})`'
    if stride == 1:  # PyTorch's "same" pads as TensorFlow's
        before, after = arithmetic.tf_same_padding(size, kernel, 1, dilation)
        torch_side.append(i18n.translate("size.torch.same", lang, code=code, result=f"**{size}**", before=before,
                                         after=after))  # fmt: skip
    else:
        torch_side.append(i18n.translate("size.torch.same_strided", lang, code=code))
    for ceil_mode in (False, True):
        code = f"`nn.MaxPool2d({kernel}, stride={stride}, padding={padding}{dilated}{', ceil_mode=True' * ceil_mode})`"
        key = "size.torch.ceil" if ceil_mode else "size.torch.pool"
        pool_args = (size, kernel, stride, padding, dilation, ceil_mode)
        torch_side.append(_rule(lang, key, code, arithmetic.pool_output_size, *pool_args))
    rate = f", dilation_rate={dilation}" if dilation > 1 else ""
    code = f'`Conv2D(…, {kernel}, strides={stride}, padding="valid"{rate})`'
    tf_side = [i18n.translate("size.tf.title", lang),
               _rule(lang, "size.tf.valid", code, arithmetic.tf_output_size, size, kernel, stride, "valid", dilation)]  # fmt: skip
    code = f'`Conv2D(…, {kernel}, strides={stride}, padding="same"{rate})`'
    try:
        before, after = arithmetic.tf_same_padding(size, kernel, stride, dilation)
    except SizeError:
        before = after = None
    same_args = (size, kernel, stride, "same", dilation)
    tf_side.append(_rule(lang, "size.tf.same", code, arithmetic.tf_output_size, *same_args, before=before, after=after))
    caption = f'<div class="cnnviz-caption">{markdown_html(i18n.translate("size.tf.no_number", lang))}</div>'
    cells = (markdown_html("\n\n".join(torch_side)), markdown_html("\n\n".join(tf_side)) + caption)
    heading = f"<h3>{html.escape(i18n.translate('size.frameworks.title', lang))}</h3>"
    return heading + row_html(*cells, boxed=True)


def transposed_part(settings: Mapping[str, int], out: int | None, output_padding: int, lang: str) -> str:
    """The transposed convolution back from the ``out`` pixels (``None``: no window fits): the intro,
    the filled-in formula, the output paddings that give each input size back, and where the
    transposed windows land; for an impossible ``output_padding``, the engine's reason instead."""
    if out is None:
        return note_html(i18n.translate("size.transposed.needs_output", lang))
    size, kernel, stride, padding, dilation = _arguments(settings)
    intro = markdown_html(i18n.translate("size.transposed.intro", lang, out=out))
    try:
        latex = arithmetic.transposed_formula_latex(out, kernel, stride, padding, output_padding, dilation)
        layout = windows.transposed_layout(out, kernel, stride, padding, output_padding, dilation)
    except SizeError as error:
        return intro + note_html(explain_size_error(error, lang), "warning")
    choices = arithmetic.transposed_choices(out, kernel, stride, padding, dilation)
    listed = i18n.translate("size.transposed.sep", lang).join(
        i18n.translate("size.transposed.pair", lang, op=op, n=n) for op, n in choices
    )
    back = arithmetic.uncovered_size(size, kernel, stride, padding, dilation)
    key = "size.transposed.choices" if len(choices) > 1 else "size.transposed.one_choice"
    note = note_html(i18n.translate(key, lang, out=out, listed=listed, size=size, back=back))
    labels = window_diagrams.TransposedLabels(
        **{name: i18n.translate(key, lang) for name, key in (
            ("cropped", "size.tfig.cropped"), ("kept", "size.tfig.kept"), ("extra", "size.tfig.extra"),
            ("input_row", "size.fig.input_row"), ("windows_row", "size.fig.windows_row"),
            ("output_row", "size.fig.output_row"))}
    )  # fmt: skip
    text = markdown_html(i18n.translate("size.transposed.windows", lang, out=out, k=layout.span, s=stride))
    drawing = grids.side_by_side_html(window_diagrams.transposed_svg(layout, labels), gap_px=16, share=True)  # as ui.View.svg
    return f'{intro}<div class="scrub-formula">{formula_mathml(latex)}</div>{note}{text}{drawing}'


def size_frame(
    settings: Mapping[str, int], lang: str = i18n.DEFAULT_LANGUAGE, output_padding: int = 0
) -> tuple[str, str, str, str, str]:
    """The view for one setting: (the size and formula, the windows or "" when no window fits, and
    in places: the code, the frameworks' rules, the transposed convolution back).

    Args:
        settings: {"input", "kernel", "padding", "stride", "dilation"} -> value.
        lang: the interface language.
        output_padding: the transposed convolution's output padding (a slider outside the view).
    """
    return _size_frame(tuple(settings[name] for name in SIZE_SLIDERS), lang, output_padding)


@functools.lru_cache(maxsize=2048)  # a release redraws the other sliders' sets; most frames recur
def _size_frame(values: tuple[int, ...], lang: str, output_padding: int) -> tuple[str, str, str, str, str]:
    settings = dict(zip(SIZE_SLIDERS, values, strict=True))
    summary, out = _summary(settings, lang)
    drawing = "" if out is None else _windows(settings, out, lang)
    transposed = transposed_part(settings, out, output_padding, lang)
    return summary, drawing, code_part(settings, lang), frameworks_html(settings, lang), transposed


def size_frame_set(values: Mapping[str, int], lang: str = i18n.DEFAULT_LANGUAGE, output_padding: int = 0) -> dict:
    """``size_frame`` for every value of each of the five sliders around ``values`` (see ``frames``),
    with the transposed convolution's ``output_padding``."""
    sliders = [
        Slider(name, i18n.translate(f"size.{name}", lang), low, high, values[name])
        for name, (low, high, _) in SIZE_SLIDERS.items()
    ]
    return frame_sets(sliders, lambda settings: size_frame(settings, lang, output_padding), places=PLACES)
