// A patrol from start to finish: the start form (kind, participants), the live track, the summary with coverage.
import L from "leaflet";

import { ApiError, get, uuid } from "../shared/api.js";
import { duration, fill, h, metres } from "../shared/dom.js";
import { t } from "../shared/i18n.js";
import * as queue from "../shared/queue.js";
import { metresBetween } from "../shared/retry.js";
import { findingFormShow, findingsShow } from "./finding.js";
import { queueShow } from "./queueview.js";
import { boardOpen } from "./board.js";
import { $, app, banner, fixOf, geolocationWords, layers, live, map, positionShow, sheet } from "./shell.js";
import { KINDS } from "./words.js";

// --- idle: start a patrol, or add a finding without one -------------------------------------------------

export function idleShow() {
  app.view = "idle";
  fill(
    sheet,
    h("h1", {}, t("巡河")),
    h("p", { class: "muted" }, app.me ? `${app.me.name} · ${app.me.agencies.map((a) => a.name).join("、")}` : document.body.dataset.username),
    h("div", { class: "row" },
      h("button", { type: "button", class: "big primary", id: "start-open", onclick: startFormShow, disabled: mayNot("start_patrol") }, t("开始巡查")),
      h("button", { type: "button", class: "big", id: "finding-open", onclick: () => findingFormShow(), disabled: mayNot("record_finding") }, t("记录发现")),
    ),
    mayNot("start_patrol") || mayNot("record_finding") ? h("p", { class: "muted" }, t("您所在单位的角色不能开始巡查或记录发现。")) : null,
    h("div", { id: "findings" }),
    nearbyReaches(),
  );
  findingsShow();
}

/** Whether the server said (GET me/) this user may not do `what`: true disables the button; unknown allows. */
function mayNot(what) {
  return app.me?.may?.[what] === false;
}

/** The reaches nearest to me (or to the map's centre), each opening its 公示牌: the map's taps, by keyboard. */
function nearbyReaches() {
  const list = h("ul", { class: "nearby" });
  const details = h("details", { id: "nearby" }, h("summary", {}, t("附近河段的公示牌")), list);
  details.addEventListener("toggle", () => {
    if (!details.open) return;
    const centre = app.position ? L.latLng(app.position.lat, app.position.lon) : map.getCenter();
    const nearest = layers.reaches
      .getLayers()
      .map((layer) => {
        const vertices = layer.getLatLngs().flat(Infinity);
        return { layer, metres: Math.min(...vertices.map((v) => centre.distanceTo(v))) };
      })
      .sort((a, b) => a.metres - b.metres)
      .slice(0, 5);
    fill(
      list,
      nearest.map(({ layer, metres: distance }) =>
        h("li", {},
          h("button", { type: "button", class: "secondary", onclick: () => boardOpen(layer.feature, "reaches") },
            `${layer.feature.properties.name} · ${metres(distance)}`)),
      ),
    );
  });
  return details;
}

function districtsOfMe() {
  const seen = new Map();
  for (const agency of app.me?.agencies || []) if (agency.district) seen.set(agency.district.code, agency.district);
  if (app.me?.home_district) seen.set(app.me.home_district.code, app.me.home_district);
  return [...seen.values()];
}

function startFormShow() {
  app.view = "start";
  const sides = { river: t("河长办方"), procuratorate: t("检察院方") };
  const others = app.colleagues.filter((c) => !c.me);
  const agencies = app.me?.agencies || [];
  fill(
    sheet,
    h("h1", {}, t("开始巡查")),
    h(
      "form",
      { id: "start-form", onsubmit: startSubmit },
      h("fieldset", {},
        h("legend", {}, t("巡查类型")),
        KINDS.map(([kind, words], i) =>
          h("label", { class: "choice" }, h("input", { type: "radio", name: "kind", value: kind, checked: i === 0 }), words()),
        ),
      ),
      h("label", { for: "start-district" }, t("区县")),
      h("select", { id: "start-district", name: "district" },
        districtsOfMe().map((d) => h("option", { value: d.code, selected: d.code === app.district }, d.name)),
      ),
      agencies.length > 1
        ? [
            h("label", { for: "start-agency" }, t("我代表的单位")),
            h("select", { id: "start-agency", name: "agency" }, agencies.map((a) => h("option", { value: a.code }, `${a.name} · ${a.role_label}`))),
          ]
        : null,
      h("fieldset", { class: "people-pick" },
        h("legend", {}, t("同行人员")),
        others.length
          ? Object.entries(sides).map(([side, title]) => {
              const people = others.filter((c) => c.side === side);
              return people.length
                ? h("div", {}, h("h3", {}, title),
                    people.map((c) =>
                      h("label", { class: "choice" },
                        h("input", { type: "checkbox", name: "participant", value: `${c.username}|${c.agency.code}` }),
                        `${c.name} · ${c.agency.name}${c.role_label ? ` · ${c.role_label}` : ""}`),
                    ))
                : null;
            })
          : h("p", { class: "muted" }, t("没有可选的同事（离线或尚未加载）。")),
      ),
      h("p", { id: "start-error", class: "error", role: "alert" }),
      h("div", { class: "row" },
        h("button", { type: "submit", class: "big primary", id: "start-submit" }, t("开始")),
        h("button", { type: "button", class: "big secondary", onclick: idleShow }, t("取消")),
      ),
    ),
  );
}

async function startSubmit(event) {
  event.preventDefault();
  const form = event.target;
  const data = new FormData(form);
  const participants = data.getAll("participant").map((value) => {
    const [username, agency] = value.split("|");
    return { username, agency };
  });
  const patrol = {
    client_uuid: uuid(),
    kind: data.get("kind"),
    district: data.get("district") || app.district,
    agency: data.get("agency") || app.me?.agencies[0]?.code,
    participants,
    started_at: new Date().toISOString(),
  };
  $("#start-submit").disabled = true;
  await queue.patrolAdd(patrol);
  await queue.flushNow();
  const state = await queue.queueState();
  const refused = state.ops.find((op) => op.type === "start" && op.patrol === patrol.client_uuid && op.failed);
  if (refused) {
    // The server said no (a joint patrol with one side missing, …): nothing was recorded yet.
    await queue.dropRefusedStart(patrol.client_uuid);
    await queue.metaSet("lastError", null);
    $("#start-error").textContent = refused.failed;
    $("#start-submit").disabled = false;
    return;
  }
  const stored = await queue.patrolGet(patrol.client_uuid);
  if (!stored.server_id) banner(t("离线开始：巡查已保存在本机，联网后自动上传。"));
  runningShow(stored, []);
}

// --- a running patrol -------------------------------------------------------------------------------------

function trackDistance(points) {
  let total = 0;
  for (let i = 1; i < points.length; i++) total += metresBetween(points[i - 1], points[i]);
  return total;
}

export function runningShow(patrol, points) {
  app.view = "running";
  app.patrol = patrol;
  app.track = points.map((p) => ({ lon: p.lon, lat: p.lat }));
  // Before the watch starts: a reload's first fix may repeat the last one's time, and must come after it.
  app.lastFixAt = Math.max(app.lastFixAt || 0, ...points.filter((p) => p.recorded_at).map((p) => Date.parse(p.recorded_at)));
  live.setLatLngs(app.track.map((p) => [p.lat, p.lon]));
  fill(
    sheet,
    h("h1", {}, KINDS.find(([k]) => k === patrol.kind)?.[1]() || t("巡查"), " · ", t("进行中")),
    h("dl", { class: "stats" },
      h("div", {}, h("dt", {}, t("用时")), h("dd", { id: "elapsed" }, "00:00")),
      h("div", {}, h("dt", {}, t("距离")), h("dd", { id: "distance" }, metres(trackDistance(app.track)))),
      h("div", {}, h("dt", {}, t("轨迹点")), h("dd", { id: "points-total" }, String(app.track.length))),
      h("div", {}, h("dt", {}, t("待上传点")), h("dd", { id: "points-waiting" }, "0")),
    ),
    h("p", { id: "gps-state", class: "muted" }, t("正在获取位置…")),
    "wakeLock" in navigator
      ? h("label", { class: "choice" },
          h("input", { type: "checkbox", id: "keep-awake", checked: app.keepAwake, onchange: (e) => keepAwake(e.target.checked) }),
          t("保持屏幕常亮（锁屏时浏览器会暂停定位）"))
      : null,
    h("div", { class: "row" },
      h("button", { type: "button", class: "big", id: "finding-open", onclick: () => findingFormShow() }, t("记录发现")),
      h("button", { type: "button", class: "big danger", id: "finish", onclick: finishClick }, t("结束巡查")),
    ),
    h("div", { id: "findings" }),
  );
  findingsShow();
  tick();
  clearInterval(app.ticker);
  app.ticker = setInterval(tick, 1000);
  watchStart();
  queueShow();
}

function tick() {
  const el = $("#elapsed");
  if (el && app.patrol) el.textContent = duration((Date.now() - Date.parse(app.patrol.started_at)) / 1000);
}

let lastSent = 0;
async function fixTake(position) {
  if (!app.patrol) return;
  const fix = fixOf(position);
  // Device time per point; the server treats two points with one time as one, so keep times increasing.
  const previous = app.lastFixAt || 0;
  const at = Math.max(fix.at, previous + 1);
  app.lastFixAt = at;
  await queue.pointAdd(app.patrol.client_uuid, {
    lon: fix.lon,
    lat: fix.lat,
    accuracy_m: fix.accuracy_m,
    recorded_at: new Date(at).toISOString(),
  });
  app.track.push({ lon: fix.lon, lat: fix.lat });
  live.addLatLng([fix.lat, fix.lon]);
  positionShow(fix, app.track.length === 1);
  const gps = $("#gps-state");
  if (gps) gps.textContent = t("定位精度 %(m)s 米", { m: Math.round(fix.accuracy_m ?? 0) });
  const distance = $("#distance");
  if (distance) distance.textContent = metres(trackDistance(app.track));
  const total = $("#points-total");
  if (total) total.textContent = String(app.track.length);
  // Send every 15 s rather than per fix: the radio is the battery's biggest cost.
  if (Date.now() - lastSent > 15000) {
    lastSent = Date.now();
    queue.flush();
  }
}

export function watchStart() {
  if (app.watchId != null || !navigator.geolocation) return;
  app.watchId = navigator.geolocation.watchPosition(
    (position) => fixTake(position),
    (error) => {
      const gps = $("#gps-state");
      if (gps) gps.textContent = geolocationWords(error);
      if (error.code === 1) banner(geolocationWords(error), "error");
    },
    { enableHighAccuracy: true, maximumAge: 0, timeout: 60000 },
  );
}

function watchStop() {
  if (app.watchId != null) navigator.geolocation.clearWatch(app.watchId);
  app.watchId = null;
  clearInterval(app.ticker);
  keepAwake(false);
}

/** Keep the screen on while patrolling, if the user asks: a locked phone's browser stops reporting fixes. */
async function keepAwake(on) {
  app.keepAwake = on;
  if (!on) {
    await app.wakeLock?.release().catch(() => {});
    app.wakeLock = null;
  } else if (!app.wakeLock && document.visibilityState === "visible") {
    app.wakeLock = await navigator.wakeLock.request("screen").catch(() => null);
    app.wakeLock?.addEventListener("release", () => { app.wakeLock = null; });
  }
}

// The screen locked or the app went to the background: what was recorded is on the device already;
// on return, send it and make sure the watch is still on.
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") {
    if (app.view === "running") watchStart();
    if (app.view === "running" && app.keepAwake) keepAwake(true); // the lock is released while hidden
    queue.flush();
  }
});

async function finishClick() {
  if (!window.confirm(t("结束本次巡查？"))) return;
  const patrol = app.patrol;
  watchStop();
  await queue.patrolFinishAdd(patrol.client_uuid, new Date().toISOString());
  app.patrol = null;
  queue.flushNow();
  finishedShow(patrol.client_uuid);
}

// --- finished: length, duration, validity, then the coverage from the worker -------------------------------

export async function finishedShow(patrolUuid) {
  app.view = "finished";
  const local = await queue.patrolGet(patrolUuid);
  const points = await queue.pointsOf(patrolUuid);
  const body = h("div", { id: "summary" });
  fill(
    sheet,
    h("h1", {}, t("巡查已结束")),
    body,
    h("div", { class: "row" },
      h("button", { type: "button", class: "big primary", onclick: async () => { await queue.metaSet("last", null); idleShow(); } }, t("完成")),
    ),
  );
  const show = (server) => {
    const seconds = server ? server.duration_s : (Date.parse(local.ended_at) - Date.parse(local.started_at)) / 1000;
    const length = server ? server.length_m : trackDistance(points);
    const rows = [
      h("div", {}, h("dt", {}, t("长度")), h("dd", { id: "summary-length" }, metres(length))),
      h("div", {}, h("dt", {}, t("用时")), h("dd", { id: "summary-duration" }, duration(seconds))),
    ];
    const parts = [h("dl", { class: "stats" }, rows)];
    if (!server) {
      parts.push(h("p", { class: "muted", id: "summary-state" }, t("等待上传，联网后显示是否计入和覆盖河段。")));
    } else {
      const validity = server.validity;
      const why = [];
      if (validity && server.duration_s < validity.min_duration_s) why.push(t("用时不足 %(min)s 分钟", { min: Math.round(validity.min_duration_s / 60) }));
      if (validity && server.length_m < validity.min_length_m) why.push(t("长度不足 %(m)s 米", { m: Math.round(validity.min_length_m) }));
      parts.push(
        h("p", { id: "summary-valid", class: server.is_valid ? "ok" : "warn", dataset: { valid: String(server.is_valid) } },
          server.is_valid ? t("计入有效巡查") : t("不计入有效巡查"), why.length ? `（${why.join("；")}）` : ""),
      );
      if (!server.coverage_done_at) {
        parts.push(h("p", { class: "muted", id: "summary-state" }, t("正在计算覆盖的河段…")));
      } else if (!server.coverage.length) {
        parts.push(h("p", { id: "coverage", dataset: { done: "true" } }, t("未覆盖任何河段。")));
      } else {
        parts.push(
          h("h2", {}, t("覆盖河段")),
          h("ul", { id: "coverage", class: "coverage", dataset: { done: "true" } },
            server.coverage.map((c) =>
              h("li", { dataset: { reach: c.reach, fraction: String(c.fraction) } },
                h("strong", {}, c.reach_name), ` ${metres(c.covered_m)} · ${Math.round(c.fraction * 1000) / 10}%`),
            ),
          ),
        );
      }
    }
    fill(body, parts);
  };
  show(local.server);
  // Poll until the finish is confirmed and the worker has computed the coverage (bounded, gently).
  for (let i = 0; i < 180 && app.view === "finished"; i++) {
    const current = await queue.patrolGet(patrolUuid);
    if (current?.server) {
      try {
        const server = await get(`patrols/${current.server_id}/`);
        show(server);
        if (server.coverage_done_at) {
          if (server.track) layers.mine.addData({ type: "Feature", geometry: server.track, properties: { id: server.id } });
          return;
        }
      } catch (error) {
        if (!(error instanceof ApiError) || !error.retryable) return;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, i < 30 ? 2000 : 10000));
  }
}

