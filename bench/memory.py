"""Server memory (RSS) with 1, 10 and 30 open sessions: what each extra student costs.

Sessions are lightweight websocket clients (``bench/st_client.py``): each opens a page
(spread over home and every lesson, or all on ``--page``), moves sliders a few times,
and stays connected. The server's resident set size is read from
``/proc/<pid>/status`` (VmRSS; psutil is not a dependency) once it has been stable for
a moment. Before any measurement one session visits every page and leaves, so one-time
costs (importing torch, loading models, shared caches) are not charged to the sessions.
The reference is the server with one session, measured in the same run.
Goal: <= 30 MB per extra session.

Run: ``python -m bench.memory [--levels 1 10 30] [--moves 3] [--page convolution]``
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from pathlib import Path

from bench import common
from bench.st_client import Session
from tests.e2e import harness
from tests.e2e.pages_under_test import PAGES

GOAL_MB = 30.0


def rss_mb(pid: int) -> dict[str, float]:
    """Resident (VmRSS) and peak resident (VmHWM) memory of a process, in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024
    return fields


async def stable_rss(pid: int, seconds: float = 3.0) -> dict[str, float]:
    """RSS once the server is quiet: the smallest of a few readings over ``seconds``."""
    readings = []
    for _ in range(6):
        await asyncio.sleep(seconds / 6)
        readings.append(rss_mb(pid))
    return min(readings, key=lambda reading: reading["VmRSS"])


async def add_sessions(url: str, sessions: list[Session], target: int, pages: list[str], moves: int, rng) -> list[str]:
    errors = []
    while len(sessions) < target:
        session = await Session.open(url)
        sessions.append(session)
        page = pages[(len(sessions) - 1) % len(pages)]
        results = [await session.goto(page)]
        for _ in range(moves):
            moved = await session.move_random_slider(rng)
            if moved is not None:
                results.append(moved)
        errors += [f"/{page}: {result.status} {result.errors}" for result in results if not result.ok]
    return errors


async def warm_up(url: str, pages: list[str], moves: int, rng: random.Random) -> None:
    """Pay the one-time costs first (imports, models, shared caches): one session visits every page, then leaves."""
    warm: list[Session] = []
    try:
        await add_sessions(url, warm, 1, pages, 0, rng)
        for page in pages:
            await warm[0].goto(page)
            for _ in range(moves):
                await warm[0].move_random_slider(rng)
    finally:
        await asyncio.gather(*(session.close() for session in warm), return_exceptions=True)


async def measure(url: str, pid: int, levels: list[int], pages: list[str], moves: int) -> list[dict]:
    rng = random.Random(0)
    await warm_up(url, pages, moves, rng)
    sessions: list[Session] = []
    points = [{"sessions": 0, **await stable_rss(pid)}]  # after the warm-up
    try:
        for level in levels:
            started = time.perf_counter()
            errors = await add_sessions(url, sessions, level, pages, moves, rng)
            points.append({"sessions": level, **await stable_rss(pid), "errors": errors})
            print(f"  {level} sessions in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    finally:
        await asyncio.gather(*(session.close() for session in sessions), return_exceptions=True)
    return points


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 10, 30])
    parser.add_argument("--moves", type=int, default=3, help="slider moves per session after opening its page")
    parser.add_argument("--page", help="put every session on this page (URL path) instead of spreading them")
    args = parser.parse_args(argv)
    pages = [args.page] if args.page is not None else [app_page.url_path for app_page in PAGES]
    with harness.serve("app.py") as server:
        points = asyncio.run(measure(server.url, server.process.pid, args.levels, pages, args.moves))
    reference = points[1]
    rows = []
    for point in points:
        extra = point["sessions"] - reference["sessions"]
        per_session = (point["VmRSS"] - reference["VmRSS"]) / extra if extra > 0 else float("nan")
        goal = GOAL_MB if extra > 0 else None
        rows.append(
            [point["sessions"], point["VmRSS"], point["VmHWM"], per_session, goal or "-",
             common.verdict(per_session / GOAL_MB, 1.0 if goal else None), len(point.get("errors", []))]
        )  # fmt: skip
    where = f"all on /{args.page}" if args.page is not None else f"spread over {len(pages)} pages"
    print(f"Server memory, sessions {where}, {args.moves} slider moves each ({common.machine_line()})")
    print(common.table(["sessions", "RSS MB", "peak RSS MB", "MB per extra session", "goal", "", "errors"], rows))
    for point in points:
        for error in point.get("errors", [])[:5]:
            print(f"  error with {point['sessions']} sessions: {error}")
    common.record("memory", {"pages": pages, "moves": args.moves, "points": points})
    return 1 if any(point.get("errors") for point in points) else 0


if __name__ == "__main__":
    sys.exit(main())
