from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "河长+检察长 协作平台"
admin.site.site_title = "河长+检察长"
admin.site.index_title = "管理 Administration"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api")),
    # The clue layers first: the network's `<layer>/…` pattern would take their paths too.
    path("tiles/", include("clues.tile_urls")),
    path("tiles/", include("rivers.tile_urls")),
    path("", include("frontend.urls")),
]
