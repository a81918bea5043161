"""What every desk page shares (issue 9 §5–7), in headless Chromium against the live server: the to-do
inbox (待办) in the header, the basemaps (高德's GCJ-02 tiles shifted onto WGS84 data; a notice in
words when tiles fail) and the API docs served without internet.

The internet is not reachable here: basemap tile hosts are answered by `context.route` (a plain PNG,
or a failure on purpose). The database is read only before and after `sync_playwright()`.
Screenshots (README: "Screenshots") land in .local/screenshots/desk/, at 390×844 and 1440×900.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from clues.models import Clue, Notification
from clues.tasks import sweep_deadlines
from clues.workflow import clue_step
from gis_data.coords import wgs84_to_gcj02
from tests.clues.conftest import PEOPLE, people, register  # noqa: F401 - people is a fixture
from tests.clues.hidden import HIDDEN, hidden_world
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, TILE_HOSTS, route_basemap_tiles

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / ".local" / "screenshots" / "desk"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}
PASSWORD = "pw-desk-shell-1"
WAIT_MS = 15_000
DAY = timezone.timedelta(days=1)


class Desk:
    """A signed-in browser context on the live server that records console errors."""

    def __init__(self, browser, base_url: str, *, viewport=DESKTOP, tiles: str = "png"):
        options = {"viewport": viewport, "locale": "zh-CN", "base_url": base_url}
        if viewport == PHONE:
            options.update(is_mobile=True, has_touch=True)
        self.context = browser.new_context(**options)
        if tiles == "png":
            route_basemap_tiles(self.context)
        else:  # "fail": the map service cannot be reached
            for host in TILE_HOSTS:
                self.context.route(host, lambda route: route.abort("internetdisconnected"))
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.expected: list[str] = []  # console messages the test causes on purpose
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))

    def _console(self, message) -> None:
        if message.type == "error" and not any(text in message.text for text in self.expected):
            self.errors.append(f"{self.page.url}: {message.text} ({message.location.get('url')})")

    def sign_in(self, username: str, next_url: str = "/clues/", *, desk_page: bool = True) -> None:
        page = self.page
        page.goto(f"/login/?next={next_url}")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"**{next_url}", timeout=WAIT_MS)
        if desk_page:
            self.wait_inbox()

    def wait_inbox(self) -> None:
        self.page.wait_for_selector("#inbox-count:not([hidden])", timeout=WAIT_MS)

    def count(self) -> int:
        return int(self.page.inner_text("#inbox-count"))

    def open_inbox(self) -> None:
        if self.page.get_attribute("#inbox-toggle", "aria-expanded") != "true":
            self.page.click("#inbox-toggle")
        self.page.wait_for_selector("#inbox-counts", timeout=WAIT_MS)

    def shot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


@contextmanager
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def staff(transactional_db, people):  # noqa: F811 - the fixture imported above
    """tests/clues/conftest.py's people (甲区 990001, 乙区 990002), each with a password to sign in with."""
    for name, _, _ in PEOPLE:
        people[name].set_password(PASSWORD)
        people[name].save()
    return people


def sent_clue(users, east_m: float) -> Clue:
    clue = register(users["west_ro"], "990001-RCO", east_m, 1_050)
    return clue_step(clue=clue, user=users["west_ro"], step="send")


def test_the_inbox_shows_the_swept_deadline_opens_its_clue_and_marking_read_lowers_the_count(live_server, staff):
    users = staff
    clues = [sent_clue(users, 3_000), sent_clue(users, 6_000)]
    due = clues[0].transfers.get().first_answer_due
    sweep_deadlines(today=(due + DAY).isoformat())  # both first answers overdue: west_proc is told
    notified = Notification.objects.filter(user=users["west_proc"], kind="first_answer_overdue")
    assert notified.count() == 2
    codes = {clue.code: clue.pk for clue in clues}

    with chromium() as browser:
        desk = Desk(browser, live_server.url)
        desk.sign_in("west_proc")
        assert desk.count() == 2  # two unread; the first answers themselves are due in a month
        desk.open_inbox()
        listed = desk.page.inner_text("#inbox-notifications")
        assert all(code in listed for code in codes)
        assert "首次答复已逾期" in listed
        due_from_me = desk.page.inner_text("#inbox-due")
        assert all(code in due_from_me for code in codes)
        desk.shot("shell-inbox-desktop")

        # Opening a notification goes to its clue and marks it read.
        first = desk.page.locator("#inbox-notifications li.unread a").first
        code = next(code for code in codes if code in first.inner_text())
        first.click()
        desk.page.wait_for_url(f"**/clues/{codes[code]}/", timeout=WAIT_MS)
        desk.wait_inbox()
        assert desk.count() == 1

        # Mark all read: nothing unread is left, the button says so.
        desk.open_inbox()
        desk.page.click("#inbox-read-all")
        desk.page.wait_for_function("document.querySelector('#inbox-count').textContent === '0'", timeout=WAIT_MS)
        assert desk.page.is_disabled("#inbox-read-all")
        assert desk.page.locator("#inbox-notifications li.unread").count() == 0

        # The language switch keeps working on a desk page, the inbox with it, and keeps the page's query.
        # The review map writes its filters and view into the query (clues.js): the switch keeps them.
        desk.page.goto("/clues/?status=accepted&district=990001")
        desk.wait_inbox()
        desk.page.wait_for_function("location.search.includes('map=')", timeout=WAIT_MS)
        kept = desk.page.evaluate("location.search.slice(1)")
        assert "status=accepted" in kept and "district=990001" in kept
        desk.page.click(".desk-top a.lang")
        # (The server takes ?lang=, keeps the choice and redirects to the page without it.)
        desk.page.wait_for_function("document.documentElement.lang === 'en'", timeout=WAIT_MS)
        assert parse_qs(urlsplit(desk.page.url).query) == parse_qs(kept)
        desk.wait_inbox()
        assert desk.page.get_attribute("html", "lang") == "en"
        desk.open_inbox()
        assert "Due from me" in desk.page.inner_text("#inbox-panel")
        assert "first answer on clue" in desk.page.inner_text("#inbox-notifications")
        desk.page.goto("/clues/?lang=zh-hans")
        desk.wait_inbox()
        assert not desk.errors, desk.errors

        phone = Desk(browser, live_server.url, viewport=PHONE)
        phone.sign_in("west_proc", "/liaison/")
        phone.open_inbox()
        phone.shot("shell-inbox-phone")
        box = phone.page.locator("#inbox-panel").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]  # the panel fits the phone
        assert not phone.errors, phone.errors

    assert not Notification.objects.filter(user=users["west_proc"], read_at__isnull=True).exists()


def test_a_river_office_users_inbox_shows_no_hidden_clue(live_server, staff, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    w = hidden_world(staff)
    viewer = staff["west_ro"]
    # 乙区's clue, confidential too: another district's confidential clue; and 甲区's confidential clue
    # held by its procuratorate. (secret_ro is the river office's own: west_ro holds it and sees it.)
    Clue.objects.filter(pk=w["hidden"]["other"].pk).update(confidential=True)
    hidden = [w["hidden"]["other"], w["hidden"]["secret_proc"]]
    # Notifications the user got before the clues were hidden from them go with the clues; the sweep
    # (all deadlines overdue) tells them only of what they may see.
    for clue in hidden:
        Notification.objects.create(
            user=viewer, key=f"old:{clue.pk}", clue=clue, kind="feedback_overdue", message=HIDDEN
        )
    sweep_deadlines(today=(timezone.localdate() + 200 * DAY).isoformat())
    told = Notification.objects.filter(user=viewer, read_at__isnull=True).exclude(clue__in=hidden)
    assert told.exists()
    assert not Clue.objects.visible_to(viewer).filter(pk__in=[c.pk for c in hidden]).exists()

    with chromium() as browser:
        desk = Desk(browser, live_server.url)
        desk.sign_in("west_ro")
        desk.open_inbox()
        desk.page.wait_for_selector("#inbox-notifications li", timeout=WAIT_MS)
        text = desk.page.inner_text("#inbox-panel")
        links = desk.page.eval_on_selector_all("#inbox-panel a", "links => links.map(a => a.getAttribute('href'))")
        assert not desk.errors, desk.errors
    assert HIDDEN not in text
    for clue in hidden:
        assert not Clue.objects.visible_to(viewer).filter(pk=clue.pk).exists()
        assert clue.code not in text
        assert not [href for href in links if href.startswith(f"/clues/{clue.pk}/")]
    # What west_ro may see is there: the half-yearly transfer names its oldest unsent clue, its own secret_ro.
    assert w["hidden"]["secret_ro"].code in text and "定期移送已逾期" in text


def view_settle(page, map_name: str, lat: float, lon: float, zoom: int) -> None:
    """Show (lat, lon) at `zoom` on the map, asking again while a view still in flight overrides it (the
    admin widget fits its geometry when it loads; on a slow machine that came after a plain setView)."""
    page.wait_for_function(
        """([mapName, lat, lon, zoom]) => {
            const map = window[mapName];
            if (map.getZoom() === zoom && map.getCenter().distanceTo([lat, lon]) < 1) return true;
            map.setView([lat, lon], zoom, {animate: false});
            return false;
        }""",
        arg=[map_name, lat, lon, zoom],
        polling=200,
        timeout=WAIT_MS,
    )


def street_error_m(page, map_name: str, tiles: str, wgs: tuple[float, float], zoom: int) -> float:
    """Return how far (metres) from the WGS84 point `wgs` the page draws the street under it: where the
    GCJ-02 tile holding the point's GCJ-02 position puts that position (Web Mercator at `zoom`)."""
    gcj = wgs84_to_gcj02(*wgs)
    scale = 256 * 2**zoom
    px = (gcj[0] + 180) / 360 * scale
    lat = math.radians(gcj[1])
    py = (1 - math.log(math.tan(lat) + 1 / math.cos(lat)) / math.pi) / 2 * scale
    tile_x, tile_y = int(px // 256), int(py // 256)
    # The tile is drawn once it has loaded where the map put it (after a setView it may still be coming).
    page.wait_for_function(
        """([tiles, x, y, z]) => [...document.querySelectorAll(`${tiles} img.leaflet-tile-loaded`)]
            .some(i => i.src.includes(`x=${x}&y=${y}&z=${z}`))""",
        arg=[tiles, tile_x, tile_y, zoom],
        timeout=WAIT_MS,
    )
    drawn = page.evaluate(
        """([mapName, tiles, x, y, z, lat, lon]) => {
            const map = window[mapName];
            const img = [...document.querySelectorAll(`${tiles} img`)]
                .find(i => i.src.includes(`x=${x}&y=${y}&z=${z}`));
            const box = img.getBoundingClientRect();
            const frame = map.getContainer().getBoundingClientRect();
            const point = map.latLngToContainerPoint([lat, lon]);
            return {left: box.left, top: box.top, x: frame.left + point.x, y: frame.top + point.y};
        }""",
        [map_name, tiles, tile_x, tile_y, zoom, wgs[1], wgs[0]],
    )
    street = (drawn["left"] + px - tile_x * 256, drawn["top"] + py - tile_y * 256)
    metres_per_px = 2 * math.pi * 6_378_137 * math.cos(math.radians(wgs[1])) / scale
    return math.dist(street, (drawn["x"], drawn["y"])) * metres_per_px


def test_gcj02_tiles_are_shifted_onto_wgs84_data_and_failing_tiles_are_told(live_server, staff):
    # 綦江 古南街道 (WGS84), the demo area's centre; its GCJ-02 position from the server's conversion.
    wgs = (106.6515, 29.0281)
    amap = [
        {
            "id": "amap",
            "gcj02": True,
            "layers": [{"url": "https://webrd0{s}.is.autonavi.com/appmaptile?x={x}&y={y}&z={z}", "subdomains": "1234"}],
        }
    ]
    with chromium() as browser:
        desk = Desk(browser, live_server.url, tiles="png")
        desk.sign_in("west_proc")
        desk.page.evaluate(
            """([lat, lon, basemaps]) => {
                const div = document.createElement("div");
                div.id = "test-map";
                div.style.cssText = "position:fixed;left:0;top:0;width:600px;height:400px;z-index:5000";
                document.body.append(div);
                window.testMap = desk.map(div, {center: [lat, lon], zoom: 16, basemaps});
            }""",
            [wgs[1], wgs[0], amap],
        )
        desk.page.wait_for_selector("#test-map .basemap-tiles img.leaflet-tile-loaded", timeout=WAIT_MS)
        error_m = street_error_m(desk.page, "testMap", "#test-map .basemap-tiles", wgs, 16)
        assert error_m < 5, error_m
        assert not desk.errors, desk.errors

        # The map service cannot be reached: the page says so in words; the data layers still draw.
        failing = Desk(browser, live_server.url, tiles="fail")
        failing.expected.append("net::ERR_INTERNET_DISCONNECTED")
        failing.sign_in("west_proc")
        failing.page.evaluate(
            """([lat, lon]) => {
                const div = document.createElement("div");
                div.style.cssText = "width:600px;height:400px";
                document.querySelector("main").append(div);
                const map = desk.map(div, {center: [lat, lon], zoom: 14});
                window.dataLayer = L.circleMarker([lat, lon], {radius: 8}).addTo(map);
            }""",
            [wgs[1], wgs[0]],
        )
        failing.page.wait_for_selector("#notice:not([hidden])", timeout=WAIT_MS)
        notice = failing.page.inner_text("#notice")
        assert "底图" in notice and "加载失败" in notice and "数据图层仍可使用" in notice
        assert failing.page.evaluate("() => dataLayer._map !== null && dataLayer._map !== undefined")
        failing.shot("shell-basemap-failed-desktop")
        # The switcher offers the configured choice; the plain background needs no internet.
        # (The page signed in on, the review map, has a switcher of its own: this is the test map's.)
        switcher = failing.page.locator("main > div:last-child .leaflet-control-layers-base")
        assert [name.strip() for name in switcher.locator("label").all_inner_texts()] == [
            "OpenStreetMap",
            "高德地图",
            "高德影像",
            "空白底图",
        ]
        failing.page.hover("main > div:last-child .leaflet-control-layers")
        switcher.locator("label:has-text('空白底图') input").check()
        failing.page.wait_for_selector("#notice", state="hidden", timeout=WAIT_MS)
        assert failing.page.locator(".leaflet-container.basemap-blank").count() == 1
        assert not failing.errors, failing.errors


def test_the_api_docs_render_with_the_network_blocked(live_server, staff):
    with chromium() as browser:
        desk = Desk(browser, live_server.url)
        outside: list[str] = []

        def block(route) -> None:
            if route.request.url.startswith(live_server.url):
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort("internetdisconnected")

        desk.context.route("**/*", block)
        # Straight to the docs: a desk page's map would ask for basemap tiles (the basemap tests' matter).
        desk.sign_in("west_proc", "/api/v1/docs/", desk_page=False)
        desk.page.wait_for_selector(".swagger-ui .info .title", timeout=WAIT_MS)
        assert "河长+检察长 API" in desk.page.inner_text(".swagger-ui .info .title")
        desk.page.wait_for_selector(".swagger-ui .opblock-tag", timeout=WAIT_MS)
        # ReDoc's sidebar asks cdn.redoc.ly for a logo whatever its options: the page's CSP refuses it
        # before any request leaves the browser (the refusal is the one console message allowed).
        desk.expected.append("'https://cdn.redoc.ly/redoc/logo-mini.svg' violates")
        desk.page.goto("/api/v1/redoc/")
        desk.page.wait_for_selector("h1:has-text('河长+检察长 API')", timeout=WAIT_MS)
        assert not outside, outside
        assert not desk.errors, desk.errors
        # Signed out, the docs are refused (issue 7: schema and docs for signed-in users only).
        desk.context.clear_cookies()
        assert desk.page.goto("/api/v1/docs/").status in (401, 403)


def test_the_admins_map_widget_shifts_amap_tiles_too(live_server, staff):
    from django.contrib.auth import get_user_model

    from rivers.models import Reach

    get_user_model().objects.create_superuser("root", "root@example.org", PASSWORD)
    reach = Reach.objects.get(code="INSIDE")
    with chromium() as browser:
        desk = Desk(browser, live_server.url, tiles="png")
        # django-leaflet announces each map it makes: keep the widget's for the test.
        desk.context.add_init_script("addEventListener('map:init', (e) => { window.adminMap = e.detail.map; })")
        page = desk.page
        page.goto(f"/admin/login/?next=/admin/rivers/reach/{reach.pk}/change/")
        page.fill("#id_username", "root")
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_selector(".leaflet-container img.leaflet-tile-loaded", timeout=WAIT_MS)
        assert "autonavi" in page.evaluate("() => document.querySelector('.leaflet-tile-loaded').src")
        # Centre the widget on a point of the reach at street zoom: the street lies under the data.
        center = reach.geom.centroid
        view_settle(page, "adminMap", center.y, center.x, 16)
        error_m = street_error_m(page, "adminMap", ".leaflet-container .leaflet-tile-pane", (center.x, center.y), 16)
        assert error_m < 5, error_m
        assert not desk.errors, desk.errors
