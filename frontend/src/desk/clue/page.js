// The clue's own page (/clues/{id}/): where it is, what it is, where routing sent it and why, its transfers,
// deadlines, suggestions, duplicates and whole history; the steps the user may take, as forms (forms.js).
// Everything comes from /api/v1/clues/{id}/ and its sub-resources; a step taken reloads them all.
import L from "leaflet";

import { get } from "../../shared/api.js";
import { fill, h, metres } from "../../shared/dom.js";
import { t, tn } from "../../shared/i18n.js";
import { deskMap } from "../basemap.js";
import { formsShow, mergeButton, replyForm } from "./forms.js";
import {
  actionLabel,
  categoryLabel,
  deadlineLabel,
  deadlineStateLabel,
  paramLabel,
  reasonWords,
  sourceLabel,
  statusLabel,
  transferReasonLabel,
  when,
} from "./words.js";

const $ = (selector) => document.querySelector(selector);

/** Show the clue `id` in the page's sections and keep them fresh after each step. */
export async function cluePageStart(id) {
  const page = { id, map: null, clue: null, refresh: null };
  page.refresh = async () => {
    try {
      await pageLoad(page);
    } catch (error) {
      notice(error.message, "error");
    }
  };
  await page.refresh();
  document.body.dataset.loaded = "true";
}

/** Say something in the page's notice line (the header's #notice). */
export function notice(text, kind = "info") {
  const el = document.getElementById("notice");
  if (!el) return;
  el.hidden = !text;
  el.textContent = text || "";
  el.dataset.kind = kind;
}

async function pageLoad(page) {
  const base = `clues/${page.id}/`;
  const [clue, forms, events, verification, duplicates] = await Promise.all([
    get(base),
    get(`${base}steps/`),
    get(`${base}events/`),
    get(`${base}verification/`),
    get(`${base}duplicates/`),
  ]);
  page.clue = clue;
  const name = (code) => clue.names?.[code] || code;
  summaryShow(clue);
  if (!page.map) mapShow(page, clue, name);
  photosShow(clue);
  routingShow(clue, name);
  formsShow($("#clue-steps"), { page, clue, forms, duplicates, name });
  deadlinesShow(clue);
  transfersShow(clue, name);
  suggestionsShow(page, clue, forms.replies, name);
  await duplicatesShow(page, clue, forms, duplicates);
  historyShow(events, verification, name);
}

function row(label, ...value) {
  return [h("dt", {}, label), h("dd", {}, ...value)];
}

function summaryShow(clue) {
  fill(
    $("#clue-summary"),
    h("p", { class: "badges" },
      h("span", { class: `status status-${clue.status}`, id: "clue-status", dataset: { status: clue.status } }, statusLabel(clue.status)),
      clue.confidential ? h("span", { class: "badge bad" }, t("涉密")) : null,
      clue.routing?.reach?.is_cross_district ? h("span", { class: "badge" }, t("跨区划河段")) : null,
    ),
    h("dl", { class: "facts" },
      row(t("类别"), categoryLabel(clue.category)),
      row(t("来源"), sourceLabel(clue.source)),
      row(t("承办单位"), clue.holder.name),
      row(t("登记"), `${clue.registering_agency.name} · ${clue.registered_by} · ${when(clue.created_at)}`),
      clue.case_number ? row(t("案号"), clue.case_number) : null,
      clue.merged_into ? row(t("已合并至"), clue.merged_into) : null,
      clue.outcome_note ? row(t("处理结果"), clue.outcome_note) : null,
      clue.judgement ? row(t("裁判结果"), clue.judgement) : null,
      clue.restoration_done_on ? row(t("生态修复完成日期"), clue.restoration_done_on) : null,
      clue.closed_at ? row(t("办结时间"), when(clue.closed_at)) : null,
    ),
    h("h2", {}, t("描述")),
    h("p", { class: "description", id: "clue-description" }, clue.description),
  );
}

async function mapShow(page, clue, name) {
  const [lon, lat] = clue.location.coordinates;
  page.map = deskMap($("#clue-map"), { center: [lat, lon], zoom: 13, notice: document.getElementById("notice") });
  L.circleMarker([lat, lon], { radius: 9, color: "#fff", weight: 3, fillColor: "#b03a2e", fillOpacity: 1 })
    .bindTooltip(clue.code)
    .addTo(page.map);
  // The district's outline and the reach (or water body) the clue was snapped to: network layers of the API.
  const layers = [];
  try {
    if (clue.district) {
      const district = await get(`districts/${encodeURIComponent(clue.district.code)}/`);
      layers.push(L.geoJSON(district, { style: { color: "#5d6d7e", weight: 2, dashArray: "6 4", fill: false }, interactive: false }));
    }
    const feature = clue.routing?.reach;
    if (feature) {
      const d = 0.004; // about 400 m around the point: the snap tolerance is 200 m
      const box = [lon - d, lat - d, lon + d, lat + d].map((v) => v.toFixed(6)).join(",");
      const [reaches, bodies] = await Promise.all([get(`reaches/?bbox=${box}`), get(`waterbodies/?bbox=${box}`)]);
      const all = [...(reaches.features || reaches.results?.features || []), ...(bodies.features || bodies.results?.features || [])];
      const mine = all.filter((f) => (f.properties?.code ?? f.id) === feature.code);
      const colour = feature.is_cross_district ? "#c0392b" : "#0b4f8a";
      layers.push(L.geoJSON(mine, { style: { color: colour, weight: 5, opacity: 0.85 } }).bindTooltip(feature.name));
    }
  } catch (error) {
    notice(error.message, "error");
  }
  for (const layer of layers) layer.addTo(page.map);
  fill(
    $("#clue-map-legend"),
    clue.routing?.reach ? h("span", {}, h("i", { class: clue.routing.reach.is_cross_district ? "key cross" : "key reach" }), clue.routing.reach.name) : null,
    clue.district ? h("span", {}, h("i", { class: "key district" }), name(clue.district.code)) : h("span", {}, t("不在任何区县内")),
  );
}

function photosShow(clue) {
  const el = $("#clue-photos");
  const photos = (clue.photos || []).filter((photo) => photo.urls?.thumbnail);
  if (!photos.length) {
    fill(el, h("h2", {}, t("照片")), h("p", { class: "muted" }, clue.finding ? t("照片处理中或尚无照片。") : t("此线索没有照片。")));
    return;
  }
  const dialog = $("#photo-dialog");
  const open = (photo) => {
    fill(
      dialog,
      h("form", { method: "dialog", class: "photo-view" },
        h("img", { src: photo.urls.display, alt: t("照片（展示副本）"), class: "photo-large" }),
        h("p", {},
          photo.taken_at ? `${t("拍摄时间")} ${when(photo.taken_at)} · ` : "",
          photo.urls.original
            ? h("a", { href: photo.urls.original, target: "_blank", rel: "noopener", class: "original" }, t("原图（证据）"))
            : h("span", { class: "muted" }, t("您的角色只能查看展示副本")),
        ),
        h("button", { type: "submit", class: "secondary" }, t("关闭")),
      ),
    );
    dialog.showModal();
  };
  fill(
    el,
    h("h2", {}, tn("照片（%(count)s 张）", "照片（%(count)s 张）", photos.length)),
    h("ul", { class: "thumbs" },
      photos.map((photo) =>
        h("li", {},
          h("button", { type: "button", class: "thumb", onclick: () => open(photo), "aria-label": t("放大照片") },
            h("img", { src: photo.urls.thumbnail, alt: t("照片缩略图"), loading: "lazy" }),
          ),
        ),
      ),
    ),
  );
}

function routingShow(clue, name) {
  const routing = clue.routing;
  const reach = routing.reach;
  fill(
    $("#clue-routing"),
    h("h2", {}, t("移送去向")),
    h("p", { class: "to" }, t("应移送至："), h("strong", { id: "routed-to" }, routing.procuratorate.name)),
    h("p", {}, reasonWords(routing.reason)),
    reach
      ? h("p", {}, t("河段："), reach.name,
          reach.is_cross_district ? ` · ${t("跨区划河段，流经")}${reach.districts.map(name).join("、")}` : "")
      : h("p", {}, t("附近没有河段或水体")),
    h("p", {}, t("区县："), routing.district ? routing.district.name : t("不在任何区县内")),
    routing.copies?.length
      ? h("p", { id: "routing-copies" }, t("抄送："), routing.copies.map((code) => h("span", { class: "chip", dataset: { agency: code } }, name(code))))
      : null,
  );
}

function deadlinesShow(clue) {
  const rows = clue.deadlines || [];
  fill(
    $("#clue-deadlines"),
    h("h2", {}, t("期限")),
    rows.length
      ? h("ul", { class: "deadlines" },
          rows.map((d) =>
            h("li", { dataset: { state: d.state, kind: d.kind } },
              h("span", { class: `state state-${d.state}` }, deadlineStateLabel(d.state)),
              " ",
              h("strong", {}, deadlineLabel(d.kind)),
              ` · ${d.owed_by.name} · ${t("到期日")} ${d.due}`,
              d.done_at ? ` · ${t("完成于")} ${when(d.done_at)}` : "",
            ),
          ),
        )
      : h("p", { class: "muted" }, t("尚无期限：移送后开始计算。")),
  );
}

function transfersShow(clue, name) {
  fill(
    $("#clue-transfers"),
    h("h2", {}, t("移送与抄送")),
    clue.transfers.length
      ? h("ol", { class: "transfers" },
          clue.transfers.map((tr) =>
            h("li", { dataset: { reason: tr.reason } },
              h("p", {}, h("strong", {}, `${tr.from_agency.name} → ${tr.to_agency.name}`), ` · ${when(tr.sent_at)} · ${tr.sent_by}`),
              h("p", {}, t("依据："), transferReasonLabel(tr.reason)),
              tr.override_reason ? h("p", { class: "override" }, t("改变接收单位的理由："), tr.override_reason) : null,
              tr.copies.length ? h("p", { class: "copies" }, t("抄送："), tr.copies.map(name).join("、")) : null,
              h("p", { class: "muted" },
                tr.accepted_at ? `${t("受理于")} ${when(tr.accepted_at)}` : t("尚未受理"),
                tr.batch ? ` · ${t("批量移送")}` : "",
              ),
            ),
          ),
        )
      : h("p", { class: "muted" }, t("尚未移送。")),
  );
}

function suggestionsShow(page, clue, replies, name) {
  const el = $("#clue-suggestions");
  if (!clue.suggestions.length) {
    fill(el);
    el.hidden = true;
    return;
  }
  el.hidden = false;
  fill(
    el,
    h("h2", {}, t("诉前检察建议")),
    h("ol", { class: "suggestions" },
      clue.suggestions.map((s) =>
        h("li", { dataset: { suggestion: s.id } },
          h("p", {}, h("strong", {}, s.number || t("（无文号）")), ` · ${t("致")} ${s.addressee.name}`, s.urgent ? h("span", { class: "badge bad" }, t("紧急")) : null),
          h("p", {}, s.content),
          h("p", { class: "muted" },
            `${t("发出于")} ${when(s.issued_at)} · ${t("回复期限")} ${s.reply_due}`,
            s.pre_notified_at ? ` · ${t("已提前通报河长办")}` : "",
            s.escalated_at ? ` · ${t("已催办")}` : "",
          ),
          s.reply_at
            ? h("blockquote", { class: "reply" }, h("p", { class: "muted" }, `${t("书面回复")} · ${when(s.reply_at)}`), h("p", {}, s.reply_text))
            : replies.includes(s.id)
              ? replyForm(page, s, name)
              : h("p", { class: "muted" }, t("尚未回复")),
        ),
      ),
    ),
  );
}

async function duplicatesShow(page, clue, forms, duplicates) {
  const el = $("#clue-duplicates");
  const mayMerge = forms.steps.some((step) => step.name === "merge");
  if (!duplicates.length && !clue.merged_into) {
    fill(el, h("h2", {}, t("重复线索")), h("p", { class: "muted" }, t("附近没有同类的未办结线索。")));
    return;
  }
  // Side by side: this clue and each possible duplicate (their own pages, as the user may see them).
  const others = await Promise.all(duplicates.slice(0, 3).map((d) => get(`clues/${d.id}/`).catch(() => null)));
  const card = (c, distance) =>
    h("article", { class: "dup", dataset: { code: c.code } },
      h("h3", {}, c.id === clue.id ? t("本线索") : h("a", { href: `/clues/${c.id}/` }, c.code)),
      h("p", {}, h("span", { class: `status status-${c.status}` }, statusLabel(c.status)), " ", categoryLabel(c.category)),
      h("p", { class: "muted" }, `${when(c.created_at)} · ${c.holder?.name || ""}`, distance != null ? ` · ${t("相距")} ${metres(distance)}` : ""),
      h("p", {}, c.description || ""),
    );
  fill(
    el,
    h("h2", {}, t("重复线索")),
    clue.merged_into ? h("p", {}, t("本线索已合并至 %(code)s", { code: clue.merged_into })) : null,
    duplicates.length ? h("p", { class: "muted" }, t("同一河段、同一类别、时间和位置相近的未办结线索：")) : null,
    others.filter(Boolean).map((other) =>
      h("div", { class: "side-by-side" },
        card(clue, null),
        card(other, duplicates.find((d) => d.id === other.id)?.distance_m),
        mayMerge ? mergeButton(page, clue, other) : null,
      ),
    ),
  );
}

// What an event's data says, for the keys a reader needs (the rest stays in the API's answer).
const EVENT_DATA = {
  to: (v, name) => `${paramLabel("to")}：${name(v)}`,
  reason: (v) => `${t("依据：")}${transferReasonLabel(v)}`,
  case_number: (v) => `${paramLabel("case_number")}：${v}`,
  addressee: (v, name) => `${paramLabel("addressee")}：${name(v)}`,
  urgent: (v) => (v ? t("紧急") : null),
  reply_due: (v) => `${t("回复期限")} ${v}`,
  feedback_due: (v) => `${t("反馈期限")} ${v}`,
  into: (v) => `${paramLabel("into")}：${v}`,
  duplicate: (v) => t("重复线索 %(code)s 已并入本线索", { code: v }),
};

function eventData(data, name) {
  const shown = Object.entries(data || {})
    .filter(([key, value]) => EVENT_DATA[key] && value != null && value !== "")
    .map(([key, value]) => EVENT_DATA[key](value, name))
    .filter(Boolean);
  return shown.length ? h("p", { class: "muted data" }, shown.join(" · ")) : null;
}

function historyShow(events, verification, name) {
  fill(
    $("#clue-history"),
    h("h2", {}, t("办理记录")),
    h("p", { id: "history-verification", class: verification.intact ? "ok" : "bad", dataset: { intact: String(verification.intact) } },
      verification.intact
        ? tn("记录完整：%(count)s 条记录均已签名且前后相连", "记录完整：%(count)s 条记录均已签名且前后相连", verification.events)
        : t("记录核验未通过，请联系系统管理员"),
    ),
    verification.breaks.length
      ? h("ul", { class: "breaks" }, verification.breaks.map((b) => h("li", {}, `#${b.seq} · ${b.kind} · ${b.problem}`)))
      : null,
    h("ol", { class: "events", id: "events" },
      events.map((e) =>
        h("li", { dataset: { action: e.action, seq: e.seq } },
          h("p", {},
            h("strong", {}, actionLabel(e.action)),
            e.from_status && e.from_status !== e.to_status ? ` · ${statusLabel(e.from_status)} → ${statusLabel(e.to_status)}` : "",
          ),
          h("p", { class: "muted" }, `#${e.seq} · ${when(e.created_at)} · ${e.actor}${e.agency ? ` · ${name(e.agency)}` : ""}`),
          e.note ? h("p", { class: "note" }, e.note) : null,
          eventData(e.data, name),
          h("p", { class: "hash", title: t("本条记录的签名") }, e.hash.slice(0, 16)),
        ),
      ),
    ),
  );
}
