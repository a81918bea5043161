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
from rest_framework.throttling import AnonRateThrottle, ScopedRateThrottle, SimpleRateThrottle, UserRateThrottle

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


# One atomic step of a sliding-window throttle: admit the request when this window's count plus the
# previous window's, weighted by the share of it still inside the sliding window, is under the limit,
# and only then count it. KEYS: this window's counter, the previous one's. ARGV: the limit, that
# weight, the counters' lifetime in seconds. Answers {admitted (0/1), this window's count, previous}.
COUNT_SCRIPT = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local previous = tonumber(redis.call('GET', KEYS[2]) or '0')
if current + previous * tonumber(ARGV[2]) >= tonumber(ARGV[1]) then
    return {0, current, previous}
end
redis.call('SET', KEYS[1], current + 1, 'EX', ARGV[3])
return {1, current + 1, previous}
"""


class _CountedRate(SimpleRateThrottle):
    """REST framework's throttle, counted by two counters per client in Redis, in one round trip.

    REST framework keeps a list of the request times per client, read and written back whole on every
    request (two round trips and a pickled list as long as the rate: about 1 ms of every API request
    and tile at the bench's rate), and two requests at once both read the same list and each wrote
    back its own, so a client hitting in parallel went past its rate. Here one Lua script
    reads and counts atomically (COUNT_SCRIPT), and the window slides by the usual estimate: the
    previous fixed window's count weighted by how much of it the sliding window still covers. A
    refused request is not counted, so a client that waits the Retry-After it was told gets in.
    """

    script = None  # COUNT_SCRIPT registered (its SHA computed) once; run on each thread's own client

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        window, into = divmod(self.now, self.duration)
        client = self.cache.redis()
        if _CountedRate.script is None:
            _CountedRate.script = client.register_script(COUNT_SCRIPT)
        keys = [self.cache.make_key(f"{self.key}:{int(window) - lag}") for lag in (0, 1)]
        weight = 1 - into / self.duration
        args = [self.num_requests, weight, 2 * self.duration + 1]
        admitted, current, previous = _CountedRate.script(keys=keys, args=args, client=client)
        if admitted:
            return True
        self._wait = self._wait_after(int(current), int(previous), into)
        return self.throttle_failure()

    def _wait_after(self, current: int, previous: int, into: float) -> float:
        """Seconds until the estimate falls under the limit again (nothing else being counted)."""
        limit, duration = self.num_requests, self.duration
        if current < limit:  # the previous window's weight has to fall far enough
            return max(0.0, duration * (1 - (limit - current) / previous) - into)
        return duration - into + duration * max(0.0, 1 - limit / current)

    def wait(self):
        return self._wait


class _RateFromSettings:
    """Read the rate when asked, from API_THROTTLE_RATES, so that a changed setting takes effect."""

    def get_rate(self):
        return settings.API_THROTTLE_RATES.get(self.scope)


class AnonThrottle(_RateFromSettings, AnonRateThrottle, _CountedRate):
    pass


class UserThrottle(_RateFromSettings, UserRateThrottle, _CountedRate):
    pass


class ScopeThrottle(_RateFromSettings, ScopedRateThrottle, _CountedRate):
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
