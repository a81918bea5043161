// Small helpers shared by the liaison dashboard's sections (frontend/src/desk/liaison.js).
import { h } from "../../shared/dom.js";
import { language, t } from "../../shared/i18n.js";

/** The label to show of a server label: "登记 Registered" is Chinese then English; others go through the catalog. */
export function labelOf(label) {
  if (!label) return "";
  const space = label.indexOf(" ");
  if (space > 0 && /[\u4e00-\u9fff]/.test(label.slice(0, space)) && /^[\x20-\x7e]+$/.test(label.slice(space + 1))) {
    return language().startsWith("en") ? label.slice(space + 1) : label.slice(0, space);
  }
  return t(label);
}

/** A section of the dashboard: a titled card with a body to fill. */
export function card(id, title, ...extra) {
  const body = h("div", { class: "card-body" });
  const element = h("section", { id, class: "card", "aria-labelledby": `${id}-title` }, h("h2", { id: `${id}-title` }, title), ...extra, body);
  return { element, body };
}

/** A small coloured label: state is "ok", "bad", "warn" or "muted". */
export function badge(state, text) {
  return h("span", { class: `badge badge-${state}` }, text);
}

/** A table from a header row and rows of cells (strings, numbers or elements). */
export function table(headers, rows, attrs = {}) {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      attrs,
      h("thead", {}, h("tr", {}, headers.map((text) => h("th", { scope: "col" }, text)))),
      h("tbody", {}, rows),
    ),
  );
}

/** An error in words, in place of a section's content. */
export function failure(error) {
  return h("p", { class: "error", role: "alert" }, error?.message || String(error));
}

export function localTime(iso) {
  if (!iso) return "—";
  const date = new Date(iso);
  return `${date.toLocaleDateString(language().startsWith("en") ? "en-GB" : "zh-CN")} ${date.toTimeString().slice(0, 5)}`;
}
