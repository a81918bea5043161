"""Background work of the clues app; each task only calls a domain function."""

from __future__ import annotations

import datetime

from celery import shared_task

from .notifications import deadlines_sweep


# acks_late (also the global default): a worker lost mid-sweep leaves the task queued, and running the
# sweep again is harmless because it notifies nobody twice.
@shared_task(acks_late=True)
def sweep_deadlines(today: str | None = None) -> dict:
    """Notify who must act on what is due soon or overdue (CELERY_BEAT_SCHEDULE runs it hourly)."""
    day = datetime.date.fromisoformat(today) if today else None
    return deadlines_sweep(today=day).as_dict()
