"""Cold start: from ``streamlit run`` to the first painted page in chromium, cnnviz vs a bare app.

Each start spawns the server, polls ``/_stcore/health``, opens the page in a fresh
browser context (empty cache) and stops the clock when the first element of the main
area is visible (the first meaningful paint a user sees); it also records when the
first run is complete and idle. Chromium itself is launched once, before any clock.
Starts alternate between the bare app (``bench/bare_app.py``) and cnnviz, so
background load hits both alike. Every start after the first finds Python's files in
the OS page cache, as a restarted classroom server would. Goal: <= 1.5x the bare app.

Run: ``python -m bench.cold_start [--repeats 5] [--path convolution]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from playwright.sync_api import Browser, sync_playwright

from bench import common
from tests.e2e import harness

GOAL = 1.5
FIRST_ELEMENT = f'{harness.MAIN} [data-testid="stElementContainer"]'


def cold_start(browser: Browser, script: str, path: str) -> dict[str, float]:
    """Seconds from spawning ``streamlit run`` to: healthy, first element visible, first run idle."""
    server = harness.start_server(script)
    context = harness.new_context(browser)
    try:
        server.wait_until_healthy(timeout=180)
        healthy = time.perf_counter() - server.started_at
        page = context.new_page()
        page.goto(f"{server.url}/{path}", wait_until="commit", timeout=180_000)
        page.locator(FIRST_ELEMENT).first.wait_for(state="visible", timeout=180_000)
        painted = time.perf_counter() - server.started_at
        harness.wait_until_idle(page, 0, timeout=180, settle=0)
        idle = time.perf_counter() - server.started_at
        errors = harness.error_texts(page)
        if errors:
            raise RuntimeError(f"{script} /{path} shows errors: {errors}")
        return {"healthy": healthy, "painted": painted, "idle": idle}
    finally:
        context.close()
        server.stop()
        server.log_path.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--path", default="", help="cnnviz page to open (default: home)")
    args = parser.parse_args(argv)
    starts: dict[str, list[dict[str, float]]] = {"bare": [], "cnnviz": []}
    with sync_playwright() as playwright:
        browser = harness.launch_chromium(playwright)
        try:
            for repeat in range(args.repeats):
                starts["bare"].append(cold_start(browser, "bench/bare_app.py", ""))
                starts["cnnviz"].append(cold_start(browser, "app.py", args.path))
                print(f"  start {repeat + 1}/{args.repeats}", file=sys.stderr)
        finally:
            browser.close()

    def median(name: str, moment: str) -> float:
        return statistics.median(start[moment] for start in starts[name])

    rows, results = [], {}
    for moment, label in (
        ("healthy", "server healthy"),
        ("painted", "first element painted"),
        ("idle", "first run idle"),
    ):
        bare, cnnviz = median("bare", moment), median("cnnviz", moment)
        goal = GOAL if moment == "painted" else None
        rows.append([label, bare, cnnviz, cnnviz / bare, goal or "-", common.verdict(cnnviz / bare, goal)])
        results[moment] = {"bare_s": bare, "cnnviz_s": cnnviz, "ratio": cnnviz / bare}
    print(f"Cold start, seconds from spawn, median of {args.repeats} ({common.machine_line()}); page /{args.path}")
    print(common.table(["moment", "bare app s", "cnnviz s", "ratio", "goal", ""], rows))
    common.record("cold_start", {"path": args.path, "medians": results, "starts": starts})
    return 0


if __name__ == "__main__":
    sys.exit(main())
