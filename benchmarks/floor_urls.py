"""The site's URLs plus one authenticated API view that does nothing: the floor of every API request
(the middleware, the token's check, the throttle, REST framework's dispatch), measured by the bench."""

from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from config.urls import urlpatterns as site_urlpatterns


class NothingView(APIView):
    """GET answers an empty object, after everything the API's views run first (their defaults)."""

    def get(self, request):
        return Response({})


urlpatterns = [path("bench/nothing/", NothingView.as_view()), *site_urlpatterns]
