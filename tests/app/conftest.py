"""AppTest helpers: every page is driven through app.py, as a user reaches it."""

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT


def open_page(script: str | None = None, **query: str) -> AppTest:
    """Run app.py, switched to ``script`` (e.g. "pages/convolution.py"), with URL query params.

    Note: once switched, AppTest runs the page script alone (app.py's frame, the
    sidebar picker and language switch, runs only on a first run without a page).
    Pages therefore render with defaults: ``ui.current_image()`` falls back to the
    default sample, ``ui.lang()`` to ``at.session_state["lang"]`` or ``?lang=``.
    """
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for key, value in query.items():
        at.query_params[key] = value
    if script:
        at.switch_page(script)
    return at.run()


def change(at: AppTest, kind: str, key: str, value) -> AppTest:
    """Set the widget of ``kind`` (e.g. "slider") with ``key`` to ``value``, rerun, and check no exception."""
    getattr(at, kind)(key=key).set_value(value)
    at.run()
    assert not at.exception
    return at


@pytest.fixture
def page():
    return open_page


@pytest.fixture(scope="module")
def trained_run():
    """A LeNet-5 trained for one epoch on 64 digits, as the Training page leaves it in the session."""
    from cnnviz import datasets, netspec, training

    data = datasets.digits().subset(64, heldout=32)
    layers = netspec.parse_spec(netspec.PRESET_SPECS["LeNet-5 (digits)"])
    network = netspec.build_network(data.input_shape, layers, 10, seed=0)
    run = training.TrainingRun("#1 mine", network, data, training.TrainSettings(epochs=1, batch_size=32))
    while not run.done:
        run.advance(5)
    return run
