"""What one registration costs (issue 7 §8): its 201 body is built from what registering made, not read back.

The body must stay exactly what the detail serializer gives for the same clue read the ordinary way, and
the registration must stay within a small number of statements.
"""

import datetime

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clues.models import Clue
from clues.serializers import DuplicateSerializer
from rivers.querysets import MetresBetween, geometry_value
from tests.clues.conftest import client_for, location
from tests.clues.test_registration import body

# POST /api/v1/clues/ of a new clue in a district, on a reach: 28 statements before issue 7 §8, 17 with the
# body built from the registration, 11 with routing in one statement, the visibility rule as one expression
# and no look for a retry before the insert; 9 with the first event and its anchor in one statement and the
# duplicates statement reading the user's agencies itself (issue 10).
REGISTRATION_STATEMENTS = 9


def duplicates_by_the_rule(clue: Clue, user) -> list[Clue]:  # noqa: ANN001 - a user
    """The possible duplicates as the rule says them, written with the ORM: clues.registration's prepared
    statement must give the same."""
    if clue.reach_id is None and clue.water_body_id is None:
        return []
    window = datetime.timedelta(days=settings.DUPLICATE_WINDOW_DAYS)
    return list(
        Clue.objects.visible_to(user)
        .open()
        .filter(category=clue.category, reach=clue.reach_id, water_body=clue.water_body_id)
        .filter(created_at__gte=clue.created_at - window, created_at__lte=clue.created_at + window)
        .exclude(pk=clue.pk)
        .within_metres(clue.geom, metres=settings.DUPLICATE_DISTANCE_M)
        .annotate(distance_m=MetresBetween("geom", geometry_value(clue.geom)))
        .order_by("distance_m", "pk")
    )


def registered_and_read(user, **overrides) -> tuple[dict, dict]:
    """Register through the API; return the 201 body and the same clue as GET and duplicates_nearest show it."""
    client = client_for(user)
    response = client.post("/api/v1/clues/", body(**overrides), format="json")
    assert response.status_code == 201, response.json()
    registered = response.json()
    read = client.get(f"/api/v1/clues/{registered['id']}/").json()
    duplicates = duplicates_by_the_rule(Clue.objects.get(pk=registered["id"]), user)
    read["possible_duplicates"] = DuplicateSerializer(duplicates[: settings.DUPLICATES_SHOWN], many=True).data
    read["possible_duplicates_count"] = len(duplicates)
    return registered, read


@pytest.mark.parametrize(
    ("username", "overrides"),
    [
        ("west_ro", {}),  # in a district, on a reach
        ("west_ro", {"location": location(7_000, 5_020)}),  # a cross-district reach: copies
        ("west_ro", {"location": location(5_000, 15_000)}),  # in no district, near no reach
        ("west_ro", {"confidential": True}),
        ("west_patrol", {"source": "patrol", "category": "illegal_fishing"}),
        ("west_liaison", {}),
        ("city_proc", {"location": location(12_000, 1_000)}),  # in 乙区, registered by the city
    ],
)
def test_the_registration_body_is_the_clue_as_read(people, username, overrides):
    registered, read = registered_and_read(people[username], **overrides)
    assert registered == read


@pytest.mark.parametrize("earlier", [1, 4, 9])
def test_the_body_names_its_possible_duplicates_as_a_read_would(people, earlier):
    """The nearest DUPLICATES_SHOWN (5) and how many there are, fewer or more than shown."""
    user = people["west_ro"]
    for i in range(earlier):
        client_for(user).post("/api/v1/clues/", body(location=location(4_000 + 25 * i, 1_000)), format="json")
    registered, read = registered_and_read(user, location=location(4_050, 1_000))
    assert registered["possible_duplicates_count"] == earlier
    assert len(registered["possible_duplicates"]) == min(earlier, 5)
    assert registered == read
    listed = client_for(user).get(f"/api/v1/clues/{registered['id']}/duplicates/").json()
    rule = duplicates_by_the_rule(Clue.objects.get(pk=registered["id"]), user)
    assert listed == DuplicateSerializer(rule, many=True).data


def test_a_member_of_several_agencies_registers_for_the_one_named(people, member):
    user = member("west_ro", "990001-PROC", "prosecutor")
    registered, read = registered_and_read(user, agency="990001-PROC")
    assert registered["registering_agency"]["code"] == registered["holder"]["code"] == "990001-PROC"
    assert registered == read


def test_a_retry_shows_the_clue_as_it_is_now(people):
    """A retry's clue may have moved on since: it is read, not rebuilt."""
    client = client_for(people["west_ro"])
    sent = body()
    first = client.post("/api/v1/clues/", sent, format="json").json()
    client.post(f"/api/v1/clues/{first['id']}/steps/send/", {}, format="json")
    again = client.post("/api/v1/clues/", sent, format="json")
    assert again.status_code == 200
    assert again.json()["status"] == client.get(f"/api/v1/clues/{first['id']}/").json()["status"]


def test_a_registration_runs_in_a_few_statements(people):
    client = client_for(people["west_ro"])
    for i in range(7):  # more possible duplicates than are shown, as the soak's registrations have
        client.post("/api/v1/clues/", body(location=location(4_000 + 25 * i, 1_000)), format="json")
    with CaptureQueriesContext(connection) as statements:
        response = client.post("/api/v1/clues/", body(location=location(4_100, 1_000)), format="json")
    assert response.status_code == 201
    assert response.json()["possible_duplicates_count"] == 7
    assert len(statements) <= REGISTRATION_STATEMENTS, "\n".join(q["sql"][:200] for q in statements)


def test_possible_duplicates_in_a_water_body_are_those_of_the_rule(people):
    # The statement on a water body is not the one on a reach (clues.registration.DUPLICATES_ON_WATER_BODY).
    from rivers.crossing import network_recompute_all
    from tests.factories import box, water_body

    water_body("LAKE", box(3_000, 7_000, 4_000, 8_000))
    network_recompute_all()
    user = people["west_ro"]
    for i in range(3):
        client_for(user).post("/api/v1/clues/", body(location=location(3_500 + 25 * i, 7_500)), format="json")
    registered, read = registered_and_read(user, location=location(3_550, 7_520))
    assert registered["possible_duplicates_count"] == 3
    assert registered == read
    rule = duplicates_by_the_rule(Clue.objects.get(pk=registered["id"]), user)
    assert Clue.objects.get(pk=registered["id"]).water_body_id is not None
    listed = client_for(user).get(f"/api/v1/clues/{registered['id']}/duplicates/").json()
    assert listed == DuplicateSerializer(rule, many=True).data
