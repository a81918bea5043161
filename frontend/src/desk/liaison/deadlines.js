// Transfers, first answers, feedback and suggestion replies due soon and overdue, on the clues the user
// may see (GET /api/v1/deadlines/); each row opens the clue's page.
import { get } from "../../shared/api.js";
import { fill, h } from "../../shared/dom.js";
import { t } from "../../shared/i18n.js";
import { badge, failure, table } from "./common.js";

const KINDS = {
  first_answer: () => t("首次答复期限"),
  feedback: () => t("办结反馈期限"),
  suggestion_reply: () => t("检察建议回复期限"),
  transfer_interval: () => t("定期移送期限"),
};

function row(item) {
  const what = KINDS[item.kind]?.() ?? item.label;
  const waiting = item.kind === "transfer_interval" ? t("（%(count)s 条待移送）", { count: item.clues_waiting }) : "";
  return h(
    "tr",
    { dataset: { state: item.state, kind: item.kind }, class: item.state },
    h("td", {}, item.state === "overdue" ? badge("bad", t("逾期 %(days)s 天", { days: item.days_late })) : badge("warn", t("临近到期"))),
    h("td", {}, what, waiting),
    h("td", {}, h("a", { href: `/clues/${item.clue.id}/` }, item.clue.code)),
    h("td", {}, item.clue.district?.name ?? t("不在区县内")),
    h("td", {}, item.agency.name, item.counterpart ? h("small", { class: "muted" }, ` → ${item.counterpart.name}`) : ""),
    h("td", {}, item.due),
  );
}

/** Fill `element` with the deadlines due soon and overdue. */
export async function showDeadlines(element) {
  try {
    const due = await get("deadlines/");
    const counts = h(
      "p",
      { class: "counts" },
      badge(due.counts.overdue ? "bad" : "ok", t("逾期 %(count)s 项", { count: due.counts.overdue })),
      " ",
      badge(due.counts.due_soon ? "warn" : "ok", t("临期 %(count)s 项", { count: due.counts.due_soon })),
      h("small", { class: "muted" }, " ", t("（临期：%(until)s 前到期）", { until: due.due_soon_until })),
    );
    fill(
      element,
      counts,
      due.items.length
        ? table([t("到期状态"), t("到期事项"), t("线索编号"), t("区县"), t("应办理单位"), t("到期日")], due.items.map(row), { id: "deadlines-table" })
        : h("p", { class: "muted" }, t("没有临期或逾期的事项。")),
    );
  } catch (error) {
    fill(element, failure(error));
  }
}
