// The desk maps' background: one Leaflet map factory for every desk page, so that the basemap choice
// (DESIGN §2; issue 9 §6) and the notice when its tiles fail are the same everywhere.
import L from "leaflet";

import { t } from "../shared/i18n.js";

/** A Leaflet map in `element` with the configured basemap; `notice` (an element) says when tiles fail. */
export function deskMap(element, { center = [29.0, 106.65], zoom = 10, notice = null } = {}) {
  const map = L.map(element, { center, zoom, preferCanvas: true });
  const base = L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", {
    maxZoom: 19,
    attribution: "© OpenStreetMap",
  });
  base.on("tileerror", () => {
    if (notice) {
      notice.hidden = false;
      notice.textContent = t("底图加载失败，数据图层仍可使用。");
    }
  });
  base.addTo(map);
  return map;
}
