"""A student's network too big for the server is refused, with the number and the limit, before
any tensor is made. The page runs in a child process under an address-space limit: if a
regression tried to allocate the 14 GB weight matrix, the test fails instead of swapping."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from cnnviz import i18n
from tests.conftest import ROOT

DENSE = "flatten\ndense 60000\nrelu\ndense 60000\nrelu\ndense 10"
CONVS = "conv 512 k3 p1\nrelu\n" * 6 + "flatten\ndense 10"
ADDRESS_SPACE = 3 * 2**30  # the page under AppTest peaks near 2.1 GB of address space (measured)

CHILD = """
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
sys.path.insert(0, {root!r})
from cnnviz import netspec

def refuse(*args, **kwargs):
    raise AssertionError("build_network was called for a network over the limits")

netspec.build_network = refuse  # the page reaches it as netspec.build_network
from streamlit.testing.v1 import AppTest

at = AppTest.from_file({root!r} + "/pages/training.py", default_timeout=120)
at.session_state["lang"] = {lang!r}  # the page alone, in the session's language from the start
at.session_state["train.spec"] = {spec!r}  # as typed (one run: AppTest formats options outside the session)
at.run()
buttons = {{b.label: b.disabled for b in at.button}}
print(json.dumps({{
    "exception": [str(e.value) for e in at.exception],
    "warnings": [w.value for w in at.warning],
    "errors": [e.value for e in at.error],
    "buttons": buttons,
    "runs": len(at.session_state["train.runs"]),
}}))
"""


def refused(spec: str, lang: str) -> dict:
    code = CHILD.format(limit=ADDRESS_SPACE, root=str(ROOT), spec=spec, lang=lang)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    ("spec", "lang", "expected"),
    [
        (DENSE, "en", i18n.translate("train.limit.params", "en", value="3.65 billion", limit="5 million")),
        (DENSE, "zh", i18n.translate("train.limit.params", "zh", value="36.5 亿", limit="500 万")),
        # 6 convolutions of 512 channels and a dense layer on 512 x 28 x 28: 15.8 million parameters
        (CONVS, "en", i18n.translate("train.limit.params", "en", value="15.8 million", limit="5 million")),
    ],
)
def test_networks_too_big_for_the_server_are_refused_before_they_are_built(spec, lang, expected):
    shown = refused(spec, lang)
    assert not shown["exception"] and not shown["errors"]
    assert shown["warnings"] == [expected]
    start, compare_losses, compare_dropout = (
        i18n.translate(key, lang) for key in ("train.start", "train.compare_losses", "train.compare_dropout")
    )
    assert shown["buttons"][start] and shown["buttons"][compare_losses] and shown["buttons"][compare_dropout]
    assert shown["runs"] == 0
