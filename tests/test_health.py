"""/healthz reports the database, Redis, the Celery workers and beat, each by name (issue 7 §1).

A worker that does not answer, beat without a recent heartbeat, or an unreachable Redis makes it 503
naming the service; the web container's own check asks only for the database and Redis.
"""

import time
from pathlib import Path

import pytest
from django.core.cache import cache

from config import health
from config.celery import HeartbeatScheduler
from config.celery import app as celery_app
from tests.patrols import test_photo_worker

worker, worker_queue = test_photo_worker.worker, test_photo_worker.worker_queue  # fixtures

DEAD_REDIS = "unix:///nonexistent/rivers-test/redis.sock?db=3"


@pytest.fixture(autouse=True)
def forget_health():
    """No cached ping or heartbeat from another test (set up first, so torn down with the real cache)."""
    keys = [health.BEAT_HEARTBEAT_KEY, health.WORKER_PING_KEY]
    cache.delete_many(keys)
    yield
    cache.delete_many(keys)


def test_no_worker_answering_is_503_naming_the_worker(client, db):
    health.beat_heartbeat_write()
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert (body["status"], body["down"]) == ("error", ["worker"])
    services = body["services"]
    assert services["database"]["ok"] and services["redis"]["ok"] and services["beat"]["ok"]
    assert services["worker"] == {"ok": False, "workers": [], "error": "no worker answered"}


def test_beat_without_a_recent_heartbeat_is_named(client, db, settings):
    response = client.get("/healthz")
    assert response.status_code == 503 and "beat" in response.json()["down"]
    assert response.json()["services"]["beat"] == {"ok": False, "error": "no heartbeat"}
    cache.set(health.BEAT_HEARTBEAT_KEY, time.time() - settings.HEALTH_BEAT_MAX_AGE_S - 5)
    beat = client.get("/healthz").json()["services"]["beat"]
    assert not beat["ok"] and beat["error"] == "heartbeat too old" and beat["age_s"] > settings.HEALTH_BEAT_MAX_AGE_S


def test_an_unreachable_redis_is_503_naming_redis(client, db, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": DEAD_REDIS}}
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert {"redis", "beat"} <= set(body["down"])  # beat's heartbeat lives in Redis
    assert body["services"]["database"] == {"ok": True}
    assert body["services"]["redis"]["ok"] is False and body["services"]["redis"]["error"]


def test_the_web_container_checks_only_its_own_dependencies(client, db):
    """A worker that is down must not get the web container restarted (docker/healthcheck.py web)."""
    response = client.get("/healthz?service=database&service=redis")
    assert response.status_code == 200
    assert set(response.json()["services"]) == {"database", "redis"}
    check = (Path(__file__).resolve().parent.parent / "docker" / "healthcheck.py").read_text()
    assert "/healthz?service=database&service=redis" in check


def test_the_worker_ping_is_cached_so_a_probe_stays_cheap(client, db, settings):
    settings.HEALTH_WORKER_CACHE_S = 5
    settings.HEALTH_WORKER_PING_TIMEOUT_S = 1.0
    began = time.monotonic()
    first = client.get("/healthz").json()["services"]["worker"]
    asked_s = time.monotonic() - began
    began = time.monotonic()
    second = client.get("/healthz").json()["services"]["worker"]
    cached_s = time.monotonic() - began
    assert first == second and not first["ok"]
    assert asked_s >= 0.9  # the ping waited its timeout for an answer
    assert cached_s < 0.5, f"a probe within HEALTH_WORKER_CACHE_S took {cached_s:.2f} s: it pinged again"


def test_all_four_ok_with_a_worker_answering_and_beat_ticking(client, worker, settings, tmp_path):
    settings.HEALTH_WORKER_CACHE_S = 0  # not cached: ask until the worker has started
    scheduler = HeartbeatScheduler(app=celery_app, schedule_filename=str(tmp_path / "beat-schedule"))
    try:
        scheduler.tick()  # what beat does at least every CELERY_BEAT_MAX_LOOP_INTERVAL seconds
    finally:
        scheduler.close()
    deadline = time.monotonic() + 45
    while (response := client.get("/healthz")).status_code != 200 and time.monotonic() < deadline:
        assert worker.poll() is None, test_photo_worker.log_tail(worker)
        time.sleep(0.5)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ok" and body["down"] == []
    assert all(service["ok"] for service in body["services"].values())
    node_prefix = worker.args[worker.args.index("--queues") + 1] + "@"  # the fixture names its node after its queue
    assert any(name.startswith(node_prefix) for name in body["services"]["worker"]["workers"])
