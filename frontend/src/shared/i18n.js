// The app's words go through Django's JavaScript catalog (/patrol/jsi18n/, loaded before the app):
// the msgids are the Chinese text (zh-hans is the default language), the English catalog translates them.
// Without the catalog (a test in node), the Chinese text is shown as it is.

/** Translate `text` through the catalog, then fill %(name)s placeholders from `values`. */
export function t(text, values) {
  const catalog = typeof globalThis.gettext === "function" ? globalThis.gettext : (s) => s;
  const translated = catalog(text);
  if (!values) return translated;
  return translated.replace(/%\((\w+)\)s/g, (_, name) => (name in values ? String(values[name]) : ""));
}

/** Translate a singular/plural pair for `count`, filling %(count)s and the other placeholders. */
export function tn(singular, plural, count, values = {}) {
  const catalog =
    typeof globalThis.ngettext === "function" ? globalThis.ngettext : (s, p, n) => (n === 1 ? s : p);
  const translated = catalog(singular, plural, count);
  const all = { count, ...values };
  return translated.replace(/%\((\w+)\)s/g, (_, name) => (name in all ? String(all[name]) : ""));
}

/** The page's language, as Django set it on <html lang>. */
export function language() {
  return (globalThis.document?.documentElement.lang || "zh-hans").toLowerCase();
}
