// The map around me: the district's reaches coloured by chief level (cross-district ones cased in black),
// water bodies, planned routes and my finished patrols; a tap on a reach opens its 公示牌.
import L from "leaflet";

import { get } from "../shared/api.js";
import { h } from "../shared/dom.js";
import { t } from "../shared/i18n.js";
import { LEVEL_COLOURS, LEVELS } from "./words.js";

const renderer = L.canvas({ tolerance: 10 }); // a finger is wider than a 3 px line

/** Every feature of a paginated GeoJSON list (`{results: FeatureCollection, next}`). */
export async function featuresOf(path) {
  const features = [];
  let next = path + (path.includes("?") ? "&" : "?") + "limit=1000";
  while (next) {
    const page = await get(next.startsWith("http") ? new URL(next).pathname + new URL(next).search : next);
    const collection = page.results || page;
    features.push(...(collection.features || []));
    next = page.next || null;
  }
  return { type: "FeatureCollection", features };
}

export function mapCreate(element, onReach) {
  const map = L.map(element, { zoomControl: true, preferCanvas: true, renderer }).setView([29.03, 106.65], 11);
  map.attributionControl.setPrefix(false);
  const layers = {
    districts: L.geoJSON(null, {
      renderer,
      interactive: false,
      style: { color: "#555", weight: 1.5, dashArray: "6 4", fillColor: "#f4f1ea", fillOpacity: 0.6 },
    }).addTo(map),
    water: L.geoJSON(null, {
      renderer,
      style: { color: "#08519c", weight: 1.5, fillColor: "#6baed6", fillOpacity: 0.7 },
      onEachFeature: (feature, layer) => layer.on("click", () => onReach(feature, "waterbodies")),
    }).addTo(map),
    cross: L.geoJSON(null, { renderer, interactive: false, style: { color: "#000", weight: 9, opacity: 0.85 } }).addTo(map),
    reaches: L.geoJSON(null, {
      renderer,
      style: (feature) => ({ color: LEVEL_COLOURS[feature.properties.level] || "#0b4f8a", weight: 5, opacity: 1 }),
      onEachFeature: (feature, layer) => layer.on("click", () => onReach(feature, "reaches")),
    }).addTo(map),
    routes: L.geoJSON(null, { renderer, interactive: false, style: { color: "#111", weight: 3, dashArray: "2 8" } }).addTo(map),
    mine: L.geoJSON(null, { renderer, interactive: false, style: { color: "#c2185b", weight: 4, opacity: 0.9 } }).addTo(map),
  };
  legend().addTo(map);
  return { map, layers };
}

function legend() {
  const control = L.control({ position: "bottomleft" });
  control.onAdd = () => {
    const swatch = (colour, dashed) =>
      h("span", { class: "swatch" + (dashed ? " dashed" : ""), style: `border-color:${colour}`, "aria-hidden": "true" });
    return h(
      "details",
      { class: "legend" },
      h("summary", {}, t("图例")),
      h(
        "ul",
        {},
        Object.entries(LEVELS).map(([level, words]) => h("li", {}, swatch(LEVEL_COLOURS[level]), words())),
        h("li", {}, h("span", { class: "swatch cross", "aria-hidden": "true" }), t("跨区划河段（黑边）")),
        h("li", {}, h("span", { class: "swatch water", "aria-hidden": "true" }), t("水库湖泊")),
        h("li", {}, swatch("#111", true), t("年度巡河路线")),
        h("li", {}, swatch("#c2185b"), t("我的巡查轨迹")),
        h("li", {}, swatch("#d50000"), t("本次巡查轨迹")),
      ),
    );
  };
  return control;
}

/** Load the district's layers into the map; each may fail on its own (offline without a cached copy). */
export async function layersLoad({ map, layers }, district) {
  const query = district ? `?district=${encodeURIComponent(district)}` : "";
  const failures = [];
  const load = async (path, apply) => {
    try {
      apply(await featuresOf(path));
    } catch (error) {
      failures.push(error.message);
    }
  };
  await Promise.all([
    load("districts/?level=district", (fc) => layers.districts.clearLayers().addData(fc)),
    load(`reaches/${query}`, (fc) => {
      layers.reaches.clearLayers().addData(fc);
      layers.cross.clearLayers().addData({
        type: "FeatureCollection",
        features: fc.features.filter((f) => f.properties.is_cross_district),
      });
    }),
    load(`waterbodies/${query}`, (fc) => layers.water.clearLayers().addData(fc)),
    load(`routes/${query}`, (fc) => layers.routes.clearLayers().addData(fc)),
    load("patrols/tracks/", (fc) => layers.mine.clearLayers().addData(fc)),
  ]);
  layers.cross.bringToBack();
  layers.districts.bringToBack();
  const bounds = layers.reaches.getBounds();
  return { failures, bounds: bounds.isValid() ? bounds : null };
}
