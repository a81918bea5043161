// What every desk page shares: the header's to-do inbox (待办) and the page's configuration from its <body>.
// Each page's bundle (clues.js, clue.js, liaison.js) calls deskStart() first.
//
// The inbox reads /api/v1/todo/ (what is due from the user, with counts, and how many notifications are
// unread) and /api/v1/notifications/ (unread first); each item opens the clue, suggestion or plan it is
// about; notifications are marked read one by one (opening one marks it) or all at once.
import { get, post } from "../shared/api.js";
import { fill, h } from "../shared/dom.js";
import { language, t } from "../shared/i18n.js";
// Every desk page draws its maps through basemap.js; loading it here gives the tests `desk.map` anywhere.
import "./basemap.js";

/** The page's configuration, as the template put it in <script type="application/json" id="desk-config">. */
export function deskConfig() {
  const node = document.getElementById("desk-config");
  return node ? JSON.parse(node.textContent) : {};
}

// How often the inbox asks again while the page stays open (a sweep runs every hour).
const REFRESH_MS = 5 * 60 * 1000;
const NOTIFICATIONS_SHOWN = 20;

const KINDS = {
  first_answer: () => t("待首次答复"),
  feedback: () => t("待办结反馈"),
  suggestion_reply: () => t("待回复检察建议"),
  work_plan: () => t("待制定年度工作要点"),
  focus_plan: () => t("待制定年度巡查重点"),
};
const STATES = {
  overdue: () => t("已逾期"),
  due_soon: () => t("即将到期"),
  pending: () => t("尚未到期"),
};

/** Where an item (a notification or a due item) leads: its clue's page, its suggestion there, the plan. */
export function itemLink(item) {
  if (item.kind === "work_plan") return "/liaison/#work-plan";
  if (item.kind === "focus_plan") return "/liaison/#focus";
  if (!item.clue) return null;
  return item.suggestion ? `/clues/${item.clue}/#suggestion-${item.suggestion}` : `/clues/${item.clue}/`;
}

/** A notification's words in the page's language: the sweep writes Chinese, then English on a new line. */
function messageIn(text) {
  const lines = String(text || "").split("\n");
  return language().startsWith("en") && lines.length > 1 ? lines.slice(1).join(" ") : lines[0];
}

class Inbox {
  constructor(root) {
    this.root = root;
    this.todo = null;
    this.notifications = [];
    this.error = null;
    this.badge = h("span", { class: "badge", id: "inbox-count", hidden: true });
    this.button = h(
      "button",
      {
        type: "button",
        class: "inbox-toggle",
        id: "inbox-toggle",
        "aria-expanded": "false",
        "aria-controls": "inbox-panel",
        onclick: () => this.toggle(),
      },
      t("待办"),
      this.badge,
    );
    this.panel = h("section", { class: "inbox-panel", id: "inbox-panel", hidden: true, "aria-label": t("待办") });
    fill(root, this.button, this.panel);
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && !this.panel.hidden) {
        this.close();
        this.button.focus();
      }
    });
    document.addEventListener("click", (event) => {
      if (!this.panel.hidden && !root.contains(event.target)) this.close();
    });
    document.addEventListener("desk:inbox-refresh", () => this.refresh());
  }

  get open() {
    return !this.panel.hidden;
  }

  toggle() {
    if (this.open) this.close();
    else this.show();
  }

  show() {
    this.panel.hidden = false;
    this.button.setAttribute("aria-expanded", "true");
    this.render();
    this.refresh();
  }

  close() {
    this.panel.hidden = true;
    this.button.setAttribute("aria-expanded", "false");
  }

  async refresh() {
    // Only the latest reading counts: one started before a "mark read" must not undo it on screen.
    const generation = (this.generation = (this.generation || 0) + 1);
    try {
      const [todo, notifications] = await Promise.all([
        get(`todo/`),
        get(`notifications/?limit=${NOTIFICATIONS_SHOWN}`),
      ]);
      if (generation !== this.generation) return;
      this.todo = todo;
      this.notifications = notifications.results || notifications;
      this.error = null;
    } catch (error) {
      if (generation !== this.generation) return;
      this.error = error.message;
    }
    this.render();
  }

  /** How many things want the user's attention: unread notifications, overdue and due-soon items. */
  get count() {
    if (!this.todo) return 0;
    return this.todo.unread + this.todo.overdue + this.todo.due_soon;
  }

  render() {
    const count = this.count;
    this.badge.hidden = !this.todo;
    this.badge.textContent = String(count);
    this.badge.classList.toggle("zero", count === 0);
    this.button.setAttribute("aria-label", t("待办：%(count)s 项需处理", { count }));
    if (!this.open) return;
    if (!this.todo) {
      fill(this.panel, h("p", { class: "muted" }, this.error || t("正在读取待办…")));
      return;
    }
    const todo = this.todo;
    const unread = this.notifications.filter((n) => !n.read);
    fill(
      this.panel,
      this.error ? h("p", { class: "error", role: "alert" }, this.error) : null,
      h(
        "p",
        { class: "inbox-counts", id: "inbox-counts" },
        h("span", { class: "count overdue" }, t("逾期 %(n)s", { n: todo.overdue })),
        h("span", { class: "count due-soon" }, t("临期 %(n)s", { n: todo.due_soon })),
        h("span", { class: "count unread" }, t("未读通知 %(n)s", { n: todo.unread })),
      ),
      h(
        "div",
        { class: "inbox-head" },
        h("h2", {}, t("我的通知")),
        h(
          "button",
          { type: "button", class: "link", id: "inbox-read-all", disabled: !unread.length, onclick: () => this.readAll() },
          t("全部标为已读"),
        ),
      ),
      this.notifications.length
        ? h("ul", { class: "inbox-list", id: "inbox-notifications" }, this.notifications.map((n) => this.notificationItem(n)))
        : h("p", { class: "muted" }, t("没有通知。")),
      h("div", { class: "inbox-head" }, h("h2", {}, t("待我办理")), h("span", { class: "muted" }, t("共 %(n)s 项", { n: todo.total }))),
      todo.items.length
        ? h("ul", { class: "inbox-list", id: "inbox-due" }, todo.items.map((item) => this.dueItem(item)))
        : h("p", { class: "muted" }, t("没有到期事项。")),
    );
  }

  notificationItem(notification) {
    const href = itemLink(notification);
    const words = messageIn(notification.message);
    const text = href
      ? h("a", { href, onclick: (event) => this.openNotification(event, notification, href) }, words)
      : h("span", {}, words);
    return h(
      "li",
      { class: notification.read ? "read" : "unread", dataset: { notification: notification.id } },
      h("div", { class: "what" }, text),
      h(
        "div",
        { class: "meta" },
        notification.due ? h("span", {}, t("期限：%(due)s", { due: notification.due })) : null,
        notification.read
          ? h("span", { class: "muted" }, t("（已读）"))
          : h("button", { type: "button", class: "link", onclick: () => this.read(notification) }, t("标为已读")),
      ),
    );
  }

  dueItem(item) {
    const href = itemLink(item);
    const label = (KINDS[item.kind] || (() => item.kind))();
    const about = item.clue_code || item.district || "";
    return h(
      "li",
      { class: `due ${item.state}` },
      h("div", { class: "what" }, href ? h("a", { href }, `${label} · ${about}`) : `${label} · ${about}`),
      h(
        "div",
        { class: "meta" },
        h("span", { class: `state ${item.state}` }, (STATES[item.state] || (() => item.state))()),
        h("span", {}, t("期限：%(due)s", { due: item.due })),
        h("span", { class: "muted" }, item.agency),
      ),
    );
  }

  async read(notification) {
    try {
      await post(`notifications/${notification.id}/read/`);
    } catch (error) {
      this.error = error.message;
    }
    await this.refresh();
  }

  async readAll() {
    try {
      await post("notifications/read_all/");
    } catch (error) {
      this.error = error.message;
    }
    await this.refresh();
  }

  /** Opening a notification marks it read, then goes where it leads. */
  async openNotification(event, notification, href) {
    if (notification.read || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    try {
      await post(`notifications/${notification.id}/read/`);
    } catch {
      // Going there matters more than the mark: the user can mark it read later.
    }
    window.location.assign(href);
  }
}

let inbox = null;

/** Ask the inbox to read its counts again (e.g. after a workflow step): `document` hears it too. */
export function inboxRefresh() {
  document.dispatchEvent(new Event("desk:inbox-refresh"));
}

/** The language switch keeps the page's query as it is now (the review map keeps its filters there). */
function languageSwitchKeepsQuery() {
  const link = document.querySelector(".desk-top a.lang");
  if (!link) return;
  link.addEventListener("click", () => {
    const query = new URLSearchParams(window.location.search);
    query.set("lang", new URLSearchParams(link.search).get("lang"));
    link.search = `?${query}`;
  });
}

/** Start the shared parts of a desk page (the inbox in the header, the language switch); return the
 * page's configuration. */
export function deskStart() {
  languageSwitchKeepsQuery();
  const root = document.getElementById("inbox");
  if (root && !inbox) {
    inbox = new Inbox(root);
    inbox.refresh();
    setInterval(() => inbox.refresh(), REFRESH_MS);
  }
  return deskConfig();
}
