// The filter form above the list: status and category (several), district, source, period, overdue,
// "mine"; and the layer switches. Every change calls onChange(state) with the new filters.
import { fill, h } from "../../shared/dom.js";
import { t } from "../../shared/i18n.js";
import { LAYERS } from "./state.js";
import { CATEGORIES, SOURCES, STATUSES } from "./words.js";

const LAYER_WORDS = {
  districts: () => t("行政区划"),
  reaches: () => t("河段（红色：跨区划）"),
  tracks: () => t("巡查轨迹"),
  heat: () => t("热力图"),
  clues: () => t("线索"),
};

function checkList(name, legend, options, selected, onToggle) {
  const chosen = options.filter(([code]) => selected.includes(code)).map(([, label]) => label());
  const summary = chosen.length ? chosen.join("、") : t("全部");
  return h(
    "details",
    { class: "multi", "data-filter": name },
    h("summary", {}, h("span", { class: "legend" }, legend), " ", h("span", { class: "chosen" }, summary)),
    h(
      "div",
      { class: "options" },
      options.map(([code, label, colour]) =>
        h(
          "label",
          {},
          h("input", {
            type: "checkbox",
            name,
            value: code,
            checked: selected.includes(code),
            onchange: (event) => onToggle(code, event.target.checked),
          }),
          colour ? h("span", { class: "swatch", style: `background:${colour}` }) : null,
          label(),
        ),
      ),
    ),
  );
}

function select(name, legend, options, value, onPick) {
  return h(
    "label",
    { class: "field" },
    h("span", {}, legend),
    h(
      "select",
      { name, onchange: (event) => onPick(event.target.value) },
      h("option", { value: "" }, t("全部")),
      options.map(([code, label]) => h("option", { value: code, selected: code === value }, label)),
    ),
  );
}

/** Draw the form into `container` for `state`; `districts` is [[code, name]]. */
export function filtersRender(container, state, districts, onChange) {
  const open = new Set([...container.querySelectorAll("details.multi[open]")].map((d) => d.dataset.filter));
  const change = (patch) => onChange({ ...state, ...patch, page: 1 });
  const toggle = (name) => (code, on) =>
    change({ [name]: on ? [...state[name], code] : state[name].filter((c) => c !== code) });
  const form = h(
    "form",
    { class: "filters", onsubmit: (event) => event.preventDefault() },
    checkList("status", t("状态"), STATUSES, state.status, toggle("status")),
    checkList("category", t("类别"), CATEGORIES, state.category, toggle("category")),
    h(
      "div",
      { class: "row" },
      select("district", t("区县"), districts, state.district, (district) => change({ district })),
      select("source", t("来源"), SOURCES.map(([code, label]) => [code, label()]), state.source, (source) =>
        change({ source }),
      ),
    ),
    h(
      "div",
      { class: "row" },
      h("label", { class: "field" }, h("span", {}, t("登记日期从")),
        h("input", { type: "date", name: "from", value: state.from, onchange: (e) => change({ from: e.target.value }) })),
      h("label", { class: "field" }, h("span", {}, t("至")),
        h("input", { type: "date", name: "to", value: state.to, onchange: (e) => change({ to: e.target.value }) })),
    ),
    h(
      "div",
      { class: "row flags" },
      h("label", {}, h("input", { type: "checkbox", name: "overdue", checked: state.overdue,
        onchange: (e) => change({ overdue: e.target.checked }) }), t("有逾期")),
      h("label", {}, h("input", { type: "checkbox", name: "mine", checked: state.mine,
        onchange: (e) => change({ mine: e.target.checked }) }), t("我的（本人登记或本单位承办）")),
      h("button", { type: "button", class: "link", onclick: () =>
        change({ status: [], category: [], district: "", source: "", from: "", to: "", overdue: false, mine: false }) },
        t("清除筛选")),
    ),
    h(
      "fieldset",
      { class: "layers" },
      h("legend", {}, t("图层")),
      LAYERS.map((name) =>
        h("label", {}, h("input", { type: "checkbox", name: "layer", value: name, checked: state.layers.includes(name),
          onchange: (e) => onChange({ ...state, layers: LAYERS.filter((l) => (l === name ? e.target.checked : state.layers.includes(l))) }) }),
          LAYER_WORDS[name]()),
      ),
    ),
  );
  const active = ["status", "category"].filter((name) => state[name].length).length
    + ["district", "source", "from", "to", "overdue", "mine"].filter((name) => state[name]).length;
  const wasOpen = container.querySelector("details.filter-box");
  const box = h(
    "details",
    { class: "filter-box", open: wasOpen ? wasOpen.open : window.innerWidth > 800 },
    h("summary", {}, active ? t("筛选与图层（%(count)s 项筛选）", { count: active }) : t("筛选与图层")),
    form,
  );
  fill(container, box);
  for (const details of container.querySelectorAll("details.multi")) if (open.has(details.dataset.filter)) details.open = true;
}
