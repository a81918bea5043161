// The patrol app (/patrol/): map around me, a patrol from start to finish, findings with photos, all offline first.
import "leaflet/dist/leaflet.css";
import "./patrol.css";

import L from "leaflet";

import { ApiError, fetched, get, post, uuid } from "../shared/api.js";
import { bytes, duration, fill, h, metres } from "../shared/dom.js";
import { t, tn } from "../shared/i18n.js";
import * as queue from "../shared/queue.js";
import { metresBetween } from "../shared/retry.js";
import { layersLoad, mapCreate } from "./map.js";
import { CATEGORIES, KINDS, LEVELS, categoryLabel, opWords, reasonWords } from "./words.js";

const $ = (selector) => document.querySelector(selector);
const sheet = $("#sheet");
const app = {
  me: null,
  district: null,
  focus: [],
  colleagues: [],
  boards: new Map(), // "reaches:R500110-001" → board, prefetched for offline use
  position: null, // the last fix {lon, lat, accuracy_m}
  patrol: null, // the running patrol (IndexedDB record)
  track: [], // its points, for the line and the distance
  watchId: null,
  ticker: null,
  view: "idle",
};
window.patrolApp = app; // for the browser tests and the curious

// --- messages -------------------------------------------------------------------------------------------

function banner(message, kind = "info") {
  const el = $("#banner");
  if (!message) {
    el.hidden = true;
    return;
  }
  el.hidden = false;
  el.className = `banner ${kind}`;
  fill(el, h("span", {}, message), h("button", { type: "button", class: "link", onclick: () => banner(null) }, t("关闭")));
}

// --- the map --------------------------------------------------------------------------------------------

const { map, layers } = mapCreate($("#map"), (feature, kind) => boardOpen(feature, kind));
window.patrolMap = map;
// The sheet below the map grows and shrinks with its content: keep Leaflet's idea of the map's size true.
new ResizeObserver(() => map.invalidateSize({ pan: false })).observe($("#map"));
// Wide and see-through: the reach walked along stays visible under this patrol's track.
const live = L.polyline([], { color: "#d50000", weight: 10, opacity: 0.6, interactive: false }).addTo(map);
const here = L.circleMarker([0, 0], { radius: 9, color: "#fff", weight: 3, fillColor: "#1565c0", fillOpacity: 1 });

const LocateControl = L.Control.extend({
  options: { position: "topright" },
  onAdd() {
    return h("button", { type: "button", class: "locate", id: "locate", title: t("定位我"), onclick: () => locate(true) }, "◎ " + t("定位我"));
  },
});
new LocateControl().addTo(map);

function positionShow(fix, centre) {
  app.position = fix;
  here.setLatLng([fix.lat, fix.lon]);
  if (!map.hasLayer(here)) here.addTo(map);
  if (centre) map.setView([fix.lat, fix.lon], Math.max(map.getZoom(), 15));
}

function geolocationWords(error) {
  if (error.code === 1) return t("未获得定位权限：请在浏览器或系统设置中允许本网站使用位置，然后点“定位我”。");
  if (error.code === 3) return t("定位超时：请到开阔处再试。");
  return t("暂时无法定位（%(message)s）。", { message: error.message || "" });
}

function locate(centre) {
  if (!navigator.geolocation) {
    banner(t("此设备不支持定位。"), "error");
    return;
  }
  navigator.geolocation.getCurrentPosition(
    (position) => positionShow(fixOf(position), centre),
    (error) => banner(geolocationWords(error), "error"),
    { enableHighAccuracy: true, timeout: 20000, maximumAge: 10000 },
  );
}

function fixOf(position) {
  return {
    lon: position.coords.longitude,
    lat: position.coords.latitude,
    accuracy_m: position.coords.accuracy ?? null,
    at: position.timestamp || Date.now(), // the device's time of the fix
  };
}

// --- 公示牌 -----------------------------------------------------------------------------------------------

async function boardOpen(feature, kind) {
  const code = feature.properties.code;
  const panel = $("#board");
  panel.hidden = false;
  fill(panel, h("p", {}, t("正在加载…")));
  let board = app.boards.get(`${kind}:${code}`);
  if (!board) {
    try {
      board = await get(`${kind}/${encodeURIComponent(code)}/board/`);
    } catch (error) {
      board = { name: feature.properties.name, code, error: error.message, river: { name: feature.properties.river } };
    }
  }
  const people = (list, title) =>
    h(
      "div",
      { class: "people" },
      h("h3", {}, title),
      list?.length
        ? list.map((p) =>
            h("p", {}, h("strong", {}, p.name), " · ", p.level_label || LEVELS[p.level]?.() || "", p.office ? ` · ${p.office.name}` : ""),
          )
        : h("p", { class: "muted" }, t("暂无")),
    );
  fill(
    panel,
    h(
      "div",
      { class: "board", role: "dialog", "aria-modal": "true", "aria-labelledby": "board-title" },
      h("p", { class: "board-head" }, t("河长公示牌")),
      h("h2", { id: "board-title" }, board.river?.name ? `${board.river.name} · ${board.name}` : board.name),
      h("p", { class: "muted" }, `${board.code}`, board.is_cross_district ? ` · ${t("跨区划河段")}` : "", board.level_label ? ` · ${board.level_label}` : ""),
      board.districts?.length ? h("p", {}, t("所在区县："), board.districts.map((d) => d.name).join("、")) : null,
      board.error ? h("p", { class: "error" }, board.error) : null,
      people(board.chiefs, t("河长")),
      people(board.eco_prosecutors, t("生态检察官")),
      h("p", {}, t("最近巡查："), board.last_patrol_date || t("尚无记录")),
      h("button", { type: "button", class: "big", id: "board-close", onclick: boardClose }, t("关闭")),
    ),
  );
  $("#board-close").focus();
}

function boardClose() {
  $("#board").hidden = true;
  sheet.focus();
}

// --- the queue, always in view ----------------------------------------------------------------------------

async function queueShow() {
  const state = await queue.queueState();
  const chip = $("#queue-chip");
  const offline = !navigator.onLine;
  chip.dataset.waiting = state.waiting;
  chip.classList.toggle("offline", offline);
  chip.classList.toggle("error", Boolean(state.lastError));
  chip.textContent =
    (offline ? t("离线") + " · " : "") +
    (state.waiting ? tn("%(count)s 条待上传", "%(count)s 条待上传", state.waiting) : t("已全部上传"));
  const waitingPoints = $("#points-waiting");
  if (waitingPoints) waitingPoints.textContent = String(state.points);
  const panel = $("#queue-panel");
  if (panel.hidden) return;
  const uploads = [...queue.progress.entries()];
  fill(
    panel,
    h(
      "div",
      { class: "queue", role: "dialog", "aria-labelledby": "queue-title" },
      h("h2", { id: "queue-title" }, t("待上传")),
      h("p", {}, tn("%(count)s 个轨迹点待上传", "%(count)s 个轨迹点待上传", state.points)),
      h(
        "ol",
        { class: "ops" },
        state.ops.map((op) =>
          h(
            "li",
            { class: op.failed ? "failed" : "" },
            opWords(op),
            op.failed ? h("p", { class: "error" }, op.failed) : null,
            op.failed ? h("button", { type: "button", onclick: () => queue.retryOp(op.seq) }, t("重试")) : null,
          ),
        ),
      ),
      uploads.map(([id, fraction]) =>
        h("p", {}, t("照片上传中"), " ", h("progress", { max: 1, value: fraction.toFixed(3), "data-photo": id }), ` ${Math.round(fraction * 100)}%`),
      ),
      state.lastError
        ? h("p", { class: "error", id: "last-error" }, t("上次错误："), state.lastError.message,
            state.retryAt > Date.now() ? ` ${t("（%(s)s 秒后重试）", { s: Math.ceil((state.retryAt - Date.now()) / 1000) })}` : "")
        : h("p", { class: "muted" }, t("没有错误")),
      offline ? h("p", { class: "muted" }, t("离线：数据已保存在本机，联网后自动上传。")) : null,
      h("div", { class: "row" },
        h("button", { type: "button", class: "big", onclick: () => queue.flushNow() }, t("立即上传")),
        h("button", { type: "button", class: "big secondary", onclick: queuePanelToggle }, t("关闭")),
      ),
    ),
  );
}

function queuePanelToggle() {
  const panel = $("#queue-panel");
  panel.hidden = !panel.hidden;
  $("#queue-chip").setAttribute("aria-expanded", String(!panel.hidden));
  queueShow();
}

$("#queue-chip").addEventListener("click", queuePanelToggle);
let queueShowPending = false;
queue.onChange(() => {
  if (queueShowPending) return;
  queueShowPending = true;
  requestAnimationFrame(() => {
    queueShowPending = false;
    queueShow();
    if (app.view === "idle") findingsShow();
  });
});
window.addEventListener("online", () => {
  queueShow();
  queue.flushNow();
});
window.addEventListener("offline", queueShow);
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  if (!$("#board").hidden) boardClose();
  else if (!$("#queue-panel").hidden) queuePanelToggle();
});

// --- idle: start a patrol, or add a finding without one -------------------------------------------------

function idleShow() {
  app.view = "idle";
  fill(
    sheet,
    h("h1", {}, t("巡河")),
    h("p", { class: "muted" }, app.me ? `${app.me.name} · ${app.me.agencies.map((a) => a.name).join("、")}` : document.body.dataset.username),
    h("div", { class: "row" },
      h("button", { type: "button", class: "big primary", id: "start-open", onclick: startFormShow }, t("开始巡查")),
      h("button", { type: "button", class: "big", id: "finding-open", onclick: () => findingFormShow() }, t("记录发现")),
    ),
    h("div", { id: "findings" }),
  );
  findingsShow();
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
                        `${c.name} · ${c.agency.name}`),
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

function runningShow(patrol, points) {
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

function watchStart() {
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
}

// The screen locked or the app went to the background: what was recorded is on the device already;
// on return, send it and make sure the watch is still on.
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") {
    if (app.view === "running") watchStart();
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

async function finishedShow(patrolUuid) {
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

// --- findings -----------------------------------------------------------------------------------------------

function findingFormShow() {
  const previous = app.view;
  app.view = "finding";
  const start = app.position || (() => { const c = map.getCenter(); return { lon: c.lng, lat: c.lat }; })();
  const pin = L.marker([start.lat, start.lon], {
    draggable: true,
    keyboard: true,
    title: t("拖动到发现的位置"),
    icon: L.divIcon({ className: "pin", html: "<span></span>", iconSize: [36, 36], iconAnchor: [18, 36] }),
  }).addTo(map);
  app.pin = pin;
  map.setView([start.lat, start.lon], Math.max(map.getZoom(), 15));
  const files = [];
  const focusCodes = app.focus.map((item) => item.category);
  const fileList = h("ul", { id: "photo-list", class: "files" });
  const preview = h("div", { id: "routing", class: "routing", "aria-live": "polite" });
  const addFiles = (input) => {
    for (const file of input.files) files.push(file);
    input.value = "";
    fill(fileList, files.map((f) => h("li", {}, `${f.name} · ${bytes(f.size)}`)));
  };
  const close = () => {
    map.removeLayer(pin);
    app.pin = app.pinMove = null;
    if (previous === "running" && app.patrol) runningShow(app.patrol, app.track);
    else idleShow();
  };
  let asked = 0;
  const routingShow = async () => {
    const { lat, lng } = pin.getLatLng();
    const ask = ++asked; // only the answer for where the marker is now is shown
    fill(preview, h("p", { class: "muted" }, t("正在查询移送去向…")));
    try {
      const routing = await get(`routing/?lon=${lng.toFixed(6)}&lat=${lat.toFixed(6)}`);
      if (ask !== asked) return;
      preview.dataset.reason = routing.reason;
      fill(
        preview,
        (routing.warnings || []).map((w) => h("p", { class: "warn", dataset: { warning: w.code } }, w.message)),
        h("h3", {}, t("线索将移送至")),
        h("p", { class: "to" }, h("strong", {}, routing.procuratorate.name), ` (${routing.procuratorate.code})`),
        h("p", {}, reasonWords(routing.reason)),
        routing.reach ? h("p", {}, t("河段："), routing.reach.name, routing.reach.is_cross_district ? ` · ${t("跨区划河段")}` : "") : null,
        routing.district ? h("p", {}, t("区县："), routing.district.name) : null,
        routing.copies?.length ? h("p", { id: "copies" }, t("抄送："), routing.copies.join("、")) : null,
      );
    } catch (error) {
      if (ask !== asked) return;
      delete preview.dataset.reason;
      fill(preview, h("p", { class: "muted" }, error.status === 0 ? t("离线：联网后可预览移送去向，发现照常保存。") : error.message));
    }
  };
  pin.on("dragend", routingShow);
  // Where a drag would put it (keyboard users and the browser tests): move, show, preview.
  app.pinMove = (lon, lat) => {
    pin.setLatLng([lat, lon]);
    map.panTo([lat, lon], { animate: false });
    routingShow();
  };
  fill(
    sheet,
    h("h1", {}, t("记录发现")),
    h(
      "form",
      { id: "finding-form" },
      h("p", { class: "muted" }, t("位置：我的位置，可拖动地图上的标记调整。")),
      h("div", { class: "row" },
        h("button", { type: "button", class: "secondary", onclick: () => app.position && app.pinMove(app.position.lon, app.position.lat) }, t("用我的位置")),
        // Keyboard users move the map with the arrow keys, then drop the marker at its centre.
        h("button", { type: "button", class: "secondary", onclick: () => { const c = map.getCenter(); app.pinMove(c.lng, c.lat); } }, t("标记移到地图中心")),
      ),
      preview,
      h("label", { for: "finding-category" }, t("类别")),
      h("select", { id: "finding-category", name: "category", required: true },
        focusCodes.length
          ? h("optgroup", { label: t("今年巡查重点") }, focusCodes.map((code) => h("option", { value: code }, categoryLabel(code))))
          : null,
        h("optgroup", { label: t("全部类别") },
          CATEGORIES.filter(([code]) => !focusCodes.includes(code)).map(([code, words]) => h("option", { value: code }, words())),
        ),
      ),
      h("label", { for: "finding-description" }, t("简要说明")),
      h("textarea", { id: "finding-description", name: "description", rows: 3, maxlength: 5000, required: true }),
      h("div", { class: "row" },
        h("label", { class: "big file", for: "photo-camera" }, t("拍照")),
        h("input", { id: "photo-camera", type: "file", accept: "image/*", capture: "environment", class: "visually-hidden", onchange: (e) => addFiles(e.target) }),
        h("label", { class: "big file", for: "photo-gallery" }, t("相册")),
        h("input", { id: "photo-gallery", type: "file", accept: "image/*", multiple: true, class: "visually-hidden", onchange: (e) => addFiles(e.target) }),
      ),
      fileList,
      h("p", { id: "finding-error", class: "error", role: "alert" }),
      h("div", { class: "row" },
        h("button", { type: "submit", class: "big primary", id: "finding-save" }, t("保存")),
        h("button", { type: "button", class: "big secondary", onclick: close }, t("取消")),
      ),
    ),
  );
  $("#finding-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const description = $("#finding-description").value.trim();
    if (!description) {
      $("#finding-error").textContent = t("请填写简要说明。");
      return;
    }
    const { lat, lng } = pin.getLatLng();
    await queue.findingAdd(
      {
        client_uuid: uuid(),
        patrol: app.view === "finding" && previous === "running" ? app.patrol?.client_uuid ?? null : null,
        category: $("#finding-category").value,
        description,
        lon: Number(lng.toFixed(7)),
        lat: Number(lat.toFixed(7)),
        found_at: new Date().toISOString(),
      },
      files,
    );
    queue.flushNow();
    banner(navigator.onLine ? t("发现已保存，正在上传。") : t("发现已保存在本机，联网后自动上传。"));
    close();
  });
  routingShow();
}

async function findingsShow() {
  const el = $("#findings");
  if (!el) return;
  const findings = (await queue.findingsAll()).sort((a, b) => Date.parse(b.found_at) - Date.parse(a.found_at)).slice(0, 10);
  if (!findings.length) {
    fill(el);
    return;
  }
  const mayMakeClue = app.me?.may?.make_clue_from_finding !== false;
  fill(
    el,
    h("h2", {}, t("本机记录的发现")),
    h("ul", { class: "findings" },
      findings.map((f) =>
        h("li", { dataset: { finding: f.client_uuid, sent: String(Boolean(f.server_id)) } },
          h("strong", {}, categoryLabel(f.category)), " ", f.description,
          h("br"),
          h("span", { class: "muted" }, f.server_id ? t("已上传") : t("待上传"), " · ", tn("%(count)s 张照片", "%(count)s 张照片", f.photos.length)),
          f.clue
            ? h("p", { class: "ok" }, t("已转为线索 %(code)s", { code: f.clue.code }))
            : f.server_id && mayMakeClue
              ? h("button", { type: "button", class: "secondary", dataset: { makeClue: f.client_uuid }, onclick: () => clueMake(f) }, t("转为线索"))
              : null,
        ),
      ),
    ),
  );
}

async function clueMake(finding) {
  try {
    const clue = await post(`findings/${finding.server_id}/clue/`, {});
    const database = await queue.db();
    await database.put("findings", { ...finding, clue: { id: clue.id, code: clue.code } });
    banner(t("已转为线索 %(code)s，移送至 %(to)s", { code: clue.code, to: clue.routing?.procuratorate?.name || "" }));
    findingsShow();
  } catch (error) {
    banner(error.message, "error");
  }
}

// --- start-up -----------------------------------------------------------------------------------------------

/** Once the worker controls the page, have it keep everything this visit loaded; mark the page ready offline. */
async function offlineKeep(loaded) {
  const controlled = Boolean(navigator.serviceWorker.controller);
  await loaded;
  if (!controlled) {
    await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) {
      await new Promise((resolve) => navigator.serviceWorker.addEventListener("controllerchange", resolve, { once: true }));
    }
  }
  const urls = [...fetched, ...[...document.scripts].map((s) => s.src).filter((src) => src.includes("/patrol/jsi18n/"))];
  navigator.serviceWorker.addEventListener("message", (event) => {
    if (event.data?.type === "cached") document.body.dataset.offlineReady = String(!event.data.failed.length);
  });
  navigator.serviceWorker.controller.postMessage({ type: "cache", urls: controlled ? [] : urls });
}

async function serviceWorkerRegister(loaded) {
  if (!("serviceWorker" in navigator)) return;
  offlineKeep(loaded);
  const registration = await navigator.serviceWorker.register("/patrol/sw.js", { scope: "/patrol/" });
  let reloading = false;
  const offer = (worker) => {
    const el = $("#banner");
    el.hidden = false;
    el.className = "banner info";
    fill(el, h("span", {}, t("新版本已就绪。")),
      h("button", { type: "button", class: "link", id: "update", onclick: () => { reloading = true; worker.postMessage("skipWaiting"); } }, t("更新并重新加载")));
  };
  if (registration.waiting && navigator.serviceWorker.controller) offer(registration.waiting);
  registration.addEventListener("updatefound", () => {
    const worker = registration.installing;
    worker?.addEventListener("statechange", () => {
      if (worker.state === "installed" && navigator.serviceWorker.controller) offer(worker);
    });
  });
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    if (reloading) window.location.reload();
  });
}

async function storageCheck() {
  const persisted = await queue.persistStorage().catch(() => false);
  document.body.dataset.persisted = String(persisted);
  const estimate = await queue.storageEstimate().catch(() => null);
  if (estimate?.nearlyFull) {
    banner(t("设备存储空间将满（已用 %(used)s / %(quota)s）：请尽快联网上传，并清理照片。", { used: bytes(estimate.usage), quota: bytes(estimate.quota) }), "error");
  }
}

async function start() {
  let loadedNow;
  const loaded = new Promise((resolve) => { loadedNow = resolve; });
  serviceWorkerRegister(loaded).catch(() => banner(t("离线功能不可用（无法注册 Service Worker）。"), "error"));
  storageCheck();
  queueShow();
  try {
    app.me = await get("me/");
  } catch {
    app.me = null; // offline without a cached copy, or an older server: the app still records
  }
  app.district = app.me?.home_district?.code || (await queue.metaGet("district")) || null;
  if (app.district) await queue.metaSet("district", app.district);
  const year = new Date().getFullYear();
  const [layersLoaded] = await Promise.all([
    layersLoad({ map, layers }, app.district),
    get("patrols/colleagues/").then((list) => { app.colleagues = list; }).catch(() => {}),
    app.district
      ? get(`focus/?district=${app.district}&year=${year}`).then((f) => { app.focus = f.current?.items || []; }).catch(() => {})
      : null,
    app.district
      ? get(`boards/?district=${app.district}`).then((all) => {
          for (const board of all.reaches || []) app.boards.set(`reaches:${board.code}`, board);
          for (const board of all.water_bodies || []) app.boards.set(`waterbodies:${board.code}`, board);
        }).catch(() => {})
      : null,
  ]);
  if (layersLoaded.bounds && !app.position) map.fitBounds(layersLoaded.bounds, { padding: [10, 10] });
  if (layersLoaded.failures.length && !navigator.onLine) banner(t("离线：部分地图图层尚未缓存。"));
  const current = await queue.patrolGet(await queue.metaGet("current"));
  const last = await queue.metaGet("last");
  if (current?.status === "running") {
    runningShow(current, await queue.pointsOf(current.client_uuid));
    const points = app.track;
    if (points.length) map.setView([points.at(-1).lat, points.at(-1).lon], 15);
  } else if (last) {
    finishedShow(last);
  } else {
    idleShow();
  }
  locate(app.view !== "running");
  queue.flush();
  document.body.dataset.loaded = "true";
  loadedNow();
}

start();
