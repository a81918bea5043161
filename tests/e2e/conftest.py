"""Browser tests: Debian's Chromium driven by Playwright (browser downloads do not work here)."""

import os
import struct
import zlib

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


# The basemaps' tile hosts (frontend/basemaps.py): the internet is not reachable from the tests.
TILE_HOSTS = ("https://tile.openstreetmap.org/**", "https://*.is.autonavi.com/**", "https://*.tianditu.gov.cn/**")


def png_tile() -> bytes:
    """A 256×256 light-grey PNG: a tile that loads (an empty answer is a failed tile, and the desk's maps
    say so in #notice)."""
    raw = b"".join(b"\0" + b"\xdd\xe3\xe8" * 256 for _ in range(256))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 256, 256, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def route_basemap_tiles(context) -> None:  # noqa: ANN001 - a Playwright BrowserContext
    """Answer every basemap tile request of `context` with a plain grey tile."""
    tile = png_tile()
    for host in TILE_HOSTS:
        context.route(host, lambda route: route.fulfill(status=200, body=tile, content_type="image/png"))


@pytest.fixture
def browser_page():
    """Yield a phone-sized page in headless Chromium; the ORM must not be used while it is open."""
    from playwright.sync_api import sync_playwright

    # Playwright runs an event loop in this thread; Django would refuse ORM calls made meanwhile.
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 412, "height": 860}, locale="zh-CN")
        # The basemaps are on the internet, which the tests do not reach: answer tile requests with a plain tile.
        route_basemap_tiles(context)
        page = context.new_page()
        yield page
        browser.close()
