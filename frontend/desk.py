"""The desk's pages: the clue review map, a clue's own page and the liaison office's dashboard (issue 9).

Each page is a template extending frontend/desk/base.html plus one bundle built from frontend/src/desk/
(build/desk/<page>.js and .css). The pages read everything through /api/v1/ and /tiles/; what a view
puts in the page's configuration (`config`) follows the same rules as the API.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET
from django.views.i18n import JavaScriptCatalog

from clues.models import Clue

from .basemaps import basemaps_config
from .patrol import NOT_BUILT, build_info


def _desk_render(request, page: str, context: dict | None = None):
    """Render desk page `page`; ?lang=en|zh-hans sets the language cookie and comes back without it.

    The page's `config` (JSON in <script id="desk-config">) holds what the shell needs (`basemaps`:
    the configured choice, the one to show first first) and what the page adds (context["config"]).
    """
    language = request.GET.get("lang")
    if language in dict(settings.LANGUAGES):
        # The rest of the query stays: the review map keeps its filters there.
        rest = request.GET.copy()
        del rest["lang"]
        response = redirect(f"{request.path}?{rest.urlencode()}" if rest else request.path)
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, max_age=365 * 24 * 3600, samesite="Lax")
        return response
    build = build_info()
    if build is None or "desk" not in build:
        return HttpResponse(NOT_BUILT, status=503, content_type="text/plain; charset=utf-8")
    version = build["desk"]["version"]
    context = dict(context or {})
    shell = {"basemaps": basemaps_config(settings.BASEMAPS, settings.TIANDITU_KEY, settings.BASEMAP_DEFAULT)}
    context["config"] = {**shell, **context.get("config", {})}
    context = {
        "page": page,
        "script": f"{static(f'frontend/build/desk/{page}.js')}?v={version}",
        "style": f"{static(f'frontend/build/desk/{page}.css')}?v={version}",
        "other_language": "en" if translation.get_language() != "en" else "zh-hans",
        **context,
    }
    response = render(request, f"frontend/desk/{page}.html", context)
    patch_cache_control(response, private=True, no_cache=True)
    return response


@login_required
@require_GET
def clue_map(request):
    """The clue review map (/clues/): markers, filters, layers and the list beside the map."""
    return _desk_render(request, "clues")


@login_required
@require_GET
def clue_page(request, pk: int):
    """A clue's own page (/clues/{id}/); 404 where the user may not see the clue (DESIGN §5)."""
    clue = Clue.objects.visible_to(request.user).filter(pk=pk).only("pk", "code").first()
    if clue is None:
        raise Http404
    return _desk_render(request, "clue", {"clue": clue, "config": {"clue": clue.pk}})


@login_required
@require_GET
def clue_new(request):
    """Registering a clue from the desk (/clues/new/): the point on a map, the routing preview, duplicates."""
    return _desk_render(request, "register")


@login_required
@require_GET
def liaison_dashboard(request):
    """The liaison office's dashboard (/liaison/): focus, work points, compliance, due items, figures."""
    return _desk_render(request, "liaison")


# The desk's strings: the same catalog as the patrol app's (frontend/locale/*/LC_MESSAGES/djangojs.po).
desk_catalog = JavaScriptCatalog.as_view(packages=["frontend"], domain="djangojs")
