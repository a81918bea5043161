// The patrol app (/patrol/): map around me, a patrol from start to finish, findings with photos, all offline first.
// shell.js holds the shared state and the map; patrol.js, finding.js, board.js and queueview.js the views.
import "leaflet/dist/leaflet.css";
import "./patrol.css";

import { fetched, get } from "../shared/api.js";
import { bytes, fill, h } from "../shared/dom.js";
import { t } from "../shared/i18n.js";
import * as queue from "../shared/queue.js";
import { layersLoad } from "./map.js";
import { finishedShow, idleShow, runningShow } from "./patrol.js";
import { queueShow } from "./queueview.js";
import { $, app, banner, layers, locate, map } from "./shell.js";

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
  if (!window.isSecureContext) {
    banner(t("离线功能需要 HTTPS：请通过 https:// 地址打开本应用。"), "error");
    return;
  }
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
