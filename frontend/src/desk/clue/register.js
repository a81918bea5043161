// Registering a clue from the desk (/clues/new/): a hotline call, a letter, a patrol's report. Pick the point
// on the map, see where routing sends it (GET /api/v1/routing/) and the possible duplicates
// (GET /api/v1/clues/possible-duplicates/) before saving; POST /api/v1/clues/ with a client_uuid, so that
// a double click or a retry after a lost answer registers one clue.
import L from "leaflet";

import { get, post, uuid } from "../../shared/api.js";
import { fill, h, metres } from "../../shared/dom.js";
import { t } from "../../shared/i18n.js";
import { deskMap } from "../basemap.js";
import { CATEGORIES, SOURCES, categoryLabel, reasonWords, statusLabel, when } from "./words.js";

const $ = (selector) => document.querySelector(selector);

/** Start the registration page in #register. */
export async function registerStart() {
  const root = $("#register");
  let me;
  try {
    me = await get("me/");
  } catch (error) {
    fill(root, h("p", { class: "error" }, error.message));
    return;
  }
  if (!me.may?.register_clue) {
    fill(root, h("p", { class: "error", id: "may-not" }, t("您所在单位的角色不能登记线索。")));
    document.body.dataset.loaded = "true";
    return;
  }
  const agencies = [...new Map(me.agencies.map((a) => [a.code, a])).values()];
  const box = me.home_district?.bbox;
  const center = box ? [(box[1] + box[3]) / 2, (box[0] + box[2]) / 2] : undefined;
  fill(
    root,
    h("div", { class: "register-page" },
      h("section", { class: "card" },
        h("h2", {}, t("位置")),
        h("p", { class: "muted" }, t("点击地图选取位置，可拖动标记调整，或直接输入经纬度（WGS84）。")),
        h("div", { id: "pick-map", class: "pick-map", role: "application", "aria-label": t("选取线索位置") }),
        h("div", { class: "coords" },
          h("p", {}, h("label", { for: "reg-lon" }, t("经度")), h("input", { id: "reg-lon", type: "number", step: "0.000001", min: -180, max: 180 })),
          h("p", {}, h("label", { for: "reg-lat" }, t("纬度")), h("input", { id: "reg-lat", type: "number", step: "0.000001", min: -90, max: 90 })),
        ),
      ),
      h("section", { class: "card" },
        h("h2", {}, t("线索内容")),
        h("form", { id: "register-form", novalidate: true },
          agencies.length > 1
            ? h("p", {}, h("label", { for: "reg-agency" }, t("登记单位")),
                h("select", { id: "reg-agency", name: "agency" }, agencies.map((a) => h("option", { value: a.code }, a.name))))
            : null,
          h("p", {}, h("label", { for: "reg-source" }, t("来源")),
            h("select", { id: "reg-source", name: "source" }, SOURCES.map(([code, words]) => h("option", { value: code }, words())))),
          h("p", {}, h("label", { for: "reg-category" }, t("类别")),
            h("select", { id: "reg-category", name: "category" }, CATEGORIES.map(([code, words]) => h("option", { value: code }, words())))),
          h("p", {}, h("label", { for: "reg-description" }, t("描述（来电、来信内容，地点、时间、当事人）")),
            h("textarea", { id: "reg-description", name: "description", rows: 5, maxlength: 5000, required: true })),
          h("p", { class: "check" }, h("input", { id: "reg-confidential", name: "confidential", type: "checkbox" }), " ",
            h("label", { for: "reg-confidential" }, t("涉密（仅承办单位和市检察院可见）"))),
          h("div", { id: "reg-routing", class: "routing", "aria-live": "polite" }, h("p", { class: "muted" }, t("选取位置后显示移送去向。"))),
          h("div", { id: "reg-duplicates", "aria-live": "polite" }),
          h("p", { id: "reg-error", class: "error", role: "alert" }),
          h("button", { type: "submit", id: "reg-save", class: "primary" }, t("登记")),
        ),
      ),
    ),
  );
  const map = deskMap($("#pick-map"), { center, zoom: center ? 11 : 10, notice: document.getElementById("notice") });
  if (box) map.fitBounds([[box[1], box[0]], [box[3], box[2]]]);
  // The reaches in view, to pick a point on (cross-district ones in red); from zoom 10 on, 500 at most.
  const network = L.geoJSON(null, {
    style: (f) => ({ color: f.properties.is_cross_district ? "#c0392b" : "#0b4f8a", weight: 3, opacity: 0.8 }),
    onEachFeature: (f, layer) => layer.bindTooltip(f.properties.name),
  }).addTo(map);
  let networkAsked = 0;
  const networkLoad = async () => {
    const ask = ++networkAsked;
    if (map.getZoom() < 10) {
      network.clearLayers();
      return;
    }
    const b = map.getBounds();
    const box = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(5)).join(",");
    try {
      const reaches = await get(`reaches/?bbox=${box}`);
      if (ask !== networkAsked) return;
      network.clearLayers();
      network.addData(reaches.features || []);
    } catch (error) {
      document.getElementById("notice").hidden = false;
      document.getElementById("notice").textContent = error.message;
    }
  };
  map.on("moveend", networkLoad);
  networkLoad();
  let pin = null;
  let asked = 0;
  let shown = null; // the point and category the preview is for
  // One client_uuid per clue being written: a double click, or a retry after a lost answer, is the same clue.
  let clientUuid = uuid();

  const point = () => {
    const lon = Number($("#reg-lon").value), lat = Number($("#reg-lat").value);
    const given = $("#reg-lon").value !== "" && $("#reg-lat").value !== "";
    return given && Number.isFinite(lon) && Number.isFinite(lat) ? { lon, lat } : null;
  };
  const previewShow = async () => {
    const at = point();
    if (!at) return;
    const category = $("#reg-category").value;
    const key = `${at.lon.toFixed(6)},${at.lat.toFixed(6)},${category}`;
    if (key === shown) return;
    shown = key;
    const ask = ++asked; // only the answer for the point chosen last is shown
    if (!$("#reg-to")) fill($("#reg-routing"), h("p", { class: "muted" }, t("正在查询移送去向…")));
    const query = `lon=${at.lon.toFixed(6)}&lat=${at.lat.toFixed(6)}`;
    const [routing, duplicates] = await Promise.allSettled([
      get(`routing/?${query}`),
      get(`clues/possible-duplicates/?${query}&category=${encodeURIComponent(category)}`),
    ]);
    if (ask !== asked) return;
    const preview = $("#reg-routing");
    if (routing.status === "fulfilled") {
      const r = routing.value;
      preview.dataset.reason = r.reason;
      fill(
        preview,
        (r.warnings || []).map((w) => h("p", { class: "bad", dataset: { warning: w.code } }, w.message)),
        h("h3", {}, t("线索将移送至")),
        h("p", { class: "to" }, h("strong", { id: "reg-to" }, r.procuratorate.name)),
        h("p", {}, reasonWords(r.reason)),
        r.reach ? h("p", {}, t("河段："), r.reach.name, r.reach.is_cross_district ? ` · ${t("跨区划河段")}` : "") : h("p", {}, t("附近没有河段或水体")),
        h("p", {}, t("区县："), r.district ? r.district.name : t("不在任何区县内")),
        r.copies?.length ? h("p", { id: "reg-copies" }, t("抄送："), r.copies.join("、")) : null,
      );
    } else {
      delete preview.dataset.reason;
      shown = null; // asked again on the next change
      fill(preview, h("p", { class: "bad" }, routing.reason.message));
    }
    const list = duplicates.status === "fulfilled" ? duplicates.value : [];
    fill(
      $("#reg-duplicates"),
      list.length
        ? [
            h("h3", { class: "bad" }, t("可能重复：附近已有同类未办结线索")),
            h("ul", { id: "reg-duplicate-list" },
              list.map((d) =>
                h("li", {}, h("a", { href: `/clues/${d.id}/`, target: "_blank", rel: "noopener" }, d.code),
                  ` · ${categoryLabel(d.category)} · ${statusLabel(d.status)} · ${when(d.created_at)} · ${t("相距")} ${metres(d.distance_m)}`),
              ),
            ),
            h("p", { class: "muted" }, t("仍可登记；登记后可在线索页合并重复线索。")),
          ]
        : h("p", { class: "muted", id: "reg-no-duplicates" }, t("附近没有同类的未办结线索。")),
    );
  };
  const pinAt = (lon, lat, { pan = false } = {}) => {
    if (!pin) {
      pin = L.marker([lat, lon], {
        draggable: true,
        keyboard: true,
        title: t("拖动到线索的位置"),
        icon: L.divIcon({ className: "pin", html: "<span></span>", iconSize: [36, 36], iconAnchor: [18, 36] }),
      }).addTo(map);
      pin.on("dragend", () => {
        const p = pin.getLatLng();
        coordsSet(p.lng, p.lat);
        previewShow();
      });
    } else {
      pin.setLatLng([lat, lon]);
    }
    if (pan) map.setView([lat, lon], Math.max(map.getZoom(), 13), { animate: false });
  };
  const coordsSet = (lon, lat) => {
    $("#reg-lon").value = lon.toFixed(6);
    $("#reg-lat").value = lat.toFixed(6);
  };
  map.on("click", (event) => {
    coordsSet(event.latlng.lng, event.latlng.lat);
    pinAt(event.latlng.lng, event.latlng.lat);
    previewShow();
  });
  for (const id of ["#reg-lon", "#reg-lat"]) {
    $(id).addEventListener("change", () => {
      const at = point();
      if (!at) return;
      pinAt(at.lon, at.lat, { pan: true });
      previewShow();
    });
  }
  $("#reg-category").addEventListener("change", previewShow);

  let saving = false;
  $("#register-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (saving) return;
    const error = $("#reg-error");
    const at = point();
    const description = $("#reg-description").value.trim();
    const missing = [!at && t("位置"), !description && t("描述")].filter(Boolean);
    if (missing.length) {
      error.textContent = t("请填写：%(fields)s", { fields: missing.join("、") });
      return;
    }
    error.textContent = "";
    saving = true;
    $("#reg-save").disabled = true;
    const body = {
      client_uuid: clientUuid,
      source: $("#reg-source").value,
      category: $("#reg-category").value,
      description,
      confidential: $("#reg-confidential").checked,
      location: { type: "Point", coordinates: [at.lon, at.lat] },
    };
    if ($("#reg-agency")) body.agency = $("#reg-agency").value;
    try {
      const clue = await post("clues/", body);
      clientUuid = uuid();
      window.location.assign(`/clues/${clue.id}/`);
    } catch (failure) {
      // A lost answer keeps the client_uuid: saving again cannot make a second clue.
      error.textContent = failure.message;
      saving = false;
      $("#reg-save").disabled = false;
    }
  });
  document.body.dataset.loaded = "true";
}
