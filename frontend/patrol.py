"""The patrol app's shell: the page, its service worker, its manifest and its strings (frontend/src/patrol/)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from django.views.i18n import JavaScriptCatalog

BUILD_DIR = Path(__file__).resolve().parent / "static" / "frontend" / "build"


@lru_cache(maxsize=4)
def _build_info(mtime_ns: int) -> dict:
    return json.loads((BUILD_DIR / "build.json").read_text())


def build_info() -> dict | None:
    """Return the build's version and files (build.json, written by frontend/build.mjs), or None unbuilt."""
    try:
        return _build_info((BUILD_DIR / "build.json").stat().st_mtime_ns)
    except FileNotFoundError:
        return None


def asset_url(name: str, build: dict) -> str:
    """The URL of a built file as the service worker caches it (versioned, so a new build is new URLs)."""
    return f"{static('frontend/build/' + name)}?v={build['version']}"


NOT_BUILT = "前端尚未构建：请运行 scripts/frontend.sh / The app is not built: run scripts/frontend.sh (make run does)"


@login_required
@require_GET
def patrol_app(request):
    """The patrol app's page; ?lang=en|zh-hans switches the language (Django's language cookie) and returns."""
    language = request.GET.get("lang")
    if language in dict(settings.LANGUAGES):
        response = redirect("frontend:patrol")
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, max_age=365 * 24 * 3600, samesite="Lax")
        return response
    build = build_info()
    if build is None:
        return HttpResponse(NOT_BUILT, status=503, content_type="text/plain; charset=utf-8")
    context = {
        "script": asset_url("patrol.js", build),
        "style": asset_url("patrol.css", build),
        "icon": asset_url("icon-192.png", build),
        "version": build["version"],
        "other_language": "en" if translation.get_language() != "en" else "zh-hans",
    }
    response = render(request, "frontend/patrol.html", context)
    patch_cache_control(response, private=True, no_cache=True)  # the worker keeps the offline copy
    return response


@require_GET
def patrol_sw(request):
    """The service worker, from /patrol/ so that its scope is the app; never cached by HTTP (updates)."""
    if build_info() is None:
        return HttpResponse(f"/* {NOT_BUILT} */", status=404, content_type="text/javascript")
    response = FileResponse((BUILD_DIR / "sw.js").open("rb"), content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/patrol/"
    patch_cache_control(response, no_cache=True, max_age=0)
    return response


@require_GET
def patrol_manifest(request):
    """The web app manifest: installable, opens on /patrol/ in its own window."""
    build = build_info() or {"version": "unbuilt"}
    body = {
        "name": _("河长+检察长 巡河"),
        "short_name": _("巡河"),
        "description": _("联合巡查：轨迹、发现与照片，离线可用"),
        "lang": translation.get_language(),
        "start_url": "/patrol/",
        "scope": "/patrol/",
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#ffffff",
        "theme_color": "#0b4f8a",
        "icons": [
            {"src": asset_url(f"icon-{size}.png", build), "sizes": f"{size}x{size}", "type": "image/png",
             "purpose": "any maskable"}
            for size in (192, 512)
        ],
    }  # fmt: skip
    return JsonResponse(body, content_type="application/manifest+json", json_dumps_params={"ensure_ascii": False})


# The app's strings (frontend/locale/*/LC_MESSAGES/djangojs.po); msgids are the Chinese text.
patrol_catalog = JavaScriptCatalog.as_view(packages=["frontend"], domain="djangojs")
