"""What one element adds to a slider move in chromium, by kind of element.

Opens ``bench/element_app.py`` once per kind (20 elements; 5 for charts) and moves its slider
like ``bench.latency`` does (key press to settled page), the kinds interleaved move by move;
the reference is the same page with no elements (the floor), measured in the same run.

Run: ``python -m bench.element_costs [--changes 20]``
"""

from __future__ import annotations

import argparse
import sys

from playwright.sync_api import sync_playwright

from bench import common, latency
from tests.e2e import harness
from tests.e2e.pages_under_test import FIRST_SLIDER

#: (kind, how many on the page)
KINDS = [("none", 0), ("markdown_unchanged", 20), ("markdown", 20), ("html", 20), ("image", 20), ("latex", 20),
         ("columns", 20), ("container", 20), ("slider", 20), ("slider_columns", 5), ("slider_row", 5), ("composed", 20), ("component", 20), ("plotly", 5), ("plotly_unchanged", 5), ("vega", 5), ("svg", 5), ("svg_composed", 5), ("svg_img", 5), ("component_svg", 5), ("photo", 2), ("photo_inline", 2),
         ("grids_markdown", 6), ("grids_html", 6)]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=20, help="measured moves per kind")
    parser.add_argument("--kinds", nargs="+", help="measure only these kinds (the floor always)")
    args = parser.parse_args(argv)
    kinds = [(kind, count) for kind, count in KINDS if kind == "none" or not args.kinds or kind in args.kinds]
    cases = [latency.Case(kind, f"?kind={kind}&n={count}", FIRST_SLIDER) for kind, count in kinds]
    with harness.serve("bench/element_app.py") as app, sync_playwright() as playwright:
        browser = harness.launch_chromium(playwright)
        try:
            context = harness.new_context(browser)
            for case in cases:
                latency.open_case(context, app.url, case)
            for move in range(2 + args.changes):
                for case in cases:
                    sample = latency.press(case, 250, timeout_ms=60_000)
                    if move >= 2 and sample is not None:
                        case.settled.append(sample["settled"])
        finally:
            browser.close()
    floor = common.summary(cases[0].settled)["median"]
    rows, results = [], []
    for (kind, count), case in zip(kinds, cases, strict=True):
        median = common.summary(case.settled)["median"]
        each = (median - floor) / count if count else None
        rows.append([kind, count, median, common.summary(case.settled)["p95"], each if each is not None else "-"])
        results.append(
            {"kind": kind, "count": count, "settled_ms": common.summary(case.settled), "per_element_ms": each}
        )
    print(f"\nElement costs, key press to settled page ({common.machine_line()})")
    print(common.table(["kind", "elements", "median ms", "p95 ms", "ms per element (median)"], rows))
    common.record("element_costs", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
