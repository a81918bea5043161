// The clue's words on the desk, through the catalog: states, sources, steps and their fields, deadlines,
// history actions (DESIGN §4). Codes come from the API; the Chinese text is the msgid.
import { t } from "../../shared/i18n.js";

export { CATEGORIES, categoryLabel, reasonWords } from "../../patrol/words.js";

const pick = (table, code) => (table[code] ? table[code]() : code || "—");

const STATUSES = {
  registered: () => t("登记"),
  transferred: () => t("已移送"),
  accepted: () => t("已受理"),
  investigating: () => t("调查核实"),
  case_filed: () => t("立案"),
  not_filed: () => t("不立案"),
  suggestion_issued: () => t("诉前检察建议"),
  rectified: () => t("已整改"),
  litigation: () => t("提起诉讼"),
  closed: () => t("办结"),
  feedback_given: () => t("已反馈"),
  merged: () => t("已合并"),
};
export const statusLabel = (code) => pick(STATUSES, code);

export const SOURCES = [
  ["hotline", () => t("12345热线")],
  ["petition", () => t("信访来信")],
  ["river_office", () => t("河长办")],
  ["procuratorate", () => t("检察院")],
  ["patrol", () => t("巡查发现")],
  ["media", () => t("媒体")],
  ["other", () => t("其他")],
];
export const sourceLabel = (code) => pick(Object.fromEntries(SOURCES), code);

const STEPS = {
  send: () => t("移送"),
  accept: () => t("受理"),
  answer: () => t("首次答复"),
  investigate: () => t("调查核实"),
  file_case: () => t("立案"),
  not_file: () => t("不立案"),
  issue_suggestion: () => t("发出诉前检察建议"),
  rectified: () => t("确认已整改"),
  litigate: () => t("提起诉讼"),
  record_outcome: () => t("记录结果"),
  close: () => t("办结"),
  give_feedback: () => t("反馈移送方"),
  reverse: () => t("反向移送河长办"),
  transfer_to_unit: () => t("移送责任单位"),
  merge: () => t("合并为重复线索"),
};
export const stepLabel = (code) => pick(STEPS, code);

// History actions: the steps, and what is recorded outside them.
const ACTIONS = {
  ...STEPS,
  register: () => t("登记"),
  absorb: () => t("并入重复线索"),
  suggestion_reply: () => t("书面回复检察建议"),
};
export const actionLabel = (code) => pick(ACTIONS, code);

const PARAMS = {
  to: () => t("接收单位"),
  override_reason: () => t("改变接收单位的理由"),
  case_number: () => t("案号"),
  addressee: () => t("被建议单位"),
  content: () => t("建议内容"),
  urgent: () => t("紧急（15日内回复）"),
  number: () => t("文号"),
  pre_notify: () => t("提前通报河长办"),
  judgement: () => t("裁判结果"),
  restoration_done_on: () => t("生态修复完成日期"),
  outcome_note: () => t("处理结果"),
  into: () => t("合并到线索（编号）"),
  note: () => t("备注"),
  text: () => t("书面回复"),
};
export const paramLabel = (code) => pick(PARAMS, code);

const REASONS = {
  district: () => t("属地"),
  cross_district: () => t("跨区划报送市检察院"),
  outside_districts: () => t("区外报送市检察院"),
  reverse: () => t("反向移送河长办"),
  manual: () => t("指定移送"),
};
export const transferReasonLabel = (code) => pick(REASONS, code);

const DEADLINES = {
  first_answer: () => t("首次答复"),
  feedback: () => t("办结后反馈"),
  suggestion_reply: () => t("检察建议书面回复"),
};
export const deadlineLabel = (code) => pick(DEADLINES, code);

const DEADLINE_STATES = {
  in_time: () => t("按期完成"),
  late: () => t("逾期完成"),
  overdue: () => t("已逾期"),
  due_soon: () => t("即将到期"),
  pending: () => t("未到期"),
};
export const deadlineStateLabel = (code) => pick(DEADLINE_STATES, code);

/** A date-time from the API as the desk shows it: local date and minutes. */
export function when(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
