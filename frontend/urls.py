from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

app_name = "frontend"
urlpatterns = [
    path("", views.network_map, name="map"),
    path("login/", auth_views.LoginView.as_view(template_name="frontend/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", views.healthz, name="healthz"),
]
