// The desk maps' background: one Leaflet map factory for every desk page, so that the basemap choice
// (DESIGN §2; issue 9 §6) and the notice when its tiles fail are the same everywhere.
//
// The choice comes from the settings through the page's configuration (frontend/basemaps.py: BASEMAPS,
// TIANDITU_KEY, BASEMAP_DEFAULT): 天地图 vector and imagery, 高德 (its GCJ-02 tiles shifted onto the
// WGS84 data: ../shared/gcj02.js), OpenStreetMap, and a plain background without tiles. A layer switcher
// offers them; the data layers the pages add stay whatever the background does.
import L from "leaflet";

import { gcjTileLayerClass } from "../shared/gcj02.js";
import { t } from "../shared/i18n.js";

const GcjTileLayer = gcjTileLayerClass(L);

// The basemaps' names, by id (frontend/basemaps.py lists the ids).
const NAMES = {
  tianditu_vec: () => t("天地图矢量"),
  tianditu_img: () => t("天地图影像"),
  amap: () => t("高德地图"),
  amap_img: () => t("高德影像"),
  osm: () => "OpenStreetMap",
  blank: () => t("空白底图"),
};

/** A basemap's name in the page's language. */
export function basemapName(id) {
  return (NAMES[id] || (() => id))();
}

// Without a configuration (a page built before it), the plain background: nothing from the internet.
const FALLBACK = [{ id: "blank", layers: [], gcj02: false }];

/** The basemaps the settings offer, from the page's configuration (shell.js's deskConfig reads the same). */
function configured() {
  const node = document.getElementById("desk-config");
  return node ? JSON.parse(node.textContent).basemaps : null;
}

/** The basemap `spec` ({id, layers, gcj02}) as one Leaflet layer (a group of its tile layers). */
export function basemapLayer(spec) {
  const Layer = spec.gcj02 ? GcjTileLayer : L.TileLayer;
  const tiles = spec.layers.map(({ url, ...options }) => new Layer(url, { ...options, className: "basemap-tiles" }));
  const group = L.layerGroup(tiles);
  group.basemapId = spec.id;
  group.tiles = tiles;
  return group;
}

/** Say in #notice (or `notice`) that the basemap's tiles do not load; the data layers stay usable. */
function watchTiles(group, notice, choices) {
  let failed = 0;
  let loaded = 0;
  const name = basemapName(group.basemapId);
  for (const tiles of group.tiles) {
    tiles.on("tileerror", () => {
      failed += 1;
      if (!notice || (loaded && failed < 4)) return; // one stray tile is not a failed basemap
      // The page's own message (a refused step, say) matters more than the background: leave it.
      if (!notice.hidden && notice.textContent && notice.dataset.source !== "basemap") return;
      notice.hidden = false;
      notice.dataset.source = "basemap";
      const words = [t("底图（%(name)s）加载失败（离线或无法访问地图服务），数据图层仍可使用。", { name })];
      if (choices > 1) words.push(t("可在地图右上角换用其他底图。"));
      notice.textContent = words.join("");
    });
    tiles.on("tileload", () => {
      loaded += 1;
    });
  }
}

/** A Leaflet map in `element` with the configured basemaps and a switcher; `notice` (an element,
 * #notice by default) says when the basemap's tiles fail. Options: `basemaps` (else the page's),
 * `overlays` ({name: layer}: the data layers to offer in the same switcher), and Leaflet's map options.
 * The switcher is `map.basemapControl` (add more with `layersControl(map).addOverlay(layer, name)`). */
export function deskMap(
  element,
  { center = [29.0, 106.65], zoom = 10, notice = null, basemaps = null, overlays = {}, ...options } = {},
) {
  notice = notice || document.getElementById("notice");
  const specs = basemaps || configured() || FALLBACK;
  const map = L.map(element, { center, zoom, preferCanvas: true, ...options });
  const layers = specs.map((spec) => basemapLayer(spec));
  for (const group of layers) watchTiles(group, notice, layers.length);
  layers[0].addTo(map);
  element.classList.add(`basemap-${layers[0].basemapId}`);
  map.basemap = layers[0];
  if (layers.length > 1 || Object.keys(overlays).length) {
    const choices = layers.length > 1 ? Object.fromEntries(layers.map((group) => [basemapName(group.basemapId), group])) : {};
    map.basemapControl = L.control.layers(choices, overlays, { position: "topright" }).addTo(map);
  }
  map.on("baselayerchange", ({ layer }) => {
    if (!layer.basemapId) return;
    for (const group of layers) element.classList.remove(`basemap-${group.basemapId}`);
    element.classList.add(`basemap-${layer.basemapId}`);
    map.basemap = layer;
    // A new background gets a fresh chance: the old one's failure is no longer news.
    if (notice && notice.dataset.source === "basemap") {
      notice.hidden = true;
      notice.textContent = "";
      delete notice.dataset.source;
    }
  });
  desk.maps.push(map);
  return map;
}

/** The map's layer switcher (the basemaps'), made if the map has none yet: pages add their overlays to it. */
export function layersControl(map) {
  if (!map.basemapControl) map.basemapControl = L.control.layers({}, {}, { position: "topright" }).addTo(map);
  return map.basemapControl;
}

// The pages' maps and this factory, for the browser tests (as the patrol app's `patrolMap`).
const desk = (globalThis.desk = globalThis.desk || { maps: [] });
desk.map = deskMap;
