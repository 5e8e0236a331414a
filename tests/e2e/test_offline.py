"""The app works with no network and never reaches for one: a classroom may have none.

The server runs in a network namespace of its own (``unshare -n``: only loopback exists,
so any other connection fails at the OS), and chromium joins that namespace. Both sides
also record what they try: in the server, a ``sitecustomize`` module refuses and logs every
socket connection or name lookup that is not local; in the browser, ``page.route`` sees
every request a page makes. Every registered page is opened; each must render without an
error, and neither log may hold a single non-local address. Then files of the upload corpus
(``tests/corpus.py``) are uploaded in the browser, offline, and one over the upload limit.

Without root (no ``unshare``), the recording alone still runs: the server's guard refuses
connections itself, the browser's routes abort non-local requests.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import textwrap
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Page, Playwright, Route

from cnnviz.i18n import translate
from cnnviz.images import MAX_BYTES, load_image
from pages.registry import LESSONS
from tests.corpus import CORPUS, oversized
from tests.e2e import harness

pytestmark = pytest.mark.e2e

PORT = 8561
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "0.0.0.0", "", None}
#: What Streamlit prints once it serves, after any address look-up it makes for that message.
SERVING = "You can now view your Streamlit app in your browser."

# Installed in the server's Python as sitecustomize: refuses and records every non-local
# connection or name lookup, before any of the app's code runs.
NETWORK_GUARD = """
import os
import socket

_LOG = os.environ["CNNVIZ_NETWORK_LOG"]
_LOCAL = {"127.0.0.1", "localhost", "::1", "0.0.0.0", "::", ""}


def _refuse(what):
    with open(_LOG, "a", encoding="utf-8") as log:
        log.write(what + "\\n")
    raise OSError(f"cnnviz offline test: no network ({what})")


def _host(address):
    return address[0] if isinstance(address, tuple) else str(address)


_connect, _connect_ex, _getaddrinfo = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo


def connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6) and _host(address) not in _LOCAL:
        _refuse(f"connect {address!r}")
    return _connect(self, address)


def connect_ex(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6) and _host(address) not in _LOCAL:
        _refuse(f"connect {address!r}")
    return _connect_ex(self, address)


def getaddrinfo(host, *args, **kwargs):
    if host not in _LOCAL and host is not None:
        _refuse(f"lookup {host!r}")
    return _getaddrinfo(host, *args, **kwargs)


socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo = connect, connect_ex, getaddrinfo
"""


@dataclass(frozen=True)
class Offline:
    url: str
    server_pid: int
    network_log: Path  # what the server's guard refused, one line each
    server_log: Path  # what the server printed
    chromium: Path  # chromium, entering the server's namespace when isolated
    isolated: bool  # True when the server runs in a network namespace of its own


def can_isolate() -> bool:
    """Root with unshare, nsenter and ip: the server and browser can get a namespace of their own."""
    if os.geteuid() != 0 or not all(shutil.which(tool) for tool in ("unshare", "nsenter", "ip")):
        return False
    return subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0


def readme_command() -> list[str]:
    """The command ``make run`` (the README's way to start the app) runs, with this test's Python."""
    lines = (harness.ROOT / "Makefile").read_text(encoding="utf-8").splitlines()
    recipe = lines[lines.index(next(line for line in lines if line.startswith("run:"))) + 1]
    words = recipe.strip().split()
    settings = [word for word in words if "=" in word and not word.startswith("-")][: words.index("$(BIN)/python")]
    assert words[len(settings)] == "$(BIN)/python", f"make run no longer starts the app with the venv's python: {recipe}"
    return ["env", *settings, sys.executable, *words[len(settings) + 1 :]]  # its environment settings too


@pytest.fixture(scope="module")
def offline(tmp_path_factory) -> Iterator[Offline]:
    """The app with no network, and a chromium that shares its namespace.

    In a namespace of its own the server is started exactly as ``make run`` starts it (only
    ``.streamlit/config.toml`` configures it; port 8501 is the namespace's own). Without one,
    it gets port 8561 and the loopback address, so it cannot clash with another server.
    """
    folder = tmp_path_factory.mktemp("offline")
    (folder / "sitecustomize.py").write_text(NETWORK_GUARD, encoding="utf-8")
    network_log, server_log = folder / "server-network.log", folder / "server.log"
    network_log.touch()
    isolated = can_isolate()
    if isolated:
        port = 8501
        command = ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", *readme_command()]
    else:
        port = PORT
        command = [*readme_command(), "--server.port", str(port), "--server.address", "127.0.0.1"]
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(folder), str(harness.ROOT)]),
        "CNNVIZ_NETWORK_LOG": str(network_log),
        "PYTHONUNBUFFERED": "1",  # the log shows each line as it is printed
        # Anything that still tries a proxy must fail too.
        "HTTP_PROXY": "http://192.0.2.1:9",
        "HTTPS_PROXY": "http://192.0.2.1:9",
        "NO_PROXY": "127.0.0.1,localhost",
    }
    with server_log.open("w") as log:
        server = subprocess.Popen(
            command, cwd=harness.ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    chromium = Path(harness.CHROMIUM)
    if isolated:
        chromium = folder / "chromium-offline"
        chromium.write_text(f'#!/bin/sh\nexec nsenter -t {server.pid} -n {harness.CHROMIUM} "$@"\n')
        chromium.chmod(0o755)
    try:
        yield Offline(f"http://127.0.0.1:{port}", server.pid, network_log, server_log, chromium, isolated)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, 15)
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, 9)
            server.wait(15)
        log_text = server_log.read_text(errors="replace")
        if "Traceback" in log_text:
            print(textwrap.indent(log_text[-4000:], "server| "))


def is_local(url: str) -> bool:
    parsed = urlparse(url)
    return parsed.scheme in ("data", "blob", "about", "chrome-error") or parsed.hostname in LOCAL_HOSTS


def open_when_up(page: Page, url: str, timeout: float = 120.0) -> None:
    """Go to ``url``, retrying until the server (which only the namespace can reach) answers."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            harness.open_app(page, url, timeout=90)
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def test_config_never_phones_home():
    config = tomllib.loads((harness.ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["browser"]["gatherUsageStats"] is False
    assert config["client"]["showErrorDetails"] == "none"  # tracebacks stay in the server log
    assert config["client"]["showErrorLinks"] is False  # no "search Google / ask ChatGPT" links on errors
    assert config["server"]["headless"] is True  # never opens a browser or asks for an e-mail
    # No setting may point anywhere: a theme or font URL would be fetched by every browser.
    assert "http" not in str(config).lower()


def test_started_as_the_readme_says_it_reaches_for_nothing(offline: Offline):
    """Started headless with no ``server.address``, Streamlit looks up the machine's addresses to
    print them (a UDP connect to 8.8.8.8, an HTTP request to checkip.amazonaws.com) unless
    ``browser.serverAddress`` is set; the app must still serve every interface for a classroom."""
    deadline = time.monotonic() + 120
    while SERVING not in offline.server_log.read_text(errors="replace"):
        assert time.monotonic() < deadline, f"the server never served:\n{offline.server_log.read_text()[-3000:]}"
        time.sleep(0.2)
    assert offline.network_log.read_text().splitlines() == [], "the server reached for the network at start"
    config = tomllib.loads((harness.ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert "address" not in config["server"], "server.address would bind one interface only"
    if offline.isolated:  # the README's command, unchanged: it listens on every interface
        listening = subprocess.run(
            ["nsenter", "-t", str(offline.server_pid), "-n", "ss", "-Hltn", "sport = :8501"],
            capture_output=True, text=True, check=True,
        ).stdout.split()  # fmt: skip
        assert "[::]:8501" in listening or "*:8501" in listening or "0.0.0.0:8501" in listening, listening


@dataclass
class Traffic:
    """What a tab asked for: every request, and the non-local ones, which were refused."""

    requested: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def record(self, route: Route) -> None:
        self.requested.append(route.request.url)
        if is_local(route.request.url):
            route.continue_()
        else:
            self.refused.append(route.request.url)
            route.abort("internetdisconnected")


@contextlib.contextmanager
def offline_tab(playwright: Playwright, offline: Offline) -> Iterator[tuple[Page, Traffic]]:
    """A chromium tab on the app whose every request is recorded, and refused unless local."""
    traffic = Traffic()
    browser = playwright.chromium.launch(executable_path=str(offline.chromium), args=list(harness.CHROMIUM_ARGS))
    try:
        tab = harness.new_tab(browser)
        tab.route("**/*", traffic.record)
        open_when_up(tab, offline.url)
        yield tab, traffic
    finally:
        browser.close()


def test_every_page_renders_without_the_network(playwright: Playwright, offline: Offline):
    with offline_tab(playwright, offline) as (tab, traffic):
        for path in ["", *(lesson.slug for lesson in LESSONS)]:
            harness.open_app(tab, f"{offline.url}/{path}")
            assert tab.locator(f"{harness.MAIN} h1").count() >= 1, f"/{path} shows no title"
            assert harness.error_texts(tab) == [], f"/{path} shows an error"
    assert traffic.requested, "the route recorded nothing: it is not watching the page"
    attempts = {"browser": sorted(set(traffic.refused)), "server": offline.network_log.read_text().splitlines()}
    assert attempts == {"browser": [], "server": []}, f"tried to reach the network: {attempts}"


#: Corpus files uploaded in the browser: shapes that stress a page, conversions, refusals.
BROWSER_UPLOADS = tuple(
    upload
    for upload in CORPUS
    if upload.name
    in (
        "transparent.png",
        "animated.gif",
        "dot-1x1.png",
        "strip-1x4000.png",
        "large-portrait-photo.jpg",
        "bomb-100000x100000.png",
        "truncated.jpg",
        "drawing.svg",
        "homework.png",
    )
)
SIDEBAR_CAPTIONS = f'{harness.SIDEBAR} [data-testid="stCaptionContainer"]'
#: The picker's own caption, always first among the sidebar's captions.
LATEST_CHOICE = translate("ui.latest_choice_used", "en")


def test_uploads_are_used_or_refused_in_the_browser(playwright: Playwright, offline: Offline, tmp_path: Path):
    """On the Convolution lesson, offline: each file's notes or refusal in the sidebar, nothing
    wrong in the lesson; a file over the upload limit is refused by the browser before it is sent."""
    with offline_tab(playwright, offline) as (tab, _):
        harness.open_app(tab, f"{offline.url}/convolution")
        for upload in BROWSER_UPLOADS:
            data = upload.build()
            with harness.rerun(tab):
                file = {"name": upload.name, "mimeType": upload.mime, "buffer": data}
                tab.set_input_files(harness.UPLOAD_INPUT, files=[file])
            assert harness.error_texts(tab, harness.MAIN) == [], f"the lesson shows an error after {upload.name}"
            shown = {
                "errors": harness.error_texts(tab, harness.SIDEBAR),
                "notes": tab.locator(SIDEBAR_CAPTIONS).all_inner_texts(),
            }
            if upload.loads:
                assert shown == {"errors": [], "notes": [LATEST_CHOICE, *load_image(data).notes]}, upload.name
            else:
                assert len(shown["errors"]) == 1 and shown["notes"] == [LATEST_CHOICE], upload.name
                assert all(phrase.lower() in shown["errors"][0].lower() for phrase in upload.refusal), shown
        too_large = tmp_path / "huge.png"  # a path, not a buffer: 25 MB would crawl through the protocol
        too_large.write_bytes(oversized())
        tab.set_input_files(harness.UPLOAD_INPUT, files=too_large, timeout=120_000)
        limit = tab.locator(harness.SIDEBAR).get_by_text(f"File must be {MAX_BYTES // 2**20}.0MB or smaller.")
        limit.wait_for(state="visible")


def test_the_server_really_has_no_network(offline: Offline):
    """Guards the test above: inside the namespace there is only loopback, and the guard refuses."""
    if not offline.isolated:
        pytest.skip("needs root and unshare: the guard alone is in place")
    pid, network_log = str(offline.server_pid), offline.network_log
    links = subprocess.run(["nsenter", "-t", pid, "-n", "ip", "-o", "link"], capture_output=True, text=True, check=True)
    assert [line.split(":")[1].strip() for line in links.stdout.splitlines()] == ["lo"]
    probe = "import socket; socket.create_connection(('192.0.2.1', 80), timeout=2)"
    environment = {
        **os.environ,
        "PYTHONPATH": str(network_log.parent),
        "CNNVIZ_NETWORK_LOG": str(network_log) + ".probe",
    }
    tried = subprocess.run(
        ["nsenter", "-t", pid, "-n", sys.executable, "-c", probe], capture_output=True, text=True, env=environment
    )
    assert tried.returncode != 0 and "cnnviz offline test: no network" in tried.stderr
    assert "192.0.2.1" in Path(str(network_log) + ".probe").read_text()
