"""The clue layers of /tiles/ (clues.tiles); config.urls puts them before the network's layers."""

from django.urls import path

from .api.tiles import clue_tile_view

urlpatterns = [
    path("clues/<int:z>/<int:x>/<int:y>.pbf", clue_tile_view, {"layer": "clues"}, name="clue-tile"),
    path("clue-heat/<int:z>/<int:x>/<int:y>.pbf", clue_tile_view, {"layer": "clue-heat"}, name="clue-heat-tile"),
]
