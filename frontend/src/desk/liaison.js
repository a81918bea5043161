// The desk page /liaison/ (issue 9 §4): the liaison office's dashboard. See
// frontend/templates/frontend/desk/liaison.html. Everything is read through /api/v1/:
//   me/, categories/                who the user is (which district's plans they may edit), the categories
//   focus/, work-plans/             the chosen district's focus and work points (liaison/plans.js)
//   compliance/, districts/         joint patrols by district as a map and a table, reaches (liaison/compliance.js)
//   deadlines/                      what is due soon and overdue (liaison/deadlines.js)
//   figures/, meeting-pack/         the joint-meeting figures as charts and the pack (liaison/figures.js)
import "leaflet/dist/leaflet.css";
import "./desk.css";
import "./liaison/liaison.css";

import { get } from "../shared/api.js";
import { fill, h } from "../shared/dom.js";
import { t } from "../shared/i18n.js";
import { deskStart } from "./shell.js";
import { card, failure } from "./liaison/common.js";
import { complianceMap, complianceTable, showReaches } from "./liaison/compliance.js";
import { showDeadlines } from "./liaison/deadlines.js";
import { showFigures } from "./liaison/figures.js";
import { showPlans } from "./liaison/plans.js";

/** The districts whose plans `me` may edit: those of the liaison offices where they are liaison officers. */
function editableDistricts(me) {
  return new Set(me.agencies.filter((a) => a.role === "liaison" && a.kind === "liaison_office").map((a) => a.district.code));
}

/** The district to show first: the user's own liaison office's, else their first agency's, else the first one. */
function firstDistrict(me, codes) {
  const own = [...editableDistricts(me), ...me.agencies.map((a) => a.district.code)];
  return own.find((code) => codes.includes(code)) ?? codes[0] ?? null;
}

async function start() {
  deskStart();
  const root = document.getElementById("liaison");
  const plans = card("plans", t("年度巡查重点与工作要点"));
  const joint = card("compliance", t("联合巡查履职情况"));
  const reaches = card("reaches", t("河段巡查频次"));
  const due = card("deadlines", t("临期与逾期事项"));
  const figures = card("figures", t("联席会议统计"));
  const mapBox = h("div", { id: "compliance-map", class: "map", role: "region", "aria-label": t("联合巡查地图") });
  const tableBox = h("div", { id: "compliance-districts" });
  const never = h("div", { id: "never-patrolled" });
  fill(joint.body, mapBox, tableBox);
  fill(reaches.body, h("div", { id: "reach-levels" }), never);
  const selector = h("select", { id: "district", "aria-label": t("区县") });
  plans.element.insertBefore(h("label", { class: "district-choice" }, t("区县"), " ", selector), plans.body);
  fill(
    root,
    h("div", { class: "dashboard" }, plans.element, due.element, joint.element, reaches.element, figures.element),
  );

  showDeadlines(due.body);
  showFigures(figures.body);

  let me, categories, compliance;
  try {
    [me, categories, compliance] = await Promise.all([get("me/"), get("categories/"), everyDistrict()]);
  } catch (error) {
    fill(plans.body, failure(error));
    fill(tableBox, failure(error));
    return;
  }
  root.dataset.year = compliance.year;
  const rows = Object.fromEntries(compliance.districts.map((row) => [row.district.code, row]));
  const codes = compliance.districts.map((row) => row.district.code);
  const editable = editableDistricts(me);
  fill(selector, compliance.districts.map((row) => h("option", { value: row.district.code }, row.district.name)));
  let mapView = null;

  // Returns when the district's plans are shown (or their failure is): the page is ready only then.
  const choose = async (code) => {
    if (!code) {
      fill(plans.body, h("p", { class: "muted" }, t("没有可查看的区县。")));
      return;
    }
    selector.value = code;
    const row = rows[code];
    fill(tableBox, complianceTable(compliance, code, choose));
    showReaches(reaches.body.querySelector("#reach-levels"), never, row);
    mapView?.choose(code);
    const plan = { district: row.district, year: compliance.year, canEdit: editable.has(code), categories };
    await showPlans(plans.body, plan);
  };
  selector.addEventListener("change", () => choose(selector.value));
  const firstShown = choose(firstDistrict(me, codes));
  try {
    mapView = await complianceMap(mapBox, compliance, choose);
    mapView.choose(selector.value);
  } catch (error) {
    mapBox.replaceWith(failure(error));
  }
  await firstShown;
  root.dataset.ready = "true";
}

start();

/** Compliance of every district in scope: the API pages the districts (COMPLIANCE_PAGE_SIZE), the map and
 * the district choice need them all (a city has dozens). */
async function everyDistrict() {
  const first = await get("compliance/");
  for (let page = first; page.next; ) {
    const next = new URL(page.next, location.href);
    page = await get(next.pathname + next.search);
    first.districts.push(...page.districts);
  }
  return first;
}
