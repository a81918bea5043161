import assert from "node:assert/strict";
import { test } from "node:test";

import { BACKOFF_MAX_MS, backoffMs, batchesOf, metresBetween } from "./retry.js";

test("the wait doubles from one second and stops at a minute", () => {
  const middle = () => 0.5; // no jitter
  assert.deepEqual([0, 1, 2, 3, 4].map((n) => backoffMs(n, middle)), [0, 1000, 2000, 4000, 8000]);
  assert.equal(backoffMs(30, middle), BACKOFF_MAX_MS);
  assert.ok(backoffMs(1, () => 0) >= 800 && backoffMs(1, () => 1) <= 1200);
});

test("points already in a batch keep it; the others are cut in order", () => {
  const points = [
    { seq: 3 }, { seq: 1, batch_id: "old" }, { seq: 2 }, { seq: 5 }, { seq: 4 },
  ];
  let n = 0;
  const batches = batchesOf(points, () => `b${++n}`, 2);
  assert.deepEqual(batches, [{ batchId: "b1", seqs: [2, 3] }, { batchId: "b2", seqs: [4, 5] }]);
  assert.deepEqual(batchesOf([{ seq: 1, batch_id: "x" }], () => "y"), []);
});

test("a degree of latitude is about 111 km", () => {
  const metres = metresBetween({ lon: 106.6, lat: 29 }, { lon: 106.6, lat: 30 });
  assert.ok(Math.abs(metres - 111_195) < 50, metres);
});
