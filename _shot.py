import sys
from playwright.sync_api import sync_playwright
from tests.e2e import harness
paths = sys.argv[1:]
with harness.serve("app.py") as app, sync_playwright() as pw:
    browser = harness.launch_chromium(pw)
    page = harness.new_tab(browser)
    for path in paths:
        harness.open_app(page, f"{app.url}/{path}")
        page.wait_for_timeout(1500)
        name = path.split("?")[0] or "home"
        page.screenshot(path=f"/tmp/b/shot_{name}.png", full_page=True)
        print(name, harness.error_texts(page))
    browser.close()
