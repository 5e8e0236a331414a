"""A school's set-up on this machine: 3 replicas behind nginx (``deploy/nginx.conf``), 60 students,
and one replica lost in the middle of the class.

The replicas are ``streamlit run app.py`` processes on loopback ports and nginx is Debian's,
with the shipped configuration (only ports and file paths filled in: ``tests/e2e/proxy.py``).
Before the load, chromium uploads a picture through the proxy (Streamlit's upload endpoint,
then the page must show that picture: its pixels are read back from the sidebar).

Each student is a websocket session (``bench/st_client.py``) with a route cookie of its own,
as each browser gets one from nginx; nginx pins it to a replica. Students walk the lessons
as in ``bench/classroom.py`` (open a page, move a random slider ``--moves`` times, next page;
``--think`` s pauses). ``--kill-after`` seconds into the class, replica 0 is killed (SIGKILL,
a crash). A student whose run then fails reconnects as the browser does (a new websocket,
same cookie, the same page) until a page finishes; the time from the failure to that page is
its reconnect time. Expected: the dead replica's students lose only their in-flight run, and
nobody else sees an error.

Run: ``python -m bench.replicas [--students 60] [--interactions 20] [--think 2] [--kill-after 20]``
"""

from __future__ import annotations

import argparse
import asyncio
import io
import random
import sys
import time
from dataclasses import dataclass, field

from PIL import Image
from playwright.sync_api import sync_playwright

from bench import common
from bench.st_client import RunResult, Session
from tests.e2e import harness, proxy
from tests.e2e.pages_under_test import PAGES

COLOUR = (200, 30, 160)  # the uploaded picture: one colour no sample image has

# The centre pixel of the sidebar's picture (drawn into a canvas: same-origin media).
PIXEL_JS = """
async (selector) => {
  const image = document.querySelector(selector);
  if (!image) return null;
  await image.decode();
  const canvas = document.createElement('canvas');
  canvas.width = image.naturalWidth; canvas.height = image.naturalHeight;
  const context = canvas.getContext('2d');
  context.drawImage(image, 0, 0);
  return Array.from(context.getImageData(canvas.width >> 1, canvas.height >> 1, 1, 1).data.slice(0, 3));
}
"""


def upload_through_proxy(url: str) -> dict:
    """chromium at the proxy: upload a one-colour PNG on the convolution lesson; the sidebar must show it."""
    picture = io.BytesIO()
    Image.new("RGB", (96, 64), COLOUR).save(picture, format="PNG")
    with sync_playwright() as playwright:
        browser = harness.launch_chromium(playwright)
        try:
            tab = harness.new_tab(browser)
            harness.open_app(tab, f"{url}/convolution")
            started = time.perf_counter()
            with harness.rerun(tab):
                file = {"name": "upload.png", "mimeType": "image/png", "buffer": picture.getvalue()}
                tab.set_input_files(harness.UPLOAD_INPUT, files=[file])
            seconds = time.perf_counter() - started
            pixel = tab.evaluate(PIXEL_JS, f'{harness.SIDEBAR} [data-testid="stImage"] img')
            cookies = [cookie["name"] for cookie in tab.context.cookies()]
            return {
                "seconds": seconds,
                "pixel": pixel,
                "shown": pixel is not None and all(abs(a - b) <= 8 for a, b in zip(pixel, COLOUR, strict=True)),
                "errors": harness.error_texts(tab),
                "route_cookie": proxy.ROUTE_COOKIE in cookies,
            }
        finally:
            browser.close()


@dataclass
class Student:
    number: int
    route: str
    replica: int
    think: float
    rng: random.Random = field(init=False)
    session: Session | None = None
    results: list[tuple[float, str, RunResult]] = field(default_factory=list)  # (when, page, result)
    lost: list[RunResult] = field(default_factory=list)  # runs in flight on the replica that died
    reconnects: list[float] = field(default_factory=list)  # seconds from a failure to a working page
    refused: int = 0  # reconnect attempts refused while nginx still tried the dead replica (part of reconnecting)
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.number)

    async def pause(self) -> None:
        if self.think > 0:
            await asyncio.sleep(self.think * self.rng.uniform(0.5, 1.5))

    async def reconnect(self, url: str, page: str, failed_at: float) -> None:
        """As the browser does after losing its websocket: a new one (same cookie), the same page."""
        for _ in range(20):
            if self.session is not None:
                await asyncio.gather(self.session.close(), return_exceptions=True)
            try:
                self.session = await proxy.open_session(url, self.route)
                result = await self.session.goto(page)
            except Exception:  # refused while nginx still tries the dead replica: the browser retries too
                self.refused += 1
                await asyncio.sleep(0.5)
                continue
            if result.ok:
                self.reconnects.append(time.perf_counter() - failed_at)
                self.results.append((time.perf_counter(), page, result))
                return
            self.errors.append(f"/{page} after reconnecting: {result.status} {result.errors[:2]}")
        self.errors.append("gave up reconnecting")

    async def act(self, url: str, page: str, step, killed: set[int]) -> bool:
        """One interaction; a failed one on the dead replica is lost and followed by a reconnect."""
        assert self.session is not None
        result = await step(self.session)
        if result is None:
            return False
        now = time.perf_counter()
        if result.ok:
            self.results.append((now, page, result))
        elif self.replica in killed and result.status in ("closed", "timeout"):
            self.lost.append(result)
            await self.reconnect(url, page, now)
        else:
            self.errors.append(f"/{page}: {result.status} {result.errors[:2]}")
        return True

    async def walk(self, url: str, pages: list[str], interactions: int, moves: int, killed: set[int]) -> None:
        start = self.number % len(pages)
        step = 0
        while len(self.results) + len(self.lost) < interactions:
            page = pages[(start + step) % len(pages)]
            step += 1
            await self.pause()
            await self.act(url, page, lambda session, page=page: session.goto(page), killed)
            for _ in range(moves):
                if len(self.results) + len(self.lost) >= interactions:
                    return
                await self.pause()
                if not await self.act(url, page, lambda session: session.move_random_slider(self.rng), killed):
                    break  # a page without sliders


async def warm_up(replica: harness.AppServer, pages: list[str]) -> None:
    """One visit to every page on each replica (directly), so no student pays the imports."""
    session = await Session.open(replica.url)
    try:
        for page in pages:
            await session.goto(page)
    finally:
        await session.close()


async def run_class(cluster: proxy.Cluster, args: argparse.Namespace, pages: list[str]) -> dict:
    await asyncio.gather(*(warm_up(replica, pages) for replica in cluster.replicas))
    students = []
    for number in range(args.students):
        route = proxy.new_route()
        students.append(Student(number, route, cluster.replica_of(route), args.think))
    for student in students:
        student.session = await proxy.open_session(cluster.url, student.route)
    killed: set[int] = set()
    started = time.perf_counter()

    async def kill_later() -> float:
        await asyncio.sleep(args.kill_after)
        # Marked dead before the signal: from then on a closed socket on replica 0 is the kill's doing.
        # (Marked after the process was reaped, a student whose socket closed in between was counted
        # as an error, and again as lost at its next interaction: one lost run counted twice.)
        killed.add(0)
        killed_at = time.perf_counter()
        await asyncio.to_thread(cluster.kill, 0)
        return killed_at

    killer = asyncio.create_task(kill_later())
    try:
        await asyncio.gather(
            *(student.walk(cluster.url, pages, args.interactions, args.moves, killed) for student in students)
        )
    finally:
        await asyncio.gather(
            *(student.session.close() for student in students if student.session), return_exceptions=True
        )
    killed_at = await killer if killer.done() else time.perf_counter()
    if not killer.done():
        killer.cancel()
    return {"students": students, "started": started, "killed_at": killed_at, "seconds": time.perf_counter() - started}


def group_row(name: str, students: list[Student], killed_at: float) -> list[object]:
    results = [(when, result) for student in students for when, _, result in student.results]
    before = [result.seconds * 1e3 for when, result in results if when < killed_at]
    after = [result.seconds * 1e3 for when, result in results if when >= killed_at]
    reconnects = [seconds for student in students for seconds in student.reconnects]
    return [
        name, len(students), len(results), sum(len(student.lost) for student in students),
        sum(len(student.errors) for student in students), common.percentile(before, 0.95),
        common.percentile(after, 0.95), len(reconnects), sum(student.refused for student in students),
        common.summary(reconnects)["median"] if reconnects else float("nan"),
        max(reconnects) if reconnects else float("nan"),
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--students", type=int, default=60)
    parser.add_argument("--interactions", type=int, default=20, help="interactions per student")
    parser.add_argument("--moves", type=int, default=3, help="slider moves per page visit")
    parser.add_argument("--think", type=float, default=2.0, help="mean pause between a student's interactions, s")
    parser.add_argument("--kill-after", type=float, default=20.0, help="seconds into the class replica 0 dies")
    args = parser.parse_args(argv)
    pages = [app_page.url_path for app_page in PAGES]
    with proxy.cluster(args.replicas) as cluster:
        upload = upload_through_proxy(cluster.url)
        print(f"  upload through the proxy: {upload}", file=sys.stderr)
        run = asyncio.run(run_class(cluster, args, pages))
        nginx_errors = cluster.nginx_log_tail(5)
    students: list[Student] = run["students"]
    killed_at = run["killed_at"]
    on_dead = [student for student in students if student.replica == 0]
    on_live = [student for student in students if student.replica != 0]
    print(
        f"{args.replicas} replicas behind nginx (deploy/nginx.conf): {args.students} students x {args.interactions} "
        f"interactions over {len(pages)} pages, pause {args.think:g} s; replica 0 killed at "
        f"{killed_at - run['started']:.0f} s of {run['seconds']:.0f} s ({common.machine_line()})"
    )
    print(
        f"Upload through the proxy (chromium, convolution lesson): "
        f"{'shown' if upload['shown'] else 'NOT SHOWN'} in {upload['seconds']:.2f} s, page errors {upload['errors']}, "
        f"route cookie {'set' if upload['route_cookie'] else 'MISSING'}"
    )
    headers = ["students", "n", "interactions ok", "lost in flight", "errors", "p95 ms before", "p95 ms after",
               "reconnects", "refused retries", "reconnect median s", "reconnect max s"]  # fmt: skip
    rows = [
        group_row("on the replica that died", on_dead, killed_at),
        group_row("on the live replicas", on_live, killed_at),
    ]
    print(common.table(headers, rows))
    errors = [f"student {student.number}: {error}" for student in students for error in student.errors]
    for error in errors[:10]:
        print(f"  error: {error}")
    if errors and nginx_errors:
        print("nginx error log:\n" + nginx_errors)
    common.record(
        "replicas",
        {"args": vars(args), "upload": upload, "rows": dict(zip([row[0] for row in rows], rows, strict=True)),
         "errors": errors, "per_replica": [sum(s.replica == i for s in students) for i in range(args.replicas)]},
    )  # fmt: skip
    missing_reconnects = [student.number for student in on_dead if student.lost and not student.reconnects]
    return 1 if errors or not upload["shown"] or missing_reconnects else 0


if __name__ == "__main__":
    sys.exit(main())
