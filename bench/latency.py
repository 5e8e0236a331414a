"""Interaction latency in chromium: from the slider key press to the updated page, per page.

Each measured change presses an arrow key on the page's main slider (sweeping it from
end to end and back) and times, inside the page, from the ``keydown`` event to the
moment the page has settled: the rerun has finished, the status widget is gone, every
changed image has loaded, and nothing in the DOM has changed for ``--quiet-ms``
(the settle time is the last DOM change / image load, not the end of the quiet wait).

The reference is the same measurement on ``bench/bare_app.py`` (one slider, one line of
text: the floor of Streamlit itself), measured in the same run, interleaved with the
pages change by change so background load hits every page alike.

Run: ``python -m bench.latency [--changes 30] [--pages convolution pooling]``
"""

from __future__ import annotations

import argparse
import io
import sys
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from bench import common
from tests.e2e import harness
from tests.e2e.pages_under_test import FIRST_SLIDER, PAGES, SLIDER_THUMB, Control, control_locator

BARE_APP = "bench/bare_app.py"
#: p95 goals as a multiple of the floor's p95 (project issue 6). Pages not named here are
#: light (numbers and small grids) and are held to the arithmetic goal.
GOALS = {"output_size": 1.5, "activations": 1.5, "pooling": 1.5, "convolution+1024": 2.0, "feature_maps": 2.0}
DEFAULT_GOAL = 1.5
PHOTO_SIDE = 1024

ARM_JS = "() => { const probe = window.__stProbe; probe.armed = probe.runs; probe.keydownAt = 0; }"
SETTLED_JS = f"""
([quietMs, timeoutMs]) => new Promise((resolve) => {{
  const probe = window.__stProbe;
  const idle = {harness.IDLE_JS};
  const started = performance.now();
  const tick = () => {{
    const now = performance.now();
    if (now - started > timeoutMs) return resolve(null);
    if (probe.keydownAt && probe.runs > probe.armed && idle()) {{
      const settled = Math.max(probe.finishedAt, probe.lastMutation, probe.lastImageLoad);
      if (now - settled >= quietMs) {{
        return resolve({{settled: settled - probe.keydownAt, finished: probe.finishedAt - probe.keydownAt,
                         runs: probe.runs - probe.armed}});
      }}
    }}
    setTimeout(tick, 5);
  }};
  tick();
}})
"""


@dataclass
class Case:
    """One page to measure, and how."""

    name: str
    url_path: str
    control: Control
    on_bare_app: bool = False
    upload: bytes | None = None
    page: Page | None = None
    settled: list[float] = field(default_factory=list)
    finished: list[float] = field(default_factory=list)
    failures: int = 0
    going_left: bool = False  # the sweep's direction

    @property
    def goal(self) -> float | None:
        return None if self.on_bare_app else GOALS.get(self.name, DEFAULT_GOAL)


def photo_1024() -> bytes:
    """A 1024 x 1024 JPEG photo: the largest working size a user's upload is computed at."""
    sample = Image.open(harness.ROOT / "assets" / "samples" / "astronaut.jpg").convert("RGB")
    buffer = io.BytesIO()
    sample.resize((PHOTO_SIDE, PHOTO_SIDE), Image.Resampling.LANCZOS).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def cases_for(selected: list[str] | None) -> list[Case]:
    cases = [Case("bare (floor)", "", FIRST_SLIDER, on_bare_app=True)]
    for app_page in PAGES:
        if app_page.control is None or (selected and app_page.slug not in selected):
            continue
        control = app_page.control if app_page.control.kind == "slider" else FIRST_SLIDER
        cases.append(Case(app_page.slug, app_page.url_path, control))
        if app_page.slug == "convolution":
            cases.append(Case("convolution+1024", app_page.url_path, control, upload=photo_1024()))
    return cases


def open_case(context: BrowserContext, base_url: str, case: Case) -> None:
    case.page = context.new_page()
    harness.open_app(case.page, f"{base_url}/{case.url_path}")
    if case.upload is not None:
        with harness.rerun(case.page, timeout=120):
            case.page.set_input_files(
                harness.UPLOAD_INPUT, files=[{"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": case.upload}]
            )
        if harness.error_texts(case.page):
            raise RuntimeError(f"{case.name}: the upload was refused: {harness.error_texts(case.page)}")


def press(case: Case, quiet_ms: float, timeout_ms: float) -> dict | None:
    """One change of the slider, timed in the page; None when the page did not settle in time."""
    page = case.page
    page.bring_to_front()
    thumb = control_locator(page, case.control).locator(SLIDER_THUMB).first
    value, low, high = thumb.evaluate("(input) => [Number(input.value), Number(input.min), Number(input.max)]")
    # Sweep end to end: right until the maximum, then left until the minimum.
    if value >= high:
        case.going_left = True
    elif value <= low:
        case.going_left = False
    page.evaluate(ARM_JS)
    thumb.press("ArrowLeft" if case.going_left else "ArrowRight")
    return page.evaluate(SETTLED_JS, [quiet_ms, timeout_ms])


def measure(
    browser: Browser, bare_url: str, app_url: str, cases: list[Case], changes: int, warmup: int, quiet_ms: float
):
    bare_context, app_context = harness.new_context(browser), harness.new_context(browser)
    try:
        for case in cases:
            open_case(
                bare_context if case.on_bare_app else app_context, bare_url if case.on_bare_app else app_url, case
            )
            print(f"  opened {case.name}", file=sys.stderr)
        for round_index in range(warmup + changes):
            for case in cases:
                sample = press(case, quiet_ms, timeout_ms=60_000)
                if round_index < warmup:
                    continue
                if sample is None:
                    case.failures += 1
                else:
                    case.settled.append(sample["settled"])
                    case.finished.append(sample["finished"])
            if round_index >= warmup and (round_index - warmup + 1) % 10 == 0:
                print(f"  {round_index - warmup + 1}/{changes} changes", file=sys.stderr)
    finally:
        bare_context.close()
        app_context.close()


def report(cases: list[Case]) -> list[dict]:
    floor = common.summary(cases[0].settled)
    rows, results = [], []
    for case in cases:
        settled, finished = common.summary(case.settled), common.summary(case.finished)
        ratio = settled["p95"] / floor["p95"]
        # The floor's p95 swings between runs (40-90 ms) far more than its median: the median ratio
        # is printed beside the goal's p95 ratio to tell a real change from a noisy floor.
        median_ratio = settled["median"] / floor["median"]
        results.append(
            {"page": case.name, "settled_ms": settled, "run_finished_ms": finished, "p95_ratio": ratio,
             "median_ratio": median_ratio, "goal": case.goal, "failures": case.failures}
        )  # fmt: skip
        rows.append(
            [case.name, settled["n"], settled["median"], settled["p95"], median_ratio, ratio, case.goal or "-",
             common.verdict(ratio, case.goal), finished["median"], case.failures]
        )  # fmt: skip
    headers = ["page", "n", "median ms", "p95 ms", "median / floor", "p95 / floor", "goal", "",
               "run done ms (median)", "timeouts"]  # fmt: skip
    print(common.table(headers, rows))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=30, help="measured changes per page (>= 30 for a p95)")
    parser.add_argument("--warmup", type=int, default=2, help="changes per page before measuring")
    parser.add_argument("--quiet-ms", type=float, default=250.0, help="how long the DOM must stay still")
    parser.add_argument("--pages", nargs="*", help="lesson slugs to measure (default: all with a slider)")
    args = parser.parse_args(argv)
    cases = cases_for(args.pages)
    print(f"latency: {len(cases)} pages x {args.changes} changes; {common.machine_line()}", file=sys.stderr)
    with (
        harness.serve(BARE_APP) as bare,
        harness.serve("app.py") as app,
        sync_playwright() as playwright,
    ):
        browser = harness.launch_chromium(playwright)
        try:
            measure(browser, bare.url, app.url, cases, args.changes, args.warmup, args.quiet_ms)
        finally:
            browser.close()
    print(f"\nInteraction latency, key press to settled page ({common.machine_line()})")
    results = report(cases)
    path = common.record("latency", results)
    print(f"\n(recorded in {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path})")
    return 1 if any(case.failures for case in cases) else 0


if __name__ == "__main__":
    sys.exit(main())
