"""A small city with two districts, reaches, and a user for each role that matters to clues.

See tests.factories.two_district_world: 甲区 990001 (0–10 km east), 乙区 990002 (10–20 km east),
city 990000 (also 10–20 km north, in no district). CROSS runs 5→15 km east at 5 km north (both
districts); INSIDE runs 2→8 km east at 1 km north (甲区 only).
"""

import uuid

import pytest
from rest_framework.test import APIClient

from clues.registration import clue_register
from rivers.crossing import network_recompute_all
from rivers.models import Agency
from tests.factories import at, line, point, reach

# (username, agency code, role)
PEOPLE = [
    ("west_patrol", "990001-RCO", "patrol"),
    ("west_ro", "990001-RCO", "river_office"),
    ("west_proc", "990001-PROC", "prosecutor"),
    ("west_liaison", "990001-LIAISON", "liaison"),
    ("east_ro", "990002-RCO", "river_office"),
    ("east_proc", "990002-PROC", "prosecutor"),
    ("city_proc", "990000-PROC", "prosecutor"),
    ("city_ro", "990000-RCO", "river_office"),
]


@pytest.fixture
def people(world, member):
    network = {
        "cross": reach("CROSS", line((5_000, 5_000), (15_000, 5_000)), level="district"),
        "inside": reach("INSIDE", line((2_000, 1_000), (8_000, 1_000))),
    }
    network_recompute_all()
    users = {name: member(name, agency, role) for name, agency, role in PEOPLE}
    Agency.objects.create(code="990001-WATER", name="甲区水利局", kind="responsible_unit", district=world["west"])
    return {**users, **network}


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def location(east_m: float, north_m: float) -> dict:
    return {"type": "Point", "coordinates": list(at(east_m, north_m))}


def register(user, agency_code: str, east_m: float, north_m: float, **fields):
    """Register a clue through the domain function (tests of the API post instead)."""
    values = {
        "client_uuid": uuid.uuid4(),
        "category": "illegal_sand_mining",
        "description": "非法采砂",
        "location": point(east_m, north_m),
        "source": "river_office",
        **fields,
    }
    return clue_register(user=user, agency=Agency.objects.get(code=agency_code), **values).clue
