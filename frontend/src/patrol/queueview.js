// The queue, always in view: the chip in the bar ("3 条待上传 / 3 waiting") and its panel with the last error.
import { fill, h } from "../shared/dom.js";
import { t, tn } from "../shared/i18n.js";
import * as queue from "../shared/queue.js";
import { boardClose } from "./board.js";
import { findingsShow } from "./finding.js";
import { $, app } from "./shell.js";
import { opWords } from "./words.js";

export async function queueShow() {
  const state = await queue.queueState();
  const chip = $("#queue-chip");
  const offline = !navigator.onLine;
  chip.dataset.waiting = state.waiting;
  chip.classList.toggle("offline", offline);
  chip.classList.toggle("error", Boolean(state.lastError));
  chip.textContent =
    (offline ? t("离线") + " · " : "") +
    (state.waiting ? tn("%(count)s 条待上传", "%(count)s 条待上传", state.waiting) : t("已全部上传"));
  const waitingPoints = $("#points-waiting");
  if (waitingPoints) waitingPoints.textContent = String(state.points);
  const panel = $("#queue-panel");
  if (panel.hidden) return;
  const uploads = [...queue.progress.entries()];
  fill(
    panel,
    h(
      "div",
      { class: "queue", role: "dialog", "aria-labelledby": "queue-title" },
      h("h2", { id: "queue-title" }, t("待上传")),
      h("p", {}, tn("%(count)s 个轨迹点待上传", "%(count)s 个轨迹点待上传", state.points)),
      state.pointsRefused
        ? h("p", { class: "error" }, tn("%(count)s 个轨迹点被服务器拒收，保留在本机", "%(count)s 个轨迹点被服务器拒收，保留在本机", state.pointsRefused))
        : null,
      h(
        "ol",
        { class: "ops" },
        state.ops.map((op) =>
          h(
            "li",
            { class: op.failed ? "failed" : "" },
            opWords(op),
            op.failed ? h("p", { class: "error" }, op.failed) : null,
            op.failed ? h("button", { type: "button", onclick: () => queue.retryOp(op.seq) }, t("重试")) : null,
          ),
        ),
      ),
      uploads.map(([id, fraction]) =>
        h("p", {}, t("照片上传中"), " ", h("progress", { max: 1, value: fraction.toFixed(3), "data-photo": id }), ` ${Math.round(fraction * 100)}%`),
      ),
      state.lastError
        ? h("p", { class: "error", id: "last-error" }, t("上次错误："), state.lastError.message,
            state.retryAt > Date.now() ? ` ${t("（%(s)s 秒后重试）", { s: Math.ceil((state.retryAt - Date.now()) / 1000) })}` : "")
        : h("p", { class: "muted" }, t("没有错误")),
      offline ? h("p", { class: "muted" }, t("离线：数据已保存在本机，联网后自动上传。")) : null,
      h("div", { class: "row" },
        h("button", { type: "button", class: "big", onclick: () => queue.flushNow() }, t("立即上传")),
        h("button", { type: "button", class: "big secondary", onclick: queuePanelToggle }, t("关闭")),
      ),
    ),
  );
}

export function queuePanelToggle() {
  const panel = $("#queue-panel");
  panel.hidden = !panel.hidden;
  $("#queue-chip").setAttribute("aria-expanded", String(!panel.hidden));
  queueShow();
}

$("#queue-chip").addEventListener("click", queuePanelToggle);
let queueShowPending = false;
queue.onChange(() => {
  if (queueShowPending) return;
  queueShowPending = true;
  requestAnimationFrame(() => {
    queueShowPending = false;
    queueShow();
    if (app.view === "idle" || app.view === "running") findingsShow();
  });
});
window.addEventListener("online", () => {
  queueShow();
  queue.flushNow();
});
window.addEventListener("offline", queueShow);
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  if (!$("#board").hidden) boardClose();
  else if (!$("#queue-panel").hidden) queuePanelToggle();
});

