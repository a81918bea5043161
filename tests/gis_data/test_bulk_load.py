"""The bulk loader (gis_data.bulk, gis_data.bundle): statements that do not grow with the features, and
the same records, chiefs and derived fields as the row-by-row functions of rivers.network and
rivers.chiefs that it replaces in the loaders."""

from __future__ import annotations

import datetime
import json

import pytest
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from gis_data.bundle import bundle_load
from gis_data.readers import geojson_wkb
from rivers.chiefs import chief_assign
from rivers.crossing import network_recompute_all
from rivers.models import AccessChange, ChiefAssignment, District, Reach, ReachDistrict
from rivers.network import agencies_derive, district_parent_set, district_upsert
from tests.gis_data.test_bundle import feature, linestring, polygon, write_bundle


def districts(count: int, *, moved: bool = False, city_level: str = "city") -> list[dict]:
    """A city and `count` districts in a row, 10 km wide each (moved: every boundary 2 km east)."""
    shift = 2_000 if moved else 0
    features = [feature(polygon(0, 0, 10_000 * count, 20_000), code="990000", name="测试市", level=city_level)]
    for n in range(count):
        west = 0 if n == 0 else 10_000 * n + shift
        features.append(
            feature(
                polygon(west, 0, 10_000 * (n + 1) + shift, 10_000),
                code=f"99{n + 1:04d}",
                name=f"区{n + 1}",
                level="district",
                parent="990000",
            )
        )
    return features


def reaches(count: int, chief: str = "张三") -> list[dict]:
    """`count` reaches of 6 km, every other one across a boundary."""
    return [
        feature(
            linestring((3_000 + 5_000 * n, 2_000 + 50 * n), (9_000 + 5_000 * n, 2_000 + 50 * n)),
            code=f"R{n}",
            name=f"河段{n}",
            river=f"河{n % 3}",
            level="village",
            chief=f"{chief}{n}",
        )
        for n in range(count)
    ]


def statements(call) -> int:  # noqa: ANN001 - a function of no arguments
    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        call()
        transaction.set_rollback(True)
    return len([q for q in captured.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))])


@pytest.mark.django_db
def test_statements_do_not_grow_with_the_number_of_features(tmp_path):
    small = write_bundle(tmp_path / "small", districts(2), reaches(3))
    large = write_bundle(tmp_path / "large", districts(6), reaches(30))
    assert statements(lambda: bundle_load(small)) == statements(lambda: bundle_load(large))
    # And again over what the first load left (updates, not inserts).
    bundle_load(small)
    moved = write_bundle(tmp_path / "moved-small", districts(2, moved=True), reaches(3))
    moved_large = write_bundle(tmp_path / "moved-large", districts(6, moved=True), reaches(30))
    assert statements(lambda: bundle_load(moved)) == statements(lambda: bundle_load(moved_large))


def record_values() -> list[tuple]:
    """The access-change records, ids replaced by what they name (sequences differ between runs)."""

    def plain(value):  # noqa: ANN001, ANN202 - JSON
        if isinstance(value, dict):
            return {k: (v["name"] if isinstance(v, dict) else v) for k, v in value.items()}
        return value

    return [
        (r.action, r.subject, r.object_repr, plain(r.before), plain(r.after), r.actor_id)
        for r in AccessChange.objects.order_by("pk")
    ]


def old_district_load(features: list[dict]) -> None:
    """What the loader did before it was set-based: rivers.network's functions, row by row."""
    loaded = []
    for f in features:
        p = f["properties"]
        geom = MultiPolygon(GEOSGeometry(json.dumps(f["geometry"])), srid=4326)
        district, _ = district_upsert(code=p["code"], name=p["name"], level=p.get("level") or "district", geom=geom)
        loaded.append((district, p.get("parent")))
    for district, parent_code in loaded:
        district_parent_set(district, District.objects.get(code=parent_code) if parent_code else None)
    agencies_derive([district for district, _ in loaded])


@pytest.mark.django_db
def test_access_changes_are_recorded_as_row_by_row(tmp_path):
    first, second = districts(3), districts(3, moved=True)
    second[2]["properties"].update(name="区2改", parent=None)  # renamed, its parent removed
    second[3]["properties"].update(level="town", parent="990001")  # re-levelled, another parent
    with transaction.atomic():
        old_district_load(first)
        old_district_load(second)
        expected = record_values()
        transaction.set_rollback(True)
    assert expected and not AccessChange.objects.exists()
    bundle_load(write_bundle(tmp_path / "a", first, reaches(1)))
    bundle_load(write_bundle(tmp_path / "b", second, reaches(1)))
    assert record_values() == expected


@pytest.mark.django_db
def test_a_named_chief_replaces_the_serving_one_as_chief_assign_does(tmp_path):
    bundle_load(write_bundle(tmp_path / "a", districts(2), reaches(2)))
    reach = Reach.objects.get(code="R0")
    earlier = datetime.date.today() - datetime.timedelta(days=30)
    ChiefAssignment.objects.update(start_date=earlier)
    bundle_load(write_bundle(tmp_path / "b", districts(2), reaches(2, chief="李四")))
    history = list(reach.chiefs.order_by("start_date").values_list("person_name", "start_date", "end_date"))
    today = datetime.date.today()
    assert history == [("张三0", earlier, today - datetime.timedelta(days=1)), ("李四0", today, None)]
    # Loading again changes nothing.
    count = ChiefAssignment.objects.count()
    bundle_load(write_bundle(tmp_path / "c", districts(2), reaches(2, chief="李四")))
    assert ChiefAssignment.objects.count() == count


@pytest.mark.django_db
def test_a_named_chief_after_one_starting_today_is_refused_with_the_feature(tmp_path):
    bundle_load(write_bundle(tmp_path / "a", districts(2), reaches(2)))
    with pytest.raises(CommandError) as failure:
        call_command("load_bundle", str(write_bundle(tmp_path / "b", districts(2), reaches(2, chief="王五"))))
    message = str(failure.value)
    assert "reaches.geojson" in message and "feature index 0" in message and "code R0" in message
    assert "张三0 serves from" in message
    # chief_assign, row by row, refuses the same.
    with pytest.raises(ValueError, match="张三0 serves from"):
        chief_assign(reach=Reach.objects.get(code="R0"), person_name="王五", level="village",
                     start_date=datetime.date.today())  # fmt: skip


def shares() -> set[tuple]:
    return set(ReachDistrict.objects.values_list("reach__code", "district__code", "length_m")) | set(
        Reach.objects.values_list("code", "is_cross_district", "length_m")
    )


@pytest.mark.django_db
def test_only_what_a_load_changed_is_recomputed_and_the_result_is_the_full_recompute(tmp_path):
    bundle_load(write_bundle(tmp_path / "a", districts(4), reaches(12)))
    loaded = shares()
    network_recompute_all()
    assert shares() == loaded
    # Move the boundaries: the reaches near them are recomputed, and equal a full recompute.
    bundle_load(write_bundle(tmp_path / "b", districts(4, moved=True), reaches(12)))
    moved = shares()
    assert moved != loaded
    network_recompute_all()
    assert shares() == moved
    # Loading the same again recomputes nothing.
    with CaptureQueriesContext(connection) as captured:
        bundle_load(write_bundle(tmp_path / "c", districts(4, moved=True), reaches(12)))
    assert not [q for q in captured.captured_queries if "INSERT INTO rivers_reachdistrict" in q["sql"]
                and "ARRAY[]" not in q["sql"]]  # fmt: skip
    assert shares() == moved


def rounded(features: list[dict], digits: int) -> list[dict]:
    """The features with every coordinate rounded, as an export writes them (ST_AsGeoJSON: 9 digits)."""

    def walk(value):  # noqa: ANN001, ANN202 - nested coordinate lists
        return round(value, digits) if isinstance(value, float) else [walk(v) for v in value]

    return [{**f, "geometry": {**f["geometry"], "coordinates": walk(f["geometry"]["coordinates"])}} for f in features]


@pytest.mark.django_db
def test_a_bundle_exported_and_loaded_again_changes_and_recomputes_nothing(tmp_path):
    bundle_load(write_bundle(tmp_path / "a", districts(4), reaches(12)))
    loaded = shares()
    stored = {d.code: d.geom.ewkb for d in District.objects.all()} | {r.code: r.geom.ewkb for r in Reach.objects.all()}
    # Rounded to 9 decimals (0.05 mm): the same boundaries and courses, so nothing is recomputed and the
    # stored geometries, on which the derived fields were computed, stay as they are.
    with CaptureQueriesContext(connection) as captured:
        bundle_load(write_bundle(tmp_path / "b", rounded(districts(4), 9), rounded(reaches(12), 9)))
    assert not [q for q in captured.captured_queries if "INSERT INTO rivers_reachdistrict" in q["sql"]
                and "ARRAY[]" not in q["sql"]]  # fmt: skip
    assert shares() == loaded
    after = {d.code: d.geom.ewkb for d in District.objects.all()} | {r.code: r.geom.ewkb for r in Reach.objects.all()}
    assert after == stored
    # Rounded to 5 decimals (about a metre): a change, recomputed as any move is.
    bundle_load(write_bundle(tmp_path / "c", rounded(districts(4), 5), rounded(reaches(12), 5)))
    assert {r.code: r.geom.ewkb for r in Reach.objects.all()} != {r: stored[r] for r in stored if r.startswith("R")}
    moved = shares()
    network_recompute_all()
    assert shares() == moved


PLAIN = [
    {"type": "LineString", "coordinates": [[106.5, 29.5], [106.6, 29.55]]},
    {"type": "MultiLineString", "coordinates": [[[106, 29], [106.1, 29.1], [106.2, 29]], [[107, 30], [107.1, 30]]]},
    {
        "type": "Polygon",
        "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]], [[0.2, 0.1], [0.5, 0.1], [0.5, 0.4], [0.2, 0.1]]],
    },
    {"type": "MultiPolygon", "coordinates": [[[[0, 0], [1, 0], [1, 1], [0, 0]]], [[[5, 5], [6, 5], [6, 6], [5, 5]]]]},
]
NOT_PLAIN = [
    {"type": "LineString", "coordinates": [[106.5, 29.5, 300], [106.6, 29.55, 310]]},  # heights: read as GeoJSON
    {"type": "LineString", "coordinates": [[106.5, 29.5]]},  # one position: GeoJSON names the problem
    {"type": "LineString", "coordinates": [[106.5, True], [106.6, 29.55]]},
    {"type": "LineString", "coordinates": [[106.5, "29.5"], [106.6, 29.55]]},
    {"type": "LineString", "coordinates": [[106.5, float("nan")], [106.6, 29.55]]},
    {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]},  # a ring of three positions
    {"type": "MultiPolygon", "coordinates": []},
    {"type": "Point", "coordinates": [106.5, 29.5]},
    {"type": "LineString"},
    [106.5, 29.5],
]


def test_plain_geojson_lines_and_polygons_go_as_wkb_and_read_the_same():
    for geometry in PLAIN:
        wkb = geojson_wkb(geometry)
        assert wkb.startswith("01")
        from_wkb, from_geojson = GEOSGeometry(wkb), GEOSGeometry(json.dumps(geometry))
        assert (from_wkb.geom_type, from_wkb.coords) == (from_geojson.geom_type, from_geojson.coords)
    for geometry in NOT_PLAIN:
        assert geojson_wkb(geometry) == ""


@pytest.mark.django_db
def test_a_file_mixing_plain_and_other_geometries_loads_each_as_before(tmp_path):
    plain, heights = reaches(2)
    heights["geometry"]["coordinates"] = [[*xy, 300.0 + n] for n, xy in enumerate(heights["geometry"]["coordinates"])]
    bundle_load(write_bundle(tmp_path, districts(2), [plain, heights]))
    for sent in (plain, heights):
        stored = Reach.objects.get(code=sent["properties"]["code"]).geom
        # The stored course is the file's, in 2D, whichever way it went to the database.
        assert stored.coords == (tuple(tuple(xy[:2]) for xy in sent["geometry"]["coordinates"]),)
