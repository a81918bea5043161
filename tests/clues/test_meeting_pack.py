"""The liaison dashboard's reads (issue 9 §4): deadlines due soon and overdue, and the joint-meeting pack.

The world is tests.clues.conftest's: 甲区 990001 (0–10 km east), 乙区 990002 (10–20 km east), both 0–10 km
north, in the city 990000. A clue near INSIDE (4 km east, 1 km north) is in 甲区 and goes to 甲区's
procuratorate; one at 15 km east is in 乙区. Deadlines are moved on the rows, not the clock.
"""

import datetime
import io
import re

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from clues.figures import current_year, figures_compute
from clues.meeting import pack_make
from clues.models import Clue, Suggestion, Transfer
from clues.overdue import deadlines_due
from clues.workflow import clue_step
from patrols.models import Patrol
from rivers.models import Agency, District
from tests.clues.conftest import client_for, register

DAY = datetime.timedelta(days=1)


def pdf_text(content: bytes) -> str:
    """The PDF's text without whitespace (a table cell may wrap)."""
    assert content.startswith(b"%PDF")
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages))


@pytest.fixture
def due(people):
    """Clues of 甲区 with a deadline each: overdue, due soon, not yet due; one of 乙区 overdue."""
    west_ro, west_proc = people["west_ro"], people["west_proc"]
    today = timezone.localdate()
    made = {}
    for name, days in (("overdue", -5), ("soon", 2), ("later", 20)):
        clue = register(west_ro, "990001-RCO", 4_000 + 10 * len(made), 1_050, description=name)
        clue = clue_step(clue=clue, user=west_ro, step="send")
        clue = clue_step(clue=clue, user=west_proc, step="accept")
        Transfer.objects.filter(clue=clue).update(first_answer_due=today + days * DAY)
        made[name] = clue
    east = register(people["east_ro"], "990002-RCO", 15_000, 1_000, description="乙区")
    east = clue_step(clue=east, user=people["east_ro"], step="send")
    Transfer.objects.filter(clue=east).update(first_answer_due=today - 9 * DAY)
    made["east"] = east
    return made


def test_deadlines_list_overdue_and_due_soon_of_visible_clues(people, due):
    listed = deadlines_due(user=people["west_liaison"])
    states = {item.clue.code: (item.kind, item.state) for item in listed.items}
    assert states == {
        due["overdue"].code: ("first_answer", "overdue"),
        due["soon"].code: ("first_answer", "due_soon"),
    }  # not the clue due in 20 days (the window is 3), nor 乙区's that 甲区 does not see
    [overdue] = listed.overdue
    assert (overdue.days_late, overdue.agency.code, overdue.counterpart.code) == (5, "990001-PROC", "990001-RCO")
    # 乙区's procuratorate sees its own.
    assert [item.clue.code for item in deadlines_due(user=people["east_proc"]).items] == [due["east"].code]


def test_deadlines_api_in_a_fixed_number_of_queries(people, due, django_assert_max_num_queries):
    client = client_for(people["west_liaison"])
    with django_assert_max_num_queries(12) as few:
        client.get("/api/v1/deadlines/")
    for index in range(6):
        clue = register(people["west_ro"], "990001-RCO", 4_500 + 10 * index, 1_050)
        clue_step(clue=clue, user=people["west_ro"], step="send")
        suggestion_on(clue, people)
    Transfer.objects.update(first_answer_due=timezone.localdate() - DAY)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/api/v1/deadlines/")
    body = response.json()
    assert response.status_code == 200
    assert body["counts"]["overdue"] == len(body["items"]) >= 12
    item = body["items"][0]
    assert set(item) == {"kind", "label", "state", "due", "days_late", "clue", "agency", "counterpart", "clues_waiting"}


def suggestion_on(clue: Clue, people) -> Suggestion:
    now = timezone.now()
    return Suggestion.objects.create(
        clue=clue,
        addressee=Agency.objects.get(code="990001-RCO"),
        content="建议",
        issued_by=people["west_proc"],
        issued_at=now - 70 * DAY,
        reply_due=(now - DAY).date(),
    )


def test_deadlines_district_filter_and_bad_district(people, due):
    client = client_for(people["city_proc"])
    # The municipal procuratorate sees the cross-district and outside clues; these are district ones.
    assert client.get("/api/v1/deadlines/", {"district": "990001"}).status_code == 200
    assert client.get("/api/v1/deadlines/", {"district": "nope"}).status_code == 400
    assert client_for(people["west_liaison"]).get("/api/v1/deadlines/", {"district": "990002"}).json()["items"] == []


def test_pack_pdf_has_the_figures_the_overdue_list_and_the_map(people, due):
    liaison = people["west_liaison"]
    # 甲区 had its joint patrol this year, 乙区 none.
    Patrol.objects.create(
        client_uuid="00000000-0000-4000-8000-000000000001",
        kind="joint",
        status="finished",
        district=District.objects.get(code="990001"),
        started_by=people["west_ro"],
        started_at=timezone.now() - DAY,
        ended_at=timezone.now() - DAY,
        length_m=3_000,
        duration_s=3_600,
        is_valid=True,
    )
    response = client_for(liaison).get("/api/v1/meeting-pack/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    text = pdf_text(response.content)
    figures = figures_compute(user=liaison, period=current_year())
    assert figures.clues == 3
    assert f"线索总数{figures.clues}" in text and f"未办结{figures.open}" in text
    assert f"移送次数{figures.transfers}" in text
    for row in figures.by_category:
        if row.count:
            assert f"{row.label}{row.count}" in text
    assert "逾期与临期事项" in text and due["overdue"].code in text and due["soon"].code in text
    assert due["east"].code not in text  # 乙区's clue is not 甲区's to see
    assert "区县与线索分布图" in text and "已开展联合巡查的区县" in text
    assert "990001甲区1" in text  # 甲区: one joint patrol


def test_pack_xlsx_opens_with_the_figures_and_the_deadlines(people, due):
    response = client_for(people["west_liaison"]).get("/api/v1/meeting-pack/", {"format": "xlsx"})
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    titles = book.sheetnames
    assert titles[:2] == ["概况 Summary", "按类别 By category"] and "逾期与临期 Overdue and due soon" in titles
    summary = {row[0]: row[1] for row in book["概况 Summary"].iter_rows(values_only=True)}
    assert summary["线索总数 clues"] == 3
    deadlines = list(book["逾期与临期 Overdue and due soon"].iter_rows(values_only=True))
    assert {row[4] for row in deadlines[1:]} == {due["overdue"].code, due["soon"].code}


def test_pack_leaves_out_a_confidential_clue_the_user_may_not_see(people):
    secret = register(people["east_ro"], "990002-RCO", 15_100, 1_000, confidential=True, description="秘")
    mine = register(people["west_ro"], "990001-RCO", 4_000, 1_050)
    pack = pack_make(user=people["west_liaison"], period=current_year())
    assert pack.figures.clues == 1 and pack.figures.confidential == 0
    assert len(pack.clues) == 1  # the map's points
    text = pdf_text(client_for(people["west_liaison"]).get("/api/v1/meeting-pack/").content)
    assert secret.code not in text and "线索总数1" in text
    # Its holder counts it.
    holder_text = pdf_text(client_for(people["east_ro"]).get("/api/v1/meeting-pack/").content)
    assert "线索总数1" in holder_text and "其中涉密1" in holder_text
    assert mine.code not in holder_text


def test_pack_refuses_a_bad_period_in_json(people):
    response = client_for(people["west_liaison"]).get(
        "/api/v1/meeting-pack/", {"from": "2026-05-01", "to": "2026-01-01"}
    )
    assert response.status_code == 400
    assert "to" in response.json()


def test_pack_in_a_fixed_number_of_queries(people, due, django_assert_max_num_queries):
    client = client_for(people["west_liaison"])
    # An unsent clue of half a year ago: the periodic transfer is overdue before and after.
    waiting = register(people["west_ro"], "990001-RCO", 4_400, 1_050)
    Clue.objects.filter(pk=waiting.pk).update(created_at=timezone.now() - 200 * DAY)
    with django_assert_max_num_queries(60) as few:
        assert client.get("/api/v1/meeting-pack/").status_code == 200
    for index in range(5):
        register(people["west_ro"], "990001-RCO", 4_500 + 10 * index, 1_050)
        register(people["east_ro"], "990002-RCO", 15_000 + 10 * index, 1_500)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get("/api/v1/meeting-pack/").status_code == 200


def test_the_schema_documents_the_pack_and_the_deadlines(people):
    schema = client_for(people["west_liaison"]).get("/api/v1/schema/", {"format": "json"}).json()
    pack = schema["paths"]["/api/v1/meeting-pack/"]["get"]["responses"]["200"]["content"]
    assert {"application/pdf", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"} <= set(pack)
    assert "/api/v1/deadlines/" in schema["paths"]


def test_a_user_in_no_agency_gets_an_empty_pack(world, django_user_model):
    stranger = django_user_model.objects.create_user("stranger", password="pw-stranger-1")
    text = pdf_text(client_for(stranger).get("/api/v1/meeting-pack/").content)
    assert "线索总数0" in text and "无逾期或临期事项" in text and "无可查看的区县" in text
    assert client_for(stranger).get("/api/v1/deadlines/").json()["items"] == []
