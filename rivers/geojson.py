"""The network's layers as GeoJSON FeatureCollections written by PostgreSQL (issue 10, item 4).

DRF-gis builds a Python object per feature and prefetches every reach's districts (boundaries included)
to print their codes: 12× the cost of the same collection from json_agg and ST_AsGeoJSON. Here one
statement counts the filtered rows, takes the page and writes its features as text, which goes out as
it is. The features are those the serializers in rivers.serializers give (the detail endpoints still use
them): the same properties in the same order, coordinates rounded to GEOJSON_PRECISION decimals.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg2.extensions
from django.db import connection
from django.db.models import ExpressionWrapper, F, Field, QuerySet

from config.database import embedded_sql

# Decimal places of the coordinates: 6 is about 0.1 m on the ground, finer than any survey loaded here.
GEOJSON_PRECISION = 6

# The features of a page of rows (`page`: the filtered rows with the columns their features read), each
# as JSON text: ST_AsGeoJSON's text goes in as it is, where a json value would have the database parse
# every coordinate again. The properties are in the order the serializer lists them.
FEATURES_SQL = """
SELECT t.code,
       '{{"type":"Feature","geometry":' || ST_AsGeoJSON(t.shape, %(precision)s) || ',"properties":'
       || json_build_object({properties})::text || '}}' AS feature
FROM page AS t {joins}
"""

# A feature's districts as a list of codes, from its table of shares (`owner`: its column there).
DISTRICT_CODES_SQL = """(SELECT coalesce(json_agg(d.code ORDER BY d.code), '[]'::json)
    FROM {shares} AS share JOIN rivers_district AS d ON d.id = share.district_id WHERE share.{owner} = t.id)"""

REACH_FEATURES_SQL = FEATURES_SQL.format(
    joins="JOIN rivers_river AS river ON river.id = t.river_id",
    properties="'code', t.code, 'name', t.name, 'river', river.name, 'level', t.level, 'length_m', t.length_m, "
    f"'districts', {DISTRICT_CODES_SQL.format(shares='rivers_reachdistrict', owner='reach_id')}, "
    "'is_cross_district', t.is_cross_district",
)
WATER_BODY_FEATURES_SQL = FEATURES_SQL.format(
    joins="",
    properties="'code', t.code, 'name', t.name, 'kind', t.kind, 'level', t.level, 'area_m2', t.area_m2, "
    f"'districts', {DISTRICT_CODES_SQL.format(shares='rivers_waterbodydistrict', owner='water_body_id')}, "
    "'is_cross_district', t.is_cross_district",
)
DISTRICT_FEATURES_SQL = FEATURES_SQL.format(
    joins="LEFT JOIN rivers_district AS parent ON parent.id = t.parent_id",
    properties="'code', t.code, 'name', t.name, 'level', t.level, 'parent', parent.code",
)

# The page of the rows the filters kept, by code (`page`, the caller's queryset sliced, with the columns the
# features read), and the count of them all (`counted`, the same queryset's ids). The page is read once:
# materializing every kept row to count and page it cost its geometry for each (a page of 100 of 10^5
# reaches: 160 ms), and fetching the page again by id an index scan per feature. Unfiltered, the code
# index gives the page. A page shorter than the limit (a box's few rows, the last page) tells the count
# itself, and the count's statement is never run (an InitPlan runs only when its value is needed).
COLLECTION_SQL = """
WITH page AS ({page}),
features AS ({features})
SELECT CASE WHEN shown.n < %(limit)s AND (shown.n > 0 OR %(offset)s = 0) THEN %(offset)s + shown.n
            ELSE (SELECT count(*) FROM ({counted}) AS counted) END,
       '{{"type":"FeatureCollection","features":['
       || coalesce((SELECT string_agg(feature, ',' ORDER BY code) FROM features), '') || ']}}'
FROM (SELECT count(*) AS n FROM page) AS shown
"""


@dataclass(frozen=True)
class GeoJSONPage:
    count: int  # rows the filters kept, on every page
    collection: bytes  # the page's FeatureCollection, as JSON text in UTF-8


def layer_of(queryset: QuerySet) -> tuple[str, tuple[str, ...]]:
    """Return the features statement of the layer `queryset` reads, and the columns it reads."""
    from .models import District, Reach, WaterBody

    return {
        Reach: (REACH_FEATURES_SQL, ("id", "code", "name", "level", "length_m", "is_cross_district", "river_id")),
        WaterBody: (WATER_BODY_FEATURES_SQL, ("id", "code", "name", "kind", "level", "area_m2", "is_cross_district")),
        District: (DISTRICT_FEATURES_SQL, ("id", "code", "name", "level", "parent_id")),
    }[queryset.model]


def geojson_page(queryset: QuerySet, *, limit: int, offset: int) -> GeoJSONPage:
    """Return the rows of `queryset` (filtered, not sliced) from `offset`, at most `limit`, by code."""
    features_sql, columns = layer_of(queryset)
    # The geometry as the column is (GeoDjango would select it as bytea, for Python to parse).
    shape = ExpressionWrapper(F("geom"), output_field=Field())
    page_sql, params = embedded_sql(
        queryset.order_by("code").values(*columns, shape=shape)[offset : offset + limit], "p"
    )
    counted_sql, counted_params = embedded_sql(queryset.order_by().values("id"), "c")
    statement = COLLECTION_SQL.format(page=page_sql, counted=counted_sql, features=features_sql)
    params.update(counted_params, precision=GEOJSON_PRECISION, limit=limit, offset=offset)
    with connection.cursor() as cursor:
        # The text as PostgreSQL sent it (UTF-8 bytes): decoding it only to encode it again for the
        # response cost 0.4 ms for a page of 400 reaches.
        psycopg2.extensions.register_type(psycopg2.extensions.BYTES, cursor.cursor)
        cursor.execute(statement, params)
        count, collection = cursor.fetchone()
    return GeoJSONPage(count=count, collection=collection)
