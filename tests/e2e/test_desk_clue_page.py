"""The clue's own page (/clues/{id}/) and registering a clue from the desk (/clues/new/), issue 9 items 2, 3, 8.

Chromium drives the live server on the Qijiang demo bundle. The clues are made before the browser opens and
read after it closes (Django refuses ORM calls inside Playwright's event loop); each user's session cookie
is made beforehand too. Screenshots land in SCREENSHOTS (README: "Screenshots"), at 390×844 and 1440×900.
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.contrib.gis.geos import Point
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from clues.models import Clue, ClueEvent
from clues.registration import clue_from_finding, clue_register
from clues.workflow import clue_step
from gis_data.bundle import bundle_load
from patrols.findings import finding_create
from patrols.photos.processing import photo_process
from patrols.photos.upload import photo_upload
from rivers.members import member_add
from rivers.models import Agency
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.patrols.test_photos import forget_queue, phone_jpeg

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
QIJIANG = REPO / "gis_data" / "samples" / "qijiang"
SCREENSHOTS = REPO / ".local" / "screenshots" / "desk"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}
WAIT_MS = 20_000

# Points of the Qijiang sample (gis_data/samples/qijiang/README.md, "Notable features and test points"):
CROSSING = (106.597499, 29.093546)  # a vertex of R500110-006, cross-district (綦江区/江津区), 綦江区 side
INSIDE = (106.717455, 28.998568)  # a vertex of R500110-009 (通惠河綦江城区段), wholly inside 綦江区
NEAR_INSIDE = (106.717755, 28.998568)  # 0.0003° (~29 m) east of INSIDE: a duplicate's distance
JIANGJIN = (106.561199, 29.108674)  # a vertex of R500110-006 on the 江津区 side


def register(user, agency: str, lon_lat: tuple[float, float], **fields) -> Clue:
    values = {
        "client_uuid": uuid.uuid4(),
        "category": "illegal_sand_mining",
        "description": "夜间有采砂船在河道内作业，岸边堆放砂石 / a sand dredger at night",
        "location": Point(*lon_lat, srid=4326),
        "source": "hotline",
        **fields,
    }
    return clue_register(user=user, agency=Agency.objects.get(code=agency), **values).clue


@pytest.fixture
def desk(transactional_db, settings, tmp_path):
    """The Qijiang demo; people of 綦江区, 江津区 and the city; a cross-district clue, a district clue made from
    a finding with a photo and its duplicate, another district clue, and a confidential clue of 江津区."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PHOTO_TASK_QUEUE = queue = f"test-desk-{uuid.uuid4().hex[:12]}"
    bundle_load(QIJIANG)
    people = {}
    for username, agency, role in [
        ("qj_ro", "500110-RCO", "river_office"),
        ("qj_proc", "500110-PROC", "prosecutor"),
        ("qj_proc2", "500110-PROC", "prosecutor"),
        ("city_proc", "500000-PROC", "prosecutor"),
        ("jj_ro", "500116-RCO", "river_office"),
    ]:
        membership, _ = member_add(username=username, agency=Agency.objects.get(code=agency), role=role)
        people[username] = membership.user
    ro, jj_ro = people["qj_ro"], people["jj_ro"]

    cross = register(ro, "500110-RCO", CROSSING, description="12345来电：三江段河道内有人非法采砂")
    cross = clue_step(clue=cross, user=ro, step="send", note="跨区划河段，报送市检察院")

    finding, _ = finding_create(
        user=ro,
        agency=Agency.objects.get(code="500110-RCO"),
        client_uuid=uuid.uuid4(),
        category="illegal_sand_mining",
        description="通惠河城区段右岸有采砂船作业，河床被挖深",
        location=Point(*INSIDE, srid=4326),
    )
    upload = SimpleUploadedFile("dredger.jpg", phone_jpeg((1200, 900), gps=INSIDE), content_type="image/jpeg")
    photo, _ = photo_upload(finding=finding, user=ro, client_id=uuid.uuid4(), upload=upload)
    photo_process(photo=photo)
    district = clue_from_finding(user=ro, finding=finding).clue
    district = clue_step(clue=district, user=ro, step="send")
    duplicate = register(ro, "500110-RCO", NEAR_INSIDE, description="群众来信：通惠河有采砂船", source="petition")
    duplicate = clue_step(clue=duplicate, user=ro, step="send")
    raced = register(ro, "500110-RCO", INSIDE, category="illegal_discharge", description="排污口夜间偷排")
    clue_step(clue=raced, user=ro, step="send")
    hidden = register(jj_ro, "500116-RCO", JIANGJIN, confidential=True, description="涉密线索 / confidential")
    try:
        yield {
            "people": people,
            "cross": cross,
            "district": district,
            "duplicate": duplicate,
            "raced": raced,
            "hidden": hidden,
        }
    finally:
        forget_queue(queue)


def session_cookie(user, base_url: str) -> dict:
    client = Client()
    client.force_login(user)
    return {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base_url}


class Desk:
    """A signed-in browser context of one user that records console errors and takes screenshots."""

    def __init__(self, browser, base_url: str, cookie: dict, *, viewport=DESKTOP):
        options = {"viewport": viewport, "locale": "zh-CN", "base_url": base_url}
        if viewport == PHONE:
            options.update(is_mobile=True, has_touch=True, device_scale_factor=1)
        self.context = browser.new_context(**options)
        self.context.add_cookies([cookie])
        # The basemap's tiles are on the internet, which the tests do not reach: answer them empty.
        self.context.route(lambda url: not url.startswith(base_url), lambda route: route.fulfill(status=204))
        self.page = self.new_page()
        self.expected: list[str] = []

    def new_page(self):
        page = self.context.new_page()
        self.errors: list[str] = getattr(self, "errors", [])
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        return page

    def _console(self, message) -> None:
        if message.type == "error" and not any(text in message.text for text in self.expected):
            self.errors.append(f"{message.text} ({message.location.get('url')})")

    def open(self, path: str, page=None) -> None:
        page = page or self.page
        page.goto(path)
        page.wait_for_selector("body[data-loaded=true]", timeout=WAIT_MS)

    def shot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@contextmanager
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def step(page, name: str, fields: dict | None = None) -> None:
    """Open the form of step `name`, fill it, send it."""
    card = page.locator(f"details.step-card[data-step={name}]")
    if card.get_attribute("open") is None:
        card.locator("summary").click()
    for selector, value in (fields or {}).items():
        page.fill(f"#step-{name}-{selector}", value)
    card.locator("button[type=submit]").click()


def test_a_cross_district_clue_shows_the_municipal_procuratorate_its_copies_and_history(live_server, desk):
    cookie = session_cookie(desk["people"]["city_proc"], live_server.url)
    cross = desk["cross"]
    with chromium() as browser:
        for viewport, size in ((DESKTOP, "1440"), (PHONE, "390")):
            user = Desk(browser, live_server.url, cookie, viewport=viewport)
            page = user.page
            user.open(f"/clues/{cross.pk}/")
            assert page.inner_text("#routed-to") == "重庆市人民检察院"
            copies = page.inner_text("#routing-copies")
            assert "綦江区人民检察院" in copies and "江津区人民检察院" in copies
            assert "跨区划" in page.inner_text("#clue-routing")
            transfers = page.inner_text("#clue-transfers")
            assert "綦江区河长办公室 → 重庆市人民检察院" in transfers
            assert "綦江区人民检察院" in transfers and "江津区人民检察院" in transfers
            assert [e.get_attribute("data-action") for e in page.query_selector_all("#events > li")] == [
                "register",
                "send",
            ]
            assert "跨区划河段，报送市检察院" in page.inner_text("#events")
            assert page.get_attribute("#history-verification", "data-intact") == "true"
            # The municipal prosecutor may accept it: the form is there.
            assert page.locator("details.step-card[data-step=accept]").count() == 1
            # The point on its map, with its reach (cross-district) and district named in the legend.
            page.wait_for_selector("#clue-map.leaflet-container #clue-map-legend, #clue-map-legend i.cross")
            assert "綦江干流三江—广兴段" in page.inner_text("#clue-map-legend")
            user.shot(f"clue-cross-district-{size}")
            if viewport == DESKTOP:
                # In English: the same page through the catalogs.
                page.goto(f"/clues/{cross.pk}/?lang=en")
                page.wait_for_selector("body[data-loaded=true]", timeout=WAIT_MS)
                assert "Routed to" in page.inner_text("#clue-routing")
                assert "History intact: 2 events" in page.inner_text("#history-verification")
                user.shot("clue-cross-district-en-1440")
            assert not user.errors, user.errors
            user.context.close()


def test_a_district_prosecutor_accepts_and_files_a_case_through_the_forms(live_server, desk):
    cookie = session_cookie(desk["people"]["qj_proc"], live_server.url)
    ro_cookie = session_cookie(desk["people"]["qj_ro"], live_server.url)
    clue = desk["district"]
    with chromium() as browser:
        user = Desk(browser, live_server.url, cookie)
        page = user.page
        user.open(f"/clues/{clue.pk}/")
        # The photo: a thumbnail that opens the display copy; a prosecutor also gets the original (evidence).
        page.click("#clue-photos button.thumb")
        page.wait_for_selector("#photo-dialog[open] img.photo-large")
        assert page.get_attribute("#photo-dialog a.original", "href").endswith("/original/")
        page.click("#photo-dialog button[type=submit]")
        # The duplicate 29 m away, side by side, with the merge action.
        assert page.locator("#clue-duplicates .side-by-side form.merge").count() == 1
        assert [s.get_attribute("data-step") for s in page.query_selector_all("details.step-card")] == [
            "accept",
            "merge",
        ]

        step(page, "accept", {"note": "已受理，指派检察官办理"})
        page.wait_for_selector("#events > li[data-action=accept]", timeout=WAIT_MS)
        assert page.get_attribute("#clue-status", "data-status") == "accepted"
        assert "首次答复" in page.inner_text("#clue-deadlines")
        step(page, "investigate")
        page.wait_for_selector("#events > li[data-action=investigate]", timeout=WAIT_MS)
        # Filing asks for exactly the case number (and the note every step has).
        form = page.locator("details.step-card[data-step=file_case] form")
        form_fields = [n.get_attribute("name") for n in form.locator("input, textarea, select").all()]
        assert form_fields == ["case_number", "note"]
        step(page, "file_case", {"case_number": "綦检行公建〔2026〕12号"})
        page.wait_for_selector("#events > li[data-action=file_case]", timeout=WAIT_MS)
        assert "綦检行公建〔2026〕12号" in page.inner_text("#clue-summary")
        assert "綦检行公建〔2026〕12号" in page.inner_text("#events > li[data-action=file_case]")
        assert page.get_attribute("#history-verification", "data-intact") == "true"
        # Next: the suggestion, with its addressee, urgency and pre-notification.
        names = [n.get_attribute("name") for n in page.locator("[data-step=issue_suggestion] form [name]").all()]
        assert names == ["addressee", "content", "urgent", "number", "pre_notify", "note"]
        page.locator("details.step-card[data-step=issue_suggestion] summary").click()
        page.select_option("#step-issue_suggestion-addressee", "500110-RCO")
        page.check("#step-issue_suggestion-urgent")
        page.check("#step-issue_suggestion-pre_notify")
        step(page, "issue_suggestion", {"content": "依法查处通惠河非法采砂，恢复河床", "number": "綦检建〔2026〕3号"})
        page.wait_for_selector("#events > li[data-action=issue_suggestion]", timeout=WAIT_MS)
        suggestion = page.inner_text("#clue-suggestions")
        assert "綦检建〔2026〕3号" in suggestion and "紧急" in suggestion and "已提前通报河长办" in suggestion
        assert page.locator("#clue-deadlines li[data-kind=suggestion_reply][data-state=pending]").count() == 1
        assert page.locator("#clue-suggestions form.reply-form").count() == 0  # the prosecutor does not reply
        user.context.close()

        # The river office, the addressee, replies in writing on the same page.
        office = Desk(browser, live_server.url, ro_cookie)
        office.open(f"/clues/{clue.pk}/")
        office.page.fill("#clue-suggestions form.reply-form textarea", "已责令停止采砂，河床修复方案已报区水利局")
        office.page.click("#clue-suggestions form.reply-form button")
        office.page.wait_for_selector("#events > li[data-action=suggestion_reply]", timeout=WAIT_MS)
        assert "已责令停止采砂" in office.page.inner_text("#clue-suggestions blockquote.reply")
        assert office.page.locator("#clue-deadlines li[data-kind=suggestion_reply][data-state=in_time]").count() == 1
        office.shot("clue-suggestion-replied-1440")
        office.page.set_viewport_size(PHONE)
        office.shot("clue-suggestion-replied-390")
        assert not user.errors, user.errors
        assert not office.errors, office.errors
    actions = list(ClueEvent.objects.filter(clue=clue).order_by("seq").values_list("action", flat=True))
    assert actions == ["register", "send", "accept", "investigate", "file_case", "issue_suggestion", "suggestion_reply"]
    clue = Clue.objects.get(pk=clue.pk)
    assert (clue.case_number, clue.status) == ("綦检行公建〔2026〕12号", "suggestion_issued")
    [suggestion] = clue.suggestions.all()
    assert (suggestion.addressee.code, suggestion.urgent, suggestion.pre_notified_at is not None) == (
        "500110-RCO",
        True,
        True,
    )


def test_a_patrol_member_sees_the_display_copy_not_the_original(live_server, desk):
    # A patrol member of the procuratorate sees the clue sent to it, but holds no role that works with evidence.
    membership, _ = member_add(username="qj_proc_patrol", agency=Agency.objects.get(code="500110-PROC"), role="patrol")
    cookie = session_cookie(membership.user, live_server.url)
    clue = desk["district"]
    with chromium() as browser:
        user = Desk(browser, live_server.url, cookie, viewport=PHONE)
        page = user.page
        user.open(f"/clues/{clue.pk}/")
        page.click("#clue-photos button.thumb")
        page.wait_for_selector("#photo-dialog[open] img.photo-large")
        page.wait_for_function("document.querySelector('#photo-dialog img.photo-large').naturalWidth > 0")
        assert page.locator("#photo-dialog a.original").count() == 0
        assert "只能查看展示副本" in page.inner_text("#photo-dialog")
        user.shot("clue-photo-display-copy-390")
        # Nor does the original answer it directly.
        photo_url = page.get_attribute("#photo-dialog img.photo-large", "src").replace("/display/", "/original/")
        user.expected.append("403")
        assert page.request.get(photo_url).status == 403
        assert page.locator("#no-steps").count() == 1  # and it takes no step
        assert not user.errors, user.errors


def test_a_step_refused_by_the_workflow_shows_the_reason(live_server, desk):
    cookie = session_cookie(desk["people"]["qj_proc"], live_server.url)
    other = session_cookie(desk["people"]["qj_proc2"], live_server.url)
    clue = desk["raced"]
    with chromium() as browser:
        user = Desk(browser, live_server.url, cookie)
        colleague = Desk(browser, live_server.url, other)
        user.expected.append("409")  # the browser logs the refused request itself
        user.open(f"/clues/{clue.pk}/")
        colleague.open(f"/clues/{clue.pk}/")
        # A colleague accepts first; the user's page still offers "accept" and sends it.
        step(colleague.page, "accept")
        colleague.page.wait_for_selector("#events > li[data-action=accept]", timeout=WAIT_MS)
        step(user.page, "accept")
        error = user.page.locator("details.step-card[data-step=accept] .error")
        error.wait_for(timeout=WAIT_MS)
        assert error.get_attribute("data-status") == "409"
        assert "不能“受理 Accept”" in error.inner_text() and "已受理" in error.inner_text()
        user.shot("clue-step-refused-1440")
        assert not user.errors, user.errors
        assert not colleague.errors, colleague.errors
    assert ClueEvent.objects.filter(clue=clue, action="accept").count() == 1


def test_a_duplicate_is_merged_from_the_side_by_side_view(live_server, desk):
    cookie = session_cookie(desk["people"]["qj_proc"], live_server.url)
    duplicate, district = desk["duplicate"], desk["district"]
    with chromium() as browser:
        user = Desk(browser, live_server.url, cookie, viewport=PHONE)
        page = user.page
        user.open(f"/clues/{duplicate.pk}/")
        pair = page.locator(f"#clue-duplicates .side-by-side:has(article[data-code='{district.code}'])")
        assert "通惠河城区段右岸有采砂船作业" in pair.inner_text()  # the other clue's own description, beside this one
        user.shot("clue-duplicates-side-by-side-390")
        pair.locator("input[name=note]").fill("同一采砂船，重复举报")
        pair.locator("button[type=submit]").click()
        page.wait_for_selector("#events > li[data-action=merge]", timeout=WAIT_MS)
        assert page.get_attribute("#clue-status", "data-status") == "merged"
        assert district.code in page.inner_text("#clue-summary")
        user.open(f"/clues/{district.pk}/")
        assert duplicate.code in page.inner_text("#events > li[data-action=absorb]")
        assert not user.errors, user.errors
    merged = Clue.objects.get(pk=duplicate.pk)
    assert (merged.status, merged.merged_into_id) == ("merged", district.pk)


def test_registering_from_the_desk_previews_routing_and_duplicates_and_saves_once(live_server, desk):
    cookie = session_cookie(desk["people"]["qj_ro"], live_server.url)
    description = "12345热线来电：三江段有船只夜间采砂（桌面登记）"
    with chromium() as browser:
        for viewport, size in ((PHONE, "390"), (DESKTOP, "1440")):
            user = Desk(browser, live_server.url, cookie, viewport=viewport)
            page = user.page
            user.open("/clues/new/")
            page.select_option("#reg-source", "hotline")
            page.select_option("#reg-category", "illegal_sand_mining")
            page.fill("#reg-lon", str(CROSSING[0]))
            page.fill("#reg-lat", str(CROSSING[1]))
            page.dispatch_event("#reg-lat", "change")
            page.wait_for_selector("#reg-to", timeout=WAIT_MS)
            assert page.inner_text("#reg-to") == "重庆市人民检察院"
            assert "500110-PROC" in page.inner_text("#reg-copies") and "500116-PROC" in page.inner_text("#reg-copies")
            # The cross-district clue registered at the same point is a possible duplicate.
            page.wait_for_selector("#reg-duplicate-list li", timeout=WAIT_MS)
            assert desk["cross"].code in page.inner_text("#reg-duplicate-list")
            page.fill("#reg-description", description)
            user.shot(f"register-{size}")
            if size == "1440":
                page.dblclick("#reg-save")  # a double click, as people do
                page.wait_for_url("**/clues/*/", timeout=WAIT_MS)
                page.wait_for_selector("body[data-loaded=true]", timeout=WAIT_MS)
                assert page.inner_text("#routed-to") == "重庆市人民检察院"
                assert description in page.inner_text("#clue-description")
                # Sending it elsewhere than routing said needs a written reason: refused without one (400).
                user.expected.append("400")
                page.select_option("#step-send-to", "500110-PROC")
                step(page, "send")
                error = page.locator("details.step-card[data-step=send] .error")
                error.wait_for(timeout=WAIT_MS)
                assert error.get_attribute("data-status") == "400"
                assert "改变接收单位的理由：改变接收单位须书面说明理由" in error.inner_text()
                step(page, "send", {"override_reason": "市检察院授权綦江区检察院办理本线索"})
                page.wait_for_selector("#events > li[data-action=send]", timeout=WAIT_MS)
                transfer = page.inner_text("#clue-transfers")
                assert "綦江区河长办公室 → 綦江区人民检察院" in transfer and "指定移送" in transfer
                assert "市检察院授权綦江区检察院办理本线索" in page.inner_text("#clue-transfers .override")
                user.shot("clue-sent-with-override-1440")
            assert not user.errors, user.errors
            user.context.close()
    [clue] = Clue.objects.filter(description=description)
    assert (clue.source, clue.routing_reason, clue.registered_by.username) == ("hotline", "cross_district", "qj_ro")
    [transfer] = clue.transfers.all()
    assert (transfer.to_agency.code, transfer.reason) == ("500110-PROC", "manual")
    assert transfer.override_reason == "市检察院授权綦江区检察院办理本线索"


def test_a_hidden_clue_s_page_is_404(live_server, desk):
    cookie = session_cookie(desk["people"]["qj_proc"], live_server.url)
    with chromium() as browser:
        user = Desk(browser, live_server.url, cookie)
        user.expected.append("404")
        hidden = user.page.goto(f"/clues/{desk['hidden'].pk}/")
        missing = user.page.goto("/clues/999999999/")
        assert hidden.status == missing.status == 404
        assert desk["hidden"].code not in user.page.content()
        api = user.page.goto(f"/api/v1/clues/{desk['hidden'].pk}/steps/")
        assert api.status == 404
