"""Loading a dataset bundle (DESIGN §6): a folder of GeoJSON and JSON files, loaded as one transaction.

Loading twice updates by `code`. The first bad feature stops the load with the file, the feature's
index and code, and the reason; nothing of that load is kept.

Districts, reaches and water bodies are loaded in bulk (gis_data.bulk): the properties are checked
here, one cheap pass; the features go into a staging table with one COPY; geometries, upserts by
code, chief assignments, access-change records and agencies are set-based SQL, so the number of
statements does not grow with the number of features. Whenever a feature is found wanting, the
features are judged one by one by the rules below (_features), which name the first bad one exactly
as they always have. Only what the load changed is recomputed (rivers.crossing).
"""

from __future__ import annotations

import datetime
import functools
import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import DatabaseError, connection, transaction
from django.db.models import CharField, Model
from django.utils import timezone

from patrols.models import PatrolRoute
from rivers.chiefs import chief_assign
from rivers.crossing import network_near, network_recompute_around
from rivers.models import (
    AgencyKind,
    ChiefLevel,
    ChiefRole,
    District,
    DistrictLevel,
    Reach,
    WaterBody,
    WaterBodyKind,
)
from rivers.network import DERIVED_AGENCIES, agency_upsert

from .bulk import staging_copy, staging_create, staging_geometries, staging_repair
from .geometry import WGS84, GeometryProblem, to_storable
from .readers import RawFeature, ReadError, geometry_parse, read_geojson, read_geojson_lazy


class BundleError(Exception):
    """A bundle that cannot be loaded; the message names the file, feature index, code and reason."""


@dataclass
class BundleReport:
    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)

    def count(self, layer: str, created: bool) -> None:
        (self.created if created else self.updated)[layer] += 1

    def lines(self) -> list[str]:
        layers = sorted(set(self.created) | set(self.updated))
        return [f"{layer}: {self.created[layer]} 新建 created, {self.updated[layer]} 更新 updated" for layer in layers]


def feature_error(path: Path, index: int, code: str, reason: str) -> BundleError:
    return BundleError(f"{path.name}: 第 {index} 个要素 feature index {index} (code {code or '∅'}): {reason}")


def _limits(model: type[Model] | None) -> dict[str, int]:
    return {
        field.name: field.max_length
        for field in (model._meta.get_fields() if model else ())
        if isinstance(field, CharField) and field.max_length
    }


def _property_problem(raw: RawFeature, required: tuple[str, ...], limits: dict[str, int], seen: set[str]) -> str:
    """Return what is wrong with a feature apart from its geometry ("" when nothing), in the order
    the checks have always run: unreadable, a required property missing, too long, a duplicate code."""
    if raw.problem:
        return raw.problem
    for name in required:
        if not text(raw, name):
            return f"缺少属性 / missing property '{name}'"
    for name, limit in limits.items():
        if len(str(raw.properties.get(name) or "")) > limit:
            return f"属性 '{name}' 超过 {limit} 个字符 / property '{name}' longer than {limit}"
    if raw.code in seen:
        return "代码重复 / duplicate code in this file"
    seen.add(raw.code)
    return ""


def _features(
    path: Path,
    kind: str,
    required: tuple[str, ...],
    raw_features: list[RawFeature] | None = None,
    *,
    model: type[Model] | None = None,
) -> Iterator[tuple[RawFeature, Any]]:
    """Yield each feature of a layer with its storable geometry, or raise BundleError.

    The features are read from the GeoJSON file `path` unless given: gis_data.layers reads other
    formats itself and passes them in, `path` then only naming the file in messages. Text
    properties are checked against the lengths `model` allows.
    """
    limits = _limits(model)
    if raw_features is None:
        try:
            raw_features = list(read_geojson(path))
        except ReadError as exc:
            raise BundleError(f"{path.name}: {exc}") from exc
    seen: set[str] = set()
    for raw in raw_features:
        raw = geometry_parse(raw)
        problem = _property_problem(raw, required, limits, seen)
        if problem:
            raise feature_error(path, raw.index, raw.code, problem)
        try:
            geom = to_storable(raw.geometry, kind)
        except GeometryProblem as exc:
            raise feature_error(path, raw.index, raw.code, str(exc)) from exc
        yield raw, geom


def text(raw: RawFeature, name: str) -> str:
    """Return a property as trimmed text ("" when absent), whatever JSON type the file gave it."""
    value = raw.properties.get(name)
    return "" if value is None else str(value).strip()


@functools.cache
def _allowed(choices: type) -> frozenset[str]:
    return frozenset(choices.values)  # TextChoices.values builds a new list at every call


def _choice(path: Path, raw: RawFeature, name: str, choices: type, default: str | None = None) -> str:
    value = str(raw.properties.get(name) or default or "").strip()
    if value not in _allowed(choices):
        allowed = " | ".join(choices.values)
        raise feature_error(path, raw.index, raw.code, f"属性 '{name}' 的值 {value!r} 无效 / must be one of {allowed}")
    return value


@dataclass
class Loaded:
    """What a bulk loader changed, for the recompute: the ids of the items new or whose geometry (for
    districts: or level) changed, and for districts the reaches and water bodies found near their
    boundaries before the change."""

    changed_ids: list[int] = field(default_factory=list)
    near_before: tuple[set[int], set[int]] = field(default_factory=lambda: (set(), set()))


def _stage(
    table: str,
    path: Path,
    kind: str,
    required: tuple[str, ...],
    model: type[Model],
    raw_features: list[RawFeature] | None,
    values: Callable[[RawFeature], tuple],
) -> None:
    """Check the features and put them into the staging table `table` with storable geometries.

    `values` checks a feature's layer-specific properties (raising BundleError) and returns its
    staging values after idx and code: name, level, river, river_key, chief, kind, parent, district.
    Raises BundleError naming the first bad feature, as _features and `values` judge it.
    """
    if raw_features is None:
        try:
            raw_features = read_geojson_lazy(path)
        except ReadError as exc:
            raise BundleError(f"{path.name}: {exc}") from exc

    def judge(features: list[RawFeature]) -> list[Any]:
        """Judge features one by one as the loaders always have; raise at the first bad one."""
        storable = []
        for raw, geom in _features(path, kind, required, features, model=model):
            values(raw)
            storable.append(geom)
        return storable

    limits, seen, rows = _limits(model), set(), []
    for raw in raw_features:
        # A feature found wanting: judge them all in order, for the first bad one may be an earlier
        # feature whose geometry is bad. Should judge find nothing, this feature's problem stands.
        problem = _property_problem(raw, required, limits, seen)
        if problem:
            judge(raw_features)
            raise feature_error(path, raw.index, raw.code, problem)
        try:
            staged = values(raw)
        except BundleError:
            judge(raw_features)
            raise
        rows.append((raw.index, raw.code, *staged, raw.source or raw.geometry.hexewkb.decode()))
    staging_create(table)
    staging_copy(table, rows)
    lazy = any(raw.source for raw in raw_features)
    srid = raw_features[0].srid if lazy else WGS84
    try:
        with transaction.atomic():
            unfit = staging_geometries(table, kind, geojson=lazy, srid=srid)
    except DatabaseError:
        # A geometry the database cannot parse or transform: name it as the readers do; should every
        # feature pass, load the geometries as GEOS made them.
        storable = judge(raw_features)
        staging_create(table)
        staging_copy(table, [(*row[:-1], geom.hexewkb.decode()) for row, geom in zip(rows, storable, strict=True)])
        unfit = staging_geometries(table, kind, geojson=False, srid=WGS84)
    if unfit:
        by_index = {raw.index: raw for raw in raw_features}
        repaired = {}
        for index in unfit:  # in order: the first that cannot be stored is the first bad feature
            raw = geometry_parse(by_index[index])
            if raw.problem:
                raise feature_error(path, raw.index, raw.code, raw.problem)
            try:
                repaired[index] = to_storable(raw.geometry, kind).hexewkb.decode()
            except GeometryProblem as exc:
                raise feature_error(path, raw.index, raw.code, str(exc)) from exc
        staging_repair(table, repaired)


def _sql(statement: str, params: dict | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def _count(report: BundleReport, layer: str, table: str) -> None:
    (created, updated), *_ = _sql(
        f"SELECT count(*) FILTER (WHERE existing_id IS NULL), count(*) FILTER (WHERE existing_id IS NOT NULL) "  # noqa: S608
        f"FROM {table}"
    )
    report.created[layer] += created
    report.updated[layer] += updated


def _changed_ids(table: str) -> list[int]:
    """Return the ids of the staged items that exist and change, before the upsert."""
    rows = _sql(f"SELECT existing_id FROM {table} WHERE changed AND existing_id IS NOT NULL ORDER BY idx")  # noqa: S608
    return [row[0] for row in rows]


# An upsert of the staged items that returns the ids of those new or changed, in the file's order,
# from the rows it wrote (no second look-up of the table by code).
UPSERT_RETURNING_CHANGED = """
WITH upserted AS (%(upsert)s RETURNING id, code)
SELECT u.id FROM upserted u JOIN %(table)s s ON s.code = u.code WHERE s.changed ORDER BY s.idx
"""


def _upsert(table: str, upsert: str) -> list[int]:
    """Run the upsert of the staged items; return the ids of those new or changed."""
    return [row[0] for row in _sql(UPSERT_RETURNING_CHANGED % {"upsert": upsert, "table": table})]


# A staged geometry whose vertices all lie within this of the stored one's is the stored one: a bundle
# exported and loaded again comes back rounded (ST_AsGeoJSON writes 9 decimals, 0.05 mm), and its
# districts must not count as moved, which would recompute every reach around them (issue: run only
# for what a load changed). Compared in degrees: metres / 111_320, a degree of latitude, the longest,
# so no vertex moved further than this on the ground.
UNCHANGED_WITHIN_M = 0.001

# Which staged items exist, and whether their geometry (districts: or level) changes. A geometry
# unchanged (UNCHANGED_WITHIN_M) is replaced by the stored one, so the stored geometry stays the one
# its derived fields were computed on. Same type, same number of points, and the two lists of vertices
# side by side (ROWS FROM: no sort, no join) at the same paths and within the tolerance; the byte
# comparison first spares that for the plainly equal. Materialized: `same` is used twice below.
MARK_SQL = """
WITH compared AS MATERIALIZED (
    SELECT s.idx, t.id, t.level, t.geom AS stored,
           CASE WHEN ST_AsEWKB(t.geom) = ST_AsEWKB(s.geom) THEN true
                WHEN GeometryType(t.geom) <> GeometryType(s.geom) OR ST_NPoints(t.geom) <> ST_NPoints(s.geom) THEN false
                ELSE (SELECT coalesce(bool_and(coalesce(
                                 a_path = b_path AND abs(ST_X(a_geom) - ST_X(b_geom)) <= %%(within_degrees)s
                                 AND abs(ST_Y(a_geom) - ST_Y(b_geom)) <= %%(within_degrees)s, false)), true)
                      FROM ROWS FROM (ST_DumpPoints(t.geom), ST_DumpPoints(s.geom))
                           AS v(a_path, a_geom, b_path, b_geom))
           END AS same
    FROM %(table)s s JOIN %(target)s t ON t.code = s.code
)
UPDATE %(table)s s SET existing_id = c.id, old_level = c.level,
       geom = CASE WHEN c.same THEN c.stored ELSE s.geom END,
       changed = NOT c.same %(also)s
FROM compared c WHERE c.idx = s.idx
"""


def _mark(table: str, target: str, also: str = "") -> None:
    """Mark the staged items that exist, and those whose geometry (or, by `also`, level) changes."""
    _sql(MARK_SQL % {"table": table, "target": target, "also": also}, {"within_degrees": UNCHANGED_WITHIN_M / 111_320})


# A district as rivers.access records it: {"id", "name": str(district)}.
DISTRICT_REPR = "jsonb_build_object('id', %(d)s.id, 'name', %(d)s.name || ' (' || %(d)s.code || ')')"

DISTRICTS_UPSERT_SQL = """
INSERT INTO rivers_district (code, name, level, geom)
SELECT code, name, level, geom FROM load_districts ORDER BY idx
ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, level = EXCLUDED.level, geom = EXCLUDED.geom
"""

# rivers.network._recorded_upsert's records: an added district, or a change of its level.
DISTRICTS_RECORD_SQL = """
INSERT INTO rivers_accesschange (at, actor_id, action, subject, object_id, object_repr, before, after)
SELECT %(at)s, NULL, CASE WHEN s.existing_id IS NULL THEN 'add' ELSE 'change' END, 'rivers.district', d.id::text,
       left(d.name || ' (' || d.code || ')', 200),
       CASE WHEN s.existing_id IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('level', s.old_level) END,
       CASE WHEN s.existing_id IS NULL THEN jsonb_build_object('level', d.level, 'parent', NULL)
            ELSE jsonb_build_object('level', d.level) END
FROM load_districts s JOIN rivers_district d ON d.code = s.code
WHERE s.existing_id IS NULL OR s.old_level IS DISTINCT FROM s.level
ORDER BY s.idx
"""

DISTRICTS_BAD_PARENT_SQL = """
SELECT s.idx, s.code, s.parent, p.id IS NULL
FROM load_districts s LEFT JOIN rivers_district p ON p.code = s.parent
WHERE s.parent IS NOT NULL AND (p.id IS NULL OR p.code = s.code)
ORDER BY s.idx LIMIT 1
"""

# rivers.network.district_parent_set: the parent set, each change recorded.
DISTRICTS_PARENT_SQL = (
    """
WITH target AS (
    SELECT s.idx, d.id, d.parent_id AS old_parent_id, p.id AS parent_id
    FROM load_districts s JOIN rivers_district d ON d.code = s.code LEFT JOIN rivers_district p ON p.code = s.parent
    WHERE d.parent_id IS DISTINCT FROM p.id
),
recorded AS (
    INSERT INTO rivers_accesschange (at, actor_id, action, subject, object_id, object_repr, before, after)
    SELECT %(at)s, NULL, 'change', 'rivers.district', d.id::text, left(d.name || ' (' || d.code || ')', 200),
           jsonb_build_object('parent', CASE WHEN old.id IS NULL THEN NULL ELSE """
    + DISTRICT_REPR % {"d": "old"}
    + """ END),
           jsonb_build_object('parent', CASE WHEN new.id IS NULL THEN NULL ELSE """
    + DISTRICT_REPR % {"d": "new"}
    + """ END)
    FROM target t JOIN rivers_district d ON d.id = t.id
    LEFT JOIN rivers_district old ON old.id = t.old_parent_id LEFT JOIN rivers_district new ON new.id = t.parent_id
    ORDER BY t.idx
)
UPDATE rivers_district d SET parent_id = t.parent_id FROM target t WHERE d.id = t.id
"""
)


def _load_districts(path: Path, report: BundleReport, raw_features: list[RawFeature] | None = None) -> Loaded:
    def values(raw: RawFeature) -> tuple:
        level = _choice(path, raw, "level", DistrictLevel, default=DistrictLevel.DISTRICT)
        parent = raw.properties.get("parent")
        parent_code = (str(parent).strip() if parent else None) or None
        return (text(raw, "name"), level, None, None, None, None, parent_code, None)

    _stage("load_districts", path, "polygon", ("code", "name"), District, raw_features, values)
    _mark("load_districts", "rivers_district", also="OR c.level <> s.level")
    changed_before = _changed_ids("load_districts")
    near_before = network_near(changed_before)
    at = timezone.now()
    changed = _upsert("load_districts", DISTRICTS_UPSERT_SQL)
    _sql(DISTRICTS_RECORD_SQL, {"at": at})
    # Parents are set once every district of the file exists, so the file's order does not matter.
    bad = _sql(DISTRICTS_BAD_PARENT_SQL)
    if bad:
        index, code, parent_code, unknown = bad[0]
        reason = f"上级代码不存在 / unknown parent '{parent_code}'" if unknown else "上级不能是自身 / parent is itself"
        raise feature_error(path, index, code, reason)
    _sql(DISTRICTS_PARENT_SQL, {"at": at})
    _count(report, "districts", "load_districts")
    return Loaded(changed, near_before)


# rivers.network.agencies_derive, set-based: every city and district of the staged districts (with
# `every` false: only those that have no agency yet) gets its procuratorate, river office and liaison
# office; each agency added, or whose kind or district changes, is recorded as rivers.network does.
AGENCIES_DERIVE_SQL = (
    """
WITH wanted AS (
    SELECT s.idx, k.ord, d.id AS district_id, d.code || '-' || k.suffix AS code, k.kind,
           replace(k.template, '{name}', d.name) AS name
    FROM load_districts s JOIN rivers_district d ON d.code = s.code
    CROSS JOIN unnest(%(suffixes)s::text[], %(kinds)s::text[], %(templates)s::text[])
               WITH ORDINALITY AS k(suffix, kind, template, ord)
    WHERE d.level IN ('city', 'district')
      AND (%(every)s OR NOT EXISTS (SELECT 1 FROM rivers_agency a WHERE a.district_id = d.id))
),
compared AS (
    SELECT w.*, a.id AS existing_id, a.kind AS old_kind, a.district_id AS old_district_id
    FROM wanted w LEFT JOIN rivers_agency a ON a.code = w.code
),
upserted AS (
    INSERT INTO rivers_agency (code, name, kind, district_id)
    SELECT code, name, kind, district_id FROM compared ORDER BY idx, ord
    ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, kind = EXCLUDED.kind, district_id = EXCLUDED.district_id
    RETURNING id, code
)
INSERT INTO rivers_accesschange (at, actor_id, action, subject, object_id, object_repr, before, after)
SELECT %(at)s, NULL, CASE WHEN c.existing_id IS NULL THEN 'add' ELSE 'change' END, 'rivers.agency', u.id::text,
       left(c.name, 200),
       CASE WHEN c.existing_id IS NULL THEN '{}'::jsonb ELSE jsonb_strip_nulls(jsonb_build_object(
           'kind', CASE WHEN c.old_kind <> c.kind THEN c.old_kind END,
           'district', CASE WHEN c.old_district_id <> c.district_id THEN """
    + DISTRICT_REPR % {"d": "old"}
    + """ END)) END,
       CASE WHEN c.existing_id IS NULL THEN jsonb_build_object('kind', c.kind, 'district', """
    + DISTRICT_REPR % {"d": "d"}
    + """)
            ELSE jsonb_strip_nulls(jsonb_build_object(
                'kind', CASE WHEN c.old_kind <> c.kind THEN c.kind END,
                'district', CASE WHEN c.old_district_id <> c.district_id THEN """
    + DISTRICT_REPR % {"d": "d"}
    + """ END)) END
FROM compared c JOIN upserted u ON u.code = c.code JOIN rivers_district d ON d.id = c.district_id
LEFT JOIN rivers_district old ON old.id = c.old_district_id
WHERE c.existing_id IS NULL OR c.old_kind <> c.kind OR c.old_district_id <> c.district_id
ORDER BY c.idx, c.ord
"""
)


def agencies_derive_staged(*, every: bool) -> None:
    """Derive the agencies of the districts just loaded (DESIGN §6), in one statement."""
    _sql(
        AGENCIES_DERIVE_SQL,
        {
            "suffixes": [suffix for suffix, _, _ in DERIVED_AGENCIES],
            "kinds": [str(kind) for _, kind, _ in DERIVED_AGENCIES],
            "templates": [template for _, _, template in DERIVED_AGENCIES],
            "every": every,
            "at": timezone.now(),
        },
    )


RIVERS_UPSERT_SQL = """
INSERT INTO rivers_river (code, name)
SELECT DISTINCT ON (river_key) river_key, river FROM load_reaches ORDER BY river_key, idx DESC
ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name WHERE rivers_river.name IS DISTINCT FROM EXCLUDED.name
"""

REACHES_UPSERT_SQL = """
INSERT INTO rivers_reach (code, name, river_id, level, geom, length_m, is_cross_district)
SELECT s.code, s.name, r.id, s.level, s.geom, 0, false
FROM load_reaches s JOIN rivers_river r ON r.code = s.river_key ORDER BY s.idx
ON CONFLICT (code) DO UPDATE
SET name = EXCLUDED.name, river_id = EXCLUDED.river_id, level = EXCLUDED.level, geom = EXCLUDED.geom
"""


def _load_reaches(path: Path, report: BundleReport, raw_features: list[RawFeature] | None = None) -> Loaded:
    """Load the reaches; the chiefs named in their `chief` property are assigned by named_chiefs_assign."""

    def values(raw: RawFeature) -> tuple:
        level = _choice(path, raw, "level", ChiefLevel)
        river = text(raw, "river")
        return (text(raw, "name"), level, river, text(raw, "river_code") or river, text(raw, "chief"), None, None, None)

    _stage("load_reaches", path, "line", ("code", "name", "river"), Reach, raw_features, values)
    _mark("load_reaches", "rivers_reach")
    _sql(RIVERS_UPSERT_SQL)
    changed = _upsert("load_reaches", REACHES_UPSERT_SQL)
    _count(report, "reaches", "load_reaches")
    return Loaded(changed)


# rivers.chiefs.chief_assign for every reach naming a chief, from today: nothing when that person
# serves already or was assigned from today; else the serving chief's term closes the day before
# (refused when it began today or later) and a new assignment starts. One statement: the pending
# reaches are found once, and nothing is written when one is refused (the statement returns it).
NAMED_CHIEFS_SQL = """
WITH named AS MATERIALIZED (
    -- The reaches found in the index by their codes as an array, rather than by hashing them all.
    SELECT s.idx, s.code, s.chief, s.level, t.id AS reach_id
    FROM load_reaches s JOIN rivers_reach t ON t.code = s.code
    WHERE s.chief <> '' AND t.code = ANY(ARRAY(SELECT code FROM load_reaches WHERE chief <> ''))
),
-- The chief assignments of these reaches, looked up in the index by their ids as an array rather than
-- by hashing every assignment of the network.
assigned_before AS MATERIALIZED (
    SELECT c.id, c.reach_id, c.person_name, c.start_date, c.end_date FROM rivers_chiefassignment c
    WHERE c.reach_id = ANY(ARRAY(SELECT reach_id FROM named)) AND c.role = 'chief'
),
pending AS MATERIALIZED (
    SELECT n.* FROM named n
    WHERE NOT EXISTS (SELECT 1 FROM assigned_before c
                      WHERE c.reach_id = n.reach_id AND c.person_name = n.chief
                        AND (c.end_date IS NULL OR c.start_date = %(today)s))
),
serving AS MATERIALIZED (
    SELECT p.idx, p.code, c.id, c.person_name, c.start_date
    FROM pending p JOIN assigned_before c ON c.reach_id = p.reach_id AND c.end_date IS NULL
),
refused AS MATERIALIZED (
    SELECT idx, code, person_name, start_date FROM serving WHERE start_date >= %(today)s ORDER BY idx LIMIT 1
),
closed AS (
    UPDATE rivers_chiefassignment c SET end_date = %(today)s::date - 1
    WHERE c.id = ANY(ARRAY(SELECT id FROM serving)) AND NOT EXISTS (SELECT FROM refused)
    RETURNING c.id
),
assigned AS (
    INSERT INTO rivers_chiefassignment (reach_id, water_body_id, person_name, user_id, role, level, start_date,
                                        end_date)
    SELECT reach_id, NULL, chief, NULL, 'chief', level, %(today)s, NULL FROM pending
    -- The count, a one-time filter, runs the closing to its end before the first new row: the serving
    -- chief's row leaves the one-current-chief index (chief_one_current_per_reach) before the new one
    -- enters it.
    WHERE NOT EXISTS (SELECT FROM refused) AND (SELECT count(*) FROM closed) >= 0
    ORDER BY idx
)
SELECT idx, code, person_name, start_date FROM refused
"""


def named_chiefs_assign(path: Path) -> None:
    """Make the chief each staged reach names its serving chief from today (rivers.chiefs.chief_assign)."""
    refused = _sql(NAMED_CHIEFS_SQL, {"today": datetime.date.today()})
    if refused:
        index, code, serving, since = refused[0]
        raise feature_error(path, index, code, f"{serving} serves from {since}; a new chief must start after that")


WATER_BODIES_UPSERT_SQL = """
INSERT INTO rivers_waterbody (code, name, kind, level, geom, area_m2, is_cross_district)
SELECT code, name, kind, level, geom, 0, false FROM load_waterbodies ORDER BY idx
ON CONFLICT (code) DO UPDATE
SET name = EXCLUDED.name, kind = EXCLUDED.kind, level = EXCLUDED.level, geom = EXCLUDED.geom
"""


def _load_water_bodies(path: Path, report: BundleReport, raw_features: list[RawFeature] | None = None) -> Loaded:
    def values(raw: RawFeature) -> tuple:
        kind = _choice(path, raw, "kind", WaterBodyKind, default=WaterBodyKind.RESERVOIR)
        level = str(raw.properties.get("level") or "")
        if level and level not in _allowed(ChiefLevel):
            raise feature_error(path, raw.index, raw.code, f"属性 'level' 的值 {level!r} 无效 / invalid level")
        return (text(raw, "name"), level, None, None, None, kind, None, None)

    _stage("load_waterbodies", path, "polygon", ("code", "name"), WaterBody, raw_features, values)
    _mark("load_waterbodies", "rivers_waterbody")
    changed = _upsert("load_waterbodies", WATER_BODIES_UPSERT_SQL)
    _count(report, "water bodies", "load_waterbodies")
    return Loaded(changed)


def _load_routes(path: Path, report: BundleReport, raw_features: list[RawFeature] | None = None) -> None:
    for raw, geom in _features(path, "line", ("code", "name"), raw_features, model=PatrolRoute):
        district_code = raw.properties.get("district")
        district = District.objects.filter(code=district_code).first() if district_code else None
        if district_code and district is None:
            raise feature_error(path, raw.index, raw.code, f"区县代码不存在 / unknown district '{district_code}'")
        if len(geom) != 1:
            raise feature_error(path, raw.index, raw.code, "路线须为一条连续的线 / a route must be one LineString")
        _, created = PatrolRoute.objects.update_or_create(
            code=raw.code, defaults={"name": text(raw, "name"), "district": district, "geom": geom[0]}
        )
        report.count("routes", created)


def _json_records(path: Path) -> list[dict[str, Any]]:
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleError(f"{path.name}: 不是有效的 UTF-8 JSON / not valid UTF-8 JSON: {exc}") from exc
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise BundleError(f"{path.name}: 应为对象数组 / expected a JSON array of objects")
    return records


def _each_record(path: Path, load_one: Callable[[dict[str, Any]], None]) -> None:
    for index, record in enumerate(_json_records(path)):
        try:
            load_one(record)
        except (KeyError, ValueError, TypeError) as exc:
            reason = f"缺少字段 / missing field {exc}" if isinstance(exc, KeyError) else str(exc)
            raise feature_error(path, index, str(record.get("code") or record.get("reach") or ""), reason) from exc


def _load_agencies(path: Path, report: BundleReport) -> None:
    def load_one(record: dict[str, Any]) -> None:
        if record["kind"] not in AgencyKind.values:
            raise ValueError(f"未知单位类型 / unknown kind {record['kind']!r}")
        district = District.objects.filter(code=record["district"]).first()
        if district is None:
            raise ValueError(f"区县代码不存在 / unknown district {record['district']!r}")
        _, created = agency_upsert(code=record["code"], name=record["name"], kind=record["kind"], district=district)
        report.count("agencies", created)

    _each_record(path, load_one)


def _load_chiefs(path: Path, report: BundleReport) -> None:
    def load_one(record: dict[str, Any]) -> None:
        if "reach" in record:
            target = {"reach": Reach.objects.filter(code=record["reach"]).first()}
        else:
            target = {"water_body": WaterBody.objects.filter(code=record["waterbody"]).first()}
        if None in target.values():
            raise ValueError(f"河段或水体代码不存在 / unknown reach or water body {record}")
        role = record.get("role", ChiefRole.CHIEF)
        if role not in ChiefRole.values or record["level"] not in ChiefLevel.values:
            raise ValueError(f"role 或 level 无效 / invalid role or level: {role!r}, {record['level']!r}")
        end = record.get("end")
        _, created = chief_assign(
            **target,
            person_name=record["name"],
            role=role,
            level=record["level"],
            start_date=datetime.date.fromisoformat(record["start"]),
            end_date=datetime.date.fromisoformat(end) if end else None,
        )
        report.count("chief assignments", created)

    _each_record(path, load_one)


@transaction.atomic
def bundle_load(directory: Path) -> BundleReport:
    """Load a bundle folder; raise BundleError (and keep nothing) at the first bad feature."""
    directory = Path(directory)
    if not directory.is_dir():
        raise BundleError(f"{directory}: 不是目录 / not a directory")
    for required in ("districts.geojson", "reaches.geojson"):
        if not (directory / required).is_file():
            raise BundleError(f"{required}: 缺少必需文件 / required file missing in {directory}")
    report = BundleReport()
    districts = _load_districts(directory / "districts.geojson", report)
    if (directory / "agencies.json").is_file():
        _load_agencies(directory / "agencies.json", report)
    else:
        agencies_derive_staged(every=True)
    reaches = _load_reaches(directory / "reaches.geojson", report)
    water_bodies = Loaded()
    if (directory / "waterbodies.geojson").is_file():
        water_bodies = _load_water_bodies(directory / "waterbodies.geojson", report)
    if (directory / "chiefs.json").is_file():
        _load_chiefs(directory / "chiefs.json", report)
    if (directory / "routes.geojson").is_file():
        _load_routes(directory / "routes.geojson", report)
    # A reach's `chief` property names its current chief; chiefs.json, with dates, goes first.
    named_chiefs_assign(directory / "reaches.geojson")
    # Only what this load changed: its new or moved reaches and water bodies, and those near the
    # districts it added, moved or re-levelled (by their old and new boundaries).
    near_reaches, near_bodies = districts.near_before
    network_recompute_around(
        districts.changed_ids,
        also=(set(reaches.changed_ids) | near_reaches, set(water_bodies.changed_ids) | near_bodies),
    )
    return report
