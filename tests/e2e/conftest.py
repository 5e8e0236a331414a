"""Browser-test fixtures: one app server and one chromium for the whole session, a fresh tab per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from tests.e2e import harness


@pytest.fixture(scope="session")
def app_server() -> Iterator[harness.AppServer]:
    """``streamlit run app.py`` on a free loopback port, healthy; stopped after the session, also on failure."""
    with harness.serve("app.py") as server:
        yield server


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    """The one sync playwright of the session: a second one in the same thread cannot start while
    this one runs, so every test that needs its own browser launches it from this one."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's headless chromium, driven by playwright."""
    chromium = harness.launch_chromium(playwright)
    try:
        yield chromium
    finally:
        chromium.close()


@pytest.fixture(scope="session")
def browser_context(browser: Browser) -> Iterator[BrowserContext]:
    """One context for the session: pages share its HTTP cache (the app's JavaScript loads once)
    yet each page is its own Streamlit session, with its own widgets and upload."""
    context = harness.new_context(browser)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def tab(browser_context: BrowserContext) -> Iterator[Page]:
    """A new page: a new Streamlit session."""
    page = browser_context.new_page()
    try:
        yield page
    finally:
        page.close()
