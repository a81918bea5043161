from django.http import Http404, HttpResponse
from rest_framework.views import APIView

from .tiles import TILE_LAYERS, tile_in_range, tile_render


class TileView(APIView):
    """Serve /tiles/{layer}/{z}/{x}/{y}.pbf to signed-in users, by session or token like the API."""

    # Bytes go out as they are: no renderer, and no schema (tiles are documented in the README).
    schema = None

    def get(self, request, layer: str, z: int, x: int, y: int) -> HttpResponse:
        if layer not in TILE_LAYERS or not tile_in_range(z, x, y):
            raise Http404("no such tile")
        response = HttpResponse(tile_render(layer, z, x, y), content_type="application/vnd.mapbox-vector-tile")
        # Network layers change only when an administrator loads data; browsers may reuse a tile a while.
        response["Cache-Control"] = "private, max-age=300"
        return response


tile_view = TileView.as_view()
