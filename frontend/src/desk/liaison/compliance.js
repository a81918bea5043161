// Joint-patrol compliance by district (seed 002 §三(三): at least one joint patrol a year) as a map and a
// table, and for the chosen district each reach against its chief level's patrol frequency and the
// reaches never patrolled this year. Data: GET /api/v1/compliance/ and /api/v1/districts/ (GeoJSON).
import L from "leaflet";

import { get } from "../../shared/api.js";
import { fill, h } from "../../shared/dom.js";
import { t } from "../../shared/i18n.js";
import { deskMap } from "../basemap.js";
import { badge, labelOf, table } from "./common.js";

const COLOURS = { true: "#1e8449", false: "#b03a2e" };

function planBadge(plan) {
  if (plan.missing) return plan.overdue ? badge("bad", t("逾期未制定计划")) : badge("warn", t("尚未制定计划"));
  return plan.late ? badge("warn", t("逾期制定计划")) : badge("ok", t("已制定计划"));
}

/** The districts' table: one row each, the chosen one marked; clicking a row chooses it. */
export function complianceTable(compliance, chosen, onChoose) {
  const rows = compliance.districts.map((row) => {
    const joint = row.joint_patrols;
    const tr = h(
      "tr",
      {
        dataset: { district: row.district.code, compliant: String(joint.compliant) },
        class: row.district.code === chosen ? "chosen" : "",
        tabindex: "0",
        onclick: () => onChoose(row.district.code),
        onkeydown: (event) => event.key === "Enter" && onChoose(row.district.code),
      },
      h("th", { scope: "row" }, row.district.name),
      h("td", {}, `${joint.count} / ${joint.required}`),
      h("td", { class: "joint-state" }, joint.compliant ? badge("ok", t("已达标")) : badge("bad", t("未开展联合巡查"))),
      h("td", {}, `${row.reaches.compliant} / ${row.reaches.total}`),
      h("td", {}, row.reaches.never_patrolled.length),
      h("td", {}, planBadge(row.plans.focus)),
      h("td", {}, planBadge(row.plans.work_plan)),
    );
    return tr;
  });
  return table(
    [t("区县"), t("联合巡查"), t("联合巡查达标"), t("河段按频次达标"), t("从未巡查河段"), t("巡查重点制定"), t("工作要点制定")],
    rows,
    { id: "compliance-table" },
  );
}

/** The map of the districts coloured by joint-patrol compliance; returns {map, choose(code)}. */
export async function complianceMap(element, compliance, onChoose) {
  const map = deskMap(element, { notice: document.getElementById("notice") });
  const byCode = Object.fromEntries(compliance.districts.map((row) => [row.district.code, row]));
  const body = await get("districts/?level=district&limit=1000");
  const collection = body.results ?? body;
  const features = (collection.features || []).filter((feature) => feature.properties.code in byCode);
  const layers = {};
  const layer = L.geoJSON(
    { type: "FeatureCollection", features },
    {
      style: (feature) => {
        const compliant = byCode[feature.properties.code].joint_patrols.compliant;
        return { color: "#34495e", weight: 1.5, fillColor: COLOURS[compliant], fillOpacity: 0.45 };
      },
      onEachFeature: (feature, shape) => {
        const row = byCode[feature.properties.code];
        const joint = row.joint_patrols;
        const words = joint.compliant
          ? t("%(name)s：联合巡查 %(count)s 次，达标", { name: row.district.name, count: joint.count })
          : t("%(name)s：本年度未开展联合巡查", { name: row.district.name });
        shape.bindTooltip(words, { sticky: true });
        shape.on("click", () => onChoose(row.district.code));
        layers[row.district.code] = shape;
      },
    },
  ).addTo(map);
  const legend = L.control({ position: "bottomright" });
  legend.onAdd = () =>
    h(
      "div",
      { class: "legend" },
      h("div", {}, h("i", { style: `background:${COLOURS.true}` }), t("已开展联合巡查")),
      h("div", {}, h("i", { style: `background:${COLOURS.false}` }), t("未开展联合巡查")),
    );
  legend.addTo(map);
  if (features.length) map.fitBounds(layer.getBounds(), { padding: [12, 12] });
  // What the map draws (on a canvas), for those who cannot see it: the districts by compliance.
  const drawn = (compliant) => features.map((f) => f.properties.code).filter((code) => byCode[code].joint_patrols.compliant === compliant);
  element.dataset.compliant = drawn(true).join(" ");
  element.dataset.noncompliant = drawn(false).join(" ");
  return {
    map,
    choose(code) {
      for (const [key, shape] of Object.entries(layers)) shape.setStyle({ weight: key === code ? 4 : 1.5 });
    },
  };
}

/** The chosen district's reaches: by chief level, each reach against its frequency, those never patrolled. */
export function showReaches(element, never, row) {
  if (!row) {
    fill(element);
    fill(never);
    return;
  }
  const reaches = row.reaches;
  const levels = reaches.by_level
    .filter((level) => level.reaches)
    .map((level) =>
      h(
        "tr",
        {},
        h("th", { scope: "row" }, labelOf(level.label)),
        h("td", {}, level.frequency_days ? t("每%(days)s天", { days: level.frequency_days }) : "—"),
        h("td", {}, level.reaches),
        h("td", {}, level.compliant),
        h("td", {}, level.never_patrolled),
      ),
    );
  const items = reaches.items.map((item) =>
    h(
      "tr",
      { dataset: { reach: item.code } },
      h("th", { scope: "row" }, item.name, h("br"), h("small", { class: "muted" }, item.code)),
      h("td", {}, item.frequency_days ? t("每%(days)s天", { days: item.frequency_days }) : "—"),
      h("td", {}, item.expected ?? "—"),
      h("td", {}, item.patrol_days),
      h("td", {}, t("%(days)s天", { days: item.longest_gap_days })),
      h("td", {}, item.compliant == null ? "—" : item.compliant ? badge("ok", t("已达标")) : badge("bad", t("未达到频次"))),
    ),
  );
  fill(
    element,
    h("h3", {}, t("%(district)s：河段巡查频次", { district: row.district.name })),
    table([t("河长级别"), t("规定频次"), t("河段数"), t("已达标"), t("从未巡查河段")], levels),
    h(
      "details",
      { class: "reach-list" },
      h("summary", {}, t("逐河段（%(count)s）", { count: reaches.items.length })),
      table([t("河段名称"), t("规定频次"), t("应巡天数"), t("实巡天数"), t("最长间隔"), t("已达标")], items),
    ),
  );
  const unpatrolled = reaches.never_patrolled;
  fill(
    never,
    h("h3", {}, t("本年度从未巡查的河段（%(count)s）", { count: unpatrolled.length })),
    unpatrolled.length
      ? h("ul", { class: "chips" }, unpatrolled.map((reach) => h("li", { dataset: { reach: reach.code } }, reach.name)))
      : h("p", { class: "muted" }, t("（无）")),
  );
}
