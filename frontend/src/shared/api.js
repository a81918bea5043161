// The one client of /api/v1/ for the pages: session cookie and CSRF, JSON in and out, errors in words.
import { t } from "./i18n.js";

export const API = "/api/v1/";

/** An answer that is not a success, with the server's words (or ours for a network failure). */
export class ApiError extends Error {
  constructor(status, message, body = null) {
    super(message);
    this.status = status; // 0: no answer (offline, connection refused, aborted)
    this.body = body;
  }

  /** Whether sending the same request later may succeed: no answer, a timeout, too many, a server fault. */
  get retryable() {
    return this.status === 0 || this.status === 408 || this.status === 429 || this.status >= 500;
  }
}

/** Django's CSRF token: from its cookie, else from the page (<meta name=csrf-token>). */
export function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  if (match) return decodeURIComponent(match[1]);
  return document.querySelector("meta[name=csrf-token]")?.content || "";
}

// The fields the app sends, named as the user knows them (the server's messages follow, in both languages).
const FIELDS = {
  participants: () => t("同行人员"),
  kind: () => t("巡查类型"),
  district: () => t("区县"),
  agency: () => t("单位"),
  category: () => t("类别"),
  description: () => t("简要说明"),
  location: () => t("位置"),
  file: () => t("照片"),
  points: () => t("轨迹点"),
  patrol: () => t("巡查"),
};

/** Turn an error body ({"detail": …} or {"field": ["…"]}) into one line of words. */
export function wordsFrom(body, status) {
  if (body && typeof body === "object") {
    if (typeof body.detail === "string") return body.detail;
    const parts = [];
    for (const [field, messages] of Object.entries(body)) {
      const list = Array.isArray(messages) ? messages : [messages];
      const text = list.map((m) => (typeof m === "string" ? m : JSON.stringify(m))).join(" ");
      const label = FIELDS[field]?.() ?? field;
      parts.push(field === "non_field_errors" ? text : t("%(field)s：%(text)s", { field: label, text }));
    }
    if (parts.length) return parts.join("；");
  }
  if (status >= 500) return t("服务器出错（%(status)s），稍后自动重试", { status });
  return t("请求失败（%(status)s）", { status });
}

function offlineError() {
  return new ApiError(0, t("无法连接服务器（离线或信号弱），联网后自动重试"));
}

/** Send a request to the API and return its JSON; throw ApiError with words on any failure. */
export async function request(method, path, body) {
  const url = path.startsWith("/") ? path : API + path;
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw offlineError();
  }
  let data = null;
  try {
    data = response.status === 204 ? null : await response.json();
  } catch {
    data = null; // an HTML error page, an empty body
  }
  if (response.status === 403 && response.redirected) {
    throw new ApiError(401, t("登录已过期，请重新登录"));
  }
  if (!response.ok) throw new ApiError(response.status, wordsFrom(data, response.status), data);
  return data;
}

/** Every GET answered so far (URL paths): what the service worker keeps for offline use. */
export const fetched = new Set();

export async function get(path) {
  const body = await request("GET", path);
  fetched.add(path.startsWith("/") ? path : API + path);
  return body;
}
export const post = (path, body) => request("POST", path, body ?? {});

/** Upload a multipart form, reporting progress (0…1) as it goes; resolve with the JSON answer. */
export function upload(path, form, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path.startsWith("/") ? path : API + path);
    xhr.withCredentials = true;
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable && onProgress) onProgress(event.loaded / event.total);
    };
    xhr.onerror = () => reject(offlineError());
    xhr.onabort = () => reject(offlineError());
    xhr.onload = () => {
      let data = null;
      try {
        data = JSON.parse(xhr.responseText);
      } catch {
        data = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else reject(new ApiError(xhr.status, wordsFrom(data, xhr.status), data));
    };
    xhr.send(form);
  });
}

/** A new client id (UUID v4): what makes a retry the same request to the server. */
export function uuid() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
