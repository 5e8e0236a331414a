"""Weight files carry code when they are pickles: a user's ``.pth`` is read only through
``cnnviz.models.weights.read_state_dict`` (``torch.load(weights_only=True)``), which must refuse
a file whose unpickling would run something, without running it (issue 7).

Each payload here writes a marker file when unpickled. A guard test first shows that
unpickling the same bytes the ordinary way does run it, so a missing marker after our
loader means the loader refused the code, not that the payload was a dud.
"""

from __future__ import annotations

import ast
import io
import pickle
from pathlib import Path

import pytest
import torch

from cnnviz.models import weights
from cnnviz.models.weights import WeightsError
from tests.conftest import ROOT


class WritesAFile:
    """Unpickling this calls ``Path.write_text(marker, ...)``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "the payload ran"))


class RunsPython:
    """Unpickling this calls the builtin ``exec`` on a line of Python."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').write('the payload ran')",))


def layouts(payload: object) -> dict[str, object]:
    """Where a payload can hide in what looks like a state_dict."""
    tensor = torch.zeros(2, 3)
    return {
        "a value": {"conv1.weight": tensor, "fc.bias": payload},
        "the whole file": payload,
        "a checkpoint's state_dict": {"epoch": 3, "state_dict": {"conv1.weight": tensor, "fc.weight": payload}},
        "a list": {"conv1.weight": tensor, "extra": [1, 2, payload]},
    }


def written(content: object, writer: str) -> bytes:
    buffer = io.BytesIO()
    if writer == "torch.save":
        torch.save(content, buffer)
    elif writer == "torch.save (legacy format)":
        torch.save(content, buffer, _use_new_zipfile_serialization=False)
    else:
        pickle.dump(content, buffer, protocol=int(writer.rsplit(" ", 1)[1]))
    return buffer.getvalue()


WRITERS = ["torch.save", "torch.save (legacy format)", "pickle protocol 2", "pickle protocol 5"]
PAYLOADS = {"Path.write_text": WritesAFile, "exec": RunsPython}


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("layout", list(layouts(None)))
@pytest.mark.parametrize("writer", WRITERS)
def test_a_weight_file_carrying_code_is_refused_and_the_code_never_runs(tmp_path, writer, layout, payload):
    marker = tmp_path / "marker.txt"
    data = written(layouts(PAYLOADS[payload](marker))[layout], writer)
    path = tmp_path / "resnet18-evil.pth"
    path.write_bytes(data)
    for source in (data, path):  # an upload's bytes, a file found on disk
        with pytest.raises(WeightsError) as refused:
            weights.read_state_dict(source)
        assert "refused without being run" in str(refused.value)
    assert not marker.exists(), "the payload ran"


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("writer", WRITERS)
def test_the_payloads_are_live(tmp_path, writer, payload):
    # Guards the test above: loaded without weights_only, the same bytes do run the payload.
    marker = tmp_path / "marker.txt"
    data = written(layouts(PAYLOADS[payload](marker))["a value"], writer)
    if writer.startswith("torch.save"):
        torch.load(io.BytesIO(data), weights_only=False)
    else:
        pickle.loads(data)
    assert marker.read_text() == "the payload ran"


def test_a_plain_state_dict_still_loads():
    state = {"conv1.weight": torch.arange(6.0).reshape(2, 3), "fc.bias": torch.ones(2)}
    for writer in ("torch.save", "torch.save (legacy format)"):
        loaded = weights.read_state_dict(written(state, writer))
        assert loaded.keys() == state.keys() and all(torch.equal(loaded[k], state[k]) for k in state)


def test_no_module_widens_what_weights_only_accepts():
    """``torch.serialization.add_safe_globals`` would let listed classes through ``weights_only``:
    only torch's own may be there."""
    import cnnviz.models  # noqa: F401  (everything the app loads weights with)

    added = [
        item
        for item in torch.serialization.get_safe_globals()
        if not getattr(item, "__module__", "").startswith("torch.")
    ]
    assert added == []


def torch_load_calls() -> list[tuple[str, ast.Call]]:
    calls = []
    for path in sorted([ROOT / "app.py", *(ROOT / "cnnviz").rglob("*.py"), *(ROOT / "pages").glob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Call) and ast.unparse(node.func) in ("torch.load", "pickle.load", "pickle.loads"):
                calls.append((str(path.relative_to(ROOT)), node))
    return calls


def test_every_torch_load_in_the_app_is_weights_only():
    calls = torch_load_calls()
    assert calls, "the scan found no torch.load at all: it is not looking in the right place"
    for where, call in calls:
        options = {keyword.arg: keyword.value for keyword in call.keywords}
        assert ast.unparse(call.func) == "torch.load", f"{where} unpickles with {ast.unparse(call.func)}"
        assert "weights_only" in options and ast.literal_eval(options["weights_only"]) is True, where
