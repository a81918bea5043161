"""Half-yearly batches (seed 002 §三(二)): preview, send one batch per recipient, the letter, refusals.

The world is tests.clues.conftest's: 甲区 990001 (0–10 km east), 乙区 990002 (10–20 km east), both
0–10 km north; the city 990000 also covers 10–20 km north. CROSS runs 5→15 km east at 5 km north
(both districts), INSIDE 2→8 km east at 1 km north (甲区 only).
"""

import datetime
import io
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from clues.batches import BatchInvalid, BatchRefused, batch_prepare, batch_send, half_year
from clues.figures import local_today
from clues.models import Clue, ClueEvent, Status, Transfer, TransferBatch
from clues.workflow import clue_step
from rivers.models import Agency
from tests.clues.conftest import client_for, register

SHANGHAI = ZoneInfo("Asia/Shanghai")
HALF = half_year()
PERIOD = {"from": HALF.start.isoformat(), "to": HALF.end.isoformat()}
YEAR = local_today().year


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def office(people):
    """Clues 甲区's river office registered: unsent ones for three recipients, and some that cannot go."""
    west_ro = people["west_ro"]
    clues = {
        # 50 and 150 m from INSIDE, in 甲区 → 990001-PROC.
        "west_1": register(west_ro, "990001-RCO", 4_000, 1_050, description="河道内有采砂船作业"),
        "west_2": register(west_ro, "990001-RCO", 6_000, 1_150, category="illegal_discharge"),
        # 20 m from CROSS, in 甲区 → 990000-PROC with copies to both district procuratorates.
        "cross": register(west_ro, "990001-RCO", 7_000, 5_020, category="obstruction", description="设障" * 80),
        # 甲区's office found one in 乙区, 4 km from any reach → 990002-PROC.
        "east": register(west_ro, "990001-RCO", 15_000, 1_000, confidential=True, description="涉密内容"),
        # Cannot go: registered in an earlier half-year, already sent, or another office's.
        "old": register(west_ro, "990001-RCO", 4_300, 1_050),
        "sent": register(west_ro, "990001-RCO", 4_400, 1_050),
        "other_office": register(people["east_ro"], "990002-RCO", 16_000, 1_000),
        # 甲区's procuratorate's own, which 甲区's liaison officer sees too.
        "procuratorate": register(people["west_proc"], "990001-PROC", 7_100, 5_020, source="procuratorate"),
    }
    earlier = datetime.datetime.combine(HALF.start - datetime.timedelta(days=1), datetime.time(12), tzinfo=SHANGHAI)
    Clue.objects.filter(pk=clues["old"].pk).update(created_at=earlier)
    clue_step(clue=clues["sent"], user=west_ro, step="send")
    return {name: Clue.objects.get(pk=clue.pk) for name, clue in clues.items()}


def codes(*clues: Clue) -> list[str]:
    return sorted(clue.code for clue in clues)


def pdf_text(content: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_prepare_groups_the_unsent_clues_of_the_period_by_recipient(people, office):
    agency = Agency.objects.get(code="990001-RCO")
    groups = batch_prepare(user=people["west_ro"], agency=agency, period_start=HALF.start, period_end=HALF.end)
    assert [(g.recipient.code, [c.code for c in g.clues]) for g in groups] == [
        ("990000-PROC", codes(office["cross"])),
        ("990001-PROC", codes(office["west_1"], office["west_2"])),
        ("990002-PROC", codes(office["east"])),
    ]
    assert [a.code for a in groups[0].copies] == ["990001-PROC", "990002-PROC"]
    earlier = batch_prepare(
        user=people["west_ro"],
        agency=agency,
        period_start=HALF.start - datetime.timedelta(days=1),
        period_end=HALF.start,
    )
    assert [[c.code for c in g.clues] for g in earlier] == [codes(office["old"])]


def test_a_procuratorate_clue_routed_to_itself_is_not_sent_but_accepted(people):
    own = register(people["west_proc"], "990001-PROC", 4_000, 1_050, source="procuratorate")
    cross = register(people["west_proc"], "990001-PROC", 7_000, 5_020, source="procuratorate")
    groups = batch_prepare(
        user=people["west_proc"], agency=own.registering_agency, period_start=HALF.start, period_end=HALF.end
    )
    assert [(g.recipient.code, [c.code for c in g.clues]) for g in groups] == [("990000-PROC", [cross.code])]
    with pytest.raises(BatchRefused, match="accept it"):
        batch_send(
            user=people["west_proc"],
            agency=own.registering_agency,
            period_start=HALF.start,
            period_end=HALF.end,
            clue_ids=[own.pk],
        )


def test_preview_api(people, office):
    response = client_for(people["west_ro"]).get("/api/v1/batches/preview/", {**PERIOD, "agency": "990001-RCO"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["agency"]["code"] == "990001-RCO" and body["period"] == PERIOD
    assert [(g["recipient"]["code"], g["count"]) for g in body["groups"]] == [
        ("990000-PROC", 1),
        ("990001-PROC", 2),
        ("990002-PROC", 1),
    ]
    assert body["groups"][1]["clues"][0]["category_label"] == "非法采砂"
    assert body["groups"][1]["clues"][0]["reach"] == "测试河INSIDE"
    # Without from/to the preview covers the current half-year.
    default = client_for(people["west_ro"]).get("/api/v1/batches/preview/", {"agency": "990001-RCO"}).json()
    assert default["period"] == PERIOD and default["groups"] == body["groups"]


def test_send_makes_one_batch_per_recipient_with_its_transfers_and_letter(people, office):
    response = client_for(people["west_ro"]).post("/api/v1/batches/", {**PERIOD, "agency": "990001-RCO"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()["batches"]
    assert [(b["to_agency"]["code"], b["number"], b["clues"]) for b in body] == [
        ("990000-PROC", f"990001-RCO-{YEAR}-1", codes(office["cross"])),
        ("990001-PROC", f"990001-RCO-{YEAR}-2", codes(office["west_1"], office["west_2"])),
        # The confidential clue went to 乙区's procuratorate: from then on it does not exist for the
        # river office that sent it (DESIGN §5), not even in its batch; the receiver sees it there.
        ("990002-PROC", f"990001-RCO-{YEAR}-3", []),
    ]
    east_batch = client_for(people["east_proc"]).get(f"/api/v1/batches/{body[2]['id']}/").json()
    assert east_batch["clues"] == codes(office["east"])
    for item in body:
        batch = TransferBatch.objects.get(pk=item["id"])
        assert batch.from_agency.code == "990001-RCO"
        assert (batch.period_start, batch.period_end) == (HALF.start, HALF.end)
        visible = batch.transfers.filter(clue__in=Clue.objects.visible_to(people["west_ro"]))
        assert sorted(t.clue.code for t in visible) == item["clues"]
        assert all(t.to_agency_id == batch.to_agency_id for t in batch.transfers.all())
        assert item["letter_url"].endswith(f"/api/v1/batches/{batch.pk}/letter.pdf")
    sent = [office[name] for name in ("west_1", "west_2", "cross", "east")]
    assert set(Clue.objects.filter(pk__in=[c.pk for c in sent]).values_list("status", flat=True)) == {"transferred"}
    event = ClueEvent.objects.get(clue=office["west_1"], action="send")
    assert f"990001-RCO-{YEAR}-2" in event.note
    # The cross-district clue went to the city, copied to both districts, as a single send would.
    cross = Transfer.objects.get(clue=office["cross"])
    assert sorted(a.code for a in cross.copies.all()) == ["990001-PROC", "990002-PROC"]
    # Nothing is left to send; the next batch of the year gets the next number.
    nothing_left = client_for(people["west_ro"]).post(
        "/api/v1/batches/", {**PERIOD, "agency": "990001-RCO"}, format="json"
    )
    assert nothing_left.status_code == 409, nothing_left.content
    late = register(people["west_ro"], "990001-RCO", 4_600, 1_050)
    again = client_for(people["west_ro"]).post(
        "/api/v1/batches/", {**PERIOD, "agency": "990001-RCO", "clue_ids": [late.pk]}, format="json"
    )
    assert [b["number"] for b in again.json()["batches"]] == [f"990001-RCO-{YEAR}-4"]


def test_the_letter_names_the_agencies_and_lists_the_clues(people, office):
    batches = batch_send(
        user=people["west_ro"],
        agency=Agency.objects.get(code="990001-RCO"),
        period_start=HALF.start,
        period_end=HALF.end,
    )
    by_recipient = {batch.to_agency.code: batch for batch in batches}
    district = pdf_text(by_recipient["990001-PROC"].letter.read())
    for text in (
        "线索移送函",
        f"990001-RCO-{YEAR}-2",
        "甲区河长办公室",
        "甲区人民检察院",
        "原则上应每半年移送一次案件线索",
    ):
        assert text in district
    assert office["west_1"].code in district and office["west_2"].code in district
    assert "非法采砂" in district and "河道内有采砂船作业" in district and "共计2条" in district
    assert office["cross"].code not in district
    cross = pdf_text(by_recipient["990000-PROC"].letter.read())
    assert office["cross"].code in cross and "测试市人民检察院" in cross
    assert "抄送" in cross and "乙区人民检察院" in cross  # the copies of a cross-district transfer
    assert "设障" * 40 not in cross  # the long description is cut short
    secret = pdf_text(by_recipient["990002-PROC"].letter.read())
    assert office["east"].code in secret and "涉密内容" not in secret and "涉密线索" in secret


def test_the_letter_is_streamed_to_the_sending_and_receiving_agencies_only(people, office):
    body = client_for(people["west_ro"]).post("/api/v1/batches/", {**PERIOD, "agency": "990001-RCO"}, format="json")
    by_recipient = {b["to_agency"]["code"]: b["id"] for b in body.json()["batches"]}
    url = "/api/v1/batches/{}/letter.pdf"
    response = client_for(people["west_ro"]).get(url.format(by_recipient["990001-PROC"]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert office["west_1"].code in pdf_text(b"".join(response.streaming_content))
    proc = client_for(people["west_proc"])
    assert proc.get(url.format(by_recipient["990001-PROC"]), HTTP_ACCEPT="application/pdf").status_code == 200
    # 甲区's procuratorate received neither the city's nor 乙区's batch; 乙区's office is no party at all.
    assert proc.get(url.format(by_recipient["990000-PROC"])).status_code == 404
    assert proc.get(url.format(by_recipient["990002-PROC"]), HTTP_ACCEPT="application/pdf").status_code == 404
    assert client_for(people["east_ro"]).get(url.format(by_recipient["990001-PROC"])).status_code == 404
    assert client_for(people["east_ro"]).get(f"/api/v1/batches/{by_recipient['990001-PROC']}/").status_code == 404
    assert client_for(people["west_liaison"]).get(url.format(by_recipient["990001-PROC"])).status_code == 200
    listed = client_for(people["west_proc"]).get("/api/v1/batches/").json()["results"]
    assert [b["id"] for b in listed] == [by_recipient["990001-PROC"]]


def nothing_sent(office) -> bool:
    unsent = [office[name] for name in ("west_1", "west_2", "cross", "east")]
    return (
        not TransferBatch.objects.exists()
        and not Transfer.objects.filter(clue__in=unsent).exists()
        and set(Clue.objects.filter(pk__in=[c.pk for c in unsent]).values_list("status", flat=True))
        == {Status.REGISTERED}
    )


@pytest.mark.parametrize(
    ("bad", "status", "message"),
    [
        ("procuratorate", 400, "not registered by 990001-RCO"),
        ("old", 400, "not registered in the period"),
        ("sent", 409, "is transferred, not registered"),
        ("missing", 400, "no such clue"),
    ],
)
def test_one_bad_clue_sends_nothing(people, office, bad, status, message):
    bad_id = 10**9 if bad == "missing" else office[bad].pk
    ids = [office["west_1"].pk, office["cross"].pk, bad_id]
    # The liaison officer acts for both 甲区's river office and its procuratorate, so sees every clue here.
    response = client_for(people["west_liaison"]).post(
        "/api/v1/batches/", {**PERIOD, "agency": "990001-RCO", "clue_ids": ids}, format="json"
    )
    assert response.status_code == status, response.content
    assert message in str(response.json())
    assert nothing_sent(office)


def test_a_clue_of_another_agency_the_user_cannot_see_looks_missing(people, office):
    with pytest.raises(BatchInvalid) as refused:
        batch_send(
            user=people["west_ro"],
            agency=Agency.objects.get(code="990001-RCO"),
            period_start=HALF.start,
            period_end=HALF.end,
            clue_ids=[office["other_office"].pk],
        )
    hidden = office["other_office"].pk
    assert refused.value.errors == {"clue_ids": [f"线索 {hidden} 不存在 / no such clue: {hidden}"]}


def test_a_failing_letter_sends_nothing(people, office, monkeypatch, settings):
    def broken(batch, **kwargs):
        if batch.to_agency.code == "990002-PROC":
            raise RuntimeError("printer on fire")
        return b"%PDF-1.4 fake"

    monkeypatch.setattr("clues.batches.letter_pdf", broken)
    with pytest.raises(RuntimeError):
        batch_send(
            user=people["west_ro"],
            agency=Agency.objects.get(code="990001-RCO"),
            period_start=HALF.start,
            period_end=HALF.end,
        )
    assert nothing_sent(office)
    # The two letters written before the failure are removed with the rest.
    assert not list(Path(settings.MEDIA_ROOT).rglob("*.pdf"))


@pytest.mark.parametrize("user_key", ["west_patrol", "east_ro", "west_proc"])
def test_only_staff_of_the_agency_may_preview_and_send(people, office, user_key):
    client = client_for(people[user_key])
    assert client.get("/api/v1/batches/preview/", {**PERIOD, "agency": "990001-RCO"}).status_code == 403
    response = client.post("/api/v1/batches/", {**PERIOD, "agency": "990001-RCO"}, format="json")
    assert response.status_code == 403
    assert nothing_sent(office)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"from": "2026-07-01", "to": "2026-06-30", "agency": "990001-RCO"}, "to"),
        ({"from": "2026-01-01", "agency": "990001-RCO"}, "to"),
        ({"from": "2026-01-01", "to": "9999-12-31", "agency": "990001-RCO"}, "to"),
        ({"from": "2026-01-01", "to": "2026-06-30", "agency": "NOPE"}, "agency"),
        ({"from": "2026-01-01", "to": "2026-06-30", "agency": "990001-RCO", "clue_ids": []}, "clue_ids"),
        ({"from": "2026-01-01", "to": "2026-06-30", "agency": "990001-RCO", "clue_ids": ["x"]}, "clue_ids"),
    ],
)
def test_bad_requests_are_400(people, office, body, field):
    response = client_for(people["west_ro"]).post("/api/v1/batches/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert nothing_sent(office)


def test_the_liaison_officer_may_send_for_the_river_office(people, office):
    # seed 002 §二: the liaison office sits in the river office and handles clue transfers.
    response = client_for(people["west_liaison"]).post(
        "/api/v1/batches/", {**PERIOD, "agency": "990001-RCO", "clue_ids": [office["west_1"].pk]}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["batches"][0]["created_by"] == "west_liaison"
