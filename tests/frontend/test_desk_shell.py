"""The desk's shell without a browser (issue 9 §6–7): the basemap choice in the page's configuration and
the admin's widgets, the GCJ-02 conversion of the pages against the server's, the language switch."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model

from frontend.basemaps import basemaps_config, leaflet_tiles
from gis_data.coords import gcj02_to_wgs84, wgs84_to_gcj02
from tests.frontend.test_build import signed_in  # noqa: F401 - a fixture

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"
ALL = ["tianditu_vec", "tianditu_img", "amap", "amap_img", "osm", "blank"]


def page_config(client, url: str) -> dict:
    html = client.get(url).content.decode()
    return json.loads(re.search(r'<script id="desk-config" type="application/json">(.*?)</script>', html, re.S)[1])


def test_tianditu_needs_its_key_and_the_default_comes_first():
    assert [b["id"] for b in basemaps_config(ALL, "")] == ["amap", "amap_img", "osm", "blank"]
    with_key = basemaps_config(ALL, "k3y", default="osm")
    assert [b["id"] for b in with_key] == ["osm", "tianditu_vec", "tianditu_img", "amap", "amap_img", "blank"]
    tianditu = next(b for b in with_key if b["id"] == "tianditu_vec")
    assert [layer["url"].split("T=")[1][:5] for layer in tianditu["layers"]] == ["vec_w", "cva_w"]  # map + labels
    assert all(layer["url"].endswith("tk=k3y") for layer in tianditu["layers"])
    assert [b["id"] for b in with_key if b["gcj02"]] == ["amap", "amap_img"]
    assert next(b for b in with_key if b["id"] == "blank")["layers"] == []
    assert [b["id"] for b in basemaps_config(["tianditu_vec"], "")] == ["blank"]  # always a background
    with pytest.raises(ValueError, match="unknown basemaps"):
        basemaps_config(["google"], "")


def test_the_admins_widgets_offer_the_same_choice_and_shift_amap():
    tiles = leaflet_tiles(ALL, "k3y", default="tianditu_img")
    assert [name for name, _, _ in tiles][:2] == ["天地图影像 Tianditu imagery", "天地图矢量 Tianditu map"]
    assert [options.get("gcj02", False) for name, _, options in tiles if "Amap" in name] == [True, True]
    assert django_settings.LEAFLET_CONFIG["TILES"] == leaflet_tiles(
        django_settings.BASEMAPS, django_settings.TIANDITU_KEY
    )
    forms = django_settings.LEAFLET_CONFIG["PLUGINS"]["forms"]["js"]  # django-leaflet adds the static prefix
    assert [url for url in forms if url.endswith("frontend/build/admin/leaflet-gcj02.js")]


def test_the_admins_map_widget_loads_the_gcj02_shift(signed_in):  # noqa: F811 - the fixture imported above
    root = get_user_model().objects.create_superuser("root", "root@example.org", "root-pass-2026")
    signed_in.force_login(root)
    from rivers.models import Reach

    html = signed_in.get(f"/admin/rivers/reach/{Reach.objects.first().pk}/change/").content.decode()
    assert "/static/frontend/build/admin/leaflet-gcj02.js" in html
    assert "autonavi" in html  # the configured tiles, not OpenStreetMap's alone


def test_every_desk_page_gets_the_configured_basemaps(signed_in, settings):  # noqa: F811
    settings.TIANDITU_KEY = "k3y"
    settings.BASEMAP_DEFAULT = "tianditu_vec"
    for url in ("/clues/", "/liaison/"):
        config = page_config(signed_in, url)
        assert [b["id"] for b in config["basemaps"]][:3] == ["tianditu_vec", "tianditu_img", "amap"]
    settings.BASEMAPS = ["blank"]
    assert page_config(signed_in, "/clues/")["basemaps"] == [{"id": "blank", "layers": [], "gcj02": False}]


def test_the_language_switch_keeps_the_rest_of_the_query(signed_in):  # noqa: F811
    response = signed_in.get("/clues/?status=transferred&lang=en&district=500110")
    assert response.status_code == 302
    assert response["Location"] == "/clues/?status=transferred&district=500110"
    html = signed_in.get(response["Location"]).content.decode()
    assert 'lang="en"' in html
    assert signed_in.get("/liaison/?lang=zh-hans")["Location"] == "/liaison/"


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js builds the app; scripts/bootstrap.sh installs it")
def test_the_pages_gcj02_conversion_agrees_with_the_servers():
    """frontend/src/shared/gcj02.js against gis_data.coords on a 1° grid over China: the same formula."""
    grid = [(lon + 0.37, lat + 0.61) for lon in range(74, 135, 3) for lat in range(18, 53, 3)]
    script = (
        "import { wgs84ToGcj02, gcj02ToWgs84 } from './src/shared/gcj02.js';"
        f"const grid = {json.dumps(grid)};"
        "console.log(JSON.stringify(grid.map(([lon, lat]) => [wgs84ToGcj02(lon, lat), gcj02ToWgs84(lon, lat)])));"
    )
    result = subprocess.run(
        ["node", "--input-type=module", "-e", script], cwd=FRONTEND, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    for (lon, lat), (forward, inverse) in zip(grid, json.loads(result.stdout), strict=True):
        assert forward == pytest.approx(wgs84_to_gcj02(lon, lat), abs=1e-9)  # about 0.1 mm
        assert inverse == pytest.approx(gcj02_to_wgs84(lon, lat), abs=1e-8)
