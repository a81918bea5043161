"""The API's sign-in door: username and password in, an expiring token out.

It goes through django.contrib.auth.authenticate() with the request, so django-axes counts its
failures with those of /login/ and /admin/login/ and locks all three doors alike.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api_input import serializers

from .accounts import token_issue
from .authentication import ScopeThrottle, lockout_response

WRONG_CREDENTIALS = "用户名或密码错误 / wrong username or password"


class SignInSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})


class TokenObtainView(APIView):
    """签发令牌 Sign in with username and password; answer the API token (a fresh one once it expired)."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopeThrottle]
    throttle_scope = "sign_in"
    serializer_class = SignInSerializer

    @extend_schema(
        request=SignInSerializer,
        responses={
            200: inline_serializer("Token", {"token": serializers.CharField(), "expires": serializers.DateTimeField()})
        },
    )
    def post(self, request):
        form = SignInSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        # The Django request, not DRF's wrapper: django-axes marks a locked-out request on it.
        django_request = request._request
        user = authenticate(django_request, **form.validated_data)
        if user is None:
            if getattr(django_request, "axes_locked_out", False):
                return lockout_response(django_request)
            raise exceptions.ValidationError({"non_field_errors": [WRONG_CREDENTIALS]})
        token = token_issue(user=user)
        expires = token.created + datetime.timedelta(days=settings.API_TOKEN_TTL_DAYS)
        return Response({"token": token.key, "expires": expires})
