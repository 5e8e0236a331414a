"""A mixed classroom: some students train networks while the others move sliders on light lessons.

Training is heavy work: each of its slices asks the server's one heavy-job budget for a
slot (``cnnviz/heavy_jobs.py``, ``CNNVIZ_HEAVY_JOBS``: cores - 1 by default, so one core
stays free for everybody's sliders). This measures whether that is so: a student moving
a slider on a light lesson must not wait behind the training.

Phases on one server, in one run (``bench/classroom.py`` describes the walk and the
latency: rerun sent -> ``script_finished``):

1. one student alone walks the light lessons (the reference, ``--solo`` walks);
2. ``--students`` students walk them together once, not measured: the phases below replay this
   walk (the same students, the same moves), so each of them meets caches as warm as the others;
3. ``--rounds`` times, one after the other: the class walks them, nobody training (the class's
   own load); then the same walk while ``--training`` more students train on the Training page:
   each opens it, presses Start (the default network and settings), and lets the page's timer
   rerun its live view as the browser does (``Session.tick``), pressing Start again when a run
   ends, until the walkers are done. Alternating spreads a shared machine's changing load over
   both kinds of phase.

Goal: the walkers' p95 with training <= 4x the solo p95 (as for the classroom) and about their
p95 without training (sliders unaffected by training, issue 15: within ~1.2x); 0 errors for anybody.

Run: ``python -m bench.classroom_training [--students 25] [--training 5] [--interactions 50] [--think 2] [--rounds 2]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import time
from pathlib import Path

from bench import common
from bench.classroom import GOAL, failures, latencies_ms, per_page_p95, walk_together
from bench.st_client import RunResult, Session
from cnnviz import i18n
from tests.e2e import harness
from tests.e2e.pages_under_test import PAGES

HEAVY_PAGES = ("feature_maps", "filter_viz", "training")  # ImageNet passes, optimisation, training
START = i18n.translate("train.start", "en")
STEP = re.compile(r"step (\d+) of")


class Trainer:
    """A student on the Training page: Start, then the live view's timer, Start again after each run."""

    def __init__(self, session: Session, number: int) -> None:
        self.session, self.number = session, number
        self.results: list[RunResult] = []
        self.runs_started = 0
        self.steps = 0  # optimizer steps seen on the progress bar, over all runs

    async def train_until(self, done: asyncio.Event) -> None:
        self.results.append(await self.session.goto("training"))
        last_step = 0
        while not done.is_set():
            result = await self.session.tick()
            if result is None:  # no run under way: press Start
                result = await self.session.click(START)
                if result is None:
                    self.results.append(RunResult(0.0, "no Start button"))
                    return
                self.runs_started += 1
                last_step = 0
            self.results.append(result)
            found = STEP.search(result.progress)
            if found and int(found.group(1)) >= last_step:
                self.steps += int(found.group(1)) - last_step
                last_step = int(found.group(1))


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (the server's training workers)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    return found


class CpuMeter:
    """CPU seconds the server process and its children (training workers) use during a phase: what
    the class's load costs the server, read from the kernel's accounting rather than from the
    clock, so the other programs on a shared machine do not count."""

    def __init__(self, server_pid: int) -> None:
        self.server_pid = server_pid

    def reading(self) -> dict[int, float]:
        return {pid: cpu_seconds(pid) for pid in [self.server_pid, *children(self.server_pid)]}

    def used(self, before: dict[int, float]) -> tuple[float, float]:
        """(server, workers) CPU seconds since ``before``."""
        now = self.reading()
        server = now.pop(self.server_pid) - before.get(self.server_pid, 0.0)
        return server, sum(seconds - before.get(pid, 0.0) for pid, seconds in now.items())


async def train_while_walking(url: str, args: argparse.Namespace, pages: list[str]) -> tuple[list, list[Trainer]]:
    sessions = [await Session.open(url) for _ in range(args.training)]
    trainers = [Trainer(session, 500 + number) for number, session in enumerate(sessions)]
    done = asyncio.Event()
    training = [asyncio.create_task(trainer.train_until(done)) for trainer in trainers]
    try:
        await asyncio.sleep(3)  # every trainer has pressed Start and holds or waits for the slot
        walkers = await walk_together(url, args.students, 0, args.think, pages, args.interactions, args.moves)
    finally:
        done.set()
        await asyncio.gather(*training, return_exceptions=True)
        await asyncio.gather(*(session.close() for session in sessions), return_exceptions=True)
    return walkers, trainers


async def run(url: str, args: argparse.Namespace, pages: list[str], meter: CpuMeter) -> dict:
    await walk_together(url, 1, 1000, 0.0, [*pages, "training"], len(pages) + 1, 1)  # warm-up
    solo = []
    for walk in range(args.solo):
        solo += await walk_together(url, 1, 100 + walk, 0.0, pages, args.interactions, args.moves)
    print(f"  solo: {len(latencies_ms(solo))} interactions", file=sys.stderr)
    started = time.perf_counter()
    await walk_together(url, args.students, 0, args.think, pages, args.interactions, args.moves)  # warms the caches
    print(f"  the class's first walk (not measured): {time.perf_counter() - started:.0f} s", file=sys.stderr)
    alone, mixed, trainers, rounds = [], [], [], []
    started = time.perf_counter()
    cpu = {"alone": [0.0, 0.0, 0.0], "mixed": [0.0, 0.0, 0.0]}  # server CPU s, workers CPU s, wall s
    for number in range(args.rounds):
        before, clock = meter.reading(), time.perf_counter()
        round_alone = await walk_together(url, args.students, 0, args.think, pages, args.interactions, args.moves)
        used = (*meter.used(before), time.perf_counter() - clock)
        cpu["alone"] = [total + part for total, part in zip(cpu["alone"], used, strict=True)]
        before, clock = meter.reading(), time.perf_counter()
        round_mixed, round_trainers = await train_while_walking(url, args, pages)
        used = (*meter.used(before), time.perf_counter() - clock)
        cpu["mixed"] = [total + part for total, part in zip(cpu["mixed"], used, strict=True)]
        alone, mixed, trainers = alone + round_alone, mixed + round_mixed, trainers + round_trainers
        p95 = [common.percentile(latencies_ms(walkers), 0.95) for walkers in (round_alone, round_mixed)]
        rounds.append(p95)
        print(f"  round {number + 1}: p95 {p95[0]:.0f} ms without training, {p95[1]:.0f} ms with", file=sys.stderr)
    return {"solo": solo, "alone": alone, "mixed": mixed, "trainers": trainers, "rounds": rounds, "cpu": cpu,
            "seconds": time.perf_counter() - started}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=25, help="students moving sliders on light lessons")
    parser.add_argument("--training", type=int, default=5, help="students training at the same time")
    parser.add_argument("--interactions", type=int, default=50, help="interactions per walking student")
    parser.add_argument("--moves", type=int, default=4, help="slider moves per page visit")
    parser.add_argument("--think", type=float, default=2.0, help="mean pause between a walker's interactions, s")
    parser.add_argument("--solo", type=int, default=2, help="walks by a lone student for the reference")
    parser.add_argument("--rounds", type=int, default=2, help="phases without and with training, alternating")
    args = parser.parse_args(argv)
    pages = [page.url_path for page in PAGES if page.slug not in ("home", *HEAVY_PAGES)]
    with harness.serve("app.py") as server:
        result = asyncio.run(run(server.url, args, pages, CpuMeter(server.process.pid)))
        server_log = server.log_tail(10_000)
    stats = {name: common.summary(latencies_ms(result[name])) for name in ("solo", "alone", "mixed")}
    trainers: list[Trainer] = result["trainers"]
    trainer_errors = [f"trainer {t.number}: {r.status} {r.errors[:2]}" for t in trainers for r in t.results if not r.ok]
    rows = []
    names = {"solo": "1 student alone", "alone": f"{args.students} students, nobody training (x{args.rounds})",
             "mixed": f"{args.students} students + {args.training} training (x{args.rounds})"}  # fmt: skip
    for group, name in names.items():
        ratio = stats[group]["p95"] / stats["solo"]["p95"]
        rows.append([name, stats[group]["n"], stats[group]["median"], stats[group]["p95"], stats[group]["max"], ratio,
                     GOAL, common.verdict(ratio, GOAL), len(failures(result[group]))])  # fmt: skip
    print(
        f"Mixed classroom: {args.students} students x {args.interactions} interactions on {len(pages)} light lessons, "
        f"pause {args.think:g} s, while {args.training} students train; heavy jobs at once: "
        f"{server_heavy_jobs()}; {result['seconds']:.0f} s ({common.machine_line()})"
    )
    print(common.table(["walkers", "interactions", "median ms", "p95 ms", "max ms", "p95 / solo p95", "goal", "",
                        "errors"], rows))  # fmt: skip
    print(
        f"Training beside them: p95 with training / p95 without = {stats['mixed']['p95'] / stats['alone']['p95']:.2f}"
        f"; median {stats['mixed']['median'] / stats['alone']['median']:.2f}; per round (p95): "
        + ", ".join(f"{mixed / alone:.2f}" for alone, mixed in result["rounds"])
    )
    cpu_rows = [[names[group], server, workers, wall, server / wall, workers / wall]
                for group, (server, workers, wall) in result["cpu"].items()]  # fmt: skip
    print(common.table(["phases", "server CPU s", "workers CPU s", "wall s", "server cores", "workers cores"],
                       cpu_rows))  # fmt: skip
    trainer_rows = [[t.number, len(t.results), t.runs_started, t.steps, sum(not r.ok for r in t.results)]
                    for t in trainers]  # fmt: skip
    print(common.table(["trainer", "reruns", "runs started", "steps trained", "errors"], trainer_rows))
    pages_alone, pages_mixed = per_page_p95(result["alone"]), per_page_p95(result["mixed"])
    print("\np95 per page, ms")
    print(common.table(["page", "no training", "with training"],
                       [[f"/{page}", pages_alone.get(page), pages_mixed.get(page)] for page in pages]))  # fmt: skip
    errors = [*failures(result["solo"]), *failures(result["alone"]), *failures(result["mixed"]), *trainer_errors]
    for error in errors[:10]:
        print(f"  error: {error}")
    if errors and "Traceback" in server_log:
        print("\nThe server's first traceback:\n" + server_log[server_log.index("Traceback") :][:3000])
    common.record(
        "classroom_training",
        {"args": vars(args), **stats, "errors": errors, "rounds_p95": result["rounds"], "cpu": result["cpu"],
         "trainers": trainer_rows, "p95_per_page": {"alone": pages_alone, "mixed": pages_mixed}},
    )  # fmt: skip
    return 1 if errors else 0


def server_heavy_jobs() -> int:
    """The heavy-job budget the server under test gets (it inherits this environment)."""
    from cnnviz.limits import Limits

    return Limits.from_environment().heavy_jobs


if __name__ == "__main__":
    sys.exit(main())
