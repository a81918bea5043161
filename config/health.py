"""Whether the services the site needs answer: the database, Redis, the Celery workers and beat.

Used by /healthz (frontend.views), by `make run` to wait for the worker and beat before it says they
started (`python -m config.health ready --worker NODE`), and by docker/healthcheck.py. Every check is
cheap: the workers' ping is cached for HEALTH_WORKER_CACHE_S, beat's heartbeat is a key in the cache.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.db import connection

logger = logging.getLogger(__name__)

BEAT_HEARTBEAT_KEY = "health:beat-heartbeat"
WORKER_PING_KEY = "health:worker-ping"


def database_status() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure means down
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True}


def redis_status() -> dict:
    """Ask the cache's Redis for a key (the broker lives on the same server)."""
    try:
        cache.get("health:probe")
    except Exception as exc:  # noqa: BLE001 - any failure means down
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True}


def worker_ping(*, destination: list[str] | None = None, timeout: float | None = None) -> list[str]:
    """Return the names of the Celery workers (of `destination`, or all) that answer a ping in time."""
    from .celery import app

    timeout = settings.HEALTH_WORKER_PING_TIMEOUT_S if timeout is None else timeout
    try:
        replies = app.control.ping(destination=destination, timeout=timeout)
    except Exception:  # noqa: BLE001 - a broker that is down: no worker answers
        logger.warning("worker ping failed", exc_info=True)
        return []
    return sorted(name for reply in replies for name in reply)


def worker_status() -> dict:
    """Whether any worker answers; the answer is kept HEALTH_WORKER_CACHE_S so probes stay cheap."""
    try:
        cached = cache.get(WORKER_PING_KEY)
    except Exception:  # noqa: BLE001 - Redis is down: ask the workers (redis_status says the rest)
        cached = None
    if cached is not None:
        return cached
    workers = worker_ping()
    status = {"ok": bool(workers), "workers": workers}
    if not workers:
        status["error"] = "no worker answered"
    try:
        cache.set(WORKER_PING_KEY, status, timeout=settings.HEALTH_WORKER_CACHE_S)
    except Exception:  # noqa: BLE001, S110 - not cached: the next probe asks again
        pass
    return status


def beat_heartbeat_write() -> None:
    """Record that beat is alive now (HeartbeatScheduler.tick); a Redis fault only costs the heartbeat."""
    try:
        cache.set(BEAT_HEARTBEAT_KEY, time.time(), timeout=max(60, 10 * settings.HEALTH_BEAT_MAX_AGE_S))
    except Exception:  # noqa: BLE001 - beat must not stop because Redis blinked
        logger.warning("could not write beat's heartbeat", exc_info=True)


def beat_status() -> dict:
    try:
        beat_at = cache.get(BEAT_HEARTBEAT_KEY)
    except Exception as exc:  # noqa: BLE001 - Redis is down: beat's heartbeat cannot be read
        return {"ok": False, "error": type(exc).__name__}
    if beat_at is None:
        return {"ok": False, "error": "no heartbeat"}
    age_s = round(time.time() - beat_at, 1)
    if age_s > settings.HEALTH_BEAT_MAX_AGE_S:
        return {"ok": False, "age_s": age_s, "error": "heartbeat too old"}
    return {"ok": True, "age_s": age_s}


CHECKS = {"database": database_status, "redis": redis_status, "worker": worker_status, "beat": beat_status}


def services_status(names: list[str] | None = None) -> dict[str, dict]:
    """Return each service's status ({"ok": bool, ...}), all four or those named."""
    return {name: check() for name, check in CHECKS.items() if names is None or name in names}


def main(argv: list[str]) -> int:
    """`python -m config.health ready --worker NODE`: 0 when that worker and beat answer, else 1 saying what not.

    `python -m config.health [SERVICE ...]` prints the status of the services (all four by default)
    as JSON and exits 0 when they are all ok.
    """
    import argparse
    import json

    import django

    parser = argparse.ArgumentParser(prog="python -m config.health")
    parser.add_argument("services", nargs="*", help="database, redis, worker, beat, or `ready`")
    parser.add_argument("--worker", help="with `ready`: the node name of the worker that must answer")
    args = parser.parse_args(argv)
    django.setup()
    if args.services == ["ready"]:
        missing = []
        if args.worker and not worker_ping(destination=[args.worker]):
            missing.append(f"worker {args.worker} does not answer a ping")
        beat = beat_status()
        if not beat["ok"]:
            missing.append(f"beat: {beat['error']}")
        print("; ".join(missing) or "worker and beat answer")
        return 1 if missing else 0
    status = services_status(args.services or None)
    print(json.dumps(status))
    return 0 if all(s["ok"] for s in status.values()) else 1


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
