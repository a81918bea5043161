from django.urls import path

from .views import tile_view

urlpatterns = [path("<str:layer>/<int:z>/<int:x>/<int:y>.pbf", tile_view, name="tile")]
