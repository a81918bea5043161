"""The public API under /api/v1/: every page of the product uses these same endpoints."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from clues.api.batches import TransferBatchViewSet
from clues.api.clues import ClueViewSet, SuggestionViewSet
from clues.api.figures import FiguresView
from clues.api.notifications import NotificationViewSet
from rivers.api import DistrictViewSet, ReachViewSet, RoutingView, WaterBodyViewSet

router = DefaultRouter()
router.register("districts", DistrictViewSet)
router.register("reaches", ReachViewSet)
router.register("waterbodies", WaterBodyViewSet)
router.register("clues", ClueViewSet, basename="clue")
router.register("suggestions", SuggestionViewSet, basename="suggestion")
router.register("notifications", NotificationViewSet, basename="notification")
router.register("batches", TransferBatchViewSet, basename="batch")

urlpatterns = [
    path("routing/", RoutingView.as_view(), name="routing"),
    path("figures/", FiguresView.as_view(), name="figures"),
    path("batches/<int:pk>/letter.pdf", TransferBatchViewSet.as_view({"get": "letter"}), name="batch-letter"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("", include(router.urls)),
]
