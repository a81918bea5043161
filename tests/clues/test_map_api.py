"""What the clue review map reads (issue 9 §1): the list's filters and ordering, and the clue tiles.

The world is tests.clues.conftest's: 甲区 990001 (0–10 km east of 106°E 29°N), 乙区 990002 (10–20 km).
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clues.models import Clue, Transfer
from clues.tiles import CLUSTER_MAX_ZOOM
from clues.workflow import clue_step
from tests.clues.conftest import client_for, register
from tests.clues.mvt import tile_decode, tile_of
from tests.factories import at

DAY = datetime.timedelta(days=1)


@pytest.fixture
def map_world(people):
    """Six clues of 甲区 (two sent to its procuratorate), two of 乙区, all seen by the city's procuratorate
    only where routing sends them there; 甲区's procuratorate sees the two sent to it."""
    west = [register(people["west_ro"], "990001-RCO", 1_000 + 500 * i, 1_050) for i in range(6)]
    east = [register(people["east_ro"], "990002-RCO", 12_000 + 500 * i, 2_000) for i in range(2)]
    for clue in west[:2]:
        clue_step(clue=clue, user=people["west_ro"], step="send")
    Clue.objects.filter(pk=west[5].pk).update(created_at=timezone.now() - 400 * DAY)
    return {"west": west, "east": east}


def codes(response) -> list[str]:
    assert response.status_code == 200, response.content[:500]
    return [row["code"] for row in response.json()["results"]]


def test_list_filters_by_district_status_bbox_period(people, map_world):
    client = client_for(people["west_ro"])
    west = map_world["west"]
    assert set(codes(client.get("/api/v1/clues/", {"district": "990001"}))) == {c.code for c in west}
    sent = codes(client.get("/api/v1/clues/", {"district": "990001", "status": "transferred"}))
    assert set(sent) == {c.code for c in west[:2]}
    # bbox: the first three (1.0, 1.5 and 2.0 km east of the origin)
    (lon0, lat0), (lon1, lat1) = at(900, 1_000), at(2_100, 1_100)
    boxed = codes(client.get("/api/v1/clues/", {"bbox": f"{lon0},{lat0},{lon1},{lat1}"}))
    assert set(boxed) == {c.code for c in west[:3]}
    today = timezone.localdate()
    recent = codes(client.get("/api/v1/clues/", {"from": (today - 30 * DAY).isoformat(), "to": today.isoformat()}))
    assert set(recent) == {c.code for c in west[:5]}
    old = codes(client.get("/api/v1/clues/", {"to": (today - 300 * DAY).isoformat()}))
    assert old == [west[5].code]
    # 乙区's river office sees its own two only, whatever the filter asks for.
    assert codes(client_for(people["east_ro"]).get("/api/v1/clues/", {"district": "990001"})) == []


def test_list_mine_overdue_and_ordering(people, map_world):
    west = map_world["west"]
    proc = client_for(people["west_proc"])
    # 甲区's procuratorate holds the two sent to it: they are "mine" for its prosecutor.
    assert set(codes(proc.get("/api/v1/clues/", {"mine": "true"}))) == {c.code for c in west[:2]}
    assert codes(client_for(people["west_liaison"]).get("/api/v1/clues/", {"mine": "true"})) == []
    # The first answer on west[0] is overdue; on west[1] it is not yet due.
    Transfer.objects.filter(clue=west[0]).update(first_answer_due=timezone.localdate() - 2 * DAY)
    assert codes(proc.get("/api/v1/clues/", {"overdue": "true"})) == [west[0].code]
    ordered = codes(client_for(people["west_ro"]).get("/api/v1/clues/", {"district": "990001", "ordering": "code"}))
    assert ordered == sorted(ordered) and len(ordered) == 6
    backwards = codes(client_for(people["west_ro"]).get("/api/v1/clues/", {"ordering": "-code"}))
    assert backwards == sorted(backwards, reverse=True)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"ordering": "description"}, "ordering"),
        ({"from": "2026-13-01"}, "from"),
        ({"from": "2026-05-02", "to": "2026-05-01"}, "to"),
        ({"status": "lost"}, "status"),
        ({"bbox": "1,2,3"}, "bbox"),
    ],
)
def test_bad_filters_are_400(people, map_world, params, field):
    response = client_for(people["west_ro"]).get("/api/v1/clues/", params)
    assert response.status_code == 400 and field in response.json()
    tile = client_for(people["west_ro"]).get("/tiles/clues/10/800/400.pbf", params)
    # The tiles read the filters; the box is the tile's own, and a tile has no order.
    assert tile.status_code == (200 if field in ("bbox", "ordering") else 400)


def test_list_costs_the_same_queries_for_a_page_of_4_and_of_8(people, map_world):
    client = client_for(people["city_proc"])
    for clue in map_world["west"] + map_world["east"]:
        Clue.objects.filter(pk=clue.pk).update(routing_reason="outside_districts")
    counts = []
    for limit in (4, 8):  # by code: both pages hold sent clues and clues on a reach
        with CaptureQueriesContext(connection) as captured:
            assert len(codes(client.get("/api/v1/clues/", {"limit": limit, "ordering": "code"}))) == limit
        counts.append(len(captured))
    assert counts[0] == counts[1], counts
    # A page shows no boundary or line: none is read (a district's boundary is hundreds of vertices).
    read_geometries = [
        q["sql"] for q in captured if re.search(r'"rivers_(district|reach|waterbody)"\."geom"', q["sql"])
    ]
    assert not read_geometries, read_geometries
    detail = client.get(f"/api/v1/clues/{map_world['west'][0].pk}/")
    assert detail.status_code == 200 and detail.json()["district"]["code"] == "990001"


def own_total(tile: bytes, layer: str) -> int:
    features = tile_decode(tile).get(layer, [])
    return sum(f["count"] for f in features if f["own"] == 1)


def test_cluster_and_heat_tiles_count_what_the_list_counts(people, map_world):
    client = client_for(people["west_ro"])
    for params in ({}, {"status": "transferred"}, {"district": "990002"}, {"mine": "true"}):
        listed = client.get("/api/v1/clues/", {**params, "limit": 1}).json()["count"]
        clusters = client.get("/tiles/clues/0/0/0.pbf", params)
        assert clusters.status_code == 200
        assert clusters["Content-Type"] == "application/vnd.mapbox-vector-tile"
        assert own_total(clusters.content, "clues") == listed, params
        heat = client.get("/tiles/clue-heat/0/0/0.pbf", params)
        assert own_total(heat.content, "clue-heat") == listed, params
    # At zoom 0 the six of 甲区 are one cluster, with per-status counts.
    [cluster] = tile_decode(client.get("/tiles/clues/0/0/0.pbf").content)["clues"]
    assert (cluster["count"], cluster["registered"], cluster["transferred"]) == (6, 4, 2)
    assert "id" not in cluster and "code" not in cluster


def test_clue_tiles_at_street_zoom_are_single_clues(people, map_world):
    client = client_for(people["west_ro"])
    clue = map_world["west"][3]
    x, y = tile_of(clue.geom.x, clue.geom.y, CLUSTER_MAX_ZOOM)
    features = tile_decode(client.get(f"/tiles/clues/{CLUSTER_MAX_ZOOM}/{x}/{y}.pbf").content)["clues"]
    mine = [f for f in features if f.get("id") == clue.pk]
    assert mine and mine[0]["code"] == clue.code and mine[0]["status"] == "registered" and mine[0]["count"] == 1
    # Tiles of a zoom cut the same cells: a tile next door counts none of this one's clues as its own.
    beside = client.get(f"/tiles/clues/{CLUSTER_MAX_ZOOM}/{x + 1}/{y}.pbf").content
    assert all(f.get("id") != clue.pk or f["own"] == 0 for f in tile_decode(beside).get("clues", []))
    assert client.get(f"/tiles/clues/3/{2**3}/0.pbf").status_code == 404


def test_clue_tiles_need_sign_in(map_world):
    from rest_framework.test import APIClient

    assert APIClient().get("/tiles/clues/0/0/0.pbf").status_code in (401, 403)


@pytest.mark.parametrize("z", [11, 13, 15])
def test_each_clue_is_counted_by_exactly_one_tile(people, map_world, z, settings):
    """The cells of neighbouring tiles are the same cells: summed over the tiles that cover the clues,
    the tiles' own counts are the list's count (none lost at an edge, none counted twice)."""
    # At z15 this asks for more than a hundred tiles as fast as the server answers: not the user throttle's matter.
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "user": "100000/s"}
    client = client_for(people["city_ro"])
    Clue.objects.update(routing_reason="outside_districts")
    city_proc = client_for(people["city_proc"])
    listed = city_proc.get("/api/v1/clues/", {"limit": 1}).json()["count"]
    assert listed == 8
    (x0, y0), (x1, y1) = tile_of(*at(0, 3_000), z), tile_of(*at(20_000, 0), z)
    for layer in ("clues", "clue-heat"):
        total = sum(
            own_total(city_proc.get(f"/tiles/{layer}/{z}/{x}/{y}.pbf").content, layer)
            for x in range(x0, x1 + 1)
            for y in range(y0, y1 + 1)
        )
        assert total == listed, (layer, z)
    assert own_total(client.get("/tiles/clues/0/0/0.pbf").content, "clues") == 0
