// The year's patrol focus (年度巡查重点) and work points (年度工作要点) of one district: the current
// revision, its Q1 due state, every revision, and for the district's liaison officers a form that saves
// a new revision (POST /api/v1/focus/, /api/v1/work-plans/; the server refuses anyone else with 403).
import { get, post } from "../../shared/api.js";
import { fill, h } from "../../shared/dom.js";
import { t } from "../../shared/i18n.js";
import { badge, failure, labelOf, localTime } from "./common.js";

/** Where a plan stands against its due date, as a badge. */
export function dueState(plan) {
  if (plan.missing && plan.overdue) return badge("bad", t("逾期未制定（期限 %(due)s）", { due: plan.due }));
  if (plan.missing) return badge("warn", t("未制定，期限 %(due)s", { due: plan.due }));
  if (plan.late) return badge("warn", t("逾期制定（期限 %(due)s）", { due: plan.due }));
  return badge("ok", t("已按期制定（期限 %(due)s）", { due: plan.due }));
}

function revisionLine(revision) {
  return h(
    "span",
    { class: "muted" },
    t("第%(n)s版 · %(user)s · %(time)s", { n: revision.revision, user: revision.created_by, time: localTime(revision.created_at) }),
  );
}

function focusItems(plan) {
  if (!plan) return h("p", { class: "muted" }, t("尚未制定"));
  return h(
    "div",
    {},
    plan.chief_order ? h("p", {}, t("依据：%(order)s", { order: plan.chief_order })) : null,
    h(
      "ol",
      { class: "focus-items" },
      plan.items.map((item) => h("li", { dataset: { category: item.category } }, h("strong", {}, labelOf(item.label)), item.note ? ` — ${item.note}` : "")),
    ),
    plan.note ? h("p", {}, plan.note) : null,
  );
}

function history(plans, render) {
  if (plans.length < 2) return null;
  return h(
    "details",
    { class: "history" },
    h("summary", {}, t("修订记录（%(count)s）", { count: plans.length })),
    h("ol", { reversed: true }, plans.map((plan) => h("li", { class: "revision" }, revisionLine(plan), render(plan)))),
  );
}

function focusForm(status, categories, onSave) {
  const current = status.current;
  const chosen = new Map((current?.items || []).map((item) => [item.category, item.note]));
  const rows = categories.map((category) => {
    const box = h("input", { type: "checkbox", name: "category", value: category.code, checked: chosen.has(category.code) });
    const note = h("input", { type: "text", name: `note-${category.code}`, value: chosen.get(category.code) || "", placeholder: t("说明（可选）"), "aria-label": t("说明（可选）") });
    // A note only for a chosen item.
    note.hidden = !box.checked;
    box.addEventListener("change", () => {
      note.hidden = !box.checked;
      if (box.checked) note.focus();
    });
    return { category, box, note, row: h("li", {}, h("label", {}, box, " ", labelOf(category.label)), note) };
  });
  const order = h("input", { type: "text", name: "chief_order", value: current?.chief_order || "", maxlength: "200" });
  const note = h("textarea", { name: "note", rows: "2" }, current?.note || "");
  const message = h("p", { class: "error", role: "alert", hidden: true });
  const form = h(
    "form",
    { class: "plan-form", id: "focus-form" },
    h("fieldset", {}, h("legend", {}, t("巡查重点（可多选）")), h("ul", { class: "category-choices" }, rows.map((r) => r.row))),
    h("label", {}, t("依据的总河长令"), order),
    h("label", {}, t("备注（可选）"), note),
    message,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("保存为新版本")), h("button", { type: "button", class: "cancel" }, t("取消"))),
  );
  form.querySelector(".cancel").addEventListener("click", () => onSave(null));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const items = rows.filter((r) => r.box.checked).map((r) => ({ category: r.category.code, note: r.note.value.trim() }));
    message.hidden = true;
    try {
      const saved = await post("focus/", { district: status.district.code, year: status.year, items, chief_order: order.value.trim(), note: note.value.trim() });
      onSave(saved);
    } catch (error) {
      message.hidden = false;
      message.textContent = error.message;
    }
  });
  return form;
}

function workPlanForm(status, onSave) {
  const content = h("textarea", { name: "content", rows: "6", required: true }, status.current?.content || "");
  const message = h("p", { class: "error", role: "alert", hidden: true });
  const form = h(
    "form",
    { class: "plan-form", id: "work-plan-form" },
    h("label", {}, t("工作要点内容"), content),
    message,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("保存为新版本")), h("button", { type: "button", class: "cancel" }, t("取消"))),
  );
  form.querySelector(".cancel").addEventListener("click", () => onSave(null));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    message.hidden = true;
    try {
      onSave(await post("work-plans/", { district: status.district.code, year: status.year, content: content.value }));
    } catch (error) {
      message.hidden = false;
      message.textContent = error.message;
    }
  });
  return form;
}

function planView(container, { title, status, canEdit, body, form }) {
  const render = (current) => {
    const edit = canEdit
      ? h(
          "button",
          { type: "button", class: "edit", onclick: () => fill(container, h("h3", {}, title), form(current, (saved) => render(saved || current))) },
          t("修改计划"),
        )
      : null;
    fill(
      container,
      h("div", { class: "plan-head" }, h("h3", {}, title), dueState(current), edit),
      current.current ? revisionLine(current.current) : null,
      body(current.current),
      history(current.history, body),
    );
  };
  render(status);
}

/** Fill `element` with `district`'s focus and work points of `year`; `canEdit`: the user is its liaison officer. */
export async function showPlans(element, { district, year, canEdit, categories }) {
  const focusBox = h("div", { class: "plan", id: "focus" });
  const workBox = h("div", { class: "plan", id: "work-plan" });
  fill(element, h("p", { class: "muted" }, t("%(district)s · %(year)s年", { district: district.name, year })), focusBox, workBox);
  const query = `?district=${encodeURIComponent(district.code)}&year=${year}`;
  try {
    const [focus, work] = await Promise.all([get(`focus/${query}`), get(`work-plans/${query}`)]);
    planView(focusBox, {
      title: t("年度巡查重点"),
      status: focus,
      canEdit,
      body: focusItems,
      form: (status, done) => focusForm(status, categories, done),
    });
    planView(workBox, {
      title: t("年度工作要点"),
      status: work,
      canEdit,
      body: (plan) => (plan ? h("p", { class: "work-points" }, plan.content) : h("p", { class: "muted" }, t("尚未制定"))),
      form: workPlanForm,
    });
  } catch (error) {
    // A district chosen since then has filled `element` with its own boxes: its failure is not this one's.
    if (focusBox.isConnected) fill(element, failure(error));
  }
}
