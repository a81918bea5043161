// The review map's words and colours: statuses (DESIGN §4's workflow) and sources, through the catalog.
import { t } from "../../shared/i18n.js";

export { CATEGORIES, categoryLabel } from "../../patrol/words.js";

// One colour per status, by stage: greys before anyone acts, blues while it travels, oranges and reds
// while it is handled, greens once done (the legend lists them in this order).
export const STATUSES = [
  ["registered", () => t("登记"), "#7f8c8d"],
  ["transferred", () => t("已移送"), "#2e86c1"],
  ["accepted", () => t("已受理"), "#1f618d"],
  ["investigating", () => t("调查核实"), "#f39c12"],
  ["case_filed", () => t("立案"), "#d35400"],
  ["not_filed", () => t("不立案"), "#a04000"],
  ["suggestion_issued", () => t("诉前检察建议"), "#c0392b"],
  ["litigation", () => t("提起诉讼"), "#78281f"],
  ["rectified", () => t("已整改"), "#52be80"],
  ["closed", () => t("办结"), "#1e8449"],
  ["feedback_given", () => t("已反馈"), "#145a32"],
  ["merged", () => t("已合并"), "#bdc3c7"],
];
export const STATUS_CODES = STATUSES.map(([code]) => code);
const BY_STATUS = Object.fromEntries(STATUSES.map(([code, label, colour]) => [code, { label, colour }]));

export function statusLabel(code) {
  return BY_STATUS[code]?.label() ?? code;
}

export function statusColour(code) {
  return BY_STATUS[code]?.colour ?? "#555";
}

export const SOURCES = [
  ["patrol", () => t("巡查发现")],
  ["river_office", () => t("河长办")],
  ["procuratorate", () => t("检察院")],
  ["hotline", () => t("12345热线")],
  ["petition", () => t("信访")],
  ["media", () => t("媒体")],
  ["other", () => t("其他")],
];

export function sourceLabel(code) {
  const found = SOURCES.find(([c]) => c === code);
  return found ? found[1]() : code;
}
