from django.http import Http404, HttpResponse, JsonResponse

from .tiles import TILE_LAYERS, tile_in_range, tile_render


def tile_view(request, layer: str, z: int, x: int, y: int) -> HttpResponse:
    """Serve /tiles/{layer}/{z}/{x}/{y}.pbf to signed-in users."""
    if not request.user.is_authenticated:
        return JsonResponse({"detail": "需要登录 / authentication required"}, status=401)
    if layer not in TILE_LAYERS or not tile_in_range(z, x, y):
        raise Http404("no such tile")
    response = HttpResponse(tile_render(layer, z, x, y), content_type="application/vnd.mapbox-vector-tile")
    # Network layers change only when an administrator loads data; browsers may reuse a tile a while.
    response["Cache-Control"] = "private, max-age=300"
    return response
