"""A link's settings that the page cannot use are named in the notice (issue 14): a typed kernel
whose size does not match its values used to become a 7 x 7 identity without a word."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.test_language_switch import BrowserModel, browser, run  # noqa: F401  (browser is a fixture)
from tests.conftest import ROOT


def open_link(model: BrowserModel, script: str, **query: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params.update(query)
    return run(at.switch_page(script), model)


def test_a_kernel_link_whose_size_does_not_match_is_named(browser):  # noqa: F811
    kernel = "1,0,0;0,1,0;0,0,1"
    at = open_link(browser, "pages/convolution.py", **{"conv.source": "custom", "conv.size": "7", "conv.kernel": kernel})
    assert at.slider(key="conv.size").value == 7
    assert at.query_params["conv.kernel"] != kernel  # the editor started from a 7 x 7 identity
    toasts = [toast.value for toast in at.toast]
    assert len(toasts) == 1 and f"conv.kernel={kernel}" in toasts[0]


@pytest.mark.parametrize(
    "query",
    [
        {"conv.source": "custom", "conv.size": "3", "conv.kernel": "1,0,0;0,1,0;0,0,1"},
        {"conv.preset": "emboss", "conv.channel_mode": "sum", "conv.padding": "2"},
    ],
)
def test_a_link_that_applies_draws_no_notice(browser, query):  # noqa: F811
    at = open_link(browser, "pages/convolution.py", **query)
    assert [toast.value for toast in at.toast] == []
