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


@pytest.fixture
def page():
    return open_page
