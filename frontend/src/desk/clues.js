// The desk page /clues/ (issue 9 §1): the clue review map, its filters, layers and the list beside it.
// Clues come as vector tiles clustered on the server (/tiles/clues/, /tiles/clue-heat/) and as the API's
// paged list (/api/v1/clues/?bbox=…): never every clue at once. The page's state lives in its URL.
import "leaflet/dist/leaflet.css";
import "./desk.css";
import "./clues/clues.css";

import L from "leaflet";

import { get } from "../shared/api.js";
import { fill, h } from "../shared/dom.js";
import { t } from "../shared/i18n.js";
import { deskMap } from "./basemap.js";
import { drawClues, drawHeat, drawReaches, markerRadius } from "./clues/draw.js";
import { filtersRender } from "./clues/filters.js";
import { listRender } from "./clues/list.js";
import { PAGE_SIZE, filterParams, searchFromState, stateFromSearch } from "./clues/state.js";
import { VectorCanvasLayer } from "./clues/vectortiles.js";
import { STATUSES, statusLabel } from "./clues/words.js";
import { deskStart } from "./shell.js";

deskStart();

const elements = {
  filters: document.getElementById("clue-filters"),
  map: document.getElementById("clue-map"),
  list: document.getElementById("clue-list"),
  notice: document.getElementById("notice"),
};
let state = stateFromSearch(location.search);
let districts = [];
let listRequest = 0;
let lastPage = null;

const PANES = { districts: 410, reaches: 420, tracks: 430, heat: 440, clues: 450, highlight: 460 };

function say(message) {
  elements.notice.hidden = false;
  elements.notice.textContent = message;
}

const map = deskMap(elements.map, { notice: elements.notice });
window.clueMap = map; // the browser tests place the view with it, as the patrol app's patrolMap
for (const [name, zIndex] of Object.entries(PANES)) map.createPane(name).style.zIndex = String(zIndex);
map.getPane("districts").style.pointerEvents = "none";

// The clue layers come as 512-pixel tiles of the zoom above: a quarter of the requests for a view,
// each with the same cells on the screen (64 px clusters, 8 px heat cells).
const tileQuery = () => {
  const params = filterParams(state);
  params.set("size", "512");
  return `?${params}`;
};
// A 512-pixel grid tile (x, y) of map zoom z is the vector tile (x, y) of zoom z - 1.
const BIG_TILES = { tileSize: 512, minZoom: 1 };
const layers = {
  districts: L.geoJSON(null, {
    pane: "districts",
    interactive: false,
    style: { color: "#34495e", weight: 2, dashArray: "6 4", fill: false },
  }),
  reaches: new VectorCanvasLayer({
    pane: "reaches",
    url: (c) => `/tiles/reaches/${c.z}/${c.x}/${c.y}.pbf`,
    draw: drawReaches,
  }),
  tracks: L.geoJSON(null, { pane: "tracks", interactive: false, style: { color: "#1e8449", weight: 3, opacity: 0.8 } }),
  heat: new VectorCanvasLayer({
    pane: "heat",
    ...BIG_TILES,
    url: (c) => `/tiles/clue-heat/${c.z - 1}/${c.x}/${c.y}.pbf${tileQuery()}`,
    draw: drawHeat,
    opacity: 0.85,
  }),
  clues: new VectorCanvasLayer({
    pane: "clues",
    ...BIG_TILES,
    url: (c) => `/tiles/clues/${c.z - 1}/${c.x}/${c.y}.pbf${tileQuery()}`,
    draw: drawClues,
  }),
};
const highlight = L.circleMarker([0, 0], { pane: "highlight", radius: 13, color: "#f1c40f", weight: 4, fill: false, interactive: false });
let tracksLoaded = false;

for (const name of ["heat", "clues", "reaches"]) {
  layers[name].on("tileerror", () => say(t("部分图块加载失败，请稍后重试。")));
}

// --- the legend: statuses with their colours and how many clues of each the map shows -------------
const Legend = L.Control.extend({
  options: { position: "bottomleft" },
  onAdd() {
    this.box = L.DomUtil.create("div", "clue-legend");
    L.DomEvent.disableClickPropagation(this.box);
    L.DomEvent.disableScrollPropagation(this.box);
    return this.box;
  },
  update(counts, total, shown) {
    this.box.hidden = !shown;
    fill(
      this.box,
      h("details", { open: window.innerWidth > 700 },
        h("summary", {}, h("strong", { id: "map-count", "data-count": total }, t("地图上 %(count)s 条", { count: total }))),
        h("ul", {}, STATUSES.map(([code, label, colour]) =>
          h("li", { "data-status": code, "data-count": counts[code] || 0, class: counts[code] ? "" : "none" },
            h("span", { class: "swatch", style: `background:${colour}` }), label(), " ", h("b", {}, counts[code] || 0)),
        )),
      ),
    );
  },
});
const legend = new Legend().addTo(map);

/** Count, per status, the clues of the clusters whose place is in view (each cell counted by its own tile). */
function legendUpdate() {
  const counts = {};
  let total = 0;
  if (state.layers.includes("clues")) {
    for (const { feature } of layers.clues.featuresInView("clues")) {
      const p = feature.properties;
      if (!p.own) continue;
      total += p.count;
      if (p.count === 1) counts[p.status] = (counts[p.status] || 0) + 1;
      else for (const [code] of STATUSES) if (p[code]) counts[code] = (counts[code] || 0) + p[code];
    }
  }
  legend.update(counts, total, state.layers.includes("clues"));
}
layers.clues.on("load", () => {
  legendUpdate();
  markReady("tiles");
});

// --- time until usable (issue 9: measured in headless Chromium with 10^5 clues) --------------------
const ready = new Set();
function markReady(part) {
  ready.add(part);
  if (ready.has("tiles") && ready.has("list") && !performance.getEntriesByName("clue-map-usable").length) {
    performance.mark("clue-map-usable");
    document.body.dataset.usable = "1";
  }
}

// --- the URL, the layers, the list ---------------------------------------------------------------
function urlUpdate() {
  const search = searchFromState(state);
  history.replaceState(null, "", search ? `?${search}` : location.pathname);
}

async function tracksLoad() {
  if (tracksLoaded) return;
  tracksLoaded = true;
  try {
    const page = await get("patrols/tracks/?mine=false&limit=500");
    layers.tracks.addData(page.results ?? page);
  } catch (error) {
    tracksLoaded = false;
    say(error.message);
  }
}

function layersApply() {
  for (const [name, layer] of Object.entries(layers)) {
    const on = state.layers.includes(name);
    if (on && !map.hasLayer(layer)) layer.addTo(map);
    if (!on && map.hasLayer(layer)) map.removeLayer(layer);
  }
  if (state.layers.includes("tracks")) tracksLoad();
  if (!state.layers.includes("clues")) {
    legendUpdate();
    markReady("tiles"); // nothing to wait for
  }
}

function bboxParam() {
  const b = map.getBounds();
  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
  return [clamp(b.getWest(), -180, 180), clamp(b.getSouth(), -90, 90), clamp(b.getEast(), -180, 180), clamp(b.getNorth(), -90, 90)]
    .map((v) => v.toFixed(6))
    .join(",");
}

async function listLoad() {
  const mine = ++listRequest;
  const params = filterParams(state);
  params.set("bbox", bboxParam());
  params.set("ordering", state.ordering);
  params.set("limit", String(PAGE_SIZE));
  params.set("offset", String((state.page - 1) * PAGE_SIZE));
  listDraw({ loading: true });
  try {
    const page = await get(`clues/?${params}`);
    if (mine !== listRequest) return;
    lastPage = page;
    listDraw({});
    markReady("list");
  } catch (error) {
    if (mine !== listRequest) return;
    listDraw({ error: error.message });
  }
}

function listDraw({ loading = false, error = null }) {
  listRender(elements.list, { page: lastPage, state, loading, error }, {
    onSort: (ordering) => stateChange({ ...state, ordering, page: 1 }, { tiles: false }),
    onPage: (page) => stateChange({ ...state, page }, { tiles: false }),
    onHover: (clue) => {
      if (!clue) return highlight.remove();
      const [lng, lat] = clue.location.coordinates;
      highlight.setLatLng([lat, lng]).addTo(map);
    },
  });
}

function stateChange(next, { tiles = true } = {}) {
  const filtersChanged = filterParams(next).toString() !== filterParams(state).toString();
  state = next;
  urlUpdate();
  filtersRender(elements.filters, state, districts, (changed) => stateChange(changed));
  layersApply();
  if (tiles && filtersChanged) {
    layers.clues.redraw();
    layers.heat.redraw();
  }
  listLoad();
}

let moveTimer = null;
/** Load the list a moment after the last move (a drag or a zoom fires several). */
function listSoon() {
  clearTimeout(moveTimer);
  moveTimer = setTimeout(listLoad, 150);
}
map.on("moveend", () => {
  const centre = map.getCenter();
  const view = { zoom: map.getZoom(), lat: centre.lat, lng: centre.lng };
  const old = state.view;
  // The view the URL asked for (a shared link) keeps its page of the list; any other move starts at 1.
  const same = old && old.zoom === view.zoom && Math.abs(old.lat - view.lat) < 1e-5 && Math.abs(old.lng - view.lng) < 1e-5;
  state = { ...state, view, page: same ? state.page : 1 };
  urlUpdate();
  listSoon();
  if (!state.layers.includes("clues")) return;
  legendUpdate();
});

// --- clicks on markers: a clue opens its popup, a cluster zooms in ---------------------------------
const hitRadius = (feature) => markerRadius(feature.properties.count) + 3;
map.on("click", (event) => {
  if (!state.layers.includes("clues")) return;
  const hit = layers.clues.featureAt(event.latlng, "clues", hitRadius);
  if (!hit) return;
  const p = hit.feature.properties;
  if (p.count > 1) {
    map.setView(hit.latlng, Math.min(map.getMaxZoom(), map.getZoom() + 2));
    return;
  }
  L.popup({ offset: [0, -6] })
    .setLatLng(hit.latlng)
    .setContent(
      h("div", { class: "clue-popup" },
        h("a", { href: `/clues/${p.id}/` }, p.code),
        h("div", {}, statusLabel(p.status)),
      ),
    )
    .openOn(map);
});
let hovering = false;
map.on("mousemove", (event) => {
  if (hovering || !state.layers.includes("clues")) return;
  hovering = true;
  requestAnimationFrame(() => {
    hovering = false;
    const hit = layers.clues.featureAt(event.latlng, "clues", hitRadius);
    elements.map.classList.toggle("over-marker", Boolean(hit));
  });
});

// --- start ---------------------------------------------------------------------------------------
async function start() {
  const [me, areas] = await Promise.all([
    get("me/").catch(() => null),
    get("districts/?level=district&limit=1000").catch((error) => {
      say(error.message);
      return null;
    }),
  ]);
  const features = areas ? (areas.results ?? areas).features ?? [] : [];
  districts = features.map((f) => [f.properties.code, f.properties.name]).sort((a, b) => a[0].localeCompare(b[0]));
  layers.districts.addData(features);
  if (state.view) {
    map.setView([state.view.lat, state.view.lng], state.view.zoom);
  } else if (me?.home_district?.bbox) {
    const [w, s, e, n] = me.home_district.bbox;
    map.fitBounds([[s, w], [n, e]]);
  }
  filtersRender(elements.filters, state, districts, (changed) => stateChange(changed));
  layersApply();
  listSoon();
}

start();
