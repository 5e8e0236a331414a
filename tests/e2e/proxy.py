"""The shipped deployment on this machine: N app replicas on loopback ports behind Debian's nginx.

``deploy/nginx.conf`` is used as shipped, with only what differs here filled in: the
upstream's ``server`` lines become the replicas' loopback ports, ``listen 80`` a free
loopback port, and the pid and log files move into a temporary folder. Shared by
``tests/e2e/test_replicas.py`` and ``bench/replicas.py``.

Which replica served a request is read from nginx's access log (the shipped log format
records ``upstream=`` and ``route=`` for every request).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from websockets.asyncio.client import connect

from bench.st_client import Session
from tests.e2e import harness

NGINX_CONF = harness.ROOT / "deploy" / "nginx.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
ROUTE_COOKIE = "cnnviz_route"
UPSTREAM_SERVER = re.compile(r"^(\s*)server app:8501( [^;]*)?;$", re.MULTILINE)


def run_in_own_loop(coroutine: Coroutine):
    """``asyncio.run`` on a thread of its own: the session's sync playwright already runs an
    event loop on the test thread, where ``asyncio.run`` is refused."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


def nginx_available() -> bool:
    return Path(NGINX).exists()


def render_config(ports: list[int], listen: int, folder: Path) -> str:
    """``deploy/nginx.conf`` with the replicas at ``ports``, listening on ``listen``, files in ``folder``."""
    text = NGINX_CONF.read_text(encoding="utf-8")
    match = UPSTREAM_SERVER.search(text)
    if match is None or text.count("listen 80;") != 1:
        raise ValueError("deploy/nginx.conf no longer has one `server app:8501 ...;` and one `listen 80;`")
    indent, options = match.group(1), match.group(2) or ""
    servers = "\n".join(f"{indent}server 127.0.0.1:{port}{options};" for port in ports)
    text = text[: match.start()] + servers + text[match.end() :]
    text = text.replace("listen 80;", f"listen 127.0.0.1:{listen};")
    text = text.replace("/var/run/nginx.pid", str(folder / "nginx.pid"))
    return text.replace("/var/log/nginx/", f"{folder}/")


def new_route() -> str:
    """A route cookie's value as nginx makes them (32 hex digits)."""
    return secrets.token_hex(16)


@dataclass
class Cluster:
    """Replicas (``harness.AppServer``) behind one nginx."""

    replicas: list[harness.AppServer]
    nginx: subprocess.Popen
    port: int
    folder: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def access_log(self) -> Path:
        return self.folder / "access.log"

    def get(self, path: str, route: str | None = None, timeout: float = 10.0) -> tuple[int, bytes, dict[str, str]]:
        """A GET through the proxy, with the route cookie ``route`` when given."""
        request = urllib.request.Request(self.url + path)
        if route is not None:
            request.add_header("Cookie", f"{ROUTE_COOKIE}={route}")
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(request, timeout=timeout) as answer:
            return answer.status, answer.read(), dict(answer.headers.items())

    def served_by(self, route: str, settle: bool = False) -> list[int]:
        """The replica port of every logged request that carried ``route``, oldest first.

        A request that first tried a dead replica logs both (``a, b``); the last one answered.
        ``settle``: nginx logs a request when it ends (a websocket when it closes), so first wait
        until the log has stopped growing for a moment (at most 5 s).
        """
        if settle:
            deadline, seen = time.monotonic() + 5, None
            while (now := self.access_log.stat().st_size) != seen and time.monotonic() < deadline:
                seen = now
                time.sleep(0.3)
        ports = []
        for line in self.access_log.read_text(errors="replace").splitlines():
            if f"route={route} " in line:
                upstream = re.search(r"upstream=(.*?) route=", line)
                if upstream and upstream.group(1) != "-":
                    ports.append(int(re.split(r"[, ]+", upstream.group(1).strip())[-1].rsplit(":", 1)[1]))
        return ports

    def replica_of(self, route: str) -> int:
        """The index of the replica that answers ``route`` now (asks the health check)."""
        before = len(self.served_by(route))
        status, _, _ = self.get("/_stcore/health", route)
        assert status == 200
        # nginx logs a request after answering it: on a busy machine the line comes a moment later.
        deadline = time.monotonic() + 5
        while len(served := self.served_by(route)) == before:
            assert time.monotonic() < deadline, f"nginx never logged the request with route {route}"
            time.sleep(0.05)
        return [replica.port for replica in self.replicas].index(served[-1])

    def kill(self, index: int) -> None:
        """Kill a replica at once (SIGKILL, as a crashed or unplugged server), not gracefully."""
        replica = self.replicas[index]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(replica.process.pid, signal.SIGKILL)
        replica.process.wait(15)

    def nginx_log_tail(self, lines: int = 20) -> str:
        path = self.folder / "error.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


async def open_session(url: str, route: str, timeout: float = 30.0) -> Session:
    """A Streamlit session through the proxy, sending the route cookie as a browser does."""
    netloc = url.split("://", 1)[1]
    connection = await connect(
        f"ws://{netloc}/_stcore/stream", subprotocols=["streamlit"], max_size=None, proxy=None,
        open_timeout=timeout, ping_interval=None, additional_headers={"Cookie": f"{ROUTE_COOKIE}={route}"},
    )  # fmt: skip
    return Session(connection)


def _wait_for_port(port: int, process: subprocess.Popen, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited with {process.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        with contextlib.suppress(OSError), urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nginx did not answer on port {port} within {timeout:.0f} s")


@contextlib.contextmanager
def cluster(count: int, timeout: float = 180.0, *extra_args: str) -> Iterator[Cluster]:
    """``count`` healthy replicas of ``app.py`` behind nginx with the shipped configuration."""
    if not nginx_available():
        raise RuntimeError(f"{NGINX} is missing: install Debian's nginx (make test and make bench-replicas do).")
    folder = Path(tempfile.mkdtemp(prefix="cnnviz-proxy-"))
    folder.chmod(0o755)  # nginx's workers (nobody, when started as root) keep large answers in temp files here
    replicas: list[harness.AppServer] = []
    nginx = None
    try:
        for _ in range(count):
            replicas.append(harness.start_server("app.py", None, *extra_args))
        for replica in replicas:
            replica.wait_until_healthy(timeout)
        port = harness.free_port()
        config = folder / "nginx.conf"
        config.write_text(render_config([replica.port for replica in replicas], port, folder), encoding="utf-8")
        nginx = subprocess.Popen(
            [NGINX, "-p", str(folder), "-c", str(config), "-e", str(folder / "error.log"), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        _wait_for_port(port, nginx, 30, folder / "error.log")
        yield Cluster(replicas, nginx, port, folder)
    finally:
        if nginx is not None and nginx.poll() is None:
            nginx.send_signal(signal.SIGQUIT)  # graceful: the master stops its workers
            try:
                nginx.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(nginx.pid, signal.SIGKILL)
                nginx.wait(10)
        for replica in replicas:
            replica.stop()
            replica.log_path.unlink(missing_ok=True)
        shutil.rmtree(folder, ignore_errors=True)
