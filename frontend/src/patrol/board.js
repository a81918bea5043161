// The 公示牌 of a reach or water body: from the district's boards kept for offline use, else asked for.
import { get } from "../shared/api.js";
import { fill, h } from "../shared/dom.js";
import { t } from "../shared/i18n.js";
import { $, app, sheet } from "./shell.js";
import { LEVELS } from "./words.js";

export async function boardOpen(feature, kind) {
  const code = feature.properties.code;
  const panel = $("#board");
  panel.hidden = false;
  fill(panel, h("p", {}, t("正在加载…")));
  let board = app.boards.get(`${kind}:${code}`);
  if (!board) {
    try {
      board = await get(`${kind}/${encodeURIComponent(code)}/board/`);
    } catch (error) {
      board = { name: feature.properties.name, code, error: error.message, river: { name: feature.properties.river } };
    }
  }
  const people = (list, title) =>
    h(
      "div",
      { class: "people" },
      h("h3", {}, title),
      list?.length
        ? list.map((p) =>
            h("p", {}, h("strong", {}, p.name), " · ", p.level_label || LEVELS[p.level]?.() || "", p.office ? ` · ${p.office.name}` : ""),
          )
        : h("p", { class: "muted" }, t("暂无")),
    );
  fill(
    panel,
    h(
      "div",
      { class: "board", role: "dialog", "aria-modal": "true", "aria-labelledby": "board-title" },
      h("p", { class: "board-head" }, t("河长公示牌")),
      h("h2", { id: "board-title" }, board.river?.name ? `${board.river.name} · ${board.name}` : board.name),
      h("p", { class: "muted" }, `${board.code}`, board.is_cross_district ? ` · ${t("跨区划河段")}` : "", board.level_label ? ` · ${board.level_label}` : ""),
      board.districts?.length ? h("p", {}, t("所在区县："), board.districts.map((d) => d.name).join("、")) : null,
      board.error ? h("p", { class: "error" }, board.error) : null,
      people(board.chiefs, t("河长")),
      people(board.eco_prosecutors, t("生态检察官")),
      h("p", {}, t("最近巡查："), board.last_patrol_date || t("尚无记录")),
      h("button", { type: "button", class: "big", id: "board-close", onclick: boardClose }, t("关闭")),
    ),
  );
  $("#board-close").focus();
}

export function boardClose() {
  $("#board").hidden = true;
  sheet.focus();
}

