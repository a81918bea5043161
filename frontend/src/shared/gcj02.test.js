import assert from "node:assert/strict";
import { test } from "node:test";

import { gcj02ToWgs84, wgs84ToGcj02 } from "./gcj02.js";
import { metresBetween } from "./retry.js";

const metres = ([lon1, lat1], [lon2, lat2]) => metresBetween({ lon: lon1, lat: lat1 }, { lon: lon2, lat: lat2 });

// (WGS84 lon, lat) → (GCJ-02 lon, lat): the test vectors published with googollee/eviltransform
// (its tests.py: Shanghai, Shenzhen, Beijing), as in tests/gis_data/test_coords.py.
const PUBLISHED = [
  [[121.5272106, 31.1774276], [121.531541859215, 31.17530398364597]],
  [[113.912316, 22.543847], [113.9171764808363, 22.540796131694766]],
  [[116.377817, 39.911954], [116.38404722455657, 39.91334545536069]],
];

// 綦江 (the demo area): 古南街道, a vertex of R500110-006 and of the 界河 R500110-019, with their GCJ-02
// positions as gis_data.coords.wgs84_to_gcj02 computes them (the Python side of the same formula).
const QIJIANG = [
  [[106.6515, 29.0281], [106.65524997836773, 29.02492041829278]],
  [[106.597499, 29.093546], [106.60116018437013, 29.09036457161951]],
  [[107.008213, 29.011643], [107.01239424068696, 29.008611643640773]],
];

test("a known point lands within 5 m of its published GCJ-02 reference (in fact within a centimetre)", () => {
  for (const [wgs, gcj] of PUBLISHED) {
    assert.ok(metres(wgs84ToGcj02(...wgs), gcj) < 0.01, `${wgs} → ${wgs84ToGcj02(...wgs)}, not ${gcj}`);
    assert.ok(metres(gcj02ToWgs84(...gcj), wgs) < 0.5);
  }
});

test("the page's conversion agrees with the server's in the demo area", () => {
  for (const [wgs, gcj] of QIJIANG) {
    assert.ok(metres(wgs84ToGcj02(...wgs), gcj) < 0.001);
    // The shift is real: a few hundred metres, what the basemap must be moved by.
    assert.ok(metres(wgs, gcj) > 300 && metres(wgs, gcj) < 700, metres(wgs, gcj));
  }
});

test("outside China nothing moves", () => {
  assert.deepEqual(wgs84ToGcj02(2.3522, 48.8566), [2.3522, 48.8566]);
  assert.deepEqual(gcj02ToWgs84(-74.006, 40.7128), [-74.006, 40.7128]);
});
