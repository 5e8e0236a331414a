"""Drive the app in a real browser: start a server, launch Debian's chromium, wait for reruns.

Shared by the browser tests (``tests/e2e``) and the benchmarks (``bench/``), so both
start the app and decide "Streamlit has finished updating the page" the same way.

How a finished rerun is detected: ``PROBE_JS`` runs in every page before the app
boots. It counts the ``script_finished`` messages the server sends on the websocket
(fragment reruns included). An action records the count, acts, and waits for the
count to grow and for the page to be idle (``IDLE_JS``: the ``data-test-script-state``
that Streamlit keeps on ``[data-testid="stApp"]`` says ``notRunning``, no lazy element
is still loading, every image is decoded), then for it to stay idle a moment
(``SETTLE``). The status widget is not used: it only appears after a delay, so a short
rerun never shows it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page, Playwright

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
VIEWPORT = {"width": 1400, "height": 1000}
#: Seconds a page must stay idle after a run before an action counts as done.
SETTLE = 0.3
#: Seconds a locator waits for an element before failing (playwright's default is 30).
ACTION_TIMEOUT = 10.0

APP = '[data-testid="stApp"]'
MAIN = '[data-testid="stMain"]'
SIDEBAR = '[data-testid="stSidebar"]'
#: How Streamlit 1.67 renders an uncaught exception and ``st.error``.
ERRORS = '[data-testid="stException"], [data-testid="stAlertContentError"]'
UPLOAD_INPUT = f'{SIDEBAR} [data-testid="stFileUploader"] input[type="file"]'

# Installed with ``context.add_init_script``: runs in every document before the app.
# Counts finished script runs from the websocket itself: every frame is one ForwardMsg,
# and a run's end is its top-level field 6 (script_finished, a varint status). The DOM
# attribute data-test-script-state cannot count runs: when a run is quick, React renders
# "running" and "notRunning" in one commit and the attribute never changes.
PROBE_JS = """
(() => {
  if (window.__stProbe) return;
  const probe = window.__stProbe = {
    runs: 0, finishedAt: 0, keydownAt: 0, lastMutation: 0, lastImageLoad: 0, frames: 0,
  };
  const FINISHED_EARLY_FOR_RERUN = 2;
  // The status of a ForwardMsg's script_finished field, or -1 when it has none.
  const scriptFinished = (bytes) => {
    let at = 0;
    const varint = () => {
      let value = 0, scale = 1, byte;
      do { byte = bytes[at++]; value += (byte & 0x7f) * scale; scale *= 128; } while (byte & 0x80 && at < bytes.length);
      return value;
    };
    while (at < bytes.length) {
      const tag = varint(), field = Math.floor(tag / 8), wire = tag & 7;
      if (wire === 0) { const value = varint(); if (field === 6) return value; }
      else if (wire === 1) at += 8;
      else if (wire === 2) { const length = varint(); at += length; }  // not `at += varint()`: at is read first
      else if (wire === 5) at += 4;
      else return -1;
    }
    return -1;
  };
  const inspect = (data) => {
    probe.frames += 1;
    const status = scriptFinished(new Uint8Array(data));
    if (status >= 0 && status !== FINISHED_EARLY_FOR_RERUN) { probe.runs += 1; probe.finishedAt = performance.now(); }
  };
  const NativeWebSocket = window.WebSocket;
  window.WebSocket = class extends NativeWebSocket {
    constructor(...args) {
      super(...args);
      // Registered before the app's own handler, so it sees each frame first.
      this.addEventListener('message', (event) => {
        if (event.data instanceof ArrayBuffer) inspect(event.data);
        else if (event.data instanceof Blob) event.data.arrayBuffer().then(inspect);
      });
    }
  };
  document.addEventListener('keydown', (event) => { probe.keydownAt = event.timeStamp; }, true);
  // load does not bubble; a capturing listener on the document still sees every <img>.
  document.addEventListener('load', (event) => {
    if (event.target && event.target.tagName === 'IMG') probe.lastImageLoad = performance.now();
  }, true);
  const watch = () => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app) return false;
    new MutationObserver(() => { probe.lastMutation = performance.now(); })
      .observe(app, {subtree: true, childList: true, characterData: true, attributes: true});
    return true;
  };
  const start = () => {
    if (watch()) return;
    const seek = new MutationObserver(() => { if (watch()) seek.disconnect(); });
    seek.observe(document.documentElement, {subtree: true, childList: true});
  };
  if (document.documentElement) start(); else document.addEventListener('DOMContentLoaded', start);
})();
"""

#: True when no script runs, nothing lazy is still loading and every image is decoded.
IDLE_JS = """
() => {
  const probe = window.__stProbe;
  const app = document.querySelector('[data-testid="stApp"]');
  return !!probe && !!app
    && app.getAttribute('data-test-script-state') === 'notRunning'
    && app.getAttribute('data-test-connection-state') === 'CONNECTED'
    && !document.querySelector('[data-testid="stSkeleton"], [data-testid="stAppSkeleton"]')
    && Array.from(document.images).every((image) => image.complete);
}
"""

# A digest of what a part of the page shows: its text, image sources, charts' SVG and
# canvases' sizes. Elements marked data-e2e-ignore (the control being moved, whose own
# label changes) are left out, so a change here means the output changed.
FINGERPRINT_JS = """
(selector) => {
  const root = document.querySelector(selector);
  if (!root) return null;
  const clone = root.cloneNode(true);
  clone.querySelectorAll('[data-e2e-ignore]').forEach((element) => element.remove());
  const parts = [clone.innerText || clone.textContent || ''];
  clone.querySelectorAll('img').forEach((image) => parts.push('img:' + image.getAttribute('src')));
  clone.querySelectorAll('svg').forEach((svg) => parts.push(svg.outerHTML));  // charts (and icons, which stay)
  clone.querySelectorAll('canvas').forEach((canvas) => parts.push(`canvas:${canvas.width}x${canvas.height}`));
  let hash = 2166136261;  // FNV-1a, 32 bits
  const text = parts.join('\\u0000');
  for (let i = 0; i < text.length; i++) { hash ^= text.charCodeAt(i); hash = Math.imul(hash, 16777619) >>> 0; }
  return `${text.length}:${hash.toString(16)}`;
}
"""


# --- The server ------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class AppServer:
    """A ``streamlit run`` process on the loopback interface."""

    script: str
    port: int
    process: subprocess.Popen
    log_path: Path
    started_at: float = field(default_factory=time.perf_counter)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def wait_until_healthy(self, timeout: float = 120.0) -> None:
        """Poll ``/_stcore/health`` until it answers ``ok``.

        Raises:
            RuntimeError: when the process exits or the timeout passes first (with the log's end).
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"streamlit exited with {self.process.returncode}:\n{self.log_tail()}")
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as answer,
            ):
                if answer.status == 200 and answer.read().strip() == b"ok":
                    return
            time.sleep(0.05)
        raise RuntimeError(f"streamlit did not answer /_stcore/health within {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the server and everything it started (it runs in its own process group)."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout)


def start_server(script: str = "app.py", port: int | None = None, *extra_args: str) -> AppServer:
    """Start ``streamlit run <script>`` from the repository root without waiting for it.

    ``extra_args`` are further ``--option value`` pairs for ``streamlit run``.
    """
    port = port or free_port()
    descriptor, log_path = tempfile.mkstemp(prefix=f"cnnviz-{Path(script).stem}-{port}-", suffix=".log")
    command = [
        sys.executable, "-m", "streamlit", "run", script,
        "--server.port", str(port), "--server.headless", "true", "--server.address", "127.0.0.1",
        "--browser.gatherUsageStats", "false", *extra_args,
    ]  # fmt: skip
    started_at = time.perf_counter()
    with os.fdopen(descriptor, "wb") as log:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(
            command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            env=server_environment(os.environ),
        )  # fmt: skip
    return AppServer(script, port, process, Path(log_path), started_at)


def server_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The server's environment: ours, with the allocator set as the Dockerfile and ``make run`` set it
    (``MALLOC_ARENA_MAX=2``), unless ours sets it."""
    return {**environ, "MALLOC_ARENA_MAX": environ.get("MALLOC_ARENA_MAX", "2")}


@contextlib.contextmanager
def serve(script: str = "app.py", timeout: float = 120.0, *extra_args: str) -> Iterator[AppServer]:
    """A healthy server for the duration of the ``with`` block; stopped after, also on error."""
    server = start_server(script, None, *extra_args)
    try:
        server.wait_until_healthy(timeout)
        yield server
    finally:
        server.stop()
        server.log_path.unlink(missing_ok=True)


# --- The browser -----------------------------------------------------------------------------


def launch_chromium(playwright: Playwright) -> Browser:
    """Debian's chromium, headless (never a downloaded browser)."""
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: install Debian's chromium (make test does).")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))


def new_context(browser: Browser) -> BrowserContext:
    """A browser context whose pages have the rerun probe installed.

    Each page opened in it is its own Streamlit session (sessions belong to a
    websocket, not to cookies); pages share the HTTP cache.
    """
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(ACTION_TIMEOUT * 1000)
    context.add_init_script(PROBE_JS)
    return context


def new_tab(browser: Browser) -> Page:
    """A page in a fresh context of its own."""
    return new_context(browser).new_page()


def runs(page: Page) -> int:
    """How many script runs have finished in this page so far."""
    return page.evaluate("() => window.__stProbe ? window.__stProbe.runs : 0")


def wait_until_idle(page: Page, after_runs: int = 0, timeout: float = 60.0, settle: float = SETTLE) -> None:
    """Wait for more than ``after_runs`` finished runs and an idle page (see ``IDLE_JS``).

    One user action can cause several runs: replacing an upload deletes the old
    file (one run) and then sends the new one (another). So the page must also stay
    idle, with no further run, for ``settle`` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        page.wait_for_function(
            f"() => window.__stProbe && window.__stProbe.runs > {int(after_runs)} && ({IDLE_JS})()",
            timeout=max(deadline - time.monotonic(), 0.001) * 1000,
        )
        after_runs = runs(page) - 1
        page.wait_for_timeout(settle * 1000)
        if runs(page) == after_runs + 1 and page.evaluate(IDLE_JS):
            return


@contextlib.contextmanager
def rerun(page: Page, timeout: float = 60.0, settle: float = SETTLE) -> Iterator[None]:
    """Wait, after the ``with`` block, for the rerun(s) its actions caused to finish.

    Raises playwright's TimeoutError when no rerun finishes in time (the action
    did nothing, or the script hangs).
    """
    before = runs(page)
    yield
    wait_until_idle(page, before, timeout, settle)


def open_app(page: Page, url: str, timeout: float = 90.0) -> None:
    """Go to ``url`` and wait until its first run is shown."""
    page.goto(url, wait_until="domcontentloaded", timeout=timeout * 1000)
    wait_until_idle(page, 0, timeout)


def fingerprint(page: Page, selector: str = MAIN) -> str:
    """A digest of what ``selector`` shows (text, image sources, SVG charts), without ignored elements."""
    return page.evaluate(FINGERPRINT_JS, selector)


def error_texts(page: Page, scope: str = APP) -> list[str]:
    """Text of every exception and ``st.error`` element inside ``scope``."""
    return page.locator(scope).locator(ERRORS).all_inner_texts()
