"""The public API under /api/v1/: every page of the product uses these same endpoints."""

from django.urls import include, path
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.permissions import IsAuthenticated

from clues.api.batches import TransferBatchViewSet
from clues.api.clues import ClueViewSet, SuggestionViewSet
from clues.api.figures import FiguresView
from clues.api.meeting import DeadlinesView, MeetingPackView
from clues.api.notifications import NotificationViewSet, TodoView
from config.api_input.routers import NumericIdRouter
from patrols.api.boards import DistrictBoardsView, ReachBoardView, WaterBodyBoardView
from patrols.api.findings import FindingViewSet
from patrols.api.me import MeView
from patrols.api.patrols import PatrolViewSet
from patrols.api.photos import FindingPhotosView, PhotoFileView
from patrols.api.plans import ComplianceView, FocusView, WorkPlanView
from patrols.api.routes import PatrolRouteViewSet
from rivers.api import CategoriesView, DistrictViewSet, ReachViewSet, RoutingView, WaterBodyViewSet
from rivers.signin import TokenObtainView


class RedocView(SpectacularRedocView):
    """ReDoc's page, served with the project's copy of ReDoc (drf-spectacular-sidecar) and without the
    web fonts its stock template fetches from Google. ReDoc's sidebar always asks cdn.redoc.ly for its
    logo: the page's Content-Security-Policy keeps images local, so the browser never sends that request.
    """

    template_name = "frontend/redoc.html"

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        response["Content-Security-Policy"] = "img-src 'self' data:"
        return response


router = NumericIdRouter()
router.register("districts", DistrictViewSet)
router.register("reaches", ReachViewSet)
router.register("waterbodies", WaterBodyViewSet)
router.register("routes", PatrolRouteViewSet, basename="route")
router.register("clues", ClueViewSet, basename="clue")
router.register("patrols", PatrolViewSet, basename="patrol")
router.register("findings", FindingViewSet, basename="finding")
router.register("suggestions", SuggestionViewSet, basename="suggestion")
router.register("notifications", NotificationViewSet, basename="notification")
router.register("batches", TransferBatchViewSet, basename="batch")

urlpatterns = [
    # A phone signs in once with username and password and keeps the token (Authorization: Token <key>).
    path("auth/token/", TokenObtainView.as_view(), name="auth-token"),
    path("routing/", RoutingView.as_view(), name="routing"),
    path("me/", MeView.as_view(), name="me"),
    path("categories/", CategoriesView.as_view(), name="categories"),
    # 公示牌: a reach's or water body's board, and every board of a district for the phone's cache.
    path("reaches/<str:code>/board/", ReachBoardView.as_view(), name="reach-board"),
    path("waterbodies/<str:code>/board/", WaterBodyBoardView.as_view(), name="waterbody-board"),
    path("boards/", DistrictBoardsView.as_view(), name="boards"),
    path("figures/", FiguresView.as_view(), name="figures"),
    path("todo/", TodoView.as_view(), name="todo"),
    # The liaison dashboard (issue 9): deadlines due soon and overdue, the joint-meeting pack.
    path("deadlines/", DeadlinesView.as_view(), name="deadlines"),
    path("meeting-pack/", MeetingPackView.as_view(), name="meeting-pack"),
    path("focus/", FocusView.as_view(), name="focus"),
    path("work-plans/", WorkPlanView.as_view(), name="work-plans"),
    path("compliance/", ComplianceView.as_view(), name="compliance"),
    path("batches/<int:pk>/letter.pdf", TransferBatchViewSet.as_view({"get": "letter"}), name="batch-letter"),
    path("findings/<int:finding_id>/photos/", FindingPhotosView.as_view(), name="finding-photos"),
    path("photos/<int:pk>/display/", PhotoFileView.as_view(variant="display"), name="photo-display"),
    path("photos/<int:pk>/thumbnail/", PhotoFileView.as_view(variant="thumbnail"), name="photo-thumbnail"),
    path("photos/<int:pk>/original/", PhotoFileView.as_view(variant="original"), name="photo-original"),
    # Like every other endpoint, the schema and its docs are for signed-in users only.
    path("schema/", SpectacularAPIView.as_view(permission_classes=[IsAuthenticated]), name="schema"),
    path(
        "docs/",
        SpectacularSwaggerView.as_view(url_name="schema", permission_classes=[IsAuthenticated]),
        name="docs",
    ),
    path("redoc/", RedocView.as_view(url_name="schema", permission_classes=[IsAuthenticated]), name="redoc"),
    path("", include(router.urls)),
]
