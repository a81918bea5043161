"""The network's vector tiles draw what their zoom can show (rivers.tiles, issue 10 item 7).

The world is tests.factories.two_district_world's (origin 106°E 29°N, metres east and north of it). At
z10 a 256-pixel tile is about 34 km across there and a pixel about 134 m on the ground; at z16 a pixel is
about 2 m.
"""

from __future__ import annotations

import math

import pytest
from rest_framework.test import APIClient

from rivers.crossing import network_recompute_all
from rivers.tiles import tile_statement
from tests.clues.mvt import _fields, _packed, tile_decode, tile_of
from tests.factories import at, line, reach


@pytest.fixture
def client(world, member):
    client = APIClient()
    client.force_login(member("viewer", "990001-RCO", "river_office"))
    return client


def tile(client, z: int, east_m: float, north_m: float) -> bytes:  # noqa: ANN001 - a test client
    x, y = tile_of(*at(east_m, north_m), z)
    response = client.get(f"/tiles/reaches/{z}/{x}/{y}.pbf")
    assert response.status_code == 200
    return response.content


def codes(data: bytes) -> list[str]:
    return [feature["code"] for feature in tile_decode(data).get("reaches", [])]


def geometry_lengths(data: bytes) -> dict[str, int]:
    """Return {code: how many integers its geometry takes} (commands and coordinates: vertices × 2 + a few)."""
    lengths = {}
    for number, _, raw in _fields(data):
        if number != 3:
            continue
        keys, values, features = [], [], []
        for field, _, value in _fields(raw):
            if field == 2:
                features.append(value)
            elif field == 3:
                keys.append(value.decode())
            elif field == 4:
                values.append(value)
        for feature in features:
            tags, geometry = [], []
            for field, _, value in _fields(feature):
                if field == 2:
                    tags = _packed(value)
                elif field == 4:
                    geometry = _packed(value)
            properties = dict(zip(tags[::2], tags[1::2], strict=True))
            code_value = values[properties[keys.index("code")]]
            lengths[list(_fields(code_value))[0][2].decode()] = len(geometry)
    return lengths


def test_small_features_are_left_out_of_a_low_zoom_tile(client):
    reach("LONG", line((2_000, 3_000), (8_000, 3_000)))  # 6 km
    reach("SHORT", line((5_000, 3_500), (5_100, 3_500)))  # 100 m: under a pixel at z10, 50 pixels at z16
    network_recompute_all()
    assert codes(tile(client, 10, 5_000, 3_000)) == ["LONG"]
    assert set(codes(tile(client, 16, 5_050, 3_500))) == {"SHORT"}


def test_geometries_are_simplified_by_zoom(client):
    # 2 km east at 3 km north, a vertex every 10 m wobbling 3 m north and south: a straight line at z10,
    # every wobble at z17 (a tile there is about 270 m across, a pixel about a metre).
    wobbly = [(2_000 + 10 * i, 3_000 + (3 if i % 2 else -3)) for i in range(201)]
    reach("WOBBLY", line(*wobbly))
    network_recompute_all()
    low = geometry_lengths(tile(client, 10, 3_000, 3_000))["WOBBLY"]
    high = geometry_lengths(tile(client, 17, 2_500, 3_000))["WOBBLY"]
    assert low <= 8  # MoveTo, LineTo and a few points
    assert high > 40


def test_a_tile_carries_at_most_the_cap_the_most_important_first(client, settings):
    settings.TILE_MAX_FEATURES = 5
    for i in range(8):
        reach(f"TOWN{i}", line((2_000, 1_000 + 100 * i), (3_000 + 200 * i, 1_000 + 100 * i)), level="town")
    reach("CITY", line((2_000, 3_000), (2_500, 3_000)), level="city")
    reach("DISTRICT", line((2_000, 3_100), (2_600, 3_100)), level="district")
    network_recompute_all()
    shown = codes(tile(client, 12, 2_500, 1_500))
    # The city and district reaches, then the three longest town reaches.
    assert sorted(shown) == sorted(["CITY", "DISTRICT", "TOWN7", "TOWN6", "TOWN5"])


def test_the_statement_does_not_grow_with_the_settings_or_the_zoom(settings):
    statements = set()
    for z in (3, 10, 16):
        for cap in (10, 10_000):
            settings.TILE_MAX_FEATURES = cap
            sql, params = tile_statement("reaches", z, 2**z // 2, 2**z // 2)
            statements.add(sql)
            assert params["max_features"] == cap
    assert len(statements) == 1


@pytest.mark.parametrize("z", [8, 12, 16])
def test_the_simplification_stays_under_a_pixel(z):
    _, params = tile_statement("reaches", z, *tile_of(106.3, 29.05, z))
    pixel_deg = 360 / 2**z / 256  # a pixel across, in degrees of longitude
    assert 0 < params["tolerance_deg"] <= pixel_deg / 2
    assert params["tolerance_deg"] >= pixel_deg / 2 * math.cos(math.radians(30))
