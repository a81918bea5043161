// GCJ-02, the obfuscated datum of Chinese web maps (高德 Amap's tiles are drawn in it): the published
// forward formula, the same as gis_data/coords.py's (tests/frontend/test_gcj02.py compares them).
// Everything the product stores is WGS84; this only moves GCJ-02 basemap tiles onto WGS84 data.

// Krasovsky 1940 semi-major axis and first eccentricity squared, as the formula uses them.
const A = 6378245.0;
const EE = 0.00669342162296594323;

/** Whether lon/lat lie in the box every common implementation treats as China (elsewhere no shift). */
export function inChina(lon, lat) {
  return lon > 72.004 && lon < 137.8347 && lat > 0.8293 && lat < 55.8271;
}

/** The GCJ-02 shift [dlon, dlat] in degrees at WGS84 lon/lat; zero outside China. */
function offset(lon, lat) {
  if (!inChina(lon, lat)) return [0, 0];
  const x = lon - 105.0, y = lat - 35.0;
  const common = ((20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0) / 3.0;
  let dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x)) + common;
  dlat += ((20.0 * Math.sin(y * Math.PI) + 40.0 * Math.sin((y / 3.0) * Math.PI)) * 2.0) / 3.0;
  dlat += ((160.0 * Math.sin((y / 12.0) * Math.PI) + 320.0 * Math.sin((y * Math.PI) / 30.0)) * 2.0) / 3.0;
  let dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x)) + common;
  dlon += ((20.0 * Math.sin(x * Math.PI) + 40.0 * Math.sin((x / 3.0) * Math.PI)) * 2.0) / 3.0;
  dlon += ((150.0 * Math.sin((x / 12.0) * Math.PI) + 300.0 * Math.sin((x / 30.0) * Math.PI)) * 2.0) / 3.0;
  const radLat = (lat * Math.PI) / 180.0;
  const magic = 1.0 - EE * Math.sin(radLat) ** 2;
  const sqrtMagic = Math.sqrt(magic);
  dlat = (dlat * 180.0) / (((A * (1.0 - EE)) / (magic * sqrtMagic)) * Math.PI);
  dlon = (dlon * 180.0) / ((A / sqrtMagic) * Math.cos(radLat) * Math.PI);
  return [dlon, dlat];
}

/** Return [lon, lat] in GCJ-02 for a WGS84 lon/lat. */
export function wgs84ToGcj02(lon, lat) {
  const [dlon, dlat] = offset(lon, lat);
  return [lon + dlon, lat + dlat];
}

/** Return [lon, lat] in WGS84 for a GCJ-02 lon/lat (fixed-point inversion, well under a millimetre). */
export function gcj02ToWgs84(lon, lat) {
  if (!inChina(lon, lat)) return [lon, lat];
  let wlon = lon, wlat = lat;
  for (let i = 0; i < 30; i++) {
    const [glon, glat] = wgs84ToGcj02(wlon, wlat);
    const slon = glon - lon, slat = glat - lat;
    wlon -= slon;
    wlat -= slat;
    if (Math.max(Math.abs(slon), Math.abs(slat)) < 1e-10) break;
  }
  return [wlon, wlat];
}

/** A Leaflet tile layer class (for Leaflet `L`) whose GCJ-02 tiles are shifted onto WGS84 data: the
 * layer is placed as if the map's centre were its GCJ-02 position, so that the street under a WGS84
 * point is drawn under it. The shift is the one at the centre of the view; across a district it
 * changes by well under a metre, far less than a pixel at street zoom. */
export function gcjTileLayerClass(L) {
  const shifted = (latlng) => {
    const point = L.latLng(latlng);
    const [lon, lat] = wgs84ToGcj02(point.lng, point.lat);
    return L.latLng(lat, lon);
  };
  return L.TileLayer.extend({
    _setZoomTransform(level, center, zoom) {
      return L.TileLayer.prototype._setZoomTransform.call(this, level, shifted(center), zoom);
    },
    _getTiledPixelBounds(center) {
      return L.TileLayer.prototype._getTiledPixelBounds.call(this, shifted(center));
    },
    // A pan moves the tiles with the map; at its end the shift is taken again at the new centre.
    _onMoveEnd() {
      if (this._map && !this._map._animatingZoom) this._setZoomTransforms(this._map.getCenter(), this._map.getZoom());
      return L.TileLayer.prototype._onMoveEnd.call(this);
    },
  });
}
