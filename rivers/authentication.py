"""How the API and the pages authenticate: expiring tokens, throttles, and the lockout answer.

Loaded by REST framework's settings: nothing here may import rest_framework.views (rivers.signin
holds the token endpoint).
"""

from __future__ import annotations

import math

from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.html import escape
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.throttling import AnonRateThrottle, ScopedRateThrottle, UserRateThrottle

from .accounts import token_expired

TOKEN_EXPIRED = "登录凭证已过期，请重新登录 / the token has expired: sign in again"


class ExpiringTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>`, refused (401) once the token is older than API_TOKEN_TTL_DAYS.

    The token and its user are read in one raw statement: REST framework's
    `select_related("user").get(key=key)` cost 0.75 ms of CPU on every API request, this 0.25-0.35 ms
    (issue 7 §8). The answers are REST framework's own.
    """

    def authenticate_credentials(self, key):
        token_model, user_model = self.get_model(), get_user_model()
        sql = (
            f"SELECT u.*, t.created AS token_created FROM {token_model._meta.db_table} t "  # noqa: S608 - table names
            f"JOIN {user_model._meta.db_table} u ON u.{user_model._meta.pk.column} = t.user_id WHERE t.key = %s"
        )
        found = list(user_model.objects.raw(sql, [key]))
        if not found:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        user = found[0]
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        token = token_model(key=key, user=user, created=user.token_created)
        if token_expired(token):
            raise exceptions.AuthenticationFailed(TOKEN_EXPIRED)
        return user, token


class _RateFromSettings:
    """Read the rate when asked, from API_THROTTLE_RATES, so that a changed setting takes effect."""

    def get_rate(self):
        return settings.API_THROTTLE_RATES.get(self.scope)


class AnonThrottle(_RateFromSettings, AnonRateThrottle):
    pass


class UserThrottle(_RateFromSettings, UserRateThrottle):
    pass


class ScopeThrottle(_RateFromSettings, ScopedRateThrottle):
    pass


def lockout_message() -> str:
    minutes = max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))
    return (
        f"登录失败次数过多，该账号或地址已被锁定 {minutes} 分钟，请稍后再试。"
        f" / Too many failed sign-ins: this account or address is locked for {minutes} minutes; try again later."
    )


def lockout_response(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:  # noqa: ANN001
    """django-axes' answer to a locked-out sign-in: 429 with the reason, as JSON for the API."""
    message = lockout_message()
    wants_json = request.path.startswith("/api/") or "json" in request.headers.get("Accept", "")
    if wants_json:
        return JsonResponse({"detail": message}, status=429, json_dumps_params={"ensure_ascii": False})
    page = (
        '<!doctype html><html lang="zh-hans"><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>登录已锁定 Sign-in locked</title><p>{escape(message)}</p></html>"
    )
    return HttpResponse(page, status=429, content_type="text/html; charset=utf-8")


def api_exception_handler(exc: Exception, context: dict):  # noqa: ANN201 - a Response or None
    """DRF's handler, with a throttled request told in both languages when to come back."""
    # rest_framework.views reads the authentication classes (this module) when it is imported.
    from rest_framework.views import exception_handler

    if isinstance(exc, exceptions.Throttled):
        wait = max(1, math.ceil(exc.wait or 1))
        exc.detail = f"请求过于频繁，请 {wait} 秒后再试 / Too many requests: try again in {wait} s"
    return exception_handler(exc, context)
