"""A long class in one server: does memory settle, or grow with every rerun and every student?

One ``streamlit run app.py`` (the shipped configuration). First one session does
``--reruns`` reruns across every page (open a page, move random sliders ``--moves`` times,
next page, round and round). Then ``--sessions`` sessions come and go, ``--wave`` at a time:
each opens a page, moves sliders, visits the next page, and leaves. Finally the server
sits idle past Streamlit's ``server.disconnectedSessionTTL`` (120 s: a closed tab's session,
its state and uploads are kept that long for a reconnect), and is read once more.

The server's RSS (``/proc/<pid>/status``) is read every ``--every`` reruns and after each
wave, giving the curve. "Where it settles" is the median of the second half of the
single-session readings; goal: every later reading (the rest of the long session, the
sessions coming and going, and the server after they left) stays within 10 % of it.

Run: ``python -m bench.soak [--reruns 500] [--sessions 30] [--wave 5]``
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time

from bench import common
from bench.memory import rss_mb
from bench.st_client import Session
from tests.e2e import harness
from tests.e2e.pages_under_test import PAGES

GOAL = 0.10  # within 10 % of where RSS settles


async def long_session(url: str, pid: int, pages: list[str], reruns: int, moves: int, every: int) -> dict:
    """One session, ``reruns`` reruns round the pages; RSS every ``every`` reruns."""
    rng = random.Random(0)
    session = await Session.open(url)
    curve, errors, done, step = [], [], 0, 0
    try:
        while done < reruns:
            page = pages[step % len(pages)]
            step += 1
            results = [await session.goto(page)]
            for _ in range(moves):
                moved = await session.move_random_slider(rng)
                if moved is None:
                    break
                results.append(moved)
            for result in results:
                done += 1
                if not result.ok:
                    errors.append(f"/{page}: {result.status} {result.errors[:2]}")
                if done % every == 0:
                    curve.append((done, rss_mb(pid)["VmRSS"]))
    finally:
        await session.close()
    return {"curve": curve, "errors": errors}


async def visitor(url: str, number: int, pages: list[str], moves: int) -> list[str]:
    rng = random.Random(1000 + number)
    session = await Session.open(url)
    errors = []
    try:
        for offset in range(2):
            page = pages[(number + offset) % len(pages)]
            results = [await session.goto(page)]
            for _ in range(moves):
                moved = await session.move_random_slider(rng)
                if moved is None:
                    break
                results.append(moved)
            errors += [f"/{page}: {result.status} {result.errors[:2]}" for result in results if not result.ok]
    finally:
        await session.close()
    return errors


async def soak(url: str, pid: int, args: argparse.Namespace, pages: list[str]) -> dict:
    started = time.perf_counter()
    first = await long_session(url, pid, pages, args.reruns, args.moves, args.every)
    print(f"  {args.reruns} reruns in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    waves, errors = [], list(first["errors"])
    for first_number in range(0, args.sessions, args.wave):
        numbers = range(first_number, min(first_number + args.wave, args.sessions))
        for found in await asyncio.gather(*(visitor(url, number, pages, args.moves) for number in numbers)):
            errors += found
        await asyncio.sleep(1)
        waves.append((numbers[-1] + 1, rss_mb(pid)["VmRSS"]))
    await asyncio.sleep(args.idle)  # past the disconnected sessions' TTL
    idle = rss_mb(pid)
    return {"curve": first["curve"], "waves": waves, "idle": idle, "errors": errors}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reruns", type=int, default=500)
    parser.add_argument("--moves", type=int, default=3, help="slider moves per page visit")
    parser.add_argument("--every", type=int, default=25, help="reruns between two RSS readings")
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--wave", type=int, default=5, help="sessions at once")
    parser.add_argument("--idle", type=float, default=130.0, help="seconds idle at the end (TTL is 120)")
    args = parser.parse_args(argv)
    pages = [app_page.url_path for app_page in PAGES]
    with harness.serve("app.py") as server:
        start = rss_mb(server.process.pid)["VmRSS"]
        result = asyncio.run(soak(server.url, server.process.pid, args, pages))
    curve = result["curve"]
    settled = statistics.median([rss for _, rss in curve[len(curve) // 2 :]])
    later = [*curve[len(curve) // 2 :], *result["waves"]]
    rows = [["started (no session yet)", start, start / settled - 1, ""]]
    rows += [[f"{done} reruns, one session", rss, rss / settled - 1, ""] for done, rss in curve]
    rows += [[f"{count} sessions came and went", rss, rss / settled - 1, ""] for count, rss in result["waves"]]
    rows.append([f"idle {args.idle:.0f} s after", result["idle"]["VmRSS"], result["idle"]["VmRSS"] / settled - 1, ""])
    worst = max(abs(rss / settled - 1) for _, rss in [*later, (0, result["idle"]["VmRSS"])])
    for row in rows:
        row[2] = f"{row[2] * 100:+.1f} %"
    print(
        f"Soak: one session x {args.reruns} reruns over {len(pages)} pages, then {args.sessions} sessions "
        f"({args.wave} at a time) come and go; RSS settles at {settled:.0f} MB (median of the second half of the "
        f"long session); peak {result['idle']['VmHWM']:.0f} MB ({common.machine_line()})"
    )
    print(common.table(["after", "RSS MB", "vs settled", ""], rows))
    verdict = "ok" if worst <= GOAL else "OVER"
    print(f"Largest distance from the settled RSS after it settled: {worst * 100:.1f} % (goal <= 10 %): {verdict}")
    for error in result["errors"][:10]:
        print(f"  error: {error}")
    common.record("soak", {"args": vars(args), "start": start, "settled": settled, "worst": worst, **result})
    return 1 if result["errors"] or worst > GOAL else 0


if __name__ == "__main__":
    sys.exit(main())
