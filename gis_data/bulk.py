"""Staging features in the database: COPY into a temporary table, geometries checked there, set-based.

A layer's features are written with one COPY into a staging table (`load_<layer>`, dropped at the
end of the transaction); their geometries are parsed (GeoJSON text or EWKB), transformed to 4326,
flattened to 2D and made Multi* there, in statements whose number and text do not depend on the
number of features. The rules stay those of gis_data.geometry.to_storable: a geometry the database
finds not plainly storable (wrong type, empty, out of range, invalid) is judged by to_storable
itself, which repairs it or names the problem, so messages and repairs are exactly the reader's.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence

from django.db import connection

# The columns of every staging table; a layer leaves those it does not use empty.
STAGING_COLUMNS = (
    "idx",
    "code",
    "name",
    "level",
    "river",
    "river_key",
    "chief",
    "kind",
    "parent",
    "district",
    "source",
)

# Only these names are ever formatted into the SQL below; every value is a query parameter.
STAGING_TABLES = ("load_districts", "load_reaches", "load_waterbodies", "load_routes")

CREATE_SQL = """
DROP TABLE IF EXISTS %(table)s;
CREATE TEMP TABLE %(table)s (
    idx integer PRIMARY KEY, code text NOT NULL, name text, level text, river text, river_key text,
    chief text, kind text, parent text, district text, source text, geom geometry,
    existing_id integer, old_level text, changed boolean NOT NULL DEFAULT true
) ON COMMIT DROP
"""

# Parse and normalise; then list the features whose geometry is not plainly storable.
# The source text is dropped once parsed (a repair or a message reads the feature's own): the rows that
# every later statement scans and updates are then half as wide. With `geojson`, a source is GeoJSON
# text unless it is the little-endian hex WKB (01...) that readers.geojson_wkb makes of plain lines
# and polygons; no JSON text starts so.
GEOMETRY_SQL = """
UPDATE %(table)s SET source = NULL, geom = ST_Multi(ST_Force2D(ST_Transform(ST_SetSRID(
    CASE WHEN %%(geojson)s AND left(source, 2) <> '01' THEN ST_GeomFromGeoJSON(source) ELSE source::geometry END,
    %%(srid)s), 4326)))
"""

UNFIT_SQL = """
SELECT idx FROM %(table)s
WHERE NOT (GeometryType(geom) = %%(multi_type)s AND NOT ST_IsEmpty(geom)
           AND ST_XMin(geom) >= -180 AND ST_XMax(geom) <= 180 AND ST_YMin(geom) >= -90 AND ST_YMax(geom) <= 90
           AND ST_IsValid(geom, 0))
ORDER BY idx
"""

REPAIR_SQL = """
UPDATE %(table)s s SET geom = repaired.geom::geometry
FROM unnest(%%(indexes)s::integer[], %%(geoms)s::text[]) AS repaired(idx, geom)
WHERE s.idx = repaired.idx
"""

MULTI_TYPES = {"polygon": "MULTIPOLYGON", "line": "MULTILINESTRING"}


def _copy_text(value: object) -> str:
    if value is None:
        return "\\N"
    text = str(value)
    # Four plain `in` tests: a generator over the characters cost three times as much, per value.
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def staging_create(table: str) -> None:
    assert table in STAGING_TABLES
    with connection.cursor() as cursor:
        cursor.execute(CREATE_SQL % {"table": table})


def staging_copy(table: str, rows: Iterable[Sequence[object]]) -> None:
    """COPY rows (values in STAGING_COLUMNS order) into the staging table."""
    assert table in STAGING_TABLES
    buffer = io.StringIO()
    buffer.writelines("\t".join(_copy_text(value) for value in row) + "\n" for row in rows)
    buffer.seek(0)
    with connection.cursor() as cursor:
        cursor.copy_expert(f"COPY {table} ({', '.join(STAGING_COLUMNS)}) FROM STDIN", buffer)


def staging_geometries(table: str, kind: str, *, geojson: bool, srid: int) -> list[int]:
    """Parse the staged geometries; return the indexes of those not plainly storable, in order.

    Raises the database's error when a geometry cannot be parsed or transformed at all (the caller
    then judges the features one by one).
    """
    assert table in STAGING_TABLES
    with connection.cursor() as cursor:
        # The joins by code then know how many features there are; only the columns joined on, for the
        # wide source column would cost as much again.
        cursor.execute(f"ANALYZE {table} (idx, code, river_key, parent)")
        cursor.execute(GEOMETRY_SQL % {"table": table}, {"geojson": geojson, "srid": srid})
        cursor.execute(UNFIT_SQL % {"table": table}, {"multi_type": MULTI_TYPES[kind]})
        return [row[0] for row in cursor.fetchall()]


def staging_repair(table: str, repaired: dict[int, str]) -> None:
    """Replace the geometries of the given features (index → EWKB hex)."""
    assert table in STAGING_TABLES
    with connection.cursor() as cursor:
        cursor.execute(REPAIR_SQL % {"table": table}, {"indexes": list(repaired), "geoms": list(repaired.values())})
