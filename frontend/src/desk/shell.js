// What every desk page shares: the header's to-do inbox (待办) and the page's configuration from its <body>.
// Each page's bundle (clues.js, clue.js, liaison.js) calls deskStart() first.
import { t } from "../shared/i18n.js";

/** The page's configuration, as the template put it in <script type="application/json" id="desk-config">. */
export function deskConfig() {
  const node = document.getElementById("desk-config");
  return node ? JSON.parse(node.textContent) : {};
}

/** Start the shared parts of a desk page: the inbox in the header. */
export function deskStart() {
  const inbox = document.getElementById("inbox");
  if (inbox) inbox.textContent = t("待办");
  return deskConfig();
}
