from django.contrib.auth import views as auth_views
from django.urls import path

from . import desk, patrol, views

app_name = "frontend"
urlpatterns = [
    path("", views.network_map, name="map"),
    path("patrol/", patrol.patrol_app, name="patrol"),
    path("patrol/sw.js", patrol.patrol_sw, name="patrol-sw"),
    path("patrol/manifest.webmanifest", patrol.patrol_manifest, name="patrol-manifest"),
    path("patrol/jsi18n/", patrol.patrol_catalog, name="patrol-jsi18n"),
    path("clues/", desk.clue_map, name="clues"),
    path("clues/new/", desk.clue_new, name="clue-new"),
    path("clues/<int:pk>/", desk.clue_page, name="clue"),
    path("liaison/", desk.liaison_dashboard, name="liaison"),
    path("desk/jsi18n/", desk.desk_catalog, name="desk-jsi18n"),
    path("login/", auth_views.LoginView.as_view(template_name="frontend/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", views.healthz, name="healthz"),
]
