// The review map's state in the page's URL, so that a view can be shared: the filters (the same query
// parameters as GET /api/v1/clues/ and the clue tiles), the list's order and page, the layers and the view.

export const FILTERS = ["status", "category", "district", "source", "from", "to", "overdue", "mine"];
export const LAYERS = ["districts", "reaches", "tracks", "heat", "clues"];
export const DEFAULT_LAYERS = ["districts", "reaches", "clues"];
export const DEFAULT_ORDERING = "-created_at";
export const PAGE_SIZE = 20;

/** Read the state from a query string (location.search). */
export function stateFromSearch(search) {
  const params = new URLSearchParams(search);
  const list = (name) => (params.get(name) || "").split(",").filter(Boolean);
  const state = {
    status: list("status"),
    category: list("category"),
    district: params.get("district") || "",
    source: params.get("source") || "",
    from: params.get("from") || "",
    to: params.get("to") || "",
    overdue: params.get("overdue") === "1" || params.get("overdue") === "true",
    mine: params.get("mine") === "1" || params.get("mine") === "true",
    ordering: params.get("ordering") || DEFAULT_ORDERING,
    page: Math.max(1, parseInt(params.get("page") || "1", 10) || 1),
    layers: params.has("layers") ? list("layers").filter((name) => LAYERS.includes(name)) : [...DEFAULT_LAYERS],
    view: null,
  };
  const view = (params.get("map") || "").split("/").map(Number);
  if (view.length === 3 && view.every(Number.isFinite)) state.view = { zoom: view[0], lat: view[1], lng: view[2] };
  return state;
}

/** The filters as API query parameters (what the list, the tiles and their counts all read). */
export function filterParams(state) {
  const params = new URLSearchParams();
  for (const name of ["status", "category"]) if (state[name].length) params.set(name, state[name].join(","));
  for (const name of ["district", "source", "from", "to"]) if (state[name]) params.set(name, state[name]);
  if (state.overdue) params.set("overdue", "true");
  if (state.mine) params.set("mine", "true");
  return params;
}

/** The whole state as the page's query string (without the leading "?"). */
export function searchFromState(state) {
  const params = filterParams(state);
  if (params.get("overdue")) params.set("overdue", "1");
  if (params.get("mine")) params.set("mine", "1");
  if (state.ordering !== DEFAULT_ORDERING) params.set("ordering", state.ordering);
  if (state.page > 1) params.set("page", String(state.page));
  if (state.layers.join(",") !== DEFAULT_LAYERS.join(",")) params.set("layers", state.layers.join(","));
  if (state.view) {
    const { zoom, lat, lng } = state.view;
    params.set("map", `${zoom}/${lat.toFixed(5)}/${lng.toFixed(5)}`);
  }
  return params.toString().replace(/%2C/g, ",").replace(/%2F/g, "/");
}
