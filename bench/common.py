"""What every benchmark shares: statistics, the printed table, the machine, the JSON record."""

from __future__ import annotations

import datetime
import json
import math
import os
import platform
import statistics
from collections.abc import Sequence
from pathlib import Path

OUT_DIR = Path(__file__).resolve().parent / "out"


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (``fraction`` in 0..1): a value that was measured, never interpolated."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def summary(values: Sequence[float]) -> dict[str, float]:
    """Count, median, p95 and max of a list of measurements."""
    return {
        "n": len(values),
        "median": statistics.median(values) if values else math.nan,
        "p95": percentile(values, 0.95),
        "max": max(values) if values else math.nan,
    }


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table with right-aligned numbers, ready to paste into Markdown."""

    def cell(value: object) -> str:
        if isinstance(value, float):
            return "-" if math.isnan(value) else f"{value:.2f}" if abs(value) < 10 else f"{value:.0f}"
        return str(value)

    cells = [[cell(value) for value in row] for row in rows]
    widths = [max(len(str(header)), *(len(row[i]) for row in cells)) for i, header in enumerate(headers)]
    lines = ["| " + " | ".join(str(header).ljust(width) for header, width in zip(headers, widths, strict=True)) + " |"]
    lines.append("|" + "|".join("-" * (width + 2) for width in widths) + "|")
    for row in cells:
        lines.append(
            "| "
            + " | ".join(
                text.ljust(width) if i == 0 else text.rjust(width)
                for i, (text, width) in enumerate(zip(row, widths, strict=True))
            )
            + " |"
        )
    return "\n".join(lines)


def machine() -> dict[str, object]:
    """Cores, CPU model, memory and load: the context every number needs."""
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory_kb = 0
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_kb = int(line.split()[1])
    return {
        "nproc": os.cpu_count(),
        "cpu": model or platform.processor(),
        "memory_gb": round(memory_kb / 2**20, 1),
        "load_average": [round(value, 1) for value in os.getloadavg()],
        "python": platform.python_version(),
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
    }


def machine_line() -> str:
    info = machine()
    load = ", ".join(str(value) for value in info["load_average"])
    return f"{info['date']}  {info['nproc']} cores, {info['cpu']}, {info['memory_gb']} GB; load average {load}"


def record(name: str, results: object) -> Path:
    """Write ``bench/out/<name>.json`` (gitignored) with the machine and the results."""
    OUT_DIR.mkdir(exist_ok=True)
    path = OUT_DIR / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), "results": results}, indent=2, default=str))
    return path


def verdict(ratio: float, goal: float | None) -> str:
    if goal is None or math.isnan(ratio):
        return ""
    return "ok" if ratio <= goal else "OVER"
