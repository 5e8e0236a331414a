"""Output size: why 28 becomes 24. The size formula, where the windows land, PyTorch and
TensorFlow side by side, transposed convolution, and sizes through whole networks."""

import random

import streamlit as st

from cnnviz import arithmetic, codegen, layers, quiz, stack_text
from cnnviz.arithmetic import SizeError
from cnnviz.drawing import output_size_view
from cnnviz.drawing.output_size_view import OUTPUT_PADDING_MAX, SIZE_SLIDERS
from pages import scrub_view, ui

PADDING_MAX = SIZE_SLIDERS["padding"][1]
VIEW = "size.scrub"  # the scrubbing view's widget key
QUESTIONS = 9999  # quiz questions are numbered 1..QUESTIONS; the number seeds the question


def explain(error: SizeError) -> str:
    """The engine's explanation of an impossible setting, in the session's language."""
    return output_size_view.explain_size_error(error, ui.lang())


def move_sliders(**settings: int) -> None:
    """Button callback: put the sliders on the nearest setting that works."""
    for name, value in settings.items():
        st.session_state[f"size.{name}"] = value


def offer_nearest(error: SizeError, view: ui.View | None = None) -> None:
    """The engine's explanation (drawn with ``view``, if given), and one button per nearest valid setting."""
    if view is not None:
        view.note(explain(error), "warning", ":material/block:").draw()
    values = error.values
    fixes = {}
    if error.reason == "window_too_big":
        if values["min_padding"] <= PADDING_MAX:
            fixes["padding"] = values["min_padding"]
        fixes["kernel"] = values["max_kernel"]
    elif error.reason == "output_padding":
        fixes["output_padding"] = values["max_output_padding"]
    if not fixes:
        return
    for column, (name, value) in zip(st.columns(len(fixes)), fixes.items(), strict=True):
        column.button(
            ui.t(f"size.use.{name}", value=value), on_click=move_sliders, kwargs={name: value}, key=f"size.fix.{name}",
            icon=":material/auto_fix_high:", width="stretch",
        )  # fmt: skip


def describe(layer: arithmetic.Layer) -> str:
    """A layer in words, e.g. "Conv 5×5, 4 filters, stride 2"."""
    if isinstance(layer, arithmetic.Conv):
        parts = [ui.t("size.layer.conv", k=layer.kernel_size, filters=layer.out_channels)]
        parts += [ui.t("size.layer.stride", value=layer.stride)] if layer.stride != 1 else []
        parts += [ui.t("size.layer.padding", value=layer.padding)] if layer.padding else []
        parts += [ui.t("size.layer.dilation", value=layer.dilation)] if layer.dilation != 1 else []
    elif isinstance(layer, arithmetic.Pool):
        parts = [ui.t(f"size.layer.{layer.kind}_pool", k=layer.kernel_size)]
        parts += (
            [ui.t("size.layer.stride", value=layer.stride)] if layer.stride not in (None, layer.kernel_size) else []
        )
        parts += [ui.t("size.layer.padding", value=layer.padding)] if layer.padding else []
        parts += [ui.t("size.layer.ceil")] if layer.ceil_mode else []
    elif isinstance(layer, arithmetic.Flatten):
        parts = [ui.t("size.layer.flatten")]
    else:
        parts = [ui.t("size.layer.dense", units=layer.out_features)]
    return ui.t("size.layer.sep").join(parts)


def stack_table(input_shape: tuple[int, int, int], rows: list[arithmetic.TracedLayer]) -> list[dict[str, str]]:
    """The tracer's rows as table rows (column names translated), the input first."""
    heads = [ui.t(f"size.stack.{name}") for name in ("layer", "shape", "params", "dense", "saving", "field")]
    table = [[ui.t("size.stack.input"), " × ".join(map(str, input_shape)), "", "", "", "1 × 1"]]
    for row in rows:
        shared = isinstance(row.layer, arithmetic.Conv)  # weight sharing: compare with a dense layer
        table.append([
            describe(row.layer),
            " × ".join(map(str, row.shape)),
            f"{row.params:,}" if row.params else "–",
            f"{row.dense_params:,}" if shared else "–",
            f"× {row.dense_params / row.params:,.0f}" if shared else "–",
            f"{row.receptive_field} × {row.receptive_field}" if row.receptive_field else ui.t("size.stack.whole"),
        ])  # fmt: skip
    return [dict(zip(heads, cells, strict=True)) for cells in table]


@st.cache_data(show_spinner=False, max_entries=64)
def torch_check(input_shape: tuple[int, int, int], stack: tuple[arithmetic.Layer, ...]) -> list[layers.Mismatch]:
    # Meta tensors carry shapes only: even VGG-16 at 224 x 224 runs in milliseconds.
    return layers.compare_with_torch(input_shape, stack)


def explain_stack(error: ValueError) -> str:
    """A stack text's refusal in the session's language, naming the line the user typed."""
    if isinstance(error, stack_text.StackTextError):
        return ui.t(f"size.stack.error.{error.reason}", **error.values)
    values = dict(error.values)
    line, typed = values.pop("line"), values.pop("typed")
    text = explain(SizeError(error.reason, str(error), **values))
    return ui.t("size.stack.on_line", line=line, typed=typed, text=text)


def check_guess(number: int, answer: int) -> None:
    """Reveal button: score the typed guess once per question and remember the outcome."""
    guess = st.session_state.get("size.quiz.guess")
    if guess is None or st.session_state.get("size.quiz.outcome", (None,))[0] == number:
        return
    right = quiz.is_correct(guess, answer)
    score = st.session_state.get("size.quiz.score", (0, 0))
    st.session_state["size.quiz.score"] = (score[0] + right, score[1] + 1)
    st.session_state["size.quiz.outcome"] = (number, guess, right)


def next_question() -> None:
    st.session_state["size.question"] = st.session_state["size.question"] % QUESTIONS + 1
    st.session_state["size.quiz.guess"] = None


@st.fragment
def quiz_panel() -> None:
    """Predict, then reveal: a numbered random question, a typed guess, the answer with its formula."""
    with ui.panel("size.quiz"), st.container(border=True):
        heading, number_column = st.columns([5, 1], vertical_alignment="bottom")
        number = number_column.number_input(
            ui.t("size.quiz.number"), 1, QUESTIONS, 1, key="size.question", bind="query-params",
            help=ui.t("size.quiz.number_help"),
        )  # fmt: skip
        question = quiz.output_size_question(random.Random(number))
        n, k, s, p, d = question.size, question.kernel_size, question.stride, question.padding, question.dilation
        heading.markdown(
            f"**:material/quiz: {ui.t('size.quiz.title')}**  \n{ui.t('size.quiz.question', n=n, k=k, s=s, p=p, d=d)}"
        )
        guess_column, reveal_column, new_column, score_column = st.columns(
            [2, 1.3, 1.3, 1.4], vertical_alignment="bottom"
        )
        guess = guess_column.number_input(ui.t("size.quiz.guess"), 0, 1000, None, key="size.quiz.guess")
        outcome = st.session_state.get("size.quiz.outcome")
        revealed = outcome is not None and outcome[0] == number
        reveal_column.button(
            ui.t("size.quiz.reveal"), key="size.quiz.reveal", type="primary", disabled=guess is None or revealed,
            help=ui.t("size.quiz.type_first"), on_click=check_guess, args=(number, question.answer),
        )  # fmt: skip
        new_column.button(ui.t("size.quiz.new"), key="size.quiz.new", on_click=next_question, icon=":material/casino:")
        right, asked = st.session_state.get("size.quiz.score", (0, 0))
        score_column.metric(ui.t("size.quiz.score"), f"{right} / {asked}")
        if revealed:
            _, typed, correct = outcome
            if correct:
                st.success(ui.t("size.quiz.right", answer=question.answer), icon=":material/check_circle:")
            else:
                st.error(ui.t("size.quiz.wrong", guess=typed, answer=question.answer), icon=":material/cancel:")
            st.latex(arithmetic.conv_formula_latex(n, k, s, p, d))


st.title(ui.t("size.title"))
intro, quiz_switch = st.columns([4, 1], vertical_alignment="center")
intro.caption(ui.t("size.intro"))
if quiz_switch.toggle(
    ui.t("size.quiz.toggle"), key="size.quiz", bind="query-params", help=ui.t("size.quiz.toggle_help")
):
    quiz_panel()


@st.cache_data(max_entries=256, show_spinner=False)
def size_frames(values: tuple[int, ...], lang: str, output_padding: int) -> bytes:
    """The scrubbing view's frames around ``values`` (in ``SIZE_SLIDERS`` order) for the transposed
    convolution's ``output_padding``, packed."""
    settings = dict(zip(SIZE_SLIDERS, values, strict=True))
    return scrub_view.pack(output_size_view.size_frame_set(settings, lang, output_padding))


@st.fragment
def calculator() -> None:
    """The five sliders and everything computed from them; a release reruns only this.

    The sliders, the size, the formula and the windows are one scrubbing view
    (``pages/scrub_view.py``): while a slider is dragged the browser swaps the frames the
    engine drew for each of its values. PyTorch and TensorFlow's rules and the code are parts of
    those frames too, drawn in places (``scrub_view.place``), so they follow the pointer; the
    release stores the values in ``st.session_state["size.<name>"]`` and reruns this fragment for
    the URL and the buttons that fix an impossible setting. The transposed convolution is a place
    too; its output padding slider (outside the view) picks the frame set.
    """
    values = scrub_view.values_from_url("size", SIZE_SLIDERS)
    size, kernel, padding, stride, dilation = (values[name] for name in SIZE_SLIDERS)
    settings = (kernel, stride, padding, dilation)

    scrub_view.values_to_url("size", SIZE_SLIDERS, values)
    out = None
    with ui.panel("size.formula"):
        view_slot = scrub_view.reserve()  # the view is drawn last, after the panels below
        try:
            out = arithmetic.conv_output_size(size, *settings)
        except SizeError as error:
            offer_nearest(error)  # the view already says why; here, the buttons that fix it

    with ui.panel("size.frameworks"):  # parts of the view's frames (output_size_view.PLACES): they follow the drag
        scrub_view.place(VIEW, "frameworks")
        ui.view_code_panel(VIEW)

    with ui.panel("size.transposed"):  # a part of the view's frames too, drawn for this output padding
        ui.View().heading(ui.t("size.transposed.title")).draw()
        control, _ = st.columns([1, 3])
        output_padding = control.slider(
            ui.t("size.output_padding"), 0, OUTPUT_PADDING_MAX, 0, key="size.output_padding", bind="query-params"
        )
        scrub_view.place(VIEW, "transposed")
        if out is not None:
            try:
                arithmetic.transposed_output_size(out, kernel, stride, padding, output_padding, dilation)
            except SizeError as error:
                offer_nearest(error)  # the place says why; here, the button that fixes it

    with view_slot, ui.panel("size.formula"):
        packed = size_frames(tuple(values.values()), ui.lang(), output_padding)
        scrub_view.scrub_view(VIEW, "size", list(SIZE_SLIDERS), packed)


@st.fragment
def stack_tracer() -> None:
    """The preset picker and its table; reruns alone when another network is picked."""
    with ui.panel("size.stack"):
        trace_preset()


def preset_text(preset: str) -> str:
    return stack_text.stack_text(*arithmetic.LAYER_PRESETS[preset])


def load_preset() -> None:
    """Picking a network puts its text in the editor (replacing what was typed)."""
    st.session_state["size.stack_text"] = preset_text(st.session_state["size.preset"])


def trace_preset() -> None:
    st.subheader(ui.t("size.stack.title"))
    st.write(ui.t("size.stack.intro"))
    names = list(arithmetic.LAYER_PRESETS)
    preset = ui.url_choice(st.selectbox, ui.t("size.stack.preset"), names, names[0], "size.preset",
                           format_func=lambda name: ui.t(f"size.preset.{name}"), on_change=load_preset)  # fmt: skip
    if "size.stack_text" not in st.session_state:
        st.session_state["size.stack_text"] = preset_text(preset)
    text = st.text_area(
        ui.t("size.stack.edit"), key="size.stack_text", height=220, max_chars=4000, help=ui.t("size.stack.edit_help")
    )
    try:
        input_shape, stack, rows = stack_text.trace_stack(text)
    except (stack_text.StackTextError, SizeError) as error:
        st.warning(explain_stack(error), icon=":material/block:")
        return
    table = stack_table(input_shape, rows)
    st.table(table, hide_index=True)
    total = sum(row.params for row in rows)
    dense = sum(row.dense_params for row in rows)
    st.caption(ui.t("size.stack.total", total=f"{total:,}", dense=f"{dense:,}"))
    mismatches = torch_check(input_shape, tuple(stack))
    if not mismatches:
        st.success(ui.t("size.stack.verified", count=len(rows)), icon=":material/verified:")
    for miss in mismatches:
        st.error(ui.t("size.stack.mismatch", layer=miss.index, ours=miss.traced_shape, torch=miss.torch_shape,
                      our_params=miss.traced_params, torch_params=miss.torch_params))  # fmt: skip
    ui.code_panel(codegen.layer_stack(input_shape, list(stack)))


calculator()
stack_tracer()
