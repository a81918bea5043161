// The workflow as forms: one form per step the user may take now (GET /api/v1/clues/{id}/steps/ names them
// and the fields each needs), posted to /api/v1/clues/{id}/steps/{step}/. A refused step (409, 403, 400)
// shows the server's words in the form; a step taken reloads the page's sections, history included.
import { post } from "../../shared/api.js";
import { fill, h } from "../../shared/dom.js";
import { t } from "../../shared/i18n.js";
import { paramLabel, statusLabel, stepLabel } from "./words.js";

// Steps that end or hand over the clue: their button says so in red.
const WEIGHTY = new Set(["not_file", "litigate", "close", "reverse", "merge", "transfer_to_unit"]);

/** Fill `el` with the forms of the steps in `forms` (the answer of GET …/steps/). */
export function formsShow(el, { page, clue, forms, duplicates }) {
  if (!forms.steps.length) {
    fill(
      el,
      h("h2", {}, t("办理")),
      h("p", { class: "muted", id: "no-steps" }, t("您的角色在当前状态下没有可办理的操作。")),
    );
    return;
  }
  fill(
    el,
    h("h2", {}, t("办理")),
    h("p", { class: "muted" }, t("当前状态：%(status)s。可办理：", { status: statusLabel(clue.status) })),
    forms.steps.map((step, index) => stepForm(page, clue, step, duplicates, index === 0)),
  );
}

function fieldFor(step, param, duplicates) {
  const id = `step-${step.name}-${param.name}`;
  const label = h("label", { for: id }, paramLabel(param.name), param.required ? h("span", { class: "req", "aria-hidden": "true" }, " *") : null);
  switch (param.type) {
    case "boolean":
      return h("p", { class: "check" }, h("input", { id, name: param.name, type: "checkbox" }), " ", label);
    case "date":
      return h("p", {}, label, h("input", { id, name: param.name, type: "date" }));
    case "long_text":
      return h("p", {}, label, h("textarea", { id, name: param.name, rows: 3, required: param.required }));
    case "agency": {
      const recipient = step.name === "send" ? step.recipient?.code : null;
      return h("p", {}, label,
        h("select", { id, name: param.name, required: param.required },
          param.required ? h("option", { value: "" }, t("请选择")) : null,
          (param.choices || []).map((a) =>
            h("option", { value: a.code, selected: a.code === recipient }, a.code === recipient ? `${a.name}（${t("按规则")}）` : a.name),
          ),
        ),
      );
    }
    case "clue": {
      const list = `${id}-list`;
      return h("p", {}, label,
        h("input", { id, name: param.name, list, required: param.required, autocomplete: "off", placeholder: "500110-2026-0001" }),
        h("datalist", { id: list }, duplicates.map((d) => h("option", { value: d.code }))),
      );
    }
    default:
      return h("p", {}, label, h("input", { id, name: param.name, type: "text", required: param.required }));
  }
}

function stepForm(page, clue, step, duplicates, open) {
  const error = h("p", { class: "error", role: "alert" });
  const form = h("form", { class: "step", dataset: { step: step.name }, novalidate: true },
    step.recipient
      ? h("p", { class: "recipient" }, step.name === "send" ? t("按移送规则送至：") : t("将送至："), h("strong", {}, step.recipient.name))
      : null,
    step.params.map((param) => fieldFor(step, param, duplicates)),
    h("p", {}, h("label", { for: `step-${step.name}-note` }, paramLabel("note")),
      h("textarea", { id: `step-${step.name}-note`, name: "note", rows: 2 })),
    error,
    h("button", { type: "submit", class: WEIGHTY.has(step.name) ? "danger" : "primary" }, stepLabel(step.name)),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    stepTake(page, clue, step, form, error);
  });
  return h("details", { class: "step-card", open, dataset: { step: step.name } },
    h("summary", {}, stepLabel(step.name), step.to_status ? h("span", { class: "muted" }, ` → ${statusLabel(step.to_status)}`) : null),
    form,
  );
}

/** The body of a step from its form: each field as the API reads it, empty optional ones left out. */
function stepBody(step, form) {
  const body = { note: form.elements.note.value.trim() };
  for (const param of step.params) {
    const input = form.elements[param.name];
    if (param.type === "boolean") body[param.name] = input.checked;
    else if (input.value.trim()) body[param.name] = input.value.trim();
  }
  // Sending where routing said is not an override: leave `to` out, and with it any reason.
  if (step.name === "send" && body.to === step.recipient?.code) {
    delete body.to;
    delete body.override_reason;
  }
  return body;
}

async function stepTake(page, clue, step, form, error) {
  const button = form.querySelector("button[type=submit]");
  const missing = step.params.filter((p) => p.required && !form.elements[p.name].value.trim());
  if (missing.length) {
    error.textContent = t("请填写：%(fields)s", { fields: missing.map((p) => paramLabel(p.name)).join("、") });
    return;
  }
  error.textContent = "";
  button.disabled = true;
  try {
    const result = await post(`clues/${clue.id}/steps/${step.name}/`, stepBody(step, form));
    if (result.visible === false) {
      // The step took the clue out of the user's sight (a confidential clue sent on).
      fill(document.getElementById("clue"), h("p", { class: "ok" }, result.detail), h("p", {}, h("a", { href: "/clues/" }, t("返回线索地图"))));
      return;
    }
    stepDone(t("已办理：%(step)s", { step: stepLabel(step.name) }));
    await page.refresh();
  } catch (failure) {
    // The server's words: 409 (not from this state, someone acted first), 403 (not this role), 400 (fields).
    error.textContent = refusalWords(failure);
    error.dataset.status = String(failure.status);
    button.disabled = false;
  }
}

/** The words of a refused step; a field's message is headed by the field's name as the form shows it. */
function refusalWords(failure) {
  const body = failure.body;
  if (failure.status !== 400 || !body || typeof body !== "object" || typeof body.detail === "string") return failure.message;
  return Object.entries(body)
    .map(([field, messages]) => `${paramLabel(field)}：${[].concat(messages).join(" ")}`)
    .join("；");
}

function stepDone(text) {
  const el = document.getElementById("notice");
  if (!el) return;
  el.hidden = false;
  el.dataset.kind = "ok";
  el.textContent = text;
}

/** The addressee's written reply to a suggestion (POST /api/v1/suggestions/{id}/reply/). */
export function replyForm(page, suggestion) {
  const error = h("p", { class: "error", role: "alert" });
  const id = `reply-${suggestion.id}`;
  const form = h("form", { class: "reply-form", dataset: { reply: suggestion.id } },
    h("label", { for: id }, paramLabel("text")),
    h("textarea", { id, name: "text", rows: 3, required: true }),
    error,
    h("button", { type: "submit", class: "primary" }, t("提交书面回复")),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = form.elements.text.value.trim();
    if (!text) {
      error.textContent = t("请填写：%(fields)s", { fields: paramLabel("text") });
      return;
    }
    form.querySelector("button").disabled = true;
    try {
      await post(`suggestions/${suggestion.id}/reply/`, { text });
      stepDone(t("已提交书面回复"));
      await page.refresh();
    } catch (failure) {
      error.textContent = failure.message;
      form.querySelector("button").disabled = false;
    }
  });
  return form;
}

/** Merging this clue into `other` (the merge step with `into` filled), from the duplicates side by side. */
export function mergeButton(page, clue, other) {
  const error = h("p", { class: "error", role: "alert" });
  const step = { name: "merge", params: [{ name: "into", type: "clue", required: true }] };
  const form = h("form", { class: "merge", dataset: { into: other.code } },
    h("input", { type: "hidden", name: "into", value: other.code }),
    h("label", { for: `merge-note-${other.id}` }, paramLabel("note")),
    h("input", { id: `merge-note-${other.id}`, name: "note", type: "text" }),
    error,
    h("button", { type: "submit", class: "danger" }, t("将本线索合并到 %(code)s", { code: other.code })),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    stepTake(page, clue, step, form, error);
  });
  return form;
}
