/* River network map: layers from the public API, routing on tap. */
(function () {
  "use strict";
  var API = "/api/v1/";
  var map = L.map("map", { preferCanvas: true }).setView([29.03, 106.65], 10);
  window.networkMap = map; // for scripts and browser tests
  L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", {
    maxZoom: 18,
    attribution: "&copy; OpenStreetMap contributors",
  }).addTo(map);

  var REASONS = {
    district: "属地区检察院 · district procuratorate",
    cross_district: "跨区划河流，报送市检察院 · cross-district: municipal procuratorate",
    outside_districts: "不在任何区县内，报送市检察院 · outside every district: municipal procuratorate",
  };
  var LEVELS = { city: "市级", district: "区级", town: "镇级", village: "村级" };

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) { throw new Error(body.detail || JSON.stringify(body)); }
        return body;
      });
    });
  }

  function text(tag, value, cls) {
    var el = document.createElement(tag);
    el.textContent = value;
    if (cls) { el.className = cls; }
    return el;
  }

  function features(url) {
    return getJSON(url).then(function (page) { return page.results || page; });
  }

  var districts = L.geoJSON(null, {
    style: function (f) {
      return f.properties.level === "city"
        ? { color: "#555", weight: 1, dashArray: "4 4", fill: false }
        : { color: "#8a5a00", weight: 2, fillOpacity: 0.04 };
    },
    onEachFeature: function (f, layer) { layer.bindTooltip(f.properties.name); },
  }).addTo(map);
  var reaches = L.geoJSON(null, {
    style: function (f) {
      return { color: f.properties.is_cross_district ? "#d7191c" : "#1f78b4", weight: f.properties.level === "city" ? 5 : 3 };
    },
    onEachFeature: function (f, layer) {
      layer.bindTooltip(f.properties.name + " · " + (LEVELS[f.properties.level] || "") + "河长");
    },
  }).addTo(map);
  var waterbodies = L.geoJSON(null, { style: { color: "#0570b0", weight: 1, fillOpacity: 0.5 } }).addTo(map);

  Promise.all([
    features(API + "districts/").then(function (fc) { districts.addData(fc); }),
    features(API + "reaches/").then(function (fc) { reaches.addData(fc); }),
    features(API + "waterbodies/").then(function (fc) { waterbodies.addData(fc); }),
  ]).then(function () {
    // The reaches are where the work is; a city's outline can be far larger than its rivers.
    var bounds = reaches.getBounds().isValid() ? reaches.getBounds() : districts.getBounds();
    if (bounds.isValid()) { map.fitBounds(bounds.pad(0.05), { animate: false }); }
    document.body.dataset.loaded = "true";
  }).catch(function (err) { showError(err); });

  L.control.layers(null, { "行政区划 Districts": districts, "河段 Reaches": reaches, "水库 Water bodies": waterbodies }).addTo(map);
  var legend = L.control({ position: "bottomleft" });
  legend.onAdd = function () {
    var div = L.DomUtil.create("div", "legend");
    div.innerHTML = '<div><i style="background:#1f78b4"></i>河段 reach</div>' +
      '<div><i style="background:#d7191c"></i>跨区划河段 cross-district</div>';
    return div;
  };
  legend.addTo(map);

  var panel = document.getElementById("panel");
  var marker = null;

  function showError(err) {
    panel.replaceChildren(text("p", "出错了 Error: " + err.message, "error"));
  }

  function showRouting(r) {
    var dl = document.createElement("dl");
    function row(label, value, cls) { dl.append(text("dt", label), text("dd", value, cls)); }
    row("接收单位 Receiver", r.procuratorate.name + " (" + r.procuratorate.code + ")");
    row("依据 Reason", REASONS[r.reason] || r.reason, r.reason === "district" ? "" : "cross");
    row("区县 District", r.district ? r.district.name : "—");
    row("河段 Reach", r.reach ? r.reach.name + (r.reach.is_cross_district ? "（跨区划 cross-district）" : "") : "附近无河段 none nearby");
    if (r.copies.length) { row("抄送 Copies", r.copies.join(", ")); }
    panel.replaceChildren(dl);
    panel.dataset.reason = r.reason;
  }

  map.on("click", function (e) {
    var lon = e.latlng.lng.toFixed(6), lat = e.latlng.lat.toFixed(6);
    if (marker) { marker.setLatLng(e.latlng); } else { marker = L.marker(e.latlng).addTo(map); }
    panel.replaceChildren(text("p", "查询中 Routing…", "hint"));
    getJSON(API + "routing/?lon=" + lon + "&lat=" + lat).then(showRouting).catch(showError);
  });
})();
