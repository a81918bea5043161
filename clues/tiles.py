"""The clue layers of /tiles/ (the review map): clues clustered on a grid, and a heat aggregate.

Both are built from a queryset the caller filtered (Clue.objects.visible_to(user) and the list's filters,
clues.filters.clues_filter), so a tile shows exactly the clues the list would: a clue the user may not
see is in no cluster, no count and no heat cell (DESIGN §5).

The grid is the Web Mercator tile grid cut into cells of CELL_PX pixels (of a 256-pixel tile): every
tile of a zoom cuts the same cells, so a cluster near a tile's edge is the same cluster in both tiles.
A tile carries the cells of a ring around it too (so that a marker over the edge is drawn whole);
`own` = 1 marks the cells of the tile itself, the ones to count.
"""

from __future__ import annotations

import dataclasses
import math

from django.contrib.gis.geos import Polygon
from django.db import connection
from django.db.models import F, FloatField, Func

from rivers.tiles import EXTENT, HALF_WORLD_M, TILE_PX  # the same Web Mercator grid as the network's tiles

# Grid-based clustering stops here: from this zoom on, every clue is a marker of its own.
CLUSTER_MAX_ZOOM = 17
STATUSES = (
    "registered", "transferred", "accepted", "investigating", "case_filed", "not_filed", "suggestion_issued",
    "rectified", "litigation", "closed", "feedback_given", "merged",
)  # fmt: skip


@dataclasses.dataclass(frozen=True)
class ClueLayer:
    name: str
    cell_px: int  # the grid's cell, in pixels of a 256-pixel tile: a power of two, so cells tile a tile
    ring_cells: int  # cells around the tile that a tile carries as well


CLUE_LAYERS = {
    "clues": ClueLayer("clues", cell_px=64, ring_cells=1),
    # Heat: fine cells, and a ring as wide as the blur the page draws around each (24 px).
    "clue-heat": ClueLayer("clue-heat", cell_px=8, ring_cells=3),
}


class MercatorX(Func):
    """A 4326 point's x in Web Mercator metres."""

    template = "ST_X(ST_Transform(%(expressions)s, 3857))"
    output_field = FloatField()


class MercatorY(Func):
    """A 4326 point's y in Web Mercator metres."""

    template = "ST_Y(ST_Transform(%(expressions)s, 3857))"
    output_field = FloatField()


def _per_status_columns() -> str:
    # Constants only: the status codes of clues.models.Status.
    return ", ".join(f"count(*) FILTER (WHERE status = '{s}') AS n_{s}" for s in STATUSES)


# %s placeholders, in order: the filtered clues' SQL (its own params), then cell, cell, the layer's name,
# (clusters: cell, cell,) z, x, y, buffer, and the tile's own cells: x0, x1, y0, y1.
CLUSTER_SQL = f"""
WITH filtered AS ({{clues}}),
cells AS (
    SELECT floor((x + {HALF_WORLD_M}) / %s)::bigint AS cx, floor((y + {HALF_WORLD_M}) / %s)::bigint AS cy,
           count(*) AS n, avg(x) AS mx, avg(y) AS my, min(id) AS first_id,
           min(code) AS first_code, min(status) AS first_status, {_per_status_columns()}
    FROM filtered GROUP BY 1, 2
)
SELECT ST_AsMVT(tile.*, %s, {EXTENT}, 'geom') FROM (
    SELECT ST_AsMVTGeom(ST_SetSRID(ST_MakePoint(
               -- a cluster is drawn halfway between its clues' centre and its cell's: neighbours overlap less
               CASE WHEN n = 1 THEN mx ELSE (mx + (cx + 0.5) * %s - {HALF_WORLD_M}) / 2 END,
               CASE WHEN n = 1 THEN my ELSE (my + (cy + 0.5) * %s - {HALF_WORLD_M}) / 2 END), 3857),
               ST_TileEnvelope(%s, %s, %s), {EXTENT}, %s, true) AS geom,
           n AS count,
           (cx >= %s AND cx < %s AND cy >= %s AND cy < %s)::int AS own,
           CASE WHEN n = 1 THEN first_id END AS id,
           CASE WHEN n = 1 THEN first_code END AS code,
           CASE WHEN n = 1 THEN first_status END AS status,
           {", ".join(f"NULLIF(n_{s}, 0) AS {s}" for s in STATUSES)}
    FROM cells
) tile WHERE geom IS NOT NULL
"""  # noqa: S608 - constants; the clues' SQL is the ORM's, with its parameters

# Heat: the count per cell; the page blurs and colours them.
HEAT_SQL = f"""
WITH filtered AS ({{clues}}),
cells AS (
    SELECT floor((x + {HALF_WORLD_M}) / %s)::bigint AS cx, floor((y + {HALF_WORLD_M}) / %s)::bigint AS cy,
           count(*) AS n, avg(x) AS mx, avg(y) AS my
    FROM filtered GROUP BY 1, 2
)
SELECT ST_AsMVT(tile.*, %s, {EXTENT}, 'geom') FROM (
    SELECT ST_AsMVTGeom(ST_SetSRID(ST_MakePoint(mx, my), 3857), ST_TileEnvelope(%s, %s, %s), {EXTENT}, %s, true)
               AS geom,
           n AS count,
           (cx >= %s AND cx < %s AND cy >= %s AND cy < %s)::int AS own
    FROM cells
) tile WHERE geom IS NOT NULL
"""  # noqa: S608 - constants; the clues' SQL is the ORM's, with its parameters


def _lon_lat(mx: float, my: float) -> tuple[float, float]:
    lon = mx / HALF_WORLD_M * 180.0
    lat = math.degrees(2 * math.atan(math.exp(my / HALF_WORLD_M * math.pi)) - math.pi / 2)
    return max(-180.0, min(180.0, lon)), max(-85.06, min(85.06, lat))


def clue_tile_render(layer_name: str, clues, z: int, x: int, y: int, *, size: int = TILE_PX) -> bytes:  # noqa: ANN001
    """Return the MVT bytes of one tile of a clue layer over `clues` (a ClueQuerySet already visible_to
    and filtered). `size`: the pixels the page draws the tile across (256, or 512 for fewer, bigger
    tiles a zoom level up: the cells stay the same size on the screen)."""
    layer = CLUE_LAYERS[layer_name]
    tile_m = 2 * HALF_WORLD_M / 2**z
    clustered = layer_name != "clues" or z < CLUSTER_MAX_ZOOM
    # Unclustered: cells of 1/16 pixel, so only clues at the same spot share a marker.
    cell_px = (layer.cell_px if clustered else 1 / 16) * TILE_PX / size
    cell_m = tile_m * cell_px / TILE_PX
    per_tile = round(TILE_PX / cell_px)
    ring_m = layer.ring_cells * tile_m * layer.cell_px / size
    # The tile's cells: x counts from the west edge of the world, y from its south edge (rows of tiles
    # count from the north).
    own_x0, own_y0 = x * per_tile, (2**z - 1 - y) * per_tile
    west, north = -HALF_WORLD_M + x * tile_m, HALF_WORLD_M - y * tile_m
    south_west = _lon_lat(west - ring_m, north - tile_m - ring_m)
    north_east = _lon_lat(west + tile_m + ring_m, north + ring_m)
    box = Polygon.from_bbox((*south_west, *north_east))
    box.srid = 4326
    columns = ("id", "code", "status") if layer_name == "clues" else ()
    # The list's order does not matter here: order_by() drops it.
    in_box = (
        clues.filter(geom__bboverlaps=box).order_by().values(*columns, x=MercatorX(F("geom")), y=MercatorY(F("geom")))
    )
    clues_sql, clues_params = in_box.query.sql_with_params()
    buffer = round(EXTENT * layer.ring_cells * layer.cell_px / size)
    sql = (CLUSTER_SQL if layer_name == "clues" else HEAT_SQL).replace("{clues}", clues_sql)
    centre = [cell_m, cell_m] if layer_name == "clues" else []
    params = [
        *clues_params, cell_m, cell_m, layer_name, *centre, z, x, y, buffer,
        own_x0, own_x0 + per_tile, own_y0, own_y0 + per_tile,
    ]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        (tile,) = cursor.fetchone()
    return bytes(tile or b"")
