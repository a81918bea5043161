"""Validate the 綦江 demo bundle in this directory and print a summary.

A development check, not part of the application.  Third-party imports: shapely
and pyproj only (plus the standard library).  Run it from anywhere:

    /tmp/qj/bin/python check_sample.py        # exit status 0 when every check passes

Lengths are geodesic (pyproj.Geod on WGS84); distances and areas near the borders
are measured in UTM zone 48N (EPSG:32648), which covers the whole sample.
The notable features and test points below must match the table in README.md.
"""

import json
from datetime import date, timedelta
from pathlib import Path

import shapely
from pyproj import Geod, Transformer
from shapely.geometry import Point, shape

HERE = Path(__file__).resolve().parent
GEOD = Geod(ellps="WGS84")
_TO_UTM = Transformer.from_crs("EPSG:4326", "EPSG:32648", always_xy=True)

CITY = "500000"
DISTRICTS = {"500110": "綦江区", "500116": "江津区", "500113": "巴南区", "500119": "南川区"}
LEVELS = {"city", "district", "town", "village"}
KINDS = {"reservoir", "lake", "pond"}

# Notable features (README.md table); points are vertices of the reaches.
CROSS = "R500110-006"  # 綦江干流 from 綦江区 into 江津区
CROSS_FROM, CROSS_TO = "500110", "500116"
BOUNDARY = "R500110-019"  # 界河 on the 綦江区/南川区 border
BOUNDARY_PAIR = ("500110", "500119")
INSIDE = "R500110-009"  # wholly inside 綦江区
INSIDE_DISTRICT = "500110"
TOUCH = "R500110-018"  # ends exactly on the 綦江区/巴南区 border
TOUCH_PAIR = ("500110", "500113")
POINTS_ON = {
    CROSS: [(106.597499, 29.093546), (106.561199, 29.108674)],  # 綦江区 side, 江津区 side
    BOUNDARY: [(107.008213, 29.011643)],
    INSIDE: [(106.717455, 28.998568)],
    TOUCH: [(106.72816, 29.140897), (106.725328, 29.165226)],  # interior vertex, end on the border
}
FAR_POINT = (106.6, 28.82)  # inside 綦江区, more than 1 km from every reach and water body
OUTSIDE_POINT = (106.57, 29.56)  # 渝中区: inside 重庆市, outside the four districts

failures: list[str] = []


def check(ok: bool, message: str) -> bool:
    """Record a failed check (and print it); return ok."""
    if not ok:
        failures.append(message)
        print(f"  FAIL {message}")
    return ok


def utm(geom):
    """Project a lon/lat geometry to metres (UTM 48N)."""

    def project(xy):
        out = xy.copy()
        out[:, 0], out[:, 1] = _TO_UTM.transform(xy[:, 0], xy[:, 1])
        return out

    return shapely.transform(geom, project)


def length_m(geom) -> float:
    """Geodesic length in metres of any (multi)line geometry; 0 for points and empty."""
    if geom.is_empty:
        return 0.0
    return abs(GEOD.geometry_length(geom))


def area_m2(geom) -> float:
    return abs(GEOD.geometry_area_perimeter(geom)[0])


def load(name: str) -> list[dict]:
    """Load one FeatureCollection and check the common GeoJSON rules."""
    path = HERE / name
    raw = json.loads(path.read_text(encoding="utf-8"))
    check(raw.get("type") == "FeatureCollection", f"{name}: not a FeatureCollection")
    check("crs" not in raw, f"{name}: has a crs member")
    for feat in raw["features"]:
        code = feat.get("properties", {}).get("code")
        geom = shape(feat["geometry"])
        check(geom.is_valid, f"{name} {code}: invalid geometry ({shapely.is_valid_reason(geom)})")
        check(not geom.is_empty, f"{name} {code}: empty geometry")
        coords = shapely.get_coordinates(geom)
        check(
            all(105 < x < 111 and 28 < y < 33 for x, y in coords), f"{name} {code}: coordinates not lon/lat near 重庆"
        )
        check(all(round(v, 6) == v for xy in coords for v in xy), f"{name} {code}: more than 6 decimals")
        feat["geom"] = geom
    codes = [f["properties"].get("code") for f in raw["features"]]
    check(len(codes) == len(set(codes)), f"{name}: duplicate codes")
    print(f"{name}: {len(raw['features'])} features, {path.stat().st_size:,} bytes")
    return raw["features"]


def main() -> None:
    # ------------------------------------------------------------------ districts
    dist_feats = load("districts.geojson")
    areas = {f["properties"]["code"]: f for f in dist_feats}
    check(set(areas) == {CITY, *DISTRICTS}, f"districts.geojson: codes {sorted(areas)}")
    for f in dist_feats:
        p = f["properties"]
        check(f["geom"].geom_type == "MultiPolygon", f"{p['code']}: not a MultiPolygon")
        if p["code"] == CITY:
            check(p == {"code": CITY, "name": "重庆市", "level": "city", "parent": None}, f"{CITY}: properties {p}")
        else:
            want = {"code": p["code"], "name": DISTRICTS.get(p["code"]), "level": "district", "parent": CITY}
            check(p == want, f"{p['code']}: properties {p}")
    D = {c: areas[c]["geom"] for c in areas}
    Dm = {c: utm(g) for c, g in D.items()}
    for c in DISTRICTS:
        outside = Dm[c].difference(Dm[CITY]).area
        check(outside < 1.0, f"{c} sticks out of 重庆市 by {outside:.1f} m²")
    overlaps = {(a, b): Dm[a].intersection(Dm[b]).area for a in DISTRICTS for b in DISTRICTS if a < b}
    union = shapely.union_all([Dm[c] for c in DISTRICTS])
    holes = sum(shapely.Polygon(r).area for p in getattr(union, "geoms", [union]) for r in p.interiors)
    check(max(overlaps.values()) < 1.0, f"districts overlap: {overlaps}")
    check(holes < 1.0, f"gaps between the four districts: {holes:.1f} m²")
    print(
        "  areas km²: "
        + ", ".join(f"{c} {DISTRICTS.get(c, '重庆市')} {area_m2(D[c]) / 1e6:,.0f}" for c in D)
        + f"; max overlap {max(overlaps.values()):.2f} m², gaps {holes:.2f} m²"
    )

    def shared_border(a: str, b: str):
        return shapely.line_merge(D[a].boundary.intersection(D[b].boundary))

    # ------------------------------------------------------------------ reaches
    reach_feats = load("reaches.geojson")
    R = {f["properties"]["code"]: f for f in reach_feats}
    levels = {lvl: 0 for lvl in LEVELS}
    for code, f in R.items():
        p, g = f["properties"], f["geom"]
        check(g.geom_type in ("LineString", "MultiLineString"), f"{code}: {g.geom_type}")
        for key in ("code", "name", "river", "level"):
            check(isinstance(p.get(key), str) and p[key], f"{code}: missing {key}")
        check(p.get("level") in LEVELS, f"{code}: level {p.get('level')}")
        check(p.get("approximate") is True, f"{code}: approximate is not true")
        check(g.is_simple, f"{code}: self-intersects")
        levels[p.get("level")] = levels.get(p.get("level"), 0) + 1
        # vertex density: a vertex every ~200-500 m
        parts = getattr(g, "geoms", [g])
        segs = [
            length_m(shapely.LineString([a, b]))
            for part in parts
            for a, b in zip(part.coords[:-1], part.coords[1:], strict=True)
        ]
        segs.sort()
        median = segs[len(segs) // 2]
        check(
            150 <= median <= 500 and segs[-1] <= 800,
            f"{code}: vertex spacing median {median:.0f} m, max {segs[-1]:.0f} m",
        )
        f["length"] = length_m(g)
        f["share"] = {c: length_m(g.intersection(D[c])) for c in DISTRICTS}
        check(f["length"] >= 1000, f"{code}: shorter than 1 km")
        if p.get("river") == "綦江":
            check(5000 <= f["length"] <= 30000, f"{code}: 綦江 main-stream reach of {f['length'] / 1000:.1f} km")
        check(D[CITY].covers(g), f"{code}: outside 重庆市")
    check(15 <= len(R) <= 30, f"{len(R)} reaches (want 15-30)")
    check(levels["city"] >= 2 and min(levels["district"], levels["town"], levels["village"]) >= 3, f"levels {levels}")
    # reaches meet only at end points (confluences, reach ends)
    codes = sorted(R)
    for i, a in enumerate(codes):
        for b in codes[i + 1 :]:
            ga, gb = R[a]["geom"], R[b]["geom"]
            if ga.intersects(gb):
                x = ga.intersection(gb)
                ends = shapely.MultiPoint(
                    [ga.coords[0], ga.coords[-1], gb.coords[0], gb.coords[-1]]
                    if ga.geom_type == gb.geom_type == "LineString"
                    else []
                )
                check(x.geom_type == "Point" and ends.covers(x), f"{a} and {b} cross ({x.geom_type})")
    missing = [
        code for code in (CROSS, BOUNDARY, INSIDE, TOUCH) if not check(code in R, f"notable reach {code} missing")
    ]
    if missing:
        raise SystemExit(1)

    # the cross-district reach: >100 m on each side, and it really crosses (not along the border)
    f = R[CROSS]
    a, b = f["share"][CROSS_FROM], f["share"][CROSS_TO]
    along = length_m(f["geom"].intersection(shared_border(CROSS_FROM, CROSS_TO).buffer(30 / 111000)))
    check(a > 100 and b > 100, f"{CROSS}: {a:.0f} m / {b:.0f} m in {CROSS_FROM}/{CROSS_TO}")
    check(along < 200, f"{CROSS}: {along:.0f} m along the border")
    print(f"  cross-district {CROSS}: {a / 1000:.2f} km in {CROSS_FROM}, {b / 1000:.2f} km in {CROSS_TO}")

    # the boundary river: on the shared border (within 30 m everywhere), at least 3 km
    f = R[BOUNDARY]
    border_m = utm(shared_border(*BOUNDARY_PAIR))
    river_m = utm(f["geom"]).segmentize(10)
    worst = max(border_m.distance(Point(xy)) for xy in shapely.get_coordinates(river_m))
    check(worst <= 30, f"{BOUNDARY}: up to {worst:.1f} m from the {BOUNDARY_PAIR} border")
    check(f["length"] >= 3000, f"{BOUNDARY}: only {f['length']:.0f} m")
    print(f"  boundary river {BOUNDARY}: {f['length'] / 1000:.2f} km, at most {worst:.2f} m from the shared border")

    # wholly inside one district, clear of its border
    f = R[INSIDE]
    clear = Dm[INSIDE_DISTRICT].boundary.distance(utm(f["geom"]))
    check(
        D[INSIDE_DISTRICT].contains(f["geom"]) and clear > 100,
        f"{INSIDE}: not inside {INSIDE_DISTRICT} ({clear:.0f} m)",
    )
    others = {c: s for c, s in f["share"].items() if c != INSIDE_DISTRICT and s > 0}
    check(not others, f"{INSIDE}: also in {others}")
    print(f"  wholly inside {INSIDE}: {f['length'] / 1000:.2f} km, {clear:.0f} m from the district border")

    # ends exactly on a district border without crossing it
    f = R[TOUCH]
    g = f["geom"]
    border = shared_border(*TOUCH_PAIR)
    end = Point(g.coords[-1])
    end_gap = Dm[TOUCH_PAIR[0]].boundary.distance(utm(end)), Dm[TOUCH_PAIR[1]].boundary.distance(utm(end))
    rest = shapely.LineString(g.coords[:-1])
    check(max(end_gap) < 0.5 and border.distance(end) < 1e-6, f"{TOUCH}: end point {end_gap} m from the border")
    check(D[TOUCH_PAIR[0]].contains(rest) and f["share"][TOUCH_PAIR[1]] < 0.5, f"{TOUCH}: crosses the border")
    print(
        f"  end-touching {TOUCH}: ends on the {TOUCH_PAIR} border ({max(end_gap):.3f} m), rest inside {TOUCH_PAIR[0]}"
    )

    # ------------------------------------------------------------------ water bodies
    water = {f["properties"]["code"]: f for f in load("waterbodies.geojson")}
    check(len(water) >= 2, "fewer than 2 water bodies")
    all_lines = [f["geom"] for f in reach_feats]
    for code, f in water.items():
        p, g = f["properties"], f["geom"]
        check(g.geom_type in ("Polygon", "MultiPolygon"), f"{code}: {g.geom_type}")
        check(bool(p.get("name")) and p.get("kind") in KINDS, f"{code}: name/kind {p}")
        check(p.get("approximate") is True, f"{code}: approximate is not true")
        a = area_m2(g) / 1e6
        check(0.3 <= a <= 3, f"{code}: {a:.2f} km²")
        check(D["500110"].contains(g), f"{code}: not inside 綦江区")
        print(f"  {code} {p['name']} ({p['kind']}): {a:.2f} km²")
    check(sum(f["properties"]["kind"] == "reservoir" for f in water.values()) >= 2, "fewer than 2 reservoirs")

    # ------------------------------------------------------------------ routes
    for f in load("routes.geojson"):
        p, g = f["properties"], f["geom"]
        check(g.geom_type == "LineString" and p.get("name") and p.get("district") in DISTRICTS, f"route {p}")
        if p.get("district") in DISTRICTS:
            check(D[p["district"]].contains(g), f"{p['code']}: outside district {p['district']}")
        on = [code for code, r in R.items() if utm(r["geom"]).buffer(30).covers(utm(g))]
        check(bool(on), f"{p['code']}: not within 30 m of a single reach")
        print(f"  route {p['code']} {p['name']}: {length_m(g) / 1000:.2f} km along {', '.join(on)}")

    # ------------------------------------------------------------------ chiefs
    chiefs = json.loads((HERE / "chiefs.json").read_text(encoding="utf-8"))
    current: dict[tuple, list] = {}
    for i, c in enumerate(chiefs):
        target = c.get("reach") or c.get("waterbody")
        ok = ("reach" in c) != ("waterbody" in c) and (target in R or target in water)
        check(ok, f"chiefs[{i}]: bad target {c}")
        check(
            bool(c.get("name")) and c.get("role") in ("chief", "eco_prosecutor") and c.get("level") in LEVELS,
            f"chiefs[{i}]: {c}",
        )
        start = date.fromisoformat(c["start"])
        end = date.fromisoformat(c["end"]) if c.get("end") else None
        check(end is None or end >= start, f"chiefs[{i}]: ends before it starts")
        c["_start"], c["_end"] = start, end
        if end is None:
            current.setdefault((target, c["role"]), []).append(c)
    check(all(len(v) == 1 for v in current.values()), "more than one serving person per target and role")
    for code, f in R.items():
        now = current.get((code, "chief"), [])
        check(len(now) == 1 and now[0]["level"] == f["properties"]["level"], f"{code}: no current chief at its level")
        if now and "chief" in f["properties"]:
            check(now[0]["name"] == f["properties"]["chief"], f"{code}: chief property differs from chiefs.json")
    handovers = [
        (a, b)
        for a in chiefs
        for b in chiefs
        if a is not b
        and a.get("reach", a.get("waterbody")) == b.get("reach", b.get("waterbody"))
        and a["role"] == b["role"]
        and a["_end"] is not None
        and b["_start"] == a["_end"] + timedelta(days=1)
    ]
    check(len(handovers) >= 1, "no historical change of chief")
    eco = [
        c
        for c in chiefs
        if c["role"] == "eco_prosecutor" and c.get("reach") in R and R[c["reach"]]["properties"]["river"] == "綦江"
    ]
    check(len(eco) >= 2, "fewer than 2 eco-prosecutors on the 綦江 main stream")
    check(any("waterbody" in c for c in chiefs), "no water-body chief")
    print(f"chiefs.json: {len(chiefs)} assignments, {len(handovers)} handover(s), {len(eco)} eco-prosecutor(s) on 綦江")

    # ------------------------------------------------------------------ test points (README table)
    readme = (HERE / "README.md").read_text(encoding="utf-8")
    for code, pts in POINTS_ON.items():
        for pt in pts:
            gap = utm(R[code]["geom"]).distance(utm(Point(pt)))
            check(gap < 0.01, f"test point {pt} is {gap:.3f} m off {code}")
            check(f"{pt[0]}, {pt[1]}" in readme, f"test point {pt} not in README.md")
    for pt in POINTS_ON[CROSS]:
        inside = [c for c in DISTRICTS if D[c].contains(Point(pt))]
        check(len(inside) == 1, f"cross test point {pt} in {inside}")
    far = Point(FAR_POINT)
    nearest = min(utm(g).distance(utm(far)) for g in all_lines + [f["geom"] for f in water.values()])
    check(D["500110"].contains(far) and nearest > 1000, f"far point {FAR_POINT}: {nearest:.0f} m from a reach")
    out = Point(OUTSIDE_POINT)
    check(D[CITY].contains(out) and not any(D[c].intersects(out) for c in DISTRICTS), f"outside point {OUTSIDE_POINT}")
    for pt in (FAR_POINT, OUTSIDE_POINT):
        check(f"{pt[0]}, {pt[1]}" in readme, f"test point {pt} not in README.md")
    print(f"  far point {FAR_POINT}: {nearest / 1000:.1f} km from the nearest reach or water body")

    print()
    print(f"reaches by level: {levels}; total length {sum(f['length'] for f in R.values()) / 1000:.1f} km")
    if failures:
        print(f"{len(failures)} check(s) FAILED")
        raise SystemExit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
