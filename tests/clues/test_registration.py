"""POST /api/v1/clues/ (DESIGN §6): routed, coded, idempotent by client_uuid, never half-written."""

import re
import threading
import uuid

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from clues.models import Clue, ClueCounter, ClueEvent
from tests.clues.conftest import client_for, location


def body(**overrides) -> dict:
    values = {
        "client_uuid": str(uuid.uuid4()),
        "category": "illegal_sand_mining",
        "description": "河道内有采砂船作业",
        "location": location(4_000, 1_050),  # 50 m from INSIDE, in 甲区
        "source": "river_office",
    }
    return {**values, **overrides}


def test_in_district_clue_is_routed_to_its_procuratorate(people):
    response = client_for(people["west_ro"]).post("/api/v1/clues/", body(), format="json")
    assert response.status_code == 201, response.json()
    clue = response.json()
    assert re.fullmatch(r"990001-\d{4}-0001", clue["code"])
    assert clue["status"] == "registered"
    assert clue["routing"] == {
        "district": {"code": "990001", "name": "甲区"},
        "reach": {"code": "INSIDE", "name": "测试河INSIDE", "is_cross_district": False, "districts": ["990001"]},
        "procuratorate": {"code": "990001-PROC", "name": "甲区人民检察院"},
        "reason": "district",
        "copies": [],
    }
    assert clue["holder"]["code"] == "990001-RCO"
    assert clue["possible_duplicates"] == []
    assert client_for(people["west_ro"]).get(f"/api/v1/clues/{clue['id']}/").json()["code"] == clue["code"]


def test_cross_district_clue_goes_to_the_municipal_procuratorate_with_copies(people):
    response = client_for(people["west_ro"]).post(
        "/api/v1/clues/", body(location=location(7_000, 5_020)), format="json"
    )
    routing = response.json()["routing"]
    assert routing["reason"] == "cross_district"
    assert routing["procuratorate"]["code"] == "990000-PROC"
    assert routing["copies"] == ["990001-PROC", "990002-PROC"]


def test_codes_count_per_district_and_year(people):
    client = client_for(people["west_ro"])
    codes = [client.post("/api/v1/clues/", body(), format="json").json()["code"] for _ in range(3)]
    assert [code[-4:] for code in codes] == ["0001", "0002", "0003"]
    outside = client.post("/api/v1/clues/", body(location=location(5_000, 15_000)), format="json").json()
    assert outside["code"].startswith("990000-") and outside["code"].endswith("-0001")
    assert outside["routing"]["reason"] == "outside_districts"


def test_a_retry_returns_the_same_clue(people):
    client = client_for(people["west_ro"])
    sent = body()
    first = client.post("/api/v1/clues/", sent, format="json")
    again = client.post("/api/v1/clues/", sent, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert Clue.objects.count() == 1 and ClueEvent.objects.count() == 1


def test_a_retry_after_the_network_changed_still_returns_the_same_clue(people):
    # Registering no longer looks for the client_uuid before routing: a retry whose point no agency
    # serves any more (the procuratorate was removed since) must still get its clue, not a 400.
    from rivers.models import Agency

    client = client_for(people["west_ro"])
    sent = body()
    first = client.post("/api/v1/clues/", sent, format="json").json()
    Agency.objects.filter(code="990001-PROC").update(kind="responsible_unit")
    assert client.post("/api/v1/clues/", body(), format="json").status_code == 400  # a new one cannot be routed
    again = client.post("/api/v1/clues/", sent, format="json")
    assert again.status_code == 200 and again.json()["id"] == first["id"]
    assert Clue.objects.count() == 1


def test_the_same_uuid_with_another_body_is_409(people):
    client = client_for(people["west_ro"])
    sent = body()
    client.post("/api/v1/clues/", sent, format="json")
    response = client.post("/api/v1/clues/", {**sent, "description": "另一件事"}, format="json")
    assert response.status_code == 409
    assert Clue.objects.count() == 1


def test_another_users_uuid_leaks_nothing(people):
    sent = body()
    mine = client_for(people["west_ro"]).post("/api/v1/clues/", sent, format="json").json()
    response = client_for(people["east_ro"]).post("/api/v1/clues/", {**sent, "agency": "990002-RCO"}, format="json")
    assert response.status_code == 409
    text = response.content.decode()
    assert mine["code"] not in text and str(mine["id"]) not in text and "INSIDE" not in text
    # Even the exact same body from someone else does not hand over the clue.
    response = client_for(people["east_ro"]).post("/api/v1/clues/", sent, format="json")
    assert response.status_code in (400, 409) and mine["code"] not in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_replays_make_one_clue(people):
    token = Token.objects.create(user=people["west_ro"]).key
    sent = body()
    barrier = threading.Barrier(20)
    answers: list[tuple[int, int]] = []

    def replay():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        barrier.wait()
        try:
            response = client.post("/api/v1/clues/", sent, format="json")
            answers.append((response.status_code, response.json()["id"]))
        finally:
            connection.close()

    threads = [threading.Thread(target=replay) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 20
    assert sorted(code for code, _ in answers) == [200] * 19 + [201]
    assert len({clue_id for _, clue_id in answers}) == 1
    assert Clue.objects.count() == 1
    assert ClueEvent.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"category": "fishing_with_dynamite"}, "category"),
        ({"source": "rumour"}, "source"),
        ({"location": {"type": "Point", "coordinates": [181, 29]}}, "location"),
        ({"location": {"type": "Point", "coordinates": [106, -90.5]}}, "location"),
        ({"location": {"type": "Point", "coordinates": ["NaN", 29]}}, "location"),
        ({"location": {"type": "Point", "coordinates": [106]}}, "location"),
        ({"location": {"type": "LineString", "coordinates": [[106, 29], [106.1, 29]]}}, "location"),
        ({"location": "POINT(106 29)"}, "location"),
        ({"client_uuid": "not-a-uuid"}, "client_uuid"),
        ({"description": ""}, "description"),
        ({"agency": "990002-PROC"}, "agency"),
    ],
)
def test_bad_input_is_400_per_field_and_writes_nothing(people, overrides, field):
    response = client_for(people["west_ro"]).post("/api/v1/clues/", body(**overrides), format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Clue.objects.exists() and not ClueEvent.objects.exists() and not ClueCounter.objects.exists()


@pytest.mark.parametrize("missing", ["client_uuid", "category", "description", "location", "source"])
def test_missing_fields_are_named(people, missing):
    sent = body()
    del sent[missing]
    response = client_for(people["west_ro"]).post("/api/v1/clues/", sent, format="json")
    assert response.status_code == 400 and missing in response.json()
    assert not Clue.objects.exists()


def test_nan_and_malformed_json_are_400(people):
    client = client_for(people["west_ro"])
    raw = f'{{"client_uuid": "{uuid.uuid4()}", "category": "other", "description": "x", "source": "other", '
    for tail in ('"location": {"type": "Point", "coordinates": [NaN, 29]}}', '"location": {"type": "Point", '):
        response = client.post("/api/v1/clues/", raw + tail, content_type="application/json")
        assert response.status_code == 400
    assert not Clue.objects.exists()


def test_anonymous_cannot_register(people):
    assert APIClient().post("/api/v1/clues/", body(), format="json").status_code == 401


def test_possible_duplicates_are_listed_and_can_be_merged(people):
    client = client_for(people["west_ro"])
    first = client.post("/api/v1/clues/", body(), format="json").json()
    near = client.post("/api/v1/clues/", body(location=location(4_200, 1_000)), format="json").json()  # 200 m on
    other_kind = client.post("/api/v1/clues/", body(category="obstruction"), format="json").json()
    far = client.post("/api/v1/clues/", body(location=location(4_500, 1_000)), format="json").json()  # 500 m on
    assert [d["code"] for d in near["possible_duplicates"]] == [first["code"]]
    assert near["possible_duplicates"][0]["distance_m"] == pytest.approx(206, abs=2)  # √(200² + 50²)
    assert other_kind["possible_duplicates"] == []
    assert [d["code"] for d in far["possible_duplicates"]] == []

    merged = client.post(f"/api/v1/clues/{near['id']}/steps/merge/", {"into": first["code"]}, format="json")
    assert merged.status_code == 200, merged.json()
    assert merged.json()["status"] == "merged" and merged.json()["merged_into"] == first["code"]
    # Both kept and linked; the absorbing clue's history says so.
    assert Clue.objects.get(pk=first["id"]).duplicates.get().code == near["code"]
    events = client.get(f"/api/v1/clues/{first['id']}/events/").json()
    assert events[-1]["action"] == "absorb" and near["code"] in events[-1]["note"]


def test_a_phone_signs_in_for_a_token_and_registers(people):
    from rest_framework.test import APIClient

    people["west_patrol"].set_password("on-the-bank-2026")
    people["west_patrol"].save()
    anonymous = APIClient()
    wrong = anonymous.post("/api/v1/auth/token/", {"username": "west_patrol", "password": "nope"}, format="json")
    assert wrong.status_code == 400
    token = anonymous.post(
        "/api/v1/auth/token/", {"username": "west_patrol", "password": "on-the-bank-2026"}, format="json"
    ).json()["token"]
    phone = APIClient()
    phone.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = phone.post("/api/v1/clues/", body(source="12345"), format="json")
    assert response.status_code == 201 and response.json()["source"] == "hotline"
