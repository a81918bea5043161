"""Vector tiles (Mapbox Vector Tile) of the network layers, built by PostGIS's ST_AsMVT."""

from __future__ import annotations

from django.db import connection

# Per layer: the table and the attributes a tile carries. These literals are the only things
# formatted into TILE_SQL; z/x/y are query parameters.
TILE_LAYERS = {
    "districts": {"table": "rivers_district", "columns": "t.code, t.name, t.level"},
    "reaches": {
        "table": "rivers_reach",
        "columns": "t.code, t.name, t.level, t.length_m, t.is_cross_district",
    },
    "waterbodies": {"table": "rivers_waterbody", "columns": "t.code, t.name, t.kind, t.is_cross_district"},
    "routes": {"table": "patrols_patrolroute", "columns": "t.code, t.name"},
}

TILE_SQL = """
WITH bounds AS (
    SELECT ST_TileEnvelope(%%(z)s, %%(x)s, %%(y)s) AS env,
           ST_Transform(ST_TileEnvelope(%%(z)s, %%(x)s, %%(y)s, margin => 64.0 / 4096), 4326) AS env_4326
),
features AS (
    SELECT ST_AsMVTGeom(ST_Transform(t.geom, 3857), bounds.env, 4096, 64, true) AS geom, %(columns)s
    FROM %(table)s t, bounds
    WHERE t.geom && bounds.env_4326
)
SELECT ST_AsMVT(features.*, %%(layer)s, 4096, 'geom') FROM features WHERE geom IS NOT NULL
"""

MAX_ZOOM = 22


def tile_in_range(z: int, x: int, y: int) -> bool:
    return 0 <= z <= MAX_ZOOM and 0 <= x < 2**z and 0 <= y < 2**z


def tile_render(layer: str, z: int, x: int, y: int) -> bytes:
    """Return the MVT bytes of one tile of a network layer (empty bytes when nothing is there)."""
    with connection.cursor() as cursor:
        cursor.execute(TILE_SQL % TILE_LAYERS[layer], {"z": z, "x": x, "y": y, "layer": layer})
        (tile,) = cursor.fetchone()
    return bytes(tile or b"")
