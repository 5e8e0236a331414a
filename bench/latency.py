"""Interaction latency in chromium: from the slider key press to the updated page, per page.

Each measured change presses an arrow key on the page's main slider (sweeping it from
end to end and back) and times, inside the page, from the ``keydown`` event to two moments:

- **content painted** (the goal's measure): the last change of the page's content and URL:
  every DOM change outside a scrubbing view's own element, except the marks Streamlit puts on
  every element while a run is under way (``data-stale``, the run state, the classes of stale
  blocks) and its header, status widget and sidebar; and the URL's last write.
- **settled**: the rerun has finished, every changed image has loaded, and nothing in the DOM
  has changed for ``--quiet-ms`` (the last DOM change / image load / URL change, not the end
  of the quiet wait). For a scrubbing view this includes its new frame set.

A lesson with a scrubbing view (``RELEASES``) is measured on the view's own slider: the
key press moves the view at once and is a release (``scrub_view.js`` sends the values
back), so what is timed is the page's dependent panels catching up; the view's new frame set
(the frames of its *other* sliders around the released value: nothing on screen changes when
it arrives) is timed apart ("frame set arrived"). Each change is checked: the URL holds the
new value (or drops it at the default) and the code panel shows other code ("URL/code
missed" counts the changes where either did not happen); each is also marked as the first
visit of that value or a revisit (the server's caches).

The reference is the same measurement on ``bench/bare_app.py`` (one slider, one line of
text: the floor of Streamlit itself), measured in the same run, interleaved with the
pages change by change so background load hits every page alike. ``--before DIR`` also
serves another checkout's app.py and measures each page there too, interleaved: a
before/after in one run.

Run: ``python -m bench.latency [--changes 30] [--pages convolution pooling]``; a scrubbing view's
other slider: ``--pages conv_steps:position``; the five scrubbing lessons: ``--pages scrub``;
before/after: ``git archive main | tar -x -C /tmp/main && python -m bench.latency --pages scrub
--before /tmp/main`` (link a virtualenv into it).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from bench import common
from tests.e2e import harness
from tests.e2e.pages_under_test import FIRST_SLIDER, PAGES, SLIDER_THUMB, Control, control_locator
from tests.e2e.scrub_driver import LESSONS, view_selector

BARE_APP = "bench/bare_app.py"
#: p95 goals as a multiple of the floor's p95 (project issue 6). Pages not named here are
#: light (numbers and small grids) and are held to the arithmetic goal.
GOALS = {"output_size": 1.5, "activations": 1.5, "pooling": 1.5, "convolution+1024": 2.0, "feature_maps": 2.0}
DEFAULT_GOAL = 1.5
PHOTO_SIDE = 1024


@dataclass(frozen=True)
class Release:
    """A scrubbing view's slider whose release is measured: the lesson (``scrub_driver.LESSONS``,
    which says where it opens and the view's key), the slider, the URL key its release writes
    (``prefix.name``; the URL holds the setting, the slider setting x ``scale``), and whether the
    release must change the code panel."""

    lesson: str
    slider: str
    url_key: str
    scale: int = 1
    code: bool = True


#: Each scrubbing lesson's release: the slider a student moves first (a new geometry, so a new
#: frame set and new code), and a few others by ``lesson:slider``.
RELEASES: dict[str, Release] = {
    "output_size": Release("output_size", "input", "size.input"),
    "conv_steps": Release("conv_steps", "size", "steps.size"),
    "conv_steps:position": Release("conv_steps", "position", "steps.position", code=False),  # the im2col panel
    "pooling": Release("pooling", "grid.size", "pool.grid.size"),
    "pooling:kernel": Release("pooling", "kernel", "pool.kernel"),  # the image section follows too
    "activations": Release("activations", "leaky_relu.slope", "act.leaky_relu.slope"),
    "activations:low": Release("activations", "low", "act.low", code=False),  # the tables follow
    "losses": Release("losses", "logit0", "loss.logit0", scale=10),
    "losses_sigmoid": Release("losses_sigmoid", "z", "loss.z", code=False),  # no code panel
}
#: ``--pages scrub``: the five lessons of issue 17's release goal.
SCRUB_LESSONS = ("output_size", "conv_steps", "pooling", "activations", "losses")

ARM_JS = """() => { const probe = window.__stProbe; probe.armed = probe.runs; probe.keydownAt = 0; probe.urlAt = 0;
  probe.panelsAt = 0; probe.framesAt = 0; }"""
#: What a release changes, apart from the view: when Streamlit last wrote the URL (it calls
#: history.pushState / replaceState on a query change), when the page's content outside the
#: view last changed (``panelsAt``: not the view's own element, and not Streamlit's run-state
#: marks, the stale flags and classes it sets on every element of a rerun), and when the view
#: got its new frame set (``framesAt``: its data-base).
PANELS_PROBE_JS = """
(viewSelector) => {
  const probe = window.__stProbe;
  if (probe.panelsHooked) return;
  probe.panelsHooked = true;
  probe.urlAt = probe.panelsAt = probe.framesAt = 0;
  for (const name of ['pushState', 'replaceState']) {
    const original = history[name].bind(history);
    history[name] = (...args) => { probe.urlAt = performance.now(); return original(...args); };
  }
  const app = document.querySelector('[data-testid="stApp"]');
  const view = viewSelector ? document.querySelector(viewSelector) : null;
  const viewBox = view ? view.closest('[data-testid="stElementContainer"]') || view : null;
  const chrome = '[data-testid="stHeader"], [data-testid="stStatusWidget"], [data-testid="stToolbar"], '
    + '[data-testid="stDecoration"], [data-testid="stSidebar"]';
  const content = '[data-testid="stMarkdownContainer"], [data-testid="stCode"], svg, table, '
    + '[data-testid="stMetric"], [data-testid="stDataFrame"], [data-testid="stTable"], img';
  const marks = new Set(['data-stale', 'data-test-script-state', 'data-test-connection-state']);
  new MutationObserver((records) => {
    const now = performance.now();
    for (const record of records) {
      const target = record.target.nodeType === 1 ? record.target : record.target.parentElement;
      if (!target) continue;
      if (viewBox && viewBox.contains(target)) {
        if (record.attributeName === 'data-base') probe.framesAt = now;
        continue;
      }
      if (target.closest(chrome)) continue;
      if (record.type === 'attributes' && (marks.has(record.attributeName)
          || (record.attributeName === 'class' && !target.closest(content)))) continue;
      probe.panelsAt = now;
    }
  }).observe(app, { subtree: true, childList: true, characterData: true, attributes: true });
}
"""
#: The page's code panels' text (rendered inside a collapsed expander too): st.code, or a code block a
#: scrubbing view draws in a place (cnnviz/drawing/markup.py: code_html), which follows the key press itself.
CODE_JS = """() => [...document.querySelectorAll(
    '[data-testid="stMain"] [data-testid="stCode"], [data-testid="stMain"] .cnnviz-code code')]
  .map((code) => code.textContent).join('\\n')"""
SETTLED_JS = f"""
([quietMs, timeoutMs]) => new Promise((resolve) => {{
  const probe = window.__stProbe;
  const idle = {harness.IDLE_JS};
  const started = performance.now();
  const tick = () => {{
    const now = performance.now();
    if (now - started > timeoutMs) return resolve(null);
    if (probe.keydownAt && probe.runs > probe.armed && idle()) {{
      const settled = Math.max(probe.finishedAt, probe.lastMutation, probe.lastImageLoad, probe.urlAt || 0);
      if (now - settled >= quietMs) {{
        return resolve({{settled: settled - probe.keydownAt, finished: probe.finishedAt - probe.keydownAt,
                         runs: probe.runs - probe.armed,
                         panels: Math.max(probe.panelsAt, probe.urlAt) - probe.keydownAt,
                         frames: probe.framesAt ? probe.framesAt - probe.keydownAt : null}});
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
    before: bool = False  # on the server of another checkout (``--before``), for a before/after in one run
    upload: bytes | None = None
    release: Release | None = None  # a scrubbing view's slider, checked for its URL and code
    page: Page | None = None
    settled: list[float] = field(default_factory=list)
    panels: list[float] = field(default_factory=list)  # key press to the dependent panels and URL painted
    frames: list[float] = field(default_factory=list)  # key press to the view's new frame set
    finished: list[float] = field(default_factory=list)
    first_visit: list[bool] = field(default_factory=list)  # per change: a value not pressed to before
    received: list[int] = field(default_factory=list)  # websocket bytes per change
    failures: int = 0
    wrong: int = 0  # changes after which the URL or the code panel did not follow
    going_left: bool = False  # the sweep's direction
    visited: set = field(default_factory=set)
    counter: dict = field(default_factory=lambda: {"bytes": 0})

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
    """The floor first, then each page (a scrubbing lesson by its ``RELEASES`` entries)."""
    selected = [name for name in selected or [] for name in (SCRUB_LESSONS if name == "scrub" else [name])]
    cases = [Case("bare (floor)", "", FIRST_SLIDER, on_bare_app=True)]
    for app_page in PAGES:
        if app_page.control is None or (selected and app_page.slug not in selected):
            continue
        if app_page.slug in RELEASES:
            continue  # below, with the other releases
        control = app_page.control if app_page.control.kind == "slider" else FIRST_SLIDER
        cases.append(Case(app_page.slug, app_page.url_path, control))
        if app_page.slug == "convolution":
            cases.append(Case("convolution+1024", app_page.url_path, control, upload=photo_1024()))
    for name, release in RELEASES.items():
        if (selected and name not in selected) or (not selected and ":" in name):
            continue
        lesson = LESSONS[release.lesson]
        control = Control(f'{view_selector(lesson.key)} input[name="{release.slider}"]')
        label = name if ":" in name else f"{name}:{release.slider}"
        cases.append(Case(label, lesson.path.lstrip("/"), control, release=release))
    return cases


def open_case(context: BrowserContext, base_url: str, case: Case) -> None:
    case.page = context.new_page()
    case.page.on("websocket", lambda socket: socket.on("framereceived", lambda payload: count(case, payload)))
    harness.open_app(case.page, f"{base_url}/{case.url_path}")
    view = view_selector(LESSONS[case.release.lesson].key) if case.release else None
    case.page.evaluate(PANELS_PROBE_JS, view)
    if case.release is not None:
        case.page.locator(case.control.selector).first.wait_for()
    if case.upload is not None:
        with harness.rerun(case.page, timeout=120):
            case.page.set_input_files(
                harness.UPLOAD_INPUT, files=[{"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": case.upload}]
            )
        if harness.error_texts(case.page):
            raise RuntimeError(f"{case.name}: the upload was refused: {harness.error_texts(case.page)}")


def count(case: Case, payload: str | bytes) -> None:
    case.counter["bytes"] += len(payload)


def thumb_of(case: Case):
    if case.release is not None:  # the scrubbing view's own <input type=range>
        return case.page.locator(case.control.selector).first
    return control_locator(case.page, case.control).locator(SLIDER_THUMB).first


def press(case: Case, quiet_ms: float, timeout_ms: float) -> dict | None:
    """One change of the slider, timed in the page; None when the page did not settle in time.
    A scrubbing view's change also says whether the URL and the code panel followed (``followed``)."""
    page = case.page
    page.bring_to_front()
    thumb = thumb_of(case)
    value, low, high = thumb.evaluate("(input) => [Number(input.value), Number(input.min), Number(input.max)]")
    # Sweep end to end: right until the maximum, then left until the minimum.
    if value >= high:
        case.going_left = True
    elif value <= low:
        case.going_left = False
    code_before, url_before = page.evaluate(CODE_JS), page.evaluate("() => location.search")
    before = case.counter["bytes"]
    page.evaluate(ARM_JS)
    thumb.press("ArrowLeft" if case.going_left else "ArrowRight")
    sample = page.evaluate(SETTLED_JS, [quiet_ms, timeout_ms])
    if sample is None:
        return None
    sample["bytes"] = case.counter["bytes"] - before
    if case.release is not None:
        now = thumb.evaluate("(input) => input.valueAsNumber")
        sample["first_visit"] = now not in case.visited
        case.visited.add(now)
        sample["followed"] = followed(case, now, url_before, code_before)
    return sample


def followed(case: Case, value: float, url_before: str, code_before: str) -> bool:
    """Whether the release reached the URL (its key holds ``value``, or is dropped at the default)
    and, where the lesson's code depends on the slider, the code panel."""
    page, release = case.page, case.release
    search = page.evaluate("() => location.search")
    in_url = page.evaluate("(key) => new URL(location.href).searchParams.get(key)", release.url_key)
    url_ok = search != url_before and (in_url is None or abs(float(in_url) * release.scale - value) < 1e-6)
    return url_ok and (not release.code or page.evaluate(CODE_JS) != code_before)


def with_before(cases: list[Case]) -> list[Case]:
    """Each page twice, interleaved: on this checkout's server and on the ``--before`` one's."""
    twins = [cases[0]]
    for case in cases[1:]:
        twins += [case, Case(f"{case.name} (before)", case.url_path, case.control, before=True, upload=case.upload,
                             release=case.release)]  # fmt: skip
    return twins


def measure(browser: Browser, urls: dict[str, str], cases: list[Case], changes: int, warmup: int, quiet_ms: float):
    contexts = {server: harness.new_context(browser) for server in urls}
    try:
        for case in cases:
            server = "bare" if case.on_bare_app else "before" if case.before else "app"
            open_case(contexts[server], urls[server], case)
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
                    case.panels.append(sample["panels"])
                    if sample["frames"] is not None:
                        case.frames.append(sample["frames"])
                    case.finished.append(sample["finished"])
                    case.received.append(sample["bytes"])
                    case.first_visit.append(sample.get("first_visit", False))
                    case.wrong += not sample.get("followed", True)
            if round_index >= warmup and (round_index - warmup + 1) % 10 == 0:
                print(f"  {round_index - warmup + 1}/{changes} changes", file=sys.stderr)
    finally:
        for context in contexts.values():
            context.close()


def report(cases: list[Case]) -> list[dict]:
    """Two tables: the goal's (key press to the page's content and URL painted, ``panels``), and
    key press to the page settled (a scrubbing view's new frame set for its other sliders included)."""
    floor, floor_settled = common.summary(cases[0].panels), common.summary(cases[0].settled)
    goal_rows, settled_rows, results = [], [], []
    for case in cases:
        panels, settled = common.summary(case.panels), common.summary(case.settled)
        finished, frames = common.summary(case.finished), common.summary(case.frames)
        ratio = panels["p95"] / floor["p95"]
        # The floor's p95 swings between runs (40-90 ms) far more than its median: the median ratio
        # is printed beside the goal's p95 ratio to tell a real change from a noisy floor.
        median_ratio = panels["median"] / floor["median"]
        first = common.summary([ms for ms, new in zip(case.panels, case.first_visit, strict=True) if new])
        again = common.summary([ms for ms, new in zip(case.panels, case.first_visit, strict=True) if not new])
        kilobytes = common.summary(case.received)["median"] / 1000 if case.received else float("nan")
        results.append(
            {"page": case.name, "panels_ms": panels, "settled_ms": settled, "frames_ms": frames,
             "run_finished_ms": finished, "p95_ratio": ratio, "median_ratio": median_ratio,
             "settled_p95_ratio": settled["p95"] / floor_settled["p95"], "goal": case.goal,
             "failures": case.failures, "wrong": case.wrong, "first_visit_ms": first, "revisit_ms": again,
             "ws_bytes": common.summary(case.received)}
        )  # fmt: skip
        goal_rows.append(
            [case.name, panels["n"], panels["median"], panels["p95"], median_ratio, ratio, case.goal or "-",
             common.verdict(ratio, case.goal), f"{first['median']:.0f} / {again['median']:.0f}" if case.release
             else "-", case.failures, case.wrong if case.release else "-"]
        )  # fmt: skip
        settled_rows.append(
            [case.name, settled["median"], settled["p95"], settled["p95"] / floor_settled["p95"], frames["median"],
             frames["p95"], finished["median"], kilobytes]
        )  # fmt: skip
    print(common.table(["page", "n", "median ms", "p95 ms", "median / floor", "p95 / floor", "goal", "",
                        "median ms, new value / revisit", "timeouts", "URL/code missed"], goal_rows))  # fmt: skip
    print("\nThe same changes, to the page settled (nothing changed for the quiet time; a scrubbing view's new")
    print("frame set for its other sliders included):")
    print(common.table(["page", "settled median ms", "p95 ms", "p95 / floor's", "frame set arrived, median ms",
                        "p95 ms", "run done ms (median)", "ws kB (median)"], settled_rows))  # fmt: skip
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=30, help="measured changes per page (>= 30 for a p95)")
    parser.add_argument("--warmup", type=int, default=2, help="changes per page before measuring")
    parser.add_argument("--quiet-ms", type=float, default=250.0, help="how long the DOM must stay still")
    parser.add_argument("--pages", nargs="*", help="lesson slugs to measure (default: all with a slider)")
    parser.add_argument("--before", type=Path, help="another checkout of cnnviz: its app measured too, interleaved")
    args = parser.parse_args(argv)
    cases = cases_for(args.pages)
    if args.before:
        cases = with_before(cases)
    print(f"latency: {len(cases)} pages x {args.changes} changes; {common.machine_line()}", file=sys.stderr)
    with contextlib.ExitStack() as servers, sync_playwright() as playwright:
        urls = {"bare": servers.enter_context(harness.serve(BARE_APP)).url,
                "app": servers.enter_context(harness.serve("app.py")).url}  # fmt: skip
        if args.before:  # its own modules: Streamlit puts the script's folder first on sys.path
            urls["before"] = servers.enter_context(harness.serve(str(args.before.resolve() / "app.py"))).url
        browser = harness.launch_chromium(playwright)
        try:
            measure(browser, urls, cases, args.changes, args.warmup, args.quiet_ms)
        finally:
            browser.close()
    print(f"\nInteraction latency, key press to the content and URL painted ({common.machine_line()})")
    results = report(cases)
    path = common.record("latency", results)
    print(f"\n(recorded in {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path})")
    return 1 if any(case.failures or case.wrong for case in cases) else 0


if __name__ == "__main__":
    sys.exit(main())
