"""Findings (issue 4 §5–6): created idempotently, turned into clues that keep the link and the photos."""

import hashlib
import uuid

import pytest
from django.core.files.base import ContentFile

from clues.models import Clue
from patrols.models import Finding, Photo
from tests.factories import at
from tests.patrols.conftest import client_for, location


def finding_body(**overrides) -> dict:
    values = {
        "client_uuid": str(uuid.uuid4()),
        "category": "illegal_fishing",
        "description": "电鱼",
        "location": location(7_000, 5_020),  # 20 m from CROSS, in 甲区
    }
    return {**values, **overrides}


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_findings_are_idempotent(people):
    client = client_for(people["west_patrol"])
    body = finding_body()
    first = client.post("/api/v1/findings/", body, format="json")
    again = client.post("/api/v1/findings/", body, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"] and Finding.objects.count() == 1
    changed = client.post("/api/v1/findings/", {**body, "description": "炸鱼"}, format="json")
    assert changed.status_code == 409
    bad = client.post("/api/v1/findings/", finding_body(category="unknown", location={"type": "Point"}), format="json")
    assert bad.status_code == 400 and {"category", "location"} <= set(bad.json())


def test_routing_is_shown_before_the_clue_is_made(people):
    client = client_for(people["west_patrol"])
    finding = client.post("/api/v1/findings/", finding_body(), format="json").json()
    preview = client.get(f"/api/v1/findings/{finding['id']}/routing/").json()
    assert preview["reason"] == "cross_district"
    assert preview["procuratorate"]["code"] == "990000-PROC"
    assert preview["copies"] == ["990001-PROC", "990002-PROC"]
    assert not Clue.objects.exists()
    lon, lat = at(7_000, 5_020)
    assert client.get("/api/v1/routing/", {"lon": lon, "lat": lat}).json() == preview


def test_a_findings_routing_preview_carries_the_warnings(people):
    client = client_for(people["west_patrol"])
    # 10 m west of the 甲区/乙区 boundary (10 km east), 1 km from any reach.
    near_boundary = client.post("/api/v1/findings/", finding_body(location=location(9_990, 3_000)), format="json")
    preview = client.get(f"/api/v1/findings/{near_boundary.json()['id']}/routing/").json()
    assert [(w["code"], w.get("district", {}).get("code")) for w in preview["warnings"]] == [
        ("near_boundary", "990002"),
        ("no_reach", None),
    ]
    assert preview["reach_distance_m"] is None


def test_a_finding_becomes_a_clue_keeping_its_photos(people, media):
    reporter = people["west_patrol"]
    client = client_for(reporter)
    finding = Finding.objects.get(pk=client.post("/api/v1/findings/", finding_body(), format="json").json()["id"])
    content = b"\xff\xd8 a photo taken on the bank"
    photo = Photo.objects.create(
        finding=finding, client_id=uuid.uuid4(), original=ContentFile(content, name="bank.jpg"),
        sha256=hashlib.sha256(content).hexdigest(), content_type="image/jpeg", size_bytes=len(content),
        width=4, height=3, uploaded_by=reporter,
    )  # fmt: skip
    made = client_for(people["west_ro"]).post(f"/api/v1/findings/{finding.pk}/clue/", {}, format="json")
    assert made.status_code == 201, made.json()
    clue = made.json()
    assert clue["source"] == "patrol" and clue["finding"] == finding.pk
    assert clue["routing"]["reason"] == "cross_district"
    assert [p["id"] for p in clue["photos"]] == [photo.pk]  # the same photo, not a copy
    assert Photo.objects.count() == 1
    again = client_for(people["west_ro"]).post(f"/api/v1/findings/{finding.pk}/clue/", {}, format="json")
    assert again.status_code == 200 and again.json()["id"] == clue["id"]
    assert Clue.objects.count() == 1
    assert client.get(f"/api/v1/findings/{finding.pk}/").json()["clue"] == clue["id"]


def test_a_finding_without_a_position_cannot_be_routed_yet(people):
    client = client_for(people["west_patrol"])
    body = finding_body()
    del body["location"]
    finding = client.post("/api/v1/findings/", body, format="json").json()
    assert finding["location"] is None
    assert client.get(f"/api/v1/findings/{finding['id']}/routing/").status_code == 400
    response = client_for(people["west_ro"]).post(f"/api/v1/findings/{finding['id']}/clue/", {}, format="json")
    assert response.status_code == 400 and "location" in response.json()
    assert not Clue.objects.exists()


def test_other_districts_do_not_see_findings(people):
    finding = client_for(people["west_patrol"]).post("/api/v1/findings/", finding_body(), format="json").json()
    assert client_for(people["east_ro"]).get(f"/api/v1/findings/{finding['id']}/").status_code == 404
    assert client_for(people["east_ro"]).post(f"/api/v1/findings/{finding['id']}/clue/", {}).status_code == 404
