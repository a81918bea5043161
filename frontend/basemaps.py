"""The maps' backgrounds (issue 9 §6): which basemaps the desk's maps and the admin's map widgets offer.

- 天地图 (Tianditu, the national platform: an approved map in China) in vector and imagery, each with
  its annotation layer; it needs a developer key (settings.TIANDITU_KEY) and is left out without one.
  Its tiles are in CGCS2000, which lies within centimetres of WGS84 at map scale: no shift.
- 高德 (Amap) in vector and imagery: its tiles are drawn in GCJ-02, so the pages shift the tiles onto
  the WGS84 data (`gcj02`: frontend/src/shared/gcj02.js); everything stored stays WGS84.
- OpenStreetMap, for use outside China.
- `blank`: no tiles at all, a plain background (offline, or where no online map may be used).

Pure: settings import it (LEAFLET_CONFIG), and the desk's views put `basemaps_config()` in the page.
"""

from __future__ import annotations

from dataclasses import dataclass, field

TIANDITU = "https://t{s}.tianditu.gov.cn/DataServer?T=%s_w&x={x}&y={y}&l={z}&tk=%s"
AMAP_VECTOR = "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}"
AMAP_IMAGERY = "https://webst0{s}.is.autonavi.com/appmaptile?style=6&x={x}&y={y}&z={z}"
AMAP_LABELS = "https://webst0{s}.is.autonavi.com/appmaptile?style=8&x={x}&y={y}&z={z}"
OSM = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"

TIANDITU_ATTRIBUTION = "© 天地图 GS(2024)0568号"
AMAP_ATTRIBUTION = "© 高德地图 AutoNavi"


@dataclass(frozen=True)
class Basemap:
    id: str
    name: str  # Chinese first, English after (the admin shows it as it is; the pages translate by id)
    layers: list[dict] = field(default_factory=list)  # Leaflet tile layers: url + options, drawn in order
    gcj02: bool = False  # tiles drawn in GCJ-02: shifted onto WGS84 by the page
    needs_key: bool = False


def _tianditu(kind: str, labels: str, name: str, key: str) -> Basemap:
    options = {"subdomains": "01234567", "maxZoom": 18, "attribution": TIANDITU_ATTRIBUTION}
    layers = [{"url": TIANDITU % (kind, key), **options}, {"url": TIANDITU % (labels, key), **options}]
    return Basemap(id=f"tianditu_{kind}", name=name, layers=layers, needs_key=True)


def catalog(tianditu_key: str) -> dict[str, Basemap]:
    """Return every basemap the product knows, by id."""
    amap = {"subdomains": "1234", "maxZoom": 18, "attribution": AMAP_ATTRIBUTION}
    maps = [
        _tianditu("vec", "cva", "天地图矢量 Tianditu map", tianditu_key),
        _tianditu("img", "cia", "天地图影像 Tianditu imagery", tianditu_key),
        Basemap(id="amap", name="高德地图 Amap", layers=[{"url": AMAP_VECTOR, **amap}], gcj02=True),
        Basemap(
            id="amap_img",
            name="高德影像 Amap imagery",
            layers=[{"url": AMAP_IMAGERY, **amap}, {"url": AMAP_LABELS, **amap}],
            gcj02=True,
        ),
        Basemap(
            id="osm",
            name="OpenStreetMap",
            layers=[{"url": OSM, "maxZoom": 19, "attribution": "© OpenStreetMap contributors"}],
        ),
        Basemap(id="blank", name="空白底图 Plain background"),
    ]
    return {basemap.id: basemap for basemap in maps}


def basemaps_offered(ids: list[str], tianditu_key: str, default: str = "") -> list[Basemap]:
    """Return the basemaps of `ids` that can be used (天地图 only with a key), the default first."""
    known = catalog(tianditu_key)
    unknown = [basemap_id for basemap_id in ids if basemap_id not in known]
    if unknown:
        raise ValueError(f"BASEMAPS: unknown basemaps {unknown}; known: {sorted(known)}")
    offered = [known[basemap_id] for basemap_id in ids if tianditu_key or not known[basemap_id].needs_key]
    if not offered:
        offered = [known["blank"]]  # a map always has a background, if only a plain one
    first = next((basemap for basemap in offered if basemap.id == default), offered[0])
    return [first, *(basemap for basemap in offered if basemap is not first)]


def basemaps_config(ids: list[str], tianditu_key: str, default: str = "") -> list[dict]:
    """Return the page configuration's `basemaps`: [{id, layers, gcj02}], the one to show first first."""
    return [
        {"id": basemap.id, "layers": basemap.layers, "gcj02": basemap.gcj02}
        for basemap in basemaps_offered(ids, tianditu_key, default)
    ]


def leaflet_tiles(ids: list[str], tianditu_key: str, default: str = "") -> list[tuple]:
    """Return django-leaflet's TILES, (name, url, options) per basemap, the default first: the admin's
    widgets draw each basemap's first layer (天地图's annotation layer is the pages' only), and no
    tiles at all for the plain background."""
    tiles = []
    for basemap in basemaps_offered(ids, tianditu_key, default):
        if not basemap.layers:
            continue
        layer = basemap.layers[0]
        options = {key: value for key, value in layer.items() if key != "url"}
        if basemap.gcj02:
            options["gcj02"] = True  # read by frontend/src/admin/leaflet-gcj02.js
        tiles.append((basemap.name, layer["url"], options))
    return tiles
