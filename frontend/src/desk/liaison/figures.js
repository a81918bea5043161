// The joint-meeting figures (联席会议, GET /api/v1/figures/) as charts, for a period the user picks, and
// the joint-meeting pack of the same period (GET /api/v1/meeting-pack/: the PDF, and the XLSX).
// Apache ECharts, only the parts drawn here, so that the bundle stays small.
import { BarChart, LineChart, PieChart } from "echarts/charts";
import { GridComponent, LegendComponent, TooltipComponent } from "echarts/components";
import * as echarts from "echarts/core";
import { CanvasRenderer } from "echarts/renderers";

import { API, get } from "../../shared/api.js";
import { fill, h } from "../../shared/dom.js";
import { t } from "../../shared/i18n.js";
import { failure, labelOf } from "./common.js";

echarts.use([BarChart, LineChart, PieChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

const BLUE = "#0b4f8a";
const TIMELINESS = [
  ["in_time", () => t("按期办理"), "#1e8449"],
  ["late", () => t("逾期办理"), "#d68910"],
  ["overdue", () => t("逾期未办"), "#b03a2e"],
  ["pending", () => t("尚未到期"), "#85929e"],
];

const iso = (date) => `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, "0")}-${String(date.getDate()).padStart(2, "0")}`;

/** The periods offered: this year, its halves, last year; a custom one from two dates. */
function periods(today = new Date()) {
  const year = today.getFullYear();
  return [
    ["year", t("本年度"), `${year}-01-01`, `${year}-12-31`],
    ["h1", t("本年上半年"), `${year}-01-01`, `${year}-06-30`],
    ["h2", t("本年下半年"), `${year}-07-01`, `${year}-12-31`],
    ["last", t("上一年度"), `${year - 1}-01-01`, `${year - 1}-12-31`],
    ["custom", t("自定义"), `${year}-01-01`, iso(today)],
  ];
}

function barOptions(rows, { horizontal = false } = {}) {
  const names = rows.map((row) => labelOf(row.label));
  const values = rows.map((row) => row.count);
  const category = { type: "category", data: names, axisLabel: { interval: 0, fontSize: 11, rotate: horizontal ? 0 : 30 } };
  const value = { type: "value", minInterval: 1 };
  return {
    tooltip: { trigger: "axis" },
    grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
    xAxis: horizontal ? value : category,
    yAxis: horizontal ? { ...category, inverse: true } : value,
    series: [{ type: "bar", data: values, barMaxWidth: 36, itemStyle: { color: BLUE }, label: { show: true, position: horizontal ? "right" : "top" } }],
  };
}

function pieOptions(rows) {
  return {
    tooltip: { trigger: "item" },
    legend: { bottom: 0, type: "scroll" },
    series: [
      {
        type: "pie",
        radius: ["35%", "65%"],
        center: ["50%", "45%"],
        data: rows.map((row) => ({ name: labelOf(row.label), value: row.count })),
        label: { formatter: "{b}: {c}" },
      },
    ],
  };
}

function monthOptions(rows) {
  return {
    tooltip: { trigger: "axis" },
    grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
    xAxis: { type: "category", data: rows.map((row) => row.code) },
    yAxis: { type: "value", minInterval: 1 },
    series: [{ type: "line", data: rows.map((row) => row.count), itemStyle: { color: BLUE }, areaStyle: { opacity: 0.15 }, label: { show: true } }],
  };
}

function timelinessOptions(figures) {
  const items = [
    [t("首次答复期限"), figures.transfers.first_answer],
    [t("办结反馈期限"), figures.transfers.feedback],
    [t("检察建议回复期限"), figures.suggestions.replies],
  ];
  return {
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    legend: { bottom: 0 },
    grid: { left: 8, right: 16, top: 8, bottom: 32, containLabel: true },
    xAxis: { type: "value", minInterval: 1 },
    yAxis: { type: "category", data: items.map(([name]) => name) },
    series: TIMELINESS.map(([key, name, colour]) => ({
      type: "bar",
      stack: "all",
      name: name(),
      itemStyle: { color: colour },
      data: items.map(([, counts]) => counts[key]),
      label: { show: true, formatter: ({ value }) => (value ? value : "") },
    })),
  };
}

function total(label, value, key) {
  return h("div", { class: "total", dataset: { total: key } }, h("span", { class: "value" }, value), h("span", { class: "label" }, label));
}

/** Fill `element` with the period selector, the totals, the charts and the pack's buttons. */
export function showFigures(element) {
  const choices = periods();
  const select = h("select", { id: "period", "aria-label": t("统计期间") }, choices.map(([key, label]) => h("option", { value: key }, label)));
  const from = h("input", { type: "date", id: "period-from", "aria-label": t("起始日期") });
  const to = h("input", { type: "date", id: "period-to", "aria-label": t("截止日期") });
  const custom = h("span", { class: "custom", hidden: true }, from, " — ", to, " ", h("button", { type: "button", class: "apply" }, t("重新统计")));
  const pdf = h("a", { id: "pack-pdf", class: "button primary", download: "" }, t("生成联席会议材料（PDF）"));
  const xlsx = h("a", { id: "pack-xlsx", class: "button", download: "" }, t("统计表（XLSX）"));
  const totals = h("div", { class: "totals", id: "figures-totals" });
  const grid = h("div", { class: "charts" });
  const message = h("div", {});
  fill(
    element,
    h("div", { class: "period-bar" }, h("label", {}, t("统计期间"), " ", select), custom, h("span", { class: "spacer" }), pdf, xlsx),
    message,
    totals,
    grid,
  );

  const charts = [];
  const chart = (id, title, options, height = 280) => {
    const box = h("div", { class: "chart", id, style: `height:${height}px` });
    grid.append(h("figure", { class: "chart-card" }, h("figcaption", {}, title), box));
    const instance = echarts.init(box, null, { renderer: "canvas" });
    instance.setOption(options);
    charts.push(instance);
  };

  async function load(start, end) {
    const query = `?from=${start}&to=${end}`;
    pdf.href = `${API}meeting-pack/${query}`;
    xlsx.href = `${API}meeting-pack/${query}&format=xlsx`;
    for (const instance of charts.splice(0)) instance.dispose();
    fill(grid);
    fill(message);
    try {
      const figures = await get(`figures/${query}`);
      element.dataset.period = `${figures.period.from}/${figures.period.to}`;
      const sums = figures.totals;
      fill(
        totals,
        total(t("线索总数（条）"), sums.clues, "clues"),
        total(t("未办结（条）"), sums.open, "open"),
        total(t("移送次数（次）"), sums.transfers, "transfers"),
        total(t("诉前检察建议（件）"), sums.suggestions, "suggestions"),
        total(t("其中涉密（条）"), sums.confidential, "confidential"),
      );
      const shown = (rows) => rows.filter((row) => row.count);
      const categories = shown(figures.by_category);
      chart("chart-category", t("按类别统计"), barOptions(categories, { horizontal: true }), Math.max(200, 28 * categories.length + 40));
      chart("chart-district", t("按区县统计"), barOptions(figures.by_district));
      chart("chart-status", t("按状态统计"), barOptions(shown(figures.by_status)));
      chart("chart-source", t("按来源统计"), pieOptions(shown(figures.by_source)));
      chart("chart-month", t("按月份统计"), monthOptions(figures.by_month));
      chart("chart-timeliness", t("按期与逾期"), timelinessOptions(figures), 220);
    } catch (error) {
      fill(message, failure(error));
    }
  }

  const choose = () => {
    const [key, , start, end] = choices.find(([k]) => k === select.value);
    custom.hidden = key !== "custom";
    if (key === "custom") {
      from.value ||= start;
      to.value ||= end;
      return;
    }
    load(start, end);
  };
  select.addEventListener("change", choose);
  custom.querySelector(".apply").addEventListener("click", () => {
    if (from.value && to.value) load(from.value, to.value);
  });
  window.addEventListener("resize", () => charts.forEach((instance) => instance.resize()));
  choose();
}
