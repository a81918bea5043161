// What every part of the patrol app shares: its state, the page's regions, the map and where I am.
import L from "leaflet";

import { fill, h } from "../shared/dom.js";
import { t } from "../shared/i18n.js";
import { boardOpen } from "./board.js";
import { mapCreate } from "./map.js";

export const $ = (selector) => document.querySelector(selector);
export const sheet = $("#sheet");
export const app = {
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

export function banner(message, kind = "info") {
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

export const { map, layers } = mapCreate($("#map"), (feature, kind) => boardOpen(feature, kind));
window.patrolMap = map;
app.layers = layers;
// The sheet below the map grows and shrinks with its content: keep Leaflet's idea of the map's size true.
new ResizeObserver(() => map.invalidateSize()).observe($("#map"));
// Wide and see-through: the reach walked along stays visible under this patrol's track.
export const live = L.polyline([], { color: "#d50000", weight: 10, opacity: 0.6, interactive: false }).addTo(map);
export const here = L.circleMarker([0, 0], { radius: 9, color: "#fff", weight: 3, fillColor: "#1565c0", fillOpacity: 1 });

const LocateControl = L.Control.extend({
  options: { position: "topright" },
  onAdd() {
    return h("button", { type: "button", class: "locate", id: "locate", title: t("定位我"), onclick: () => locate(true) }, "◎ " + t("定位我"));
  },
});
new LocateControl().addTo(map);

export function positionShow(fix, centre) {
  app.position = fix;
  here.setLatLng([fix.lat, fix.lon]);
  if (!map.hasLayer(here)) here.addTo(map);
  if (centre) map.setView([fix.lat, fix.lon], Math.max(map.getZoom(), 15));
  // While patrolling, the map follows me when I walk off its edge (not at every fix: the user may be looking around).
  else if (app.view === "running" && !map.getBounds().pad(-0.1).contains(here.getLatLng())) map.panTo(here.getLatLng());
}

export function geolocationWords(error) {
  if (error.code === 1) return t("未获得定位权限：请在浏览器或系统设置中允许本网站使用位置，然后点“定位我”。");
  if (error.code === 3) return t("定位超时：请到开阔处再试。");
  return t("暂时无法定位（%(message)s）。", { message: error.message || "" });
}

export function locate(centre) {
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

export function fixOf(position) {
  return {
    lon: position.coords.longitude,
    lat: position.coords.latitude,
    accuracy_m: position.coords.accuracy ?? null,
    at: position.timestamp || Date.now(), // the device's time of the fix
  };
}

