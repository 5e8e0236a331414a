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
