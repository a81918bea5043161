// When to try again, and how track points are cut into batches: plain functions (node --test retry.test.js).

export const BACKOFF_FIRST_MS = 1000;
export const BACKOFF_MAX_MS = 60_000;
export const POINTS_PER_BATCH = 500; // well under the server's TRACK_MAX_POINTS_PER_BATCH

/** The wait before attempt number `failures + 1`: doubling from 1 s to at most a minute, ±20 % jitter. */
export function backoffMs(failures, random = Math.random) {
  if (failures <= 0) return 0;
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** (failures - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}

/**
 * Cut the points not yet in a batch into new batches, in recording order, each of at most `size`.
 * Return [{batchId, seqs}] for the caller to store before anything is sent: a batch, once named,
 * is resent with the same id until the server confirms it, so a retry never adds a point twice.
 */
export function batchesOf(points, newId, size = POINTS_PER_BATCH) {
  const loose = points.filter((p) => !p.batch_id).sort((a, b) => a.seq - b.seq);
  const batches = [];
  for (let i = 0; i < loose.length; i += size) {
    batches.push({ batchId: newId(), seqs: loose.slice(i, i + size).map((p) => p.seq) });
  }
  return batches;
}

/** Metres between two WGS84 positions (haversine): the distance walked, shown while patrolling. */
export function metresBetween(a, b) {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371008.8 * Math.asin(Math.sqrt(h));
}
