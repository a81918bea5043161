// Findings: where (my position or a dragged marker), what, photos; the routing preview before saving; to a clue.
import L from "leaflet";

import { get, post, uuid } from "../shared/api.js";
import { bytes, fill, h } from "../shared/dom.js";
import { t, tn } from "../shared/i18n.js";
import * as queue from "../shared/queue.js";
import { idleShow, runningShow } from "./patrol.js";
import { $, app, banner, map, sheet } from "./shell.js";
import { CATEGORIES, categoryLabel, reasonWords } from "./words.js";

export function findingFormShow() {
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
    // A look at what will be sent; the file itself goes untouched (evidence), the preview is the browser's.
    fill(fileList, files.map((f) => h("li", {}, h("img", { src: URL.createObjectURL(f), alt: "", class: "thumb" }), `${f.name} · ${bytes(f.size)}`)));
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

export async function findingsShow() {
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
          f.photos.filter((id) => queue.progress.has(id)).map((id) =>
            h("p", {}, t("照片上传中"), " ", h("progress", { max: 1, value: queue.progress.get(id).toFixed(3), "data-photo": id }), ` ${Math.round(queue.progress.get(id) * 100)}%`),
          ),
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

