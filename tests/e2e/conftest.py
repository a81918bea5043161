"""Browser tests: Debian's Chromium driven by Playwright (browser downloads do not work here)."""

import os

import pytest

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture
def browser_page():
    """Yield a phone-sized page in headless Chromium; the ORM must not be used while it is open."""
    from playwright.sync_api import sync_playwright

    # Playwright runs an event loop in this thread; Django would refuse ORM calls made meanwhile.
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 412, "height": 860}, locale="zh-CN")
        # The basemap is on the internet, which the tests do not reach: answer tile requests empty.
        context.route("https://tile.openstreetmap.org/**", lambda route: route.fulfill(status=204))
        page = context.new_page()
        yield page
        browser.close()
