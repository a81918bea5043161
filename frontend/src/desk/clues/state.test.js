import assert from "node:assert/strict";
import { test } from "node:test";

import { DEFAULT_LAYERS, filterParams, searchFromState, stateFromSearch } from "./state.js";

test("a shared view's URL gives back the same filters, order, page, layers and view", () => {
  const search = "?status=accepted,transferred&district=500110&overdue=1&ordering=code&page=3&layers=heat,clues&map=12/28.95000/106.65000";
  const state = stateFromSearch(search);
  assert.deepEqual(state.status, ["accepted", "transferred"]);
  assert.equal(state.district, "500110");
  assert.equal(state.overdue, true);
  assert.equal(state.mine, false);
  assert.equal(state.page, 3);
  assert.deepEqual(state.layers, ["heat", "clues"]);
  assert.deepEqual(state.view, { zoom: 12, lat: 28.95, lng: 106.65 });
  assert.equal(`?${searchFromState(state)}`, search);
});

test("the API's parameters are the filters only, with true for the flags", () => {
  const state = stateFromSearch("?category=shoreline&mine=1&from=2026-01-01&page=2&ordering=-code");
  assert.equal(filterParams(state).toString(), "category=shoreline&from=2026-01-01&mine=true");
});

test("an empty URL is the default view; unknown layers are dropped", () => {
  assert.deepEqual(stateFromSearch("").layers, DEFAULT_LAYERS);
  assert.deepEqual(stateFromSearch("?layers=clues,nope").layers, ["clues"]);
  assert.equal(searchFromState(stateFromSearch("")), "");
  assert.equal(stateFromSearch("?page=-4").page, 1);
});
