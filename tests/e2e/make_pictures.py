"""Write the home page's lesson thumbnails and the README's screenshot from the running app.

    .venv/bin/python -m tests.e2e.make_pictures

Starts the app, opens every lesson in headless Chromium at a projector's 1280 x 720,
and saves ``assets/thumbnails/<slug>.png`` (the top of the lesson's main panel, scaled
down) and ``assets/screenshot.png`` (the convolution lesson, whole window). Re-run it
when a page's look changes; the pictures are committed, the app never makes them.
"""

from __future__ import annotations

import io

from PIL import Image
from playwright.sync_api import sync_playwright

from pages.registry import LESSONS
from tests.conftest import ROOT
from tests.e2e import harness

THUMBNAIL_SIZE = (480, 270)
WINDOW = {"width": 1280, "height": 720}
TOP, SIDE_MARGIN = 170, 60  # pixels of the window left out of a thumbnail
# Settings that show a lesson at its best in a small picture.
LINKS = {"filter_viz": "&fviz.layer=features.0"}


def main() -> None:
    thumbnails = ROOT / "assets" / "thumbnails"
    thumbnails.mkdir(parents=True, exist_ok=True)
    with harness.serve() as server, sync_playwright() as playwright:
        browser = harness.launch_chromium(playwright)
        for lesson in LESSONS:
            page = browser.new_context(viewport=WINDOW).new_page()
            page.add_init_script(harness.PROBE_JS)
            link = f"{server.url}/{lesson.slug}?lang=en" + LINKS.get(lesson.slug, "")
            harness.open_app(page, link)
            if lesson.slug == "filter_viz":  # its picture forms only after Run
                with harness.rerun(page, timeout=180):
                    page.get_by_role("button", name="Run", exact=True).click()
            # Below the title and the introduction (the card on the home page says those).
            box = page.locator(harness.MAIN).bounding_box()
            width = box["width"] - 2 * SIDE_MARGIN
            if lesson.slug == "filter_viz":  # show the result, not the controls above it
                page.locator(f"{harness.MAIN} [data-testid='stImage']").first.scroll_into_view_if_needed()
                top = page.locator(f"{harness.MAIN} [data-testid='stImage']").first.bounding_box()["y"] - 40
                clip = {"x": box["x"] + SIDE_MARGIN, "y": top, "width": width, "height": width * 9 / 16}
                shot = Image.open(io.BytesIO(page.screenshot(clip=clip)))
            else:
                clip = {"x": box["x"] + SIDE_MARGIN, "y": TOP, "width": width, "height": width * 9 / 16}
                shot = Image.open(io.BytesIO(page.screenshot(clip=clip, full_page=True)))
            shot.convert("RGB").resize(THUMBNAIL_SIZE, Image.Resampling.LANCZOS).save(
                thumbnails / f"{lesson.slug}.png", optimize=True
            )
            if lesson.slug == "convolution":
                page.screenshot(path=ROOT / "assets" / "screenshot.png")
            page.context.close()
            print(f"{lesson.slug}: done")
        browser.close()


if __name__ == "__main__":
    main()
