"""The network map in a real browser: sign in, see the Qijiang layers, tap a reach, read the routing."""

from pathlib import Path

import pytest

from gis_data.bundle import bundle_load
from rivers.members import member_add
from rivers.models import Agency, Reach

QIJIANG = Path(__file__).resolve().parents[2] / "gis_data" / "samples" / "qijiang"
SCREENSHOTS = Path(__file__).resolve().parents[2] / ".local" / "screenshots"

pytestmark = pytest.mark.e2e


@pytest.fixture
def qijiang(transactional_db):
    bundle_load(QIJIANG)
    member_add(
        username="reviewer", agency=Agency.objects.get(code="500110-PROC"), role="prosecutor", password="pw-reviewer-1"
    )
    # A point on the cross-district reach 綦江干流三江—广兴段 (a vertex of it, from the sample's README).
    crossing = Reach.objects.get(code="R500110-006")
    return {"reach_name": crossing.name, "point": (106.597499, 29.093546), "reach_count": Reach.objects.count()}


def sign_in(page, base_url: str) -> None:
    page.goto(f"{base_url}/")
    page.fill("#id_username", "reviewer")
    page.fill("#id_password", "pw-reviewer-1")
    page.click("button[type=submit]")
    page.wait_for_selector("body[data-loaded=true]", timeout=15_000)


def tap(page, lon: float, lat: float) -> None:
    """Tap the map at lon/lat, converting to pixels with the page's own Leaflet map."""
    page.evaluate("([lat, lon]) => networkMap.setView([lat, lon], 15, {animate: false})", [lat, lon])
    x, y = page.evaluate(
        "([lat, lon]) => { const p = networkMap.latLngToContainerPoint([lat, lon]); return [p.x, p.y]; }", [lat, lon]
    )
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)


def test_tapping_a_cross_district_reach_shows_the_municipal_procuratorate(live_server, qijiang, browser_page):
    page = browser_page
    sign_in(page, live_server.url)
    count_reaches = "() => { let n = 0; networkMap.eachLayer(l => { if (l.feature?.properties.river) n++ }); return n }"
    drawn = page.evaluate(count_reaches)
    assert drawn == qijiang["reach_count"]

    tap(page, *qijiang["point"])
    page.wait_for_selector("#panel[data-reason]", timeout=10_000)
    panel = page.inner_text("#panel")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "network-map-cross-district.png"))
    assert page.get_attribute("#panel", "data-reason") == "cross_district"
    assert "重庆市人民检察院" in panel
    assert qijiang["reach_name"] in panel
    assert "500110-PROC" in panel and "500116-PROC" in panel


def test_map_requires_sign_in(live_server, browser_page):
    browser_page.goto(f"{live_server.url}/")
    assert "/login/" in browser_page.url
