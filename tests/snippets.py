"""Run a PyTorch snippet the app shows, as a user pasting it into Python would."""

import contextlib
import io
import re


def run_snippet(code: str) -> str:
    """Execute ``code`` in a fresh namespace and return what it printed (stripped)."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, "<snippet>", "exec"), {})
    return printed.getvalue().strip()


def printed_shape(code: str) -> tuple[int, ...]:
    """Run the snippet and parse the ``torch.Size([...])`` it prints."""
    printed = run_snippet(code)
    match = re.fullmatch(r"torch\.Size\(\[([\d, ]*)\]\)", printed)
    assert match, f"the snippet printed {printed!r}, not a shape"
    return tuple(int(n) for n in match.group(1).split(","))


def printed_layer_shapes(code: str, skip: str = "ReLU") -> list[tuple[int, ...]]:
    """Run a layer-stack snippet; the shape it printed after each module, activations left out."""
    rows = [line.split(None, 1) for line in run_snippet(code).splitlines()]
    return [tuple(int(n) for n in shape.strip("()").split(",") if n.strip()) for name, shape in rows if name != skip]


def promised_layer_shapes(code: str) -> list[tuple[int, ...]]:
    """The shapes a layer-stack snippet's comments promise, e.g. ``# -> (1, 6, 28, 28)``."""
    return [tuple(int(n) for n in found.split(",") if n.strip()) for found in re.findall(r"# -> \(([\d, ]+)\)", code)]
