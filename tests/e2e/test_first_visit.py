"""A room opening lesson links at once on a freshly started server.

Streamlit treats an app with a ``pages/`` folder as a legacy multipage app until app.py
calls ``st.navigation``, so the first runs on a fresh server may run a lesson alone;
``pages/ui.py`` leaves that mode. These tests make those first runs happen together:
each visitor is its own session, all sent before any answers, on a new server each time.
"""

from __future__ import annotations

import asyncio

from playwright.sync_api import Playwright

from bench.st_client import Session
from cnnviz.i18n import translate
from tests.e2e import harness
from tests.e2e.proxy import run_in_own_loop

#: Lesson URL path -> the key of the title the lesson shows.
LESSONS = {"convolution": "conv.title", "pooling": "pool.title", "feature_maps": "fmap.title"}
# The race is at first requests only, so each round starts a new server. Before the fix,
# 12 websocket sessions failed on 3 fresh servers of 4, and 6 browser tabs on 2 of 2.
CLIENTS, CLIENT_SERVERS = 12, 3  # websocket sessions (cheap: no browser) per server, servers
TABS = 6  # browser tabs, two of each lesson, each in its own context, on one fresh server


def _css_key(key: str) -> str:
    return f".st-key-{key.replace('.', '-')}"


async def _first_runs(url: str, lessons: list[str]) -> list[tuple[str, str, list[str]]]:
    """Open one session per lesson at once and run each page once: (lesson, status, errors shown)."""
    sessions = await asyncio.gather(*(Session.open(url) for _ in lessons))
    try:
        results = await asyncio.gather(
            *(session.goto(lesson) for session, lesson in zip(sessions, lessons, strict=True))
        )
    finally:
        await asyncio.gather(*(session.close() for session in sessions))
    return [(lesson, result.status, result.errors) for lesson, result in zip(lessons, results, strict=True)]


def test_sessions_opening_lessons_at_once_on_a_fresh_server_see_no_error():
    lessons = [list(LESSONS)[i % len(LESSONS)] for i in range(CLIENTS)]
    for _ in range(CLIENT_SERVERS):
        with harness.serve("app.py") as server:
            results = run_in_own_loop(_first_runs(server.url, lessons))
            failed = [result for result in results if result[1] != "FINISHED_SUCCESSFULLY" or result[2]]
            assert failed == [], f"{len(failed)} of {len(results)} first visits failed:\n{server.log_tail(30)}"


def test_a_room_opening_lesson_links_at_once_gets_each_lesson_in_the_apps_frame(playwright: Playwright):
    browser = harness.launch_chromium(playwright)
    try:
        with harness.serve("app.py") as server:
            contexts = [harness.new_context(browser) for _ in range(TABS)]  # a session each
            tabs = [context.new_page() for context in contexts]
            lessons = [list(LESSONS)[i % len(LESSONS)] for i in range(TABS)]
            for tab, lesson in zip(tabs, lessons, strict=True):  # no waiting between visits
                tab.goto(f"{server.url}/{lesson}", wait_until="commit", timeout=90_000)
            for tab, lesson in zip(tabs, lessons, strict=True):
                # A hang guard, not a speed check: six first runs of a fresh server (its imports, the
                # networks' first load) share the machine with the other test process.
                harness.wait_until_idle(tab, 0, timeout=180)
                assert harness.error_texts(tab) == [], f"/{lesson}: {harness.error_texts(tab)}"
                title = tab.locator(f"{harness.MAIN} h1").first.inner_text().strip()
                assert title == translate(LESSONS[lesson], "en"), f"/{lesson} shows {title!r}"
                assert tab.locator(f"{harness.SIDEBAR} {_css_key('lang')}").count() == 1, f"/{lesson}: no switch"
                assert tab.locator(f"{harness.SIDEBAR} {_css_key('upload')}").count() == 1, f"/{lesson}: no picker"
    finally:
        browser.close()
