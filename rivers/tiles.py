"""Vector tiles (Mapbox Vector Tile) of the network layers, built by PostGIS's ST_AsMVT.

A tile draws what its zoom can show (issue 10, item 7): each geometry simplified to half a pixel, the
features smaller than TILE_MIN_FEATURE_PX pixels left out, and at most TILE_MAX_FEATURES features, the
most important first (a city-level reach before a village one, the longer before the shorter). A dense
z10 tile carried 10,000 reaches in 1.3 MB before.
"""

from __future__ import annotations

import math

from django.conf import settings
from django.db import connection

from config.database import PreparedStatement

# Web Mercator's half-width in metres (EPSG:3857).
HALF_WORLD_M = 20037508.342789244
EXTENT = 4096  # MVT units across a tile
TILE_PX = 256  # the pixels a tile is drawn across, for "a pixel" in the settings
# Simplification tolerance, in MVT units: half a pixel of a 256-pixel tile.
SIMPLIFY_UNITS = EXTENT / TILE_PX / 2

# Per layer: the table, the attributes a tile carries, a feature's size on the ground (metres for lines,
# square metres for areas, NULL: never too small) and the order of importance. These literals are the only
# things formatted into TILE_SQL; everything else is a query parameter.
TILE_LAYERS = {
    "districts": {
        "table": "rivers_district",
        "columns": "t.code, t.name, t.level",
        "size": "NULL",
        "dimensions": 1,
        "rank": "CASE t.level WHEN 'city' THEN 0 WHEN 'district' THEN 1 ELSE 2 END, t.code",
    },
    "reaches": {
        "table": "rivers_reach",
        "columns": "t.code, t.name, t.level, t.length_m, t.is_cross_district",
        "size": "t.length_m",
        "dimensions": 1,
        "rank": "CASE t.level WHEN 'city' THEN 0 WHEN 'district' THEN 1 WHEN 'town' THEN 2 ELSE 3 END, "
        "t.length_m DESC, t.code",
    },
    "waterbodies": {
        "table": "rivers_waterbody",
        "columns": "t.code, t.name, t.kind, t.is_cross_district",
        "size": "t.area_m2",
        "dimensions": 2,
        "rank": "t.area_m2 DESC, t.code",
    },
    "routes": {"table": "patrols_patrolroute", "columns": "t.code, t.name", "size": "NULL", "dimensions": 1,
               "rank": "t.code"},
}  # fmt: skip

# %(pixel_m)s: a pixel's width in Web Mercator metres at this zoom (a little more than on the ground, by
# 1/cos(latitude): small features are judged a little generously).
TILE_SQL = """
WITH bounds AS (
    SELECT ST_TileEnvelope(%%(z)s, %%(x)s, %%(y)s) AS env,
           ST_Transform(ST_TileEnvelope(%%(z)s, %%(x)s, %%(y)s, margin => 64.0 / 4096), 4326) AS env_4326
),
shown AS (
    SELECT t.id FROM %(table)s t, bounds
    WHERE t.geom && bounds.env_4326
      AND (%(size)s IS NULL OR %(size)s >= power(%%(min_px)s * %%(pixel_m)s, %(dimensions)s))
    ORDER BY %(rank)s
    LIMIT %%(max_features)s
),
features AS (
    SELECT ST_AsMVTGeom(ST_Transform(ST_Simplify(t.geom, %%(tolerance_deg)s, true), 3857), bounds.env, 4096, 64, true)
               AS geom,
           %(columns)s
    FROM shown JOIN %(table)s t ON t.id = shown.id, bounds
)
SELECT ST_AsMVT(features.*, %%(layer)s, 4096, 'geom') FROM features WHERE geom IS NOT NULL
"""

MAX_ZOOM = 22


def tile_in_range(z: int, x: int, y: int) -> bool:
    return 0 <= z <= MAX_ZOOM and 0 <= x < 2**z and 0 <= y < 2**z


def tile_statement(layer: str, z: int, x: int, y: int) -> tuple[str, dict]:
    """Return the SQL and parameters of one tile of a network layer (what tile_render runs, prepared)."""
    return TILE_SQL % TILE_LAYERS[layer], tile_params(layer, z, x, y)


def tile_params(layer: str, z: int, x: int, y: int) -> dict:
    """Return the parameters of TILE_SQL for one tile of a network layer."""
    pixel_m = 2 * HALF_WORLD_M / 2**z / TILE_PX
    # Simplified in degrees, before the transform (fewer points to transform): half a pixel across in
    # both directions at the tile's middle latitude, where a degree of latitude is 1/cos(lat) longer.
    latitude = math.atan(math.sinh(math.pi * (1 - 2 * (y + 0.5) / 2**z)))
    tolerance_deg = pixel_m * SIMPLIFY_UNITS * TILE_PX / EXTENT / (HALF_WORLD_M / 180) * math.cos(latitude)
    params = {
        "z": z,
        "x": x,
        "y": y,
        "layer": layer,
        "pixel_m": pixel_m,
        "min_px": float(settings.TILE_MIN_FEATURE_PX),
        "max_features": int(settings.TILE_MAX_FEATURES),
        "tolerance_deg": tolerance_deg,
    }
    return params


# TILE_SQL's parameters in the order of the prepared statements' $1, $2…, with their types.
TILE_PARAMS = {
    "z": "int", "x": "int", "y": "int", "layer": "text", "pixel_m": "float8", "min_px": "float8",
    "max_features": "int", "tolerance_deg": "float8",
}  # fmt: skip


def _prepared(layer: str) -> PreparedStatement:
    sql = TILE_SQL % TILE_LAYERS[layer]
    for number, name in enumerate(TILE_PARAMS, start=1):
        sql = sql.replace(f"%({name})s", f"${number}")
    return PreparedStatement(f"rivers_tile_{layer}", tuple(TILE_PARAMS.values()), sql)


# One prepared statement per layer: planning a tile's statement cost 0.2-0.4 ms of a z14 tile's 1 ms (issue
# 10). PostgreSQL keeps a generic plan after five tiles, which ran as fast as the custom ones at z10-z14.
TILE_STATEMENTS = {layer: _prepared(layer) for layer in TILE_LAYERS}


def tile_render(layer: str, z: int, x: int, y: int) -> bytes:
    """Return the MVT bytes of one tile of a network layer (empty bytes when nothing is there)."""
    params = tile_params(layer, z, x, y)
    with connection.cursor() as cursor:
        TILE_STATEMENTS[layer].execute(cursor, [params[name] for name in TILE_PARAMS])
        (tile,) = cursor.fetchone()
    return bytes(tile or b"")
