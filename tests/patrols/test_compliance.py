"""The year's compliance (issue 4 §4): joint patrols per district, reaches against the frequency of
their chief's level, reaches never patrolled, focus items met by findings, who sees which district.

The world is tests.clues.conftest's: 甲区 990001 (0–10 km east) and 乙区 990002 (10–20 km east), both
0–10 km north, in the city 990000. CROSS (district chief) runs 5→15 km east at 5 km north through both;
INSIDE (town chief) 2→8 km east at 1 km north in 甲区. This module adds WVILLAGE (village chief, 2→4 km
east at 7 km north, 甲区) and EVILLAGE (village chief, 12→16 km east at 2 km north, 乙区).

Patrols, their participants and coverage rows are written directly (patrols.tracks and
patrols.coverage make them in the product). The year is 2025, judged on 1 February 2026: 365 days,
so a weekly reach expects 365 // 7 = 52 patrol days, a monthly one 365 // 30 = 12, a town reach
(every ten days) 365 // 10 = 36.
"""

import datetime
import uuid
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.test import override_settings

from patrols.compliance import compliance_compute, compliance_districts, compliance_for
from patrols.models import Finding, Patrol, PatrolCoverage, PatrolParticipant
from patrols.plans import focus_set, work_plan_set
from rivers.crossing import network_recompute_all
from rivers.models import Agency, District
from tests.factories import line, point, reach
from tests.patrols.conftest import client_for

SHANGHAI = ZoneInfo("Asia/Shanghai")
YEAR = 2025
JUDGED_ON = datetime.date(2026, 2, 1)


def at_local(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def patrol(district_code: str, started_at, *, by, kind="routine", valid=True, covers=(), agencies=()) -> Patrol:
    """A finished patrol of an hour, covering `covers` [(reach, fraction)], with `agencies` [(user, code)]."""
    made = Patrol.objects.create(
        client_uuid=uuid.uuid4(),
        kind=kind,
        status="finished",
        district=District.objects.get(code=district_code),
        started_by=by,
        started_at=started_at,
        ended_at=started_at + datetime.timedelta(hours=1),
        length_m=3_000,
        duration_s=3_600,
        is_valid=valid,
    )
    for user, code in agencies:
        PatrolParticipant.objects.create(patrol=made, user=user, agency=Agency.objects.get(code=code))
    for covered, fraction in covers:
        PatrolCoverage.objects.create(
            patrol=made, reach=covered, covered_m=covered.length_m * fraction, fraction=fraction
        )
    return made


def finding(category: str, found_at, *, by, agency_code: str, where=None, on_patrol=None) -> Finding:
    return Finding.objects.create(
        client_uuid=uuid.uuid4(),
        request_digest="0" * 64,
        patrol=on_patrol,
        reported_by=by,
        agency=Agency.objects.get(code=agency_code),
        category=category,
        description=category,
        geom=point(*where) if where else None,
        found_at=found_at,
    )


@pytest.fixture
def year(people):
    """A year of patrolling in 甲区 and 乙区 (see each step's comment for what it should count)."""
    villages = {
        "west_village": reach("WVILLAGE", line((2_000, 7_000), (4_000, 7_000)), level="village"),
        "east_village": reach("EVILLAGE", line((12_000, 2_000), (16_000, 2_000)), level="village"),
    }
    network_recompute_all()
    for name, made in villages.items():
        made.refresh_from_db()
        people[name] = made
    people["cross"].refresh_from_db()
    people["inside"].refresh_from_db()
    west_ro, west_proc, east_ro = people["west_ro"], people["west_proc"], people["east_ro"]
    both_sides = [(west_ro, "990001-RCO"), (west_proc, "990001-PROC")]

    # 甲区: one valid joint patrol on 1 June, along INSIDE.
    people["joint"] = patrol(
        "990001", at_local(YEAR, 6, 1), by=west_ro, kind="joint", agencies=both_sides, covers=[(people["inside"], 0.9)]
    )
    # CROSS (district chief, monthly): patrolled on the 15th of every month by 甲区.
    for month in range(1, 13):
        patrol("990001", at_local(YEAR, month, 15), by=west_ro, covers=[(people["cross"], 0.8)])
    # WVILLAGE (village chief, weekly): ten patrol days in March, the 10th twice (11 patrols, 10 days).
    for day in range(1, 11):
        patrol("990001", at_local(YEAR, 3, day), by=west_ro, covers=[(people["west_village"], 1.0)])
    patrol("990001", at_local(YEAR, 3, 10, hour=15), by=west_ro, covers=[(people["west_village"], 1.0)])
    # Not counted: an invalid patrol (too short), a patrol covering too little, one of the year before.
    patrol("990001", at_local(YEAR, 4, 1), by=west_ro, valid=False, covers=[(people["west_village"], 1.0)])
    patrol("990001", at_local(YEAR, 4, 2), by=west_ro, covers=[(people["west_village"], 0.3)])
    patrol("990001", at_local(YEAR - 1, 7, 1), by=west_ro, covers=[(people["west_village"], 1.0)])

    # 乙区: no joint patrol that counts. One was too short (invalid); one started at 23:30 on
    # 31 December 2024 and one at 00:10 on 1 January 2026, Beijing time: neither is in 2025.
    east_sides = [(east_ro, "990002-RCO"), (people["east_proc"], "990002-PROC")]
    patrol("990002", at_local(YEAR, 5, 1), by=east_ro, kind="joint", valid=False, agencies=east_sides)
    patrol("990002", at_local(YEAR - 1, 12, 31, 23, 30), by=east_ro, kind="joint", agencies=east_sides)
    patrol("990002", at_local(YEAR + 1, 1, 1, 0, 10), by=east_ro, kind="joint", agencies=east_sides)
    patrol("990002", at_local(YEAR, 5, 2), by=east_ro, kind="routine")
    # EVILLAGE: only an invalid patrol and one covering a fifth of it: never patrolled.
    patrol("990002", at_local(YEAR, 5, 3), by=east_ro, valid=False, covers=[(people["east_village"], 1.0)])
    patrol("990002", at_local(YEAR, 5, 4), by=east_ro, covers=[(people["east_village"], 0.2)])
    return people


def by_code(compliance) -> dict:
    return {row.district.code: row for row in compliance.districts}


def reach_rows(district_row) -> dict:
    return {row.reach.code: row for row in district_row.reaches}


def test_a_district_without_a_valid_joint_patrol_is_listed(year):
    compliance = compliance_compute(districts=District.objects.districts(), year=YEAR, today=JUDGED_ON)
    assert (compliance.period.start, compliance.period.end, compliance.period.days) == (
        datetime.date(YEAR, 1, 1),
        datetime.date(YEAR, 12, 31),
        365,
    )
    rows = by_code(compliance)
    assert (rows["990001"].joint_patrols, rows["990001"].joint_compliant) == (1, True)
    # The invalid joint patrol and those of the neighbouring years do not count.
    assert (rows["990002"].joint_patrols, rows["990002"].joint_compliant) == (0, False)
    assert [d.code for d in compliance.districts_lacking_joint_patrol] == ["990002"]


def test_reaches_against_the_frequency_of_their_chiefs_level(year):
    rows = by_code(compliance_compute(districts=District.objects.districts(), year=YEAR, today=JUDGED_ON))
    west = reach_rows(rows["990001"])
    assert set(west) == {"CROSS", "INSIDE", "WVILLAGE"}

    village = west["WVILLAGE"]
    # Weekly: 52 patrol days expected, 10 made (11 patrols, two on 10 March); the invalid patrol, the
    # one covering 30 % and last year's are left out.
    assert (village.frequency_days, village.expected) == (7, 52)
    assert (village.patrols, village.patrol_days, village.compliant) == (11, 10, False)
    assert (village.first_patrolled_on, village.last_patrolled_on) == (
        datetime.date(YEAR, 3, 1),
        datetime.date(YEAR, 3, 10),
    )
    # The longest run without a patrol: 11 March to 31 December, 296 days.
    assert village.longest_gap_days == (datetime.date(YEAR, 12, 31) - datetime.date(YEAR, 3, 10)).days == 296

    cross = west["CROSS"]
    # Monthly on the 15th: 12 of 12, compliant. Longest run without a patrol: 30 days (e.g. 16 January
    # to 14 February), longer than 1–14 January (14) and 16–31 December (16).
    assert (cross.frequency_days, cross.expected, cross.patrols, cross.patrol_days) == (30, 12, 12, 12)
    assert cross.compliant is True and cross.longest_gap_days == 30

    inside = west["INSIDE"]
    # Every ten days: 36 expected; the joint patrol of 1 June is the only one.
    assert (inside.expected, inside.patrols, inside.compliant) == (36, 1, False)

    assert {r.code for r in rows["990001"].reaches_below_policy} == {"WVILLAGE", "INSIDE"}
    assert rows["990001"].reaches_compliant == 1
    levels = {s.level: s for s in rows["990001"].by_level}
    assert (levels["village"].reaches, levels["village"].compliant, levels["district"].compliant) == (1, 0, 1)


def test_reaches_never_patrolled(year):
    rows = by_code(compliance_compute(districts=District.objects.districts(), year=YEAR, today=JUDGED_ON))
    # EVILLAGE had only an invalid patrol and one covering 20 %; CROSS lies in 乙区 too and was patrolled.
    assert [r.code for r in rows["990002"].reaches_never_patrolled] == ["EVILLAGE"]
    assert rows["990001"].reaches_never_patrolled == []
    never = reach_rows(rows["990002"])["EVILLAGE"]
    assert (never.patrols, never.patrol_days, never.longest_gap_days, never.compliant) == (0, 0, 365, False)
    assert reach_rows(rows["990002"])["CROSS"].patrol_days == 12


def test_a_year_under_way_is_judged_up_to_today(year):
    # On 28 February 2025 the period holds 59 days: 8 weeks, 1 month (patrolled 15 January and 15 February).
    rows = by_code(
        compliance_compute(districts=District.objects.districts(), year=YEAR, today=datetime.date(YEAR, 2, 28))
    )
    west = reach_rows(rows["990001"])
    assert (west["WVILLAGE"].expected, west["WVILLAGE"].patrol_days) == (59 // 7, 0)
    assert (west["CROSS"].expected, west["CROSS"].patrol_days, west["CROSS"].compliant) == (1, 2, True)
    assert west["CROSS"].longest_gap_days == 30  # 16 January to 14 February
    assert rows["990001"].joint_patrols == 0  # the joint patrol of 1 June has not happened yet
    # A year not begun expects nothing and counts nothing.
    later = by_code(compliance_compute(districts=District.objects.districts(), year=YEAR + 2, today=JUDGED_ON))
    assert later["990001"].reaches[0].expected == 0 and later["990001"].joint_patrols == 0


@override_settings(PATROL_FREQUENCY_DAYS={"city": 60, "district": 30, "town": 10, "village": 30})
def test_the_frequency_is_a_policy(year):
    rows = by_code(compliance_compute(districts=District.objects.districts(), year=YEAR, today=JUDGED_ON))
    assert reach_rows(rows["990001"])["WVILLAGE"].expected == 12


def test_focus_items_met_by_findings(year):
    west_ro, west_proc = year["west_ro"], year["west_proc"]
    focus_set(
        user=year["west_liaison"],
        district=District.objects.get(code="990001"),
        year=YEAR,
        items=[("illegal_sand_mining", "采砂"), ("illegal_fishing", "禁渔期"), ("flood_safety", "")],
        chief_order="区级1号总河长令",
    )
    on_patrol = Patrol.objects.filter(district__code="990001", is_valid=True).first()
    # In 甲区 by its point (4 km east, 1.05 km north).
    finding("illegal_sand_mining", at_local(YEAR, 5, 1), by=west_ro, agency_code="990001-RCO", where=(4_000, 1_050))
    # No point: the patrol's district, 甲区.
    finding("illegal_sand_mining", at_local(YEAR, 5, 2), by=west_ro, agency_code="990001-RCO", on_patrol=on_patrol)
    # No point, no patrol: the reporting agency's district, 甲区.
    finding("flood_safety", at_local(YEAR, 7, 1), by=west_proc, agency_code="990001-PROC")
    # Found on a 甲区 patrol but at 15 km east: in 乙区, by its point.
    finding(
        "illegal_fishing",
        at_local(YEAR, 8, 1),
        by=west_ro,
        agency_code="990001-RCO",
        where=(15_000, 1_000),
        on_patrol=on_patrol,
    )
    # In 甲区 but in 2024: not this year's.
    finding("illegal_fishing", at_local(YEAR - 1, 8, 1), by=west_ro, agency_code="990001-RCO", where=(4_000, 1_050))
    # Not a focus category: only in the total.
    finding("obstruction", at_local(YEAR, 9, 1), by=west_ro, agency_code="990001-RCO", where=(3_000, 1_050))

    rows = by_code(compliance_compute(districts=District.objects.districts(), year=YEAR, today=JUDGED_ON))
    focus = rows["990001"].focus
    assert focus.plan.revision == 1
    assert {item.category: item.findings for item in focus.items} == {
        "illegal_sand_mining": 2,
        "illegal_fishing": 0,
        "flood_safety": 1,
    }
    assert focus.without_findings == ["illegal_fishing"]
    assert focus.findings_total == 4
    assert rows["990002"].focus is None  # 乙区 set no focus
    assert rows["990002"].plans.focus.missing and rows["990002"].plans.focus.overdue


def test_scope_a_district_sees_itself_the_city_sees_its_districts(year, member):
    everyone = {"990001", "990002"}
    assert {d.code for d in compliance_districts(year["west_proc"])} == {"990001"}
    assert {d.code for d in compliance_districts(year["west_liaison"])} == {"990001"}
    assert {d.code for d in compliance_districts(year["east_ro"])} == {"990002"}
    assert {d.code for d in compliance_districts(year["city_proc"])} == everyone
    assert {d.code for d in compliance_districts(year["city_ro"])} == everyone
    west_only = compliance_for(user=year["west_proc"], year=YEAR, today=JUDGED_ON)
    assert [row.district.code for row in west_only.districts] == ["990001"]
    # Asking for the other district gives nothing; a city member narrows to one district or the city.
    other = compliance_for(user=year["west_proc"], year=YEAR, scope=District.objects.get(code="990002"))
    assert other.districts == []
    city = District.objects.get(code="990000")
    assert len(compliance_for(user=year["city_proc"], year=YEAR, scope=city).districts) == 2
    # Someone in no agency is refused.
    with pytest.raises(PermissionDenied):
        compliance_districts(get_user_model().objects.create(username="stranger"))


# --- API -------------------------------------------------------------------------------------------


def test_api_compliance_for_the_liaison_dashboard(year, django_assert_max_num_queries):
    work_plan_set(user=year["west_liaison"], district=District.objects.get(code="990001"), year=YEAR, content="要点")
    # A fixed number of queries, whatever the number of reaches and patrols (plus one per focus set).
    with django_assert_max_num_queries(8):
        response = client_for(year["city_proc"]).get(f"/api/v1/compliance/?year={YEAR}")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["year"] == YEAR and data["period"] == {"from": f"{YEAR}-01-01", "to": f"{YEAR}-12-31", "days": 365}
    assert data["policy"]["frequency_days"] == {"city": 60, "district": 30, "town": 10, "village": 7}
    assert data["districts_lacking_joint_patrol"] == [{"code": "990002", "name": "乙区"}]
    west, east = data["districts"]
    assert west["district"]["code"] == "990001"
    assert west["joint_patrols"] == {"count": 1, "required": 1, "compliant": True}
    assert east["joint_patrols"] == {"count": 0, "required": 1, "compliant": False}
    assert west["plans"]["work_plan"]["missing"] is False and west["plans"]["work_plan"]["revision"] == 1
    assert west["plans"]["focus"] == {
        "due": f"{YEAR}-03-31",
        "missing": True,
        "overdue": True,
        "late": False,
        "revision": None,
    }
    assert [r["code"] for r in east["reaches"]["never_patrolled"]] == ["EVILLAGE"]
    village = next(r for r in west["reaches"]["items"] if r["code"] == "WVILLAGE")
    assert (village["expected"], village["patrol_days"], village["compliant"]) == (52, 10, False)
    assert west["reaches"]["total"] == 3 and west["focus"] is None

    # A district's member sees only that district; ?district= narrows, even to nothing.
    west_view = client_for(year["west_proc"]).get(f"/api/v1/compliance/?year={YEAR}").json()
    assert [row["district"]["code"] for row in west_view["districts"]] == ["990001"]
    assert west_view["districts_lacking_joint_patrol"] == []
    narrowed = client_for(year["west_proc"]).get(f"/api/v1/compliance/?year={YEAR}&district=990002").json()
    assert narrowed["districts"] == []
    only_east = client_for(year["city_proc"]).get(f"/api/v1/compliance/?year={YEAR}&district=990002").json()
    assert [row["district"]["code"] for row in only_east["districts"]] == ["990002"]


def test_api_compliance_refuses_strangers_and_bad_parameters(year):
    stranger = get_user_model().objects.create(username="stranger")
    assert client_for(stranger).get("/api/v1/compliance/").status_code == 403
    client = client_for(year["west_liaison"])
    for query, field in [
        ("year=abc", "year"),
        ("year=1999", "year"),
        ("year=2101", "year"),
        ("district=999999", "district"),
    ]:
        response = client.get(f"/api/v1/compliance/?{query}")
        assert response.status_code == 400 and field in response.json(), (query, response.content)
    assert client.get("/api/v1/compliance/").status_code == 200  # this year by default


def test_api_compliance_is_in_the_openapi_schema(year):
    schema = client_for(year["west_liaison"]).get("/api/v1/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"/api/v1/compliance/", "/api/v1/focus/", "/api/v1/work-plans/"} <= set(paths)
    assert {"get", "post"} <= set(paths["/api/v1/focus/"])


# --- At municipal scale (issue 10): pages, a fixed number of statements, reaches written by hand -------


def test_api_pages_the_districts_and_counts_them_all(year):
    client = client_for(year["city_proc"])
    first = client.get(f"/api/v1/compliance/?year={YEAR}&limit=1").json()
    assert first["count"] == 2 and first["previous"] is None
    assert [row["district"]["code"] for row in first["districts"]] == ["990001"]
    assert first["next"].endswith(f"/api/v1/compliance/?limit=1&offset=1&year={YEAR}")
    # The districts lacking a joint patrol are those of the whole scope, on every page.
    assert first["districts_lacking_joint_patrol"] == [{"code": "990002", "name": "乙区"}]
    second = client.get(first["next"]).json()
    assert [row["district"]["code"] for row in second["districts"]] == ["990002"]
    assert second["next"] is None and second["previous"] is not None
    everything = client.get(f"/api/v1/compliance/?year={YEAR}").json()
    assert everything["districts"] == first["districts"] + second["districts"]
    assert client.get(f"/api/v1/compliance/?year={YEAR}&limit=0").status_code == 400


def test_the_page_size_is_a_setting(year, settings):
    settings.COMPLIANCE_PAGE_SIZE = 1
    body = client_for(year["city_proc"]).get(f"/api/v1/compliance/?year={YEAR}").json()
    assert body["count"] == 2 and len(body["districts"]) == 1


def test_reaches_written_by_hand_are_what_drf_wrote(year):
    from rest_framework import serializers

    from patrols.api.plans import ReachComplianceSerializer, ReachLevelRefSerializer

    rows = by_code(compliance_compute(districts=District.objects.districts(), year=YEAR, today=JUDGED_ON))
    reaches = [row for district in rows.values() for row in district.reaches]
    assert any(row.first_patrolled_on for row in reaches) and any(row.first_patrolled_on is None for row in reaches)
    for row in reaches:
        by_drf = serializers.Serializer.to_representation(ReachComplianceSerializer(), row)
        assert ReachComplianceSerializer(row).data == by_drf
        by_drf = serializers.Serializer.to_representation(ReachLevelRefSerializer(), row.reach)
        assert ReachLevelRefSerializer(row.reach).data == by_drf


def test_the_api_takes_the_same_statements_whatever_the_districts_with_a_focus(year, member):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def statements() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client_for(year["city_proc"]).get(f"/api/v1/compliance/?year={YEAR}")
        assert response.status_code == 200
        return len(captured.captured_queries)

    def focus(code: str) -> None:
        liaison = year["west_liaison"] if code == "990001" else member("east_liaison", "990002-LIAISON", "liaison")
        focus_set(user=liaison, district=District.objects.get(code=code), year=YEAR, items=[("illegal_fishing", "")])

    focus("990001")
    one = statements()
    focus("990002")
    assert statements() == one
