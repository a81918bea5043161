// The offline queue: the device is the source of truth until the server confirms (ODK Collect's rule).
// Everything is written to IndexedDB first (the `idb` wrapper), then sent in order by `flush()`:
//   ops     what to send, in the order it happened: start a patrol, a finding, a photo, finish, …
//   points  track points, sent in batches with a batch id fixed before the first attempt
//   blobs   the photos' original bytes, untouched
// Each op carries the client id the server deduplicates on (client_uuid, client_id, batch_id), so a
// retry after a lost answer is never a duplicate. An op is deleted only after the server's 2xx.
import { openDB } from "idb";

import { ApiError, post, upload, uuid } from "./api.js";
import { t } from "./i18n.js";
import { backoffMs, batchesOf } from "./retry.js";

const DB_NAME = "river-patrol";
let dbPromise = null;

export function db() {
  dbPromise ??= openDB(DB_NAME, 1, {
    upgrade(database) {
      database.createObjectStore("meta");
      database.createObjectStore("patrols", { keyPath: "client_uuid" });
      database.createObjectStore("findings", { keyPath: "client_uuid" });
      database.createObjectStore("blobs", { keyPath: "client_id" });
      database.createObjectStore("ops", { keyPath: "seq", autoIncrement: true });
      const points = database.createObjectStore("points", { keyPath: "seq", autoIncrement: true });
      points.createIndex("patrol", "patrol");
    },
  });
  return dbPromise;
}

export async function metaGet(key) {
  return (await db()).get("meta", key);
}

export async function metaSet(key, value) {
  return (await db()).put("meta", value, key);
}

// --- writing: everything lands on the device first ------------------------------------------------

/** Store a new patrol and queue its start. */
export async function patrolAdd(patrol) {
  const database = await db();
  const tx = database.transaction(["patrols", "ops", "meta"], "readwrite");
  tx.objectStore("patrols").put({ ...patrol, server_id: null, status: "running" });
  tx.objectStore("ops").add({ type: "start", patrol: patrol.client_uuid, created_at: Date.now() });
  tx.objectStore("meta").put(patrol.client_uuid, "current");
  await tx.done;
  changed();
}

/** Keep one GPS fix of a patrol (unsent until a batch of it is confirmed). */
export async function pointAdd(patrolUuid, fix) {
  const database = await db();
  const seq = await database.add("points", { patrol: patrolUuid, ...fix, batch_id: null, sent: false });
  changed();
  return seq;
}

/** Store a finding with its photos' bytes, and queue it and each photo. */
export async function findingAdd(finding, files) {
  const database = await db();
  const photos = files.map((file) => ({
    client_id: uuid(),
    finding: finding.client_uuid,
    blob: file,
    name: file.name || "photo.jpg",
    size: file.size,
    status: "waiting",
    server_id: null,
  }));
  const tx = database.transaction(["findings", "blobs", "ops"], "readwrite");
  tx.objectStore("findings").put({ ...finding, server_id: null, photos: photos.map((p) => p.client_id) });
  tx.objectStore("ops").add({ type: "finding", finding: finding.client_uuid, created_at: Date.now() });
  for (const photo of photos) {
    tx.objectStore("blobs").put(photo);
    tx.objectStore("ops").add({ type: "photo", photo: photo.client_id, finding: finding.client_uuid, created_at: Date.now() });
  }
  await tx.done;
  changed();
}

/** Mark the patrol finished on the device and queue its finish (after its last points). */
export async function patrolFinishAdd(patrolUuid, endedAt) {
  const database = await db();
  const tx = database.transaction(["patrols", "ops", "meta"], "readwrite");
  const patrol = await tx.objectStore("patrols").get(patrolUuid);
  patrol.status = "finished";
  patrol.ended_at = endedAt;
  tx.objectStore("patrols").put(patrol);
  tx.objectStore("ops").add({ type: "finish", patrol: patrolUuid, created_at: Date.now() });
  tx.objectStore("meta").put(patrolUuid, "last");
  tx.objectStore("meta").delete("current");
  await tx.done;
  changed();
}

// --- reading ----------------------------------------------------------------------------------------

export async function patrolGet(patrolUuid) {
  return patrolUuid ? (await db()).get("patrols", patrolUuid) : undefined;
}

export async function pointsOf(patrolUuid) {
  return (await db()).getAllFromIndex("points", "patrol", patrolUuid);
}

export async function findingsAll() {
  return (await db()).getAll("findings");
}

/** What is waiting: the ops and the unsent points, with the last error and the photo uploads. */
export async function queueState() {
  const database = await db();
  const ops = await database.getAll("ops");
  let points = 0;
  let pointsRefused = 0;
  let cursor = await database.transaction("points").store.openCursor();
  while (cursor) {
    if (cursor.value.failed) pointsRefused += 1;
    else if (!cursor.value.sent) points += 1;
    cursor = await cursor.continue();
  }
  return {
    ops,
    points,
    pointsRefused,
    waiting: ops.length + points + pointsRefused,
    lastError: await metaGet("lastError"),
    retryAt: sender.retryAt,
  };
}

// --- sending -------------------------------------------------------------------------------------------

const listeners = new Set();
export const progress = new Map(); // photo client_id → 0…1 while it uploads

/** Call `listener()` whenever the queue changes (a write, a send, a failure). */
export function onChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function changed() {
  for (const listener of listeners) listener();
}

const sender = { running: null, failures: 0, retryAt: 0, timer: null };

/** Send what waits, in order, until the queue is empty or something fails; never two senders at once. */
export function flush() {
  sender.running ??= sendAll().finally(() => {
    sender.running = null;
    changed();
  });
  return sender.running;
}

/** Forget the backoff and send now (the network came back, or the user asked). */
export function flushNow() {
  sender.retryAt = 0;
  clearTimeout(sender.timer);
  return flush();
}

async function sendAll() {
  if (Date.now() < sender.retryAt) return;
  const database = await db();
  try {
    for (;;) {
      await sendPoints(database);
      const op = await nextOp(database);
      if (!op) break;
      try {
        await sendOp(database, op);
      } catch (error) {
        if (error instanceof SkipOp) continue; // refused: kept with its words, the next op goes
        throw error;
      }
      await database.delete("ops", op.seq); // confirmed: the server answered 2xx
      changed();
    }
    sender.failures = 0;
    const refused = (await database.getAll("ops")).filter((op) => op.failed);
    const pointsRefused = (await database.getAll("points")).some((p) => p.failed);
    if (!refused.length && !pointsRefused) await metaSet("lastError", null);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    sender.failures += 1;
    const wait = backoffMs(sender.failures);
    sender.retryAt = Date.now() + wait;
    await metaSet("lastError", { message: error.message, status: error.status, at: Date.now() });
    clearTimeout(sender.timer);
    sender.timer = setTimeout(flush, wait);
    sender.timer?.unref?.(); // node's tests (queue.test.js): a pending retry must not keep the process alive
  }
}

/** The first op that may go now: failed ones (refused by the server) wait for the user. */
async function nextOp(database) {
  let cursor = await database.transaction("ops").store.openCursor();
  while (cursor) {
    if (!cursor.value.failed) return cursor.value;
    cursor = await cursor.continue();
  }
  return null;
}

/** Send the unsent points of every patrol the server knows, batch by batch, oldest first. */
async function sendPoints(database) {
  for (const patrol of await database.getAll("patrols")) {
    if (!patrol.server_id) continue;
    // Points the server refused (a 4xx: a clock far off, say) stay on the device, apart, with its words.
    const points = (await database.getAllFromIndex("points", "patrol", patrol.client_uuid)).filter((p) => !p.sent && !p.failed);
    if (!points.length) continue;
    // Name the new batches on the device before sending, so a retry resends the same batch id.
    const fresh = batchesOf(points, uuid);
    if (fresh.length) {
      const tx = database.transaction("points", "readwrite");
      for (const { batchId, seqs } of fresh) {
        for (const seq of seqs) {
          const point = await tx.store.get(seq);
          point.batch_id = batchId;
          await tx.store.put(point);
        }
      }
      await tx.done;
    }
    const named = (await database.getAllFromIndex("points", "patrol", patrol.client_uuid)).filter((p) => !p.sent && !p.failed);
    const batches = new Map();
    for (const point of named.sort((a, b) => a.seq - b.seq)) {
      if (!batches.has(point.batch_id)) batches.set(point.batch_id, []);
      batches.get(point.batch_id).push(point);
    }
    for (const [batchId, batch] of batches) {
      let outcome = { sent: true };
      try {
        await post(`patrols/${patrol.server_id}/points/`, {
          batch_id: batchId,
          points: batch.map((p) => ({ lon: p.lon, lat: p.lat, recorded_at: p.recorded_at, accuracy_m: p.accuracy_m })),
        });
      } catch (error) {
        if (!(error instanceof ApiError) || error.retryable) throw error;
        outcome = { failed: error.message };
        await metaSet("lastError", { message: error.message, status: error.status, at: Date.now() });
      }
      const tx = database.transaction("points", "readwrite");
      for (const point of batch) await tx.store.put({ ...point, ...outcome });
      await tx.done;
      changed();
    }
  }
}

/** Mark an op refused by the server (a 4xx): it stays, with the server's words, until the user acts. */
async function refuse(database, op, error) {
  await database.put("ops", { ...op, failed: error.message, status: error.status });
  await metaSet("lastError", { message: error.message, status: error.status, at: Date.now() });
  changed();
}

async function sendOp(database, op) {
  try {
    if (op.type === "start") await sendStart(database, op);
    else if (op.type === "finding") await sendFinding(database, op);
    else if (op.type === "photo") await sendPhoto(database, op);
    else if (op.type === "finish") await sendFinish(database, op);
  } catch (error) {
    if (error instanceof ApiError && !error.retryable) {
      await refuse(database, op, error);
      throw new SkipOp();
    }
    throw error;
  }
}

class SkipOp extends Error {}

async function sendStart(database, op) {
  const patrol = await database.get("patrols", op.patrol);
  const body = await post("patrols/", {
    client_uuid: patrol.client_uuid,
    kind: patrol.kind,
    district: patrol.district,
    agency: patrol.agency || undefined,
    participants: patrol.participants,
    started_at: patrol.started_at,
    title: patrol.title || "",
  });
  await database.put("patrols", { ...(await database.get("patrols", op.patrol)), server_id: body.id });
}

function dependency(message) {
  return new ApiError(409, message);
}

async function sendFinding(database, op) {
  const finding = await database.get("findings", op.finding);
  let patrolId = null;
  if (finding.patrol) {
    const patrol = await database.get("patrols", finding.patrol);
    patrolId = patrol?.server_id ?? null;
    if (patrol && !patrolId) throw dependency(t("所属巡查尚未上传成功，请先处理它的错误"));
  }
  const body = await post("findings/", {
    client_uuid: finding.client_uuid,
    category: finding.category,
    description: finding.description,
    location: finding.lon == null ? null : { type: "Point", coordinates: [finding.lon, finding.lat] },
    found_at: finding.found_at,
    patrol: patrolId,
  });
  await database.put("findings", { ...(await database.get("findings", op.finding)), server_id: body.id });
}

async function sendPhoto(database, op) {
  const finding = await database.get("findings", op.finding);
  if (!finding?.server_id) throw dependency(t("所属发现尚未上传成功，请先处理它的错误"));
  const photo = await database.get("blobs", op.photo);
  const form = new FormData();
  form.append("client_id", photo.client_id);
  form.append("file", photo.blob, photo.name); // the original bytes, untouched
  progress.set(photo.client_id, 0);
  changed();
  try {
    const body = await upload(`findings/${finding.server_id}/photos/`, form, (fraction) => {
      progress.set(photo.client_id, fraction);
      changed();
    });
    // Confirmed: the server holds the original and its SHA-256; the device may let the bytes go.
    await database.put("blobs", { ...photo, blob: null, status: "sent", server_id: body.id, sha256: body.sha256 });
  } finally {
    progress.delete(photo.client_id);
  }
}

async function sendFinish(database, op) {
  const patrol = await database.get("patrols", op.patrol);
  if (!patrol.server_id) throw dependency(t("巡查尚未开始上传成功，请先处理它的错误"));
  const body = await post(`patrols/${patrol.server_id}/finish/`, { ended_at: patrol.ended_at });
  await database.put("patrols", { ...(await database.get("patrols", op.patrol)), server: body });
}

/** Try a refused op again (the user fixed what was wrong, or the server changed its mind). */
export async function retryOp(seq) {
  const database = await db();
  const op = await database.get("ops", seq);
  if (op) {
    delete op.failed;
    await database.put("ops", op);
  }
  return flushNow();
}

/** Drop a refused start (the server said why; the user will start again): its patrol goes too. */
export async function dropRefusedStart(patrolUuid) {
  const database = await db();
  const tx = database.transaction(["ops", "patrols", "meta", "points"], "readwrite");
  let cursor = await tx.objectStore("ops").openCursor();
  while (cursor) {
    if (cursor.value.patrol === patrolUuid) await cursor.delete();
    cursor = await cursor.continue();
  }
  tx.objectStore("patrols").delete(patrolUuid);
  if ((await tx.objectStore("meta").get("current")) === patrolUuid) tx.objectStore("meta").delete("current");
  await tx.done;
  changed();
}

/** Ask for storage that the browser does not evict; return whether it was granted. */
export async function persistStorage() {
  if (!navigator.storage?.persist) return false;
  if (await navigator.storage.persisted()) return true;
  return navigator.storage.persist();
}

/** Return {usage, quota, nearlyFull} of this origin's storage (nearly full: over 90 % or under 50 MB left). */
export async function storageEstimate() {
  if (!navigator.storage?.estimate) return null;
  const { usage = 0, quota = 0 } = await navigator.storage.estimate();
  const left = quota - usage;
  return { usage, quota, nearlyFull: quota > 0 && (usage / quota > 0.9 || left < 50 * 1024 * 1024) };
}
