"""Readable on a projector: every page at 1024x768 and 1280x720, in English and Chinese.

For each page (home + every lesson in ``pages/registry.py``) and language, one tab opens the
page at 1280x720, is checked, then is resized to 1024x768 and checked again (a resize only
re-lays the page out; no rerun). The checks find their elements by DOM, not by page text, so
they keep guarding pages whose controls change:

- no widget label is cut off: widget labels, the value a drop-down shows, radio and segmented
  options, button texts, tab labels, metric labels and expander titles: no such element (or one
  inside it) is wider (or, when it hides overflow, taller) than its box;
- no visible text in the main area is smaller than 12 px on screen: HTML text by its computed
  font size, SVG text by its font size times the SVG's scale on screen (a chart drawn at 600
  user units and shown 400 px wide writes 13-unit text at 8.7 px);
- nothing written is cut off unreachably: text that spills out of a box that hides its
  overflow (a grid or a matrix wider than its column must scroll instead);
- no formula or chart is wider than its column (it would scroll, and its end go unseen);
- the page itself is not wider than the window (nothing hangs off its right edge).

Some pages are also checked in their most crowded state (``CROWDED``), e.g. step by step's
largest grid with the most padding. Screenshots of every page, size and language are left in
``tests/e2e/screenshots/projector/`` for people to look at.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.e2e import harness
from tests.e2e.pages_under_test import PAGES, AppPage

pytestmark = pytest.mark.e2e

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots" / "projector"
#: Projector sizes, checked in this order (a tab opens at the first and is resized to the next).
SIZES = ({"width": 1280, "height": 720}, {"width": 1024, "height": 768})
LANGUAGES = ("en", "zh")
#: The smallest text a class can read on a projector, in CSS pixels.
MIN_FONT_PX = 12.0

#: URL settings that put a page in its most crowded state, checked besides its default state.
CROWDED: dict[str, str] = {
    "conv_steps": "steps.size=10&steps.padding=3",  # the largest grid, padded: 16 x 16, and a wide im2col matrix
    "activations": "act.functions=leaky_relu,prelu,elu,softplus,rrelu",  # four parameter sliders on the view, two off it
    "pooling": "pool.grid.size=10&pool.kernel=5&pool.stride=1&pool.padding=2&pool.cell=55",  # 14 x 14 and 10 x 10
    "feature_maps": "fmap.network=shapes",  # the shapes network: the attribution panel says what was measured
}

# Widgets whose text must show whole: each widget and every element inside it (a drop-down
# shows its value in an <input>; a segmented control hides what it scrolls, with no scroll bar).
LABELS_JS = """
(main) => {
  const WIDGETS = [
    '[data-testid="stWidgetLabel"]',                                  // every widget's label
    '[data-testid="stSelectbox"]', '[data-testid="stMultiSelect"]',   // their values
    '[data-testid="stRadio"]',                                        // radio options
    '[data-testid="stButtonGroup"]',                                  // segmented control, pills
    '[data-testid="stButton"]', '[data-testid="stDownloadButton"]', '[data-testid="stFormSubmitButton"]',
    '[data-testid="stPageLink"]',
    '[data-testid="stTabs"] [role="tablist"]', '[data-baseweb="tab"]', // tab labels, and tabs out of sight
    '[data-testid="stMetric"]',                                       // metric labels and values
    '[data-testid="stCheckbox"]',                                     // checkboxes and toggles
    '[data-testid="stExpander"] summary',
  ];
  const visible = (element) => element.checkVisibility({visibilityProperty: true, opacityProperty: true});
  const hides = (value) => value === 'hidden' || value === 'clip';
  const cut = [];
  const seen = new Set();
  for (const widget of main.querySelectorAll(WIDGETS.join(','))) {
    for (const element of [widget, ...widget.querySelectorAll('*')]) {
      if (seen.has(element) || !visible(element) || element instanceof SVGElement) continue;
      seen.add(element);
      const text = (element.tagName === 'INPUT' ? element.value : element.innerText || '').trim();
      if (!text || element.clientWidth === 0) continue;
      const style = getComputedStyle(element);
      if (style.clip !== 'auto' || style.clipPath !== 'none') continue;  // for screen readers only
      const wide = element.scrollWidth > element.clientWidth + 1;
      const tall = hides(style.overflowY) && element.scrollHeight > element.clientHeight + 2;
      if (wide || tall) cut.push(`${text.slice(0, 60)} (${element.scrollWidth}x${element.scrollHeight} in ${element.clientWidth}x${element.clientHeight})`);
    }
  }
  return [...new Set(cut)];
}
"""

# Every visible text node in the main area: its size on screen, and whether a box that hides
# its overflow cuts it off. Small text is grouped by size and place (the nearest element with a
# test id, and a figure's caption), with a few examples.
TEXT_JS = """
([main, minimum]) => {
  const small = new Map();
  const clipped = new Set();
  let smallest = Infinity;
  const hides = (value) => value === 'hidden' || value === 'clip';
  const place = (element) => {
    const holder = element.closest('[data-testid]');
    const figure = element.closest('figure, svg');
    const caption = figure && figure.querySelector('figcaption, text');
    return (holder ? holder.getAttribute('data-testid') : '?')
      + (caption ? ` "${caption.textContent.trim().slice(0, 40)}"` : '');
  };
  const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
  const checked = new Set();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent.trim();
    const element = node.parentElement;
    if (!text || !element || checked.has(element)) continue;
    checked.add(element);
    if (!element.checkVisibility({visibilityProperty: true, opacityProperty: true})) continue;
    if (element.closest('.katex-mathml, title, style, script')) continue;  // never drawn
    const range = document.createRange();
    range.selectNodeContents(node);
    const box = range.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;  // collapsed: nothing drawn
    let size = parseFloat(getComputedStyle(element).fontSize);
    if (element instanceof SVGElement) {
      const matrix = element.getScreenCTM();  // user units -> screen pixels
      if (matrix) size *= Math.sqrt(Math.abs(matrix.a * matrix.d - matrix.b * matrix.c));
    }
    smallest = Math.min(smallest, size);
    if (size < minimum - 0.05) {
      const key = `${size.toFixed(1)} px in ${place(element)}`;
      const group = small.get(key) || {count: 0, examples: []};
      group.count += 1;
      if (group.examples.length < 4) group.examples.push(text.slice(0, 30));
      small.set(key, group);
    }
    // The nearest ancestor that hides horizontal overflow: does the text reach past it?
    for (let frame = element.parentElement; frame && frame !== document.body; frame = frame.parentElement) {
      const style = getComputedStyle(frame);
      if (style.overflowX === 'visible' && !hides(style.overflowY)) continue;
      if (!hides(style.overflowX)) break;  // auto or scroll: the reader can scroll to it
      const edges = frame.getBoundingClientRect();
      if (box.right > edges.right + 1 || box.left < edges.left - 1) clipped.add(`${text.slice(0, 40)} in ${place(element)}`);
      break;
    }
  }
  const list = [...small.entries()].map(([key, group]) => `${key} (${group.count}x, e.g. ${group.examples.join(' | ')})`);
  return {smallest, small: list.slice(0, 20), clipped: [...clipped].slice(0, 20)};
}
"""

# Whether the page hangs off the window's right edge.
OVERFLOW_JS = """
() => {
  const root = document.scrollingElement || document.documentElement;
  const main = document.querySelector('[data-testid="stMain"]');
  return {page: Math.max(root.scrollWidth - window.innerWidth, main ? main.scrollWidth - main.clientWidth : 0)};
}
"""


# Formulas wider than their column: KaTeX lets them scroll, but nobody scrolls a formula on a
# projector, so its end (the result) is simply missing from the picture the class sees.
FORMULAS_JS = """
(main) => {
  const wide = [];
  for (const formula of main.querySelectorAll('.katex-display')) {  // st.latex, $$ in markdown
    if (formula.checkVisibility() && formula.scrollWidth > formula.clientWidth + 1) {
      const source = (formula.querySelector('annotation') || formula).textContent.trim().slice(0, 50);
      wide.push(`${source} (${formula.scrollWidth} px in ${formula.clientWidth})`);
    }
  }
  for (const formula of main.querySelectorAll('math')) {  // MathML drawn by the scrubbing view
    const column = formula.parentElement;
    if (formula.closest('.katex') || !formula.checkVisibility() || !column) continue;
    const width = formula.getBoundingClientRect().width;
    if (width > column.clientWidth + 1) wide.push(`${formula.textContent.trim().slice(0, 50)} (${Math.round(width)} px in ${column.clientWidth})`);
  }
  return wide;
}
"""


# Charts (cnnviz.drawing.charts, role="img") that hang past the box that scrolls them: the class sees a
# chart cut at its column's edge. (Wide number grids and matrices may scroll: they are read cell by cell.)
CHARTS_JS = """
(main) => {
  const cut = [];
  for (const chart of main.querySelectorAll('svg[role="img"]')) {
    if (!chart.checkVisibility()) continue;
    const box = chart.getBoundingClientRect();
    for (let frame = chart.parentElement; frame && frame !== main; frame = frame.parentElement) {
      const overflow = getComputedStyle(frame).overflowX;
      if (overflow === 'visible') continue;
      const edges = frame.getBoundingClientRect();
      if (box.right > edges.right + 1 || box.left < edges.left - 1) {
        const title = chart.querySelector('text');
        cut.push(`${title ? title.textContent.trim().slice(0, 40) : 'a chart'} (${Math.round(box.width)} px in ${Math.round(edges.width)})`);
      }
      break;
    }
  }
  return cut;
}
"""


def _problems(tab: Page) -> list[str]:
    """What makes the page hard to read on a projector at its current size, one line each."""
    main = tab.locator(harness.MAIN).element_handle()
    problems = [f"label cut off: {label}" for label in tab.evaluate(LABELS_JS, main)]
    text = tab.evaluate(TEXT_JS, [main, MIN_FONT_PX])
    problems += [f"text under {MIN_FONT_PX:g} px: {item}" for item in text["small"]]
    problems += [f"text cut off (no scrolling): {item}" for item in text["clipped"]]
    problems += [f"formula wider than its column: {item}" for item in tab.evaluate(FORMULAS_JS, main)]
    problems += [f"chart wider than its column: {item}" for item in tab.evaluate(CHARTS_JS, main)]
    overflow = tab.evaluate(OVERFLOW_JS)
    if overflow["page"] > 1:
        problems.append(f"the page is {overflow['page']} px wider than the window (it scrolls sideways)")
    return problems


def _screenshot(tab: Page, size: dict, path: Path) -> None:
    """The whole page at this width. The main area scrolls inside the window (a full-page
    screenshot would show the window only), so the window is made as tall as the page for it."""
    height = tab.evaluate(f"() => document.querySelector('{harness.MAIN}').scrollHeight")
    tab.set_viewport_size({"width": size["width"], "height": max(size["height"], min(height, 12000))})
    tab.wait_for_timeout(200)
    tab.screenshot(path=path)
    tab.set_viewport_size(size)


def _cases() -> list[tuple[AppPage, str, str]]:
    """(page, language, query) for every page and language, plus the crowded states."""
    cases = [(app_page, lang, "") for app_page in PAGES for lang in LANGUAGES]
    cases += [
        (app_page, lang, CROWDED[app_page.slug]) for app_page in PAGES if app_page.slug in CROWDED for lang in LANGUAGES
    ]
    return cases


def _case_id(case: tuple[AppPage, str, str]) -> str:
    app_page, lang, query = case
    return f"{app_page.slug}-{lang}" + ("-crowded" if query else "")


@pytest.mark.parametrize("case", _cases(), ids=_case_id)
def test_page_is_readable_on_a_projector(tab: Page, app_server: harness.AppServer, case):
    """No label cut off, no text under 12 px, nothing cut off, at both sizes; screenshots of each."""
    app_page, lang, query = case
    tab.set_viewport_size(SIZES[0])
    harness.open_app(tab, f"{app_server.url}/{app_page.url_path}?lang={lang}" + (f"&{query}" if query else ""))
    assert harness.error_texts(tab) == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    found = {}
    for size in SIZES:
        if size is not SIZES[0]:
            tab.set_viewport_size(size)
            tab.wait_for_timeout(300)  # a resize only re-lays the page out: nothing reruns
        found[f"{size['width']}x{size['height']}"] = _problems(tab)
        _screenshot(tab, size, SCREENSHOTS / f"{_case_id(case)}-{size['width']}.png")
    report = "\n".join(f"  {size}: {problem}" for size, problems in found.items() for problem in problems)
    assert not report, f"{_case_id(case)} is hard to read on a projector:\n{report}"
