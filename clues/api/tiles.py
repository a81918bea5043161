"""/tiles/clues/ and /tiles/clue-heat/: the review map's clue layers, filtered as the clue list is."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from rest_framework.exceptions import ValidationError
from rest_framework.views import APIView

from rivers.tiles import tile_in_range

from ..filters import clues_filter
from ..models import Clue
from ..tiles import clue_tile_render


class ClueTileView(APIView):
    """Serve a tile of clues (clusters with per-status counts) or of their heat, to signed-in users.

    Only the clues the user may see (Clue.objects.visible_to), narrowed by the list's query-string
    filters (clues.filters: status, category, source, district, reach, q, from, to, overdue, mine).
    `?size=512`: the page draws the tile 512 pixels wide (a zoom level up, a quarter of the requests).
    """

    schema = None  # bytes, documented in the README with the other tiles

    def get(self, request, layer: str, z: int, x: int, y: int) -> HttpResponse:
        if not tile_in_range(z, x, y):
            raise Http404("no such tile")
        size = request.query_params.get("size", "256")
        if size not in ("256", "512"):
            raise ValidationError({"size": "256 或 512 / 256 or 512"})
        clues = clues_filter(request, Clue.objects.visible_to(request.user))
        response = HttpResponse(
            clue_tile_render(layer, clues, z, x, y, size=int(size)), content_type="application/vnd.mapbox-vector-tile"
        )
        # Clues change with every step: a browser may reuse a tile for a minute, and no shared cache at all.
        response["Cache-Control"] = "private, max-age=60"
        return response


clue_tile_view = ClueTileView.as_view()
