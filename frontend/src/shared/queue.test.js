// The offline queue against a fake server, with IndexedDB from fake-indexeddb: order, client ids, retries.
import "fake-indexeddb/auto";

import assert from "node:assert/strict";
import { beforeEach, test } from "node:test";

globalThis.document = { cookie: "csrftoken=test-token", querySelector: () => null };

const queue = await import("./queue.js");

/** A server that keeps what it is sent by client id, like the API, and can fail on demand. */
const server = {
  log: [],
  patrols: new Map(),
  batches: new Map(),
  findings: new Map(),
  // [url part, fault] in order, each spent on the next request to a matching URL: "offline" (no answer),
  // "500", "lost" (the server keeps it, but its answer is a 500).
  faults: [],
  reset() {
    this.log = [];
    this.faults = [];
  },
};

function answer(status, body) {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

globalThis.fetch = async (url, options) => {
  const fault = server.faults[0] && url.includes(server.faults[0][0]) ? server.faults.shift()[1] : null;
  if (fault === "offline") throw new TypeError("Failed to fetch");
  if (fault === "500") return answer(500, {});
  const body = JSON.parse(options.body || "{}");
  assert.equal(options.headers["X-CSRFToken"], "test-token");
  let response;
  if (url === "/api/v1/patrols/") {
    const fresh = !server.patrols.has(body.client_uuid); // the same client_uuid again: the same patrol
    const id = server.patrols.get(body.client_uuid)?.id ?? server.patrols.size + 1;
    server.patrols.set(body.client_uuid, { id, ...body });
    if (fresh) server.log.push(`start ${id}`);
    response = answer(201, { id });
  } else if (url.endsWith("/points/")) {
    if (body.points.some((p) => p.recorded_at.startsWith("1999"))) return answer(400, { points: ["时间超出范围 / out of range"] });
    const fresh = !server.batches.has(body.batch_id);
    server.batches.set(body.batch_id, body.points);
    if (fresh) server.log.push(`points ${body.points.length}`);
    response = answer(fresh ? 201 : 200, { batch_id: body.batch_id, points: body.points.length });
  } else if (url === "/api/v1/findings/") {
    if (body.category === "unknown") return answer(400, { category: ["“unknown” 不是合法选项 / not a valid choice"] });
    const fresh = !server.findings.has(body.client_uuid);
    const id = server.findings.get(body.client_uuid)?.id ?? server.findings.size + 1;
    server.findings.set(body.client_uuid, { id, ...body });
    if (fresh) server.log.push(`finding ${id}`);
    response = answer(201, { id });
  } else if (url.endsWith("/finish/")) {
    server.log.push("finish");
    response = answer(200, { id: 1, status: "finished" });
  } else {
    return answer(404, { detail: "Not found." });
  }
  return fault === "lost" ? answer(500, {}) : response;
};

/** Send until nothing waits (skipping the backoff's waits), at most `rounds` times. */
async function drain(rounds = 20) {
  for (let i = 0; i < rounds; i++) {
    await queue.flushNow();
    const state = await queue.queueState();
    if (!state.ops.some((op) => !op.failed) && state.points === 0) return state;
  }
  return queue.queueState();
}

function fix(i) {
  return { lon: 106.6 + i / 1e4, lat: 29 + i / 1e4, accuracy_m: 5, recorded_at: new Date(Date.UTC(2026, 4, 1, 1, 0, i)).toISOString() };
}

beforeEach(() => server.reset());

test("a patrol, its points and a finding arrive once and in order through failures and lost answers", async () => {
  const patrol = "00000000-0000-4000-8000-000000000001";
  await queue.patrolAdd({ client_uuid: patrol, kind: "joint", district: "500110", participants: [], started_at: fix(0).recorded_at });
  for (let i = 1; i <= 5; i++) await queue.pointAdd(patrol, fix(i));
  await queue.findingAdd({ client_uuid: "00000000-0000-4000-8000-0000000000f1", patrol, category: "other", description: "x", lon: 106.6, lat: 29, found_at: fix(6).recorded_at }, []);
  await queue.patrolFinishAdd(patrol, fix(7).recorded_at);
  assert.equal((await queue.queueState()).waiting, 3 + 5); // start, finding, finish, and five points

  // No network; then the start is kept but its answer lost; the batch of points too; the finding gets a 500.
  server.faults = [["/patrols/", "offline"], ["/patrols/", "lost"], ["/points/", "lost"], ["/findings/", "500"]];
  const state = await drain();

  assert.equal(state.waiting, 0);
  assert.deepEqual(server.faults, [], "every fault was met");
  assert.equal(server.patrols.size, 1);
  assert.equal(server.findings.size, 1);
  assert.equal(server.batches.size, 1, "the batch resent after a lost answer kept its id");
  assert.deepEqual(server.log, ["start 1", "points 5", "finding 1", "finish"]);
  assert.equal(server.findings.get("00000000-0000-4000-8000-0000000000f1").patrol, 1);
  assert.equal((await queue.pointsOf(patrol)).every((p) => p.sent), true);
});

test("nothing leaves the device before the server confirms it", async () => {
  const finding = "00000000-0000-4000-8000-0000000000f2";
  await queue.findingAdd({ client_uuid: finding, patrol: null, category: "other", description: "offline", lon: 106.6, lat: 29, found_at: fix(1).recorded_at }, []);
  server.faults = [["/findings/", "offline"], ["/findings/", "offline"], ["/findings/", "offline"]];
  for (let i = 0; i < 3; i++) await queue.flushNow();
  let state = await queue.queueState();
  assert.equal(state.waiting, 1);
  assert.match(state.lastError.message, /无法连接服务器/);
  assert.ok(state.retryAt > Date.now(), "the next attempt waits (backoff)");
  state = await drain();
  assert.equal(state.waiting, 0);
  assert.equal(state.lastError, null);
  assert.ok(server.findings.has(finding));
});

test("a refused item stays with the server's words, and the ones after it still go", async () => {
  await queue.findingAdd({ client_uuid: "00000000-0000-4000-8000-0000000000f3", patrol: null, category: "unknown", description: "bad", lon: 106.6, lat: 29, found_at: fix(1).recorded_at }, []);
  await queue.findingAdd({ client_uuid: "00000000-0000-4000-8000-0000000000f4", patrol: null, category: "other", description: "good", lon: 106.6, lat: 29, found_at: fix(2).recorded_at }, []);
  const state = await drain();
  assert.ok(server.findings.has("00000000-0000-4000-8000-0000000000f4"));
  assert.ok(!server.findings.has("00000000-0000-4000-8000-0000000000f3"));
  const refused = state.ops.filter((op) => op.failed);
  assert.equal(refused.length, 1);
  assert.match(refused[0].failed, /not a valid choice/);
  assert.match(state.lastError.message, /not a valid choice/);
});

test("points the server refuses stay apart with its words; the others and the finish still go", async () => {
  const patrol = "00000000-0000-4000-8000-000000000002";
  await queue.patrolAdd({ client_uuid: patrol, kind: "routine", district: "500110", participants: [], started_at: fix(0).recorded_at });
  await queue.pointAdd(patrol, { ...fix(1), recorded_at: "1999-01-01T00:00:00Z" });
  await drain();
  await queue.pointAdd(patrol, fix(2));
  await queue.patrolFinishAdd(patrol, fix(3).recorded_at);
  const state = await drain();
  assert.deepEqual(state.ops.filter((op) => op.patrol === patrol), []);
  assert.equal(state.pointsRefused, 1);
  assert.match(state.lastError.message, /out of range/);
  const points = await queue.pointsOf(patrol);
  assert.deepEqual(points.map((p) => Boolean(p.sent)), [false, true]);
  assert.ok(server.log.includes("finish"));
});
