// Vector tiles from /tiles/ drawn on canvas tiles: Leaflet moves finished bitmaps while panning, so the
// frame time does not depend on how many clues are behind them (issue 9 §1: smooth with 10^5 clues).
import L from "leaflet";
import { VectorTile } from "@mapbox/vector-tile";
import Pbf from "pbf";

/** Decode an MVT into {layer name: [{type, properties, rings}]}, coordinates in tile pixels (0…size). */
export function tileDecode(buffer, size) {
  const tile = new VectorTile(new Pbf(buffer));
  const layers = {};
  for (const [name, layer] of Object.entries(tile.layers)) {
    const scale = size / layer.extent;
    const features = [];
    for (let i = 0; i < layer.length; i++) {
      const feature = layer.feature(i);
      const rings = feature.loadGeometry().map((ring) => ring.map((p) => [p.x * scale, p.y * scale]));
      features.push({ type: feature.type, properties: feature.properties, rings });
    }
    layers[name] = features;
  }
  return layers;
}

/**
 * A grid layer of canvas tiles drawn from vector tiles.
 * Options: url(coords) → the tile's URL; draw(ctx, layers, size, coords) paints a decoded tile.
 * Events: `tilesdrawn` when every tile of the view is drawn; `tileerror` as Leaflet's.
 */
export const VectorCanvasLayer = L.GridLayer.extend({
  options: { url: null, draw: null, updateWhenZooming: false, keepBuffer: 2 },

  initialize(options) {
    L.GridLayer.prototype.initialize.call(this, options);
    this._decoded = new Map(); // tile key → {coords, layers}
    this.on("tileunload", (event) => {
      event.tile._controller?.abort();
      this._decoded.delete(this._tileCoordsToKey(event.coords));
    });
    this.on("load", () => this.fire("tilesdrawn"));
  },

  createTile(coords, done) {
    const size = this.getTileSize().x;
    const ratio = window.devicePixelRatio || 1;
    const canvas = L.DomUtil.create("canvas", "vt-tile");
    canvas.width = canvas.height = size * ratio;
    canvas.style.width = canvas.style.height = `${size}px`;
    const controller = new AbortController();
    canvas._controller = controller;
    fetch(this.options.url(coords), { credentials: "same-origin", signal: controller.signal })
      .then((response) => {
        if (!response.ok) throw new Error(`${response.status}`);
        return response.arrayBuffer();
      })
      .then((buffer) => {
        const layers = tileDecode(buffer, size);
        this._decoded.set(this._tileCoordsToKey(coords), { coords, layers });
        const ctx = canvas.getContext("2d");
        ctx.scale(ratio, ratio);
        this.options.draw(ctx, layers, size, coords);
        done(null, canvas);
      })
      .catch((error) => {
        if (error.name !== "AbortError") done(error, canvas);
      });
    return canvas;
  },

  /** The decoded features of the tiles at the map's zoom whose own area intersects the view. */
  featuresInView(layerName) {
    const map = this._map;
    if (!map) return [];
    // Tile pixels are map pixels at the map's zoom, whatever the tile size.
    const zoom = Math.round(map.getZoom());
    const size = this.getTileSize().x;
    const pixels = map.getPixelBounds();
    const found = [];
    for (const { coords, layers } of this._decoded.values()) {
      if (coords.z !== this._tileZoom) continue;
      for (const feature of layers[layerName] || []) {
        const [x, y] = feature.rings[0]?.[0] || [];
        const px = coords.x * size + x, py = coords.y * size + y;
        if (px >= pixels.min.x && px <= pixels.max.x && py >= pixels.min.y && py <= pixels.max.y) {
          found.push({ feature, latlng: map.unproject([px, py], zoom) });
        }
      }
    }
    return found;
  },

  /** The point feature of `layerName` nearest to `latlng` within `radius(feature)` pixels, or null. */
  featureAt(latlng, layerName, radius) {
    const map = this._map;
    if (!map) return null;
    const zoom = Math.round(map.getZoom());
    const size = this.getTileSize().x;
    const point = map.project(latlng, zoom);
    let best = null;
    for (const { coords, layers } of this._decoded.values()) {
      if (coords.z !== this._tileZoom) continue;
      const left = coords.x * size, top = coords.y * size;
      for (const feature of layers[layerName] || []) {
        const [x, y] = feature.rings[0]?.[0] || [];
        const distance = Math.hypot(left + x - point.x, top + y - point.y);
        if (distance <= radius(feature) && (!best || distance < best.distance)) {
          best = { feature, distance, latlng: map.unproject([left + x, top + y], zoom) };
        }
      }
    }
    return best;
  },
});
