"""The network's layers as GeoJSON FeatureCollections written by PostgreSQL (issue 10, item 4).

DRF-gis builds a Python object per feature and prefetches every reach's districts (boundaries included)
to print their codes: 12× the cost of the same collection from json_agg and ST_AsGeoJSON. Here one
statement counts the filtered rows, takes the page and writes its features as text, which goes out as
it is. The features are those the serializers in rivers.serializers give (the detail endpoints still use
them): the same properties in the same order, coordinates rounded to GEOJSON_PRECISION decimals.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection
from django.db.models import QuerySet

from config.database import embedded_sql

# Decimal places of the coordinates: 6 is about 0.1 m on the ground, finer than any survey loaded here.
GEOJSON_PRECISION = 6

# The features of a page of rows (`page`: their ids), each as JSON text: ST_AsGeoJSON's text goes in as it
# is, where a json value would have the database parse every coordinate again. The properties are in the
# order the serializer lists them.
FEATURES_SQL = """
SELECT t.code,
       '{{"type":"Feature","geometry":' || ST_AsGeoJSON(t.geom, %(precision)s) || ',"properties":'
       || json_build_object({properties})::text || '}}' AS feature
FROM page JOIN {table} AS t ON t.id = page.id {joins}
"""

# A feature's districts as a list of codes, from its table of shares (`owner`: its column there).
DISTRICT_CODES_SQL = """(SELECT coalesce(json_agg(d.code ORDER BY d.code), '[]'::json)
    FROM {shares} AS share JOIN rivers_district AS d ON d.id = share.district_id WHERE share.{owner} = t.id)"""

REACH_FEATURES_SQL = FEATURES_SQL.format(
    table="rivers_reach",
    joins="JOIN rivers_river AS river ON river.id = t.river_id",
    properties="'code', t.code, 'name', t.name, 'river', river.name, 'level', t.level, 'length_m', t.length_m, "
    f"'districts', {DISTRICT_CODES_SQL.format(shares='rivers_reachdistrict', owner='reach_id')}, "
    "'is_cross_district', t.is_cross_district",
)
WATER_BODY_FEATURES_SQL = FEATURES_SQL.format(
    table="rivers_waterbody",
    joins="",
    properties="'code', t.code, 'name', t.name, 'kind', t.kind, 'level', t.level, 'area_m2', t.area_m2, "
    f"'districts', {DISTRICT_CODES_SQL.format(shares='rivers_waterbodydistrict', owner='water_body_id')}, "
    "'is_cross_district', t.is_cross_district",
)
DISTRICT_FEATURES_SQL = FEATURES_SQL.format(
    table="rivers_district",
    joins="LEFT JOIN rivers_district AS parent ON parent.id = t.parent_id",
    properties="'code', t.code, 'name', t.name, 'level', t.level, 'parent', parent.code",
)

# The rows the filters kept (`matched`, the caller's queryset), counted once and paged by code.
COLLECTION_SQL = """
WITH matched AS MATERIALIZED ({matched}),
page AS (SELECT id FROM matched ORDER BY code LIMIT %(limit)s OFFSET %(offset)s),
features AS ({features})
SELECT (SELECT count(*) FROM matched),
       '{{"type":"FeatureCollection","features":['
       || coalesce((SELECT string_agg(feature, ',' ORDER BY code) FROM features), '') || ']}}'
"""


@dataclass(frozen=True)
class GeoJSONPage:
    count: int  # rows the filters kept, on every page
    collection: str  # the page's FeatureCollection, as JSON text


def features_sql_of(queryset: QuerySet) -> str:
    """Return the features statement of the layer `queryset` reads."""
    from .models import District, Reach, WaterBody

    return {Reach: REACH_FEATURES_SQL, WaterBody: WATER_BODY_FEATURES_SQL, District: DISTRICT_FEATURES_SQL}[
        queryset.model
    ]


def geojson_page(queryset: QuerySet, *, limit: int, offset: int) -> GeoJSONPage:
    """Return the rows of `queryset` (filtered, not sliced) from `offset`, at most `limit`, by code."""
    matched_sql, params = embedded_sql(queryset.order_by().values("id", "code"), "m")
    statement = COLLECTION_SQL.format(matched=matched_sql, features=features_sql_of(queryset))
    params.update(precision=GEOJSON_PRECISION, limit=limit, offset=offset)
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        count, collection = cursor.fetchone()
    return GeoJSONPage(count=count, collection=collection)
