"""Sign-in is locked out by user and by address, the API is throttled, tokens expire and are revoked."""

import datetime
import itertools
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client, override_settings
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

PASSWORD = "right-pass-2026"
LIMIT = getattr(settings, "AXES_FAILURE_LIMIT", 5)  # read so, the tests also run (and fail) without axes


def fresh_ip() -> str:
    """An address no other test (nor another run in the same minute) signs in from: throttles and
    lockouts are counted by address."""
    return f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"


@pytest.fixture
def staff(db):
    return get_user_model().objects.create_user("keeper", password=PASSWORD, is_staff=True)


def sign_in_page(path: str, username: str, password: str, ip: str):
    return Client(REMOTE_ADDR=ip).post(path, {"username": username, "password": password, "next": "/"})


def sign_in_api(path: str, username: str, password: str, ip: str):
    return APIClient(REMOTE_ADDR=ip).post(path, {"username": username, "password": password}, format="json")


# (door, how to knock, status of a wrong password, status of the right one)
DOORS = [
    ("/login/", sign_in_page, 200, 302),
    ("/admin/login/", sign_in_page, 200, 302),
    ("/api/v1/auth/token/", sign_in_api, 400, 200),
]


def assert_locked_out(response):
    assert response.status_code == 429, response.content[:300]
    text = response.content.decode()
    assert "锁定" in text and "locked" in text
    assert text.index("锁定") < text.index("locked")  # Chinese first, then English


@pytest.mark.parametrize(("path", "knock", "wrong_status", "right_status"), DOORS)
def test_a_user_is_locked_out_after_failures_from_any_address(staff, path, knock, wrong_status, right_status):
    ip = fresh_ip()
    assert knock(path, "keeper", PASSWORD, ip).status_code == right_status  # the door works
    for _ in range(LIMIT - 1):
        assert knock(path, "keeper", "guess", ip).status_code == wrong_status
    assert_locked_out(knock(path, "keeper", "guess", ip))
    # Locked: the right password is refused now, from this address and from any other.
    assert_locked_out(knock(path, "keeper", PASSWORD, ip))
    assert_locked_out(knock(path, "keeper", PASSWORD, fresh_ip()))


@pytest.mark.parametrize(("path", "knock", "wrong_status", "right_status"), DOORS)
def test_an_address_is_locked_out_across_usernames(staff, path, knock, wrong_status, right_status):
    ip = fresh_ip()
    for n in range(LIMIT - 1):
        assert knock(path, f"nobody-{n}", "guess", ip).status_code == wrong_status
    assert_locked_out(knock(path, f"nobody-{LIMIT}", "guess", ip))
    # The user never failed, but this address did: refused here, welcome elsewhere.
    assert_locked_out(knock(path, "keeper", PASSWORD, ip))
    assert knock(path, "keeper", PASSWORD, fresh_ip()).status_code == right_status


def test_failures_on_one_door_count_on_the_others(staff):
    ip = fresh_ip()
    doors = itertools.cycle(DOORS)
    for _ in range(LIMIT):
        path, knock, _, _ = next(doors)
        knock(path, "keeper", "guess", ip)
    assert_locked_out(sign_in_api("/api/v1/auth/token/", "keeper", PASSWORD, fresh_ip()))


@pytest.fixture
def reader(world, member):
    user = member("reader", "990001-RCO", "river_office")
    user.set_password(PASSWORD)
    user.save()
    return user


def token_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def throttle_counts_forget(key: str) -> None:
    """Delete the throttle's counters for this client key (the user's pk repeats from run to run)."""
    redis = cache.redis()
    counters = redis.keys(cache.make_key(f"{key}:*"))
    if counters:
        redis.delete(*counters)


def test_the_api_is_throttled_per_user(reader):
    throttle_counts_forget(f"throttle_user_{reader.pk}")
    client = APIClient()
    client.force_authenticate(reader)
    with override_settings(API_THROTTLE_RATES={**settings.API_THROTTLE_RATES, "user": "3/min"}):
        responses = [client.get("/api/v1/districts/") for _ in range(4)]
    assert [response.status_code for response in responses] == [200, 200, 200, 429]
    detail, retry_after = responses[-1].json()["detail"], int(responses[-1]["Retry-After"])
    assert detail == f"请求过于频繁，请 {retry_after} 秒后再试 / Too many requests: try again in {retry_after} s"
    assert 0 < retry_after <= 120
    throttle_counts_forget(f"throttle_user_{reader.pk}")


def user_throttle(user, rate: str, at: float):  # noqa: ANN001, ANN201 - a user; a UserThrottle
    """The API's user throttle at `rate`, for `user`, its clock stopped at `at`."""
    from rivers.authentication import UserThrottle

    with override_settings(API_THROTTLE_RATES={**settings.API_THROTTLE_RATES, "user": rate}):
        throttle = UserThrottle()
    throttle.timer = lambda: at
    return throttle, SimpleNamespace(user=user, META={})


def test_the_user_throttle_admits_its_rate_exactly_when_hit_at_once(reader):
    # DRF's own throttle reads the request times, appends, writes back: requests at once each wrote
    # their own list and together went past the rate. The counted throttle counts in one Redis step.
    throttle_counts_forget(f"throttle_user_{reader.pk}")
    at = (time.time() // 60) * 60 + 30  # mid-minute: every hit falls in one window
    barrier = threading.Barrier(8)

    def hits() -> int:
        throttle, request = user_throttle(reader, "20/min", at)
        barrier.wait()
        return sum(throttle.allow_request(request, None) for _ in range(10))

    with ThreadPoolExecutor(8) as pool:
        admitted = sum(pool.map(lambda _: hits(), range(8)))
    assert admitted == 20
    throttle_counts_forget(f"throttle_user_{reader.pk}")


def test_a_refused_client_that_waits_as_told_gets_in_and_the_window_slides(reader):
    throttle_counts_forget(f"throttle_user_{reader.pk}")
    start = (time.time() // 60) * 60 + 45
    throttle, request = user_throttle(reader, "4/min", start)
    assert [throttle.allow_request(request, None) for _ in range(5)] == [True] * 4 + [False]
    wait = throttle.wait()
    assert wait == pytest.approx(15)  # the minute's end: the 4 hits then still weigh in whole
    later, request = user_throttle(reader, "4/min", start + wait + 0.5)
    # Half a second into the next minute the four count for 59.5/60 of a hit each: one gets in ...
    assert later.allow_request(request, None) is True
    # ... and then the estimate (1 + 4 × 59.5/60) is over the rate until the old minute weighs 3/4.
    assert later.allow_request(request, None) is False
    assert later.wait() == pytest.approx(60 * (1 - 3 / 4) - 0.5)
    throttle_counts_forget(f"throttle_user_{reader.pk}")


def test_the_token_endpoint_is_throttled_per_address(reader):
    ip = fresh_ip()
    with override_settings(API_THROTTLE_RATES={**settings.API_THROTTLE_RATES, "sign_in": "2/min"}):
        statuses = [sign_in_api("/api/v1/auth/token/", "reader", PASSWORD, ip).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_the_default_user_rate_carries_the_soak_test():
    # The soak test registers 50 clues a second for 30 s as one user (issue 7 §8).
    count, period = settings.API_THROTTLE_RATES["user"].split("/")
    per_second = int(count) / {"s": 1, "m": 60, "h": 3600, "d": 86400}[period[0]]
    assert per_second >= 50


def test_an_expired_token_is_refused_and_signing_in_again_gives_a_fresh_one(reader):
    response = sign_in_api("/api/v1/auth/token/", "reader", PASSWORD, fresh_ip())
    key = response.json()["token"]
    assert token_client(key).get("/api/v1/districts/").status_code == 200
    old = timezone.now() - datetime.timedelta(days=settings.API_TOKEN_TTL_DAYS, seconds=1)
    Token.objects.filter(key=key).update(created=old)
    refused = token_client(key).get("/api/v1/districts/")
    assert refused.status_code == 401
    assert "过期" in refused.json()["detail"] and "expired" in refused.json()["detail"]
    fresh = sign_in_api("/api/v1/auth/token/", "reader", PASSWORD, fresh_ip()).json()["token"]
    assert fresh != key
    assert token_client(fresh).get("/api/v1/districts/").status_code == 200


def test_a_token_within_its_lifetime_is_reissued_unchanged(reader):
    first = sign_in_api("/api/v1/auth/token/", "reader", PASSWORD, fresh_ip()).json()
    second = sign_in_api("/api/v1/auth/token/", "reader", PASSWORD, fresh_ip()).json()
    assert first["token"] == second["token"]
    assert datetime.datetime.fromisoformat(first["expires"]) > timezone.now() + datetime.timedelta(days=29)


def test_changing_the_password_revokes_the_tokens(reader):
    key = Token.objects.create(user=reader).key
    reader.set_password("another-pass-2026")
    reader.save()
    assert not Token.objects.filter(user=reader).exists()
    assert token_client(key).get("/api/v1/districts/").status_code == 401


def test_a_password_changed_in_the_admin_revokes_the_tokens(reader):
    key = Token.objects.create(user=reader).key
    root = get_user_model().objects.create_superuser("root", "root@example.org", "root-pass-2026")
    admin = Client()
    admin.force_login(root)
    form = {"password1": "admin-set-pass-2026", "password2": "admin-set-pass-2026", "usable_password": "true"}
    response = admin.post(f"/admin/auth/user/{reader.pk}/password/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert token_client(key).get("/api/v1/districts/").status_code == 401


def test_deactivating_the_user_revokes_the_tokens(reader):
    key = Token.objects.create(user=reader).key
    reader.is_active = False
    reader.save()
    assert not Token.objects.filter(key=key).exists()
    reader.is_active = True
    reader.save()
    assert token_client(key).get("/api/v1/districts/").status_code == 401


def test_other_saves_keep_the_tokens(reader):
    key = Token.objects.create(user=reader).key
    reader.email = "reader@example.org"
    reader.save()
    assert token_client(key).get("/api/v1/districts/").status_code == 200


def test_tiles_take_a_token_like_the_api(reader):
    # A phone signs in for a token and loads the map's tiles with it (issue 7 §3).
    key = sign_in_api("/api/v1/auth/token/", "reader", PASSWORD, fresh_ip()).json()["token"]
    response = token_client(key).get("/tiles/reaches/0/0/0.pbf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.mapbox-vector-tile"
    assert APIClient().get("/tiles/reaches/0/0/0.pbf").status_code == 401
    expired = timezone.now() - datetime.timedelta(days=settings.API_TOKEN_TTL_DAYS + 1)
    Token.objects.filter(key=key).update(created=expired)
    assert token_client(key).get("/tiles/reaches/0/0/0.pbf").status_code == 401


@pytest.mark.parametrize("path", ["/api/v1/schema/", "/api/v1/docs/"])
def test_the_schema_and_its_docs_need_a_signed_in_user(reader, path):
    assert APIClient().get(path).status_code == 401
    client = APIClient()
    client.force_authenticate(reader)
    assert client.get(path).status_code == 200


def test_the_token_and_its_user_are_read_in_one_statement(db):
    """One raw statement authenticates a token (issue 7 §8); the answers stay REST framework's."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    user = get_user_model().objects.create_user("one_statement", password="pw-one-statement-1")
    token = Token.objects.create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/categories/").status_code == 200
    reads = [q["sql"] for q in queries if "authtoken_token" in q["sql"]]
    assert len(reads) == 1 and "auth_user" in reads[0]
    client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    refused = client.get("/api/v1/categories/", HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 401 and refused.json() == {"detail": "Invalid token."}
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    user.is_active = False
    user.save()
    assert client.get("/api/v1/categories/").status_code == 401
