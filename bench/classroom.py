"""Classroom load: 30 students on one server at once, each doing 50 interactions across the pages.

Each student is a websocket session (``bench/st_client.py``; 30 chromium tabs would
measure chromium, not the server, on 2 cores). A student walks the lessons in order,
starting at a different one than its neighbours so the room spreads over the pages: on
each page it opens the page (one interaction) and moves a random slider to a random
value ``--moves`` times (one interaction each), then goes on, until it has done
``--interactions``. Between two interactions a student pauses ``--think`` seconds
(uniform in 0.5x..1.5x; 0 hammers the server). An interaction's latency is from
sending the rerun to the ``script_finished`` message (the server's part of what a user
waits for; the browser's rendering comes on top and does not grow with the class).

The reference is the same walk done by one student alone (``--solo`` walks, no pause),
on the same server in the same run, after one warm-up visit to every page pays the
one-time costs (imports, models). Goal: 0 errors, p95 <= 4x the single-session p95.

Run: ``python -m bench.classroom [--students 30] [--interactions 50] [--think 2]``
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import random
import sys
import time

from bench import common
from bench.st_client import RunResult, Session
from tests.e2e import harness
from tests.e2e.pages_under_test import PAGES

GOAL = 4.0


class Student:
    """One session walking the lessons; records every interaction's result and page."""

    def __init__(self, session: Session, number: int, think: float):
        self.session, self.number, self.think = session, number, think
        self.rng = random.Random(number)
        self.results: list[tuple[str, RunResult]] = []

    async def pause(self) -> None:
        if self.think > 0:
            await asyncio.sleep(self.think * self.rng.uniform(0.5, 1.5))

    async def walk(self, pages: list[str], interactions: int, moves: int) -> None:
        start = self.number % len(pages)
        for step in range(interactions):  # never more pages than interactions
            page = pages[(start + step) % len(pages)]
            await self.pause()
            self.results.append((page, await self.session.goto(page)))
            for _ in range(moves):
                if len(self.results) >= interactions:
                    return
                await self.pause()
                moved = await self.session.move_random_slider(self.rng)
                if moved is None:  # a page without sliders
                    break
                self.results.append((page, moved))
            if len(self.results) >= interactions:
                return


async def walk_together(url: str, count: int, first: int, think: float, pages: list[str], interactions: int,
                        moves: int) -> list[Student]:  # fmt: skip
    """``count`` students, numbered from ``first``, connected first and then walking at once."""
    sessions = [await Session.open(url) for _ in range(count)]
    students = [Student(session, first + index, think) for index, session in enumerate(sessions)]
    try:
        await asyncio.gather(*(student.walk(pages, interactions, moves) for student in students))
    finally:
        await asyncio.gather(*(session.close() for session in sessions), return_exceptions=True)
    return students


def latencies_ms(students: list[Student]) -> list[float]:
    return [result.seconds * 1e3 for student in students for _, result in student.results]


def failures(students: list[Student]) -> list[str]:
    return [
        f"student {student.number} /{page}: {result.status} {result.errors[:2]}"
        for student in students
        for page, result in student.results
        if not result.ok
    ]


def per_page_p95(students: list[Student]) -> dict[str, float]:
    by_page: dict[str, list[float]] = collections.defaultdict(list)
    for student in students:
        for page, result in student.results:
            by_page[page].append(result.seconds * 1e3)
    return {page: common.percentile(values, 0.95) for page, values in by_page.items()}


async def run(url: str, args: argparse.Namespace, pages: list[str]) -> tuple[list[Student], list[Student], float]:
    await walk_together(url, 1, 1000, 0.0, pages, len(pages), 1)  # warm-up: every page once
    solo = []
    for walk in range(args.solo):
        solo += await walk_together(url, 1, 100 + walk, 0.0, pages, args.interactions, args.moves)
    print(f"  solo: {len(latencies_ms(solo))} interactions", file=sys.stderr)
    started = time.perf_counter()
    room = await walk_together(url, args.students, 0, args.think, pages, args.interactions, args.moves)
    return solo, room, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--interactions", type=int, default=50, help="interactions per student")
    parser.add_argument("--moves", type=int, default=4, help="slider moves per page visit")
    parser.add_argument("--think", type=float, default=2.0, help="mean pause between a student's interactions, s")
    parser.add_argument("--solo", type=int, default=2, help="walks by a lone student for the reference")
    args = parser.parse_args(argv)
    pages = [app_page.url_path for app_page in PAGES]
    with harness.serve("app.py") as server:
        solo, room, seconds = asyncio.run(run(server.url, args, pages))
        server_log = server.log_tail(10_000)
    solo_stats, room_stats = common.summary(latencies_ms(solo)), common.summary(latencies_ms(room))
    errors = failures(solo) + failures(room)
    ratio = room_stats["p95"] / solo_stats["p95"]
    rows = [
        ["1 student alone", solo_stats["n"], solo_stats["median"], solo_stats["p95"], solo_stats["max"], 1.0, "-", "",
         len(failures(solo))],
        [f"{args.students} students at once", room_stats["n"], room_stats["median"], room_stats["p95"],
         room_stats["max"], ratio, GOAL, common.verdict(ratio, GOAL), len(failures(room))],
    ]  # fmt: skip
    print(
        f"Classroom load: {args.students} sessions x {args.interactions} interactions over {len(pages)} pages, "
        f"pause {args.think:g} s (0.5x..1.5x), one server; {seconds:.0f} s ({common.machine_line()})"
    )
    headers = ["who", "interactions", "median ms", "p95 ms", "max ms", "p95 / solo p95", "goal", "", "errors"]
    print(common.table(headers, rows))
    solo_pages, room_pages = per_page_p95(solo), per_page_p95(room)
    print("\np95 per page, ms")
    page_rows = [[f"/{page}", solo_pages.get(page, float("nan")), room_pages.get(page, float("nan"))] for page in pages]
    print(common.table(["page", "alone", "in the class"], page_rows))
    for error in errors[:10]:
        print(f"  error: {error}")
    if errors and "Traceback" in server_log:
        print("\nThe server's first traceback:\n" + server_log[server_log.index("Traceback") :][:3000])
    common.record(
        "classroom",
        {"args": vars(args), "seconds": seconds, "solo": solo_stats, "room": room_stats, "ratio": ratio,
         "errors": errors, "solo_p95_per_page": solo_pages, "room_p95_per_page": room_pages},
    )  # fmt: skip
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
