from django.urls import path

from . import views

app_name = "frontend"
urlpatterns = [
    path("", views.network_map, name="map"),
    path("healthz", views.healthz, name="healthz"),
]
