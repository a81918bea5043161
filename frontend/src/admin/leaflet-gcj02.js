// The admin's map widgets (django-leaflet, LEAFLET_CONFIG["PLUGINS"]["forms"]): 高德's tiles are GCJ-02,
// so a tile layer that frontend/basemaps.py marks `gcj02` is shifted onto the WGS84 geometries, as on
// the desk's maps. Loaded after django-leaflet's Leaflet and before its maps are made.
import { gcjTileLayerClass } from "../shared/gcj02.js";

const L = window.L;
if (L && L.TileLayer) {
  const GcjTileLayer = gcjTileLayerClass(L);
  const tileLayer = L.tileLayer;
  L.tileLayer = (url, options) => (options && options.gcj02 ? new GcjTileLayer(url, options) : tileLayer(url, options));
}
