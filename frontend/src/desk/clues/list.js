// The list beside the map: the visible clues in the map's extent and the filters, sortable and paged.
import { fill, h } from "../../shared/dom.js";
import { t } from "../../shared/i18n.js";
import { PAGE_SIZE } from "./state.js";
import { categoryLabel, sourceLabel, statusColour, statusLabel } from "./words.js";

const COLUMNS = [
  ["code", () => t("编号")],
  ["status", () => t("状态")],
  ["category", () => t("类别")],
  ["district", () => t("区县")],
  ["created_at", () => t("登记时间")],
];

function day(iso) {
  return iso ? iso.slice(0, 10) : "—";
}

/** Draw the list of `page` (an API page: {count, results}) into `container`. */
export function listRender(container, { page, state, error, loading }, { onSort, onPage, onHover }) {
  if (error) {
    fill(container, h("p", { class: "error", role: "alert" }, error));
    return;
  }
  if (!page) {
    fill(container, h("p", { class: "muted" }, t("正在加载…")));
    return;
  }
  const pages = Math.max(1, Math.ceil(page.count / PAGE_SIZE));
  const [orderField, descending] = [state.ordering.replace(/^-/, ""), state.ordering.startsWith("-")];
  const header = COLUMNS.map(([field, label]) => {
    const sorted = field === orderField;
    const next = sorted && !descending ? `-${field}` : field;
    return h(
      "th",
      { scope: "col", "aria-sort": sorted ? (descending ? "descending" : "ascending") : "none" },
      h("button", { type: "button", class: "sort", "data-field": field, onclick: () => onSort(next) },
        label(), sorted ? (descending ? " ▼" : " ▲") : ""),
    );
  });
  const rows = page.results.map((clue) =>
    h(
      "tr",
      {
        "data-id": clue.id,
        onmouseenter: () => onHover(clue),
        onmouseleave: () => onHover(null),
      },
      h("td", {}, h("a", { href: `/clues/${clue.id}/` }, clue.code), clue.confidential ? h("span", { class: "tag" }, t("涉密")) : null),
      h("td", {}, h("span", { class: "dot", style: `background:${statusColour(clue.status)}` }), statusLabel(clue.status)),
      h("td", {}, categoryLabel(clue.category), h("small", {}, sourceLabel(clue.source))),
      h("td", {}, clue.district?.name ?? t("区外")),
      h("td", {}, day(clue.created_at)),
    ),
  );
  fill(
    container,
    h(
      "div",
      { class: "list-head" },
      h("strong", { class: "count", "data-count": page.count }, t("共 %(count)s 条线索（地图范围内）", { count: page.count })),
      loading ? h("span", { class: "muted" }, t("更新中…")) : null,
    ),
    page.results.length
      ? h("table", { class: "clues" }, h("thead", {}, h("tr", {}, header)), h("tbody", {}, rows))
      : h("p", { class: "muted empty" }, t("地图范围内没有符合条件的线索。")),
    h(
      "nav",
      { class: "pager", "aria-label": t("分页") },
      h("button", { type: "button", disabled: state.page <= 1, onclick: () => onPage(state.page - 1) }, t("上一页")),
      h("span", { class: "pages" }, t("第 %(page)s / %(pages)s 页", { page: state.page, pages })),
      h("button", { type: "button", disabled: state.page >= pages, onclick: () => onPage(state.page + 1) }, t("下一页")),
    ),
  );
}
