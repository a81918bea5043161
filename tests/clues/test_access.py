"""Who sees which clue (DESIGN §5), on detail, list and GeoJSON alike; hidden means 404, not 403."""

import pytest
from django.contrib.auth.models import AnonymousUser
from rest_framework.test import APIClient

from clues.models import Clue
from clues.workflow import clue_step
from tests.clues.conftest import PEOPLE, client_for, register


@pytest.fixture
def clues(people):
    west_ro, east_ro, city_ro = people["west_ro"], people["east_ro"], people["city_ro"]
    own = register(west_ro, "990001-RCO", 4_000, 1_050)  # 甲区, sent to 甲区检察院
    clue_step(clue=own, user=west_ro, step="send")
    other = register(east_ro, "990002-RCO", 15_000, 2_000)  # 乙区, sent to 乙区检察院
    clue_step(clue=other, user=east_ro, step="send")
    cross = register(west_ro, "990001-RCO", 7_000, 5_020)  # on CROSS: 市检察院, copies to both
    clue_step(clue=cross, user=west_ro, step="send")
    secret = register(west_ro, "990001-RCO", 3_000, 1_050, confidential=True)  # held by 甲区检察院 once sent
    clue_step(clue=secret, user=west_ro, step="send")
    outside = register(city_ro, "990000-RCO", 5_000, 15_000)  # in no district: kept by the city's river office
    return {"own": own, "other": other, "cross": cross, "secret": secret, "outside": outside}


# role × (own district, other district, cross-district, confidential, outside districts)
MATRIX = {
    "west_patrol": {"own", "cross"},  # the river office registered and sent them; the secret one left it
    "west_ro": {"own", "cross"},
    "west_proc": {"own", "cross", "secret"},  # received, copied, holds the confidential one
    "west_liaison": {"own", "cross"},  # sees its district's work, but not what is confidential
    "east_ro": {"other"},
    "east_proc": {"other", "cross"},  # received its own; copied on the cross-district one
    "city_proc": {"cross", "secret", "outside"},  # every cross/outside clue of its city, and the confidential
    "city_ro": {"outside"},
}


@pytest.mark.parametrize("user_key", list(MATRIX))
def test_access_matrix(people, clues, user_key):
    client = client_for(people[user_key])
    expected = MATRIX[user_key]
    for name, clue in clues.items():
        response = client.get(f"/api/v1/clues/{clue.pk}/")
        assert response.status_code == (200 if name in expected else 404), (user_key, name)
        assert client.get(f"/api/v1/clues/{clue.pk}/events/").status_code == response.status_code
    listed = {c["code"] for c in client.get("/api/v1/clues/").json()["results"]}
    assert listed == {clues[name].code for name in expected}
    features = client.get("/api/v1/clues/geojson/").json()["results"]["features"]
    assert {f["properties"]["code"] for f in features} == {clues[name].code for name in expected}
    assert Clue.objects.visible_to(people[user_key]).count() == len(expected)


def test_hidden_clue_steps_are_404_too(people, clues):
    response = client_for(people["east_proc"]).post(f"/api/v1/clues/{clues['secret'].pk}/steps/accept/", {})
    assert response.status_code == 404


def test_anonymous_sees_nothing(clues):
    assert APIClient().get(f"/api/v1/clues/{clues['own'].pk}/").status_code == 401
    assert not Clue.objects.visible_to(AnonymousUser()).exists()


def test_list_filters(people, clues):
    client = client_for(people["city_proc"])
    assert {c["code"] for c in client.get("/api/v1/clues/", {"reach": "CROSS"}).json()["results"]} == {
        clues["cross"].code
    }
    assert client.get("/api/v1/clues/", {"status": "nonsense"}).status_code == 400
    assert client.get("/api/v1/clues/", {"bbox": "1,2"}).status_code == 400


def test_the_sets_of_the_rule_are_the_agencies_each_user_works_for(people, member):
    """agencies_of (one statement of SQL) gives the sets DESIGN §5 names, written here with the ORM."""
    from django.db.models import Q

    from clues.querysets import agencies_of
    from rivers.models import Agency

    # A user in two agencies, a liaison office among them; and one in none.
    both = member("both", "990002-LIAISON", "liaison")
    member("both", "990000-PROC", "prosecutor")
    nobody = member("nobody", "990001-WATER", "patrol")
    nobody.memberships.all().delete()
    for user in [*(people[name] for name, _, _ in PEOPLE), both, nobody]:
        own = Q(memberships__user=user)
        linked = Q(
            kind__in=["procuratorate", "river_office"],
            district__agencies__kind="liaison_office",
            district__agencies__memberships__user=user,
        )
        expected = sorted(set(Agency.objects.filter(own | linked).values_list("pk", flat=True)))
        members = sorted(set(Agency.objects.filter(memberships__user=user).values_list("pk", flat=True)))
        cities = sorted(
            set(
                Agency.objects.filter(kind="procuratorate", district__level="city", memberships__user=user).values_list(
                    "district_id", flat=True
                )
            )
        )
        assert agencies_of(user) == (expected, members, cities), user.username
        assert sorted(Agency.objects.of_user(user).values_list("pk", flat=True)) == expected
    assert agencies_of(nobody) == ([], [], [])


@pytest.mark.parametrize("user_key", list(MATRIX))
def test_both_forms_of_the_rule_answer_alike(people, clues, user_key):
    """The rule's two SQL forms (clues.querysets.VisibleTo) name the same clues, listed or one by one."""
    user, expected = people[user_key], {clues[name].code for name in MATRIX[user_key]}
    for per_clue in (False, True):
        visible = Clue.objects.visible_to(user, per_clue=per_clue)
        assert set(visible.values_list("code", flat=True)) == expected, (user_key, per_clue)
        for name, clue in clues.items():
            assert visible.filter(pk__in=[clue.pk]).exists() == (name in MATRIX[user_key]), (user_key, per_clue, name)


def test_a_municipal_list_is_counted_apart_and_counts_alike(people, clues):
    # A municipal procuratorate's list tests the rule on each clue (PER_CLUE) and is counted in a statement
    # of its own (the window's plan walked the order's index over all 10^6 clues in make bench: 3 s); the
    # page and the count are the ones a district's list gets from the window.
    from clues.querysets import tests_each_clue

    assert tests_each_clue(Clue.objects.visible_to(people["city_proc"]).filter(status="registered"))
    assert not tests_each_clue(Clue.objects.visible_to(people["west_proc"]))
    for user_key in ("city_proc", "west_proc"):
        client, expected = client_for(people[user_key]), MATRIX[user_key]
        codes = []
        for offset in range(len(expected)):
            body = client.get(f"/api/v1/clues/?limit=1&offset={offset}").json()
            assert body["count"] == len(expected), user_key
            codes += [clue["code"] for clue in body["results"]]
        assert set(codes) == {clues[name].code for name in expected} and len(codes) == len(expected), user_key
