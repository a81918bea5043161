"""The liaison dashboard (/liaison/, issue 9 §4) in headless Chromium against the live server.

The Qijiang demo bundle with its demo users' roles. This year 綦江区 (500110) had one valid joint patrol;
江津区 (500116), 巴南区 and 南川区 had none. 綦江区's river office registered three clues and sent them to
綦江区's procuratorate: one's first answer is overdue. 江津区's river office registered a confidential
clue that 綦江区's liaison office may not see. The database is read before and after the browser block
only (Django refuses ORM calls inside Playwright's event loop). Screenshots land in SCREENSHOTS
(README: "Screenshots"), at 390×844 and 1440×900.
"""

from __future__ import annotations

import datetime
import io
import re
import uuid
from pathlib import Path

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from clues.models import Clue, Transfer
from clues.registration import clue_register
from clues.workflow import clue_step
from gis_data.bundle import bundle_load
from patrols.models import FocusPlan, Patrol
from patrols.plans import focus_set, local_today
from rivers.members import member_add
from rivers.models import Agency, District, Reach
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
QIJIANG = REPO / "gis_data" / "samples" / "qijiang"
SCREENSHOTS = REPO / ".local" / "screenshots" / "desk"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}
PASSWORD = "pw-desk-liaison-1"
WAIT_MS = 20_000
DAY = datetime.timedelta(days=1)
# A vertex of 通惠河綦江城区段 R500110-009, wholly inside 綦江区 (gis_data/samples/qijiang/README.md).
QIJIANG_TOWN = (106.717455, 28.998568)
USERS = [
    ("qj_liaison", "500110-LIAISON", "liaison"),
    ("qj_river_office", "500110-RCO", "river_office"),
    ("qj_prosecutor", "500110-PROC", "prosecutor"),
    ("jj_river_office", "500116-RCO", "river_office"),
    ("cq_prosecutor", "500000-PROC", "prosecutor"),
]


def register(username: str, agency: str, lon: float, lat: float, **fields) -> Clue:
    user = Agency.objects.get(code=agency).memberships.get(user__username=username).user
    values = {"category": "illegal_sand_mining", "description": "河道非法采砂", "source": "river_office", **fields}
    return clue_register(
        user=user, agency=Agency.objects.get(code=agency), client_uuid=uuid.uuid4(), location=Point(lon, lat), **values
    ).clue


@pytest.fixture
def qijiang(transactional_db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    bundle_load(QIJIANG)
    users = {}
    for username, agency, role in USERS:
        membership, _ = member_add(
            username=username, agency=Agency.objects.get(code=agency), role=role, password=PASSWORD
        )
        users[username] = membership.user
    now = timezone.now()
    Patrol.objects.create(
        client_uuid=uuid.uuid4(),
        kind="joint",
        status="finished",
        district=District.objects.get(code="500110"),
        started_by=users["qj_river_office"],
        started_at=now - 2 * DAY,
        ended_at=now - 2 * DAY + datetime.timedelta(hours=2),
        length_m=4_000,
        duration_s=7_200,
        is_valid=True,
    )
    clues = []
    for index, category in enumerate(["illegal_sand_mining", "illegal_sand_mining", "illegal_discharge"]):
        lon, lat = QIJIANG_TOWN
        clue = register("qj_river_office", "500110-RCO", lon + index * 0.0005, lat, category=category)
        clue = clue_step(clue=clue, user=users["qj_river_office"], step="send")
        clues.append(clue_step(clue=clue, user=users["qj_prosecutor"], step="accept"))
    Transfer.objects.filter(clue=clues[0]).update(first_answer_due=local_today() - 4 * DAY)
    jiangjin = Reach.objects.get(code="R500116-002").geom[0]
    lon, lat = jiangjin[len(jiangjin) // 2]
    secret = register("jj_river_office", "500116-RCO", lon, lat, category="reclamation", confidential=True)
    assert secret.district.code == "500116" and clues[0].district.code == "500110"
    focus_set(
        user=users["qj_liaison"],
        district=District.objects.get(code="500110"),
        year=local_today().year,
        items=[("illegal_sand_mining", "綦江干流采砂"), ("river_cleanliness", "")],
        chief_order="2026年第1号总河长令",
    )
    # Set in January, before its Q1 due date; the work points were never set (overdue after 31 March).
    FocusPlan.objects.update(created_at=datetime.datetime(local_today().year, 1, 20, 10, tzinfo=datetime.UTC))
    return {"clues": clues, "secret": secret}


# Holds the focus API's answers back 0.5 s and records whether the focus was shown when the page said it
# was ready (data-ready): the plans load beside the map, and the map may well finish first.
FOCUS_LATE = """
const send = window.fetch.bind(window);
window.fetch = (input, init) => String(input).includes("/api/v1/focus/")
    ? new Promise((resume) => setTimeout(resume, 500)).then(() => send(input, init))
    : send(input, init);
new MutationObserver((changes, observer) => {
    const root = document.querySelector("#liaison");
    if (root && root.dataset.ready === "true") {
        window.focusShownAtReady = document.querySelector("#focus summary") !== null;
        observer.disconnect();
    }
}).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-ready"] });
"""


class Desk:
    """A signed-in browser context that records console errors and takes screenshots."""

    def __init__(self, browser, base_url: str, username: str, *, viewport=DESKTOP):
        options = {"viewport": viewport, "locale": "zh-CN", "base_url": base_url, "accept_downloads": True}
        if viewport == PHONE:
            options.update(is_mobile=True, has_touch=True, device_scale_factor=1)
        self.context = browser.new_context(**options)
        # The tests do not reach the internet: every basemap tile host answers empty.
        self.context.route(re.compile(r"^https?://(?!127\.0\.0\.1|localhost)"), lambda route: route.fulfill(status=204))
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(f"{self.page.url}: {m.text}"))
        self.page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        page = self.page
        page.goto("/login/?next=/liaison/")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("#liaison[data-ready=true]", timeout=WAIT_MS)
        page.wait_for_selector("#figures-totals .total", timeout=WAIT_MS)
        page.wait_for_selector("#deadlines .counts", timeout=WAIT_MS)

    def shot(self, name: str, *, full_page: bool = False) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)

    def download(self, selector: str) -> bytes:
        with self.page.expect_download(timeout=WAIT_MS) as info:
            self.page.click(selector)
        return Path(info.value.path()).read_bytes()

    def total(self, key: str) -> int:
        return int(self.page.inner_text(f"#figures-totals [data-total={key}] .value"))


def chromium():
    from playwright.sync_api import sync_playwright

    return sync_playwright()


def pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF")
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages))


def test_the_liaison_dashboard(live_server, qijiang, settings):
    overdue, secret = qijiang["clues"][0], qijiang["secret"]
    # Two districts a page: the city's dashboard below follows the pages to show all four.
    settings.COMPLIANCE_PAGE_SIZE = 2
    with chromium() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            # 綦江区's liaison officer: the district's plans, its joint patrol, its deadlines and figures.
            desk = Desk(browser, live_server.url, "qj_liaison")
            page = desk.page
            row = page.locator("#compliance-table tr[data-district='500110']")
            assert row.get_attribute("data-compliant") == "true"
            assert "1 / 1" in row.inner_text()
            assert page.get_attribute("#compliance-map", "data-compliant") == "500110"
            deadlines = page.inner_text("#deadlines")
            assert overdue.code in deadlines and "逾期 4 天" in deadlines
            assert secret.code not in page.content()
            assert desk.total("clues") == 3 and desk.total("confidential") == 0
            focus = page.inner_text("#focus")
            assert "非法采砂" in focus and "第1版" in focus and "已按期制定" in focus
            if local_today() > datetime.date(local_today().year, 3, 31):
                assert "逾期未制定" in page.inner_text("#work-plan")
            desk.shot("liaison-desktop")
            desk.shot("liaison-desktop-full", full_page=True)

            # Editing the focus records a new revision, shown at once with the history.
            page.click("#focus button.edit")
            page.check("#focus-form input[value=flood_safety]")
            page.fill("#focus-form input[name=note-flood_safety]", "汛期行洪通道")
            desk.shot("liaison-focus-form-desktop")
            page.click("#focus-form button[type=submit]")
            page.wait_for_selector("#focus summary", timeout=WAIT_MS)
            focus = page.inner_text("#focus")
            assert "第2版" in focus and "行洪安全" in focus and "修订记录（2）" in focus

            # The joint-meeting pack: the PDF in one click, the XLSX beside it, for the chosen period.
            pdf = desk.download("#pack-pdf")
            xlsx = desk.download("#pack-xlsx")
            page.select_option("#period", "last")
            last = local_today().year - 1
            page.wait_for_selector(f"#figures [data-period='{last}-01-01/{last}-12-31']", timeout=WAIT_MS)
            assert desk.total("clues") == 0
            errors = list(desk.errors)
            desk.context.close()

            # On a phone.
            phone = Desk(browser, live_server.url, "qj_liaison", viewport=PHONE)
            phone.shot("liaison-phone")
            phone.page.locator("#figures").scroll_into_view_if_needed()
            phone.shot("liaison-phone-figures")
            # English on request: the page's words and the catalog's. The focus answers late this time
            # (FOCUS_LATE): data-ready must still wait for it, since the plans load beside the map.
            phone.page.add_init_script(FOCUS_LATE)
            phone.page.goto("/liaison/?lang=en")
            phone.page.wait_for_selector("#liaison[data-ready=true]", timeout=WAIT_MS)
            assert phone.page.evaluate("window.focusShownAtReady") is True
            assert "Joint patrols by district" in phone.page.inner_text("#compliance")
            assert "Annual patrol focus" in phone.page.inner_text("#focus")
            phone.shot("liaison-phone-en")
            errors += phone.errors
            phone.context.close()

            # 綦江区's prosecutor sees the plans but may not edit them; the API refuses a new revision.
            other = Desk(browser, live_server.url, "qj_prosecutor")
            assert other.page.locator("#focus").count() == 1
            assert other.page.locator("#focus button.edit").count() == 0
            refused = other.page.evaluate(
                """async () => {
                    const token = document.querySelector("meta[name=csrf-token]").content;
                    const response = await fetch("/api/v1/focus/", {
                        method: "POST",
                        headers: {"Content-Type": "application/json", "X-CSRFToken": token},
                        body: JSON.stringify({district: "500110", items: [{category: "other"}]}),
                    });
                    return response.status;
                }"""
            )
            assert refused == 403
            errors += [e for e in other.errors if "403" not in e]
            other.context.close()

            # The municipal procuratorate sees every district: 江津区 had no joint patrol this year.
            city = Desk(browser, live_server.url, "cq_prosecutor")
            page = city.page
            assert page.locator("#compliance-table tbody tr").count() == 4
            drawn = page.get_attribute("#compliance-map", "data-noncompliant").split()
            assert sorted(drawn) == ["500113", "500116", "500119"]
            jiangjin = page.locator("#compliance-table tr[data-district='500116']")
            assert jiangjin.get_attribute("data-compliant") == "false"
            assert "未开展联合巡查" in jiangjin.inner_text()
            assert (
                page.locator("#compliance-table tr[data-district='500110']").get_attribute("data-compliant") == "true"
            )
            jiangjin.click()
            page.wait_for_selector("#reach-levels h3", timeout=WAIT_MS)
            assert "江津区" in page.inner_text("#reach-levels")
            assert "本年度从未巡查的河段" in page.inner_text("#never-patrolled")
            city.shot("liaison-city-desktop")
            errors += city.errors
            city.context.close()
        finally:
            browser.close()

    assert not errors, errors
    # The focus has two revisions, both by the liaison officer; the prosecutor's attempt made none.
    revisions = FocusPlan.objects.filter(district__code="500110").order_by("revision")
    assert [(plan.revision, plan.created_by.username) for plan in revisions] == [(1, "qj_liaison"), (2, "qj_liaison")]
    assert sorted(revisions[1].items.values_list("category", flat=True)) == [
        "flood_safety",
        "illegal_sand_mining",
        "river_cleanliness",
    ]
    # The pack: the figures, the overdue clue, the map; never the confidential clue of 江津区.
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "liaison-pack.pdf").write_bytes(pdf)
    text = pdf_text(pdf)
    assert "线索总数3" in text and "非法采砂2" in text and "非法排污1" in text
    assert overdue.code in text and "逾期与临期事项" in text and "区县与线索分布图" in text
    assert secret.code not in text
    book = load_workbook(io.BytesIO(xlsx))
    summary = {row[0]: row[1] for row in book["概况 Summary"].iter_rows(values_only=True)}
    assert summary["线索总数 clues"] == 3
