"""The Celery application; tasks live in each app's tasks.py."""

import os

from celery import Celery
from celery.beat import PersistentScheduler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class HeartbeatScheduler(PersistentScheduler):
    """Celery's default scheduler that also writes a heartbeat on every tick (config.health reads it).

    Beat wakes at least every CELERY_BEAT_MAX_LOOP_INTERVAL seconds, so a heartbeat older than a few
    of those means beat is gone (or stuck): /healthz and `make run` report it.
    """

    def tick(self, *args, **kwargs) -> float:
        from .health import beat_heartbeat_write

        interval = super().tick(*args, **kwargs)
        beat_heartbeat_write()
        return interval
