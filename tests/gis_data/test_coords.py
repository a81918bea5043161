"""GCJ-02 ↔ WGS84 conversion and the CRS handling GDAL does for us (CGCS2000, Gauss-Kruger)."""

import math

import pytest
from django.contrib.gis.geos import GEOSGeometry, LineString, Point

from gis_data.coords import (
    GCJ02,
    gcj02_to_wgs84,
    geometry_gcj02_to_wgs84,
    geometry_wgs84_to_gcj02,
    srid_parse,
    wgs84_to_gcj02,
)

EARTH_RADIUS_M = 6_371_008.8  # mean radius: plenty for distances of metres


def metres_between(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Haversine distance between two lon/lat points (good to 0.5 % — we compare against 0.5 m)."""
    (lon1, lat1), (lon2, lat2) = a, b
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    h = (
        math.sin((phi2 - phi1) / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


def reference_wgs_to_gcj(lon: float, lat: float) -> tuple[float, float]:
    """The published GCJ-02 forward formula, written out independently of gis_data.coords (plain math)."""
    if not (72.004 < lon < 137.8347 and 0.8293 < lat < 55.8271):
        return lon, lat
    a, ee = 6378245.0, 0.00669342162296594323
    x, y = lon - 105.0, lat - 35.0
    waves = 20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)
    d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y**2 + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    d_lat += waves * 2.0 / 3.0
    d_lat += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    d_lat += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    d_lon = 300.0 + x + 2.0 * y + 0.1 * x**2 + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    d_lon += waves * 2.0 / 3.0
    d_lon += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    d_lon += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    rad = lat / 180.0 * math.pi
    magic = 1 - ee * math.sin(rad) ** 2
    d_lat = d_lat * 180.0 / ((a * (1 - ee)) / (magic * math.sqrt(magic)) * math.pi)
    d_lon = d_lon * 180.0 / (a / math.sqrt(magic) * math.cos(rad) * math.pi)
    return lon + d_lon, lat + d_lat


# (WGS84 lon, lat) → (GCJ-02 lon, lat): the test vectors published with googollee/eviltransform
# (its tests.py: Shanghai, Shenzhen, Beijing).
PUBLISHED_PAIRS = [
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),
]

# Places across China, WGS84 lon/lat: 綦江 (the demo area), Chongqing, Lhasa, Harbin, Sanya, Urumqi.
CHINA = [
    (106.6515, 29.0281),
    (106.5516, 29.5630),
    (91.1172, 29.6470),
    (126.535, 45.803),
    (109.512, 18.252),
    (87.617, 43.826),
]


@pytest.mark.parametrize(("wgs", "gcj"), PUBLISHED_PAIRS)
def test_published_pairs(wgs, gcj):
    assert metres_between(wgs84_to_gcj02(*wgs), gcj) < 0.01
    assert metres_between(gcj02_to_wgs84(*gcj), wgs) < 0.5


@pytest.mark.parametrize("wgs", CHINA)
def test_forward_matches_independent_formula(wgs):
    expected = reference_wgs_to_gcj(*wgs)
    assert metres_between(wgs84_to_gcj02(*wgs), expected) < 0.001
    # The shift is real: a few hundred metres (GCJ-02 is useless for evidence without conversion).
    assert 50 < metres_between(wgs, expected) < 1_000


def test_inverse_round_trip_within_half_a_metre_over_china():
    """A 1° grid over the box of China (inland and coast alike): GCJ-02 of the independent formula → WGS84."""
    worst = 0.0
    for lon in range(74, 135):
        for lat in range(4, 54):
            wgs = (lon + 0.37, lat + 0.61)
            back = gcj02_to_wgs84(*reference_wgs_to_gcj(*wgs))
            worst = max(worst, metres_between(back, wgs))
    assert worst < 0.5
    assert worst < 0.01  # in practice the iteration converges far below the requirement


@pytest.mark.parametrize("lonlat", [(2.3522, 48.8566), (-74.006, 40.7128), (139.6917, 35.6895), (151.2093, -33.8688)])
def test_outside_china_is_identity(lonlat):
    # Paris, New York, Tokyo (just east of the box), Sydney: GCJ-02 only shifts inside China.
    assert wgs84_to_gcj02(*lonlat) == lonlat
    assert gcj02_to_wgs84(*lonlat) == lonlat


def test_geometry_conversion_round_trip():
    line = LineString(CHINA[:2], srid=4326)
    gcj = geometry_wgs84_to_gcj02(line)
    assert gcj.coords[0] == pytest.approx(reference_wgs_to_gcj(*CHINA[0]), abs=1e-9)
    back = geometry_gcj02_to_wgs84(gcj)
    assert back.srid == 4326 and back.geom_type == "LineString"
    for got, wgs in zip(back.coords, CHINA[:2], strict=True):
        assert metres_between(got, wgs) < 0.5


def test_geometry_conversion_drops_heights():
    back = geometry_gcj02_to_wgs84(GEOSGeometry("SRID=4326;POINT Z (106.65 29.03 300)"))
    assert not back.hasz


@pytest.mark.parametrize(
    ("text", "expected"), [("4490", 4490), ("EPSG:4545", 4545), ("epsg::4326", 4326), (4490, 4490), ("GCJ-02", GCJ02)]
)
def test_srid_parse(text, expected):
    assert srid_parse(text) == expected


def test_srid_parse_refuses_nonsense():
    with pytest.raises(ValueError, match="4490"):
        srid_parse("Beijing54")


def test_cgcs2000_input_stays_lon_lat():
    """EPSG:4490's axis order is lat/lon by the authority; Django uses traditional lon/lat order."""
    point = Point(106.6515, 29.0281, srid=4490)
    point.transform(4326)
    # CGCS2000 and WGS84 agree to centimetres; PROJ applies no shift. Swapped axes would give (29, 106).
    assert point.coords == pytest.approx((106.6515, 29.0281), abs=1e-7)


def test_gauss_kruger_4545_round_trip():
    """EPSG:4545 (CGCS2000 / 3-degree Gauss-Kruger CM 108E) is in metres east/north, false easting 500 km."""
    point = Point(106.6515, 29.0281, srid=4326)
    point.transform(4545)
    # 1.35° west of the central meridian at 29°N is about 131 km west: x ≈ 500 km - 131 km.
    assert 365_000 < point.x < 372_000 and 3_200_000 < point.y < 3_220_000
    point.transform(4326)
    assert metres_between(point.coords, (106.6515, 29.0281)) < 0.001
